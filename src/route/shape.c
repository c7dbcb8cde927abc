/*
 * shape.c - the shape cache behind sw_router_route: simple-protocol texts
 * are keyed by their shape (tokens.c: the token stream with constants
 * blanked, comments included, seeded with the database), so a statement
 * that differs from an earlier one only in its constants reuses that
 * one's plan and pays a scan instead of a parse.
 *
 * Bounded: at most max_shapes plans, the least recently used one goes
 * first (an intrusive list; a hit moves its entry to the front).  Plans
 * whose text has tokens with unreliable positions are never cached, nor
 * are texts that do not parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

#define SW_SHAPES_DEFAULT 4096

struct sw_shape {
    uint64_t key;
    int db;
    int n_items;
    sw_plan *plan;
    sw_shape *prev, *next;
};

void sw_router_cache_init(sw_router *r)
{
    sw_map_init(&r->shapes);
    r->lru_head = r->lru_tail = NULL;
    r->n_shapes = 0;
    r->max_shapes = SW_SHAPES_DEFAULT;
    r->hits = r->misses = 0;
}

static void unlink_shape(sw_router *r, sw_shape *s)
{
    if (s->prev) s->prev->next = s->next;
    else r->lru_head = s->next;
    if (s->next) s->next->prev = s->prev;
    else r->lru_tail = s->prev;
    s->prev = s->next = NULL;
}

static void push_front(sw_router *r, sw_shape *s)
{
    s->prev = NULL;
    s->next = r->lru_head;
    if (r->lru_head) r->lru_head->prev = s;
    r->lru_head = s;
    if (!r->lru_tail) r->lru_tail = s;
}

static void drop_shape(sw_router *r, sw_shape *s)
{
    unlink_shape(r, s);
    sw_map_del(&r->shapes, s->key);
    sw_plan_destroy(s->plan);
    free(s);
    r->n_shapes--;
}

void sw_router_cache_free(sw_router *r)
{
    while (r->lru_head) drop_shape(r, r->lru_head);
    sw_map_free(&r->shapes);
}

void sw_router_cache_stats(const sw_router *r, uint64_t *hits, uint64_t *misses, size_t *entries)
{
    if (hits) *hits = r->hits;
    if (misses) *misses = r->misses;
    if (entries) *entries = r->n_shapes;
}

void sw_router_set_cache_capacity(sw_router *r, size_t n)
{
    r->max_shapes = n;
    while (r->n_shapes > n) drop_shape(r, r->lru_tail);
}

/* Keep plan under key; it is freed here when it cannot be kept. */
static void remember(sw_router *r, uint64_t key, int db, int n_items, sw_plan *plan)
{
    sw_shape *old = sw_map_get(&r->shapes, key);
    if (old) drop_shape(r, old);
    if (r->max_shapes == 0) {
        sw_plan_destroy(plan);
        return;
    }
    while (r->n_shapes >= r->max_shapes) drop_shape(r, r->lru_tail);
    sw_shape *s = malloc(sizeof *s);
    if (!s || sw_map_put(&r->shapes, key, s)) {
        free(s);
        sw_plan_destroy(plan);
        return;
    }
    s->key = key;
    s->db = db;
    s->n_items = n_items;
    s->plan = plan;
    push_front(r, s);
    r->n_shapes++;
}

sw_route_status sw_router_route(sw_router *r, const sw_route_in *in, const char *sql, size_t len,
                                sw_route_out *out)
{
    char sbuf[4096];
    char *text = len < sizeof sbuf ? sbuf : malloc(len + 1);
    if (!text) {
        memset(out, 0, sizeof *out);
        out->status = SW_ROUTE_ERROR;
        memcpy(out->sqlstate, "53200", 6);
        snprintf(out->message, sizeof out->message, "out of memory routing the statement");
        snprintf(out->reason, sizeof out->reason, "error 53200: %s", out->message);
        return out->status;
    }
    memcpy(text, sql, len);
    text[len] = '\0';
    int db = sw_router_db(r, in->database);
    sw_items it;
    uint64_t shape = 0;
    bool scanned = sw_items_scan(text, len, &it, (uint64_t)(db + 2), &shape) == 0;
    if (!scanned) {
        it.v = it.inline_v;
        it.n = 0;
        it.cap = SW_ITEMS_INLINE;
    }
    uint64_t key = sw_map_key(shape);
    sw_route_status st;
    sw_shape *s = scanned ? sw_map_get(&r->shapes, key) : NULL;
    if (s && s->db == db && s->n_items == it.n) {
        r->hits++;
        unlink_shape(r, s);
        push_front(r, s);
        st = sw_plan_eval(r, s->plan, in, text, it.v, it.n, out);
    } else {
        r->misses++;
        char sqlstate[6], msg[256];
        sw_plan *p = sw_plan_build(r, db, text, len, &it, sqlstate, msg, sizeof msg);
        if (!p) {
            memset(out, 0, sizeof *out);
            out->lookup_fn = -1;
            out->status = SW_ROUTE_ERROR;
            memcpy(out->sqlstate, sqlstate, 6);
            snprintf(out->message, sizeof out->message, "%s", msg);
            snprintf(out->reason, sizeof out->reason, "error %s: %s", sqlstate, msg);
            st = out->status;
        } else {
            st = sw_plan_eval(r, p, in, text, it.v, it.n, out);
            if (scanned && !it.uncacheable) remember(r, key, db, it.n, p);
            else sw_plan_destroy(p);
        }
    }
    sw_items_free(&it);
    if (text != sbuf) free(text);
    return st;
}
