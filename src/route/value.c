/*
 * value.c - shard key values (see sw/shard.h): every spelling of a key, text
 * or binary, is read into one canonical form per key type so that hashing
 * and comparing never depend on how the client wrote the value.
 *
 * Numerics are kept as normalised decimal strings and compared digit by
 * digit: a double would round 0.1 + 0.2 and large keys differently from
 * PostgreSQL.  Dates and timestamps use days-from-civil arithmetic on the
 * proleptic Gregorian calendar, never the C library's time zone machinery,
 * so the result is the same on every host.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "sw/shard.h"

#define USEC_PER_SEC INT64_C(1000000)
#define USEC_PER_DAY (INT64_C(86400) * USEC_PER_SEC)
/* 2000-01-01, PostgreSQL's epoch, in days since 1970-01-01. */
#define PG_EPOCH_DAYS 10957

/* ------------------------------------------------------------ helpers */

static void trim(const char **p, const char **end)
{
    while (*p < *end && isspace((unsigned char)**p)) (*p)++;
    while (*end > *p && isspace((unsigned char)(*end)[-1])) (*end)--;
}

static uint64_t be_read(const uint8_t *p, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) x = x << 8 | p[i];
    return x;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

/* Exactly n decimal digits at *p into *out; advances *p. */
static bool fixed_digits(const char **p, const char *end, int n, unsigned *out)
{
    unsigned x = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || !isdigit((unsigned char)**p)) return false;
        x = x * 10 + (unsigned)(**p - '0');
        (*p)++;
    }
    *out = x;
    return true;
}

/* ------------------------------------------------------------ integers */

static int int_from_text(const char *p, const char *end, sw_value *v)
{
    trim(&p, &end);
    bool neg = false;
    if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
    if (p == end) return -1;
    /* Accumulate as a negative number: INT64_MIN has no positive twin. */
    int64_t x = 0;
    for (; p < end; p++) {
        if (!isdigit((unsigned char)*p)) return -1;
        int dg = *p - '0';
        if (x < (INT64_MIN + dg) / 10) return -1;
        x = x * 10 - dg;
    }
    if (!neg) {
        if (x == INT64_MIN) return -1;
        x = -x;
    }
    v->i = x;
    return 0;
}

/* ------------------------------------------------------------ numerics */

/* A digit sequence with the decimal point after `ip` digits, read either
 * from two text runs (integer and fraction part) or from base-10000 groups. */
typedef struct digits {
    const char *a, *b;
    size_t na;
    const uint8_t *groups;
} digits;

static int digit_at(const digits *d, size_t k)
{
    if (d->groups) {
        static const unsigned pow10[] = {1000, 100, 10, 1};
        unsigned g = (unsigned)be_read(d->groups + 2 * (k / 4), 2);
        return (int)(g / pow10[k % 4] % 10);
    }
    return k < d->na ? d->a[k] - '0' : d->b[k - d->na] - '0';
}

/* Write the normalised decimal of ±0.d[0..n) * 10^ip into buf. */
static int numeric_emit(bool neg, const digits *d, size_t n, int64_t ip, sw_value *v, char *buf,
                        size_t bufsz)
{
    size_t first = 0, last = n;
    while (first < n && digit_at(d, first) == 0) first++;
    if (first == n) {
        if (!buf || bufsz < 1) return -1;
        buf[0] = '0';
        if (bufsz > 1) buf[1] = '\0';
        v->s = buf;
        v->len = 1;
        return 0;
    }
    while (digit_at(d, last - 1) == 0) last--;
    size_t sig = last - first;
    int64_t point = ip - (int64_t)first; /* significant digits before the point */
    /* Bound the exponent before it becomes a size: the output must fit anyway. */
    if (point > (int64_t)bufsz || point < -(int64_t)bufsz) return -1;
    size_t need = neg;
    if (point <= 0)
        need += 2 + (size_t)(-point) + sig;
    else if ((size_t)point >= sig)
        need += (size_t)point;
    else
        need += sig + 1;
    if (!buf || need > bufsz) return -1;

    char *o = buf;
    if (neg) *o++ = '-';
    if (point <= 0) {
        *o++ = '0';
        *o++ = '.';
        for (int64_t i = 0; i < -point; i++) *o++ = '0';
        for (size_t k = first; k < last; k++) *o++ = (char)('0' + digit_at(d, k));
    } else {
        for (size_t k = 0; k < sig || (int64_t)k < point; k++) {
            if ((int64_t)k == point) *o++ = '.';
            *o++ = k < sig ? (char)('0' + digit_at(d, first + k)) : '0';
        }
    }
    if (need < bufsz) *o = '\0';
    v->s = buf;
    v->len = (uint32_t)need;
    return 0;
}

static int numeric_from_text(const char *p, const char *end, sw_value *v, char *buf, size_t bufsz)
{
    trim(&p, &end);
    bool neg = false;
    if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
    const char *ip = p;
    while (p < end && isdigit((unsigned char)*p)) p++;
    size_t ni = (size_t)(p - ip);
    const char *fp = p;
    size_t nf = 0;
    if (p < end && *p == '.') {
        fp = ++p;
        while (p < end && isdigit((unsigned char)*p)) p++;
        nf = (size_t)(p - fp);
    }
    if (ni + nf == 0) return -1;
    int64_t exp = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p == end) return -1;
        for (; p < end && isdigit((unsigned char)*p); p++)
            if (exp < 1000000) exp = exp * 10 + (*p - '0'); /* saturates: emit rejects */
        if (eneg) exp = -exp;
    }
    if (p != end) return -1;
    digits d = {.a = ip, .na = ni, .b = fp};
    return numeric_emit(neg, &d, ni + nf, (int64_t)ni + exp, v, buf, bufsz);
}

/* PostgreSQL numeric_send: int16 ndigits, int16 weight, uint16 sign,
 * uint16 dscale, then ndigits base-10000 digits, the first of weight
 * `weight` (value = sum digit[i] * 10000^(weight - i)). */
static int numeric_from_binary(const uint8_t *p, size_t len, sw_value *v, char *buf, size_t bufsz)
{
    if (len < 8) return -1;
    int16_t ndigits = (int16_t)be_read(p, 2);
    int16_t weight = (int16_t)be_read(p + 2, 2);
    uint16_t sign = (uint16_t)be_read(p + 4, 2);
    if (ndigits < 0 || len != 8 + 2 * (size_t)ndigits) return -1;
    if (sign != 0x0000 && sign != 0x4000) return -1; /* NaN, ±Infinity */
    for (int i = 0; i < ndigits; i++)
        if (be_read(p + 8 + 2 * i, 2) > 9999) return -1;
    digits d = {.groups = p + 8};
    return numeric_emit(sign == 0x4000, &d, (size_t)ndigits * 4, ((int64_t)weight + 1) * 4, v, buf,
                        bufsz);
}

/* ------------------------------------------------------------ dates */

/* YYYY-MM-DD at *p (advanced) as days since 2000-01-01. */
static bool date_part(const char **p, const char *end, int64_t *days)
{
    unsigned y, m, d;
    if (!fixed_digits(p, end, 4, &y) || *p >= end || **p != '-') return false;
    (*p)++;
    if (!fixed_digits(p, end, 2, &m) || *p >= end || **p != '-') return false;
    (*p)++;
    if (!fixed_digits(p, end, 2, &d)) return false;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > month_days(y, m)) return false;
    *days = days_from_civil(y, m, d) - PG_EPOCH_DAYS;
    return true;
}

static int date_from_text(const char *p, const char *end, sw_value *v)
{
    trim(&p, &end);
    int64_t days;
    if (!date_part(&p, end, &days) || p != end) return -1;
    v->i = days;
    return 0;
}

/* Zone suffix: Z, ±HH, ±HHMM or ±HH:MM, as seconds east of UTC. */
static bool zone_part(const char **p, const char *end, int64_t *off)
{
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        *off = 0;
        return true;
    }
    if (**p != '+' && **p != '-') return false;
    bool neg = **p == '-';
    (*p)++;
    unsigned h, m = 0;
    if (!fixed_digits(p, end, 2, &h)) return false;
    if (*p < end) {
        if (**p == ':') (*p)++;
        if (!fixed_digits(p, end, 2, &m)) return false;
    }
    if (h > 15 || m > 59) return false;
    *off = (int64_t)(h * 3600 + m * 60) * (neg ? -1 : 1);
    return true;
}

static int timestamp_from_text(const char *p, const char *end, sw_value *v)
{
    trim(&p, &end);
    int64_t days;
    if (!date_part(&p, end, &days)) return -1;
    int64_t us = days * USEC_PER_DAY;
    if (p == end) { /* a bare date is its midnight, as in PostgreSQL */
        v->i = us;
        return 0;
    }
    if (*p != ' ' && *p != 'T' && *p != 't') return -1;
    p++;
    unsigned h, mi, s = 0;
    if (!fixed_digits(&p, end, 2, &h) || p >= end || *p != ':') return -1;
    p++;
    if (!fixed_digits(&p, end, 2, &mi)) return -1;
    int64_t frac = 0;
    if (p < end && *p == ':') {
        p++;
        if (!fixed_digits(&p, end, 2, &s)) return -1;
        if (p < end && *p == '.') {
            p++;
            const char *f0 = p;
            /* Microseconds: six digits, the seventh rounds (as PostgreSQL does). */
            int64_t scale = 100000;
            for (; p < end && isdigit((unsigned char)*p); p++) {
                if (scale > 0) frac += (*p - '0') * scale;
                else if (scale == 0 && *p >= '5') frac++;
                scale = scale > 0 ? scale / 10 : -1;
            }
            if (p == f0) return -1;
        }
    }
    if (h > 23 || mi > 59 || s > 60) return -1;
    us += ((int64_t)h * 3600 + mi * 60 + s) * USEC_PER_SEC + frac;
    while (p < end && *p == ' ') p++;
    if (p < end) {
        int64_t off;
        if (!zone_part(&p, end, &off) || p != end) return -1;
        us -= off * USEC_PER_SEC;
    }
    v->i = us;
    return 0;
}

/* ------------------------------------------------------------ public */

int sw_value_from_text(sw_key_type t, const char *txt, size_t len, sw_value *v, char *buf,
                       size_t bufsz)
{
    const char *end = txt + len;
    memset(v, 0, sizeof *v);
    v->type = t;
    switch (t) {
    case SW_KEY_INT: return int_from_text(txt, end, v);
    case SW_KEY_TEXT:
        if (len > UINT32_MAX) return -1;
        v->s = txt;
        v->len = (uint32_t)len;
        return 0;
    case SW_KEY_NUMERIC: return numeric_from_text(txt, end, v, buf, bufsz);
    case SW_KEY_DATE: return date_from_text(txt, end, v);
    case SW_KEY_TIMESTAMP: return timestamp_from_text(txt, end, v);
    }
    return -1;
}

int sw_value_from_binary(sw_key_type t, const uint8_t *p, size_t len, sw_value *v, char *buf,
                         size_t bufsz)
{
    memset(v, 0, sizeof *v);
    v->type = t;
    switch (t) {
    case SW_KEY_INT:
        if (len == 2) v->i = (int16_t)be_read(p, 2);
        else if (len == 4) v->i = (int32_t)be_read(p, 4);
        else if (len == 8) v->i = (int64_t)be_read(p, 8);
        else return -1;
        return 0;
    case SW_KEY_TEXT:
        if (len > UINT32_MAX) return -1;
        v->s = (const char *)p;
        v->len = (uint32_t)len;
        return 0;
    case SW_KEY_NUMERIC: return numeric_from_binary(p, len, v, buf, bufsz);
    case SW_KEY_DATE: {
        if (len != 4) return -1;
        int32_t d = (int32_t)be_read(p, 4);
        if (d == INT32_MIN || d == INT32_MAX) return -1; /* -infinity, infinity */
        v->i = d;
        return 0;
    }
    case SW_KEY_TIMESTAMP: {
        if (len != 8) return -1;
        int64_t us = (int64_t)be_read(p, 8);
        if (us == INT64_MIN || us == INT64_MAX) return -1;
        v->i = us;
        return 0;
    }
    }
    return -1;
}

static int bytes_cmp(const char *a, uint32_t na, const char *b, uint32_t nb)
{
    uint32_t n = na < nb ? na : nb;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return na < nb ? -1 : na > nb;
}

/* Canonical decimals: sign first, then the length of the integer part,
 * then plain digit order (the '.' falls in the same place). */
static int numeric_cmp(const sw_value *a, const sw_value *b)
{
    bool an = a->len && a->s[0] == '-', bn = b->len && b->s[0] == '-';
    int as = an ? -1 : (a->len == 1 && a->s[0] == '0') ? 0 : 1;
    int bs = bn ? -1 : (b->len == 1 && b->s[0] == '0') ? 0 : 1;
    if (as != bs) return as < bs ? -1 : 1;
    if (as == 0) return 0;
    const char *ap = a->s + an, *bp = b->s + bn;
    uint32_t al = a->len - an, bl = b->len - bn;
    const char *ad = memchr(ap, '.', al), *bd = memchr(bp, '.', bl);
    uint32_t ai = ad ? (uint32_t)(ad - ap) : al, bi = bd ? (uint32_t)(bd - bp) : bl;
    int mag = ai != bi ? (ai < bi ? -1 : 1) : bytes_cmp(ap, al, bp, bl);
    return an ? -mag : mag;
}

int sw_value_cmp(const sw_value *a, const sw_value *b)
{
    switch (a->type) {
    case SW_KEY_TEXT: return bytes_cmp(a->s, a->len, b->s, b->len);
    case SW_KEY_NUMERIC: return numeric_cmp(a, b);
    default: return a->i < b->i ? -1 : a->i > b->i;
    }
}

uint64_t sw_value_hash(const sw_value *v)
{
    if (v->type == SW_KEY_TEXT || v->type == SW_KEY_NUMERIC)
        return XXH3_64bits(v->s ? v->s : "", v->len);
    uint8_t le[8];
    uint64_t x = (uint64_t)v->i;
    for (int k = 0; k < 8; k++) le[k] = (uint8_t)(x >> (8 * k));
    return XXH3_64bits(le, sizeof le);
}

void sw_value_format(const sw_value *v, char *out, size_t outsz)
{
    if (!out || outsz == 0) return;
    switch (v->type) {
    case SW_KEY_INT: snprintf(out, outsz, "%" PRId64, v->i); return;
    case SW_KEY_NUMERIC: snprintf(out, outsz, "%.*s", (int)v->len, v->s); return;
    case SW_KEY_TEXT: {
        /* Quoted SQL-style; long values are cut with "..." to keep messages short. */
        size_t o = 0;
        if (outsz < 3) {
            out[0] = '\0';
            return;
        }
        out[o++] = '\'';
        for (uint32_t k = 0; k < v->len; k++) {
            size_t w = v->s[k] == '\'' ? 2 : 1;
            if (o + w + 1 >= outsz) {
                if (outsz > 5) {
                    o = o > outsz - 5 ? outsz - 5 : o;
                    memcpy(out + o, "...", 3);
                    o += 3;
                }
                break;
            }
            out[o++] = v->s[k];
            if (w == 2) out[o++] = '\'';
        }
        if (o + 1 < outsz) out[o++] = '\'';
        out[o] = '\0';
        return;
    }
    case SW_KEY_DATE:
    case SW_KEY_TIMESTAMP: {
        int64_t days = v->i, us = 0;
        if (v->type == SW_KEY_TIMESTAMP) {
            /* Floor division: instants before 2000 belong to the day before. */
            days = v->i / USEC_PER_DAY;
            us = v->i % USEC_PER_DAY;
            if (us < 0) {
                days--;
                us += USEC_PER_DAY;
            }
        }
        int64_t y;
        unsigned m, d;
        civil_from_days(days + PG_EPOCH_DAYS, &y, &m, &d);
        if (v->type == SW_KEY_DATE) {
            snprintf(out, outsz, "%04" PRId64 "-%02u-%02u", y, m, d);
            return;
        }
        int64_t sec = us / USEC_PER_SEC, frac = us % USEC_PER_SEC;
        int n = snprintf(out, outsz, "%04" PRId64 "-%02u-%02u %02d:%02d:%02d", y, m, d,
                         (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
        if (frac && n > 0 && (size_t)n < outsz)
            snprintf(out + n, outsz - (size_t)n, ".%06" PRId64, frac);
        return;
    }
    }
    out[0] = '\0';
}
