/*
 * keyval.c - shard key values as the configuration spells them: range
 * bounds, list values and an ID epoch, checked against the function's key
 * type and put in order so the loader can find overlaps, gaps and
 * duplicates.
 *
 * The routing module reads the same spellings at run time with
 * sw_value_from_text (include/sw/shard.h), but sw_conf must not link
 * sw_route, so this is a deliberately small local reading of the same
 * formats: integers through sw_int_parse, numerics as exact decimals compared
 * digit by digit after normalisation (no exponents), dates and timestamps
 * validated field by field and turned into a day or microsecond count, text
 * as raw bytes.  Where the two differ this side is the stricter one (no
 * exponents, no blanks around dates, at most six fraction digits), so a
 * value the loader accepts is always one the router can read.
 */
#include "conf_int.h"

#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* n digits at s as a number; false unless all are digits. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD" at s (exactly 10 bytes are looked at) as days since 1970. */
static bool parse_date(const char *s, size_t len, int64_t *days)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return false;
    if (y < 1 || m < 1 || m > 12 || d < 1) return false;
    if (d > mdays[m - 1] + (m == 2 && is_leap(y))) return false;
    *days = days_from_civil(y, m, d);
    return true;
}

/* "YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][ ][Z|+HH[[:]MM]|-HH[[:]MM]]" as
 * microseconds since 1970-01-01 UTC; a bare date is its midnight, and no
 * zone means UTC. */
static bool parse_timestamp(const char *s, size_t len, int64_t *us)
{
    int64_t days;
    int hh = 0, mi = 0, ss = 0, frac = 0;
    if (!parse_date(s, len, &days)) return false;
    size_t i = 10;
    if (i < len) {
        if ((s[i] != ' ' && s[i] != 'T' && s[i] != 't') || len < 16 || !digits(s + 11, 2, &hh) ||
            s[13] != ':' || !digits(s + 14, 2, &mi))
            return false;
        i = 16;
    }
    if (i < len && s[i] == ':') {
        if (i + 3 > len || !digits(s + i + 1, 2, &ss)) return false;
        i += 3;
        if (i < len && s[i] == '.') {
            int n = 0;
            for (i++; i < len && is_digit(s[i]); i++, n++) {
                if (n == 6) return false;
                frac = frac * 10 + (s[i] - '0');
            }
            if (n == 0) return false;
            for (; n < 6; n++) frac *= 10;
        }
    }
    if (hh > 23 || mi > 59 || ss > 59) return false;
    int offset = 0; /* seconds east of UTC */
    if (i > 10)
        while (i < len && s[i] == ' ') i++;
    if (i > 10 && i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i > 10 && i < len && (s[i] == '+' || s[i] == '-')) {
        int oh, om = 0;
        int sign = s[i] == '-' ? -1 : 1;
        if (i + 3 > len || !digits(s + i + 1, 2, &oh)) return false;
        i += 3;
        if (i < len) {
            if (s[i] == ':') i++;
            if (i + 2 > len || !digits(s + i, 2, &om)) return false;
            i += 2;
        }
        /* PostgreSQL accepts offsets up to 15:59. */
        if (oh > 15 || om > 59) return false;
        offset = sign * (oh * 3600 + om * 60);
    }
    if (i != len) return false;
    int64_t secs = days * 86400 + hh * 3600 + mi * 60 + ss - offset;
    *us = secs * 1000000 + frac;
    return true;
}

/* [+-]digits[.digits] with at least one digit; leading integer zeros and
 * trailing fraction zeros are dropped so equal values compare equal. */
static bool parse_numeric(const char *s, size_t len, sw_conf_key *k)
{
    size_t i = 0;
    k->neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) k->neg = s[i++] == '-';
    size_t ib = i;
    while (i < len && is_digit(s[i])) i++;
    size_t ie = i, fb = i, fe = i;
    if (i < len && s[i] == '.') {
        fb = ++i;
        while (i < len && is_digit(s[i])) i++;
        fe = i;
    }
    if (i != len || (ie == ib && fe == fb)) return false;
    while (ib < ie && s[ib] == '0') ib++;
    while (fe > fb && s[fe - 1] == '0') fe--;
    k->ip = s + ib;
    k->il = ie - ib;
    k->fp = s + fb;
    k->fl = fe - fb;
    if (k->il == 0 && k->fl == 0) k->neg = false; /* -0 is 0 */
    return true;
}

int sw_conf_key_parse(sw_key_type t, const char *s, size_t len, sw_conf_key *k)
{
    memset(k, 0, sizeof *k);
    k->type = t;
    if (strlen(s) != len) return -1;
    switch (t) {
    case SW_KEY_INT:
        return sw_int_parse(s, &k->i) == SW_UNIT_OK ? 0 : -1;
    case SW_KEY_TEXT:
        k->s = s;
        k->len = len;
        return 0;
    case SW_KEY_NUMERIC:
        return parse_numeric(s, len, k) ? 0 : -1;
    case SW_KEY_DATE:
        return len == 10 && parse_date(s, len, &k->i) ? 0 : -1;
    case SW_KEY_TIMESTAMP:
        return parse_timestamp(s, len, &k->i) ? 0 : -1;
    }
    return -1;
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

/* Magnitudes of two normalised decimals. */
static int cmp_decimal(const sw_conf_key *a, const sw_conf_key *b)
{
    if (a->il != b->il) return a->il < b->il ? -1 : 1;
    int c = memcmp(a->ip, b->ip, a->il);
    if (c) return c < 0 ? -1 : 1;
    size_t n = a->fl < b->fl ? a->fl : b->fl;
    c = memcmp(a->fp, b->fp, n);
    if (c) return c < 0 ? -1 : 1;
    return cmp_i64((int64_t)a->fl, (int64_t)b->fl);
}

int sw_conf_key_cmp(const sw_conf_key *a, const sw_conf_key *b)
{
    switch (a->type) {
    case SW_KEY_TEXT: {
        size_t n = a->len < b->len ? a->len : b->len;
        int c = memcmp(a->s, b->s, n);
        if (c) return c < 0 ? -1 : 1;
        return cmp_i64((int64_t)a->len, (int64_t)b->len);
    }
    case SW_KEY_NUMERIC:
        if (a->neg != b->neg) return a->neg ? -1 : 1;
        return a->neg ? cmp_decimal(b, a) : cmp_decimal(a, b);
    default:
        return cmp_i64(a->i, b->i);
    }
}

int sw_conf_epoch_parse(const char *s, int64_t *ms)
{
    int64_t us;
    if (!parse_timestamp(s, strlen(s), &us)) return -1;
    /* Milliseconds are the IDs' resolution; round down. */
    *ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
    return 0;
}
