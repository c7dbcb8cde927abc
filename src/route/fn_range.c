/*
 * fn_range.c - range functions: disjoint [from, to) ranges, sorted by their
 * lower bound so a key is found by binary search, and interval predicates
 * (<, <=, BETWEEN) are answered with exactly the ranges they overlap.
 *
 * The parts of the key space no range covers (before the first range,
 * between two ranges, after the last) go to the default target, so they are
 * treated as more ranges of that target when an interval is matched.
 */
#include <stdlib.h>
#include <string.h>

#include "shardfn_int.h"

static const sw_value *lo_of(const fn_range *r) { return r->has_lo ? &r->lo : NULL; }
static const sw_value *hi_of(const fn_range *r) { return r->has_hi ? &r->hi : NULL; }

/* Open lower bounds sort first. */
static int range_order(const void *pa, const void *pb)
{
    const fn_range *a = pa, *b = pb;
    if (a->has_lo != b->has_lo) return a->has_lo ? 1 : -1;
    return a->has_lo ? sw_value_cmp(&a->lo, &b->lo) : 0;
}

int fn_range_build(sw_shardfn *fn, char *err, size_t errsz)
{
    const sw_conf_function *c = fn->conf;
    if (c->n_ranges < 0 || (c->n_ranges > 0 && !c->ranges))
        return fn_err(fn, err, errsz, "no ranges");
    fn->ranges = calloc((size_t)(c->n_ranges ? c->n_ranges : 1), sizeof *fn->ranges);
    if (!fn->ranges) return fn_err(fn, err, errsz, "out of memory");
    for (int i = 0; i < c->n_ranges; i++) {
        const sw_conf_range *cr = &c->ranges[i];
        fn_range *r = &fn->ranges[i];
        r->lo.type = r->hi.type = fn->type;
        fn->n_ranges = i + 1; /* so that a failure frees what was parsed */
        if (cr->target < 0 || cr->target >= fn->n_targets)
            return fn_err(fn, err, errsz, "range %d: target %d out of range", i, cr->target);
        r->target = cr->target;
        if (cr->from) {
            if (fn_value_parse(fn, cr->from, &r->lo))
                return fn_err(fn, err, errsz, "range %d: from '%s' is not a valid value", i,
                              cr->from);
            r->has_lo = true;
        }
        if (cr->to) {
            if (fn_value_parse(fn, cr->to, &r->hi))
                return fn_err(fn, err, errsz, "range %d: to '%s' is not a valid value", i, cr->to);
            r->has_hi = true;
        }
        if (r->has_lo && r->has_hi && sw_value_cmp(&r->lo, &r->hi) >= 0)
            return fn_err(fn, err, errsz, "range %d: from %s is not below to %s", i, cr->from,
                          cr->to);
    }
    qsort(fn->ranges, (size_t)fn->n_ranges, sizeof *fn->ranges, range_order);
    /* Binary search relies on disjoint ranges: each must end before the next starts. */
    for (int i = 1; i < fn->n_ranges; i++) {
        const fn_range *p = &fn->ranges[i - 1], *r = &fn->ranges[i];
        if (!p->has_hi || !r->has_lo || sw_value_cmp(&p->hi, &r->lo) > 0)
            return fn_err(fn, err, errsz, "ranges overlap");
    }
    return 0;
}

void fn_range_free(sw_shardfn *fn)
{
    for (int i = 0; i < fn->n_ranges; i++) {
        if (fn->ranges[i].has_lo) fn_value_release(&fn->ranges[i].lo);
        if (fn->ranges[i].has_hi) fn_value_release(&fn->ranges[i].hi);
    }
    free(fn->ranges);
    fn->ranges = NULL;
    fn->n_ranges = 0;
}

static void range_why(const fn_range *r, char *why, size_t whysz)
{
    if (!why || whysz == 0) return;
    char a[96] = "-inf", b[96] = "+inf";
    if (r->has_lo) sw_value_format(&r->lo, a, sizeof a);
    if (r->has_hi) sw_value_format(&r->hi, b, sizeof b);
    fn_why(why, whysz, "range %s%s, %s)", r->has_lo ? "[" : "(", a, b);
}

int fn_range_dispatch(const sw_shardfn *fn, const sw_value *v, char *why, size_t whysz)
{
    /* Last range whose lower bound is <= v. */
    int lo = 0, hi = fn->n_ranges;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        const fn_range *r = &fn->ranges[mid];
        if (!r->has_lo || sw_value_cmp(&r->lo, v) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        const fn_range *r = &fn->ranges[lo - 1];
        if (!r->has_hi || sw_value_cmp(v, &r->hi) < 0) {
            range_why(r, why, whysz);
            return r->target;
        }
    }
    if (fn->default_target >= 0) {
        fn_why(why, whysz, "range default");
        return fn->default_target;
    }
    fn_why(why, whysz, "no range");
    return SW_SHARD_NOMATCH;
}

/* Whether [a, b) (NULL = open end) meets the interval lo..hi. */
static bool meets(const sw_value *a, const sw_value *b, const sw_value *lo, const sw_value *hi,
                  bool hi_incl)
{
    if (a && hi) {
        int c = sw_value_cmp(hi, a);
        if (c < 0 || (c == 0 && !hi_incl)) return false;
    }
    /* b is exclusive: an interval starting at b (in- or exclusively) misses it. */
    if (b && lo && sw_value_cmp(lo, b) >= 0) return false;
    return true;
}

uint64_t fn_range_mask(const sw_shardfn *fn, const sw_value *lo, bool lo_incl, const sw_value *hi,
                       bool hi_incl)
{
    /* Integer-like keys are discrete: x > 5 is x >= 6, so an exclusive bound
     * becomes the inclusive next value and [6, ..) no longer meets [.., 6). */
    sw_value l, h;
    bool discrete =
        fn->type == SW_KEY_INT || fn->type == SW_KEY_DATE || fn->type == SW_KEY_TIMESTAMP;
    if (discrete && lo && !lo_incl) {
        if (lo->i == INT64_MAX) return 0;
        l = *lo;
        l.i++;
        lo = &l;
        lo_incl = true;
    }
    if (discrete && hi && !hi_incl) {
        if (hi->i == INT64_MIN) return 0;
        h = *hi;
        h.i--;
        hi = &h;
        hi_incl = true;
    }
    if (lo && hi) {
        int c = sw_value_cmp(lo, hi);
        if (c > 0 || (c == 0 && !(lo_incl && hi_incl))) return 0; /* empty interval */
    }

    uint64_t mask = 0;
    for (int i = 0; i < fn->n_ranges; i++) {
        const fn_range *r = &fn->ranges[i];
        if (meets(lo_of(r), hi_of(r), lo, hi, hi_incl)) mask |= UINT64_C(1) << r->target;
    }
    if (fn->default_target < 0) return mask;

    /* The gaps: before the first range, between ranges, after the last. */
    const uint64_t dbit = UINT64_C(1) << fn->default_target;
    if (fn->n_ranges == 0) return mask | dbit;
    const fn_range *first = &fn->ranges[0], *last = &fn->ranges[fn->n_ranges - 1];
    if (first->has_lo && meets(NULL, &first->lo, lo, hi, hi_incl)) return mask | dbit;
    for (int i = 1; i < fn->n_ranges; i++) {
        const fn_range *p = &fn->ranges[i - 1], *r = &fn->ranges[i];
        if (sw_value_cmp(&p->hi, &r->lo) < 0 && meets(&p->hi, &r->lo, lo, hi, hi_incl))
            return mask | dbit;
    }
    if (last->has_hi && meets(&last->hi, NULL, lo, hi, hi_incl)) return mask | dbit;
    return mask;
}
