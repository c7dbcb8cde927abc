/*
 * show_config.c - SHOW SHARDS, SHOW TABLES and SHOW FUNCTIONS: the running
 * configuration as the router sees it, one row per node, table or
 * function.  Function targets come from the router's built functions
 * (sw_shardfn_*), not from the file, so what is shown is what routing
 * uses - an embedded function shows its source's targets, a directory its
 * live cache size.
 */
#include "admin_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ SHOW SHARDS */

void sw_admin_show_shards(const sw_admin_env *env, sw_wbuf *out)
{
    static const char *const cols[] = {"name", "host", "port", "database", "user", "up",
                                       "servers_active", "servers_idle", "servers_connecting",
                                       "clients_waiting", "last_error"};
    const sw_conf *conf = sw_router_conf(env->router);
    sw_admin_rs rs;
    sw_admin_rs_begin(&rs, out, cols, 11);
    for (int i = 0; i < conf->n_nodes; i++) {
        const sw_conf_node *n = &conf->nodes[i];
        const sw_admin_node_stats *st = env->nodes ? &env->nodes[i] : NULL;
        char port[12], active[12], idle[12], connecting[12], waiting[12];
        snprintf(port, sizeof port, "%d", n->port);
        if (st) {
            snprintf(active, sizeof active, "%d", st->servers_active);
            snprintf(idle, sizeof idle, "%d", st->servers_idle);
            snprintf(connecting, sizeof connecting, "%d", st->servers_connecting);
            snprintf(waiting, sizeof waiting, "%d", st->clients_waiting);
        }
        /* Without stats the pool columns are NULL: unknown, not zero. */
        const char *row[] = {n->name,
                             n->host,
                             port,
                             n->database,
                             n->user,
                             st ? (st->up ? "true" : "false") : NULL,
                             st ? active : NULL,
                             st ? idle : NULL,
                             st ? connecting : NULL,
                             st ? waiting : NULL,
                             st ? st->last_error : NULL};
        sw_admin_rs_row(&rs, row);
    }
    sw_admin_rs_end(&rs);
}

/* ------------------------------------------------------------ shared pieces */

static const char *node_name(const sw_conf *conf, int node)
{
    return node >= 0 && node < conf->n_nodes ? conf->nodes[node].name : "?";
}

/* Tables sharing a function are co-located; an embedded function's IDs
 * carry its source's bucket, so it belongs with its source. */
static int coloc_root(const sw_conf *conf, int fi)
{
    if (fi < 0 || fi >= conf->n_functions) return -1;
    const sw_conf_function *f = &conf->functions[fi];
    return f->kind == SW_FN_EMBEDDED && f->source >= 0 ? f->source : fi;
}

/* The targets of function fi, comma-separated.  Physical-table targets
 * are prefixed "node:" with their own node, or the table's (suffix_node)
 * when it is known. */
static void add_fn_targets(sw_astr *a, const sw_admin_env *env, int fi, int suffix_node)
{
    const sw_conf *conf = sw_router_conf(env->router);
    const sw_shardfn *fn = sw_router_function(env->router, fi);
    if (!fn) return;
    for (int t = 0; t < sw_shardfn_n_targets(fn); t++) {
        sw_astr_sep(a, ",");
        int tn = sw_shardfn_target_node(fn, t);
        if (sw_shardfn_conf(fn)->table_targets && (tn >= 0 || suffix_node >= 0))
            sw_astr_addf(a, "%s:", node_name(conf, tn >= 0 ? tn : suffix_node));
        sw_astr_add(a, sw_shardfn_target_name(fn, t));
    }
}

static void add_table_name(sw_astr *a, const sw_conf_table *t)
{
    if (t->schema) sw_astr_addf(a, "%s.", t->schema);
    sw_astr_add(a, t->name);
}

/* ------------------------------------------------------------ SHOW TABLES */

static void table_targets(sw_astr *a, const sw_admin_env *env, const sw_conf_table *t)
{
    const sw_conf *conf = sw_router_conf(env->router);
    switch (t->kind) {
    case SW_TABLE_SHARDED:
        add_fn_targets(a, env, t->function, t->node);
        break;
    case SW_TABLE_REFERENCE:
        if (t->nodes) {
            for (int i = 0; i < t->n_nodes; i++) {
                sw_astr_sep(a, ",");
                sw_astr_add(a, node_name(conf, t->nodes[i]));
            }
        } else {
            for (int i = 0; i < conf->n_nodes; i++) {
                sw_astr_sep(a, ",");
                sw_astr_add(a, conf->nodes[i].name);
            }
        }
        break;
    case SW_TABLE_PINNED:
        sw_astr_add(a, node_name(conf, t->node));
        break;
    }
}

/* The other sharded tables of d co-located with t. */
static void table_coloc(sw_astr *a, const sw_conf *conf, const sw_conf_database *d,
                        const sw_conf_table *t)
{
    if (t->kind != SW_TABLE_SHARDED) return;
    int root = coloc_root(conf, t->function);
    for (int i = 0; i < d->n_tables; i++) {
        const sw_conf_table *o = &d->tables[i];
        if (o == t || o->kind != SW_TABLE_SHARDED || coloc_root(conf, o->function) != root)
            continue;
        sw_astr_sep(a, ",");
        add_table_name(a, o);
    }
}

void sw_admin_show_tables(const sw_admin_env *env, sw_wbuf *out)
{
    static const char *const cols[] = {"database", "table", "kind", "key", "function",
                                       "function_kind", "targets", "colocated_with",
                                       "id_column", "id_function"};
    const sw_conf *conf = sw_router_conf(env->router);
    sw_astr name, targets, coloc;
    sw_astr_init(&name);
    sw_astr_init(&targets);
    sw_astr_init(&coloc);
    sw_admin_rs rs;
    sw_admin_rs_begin(&rs, out, cols, 10);
    for (int di = 0; di < conf->n_databases; di++) {
        const sw_conf_database *d = &conf->databases[di];
        for (int ti = 0; ti < d->n_tables; ti++) {
            const sw_conf_table *t = &d->tables[ti];
            sw_astr_reset(&name);
            sw_astr_reset(&targets);
            sw_astr_reset(&coloc);
            add_table_name(&name, t);
            table_targets(&targets, env, t);
            table_coloc(&coloc, conf, d, t);
            const sw_conf_function *f = t->kind == SW_TABLE_SHARDED && t->function >= 0 &&
                                                t->function < conf->n_functions
                                            ? &conf->functions[t->function]
                                            : NULL;
            const sw_conf_function *idf = t->id_column && t->id_function >= 0 &&
                                                  t->id_function < conf->n_functions
                                              ? &conf->functions[t->id_function]
                                              : NULL;
            const char *row[] = {d->name,
                                 sw_astr_str(&name),
                                 sw_admin_table_kind_name(t->kind),
                                 f ? t->key : NULL,
                                 f ? f->name : NULL,
                                 f ? sw_admin_fn_kind_name(f->kind) : NULL,
                                 sw_astr_str(&targets),
                                 coloc.len ? sw_astr_str(&coloc) : NULL,
                                 t->id_column,
                                 idf ? idf->name : NULL};
            sw_admin_rs_row(&rs, row);
        }
    }
    sw_admin_rs_end(&rs);
    sw_admin_oom_check(out, &name);
    sw_admin_oom_check(out, &targets);
    sw_admin_oom_check(out, &coloc);
    sw_astr_free(&name);
    sw_astr_free(&targets);
    sw_astr_free(&coloc);
}

/* ------------------------------------------------------------ SHOW FUNCTIONS */

static const char *target_name(const sw_conf_function *f, int t)
{
    return t >= 0 && t < f->n_targets ? f->targets[t] : "?";
}

/* A duration in the file's own syntax. */
static void add_duration(sw_astr *a, int ms)
{
    if (ms % 1000 == 0) sw_astr_addf(a, "%ds", ms / 1000);
    else sw_astr_addf(a, "%dms", ms);
}

/* An epoch as the date or UTC timestamp it was written as. */
static void add_epoch(sw_astr *a, int64_t epoch_ms)
{
    int64_t secs = epoch_ms / 1000, ms = epoch_ms % 1000;
    if (ms < 0) {
        secs--;
        ms += 1000;
    }
    time_t tt = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        sw_astr_addf(a, "%" PRId64 "ms", epoch_ms);
        return;
    }
    char buf[64];
    if (ms == 0 && tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0)
        strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    else
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    sw_astr_add(a, buf);
    if (ms) sw_astr_addf(a, ".%03d", (int)ms);
    if (ms || tm.tm_hour || tm.tm_min || tm.tm_sec) sw_astr_add(a, "Z");
}

static void details_hash(sw_astr *a, const sw_conf_function *f)
{
    sw_astr_addf(a, "buckets=%d", f->buckets);
    if (!f->bucket_target || f->n_targets <= 0) return;
    /* How the buckets are spread: uneven shares explain uneven load. */
    sw_astr_add(a, " (");
    for (int t = 0; t < f->n_targets; t++) {
        int count = 0;
        for (int b = 0; b < f->buckets; b++) count += f->bucket_target[b] == t;
        sw_astr_addf(a, "%s%s:%d", t ? ", " : "", f->targets[t], count);
    }
    sw_astr_add(a, ")");
}

static void details_range(sw_astr *a, const sw_conf_function *f)
{
    for (int i = 0; i < f->n_ranges; i++) {
        const sw_conf_range *r = &f->ranges[i];
        sw_astr_sep(a, "; ");
        if (r->from) sw_astr_addf(a, "[%s,", r->from);
        else sw_astr_add(a, "(-inf,");
        if (r->to) sw_astr_addf(a, "%s)", r->to);
        else sw_astr_add(a, "+inf)");
        sw_astr_addf(a, "->%s", target_name(f, r->target));
    }
}

static void details_list(sw_astr *a, const sw_conf_function *f)
{
    for (int i = 0; i < f->n_lists; i++) {
        const sw_conf_list *l = &f->lists[i];
        sw_astr_sep(a, "; ");
        sw_astr_add(a, "{");
        for (int v = 0; v < l->n_values; v++) sw_astr_addf(a, "%s%s", v ? "," : "", l->values[v]);
        sw_astr_addf(a, "}->%s", target_name(f, l->target));
    }
}

static void details_ring(sw_astr *a, const sw_conf_function *f)
{
    sw_astr_addf(a, "vnodes=%d weights=", f->vnodes);
    for (int t = 0; t < f->n_targets; t++)
        sw_astr_addf(a, "%s%s:%d", t ? "," : "", f->targets[t], f->weights ? f->weights[t] : 1);
}

static void details_directory(sw_astr *a, const sw_conf *conf, const sw_conf_function *f,
                              const sw_shardfn *fn)
{
    sw_astr_addf(a, "node=%s ttl=", node_name(conf, f->dir_node));
    add_duration(a, f->cache_ttl_ms);
    sw_astr_addf(a, " cache_size=%d", f->cache_size);
    if (fn) sw_astr_addf(a, " cached=%zu", sw_shardfn_directory_size(fn));
    sw_astr_addf(a, " query=%s", f->dir_query ? f->dir_query : "");
}

static void details_embedded(sw_astr *a, const sw_conf *conf, const sw_conf_function *f)
{
    const char *src = f->source >= 0 && f->source < conf->n_functions
                          ? conf->functions[f->source].name
                          : "?";
    sw_astr_addf(a, "source=%s slot_bits=%d seq_bits=%d epoch=", src, f->slot_bits, f->seq_bits);
    add_epoch(a, f->epoch_ms);
}

static void fn_details(sw_astr *a, const sw_conf *conf, const sw_conf_function *f,
                       const sw_shardfn *fn)
{
    switch (f->kind) {
    case SW_FN_HASH: details_hash(a, f); break;
    case SW_FN_RANGE: details_range(a, f); break;
    case SW_FN_LIST: details_list(a, f); break;
    case SW_FN_RING: details_ring(a, f); break;
    case SW_FN_DIRECTORY: details_directory(a, conf, f, fn); break;
    case SW_FN_EMBEDDED: details_embedded(a, conf, f); break;
    }
    if ((f->kind == SW_FN_RANGE || f->kind == SW_FN_LIST) && f->default_target >= 0)
        sw_astr_addf(a, "; default->%s", target_name(f, f->default_target));
}

/* database.table of every table using function fi. */
static void fn_tables(sw_astr *a, const sw_conf *conf, int fi)
{
    for (int di = 0; di < conf->n_databases; di++) {
        const sw_conf_database *d = &conf->databases[di];
        for (int ti = 0; ti < d->n_tables; ti++) {
            const sw_conf_table *t = &d->tables[ti];
            bool uses = (t->kind == SW_TABLE_SHARDED && t->function == fi) ||
                        (t->id_column && t->id_function == fi);
            if (!uses) continue;
            sw_astr_sep(a, ",");
            sw_astr_addf(a, "%s.", d->name);
            add_table_name(a, t);
        }
    }
}

void sw_admin_show_functions(const sw_admin_env *env, sw_wbuf *out)
{
    static const char *const cols[] = {"name", "kind", "type", "targets", "tables", "details"};
    const sw_conf *conf = sw_router_conf(env->router);
    sw_astr targets, tables, details;
    sw_astr_init(&targets);
    sw_astr_init(&tables);
    sw_astr_init(&details);
    sw_admin_rs rs;
    sw_admin_rs_begin(&rs, out, cols, 6);
    for (int fi = 0; fi < conf->n_functions; fi++) {
        const sw_conf_function *f = &conf->functions[fi];
        sw_astr_reset(&targets);
        sw_astr_reset(&tables);
        sw_astr_reset(&details);
        add_fn_targets(&targets, env, fi, -1);
        fn_tables(&tables, conf, fi);
        fn_details(&details, conf, f, sw_router_function(env->router, fi));
        const char *row[] = {f->name,
                             sw_admin_fn_kind_name(f->kind),
                             sw_admin_key_type_name(f->type),
                             sw_astr_str(&targets),
                             tables.len ? sw_astr_str(&tables) : NULL,
                             sw_astr_str(&details)};
        sw_admin_rs_row(&rs, row);
    }
    sw_admin_rs_end(&rs);
    sw_admin_oom_check(out, &targets);
    sw_admin_oom_check(out, &tables);
    sw_admin_oom_check(out, &details);
    sw_astr_free(&targets);
    sw_astr_free(&tables);
    sw_astr_free(&details);
}
