/*
 * conf.c - the configuration schema and the generic walker that applies it.
 * Each section of the file is a static table of keys (name, kind, where the
 * value goes, flags, default in file syntax, range); one walker checks the
 * YAML tree against those tables, fills an sw_conf, and reports every
 * problem with the line and column of the key or value at fault.  Adding a
 * section means adding a table and one entry to the top-level table.
 *
 * Order of work for one mapping: defaults first (so an absent key and an
 * absent section behave the same), then the keys in file order (so errors
 * come out top to bottom), then missing required keys, then the section's
 * cross-field check - but only if everything inside parsed cleanly, so one
 * mistake does not cascade into a page of follow-on errors.  Cross-section
 * references (a database's default_node; the nodes and functions that
 * sharding functions and tables name, see sharding.c) are resolved by the
 * top-level check once every node is known, regardless of the order of
 * sections in the file.
 */
#include "conf_int.h"

#include "sw/shard.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Enum fields are written through an int pointer by the walker. */
_Static_assert(sizeof(sw_pool_mode) == sizeof(int), "enum fields are stored as int");
_Static_assert(sizeof(sw_auth_method) == sizeof(int), "enum fields are stored as int");
_Static_assert(sizeof(sw_log_level) == sizeof(int), "enum fields are stored as int");
_Static_assert(sizeof(sw_session_state_mode) == sizeof(int), "enum fields are stored as int");

/* Larger files are certainly a mistake (a log, a dump) rather than config. */
#define SW_CONF_MAX_FILE (16 * 1024 * 1024)

#define KB 1024LL
#define MB (1024LL * 1024)
#define GB (1024LL * 1024 * 1024)

/* ---- enum spellings ------------------------------------------------------ */

static const sw_conf_enum pool_modes[] = {
    {"transaction", SW_POOL_TRANSACTION},
    {"session", SW_POOL_SESSION},
    {NULL, 0},
};

static const sw_conf_enum session_state_modes[] = {
    {"pin", SW_SESSION_STATE_PIN},
    {"refuse", SW_SESSION_STATE_REFUSE},
    {NULL, 0},
};

static const sw_conf_enum auth_methods[] = {
    {"trust", SW_AUTH_METHOD_TRUST},
    {"md5", SW_AUTH_METHOD_MD5},
    {"scram-sha-256", SW_AUTH_METHOD_SCRAM},
    {NULL, 0},
};

static const sw_conf_enum log_levels[] = {
    {"error", SW_LOG_ERROR},
    {"warning", SW_LOG_WARN},
    {"info", SW_LOG_INFO},
    {"debug", SW_LOG_DEBUG},
    {NULL, 0},
};

/* ---- schema -------------------------------------------------------------- */

static int user_set_password(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                             const char *path, void *obj);
static int user_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj);
static void user_cleanup(void *obj);
static int database_set_default_node(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                                     const char *path, void *obj);
static int root_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj);
static void root_cleanup(void *obj);
static int pool_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj);
static int set_user_list(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                         const char *path, void *obj);

#define DURATION_MAX .max = SW_MAX_DURATION_MS
#define KEEPALIVE_MAX_MS (32767LL * 1000)

static const sw_conf_field listen_fields[] = {
    {KEY("host", SW_CONF_STR, 0, sw_conf, listen_host), .def = "127.0.0.1"},
    {KEY("port", SW_CONF_INT, 0, sw_conf, listen_port), .def = "6432", .min = 1, .max = 65535},
    {KEY("max_clients", SW_CONF_INT, 0, sw_conf, max_clients), .def = "1000", .min = 1,
     .max = 1000000},
    {KEY("max_startup", SW_CONF_INT, 0, sw_conf, max_startup), .def = "1000", .min = 1,
     .max = 1000000},
    /* PostgreSQL's authentication_timeout: 1s..10min there; a longer one is allowed. */
    {KEY("auth_timeout", SW_CONF_DURATION, 0, sw_conf, auth_timeout_ms), .def = "60s",
     .min = 1000, .max = 60LL * 60 * 1000},
    {KEY("shutdown_timeout", SW_CONF_DURATION, 0, sw_conf, shutdown_timeout_ms), .def = "30s",
     .min = 0, DURATION_MAX},
    {.key = NULL},
};

static const sw_conf_field pool_fields[] = {
    {KEY("mode", SW_CONF_ENUM, 0, sw_conf, pool_mode), .def = "transaction", .names = pool_modes},
    {KEY("size", SW_CONF_INT, 0, sw_conf, pool_size), .def = "8", .min = 1, .max = 10000},
    {KEY("connect_timeout", SW_CONF_DURATION, 0, sw_conf, connect_timeout_ms), .def = "5s",
     .min = 1, DURATION_MAX},
    {KEY("query_timeout", SW_CONF_DURATION, 0, sw_conf, query_timeout_ms), .def = "0", .min = 0,
     DURATION_MAX},
    {KEY("tcp_keepalive", SW_CONF_BOOL, 0, sw_conf, tcp_keepalive), .def = "true"},
    /* Linux takes whole seconds up to 32767 for both (TCP_KEEPIDLE, TCP_KEEPINTVL). */
    {KEY("tcp_keepalive_idle", SW_CONF_DURATION, 0, sw_conf, tcp_keepalive_idle_ms), .def = "60s",
     .min = 1000, .max = KEEPALIVE_MAX_MS},
    {KEY("tcp_keepalive_interval", SW_CONF_DURATION, 0, sw_conf, tcp_keepalive_interval_ms),
     .def = "10s", .min = 1000, .max = KEEPALIVE_MAX_MS},
    {KEY("tcp_keepalive_count", SW_CONF_INT, 0, sw_conf, tcp_keepalive_count), .def = "6",
     .min = 1, .max = 127},
    {KEY("idle_timeout", SW_CONF_DURATION, 0, sw_conf, idle_timeout_ms), .def = "10m", .min = 0,
     DURATION_MAX},
    {KEY("query_wait_timeout", SW_CONF_DURATION, 0, sw_conf, query_wait_timeout_ms), .def = "30s",
     .min = 1, DURATION_MAX},
    {KEY("client_idle_timeout", SW_CONF_DURATION, 0, sw_conf, client_idle_timeout_ms), .def = "0",
     .min = 0, DURATION_MAX},
    {KEY("reset_query", SW_CONF_STR, SW_CONF_EMPTY_OK, sw_conf, reset_query), .def = "DISCARD ALL"},
    {KEY("max_prepared_per_server", SW_CONF_INT, 0, sw_conf, max_prepared_per_server),
     .def = "1000", .min = 1, .max = 100000},
    {KEY("session_state", SW_CONF_ENUM, 0, sw_conf, session_state), .def = "pin", .names = session_state_modes},
    {.key = NULL},
};

static const sw_conf_field limits_fields[] = {
    {KEY("max_message_size", SW_CONF_SIZE, 0, sw_conf, max_message_size), .def = "64MB", .min = KB,
     .max = GB},
    {KEY("max_server_message_size", SW_CONF_SIZE, 0, sw_conf, max_server_message_size),
     .def = "256MB", .min = MB, .max = GB},
    {KEY("merge_max_rows", SW_CONF_INT, 0, sw_conf, merge_max_rows), .def = "1000000", .min = 0,
     .max = 2000000000},
    {KEY("merge_max_bytes", SW_CONF_SIZE, 0, sw_conf, merge_max_bytes), .def = "256MB", .min = KB,
     .max = 2 * GB},
    {.key = NULL},
};

static const sw_conf_field log_fields[] = {
    {KEY("level", SW_CONF_ENUM, 0, sw_conf, log_level), .def = "info", .names = log_levels},
    {.key = NULL},
};

/* Instance names go into transaction IDs ("sw:<instance>:..."): no colon. */
static const sw_conf_field transactions_fields[] = {
    {KEY("instance", SW_CONF_IDENT, 0, sw_conf, instance), .def = "shardwire"},
    {KEY("recovery_interval", SW_CONF_DURATION, 0, sw_conf, recovery_interval_ms), .def = "30s",
     .min = 100, DURATION_MAX},
    {KEY("recovery_min_age", SW_CONF_DURATION, 0, sw_conf, recovery_min_age_ms), .def = "60s",
     .min = 0, DURATION_MAX},
    {.key = NULL},
};

static const sw_conf_field node_fields[] = {
    {KEY("name", SW_CONF_IDENT, SW_CONF_REQUIRED | SW_CONF_UNIQUE, sw_conf_node, name)},
    {KEY("host", SW_CONF_STR, SW_CONF_REQUIRED, sw_conf_node, host)},
    {KEY("port", SW_CONF_INT, 0, sw_conf_node, port), .def = "5432", .min = 1, .max = 65535},
    {KEY("database", SW_CONF_STR, SW_CONF_REQUIRED, sw_conf_node, database)},
    {KEY("user", SW_CONF_STR, SW_CONF_REQUIRED, sw_conf_node, user)},
    {KEY("password", SW_CONF_STR, 0, sw_conf_node, password)},
    /* Without a default: root_check fills in the pool's value when absent. */
    {KEY("query_timeout", SW_CONF_DURATION, 0, sw_conf_node, query_timeout_ms), .min = 0,
     DURATION_MAX},
    {KEY("connect_timeout", SW_CONF_DURATION, 0, sw_conf_node, connect_timeout_ms), .min = 1,
     DURATION_MAX},
    {.key = NULL},
};

static const sw_conf_field database_fields[] = {
    {KEY("name", SW_CONF_STR, SW_CONF_REQUIRED | SW_CONF_UNIQUE, sw_conf_database, name)},
    {KEY("default_node", SW_CONF_CUSTOM, SW_CONF_REQUIRED, sw_conf_database, default_node),
     .set = database_set_default_node},
    {KEY("two_phase", SW_CONF_BOOL, 0, sw_conf_database, two_phase), .def = "true"},
    {KEY("tables", SW_CONF_LIST, 0, sw_conf_database, tables), .section = &sw_conf_table_section,
     .count_offset = offsetof(sw_conf_database, n_tables)},
    {.key = NULL},
};

static const sw_conf_field user_fields[] = {
    {KEY("name", SW_CONF_STR, SW_CONF_REQUIRED | SW_CONF_UNIQUE, sw_conf_user, name)},
    {KEY("auth", SW_CONF_ENUM, 0, sw_conf_user, auth), .def = "scram-sha-256",
     .names = auth_methods},
    {KEY("password", SW_CONF_CUSTOM, 0, sw_conf_user, password), .set = user_set_password},
    {KEY("server_user", SW_CONF_STR, 0, sw_conf_user, server_user)},
    {KEY("server_password", SW_CONF_STR, 0, sw_conf_user, server_password)},
    {KEY("pool_size", SW_CONF_INT, 0, sw_conf_user, pool_size), .min = 1, .max = 10000},
    {KEY("pool_mode", SW_CONF_ENUM, 0, sw_conf_user, pool_mode), .names = pool_modes},
    {.key = NULL},
};

static const sw_conf_section listen_section = {
    .noun = "listen", .fields = listen_fields, .line_offset = -1};
static const sw_conf_section pool_section = {
    .noun = "pool", .fields = pool_fields, .line_offset = -1, .check = pool_check};
static const sw_conf_section limits_section = {
    .noun = "limits", .fields = limits_fields, .line_offset = -1};
static const sw_conf_section log_section = {.noun = "log", .fields = log_fields, .line_offset = -1};
static const sw_conf_section transactions_section = {
    .noun = "transactions", .fields = transactions_fields, .line_offset = -1};
static const sw_conf_section node_section = {
    .noun = "node",
    .fields = node_fields,
    .size = sizeof(sw_conf_node),
    .line_offset = (int)offsetof(sw_conf_node, line),
};
static const sw_conf_section database_section = {
    .noun = "database",
    .fields = database_fields,
    .size = sizeof(sw_conf_database),
    .line_offset = -1,
    .check = sw_conf_database_check,
};
static const sw_conf_section user_section = {
    .noun = "user",
    .fields = user_fields,
    .size = sizeof(sw_conf_user),
    .line_offset = -1,
    .check = user_check,
    .cleanup = user_cleanup,
};

/* The top level.  databases[].default_node names a node, and functions
 * and tables name nodes and functions; root_check resolves them once the
 * whole file is read, so sections may come in any order. */
static const sw_conf_field root_fields[] = {
    {.key = "listen", .kind = SW_CONF_SECTION, .section = &listen_section},
    {.key = "pool", .kind = SW_CONF_SECTION, .section = &pool_section},
    {.key = "limits", .kind = SW_CONF_SECTION, .section = &limits_section},
    {.key = "log", .kind = SW_CONF_SECTION, .section = &log_section},
    {.key = "transactions", .kind = SW_CONF_SECTION, .section = &transactions_section},
    /* Node sets are 64-bit masks (sw/shard.h). */
    {KEY("nodes", SW_CONF_LIST, SW_CONF_REQUIRED, sw_conf, nodes), .section = &node_section,
     .count_offset = offsetof(sw_conf, n_nodes), .max = SW_MAX_NODES},
    {KEY("functions", SW_CONF_LIST, 0, sw_conf, functions), .section = &sw_conf_function_section,
     .count_offset = offsetof(sw_conf, n_functions)},
    {KEY("databases", SW_CONF_LIST, SW_CONF_REQUIRED, sw_conf, databases),
     .section = &database_section, .count_offset = offsetof(sw_conf, n_databases)},
    {KEY("users", SW_CONF_LIST, SW_CONF_REQUIRED, sw_conf, users), .section = &user_section,
     .count_offset = offsetof(sw_conf, n_users)},
    /* Console access: names of users above (root_check resolves them). */
    {KEY("admin_users", SW_CONF_CUSTOM, 0, sw_conf, admin_users), .set = set_user_list,
     .count_offset = offsetof(sw_conf, n_admin_users)},
    {KEY("stats_users", SW_CONF_CUSTOM, 0, sw_conf, stats_users), .set = set_user_list,
     .count_offset = offsetof(sw_conf, n_stats_users)},
    {.key = NULL},
};

static const sw_conf_section root_section = {
    .noun = "configuration",
    .fields = root_fields,
    .line_offset = -1,
    .check = root_check,
    .cleanup = root_cleanup,
};

/* ---- walker helpers ------------------------------------------------------ */

#define AT(obj, off, type) ((type *)((char *)(obj) + (off)))

/* What was found, for "..., got X". */
void sw_conf_describe(const sw_ynode *v, char *buf, size_t size)
{
    if (sw_ynode_is_null(v))
        snprintf(buf, size, "an empty value");
    else if (v->kind == SW_YNODE_MAP)
        snprintf(buf, size, "a mapping");
    else if (v->kind == SW_YNODE_SEQ)
        snprintf(buf, size, "a sequence");
    else
        sw_diag_quote(buf, size, v->str, v->len);
}

/* "listen" + "port" -> "listen.port"; the top level has an empty path. */
static void join_path(char *buf, size_t size, const char *path, const char *key)
{
    if (path[0])
        snprintf(buf, size, "%s.%s", path, key);
    else
        snprintf(buf, size, "%s", key);
}

/* s as a quoted literal, so names with odd characters cannot break the
 * one-error-per-line layout. */
static const char *quoted(char *buf, size_t size, const char *s, size_t len)
{
    sw_diag_quote(buf, size, s, len);
    return buf;
}

static void suggest(sw_diag *d, const char *word, const char *best, int best_dist)
{
    /* Two edits catch transpositions and a dropped or doubled letter; more
     * than that, or more edits than the word has letters, is a guess. */
    if (best && best_dist <= 2 && best_dist < (int)strlen(word))
        sw_diag_hint(d, "did you mean \"%s\"?", best);
}

static const sw_conf_field *find_field(const sw_conf_section *s, const char *key, size_t len)
{
    for (const sw_conf_field *f = s->fields; f->key; f++)
        if (strlen(f->key) == len && memcmp(f->key, key, len) == 0) return f;
    return NULL;
}

/* The text of a string value; rejects non-scalars, null, embedded NULs and,
 * unless EMPTY_OK, "".  *out points into the tree. */
int sw_conf_get_string(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                       const char *path, const char **out)
{
    char got[80];
    bool empty_ok = f->flags & SW_CONF_EMPTY_OK;
    if (empty_ok && sw_ynode_is_null(v)) {
        *out = "";
        return 0;
    }
    if (v->kind != SW_YNODE_SCALAR || sw_ynode_is_null(v) || (v->len == 0 && !empty_ok)) {
        sw_conf_describe(v, got, sizeof got);
        sw_diag_error(&ctx->diag, v->line, v->col, "%s must be a %sstring, got %s", path,
                      empty_ok ? "" : "non-empty ", got);
        return -1;
    }
    if (strlen(v->str) != v->len) {
        sw_diag_error(&ctx->diag, v->line, v->col, "%s must not contain NUL characters", path);
        return -1;
    }
    *out = v->str;
    return 0;
}

static int set_owned_string(sw_conf_ctx *ctx, char **slot, const char *s)
{
    char *copy = strdup(s);
    if (!copy) {
        sw_diag_error(&ctx->diag, 0, 0, "out of memory");
        return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

static bool is_ident(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_')) return false;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

static int set_enum(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v, const char *path,
                    void *obj)
{
    if (v->kind == SW_YNODE_SCALAR && !sw_ynode_is_null(v)) {
        for (const sw_conf_enum *e = f->names; e->name; e++) {
            if (strlen(e->name) == v->len && memcmp(e->name, v->str, v->len) == 0) {
                *AT(obj, f->offset, int) = e->value;
                return 0;
            }
        }
    }
    char choices[256] = "", got[80];
    size_t n = 0;
    while (f->names[n].name) n++;
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof choices; i++) {
        const char *sep = i == 0 ? "" : n == 2 ? " or " : ", ";
        used += (size_t)snprintf(choices + used, sizeof choices - used, "%s\"%s\"", sep,
                                 f->names[i].name);
    }
    sw_conf_describe(v, got, sizeof got);
    sw_diag_error(&ctx->diag, v->line, v->col, "%s must be %s%s, got %s", path,
                  n > 2 ? "one of " : "", choices, got);
    if (v->kind == SW_YNODE_SCALAR) {
        const char *best = NULL;
        int best_dist = INT_MAX;
        for (size_t i = 0; i < n; i++) {
            int dist = sw_diag_distance(v->str, f->names[i].name);
            if (dist < best_dist) best_dist = dist, best = f->names[i].name;
        }
        suggest(&ctx->diag, v->str, best, best_dist);
    }
    return -1;
}

/* INT, DURATION and SIZE share the shape: parse, range-check, store. */
static int set_number(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v, const char *path,
                      void *obj)
{
    int64_t val = 0;
    sw_unit_status st = SW_UNIT_SYNTAX;
    if (v->kind == SW_YNODE_SCALAR && !sw_ynode_is_null(v) && strlen(v->str) == v->len) {
        if (f->kind == SW_CONF_DURATION)
            st = sw_duration_parse(v->str, &val);
        else if (f->kind == SW_CONF_SIZE)
            st = sw_size_parse(v->str, &val);
        else
            st = sw_int_parse(v->str, &val);
    }
    if (st == SW_UNIT_OK && val >= f->min && val <= f->max) {
        if (f->kind == SW_CONF_SIZE)
            *AT(obj, f->offset, uint32_t) = (uint32_t)val;
        else
            *AT(obj, f->offset, int) = (int)val;
        return 0;
    }

    char got[80], lo[32], hi[32];
    sw_conf_describe(v, got, sizeof got);
    if (f->kind == SW_CONF_DURATION) {
        sw_duration_format(f->min, lo, sizeof lo);
        sw_duration_format(f->max, hi, sizeof hi);
        sw_diag_error(&ctx->diag, v->line, v->col,
                      "%s must be a duration between %s and %s, got %s", path, lo, hi, got);
        if (st == SW_UNIT_SYNTAX)
            sw_diag_hint(&ctx->diag,
                         "write milliseconds, or a number with a unit: 250ms, 5s, 10m, 1h");
    } else if (f->kind == SW_CONF_SIZE) {
        sw_size_format(f->min, lo, sizeof lo);
        sw_size_format(f->max, hi, sizeof hi);
        sw_diag_error(&ctx->diag, v->line, v->col, "%s must be a size between %s and %s, got %s",
                      path, lo, hi, got);
        if (st == SW_UNIT_SYNTAX)
            sw_diag_hint(&ctx->diag, "write bytes, or a number with a unit: 512kB, 64MB, 1GB");
    } else {
        sw_diag_error(&ctx->diag, v->line, v->col,
                      "%s must be an integer between %lld and %lld, got %s", path,
                      (long long)f->min, (long long)f->max, got);
    }
    return -1;
}

static int conf_map(sw_conf_ctx *ctx, const sw_conf_section *s, const sw_ynode *map,
                    const char *path, void *obj);

/* Defaults for every field of s, recursing into nested sections. */
static int conf_defaults(sw_conf_ctx *ctx, const sw_conf_section *s, void *obj);

static int set_list(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v, const char *path,
                    void *obj)
{
    const sw_conf_section *s = f->section;
    char got[80];
    /* An optional list with every entry commented out is an empty one. */
    if (sw_ynode_is_null(v) && !(f->flags & SW_CONF_REQUIRED)) return 0;
    if (v->kind != SW_YNODE_SEQ) {
        sw_conf_describe(v, got, sizeof got);
        sw_diag_error(&ctx->diag, v->line, v->col, "%s must be a sequence of %ss, got %s", path,
                      s->noun, got);
        sw_diag_hint(&ctx->diag, "start each %s with \"- \" on its own line", s->noun);
        return -1;
    }
    if (v->n_items == 0) {
        if (!(f->flags & SW_CONF_REQUIRED)) return 0;
        sw_diag_error(&ctx->diag, v->line, v->col, "%s must not be empty", path);
        sw_diag_hint(&ctx->diag, "declare at least one %s", s->noun);
        return -1;
    }
    if (v->n_items > INT_MAX / 2) {
        sw_diag_error(&ctx->diag, v->line, v->col, "%s has too many entries", path);
        return -1;
    }
    if (f->max > 0 && (int64_t)v->n_items > f->max) {
        sw_diag_error(&ctx->diag, v->line, v->col, "%s has %zu entries, more than the %lld allowed",
                      path, v->n_items, (long long)f->max);
        return -1;
    }

    char *arr = calloc(v->n_items, s->size);
    if (!arr) {
        sw_diag_error(&ctx->diag, 0, 0, "out of memory");
        return -1;
    }
    /* Published before filling so that sw_conf_free sees every element,
     * whatever error stops the walk. */
    *AT(obj, f->offset, void *) = arr;
    *AT(obj, f->count_offset, int) = (int)v->n_items;

    int before = ctx->diag.n_errors;
    for (size_t i = 0; i < v->n_items; i++) {
        const sw_ynode *item = v->items[i];
        void *elem = arr + i * s->size;
        char ipath[128];
        snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
        if (item->kind != SW_YNODE_MAP) {
            sw_conf_describe(item, got, sizeof got);
            sw_diag_error(&ctx->diag, item->line, item->col, "%s must be a mapping, got %s", ipath,
                          got);
            continue;
        }
        if (s->line_offset >= 0) *AT(elem, (size_t)s->line_offset, int) = item->line;
        if (conf_defaults(ctx, s, elem) != 0) return -1;
        conf_map(ctx, s, item, ipath, elem);
    }

    /* Uniqueness across elements, reported at the later one. */
    for (const sw_conf_field *uf = s->fields; uf->key; uf++) {
        if (!(uf->flags & SW_CONF_UNIQUE)) continue;
        for (size_t i = 1; i < v->n_items; i++) {
            const char *name = *AT(arr + i * s->size, uf->offset, char *);
            if (!name) continue;
            for (size_t j = 0; j < i; j++) {
                const char *prev = *AT(arr + j * s->size, uf->offset, char *);
                if (!prev || strcmp(prev, name) != 0) continue;
                const sw_ynode *at = sw_ynode_map_get(v->items[i], uf->key);
                const sw_ynode *first = sw_ynode_map_get(v->items[j], uf->key);
                char q[80];
                sw_diag_error(&ctx->diag, at->line, at->col,
                              "duplicate %s %s %s, first defined at line %d", s->noun, uf->key,
                              quoted(q, sizeof q, name, strlen(name)), first->line);
                break;
            }
        }
    }
    return ctx->diag.n_errors == before ? 0 : -1;
}

int sw_conf_value(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v, const char *path,
                  void *obj)
{
    const char *s;
    char got[80];
    switch (f->kind) {
    case SW_CONF_STR:
        if (sw_conf_get_string(ctx, f, v, path, &s) != 0) return -1;
        return set_owned_string(ctx, AT(obj, f->offset, char *), s);
    case SW_CONF_IDENT:
        if (sw_conf_get_string(ctx, f, v, path, &s) != 0) return -1;
        if (!is_ident(s)) {
            sw_conf_describe(v, got, sizeof got);
            sw_diag_error(&ctx->diag, v->line, v->col,
                          "%s must be a name of letters, digits, '_' and '-', got %s", path, got);
            sw_diag_hint(&ctx->diag, "start with a letter or '_', like shard0 or eu_west-1");
            return -1;
        }
        return set_owned_string(ctx, AT(obj, f->offset, char *), s);
    case SW_CONF_INT:
    case SW_CONF_DURATION:
    case SW_CONF_SIZE:
        return set_number(ctx, f, v, path, obj);
    case SW_CONF_BOOL:
        if (v->kind == SW_YNODE_SCALAR && strcasecmp(v->str, "true") == 0) {
            *AT(obj, f->offset, bool) = true;
            return 0;
        }
        if (v->kind == SW_YNODE_SCALAR && strcasecmp(v->str, "false") == 0) {
            *AT(obj, f->offset, bool) = false;
            return 0;
        }
        sw_conf_describe(v, got, sizeof got);
        sw_diag_error(&ctx->diag, v->line, v->col, "%s must be true or false, got %s", path, got);
        return -1;
    case SW_CONF_ENUM:
        return set_enum(ctx, f, v, path, obj);
    case SW_CONF_SECTION:
        /* "pool:" with every line below commented out is an empty section. */
        if (sw_ynode_is_null(v)) return 0;
        if (v->kind != SW_YNODE_MAP) {
            sw_conf_describe(v, got, sizeof got);
            sw_diag_error(&ctx->diag, v->line, v->col, "%s must be a mapping, got %s", path, got);
            return -1;
        }
        return conf_map(ctx, f->section, v, path, obj);
    case SW_CONF_LIST:
        return set_list(ctx, f, v, path, obj);
    case SW_CONF_CUSTOM:
        return f->set(ctx, f, v, path, obj);
    }
    return -1;
}

static int conf_defaults(sw_conf_ctx *ctx, const sw_conf_section *s, void *obj)
{
    for (const sw_conf_field *f = s->fields; f->key; f++) {
        if (f->kind == SW_CONF_SECTION) {
            if (conf_defaults(ctx, f->section, obj) != 0) return -1;
        } else if (f->def) {
            /* Defaults go through the same parser as the file, so a table
             * typo fails loudly in tests rather than storing garbage. */
            sw_ynode def = {.kind = SW_YNODE_SCALAR,
                            .str = (char *)f->def,
                            .len = strlen(f->def),
                            .plain = true};
            if (sw_conf_value(ctx, f, &def, f->key, obj) != 0) return -1;
        } else if (f->kind == SW_CONF_ENUM) {
            *AT(obj, f->offset, int) = -1;
        }
    }
    return 0;
}

static int conf_map(sw_conf_ctx *ctx, const sw_conf_section *s, const sw_ynode *map,
                    const char *path, void *obj)
{
    int before = ctx->diag.n_errors;
    uint64_t seen = 0;
    char where[160];
    if (path[0])
        snprintf(where, sizeof where, "in %s", path);
    else
        snprintf(where, sizeof where, "at top level");

    for (size_t i = 0; i < sw_ynode_map_size(map); i++) {
        const sw_ynode *k = sw_ynode_map_key(map, i);
        const sw_ynode *v = sw_ynode_map_value(map, i);

        const sw_ynode *dup = NULL;
        for (size_t j = 0; j < i && !dup; j++) {
            const sw_ynode *pk = sw_ynode_map_key(map, j);
            if (pk->len == k->len && memcmp(pk->str, k->str, k->len) == 0) dup = pk;
        }
        if (dup) {
            char q[80];
            sw_diag_error(&ctx->diag, k->line, k->col,
                          "duplicate key %s %s, first defined at line %d",
                          quoted(q, sizeof q, k->str, k->len), where, dup->line);
            continue;
        }

        const sw_conf_field *f = find_field(s, k->str, k->len);
        if (!f) {
            char name[80];
            sw_diag_quote(name, sizeof name, k->str, k->len);
            sw_diag_error(&ctx->diag, k->line, k->col, "unknown key %s %s", name, where);
            const char *best = NULL;
            int best_dist = INT_MAX;
            for (const sw_conf_field *c = s->fields; c->key; c++) {
                int dist = sw_diag_distance(k->str, c->key);
                if (dist < best_dist) best_dist = dist, best = c->key;
            }
            suggest(&ctx->diag, k->str, best, best_dist);
            continue;
        }
        seen |= UINT64_C(1) << (f - s->fields);

        char kpath[192];
        join_path(kpath, sizeof kpath, path, f->key);
        sw_conf_value(ctx, f, v, kpath, obj);
    }

    for (const sw_conf_field *f = s->fields; f->key; f++) {
        if ((f->flags & SW_CONF_REQUIRED) && !(seen & (UINT64_C(1) << (f - s->fields))))
            sw_diag_error(&ctx->diag, map->line, map->col, "%s is missing required key \"%s\"",
                          s->noun, f->key);
    }

    if (ctx->diag.n_errors != before) return -1;
    if (s->check) return s->check(ctx, map, path, obj);
    return 0;
}

/* ---- users --------------------------------------------------------------- */

static bool is_base64(const char *s, size_t len)
{
    if (len == 0 || len % 4 != 0) return false;
    size_t pad = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '=') {
            pad++;
        } else if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '+' || c == '/')) {
            return false;
        }
    }
    return pad <= 2;
}

/* "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>", the shape
 * PostgreSQL stores in pg_authid; the keys themselves are checked at login. */
static bool is_scram_secret(const char *s)
{
    s += strlen("SCRAM-SHA-256$");
    const char *p = s;
    while (*p >= '0' && *p <= '9') p++;
    if (p == s || *s == '0' || p - s > 9 || *p != ':') return false;
    const char *salt = p + 1;
    const char *dollar = strchr(salt, '$');
    if (!dollar || !is_base64(salt, (size_t)(dollar - salt))) return false;
    const char *stored = dollar + 1;
    const char *colon = strchr(stored, ':');
    if (!colon || !is_base64(stored, (size_t)(colon - stored))) return false;
    return is_base64(colon + 1, strlen(colon + 1));
}

static bool is_md5_hash(const char *s)
{
    if (strncmp(s, "md5", 3) != 0 || strlen(s) != 35) return false;
    for (s += 3; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return false;
    return true;
}

/* One key, three meanings: a SCRAM verifier or md5 hash copied from
 * pg_authid lets the file hold no plaintext; anything else is plaintext. */
static int user_set_password(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                             const char *path, void *obj)
{
    sw_conf_user *u = obj;
    const char *s;
    if (sw_conf_get_string(ctx, f, v, path, &s) != 0) return -1;
    char **slot = &u->password;
    if (strncmp(s, "SCRAM-SHA-256$", strlen("SCRAM-SHA-256$")) == 0) {
        if (!is_scram_secret(s)) {
            sw_diag_error(&ctx->diag, v->line, v->col,
                          "%s is not a well-formed SCRAM-SHA-256 verifier", path);
            sw_diag_hint(&ctx->diag,
                         "expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, as "
                         "in pg_authid");
            return -1;
        }
        slot = &u->scram_secret;
    } else if (is_md5_hash(s)) {
        slot = &u->md5_hash;
    }
    return set_owned_string(ctx, slot, s);
}

/* Whether the stored secret can serve the chosen method: SCRAM needs the
 * plaintext or a verifier, md5 the plaintext or the md5 hash. */
static int user_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj)
{
    sw_conf_user *u = obj;
    const sw_ynode *pw = sw_ynode_map_get(map, "password");
    if (u->auth == SW_AUTH_METHOD_TRUST || u->password) return 0;
    char name[80];
    quoted(name, sizeof name, u->name, strlen(u->name));
    if (u->auth == SW_AUTH_METHOD_MD5) {
        if (u->md5_hash) return 0;
        if (u->scram_secret) {
            sw_diag_error(&ctx->diag, pw->line, pw->col,
                          "user %s has auth md5 but its password is a SCRAM-SHA-256 verifier",
                          name);
            sw_diag_hint(&ctx->diag,
                         "md5 cannot use a SCRAM secret; store a plaintext or md5 password, "
                         "or use auth: scram-sha-256");
            return -1;
        }
        sw_diag_error(&ctx->diag, map->line, map->col, "user %s has auth md5 but no password",
                      name);
        sw_diag_hint(&ctx->diag, "add a plaintext or md5 password, or use auth: trust");
        return -1;
    }
    if (u->scram_secret) return 0;
    if (u->md5_hash) {
        sw_diag_error(&ctx->diag, pw->line, pw->col,
                      "user %s has auth scram-sha-256 but its password is an md5 hash", name);
        sw_diag_hint(&ctx->diag, "SCRAM cannot use an md5 hash; store a plaintext password or a "
                                 "SCRAM-SHA-256 verifier, or use auth: md5");
        return -1;
    }
    sw_diag_error(&ctx->diag, map->line, map->col, "user %s has auth scram-sha-256 but no password",
                  name);
    sw_diag_hint(&ctx->diag,
                 "add a plaintext password or a SCRAM-SHA-256 verifier, or use auth: trust");
    return -1;
}

static void user_cleanup(void *obj)
{
    sw_conf_user *u = obj;
    free(u->password);
    free(u->scram_secret);
    free(u->md5_hash);
}

/* ---- pool ---------------------------------------------------------------- */

/* The kernel takes keepalive times in whole seconds: refuse what it would
 * round rather than apply something else than the file says. */
static int pool_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj)
{
    sw_conf *c = obj;
    static const char *const keys[] = {"tcp_keepalive_idle", "tcp_keepalive_interval"};
    const int vals[] = {c->tcp_keepalive_idle_ms, c->tcp_keepalive_interval_ms};
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        if (vals[i] % 1000 == 0) continue;
        const sw_ynode *v = sw_ynode_map_get(map, keys[i]);
        char got[80];
        sw_conf_describe(v, got, sizeof got);
        sw_diag_error(&ctx->diag, v->line, v->col, "%s.%s must be a whole number of seconds, got %s",
                      path, keys[i], got);
        sw_diag_hint(&ctx->diag, "TCP keepalive times are set in seconds: write %ds or %ds",
                     vals[i] / 1000, vals[i] / 1000 + 1);
        rc = -1;
    }
    return rc;
}

/* ---- console access -------------------------------------------------------- */

/* admin_users / stats_users: a sequence of user names.  Only the shape
 * here; root_check checks that each names a user. */
static int set_user_list(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                         const char *path, void *obj)
{
    char ***slot = AT(obj, f->offset, char **);
    int *count = AT(obj, f->count_offset, int);
    char got[80];
    if (sw_ynode_is_null(v)) return 0;
    if (v->kind != SW_YNODE_SEQ) {
        sw_conf_describe(v, got, sizeof got);
        sw_diag_error(&ctx->diag, v->line, v->col, "%s must be a sequence of user names, got %s",
                      path, got);
        sw_diag_hint(&ctx->diag, "write %s: [name, ...] with names from users", f->key);
        return -1;
    }
    if (v->n_items == 0) return 0;
    char **names = calloc(v->n_items, sizeof *names);
    if (!names) {
        sw_diag_error(&ctx->diag, 0, 0, "out of memory");
        return -1;
    }
    /* Published whole (NULL-filled) so that sw_conf_free sees every name. */
    *slot = names;
    *count = (int)v->n_items;
    int rc = 0;
    for (size_t i = 0; i < v->n_items; i++) {
        const char *s;
        char ipath[192];
        snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
        if (sw_conf_get_string(ctx, f, v->items[i], ipath, &s) != 0) {
            rc = -1;
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (names[j] && strcmp(names[j], s) == 0) {
                char q[80];
                sw_diag_error(&ctx->diag, v->items[i]->line, v->items[i]->col,
                              "%s lists user %s twice", path, quoted(q, sizeof q, s, strlen(s)));
                rc = -1;
                break;
            }
        }
        if (!(names[i] = strdup(s))) {
            sw_diag_error(&ctx->diag, 0, 0, "out of memory");
            return -1;
        }
    }
    return rc;
}

/* Every name in admin_users and stats_users must be a configured user. */
static int user_list_resolve(sw_conf_ctx *ctx, const sw_ynode *root, const char *key,
                             char **names, int n)
{
    const sw_ynode *seq = sw_ynode_map_get(root, key);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (sw_conf_user_find(ctx->conf, names[i])) continue;
        const sw_ynode *v = seq->items[i];
        char q[80];
        sw_diag_error(&ctx->diag, v->line, v->col, "%s[%d] names unknown user %s", key, i,
                      quoted(q, sizeof q, names[i], strlen(names[i])));
        const char *best = NULL;
        int best_dist = INT_MAX;
        for (int u = 0; u < ctx->conf->n_users; u++) {
            int dist = sw_diag_distance(names[i], ctx->conf->users[u].name);
            if (dist < best_dist) best_dist = dist, best = ctx->conf->users[u].name;
        }
        if (best && best_dist <= 2 && best_dist < (int)strlen(names[i])) {
            sw_diag_hint(&ctx->diag, "did you mean \"%s\"?", best);
        } else {
            char known[256];
            size_t used = 0;
            known[0] = '\0';
            for (int u = 0; u < ctx->conf->n_users && used < sizeof known; u++)
                used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", u ? ", " : "",
                                         ctx->conf->users[u].name);
            sw_diag_hint(&ctx->diag, "known users: %s", known);
        }
        rc = -1;
    }
    return rc;
}

static void root_cleanup(void *obj)
{
    sw_conf *c = obj;
    for (int i = 0; i < c->n_admin_users; i++) free(c->admin_users[i]);
    free(c->admin_users);
    c->admin_users = NULL;
    c->n_admin_users = 0;
    for (int i = 0; i < c->n_stats_users; i++) free(c->stats_users[i]);
    free(c->stats_users);
    c->stats_users = NULL;
    c->n_stats_users = 0;
}

/* ---- databases ----------------------------------------------------------- */

/* Only the shape here; root_check resolves the name once all nodes are in. */
static int database_set_default_node(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                                     const char *path, void *obj)
{
    const char *s;
    *AT(obj, f->offset, int) = -1;
    return sw_conf_get_string(ctx, f, v, path, &s);
}

static int root_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj)
{
    sw_conf *c = obj;
    const sw_ynode *dbs = sw_ynode_map_get(map, "databases");
    int rc = sw_conf_functions_resolve(ctx, map);
    for (int i = 0; i < c->n_databases; i++) {
        const sw_ynode *v = sw_ynode_map_get(dbs->items[i], "default_node");
        int idx = sw_conf_node_index(c, v->str);
        if (idx >= 0) {
            c->databases[i].default_node = idx;
            continue;
        }
        char known[256];
        size_t used = 0;
        for (int n = 0; n < c->n_nodes && used < sizeof known; n++)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", n ? ", " : "",
                                     c->nodes[n].name);
        char q[80];
        sw_diag_error(&ctx->diag, v->line, v->col,
                      "databases[%d].default_node names unknown node %s", i,
                      quoted(q, sizeof q, v->str, v->len));
        sw_diag_hint(&ctx->diag, "known nodes: %s", known);
        rc = -1;
    }
    if (sw_conf_tables_resolve(ctx, map) != 0) rc = -1;
    /* Nodes without timeouts of their own take the pool's. */
    const sw_ynode *nodes = sw_ynode_map_get(map, "nodes");
    for (int i = 0; i < c->n_nodes; i++) {
        const sw_ynode *n = nodes->items[i];
        if (!sw_ynode_map_get(n, "query_timeout")) c->nodes[i].query_timeout_ms = c->query_timeout_ms;
        if (!sw_ynode_map_get(n, "connect_timeout"))
            c->nodes[i].connect_timeout_ms = c->connect_timeout_ms;
    }
    if (user_list_resolve(ctx, map, "admin_users", c->admin_users, c->n_admin_users) != 0) rc = -1;
    if (user_list_resolve(ctx, map, "stats_users", c->stats_users, c->n_stats_users) != 0) rc = -1;
    return rc;
}

/* ---- freeing ------------------------------------------------------------- */

static void conf_release(const sw_conf_section *s, void *obj)
{
    for (const sw_conf_field *f = s->fields; f->key; f++) {
        switch (f->kind) {
        case SW_CONF_STR:
        case SW_CONF_IDENT:
            free(*AT(obj, f->offset, char *));
            *AT(obj, f->offset, char *) = NULL;
            break;
        case SW_CONF_SECTION:
            conf_release(f->section, obj);
            break;
        case SW_CONF_LIST: {
            char *arr = *AT(obj, f->offset, char *);
            int n = *AT(obj, f->count_offset, int);
            for (int i = 0; i < n; i++)
                conf_release(f->section, arr + (size_t)i * f->section->size);
            free(arr);
            *AT(obj, f->offset, char *) = NULL;
            *AT(obj, f->count_offset, int) = 0;
            break;
        }
        default:
            break;
        }
    }
    if (s->cleanup) s->cleanup(obj);
}

void sw_conf_free(sw_conf *c)
{
    if (!c) return;
    conf_release(&root_section, c);
    free(c->path);
    free(c);
}

/* ---- loading ------------------------------------------------------------- */

int sw_conf_load_string(const char *name, const char *yaml, size_t len, sw_conf **out, char *err,
                        size_t errsz)
{
    sw_conf_ctx ctx = {0};
    sw_ynode *root = NULL;
    sw_conf *c = NULL;

    *out = NULL;
    sw_diag_init(&ctx.diag, name, err, errsz);
    if (sw_ytree_parse(&ctx.diag, yaml, len, &root) != 0) goto fail;
    if (!root || sw_ynode_is_null(root)) {
        sw_diag_error(&ctx.diag, 1, 1, "configuration is empty");
        sw_diag_hint(&ctx.diag, "at least nodes, databases and users must be configured");
        goto fail;
    }
    if (root->kind != SW_YNODE_MAP) {
        char got[80];
        sw_conf_describe(root, got, sizeof got);
        sw_diag_error(&ctx.diag, root->line, root->col,
                      "top level must be a mapping of sections, got %s", got);
        goto fail;
    }

    c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(name))) {
        sw_diag_error(&ctx.diag, 0, 0, "out of memory");
        goto fail;
    }
    ctx.conf = c;
    if (conf_defaults(&ctx, &root_section, c) != 0) goto fail;
    if (conf_map(&ctx, &root_section, root, "", c) != 0 || ctx.diag.n_errors) goto fail;

    sw_ynode_free(root);
    *out = c;
    return 0;

fail:
    sw_conf_free(c);
    sw_ynode_free(root);
    return -1;
}

int sw_conf_load(const char *path, sw_conf **out, char *err, size_t errsz)
{
    sw_diag d;
    struct stat st;
    *out = NULL;
    sw_diag_init(&d, path, err, errsz);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sw_diag_error(&d, 0, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    memset(&st, 0, sizeof st);
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
        sw_diag_error(&d, 0, 0, "cannot read: %s", strerror(e));
        close(fd);
        return -1;
    }
    /* Size grows as read() succeeds, so pipes and /dev/fd work too. */
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            sw_diag_error(&d, 0, 0, "out of memory");
            close(fd);
            return -1;
        }
        if (len == cap) {
            if (cap >= SW_CONF_MAX_FILE) {
                sw_diag_error(&d, 0, 0, "file is larger than %d MB",
                              SW_CONF_MAX_FILE / (1024 * 1024));
                free(buf);
                close(fd);
                return -1;
            }
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) free(buf);
            buf = bigger;
            cap *= 2;
            continue;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            sw_diag_error(&d, 0, 0, "cannot read: %s", strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    int rc = sw_conf_load_string(path, buf, len, out, err, errsz);
    free(buf);
    return rc;
}

/* ---- lookups ------------------------------------------------------------- */

const sw_conf_user *sw_conf_user_find(const sw_conf *c, const char *name)
{
    for (int i = 0; i < c->n_users; i++)
        if (strcmp(c->users[i].name, name) == 0) return &c->users[i];
    return NULL;
}

const sw_conf_database *sw_conf_database_find(const sw_conf *c, const char *name)
{
    for (int i = 0; i < c->n_databases; i++)
        if (strcmp(c->databases[i].name, name) == 0) return &c->databases[i];
    return NULL;
}

int sw_conf_node_index(const sw_conf *c, const char *name)
{
    for (int i = 0; i < c->n_nodes; i++)
        if (c->nodes[i].name && strcmp(c->nodes[i].name, name) == 0) return i;
    return -1;
}

int sw_conf_function_index(const sw_conf *c, const char *name)
{
    for (int i = 0; i < c->n_functions; i++)
        if (c->functions[i].name && strcmp(c->functions[i].name, name) == 0) return i;
    return -1;
}

sw_console_access sw_conf_console_access(const sw_conf *c, const char *user)
{
    for (int i = 0; i < c->n_admin_users; i++)
        if (strcmp(c->admin_users[i], user) == 0) return SW_CONSOLE_ADMIN;
    for (int i = 0; i < c->n_stats_users; i++)
        if (strcmp(c->stats_users[i], user) == 0) return SW_CONSOLE_STATS;
    return SW_CONSOLE_NONE;
}

const char *sw_pool_mode_name(sw_pool_mode m)
{
    for (const sw_conf_enum *e = pool_modes; e->name; e++)
        if (e->value == (int)m) return e->name;
    return "unknown";
}

const char *sw_auth_method_name(sw_auth_method m)
{
    for (const sw_conf_enum *e = auth_methods; e->name; e++)
        if (e->value == (int)m) return e->name;
    return "unknown";
}
