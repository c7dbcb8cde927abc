/*
 * fn_dir.c - directory functions: the key -> node mapping lives in a table
 * on a node, so dispatch only answers from a cache of earlier answers and
 * otherwise says SW_SHARD_LOOKUP; the caller runs the query and stores the
 * answer.  The cache is bounded twice: entries expire after the TTL (the
 * mapping table may change under us) and at most cache_size of them are
 * kept, the least recently used going first.
 *
 * Entries are found through an sw_map keyed by the value's XXH3 hash; the
 * rare values sharing a hash are chained off the same map slot and told
 * apart by comparing the values themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "shardfn_int.h"
#include "sw/map.h"

typedef struct dir_entry {
    uint64_t hash;
    sw_value v; /* owned copy */
    int target;
    uint64_t expires_ms;
    struct dir_entry *prev, *next; /* recency list, most recent first */
    struct dir_entry *chain;       /* next entry under the same map key */
} dir_entry;

struct fn_dir {
    sw_map map;
    dir_entry *head, *tail;
    size_t count, cap;
    uint64_t ttl_ms;
};

int fn_dir_build(sw_shardfn *fn, char *err, size_t errsz)
{
    const sw_conf_function *c = fn->conf;
    if (c->cache_ttl_ms < 0 || c->cache_size < 0)
        return fn_err(fn, err, errsz, "negative cache_ttl or cache_size");
    fn->dir = calloc(1, sizeof *fn->dir);
    if (!fn->dir) return fn_err(fn, err, errsz, "out of memory");
    sw_map_init(&fn->dir->map);
    fn->dir->cap = (size_t)c->cache_size;
    fn->dir->ttl_ms = (uint64_t)c->cache_ttl_ms;
    return 0;
}

static void lru_unlink(fn_dir *d, dir_entry *e)
{
    if (e->prev) e->prev->next = e->next;
    else d->head = e->next;
    if (e->next) e->next->prev = e->prev;
    else d->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(fn_dir *d, dir_entry *e)
{
    e->prev = NULL;
    e->next = d->head;
    if (d->head) d->head->prev = e;
    d->head = e;
    if (!d->tail) d->tail = e;
}

static dir_entry *dir_find(const fn_dir *d, const sw_value *v, uint64_t h)
{
    for (dir_entry *e = sw_map_get(&d->map, h); e; e = e->chain)
        if (sw_value_cmp(&e->v, v) == 0) return e;
    return NULL;
}

static void dir_remove(fn_dir *d, dir_entry *e)
{
    dir_entry *first = sw_map_get(&d->map, e->hash);
    if (first == e) {
        if (e->chain) sw_map_put(&d->map, e->hash, e->chain); /* replaces: cannot fail */
        else sw_map_del(&d->map, e->hash);
    } else {
        dir_entry *p = first;
        while (p && p->chain != e) p = p->chain;
        if (p) p->chain = e->chain;
    }
    lru_unlink(d, e);
    fn_value_release(&e->v);
    free(e);
    d->count--;
}

void fn_dir_free(sw_shardfn *fn)
{
    fn_dir *d = fn->dir;
    if (!d) return;
    for (dir_entry *e = d->head, *n; e; e = n) {
        n = e->next;
        fn_value_release(&e->v);
        free(e);
    }
    sw_map_free(&d->map);
    free(d);
    fn->dir = NULL;
}

int fn_dir_dispatch(const sw_shardfn *fn, const sw_value *v, uint64_t now_ms, char *why,
                    size_t whysz)
{
    fn_dir *d = fn->dir;
    dir_entry *e = dir_find(d, v, sw_value_hash(v));
    if (e && now_ms < e->expires_ms) {
        lru_unlink(d, e);
        lru_push(d, e);
        fn_why(why, whysz, "directory cache");
        return e->target;
    }
    if (e) dir_remove(d, e);
    fn_why(why, whysz, "directory lookup");
    return SW_SHARD_LOOKUP;
}

int sw_shardfn_directory_store(sw_shardfn *fn, const sw_value *v, const char *node, uint64_t now_ms)
{
    if (fn->kind != SW_FN_DIRECTORY || v->type != fn->type || !node) return SW_SHARD_NOMATCH;
    int target = -1;
    for (int t = 0; t < fn->n_targets && target < 0; t++)
        if (strcmp(fn->tname[t], node) == 0) target = t;
    if (target < 0) return SW_SHARD_NOMATCH;

    fn_dir *d = fn->dir;
    uint64_t h = sw_value_hash(v);
    dir_entry *e = dir_find(d, v, h);
    if (e) {
        e->target = target;
        e->expires_ms = now_ms + d->ttl_ms;
        lru_unlink(d, e);
        lru_push(d, e);
        return target;
    }
    if (d->cap == 0) return target; /* caching disabled: the answer still stands */
    while (d->count >= d->cap) dir_remove(d, d->tail);

    /* A cache that cannot grow still answers: the entry is simply not kept. */
    e = calloc(1, sizeof *e);
    if (!e) return target;
    if (fn_value_dup(v, &e->v)) {
        free(e);
        return target;
    }
    e->hash = h;
    e->target = target;
    e->expires_ms = now_ms + d->ttl_ms;
    e->chain = sw_map_get(&d->map, h);
    if (sw_map_put(&d->map, h, e)) {
        fn_value_release(&e->v);
        free(e);
        return target;
    }
    lru_push(d, e);
    d->count++;
    return target;
}

size_t sw_shardfn_directory_size(const sw_shardfn *fn)
{
    return fn->kind == SW_FN_DIRECTORY && fn->dir ? fn->dir->count : 0;
}
