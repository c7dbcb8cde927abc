/*
 * admin.c - the admin console's command language and the small answers.
 * A command is a short sequence of case-insensitive keywords, matched word
 * by word (the console is not SQL, so no grammar is needed); only SHOW
 * ROUTE carries free text, the statement to route, which goes to the
 * router untouched.  The larger answers live in show_config.c and
 * show_route.c.
 */
#include "admin_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#ifndef SW_VERSION
#define SW_VERSION "unknown"
#endif

/* Shown by SHOW HELP and in the hint of an unknown command. */
static const struct {
    const char *syntax;
    const char *description;
} commands[] = {
    {"SHOW SHARDS", "nodes, their pools and health (alias SHOW NODES)"},
    {"SHOW TABLES", "configured tables: placement, shard key, function, co-location"},
    {"SHOW FUNCTIONS", "sharding functions: targets and parameters"},
    {"SHOW ROUTE [IN database] statement", "where the router sends a statement, and why"},
    {"SHOW CACHE", "statement shape cache: hits, misses, entries"},
    {"SHOW MERGES", "cross-shard merges and split COPYs since start, peak bytes one merge held"},
    {"SHOW CLIENTS", "connected clients: user, database, address, state, nodes held, why pinned"},
    {"SHOW VERSION", "shardwire version"},
    {"SHOW HELP", "this list"},
    {"SHOW TRANSACTIONS", "two-phase commits in progress and prepared transactions not yet settled"},
    {"RESOLVE 'gid' COMMIT|ROLLBACK", "settle a prepared transaction by hand, unless its decision is recorded (admin_users only)"},
    {"RELOAD", "reread the configuration file (admin_users only)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* A cursor over the command text. */
typedef struct cur {
    const char *p;
    const char *end;
} cur;

static void skip_blanks(cur *c)
{
    while (c->p < c->end && isspace((unsigned char)*c->p)) c->p++;
}

static bool at_end(cur *c)
{
    skip_blanks(c);
    return c->p == c->end;
}

static bool is_word_char(char ch) { return isalnum((unsigned char)ch) || ch == '_'; }

/* Consume keyword kw (case-insensitive, whole word only). */
static bool take_word(cur *c, const char *kw)
{
    skip_blanks(c);
    size_t n = strlen(kw);
    if ((size_t)(c->end - c->p) < n || strncasecmp(c->p, kw, n) != 0) return false;
    if (c->p + n < c->end && is_word_char(c->p[n])) return false;
    c->p += n;
    return true;
}

/* Consume keyword kw and require nothing after it. */
static bool take_last_word(cur *c, const char *kw)
{
    cur save = *c;
    if (take_word(c, kw) && at_end(c)) return true;
    *c = save;
    return false;
}

/* A database name after IN: "quoted" (with "" for a quote) or a run of
 * non-blank characters.  Returns false on an unterminated quote. */
static bool take_name(cur *c, sw_astr *name)
{
    skip_blanks(c);
    if (c->p < c->end && *c->p == '"') {
        for (c->p++; c->p < c->end; c->p++) {
            if (*c->p != '"') {
                sw_astr_addn(name, c->p, 1);
            } else if (c->p + 1 < c->end && c->p[1] == '"') {
                sw_astr_addn(name, c->p++, 1);
            } else {
                c->p++;
                return name->len > 0;
            }
        }
        return false;
    }
    const char *start = c->p;
    while (c->p < c->end && !isspace((unsigned char)*c->p)) c->p++;
    sw_astr_addn(name, start, (size_t)(c->p - start));
    return c->p > start;
}

static void unknown_command(const char *sql, size_t len, sw_wbuf *out)
{
    sw_astr msg, hint;
    sw_astr_init(&msg);
    sw_astr_init(&hint);
    /* Quote at most one line's worth (cut between UTF-8 characters): the
     * message is for a human. */
    size_t shown = len > 60 ? 60 : len;
    while (shown < len && shown > 0 && ((unsigned char)sql[shown] & 0xC0) == 0x80) shown--;
    sw_astr_add(&msg, "unrecognized admin command \"");
    sw_astr_addn(&msg, sql, shown);
    sw_astr_add(&msg, shown < len ? "...\"" : "\"");
    sw_astr_add(&hint, "commands: ");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (i) sw_astr_add(&hint, ", ");
        sw_astr_add(&hint, commands[i].syntax);
    }
    sw_admin_error(out, "42601", sw_astr_str(&msg), sw_astr_str(&hint));
    sw_admin_oom_check(out, &msg);
    sw_admin_oom_check(out, &hint);
    sw_astr_free(&msg);
    sw_astr_free(&hint);
}

static void show_help(sw_wbuf *out)
{
    static const char *const cols[] = {"command", "description"};
    sw_admin_rs rs;
    sw_admin_rs_begin(&rs, out, cols, 2);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const char *row[] = {commands[i].syntax, commands[i].description};
        sw_admin_rs_row(&rs, row);
    }
    sw_admin_rs_end(&rs);
}

/* A result of one column and one row. */
static void show_single(sw_wbuf *out, const char *col, const char *val)
{
    sw_admin_rs rs;
    sw_admin_rs_begin(&rs, out, &col, 1);
    sw_admin_rs_row(&rs, &val);
    sw_admin_rs_end(&rs);
}

static void show_cache(const sw_admin_env *env, sw_wbuf *out)
{
    static const char *const cols[] = {"hits", "misses", "entries"};
    uint64_t hits = 0, misses = 0;
    size_t entries = 0;
    sw_router_cache_stats(env->router, &hits, &misses, &entries);
    char h[24], m[24], e[24];
    snprintf(h, sizeof h, "%" PRIu64, hits);
    snprintf(m, sizeof m, "%" PRIu64, misses);
    snprintf(e, sizeof e, "%zu", entries);
    const char *row[] = {h, m, e};
    sw_admin_rs rs;
    sw_admin_rs_begin(&rs, out, cols, 3);
    sw_admin_rs_row(&rs, row);
    sw_admin_rs_end(&rs);
}

static void show_merges(const sw_admin_env *env, sw_wbuf *out)
{
    static const char *const cols[] = {"merges", "merge_rows", "merge_failed", "peak_bytes", "copies", "copy_rows"};
    sw_admin_merge_stats z = {0};
    const sw_admin_merge_stats *m = env->merges ? env->merges : &z;
    uint64_t v[] = {m->merges, m->merge_rows, m->merge_failed, m->peak_bytes, m->copies, m->copy_rows};
    char buf[6][24];
    const char *row[6];
    for (int i = 0; i < 6; i++) {
        snprintf(buf[i], sizeof buf[i], "%" PRIu64, v[i]);
        row[i] = buf[i];
    }
    sw_admin_rs rs;
    sw_admin_rs_begin(&rs, out, cols, 6);
    sw_admin_rs_row(&rs, row);
    sw_admin_rs_end(&rs);
}

static void show_transactions(const sw_admin_env *env, sw_wbuf *out)
{
    static const char *const cols[] = {"gid", "node", "state", "age_ms"};
    sw_admin_rs rs;
    sw_admin_rs_begin(&rs, out, cols, 4);
    for (int i = 0; i < env->n_txns; i++) {
        const sw_admin_txn_row *t = &env->txns[i];
        char age[24];
        snprintf(age, sizeof age, "%" PRId64, t->age_ms);
        const char *row[4] = {t->gid, t->node, t->state, age};
        sw_admin_rs_row(&rs, row);
    }
    sw_admin_rs_end(&rs);
}

static void show_clients(const sw_admin_env *env, sw_wbuf *out)
{
    static const char *const cols[] = {"user", "database", "address", "pid", "state", "nodes", "pinned"};
    sw_admin_rs rs;
    sw_admin_rs_begin(&rs, out, cols, 7);
    for (int i = 0; i < env->n_client_rows; i++) {
        const sw_admin_client_row *r = &env->clients[i];
        char pid[16];
        snprintf(pid, sizeof pid, "%d", r->pid);
        const char *row[7] = {r->user, r->database, r->addr, pid, r->state, r->nodes, r->pinned};
        sw_admin_rs_row(&rs, row);
    }
    sw_admin_rs_end(&rs);
}

/* RESOLVE 'gid' COMMIT|ROLLBACK; c is just after RESOLVE. */
static sw_admin_action resolve(const sw_admin_env *env, cur *c, sw_wbuf *out)
{
    static const char usage[] = "RESOLVE 'sw:instance:node:start:seq' COMMIT | ROLLBACK";
    if (env->read_only || !env->resolve) {
        sw_admin_error(out, "42501", "permission denied to run RESOLVE", "Only users listed in admin_users may run RESOLVE.");
        return SW_ADMIN_NONE;
    }
    skip_blanks(c);
    sw_admin_resolve *r = env->resolve;
    size_t n = 0;
    if (c->p >= c->end || *c->p != '\'') {
        sw_admin_error(out, "42601", "RESOLVE needs a transaction ID in single quotes", usage);
        return SW_ADMIN_NONE;
    }
    for (c->p++; c->p < c->end && *c->p != '\''; c->p++)
        if (n + 1 < sizeof r->gid) r->gid[n++] = *c->p;
    r->gid[n] = 0;
    if (c->p >= c->end || n == 0 || strncmp(r->gid, "sw:", 3) != 0) {
        sw_admin_error(out, "42601", "RESOLVE needs a transaction ID of shardwire's (sw:...) in single quotes", usage);
        return SW_ADMIN_NONE;
    }
    c->p++;
    if (take_last_word(c, "commit")) r->commit = true;
    else if (take_last_word(c, "rollback")) r->commit = false;
    else {
        sw_admin_error(out, "42601", "RESOLVE needs COMMIT or ROLLBACK after the transaction ID", usage);
        return SW_ADMIN_NONE;
    }
    sw_build_command_complete(out, "RESOLVE");
    return SW_ADMIN_RESOLVE;
}

/* SHOW ROUTE [IN database] statement; c is just after ROUTE. */
static void show_route(const sw_admin_env *env, cur *c, sw_wbuf *out)
{
    sw_astr db;
    sw_astr_init(&db);
    bool named = take_word(c, "in");
    if (named && !take_name(c, &db)) {
        sw_admin_error(out, "42601", "SHOW ROUTE IN needs a database name",
                       "SHOW ROUTE [IN database] statement");
    } else {
        skip_blanks(c);
        sw_admin_show_route(env, named ? sw_astr_str(&db) : NULL, c->p, (size_t)(c->end - c->p),
                            out);
    }
    sw_admin_oom_check(out, &db);
    sw_astr_free(&db);
}

sw_admin_action sw_admin_query(const sw_admin_env *env, const char *sql, size_t len, sw_wbuf *out)
{
    /* A NUL ends the text, as it would for the server. */
    const char *nul = memchr(sql, '\0', len);
    if (nul) len = (size_t)(nul - sql);
    /* Trailing blanks and semicolons are noise; leading blanks too. */
    while (len > 0 && (isspace((unsigned char)sql[len - 1]) || sql[len - 1] == ';')) len--;
    cur c = {sql, sql + len};
    if (at_end(&c)) {
        sw_build_empty(out, SW_BE_EMPTY_QUERY);
        return SW_ADMIN_NONE;
    }
    const char *text = c.p;
    size_t text_len = (size_t)(c.end - c.p);

    if (take_last_word(&c, "reload")) {
        if (env->read_only) {
            sw_admin_error(out, "42501", "permission denied to run RELOAD",
                           "Only users listed in admin_users may run RELOAD; stats_users may run "
                           "SHOW commands.");
            return SW_ADMIN_NONE;
        }
        sw_build_command_complete(out, "RELOAD");
        return SW_ADMIN_RELOAD;
    }
    if (take_word(&c, "resolve")) return resolve(env, &c, out);
    if (!take_word(&c, "show")) {
        unknown_command(text, text_len, out);
        return SW_ADMIN_NONE;
    }
    void (*show)(const sw_admin_env *, sw_wbuf *) = NULL;
    bool route = false;
    if (take_last_word(&c, "help")) {
        show_help(out);
        return SW_ADMIN_NONE;
    } else if (take_last_word(&c, "version")) {
        show_single(out, "version", "shardwire " SW_VERSION);
        return SW_ADMIN_NONE;
    } else if (take_last_word(&c, "clients")) {
        if (!env->clients) {
            char n[16];
            snprintf(n, sizeof n, "%d", env->n_clients);
            show_single(out, "clients", n);
            return SW_ADMIN_NONE;
        }
        show = show_clients;
    } else if (take_last_word(&c, "shards") || take_last_word(&c, "nodes")) {
        show = sw_admin_show_shards;
    } else if (take_last_word(&c, "tables")) {
        show = sw_admin_show_tables;
    } else if (take_last_word(&c, "functions")) {
        show = sw_admin_show_functions;
    } else if (take_last_word(&c, "cache")) {
        show = show_cache;
    } else if (take_last_word(&c, "transactions")) {
        show_transactions(env, out);
        return SW_ADMIN_NONE;
    } else if (take_last_word(&c, "merges")) {
        show_merges(env, out);
        return SW_ADMIN_NONE;
    } else if (take_word(&c, "route")) {
        route = true;
    } else {
        unknown_command(text, text_len, out);
        return SW_ADMIN_NONE;
    }
    /* Everything below reads the configuration. */
    if (!env->router) sw_admin_error(out, "55000", "no configuration is loaded", NULL);
    else if (route) show_route(env, &c, out);
    else show(env, out);
    return SW_ADMIN_NONE;
}
