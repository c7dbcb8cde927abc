/*
 * router.c - building and freeing a router (see sw/route.h): every sharding
 * function in configuration order, and per logical database a map from
 * table name to the configured tables of that name.
 *
 * Names compare as PostgreSQL stores them: the parser folds unquoted
 * identifiers to lower case and keeps quoted ones, and the configuration
 * spells names the stored way, so the comparison is exact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "route_int.h"

static uint64_t name_hash(const char *s)
{
    return sw_map_key(XXH3_64bits(s, strlen(s)));
}

static int build_db(sw_rdb *d, const sw_conf_database *c)
{
    d->conf = c;
    sw_map_init(&d->names);
    d->chain = NULL;
    if (c->n_tables == 0) return 0;
    d->chain = malloc((size_t)c->n_tables * sizeof *d->chain);
    if (!d->chain) return -1;
    /* Insert backwards so each chain lists its tables in file order. */
    for (int i = c->n_tables - 1; i >= 0; i--) {
        uint64_t h = name_hash(c->tables[i].name);
        uintptr_t head = (uintptr_t)sw_map_get(&d->names, h);
        d->chain[i] = (int)head - 1;
        if (sw_map_put(&d->names, h, (void *)(uintptr_t)(i + 1))) return -1;
    }
    return 0;
}

sw_router *sw_router_new(const sw_conf *conf, char *err, size_t errsz)
{
    sw_router *r = calloc(1, sizeof *r);
    if (!r) goto oom;
    r->conf = conf;
    sw_router_cache_init(r);
    if (conf->n_functions > 0) {
        r->fns = calloc((size_t)conf->n_functions, sizeof *r->fns);
        if (!r->fns) goto oom;
    }
    for (int i = 0; i < conf->n_functions; i++) {
        r->fns[i] = sw_shardfn_update(conf, i, r->fns, err, errsz);
        if (!r->fns[i]) {
            sw_router_free(r);
            return NULL;
        }
        r->n_fns = i + 1;
    }
    if (conf->n_databases > 0) {
        r->dbs = calloc((size_t)conf->n_databases, sizeof *r->dbs);
        if (!r->dbs) goto oom;
    }
    for (int i = 0; i < conf->n_databases; i++) {
        r->n_dbs = i + 1;
        if (build_db(&r->dbs[i], &conf->databases[i])) goto oom;
    }
    return r;
oom:
    if (err && errsz) snprintf(err, errsz, "out of memory building the router");
    sw_router_free(r);
    return NULL;
}

void sw_router_free(sw_router *r)
{
    if (!r) return;
    sw_router_cache_free(r);
    for (int i = 0; i < r->n_fns; i++) sw_shardfn_free(r->fns[i]);
    free(r->fns);
    for (int i = 0; i < r->n_dbs; i++) {
        sw_map_free(&r->dbs[i].names);
        free(r->dbs[i].chain);
    }
    free(r->dbs);
    free(r);
}

const sw_conf *sw_router_conf(const sw_router *r)
{
    return r->conf;
}

const sw_shardfn *sw_router_function(const sw_router *r, int index)
{
    return index >= 0 && index < r->n_fns ? r->fns[index] : NULL;
}

sw_shardfn *sw_router_function_mut(sw_router *r, int index)
{
    return index >= 0 && index < r->n_fns ? r->fns[index] : NULL;
}

int sw_router_db(const sw_router *r, const char *database)
{
    if (!database) return -1;
    for (int i = 0; i < r->n_dbs; i++)
        if (strcmp(r->dbs[i].conf->name, database) == 0) return i;
    return -1;
}

static bool catalog_name(const char *schema, const char *name)
{
    if (schema) return strcmp(schema, "pg_catalog") == 0 || strcmp(schema, "information_schema") == 0;
    return strncmp(name, "pg_", 3) == 0;
}

/* A table declared with a schema matches references naming that schema
 * (and unqualified ones when the schema is public, the default search
 * path); a plain one matches any schema.  An exact schema wins. */
int sw_router_table(const sw_router *r, int db, const char *schema, const char *name)
{
    if (schema && *schema == '\0') schema = NULL;
    if (db >= 0 && db < r->n_dbs) {
        const sw_rdb *d = &r->dbs[db];
        int plain = -1, weak = -1;
        for (int i = (int)(uintptr_t)sw_map_get(&d->names, name_hash(name)) - 1; i >= 0;
             i = d->chain[i]) {
            const sw_conf_table *t = &d->conf->tables[i];
            if (strcmp(t->name, name) != 0) continue;
            if (!t->schema) {
                if (plain < 0) plain = i;
            } else if (schema && strcmp(t->schema, schema) == 0) {
                return i;
            } else if (!schema && strcmp(t->schema, "public") == 0) {
                if (weak < 0) weak = i;
            }
        }
        if (plain >= 0 && !(schema && catalog_name(schema, name))) return plain;
        if (weak >= 0) return weak;
    }
    return catalog_name(schema, name) ? SW_OCC_CATALOG : SW_OCC_UNLISTED;
}

const char *sw_node_name(const sw_router *r, int node)
{
    return node >= 0 && node < r->conf->n_nodes ? r->conf->nodes[node].name : "?";
}
