/*
 * test_shardfn.c - unit tests for shard key values and sharding functions
 * (sw/shard.h, src/route/value.c, shardfn.c, fn_*.c).
 *
 * Values: every spelling of a key (text with blanks and signs, binary
 * int2/int4/int8, PostgreSQL's binary numeric, dates, timestamps with zone
 * offsets) must canonicalise to equal values with equal hashes; invalid
 * spellings must be refused; numeric order must be exact where a double
 * would not be.  Hash outputs and the resulting buckets and targets of a
 * 1024-bucket, 3-node function are pinned as literals so that any change of
 * the hash or the canonical bytes is caught (XXH3-64 of the empty input is
 * the published 2d06800538d394c2).  Functions: range dispatch with open
 * ends, [from, to) boundaries, defaults and NOMATCH; interval masks for <,
 * <=, BETWEEN; lists; ring balance, weights and the growth property (a new
 * node only takes keys, all of them onto itself); the directory cache (TTL,
 * LRU bound, unknown nodes); embedded IDs that dispatch like their source
 * key.  Configurations are built by hand, independent of the YAML loader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sw/shard.h"

/* ------------------------------------------------------------ helpers */

static char *g_node_names[] = {"shard1", "shard2", "shard3", "shard4"};
static int g_node_idx[] = {0, 1, 2, 3};
static sw_conf_node g_nodes[] = {
    {.name = "shard1"}, {.name = "shard2"}, {.name = "shard3"}, {.name = "shard4"}};

static sw_conf_function fn_conf(const char *name, sw_fn_kind kind, sw_key_type type, int n_nodes)
{
    sw_conf_function f = {0};
    f.name = (char *)name;
    f.kind = kind;
    f.type = type;
    f.targets = g_node_names;
    f.target_node = g_node_idx;
    f.n_targets = n_nodes;
    f.buckets = 1024;
    f.vnodes = 160;
    f.default_target = -1;
    f.source = -1;
    f.seq_bits = 12;
    f.cache_ttl_ms = 60000;
    f.cache_size = 100000;
    return f;
}

/* Build functions [0, n) of a hand-made configuration; NULL when the last
 * one fails (err then holds the message). */
static char g_err[256];

static sw_shardfn *build_all(sw_conf_function *fns, int n, sw_shardfn **all)
{
    sw_conf conf = {0};
    conf.nodes = g_nodes;
    conf.n_nodes = 4;
    conf.functions = fns;
    conf.n_functions = n;
    g_err[0] = '\0';
    for (int i = 0; i < n; i++) {
        all[i] = sw_shardfn_update(&conf, i, all, g_err, sizeof g_err);
        if (!all[i]) return NULL;
    }
    return all[n - 1];
}

static sw_shardfn *build1(sw_conf_function *f)
{
    sw_shardfn *all[1] = {NULL};
    return build_all(f, 1, all);
}

static sw_value V_int(int64_t i) { return (sw_value){.type = SW_KEY_INT, .i = i}; }

/* Text value through the public reader; buf must outlive the value. */
static sw_value V_txt(sw_key_type t, const char *s, char *buf)
{
    sw_value v;
    int rc = sw_value_from_text(t, s, strlen(s), &v, buf, SW_VALUE_BUF);
    if (rc != 0) fail_msg("'%s' did not parse", s);
    return v;
}

static int dispatch(const sw_shardfn *fn, sw_value v)
{
    return sw_shardfn_dispatch(fn, &v, 0, NULL, 0);
}

static int dispatch_txt(const sw_shardfn *fn, const char *s)
{
    char buf[SW_VALUE_BUF];
    return dispatch(fn, V_txt(sw_shardfn_conf(fn)->type, s, buf));
}

static bool text_invalid(sw_key_type t, const char *s)
{
    char buf[SW_VALUE_BUF];
    sw_value v;
    return sw_value_from_text(t, s, strlen(s), &v, buf, sizeof buf) == -1;
}

static void assert_canon(sw_key_type t, const char *in, const char *want)
{
    char buf[SW_VALUE_BUF];
    sw_value v = V_txt(t, in, buf);
    if (v.len != strlen(want) || memcmp(v.s, want, v.len) != 0)
        fail_msg("'%s' -> '%.*s', want '%s'", in, (int)v.len, v.s, want);
}

/* ------------------------------------------------------------ integers */

static void test_int_spellings(void **state)
{
    (void)state;
    char buf[SW_VALUE_BUF];
    const char *texts[] = {"42", " 42", "42 ", "\t+42\n", "0042"};
    const uint8_t b2[] = {0x00, 0x2a}, b4[] = {0, 0, 0, 0x2a}, b8[] = {0, 0, 0, 0, 0, 0, 0, 0x2a};
    sw_value ref = V_int(42), v;
    uint64_t h = sw_value_hash(&ref);
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        v = V_txt(SW_KEY_INT, texts[i], buf);
        assert_int_equal(v.i, 42);
        assert_int_equal(sw_value_cmp(&v, &ref), 0);
        assert_true(sw_value_hash(&v) == h);
    }
    const uint8_t *bins[] = {b2, b4, b8};
    size_t lens[] = {2, 4, 8};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sw_value_from_binary(SW_KEY_INT, bins[i], lens[i], &v, buf, sizeof buf),
                         0);
        assert_int_equal(v.i, 42);
        assert_true(sw_value_hash(&v) == h);
    }

    /* Negative numbers: text and all three binary widths agree. */
    const uint8_t n2[] = {0xff, 0xd6}, n4[] = {0xff, 0xff, 0xff, 0xd6},
                  n8[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xd6};
    sw_value neg = V_txt(SW_KEY_INT, " -42 ", buf);
    assert_int_equal(neg.i, -42);
    const uint8_t *nb[] = {n2, n4, n8};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sw_value_from_binary(SW_KEY_INT, nb[i], lens[i], &v, buf, sizeof buf), 0);
        assert_int_equal(v.i, -42);
        assert_true(sw_value_hash(&v) == sw_value_hash(&neg));
    }
    assert_true(sw_value_hash(&neg) != h);
    assert_true(sw_value_cmp(&neg, &ref) < 0);

    /* The int64 limits, and one past them. */
    assert_true(V_txt(SW_KEY_INT, "9223372036854775807", buf).i == INT64_MAX);
    assert_true(V_txt(SW_KEY_INT, "-9223372036854775808", buf).i == INT64_MIN);
    assert_true(text_invalid(SW_KEY_INT, "9223372036854775808"));
    assert_true(text_invalid(SW_KEY_INT, "-9223372036854775809"));
    assert_true(text_invalid(SW_KEY_INT, "99999999999999999999"));
    const char *bad[] = {"", " ", "+", "-", "4 2", "42a", "0x2A", "4.2", "--1", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (!text_invalid(SW_KEY_INT, bad[i])) fail_msg("'%s' accepted as integer", bad[i]);
    assert_int_equal(sw_value_from_binary(SW_KEY_INT, b8, 3, &v, buf, sizeof buf), -1);
    assert_int_equal(sw_value_from_binary(SW_KEY_INT, b8, 0, &v, buf, sizeof buf), -1);
}

/* ------------------------------------------------------------ numerics */

static void test_numeric_canonical(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"10.50", "10.5"},
        {"10.5", "10.5"},
        {"+10.500", "10.5"},
        {"010.5", "10.5"},
        {"0", "0"},
        {"-0.00", "0"},
        {"000", "0"},
        {".5", "0.5"},
        {"5.", "5"},
        {"1e2", "100"},
        {"+1e2", "100"},
        {"1.5e-3", "0.0015"},
        {"-123.4500", "-123.45"},
        {"100", "100"},
        {" 7 ", "7"},
        {"1000", "1000"},
        {"-0.001", "-0.001"},
        {"12.5E+1", "125"},
        {"0.000", "0"},
        {"1200e-2", "12"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        assert_canon(SW_KEY_NUMERIC, cases[i][0], cases[i][1]);

    const char *bad[] = {"",         ".",   "abc", "1.2.3",    "1e", "NaN",
                         "Infinity", "--1", "1 2", "1e999999", "e5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (!text_invalid(SW_KEY_NUMERIC, bad[i])) fail_msg("'%s' accepted as numeric", bad[i]);
    /* A buffer too small for the canonical form is refused, not overrun. */
    char small[4];
    sw_value v;
    assert_int_equal(sw_value_from_text(SW_KEY_NUMERIC, "12345", 5, &v, small, sizeof small), -1);
    assert_int_equal(sw_value_from_text(SW_KEY_NUMERIC, "1234", 4, &v, small, sizeof small), 0);
    assert_int_equal(v.len, 4);
}

static void test_numeric_binary(void **state)
{
    (void)state;
    char buf[SW_VALUE_BUF], tbuf[SW_VALUE_BUF];
    sw_value v, t;
    /* 10.50: ndigits 2, weight 0, sign +, dscale 2, digits 10 5000. */
    const uint8_t n1050[] = {0, 2, 0, 0, 0, 0, 0, 2, 0, 10, 0x13, 0x88};
    assert_int_equal(sw_value_from_binary(SW_KEY_NUMERIC, n1050, sizeof n1050, &v, buf, sizeof buf),
                     0);
    t = V_txt(SW_KEY_NUMERIC, "10.50", tbuf);
    assert_int_equal(v.len, 4);
    assert_memory_equal(v.s, "10.5", 4);
    assert_int_equal(sw_value_cmp(&v, &t), 0);
    assert_true(sw_value_hash(&v) == sw_value_hash(&t));

    /* -0.001: weight -1, digit 10 (0.0010), sign 0x4000. */
    const uint8_t nm[] = {0, 1, 0xff, 0xff, 0x40, 0, 0, 3, 0, 10};
    assert_int_equal(sw_value_from_binary(SW_KEY_NUMERIC, nm, sizeof nm, &v, buf, sizeof buf), 0);
    assert_int_equal(v.len, 6);
    assert_memory_equal(v.s, "-0.001", 6);

    /* 12345678.9: weight 1, digits 1234 5678 9000. */
    const uint8_t big[] = {0, 3, 0, 1, 0, 0, 0, 1, 0x04, 0xd2, 0x16, 0x2e, 0x23, 0x28};
    assert_int_equal(sw_value_from_binary(SW_KEY_NUMERIC, big, sizeof big, &v, buf, sizeof buf), 0);
    assert_int_equal(v.len, 10);
    assert_memory_equal(v.s, "12345678.9", 10);

    /* 20000: weight 1, one digit 2; zero: no digits, and a negative zero. */
    const uint8_t n20k[] = {0, 1, 0, 1, 0, 0, 0, 0, 0, 2};
    assert_int_equal(sw_value_from_binary(SW_KEY_NUMERIC, n20k, sizeof n20k, &v, buf, sizeof buf),
                     0);
    assert_int_equal(v.len, 5);
    assert_memory_equal(v.s, "20000", 5);
    const uint8_t zero[] = {0, 0, 0, 0, 0x40, 0, 0, 0};
    assert_int_equal(sw_value_from_binary(SW_KEY_NUMERIC, zero, sizeof zero, &v, buf, sizeof buf),
                     0);
    assert_int_equal(v.len, 1);
    assert_memory_equal(v.s, "0", 1);

    /* NaN, infinity, wrong lengths, a digit out of base-10000 range. */
    const uint8_t nan[] = {0, 0, 0, 0, 0xc0, 0, 0, 0};
    const uint8_t inf[] = {0, 0, 0, 0, 0xd0, 0, 0, 0};
    const uint8_t bad_digit[] = {0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10};
    assert_int_equal(sw_value_from_binary(SW_KEY_NUMERIC, nan, sizeof nan, &v, buf, sizeof buf),
                     -1);
    assert_int_equal(sw_value_from_binary(SW_KEY_NUMERIC, inf, sizeof inf, &v, buf, sizeof buf),
                     -1);
    assert_int_equal(
        sw_value_from_binary(SW_KEY_NUMERIC, bad_digit, sizeof bad_digit, &v, buf, sizeof buf), -1);
    assert_int_equal(
        sw_value_from_binary(SW_KEY_NUMERIC, n1050, sizeof n1050 - 1, &v, buf, sizeof buf), -1);
    assert_int_equal(sw_value_from_binary(SW_KEY_NUMERIC, n1050, 6, &v, buf, sizeof buf), -1);
}

static void test_numeric_order(void **state)
{
    (void)state;
    /* Strictly increasing; the last pair differs beyond double precision. */
    const char *asc[] = {"-100",
                         "-10.5",
                         "-2",
                         "-0.5",
                         "-0.05",
                         "0",
                         "0.05",
                         "0.5",
                         "1",
                         "1.5",
                         "2",
                         "9.99",
                         "10",
                         "10.5",
                         "100",
                         "12345678901234567890.1",
                         "12345678901234567890.2"};
    enum { N = sizeof asc / sizeof *asc };
    char bufs[N][SW_VALUE_BUF];
    sw_value v[N];
    for (int i = 0; i < N; i++) v[i] = V_txt(SW_KEY_NUMERIC, asc[i], bufs[i]);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int c = sw_value_cmp(&v[i], &v[j]);
            int want = (i > j) - (i < j);
            if ((c > 0) - (c < 0) != want) fail_msg("cmp(%s, %s) = %d", asc[i], asc[j], c);
        }
}

/* ------------------------------------------------------------ text */

static void test_text_values(void **state)
{
    (void)state;
    char buf[SW_VALUE_BUF];
    sw_value a = V_txt(SW_KEY_TEXT, "APJ", buf), b, c;
    assert_int_equal(
        sw_value_from_binary(SW_KEY_TEXT, (const uint8_t *)"APJ", 3, &b, buf, sizeof buf), 0);
    assert_int_equal(sw_value_cmp(&a, &b), 0);
    assert_true(sw_value_hash(&a) == sw_value_hash(&b));
    /* Text is taken byte for byte: blanks and case are significant. */
    c = V_txt(SW_KEY_TEXT, " APJ", buf);
    assert_true(sw_value_hash(&c) != sw_value_hash(&a));
    assert_true(sw_value_cmp(&c, &a) != 0);
    sw_value x = V_txt(SW_KEY_TEXT, "a", buf), y = V_txt(SW_KEY_TEXT, "ab", buf),
             z = V_txt(SW_KEY_TEXT, "B", buf);
    assert_true(sw_value_cmp(&x, &y) < 0);
    assert_true(sw_value_cmp(&y, &x) > 0);
    assert_true(sw_value_cmp(&z, &x) < 0); /* byte order, 'B' < 'a' */
}

/* ------------------------------------------------------------ dates, timestamps */

static void test_dates(void **state)
{
    (void)state;
    char buf[SW_VALUE_BUF];
    assert_int_equal(V_txt(SW_KEY_DATE, "2000-01-01", buf).i, 0);
    assert_int_equal(V_txt(SW_KEY_DATE, "1999-12-31", buf).i, -1);
    assert_int_equal(V_txt(SW_KEY_DATE, " 2024-01-31 ", buf).i, 8796);
    assert_int_equal(
        V_txt(SW_KEY_DATE, "2024-03-01", buf).i - V_txt(SW_KEY_DATE, "2024-02-28", buf).i, 2);
    assert_int_equal(
        V_txt(SW_KEY_DATE, "2023-03-01", buf).i - V_txt(SW_KEY_DATE, "2023-02-28", buf).i, 1);
    assert_int_equal(V_txt(SW_KEY_DATE, "1970-01-01", buf).i, -10957);
    assert_int_equal(
        V_txt(SW_KEY_DATE, "2100-03-01", buf).i - V_txt(SW_KEY_DATE, "2100-02-28", buf).i, 1);
    const char *bad[] = {"2023-02-29", "2024-13-01", "2024-00-10",  "2024-1-1", "2024-01-32",
                         "24-01-01",   "2024/01/01", "2024-01-01x", "",         "0000-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (!text_invalid(SW_KEY_DATE, bad[i])) fail_msg("'%s' accepted as date", bad[i]);

    sw_value v, t = V_txt(SW_KEY_DATE, "2024-01-31", buf);
    const uint8_t d[] = {0, 0, 0x22, 0x5c}; /* 8796 */
    assert_int_equal(sw_value_from_binary(SW_KEY_DATE, d, 4, &v, buf, sizeof buf), 0);
    assert_int_equal(sw_value_cmp(&v, &t), 0);
    assert_true(sw_value_hash(&v) == sw_value_hash(&t));
    const uint8_t inf[] = {0x7f, 0xff, 0xff, 0xff};
    assert_int_equal(sw_value_from_binary(SW_KEY_DATE, inf, 4, &v, buf, sizeof buf), -1);
    assert_int_equal(sw_value_from_binary(SW_KEY_DATE, d, 3, &v, buf, sizeof buf), -1);
}

static void test_timestamps(void **state)
{
    (void)state;
    char buf[SW_VALUE_BUF];
    const int64_t S = 1000000;
    assert_int_equal(V_txt(SW_KEY_TIMESTAMP, "2000-01-01 00:00:00", buf).i, 0);
    assert_int_equal(V_txt(SW_KEY_TIMESTAMP, "2000-01-01T00:00:01.5", buf).i, 1500000);
    assert_int_equal(V_txt(SW_KEY_TIMESTAMP, "2000-01-01 00:00:00.123456", buf).i, 123456);
    assert_int_equal(V_txt(SW_KEY_TIMESTAMP, "2000-01-01 00:00:00.0000005", buf).i, 1); /* rounds */
    assert_int_equal(V_txt(SW_KEY_TIMESTAMP, "1999-12-31 23:59:59", buf).i, -S);
    assert_int_equal(V_txt(SW_KEY_TIMESTAMP, "2000-01-02 00:00", buf).i, 86400 * S);

    /* One instant, many zones. */
    int64_t want = (8796 * INT64_C(86400) + 8 * 3600) * S;
    const char *same[] = {"2024-01-31 08:00:00Z",      "2024-01-31T08:00:00",
                          "2024-01-31 10:00:00+02",    "2024-01-31 13:30:00+05:30",
                          "2024-01-31 03:00-0500",     "2024-01-31 08:00:00 +00:00",
                          "2024-01-31 07:00:00.000-01"};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        int64_t got = V_txt(SW_KEY_TIMESTAMP, same[i], buf).i;
        if (got != want) fail_msg("'%s' -> %lld", same[i], (long long)got);
    }
    /* A bare date is its midnight. */
    assert_int_equal(V_txt(SW_KEY_TIMESTAMP, "2024-01-31", buf).i, 8796 * INT64_C(86400) * S);
    /* Crossing a day boundary through the offset. */
    assert_int_equal(V_txt(SW_KEY_TIMESTAMP, "2000-01-01 01:00+02", buf).i, -3600 * S);

    const char *bad[] = {"2024-01-31 25:00",     "2024-01-31 10",           "2024-01-31 10:60",
                         "2024-01-31 10:00 +2",  "2024-01-31 10:00+16",     "x",
                         "2024-01-31 10:00:00.", "2024-01-31 10:00:00+02:", "2024-01-31_10:00"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (!text_invalid(SW_KEY_TIMESTAMP, bad[i])) fail_msg("'%s' accepted as timestamp", bad[i]);

    sw_value v, t = V_txt(SW_KEY_TIMESTAMP, "2024-01-31 10:00:00+02", buf);
    uint8_t be[8];
    for (int k = 0; k < 8; k++) be[k] = (uint8_t)((uint64_t)want >> (56 - 8 * k));
    assert_int_equal(sw_value_from_binary(SW_KEY_TIMESTAMP, be, 8, &v, buf, sizeof buf), 0);
    assert_int_equal(sw_value_cmp(&v, &t), 0);
    assert_true(sw_value_hash(&v) == sw_value_hash(&t));
    assert_int_equal(sw_value_from_binary(SW_KEY_TIMESTAMP, be, 4, &v, buf, sizeof buf), -1);
}

static void test_format(void **state)
{
    (void)state;
    char buf[SW_VALUE_BUF], out[64];
    sw_value v = V_int(-42);
    sw_value_format(&v, out, sizeof out);
    assert_string_equal(out, "-42");
    v = V_txt(SW_KEY_TEXT, "it's", buf);
    sw_value_format(&v, out, sizeof out);
    assert_string_equal(out, "'it''s'");
    v = V_txt(SW_KEY_NUMERIC, "010.50", buf);
    sw_value_format(&v, out, sizeof out);
    assert_string_equal(out, "10.5");
    v = V_txt(SW_KEY_DATE, "2024-01-31", buf);
    sw_value_format(&v, out, sizeof out);
    assert_string_equal(out, "2024-01-31");
    v = V_txt(SW_KEY_TIMESTAMP, "2024-01-31 10:00:00.5+02", buf);
    sw_value_format(&v, out, sizeof out);
    assert_string_equal(out, "2024-01-31 08:00:00.500000");
    v = V_txt(SW_KEY_TIMESTAMP, "1999-12-31 23:59:59", buf);
    sw_value_format(&v, out, sizeof out);
    assert_string_equal(out, "1999-12-31 23:59:59");
    /* Long text is cut, and the output always ends within its buffer. */
    v = V_txt(SW_KEY_TEXT, "abcdefghijklmnopqrstuvwxyz", buf);
    char tiny[12];
    sw_value_format(&v, tiny, sizeof tiny);
    assert_true(strlen(tiny) < sizeof tiny);
    assert_non_null(strstr(tiny, "..."));
}

/* ------------------------------------------------------------ hash */

static void test_hash_pinned(void **state)
{
    (void)state;
    char buf[SW_VALUE_BUF];
    /* XXH3-64, seed 0, of the canonical bytes. */
    sw_value empty = V_txt(SW_KEY_TEXT, "", buf);
    assert_true(sw_value_hash(&empty) == UINT64_C(0x2d06800538d394c2));
    static const struct {
        int64_t key;
        uint64_t hash;
        uint32_t bucket;
        int target;
    } ints[] = {
        {0, UINT64_C(0xc77b3abb6f87acd9), 217, 0},
        {1, UINT64_C(0x2fbc593564db792e), 302, 0},
        {42, UINT64_C(0xd5a6f8c838df27c8), 968, 2},
        {-1, UINT64_C(0x5111c7e47d784413), 19, 0},
        {1000000, UINT64_C(0x2c27ac0713086960), 352, 1},
        {INT64_MAX, UINT64_C(0xa233cf376558df46), 838, 2},
    };
    sw_conf_function f = fn_conf("customer_hash", SW_FN_HASH, SW_KEY_INT, 3);
    sw_shardfn *fn = build1(&f);
    assert_non_null(fn);
    assert_int_equal(sw_shardfn_n_targets(fn), 3);
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        sw_value v = V_int(ints[i].key);
        char why[64], want[64];
        assert_true(sw_value_hash(&v) == ints[i].hash);
        assert_int_equal(sw_shardfn_bucket(fn, &v), ints[i].bucket);
        assert_int_equal(sw_shardfn_dispatch(fn, &v, 0, why, sizeof why), ints[i].target);
        snprintf(want, sizeof want, "hash bucket %u", ints[i].bucket);
        assert_string_equal(why, want);
    }
    /* Binary int4 42 lands where 42 does. */
    const uint8_t b4[] = {0, 0, 0, 42};
    sw_value v;
    assert_int_equal(sw_value_from_binary(SW_KEY_INT, b4, 4, &v, buf, sizeof buf), 0);
    assert_int_equal(dispatch(fn, v), 2);
    assert_string_equal(sw_shardfn_target_name(fn, 2), "shard3");
    assert_int_equal(sw_shardfn_target_node(fn, 2), 2);
    assert_null(sw_shardfn_target_name(fn, 3));
    assert_int_equal(sw_shardfn_target_node(fn, -1), -1);
    assert_int_equal(sw_shardfn_dispatch_range(fn, NULL, false, NULL, false), 0x7);
    /* A key of another type is not dispatched. */
    sw_value t = V_txt(SW_KEY_TEXT, "42", buf);
    assert_int_equal(dispatch(fn, t), SW_SHARD_NOMATCH);
    sw_shardfn_free(fn);

    /* Text keys on a text hash function. */
    static const struct {
        const char *key;
        uint64_t hash;
        uint32_t bucket;
        int target;
    } txts[] = {
        {"APJ", UINT64_C(0x120732865ae2d014), 20, 0},
        {"EMEA", UINT64_C(0x84c37d460dd017cd), 973, 2},
        {"customer-42", UINT64_C(0xf40925ac7f7b5e61), 609, 1},
    };
    f = fn_conf("text_hash", SW_FN_HASH, SW_KEY_TEXT, 3);
    fn = build1(&f);
    assert_non_null(fn);
    for (size_t i = 0; i < sizeof txts / sizeof *txts; i++) {
        sw_value tv = V_txt(SW_KEY_TEXT, txts[i].key, buf);
        assert_true(sw_value_hash(&tv) == txts[i].hash);
        assert_int_equal(sw_shardfn_bucket(fn, &tv), txts[i].bucket);
        assert_int_equal(dispatch(fn, tv), txts[i].target);
    }
    sw_shardfn_free(fn);

    /* Numeric and date canonical bytes are pinned too. */
    sw_value n = V_txt(SW_KEY_NUMERIC, "10.50", buf);
    assert_true(sw_value_hash(&n) == UINT64_C(0x81c5b1f6be2c7c73));
    sw_value d = V_txt(SW_KEY_DATE, "2024-01-31", buf);
    assert_true(sw_value_hash(&d) == UINT64_C(0x086b78f76ec83a96));
}

static void test_hash_assign(void **state)
{
    (void)state;
    int assign[8] = {0, 0, 0, 0, 1, 1, 1, 2};
    sw_conf_function f = fn_conf("explicit", SW_FN_HASH, SW_KEY_INT, 3);
    f.buckets = 8;
    f.bucket_target = assign;
    sw_shardfn *fn = build1(&f);
    assert_non_null(fn);
    int seen[3] = {0};
    for (int64_t k = 0; k < 2000; k++) {
        sw_value v = V_int(k);
        uint32_t b = sw_shardfn_bucket(fn, &v);
        assert_true(b < 8);
        assert_true(b == (uint32_t)(sw_value_hash(&v) & 7));
        int t = dispatch(fn, v);
        assert_int_equal(t, assign[b]);
        seen[t]++;
    }
    /* Half, three eighths and one eighth of the buckets: roughly so of the keys. */
    assert_true(seen[0] > 850 && seen[0] < 1150);
    assert_true(seen[2] > 150 && seen[2] < 350);
    sw_shardfn_free(fn);

    f.buckets = 1000;
    f.bucket_target = NULL;
    assert_null(build1(&f));
    assert_non_null(strstr(g_err, "power of two"));
    assert_non_null(strstr(g_err, "explicit"));
    assign[3] = 7;
    f.buckets = 8;
    f.bucket_target = assign;
    assert_null(build1(&f));
    assert_non_null(strstr(g_err, "bucket 3"));
    f.bucket_target = NULL;
    f.n_targets = 0;
    assert_null(build1(&f));
}

/* ------------------------------------------------------------ range */

static sw_conf_range R(const char *from, const char *to, int target)
{
    return (sw_conf_range){.from = (char *)from, .to = (char *)to, .target = target};
}

static void test_range_numeric_tables(void **state)
{
    (void)state;
    char *tables[] = {"products_10_to_100", "products_101_to_250", "products_251_to_500"};
    int no_node[] = {-1, -1, -1};
    /* Given out of order: the builder sorts. */
    sw_conf_range rs[] = {R("251", "501", 2), R("10", "101", 0), R("101", "251", 1)};
    sw_conf_function f = fn_conf("price_bands", SW_FN_RANGE, SW_KEY_NUMERIC, 3);
    f.targets = tables;
    f.target_node = no_node;
    f.table_targets = true;
    f.ranges = rs;
    f.n_ranges = 3;
    sw_shardfn *fn = build1(&f);
    assert_non_null(fn);
    assert_int_equal(sw_shardfn_target_node(fn, 0), -1);
    assert_string_equal(sw_shardfn_target_name(fn, 1), "products_101_to_250");

    char buf[SW_VALUE_BUF], why[64];
    sw_value v = V_txt(SW_KEY_NUMERIC, "10", buf);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, 0, why, sizeof why), 0);
    assert_string_equal(why, "range [10, 101)");
    assert_int_equal(dispatch_txt(fn, "10.00"), 0);
    assert_int_equal(dispatch_txt(fn, "100.99"), 0);
    assert_int_equal(dispatch_txt(fn, "101"), 1); /* to is exclusive */
    assert_int_equal(dispatch_txt(fn, "1.01e2"), 1);
    assert_int_equal(dispatch_txt(fn, "250.999999"), 1);
    assert_int_equal(dispatch_txt(fn, "251"), 2);
    assert_int_equal(dispatch_txt(fn, "500.9"), 2);
    v = V_txt(SW_KEY_NUMERIC, "501", buf);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, 0, why, sizeof why), SW_SHARD_NOMATCH);
    assert_string_equal(why, "no range");
    assert_int_equal(dispatch_txt(fn, "9.99"), SW_SHARD_NOMATCH);
    assert_int_equal(dispatch_txt(fn, "-5"), SW_SHARD_NOMATCH);
    sw_shardfn_free(fn);

    /* With a default, the unmatched go there. */
    f.default_target = 1;
    fn = build1(&f);
    assert_non_null(fn);
    v = V_txt(SW_KEY_NUMERIC, "9999", buf);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, 0, why, sizeof why), 1);
    assert_string_equal(why, "range default");
    assert_int_equal(dispatch_txt(fn, "-5"), 1);
    assert_int_equal(dispatch_txt(fn, "10"), 0);
    sw_shardfn_free(fn);
}

static void test_range_open_ends(void **state)
{
    (void)state;
    sw_conf_range rs[] = {R(NULL, "2024-01-01", 0), R("2024-01-01", "2025-01-01", 1),
                          R("2025-01-01", NULL, 2)};
    sw_conf_function f = fn_conf("order_date_range", SW_FN_RANGE, SW_KEY_DATE, 3);
    f.ranges = rs;
    f.n_ranges = 3;
    sw_shardfn *fn = build1(&f);
    assert_non_null(fn);
    char buf[SW_VALUE_BUF], why[64];
    assert_int_equal(dispatch_txt(fn, "0001-01-01"), 0);
    assert_int_equal(dispatch_txt(fn, "2023-12-31"), 0);
    assert_int_equal(dispatch_txt(fn, "2024-01-01"), 1);
    assert_int_equal(dispatch_txt(fn, "2024-12-31"), 1);
    assert_int_equal(dispatch_txt(fn, "2025-01-01"), 2);
    assert_int_equal(dispatch_txt(fn, "9999-12-31"), 2);
    sw_value v = V_txt(SW_KEY_DATE, "1999-05-05", buf);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, 0, why, sizeof why), 0);
    assert_string_equal(why, "range (-inf, 2024-01-01)");
    v = V_txt(SW_KEY_DATE, "2030-05-05", buf);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, 0, why, sizeof why), 2);
    assert_string_equal(why, "range [2025-01-01, +inf)");
    sw_shardfn_free(fn);

    /* Timestamp ranges from date spellings, compared in UTC. */
    sw_conf_range ts[] = {R(NULL, "2024-01-01", 0), R("2024-01-01", NULL, 1)};
    f = fn_conf("ts", SW_FN_RANGE, SW_KEY_TIMESTAMP, 2);
    f.ranges = ts;
    f.n_ranges = 2;
    fn = build1(&f);
    assert_non_null(fn);
    assert_int_equal(dispatch_txt(fn, "2023-12-31 23:59:59.999999"), 0);
    assert_int_equal(dispatch_txt(fn, "2024-01-01 00:00:00"), 1);
    assert_int_equal(dispatch_txt(fn, "2024-01-01 01:00:00+02"), 0); /* 23:00 UTC the day before */
    sw_shardfn_free(fn);
}

static void test_range_build_errors(void **state)
{
    (void)state;
    sw_conf_function f = fn_conf("r", SW_FN_RANGE, SW_KEY_INT, 3);
    sw_conf_range overlap[] = {R("0", "100", 0), R("50", "150", 1)};
    f.ranges = overlap;
    f.n_ranges = 2;
    assert_null(build1(&f));
    assert_non_null(strstr(g_err, "overlap"));
    sw_conf_range two_open[] = {R(NULL, "10", 0), R(NULL, "5", 1)};
    f.ranges = two_open;
    assert_null(build1(&f));
    assert_non_null(strstr(g_err, "overlap"));
    sw_conf_range inverted[] = {R("10", "10", 0)};
    f.ranges = inverted;
    f.n_ranges = 1;
    assert_null(build1(&f));
    assert_non_null(strstr(g_err, "not below"));
    sw_conf_range bad[] = {R("0", "10", 0), R("10", "abc", 1)};
    f.ranges = bad;
    f.n_ranges = 2;
    assert_null(build1(&f));
    assert_non_null(strstr(g_err, "'abc'"));
    sw_conf_range bad_target[] = {R("0", "10", 5)};
    f.ranges = bad_target;
    f.n_ranges = 1;
    assert_null(build1(&f));
    /* Touching ranges are fine. */
    sw_conf_range ok[] = {R("10", "20", 1), R("0", "10", 0)};
    f.ranges = ok;
    f.n_ranges = 2;
    sw_shardfn *fn = build1(&f);
    assert_non_null(fn);
    assert_int_equal(dispatch(fn, V_int(9)), 0);
    assert_int_equal(dispatch(fn, V_int(10)), 1);
    assert_int_equal(dispatch(fn, V_int(20)), SW_SHARD_NOMATCH);
    sw_shardfn_free(fn);
}

static uint64_t mask_int(const sw_shardfn *fn, const int64_t *lo, bool lo_incl, const int64_t *hi,
                         bool hi_incl)
{
    sw_value l = V_int(lo ? *lo : 0), h = V_int(hi ? *hi : 0);
    return sw_shardfn_dispatch_range(fn, lo ? &l : NULL, lo_incl, hi ? &h : NULL, hi_incl);
}

#define I64(x) (&(const int64_t){x})

static void test_range_masks(void **state)
{
    (void)state;
    /* Contiguous [0,100) [100,200) [200,300), no default. */
    sw_conf_range rs[] = {R("0", "100", 0), R("100", "200", 1), R("200", "300", 2)};
    sw_conf_function f = fn_conf("r", SW_FN_RANGE, SW_KEY_INT, 3);
    f.ranges = rs;
    f.n_ranges = 3;
    sw_shardfn *fn = build1(&f);
    assert_non_null(fn);
    assert_int_equal(mask_int(fn, NULL, false, I64(50), false), 0x1);     /* x < 50 */
    assert_int_equal(mask_int(fn, NULL, false, I64(100), false), 0x1);    /* x < 100 */
    assert_int_equal(mask_int(fn, NULL, false, I64(100), true), 0x3);     /* x <= 100 */
    assert_int_equal(mask_int(fn, I64(50), true, I64(150), true), 0x3);   /* BETWEEN 50 AND 150 */
    assert_int_equal(mask_int(fn, I64(50), true, I64(250), true), 0x7);   /* three ranges */
    assert_int_equal(mask_int(fn, I64(100), true, I64(199), true), 0x2);  /* exactly one */
    assert_int_equal(mask_int(fn, I64(99), false, I64(200), false), 0x2); /* 99 < x < 200 */
    assert_int_equal(mask_int(fn, I64(199), false, NULL, false), 0x4);    /* x > 199 */
    assert_int_equal(mask_int(fn, I64(199), true, NULL, false), 0x6);     /* x >= 199 */
    assert_int_equal(mask_int(fn, I64(300), true, I64(400), true), 0x0);  /* wholly outside */
    assert_int_equal(mask_int(fn, NULL, false, I64(-1), true), 0x0);
    assert_int_equal(mask_int(fn, NULL, false, NULL, false), 0x7);
    assert_int_equal(mask_int(fn, I64(150), true, I64(120), true), 0x0); /* empty interval */
    assert_int_equal(mask_int(fn, I64(150), true, I64(150), false), 0x0);
    assert_int_equal(mask_int(fn, I64(150), true, I64(150), true), 0x2); /* x = 150 */
    sw_shardfn_free(fn);

    /* [0,100) -> 0, gap, [200,300) -> 1, default 2. */
    sw_conf_range gap[] = {R("0", "100", 0), R("200", "300", 1)};
    f.ranges = gap;
    f.n_ranges = 2;
    f.default_target = 2;
    fn = build1(&f);
    assert_non_null(fn);
    assert_int_equal(mask_int(fn, I64(120), true, I64(150), true), 0x4); /* inside the gap */
    assert_int_equal(mask_int(fn, I64(50), true, I64(250), true), 0x7);
    assert_int_equal(mask_int(fn, I64(0), true, I64(99), true), 0x1);  /* covered exactly */
    assert_int_equal(mask_int(fn, I64(0), true, I64(100), true), 0x5); /* 100 is in the gap */
    assert_int_equal(mask_int(fn, I64(0), true, I64(100), false), 0x1);
    assert_int_equal(mask_int(fn, NULL, false, I64(0), false), 0x4);  /* x < 0 */
    assert_int_equal(mask_int(fn, NULL, false, I64(0), true), 0x5);   /* x <= 0 */
    assert_int_equal(mask_int(fn, I64(300), true, NULL, false), 0x4); /* x >= 300 */
    assert_int_equal(mask_int(fn, I64(299), true, NULL, false), 0x6);
    assert_int_equal(mask_int(fn, I64(500), true, I64(600), true), 0x4); /* wholly outside */
    assert_int_equal(mask_int(fn, I64(200), true, I64(299), true), 0x2);
    assert_int_equal(mask_int(fn, NULL, false, NULL, false), 0x7);
    sw_shardfn_free(fn);

    /* Numeric is dense: 100.5 < x < 101 still meets [10, 101) only. */
    sw_conf_range nr[] = {R("10", "101", 0), R("101", "251", 1)};
    f = fn_conf("n", SW_FN_RANGE, SW_KEY_NUMERIC, 2);
    f.ranges = nr;
    f.n_ranges = 2;
    fn = build1(&f);
    assert_non_null(fn);
    char b1[SW_VALUE_BUF], b2[SW_VALUE_BUF];
    sw_value lo = V_txt(SW_KEY_NUMERIC, "100.5", b1), hi = V_txt(SW_KEY_NUMERIC, "101", b2);
    assert_int_equal(sw_shardfn_dispatch_range(fn, &lo, false, &hi, false), 0x1);
    assert_int_equal(sw_shardfn_dispatch_range(fn, &lo, false, &hi, true), 0x3);
    assert_int_equal(sw_shardfn_dispatch_range(fn, &hi, true, NULL, false), 0x2);
    assert_int_equal(sw_shardfn_dispatch_range(fn, &hi, false, NULL, false), 0x2);
    lo = V_txt(SW_KEY_NUMERIC, "100.99", b1);
    assert_int_equal(sw_shardfn_dispatch_range(fn, NULL, false, &lo, true), 0x1);
    sw_shardfn_free(fn);
}

/* ------------------------------------------------------------ list */

static void test_list(void **state)
{
    (void)state;
    char *apj[] = {"APJ"}, *emea[] = {"EMEA", "UK"}, *latam[] = {"LATAM"};
    sw_conf_list ls[] = {{.values = apj, .n_values = 1, .target = 0},
                         {.values = emea, .n_values = 2, .target = 1},
                         {.values = latam, .n_values = 1, .target = 2}};
    sw_conf_function f = fn_conf("region_list", SW_FN_LIST, SW_KEY_TEXT, 3);
    f.lists = ls;
    f.n_lists = 3;
    sw_shardfn *fn = build1(&f);
    assert_non_null(fn);
    char buf[SW_VALUE_BUF], why[64];
    sw_value v = V_txt(SW_KEY_TEXT, "APJ", buf);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, 0, why, sizeof why), 0);
    assert_string_equal(why, "list value 'APJ'");
    assert_int_equal(dispatch_txt(fn, "EMEA"), 1);
    assert_int_equal(dispatch_txt(fn, "UK"), 1);
    assert_int_equal(dispatch_txt(fn, "LATAM"), 2);
    assert_int_equal(dispatch_txt(fn, "apj"), SW_SHARD_NOMATCH);
    assert_int_equal(dispatch_txt(fn, "APJ "), SW_SHARD_NOMATCH);
    assert_int_equal(sw_shardfn_dispatch_range(fn, NULL, false, NULL, false), 0x7);
    sw_shardfn_free(fn);

    f.default_target = 0;
    fn = build1(&f);
    assert_non_null(fn);
    v = V_txt(SW_KEY_TEXT, "NA", buf);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, 0, why, sizeof why), 0);
    assert_string_equal(why, "list default");
    assert_int_equal(dispatch_txt(fn, "LATAM"), 2);
    sw_shardfn_free(fn);

    /* Integer lists canonicalise their spellings; "01" and "1" collide. */
    char *one[] = {"1", "+2", " 3"}, *two[] = {"-7", "100"};
    sw_conf_list il[] = {{.values = one, .n_values = 3, .target = 0},
                         {.values = two, .n_values = 2, .target = 1}};
    f = fn_conf("ints", SW_FN_LIST, SW_KEY_INT, 2);
    f.lists = il;
    f.n_lists = 2;
    fn = build1(&f);
    assert_non_null(fn);
    assert_int_equal(dispatch(fn, V_int(2)), 0);
    assert_int_equal(dispatch(fn, V_int(3)), 0);
    assert_int_equal(dispatch(fn, V_int(-7)), 1);
    assert_int_equal(dispatch(fn, V_int(100)), 1);
    assert_int_equal(dispatch(fn, V_int(4)), SW_SHARD_NOMATCH);
    sw_shardfn_free(fn);
    two[1] = "01";
    assert_null(build1(&f));
    assert_non_null(strstr(g_err, "listed twice"));
    two[1] = "x";
    assert_null(build1(&f));
    assert_non_null(strstr(g_err, "'x'"));
}

/* ------------------------------------------------------------ ring */

static sw_shardfn *ring(int n, int *weights)
{
    sw_conf_function f = fn_conf("ring", SW_FN_RING, SW_KEY_INT, n);
    f.weights = weights;
    sw_shardfn *fn = build1(&f);
    assert_non_null(fn);
    return fn;
}

static void test_ring_distribution(void **state)
{
    (void)state;
    sw_shardfn *fn = ring(3, NULL);
    int count[3] = {0};
    for (int64_t k = 0; k < 10000; k++) {
        int t = dispatch(fn, V_int(k));
        assert_true(t >= 0 && t < 3);
        count[t]++;
    }
    for (int t = 0; t < 3; t++)
        if (count[t] < 2500 || count[t] > 4200) fail_msg("node %d got %d of 10000", t, count[t]);

    /* Pinned: points are XXH3-64 of "<name>#<i>", keys their XXH3-64. */
    static const int pinned[10] = {0, 0, 0, 0, 0, 2, 2, 0, 0, 2};
    for (int64_t k = 0; k < 10; k++) assert_int_equal(dispatch(fn, V_int(k)), pinned[k]);
    char why[64];
    sw_value v = V_int(42);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, 0, why, sizeof why), 0);
    assert_string_equal(why, "ring point d65d73f4070c0bab");
    sw_shardfn_free(fn);
}

static void test_ring_growth(void **state)
{
    (void)state;
    sw_shardfn *three = ring(3, NULL), *four = ring(4, NULL);
    int moved = 0;
    const int N = 100000;
    for (int64_t k = 0; k < N; k++) {
        int a = dispatch(three, V_int(k)), b = dispatch(four, V_int(k));
        if (a != b) {
            moved++;
            if (b != 3)
                fail_msg("key %lld moved from %d to %d, not to the new node", (long long)k, a, b);
        }
    }
    if (moved < N * 18 / 100 || moved > N * 32 / 100) fail_msg("%d of %d keys moved", moved, N);
    sw_shardfn_free(three);
    sw_shardfn_free(four);
}

static void test_ring_weights(void **state)
{
    (void)state;
    int w[] = {1, 2};
    sw_shardfn *fn = ring(2, w);
    int count[2] = {0};
    for (int64_t k = 0; k < 30000; k++) count[dispatch(fn, V_int(k))]++;
    double ratio = (double)count[1] / count[0];
    if (ratio < 1.6 || ratio > 2.5) fail_msg("weight 2 node got %d vs %d", count[1], count[0]);
    sw_shardfn_free(fn);

    w[0] = 0;
    sw_conf_function f = fn_conf("ring", SW_FN_RING, SW_KEY_INT, 2);
    f.weights = w;
    assert_null(build1(&f));
    assert_non_null(strstr(g_err, "weight"));
}

/* ------------------------------------------------------------ directory */

static void test_directory(void **state)
{
    (void)state;
    sw_conf_function f = fn_conf("customer_directory", SW_FN_DIRECTORY, SW_KEY_INT, 3);
    f.dir_node = 0;
    f.dir_query = "SELECT node FROM shard_directory WHERE customer_id = $1";
    f.cache_ttl_ms = 1000;
    f.cache_size = 3;
    sw_shardfn *fn = build1(&f);
    assert_non_null(fn);
    char why[64];
    sw_value v = V_int(7);
    const uint64_t t0 = 5000;
    assert_int_equal(sw_shardfn_dispatch(fn, &v, t0, why, sizeof why), SW_SHARD_LOOKUP);
    assert_string_equal(why, "directory lookup");
    assert_int_equal(sw_shardfn_directory_store(fn, &v, "shard2", t0), 1);
    assert_int_equal(sw_shardfn_directory_size(fn), 1);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, t0 + 1, why, sizeof why), 1);
    assert_string_equal(why, "directory cache");
    assert_int_equal(sw_shardfn_dispatch(fn, &v, t0 + 999, NULL, 0), 1);
    /* Expired at now + TTL: asked again, and the stale entry is gone. */
    assert_int_equal(sw_shardfn_dispatch(fn, &v, t0 + 1000, NULL, 0), SW_SHARD_LOOKUP);
    assert_int_equal(sw_shardfn_directory_size(fn), 0);

    /* Unknown node names are refused and not cached. */
    assert_int_equal(sw_shardfn_directory_store(fn, &v, "shard9", t0), SW_SHARD_NOMATCH);
    assert_int_equal(sw_shardfn_directory_size(fn), 0);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, t0, NULL, 0), SW_SHARD_LOOKUP);

    /* Storing again replaces the answer and renews the TTL. */
    assert_int_equal(sw_shardfn_directory_store(fn, &v, "shard1", t0), 0);
    assert_int_equal(sw_shardfn_directory_store(fn, &v, "shard3", t0 + 500), 2);
    assert_int_equal(sw_shardfn_directory_size(fn), 1);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, t0 + 1200, NULL, 0), 2);

    /* Size bound: 7 is cached; add 8, 9; touch 7; 10 evicts 8, the least recently used. */
    sw_value v8 = V_int(8), v9 = V_int(9), v10 = V_int(10);
    assert_int_equal(sw_shardfn_directory_store(fn, &v8, "shard1", t0 + 500), 0);
    assert_int_equal(sw_shardfn_directory_store(fn, &v9, "shard2", t0 + 500), 1);
    assert_int_equal(sw_shardfn_directory_size(fn), 3);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, t0 + 600, NULL, 0), 2);
    assert_int_equal(sw_shardfn_directory_store(fn, &v10, "shard3", t0 + 600), 2);
    assert_int_equal(sw_shardfn_directory_size(fn), 3);
    assert_int_equal(sw_shardfn_dispatch(fn, &v8, t0 + 700, NULL, 0), SW_SHARD_LOOKUP);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, t0 + 700, NULL, 0), 2);
    assert_int_equal(sw_shardfn_dispatch(fn, &v9, t0 + 700, NULL, 0), 1);
    assert_int_equal(sw_shardfn_dispatch(fn, &v10, t0 + 700, NULL, 0), 2);
    /* Churn far past the bound keeps it. */
    for (int64_t k = 100; k < 1100; k++) {
        sw_value kv = V_int(k);
        assert_int_equal(sw_shardfn_directory_store(fn, &kv, g_node_names[k % 3], t0 + 800),
                         (int)(k % 3));
        assert_true(sw_shardfn_directory_size(fn) <= 3);
    }
    sw_value last = V_int(1099);
    assert_int_equal(sw_shardfn_dispatch(fn, &last, t0 + 800, NULL, 0), 1099 % 3);
    assert_int_equal(sw_shardfn_directory_size(fn), 3);
    sw_shardfn_free(fn);
}

static void test_directory_text_and_nodes(void **state)
{
    (void)state;
    /* No explicit targets: every node is a possible answer. */
    sw_conf_function f = fn_conf("dir", SW_FN_DIRECTORY, SW_KEY_TEXT, 0);
    f.targets = NULL;
    f.target_node = NULL;
    f.cache_size = 10;
    sw_shardfn *fn = build1(&f);
    assert_non_null(fn);
    assert_int_equal(sw_shardfn_n_targets(fn), 4);
    assert_string_equal(sw_shardfn_target_name(fn, 3), "shard4");
    /* The cache owns its copy of the key: the caller's buffer may change. */
    char key[16] = "alice";
    sw_value v = {.type = SW_KEY_TEXT, .s = key, .len = 5};
    assert_int_equal(sw_shardfn_directory_store(fn, &v, "shard4", 0), 3);
    memcpy(key, "bobby", 5);
    assert_int_equal(sw_shardfn_dispatch(fn, &v, 1, NULL, 0), SW_SHARD_LOOKUP);
    sw_value a = {.type = SW_KEY_TEXT, .s = "alice", .len = 5};
    assert_int_equal(sw_shardfn_dispatch(fn, &a, 1, NULL, 0), 3);
    /* Wrong key type: neither stored nor found. */
    sw_value i = V_int(1);
    assert_int_equal(sw_shardfn_directory_store(fn, &i, "shard1", 0), SW_SHARD_NOMATCH);
    assert_int_equal(sw_shardfn_dispatch(fn, &i, 1, NULL, 0), SW_SHARD_NOMATCH);
    sw_shardfn_free(fn);

    /* cache_size 0: the answer is returned but nothing is kept. */
    f.cache_size = 0;
    fn = build1(&f);
    assert_non_null(fn);
    assert_int_equal(sw_shardfn_directory_store(fn, &a, "shard2", 0), 1);
    assert_int_equal(sw_shardfn_directory_size(fn), 0);
    assert_int_equal(sw_shardfn_dispatch(fn, &a, 1, NULL, 0), SW_SHARD_LOOKUP);
    sw_shardfn_free(fn);

    /* Not a directory function. */
    sw_conf_function h = fn_conf("h", SW_FN_HASH, SW_KEY_INT, 3);
    fn = build1(&h);
    assert_non_null(fn);
    assert_int_equal(sw_shardfn_directory_store(fn, &i, "shard1", 0), SW_SHARD_NOMATCH);
    assert_int_equal(sw_shardfn_directory_size(fn), 0);
    sw_shardfn_free(fn);
}

/* ------------------------------------------------------------ embedded */

#define EPOCH_2024_MS INT64_C(1704067200000)

static void test_embedded(void **state)
{
    (void)state;
    sw_conf_function fns[2] = {fn_conf("customer_hash", SW_FN_HASH, SW_KEY_INT, 3),
                               fn_conf("order_ids", SW_FN_EMBEDDED, SW_KEY_INT, 0)};
    fns[1].targets = NULL;
    fns[1].target_node = NULL;
    fns[1].source = 0;
    fns[1].seq_bits = 12;
    fns[1].epoch_ms = EPOCH_2024_MS;
    sw_shardfn *all[2] = {NULL, NULL};
    sw_shardfn *emb = build_all(fns, 2, all), *src = all[0];
    assert_non_null(emb);
    /* Targets are the source's. */
    assert_int_equal(sw_shardfn_n_targets(emb), 3);
    for (int t = 0; t < 3; t++) {
        assert_string_equal(sw_shardfn_target_name(emb, t), sw_shardfn_target_name(src, t));
        assert_int_equal(sw_shardfn_target_node(emb, t), t);
    }

    /* Pinned layout: key 42 is bucket 968. */
    sw_value k42 = V_int(42);
    uint64_t now = (uint64_t)EPOCH_2024_MS + 1000;
    int64_t id = sw_shardfn_make_id(emb, &k42, now, 5);
    assert_true(id == ((INT64_C(1000) << 22) | (INT64_C(968) << 12) | 5));
    sw_value idv = V_int(id);
    char why[64];
    assert_int_equal(sw_shardfn_dispatch(emb, &idv, 0, why, sizeof why), 2);
    assert_string_equal(why, "embedded bucket 968");
    assert_int_equal(sw_shardfn_bucket(emb, &idv), 968);

    /* Many keys: the ID dispatches with its key; later IDs are larger. */
    now = (uint64_t)EPOCH_2024_MS + 86400000ull * 400;
    int64_t prev = 0;
    for (int64_t k = 0; k < 5000; k++) {
        sw_value key = V_int(k * 7919 - 100000);
        uint32_t seq = (uint32_t)k * 2654435761u;
        int64_t a = sw_shardfn_make_id(emb, &key, now + (uint64_t)k, seq);
        assert_true(a > 0);
        assert_true(a > prev);
        prev = a;
        assert_int_equal(a & 0xfff, seq & 0xfff); /* low seq_bits carry the sequence */
        sw_value av = V_int(a);
        assert_int_equal(dispatch(emb, av), dispatch(src, key));
        assert_int_equal(sw_shardfn_bucket(emb, &av), sw_shardfn_bucket(src, &key));
    }
    /* Same millisecond and key: the sequence alone tells IDs apart, modulo 2^12. */
    int64_t s1 = sw_shardfn_make_id(emb, &k42, now, 1), s2 = sw_shardfn_make_id(emb, &k42, now, 2);
    assert_int_equal(s2 - s1, 1);
    assert_true(sw_shardfn_make_id(emb, &k42, now, 4096 + 1) == s1);
    /* Before the epoch, or a key of the wrong type: no ID. */
    assert_true(sw_shardfn_make_id(emb, &k42, (uint64_t)EPOCH_2024_MS - 1, 0) == -1);
    char buf[SW_VALUE_BUF];
    sw_value tk = V_txt(SW_KEY_TEXT, "42", buf);
    assert_true(sw_shardfn_make_id(emb, &tk, now, 0) == -1);
    assert_true(sw_shardfn_make_id(src, &k42, now, 0) == -1);
    /* Negative IDs are never made and never dispatched. */
    assert_int_equal(dispatch(emb, V_int(-5)), SW_SHARD_NOMATCH);
    sw_shardfn_free(emb);
    sw_shardfn_free(src);

    /* seq_bits 0 and a small source: all 64 bits still add up. */
    fns[0].buckets = 8;
    fns[1].seq_bits = 0;
    emb = build_all(fns, 2, all);
    assert_non_null(emb);
    id = sw_shardfn_make_id(emb, &k42, (uint64_t)EPOCH_2024_MS + 3, 77);
    assert_true(id == ((INT64_C(3) << 3) | (int64_t)(0xd5a6f8c838df27c8ull & 7)));
    sw_shardfn_free(emb);
    sw_shardfn_free(all[0]);

    /* Build errors: a source that is not a hash function, seq_bits out of range. */
    fns[0] = fn_conf("not_hash", SW_FN_RING, SW_KEY_INT, 3);
    assert_null(build_all(fns, 2, all));
    assert_non_null(strstr(g_err, "not a hash"));
    sw_shardfn_free(all[0]);
    fns[0] = fn_conf("customer_hash", SW_FN_HASH, SW_KEY_INT, 3);
    fns[1].seq_bits = 21;
    assert_null(build_all(fns, 2, all));
    assert_non_null(strstr(g_err, "seq_bits"));
    sw_shardfn_free(all[0]);
}

static void test_embedded_text_source(void **state)
{
    (void)state;
    sw_conf_function fns[2] = {fn_conf("email_hash", SW_FN_HASH, SW_KEY_TEXT, 4),
                               fn_conf("ids", SW_FN_EMBEDDED, SW_KEY_TEXT, 0)};
    fns[0].buckets = 65536;
    fns[1].source = 0;
    fns[1].seq_bits = 20;
    fns[1].epoch_ms = EPOCH_2024_MS;
    sw_shardfn *all[2] = {NULL, NULL};
    sw_shardfn *emb = build_all(fns, 2, all);
    assert_non_null(emb);
    assert_int_equal(sw_shardfn_conf(emb)->kind, SW_FN_EMBEDDED);
    char key[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "user%d@example.com", i);
        sw_value k = {.type = SW_KEY_TEXT, .s = key, .len = (uint32_t)strlen(key)};
        int64_t id = sw_shardfn_make_id(emb, &k, (uint64_t)EPOCH_2024_MS + 123456789, (uint32_t)i);
        assert_true(id > 0);
        assert_int_equal(dispatch(emb, V_int(id)), dispatch(all[0], k));
    }
    /* 16 + 20 low bits leave 27 bits of milliseconds: about 1.5 days, then no IDs. */
    sw_value k = {.type = SW_KEY_TEXT, .s = "x", .len = 1};
    assert_true(sw_shardfn_make_id(emb, &k, (uint64_t)EPOCH_2024_MS + (UINT64_C(1) << 27), 0) ==
                -1);
    assert_true(sw_shardfn_make_id(emb, &k, (uint64_t)EPOCH_2024_MS + (UINT64_C(1) << 27) - 1, 0) >
                0);
    sw_shardfn_free(emb);
    sw_shardfn_free(all[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_spellings),
        cmocka_unit_test(test_numeric_canonical),
        cmocka_unit_test(test_numeric_binary),
        cmocka_unit_test(test_numeric_order),
        cmocka_unit_test(test_text_values),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_hash_pinned),
        cmocka_unit_test(test_hash_assign),
        cmocka_unit_test(test_range_numeric_tables),
        cmocka_unit_test(test_range_open_ends),
        cmocka_unit_test(test_range_build_errors),
        cmocka_unit_test(test_range_masks),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_ring_distribution),
        cmocka_unit_test(test_ring_growth),
        cmocka_unit_test(test_ring_weights),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_directory_text_and_nodes),
        cmocka_unit_test(test_embedded),
        cmocka_unit_test(test_embedded_text_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
