/*
 * show_route.c - SHOW ROUTE: run a statement through the live router,
 * exactly as a client's simple query would be (same shape cache, same
 * clock), and show the decision instead of executing it: one row per
 * target with the text that would run there.  A router error comes back
 * as the error the client would get.
 */
#include "admin_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/merge.h"

static void no_database(const sw_conf *conf, const char *database, sw_wbuf *out)
{
    sw_astr msg, hint;
    sw_astr_init(&msg);
    sw_astr_init(&hint);
    if (database) sw_astr_addf(&msg, "database \"%s\" does not exist", database);
    else sw_astr_add(&msg, "no database is configured");
    for (int i = 0; i < conf->n_databases; i++) {
        sw_astr_add(&hint, i ? ", " : "known databases: ");
        sw_astr_add(&hint, conf->databases[i].name);
    }
    sw_admin_error(out, "3D000", sw_astr_str(&msg), hint.len ? sw_astr_str(&hint) : NULL);
    sw_admin_oom_check(out, &msg);
    sw_admin_oom_check(out, &hint);
    sw_astr_free(&msg);
    sw_astr_free(&hint);
}

/* The directory node a lookup runs on, for the node column. */
static void lookup_node(sw_astr *a, const sw_conf *conf, const sw_route_out *ro)
{
    int node = ro->lookup_fn >= 0 && ro->lookup_fn < conf->n_functions
                   ? conf->functions[ro->lookup_fn].dir_node
                   : -1;
    if (node >= 0 && node < conf->n_nodes) sw_astr_addf(a, "(lookup on %s)", conf->nodes[node].name);
    else sw_astr_add(a, "(lookup)");
}

/* The router's explanation without the part that repeats the error
 * message ("...; error 0A000: <message>"), or "" when nothing is left. */
static void error_detail(sw_astr *a, const char *reason, const char *message)
{
    const char *hit = message[0] ? strstr(reason, message) : NULL;
    size_t n = hit ? (size_t)(hit - reason) : strlen(reason);
    if (hit && n >= 13 && strncmp(reason + n - 13, "error ", 6) == 0 && reason[n - 2] == ':')
        n -= 13;
    while (n > 0 && strchr(" ;:-", reason[n - 1])) n--;
    sw_astr_addn(a, reason, n);
}

typedef struct key_ctx {
    const sw_router *r;
    const char *database;
} key_ctx;

static const char *key_of(void *ctx, const char *schema, const char *relname, bool id)
{
    key_ctx *k = ctx;
    return id ? sw_router_id_of(k->r, k->database, schema, relname)
              : sw_router_key_of(k->r, k->database, schema, relname);
}

/* How the proxy merges the shards' answers, in words. */
static void merge_summary(sw_astr *a, const sw_merge_spec *m)
{
    sw_astr_add(a, "; merge: ");
    if (m->grouped) sw_astr_addf(a, "groups combined (%d columns)", m->n_cols);
    else if (m->distinct) sw_astr_add(a, "distinct rows");
    else if (m->n_sort && m->sorted_streams) sw_astr_addf(a, "k-way merge on %d sort key%s", m->n_sort, m->n_sort > 1 ? "s" : "");
    else sw_astr_add(a, "rows as they arrive");
    if (m->having) sw_astr_add(a, ", HAVING after the merge");
    if (m->n_distinct_on) sw_astr_add(a, ", DISTINCT ON");
    if (m->n_sort && !m->sorted_streams) sw_astr_add(a, ", sorted by shardwire");
    if (m->limit.present) sw_astr_add(a, ", LIMIT");
    if (m->offset.present) sw_astr_add(a, ", OFFSET");
    if (m->n_hidden) sw_astr_addf(a, ", %d hidden column%s", m->n_hidden, m->n_hidden > 1 ? "s" : "");
}

static void route_rows(const sw_admin_env *env, const char *database, const char *stmt,
                       const sw_route_out *ro, const char *merged_sql, const char *merge_note, sw_wbuf *out)
{
    static const char *const cols[] = {"node", "sql", "kind", "reason"};
    const sw_conf *conf = sw_router_conf(env->router);
    const char *kind = sw_stmt_kind_name(ro->kind);
    sw_astr node, reason;
    sw_astr_init(&node);
    sw_astr_init(&reason);
    sw_admin_rs rs;
    sw_admin_rs_begin(&rs, out, cols, 4);
    if (ro->status == SW_ROUTE_LOOKUP) {
        /* Not routable until the directory answers: the proxy asks first. */
        lookup_node(&node, conf, ro);
        sw_astr_add(&reason, "LOOKUP: ");
        if (ro->reason[0]) sw_astr_add(&reason, ro->reason);
        else sw_astr_addf(&reason, "key %s is not cached", ro->lookup_key);
        const char *row[] = {sw_astr_str(&node), stmt, kind, sw_astr_str(&reason)};
        sw_admin_rs_row(&rs, row);
    } else if (ro->n_targets == 0) {
        /* Answered by shardwire itself, or "no preference": the client's
         * current server, else the database's default node. */
        if (ro->local != SW_LOCAL_NONE) {
            sw_astr_add(&node, "(shardwire)");
        } else {
            int def = sw_route_default_node(conf, database);
            sw_astr_addf(&node, "(any: default %s)",
                         def >= 0 && def < conf->n_nodes ? conf->nodes[def].name : "?");
        }
        const char *row[] = {sw_astr_str(&node), stmt, kind, ro->reason};
        sw_admin_rs_row(&rs, row);
    } else {
        for (int i = 0; i < ro->n_targets; i++) {
            const sw_route_target *t = &ro->targets[i];
            const char *name = t->node >= 0 && t->node < conf->n_nodes ? conf->nodes[t->node].name
                                                                        : "?";
            if (!reason.len) {
                sw_astr_add(&reason, ro->reason);
                if (merge_note) sw_astr_add(&reason, merge_note);
            }
            const char *row[] = {name, merged_sql ? merged_sql : t->sql ? t->sql : stmt, kind, sw_astr_str(&reason)};
            sw_admin_rs_row(&rs, row);
        }
    }
    sw_admin_rs_end(&rs);
    sw_admin_oom_check(out, &node);
    sw_admin_oom_check(out, &reason);
    sw_astr_free(&node);
    sw_astr_free(&reason);
}

void sw_admin_show_route(const sw_admin_env *env, const char *database, const char *sql, size_t len,
                         sw_wbuf *out)
{
    const sw_conf *conf = sw_router_conf(env->router);
    if (!database && conf->n_databases > 0) database = conf->databases[0].name;
    if (!database || !sw_conf_database_find(conf, database)) {
        no_database(conf, database, out);
        return;
    }
    if (len == 0) {
        sw_admin_error(out, "42601", "SHOW ROUTE needs a statement",
                       "SHOW ROUTE [IN database] statement");
        return;
    }
    sw_astr stmt;
    sw_astr_init(&stmt);
    sw_astr_addn(&stmt, sql, len);
    sw_route_in in;
    memset(&in, 0, sizeof in);
    in.database = database;
    in.now_ms = env->now_ms;
    sw_route_out ro;
    memset(&ro, 0, sizeof ro);
    sw_route_status st = sw_router_route(env->router, &in, sql, len, &ro);
    ro.reason[sizeof ro.reason - 1] = '\0';
    if (st == SW_ROUTE_ERROR) {
        char state[sizeof ro.sqlstate];
        memcpy(state, ro.sqlstate, sizeof state);
        state[sizeof state - 1] = '\0';
        ro.message[sizeof ro.message - 1] = '\0';
        /* The reason's chain up to the failure says which table and key led there. */
        sw_astr detail;
        sw_astr_init(&detail);
        error_detail(&detail, ro.reason, ro.message);
        sw_build_error(out, SW_BE_ERROR, "ERROR", state[0] ? state : "XX000", ro.message,
                       detail.len ? sw_astr_str(&detail) : NULL, NULL);
        sw_admin_oom_check(out, &detail);
        sw_astr_free(&detail);
    } else if (ro.kind == SW_SK_SELECT && ro.n_targets > 1 && !ro.multi) {
        /* several shards: what the merge makes of it (or why it cannot) */
        key_ctx kc = {env->router, database};
        sw_merge_spec *spec = NULL;
        char *shard_sql = NULL, state[6] = "", msg[300] = "";
        const char *text = ro.targets[0].sql ? ro.targets[0].sql : sw_astr_str(&stmt);
        int mr = sw_merge_plan(text, strlen(text), key_of, &kc, &spec, &shard_sql, state, msg, sizeof msg);
        if (mr < 0) {
            sw_build_error(out, SW_BE_ERROR, "ERROR", state[0] ? state : "XX000", msg, ro.reason, NULL);
        } else {
            sw_astr note;
            sw_astr_init(&note);
            if (spec) merge_summary(&note, spec);
            else sw_astr_add(&note, "; merge: rows as they arrive");
            route_rows(env, database, sw_astr_str(&stmt), &ro, ro.targets[0].sql ? NULL : shard_sql,
                       sw_astr_str(&note), out);
            sw_admin_oom_check(out, &note);
            sw_astr_free(&note);
        }
        sw_merge_spec_free(spec);
        free(shard_sql);
    } else if ((ro.kind == SW_SK_UPDATE || ro.kind == SW_SK_DELETE || ro.kind == SW_SK_INSERT) &&
               ro.n_targets > 1 && !ro.multi) {
        /* several shards: the proxy refuses a write that would read only
         * each shard's rows, and so does this answer */
        key_ctx kc = {env->router, database};
        char state[6] = "", msg[300] = "";
        if (sw_merge_check_write(sw_astr_str(&stmt), stmt.len, key_of, &kc, state, msg, sizeof msg) < 0)
            sw_build_error(out, SW_BE_ERROR, "ERROR", state[0] ? state : "XX000", msg, ro.reason, NULL);
        else
            route_rows(env, database, sw_astr_str(&stmt), &ro, NULL, NULL, out);
    } else {
        route_rows(env, database, sw_astr_str(&stmt), &ro, NULL, NULL, out);
    }
    sw_route_out_clear(&ro);
    sw_admin_oom_check(out, &stmt);
    sw_astr_free(&stmt);
}
