/*
 * compare.c - deciding whether two query results agree, and saying
 * precisely where they do not.
 *
 * Shape first (column count, names, type OIDs), then rows: in the order
 * received for "-- ordered" queries, otherwise both sides sorted by a
 * canonical order (their bytes, floats by value) so that a multiset
 * comparison becomes a walk in step.  Values must be byte-identical except
 * float4/float8, which may differ by a relative OR_FLOAT_TOLERANCE: a sum
 * of floats depends on the order its rows were added in.
 *
 * Binary values are decoded for the report (integers, floats, numeric,
 * dates, timestamps, uuid, text); when two decoded values look the same but
 * their bytes differ, the bytes are shown too.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

#define OID_BOOL 16
#define OID_CHAR 18
#define OID_NAME 19
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_OID 26
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_UNKNOWN 705
#define OID_BPCHAR 1042
#define OID_VARCHAR 1043
#define OID_DATE 1082
#define OID_TIME 1083
#define OID_TIMESTAMP 1114
#define OID_TIMESTAMPTZ 1184
#define OID_INTERVAL 1186
#define OID_NUMERIC 1700
#define OID_UUID 2950

/* A rendered value longer than this is cut, and so is a rendered row. */
#define VALUE_MAX 160
#define ROW_MAX 1200

const char *or_type_name(unsigned oid)
{
    switch (oid) {
    case OID_BOOL: return "bool";
    case OID_CHAR: return "char";
    case OID_NAME: return "name";
    case OID_INT8: return "int8";
    case OID_INT2: return "int2";
    case OID_INT4: return "int4";
    case OID_TEXT: return "text";
    case OID_OID: return "oid";
    case OID_FLOAT4: return "float4";
    case OID_FLOAT8: return "float8";
    case OID_UNKNOWN: return "unknown";
    case OID_BPCHAR: return "bpchar";
    case OID_VARCHAR: return "varchar";
    case OID_DATE: return "date";
    case OID_TIME: return "time";
    case OID_TIMESTAMP: return "timestamp";
    case OID_TIMESTAMPTZ: return "timestamptz";
    case OID_INTERVAL: return "interval";
    case OID_NUMERIC: return "numeric";
    case OID_UUID: return "uuid";
    default: return NULL;
    }
}

static bool is_float(Oid t)
{
    return t == OID_FLOAT4 || t == OID_FLOAT8;
}

/* ------------------------------------------------------------ decoding */

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* A float column's value as a double; false when it does not parse (the
 * caller then compares bytes). */
static bool float_value(const PGresult *r, int row, int col, bool binary, double *out)
{
    const char *v = PQgetvalue(r, row, col);
    int len = PQgetlength(r, row, col);
    if (binary) {
        if (len == 4) {
            uint32_t u = (uint32_t)be((const unsigned char *)v, 4);
            float f;
            memcpy(&f, &u, sizeof f);
            *out = f;
            return true;
        }
        if (len == 8) {
            uint64_t u = be((const unsigned char *)v, 8);
            memcpy(out, &u, sizeof *out);
            return true;
        }
        return false;
    }
    char *end;
    *out = strtod(v, &end);
    return end != v && *end == '\0';
}

static bool float_close(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (a == b)
        return true;
    if (!isfinite(a) || !isfinite(b))
        return false;
    return fabs(a - b) <= OR_FLOAT_TOLERANCE * fmax(fabs(a), fabs(b));
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant). */
static void civil(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

#define PG_EPOCH_DAYS 10957 /* 2000-01-01 in days since 1970-01-01 */

static void render_date(int64_t days_pg, or_buf *out)
{
    int64_t y;
    int m, d;
    civil(days_pg + PG_EPOCH_DAYS, &y, &m, &d);
    if (y > 0)
        or_buf_printf(out, "%04" PRId64 "-%02d-%02d", y, m, d);
    else
        or_buf_printf(out, "%04" PRId64 "-%02d-%02d BC", 1 - y, m, d);
}

static void render_time_of_day(int64_t usec, or_buf *out)
{
    int64_t s = usec / 1000000, frac = usec % 1000000;
    or_buf_printf(out, "%02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
    if (frac) {
        char f[8];
        snprintf(f, sizeof f, "%06d", (int)frac);
        for (int k = 5; k > 0 && f[k] == '0'; k--)
            f[k] = '\0';
        or_buf_printf(out, ".%s", f);
    }
}

static void render_timestamp(int64_t usec, bool tz, or_buf *out)
{
    if (usec == INT64_MAX || usec == INT64_MIN) {
        or_buf_printf(out, "%sinfinity", usec == INT64_MIN ? "-" : "");
        return;
    }
    int64_t day = usec / 86400000000LL, rest = usec % 86400000000LL;
    if (rest < 0) {
        rest += 86400000000LL;
        day--;
    }
    int64_t y;
    int m, d;
    civil(day + PG_EPOCH_DAYS, &y, &m, &d);
    or_buf_printf(out, "%04" PRId64 "-%02d-%02d ", y > 0 ? y : 1 - y, m, d);
    render_time_of_day(rest, out);
    if (tz)
        or_buf_add(out, "+00", 3);
    if (y <= 0)
        or_buf_add(out, " BC", 3);
}

/* PostgreSQL's binary numeric: ndigits, weight, sign, dscale, then base
 * 10000 digits; printed the way numeric_out does. */
static bool render_numeric(const unsigned char *p, int len, or_buf *out)
{
    if (len < 8)
        return false;
    int ndigits = (int16_t)be(p, 2), weight = (int16_t)be(p + 2, 2), dscale = (int16_t)be(p + 6, 2);
    unsigned sign = (unsigned)be(p + 4, 2);
    if (ndigits < 0 || len != 8 + 2 * ndigits || dscale < 0)
        return false;
    if (sign == 0xC000) {
        or_buf_add(out, "NaN", 3);
        return true;
    }
    if (sign == 0xD000 || sign == 0xF000) {
        or_buf_printf(out, "%sInfinity", sign == 0xF000 ? "-" : "");
        return true;
    }
    if (sign == 0x4000)
        or_buf_add(out, "-", 1);
#define DIGIT(i) ((i) >= 0 && (i) < ndigits ? (int)(int16_t)be(p + 8 + 2 * (i), 2) : 0)
    if (weight < 0) {
        or_buf_add(out, "0", 1);
    } else {
        for (int i = 0; i <= weight; i++)
            or_buf_printf(out, i == 0 ? "%d" : "%04d", DIGIT(i));
    }
    if (dscale > 0) {
        or_buf_add(out, ".", 1);
        int left = dscale;
        for (int i = weight + 1; left > 0; i++) {
            char g[8];
            snprintf(g, sizeof g, "%04d", DIGIT(i));
            int take = left < 4 ? left : 4;
            or_buf_add(out, g, (size_t)take);
            left -= take;
        }
    }
#undef DIGIT
    return true;
}

static void render_hex(const char *v, int len, or_buf *out)
{
    or_buf_add(out, "\\x", 2);
    for (int i = 0; i < len && i < VALUE_MAX / 2; i++)
        or_buf_printf(out, "%02x", (unsigned char)v[i]);
    if (len > VALUE_MAX / 2)
        or_buf_printf(out, "...(%d bytes)", len);
}

/* A string bare when it is a plain word or number, else quoted with the
 * bytes that would confuse a reader escaped. */
static void render_string(const char *v, int len, or_buf *out)
{
    bool bare = len > 0 && !(len == 4 && memcmp(v, "NULL", 4) == 0);
    for (int i = 0; i < len && bare; i++) {
        unsigned char c = (unsigned char)v[i];
        bare = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
               c == '-' || c == '+' || c == '_' || c == ':';
    }
    if (bare) {
        or_buf_add(out, v, (size_t)(len < VALUE_MAX ? len : VALUE_MAX));
        if (len > VALUE_MAX)
            or_buf_printf(out, "...(%d bytes)", len);
        return;
    }
    or_buf_add(out, "\"", 1);
    for (int i = 0; i < len && i < VALUE_MAX; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"' || c == '\\')
            or_buf_printf(out, "\\%c", c);
        else if (c == '\n')
            or_buf_add(out, "\\n", 2);
        else if (c == '\t')
            or_buf_add(out, "\\t", 2);
        else if (c < 0x20 || c == 0x7f)
            or_buf_printf(out, "\\x%02x", c);
        else
            or_buf_add(out, (const char *)&c, 1);
    }
    or_buf_add(out, "\"", 1);
    if (len > VALUE_MAX)
        or_buf_printf(out, "...(%d bytes)", len);
}

static bool render_binary(Oid t, const char *v, int len, or_buf *out)
{
    const unsigned char *p = (const unsigned char *)v;
    switch (t) {
    case OID_BOOL:
        if (len != 1) return false;
        or_buf_printf(out, "%s", p[0] ? "t" : "f");
        return true;
    case OID_INT2:
        if (len != 2) return false;
        or_buf_printf(out, "%d", (int)(int16_t)be(p, 2));
        return true;
    case OID_INT4:
        if (len != 4) return false;
        or_buf_printf(out, "%" PRId32, (int32_t)be(p, 4));
        return true;
    case OID_INT8:
        if (len != 8) return false;
        or_buf_printf(out, "%" PRId64, (int64_t)be(p, 8));
        return true;
    case OID_OID:
        if (len != 4) return false;
        or_buf_printf(out, "%" PRIu32, (uint32_t)be(p, 4));
        return true;
    case OID_FLOAT4:
    case OID_FLOAT8: {
        double d;
        if (len == 4) {
            float f;
            uint32_t u32 = (uint32_t)be(p, 4);
            memcpy(&f, &u32, sizeof f);
            d = f;
        } else if (len == 8) {
            uint64_t u = be(p, 8);
            memcpy(&d, &u, sizeof d);
        } else {
            return false;
        }
        or_buf_printf(out, len == 4 ? "%.9g" : "%.17g", d);
        return true;
    }
    case OID_NUMERIC:
        return render_numeric(p, len, out);
    case OID_DATE: {
        if (len != 4) return false;
        int32_t days = (int32_t)be(p, 4);
        if (days == INT32_MAX || days == INT32_MIN)
            or_buf_printf(out, "%sinfinity", days == INT32_MIN ? "-" : "");
        else
            render_date(days, out);
        return true;
    }
    case OID_TIME:
        if (len != 8) return false;
        render_time_of_day((int64_t)be(p, 8), out);
        return true;
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ:
        if (len != 8) return false;
        or_buf_add(out, "\"", 1);
        render_timestamp((int64_t)be(p, 8), t == OID_TIMESTAMPTZ, out);
        or_buf_add(out, "\"", 1);
        return true;
    case OID_UUID:
        if (len != 16) return false;
        for (int i = 0; i < 16; i++)
            or_buf_printf(out, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", p[i]);
        return true;
    case OID_TEXT:
    case OID_VARCHAR:
    case OID_BPCHAR:
    case OID_NAME:
    case OID_UNKNOWN:
        render_string(v, len, out);
        return true;
    default:
        return false;
    }
}

void or_render_value(const PGresult *r, int row, int col, bool binary, or_buf *out)
{
    if (PQgetisnull(r, row, col)) {
        or_buf_add(out, "NULL", 4);
        return;
    }
    const char *v = PQgetvalue(r, row, col);
    int len = PQgetlength(r, row, col);
    if (!binary) {
        render_string(v, len, out);
        return;
    }
    size_t mark = out->len;
    if (!render_binary(PQftype(r, col), v, len, out)) {
        out->len = mark;
        if (out->s)
            out->s[mark] = '\0';
        render_hex(v, len, out);
    }
}

static void render_row(const PGresult *r, int row, bool binary, or_buf *out)
{
    if (row < 0 || row >= PQntuples(r)) {
        or_buf_printf(out, "(no row)");
        return;
    }
    size_t start = out->len;
    or_buf_add(out, "(", 1);
    for (int c = 0; c < PQnfields(r); c++) {
        if (c)
            or_buf_add(out, ", ", 2);
        or_render_value(r, row, c, binary, out);
        if (out->len - start > ROW_MAX) {
            or_buf_printf(out, ", ...");
            break;
        }
    }
    or_buf_add(out, ")", 1);
}

/* ------------------------------------------------------------ ordering */

/* The canonical order both sides are sorted by: NULLs last, floats by
 * value (NaN after numbers), everything else by bytes. */
static int cmp_value(const PGresult *a, int ra, const PGresult *b, int rb, int col, bool binary)
{
    bool na = PQgetisnull(a, ra, col), nb = PQgetisnull(b, rb, col);
    if (na || nb)
        return na == nb ? 0 : na ? 1 : -1;
    if (is_float(PQftype(a, col)) && is_float(PQftype(b, col))) {
        double x, y;
        if (float_value(a, ra, col, binary, &x) && float_value(b, rb, col, binary, &y)) {
            if (isnan(x) || isnan(y))
                return isnan(x) == isnan(y) ? 0 : isnan(x) ? 1 : -1;
            return x < y ? -1 : x > y ? 1 : 0;
        }
    }
    int la = PQgetlength(a, ra, col), lb = PQgetlength(b, rb, col);
    int m = memcmp(PQgetvalue(a, ra, col), PQgetvalue(b, rb, col), (size_t)(la < lb ? la : lb));
    if (m)
        return m;
    return la < lb ? -1 : la > lb;
}

static bool value_equal(const PGresult *a, int ra, const PGresult *b, int rb, int col, bool binary)
{
    bool na = PQgetisnull(a, ra, col), nb = PQgetisnull(b, rb, col);
    if (na || nb)
        return na == nb;
    if (is_float(PQftype(a, col)) && is_float(PQftype(b, col))) {
        double x, y;
        if (float_value(a, ra, col, binary, &x) && float_value(b, rb, col, binary, &y))
            return float_close(x, y);
    }
    int la = PQgetlength(a, ra, col), lb = PQgetlength(b, rb, col);
    return la == lb && memcmp(PQgetvalue(a, ra, col), PQgetvalue(b, rb, col), (size_t)la) == 0;
}

typedef struct sort_ctx {
    const PGresult *r;
    bool binary;
} sort_ctx;

static int cmp_rows(const void *x, const void *y, void *arg)
{
    const sort_ctx *ctx = arg;
    int ra = *(const int *)x, rb = *(const int *)y;
    for (int c = 0; c < PQnfields(ctx->r); c++) {
        int d = cmp_value(ctx->r, ra, ctx->r, rb, c, ctx->binary);
        if (d)
            return d;
    }
    return ra < rb ? -1 : ra > rb;
}

/* Row numbers of r in the order they are compared in (caller frees). */
static int *row_order(const PGresult *r, bool ordered, bool binary)
{
    int n = PQntuples(r);
    int *idx = or_xmalloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    for (int i = 0; i < n; i++)
        idx[i] = i;
    if (!ordered && n > 1) {
        sort_ctx ctx = {r, binary};
        qsort_r(idx, (size_t)n, sizeof *idx, cmp_rows, &ctx);
    }
    return idx;
}

/* ------------------------------------------------------------ comparing */

static void type_label(Oid t, or_buf *out)
{
    const char *n = or_type_name(t);
    if (n)
        or_buf_printf(out, "%s(%u)", n, t);
    else
        or_buf_printf(out, "%u", t);
}

static void column_list(const PGresult *r, or_buf *out)
{
    or_buf_add(out, "[", 1);
    for (int c = 0; c < PQnfields(r); c++)
        or_buf_printf(out, "%s%s", c ? ", " : "", PQfname(r, c));
    or_buf_add(out, "]", 1);
}

static bool compare_shape(const PGresult *p, const PGresult *o, or_buf *diff)
{
    if (PQnfields(p) != PQnfields(o)) {
        or_buf_printf(diff, "column count: proxy %d ", PQnfields(p));
        column_list(p, diff);
        or_buf_printf(diff, ", oracle %d ", PQnfields(o));
        column_list(o, diff);
        return false;
    }
    for (int c = 0; c < PQnfields(p); c++) {
        if (strcmp(PQfname(p, c), PQfname(o, c)) != 0) {
            or_buf_printf(diff, "column %d name: proxy \"%s\", oracle \"%s\"", c + 1, PQfname(p, c), PQfname(o, c));
            return false;
        }
        if (PQftype(p, c) != PQftype(o, c)) {
            or_buf_printf(diff, "column %d \"%s\" type: proxy ", c + 1, PQfname(p, c));
            type_label(PQftype(p, c), diff);
            or_buf_printf(diff, ", oracle ");
            type_label(PQftype(o, c), diff);
            return false;
        }
    }
    return true;
}

bool or_compare(const PGresult *proxy, const PGresult *oracle, bool ordered, bool binary, or_buf *diff)
{
    if (!compare_shape(proxy, oracle, diff))
        return false;
    int np = PQntuples(proxy), no = PQntuples(oracle), nc = PQnfields(proxy);
    int *ip = row_order(proxy, ordered, binary), *io = row_order(oracle, ordered, binary);
    int at = -1, col = -1;
    for (int i = 0; i < np && i < no && at < 0; i++) {
        for (int c = 0; c < nc; c++) {
            if (!value_equal(proxy, ip[i], oracle, io[i], c, binary)) {
                at = i;
                col = c;
                break;
            }
        }
    }
    if (at < 0 && np != no)
        at = np < no ? np : no;
    bool same = at < 0;
    if (!same) {
        if (np != no)
            or_buf_printf(diff, "row count: proxy %d, oracle %d; ", np, no);
        or_buf_printf(diff, "first difference at %srow %d", ordered ? "" : "sorted ", at + 1);
        if (col >= 0)
            or_buf_printf(diff, " column %d \"%s\"", col + 1, PQfname(proxy, col));
        or_buf_printf(diff, ": proxy ");
        render_row(proxy, at < np ? ip[at] : -1, binary, diff);
        or_buf_printf(diff, " oracle ");
        render_row(oracle, at < no ? io[at] : -1, binary, diff);
        if (col >= 0) {
            /* Decoded alike, different bytes (a numeric's scale, a float's
             * last bit): show the bytes. */
            or_buf a = {0}, b = {0};
            or_render_value(proxy, ip[at], col, binary, &a);
            or_render_value(oracle, io[at], col, binary, &b);
            if (strcmp(or_buf_str(&a), or_buf_str(&b)) == 0 && !PQgetisnull(proxy, ip[at], col)) {
                or_buf_printf(diff, "; bytes: proxy ");
                render_hex(PQgetvalue(proxy, ip[at], col), PQgetlength(proxy, ip[at], col), diff);
                or_buf_printf(diff, " oracle ");
                render_hex(PQgetvalue(oracle, io[at], col), PQgetlength(oracle, io[at], col), diff);
            }
            or_buf_free(&a);
            or_buf_free(&b);
        }
    }
    free(ip);
    free(io);
    return same;
}

void or_dump_rows(const PGresult *r, bool ordered, bool binary, const char *side, int max_rows, or_buf *out)
{
    int n = PQntuples(r);
    int *idx = row_order(r, ordered, binary);
    or_buf_printf(out, "    %s: %d row%s, columns ", side, n, n == 1 ? "" : "s");
    column_list(r, out);
    or_buf_add(out, "\n", 1);
    for (int i = 0; i < n && i < max_rows; i++) {
        or_buf_printf(out, "      %s #%d ", side, i + 1);
        render_row(r, idx[i], binary, out);
        or_buf_add(out, "\n", 1);
    }
    if (n > max_rows)
        or_buf_printf(out, "      %s ... %d more\n", side, n - max_rows);
    free(idx);
}
