/*
 * keyof.c - the shard key of a table by name, as the merge planner asks for
 * it ("is this column the key of a sharded table the statement reads?").
 */
#include <stdbool.h>
#include <string.h>

#include "sw/route.h"

/* The first table of database matching schema.relname ("s.t" matches s.t,
 * and unqualified t when s is public; a plain declaration matches t in any
 * schema); sharded ones only when asked. */
static const sw_conf_table *find_table(const sw_router *r, const char *database, const char *schema,
                                       const char *relname, bool sharded_only)
{
    const sw_conf *conf = sw_router_conf(r);
    if (!conf || !database || !relname) return NULL;
    for (int d = 0; d < conf->n_databases; d++) {
        const sw_conf_database *db = &conf->databases[d];
        if (strcmp(db->name, database) != 0) continue;
        for (int i = 0; i < db->n_tables; i++) {
            const sw_conf_table *t = &db->tables[i];
            if (sharded_only && (t->kind != SW_TABLE_SHARDED || !t->key)) continue;
            if (strcmp(t->name, relname) != 0) continue;
            if (t->schema && schema && strcmp(t->schema, schema) != 0) continue;
            if (t->schema && !schema && strcmp(t->schema, "public") != 0) continue;
            return t;
        }
    }
    return NULL;
}

const sw_conf_table *sw_router_table_conf(const sw_router *r, const char *database, const char *schema,
                                          const char *relname)
{
    return find_table(r, database, schema, relname, false);
}

const char *sw_router_key_of(const sw_router *r, const char *database, const char *schema, const char *relname)
{
    const sw_conf_table *t = find_table(r, database, schema, relname, true);
    return t ? t->key : NULL;
}

const char *sw_router_id_of(const sw_router *r, const char *database, const char *schema, const char *relname)
{
    const sw_conf *conf = sw_router_conf(r);
    const sw_conf_table *t = find_table(r, database, schema, relname, true);
    if (!t || !t->id_column || t->id_function < 0 ||
        t->id_function >= conf->n_functions)
        return NULL;
    /* the ID places a row where its key does only when it carries the
     * bucket of the table's own function */
    const sw_conf_function *f = &conf->functions[t->id_function];
    return f->kind == SW_FN_EMBEDDED && f->source == t->function ? t->id_column : NULL;
}
