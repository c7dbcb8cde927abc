/*
 * sharding.c - the sharding part of the configuration: the top-level
 * `functions:` list (how a key value picks a node or a physical table) and
 * each database's `tables:` list (which tables are sharded by a key, copied
 * to every node, or pinned to one node).  Both are schema tables walked by
 * conf.c like every other section; what a table cannot say lives in the
 * section checks here.
 *
 * Work is split by what is known when:
 *  - setters check the shape of one value (a name is a string, a bound a
 *    scalar) and store it;
 *  - a function's check runs once its mapping parsed cleanly, so its kind
 *    and key type are known whatever the key order: it rejects keys of other
 *    kinds, validates range bounds and list values as values of the type,
 *    finds overlaps, gaps and duplicates, and builds the targets and the
 *    bucket table;
 *  - node and function names are resolved last, from the top-level check
 *    (sw_conf_functions_resolve, sw_conf_tables_resolve), because sections
 *    may come in any order.  Names are read back from the YAML tree, which
 *    still carries their positions for messages.
 */
#include "conf_int.h"

#include "sw/shard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(sw_fn_kind) == sizeof(int), "enum fields are stored as int");
_Static_assert(sizeof(sw_key_type) == sizeof(int), "enum fields are stored as int");

#define AT(obj, off, type) ((type *)((char *)(obj) + (off)))

/* Fewer bits of milliseconds than this and an embedded function's IDs run
 * out within 17 years of its epoch. */
#define MIN_TIME_BITS 39

static const sw_conf_enum fn_kinds[] = {
    {"hash", SW_FN_HASH},           {"range", SW_FN_RANGE},       {"list", SW_FN_LIST},
    {"ring", SW_FN_RING},           {"directory", SW_FN_DIRECTORY}, {"embedded", SW_FN_EMBEDDED},
    {NULL, 0},
};

static const sw_conf_enum key_types[] = {
    {"integer", SW_KEY_INT}, {"text", SW_KEY_TEXT},           {"numeric", SW_KEY_NUMERIC},
    {"date", SW_KEY_DATE},   {"timestamp", SW_KEY_TIMESTAMP}, {NULL, 0},
};

static const char *kind_name(sw_fn_kind k)
{
    return fn_kinds[k].name;
}

/* "a hash", "an embedded". */
static const char *article(const char *word)
{
    return strchr("aeiou", word[0]) ? "an" : "a";
}

static int oom(sw_conf_ctx *ctx)
{
    sw_diag_error(&ctx->diag, 0, 0, "out of memory");
    return -1;
}

static const char *quoted(char *buf, size_t size, const char *s)
{
    sw_diag_quote(buf, size, s, strlen(s));
    return buf;
}

/* The key node of key in mapping m, for messages about the key itself. */
static const sw_ynode *map_key(const sw_ynode *m, const char *key)
{
    for (size_t i = 0; m && m->kind == SW_YNODE_MAP && i < sw_ynode_map_size(m); i++) {
        const sw_ynode *k = sw_ynode_map_key(m, i);
        if (k->len == strlen(key) && memcmp(k->str, key, k->len) == 0) return k;
    }
    return NULL;
}

/* Present and not null: "id:" with nothing under it says nothing. */
static bool has(const sw_ynode *m, const char *key)
{
    const sw_ynode *v = sw_ynode_map_get(m, key);
    return v && !sw_ynode_is_null(v);
}

/* "  hint: known nodes: a, b, c" from a name member of an array. */
static void hint_known(sw_diag *d, const char *what, const void *arr, int n, size_t stride,
                       size_t name_offset)
{
    char known[256];
    size_t used = 0;
    known[0] = '\0';
    for (int i = 0; i < n && used < sizeof known; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                 *AT((const char *)arr + (size_t)i * stride, name_offset, char *));
    if (n == 0)
        sw_diag_hint(d, "no %s are declared", what);
    else
        sw_diag_hint(d, "known %s: %s", what, known);
}

/* ---- identifiers --------------------------------------------------------- */

static bool ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
    return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* One SQL identifier at *p, as PostgreSQL stores it: "quoted" ones as
 * written (a doubled quote stands for one), unquoted ones folded to lower
 * case.  Returns a new string and advances *p, or NULL on a syntax error
 * (*nomem tells when it was memory instead). */
static char *ident_read(const char **p, bool *nomem)
{
    const char *s = *p;
    char *out = malloc(strlen(s) + 1);
    size_t n = 0;
    if (!out) {
        *nomem = true;
        return NULL;
    }
    if (*s == '"') {
        for (s++;; s++) {
            if (*s == '\0') goto bad;
            if (*s == '"') {
                if (s[1] != '"') break;
                s++;
            }
            out[n++] = *s;
        }
        s++;
        if (n == 0) goto bad;
    } else {
        if (!ident_start((unsigned char)*s)) goto bad;
        for (; ident_char((unsigned char)*s); s++)
            out[n++] = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
    }
    out[n] = '\0';
    *p = s;
    return out;
bad:
    free(out);
    return NULL;
}

static void hint_identifiers(sw_diag *d)
{
    sw_diag_hint(d, "unquoted names are folded to lower case; write '\"Name\"' to keep capitals "
                    "or other characters");
}

/* ---- setters ------------------------------------------------------------- */

/* A name resolved later (node, table, function): only its shape here; the
 * index stays -1 until the top-level check fills it. */
static int set_name(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v, const char *path,
                    void *obj)
{
    const char *s;
    *AT(obj, f->offset, int) = -1;
    return sw_conf_get_string(ctx, f, v, path, &s);
}

/* A key value kept as spelled; it is read as the function's type by the
 * function's check, which alone knows the type. */
static int scalar_value(sw_conf_ctx *ctx, const sw_ynode *v, const char *path, char **slot)
{
    char got[80];
    if (v->kind != SW_YNODE_SCALAR || sw_ynode_is_null(v)) {
        sw_conf_describe(v, got, sizeof got);
        sw_diag_error(&ctx->diag, v->line, v->col, "%s must be a value, got %s", path, got);
        return -1;
    }
    if (strlen(v->str) != v->len) {
        sw_diag_error(&ctx->diag, v->line, v->col, "%s must not contain NUL characters", path);
        return -1;
    }
    char *copy = strdup(v->str);
    if (!copy) return oom(ctx);
    free(*slot);
    *slot = copy;
    return 0;
}

/* Range bound: empty means an open end. */
static int set_bound(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v, const char *path,
                     void *obj)
{
    if (sw_ynode_is_null(v)) return 0;
    return scalar_value(ctx, v, path, AT(obj, f->offset, char *));
}

static int list_set_values(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                           const char *path, void *obj)
{
    sw_conf_list *l = obj;
    char got[80];
    if (v->kind != SW_YNODE_SEQ || v->n_items == 0) {
        sw_conf_describe(v, got, sizeof got);
        if (v->kind == SW_YNODE_SEQ)
            sw_diag_error(&ctx->diag, v->line, v->col, "%s must not be empty", path);
        else
            sw_diag_error(&ctx->diag, v->line, v->col, "%s must be a sequence of values, got %s",
                          path, got);
        sw_diag_hint(&ctx->diag, "write values: [a, b, c]");
        return -1;
    }
    l->values = calloc(v->n_items, sizeof *l->values);
    if (!l->values) return oom(ctx);
    int rc = 0;
    for (size_t i = 0; i < v->n_items; i++) {
        char ipath[192];
        snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
        if (scalar_value(ctx, v->items[i], ipath, &l->values[l->n_values]) == 0)
            l->n_values++;
        else
            rc = -1;
    }
    return rc;
}

/* A ring or hash node list entry: a name, or {node, weight}. */
typedef struct weighted_node {
    char *node;
    int weight;
} weighted_node;

static const sw_conf_field weighted_fields[] = {
    {KEY("node", SW_CONF_STR, SW_CONF_REQUIRED, weighted_node, node)},
    {KEY("weight", SW_CONF_INT, 0, weighted_node, weight), .min = 1, .max = 100},
    {.key = NULL},
};

static const sw_conf_section weighted_section = {
    .noun = "weighted node", .fields = weighted_fields, .line_offset = -1};
static const sw_conf_field weighted_field = {
    .key = "node", .kind = SW_CONF_SECTION, .section = &weighted_section};

/* nodes: fills targets and weights directly; a hash function rejects
 * weights in its check. */
static int fn_set_nodes(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                        const char *path, void *obj)
{
    sw_conf_function *fn = obj;
    char got[80];
    if (v->kind != SW_YNODE_SEQ || v->n_items == 0) {
        sw_conf_describe(v, got, sizeof got);
        if (v->kind == SW_YNODE_SEQ)
            sw_diag_error(&ctx->diag, v->line, v->col, "%s must not be empty", path);
        else
            sw_diag_error(&ctx->diag, v->line, v->col,
                          "%s must be a sequence of node names, got %s", path, got);
        sw_diag_hint(&ctx->diag, "write nodes: [shard1, shard2]");
        return -1;
    }
    fn->targets = calloc(v->n_items, sizeof *fn->targets);
    fn->weights = calloc(v->n_items, sizeof *fn->weights);
    if (!fn->targets || !fn->weights) return oom(ctx);

    int rc = 0;
    for (size_t i = 0; i < v->n_items; i++) {
        const sw_ynode *item = v->items[i];
        char ipath[192];
        snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
        weighted_node w = {.node = NULL, .weight = 1};
        const sw_ynode *at = item;
        if (item->kind == SW_YNODE_MAP) {
            if (sw_conf_value(ctx, &weighted_field, item, ipath, &w) != 0) {
                free(w.node);
                rc = -1;
                continue;
            }
            at = sw_ynode_map_get(item, "node");
        } else {
            const char *s;
            if (sw_conf_get_string(ctx, f, item, ipath, &s) != 0) {
                sw_diag_hint(&ctx->diag, "an entry is a node name or {node: NAME, weight: N}");
                rc = -1;
                continue;
            }
            if (!(w.node = strdup(s))) return oom(ctx);
        }
        int dup = -1;
        for (int t = 0; t < fn->n_targets && dup < 0; t++)
            if (strcmp(fn->targets[t], w.node) == 0) dup = t;
        if (dup >= 0) {
            char q[80];
            sw_diag_error(&ctx->diag, at->line, at->col, "%s lists node %s twice", path,
                          quoted(q, sizeof q, w.node));
            free(w.node);
            rc = -1;
            continue;
        }
        fn->targets[fn->n_targets] = w.node;
        fn->weights[fn->n_targets++] = w.weight;
    }
    return rc;
}

/* assign: entries are only shape-checked here (a throwaway parse, for the
 * walker's messages); the function's check reads them from the tree once
 * the number of buckets is known. */
typedef struct assign_entry {
    char *node;
    char *buckets;
} assign_entry;

typedef struct assign_list {
    assign_entry *entries;
    int n;
} assign_list;

static const sw_conf_field assign_fields[] = {
    {KEY("node", SW_CONF_STR, SW_CONF_REQUIRED, assign_entry, node)},
    {KEY("buckets", SW_CONF_STR, SW_CONF_REQUIRED, assign_entry, buckets)},
    {.key = NULL},
};

static const sw_conf_section assign_section = {
    .noun = "bucket assignment",
    .fields = assign_fields,
    .size = sizeof(assign_entry),
    .line_offset = -1,
};

static const sw_conf_field assign_list_field = {
    KEY("assign", SW_CONF_LIST, SW_CONF_REQUIRED, assign_list, entries),
    .section = &assign_section,
    .count_offset = offsetof(assign_list, n),
};

static int fn_set_assign(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                         const char *path, void *obj)
{
    assign_list tmp = {0};
    int rc = sw_conf_value(ctx, &assign_list_field, v, path, &tmp);
    for (int i = 0; i < tmp.n; i++) {
        free(tmp.entries[i].node);
        free(tmp.entries[i].buckets);
    }
    free(tmp.entries);
    return rc;
}

static int fn_set_epoch(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                        const char *path, void *obj)
{
    const char *s;
    char got[80];
    if (sw_conf_get_string(ctx, f, v, path, &s) != 0) return -1;
    if (sw_conf_epoch_parse(s, AT(obj, f->offset, int64_t)) == 0) return 0;
    sw_conf_describe(v, got, sizeof got);
    sw_diag_error(&ctx->diag, v->line, v->col, "%s must be a date or timestamp, got %s", path, got);
    sw_diag_hint(&ctx->diag, "write YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, in UTC unless it ends in Z "
                             "or +HH:MM");
    return -1;
}

/* Table name: "name" (any schema) or "schema.name". */
static int table_set_name(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                          const char *path, void *obj)
{
    sw_conf_table *t = obj;
    const char *s;
    char got[80];
    bool nomem = false;
    if (sw_conf_get_string(ctx, f, v, path, &s) != 0) return -1;
    const char *p = s;
    char *first = ident_read(&p, &nomem), *second = NULL;
    bool dotted = first && *p == '.';
    if (dotted) {
        p++;
        second = ident_read(&p, &nomem);
    }
    if (nomem) {
        free(first);
        free(second);
        return oom(ctx);
    }
    if (!first || (dotted && !second) || *p) {
        free(first);
        free(second);
        sw_conf_describe(v, got, sizeof got);
        sw_diag_error(&ctx->diag, v->line, v->col,
                      "%s must be a table name or schema.table, got %s", path, got);
        hint_identifiers(&ctx->diag);
        return -1;
    }
    free(t->schema);
    free(t->name);
    t->schema = second ? first : NULL;
    t->name = second ? second : first;
    return 0;
}

/* A column name (key, id.column), stored as PostgreSQL stores it. */
static int set_column(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                      const char *path, void *obj)
{
    const char *s;
    char got[80];
    bool nomem = false;
    if (sw_conf_get_string(ctx, f, v, path, &s) != 0) return -1;
    const char *p = s;
    char *col = ident_read(&p, &nomem);
    if (nomem) return oom(ctx);
    if (!col || *p) {
        free(col);
        sw_conf_describe(v, got, sizeof got);
        sw_diag_error(&ctx->diag, v->line, v->col, "%s must be a column name, got %s", path, got);
        hint_identifiers(&ctx->diag);
        return -1;
    }
    char **slot = AT(obj, f->offset, char *);
    free(*slot);
    *slot = col;
    return 0;
}

static int table_set_reference(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                               const char *path, void *obj)
{
    static const sw_conf_field as_bool = {.key = "reference", .kind = SW_CONF_BOOL};
    sw_conf_table *t = obj;
    bool yes = false;
    if (sw_conf_value(ctx, &as_bool, v, path, &yes) != 0) return -1;
    t->kind = yes ? SW_TABLE_REFERENCE : SW_TABLE_SHARDED;
    return 0;
}

/* Reference table nodes: names now, indexes from the top-level check. */
static int table_set_nodes(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                           const char *path, void *obj)
{
    sw_conf_table *t = obj;
    char got[80];
    if (v->kind != SW_YNODE_SEQ || v->n_items == 0) {
        sw_conf_describe(v, got, sizeof got);
        if (v->kind == SW_YNODE_SEQ)
            sw_diag_error(&ctx->diag, v->line, v->col, "%s must not be empty", path);
        else
            sw_diag_error(&ctx->diag, v->line, v->col,
                          "%s must be a sequence of node names, got %s", path, got);
        sw_diag_hint(&ctx->diag, "leave nodes out to copy the table to every node");
        return -1;
    }
    free(t->nodes);
    t->nodes = malloc(v->n_items * sizeof *t->nodes);
    if (!t->nodes) return oom(ctx);
    t->n_nodes = (int)v->n_items;
    int rc = 0;
    for (size_t i = 0; i < v->n_items; i++) {
        const char *s;
        char ipath[192];
        snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
        t->nodes[i] = -1;
        if (sw_conf_get_string(ctx, f, v->items[i], ipath, &s) != 0) {
            rc = -1;
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            const sw_ynode *prev = v->items[j];
            if (prev->kind == SW_YNODE_SCALAR && strcmp(prev->str, s) == 0) {
                char q[80];
                sw_diag_error(&ctx->diag, v->items[i]->line, v->items[i]->col,
                              "%s lists node %s twice", path, quoted(q, sizeof q, s));
                rc = -1;
                break;
            }
        }
    }
    return rc;
}

/* ---- range and list entries ---------------------------------------------- */

/* An entry names a node, or a physical table (optionally with the node
 * holding it: table-suffix tables may be spread over several nodes). */
static int target_entry_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path,
                              const char *noun)
{
    (void)path;
    bool node = has(map, "node"), table = has(map, "table");
    if (!node && !table) {
        sw_diag_error(&ctx->diag, map->line, map->col,
                      "%s is missing required key \"node\" or \"table\"", noun);
        return -1;
    }
    return 0;
}

static int range_entry_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj)
{
    ((sw_conf_range *)obj)->col = map->col;
    return target_entry_check(ctx, map, path, "range");
}

static int list_entry_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj)
{
    ((sw_conf_list *)obj)->col = map->col;
    return target_entry_check(ctx, map, path, "list");
}

static void range_cleanup(void *obj)
{
    sw_conf_range *r = obj;
    free(r->from);
    free(r->to);
}

static void list_cleanup(void *obj)
{
    sw_conf_list *l = obj;
    for (int i = 0; i < l->n_values; i++) free(l->values[i]);
    free(l->values);
}

static const sw_conf_field range_fields[] = {
    {KEY("from", SW_CONF_CUSTOM, 0, sw_conf_range, from), .set = set_bound},
    {KEY("to", SW_CONF_CUSTOM, 0, sw_conf_range, to), .set = set_bound},
    {KEY("node", SW_CONF_CUSTOM, 0, sw_conf_range, target), .set = set_name},
    {KEY("table", SW_CONF_CUSTOM, 0, sw_conf_range, target), .set = set_name},
    {.key = NULL},
};

static const sw_conf_section range_section = {
    .noun = "range",
    .fields = range_fields,
    .size = sizeof(sw_conf_range),
    .line_offset = (int)offsetof(sw_conf_range, line),
    .check = range_entry_check,
    .cleanup = range_cleanup,
};

static const sw_conf_field list_fields[] = {
    {KEY("node", SW_CONF_CUSTOM, 0, sw_conf_list, target), .set = set_name},
    {KEY("table", SW_CONF_CUSTOM, 0, sw_conf_list, target), .set = set_name},
    {KEY("values", SW_CONF_CUSTOM, SW_CONF_REQUIRED, sw_conf_list, values), .set = list_set_values},
    {.key = NULL},
};

static const sw_conf_section list_section = {
    .noun = "list",
    .fields = list_fields,
    .size = sizeof(sw_conf_list),
    .line_offset = (int)offsetof(sw_conf_list, line),
    .check = list_entry_check,
    .cleanup = list_cleanup,
};

/* ---- functions: targets -------------------------------------------------- */

/* Index of name among fn's targets, appended if new; -1 out of memory. */
static int target_add(sw_conf_ctx *ctx, sw_conf_function *fn, const char *name)
{
    for (int t = 0; t < fn->n_targets; t++)
        if (strcmp(fn->targets[t], name) == 0) return t;
    char **grown = realloc(fn->targets, (size_t)(fn->n_targets + 1) * sizeof *grown);
    if (!grown) return oom(ctx);
    fn->targets = grown;
    if (!(grown[fn->n_targets] = strdup(name))) return oom(ctx);
    return fn->n_targets++;
}

/* Target of range or list entry i (item), deciding on the first entry
 * whether the function's targets are nodes or tables.  -1 on error. */
static int entry_target(sw_conf_ctx *ctx, sw_conf_function *fn, const sw_ynode *item, int i,
                        const char *path, const char *list)
{
    const sw_ynode *tv = sw_ynode_map_get(item, "table");
    bool is_table = tv && !sw_ynode_is_null(tv);
    if (i == 0) {
        fn->table_targets = is_table;
    } else if (is_table != fn->table_targets) {
        const sw_ynode *k = map_key(item, is_table ? "table" : "node");
        sw_diag_error(&ctx->diag, k->line, k->col, "%s.%s[%d] names a %s, but %s[0] names a %s",
                      path, list, i, is_table ? "table" : "node", list,
                      fn->table_targets ? "table" : "node");
        sw_diag_hint(&ctx->diag, "the entries of one function all name nodes, or all name "
                                 "physical tables (table-suffix sharding)");
        return -1;
    }
    return target_add(ctx, fn, sw_ynode_map_get(item, is_table ? "table" : "node")->str);
}

/* default: a target of its own, of the same sort as the entries'. */
static int default_target(sw_conf_ctx *ctx, sw_conf_function *fn, const sw_ynode *map)
{
    const sw_ynode *v = sw_ynode_map_get(map, "default");
    fn->default_target = -1;
    if (!v) return 0;
    fn->default_target = target_add(ctx, fn, v->str);
    return fn->default_target < 0 ? -1 : 0;
}

static int targets_finish(sw_conf_ctx *ctx, sw_conf_function *fn)
{
    fn->target_node = malloc((size_t)(fn->n_targets ? fn->n_targets : 1) * sizeof *fn->target_node);
    if (!fn->target_node) return oom(ctx);
    for (int t = 0; t < fn->n_targets; t++) fn->target_node[t] = -1;
    return 0;
}

/* ---- functions: values of the key type ----------------------------------- */

/* A value for messages: text quoted, others as spelled (capped). */
static void show_value(char *buf, size_t size, sw_key_type type, const char *s)
{
    if (type == SW_KEY_TEXT)
        sw_diag_quote(buf, size, s, strlen(s));
    else if (strlen(s) > 40)
        snprintf(buf, size, "%.40s...", s);
    else
        snprintf(buf, size, "%s", s);
}

/* Read v as fn's key type, or say which type it fails to be. */
static int read_value(sw_conf_ctx *ctx, const sw_conf_function *fn, const sw_ynode *v,
                      const char *path, sw_conf_key *k)
{
    static const char *const as[] = {"an integer", "text", "a number", "a date", "a timestamp"};
    static const char *const how[] = {
        "whole numbers from -9223372036854775808 to 9223372036854775807",
        "any text",
        "decimals like -12.50, without exponent",
        "YYYY-MM-DD",
        "YYYY-MM-DD[ HH:MM[:SS[.ffffff]]], in UTC unless it ends in Z or +HH:MM",
    };
    if (sw_conf_key_parse(fn->type, v->str, v->len, k) == 0) return 0;
    char got[80], q[80];
    sw_conf_describe(v, got, sizeof got);
    sw_diag_error(&ctx->diag, v->line, v->col, "%s must be %s, got %s", path, as[fn->type], got);
    sw_diag_hint(&ctx->diag, "function %s has type %s: write %s", quoted(q, sizeof q, fn->name),
                 key_types[fn->type].name, how[fn->type]);
    return -1;
}

/* ---- functions: per kind ------------------------------------------------- */

/* nodes: buckets go to the nodes evenly in list order. */
static int hash_even(sw_conf_ctx *ctx, sw_conf_function *fn, const sw_ynode *map,
                     const char *path)
{
    const sw_ynode *seq = sw_ynode_map_get(map, "nodes");
    int rc = 0;
    for (size_t i = 0; i < seq->n_items; i++) {
        const sw_ynode *k = map_key(seq->items[i], "weight");
        if (!k) continue;
        sw_diag_error(&ctx->diag, k->line, k->col,
                      "%s.nodes[%zu].weight does not apply to a hash function", path, i);
        sw_diag_hint(&ctx->diag, "buckets are spread evenly over the nodes; use assign: to give "
                                 "a node more of them");
        rc = -1;
    }
    if (rc) return rc;
    if (fn->n_targets > fn->buckets) {
        sw_diag_error(&ctx->diag, seq->line, seq->col,
                      "%s.nodes lists %d nodes, more than the function's %d buckets", path,
                      fn->n_targets, fn->buckets);
        sw_diag_hint(&ctx->diag, "every node needs at least one bucket; raise buckets");
        return -1;
    }
    free(fn->weights);
    fn->weights = NULL;
    fn->bucket_target = malloc((size_t)fn->buckets * sizeof *fn->bucket_target);
    if (!fn->bucket_target) return oom(ctx);
    for (int b = 0; b < fn->buckets; b++)
        fn->bucket_target[b] = (int)((int64_t)b * fn->n_targets / fn->buckets);
    return 0;
}

/* A bucket number at *p, blanks around it skipped.  Capped so that a long
 * number reads as out of range rather than overflowing. */
static bool read_bucket(const char **p, long *out)
{
    const char *s = *p;
    long v = 0;
    while (*s == ' ') s++;
    if (*s < '0' || *s > '9') return false;
    for (; *s >= '0' && *s <= '9'; s++)
        if (v < 10000000) v = v * 10 + (*s - '0');
    while (*s == ' ') s++;
    *out = v;
    *p = s;
    return true;
}

/* Next "N" or "N-M" of a comma-separated bucket list at *p: 1 with the
 * span, 0 at the end, -1 on a syntax error or a reversed span. */
static int next_span(const char **p, long *lo, long *hi, bool first)
{
    const char *s = *p;
    while (*s == ' ') s++;
    if (*s == '\0') return first ? -1 : 0;
    if (!first && *s++ != ',') return -1;
    if (!read_bucket(&s, lo)) return -1;
    *hi = *lo;
    if (*s == '-') {
        s++;
        if (!read_bucket(&s, hi)) return -1;
    }
    *p = s;
    return *lo <= *hi ? 1 : -1;
}

/* "7" or "4-6, 9" for the buckets no entry took, capped. */
static void unassigned_text(const int *owner, int n, char *buf, size_t size, int *count)
{
    size_t used = 0;
    int spans = 0;
    *count = 0;
    buf[0] = '\0';
    for (int b = 0; b < n; b++) {
        if (owner[b] >= 0) continue;
        int e = b;
        while (e + 1 < n && owner[e + 1] < 0) e++;
        *count += e - b + 1;
        if (spans++ == 8) {
            if (used < size) snprintf(buf + used, size - used, ", ...");
            used = size;
        } else if (used < size) {
            const char *sep = spans > 1 ? ", " : "";
            if (e == b)
                used += (size_t)snprintf(buf + used, size - used, "%s%d", sep, b);
            else
                used += (size_t)snprintf(buf + used, size - used, "%s%d-%d", sep, b, e);
        }
        b = e;
    }
}

/* assign: every bucket exactly once, targets in order of first mention. */
static int hash_assign(sw_conf_ctx *ctx, sw_conf_function *fn, const sw_ynode *map,
                       const char *path)
{
    const sw_ynode *seq = sw_ynode_map_get(map, "assign");
    int n = fn->buckets, rc = 0;
    int *owner = malloc((size_t)n * sizeof *owner);
    fn->bucket_target = malloc((size_t)n * sizeof *fn->bucket_target);
    if (!owner || !fn->bucket_target) {
        free(owner);
        return oom(ctx);
    }
    for (int b = 0; b < n; b++) owner[b] = fn->bucket_target[b] = -1;

    for (size_t i = 0; i < seq->n_items; i++) {
        const sw_ynode *item = seq->items[i];
        const sw_ynode *bv = sw_ynode_map_get(item, "buckets");
        int t = target_add(ctx, fn, sw_ynode_map_get(item, "node")->str);
        if (t < 0) {
            free(owner);
            return -1;
        }
        const char *p = bv->str;
        long lo, hi;
        int st;
        bool reported = false;
        for (bool first = true; (st = next_span(&p, &lo, &hi, first)) > 0; first = false) {
            if (hi >= n) {
                sw_diag_error(&ctx->diag, bv->line, bv->col,
                              "%s.assign[%zu].buckets names bucket %ld, but the function has %d "
                              "buckets (0-%d)",
                              path, i, hi, n, n - 1);
                reported = true;
                break;
            }
            for (long b = lo; b <= hi; b++) {
                if (owner[b] >= 0 && !reported) {
                    sw_diag_error(&ctx->diag, bv->line, bv->col,
                                  "%s.assign[%zu] assigns bucket %ld again: assign[%d] at line %d "
                                  "already has it",
                                  path, i, b, owner[b], seq->items[owner[b]]->line);
                    reported = true;
                }
                if (owner[b] < 0) {
                    owner[b] = (int)i;
                    fn->bucket_target[b] = t;
                }
            }
        }
        if (st < 0 && !reported) {
            char got[80];
            sw_conf_describe(bv, got, sizeof got);
            sw_diag_error(&ctx->diag, bv->line, bv->col,
                          "%s.assign[%zu].buckets must list buckets like \"7\" or \"0-3, 8\", got "
                          "%s",
                          path, i, got);
            sw_diag_hint(&ctx->diag, "give single buckets or ranges from low to high, separated "
                                     "by commas");
            reported = true;
        }
        if (reported) rc = -1;
    }
    if (rc == 0) {
        char missing[160];
        int count;
        unassigned_text(owner, n, missing, sizeof missing, &count);
        if (count) {
            const sw_ynode *k = map_key(map, "assign");
            sw_diag_error(&ctx->diag, k->line, k->col, "%s.assign leaves bucket%s %s unassigned",
                          path, count == 1 ? "" : "s", missing);
            sw_diag_hint(&ctx->diag, "every bucket from 0 to %d goes to exactly one node", n - 1);
            rc = -1;
        }
    }
    free(owner);
    return rc;
}

static int hash_check(sw_conf_ctx *ctx, sw_conf_function *fn, const sw_ynode *map,
                      const char *path)
{
    if (fn->buckets & (fn->buckets - 1)) {
        const sw_ynode *v = sw_ynode_map_get(map, "buckets");
        char got[80];
        int below = 1;
        while (below * 2 < fn->buckets) below *= 2;
        sw_conf_describe(v, got, sizeof got);
        sw_diag_error(&ctx->diag, v->line, v->col, "%s.buckets must be a power of two, got %s",
                      path, got);
        sw_diag_hint(&ctx->diag, "the nearest are %d and %d", below, below * 2);
        return -1;
    }
    return sw_ynode_map_get(map, "nodes") ? hash_even(ctx, fn, map, path)
                                          : hash_assign(ctx, fn, map, path);
}

typedef struct span {
    sw_conf_key from, to;
    bool lo_open, hi_open;
    int idx;
} span;

/* By lower bound (open first), then upper (open last), then file order. */
static int span_cmp(const void *pa, const void *pb)
{
    const span *a = pa, *b = pb;
    int c;
    if (a->lo_open != b->lo_open) return a->lo_open ? -1 : 1;
    if (!a->lo_open && (c = sw_conf_key_cmp(&a->from, &b->from))) return c;
    if (a->hi_open != b->hi_open) return a->hi_open ? 1 : -1;
    if (!a->hi_open && (c = sw_conf_key_cmp(&a->to, &b->to))) return c;
    return a->idx - b->idx;
}

/* "[10, 101)", "[-inf, 2024-01-01)". */
static void show_range(char *buf, size_t size, const sw_conf_function *fn, const sw_conf_range *r)
{
    char lo[64], hi[64];
    if (r->from)
        show_value(lo, sizeof lo, fn->type, r->from);
    else
        snprintf(lo, sizeof lo, "-inf");
    if (r->to)
        show_value(hi, sizeof hi, fn->type, r->to);
    else
        snprintf(hi, sizeof hi, "+inf");
    snprintf(buf, size, "[%s, %s)", lo, hi);
}

/* Overlaps always, gaps unless a default catches what falls in them;
 * values below the first or above the last range are no gap: they find no
 * target at run time. */
static int range_sweep(sw_conf_ctx *ctx, const sw_conf_function *fn, span *sp, const char *path)
{
    int rc = 0;
    qsort(sp, (size_t)fn->n_ranges, sizeof *sp, span_cmp);
    const span *reach = &sp[0]; /* the range reaching highest so far */
    for (int k = 1; k < fn->n_ranges; k++) {
        const span *cur = &sp[k];
        int c = reach->hi_open || cur->lo_open ? 1 : sw_conf_key_cmp(&reach->to, &cur->from);
        const span *early = reach->idx < cur->idx ? reach : cur;
        const span *late = reach->idx < cur->idx ? cur : reach;
        const sw_conf_range *re = &fn->ranges[early->idx], *rl = &fn->ranges[late->idx];
        char a[140], b[140];
        if (c > 0) {
            show_range(a, sizeof a, fn, rl);
            show_range(b, sizeof b, fn, re);
            sw_diag_error(&ctx->diag, rl->line, rl->col,
                          "%s.ranges[%d] %s overlaps ranges[%d] %s at line %d", path, late->idx,
                          a, early->idx, b, re->line);
            rc = -1;
        } else if (c < 0 && fn->default_target < 0) {
            show_value(a, sizeof a, fn->type, fn->ranges[reach->idx].to);
            show_value(b, sizeof b, fn->type, fn->ranges[cur->idx].from);
            sw_diag_error(&ctx->diag, rl->line, rl->col,
                          "%s.ranges leave a gap [%s, %s) between ranges[%d] at line %d and "
                          "ranges[%d] at line %d",
                          path, a, b, reach->idx, fn->ranges[reach->idx].line, cur->idx,
                          fn->ranges[cur->idx].line);
            sw_diag_hint(&ctx->diag, "extend a range to close it, or add default: with a %s for "
                                     "values that match no range",
                         fn->table_targets ? "table" : "node");
            rc = -1;
        }
        if (!reach->hi_open && (cur->hi_open || sw_conf_key_cmp(&cur->to, &reach->to) > 0))
            reach = cur;
    }
    return rc;
}

static int range_check(sw_conf_ctx *ctx, sw_conf_function *fn, const sw_ynode *map,
                       const char *path)
{
    const sw_ynode *seq = sw_ynode_map_get(map, "ranges");
    int before = ctx->diag.n_errors;
    for (int i = 0; i < fn->n_ranges; i++) {
        int t = entry_target(ctx, fn, seq->items[i], i, path, "ranges");
        if (t < 0) return -1;
        fn->ranges[i].target = t;
    }
    if (default_target(ctx, fn, map) != 0) return -1;

    span *sp = calloc((size_t)fn->n_ranges, sizeof *sp);
    if (!sp) return oom(ctx);
    for (int i = 0; i < fn->n_ranges; i++) {
        const sw_conf_range *r = &fn->ranges[i];
        const sw_ynode *item = seq->items[i];
        char bpath[192];
        sp[i].idx = i;
        sp[i].lo_open = !r->from;
        sp[i].hi_open = !r->to;
        if (r->from) {
            snprintf(bpath, sizeof bpath, "%s.ranges[%d].from", path, i);
            read_value(ctx, fn, sw_ynode_map_get(item, "from"), bpath, &sp[i].from);
        }
        if (r->to) {
            snprintf(bpath, sizeof bpath, "%s.ranges[%d].to", path, i);
            read_value(ctx, fn, sw_ynode_map_get(item, "to"), bpath, &sp[i].to);
        }
    }
    for (int i = 0; i < fn->n_ranges && ctx->diag.n_errors == before; i++) {
        if (sp[i].lo_open || sp[i].hi_open || sw_conf_key_cmp(&sp[i].from, &sp[i].to) < 0)
            continue;
        char r[140];
        show_range(r, sizeof r, fn, &fn->ranges[i]);
        sw_diag_error(&ctx->diag, fn->ranges[i].line, fn->ranges[i].col,
                      "%s.ranges[%d] %s is empty: from must be below to", path, i, r);
        sw_diag_hint(&ctx->diag, "ranges are half-open: [from, to) holds from but not to");
    }
    int rc = ctx->diag.n_errors == before ? range_sweep(ctx, fn, sp, path) : -1;
    free(sp);
    return rc;
}

typedef struct listed {
    sw_conf_key key;
    int pos;     /* in file order over all entries' values */
    int first;   /* pos of the first equal value */
} listed;

static int listed_cmp(const void *pa, const void *pb)
{
    const listed *a = pa, *b = pb;
    int c = sw_conf_key_cmp(&a->key, &b->key);
    return c ? c : a->pos - b->pos;
}

static int list_check(sw_conf_ctx *ctx, sw_conf_function *fn, const sw_ynode *map,
                      const char *path)
{
    const sw_ynode *seq = sw_ynode_map_get(map, "lists");
    int before = ctx->diag.n_errors;
    for (int i = 0; i < fn->n_lists; i++) {
        int t = entry_target(ctx, fn, seq->items[i], i, path, "lists");
        if (t < 0) return -1;
        fn->lists[i].target = t;
    }
    if (default_target(ctx, fn, map) != 0) return -1;

    int total = 0;
    for (int i = 0; i < fn->n_lists; i++) total += fn->lists[i].n_values;
    listed *vals = calloc((size_t)total, sizeof *vals);
    int *first = malloc((size_t)total * sizeof *first);
    int *entry = malloc((size_t)total * sizeof *entry);
    const sw_ynode **at = malloc((size_t)total * sizeof *at);
    if (!vals || !first || !entry || !at) {
        free(vals);
        free(first);
        free(entry);
        free(at);
        return oom(ctx);
    }
    int pos = 0;
    for (int i = 0; i < fn->n_lists; i++) {
        const sw_ynode *vs = sw_ynode_map_get(seq->items[i], "values");
        for (int j = 0; j < fn->lists[i].n_values; j++, pos++) {
            at[pos] = vs->items[j];
            entry[pos] = i;
            char vpath[192];
            snprintf(vpath, sizeof vpath, "%s.lists[%d].values[%d]", path, i, j);
            vals[pos].pos = pos;
            read_value(ctx, fn, at[pos], vpath, &vals[pos].key);
        }
    }
    if (ctx->diag.n_errors == before) {
        /* Sorted, equal values sit together with the earliest first; the
         * later ones are reported in file order. */
        qsort(vals, (size_t)total, sizeof *vals, listed_cmp);
        for (int k = 0; k < total; k++) {
            bool same = k > 0 && sw_conf_key_cmp(&vals[k - 1].key, &vals[k].key) == 0;
            vals[k].first = same ? vals[k - 1].first : vals[k].pos;
            first[vals[k].pos] = vals[k].first;
        }
        pos = 0;
        for (int i = 0; i < fn->n_lists; i++) {
            for (int j = 0; j < fn->lists[i].n_values; j++, pos++) {
                if (first[pos] == pos) continue;
                char q[80];
                sw_diag_error(&ctx->diag, at[pos]->line, at[pos]->col,
                              "%s.lists[%d].values[%d] %s is already listed in lists[%d] at "
                              "line %d",
                              path, i, j, quoted(q, sizeof q, fn->lists[i].values[j]),
                              entry[first[pos]], at[first[pos]]->line);
            }
        }
    }
    free(vals);
    free(first);
    free(entry);
    free(at);
    return ctx->diag.n_errors == before ? 0 : -1;
}

static int directory_check(sw_conf_ctx *ctx, sw_conf_function *fn, const sw_ynode *map,
                           const char *path)
{
    for (const char *p = fn->dir_query; (p = strstr(p, "$1")); p++)
        if (p[2] < '0' || p[2] > '9') return 0;
    const sw_ynode *v = sw_ynode_map_get(map, "query");
    sw_diag_error(&ctx->diag, v->line, v->col, "%s.query must use $1 for the key", path);
    sw_diag_hint(&ctx->diag,
                 "for example: SELECT node FROM shard_directory WHERE customer_id = $1");
    return -1;
}

/* ---- functions: the section ---------------------------------------------- */

#define K_HASH (1u << SW_FN_HASH)
#define K_RANGE (1u << SW_FN_RANGE)
#define K_LIST (1u << SW_FN_LIST)
#define K_RING (1u << SW_FN_RING)
#define K_DIR (1u << SW_FN_DIRECTORY)
#define K_EMB (1u << SW_FN_EMBEDDED)
#define K_ALL (K_HASH | K_RANGE | K_LIST | K_RING | K_DIR | K_EMB)

/* Which kinds each key belongs to; the order is that of the hints. */
static const struct fn_key {
    const char *key;
    unsigned kinds;
} fn_keys[] = {
    {"name", K_ALL},
    {"kind", K_ALL},
    {"type", K_ALL & ~K_EMB}, /* embedded IDs are integers */
    {"buckets", K_HASH},
    {"nodes", K_HASH | K_RING},
    {"assign", K_HASH},
    {"ranges", K_RANGE},
    {"lists", K_LIST},
    {"default", K_RANGE | K_LIST},
    {"vnodes", K_RING},
    {"node", K_DIR},
    {"query", K_DIR},
    {"cache_ttl", K_DIR},
    {"cache_size", K_DIR},
    {"source", K_EMB},
    {"seq_bits", K_EMB},
    {"epoch", K_EMB},
};

static int keys_of_kind(sw_conf_ctx *ctx, const sw_conf_function *fn, const sw_ynode *map,
                        const char *path)
{
    unsigned bit = 1u << fn->kind;
    int rc = 0;
    for (size_t i = 0; i < sw_ynode_map_size(map); i++) {
        const sw_ynode *k = sw_ynode_map_key(map, i);
        for (size_t j = 0; j < sizeof fn_keys / sizeof fn_keys[0]; j++) {
            if (strcmp(fn_keys[j].key, k->str) != 0 || (fn_keys[j].kinds & bit)) continue;
            const char *kind = kind_name(fn->kind);
            char takes[200];
            size_t used = 0;
            for (size_t o = 0; o < sizeof fn_keys / sizeof fn_keys[0]; o++)
                if (fn_keys[o].kinds & bit)
                    used += (size_t)snprintf(takes + used, sizeof takes - used, "%s%s",
                                             used ? ", " : "", fn_keys[o].key);
            sw_diag_error(&ctx->diag, k->line, k->col, "%s.%s does not apply to %s %s function",
                          path, k->str, article(kind), kind);
            sw_diag_hint(&ctx->diag, "%s %s function takes %s", article(kind), kind, takes);
            rc = -1;
        }
    }
    return rc;
}

static int require(sw_conf_ctx *ctx, const sw_conf_function *fn, const sw_ynode *map,
                   const char *path, const char *key)
{
    const sw_ynode *v = sw_ynode_map_get(map, key);
    char q[80];
    if (!v) {
        sw_diag_error(&ctx->diag, map->line, map->col,
                      "%s function %s is missing required key \"%s\"", kind_name(fn->kind),
                      quoted(q, sizeof q, fn->name), key);
        return -1;
    }
    if (v->kind == SW_YNODE_SEQ ? v->n_items == 0 : sw_ynode_is_null(v)) {
        sw_diag_error(&ctx->diag, v->line, v->col, "%s.%s must not be empty", path, key);
        return -1;
    }
    return 0;
}

static int required_keys(sw_conf_ctx *ctx, const sw_conf_function *fn, const sw_ynode *map,
                         const char *path)
{
    char q[80];
    switch (fn->kind) {
    case SW_FN_HASH: {
        bool nodes = sw_ynode_map_get(map, "nodes"), assign = sw_ynode_map_get(map, "assign");
        if (nodes && assign) {
            const sw_ynode *k = map_key(map, "assign");
            sw_diag_error(&ctx->diag, k->line, k->col, "%s has both nodes and assign", path);
            sw_diag_hint(&ctx->diag, "nodes spreads the buckets evenly in list order, assign "
                                     "gives them out explicitly; keep one");
            return -1;
        }
        if (nodes || assign) return 0;
        sw_diag_error(&ctx->diag, map->line, map->col,
                      "hash function %s is missing required key \"nodes\" or \"assign\"",
                      quoted(q, sizeof q, fn->name));
        return -1;
    }
    case SW_FN_RANGE:
        return require(ctx, fn, map, path, "ranges");
    case SW_FN_LIST:
        return require(ctx, fn, map, path, "lists");
    case SW_FN_RING:
        return require(ctx, fn, map, path, "nodes");
    case SW_FN_DIRECTORY: {
        int rc = require(ctx, fn, map, path, "node");
        return require(ctx, fn, map, path, "query") ? -1 : rc;
    }
    case SW_FN_EMBEDDED:
        return require(ctx, fn, map, path, "source");
    }
    return -1;
}

static int function_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj)
{
    sw_conf_function *fn = obj;
    fn->col = map->col;
    fn->default_target = -1;
    fn->dir_node = -1;
    fn->source = -1;
    if (keys_of_kind(ctx, fn, map, path) != 0) return -1;
    if (required_keys(ctx, fn, map, path) != 0) return -1;
    int rc = 0;
    switch (fn->kind) {
    case SW_FN_HASH:
        rc = hash_check(ctx, fn, map, path);
        break;
    case SW_FN_RANGE:
        rc = range_check(ctx, fn, map, path);
        break;
    case SW_FN_LIST:
        rc = list_check(ctx, fn, map, path);
        break;
    case SW_FN_RING:
        break;
    case SW_FN_DIRECTORY:
        return directory_check(ctx, fn, map, path);
    case SW_FN_EMBEDDED:
        fn->type = SW_KEY_INT;
        return 0;
    }
    /* Directory and embedded targets are filled once all nodes and
     * functions are known. */
    return rc ? rc : targets_finish(ctx, fn);
}

static void function_cleanup(void *obj)
{
    sw_conf_function *fn = obj;
    for (int t = 0; t < fn->n_targets; t++) free(fn->targets[t]);
    free(fn->targets);
    free(fn->target_node);
    free(fn->bucket_target);
    free(fn->weights);
    fn->targets = NULL;
    fn->target_node = fn->bucket_target = fn->weights = NULL;
    fn->n_targets = 0;
}

static const sw_conf_field function_fields[] = {
    {KEY("name", SW_CONF_IDENT, SW_CONF_REQUIRED | SW_CONF_UNIQUE, sw_conf_function, name)},
    {KEY("kind", SW_CONF_ENUM, SW_CONF_REQUIRED, sw_conf_function, kind), .names = fn_kinds},
    {KEY("type", SW_CONF_ENUM, 0, sw_conf_function, type), .def = "integer", .names = key_types},
    {KEY("buckets", SW_CONF_INT, 0, sw_conf_function, buckets), .def = "1024", .min = 1,
     .max = 65536},
    {KEY("nodes", SW_CONF_CUSTOM, 0, sw_conf_function, targets), .set = fn_set_nodes},
    {KEY("assign", SW_CONF_CUSTOM, 0, sw_conf_function, bucket_target), .set = fn_set_assign},
    {KEY("ranges", SW_CONF_LIST, 0, sw_conf_function, ranges), .section = &range_section,
     .count_offset = offsetof(sw_conf_function, n_ranges)},
    {KEY("lists", SW_CONF_LIST, 0, sw_conf_function, lists), .section = &list_section,
     .count_offset = offsetof(sw_conf_function, n_lists)},
    {KEY("default", SW_CONF_CUSTOM, 0, sw_conf_function, default_target), .set = set_name},
    {KEY("vnodes", SW_CONF_INT, 0, sw_conf_function, vnodes), .def = "160", .min = 1,
     .max = 1000},
    {KEY("node", SW_CONF_CUSTOM, 0, sw_conf_function, dir_node), .set = set_name},
    {KEY("query", SW_CONF_STR, 0, sw_conf_function, dir_query)},
    {KEY("cache_ttl", SW_CONF_DURATION, 0, sw_conf_function, cache_ttl_ms), .def = "60s",
     .min = 0, .max = SW_MAX_DURATION_MS},
    {KEY("cache_size", SW_CONF_INT, 0, sw_conf_function, cache_size), .def = "100000", .min = 0,
     .max = 100000000},
    {KEY("source", SW_CONF_CUSTOM, 0, sw_conf_function, source), .set = set_name},
    {KEY("seq_bits", SW_CONF_INT, 0, sw_conf_function, seq_bits), .def = "12", .min = 0,
     .max = 20},
    {KEY("epoch", SW_CONF_CUSTOM, 0, sw_conf_function, epoch_ms), .def = "2024-01-01",
     .set = fn_set_epoch},
    {.key = NULL},
};

const sw_conf_section sw_conf_function_section = {
    .noun = "function",
    .fields = function_fields,
    .size = sizeof(sw_conf_function),
    .line_offset = (int)offsetof(sw_conf_function, line),
    .check = function_check,
    .cleanup = function_cleanup,
};

/* ---- tables: the section ------------------------------------------------- */

static const sw_conf_field id_fields[] = {
    {KEY("column", SW_CONF_CUSTOM, SW_CONF_REQUIRED, sw_conf_table, id_column), .set = set_column},
    {KEY("function", SW_CONF_CUSTOM, SW_CONF_REQUIRED, sw_conf_table, id_function),
     .set = set_name},
    {.key = NULL},
};

static const sw_conf_section id_section = {.noun = "id", .fields = id_fields, .line_offset = -1};

static int table_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj)
{
    sw_conf_table *t = obj;
    bool ref = t->kind == SW_TABLE_REFERENCE, key = has(map, "key"), fn = has(map, "function"),
         node = has(map, "node"), nodes = has(map, "nodes"), id = has(map, "id");
    char q[80];
    const sw_ynode *k;
    int before = ctx->diag.n_errors;
    t->col = map->col;
    t->function = t->node = t->id_function = -1;
    quoted(q, sizeof q, sw_ynode_map_get(map, "name")->str);

    if (ref && (key || fn)) {
        k = map_key(map, key ? "key" : "function");
        sw_diag_error(&ctx->diag, k->line, k->col, "table %s has both reference and %s", q, k->str);
        sw_diag_hint(&ctx->diag, "a reference table is copied whole to every node, a sharded one "
                                 "is spread by its key; keep one");
    }
    if (ref && node) {
        k = map_key(map, "node");
        sw_diag_error(&ctx->diag, k->line, k->col, "table %s has both reference and node", q);
        sw_diag_hint(&ctx->diag, "a reference table is copied to every node, or to those listed "
                                 "in nodes: [...]");
    }
    if (nodes && !ref) {
        k = map_key(map, "nodes");
        sw_diag_error(&ctx->diag, k->line, k->col, "%s.nodes applies only to reference tables",
                      path);
        sw_diag_hint(&ctx->diag, "add reference: true, or use node: to keep the table on one "
                                 "node");
    }
    if (!ref && key && !fn) {
        sw_diag_error(&ctx->diag, map->line, map->col, "table %s has key but no function", q);
        sw_diag_hint(&ctx->diag, "add function: with the sharding function for column %s",
                     t->key);
    }
    if (!ref && fn && !key) {
        sw_diag_error(&ctx->diag, map->line, map->col, "table %s has function but no key", q);
        sw_diag_hint(&ctx->diag, "add key: with the column the function reads");
    }
    if (id && (ref || !key || !fn) && ctx->diag.n_errors == before) {
        k = map_key(map, "id");
        sw_diag_error(&ctx->diag, k->line, k->col, "%s.id needs a sharded table", path);
        sw_diag_hint(&ctx->diag, "IDs are made from the key of a table with key and function");
    }
    if (!ref && !key && !fn && !node && ctx->diag.n_errors == before) {
        sw_diag_error(&ctx->diag, map->line, map->col, "table %s has no key, reference or node", q);
        sw_diag_hint(&ctx->diag, "give key and function to shard it, reference: true to copy it "
                                 "to every node, or node to keep it on one; unlisted tables live "
                                 "on the database's default node");
    }
    t->kind = ref ? SW_TABLE_REFERENCE : key ? SW_TABLE_SHARDED : SW_TABLE_PINNED;
    return ctx->diag.n_errors == before ? 0 : -1;
}

static void table_cleanup(void *obj)
{
    sw_conf_table *t = obj;
    free(t->schema);
    free(t->name);
    free(t->key);
    free(t->nodes);
    free(t->id_column);
}

static const sw_conf_field table_fields[] = {
    {KEY("name", SW_CONF_CUSTOM, SW_CONF_REQUIRED, sw_conf_table, name), .set = table_set_name},
    {KEY("key", SW_CONF_CUSTOM, 0, sw_conf_table, key), .set = set_column},
    {KEY("function", SW_CONF_CUSTOM, 0, sw_conf_table, function), .set = set_name},
    {KEY("node", SW_CONF_CUSTOM, 0, sw_conf_table, node), .set = set_name},
    {KEY("reference", SW_CONF_CUSTOM, 0, sw_conf_table, kind), .set = table_set_reference},
    {KEY("nodes", SW_CONF_CUSTOM, 0, sw_conf_table, nodes), .set = table_set_nodes},
    {.key = "id", .kind = SW_CONF_SECTION, .section = &id_section},
    {.key = NULL},
};

const sw_conf_section sw_conf_table_section = {
    .noun = "table",
    .fields = table_fields,
    .size = sizeof(sw_conf_table),
    .line_offset = (int)offsetof(sw_conf_table, line),
    .check = table_check,
    .cleanup = table_cleanup,
};

/* Two entries clash when a reference to one could mean the other: same
 * name, and the same schema or no schema on either side. */
int sw_conf_database_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj)
{
    const sw_conf_database *db = obj;
    const sw_ynode *seq = sw_ynode_map_get(map, "tables");
    int rc = 0;
    for (int i = 1; i < db->n_tables; i++) {
        const sw_conf_table *t = &db->tables[i];
        for (int j = 0; j < i; j++) {
            const sw_conf_table *u = &db->tables[j];
            if (strcmp(t->name, u->name) != 0) continue;
            bool same = (!t->schema && !u->schema) ||
                        (t->schema && u->schema && strcmp(t->schema, u->schema) == 0);
            if (!same && t->schema && u->schema) continue;
            const sw_ynode *at = sw_ynode_map_get(seq->items[i], "name");
            const sw_ynode *first = sw_ynode_map_get(seq->items[j], "name");
            char q[80], q2[80];
            quoted(q, sizeof q, at->str);
            if (same) {
                sw_diag_error(&ctx->diag, at->line, at->col,
                              "duplicate table name %s, first defined at line %d", q, first->line);
            } else {
                sw_diag_error(&ctx->diag, at->line, at->col,
                              "table %s clashes with %s at line %d", q,
                              quoted(q2, sizeof q2, first->str), first->line);
                sw_diag_hint(&ctx->diag, "a name without schema matches the table in every "
                                         "schema; qualify both, or keep one");
            }
            rc = -1;
            break;
        }
    }
    return rc;
}

/* ---- resolving names ----------------------------------------------------- */

/* Node named by v (at path) for fn: fills the target's node, reports an
 * unknown name once per function.  Returns the node index or -1. */
static int node_ref(sw_conf_ctx *ctx, sw_conf_function *fn, const sw_ynode *v, const char *path,
                    int target)
{
    const sw_conf *c = ctx->conf;
    if (target >= 0 && fn->target_node[target] != -1)
        return fn->target_node[target] >= 0 ? fn->target_node[target] : -1;
    int idx = sw_conf_node_index(c, v->str);
    if (target >= 0) fn->target_node[target] = idx >= 0 ? idx : -2; /* -2: reported */
    if (idx >= 0) return idx;
    char q[80];
    sw_diag_error(&ctx->diag, v->line, v->col, "%s names unknown node %s", path,
                  quoted(q, sizeof q, v->str));
    hint_known(&ctx->diag, "nodes", c->nodes, c->n_nodes, sizeof *c->nodes,
               offsetof(sw_conf_node, name));
    return -1;
}

static int target_of(const sw_conf_function *fn, const char *name)
{
    for (int t = 0; t < fn->n_targets; t++)
        if (strcmp(fn->targets[t], name) == 0) return t;
    return -1;
}

/* Nodes named by a table-suffix function's entries: a physical table
 * without one lives on the node of the table using the function. */
static int resolve_table_nodes(sw_conf_ctx *ctx, sw_conf_function *fn, const sw_ynode *seq,
                               const char *path, const char *list)
{
    char rpath[192], q[80], q2[80], q3[80];
    int rc = 0;
    for (size_t i = 0; fn->target_node && i < seq->n_items; i++) {
        const sw_ynode *v = sw_ynode_map_get(seq->items[i], "node");
        if (!v) continue;
        int t = target_of(fn, sw_ynode_map_get(seq->items[i], "table")->str);
        int before = t >= 0 ? fn->target_node[t] : -1;
        snprintf(rpath, sizeof rpath, "%s.%s[%zu].node", path, list, i);
        int idx = node_ref(ctx, fn, v, rpath, before == -1 ? t : -1);
        if (idx < 0) {
            rc = -1;
        } else if (before >= 0 && before != idx) {
            sw_diag_error(&ctx->diag, v->line, v->col, "%s puts physical table %s on node %s, "
                          "but an earlier entry put it on %s", rpath,
                          quoted(q, sizeof q, fn->targets[t]), quoted(q3, sizeof q3, v->str),
                          quoted(q2, sizeof q2, ctx->conf->nodes[before].name));
            rc = -1;
        }
    }
    return rc;
}

/* Every place fn's YAML (item) names a node, in file order. */
static int resolve_nodes(sw_conf_ctx *ctx, sw_conf_function *fn, const sw_ynode *item,
                         const char *path)
{
    char rpath[192];
    int rc = 0;
    const sw_ynode *seq;
    const char *list = NULL;
    switch (fn->kind) {
    case SW_FN_HASH:
    case SW_FN_RING:
        if ((seq = sw_ynode_map_get(item, "nodes"))) {
            for (size_t i = 0; i < seq->n_items; i++) {
                const sw_ynode *v = seq->items[i];
                snprintf(rpath, sizeof rpath, "%s.nodes[%zu]%s", path, i,
                         v->kind == SW_YNODE_MAP ? ".node" : "");
                if (v->kind == SW_YNODE_MAP) v = sw_ynode_map_get(v, "node");
                if (node_ref(ctx, fn, v, rpath, target_of(fn, v->str)) < 0) rc = -1;
            }
        } else {
            seq = sw_ynode_map_get(item, "assign");
            for (size_t i = 0; i < seq->n_items; i++) {
                const sw_ynode *v = sw_ynode_map_get(seq->items[i], "node");
                snprintf(rpath, sizeof rpath, "%s.assign[%zu].node", path, i);
                if (node_ref(ctx, fn, v, rpath, target_of(fn, v->str)) < 0) rc = -1;
            }
        }
        return rc;
    case SW_FN_RANGE:
        list = "ranges";
        break;
    case SW_FN_LIST:
        list = "lists";
        break;
    case SW_FN_DIRECTORY:
        snprintf(rpath, sizeof rpath, "%s.node", path);
        fn->dir_node = node_ref(ctx, fn, sw_ynode_map_get(item, "node"), rpath, -1);
        return fn->dir_node < 0 ? -1 : 0;
    case SW_FN_EMBEDDED:
        return 0;
    }
    seq = sw_ynode_map_get(item, list);
    if (fn->table_targets) return resolve_table_nodes(ctx, fn, seq, path, list);
    for (size_t i = 0; i < seq->n_items; i++) {
        const sw_ynode *v = sw_ynode_map_get(seq->items[i], "node");
        snprintf(rpath, sizeof rpath, "%s.%s[%zu].node", path, list, i);
        if (node_ref(ctx, fn, v, rpath, target_of(fn, v->str)) < 0) rc = -1;
    }
    const sw_ynode *v = sw_ynode_map_get(item, "default");
    if (v) {
        snprintf(rpath, sizeof rpath, "%s.default", path);
        if (node_ref(ctx, fn, v, rpath, target_of(fn, v->str)) < 0) rc = -1;
    }
    return rc;
}

static int copy_targets(sw_conf_ctx *ctx, sw_conf_function *fn, char *const *names,
                        const int *nodes, int n)
{
    size_t cnt = n > 0 ? (size_t)n : 1;
    fn->targets = calloc(cnt, sizeof *fn->targets);
    fn->target_node = malloc(cnt * sizeof *fn->target_node);
    if (!fn->targets || !fn->target_node) return oom(ctx);
    for (int t = 0; t < n; t++) {
        if (!(fn->targets[t] = strdup(names[t]))) return oom(ctx);
        fn->n_targets++;
        fn->target_node[t] = nodes ? nodes[t] : t;
    }
    return 0;
}

/* An embedded function takes its source's targets and bucket count. */
static int resolve_embedded(sw_conf_ctx *ctx, sw_conf_function *fn, const sw_ynode *item,
                            const char *path)
{
    const sw_conf *c = ctx->conf;
    const sw_ynode *v = sw_ynode_map_get(item, "source");
    char q[80], q2[80];
    int src = sw_conf_function_index(c, v->str);
    if (src < 0) {
        sw_diag_error(&ctx->diag, v->line, v->col, "%s.source names unknown function %s", path,
                      quoted(q, sizeof q, v->str));
        hint_known(&ctx->diag, "functions", c->functions, c->n_functions, sizeof *c->functions,
                   offsetof(sw_conf_function, name));
        return -1;
    }
    const sw_conf_function *s = &c->functions[src];
    if (s->kind != SW_FN_HASH) {
        sw_diag_error(&ctx->diag, v->line, v->col,
                      "%s.source must name a hash function, but %s is %s %s function", path,
                      quoted(q, sizeof q, v->str), article(kind_name(s->kind)),
                      kind_name(s->kind));
        sw_diag_hint(&ctx->diag, "an embedded ID carries the bucket of a hash function's key");
        return -1;
    }
    int slot_bits = 0;
    while ((1 << slot_bits) < s->buckets) slot_bits++;
    int time_bits = 63 - slot_bits - fn->seq_bits;
    if (time_bits < MIN_TIME_BITS) {
        const sw_ynode *at = map_key(item, "seq_bits");
        if (!at) at = v;
        sw_diag_error(&ctx->diag, at->line, at->col,
                      "IDs of function %s would run out %lld days after its epoch: %d slot bits "
                      "(from %s) and %d sequence bits leave %d bits of milliseconds",
                      quoted(q, sizeof q, fn->name),
                      (long long)((INT64_C(1) << time_bits) / 86400000), slot_bits,
                      quoted(q2, sizeof q2, s->name), fn->seq_bits, time_bits);
        sw_diag_hint(&ctx->diag, "keep slot bits + seq_bits at most %d: lower seq_bits, or the "
                                 "source's buckets",
                     63 - MIN_TIME_BITS);
        return -1;
    }
    fn->source = src;
    fn->slot_bits = slot_bits;
    fn->buckets = s->buckets;
    return copy_targets(ctx, fn, s->targets, s->target_node, s->n_targets);
}

int sw_conf_functions_resolve(sw_conf_ctx *ctx, const sw_ynode *root)
{
    sw_conf *c = ctx->conf;
    const sw_ynode *seq = sw_ynode_map_get(root, "functions");
    int rc = 0;
    char path[64];
    for (int i = 0; i < c->n_functions; i++) {
        snprintf(path, sizeof path, "functions[%d]", i);
        if (resolve_nodes(ctx, &c->functions[i], seq->items[i], path) != 0) rc = -1;
    }
    /* Second pass: every source's targets are resolved by now. */
    for (int i = 0; i < c->n_functions; i++) {
        sw_conf_function *fn = &c->functions[i];
        snprintf(path, sizeof path, "functions[%d]", i);
        if (fn->kind == SW_FN_DIRECTORY) {
            char **names = malloc((size_t)(c->n_nodes ? c->n_nodes : 1) * sizeof *names);
            if (!names) return oom(ctx);
            for (int n = 0; n < c->n_nodes; n++) names[n] = c->nodes[n].name;
            int r = copy_targets(ctx, fn, names, NULL, c->n_nodes);
            free(names);
            if (r != 0) return -1;
        } else if (fn->kind == SW_FN_EMBEDDED) {
            if (resolve_embedded(ctx, fn, seq->items[i], path) != 0) rc = -1;
        }
    }
    return rc;
}

/* Function named by v, or -1 after reporting it unknown. */
static int function_ref(sw_conf_ctx *ctx, const sw_ynode *v, const char *path)
{
    const sw_conf *c = ctx->conf;
    int idx = sw_conf_function_index(c, v->str);
    if (idx >= 0) return idx;
    char q[80];
    sw_diag_error(&ctx->diag, v->line, v->col, "%s names unknown function %s", path,
                  quoted(q, sizeof q, v->str));
    hint_known(&ctx->diag, "functions", c->functions, c->n_functions, sizeof *c->functions,
               offsetof(sw_conf_function, name));
    return -1;
}

static int resolve_table(sw_conf_ctx *ctx, sw_conf_table *t, const sw_ynode *item,
                         const char *path)
{
    const sw_conf *c = ctx->conf;
    int before = ctx->diag.n_errors;
    char rpath[192], q[80], q2[80];
    const sw_ynode *fv = sw_ynode_map_get(item, "function");
    const sw_ynode *nv = sw_ynode_map_get(item, "node");
    const sw_ynode *ns = sw_ynode_map_get(item, "nodes");
    const sw_ynode *iv = sw_ynode_map_get(item, "id");
    const sw_ynode *idf = has(item, "id") ? sw_ynode_map_get(iv, "function") : NULL;
    quoted(q, sizeof q, sw_ynode_map_get(item, "name")->str);

    if (fv) {
        snprintf(rpath, sizeof rpath, "%s.function", path);
        t->function = function_ref(ctx, fv, rpath);
    }
    if (nv) {
        snprintf(rpath, sizeof rpath, "%s.node", path);
        t->node = sw_conf_node_index(c, nv->str);
        if (t->node < 0) {
            sw_diag_error(&ctx->diag, nv->line, nv->col, "%s names unknown node %s", rpath,
                          quoted(q2, sizeof q2, nv->str));
            hint_known(&ctx->diag, "nodes", c->nodes, c->n_nodes, sizeof *c->nodes,
                       offsetof(sw_conf_node, name));
        }
    }
    for (int i = 0; ns && i < t->n_nodes; i++) {
        const sw_ynode *v = ns->items[i];
        t->nodes[i] = sw_conf_node_index(c, v->str);
        if (t->nodes[i] >= 0) continue;
        snprintf(rpath, sizeof rpath, "%s.nodes[%d]", path, i);
        sw_diag_error(&ctx->diag, v->line, v->col, "%s names unknown node %s", rpath,
                      quoted(q2, sizeof q2, v->str));
        hint_known(&ctx->diag, "nodes", c->nodes, c->n_nodes, sizeof *c->nodes,
                   offsetof(sw_conf_node, name));
    }
    if (idf) {
        snprintf(rpath, sizeof rpath, "%s.id.function", path);
        int idx = function_ref(ctx, idf, rpath);
        if (idx >= 0 && c->functions[idx].kind != SW_FN_EMBEDDED) {
            const char *kind = kind_name(c->functions[idx].kind);
            sw_diag_error(&ctx->diag, idf->line, idf->col,
                          "%s must name an embedded function, but %s is %s %s function", rpath,
                          quoted(q2, sizeof q2, idf->str), article(kind), kind);
            sw_diag_hint(&ctx->diag, "shardwire_next_id makes IDs with an embedded function");
        } else if (idx >= 0) {
            t->id_function = idx;
        }
    }
    if (ctx->diag.n_errors != before) return -1;
    if (t->function < 0) return 0;

    const sw_conf_function *fn = &c->functions[t->function];
    bool placed = fn->table_targets;
    for (int k = 0; placed && k < fn->n_targets; k++)
        if (!fn->target_node || fn->target_node[k] < 0) placed = false;
    if (fn->table_targets && !nv && !placed) {
        sw_diag_error(&ctx->diag, fv->line, fv->col,
                      "table %s uses table-suffix function %s but names no node", q,
                      quoted(q2, sizeof q2, fn->name));
        sw_diag_hint(&ctx->diag, "the function's targets are tables; add node: with the node "
                                 "that holds them");
    } else if (!fn->table_targets && nv) {
        const sw_ynode *k = map_key(item, "node");
        sw_diag_error(&ctx->diag, k->line, k->col,
                      "table %s names a node, but its function %s places rows on nodes itself", q,
                      quoted(q2, sizeof q2, fn->name));
        sw_diag_hint(&ctx->diag, "drop node:, or drop key and function to keep the whole table "
                                 "on that node");
    }
    if (t->id_function >= 0) {
        int src = c->functions[t->id_function].source;
        if (src >= 0 && src != t->function) {
            char q3[80], q4[80];
            quoted(q4, sizeof q4, fn->name);
            sw_diag_error(&ctx->diag, idf->line, idf->col,
                          "%s.id.function %s carries buckets of %s, but the table is sharded by "
                          "%s",
                          path, quoted(q2, sizeof q2, idf->str),
                          quoted(q3, sizeof q3, c->functions[src].name), q4);
            sw_diag_hint(&ctx->diag, "use an embedded function whose source is %s", q4);
        }
    }
    return ctx->diag.n_errors == before ? 0 : -1;
}

int sw_conf_tables_resolve(sw_conf_ctx *ctx, const sw_ynode *root)
{
    sw_conf *c = ctx->conf;
    const sw_ynode *dbs = sw_ynode_map_get(root, "databases");
    int rc = 0;
    for (int d = 0; d < c->n_databases; d++) {
        sw_conf_database *db = &c->databases[d];
        const sw_ynode *seq = sw_ynode_map_get(dbs->items[d], "tables");
        for (int i = 0; i < db->n_tables; i++) {
            char path[64];
            snprintf(path, sizeof path, "databases[%d].tables[%d]", d, i);
            if (resolve_table(ctx, &db->tables[i], seq->items[i], path) != 0) rc = -1;
        }
    }
    return rc;
}
