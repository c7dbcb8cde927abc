/*
 * agg.c - combining the shards' partial aggregates of one group into the
 * value a single PostgreSQL 15 server would have printed.
 *
 * Counts and integer sums add in int64 (int8pl's overflow error); numeric
 * sums add exactly, keeping the largest display scale as add_var does;
 * float sums add in the column's precision (float4pl/float8pl).  avg over
 * integers and numerics is sum/count through numeric_div's scale rule; avg
 * over floats divides in double.  The variances and standard deviations
 * redo numeric_stddev_internal on the summed count, sum(x::numeric) and
 * sum(x::numeric * x::numeric) the shards return.
 *
 * Floats are where a merged answer can differ from the server's:
 *  - float sums are added in another order than one server's running sum,
 *    so the last digit may differ;
 *  - a float column's variance is computed from the exact numeric sums and
 *    converted to double at the end, while PostgreSQL computes it in double
 *    (Youngs-Cramer) from the values themselves; x::numeric keeps only 15
 *    significant digits of a float8 (6 of a float4), so the result agrees
 *    to about that many digits, and values differing only beyond them have
 *    variance 0 here;
 *  - avg(float8) on one server fails when its internal sum of squares
 *    overflows (values near 1e300); the merged avg does not need it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numeric.h"
#include "sw/datum.h"

struct sw_agg {
    sw_agg_kind kind;
    sw_agg_col out, in[3];
    bool have;          /* a non-NULL partial was added */
    int64_t i;          /* count, int8 sum, bool */
    double d;           /* float8 sum */
    float f;            /* float4 sum */
    sw_num n1, n2;      /* numeric sum; variance: Sx, Sxx */
    uint8_t *best;      /* MIN/MAX: a copy of the best value */
    uint32_t best_len;
    size_t best_cap;
    uint8_t *res;       /* final value, once computed */
    int res_len;        /* its length, -1 NULL, -2 error, -3 not computed yet */
    char res_err[128];
};

static bool is_one_of(sw_dtype t, sw_dtype a, sw_dtype b)
{
    return t == a || t == b;
}

sw_agg *sw_agg_new(sw_agg_kind kind, sw_agg_col out, const sw_agg_col in[3])
{
    static const sw_agg_col none[3];
    if (!in) in = none;
    bool ok = false;
    sw_dtype o = out.type;
    switch (kind) {
    case SW_AGG_COUNT: ok = o == SW_DT_INT8; break;
    case SW_AGG_SUM:
        ok = o == SW_DT_INT8 || o == SW_DT_NUMERIC || o == SW_DT_FLOAT4 || o == SW_DT_FLOAT8;
        break;
    case SW_AGG_MIN:
    case SW_AGG_MAX: ok = o != SW_DT_UNSUPPORTED; break;
    case SW_AGG_BOOL_AND:
    case SW_AGG_BOOL_OR: ok = o == SW_DT_BOOL; break;
    case SW_AGG_AVG:
        if (in[0].type != SW_DT_INT8) break;
        if (o == SW_DT_NUMERIC)
            ok = is_one_of(in[1].type, SW_DT_INT8, SW_DT_NUMERIC);
        else if (o == SW_DT_FLOAT8)
            ok = in[1].type == SW_DT_FLOAT8 || (in[1].type == SW_DT_FLOAT4 && in[2].type == SW_DT_FLOAT8);
        break;
    case SW_AGG_VAR_SAMP:
    case SW_AGG_VAR_POP:
    case SW_AGG_STDDEV_SAMP:
    case SW_AGG_STDDEV_POP:
        ok = is_one_of(o, SW_DT_NUMERIC, SW_DT_FLOAT8) && in[0].type == SW_DT_INT8 && in[1].type == SW_DT_NUMERIC &&
             in[2].type == SW_DT_NUMERIC;
        break;
    }
    if (!ok || (out.fmt != 0 && out.fmt != 1)) return NULL;
    sw_agg *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->kind = kind;
    a->out = out;
    for (int k = 0; k < 3; k++) a->in[k] = in[k];
    sw_num_init(&a->n1);
    sw_num_init(&a->n2);
    a->res_len = -3; /* not computed */
    return a;
}

void sw_agg_free(sw_agg *a)
{
    if (!a) return;
    sw_num_clear(&a->n1);
    sw_num_clear(&a->n2);
    free(a->best);
    free(a->res);
    free(a);
}

size_t sw_agg_size(const sw_agg *a)
{
    size_t limbs = mpz_size(a->n1.v) + mpz_size(a->n2.v);
    return sizeof *a + a->best_cap + limbs * sizeof(mp_limb_t) + (a->res_len > 0 ? (size_t)a->res_len : 0);
}

/* ----------------------------------------------------------- decoding */

static int fail(char *err, size_t errsz, const char *msg)
{
    if (err && errsz) snprintf(err, errsz, "%s", msg);
    return -1;
}

static int get_int8(int fmt, const uint8_t *p, int32_t len, int64_t *out)
{
    if (fmt == 1) {
        if (len != 8) return -1;
        uint64_t v = 0;
        for (int k = 0; k < 8; k++) v = v << 8 | p[k];
        *out = (int64_t)v;
        return 0;
    }
    char tmp[32];
    if (len <= 0 || len >= (int32_t)sizeof tmp) return -1;
    memcpy(tmp, p, (size_t)len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (end == tmp || *end || errno) return -1;
    *out = v;
    return 0;
}

static int get_double(sw_dtype t, int fmt, const uint8_t *p, int32_t len, double *out)
{
    if (fmt == 1) {
        if (t == SW_DT_FLOAT4) {
            if (len != 4) return -1;
            uint32_t b = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
            float f;
            memcpy(&f, &b, 4);
            *out = f;
            return 0;
        }
        if (len != 8) return -1;
        uint64_t b = 0;
        for (int k = 0; k < 8; k++) b = b << 8 | p[k];
        memcpy(out, &b, 8);
        return 0;
    }
    if (t == SW_DT_FLOAT4) {
        float f;
        if (sw_float4_in((const char *)p, (size_t)len, &f) < 0) return -1;
        *out = f;
        return 0;
    }
    return sw_float8_in((const char *)p, (size_t)len, out);
}

/* A partial sum as an exact numeric (int8 sums of int2/int4 columns too). */
static int get_num(sw_agg_col c, const uint8_t *p, int32_t len, sw_num *out)
{
    if (c.type == SW_DT_INT8) {
        int64_t v;
        if (get_int8(c.fmt, p, len, &v) < 0) return -1;
        sw_num_set_int64(out, v);
        return 0;
    }
    return sw_num_decode(out, c.fmt, p, (size_t)len);
}

static int get_bool(int fmt, const uint8_t *p, int32_t len, bool *out)
{
    if (len != 1) return -1;
    if (fmt == 1) {
        *out = p[0] != 0;
        return 0;
    }
    if (p[0] != 't' && p[0] != 'f') return -1;
    *out = p[0] == 't';
    return 0;
}

/* Add v to the numeric accumulator n. */
static int add_num(sw_agg_col c, const uint8_t *p, int32_t len, sw_num *n, bool first)
{
    sw_num x;
    sw_num_init(&x);
    int rc = get_num(c, p, len, &x);
    if (rc == 0) {
        if (first)
            sw_num_copy(n, &x);
        else
            sw_num_add(n, n, &x);
    }
    sw_num_clear(&x);
    return rc;
}

/* ------------------------------------------------------------- adding */

static int add_count(sw_agg *a, const uint8_t *p, int32_t len, char *err, size_t errsz)
{
    int64_t v;
    if (get_int8(a->in[0].fmt, p, len, &v) < 0) return fail(err, errsz, "invalid partial count");
    if (__builtin_add_overflow(a->i, v, &a->i)) return fail(err, errsz, "bigint out of range");
    return 0;
}

static int add_sum(sw_agg *a, const uint8_t *p, int32_t len, char *err, size_t errsz)
{
    switch (a->out.type) {
    case SW_DT_INT8: {
        int64_t v;
        if (get_int8(a->out.fmt, p, len, &v) < 0) return fail(err, errsz, "invalid partial sum");
        if (__builtin_add_overflow(a->i, v, &a->i)) return fail(err, errsz, "bigint out of range");
        break;
    }
    case SW_DT_NUMERIC:
        if (add_num(a->out, p, len, &a->n1, !a->have) < 0) return fail(err, errsz, "invalid partial sum");
        break;
    case SW_DT_FLOAT8: {
        double v;
        if (get_double(SW_DT_FLOAT8, a->out.fmt, p, len, &v) < 0) return fail(err, errsz, "invalid partial sum");
        double r = a->d + v;
        if (isinf(r) && !isinf(a->d) && !isinf(v)) return fail(err, errsz, "value out of range: overflow");
        a->d = r;
        break;
    }
    default: { /* float4: added in single precision, as float4pl */
        double v;
        if (get_double(SW_DT_FLOAT4, a->out.fmt, p, len, &v) < 0) return fail(err, errsz, "invalid partial sum");
        volatile float r = a->f + (float)v;
        if (isinf(r) && !isinf(a->f) && !isinf((float)v)) return fail(err, errsz, "value out of range: overflow");
        a->f = r;
        break;
    }
    }
    a->have = true;
    return 0;
}

static int add_minmax(sw_agg *a, const uint8_t *p, int32_t len, char *err, size_t errsz)
{
    if (a->have) {
        bool bad = false;
        int c = sw_datum_cmp(a->out.type, a->out.fmt, p, (uint32_t)len, a->best, a->best_len, &bad);
        if (bad) return fail(err, errsz, "invalid partial value");
        if (a->kind == SW_AGG_MIN ? c >= 0 : c <= 0) return 0;
    } else {
        /* Check it decodes even when there is nothing to compare with. */
        bool bad = false;
        sw_datum_cmp(a->out.type, a->out.fmt, p, (uint32_t)len, p, (uint32_t)len, &bad);
        if (bad) return fail(err, errsz, "invalid partial value");
    }
    if ((size_t)len > a->best_cap) {
        size_t cap = (size_t)len < 16 ? 16 : (size_t)len;
        uint8_t *nb = realloc(a->best, cap);
        if (!nb) return fail(err, errsz, "out of memory");
        a->best = nb;
        a->best_cap = cap;
    }
    if (len) memcpy(a->best, p, (size_t)len);
    a->best_len = (uint32_t)len;
    a->have = true;
    return 0;
}

static int add_avg(sw_agg *a, const uint8_t *const v[3], const int32_t len[3], char *err, size_t errsz)
{
    int64_t n;
    if (len[0] < 0) return 0;
    if (get_int8(a->in[0].fmt, v[0], len[0], &n) < 0) return fail(err, errsz, "invalid partial count");
    if (n == 0 || len[1] < 0) return 0; /* a shard without rows in the group */
    if (__builtin_add_overflow(a->i, n, &a->i)) return fail(err, errsz, "bigint out of range");
    if (a->out.type == SW_DT_NUMERIC) {
        if (add_num(a->in[1], v[1], len[1], &a->n1, !a->have) < 0) return fail(err, errsz, "invalid partial sum");
    } else if (a->in[1].type == SW_DT_FLOAT8) {
        double s;
        if (get_double(SW_DT_FLOAT8, a->in[1].fmt, v[1], len[1], &s) < 0)
            return fail(err, errsz, "invalid partial sum");
        a->d += s;
    } else {
        /* A float4 sum lost precision on the shard; avg * count did not. */
        double avg;
        if (len[2] < 0 || get_double(SW_DT_FLOAT8, a->in[2].fmt, v[2], len[2], &avg) < 0)
            return fail(err, errsz, "invalid partial avg");
        a->d += avg * (double)n;
    }
    a->have = true;
    return 0;
}

static int add_var(sw_agg *a, const uint8_t *const v[3], const int32_t len[3], char *err, size_t errsz)
{
    int64_t n;
    if (len[0] < 0) return 0;
    if (get_int8(a->in[0].fmt, v[0], len[0], &n) < 0) return fail(err, errsz, "invalid partial count");
    if (n == 0 || len[1] < 0 || len[2] < 0) return 0;
    if (__builtin_add_overflow(a->i, n, &a->i)) return fail(err, errsz, "bigint out of range");
    if (add_num(a->in[1], v[1], len[1], &a->n1, !a->have) < 0 ||
        add_num(a->in[2], v[2], len[2], &a->n2, !a->have) < 0)
        return fail(err, errsz, "invalid partial sum");
    a->have = true;
    return 0;
}

int sw_agg_add(sw_agg *a, const uint8_t *const v[3], const int32_t len[3], char *err, size_t errsz)
{
    free(a->res); /* a cached final value is stale now */
    a->res = NULL;
    a->res_len = -3;
    switch (a->kind) {
    case SW_AGG_COUNT:
        if (len[0] < 0) return 0;
        a->in[0] = a->out;
        if (add_count(a, v[0], len[0], err, errsz) < 0) return -1;
        a->have = true;
        return 0;
    case SW_AGG_SUM: return len[0] < 0 ? 0 : add_sum(a, v[0], len[0], err, errsz);
    case SW_AGG_MIN:
    case SW_AGG_MAX: return len[0] < 0 ? 0 : add_minmax(a, v[0], len[0], err, errsz);
    case SW_AGG_BOOL_AND:
    case SW_AGG_BOOL_OR: {
        if (len[0] < 0) return 0;
        bool b;
        if (get_bool(a->out.fmt, v[0], len[0], &b) < 0) return fail(err, errsz, "invalid partial boolean");
        if (!a->have)
            a->i = b;
        else
            a->i = a->kind == SW_AGG_BOOL_AND ? (a->i && b) : (a->i || b);
        a->have = true;
        return 0;
    }
    case SW_AGG_AVG: return add_avg(a, v, len, err, errsz);
    default: return add_var(a, v, len, err, errsz);
    }
}

/* ------------------------------------------------------------- output */

typedef struct outbuf {
    uint8_t *p;
    int len;
} outbuf;

static int own(outbuf *o, const void *src, size_t n)
{
    o->p = malloc(n ? n : 1);
    if (!o->p) return -1;
    if (n) memcpy(o->p, src, n);
    o->len = (int)n;
    return 0;
}

static int out_int8(const sw_agg *a, int64_t v, outbuf *o)
{
    if (a->out.fmt == 1) {
        uint8_t b[8];
        for (int k = 0; k < 8; k++) b[k] = (uint8_t)((uint64_t)v >> (56 - 8 * k));
        return own(o, b, 8);
    }
    char t[24];
    int n = snprintf(t, sizeof t, "%lld", (long long)v);
    return own(o, t, (size_t)n);
}

static int out_float8(const sw_agg *a, double v, outbuf *o)
{
    if (a->out.fmt == 1) {
        uint64_t b64;
        memcpy(&b64, &v, 8);
        uint8_t b[8];
        for (int k = 0; k < 8; k++) b[k] = (uint8_t)(b64 >> (56 - 8 * k));
        return own(o, b, 8);
    }
    char t[SW_FLOAT_TEXT_MAX];
    int n = sw_float8_out(v, t);
    return own(o, t, (size_t)n);
}

static int out_float4(const sw_agg *a, float v, outbuf *o)
{
    if (a->out.fmt == 1) {
        uint32_t b32;
        memcpy(&b32, &v, 4);
        uint8_t b[4] = {(uint8_t)(b32 >> 24), (uint8_t)(b32 >> 16), (uint8_t)(b32 >> 8), (uint8_t)b32};
        return own(o, b, 4);
    }
    char t[SW_FLOAT_TEXT_MAX];
    int n = sw_float4_out(v, t);
    return own(o, t, (size_t)n);
}

static int out_num(const sw_agg *a, const sw_num *n, outbuf *o)
{
    size_t len;
    void *p = a->out.fmt == 1 ? (void *)sw_num_to_bin(n, &len) : (void *)sw_num_to_text(n, &len);
    if (!p) return -1;
    o->p = p;
    o->len = (int)len;
    return 0;
}

static int out_bool(const sw_agg *a, bool b, outbuf *o)
{
    uint8_t c = a->out.fmt == 1 ? (uint8_t)b : (uint8_t)(b ? 't' : 'f');
    return own(o, &c, 1);
}

/* numeric_stddev_internal on N, Sx = n1, Sxx = n2 (N > 0, finite sums).
 * Leaves the result in r. */
static void numeric_var(const sw_agg *a, sw_num *r)
{
    bool sample = a->kind == SW_AGG_VAR_SAMP || a->kind == SW_AGG_STDDEV_SAMP;
    bool var = a->kind == SW_AGG_VAR_SAMP || a->kind == SW_AGG_VAR_POP;
    sw_num vn, sx2, nsxx, num, den, n1;
    sw_num_init(&vn);
    sw_num_init(&sx2);
    sw_num_init(&nsxx);
    sw_num_init(&num);
    sw_num_init(&den);
    sw_num_init(&n1);
    sw_num_set_int64(&vn, a->i);
    int rscale = a->n1.dscale * 2;
    sw_num_mul(&sx2, &a->n1, &a->n1, rscale);
    sw_num_mul(&nsxx, &vn, &a->n2, rscale);
    sw_num_sub(&num, &nsxx, &sx2);
    if (sw_num_sign(&num) <= 0) {
        /* Rounding cannot make it negative here, but the server checks. */
        sw_num_set_zero(r, 0);
    } else {
        sw_num_set_int64(&n1, sample ? a->i - 1 : a->i);
        sw_num_mul(&den, &vn, &n1, 0);
        rscale = sw_num_div_scale(&num, &den);
        sw_num_div(r, &num, &den, rscale);
        if (!var) sw_num_sqrt(r, r, rscale);
    }
    sw_num_clear(&vn);
    sw_num_clear(&sx2);
    sw_num_clear(&nsxx);
    sw_num_clear(&num);
    sw_num_clear(&den);
    sw_num_clear(&n1);
}

/* The variance of a float column: the exact quotient, to double. */
static double float_var(const sw_agg *a)
{
    bool sample = a->kind == SW_AGG_VAR_SAMP || a->kind == SW_AGG_STDDEV_SAMP;
    bool var = a->kind == SW_AGG_VAR_SAMP || a->kind == SW_AGG_VAR_POP;
    sw_num vn, sx2, nsxx, num, den, n1, q;
    sw_num_init(&vn);
    sw_num_init(&sx2);
    sw_num_init(&nsxx);
    sw_num_init(&num);
    sw_num_init(&den);
    sw_num_init(&n1);
    sw_num_init(&q);
    sw_num_set_int64(&vn, a->i);
    sw_num_mul(&sx2, &a->n1, &a->n1, a->n1.dscale * 2);
    sw_num_mul(&nsxx, &vn, &a->n2, a->n2.dscale);
    sw_num_sub(&num, &nsxx, &sx2);
    double d = 0.0;
    if (sw_num_sign(&num) > 0) {
        sw_num_set_int64(&n1, sample ? a->i - 1 : a->i);
        sw_num_mul(&den, &vn, &n1, 0);
        /* 20 more digits than numeric_div keeps: ample for a double. */
        sw_num_div(&q, &num, &den, sw_num_div_scale(&num, &den) + 20);
        d = sw_num_to_double(&q);
        if (!var) d = sqrt(d);
    }
    sw_num_clear(&vn);
    sw_num_clear(&sx2);
    sw_num_clear(&nsxx);
    sw_num_clear(&num);
    sw_num_clear(&den);
    sw_num_clear(&n1);
    sw_num_clear(&q);
    return d;
}

/* The final value into o: 0, 1 for NULL, -1 when out of memory. */
static int compute(sw_agg *a, outbuf *o)
{
    switch (a->kind) {
    case SW_AGG_COUNT: return out_int8(a, a->i, o);
    case SW_AGG_SUM:
        if (!a->have) return 1;
        switch (a->out.type) {
        case SW_DT_INT8: return out_int8(a, a->i, o);
        case SW_DT_NUMERIC: return out_num(a, &a->n1, o);
        case SW_DT_FLOAT8: return out_float8(a, a->d, o);
        default: return out_float4(a, a->f, o);
        }
    case SW_AGG_MIN:
    case SW_AGG_MAX:
        if (!a->have) return 1;
        return own(o, a->best, a->best_len);
    case SW_AGG_BOOL_AND:
    case SW_AGG_BOOL_OR:
        if (!a->have) return 1;
        return out_bool(a, a->i != 0, o);
    case SW_AGG_AVG:
        if (a->i == 0) return 1;
        if (a->out.type == SW_DT_FLOAT8) return out_float8(a, a->d / (double)a->i, o);
        if (a->n1.kind != SW_NUM_FINITE) return out_num(a, &a->n1, o); /* NaN, +-Infinity */
        {
            sw_num cnt, q;
            sw_num_init(&cnt);
            sw_num_init(&q);
            sw_num_set_int64(&cnt, a->i);
            sw_num_div(&q, &a->n1, &cnt, sw_num_div_scale(&a->n1, &cnt));
            int rc = out_num(a, &q, o);
            sw_num_clear(&cnt);
            sw_num_clear(&q);
            return rc;
        }
    default: {
        bool sample = a->kind == SW_AGG_VAR_SAMP || a->kind == SW_AGG_STDDEV_SAMP;
        if (a->i == 0 || (sample && a->i <= 1)) return 1;
        /* Any NaN or infinity among the inputs gives NaN, as in the server. */
        if (a->n1.kind != SW_NUM_FINITE || a->n2.kind != SW_NUM_FINITE) {
            if (a->out.type == SW_DT_FLOAT8) return out_float8(a, NAN, o);
            sw_num nan;
            sw_num_init(&nan);
            nan.kind = SW_NUM_NAN;
            int rc = out_num(a, &nan, o);
            sw_num_clear(&nan);
            return rc;
        }
        if (a->out.type == SW_DT_FLOAT8) return out_float8(a, float_var(a), o);
        sw_num r;
        sw_num_init(&r);
        numeric_var(a, &r);
        int rc = out_num(a, &r, o);
        sw_num_clear(&r);
        return rc;
    }
    }
    return -1;
}

int sw_agg_final(sw_agg *a, uint8_t *buf, size_t cap, char *err, size_t errsz)
{
    if (a->res_len == -3) {
        outbuf o = {NULL, 0};
        int rc = compute(a, &o);
        if (rc == 1) {
            a->res_len = -1;
        } else if (rc < 0) {
            snprintf(a->res_err, sizeof a->res_err, "out of memory");
            a->res_len = -2;
        } else {
            a->res = o.p;
            a->res_len = o.len;
        }
    }
    if (a->res_len == -2) {
        fail(err, errsz, a->res_err);
        return -2;
    }
    if (a->res_len > 0 && cap) memcpy(buf, a->res, (size_t)a->res_len < cap ? (size_t)a->res_len : cap);
    return a->res_len;
}
