/*
 * stmt.c - the registry of prepared statements shared by all clients.
 *
 * A client's Parse of a named statement is interned here by its query text
 * and parameter types.  Servers prepare the statement under a name derived
 * from that content ("sw_" + XXH3-128), so every client that prepares the
 * same text reuses what any server already has, and a client can be served
 * by any backend connection: the relay prepares on demand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "sw/merge.h"
#include "sw/proxy.h"

uint64_t sw_stmt_name_hash(const char *name)
{
    return XXH3_64bits(name, strlen(name));
}

static XXH128_hash_t stmt_hash(const char *query, size_t qlen, uint16_t nparams, const uint8_t *types)
{
    XXH3_state_t st;
    XXH3_128bits_reset(&st);
    XXH3_128bits_update(&st, query, qlen);
    uint8_t sep = 0;
    XXH3_128bits_update(&st, &sep, 1);
    if (nparams > 0) XXH3_128bits_update(&st, types, (size_t)nparams * 4);
    return XXH3_128bits_digest(&st);
}

uint64_t sw_stmt_id_of(const char *query, size_t qlen, uint16_t nparams, const uint8_t *types)
{
    return sw_map_key(stmt_hash(query, qlen, nparams, types).low64);
}

sw_stmt *sw_stmt_intern(const char *query, size_t qlen, uint16_t nparams, const uint8_t *types)
{
    XXH128_hash_t h = stmt_hash(query, qlen, nparams, types);
    uint64_t id = sw_map_key(h.low64);

    sw_stmt *s = sw_map_get(&sw_g.stmt_registry, id);
    if (s) {
        s->refs++;
        return s;
    }
    s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->query = malloc(qlen + 1);
    s->param_types = nparams > 0 ? malloc((size_t)nparams * 4) : NULL;
    if (!s->query || (nparams > 0 && !s->param_types)) goto fail;
    memcpy(s->query, query, qlen);
    s->query[qlen] = 0;
    s->query_len = (uint32_t)qlen;
    s->nparams = nparams;
    if (nparams > 0) memcpy(s->param_types, types, (size_t)nparams * 4);
    s->id = id;
    snprintf(s->name, sizeof s->name, "sw_%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
    s->refs = 1;
    if (sw_map_put(&sw_g.stmt_registry, id, s)) goto fail;
    return s;
fail:
    free(s->query);
    free(s->param_types);
    free(s);
    return NULL;
}

void sw_stmt_release(sw_stmt *s)
{
    if (!s || --s->refs > 0) return;
    /* Servers keep it prepared under its name; re-interning the same text
     * later yields the same name, so their sets stay valid. */
    sw_map_del(&sw_g.stmt_registry, s->id);
    sw_plan_free(s->plan);
    free(s->plan_error);
    sw_stmt_merge_free(s->merge);
    free(s->query);
    free(s->param_types);
    free(s);
}

void sw_stmt_merge_free(sw_stmt_merge *m)
{
    if (!m) return;
    sw_merge_spec_free(m->spec);
    free(m->sql);
    free(m->msg);
    free(m);
}

/* ---------------------------------------------------------------- the clients' names */

sw_client_stmt *sw_client_stmt_find(sw_client *c, const char *name)
{
    sw_client_stmt *cs = sw_map_get(&c->stmts, sw_stmt_name_hash(name));
    return cs && strcmp(cs->name, name) == 0 ? cs : NULL;
}

/* Record the client's name for a statement.  NULL when out of memory. */
sw_stmt *sw_client_stmt_add(sw_client *c, const char *name, const char *query, size_t qlen,
                                uint16_t nparams, const uint8_t *types)
{
    sw_stmt *st = sw_stmt_intern(query, qlen, nparams, types);
    sw_client_stmt *cs = st ? malloc(sizeof *cs) : NULL;
    if (cs) cs->name = strdup(name);
    if (!cs || !cs->name || sw_map_put(&c->stmts, sw_stmt_name_hash(name), cs)) {
        if (cs) free(cs->name);
        free(cs);
        sw_stmt_release(st);
        return NULL;
    }
    cs->stmt = st;
    cs->unconfirmed = false;
    cs->batch = 0;
    return st;
}

static void forget(sw_client *c, sw_client_stmt *cs, uint64_t name_hash)
{
    if (cs->unconfirmed) c->n_unconfirmed--;
    sw_map_del(&c->stmts, name_hash);
    sw_stmt_release(cs->stmt);
    free(cs->name);
    free(cs);
}

void sw_client_stmt_drop_id(sw_client *c, uint64_t name_hash, uint64_t stmt_id)
{
    sw_client_stmt *cs = sw_map_get(&c->stmts, name_hash);
    if (!cs || cs->stmt->id != stmt_id) return;
    forget(c, cs, name_hash);
}

void sw_client_stmt_confirm(sw_client *c, uint64_t name_hash, uint64_t stmt_id)
{
    sw_client_stmt *cs = sw_map_get(&c->stmts, name_hash);
    if (!cs || cs->stmt->id != stmt_id || !cs->unconfirmed) return;
    cs->unconfirmed = false;
    c->n_unconfirmed--;
}

/* Forget the client's name (Close); the servers keep their copy for others. */
void sw_client_stmt_drop(sw_client *c, const char *name)
{
    sw_client_stmt *cs = sw_client_stmt_find(c, name);
    if (!cs) return;
    forget(c, cs, sw_stmt_name_hash(name));
}

void sw_client_stmt_drop_all(sw_client *c)
{
    uint32_t pos = 0;
    sw_map_slot *sl;
    while ((sl = sw_map_next(&c->stmts, &pos))) {
        sw_client_stmt *cs = sl->val;
        if (cs->unconfirmed) c->n_unconfirmed--;
        sw_stmt_release(cs->stmt);
        free(cs->name);
        free(cs);
    }
    sw_map_free(&c->stmts);
    sw_map_init(&c->stmts);
}

const char *sw_server_stmt_name(const struct sw_server *s, const sw_stmt *st, char *buf, size_t bufsz)
{
    if (s->stmt_gen == 0) return st->name;
    snprintf(buf, bufsz, "%s_%u", st->name, s->stmt_gen);
    return buf;
}
