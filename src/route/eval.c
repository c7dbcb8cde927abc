/*
 * eval.c - evaluating one table occurrence's key constraint against the
 * statement's constants and Bind values: the set of the table function's
 * targets that may hold matching rows.  Equalities dispatch, ranges use
 * the function's range mask, AND intersects, OR unites; a value that is
 * unknown here (no Bind value, NULL, an undecodable literal) leaves the
 * key unbounded, one that is not valid for the key type is an error.
 *
 * Also the error and reason writers every evaluation step uses.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "route_int.h"

/* ---------------------------------------------------------------- output */

int sw_eval_error(sw_eval *e, const char *sqlstate, const char *fmt, ...)
{
    sw_route_out *out = e->out;
    out->status = SW_ROUTE_ERROR;
    memcpy(out->sqlstate, sqlstate, 5);
    out->sqlstate[5] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
    sw_eval_reason(e, "error %s: %s", out->sqlstate, out->message);
    return SW_ROUTE_ERROR;
}

void sw_eval_reason(sw_eval *e, const char *fmt, ...)
{
    sw_route_out *out = e->out;
    size_t cap = sizeof out->reason;
    if (e->reason_len + 3 >= cap) return;
    if (e->reason_len) {
        memcpy(out->reason + e->reason_len, "; ", 2);
        e->reason_len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out->reason + e->reason_len, cap - e->reason_len, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    e->reason_len += (size_t)n < cap - e->reason_len ? (size_t)n : cap - 1 - e->reason_len;
}

/* Plain appends for the hot path's reason (no format parsing). */
static void reason_put(sw_eval *e, const char *s, size_t n)
{
    size_t cap = sizeof e->out->reason;
    if (e->reason_len + 1 >= cap) return;
    if (n > cap - 1 - e->reason_len) n = cap - 1 - e->reason_len;
    memcpy(e->out->reason + e->reason_len, s, n);
    e->reason_len += n;
    e->out->reason[e->reason_len] = '\0';
}

static void reason_str(sw_eval *e, const char *s)
{
    reason_put(e, s, strlen(s));
}

static void reason_u64(sw_eval *e, uint64_t v, bool neg)
{
    char buf[24];
    int i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg) buf[--i] = '-';
    reason_put(e, buf + i, sizeof buf - (size_t)i);
}

static void reason_value(sw_eval *e, const sw_value *v)
{
    if (v->type == SW_KEY_INT) {
        reason_u64(e, v->i < 0 ? 0 - (uint64_t)v->i : (uint64_t)v->i, v->i < 0);
        return;
    }
    char vs[96];
    sw_value_format(v, vs, sizeof vs);
    reason_str(e, vs);
}

const sw_conf_table *sw_eval_table(const sw_eval *e, int o)
{
    int t = e->p->occs[o].table;
    return t >= 0 && e->db ? &e->db->tables[t] : NULL;
}

const sw_shardfn *sw_eval_fn(const sw_eval *e, int o)
{
    const sw_conf_table *t = sw_eval_table(e, o);
    return t && t->kind == SW_TABLE_SHARDED ? e->r->fns[t->function] : NULL;
}

/* ---------------------------------------------------------------- values */

static uint64_t all_targets(const sw_shardfn *fn)
{
    int n = sw_shardfn_n_targets(fn);
    return n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
}

static sw_key_type fn_type(const sw_shardfn *fn)
{
    return sw_shardfn_conf(fn)->type;
}

/* The text the directory is asked with: the canonical value. */
static void lookup_text(const sw_value *v, char *out, size_t outsz)
{
    if (v->type == SW_KEY_TEXT || v->type == SW_KEY_NUMERIC) {
        size_t n = v->len < outsz - 1 ? v->len : outsz - 1;
        memcpy(out, v->s, n);
        out[n] = '\0';
    } else if (v->type == SW_KEY_INT) {
        snprintf(out, outsz, "%" PRId64, v->i);
    } else {
        sw_value_format(v, out, outsz);
    }
}

/* Dispatch one canonical value of occurrence o's key: target >= 0, or -1
 * with out filled (no match, lookup). */
static int dispatch(sw_eval *e, int o, const sw_value *v)
{
    const sw_conf_table *t = sw_eval_table(e, o);
    const sw_shardfn *fn = e->r->fns[t->function];
    const sw_conf_function *fc = sw_shardfn_conf(fn);
    char why[96], vs[96];
    why[0] = '\0';
    /* hash buckets are cheaper to recompute than to format in there */
    bool bucket = fc->kind == SW_FN_HASH || fc->kind == SW_FN_EMBEDDED;
    int target = sw_shardfn_dispatch(fn, v, e->in->now_ms, bucket ? NULL : why, bucket ? 0 : sizeof why);
    if (target >= 0) {
        if (e->reason_len) reason_put(e, "; ", 2);
        reason_str(e, t->name);
        reason_put(e, ".", 1);
        reason_str(e, t->key);
        reason_put(e, " = ", 3);
        reason_value(e, v);
        reason_put(e, " -> ", 4);
        reason_str(e, fc->name);
        if (bucket) {
            reason_str(e, fc->kind == SW_FN_HASH ? " hash bucket " : " embedded bucket ");
            reason_u64(e, sw_shardfn_bucket(fn, v), false);
        } else {
            reason_put(e, " ", 1);
            reason_str(e, why);
        }
        reason_put(e, " -> ", 4);
        reason_str(e, sw_shardfn_target_name(fn, target));
        return target;
    }
    sw_value_format(v, vs, sizeof vs);
    if (target == SW_SHARD_LOOKUP) {
        sw_route_out *out = e->out;
        out->status = SW_ROUTE_LOOKUP;
        out->lookup_fn = t->function;
        lookup_text(v, out->lookup_key, sizeof out->lookup_key);
        sw_eval_reason(e, "%s.%s = %s -> %s: not cached, look it up on %s", t->name, t->key, vs,
                       fc->name, sw_node_name(e->r, fc->dir_node));
        return -1;
    }
    sw_eval_error(e, "22023", "no shard for value %s of key %s in table %s (function %s)", vs, t->key,
                  t->name, fc->name);
    return -1;
}

static int invalid(sw_eval *e, int o, const char *raw)
{
    const sw_conf_table *t = sw_eval_table(e, o);
    static const char *const types[] = {"integer", "text", "numeric", "date", "timestamp"};
    sw_key_type kt = fn_type(e->r->fns[t->function]);
    return sw_eval_error(e, "22P02", "invalid value \"%s\" for shard key %s of table %s (%s)", raw,
                         t->key, t->name, (unsigned)kt < 5 ? types[kt] : "?");
}

/* Read v for occurrence o, or the override text when given. */
static sw_lit_status read_key(sw_eval *e, int o, sw_vref v, const char *override, sw_value *out,
                              sw_litbuf *b)
{
    sw_key_type kt = fn_type(sw_eval_fn(e, o));
    if (!override) return sw_lit_read(e, v, kt, out, b);
    if (sw_value_from_text(kt, override, strlen(override), out, b->canon, sizeof b->canon) == 0)
        return SW_LIT_OK;
    snprintf(b->raw, sizeof b->raw, "%s", override);
    return SW_LIT_INVALID;
}

int sw_eval_key(sw_eval *e, int o, sw_vref v, const char *override)
{
    const sw_conf_table *t = sw_eval_table(e, o);
    sw_litbuf b;
    b.heap = NULL;
    sw_value val;
    int rc = -1;
    switch (read_key(e, o, v, override, &val, &b)) {
    case SW_LIT_OK: rc = dispatch(e, o, &val); break;
    case SW_LIT_NULL:
        sw_eval_error(e, "22004", "null value in shard key %s of table %s", t->key, t->name);
        break;
    case SW_LIT_UNKNOWN:
        if (v.kind == SW_VR_PARAM)
            sw_eval_error(e, "08P01", "cannot route: no value for parameter $%d (shard key %s of table %s)",
                          v.idx + 1, t->key, t->name);
        else
            sw_eval_error(e, "0A000", "cannot route: shard key %s of table %s must be a constant or parameter",
                          t->key, t->name);
        break;
    case SW_LIT_INVALID: invalid(e, o, b.raw); break;
    }
    sw_litbuf_release(&b);
    return rc;
}

/* ------------------------------------------------------------ constraints */

typedef struct any_ctx {
    sw_eval *e;
    int o;
    uint64_t mask;
    bool unbounded;
    int n;
    int status; /* set when an element stopped the walk */
} any_ctx;

static int any_elem(void *ctx, const sw_value *v, bool is_null, const char *raw)
{
    (void)raw;
    any_ctx *a = ctx;
    if (is_null) return 0; /* = NULL matches nothing */
    int t = dispatch(a->e, a->o, v);
    if (t < 0) {
        a->status = a->e->out->status;
        return SW_LIT_STOP;
    }
    if (t < 64) a->mask |= (uint64_t)1 << t;
    else a->unbounded = true;
    a->n++;
    return 0;
}

static int eval_node(sw_eval *e, int o, int ci, uint64_t all, uint64_t *mask, bool *bound)
{
    const sw_cons *c = &e->p->cons[ci];
    *mask = all;
    *bound = false;
    switch (c->op) {
    case SW_C_EQ: {
        sw_litbuf b;
        b.heap = NULL;
        sw_value v;
        int rc = 0;
        switch (sw_lit_read(e, c->a, fn_type(sw_eval_fn(e, o)), &v, &b)) {
        case SW_LIT_OK: {
            int t = dispatch(e, o, &v);
            if (t < 0) rc = e->out->status;
            else if (t < 64) *mask = (uint64_t)1 << t, *bound = true;
            break;
        }
        case SW_LIT_INVALID: rc = invalid(e, o, b.raw); break;
        default: break; /* NULL, unknown: unbounded */
        }
        sw_litbuf_release(&b);
        return rc;
    }
    case SW_C_RANGE: {
        const sw_shardfn *fn = sw_eval_fn(e, o);
        sw_litbuf lb, hb;
        lb.heap = hb.heap = NULL;
        sw_value lo, hi;
        bool has_lo = false, has_hi = false;
        int rc = 0;
        if (c->a.kind != SW_VR_NONE) {
            sw_lit_status s = sw_lit_read(e, c->a, fn_type(fn), &lo, &lb);
            if (s == SW_LIT_INVALID) rc = invalid(e, o, lb.raw);
            has_lo = s == SW_LIT_OK;
        }
        if (rc == 0 && c->b.kind != SW_VR_NONE) {
            sw_lit_status s = sw_lit_read(e, c->b, fn_type(fn), &hi, &hb);
            if (s == SW_LIT_INVALID) rc = invalid(e, o, hb.raw);
            has_hi = s == SW_LIT_OK;
        }
        if (rc == 0 && (has_lo || has_hi)) {
            bool li = c->lo_incl, hiincl = c->hi_incl;
            if (c->symmetric && has_lo && has_hi && sw_value_cmp(&lo, &hi) > 0) {
                sw_value tmp = lo;
                lo = hi;
                hi = tmp;
            }
            *mask = sw_shardfn_dispatch_range(fn, has_lo ? &lo : NULL, li, has_hi ? &hi : NULL, hiincl) & all;
            *bound = true;
            const sw_conf_table *t = sw_eval_table(e, o);
            char a[64] = "", z[64] = "";
            if (has_lo) sw_value_format(&lo, a, sizeof a);
            if (has_hi) sw_value_format(&hi, z, sizeof z);
            sw_eval_reason(e, "%s.%s in %s%s, %s%s -> %s range mask %#" PRIx64, t->name, t->key,
                           has_lo && li ? "[" : "(", has_lo ? a : "-inf", has_hi ? z : "+inf",
                           has_hi && hiincl ? "]" : ")", sw_shardfn_conf(fn)->name, *mask);
        }
        sw_litbuf_release(&lb);
        sw_litbuf_release(&hb);
        return rc;
    }
    case SW_C_ANY: {
        sw_litbuf b;
        b.heap = NULL;
        any_ctx ac = {e, o, 0, false, 0, 0};
        int rc = sw_lit_array(e, c->a, fn_type(sw_eval_fn(e, o)), &b, any_elem, &ac);
        int ret = 0;
        if (rc == SW_LIT_STOP) ret = ac.status;
        else if (rc == SW_LIT_INVALID) ret = invalid(e, o, b.raw);
        else if (rc == SW_LIT_OK && !ac.unbounded && ac.n > 0) *mask = ac.mask, *bound = true;
        sw_litbuf_release(&b);
        return ret;
    }
    case SW_C_AND:
        for (int k = c->kid; k >= 0; k = e->p->cons[k].next) {
            uint64_t m;
            bool b;
            int rc = eval_node(e, o, k, all, &m, &b);
            if (rc) return rc;
            *mask &= m;
            *bound |= b;
        }
        return 0;
    case SW_C_OR: {
        uint64_t acc = 0;
        for (int k = c->kid; k >= 0; k = e->p->cons[k].next) {
            uint64_t m;
            bool b;
            int rc = eval_node(e, o, k, all, &m, &b);
            if (rc) return rc;
            if (!b) return 0; /* one unbounded branch: every target */
            acc |= m;
        }
        *mask = acc;
        *bound = true;
        return 0;
    }
    default: return 0;
    }
}

int sw_eval_occ(sw_eval *e, int o, const char *override_key, uint64_t *mask, bool *bound)
{
    const sw_occ *oc = &e->p->occs[o];
    const sw_shardfn *fn = sw_eval_fn(e, o);
    uint64_t all = all_targets(fn);
    *mask = all;
    *bound = false;
    if (override_key || oc->n_rows > 0) {
        /* every row's key (or the override) names one target */
        int n = override_key ? 1 : oc->n_rows;
        uint64_t acc = 0;
        for (int i = 0; i < n; i++) {
            sw_vref v = override_key ? (sw_vref){SW_VR_NONE, 0, -1} : e->p->rows[oc->row0 + i].key;
            int t = sw_eval_key(e, o, v, override_key);
            if (t < 0) return e->out->status;
            if (t >= 64) return 0;
            acc |= (uint64_t)1 << t;
        }
        *mask = acc;
        *bound = true;
        return 0;
    }
    if (oc->cons < 0) return 0;
    int rc = eval_node(e, o, oc->cons, all, mask, bound);
    /* Contradicting conditions (key = 1 AND key = 2) match no row
     * anywhere: any one target answers that. */
    if (rc == 0 && *mask == 0) *mask = all & -all;
    return rc;
}
