/*
 * datum.c - one column value as the merger sees it: its type class, its
 * order, its canonical bytes for grouping, and its comparison with a SQL
 * constant.  Every value is first decoded into one of a few shapes (a
 * 64-bit integer for bool, integers and date/time types; a double; an
 * exact numeric; bytes), and those are what get compared, so text and
 * binary columns agree and "1.0" equals "1.00".
 *
 * Dates count days and timestamps microseconds from 2000-01-01 as
 * PostgreSQL stores them (date2j's Julian arithmetic); a timestamptz's
 * printed offset is subtracted to get the instant, so values printed in
 * different zones still compare right.  Infinities sit at the ends of the
 * int64 range.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "numeric.h"
#include "sw/datum.h"

#define USECS_PER_DAY INT64_C(86400000000)
#define POSTGRES_EPOCH_JDATE 2451545

sw_dtype sw_dtype_of(uint32_t oid)
{
    switch (oid) {
    case 16: return SW_DT_BOOL;
    case 21: return SW_DT_INT2;
    case 23: return SW_DT_INT4;
    case 20: return SW_DT_INT8;
    case 26: return SW_DT_OID;
    case 1700: return SW_DT_NUMERIC;
    case 700: return SW_DT_FLOAT4;
    case 701: return SW_DT_FLOAT8;
    case 25:
    case 1043:
    case 19:
    case 18:
    case 705: return SW_DT_TEXT;
    case 1042: return SW_DT_BPCHAR;
    case 1082: return SW_DT_DATE;
    case 1083: return SW_DT_TIME;
    case 1114: return SW_DT_TIMESTAMP;
    case 1184: return SW_DT_TIMESTAMPTZ;
    case 2950: return SW_DT_UUID;
    default: return SW_DT_UNSUPPORTED;
    }
}

const char *sw_dtype_name(sw_dtype t)
{
    switch (t) {
    case SW_DT_BOOL: return "boolean";
    case SW_DT_INT2: return "smallint";
    case SW_DT_INT4: return "integer";
    case SW_DT_INT8: return "bigint";
    case SW_DT_OID: return "oid";
    case SW_DT_NUMERIC: return "numeric";
    case SW_DT_FLOAT4: return "real";
    case SW_DT_FLOAT8: return "double precision";
    case SW_DT_TEXT: return "text";
    case SW_DT_BPCHAR: return "character";
    case SW_DT_DATE: return "date";
    case SW_DT_TIME: return "time";
    case SW_DT_TIMESTAMP: return "timestamp";
    case SW_DT_TIMESTAMPTZ: return "timestamptz";
    case SW_DT_UUID: return "uuid";
    default: return "unsupported";
    }
}

/* -------------------------------------------------------------- scanning */

typedef struct scan {
    const char *s;
    size_t i, n;
} scan;

static void scan_init(scan *c, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)s[i])) i++;
    while (n > i && isspace((unsigned char)s[n - 1])) n--;
    c->s = s;
    c->i = i;
    c->n = n;
}

static bool at_end(const scan *c) { return c->i >= c->n; }
static int peek(const scan *c) { return c->i < c->n ? (unsigned char)c->s[c->i] : -1; }

static bool eat(scan *c, char ch)
{
    if (peek(c) != (unsigned char)ch) return false;
    c->i++;
    return true;
}

/* Up to maxd decimal digits (at least one). */
static bool digits(scan *c, int maxd, int64_t *out, int *count)
{
    int64_t v = 0;
    int k = 0;
    while (k < maxd && peek(c) >= '0' && peek(c) <= '9') {
        v = v * 10 + (c->s[c->i++] - '0');
        k++;
    }
    if (count) *count = k;
    *out = v;
    return k > 0;
}

static bool rest_is(const scan *c, const char *word)
{
    size_t w = strlen(word);
    return c->n - c->i == w && strncasecmp(c->s + c->i, word, w) == 0;
}

/* ------------------------------------------------------------ integers */

static int parse_int64(const char *s, size_t n, int64_t *out)
{
    scan c;
    scan_init(&c, s, n);
    bool neg = false;
    if (peek(&c) == '+' || peek(&c) == '-') neg = c.s[c.i++] == '-';
    if (at_end(&c)) return -1;
    uint64_t v = 0;
    while (!at_end(&c)) {
        int ch = peek(&c);
        if (ch < '0' || ch > '9') return -1;
        if (v > (UINT64_C(1) << 63) / 10) return -1;
        v = v * 10 + (uint64_t)(ch - '0');
        if (v > (UINT64_C(1) << 63)) return -1;
        c.i++;
    }
    if (!neg && v > (uint64_t)INT64_MAX) return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* parse_bool: true/false, yes/no, on/off, 1/0 and unique prefixes. */
static int parse_bool(const char *s, size_t n, int64_t *out)
{
    scan c;
    scan_init(&c, s, n);
    const char *p = c.s + c.i;
    size_t l = c.n - c.i;
    if (l == 0) return -1;
    static const struct {
        const char *w;
        size_t minlen;
        int v;
    } words[] = {{"true", 1, 1}, {"false", 1, 0}, {"yes", 1, 1}, {"no", 1, 0}, {"on", 2, 1}, {"off", 2, 0},
                 {"1", 1, 1},    {"0", 1, 0}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (l >= words[i].minlen && l <= strlen(words[i].w) && strncasecmp(p, words[i].w, l) == 0) {
            *out = words[i].v;
            return 0;
        }
    }
    return -1;
}

/* ------------------------------------------------------------ date/time */

/* PostgreSQL's date2j (Julian day number), in 64 bits. */
static int64_t date2j(int64_t y, int64_t m, int64_t d)
{
    if (m > 2) {
        m += 1;
        y += 4800;
    } else {
        m += 13;
        y += 4799;
    }
    int64_t century = y / 100;
    int64_t julian = y * 365 - 32167;
    julian += y / 4 - century + century / 4;
    julian += 7834 * m / 256 + d;
    return julian;
}

/* HH:MM[:SS[.ffffff]] (seconds optional only when lenient) into µs. */
static bool scan_time(scan *c, bool lenient, int64_t *usec)
{
    int64_t h, mi, se = 0, frac = 0;
    if (!digits(c, 2, &h, NULL) || !eat(c, ':') || !digits(c, 2, &mi, NULL)) return false;
    if (eat(c, ':')) {
        if (!digits(c, 2, &se, NULL)) return false;
        if (eat(c, '.')) {
            int k = 0;
            while (peek(c) >= '0' && peek(c) <= '9') {
                int d = c->s[c->i++] - '0';
                if (k < 6)
                    frac = frac * 10 + d;
                else if (k == 6 && d >= 5)
                    frac++; /* round at the microsecond */
                k++;
            }
            if (k == 0) return false;
            for (int j = k; j < 6; j++) frac *= 10;
        }
    } else if (!lenient) {
        return false;
    }
    if (h > 24 || mi > 59 || se > 60 || (h == 24 && (mi || se || frac))) return false;
    *usec = ((h * 60 + mi) * 60 + se) * INT64_C(1000000) + frac;
    return true;
}

/* [+-]HH[:MM[:SS]] or [+-]HHMM: seconds east of Greenwich. */
static bool scan_offset(scan *c, int64_t *secs)
{
    int sign = peek(c) == '-' ? -1 : 1;
    if (!eat(c, '+') && !eat(c, '-')) return false;
    int64_t h, m = 0, s = 0;
    int nd;
    if (!digits(c, 4, &h, &nd)) return false;
    if (nd == 4) {
        m = h % 100;
        h /= 100;
    } else if (nd != 2 && nd != 1) {
        return false;
    } else if (eat(c, ':')) {
        if (!digits(c, 2, &m, NULL)) return false;
        if (eat(c, ':') && !digits(c, 2, &s, NULL)) return false;
    }
    if (h > 15 || m > 59 || s > 59) return false;
    *secs = sign * ((h * 60 + m) * 60 + s);
    return true;
}

typedef enum dt_want { DT_DATE, DT_TIMESTAMP, DT_TIMESTAMPTZ } dt_want;

/* A date, timestamp or timestamptz in text.  Server output (DateStyle ISO)
 * always parses; lenient also takes what a SQL constant may say: a missing
 * time or seconds, 'T' between date and time, 'Z', an offset on a plain
 * timestamp (ignored, as timestamp_in does) and none on a timestamptz
 * (taken as UTC: the session's zone is not known here).  Result: days
 * (DT_DATE) or µs since 2000-01-01, UTC for timestamptz. */
static int parse_datetime(const char *s, size_t n, dt_want want, bool lenient, int64_t *out)
{
    scan c;
    scan_init(&c, s, n);
    if (rest_is(&c, "infinity") || rest_is(&c, "+infinity")) {
        *out = INT64_MAX;
        return 0;
    }
    if (rest_is(&c, "-infinity")) {
        *out = INT64_MIN;
        return 0;
    }
    int64_t y, mo, d, tod = 0, off = 0;
    int nd;
    if (!digits(&c, 7, &y, &nd) || nd < 1 || !eat(&c, '-') || !digits(&c, 2, &mo, NULL) || !eat(&c, '-') ||
        !digits(&c, 2, &d, NULL))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1) return -1;
    bool has_time = false, has_off = false;
    if (want != DT_DATE || lenient) {
        size_t save = c.i;
        if ((eat(&c, ' ') || (lenient && (eat(&c, 'T') || eat(&c, 't')))) && peek(&c) >= '0' && peek(&c) <= '9') {
            if (!scan_time(&c, lenient, &tod)) return -1;
            has_time = true;
            if (peek(&c) == '+' || peek(&c) == '-') {
                if (!scan_offset(&c, &off)) return -1;
                has_off = true;
            } else if (lenient && (eat(&c, 'Z') || eat(&c, 'z'))) {
                has_off = true;
            }
        } else {
            c.i = save;
        }
    }
    if (want != DT_DATE && !has_time && !lenient) return -1;
    if (want == DT_TIMESTAMPTZ && !has_off && !lenient) return -1;
    bool bc = false;
    if (eat(&c, ' ')) {
        if (rest_is(&c, "BC"))
            bc = true;
        else if (!(lenient && rest_is(&c, "AD")))
            return -1;
        c.i = c.n;
    }
    if (!at_end(&c)) return -1;
    if (bc) y = -(y - 1);
    int64_t days = date2j(y, mo, d) - POSTGRES_EPOCH_JDATE;
    if (want == DT_DATE) {
        *out = days;
        return 0;
    }
    if (want == DT_TIMESTAMP) off = 0;
    int64_t t;
    if (__builtin_mul_overflow(days, USECS_PER_DAY, &t) || __builtin_add_overflow(t, tod, &t) ||
        __builtin_sub_overflow(t, off * INT64_C(1000000), &t))
        return -1;
    *out = t;
    return 0;
}

static int parse_time_of_day(const char *s, size_t n, bool lenient, int64_t *out)
{
    scan c;
    scan_init(&c, s, n);
    if (!scan_time(&c, lenient, out) || !at_end(&c)) return -1;
    return 0;
}

/* ------------------------------------------------------------------ uuid */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* uuid_in: 32 hex digits, optionally in braces, a '-' allowed after any
 * group of four. */
static int parse_uuid(const char *s, size_t n, uint8_t out[16])
{
    scan c;
    scan_init(&c, s, n);
    bool brace = eat(&c, '{');
    for (int i = 0; i < 16; i++) {
        int hi = hexval(peek(&c));
        if (hi < 0) return -1;
        c.i++;
        int lo = hexval(peek(&c));
        if (lo < 0) return -1;
        c.i++;
        out[i] = (uint8_t)(hi << 4 | lo);
        if (i % 2 == 1 && i < 15) eat(&c, '-');
    }
    if (brace && !eat(&c, '}')) return -1;
    return at_end(&c) ? 0 : -1;
}

/* --------------------------------------------------------------- decoding */

typedef enum shape { SH_INT, SH_FLOAT, SH_NUM, SH_BYTES } shape;

static shape shape_of(sw_dtype t)
{
    switch (t) {
    case SW_DT_FLOAT4:
    case SW_DT_FLOAT8: return SH_FLOAT;
    case SW_DT_NUMERIC: return SH_NUM;
    case SW_DT_TEXT:
    case SW_DT_BPCHAR:
    case SW_DT_UUID:
    case SW_DT_UNSUPPORTED: return SH_BYTES;
    default: return SH_INT;
    }
}

static int64_t be_int(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    /* sign-extend from n bytes */
    if (n < 8 && (p[0] & 0x80)) v |= ~UINT64_C(0) << (8 * n);
    return (int64_t)v;
}

/* Values of the SH_INT types as one int64; lenient for SQL constants. */
static int decode_int(sw_dtype t, int fmt, const uint8_t *p, uint32_t len, bool lenient, int64_t *out)
{
    const char *s = (const char *)p;
    if (fmt == 1) {
        switch (t) {
        case SW_DT_BOOL:
            if (len != 1) return -1;
            *out = p[0] != 0;
            return 0;
        case SW_DT_INT2:
            if (len != 2) return -1;
            *out = be_int(p, 2);
            return 0;
        case SW_DT_INT4:
            if (len != 4) return -1;
            *out = be_int(p, 4);
            return 0;
        case SW_DT_OID:
            if (len != 4) return -1;
            *out = (int64_t)(uint32_t)be_int(p, 4);
            return 0;
        case SW_DT_DATE: {
            if (len != 4) return -1;
            int64_t d = be_int(p, 4);
            *out = d == INT32_MAX ? INT64_MAX : d == INT32_MIN ? INT64_MIN : d;
            return 0;
        }
        case SW_DT_INT8:
        case SW_DT_TIME:
        case SW_DT_TIMESTAMP:
        case SW_DT_TIMESTAMPTZ:
            if (len != 8) return -1;
            *out = be_int(p, 8);
            return 0;
        default: return -1;
        }
    }
    switch (t) {
    case SW_DT_BOOL:
        if (!lenient) {
            if (len != 1 || (p[0] != 't' && p[0] != 'f')) return -1;
            *out = p[0] == 't';
            return 0;
        }
        return parse_bool(s, len, out);
    case SW_DT_INT2:
        if (parse_int64(s, len, out) < 0 || *out < INT16_MIN || *out > INT16_MAX) return -1;
        return 0;
    case SW_DT_INT4:
        if (parse_int64(s, len, out) < 0 || *out < INT32_MIN || *out > INT32_MAX) return -1;
        return 0;
    case SW_DT_OID:
        if (parse_int64(s, len, out) < 0 || *out < 0 || *out > UINT32_MAX) return -1;
        return 0;
    case SW_DT_INT8: return parse_int64(s, len, out);
    case SW_DT_DATE: return parse_datetime(s, len, DT_DATE, lenient, out);
    case SW_DT_TIME: return parse_time_of_day(s, len, lenient, out);
    case SW_DT_TIMESTAMP: return parse_datetime(s, len, DT_TIMESTAMP, lenient, out);
    case SW_DT_TIMESTAMPTZ: return parse_datetime(s, len, DT_TIMESTAMPTZ, lenient, out);
    default: return -1;
    }
}

/* float4 values are widened: every float4 is exactly a double, in order. */
static int decode_float(sw_dtype t, int fmt, const uint8_t *p, uint32_t len, double *out)
{
    if (fmt == 1) {
        if (t == SW_DT_FLOAT4) {
            if (len != 4) return -1;
            uint32_t b = (uint32_t)be_int(p, 4);
            float f;
            memcpy(&f, &b, 4);
            *out = f;
        } else {
            if (len != 8) return -1;
            uint64_t b = (uint64_t)be_int(p, 8);
            memcpy(out, &b, 8);
        }
        return 0;
    }
    if (t == SW_DT_FLOAT4) {
        float f;
        if (sw_float4_in((const char *)p, len, &f) < 0) return -1;
        *out = f;
        return 0;
    }
    return sw_float8_in((const char *)p, len, out);
}

/* Bytes to compare: bpchar's trailing spaces do not count, a uuid is its
 * 16 bytes whatever the format. */
static int decode_bytes(sw_dtype t, int fmt, const uint8_t *p, uint32_t len, uint8_t uu[16], const uint8_t **bp,
                        uint32_t *bl)
{
    if (t == SW_DT_UUID) {
        if (fmt == 1) {
            if (len != 16) return -1;
            memcpy(uu, p, 16);
        } else if (parse_uuid((const char *)p, len, uu) < 0) {
            return -1;
        }
        *bp = uu;
        *bl = 16;
        return 0;
    }
    if (t == SW_DT_BPCHAR)
        while (len > 0 && p[len - 1] == ' ') len--;
    *bp = p;
    *bl = len;
    return 0;
}

static int cmp_bytes(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
    uint32_t m = alen < blen ? alen : blen;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c < 0 ? -1 : 1;
    return (alen > blen) - (alen < blen);
}

static int cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }

/* float8 btree order: NaN above everything and equal to itself, -0 = 0. */
static int cmp_double(double a, double b)
{
    if (isnan(a)) return isnan(b) ? 0 : 1;
    if (isnan(b)) return -1;
    return (a > b) - (a < b);
}

static void set_bad(bool *bad)
{
    if (bad) *bad = true;
}

int sw_datum_cmp(sw_dtype t, int fmt, const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen, bool *bad)
{
    switch (shape_of(t)) {
    case SH_INT: {
        int64_t x, y;
        if (decode_int(t, fmt, a, alen, false, &x) < 0 || decode_int(t, fmt, b, blen, false, &y) < 0) break;
        return cmp_i64(x, y);
    }
    case SH_FLOAT: {
        double x, y;
        if (decode_float(t, fmt, a, alen, &x) < 0 || decode_float(t, fmt, b, blen, &y) < 0) break;
        return cmp_double(x, y);
    }
    case SH_NUM: {
        sw_num x, y;
        sw_num_init(&x);
        sw_num_init(&y);
        int c = 0, ok = sw_num_decode(&x, fmt, a, alen) == 0 && sw_num_decode(&y, fmt, b, blen) == 0;
        if (ok) c = sw_num_cmp(&x, &y);
        sw_num_clear(&x);
        sw_num_clear(&y);
        if (!ok) break;
        return c;
    }
    case SH_BYTES: {
        if (t == SW_DT_UNSUPPORTED) break;
        uint8_t ua[16], ub[16];
        const uint8_t *pa, *pb;
        uint32_t la, lb;
        if (decode_bytes(t, fmt, a, alen, ua, &pa, &la) < 0 || decode_bytes(t, fmt, b, blen, ub, &pb, &lb) < 0)
            break;
        return cmp_bytes(pa, la, pb, lb);
    }
    }
    set_bad(bad);
    return cmp_bytes(a, alen, b, blen);
}

/* An integer column against a constant that is not an integer ('12.5'):
 * compared as numerics, as PostgreSQL would after resolving the types. */
static int cmp_int_num(int64_t v, const char *konst, bool *bad)
{
    sw_num x, k;
    sw_num_init(&x);
    sw_num_init(&k);
    int c = 0;
    if (sw_num_parse(&k, konst, strlen(konst)) < 0) {
        set_bad(bad);
    } else {
        sw_num_set_int64(&x, v);
        c = sw_num_cmp(&x, &k);
    }
    sw_num_clear(&x);
    sw_num_clear(&k);
    return c;
}

int sw_datum_cmp_text(sw_dtype t, int fmt, const uint8_t *v, uint32_t len, const char *konst, bool *bad)
{
    size_t klen = strlen(konst);
    const uint8_t *kp = (const uint8_t *)konst;
    switch (shape_of(t)) {
    case SH_INT: {
        int64_t x, y;
        if (decode_int(t, fmt, v, len, false, &x) < 0) break;
        if (decode_int(t, 0, kp, (uint32_t)klen, true, &y) == 0) return cmp_i64(x, y);
        if (t == SW_DT_INT2 || t == SW_DT_INT4 || t == SW_DT_INT8 || t == SW_DT_OID) return cmp_int_num(x, konst, bad);
        break;
    }
    case SH_FLOAT: {
        double x, y;
        if (decode_float(t, fmt, v, len, &x) < 0 || decode_float(t, 0, kp, (uint32_t)klen, &y) < 0) break;
        return cmp_double(x, y);
    }
    case SH_NUM: {
        sw_num x, y;
        sw_num_init(&x);
        sw_num_init(&y);
        int c = 0, ok = sw_num_decode(&x, fmt, v, len) == 0 && sw_num_parse(&y, konst, klen) == 0;
        if (ok) c = sw_num_cmp(&x, &y);
        sw_num_clear(&x);
        sw_num_clear(&y);
        if (!ok) break;
        return c;
    }
    case SH_BYTES: {
        if (t == SW_DT_UNSUPPORTED) break;
        uint8_t ua[16], ub[16];
        const uint8_t *pa, *pb;
        uint32_t la, lb;
        if (decode_bytes(t, fmt, v, len, ua, &pa, &la) < 0 || decode_bytes(t, 0, kp, (uint32_t)klen, ub, &pb, &lb) < 0)
            break;
        return cmp_bytes(pa, la, pb, lb);
    }
    }
    set_bad(bad);
    return cmp_bytes(v, len, kp, (uint32_t)klen);
}

static size_t put_be64(uint64_t x, uint8_t *buf, size_t cap)
{
    for (size_t i = 0; i < 8 && i < cap; i++) buf[i] = (uint8_t)(x >> (56 - 8 * i));
    return 8;
}

int sw_datum_canon(sw_dtype t, int fmt, const uint8_t *v, uint32_t len, uint8_t *buf, size_t cap)
{
    switch (shape_of(t)) {
    case SH_INT: {
        int64_t x;
        if (decode_int(t, fmt, v, len, false, &x) < 0) return -1;
        return (int)put_be64((uint64_t)x, buf, cap);
    }
    case SH_FLOAT: {
        double x;
        if (decode_float(t, fmt, v, len, &x) < 0) return -1;
        /* One NaN, one zero. */
        if (isnan(x)) x = NAN;
        if (x == 0.0) x = 0.0;
        uint64_t b;
        memcpy(&b, &x, 8);
        return (int)put_be64(b, buf, cap);
    }
    case SH_NUM: {
        sw_num x;
        sw_num_init(&x);
        int r = -1;
        if (sw_num_decode(&x, fmt, v, len) == 0) r = (int)sw_num_canon(&x, buf, cap);
        sw_num_clear(&x);
        return r;
    }
    case SH_BYTES: {
        if (t == SW_DT_UNSUPPORTED) return -1;
        uint8_t uu[16];
        const uint8_t *p;
        uint32_t l;
        if (decode_bytes(t, fmt, v, len, uu, &p, &l) < 0) return -1;
        if (l > INT32_MAX) return -1;
        if (cap) memcpy(buf, p, l < cap ? l : cap);
        return (int)l;
    }
    }
    return -1;
}
