/*
 * facts.c - `sw_oracle --gen-facts N --seed S`: deterministic rows for the
 * order_facts table (tests/integration/oracle_extra.sql), printed as
 * multi-row INSERTs with explicit column lists (shardwire finds the shard
 * key customer_id through the list and splits each statement by shard).
 *
 * The table exists to make merging hard: every column but the two keys is
 * NULL about 40% of the time; values repeat (ties for ORDER BY, DISTINCT
 * and GROUP BY); numbers are negative as often as it is useful; numeric
 * values carry mixed scales (1.5, 2.250, -3); text mixes case, punctuation
 * and non-ASCII bytes whose C order differs from a linguistic one; dates
 * cross years; timestamps have fractional seconds and timestamptz values
 * arrive with offsets.  Each row's values come from a PRNG stream keyed by
 * (seed, row), so the same arguments always give the same bytes.
 *
 * Two choices keep comparisons exact where floating point would not be:
 * `ratio` (real) holds multiples of 1/8 small enough that every partial sum
 * is exact in float4, so sum(ratio) cannot depend on the order rows are
 * added in; `score` (float8) holds full-precision doubles, mostly positive
 * (its sums stay far from cancellation, within the harness's 1e-12).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

#define NULL_PERCENT 40
#define CUSTOMERS 250 /* customer ids 1..250: about N/250 rows per customer */

typedef struct rng {
    uint64_t s;
} rng;

/* splitmix64: small and good enough to pick test values. */
static uint64_t next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t below(rng *r, uint64_t n)
{
    return next(r) % n;
}

#define PICK(r, arr) (arr[below(r, sizeof arr / sizeof arr[0])])

static const char *const labels[] = {
    "apple", "Apple", "APPLE", "banana", "Banana", "_under", "a b", "a-b", "ab", "AB", "\xc3\xa9" "clair",
    "\xc3\x89" "clair", "zebra", "Zebra", "10", "9", "", " lead", "z", "na\xc3\xafve", "O'Brien", "\xce\xa9mega",
    "apple pie", "Apple-pie", "~tilde", "0zero",
};
static const char *const codes[] = {"A1", "a1", "B-2", "b_2", "x", "XYZ12345", "\xc3\xbf", "0", "Z9", "z9"};
static const char *const grades[] = {"A", "A+", "B", "b", "C-", "", "Z", "a"};
static const char *const amounts[] = {"1.5", "2.250", "-3", "0", "0.00", "100.10", "-0.5", "1.50"};
static const char *const scores[] = {"1.5", "2.25", "-3", "0", "100"};
static const int64_t units_ties[] = {0, 1, 7, 100, -1, -250};
static const int64_t big_ties[] = {0, -1, 9007199254740993LL, -4611686018427387904LL, 4611686018427387903LL,
                                   INT64_MAX, INT64_MIN + 1};
static const char *const ts_ties[] = {"2024-02-29 23:59:59.999999", "2000-01-01 00:00:00", "2025-12-31 12:00:00.5"};
static const char *const tstz_ties[] = {"2024-02-29 23:59:59.999999+00", "2024-03-01 01:30:00+05:30",
                                        "1999-12-31 23:00:00-08"};
static const char *const uuid_ties[] = {"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
                                        "0f0e0d0c-0b0a-0908-0706-050403020100"};

/* Days since 1970-01-01 from a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
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

static void put_date(int64_t days)
{
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    printf("%04" PRId64 "-%02d-%02d", y, m, d);
}

static void put_quoted(const char *s)
{
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\'')
            putchar('\'');
        putchar(*s);
    }
    putchar('\'');
}

/* A numeric with `scale` decimals from the signed mantissa m. */
static void put_scaled(int64_t m, int scale)
{
    int64_t p = 1;
    for (int i = 0; i < scale; i++)
        p *= 10;
    uint64_t a = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
    printf("'%s%" PRIu64, m < 0 ? "-" : "", a / (uint64_t)p);
    if (scale > 0)
        printf(".%0*" PRIu64, scale, a % (uint64_t)p);
    putchar('\'');
}

/* A timestamp's text: a second in [2019-01-01, 2026-01-01) plus micro-,
 * milli- or no fractional seconds. */
static void put_timestamp(rng *r)
{
    int64_t lo = days_from_civil(2019, 1, 1), hi = days_from_civil(2026, 1, 1);
    int64_t s = (int64_t)below(r, (uint64_t)(hi - lo) * 86400);
    put_date(lo + s / 86400);
    int64_t t = s % 86400;
    printf(" %02d:%02d:%02d", (int)(t / 3600), (int)(t / 60 % 60), (int)(t % 60));
    switch (below(r, 4)) {
    case 0:
    case 1: printf(".%06d", (int)below(r, 1000000)); break;
    case 2: printf(".%03d", (int)below(r, 1000)); break;
    default: break;
    }
}

/* ", NULL" (and true) about NULL_PERCENT of the time, else ", " (and false). */
static bool null_or_comma(rng *r)
{
    bool n = below(r, 100) < NULL_PERCENT;
    printf(n ? ", NULL" : ", ");
    return n;
}

static void put_row(uint64_t seed, long i)
{
    rng r = {seed * 0xd1342543de82ef95ULL ^ (uint64_t)i * 0xff51afd7ed558ccdULL ^ 0x6f726163ULL};
    next(&r);
    printf("(%ld, %" PRIu64, i, 1 + below(&r, CUSTOMERS));

    /* order_id: ties */
    if (!null_or_comma(&r))
        printf("%" PRIu64, 1 + below(&r, 600));

    /* qty smallint: -5..20 */
    if (!null_or_comma(&r))
        printf("%d", (int)below(&r, 26) - 5);

    /* units int */
    if (!null_or_comma(&r)) {
        if (below(&r, 10) < 3)
            printf("%" PRId64, PICK(&r, units_ties));
        else
            printf("%" PRId64, (int64_t)below(&r, 200001) - 50000);
    }

    /* big bigint: wide, with the extremes */
    if (!null_or_comma(&r)) {
        if (below(&r, 10) < 2)
            printf("%" PRId64, PICK(&r, big_ties));
        else
            printf("%" PRId64, (int64_t)next(&r) >> 20);
    }

    /* score float8: full-precision doubles in [-50, 950), some ties */
    if (!null_or_comma(&r)) {
        if (below(&r, 100) < 15)
            printf("'%s'", PICK(&r, scores));
        else
            printf("'%.17g'", (double)(next(&r) >> 11) / 9007199254740992.0 * 1000.0 - 50.0);
    }

    /* ratio real: k/8, exact in float4 and in every partial sum */
    if (!null_or_comma(&r))
        put_scaled(((int64_t)below(&r, 1201) - 400) * 125, 3);

    /* amount numeric: mixed scales */
    if (!null_or_comma(&r)) {
        if (below(&r, 10) < 3)
            put_quoted(PICK(&r, amounts));
        else
            put_scaled((int64_t)below(&r, 2000000001) - 500000000, (int)below(&r, 5));
    }

    /* amount2 numeric(12,3): given with 0..3 decimals, stored with 3 */
    if (!null_or_comma(&r)) {
        int scale = (int)below(&r, 4);
        put_scaled((int64_t)below(&r, 200000001) - 50000000, scale);
    }

    /* flag bool */
    if (!null_or_comma(&r))
        printf("%s", below(&r, 2) ? "true" : "false");

    /* label text, code varchar(8), grade char(2) */
    if (!null_or_comma(&r))
        put_quoted(PICK(&r, labels));
    if (!null_or_comma(&r))
        put_quoted(PICK(&r, codes));
    if (!null_or_comma(&r))
        put_quoted(PICK(&r, grades));

    /* d date: 1999..2026, a leap day, now and then a BC date or infinity */
    if (!null_or_comma(&r)) {
        uint64_t k = below(&r, 100);
        if (k == 0) {
            printf("'0044-03-15 BC'");
        } else if (k == 1) {
            printf("'infinity'");
        } else if (k < 6) {
            printf("'2024-02-29'");
        } else {
            int64_t lo = days_from_civil(1999, 6, 1), hi = days_from_civil(2026, 7, 1);
            putchar('\'');
            put_date(lo + (int64_t)below(&r, (uint64_t)(hi - lo)));
            putchar('\'');
        }
    }

    /* ts timestamp */
    if (!null_or_comma(&r)) {
        if (below(&r, 10) == 0) {
            printf("'%s'", PICK(&r, ts_ties));
        } else {
            putchar('\'');
            put_timestamp(&r);
            putchar('\'');
        }
    }

    /* tstz timestamptz: written with an offset, stored in UTC */
    if (!null_or_comma(&r)) {
        static const char *const offsets[] = {"+00", "+02", "-05", "+05:30", "-11"};
        if (below(&r, 10) == 0) {
            printf("'%s'", PICK(&r, tstz_ties));
        } else {
            putchar('\'');
            put_timestamp(&r);
            printf("%s'", PICK(&r, offsets));
        }
    }

    /* u uuid */
    if (!null_or_comma(&r)) {
        if (below(&r, 10) == 0) {
            printf("'%s'", PICK(&r, uuid_ties));
        } else {
            uint64_t a = next(&r), b = next(&r);
            printf("'%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64 "'", a >> 32,
                   (a >> 16) & 0xffff, a & 0xffff, b >> 48, b & (uint64_t)0xffffffffffff);
        }
    }
    putchar(')');
}

void or_gen_facts(long rows, uint64_t seed, long batch)
{
    printf("-- order_facts data: sw_oracle --gen-facts %ld --seed %" PRIu64 "\n", rows, seed);
    for (long i = 1; i <= rows; i++) {
        if ((i - 1) % batch == 0)
            printf("INSERT INTO order_facts (fact_id, customer_id, order_id, qty, units, big, score, ratio,"
                   " amount, amount2, flag, label, code, grade, d, ts, tstz, u) VALUES\n");
        printf("  ");
        put_row(seed, i);
        printf(i % batch == 0 || i == rows ? ";\n" : ",\n");
    }
}
