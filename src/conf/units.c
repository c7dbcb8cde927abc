/*
 * units.c - durations and sizes as people write them in a configuration
 * file.  A bare integer is the base unit (milliseconds, bytes) so that a
 * machine-generated file needs no suffixes; otherwise a number followed by a
 * unit: ms/s/m/h for time, B/kB/MB/GB (1024-based) for sizes.  Parsing is
 * strict - no fractions, no junk after the unit - because a half-understood
 * timeout is worse than a refusal to start.  Range checks are the caller's:
 * these only guarantee the result fits in 64 bits, so "-5s" comes back as
 * -5000 and the schema decides it is out of range.
 */
#include "conf_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct unit {
    const char *name;
    int64_t factor;
} unit;

static const unit duration_units[] = {
    {"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000}, {NULL, 0},
};

static const unit size_units[] = {
    {"", 1},
    {"b", 1},
    {"kb", 1024},
    {"kib", 1024},
    {"mb", 1024 * 1024},
    {"mib", 1024 * 1024},
    {"gb", 1024 * 1024 * 1024},
    {"gib", 1024 * 1024 * 1024},
    {NULL, 0},
};

/* Leading decimal number with optional sign; *end is left after the digits. */
static sw_unit_status parse_number(const char *s, const char **end, int64_t *out)
{
    while (*s == ' ' || *s == '\t') s++;
    bool neg = false;
    if (*s == '+' || *s == '-') neg = *s++ == '-';
    if (!isdigit((unsigned char)*s)) return SW_UNIT_SYNTAX;
    uint64_t v = 0;
    bool overflow = false;
    /* Accumulate as a negative-capable magnitude: INT64_MIN is reachable. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (limit - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    *end = s;
    if (overflow) return SW_UNIT_RANGE;
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return SW_UNIT_OK;
}

/* Number, optional blanks, unit from table, optional trailing blanks. */
static sw_unit_status parse_with_unit(const char *s, const unit *units, int64_t *out)
{
    const char *p;
    int64_t v = 0;
    sw_unit_status st = parse_number(s, &p, &v);
    if (st == SW_UNIT_SYNTAX) return st;
    while (*p == ' ' || *p == '\t') p++;
    size_t ulen = strcspn(p, " \t");
    const char *rest = p + ulen;
    while (*rest == ' ' || *rest == '\t') rest++;
    if (*rest) return SW_UNIT_SYNTAX;
    const unit *u = NULL;
    for (const unit *it = units; it->name; it++) {
        if (strlen(it->name) == ulen && strncasecmp(it->name, p, ulen) == 0) {
            u = it;
            break;
        }
    }
    if (!u) return SW_UNIT_SYNTAX;
    if (st == SW_UNIT_RANGE) return st;
    if (v > INT64_MAX / u->factor || v < INT64_MIN / u->factor) return SW_UNIT_RANGE;
    *out = v * u->factor;
    return SW_UNIT_OK;
}

sw_unit_status sw_int_parse(const char *s, int64_t *out)
{
    static const unit none[] = {{"", 1}, {NULL, 0}};
    return parse_with_unit(s, none, out);
}

sw_unit_status sw_duration_parse(const char *s, int64_t *ms)
{
    return parse_with_unit(s, duration_units, ms);
}

sw_unit_status sw_size_parse(const char *s, int64_t *bytes)
{
    return parse_with_unit(s, size_units, bytes);
}

static void format_largest(int64_t v, const char *const *names, const int64_t *factors, int n,
                           char *buf, size_t size)
{
    if (v == 0) {
        snprintf(buf, size, "0");
        return;
    }
    for (int i = n - 1; i > 0; i--) {
        if (v % factors[i] == 0) {
            snprintf(buf, size, "%lld%s", (long long)(v / factors[i]), names[i]);
            return;
        }
    }
    snprintf(buf, size, "%lld%s", (long long)v, names[0]);
}

void sw_duration_format(int64_t ms, char *buf, size_t size)
{
    static const char *const names[] = {"ms", "s", "m", "h"};
    static const int64_t factors[] = {1, 1000, 60 * 1000, 60 * 60 * 1000};
    format_largest(ms, names, factors, 4, buf, size);
}

void sw_size_format(int64_t bytes, char *buf, size_t size)
{
    static const char *const names[] = {"B", "kB", "MB", "GB"};
    static const int64_t factors[] = {1, 1024, 1024 * 1024, 1024 * 1024 * 1024};
    format_largest(bytes, names, factors, 4, buf, size);
}
