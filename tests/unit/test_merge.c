/*
 * test_merge.c - the merger (src/exec/merge.c) fed with shard answers built
 * here: concatenation, k-way ORDER BY merge with hidden columns, LIMIT/OFFSET,
 * DISTINCT ON, grouped aggregates with HAVING and ORDER BY, DISTINCT, binary
 * values, caps and refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sw/merge.h"
#include "sw/proto.h"

enum { INT8 = 20, INT4 = 23, TEXT = 25, NUMERIC = 1700, JSON = 114 };

/* RowDescription payload: n columns "c0".. of the given type OIDs, format fmt. */
static uint32_t rowdesc(uint8_t *buf, int n, const uint32_t *oids, int fmt)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_wbuf_i16(&w, (int16_t)n);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        sw_wbuf_cstr(&w, name);
        sw_wbuf_i32(&w, 0);
        sw_wbuf_i16(&w, 0);
        sw_wbuf_i32(&w, (int32_t)oids[i]);
        sw_wbuf_i16(&w, -1);
        sw_wbuf_i32(&w, -1);
        sw_wbuf_i16(&w, (int16_t)fmt);
    }
    memcpy(buf, w.data, w.len);
    uint32_t len = (uint32_t)w.len;
    sw_wbuf_free(&w);
    return len;
}

/* DataRow payload from text values (NULL pointer = SQL NULL). */
static uint32_t datarow(uint8_t *buf, int n, const char *const *v)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_wbuf_i16(&w, (int16_t)n);
    for (int i = 0; i < n; i++) {
        if (!v[i]) {
            sw_wbuf_i32(&w, -1);
            continue;
        }
        sw_wbuf_i32(&w, (int32_t)strlen(v[i]));
        sw_wbuf_put(&w, v[i], strlen(v[i]));
    }
    memcpy(buf, w.data, w.len);
    uint32_t len = (uint32_t)w.len;
    sw_wbuf_free(&w);
    return len;
}

static void describe_all(sw_merge *m, int shards, int n, const uint32_t *oids)
{
    uint8_t d[1024];
    uint32_t dl = rowdesc(d, n, oids, 0);
    for (int i = 0; i < shards; i++) assert_int_equal(sw_merge_describe(m, i, d, dl), 0);
}

static void put(sw_merge *m, int shard, int n, ...)
{
    const char *v[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) v[i] = va_arg(ap, const char *);
    va_end(ap);
    uint8_t buf[1024];
    uint32_t len = datarow(buf, n, v);
    assert_int_equal(sw_merge_row(m, shard, buf, len), 0);
}

/* The client's rows, "a|b" per row (NULL as "~"), joined by ";". */
static void collect(sw_merge *m, char *out, size_t cap)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    int rc;
    do {
        rc = sw_merge_emit(m, &w, 1 << 20);
    } while (rc == 0 && 0);
    out[0] = 0;
    size_t off = 0, o = 0;
    while (off < w.len) {
        assert_int_equal(w.data[off], 'D');
        uint32_t len = sw_be32(w.data + off + 1);
        const uint8_t *p = w.data + off + 5;
        int n = (p[0] << 8) | p[1];
        size_t q = 2;
        if (o) o += (size_t)snprintf(out + o, cap - o, ";");
        for (int i = 0; i < n; i++) {
            int32_t fl = (int32_t)sw_be32(p + q);
            q += 4;
            if (i) o += (size_t)snprintf(out + o, cap - o, "|");
            if (fl < 0) o += (size_t)snprintf(out + o, cap - o, "~");
            else {
                o += (size_t)snprintf(out + o, cap - o, "%.*s", fl, (const char *)p + q);
                q += (size_t)fl;
            }
        }
        off += 1 + len;
    }
    sw_wbuf_free(&w);
}

static void end_all(sw_merge *m, int shards)
{
    for (int i = 0; i < shards; i++) sw_merge_end(m, i);
}

static void test_stream_limit_offset(void **state)
{
    (void)state;
    sw_merge_spec spec = {0};
    sw_merge *m = sw_merge_new(&spec, 2, 3, 1, NULL);
    uint32_t oids[] = {INT4};
    describe_all(m, 2, 1, oids);
    put(m, 0, 1, "1");
    put(m, 1, 1, "2");
    put(m, 0, 1, "3");
    put(m, 1, 1, "4");
    put(m, 0, 1, "5");
    char out[256];
    collect(m, out, sizeof out);
    /* one skipped, three sent: round robin over the queues */
    assert_int_equal(sw_merge_rows(m), 3);
    assert_true(sw_merge_satisfied(m));
    assert_false(sw_merge_wants(m, 0));
    sw_merge_free(m);
}

static void test_kway_hidden_nulls(void **state)
{
    (void)state;
    /* SELECT name FROM t ORDER BY score DESC (NULLS FIRST), name: score hidden */
    sw_sortkey keys[] = {{{0, true}, true, true}, {{0, false}, false, false}};
    sw_merge_spec spec = {.n_hidden = 1, .sort = keys, .n_sort = 2, .sorted_streams = true};
    sw_merge *m = sw_merge_new(&spec, 3, -1, -1, NULL);
    uint32_t oids[] = {TEXT, NUMERIC};
    describe_all(m, 3, 2, oids);
    put(m, 0, 2, "a", (const char *)NULL);
    put(m, 0, 2, "d", "10.5");
    put(m, 0, 2, "z", "2");
    put(m, 1, 2, "b", "10.50");
    put(m, 1, 2, "e", "9");
    put(m, 2, 2, "c", "100");
    put(m, 2, 2, "f", "-1");
    char out[256];
    collect(m, out, sizeof out);
    /* shard 1 and 2 not ended: the merge stops while any shard's queue is empty */
    assert_string_equal(out, "a;c;b;d;e");
    sw_merge_free(m);

    m = sw_merge_new(&spec, 3, 2, 1, NULL);
    describe_all(m, 3, 2, oids);
    put(m, 0, 2, "x", "1");
    put(m, 1, 2, "y", "3");
    char part[64];
    collect(m, part, sizeof part);
    assert_string_equal(part, "");  /* shard 2 may still send a bigger score */
    put(m, 2, 2, "w", "2");
    sw_merge_end(m, 2);
    collect(m, part, sizeof part);
    assert_string_equal(part, "");  /* y skipped by OFFSET 1; shard 1 may send more */
    sw_merge_end(m, 0);
    sw_merge_end(m, 1);
    collect(m, part, sizeof part);
    assert_string_equal(part, "w;x");
    assert_true(sw_merge_satisfied(m));
    sw_merge_free(m);
}

static void test_distinct_on(void **state)
{
    (void)state;
    /* SELECT DISTINCT ON (k) k, v ORDER BY k, v DESC */
    sw_sortkey keys[] = {{{0, false}, false, false}, {{1, false}, true, true}};
    sw_mref don[] = {{0, false}};
    sw_merge_spec spec = {.sort = keys, .n_sort = 2, .sorted_streams = true, .distinct_on = don, .n_distinct_on = 1};
    sw_merge *m = sw_merge_new(&spec, 2, -1, -1, NULL);
    uint32_t oids[] = {INT8, INT4};
    describe_all(m, 2, 2, oids);
    put(m, 0, 2, "1", "5");
    put(m, 0, 2, "3", "1");
    put(m, 1, 2, "1", "7");
    put(m, 1, 2, "2", "2");
    end_all(m, 2);
    char out[256];
    collect(m, out, sizeof out);
    assert_string_equal(out, "1|7;2|2;3|1");
    sw_merge_free(m);
}

/* SELECT region, count(*), sum(x), avg(x) ... GROUP BY region HAVING sum(x) > 10 ORDER BY 2 DESC, 1 */
static void test_grouped(void **state)
{
    (void)state;
    sw_mcol cols[6] = {
        {SW_MC_GROUP, 0, {{0}}},
        {SW_MC_AGG, SW_AGG_COUNT, {{1, false}}},
        {SW_MC_AGG, SW_AGG_SUM, {{2, false}}},
        {SW_MC_AGG, SW_AGG_AVG, {{4, false}, {5, false}, {3, false}}},
        {SW_MC_PART, 0, {{0}}},
        {SW_MC_PART, 0, {{0}}},
    };
    char ten[] = "10";
    sw_hx having[] = {{.op = SW_HX_GT, .a = 1, .b = 2}, {.op = SW_HX_COL, .ref = {2, false}}, {.op = SW_HX_CONST, .text = ten}};
    sw_sortkey keys[] = {{{1, false}, true, true}, {{0, false}, false, false}};
    sw_merge_spec spec = {.n_hidden = 2, .grouped = true, .n_cols = 6, .cols = cols, .having = having,
                          .n_having = 3, .sort = keys, .n_sort = 2};
    sw_merge *m = sw_merge_new(&spec, 2, -1, -1, NULL);
    uint32_t oids[] = {TEXT, INT8, NUMERIC, NUMERIC, INT8, NUMERIC};
    describe_all(m, 2, 6, oids);
    put(m, 0, 6, "APJ", "2", "5", "2.5", "2", "5");
    put(m, 1, 6, "APJ", "1", "7.25", "7.25", "1", "7.25");
    put(m, 0, 6, "EMEA", "3", "30", "10", "3", "30");
    put(m, 1, 6, "LATAM", "1", "1", "1", "1", "1");
    put(m, 1, 6, (const char *)NULL, "4", "40", "10", "4", "40");
    end_all(m, 2);
    char out[512];
    collect(m, out, sizeof out);
    /* LATAM dropped by HAVING; NULL group sorts last among equal counts */
    assert_string_equal(out, "~|4|40|10.0000000000000000;APJ|3|12.25|4.0833333333333333;EMEA|3|30|10.0000000000000000");
    sw_merge_free(m);
}

static void test_distinct_and_cap(void **state)
{
    (void)state;
    sw_sortkey keys[] = {{{0, false}, false, false}};
    sw_merge_spec spec = {.distinct = true, .sort = keys, .n_sort = 1};
    sw_merge *m = sw_merge_new(&spec, 2, -1, -1, NULL);
    uint32_t oids[] = {NUMERIC};
    describe_all(m, 2, 1, oids);
    put(m, 0, 1, "2.0");
    put(m, 1, 1, "2.00");  /* equal to 2.0 for PostgreSQL */
    put(m, 1, 1, "1");
    put(m, 0, 1, (const char *)NULL);
    put(m, 1, 1, (const char *)NULL);
    end_all(m, 2);
    char out[256];
    collect(m, out, sizeof out);
    assert_string_equal(out, "1;2.0;~");
    sw_merge_free(m);

    sw_merge_limits lim = {.max_rows = 2};
    m = sw_merge_new(&spec, 1, -1, -1, &lim);
    describe_all(m, 1, 1, oids);
    put(m, 0, 1, "1");
    put(m, 0, 1, "2");
    uint8_t buf[64];
    const char *v[] = {"3"};
    uint32_t len = datarow(buf, 1, v);
    assert_int_equal(sw_merge_row(m, 0, buf, len), -1);
    char st[6];
    const char *msg = sw_merge_failed(m, st);
    assert_non_null(msg);
    assert_string_equal(st, "54000");
    assert_non_null(strstr(msg, "merge_max_rows"));
    sw_merge_free(m);
}

static void test_refusals(void **state)
{
    (void)state;
    sw_sortkey keys[] = {{{0, false}, false, false}};
    sw_merge_spec spec = {.sort = keys, .n_sort = 1, .sorted_streams = true};
    sw_merge *m = sw_merge_new(&spec, 2, -1, -1, NULL);
    uint8_t d[256];
    uint32_t oids[] = {JSON};
    uint32_t dl = rowdesc(d, 1, oids, 0);
    assert_int_equal(sw_merge_describe(m, 0, d, dl), -1);
    char st[6];
    const char *msg = sw_merge_failed(m, st);
    assert_string_equal(st, "0A000");
    assert_non_null(strstr(msg, "ORDER BY"));
    sw_merge_free(m);
}

static void test_binary_and_description(void **state)
{
    (void)state;
    sw_sortkey keys[] = {{{0, false}, false, false}};
    sw_merge_spec spec = {.n_hidden = 1, .sort = keys, .n_sort = 1, .sorted_streams = true};
    sw_merge *m = sw_merge_new(&spec, 2, -1, -1, NULL);
    uint8_t d[256];
    uint32_t oids[] = {INT4, INT8};
    uint32_t dl = rowdesc(d, 2, oids, 1);
    assert_int_equal(sw_merge_describe(m, 0, d, dl), 0);
    assert_int_equal(sw_merge_describe(m, 1, d, dl), 0);
    sw_wbuf w;
    sw_wbuf_init(&w);
    assert_int_equal(sw_merge_put_description(m, &w), 0);
    assert_int_equal(w.data[0], 'T');
    assert_int_equal((w.data[5] << 8) | w.data[6], 1);  /* the hidden column is gone */
    sw_wbuf_free(&w);
    /* binary int4 values: -1 must sort before 2 (a byte compare would not) */
    uint8_t a[] = {0, 2, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 0};
    uint8_t b[] = {0, 2, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    assert_int_equal(sw_merge_row(m, 0, a, sizeof a), 0);
    assert_int_equal(sw_merge_row(m, 1, b, sizeof b), 0);
    end_all(m, 2);
    sw_wbuf_init(&w);
    assert_int_equal(sw_merge_emit(m, &w, 1 << 16), 1);
    /* first row: one field holding -1 */
    assert_int_equal(w.data[0], 'D');
    assert_int_equal((w.data[5] << 8) | w.data[6], 1);
    assert_int_equal(w.data[11], 0xff);
    sw_wbuf_free(&w);
    sw_merge_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_limit_offset),
        cmocka_unit_test(test_kway_hidden_nulls),
        cmocka_unit_test(test_distinct_on),
        cmocka_unit_test(test_grouped),
        cmocka_unit_test(test_distinct_and_cap),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_binary_and_description),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
