/*
 * fn_ring.c - consistent hashing: each target owns weight * vnodes points
 * on a 64-bit ring, placed at XXH3-64 of "<target name>#<i>"; a key belongs
 * to the first point at or after its hash, wrapping at the end.  Points
 * depend only on a target's own name, so adding a target takes keys only
 * onto the new target and leaves every other key where it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "shardfn_int.h"

/* Guards the table size against absurd weight * vnodes products. */
#define RING_MAX_POINTS (1u << 24)

static int point_order(const void *pa, const void *pb)
{
    const fn_point *a = pa, *b = pb;
    if (a->point != b->point) return a->point < b->point ? -1 : 1;
    return (a->target > b->target) - (a->target < b->target);
}

int fn_ring_build(sw_shardfn *fn, char *err, size_t errsz)
{
    const sw_conf_function *c = fn->conf;
    uint64_t vnodes = c->vnodes > 0 ? (uint64_t)c->vnodes : 160;
    uint64_t total = 0;
    for (int t = 0; t < fn->n_targets; t++) {
        int w = c->weights ? c->weights[t] : 1;
        if (w < 1) return fn_err(fn, err, errsz, "target %s has weight %d", fn->tname[t], w);
        total += (uint64_t)w * vnodes;
        if (total > RING_MAX_POINTS) return fn_err(fn, err, errsz, "too many ring points");
    }
    fn->points = malloc((size_t)total * sizeof *fn->points);
    if (!fn->points) return fn_err(fn, err, errsz, "out of memory");
    for (int t = 0; t < fn->n_targets; t++) {
        uint64_t np = (uint64_t)(c->weights ? c->weights[t] : 1) * vnodes;
        size_t cap = strlen(fn->tname[t]) + 24;
        char *label = malloc(cap);
        if (!label) return fn_err(fn, err, errsz, "out of memory");
        for (uint64_t i = 0; i < np; i++) {
            int n = snprintf(label, cap, "%s#%llu", fn->tname[t], (unsigned long long)i);
            fn_point *p = &fn->points[fn->n_points++];
            p->point = XXH3_64bits(label, (size_t)n);
            p->target = t;
        }
        free(label);
    }
    qsort(fn->points, fn->n_points, sizeof *fn->points, point_order);
    return 0;
}

int fn_ring_dispatch(const sw_shardfn *fn, const sw_value *v, char *why, size_t whysz)
{
    uint64_t h = sw_value_hash(v);
    size_t lo = 0, hi = fn->n_points;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fn->points[mid].point < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == fn->n_points) lo = 0;
    fn_why(why, whysz, "ring point %016llx", (unsigned long long)fn->points[lo].point);
    return fn->points[lo].target;
}
