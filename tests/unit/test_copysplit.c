/*
 * test_copysplit.c - unit tests for COPY statement reading and COPY FROM
 * STDIN splitting (sw/copysplit.h, src/exec/copy_stmt.c, copy_split.c).
 *
 * Statements: defaults per format, every option in the parenthesised and
 * the old spelling, HEADER's Boolean/MATCH forms, column lists, schema-
 * qualified names, COPY TO, COPY (query) TO, files and programs, WHERE, and
 * a table of statements PostgreSQL refuses with the message expected.
 *
 * Splitting: every stream is fed whole, cut once at every byte position,
 * one byte at a time, and in random chunkings; each piece sits in an
 * exactly-sized heap block freed right after its feed, so the sanitizer
 * build catches a row or key pointer kept into an old piece or a read past
 * one.  Every way must report the same rows (bytes, line, header flag,
 * key bytes, NULL key), the same error and line, and the same end state.
 * Covered: text escapes in the key (\t \n \\ octal hex, other bytes),
 * escaped delimiters and newlines, NULL markers compared before
 * de-escaping, custom delimiters, \n, \r\n and \r streams and mixing
 * errors, "\." (alone, after data on its line, corrupt, at the end), rows
 * without a final line ending, HEADER, missing and extra fields with and
 * without column names; CSV quoting, doubled quotes, a separate escape,
 * quoted line breaks with line numbers of the first line, NULL vs quoted
 * empty, FORCE_NOT_NULL/FORCE_NULL on the key, "\." rules, unterminated
 * quotes (not an error in a plain HEADER line, as in PostgreSQL); binary header with extension, tuples with NULL/empty keys,
 * trailer, wrong field counts and sizes, truncation, data after the
 * trailer, OIDs/critical flags.  Also: rows lying in one piece are
 * reported in place (no copy), a 1 MB row grows the buffer, the callback's
 * stop value, sticky errors, SJIS trailing bytes that look like a
 * backslash, rows without a key, and a 200000-row stream through random
 * cuts against a single whole feed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "sw/copysplit.h"

/* ------------------------------------------------------------ statements */

static void parse_ok(const char *sql, sw_copy_stmt *st)
{
    char err[256] = "";
    int rc = sw_copy_stmt_parse(sql, st, err, sizeof err);
    if (rc != 0) fail_msg("%s: %s", sql, err);
}

static void test_stmt_text_defaults(void **state)
{
    (void)state;
    sw_copy_stmt st;
    parse_ok("COPY t FROM STDIN", &st);
    assert_true(st.from);
    assert_true(st.stdio);
    assert_false(st.query);
    assert_null(st.schema);
    assert_string_equal(st.relname, "t");
    assert_null(st.columns);
    assert_int_equal(st.n_columns, 0);
    assert_int_equal(st.format, SW_COPY_TEXT);
    assert_int_equal(st.delim, '\t');
    assert_string_equal(st.null_marker, "\\N");
    assert_false(st.header);
    assert_null(st.encoding);
    assert_false(st.has_where);
    assert_false(st.freeze);
    sw_copy_stmt_clear(&st);
    assert_null(st.relname);
    sw_copy_stmt_clear(&st); /* twice is harmless */

    parse_ok("copy \"Big\".\"T t\" from stdin with (format csv)", &st);
    assert_string_equal(st.schema, "Big");
    assert_string_equal(st.relname, "T t");
    assert_int_equal(st.format, SW_COPY_CSV);
    assert_int_equal(st.delim, ',');
    assert_int_equal(st.quote, '"');
    assert_int_equal(st.escape, '"');
    assert_string_equal(st.null_marker, "");
    sw_copy_stmt_clear(&st);
}

static void test_stmt_all_options(void **state)
{
    (void)state;
    sw_copy_stmt st;
    parse_ok("COPY s.t (a, b, \"C\") FROM STDIN (FORMAT csv, HEADER, DELIMITER ';', NULL 'x', QUOTE '''', "
             "ESCAPE '\\', FORCE_NOT_NULL (a), FORCE_NULL (b, \"C\"), ENCODING 'UTF8', FREEZE) WHERE a > 1",
             &st);
    assert_true(st.from && st.stdio && !st.query);
    assert_string_equal(st.schema, "s");
    assert_string_equal(st.relname, "t");
    assert_int_equal(st.n_columns, 3);
    assert_string_equal(st.columns[0], "a");
    assert_string_equal(st.columns[1], "b");
    assert_string_equal(st.columns[2], "C");
    assert_int_equal(st.format, SW_COPY_CSV);
    assert_true(st.header);
    assert_false(st.header_match);
    assert_int_equal(st.delim, ';');
    assert_string_equal(st.null_marker, "x");
    assert_int_equal(st.quote, '\'');
    assert_int_equal(st.escape, '\\');
    assert_int_equal(st.n_force_not_null, 1);
    assert_string_equal(st.force_not_null[0], "a");
    assert_int_equal(st.n_force_null, 2);
    assert_string_equal(st.force_null[1], "C");
    assert_string_equal(st.encoding, "UTF8");
    assert_true(st.freeze);
    assert_true(st.has_where);
    sw_copy_stmt_clear(&st);

    parse_ok("COPY t FROM STDIN (FORMAT text, DELIMITER '|', NULL '', FREEZE false, HEADER true)", &st);
    assert_int_equal(st.format, SW_COPY_TEXT);
    assert_int_equal(st.delim, '|');
    assert_string_equal(st.null_marker, "");
    assert_false(st.freeze);
    assert_true(st.header);
    sw_copy_stmt_clear(&st);

    parse_ok("COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE *)", &st);
    assert_false(st.from);
    assert_true(st.stdio);
    sw_copy_stmt_clear(&st);
}

static void test_stmt_old_syntax(void **state)
{
    (void)state;
    sw_copy_stmt st;
    parse_ok("COPY t FROM STDIN WITH CSV HEADER DELIMITER AS '|' NULL AS 'n' QUOTE AS '\"' ESCAPE AS '!' "
             "FORCE NOT NULL a, b",
             &st);
    assert_int_equal(st.format, SW_COPY_CSV);
    assert_true(st.header);
    assert_int_equal(st.delim, '|');
    assert_string_equal(st.null_marker, "n");
    assert_int_equal(st.quote, '"');
    assert_int_equal(st.escape, '!');
    assert_int_equal(st.n_force_not_null, 2);
    assert_string_equal(st.force_not_null[1], "b");
    sw_copy_stmt_clear(&st);

    parse_ok("COPY BINARY t FROM STDIN", &st);
    assert_int_equal(st.format, SW_COPY_BINARY);
    sw_copy_stmt_clear(&st);
    parse_ok("COPY t FROM STDIN WITH BINARY", &st);
    assert_int_equal(st.format, SW_COPY_BINARY);
    sw_copy_stmt_clear(&st);
    parse_ok("COPY t FROM STDIN DELIMITER ',' NULL 'null'", &st);
    assert_int_equal(st.format, SW_COPY_TEXT);
    assert_int_equal(st.delim, ',');
    assert_string_equal(st.null_marker, "null");
    sw_copy_stmt_clear(&st);
    parse_ok("COPY t FROM STDIN CSV", &st);
    assert_int_equal(st.format, SW_COPY_CSV);
    assert_false(st.header);
    sw_copy_stmt_clear(&st);
    parse_ok("COPY t FROM STDIN ENCODING 'sjis' FREEZE", &st);
    assert_string_equal(st.encoding, "sjis");
    assert_true(st.freeze);
    sw_copy_stmt_clear(&st);
}

static void test_stmt_header_forms(void **state)
{
    (void)state;
    static const struct { const char *sql; bool header, match; } cases[] = {
        {"COPY t FROM STDIN (HEADER)", true, false},
        {"COPY t FROM STDIN (HEADER match)", true, true},
        {"COPY t FROM STDIN (HEADER MATCH, FORMAT csv)", true, true},
        {"COPY t FROM STDIN (HEADER false)", false, false},
        {"COPY t FROM STDIN (HEADER 0)", false, false},
        {"COPY t FROM STDIN (HEADER 1)", true, false},
        {"COPY t FROM STDIN (HEADER on)", true, false},
        {"COPY t FROM STDIN (HEADER 'off')", false, false},
        {"COPY t TO STDOUT (HEADER)", true, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_copy_stmt st;
        parse_ok(cases[i].sql, &st);
        assert_int_equal(st.header, cases[i].header);
        assert_int_equal(st.header_match, cases[i].match);
        sw_copy_stmt_clear(&st);
    }
}

static void test_stmt_to_query_file(void **state)
{
    (void)state;
    sw_copy_stmt st;
    parse_ok("COPY public.t (x) TO STDOUT", &st);
    assert_false(st.from);
    assert_true(st.stdio);
    assert_string_equal(st.schema, "public");
    assert_int_equal(st.n_columns, 1);
    sw_copy_stmt_clear(&st);

    parse_ok("COPY (SELECT a FROM t WHERE b = 1) TO STDOUT WITH (FORMAT binary)", &st);
    assert_false(st.from);
    assert_true(st.query);
    assert_true(st.stdio);
    assert_null(st.relname);
    assert_int_equal(st.format, SW_COPY_BINARY);
    sw_copy_stmt_clear(&st);

    parse_ok("COPY t FROM '/tmp/data.csv' (FORMAT csv)", &st);
    assert_true(st.from);
    assert_false(st.stdio);
    sw_copy_stmt_clear(&st);
    parse_ok("COPY t FROM PROGRAM 'zcat x.gz'", &st);
    assert_false(st.stdio);
    sw_copy_stmt_clear(&st);
    parse_ok("COPY t TO '/tmp/out'", &st);
    assert_false(st.from);
    assert_false(st.stdio);
    sw_copy_stmt_clear(&st);
}

static void test_stmt_errors(void **state)
{
    (void)state;
    static const struct { const char *sql, *msg; } cases[] = {
        {"COPY t FROM STDIN (DELIMITER '||')", "COPY delimiter must be a single one-byte character"},
        {"COPY t FROM STDIN (DELIMITER '')", "COPY delimiter must be a single one-byte character"},
        {"COPY t FROM STDIN (DELIMITER E'\\n')", "COPY delimiter cannot be newline or carriage return"},
        {"COPY t FROM STDIN (DELIMITER 'a')", "COPY delimiter cannot be \"a\""},
        {"COPY t FROM STDIN (DELIMITER '\\')", "COPY delimiter cannot be \"\\\""},
        {"COPY t FROM STDIN (DELIMITER '.')", "COPY delimiter cannot be \".\""},
        {"COPY t FROM STDIN (DELIMITER 1)", "COPY delimiter cannot be \"1\""},
        {"COPY t FROM STDIN (QUOTE '\"')", "COPY quote available only in CSV mode"},
        {"COPY t FROM STDIN (ESCAPE '\\')", "COPY escape available only in CSV mode"},
        {"COPY t FROM STDIN (FORMAT csv, QUOTE '''''')", "COPY quote must be a single one-byte character"},
        {"COPY t FROM STDIN (FORMAT csv, ESCAPE '')", "COPY escape must be a single one-byte character"},
        {"COPY t FROM STDIN (FORMAT csv, DELIMITER '\"')", "COPY delimiter and quote must be different"},
        {"COPY t FROM STDIN (FORMAT binary, DELIMITER ',')", "cannot specify DELIMITER in BINARY mode"},
        {"COPY t FROM STDIN (FORMAT binary, NULL 'x')", "cannot specify NULL in BINARY mode"},
        {"COPY t FROM STDIN (FORMAT binary, HEADER)", "cannot specify HEADER in BINARY mode"},
        {"COPY t FROM STDIN (FORMAT csv, FORCE_QUOTE *)", "COPY force quote only available using COPY TO"},
        {"COPY t TO STDOUT (FORCE_QUOTE (a))", "COPY force quote available only in CSV mode"},
        {"COPY t FROM STDIN (FORCE_NOT_NULL (a))", "COPY force not null available only in CSV mode"},
        {"COPY t TO STDOUT (FORMAT csv, FORCE_NOT_NULL (a))", "COPY force not null only available using COPY FROM"},
        {"COPY t TO STDOUT (FORMAT csv, FORCE_NULL (a))", "COPY force null only available using COPY FROM"},
        {"COPY t FROM STDIN (FORMAT csv, FORCE_NOT_NULL *)", "must be a list of column names"},
        {"COPY t FROM STDIN (DELIMITER ',', NULL 'a,b')", "COPY delimiter must not appear in the NULL specification"},
        {"COPY t FROM STDIN (FORMAT csv, NULL '\"')", "CSV quote character must not appear in the NULL specification"},
        {"COPY t FROM STDIN (NULL E'x\\ny')", "COPY null representation cannot use newline or carriage return"},
        {"COPY t FROM STDIN (FORMAT xml)", "COPY format \"xml\" not recognized"},
        {"COPY t FROM STDIN (FORMAT csv, FORMAT csv)", "conflicting or redundant options"},
        {"COPY t FROM STDIN (DELIMITER ',', DELIMITER ';')", "conflicting or redundant options"},
        {"COPY t FROM STDIN (OIDS true)", "option \"oids\" not recognized"},
        {"COPY t FROM STDIN (HEADER 2)", "header requires a Boolean value or \"match\""},
        {"COPY t TO STDOUT (HEADER match)", "cannot use \"match\" with HEADER in COPY TO"},
        {"COPY t FROM STDIN (FREEZE maybe)", "freeze requires a Boolean value"},
        {"COPY t FROM STDIN (FORMAT)", "format requires a parameter"},
        {"COPY t (a, b, a) FROM STDIN", "column \"a\" specified more than once"},
        {"COPY t (a) FROM STDIN (FORMAT csv, FORCE_NOT_NULL (b))", "FORCE_NOT_NULL column \"b\" not referenced by COPY"},
        {"COPY t (a) FROM STDIN (FORMAT csv, FORCE_NULL (z))", "FORCE_NULL column \"z\" not referenced by COPY"},
        {"SELECT 1", "not a COPY statement"},
        {"COPY t FROM STDIN; COPY u FROM STDIN", "expected exactly one COPY statement"},
        {"", "expected exactly one COPY statement"},
        {"COPY t FROM STDIN WITH OIDS", "syntax error"},
        {"COPY (SELECT 1) FROM STDIN", "syntax error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_copy_stmt st;
        char err[256] = "";
        int rc = sw_copy_stmt_parse(cases[i].sql, &st, err, sizeof err);
        if (rc != -1 || !strstr(err, cases[i].msg))
            fail_msg("%s: rc %d, \"%s\", expected \"%s\"", cases[i].sql, rc, err, cases[i].msg);
        /* a failed parse leaves nothing to free */
        assert_null(st.relname);
        assert_null(st.null_marker);
        assert_null(st.columns);
        sw_copy_stmt_clear(&st);
    }
}

/* ------------------------------------------------------------ splitting harness */

typedef struct got_row {
    uint8_t *data;
    size_t len;
    uint64_t line;
    bool header;
    uint8_t *key;
    size_t key_len;
    bool key_null;
} got_row;

typedef struct result {
    got_row *rows;
    int n, cap;
    int rc;
    char err[256];
    uint64_t err_line;
    bool ended;
    int stop_after;   /* callback returns 7 after this many rows (0: never) */
} result;

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    assert_non_null(d);
    if (n) memcpy(d, p, n);
    return d;
}

static int collect(void *ctx, const sw_copy_row *r)
{
    result *res = ctx;
    if (res->n == res->cap) {
        res->cap = res->cap ? res->cap * 2 : 16;
        res->rows = realloc(res->rows, (size_t)res->cap * sizeof *res->rows);
        assert_non_null(res->rows);
    }
    got_row *g = &res->rows[res->n++];
    g->data = dup_bytes(r->data, r->len);
    g->len = r->len;
    g->line = r->line;
    g->header = r->header;
    g->key_null = r->key_null;
    g->key = r->key_null ? NULL : dup_bytes(r->key, r->key_len);
    g->key_len = r->key_null ? 0 : r->key_len;
    if (r->key_null) assert_true(r->key == NULL || r->key_len == 0);
    if (res->stop_after && res->n == res->stop_after) return 7;
    return 0;
}

static void result_free(result *res)
{
    for (int i = 0; i < res->n; i++) {
        free(res->rows[i].data);
        free(res->rows[i].key);
    }
    free(res->rows);
    memset(res, 0, sizeof *res);
}

typedef void (*setup_fn)(sw_copy_split *s, const sw_copy_stmt *st);

typedef struct scase {
    const char *sql;
    int key_field;
    setup_fn setup;
} scase;

/* Feed in[0..len) cut at cuts[0..ncuts) (increasing), each piece in its own
 * exactly-sized block freed after its feed. */
static void run_cuts(const scase *c, const uint8_t *in, size_t len, const size_t *cuts, int ncuts, result *res)
{
    sw_copy_stmt st;
    parse_ok(c->sql, &st);
    sw_copy_split *s = sw_copy_split_new(&st, c->key_field);
    assert_non_null(s);
    if (c->setup) c->setup(s, &st);
    int stop = res->stop_after;
    memset(res, 0, sizeof *res);
    res->stop_after = stop;
    size_t at = 0;
    int rc = 0;
    for (int k = 0; k <= ncuts && rc == 0; k++) {
        size_t end = k < ncuts ? cuts[k] : len;
        uint8_t *piece = dup_bytes(in + at, end - at);
        rc = sw_copy_split_feed(s, piece, end - at, collect, res);
        free(piece);
        at = end;
    }
    if (rc == 0) rc = sw_copy_split_finish(s, collect, res);
    res->rc = rc;
    uint64_t line = 0;
    const char *e = sw_copy_split_error(s, &line);
    if (rc == -1) {
        assert_non_null(e);
        snprintf(res->err, sizeof res->err, "%s", e);
        res->err_line = line;
    } else {
        assert_null(e);
    }
    res->ended = sw_copy_split_ended(s);
    sw_copy_split_free(s);
    sw_copy_stmt_clear(&st);
}

static void same_result(const result *a, const result *b, const char *how)
{
    if (a->n != b->n) fail_msg("%s: %d rows, expected %d", how, b->n, a->n);
    for (int i = 0; i < a->n; i++) {
        const got_row *x = &a->rows[i], *y = &b->rows[i];
        if (x->len != y->len || memcmp(x->data, y->data, x->len) != 0 || x->line != y->line ||
            x->header != y->header || x->key_null != y->key_null || x->key_len != y->key_len ||
            (x->key_len && memcmp(x->key, y->key, x->key_len) != 0))
            fail_msg("%s: row %d differs (line %llu vs %llu)", how, i, (unsigned long long)y->line,
                     (unsigned long long)x->line);
    }
    if (a->rc != b->rc || strcmp(a->err, b->err) != 0 || a->err_line != b->err_line || a->ended != b->ended)
        fail_msg("%s: rc %d \"%s\" line %llu ended %d, expected rc %d \"%s\" line %llu ended %d", how, b->rc, b->err,
                 (unsigned long long)b->err_line, b->ended, a->rc, a->err, (unsigned long long)a->err_line, a->ended);
}

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* Whole, every single cut (small streams), byte by byte, random chunkings:
 * all must equal the whole feed, returned in *whole. */
static void run_all_ways(const scase *c, const uint8_t *in, size_t len, result *whole)
{
    run_cuts(c, in, len, NULL, 0, whole);
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    assert_non_null(cuts);
    result r = {0};
    if (len <= 4096) {
        for (size_t k = 1; k < len; k++) {
            run_cuts(c, in, len, &k, 1, &r);
            char how[64];
            snprintf(how, sizeof how, "cut at %zu", k);
            same_result(whole, &r, how);
            result_free(&r);
        }
        for (size_t k = 1; k < len; k++) cuts[k - 1] = k;
        run_cuts(c, in, len, cuts, len > 0 ? (int)len - 1 : 0, &r);
        same_result(whole, &r, "byte by byte");
        result_free(&r);
    }
    for (int round = 0; round < 20; round++) {
        int n = 0;
        size_t at = 0;
        size_t maxstep = 1 + (size_t)(rng() % (round < 10 ? 8 : 300));
        for (;;) {
            at += 1 + rng() % maxstep;
            if (at >= len) break;
            cuts[n++] = at;
        }
        run_cuts(c, in, len, cuts, n, &r);
        same_result(whole, &r, "random cuts");
        result_free(&r);
    }
    free(cuts);
}

/* What a row must be.  len/key_len 0: strlen; key NULL: a NULL key. */
typedef struct xrow {
    const char *data;
    uint64_t line;
    const char *key;
    bool header;
    size_t len, key_len;
} xrow;

#define HDR(d, l) {(d), (l), NULL, true, 0, 0}

/* Split in every way and compare with the expected rows and outcome. */
static void expect_split(const scase *c, const char *in, size_t len, const xrow *rows, int n, const char *err,
                         uint64_t err_line, bool ended)
{
    if (!len) len = strlen(in);
    result w = {0};
    run_all_ways(c, (const uint8_t *)in, len, &w);
    if (w.n != n) fail_msg("%s: %d rows, expected %d (error \"%s\")", c->sql, w.n, n, w.err);
    for (int i = 0; i < n; i++) {
        const got_row *g = &w.rows[i];
        size_t dl = rows[i].len ? rows[i].len : strlen(rows[i].data);
        if (g->len != dl || memcmp(g->data, rows[i].data, dl) != 0)
            fail_msg("row %d: data \"%.*s\", expected \"%s\"", i, (int)g->len, (const char *)g->data, rows[i].data);
        if (g->line != rows[i].line)
            fail_msg("row %d: line %llu, expected %llu", i, (unsigned long long)g->line,
                     (unsigned long long)rows[i].line);
        assert_int_equal(g->header, rows[i].header);
        if (!rows[i].key) {
            if (!g->key_null) fail_msg("row %d: key \"%.*s\", expected NULL", i, (int)g->key_len, (const char *)g->key);
        } else {
            size_t kl = rows[i].key_len ? rows[i].key_len : strlen(rows[i].key);
            if (g->key_null) fail_msg("row %d: NULL key, expected \"%s\"", i, rows[i].key);
            if (g->key_len != kl || memcmp(g->key, rows[i].key, kl) != 0)
                fail_msg("row %d: key \"%.*s\", expected \"%s\"", i, (int)g->key_len, (const char *)g->key,
                         rows[i].key);
        }
    }
    if (err) {
        assert_int_equal(w.rc, -1);
        if (!strstr(w.err, err)) fail_msg("error \"%s\", expected \"%s\"", w.err, err);
        if (w.err_line != err_line)
            fail_msg("error line %llu, expected %llu", (unsigned long long)w.err_line, (unsigned long long)err_line);
    } else if (w.rc != 0) {
        fail_msg("rc %d: %s (line %llu)", w.rc, w.err, (unsigned long long)w.err_line);
    }
    assert_int_equal(w.ended, ended);
    result_free(&w);
}

#define EXPECT(c, in, rows, err, eline, ended) \
    expect_split((c), (in), sizeof(in) - 1, (rows), (int)(sizeof(rows) / sizeof((rows)[0])), (err), (eline), (ended))
#define EXPECT_NONE(c, in, err, eline, ended) expect_split((c), (in), sizeof(in) - 1, NULL, 0, (err), (eline), (ended))

/* ------------------------------------------------------------ text */

static void test_text_rows_and_keys(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN", 1, NULL};
    static const xrow rows[] = {
        {"1\talice\tx\n", 1, "alice", false, 0, 0},
        {"2\tbob\n", 2, "bob", false, 0, 0},
        {"3\t\t\n", 3, "", false, 0, 0},
        {"4\tcarol", 4, "carol", false, 0, 0},
    };
    EXPECT(&c, "1\talice\tx\n2\tbob\n3\t\t\n4\tcarol", rows, NULL, 0, false);

    scase c0 = {"COPY t FROM STDIN", 0, NULL};
    static const xrow rows0[] = {
        {"\n", 1, "", false, 0, 0},
        {"k\n", 2, "k", false, 0, 0},
    };
    EXPECT(&c0, "\nk\n", rows0, NULL, 0, false);
}

static void test_text_escapes(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN", 0, NULL};
    /* "\\." is an escaped backslash and a dot, not the end marker */
    static const xrow rows[] = {
        {"a\\tb\tx\n", 1, "a\tb", false, 0, 0},
        {"\\n\\r\\b\\f\\v\\\\\n", 2, "\n\r\b\f\v\\", false, 0, 0},
        {"\\101\\1012\\7\\08\tz\n", 3, "AA2\a\0" "8", false, 0, 6},
        {"\\x41\\x4a\\x4g\\xz\n", 4, "AJ\004gxz", false, 0, 0},
        {"\\q\\\\.\n", 5, "q\\.", false, 0, 0},
        {"a\\\tb\tc\n", 6, "a\tb", false, 0, 0},
        {"multi\\\nline\tc\n", 7, "multi\nline", false, 0, 0},
        {"\\777\\400\n", 8, "\377\000", false, 0, 2},
        {"plain\n", 9, "plain", false, 0, 0},
    };
    EXPECT(&c,
           "a\\tb\tx\n\\n\\r\\b\\f\\v\\\\\n\\101\\1012\\7\\08\tz\n\\x41\\x4a\\x4g\\xz\n\\q\\\\.\n"
           "a\\\tb\tc\nmulti\\\nline\tc\n\\777\\400\nplain\n",
           rows, NULL, 0, false);
}

static void test_text_null_marker(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN", 1, NULL};
    static const xrow rows[] = {
        {"1\t\\N\n", 1, NULL, false, 0, 0},
        {"2\t\\\\N\n", 2, "\\N", false, 0, 0},   /* compared before de-escaping: not NULL */
        {"3\t\n", 3, "", false, 0, 0},
        {"4\t\\N\\N\n", 4, "NN", false, 0, 0},
    };
    EXPECT(&c, "1\t\\N\n2\t\\\\N\n3\t\n4\t\\N\\N\n", rows, NULL, 0, false);

    scase c2 = {"COPY t FROM STDIN (NULL 'nil', DELIMITER ',')", 1, NULL};
    static const xrow rows2[] = {
        {"1,nil\n", 1, NULL, false, 0, 0},
        {"2,\\nil\n", 2, "\nil", false, 0, 0},
        {"3,\\N\n", 3, "N", false, 0, 0},
    };
    EXPECT(&c2, "1,nil\n2,\\nil\n3,\\N\n", rows2, NULL, 0, false);

    scase c3 = {"COPY t FROM STDIN (NULL '')", 0, NULL};
    static const xrow rows3[] = {
        {"\tx\n", 1, NULL, false, 0, 0},
        {"\\N\tx\n", 2, "N", false, 0, 0},
    };
    EXPECT(&c3, "\tx\n\\N\tx\n", rows3, NULL, 0, false);
}

static void test_text_custom_delimiter(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN DELIMITER '|'", 2, NULL};
    static const xrow rows[] = {
        {"a|b|key1|d\n", 1, "key1", false, 0, 0},
        {"a\tb|x\\|y|k\\|2\n", 2, "k|2", false, 0, 0},
        {"||\n", 3, "", false, 0, 0},
    };
    EXPECT(&c, "a|b|key1|d\na\tb|x\\|y|k\\|2\n||\n", rows, NULL, 0, false);

    scase c2 = {"COPY t FROM STDIN (DELIMITER E'\\x01')", 1, NULL};
    static const xrow rows2[] = {{"a\001b\001c\n", 1, "b", false, 0, 0}};
    EXPECT(&c2, "a\001b\001c\n", rows2, NULL, 0, false);
}

static void test_text_crlf_and_cr(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN", 0, NULL};
    static const xrow rows[] = {
        {"a\tb\r\n", 1, "a", false, 0, 0},
        {"c\\\r\r\n", 2, "c\r", false, 0, 0},
        {"d\r\n", 3, "d", false, 0, 0},
    };
    EXPECT(&c, "a\tb\r\nc\\\r\r\nd\r\n", rows, NULL, 0, false);

    static const xrow rows_cr[] = {
        {"a\r", 1, "a", false, 0, 0},
        {"\r", 2, "", false, 0, 0},
        {"b\\\nc\r", 3, "b\nc", false, 0, 0},
        {"d\r", 4, "d", false, 0, 0},
    };
    EXPECT(&c, "a\r\rb\\\nc\rd\r", rows_cr, NULL, 0, false);
}

static void test_text_newline_style_errors(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN", 0, NULL};
    static const xrow one_nl[] = {{"a\n", 1, "a", false, 0, 0}};
    EXPECT(&c, "a\nb\r\nc\n", one_nl, "literal carriage return found in data", 2, false);
    static const xrow one_crlf[] = {{"a\r\n", 1, "a", false, 0, 0}};
    EXPECT(&c, "a\r\nb\nc\n", one_crlf, "literal newline found in data", 2, false);
    EXPECT(&c, "a\r\nb\rc\r\n", one_crlf, "literal carriage return found in data", 2, false);
    static const xrow one_cr[] = {{"a\r", 1, "a", false, 0, 0}};
    EXPECT(&c, "a\rb\n", one_cr, "literal newline found in data", 2, false);
    /* a lone \r at the very end of a \r\n stream */
    EXPECT(&c, "a\r\nb\r", one_crlf, "literal carriage return found in data", 2, false);
}

static void test_text_end_marker(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN", 0, NULL};
    static const xrow rows[] = {
        {"a\n", 1, "a", false, 0, 0},
        {"b\n", 2, "b", false, 0, 0},
    };
    EXPECT(&c, "a\nb\n\\.\nnot\tread\n\\\\junk", rows, NULL, 0, true);
    EXPECT(&c, "a\nb\n\\.\n", rows, NULL, 0, true);
    static const xrow rows_crlf[] = {{"a\r\n", 1, "a", false, 0, 0}};
    EXPECT(&c, "a\r\n\\.\r\nrest", rows_crlf, NULL, 0, true);
    static const xrow rows_cr[] = {{"a\r", 1, "a", false, 0, 0}};
    EXPECT(&c, "a\r\\.\rrest\n", rows_cr, NULL, 0, true);
    /* the marker after data on its line: that data is a last row */
    static const xrow rows_mid[] = {
        {"a\n", 1, "a", false, 0, 0},
        {"x\ty", 2, "x", false, 0, 0},
    };
    EXPECT(&c, "a\nx\ty\\.\nlater\n", rows_mid, NULL, 0, true);
    /* first line: "\." ends a stream whose newline style is unknown yet */
    EXPECT_NONE(&c, "\\.\r\nx\n", NULL, 0, true);
    EXPECT_NONE(&c, "\\.\n", NULL, 0, true);
}

static void test_text_end_marker_errors(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN", 0, NULL};
    static const xrow one[] = {{"a\n", 1, "a", false, 0, 0}};
    EXPECT(&c, "a\n\\.x\n", one, "end-of-copy marker corrupt", 2, false);
    EXPECT(&c, "a\nb\\.c\n", one, "end-of-copy marker corrupt", 2, false);
    EXPECT(&c, "a\n\\.", one, "end-of-copy marker corrupt", 2, false);
    EXPECT(&c, "a\n\\.\r\n", one, "end-of-copy marker does not match previous newline style", 2, false);
    static const xrow one_crlf[] = {{"a\r\n", 1, "a", false, 0, 0}};
    EXPECT(&c, "a\r\n\\.\n", one_crlf, "end-of-copy marker does not match previous newline style", 2, false);
    EXPECT(&c, "a\r\n\\.\r\r", one_crlf, "end-of-copy marker does not match previous newline style", 2, false);
    EXPECT(&c, "a\r\n\\.x", one_crlf, "end-of-copy marker corrupt", 2, false);
    EXPECT(&c, "a\r\n\\.\rx", one_crlf, "end-of-copy marker corrupt", 2, false);
}

static void test_text_header(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN (HEADER)", 2, NULL};
    static const xrow rows[] = {
        HDR("id\tname\n", 1),
        {"1\tx\tk1\n", 2, "k1", false, 0, 0},
        {"2\ty\t\\N\n", 3, NULL, false, 0, 0},
    };
    EXPECT(&c, "id\tname\n1\tx\tk1\n2\ty\t\\N\n", rows, NULL, 0, false);
    static const xrow only[] = {HDR("h", 1)};
    EXPECT(&c, "h", only, NULL, 0, false);
}

static void test_text_missing_and_extra(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN", 2, NULL};
    static const xrow one[] = {{"a\tb\tc\n", 1, "c", false, 0, 0}};
    EXPECT(&c, "a\tb\tc\na\tb\nx\ty\tz\n", one, "missing data for column 3", 2, false);
    EXPECT(&c, "a\tb\tc\na\\\tb\tc\n", one, "missing data for column", 2, false);

    scase named = {"COPY t (id, name, city) FROM STDIN", 1, NULL};
    static const xrow ok[] = {{"1\tn\tc\n", 1, "n", false, 0, 0}};
    EXPECT(&named, "1\tn\tc\n1\tn\n", ok, "missing data for column \"city\"", 2, false);
    EXPECT(&named, "1\tn\tc\n1\tn\tc\td\n", ok, "extra data after last expected column", 2, false);
    EXPECT(&named, "1\tn\tc\n1\n", ok, "missing data for column \"name\"", 2, false);
}

static void set_columns(sw_copy_split *s, const sw_copy_stmt *st)
{
    static const char *const names[] = {"id", "region", "note"};
    assert_int_equal(sw_copy_split_columns(s, st, 3, names), 0);
}

static void set_count_only(sw_copy_split *s, const sw_copy_stmt *st)
{
    assert_int_equal(sw_copy_split_columns(s, st, 2, NULL), 0);
}

static void test_table_columns(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN (FORMAT csv, FORCE_NOT_NULL (region))", 1, set_columns};
    static const xrow rows[] = {
        {"1,,x\n", 1, "", false, 0, 0},   /* FORCE_NOT_NULL: empty string, not NULL */
        {"2,eu,\n", 2, "eu", false, 0, 0},
    };
    EXPECT(&c, "1,,x\n2,eu,\n3,us\n", rows, "missing data for column \"note\"", 3, false);

    scase c2 = {"COPY t FROM STDIN", 0, set_count_only};
    static const xrow rows2[] = {{"1\ta\n", 1, "1", false, 0, 0}};
    EXPECT(&c2, "1\ta\n1\ta\tb\n", rows2, "extra data after last expected column", 2, false);
    EXPECT(&c2, "1\ta\n1\n", rows2, "missing data for column 2", 2, false);

    /* the key beyond the columns is refused */
    sw_copy_stmt st;
    parse_ok("COPY t FROM STDIN", &st);
    sw_copy_split *s = sw_copy_split_new(&st, 3);
    assert_non_null(s);
    assert_int_equal(sw_copy_split_columns(s, &st, 3, NULL), -1);
    sw_copy_split_free(s);
    sw_copy_stmt_clear(&st);
    /* a column list the key index does not fit */
    parse_ok("COPY t (a, b) FROM STDIN", &st);
    assert_null(sw_copy_split_new(&st, 2));
    sw_copy_stmt_clear(&st);
}

/* ------------------------------------------------------------ csv */

static void test_csv_quoting(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN (FORMAT csv)", 1, NULL};
    static const xrow rows[] = {
        {"1,\"a,b\",x\n", 1, "a,b", false, 0, 0},
        {"2,\"say \"\"hi\"\"\"\n", 2, "say \"hi\"", false, 0, 0},
        {"3,,z\n", 3, NULL, false, 0, 0},          /* unquoted empty: NULL */
        {"4,\"\",z\n", 4, "", false, 0, 0},         /* quoted empty: empty string */
        {"5,ab\"c,d\"e\n", 5, "abc,de", false, 0, 0}, /* quotes inside a field */
        {"6,\"\"\"\"\n", 6, "\"", false, 0, 0},
        {"7,a\\b\n", 7, "a\\b", false, 0, 0},     /* a backslash is data in CSV */
        {"8,\"x\"\n", 8, "x", false, 0, 0},
        {"9,\\.\n", 9, "\\.", false, 0, 0},
    };
    EXPECT(&c,
           "1,\"a,b\",x\n2,\"say \"\"hi\"\"\"\n3,,z\n4,\"\",z\n5,ab\"c,d\"e\n6,\"\"\"\"\n7,a\\b\n8,\"x\"\n9,\\.\n",
           rows, NULL, 0, false);
}

static void test_csv_escape(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN (FORMAT csv, ESCAPE '\\')", 0, NULL};
    static const xrow rows[] = {
        {"\"a\\\"b\",x\n", 1, "a\"b", false, 0, 0},
        {"\"c\\\\\",x\n", 2, "c\\", false, 0, 0},
        {"\"d\\e\"\"\",x\n", 3, "d\\e", false, 0, 0},
        {"f\\\"g,\n\"\n", 4, "f\\g,\n", false, 0, 0},   /* outside quotes the escape is data */
    };
    EXPECT(&c, "\"a\\\"b\",x\n\"c\\\\\",x\n\"d\\e\"\"\",x\nf\\\"g,\n\"\n", rows, NULL, 0, false);

    scase q = {"COPY t FROM STDIN (FORMAT csv, QUOTE '''', DELIMITER ';')", 1, NULL};
    static const xrow rows_q[] = {
        {"1;'it''s;here'\n", 1, "it's;here", false, 0, 0},
        {"2;\"x\"\n", 2, "\"x\"", false, 0, 0},
    };
    EXPECT(&q, "1;'it''s;here'\n2;\"x\"\n", rows_q, NULL, 0, false);
}

static void test_csv_multiline_lines(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN (FORMAT csv)", 1, NULL};
    static const xrow rows[] = {
        {"1,\"two\nthree\nfour\"\n", 1, "two\nthree\nfour", false, 0, 0},
        {"2,b\n", 4, "b", false, 0, 0},
        {"3,\"x\n\",\"y\n\"\n", 5, "x\n", false, 0, 0},
        {"4,k\n", 8, "k", false, 0, 0},
    };
    EXPECT(&c, "1,\"two\nthree\nfour\"\n2,b\n3,\"x\n\",\"y\n\"\n4,k\n", rows, NULL, 0, false);

    static const xrow rows_crlf[] = {
        {"1,\"a\r\nb\"\r\n", 1, "a\r\nb", false, 0, 0},
        {"2,\"c\rd\"\r\n", 3, "c\rd", false, 0, 0},
        {"3,e\r\n", 5, "e", false, 0, 0},
    };
    EXPECT(&c, "1,\"a\r\nb\"\r\n2,\"c\rd\"\r\n3,e\r\n", rows_crlf, NULL, 0, false);

    static const xrow before[] = {{"1,a\n", 1, "a", false, 0, 0}};
    EXPECT(&c, "1,a\n2,\"b\nc\n", before, "unterminated CSV quoted field", 2, false);
    EXPECT(&c, "1,a\n2,\"b\"\"", before, "unterminated CSV quoted field", 2, false);
}

static void test_csv_null_and_force(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN (FORMAT csv, NULL 'NA')", 0, NULL};
    static const xrow rows[] = {
        {"NA,1\n", 1, NULL, false, 0, 0},
        {"\"NA\",2\n", 2, "NA", false, 0, 0},
        {",3\n", 3, "", false, 0, 0},
        {"NAx,4\n", 4, "NAx", false, 0, 0},
    };
    EXPECT(&c, "NA,1\n\"NA\",2\n,3\nNAx,4\n", rows, NULL, 0, false);

    scase fnn = {"COPY t (k, v) FROM STDIN (FORMAT csv, FORCE_NOT_NULL (k))", 0, NULL};
    static const xrow rows_fnn[] = {
        {",1\n", 1, "", false, 0, 0},
        {"\"\",2\n", 2, "", false, 0, 0},
    };
    EXPECT(&fnn, ",1\n\"\",2\n", rows_fnn, NULL, 0, false);

    scase fn = {"COPY t (k, v) FROM STDIN (FORMAT csv, NULL 'NA', FORCE_NULL (k))", 0, NULL};
    static const xrow rows_fn[] = {
        {"\"NA\",1\n", 1, NULL, false, 0, 0},
        {"NA,2\n", 2, NULL, false, 0, 0},
        {"\"N\",3\n", 3, "N", false, 0, 0},
    };
    EXPECT(&fn, "\"NA\",1\nNA,2\n\"N\",3\n", rows_fn, NULL, 0, false);

    /* FORCE_NULL on another column does not touch the key */
    scase other = {"COPY t (k, v) FROM STDIN (FORMAT csv, NULL 'NA', FORCE_NULL (v))", 0, NULL};
    static const xrow rows_other[] = {{"\"NA\",1\n", 1, "NA", false, 0, 0}};
    EXPECT(&other, "\"NA\",1\n", rows_other, NULL, 0, false);
}

static void test_csv_end_marker(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN (FORMAT csv)", 0, NULL};
    static const xrow rows[] = {{"a\n", 1, "a", false, 0, 0}};
    EXPECT(&c, "a\n\\.\nb\n", rows, NULL, 0, true);
    static const xrow rows_crlf[] = {{"a\r\n", 1, "a", false, 0, 0}};
    EXPECT(&c, "a\r\n\\.\r\nb\r\n", rows_crlf, NULL, 0, true);
    /* not alone, quoted, or at the very end without a line ending: data */
    static const xrow data[] = {
        {"a\n", 1, "a", false, 0, 0},
        {"\\.x\n", 2, "\\.x", false, 0, 0},
        {"\"\\.\"\n", 3, "\\.", false, 0, 0},
        {"\\.,b\n", 4, "\\.", false, 0, 0},
        {"\\.", 5, "\\.", false, 0, 0},
    };
    EXPECT(&c, "a\n\\.x\n\"\\.\"\n\\.,b\n\\.", data, NULL, 0, false);
    /* a quoted line starting with "\." inside a field is data */
    static const xrow inq[] = {{"\"x\n\\.\ny\"\n", 1, "x\n\\.\ny", false, 0, 0}};
    EXPECT(&c, "\"x\n\\.\ny\"\n", inq, NULL, 0, false);
}

static void test_csv_header_and_eol(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN (FORMAT csv, HEADER true)", 1, NULL};
    static const xrow rows[] = {
        HDR("\"id\",\"long\nname\"\n", 1),
        {"1,x\n", 3, "x", false, 0, 0},
    };
    EXPECT(&c, "\"id\",\"long\nname\"\n1,x\n", rows, NULL, 0, false);
    /* a plain HEADER line is never split into fields, so PostgreSQL takes
     * an open quote there (it swallows the rest); MATCH splits it */
    static const xrow open_hdr[] = {HDR("\"id,x\n1,y\n", 1)};
    EXPECT(&c, "\"id,x\n1,y\n", open_hdr, NULL, 0, false);
    scase m = {"COPY t FROM STDIN (FORMAT csv, HEADER match)", 1, NULL};
    EXPECT_NONE(&m, "\"id,x\n1,y\n", "unterminated CSV quoted field", 1, false);

    scase c2 = {"COPY t FROM STDIN (FORMAT csv)", 0, NULL};
    static const xrow one[] = {{"a\n", 1, "a", false, 0, 0}};
    EXPECT(&c2, "a\nb\rc\n", one, "unquoted carriage return found in data", 2, false);
    static const xrow one_crlf[] = {{"a\r\n", 1, "a", false, 0, 0}};
    EXPECT(&c2, "a\r\nb\n", one_crlf, "unquoted newline found in data", 2, false);
    static const xrow cr[] = {
        {"a\r", 1, "a", false, 0, 0},
        {"\"b\rc\"\r", 2, "b\rc", false, 0, 0},
        {"d", 4, "d", false, 0, 0},
    };
    EXPECT(&c2, "a\r\"b\rc\"\rd", cr, NULL, 0, false);
}

/* ------------------------------------------------------------ binary */

typedef struct bytes {
    uint8_t v[8192];
    size_t n;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->v);
    memcpy(b->v + b->n, p, n);
    b->n += n;
}
static void put16(bytes *b, int v)
{
    uint8_t x[2] = {(uint8_t)((unsigned)v >> 8), (uint8_t)v};
    put(b, x, 2);
}
static void put32(bytes *b, int64_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t x[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
    put(b, x, 4);
}
static void bin_header(bytes *b, uint32_t flags, const char *ext)
{
    put(b, "PGCOPY\n\377\r\n\0", 11);
    put32(b, flags);
    put32(b, ext ? (int64_t)strlen(ext) : 0);
    if (ext) put(b, ext, strlen(ext));
}
/* A field: NULL for SQL NULL. */
static void bin_fieldn(bytes *b, const char *v, size_t n)
{
    if (!v) {
        put32(b, -1);
        return;
    }
    put32(b, (int64_t)n);
    put(b, v, n);
}
static void bin_field(bytes *b, const char *v)
{
    bin_fieldn(b, v, v ? strlen(v) : 0);
}

/* expect_split over raw bytes */
static void expect_bin(const scase *c, const bytes *b, const xrow *rows, int n, const char *err, uint64_t eline,
                       bool ended)
{
    char *in = malloc(b->n + 1);
    assert_non_null(in);
    memcpy(in, b->v, b->n);
    in[b->n] = 0;
    expect_split(c, in, b->n ? b->n : 0, rows, n, err, eline, ended);
    free(in);
}

static void test_binary_rows(void **state)
{
    (void)state;
    bytes b = {0};
    bin_header(&b, 0, "ext!");
    size_t h = b.n;
    bytes t1 = {0}, t2 = {0}, t3 = {0}, t4 = {0};
    put16(&t1, 2); bin_fieldn(&t1, "\0\0\0\1", 4); bin_field(&t1, "alice");
    put16(&t2, 2); bin_field(&t2, "x"); bin_field(&t2, NULL);
    put16(&t3, 2); bin_field(&t3, ""); bin_field(&t3, "");
    put16(&t4, 3); bin_field(&t4, NULL); bin_field(&t4, "k4"); bin_field(&t4, "zz");
    put(&b, t1.v, t1.n);
    put(&b, t2.v, t2.n);
    put(&b, t3.v, t3.n);
    put(&b, t4.v, t4.n);
    put16(&b, -1);
    scase c = {"COPY t FROM STDIN (FORMAT binary)", 1, NULL};
    xrow rows[] = {
        {(const char *)b.v, 0, NULL, true, h, 0},
        {(const char *)t1.v, 1, "alice", false, t1.n, 0},
        {(const char *)t2.v, 2, NULL, false, t2.n, 0},
        {(const char *)t3.v, 3, "", false, t3.n, 0},
        {(const char *)t4.v, 4, "k4", false, t4.n, 0},
    };
    expect_bin(&c, &b, rows, 5, NULL, 0, true);

    /* key 0: raw bytes, including NULs */
    scase c0 = {"COPY t FROM STDIN (FORMAT binary)", 0, NULL};
    xrow rows0[] = {
        {(const char *)b.v, 0, NULL, true, h, 0},
        {(const char *)t1.v, 1, "\0\0\0\1", false, t1.n, 4},
        {(const char *)t2.v, 2, "x", false, t2.n, 0},
    };
    bytes b2 = {0};
    put(&b2, b.v, h + t1.n + t2.n);
    /* no trailer: the stream may end between tuples */
    expect_bin(&c0, &b2, rows0, 3, NULL, 0, false);

    /* a header alone, with and without extension */
    bytes hb = {0};
    bin_header(&hb, 0, NULL);
    xrow hrow[] = {{(const char *)hb.v, 0, NULL, true, hb.n, 0}};
    expect_bin(&c, &hb, hrow, 1, NULL, 0, false);
    /* non-critical flag bits are allowed */
    bytes fb = {0};
    bin_header(&fb, 0x0000ffffu, "");
    put16(&fb, -1);
    xrow frow[] = {{(const char *)fb.v, 0, NULL, true, fb.n - 2, 0}};
    expect_bin(&c, &fb, frow, 1, NULL, 0, true);
}

static void test_binary_errors(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN (FORMAT binary)", 1, NULL};
    bytes b = {0};
    put(&b, "PGCOPY\n\377\r\r\0", 11);
    expect_bin(&c, &b, NULL, 0, "COPY file signature not recognized", 0, false);
    bytes e = {0};
    expect_bin(&c, &e, NULL, 0, "COPY file signature not recognized", 0, false);
    bytes s = {0};
    put(&s, "PGCOPY\n", 7);
    expect_bin(&c, &s, NULL, 0, "COPY file signature not recognized", 0, false);

    bytes o = {0};
    bin_header(&o, 1u << 16, NULL);
    expect_bin(&c, &o, NULL, 0, "invalid COPY file header (WITH OIDS)", 0, false);
    bytes cf = {0};
    bin_header(&cf, 1u << 17, NULL);
    expect_bin(&c, &cf, NULL, 0, "unrecognized critical flags in COPY file header", 0, false);
    bytes mf = {0};
    put(&mf, "PGCOPY\n\377\r\n\0\0\0", 13);
    expect_bin(&c, &mf, NULL, 0, "invalid COPY file header (missing flags)", 0, false);
    bytes ml = {0};
    put(&ml, "PGCOPY\n\377\r\n\0", 11);
    put32(&ml, 0);
    put32(&ml, -5);
    expect_bin(&c, &ml, NULL, 0, "invalid COPY file header (missing length)", 0, false);
    bytes wl = {0};
    put(&wl, "PGCOPY\n\377\r\n\0", 11);
    put32(&wl, 0);
    put32(&wl, 10);
    put(&wl, "abc", 3);
    expect_bin(&c, &wl, NULL, 0, "invalid COPY file header (wrong length)", 0, false);

    bytes h = {0};
    bin_header(&h, 0, NULL);
    size_t hn = h.n;
    xrow hdr[] = {{(const char *)h.v, 0, NULL, true, hn, 0}};
    bytes t1 = {0};
    put16(&t1, 2); bin_field(&t1, "1"); bin_field(&t1, "a");
    xrow hdr_t1[] = {hdr[0], {(const char *)t1.v, 1, "a", false, t1.n, 0}};

    /* one field where the key is the second */
    bytes few = h;
    put(&few, t1.v, t1.n);
    put16(&few, 1); bin_field(&few, "1");
    expect_bin(&c, &few, hdr_t1, 2, "row field count is 1, expected at least 2", 2, false);
    bytes neg = h;
    put16(&neg, -2);
    expect_bin(&c, &neg, hdr, 1, "row field count is -2", 1, false);
    bytes bad = h;
    put16(&bad, 2); bin_field(&bad, "1"); put32(&bad, -7);
    expect_bin(&c, &bad, hdr, 1, "invalid field size", 1, false);
    bytes cut = h;
    put(&cut, t1.v, t1.n);
    put16(&cut, 2); bin_field(&cut, "1"); put32(&cut, 9); put(&cut, "abc", 3);
    expect_bin(&c, &cut, hdr_t1, 2, "unexpected EOF in COPY data", 2, false);
    bytes half = h;
    put(&half, t1.v, t1.n);
    put(&half, "\0", 1);
    expect_bin(&c, &half, hdr_t1, 2, "unexpected EOF in COPY data", 2, false);
    bytes after = h;
    put(&after, t1.v, t1.n);
    put16(&after, -1);
    put(&after, "x", 1);
    expect_bin(&c, &after, hdr_t1, 2, "received copy data after EOF marker", 2, true);

    /* with the table's field count known, any other count is an error */
    scase counted = {"COPY t FROM STDIN (FORMAT binary)", 1, set_columns};
    bytes three = h;
    put16(&three, 3); bin_field(&three, "1"); bin_field(&three, "eu"); bin_field(&three, NULL);
    put16(&three, 2); bin_field(&three, "2"); bin_field(&three, "us");
    bytes t3 = {0};
    put16(&t3, 3); bin_field(&t3, "1"); bin_field(&t3, "eu"); bin_field(&t3, NULL);
    xrow hdr_t3[] = {hdr[0], {(const char *)t3.v, 1, "eu", false, t3.n, 0}};
    expect_bin(&counted, &three, hdr_t3, 2, "row field count is 2, expected 3", 2, false);
}

/* ------------------------------------------------------------ buffering, callbacks, errors */

typedef struct span {
    const uint8_t *lo, *hi;
    int in_place, copied;
} span;

static int where_cb(void *ctx, const sw_copy_row *r)
{
    span *sp = ctx;
    bool inside = r->data >= sp->lo && r->data + r->len <= sp->hi;
    if (inside) sp->in_place++;
    else sp->copied++;
    if (r->key && !r->key_null && inside && r->key_len && r->key[0] != '\\')
        assert_true(r->key >= sp->lo && r->key + r->key_len <= sp->hi);
    return 0;
}

static void test_zero_copy(void **state)
{
    (void)state;
    sw_copy_stmt st;
    parse_ok("COPY t FROM STDIN", &st);
    sw_copy_split *s = sw_copy_split_new(&st, 0);
    static const char a[] = "k1\tv\nk2\tv\nk3\t";
    static const char b[] = "v\nk4\tv\nk5";
    span sp = {(const uint8_t *)a, (const uint8_t *)a + sizeof a - 1, 0, 0};
    assert_int_equal(sw_copy_split_feed(s, (const uint8_t *)a, sizeof a - 1, where_cb, &sp), 0);
    assert_int_equal(sp.in_place, 2);
    assert_int_equal(sp.copied, 0);
    sp = (span){(const uint8_t *)b, (const uint8_t *)b + sizeof b - 1, 0, 0};
    assert_int_equal(sw_copy_split_feed(s, (const uint8_t *)b, sizeof b - 1, where_cb, &sp), 0);
    assert_int_equal(sp.copied, 1);    /* k3 spans both pieces */
    assert_int_equal(sp.in_place, 1);  /* k4 */
    assert_int_equal(sw_copy_split_finish(s, where_cb, &sp), 0);
    assert_int_equal(sp.copied, 2);    /* k5, held until the end */
    sw_copy_split_free(s);
    sw_copy_stmt_clear(&st);
}

static void test_big_row(void **state)
{
    (void)state;
    size_t big = 1 << 20;
    uint8_t *in = malloc(big + 64);
    assert_non_null(in);
    size_t n = 0;
    memcpy(in, "pre\tx\n", 6);
    n = 6;
    for (size_t i = 0; i < big; i++) in[n++] = (uint8_t)('a' + i % 26);
    memcpy(in + n, "\tv\\\\w\npost\tz\n", 13);
    n += 13;
    sw_copy_stmt st;
    parse_ok("COPY t FROM STDIN", &st);
    for (int key = 0; key < 2; key++) {
        sw_copy_split *s = sw_copy_split_new(&st, key);
        result res = {0};
        for (size_t at = 0; at < n; at += 1000) {
            size_t k = n - at < 1000 ? n - at : 1000;
            uint8_t *piece = dup_bytes(in + at, k);
            assert_int_equal(sw_copy_split_feed(s, piece, k, collect, &res), 0);
            free(piece);
        }
        assert_int_equal(sw_copy_split_finish(s, collect, &res), 0);
        assert_int_equal(res.n, 3);
        assert_int_equal(res.rows[1].len, big + 6);
        assert_memory_equal(res.rows[1].data, in + 6, big + 6);
        assert_int_equal(res.rows[1].line, 2);
        assert_int_equal(res.rows[2].line, 3);
        if (key == 0) {
            assert_int_equal(res.rows[1].key_len, big);
            assert_memory_equal(res.rows[1].key, in + 6, big);
        } else {
            assert_int_equal(res.rows[1].key_len, 3);
            assert_memory_equal(res.rows[1].key, "v\\w", 3);
        }
        result_free(&res);
        sw_copy_split_free(s);
    }
    sw_copy_stmt_clear(&st);
    free(in);
}

static void test_callback_stop_and_sticky_error(void **state)
{
    (void)state;
    sw_copy_stmt st;
    parse_ok("COPY t FROM STDIN", &st);
    sw_copy_split *s = sw_copy_split_new(&st, 1);
    result res = {0};
    res.stop_after = 2;
    static const char in[] = "1\ta\n2\tb\n3\tc\n";
    assert_int_equal(sw_copy_split_feed(s, (const uint8_t *)in, sizeof in - 1, collect, &res), 7);
    assert_int_equal(res.n, 2);
    assert_null(sw_copy_split_error(s, NULL));
    result_free(&res);
    sw_copy_split_free(s);

    s = sw_copy_split_new(&st, 1);
    static const char bad[] = "1\ta\n2\n3\tc\n";
    assert_int_equal(sw_copy_split_feed(s, (const uint8_t *)bad, sizeof bad - 1, collect, &res), -1);
    assert_int_equal(res.n, 1);
    uint64_t line = 0;
    const char *e = sw_copy_split_error(s, &line);
    assert_non_null(e);
    assert_string_equal(e, "missing data for column 2");
    assert_int_equal(line, 2);
    /* stays failed */
    assert_int_equal(sw_copy_split_feed(s, (const uint8_t *)"4\td\n", 4, collect, &res), -1);
    assert_int_equal(sw_copy_split_finish(s, collect, &res), -1);
    assert_int_equal(res.n, 1);
    result_free(&res);
    sw_copy_split_free(s);

    /* after the end marker later pieces are ignored */
    s = sw_copy_split_new(&st, 0);
    assert_int_equal(sw_copy_split_feed(s, (const uint8_t *)"a\n\\.\n", 5, collect, &res), 0);
    assert_true(sw_copy_split_ended(s));
    assert_int_equal(sw_copy_split_feed(s, (const uint8_t *)"b\n", 2, collect, &res), 0);
    assert_int_equal(sw_copy_split_finish(s, collect, &res), 0);
    assert_int_equal(res.n, 1);
    result_free(&res);
    sw_copy_split_free(s);
    sw_copy_stmt_clear(&st);
}

static void set_sjis(sw_copy_split *s, const sw_copy_stmt *st)
{
    (void)st;
    sw_copy_split_encoding(s, "Shift_JIS");
}

static void test_encoding_embeds_ascii(void **state)
{
    (void)state;
    /* 0x95 0x5C is one SJIS character whose second byte is a backslash;
     * 0xB1 is a one-byte katakana, so the tab after it is a delimiter. */
    static const char in[] = "\x95\x5C\tb\n\xB1\tc\n\x95\x5C\x95\x5C\x5Cn\td\n";
    static const xrow rows[] = {
        {"\x95\x5C\tb\n", 1, "\x95\x5C", false, 0, 0},
        {"\xB1\tc\n", 2, "\xB1", false, 0, 0},
        {"\x95\x5C\x95\x5C\x5Cn\td\n", 3, "\x95\x5C\x95\x5C\n", false, 0, 0},
    };
    scase c = {"COPY t FROM STDIN (ENCODING 'SJIS')", 0, NULL};
    EXPECT(&c, in, rows, NULL, 0, false);
    scase c2 = {"COPY t FROM STDIN", 0, set_sjis};
    EXPECT(&c2, in, rows, NULL, 0, false);
    /* the statement's ENCODING wins over the session's */
    scase c3 = {"COPY t FROM STDIN (ENCODING 'UTF8')", 0, set_sjis};
    static const xrow utf[] = {{"\x95\x5C\tb\n", 1, "\x95\tb", false, 0, 0}};
    EXPECT(&c3, "\x95\x5C\tb\n", utf, NULL, 0, false);

    scase csv = {"COPY t FROM STDIN (FORMAT csv, ENCODING 'big5')", 1, NULL};
    static const xrow crow[] = {{"1,\"\xA5\x22\",x\n", 1, "\xA5\x22", false, 0, 0}};
    EXPECT(&csv, "1,\"\xA5\x22\",x\n", crow, NULL, 0, false);
}

static void test_no_key(void **state)
{
    (void)state;
    scase c = {"COPY t FROM STDIN (FORMAT csv)", -1, NULL};
    static const xrow rows[] = {
        {"\n", 1, NULL, false, 0, 0},
        {"a,\"b\nc\"\n", 2, NULL, false, 0, 0},
    };
    EXPECT(&c, "\na,\"b\nc\"\n", rows, NULL, 0, false);
    scase counted = {"COPY t (a, b) FROM STDIN", -1, NULL};
    static const xrow ok[] = {{"1\t2\n", 1, NULL, false, 0, 0}};
    EXPECT(&counted, "1\t2\n3\n", ok, "missing data for column \"b\"", 2, false);
}

/* A large stream mixing everything, cut at random: equal to one whole feed. */
static size_t gen_stream(uint8_t *out, int rows, int fmt)
{
    size_t n = 0;
    for (int i = 0; i < rows; i++) {
        int kind = (int)(rng() % 8);
        char row[128];
        int k;
        if (fmt == 0) {
            static const char *const extra[] = {"plain", "esc\\tab", "\\N", "\\x41\\101", "multi\\\nline", "", "a\\\\b",
                                                "tail"};
            k = snprintf(row, sizeof row, "%d\t%s\tfiller-%08u\n", i, extra[kind], rng());
        } else {
            static const char *const extra[] = {"plain", "\"q,uoted\"", "", "\"\"", "\"multi\nline\"",
                                                "\"say \"\"x\"\"\"", "NA", "tail"};
            k = snprintf(row, sizeof row, "%d,%s,filler-%08u\n", i, extra[kind], rng());
        }
        memcpy(out + n, row, (size_t)k);
        n += (size_t)k;
    }
    return n;
}

static void test_random_large_streams(void **state)
{
    (void)state;
    enum { ROWS = 200000 };
    uint8_t *in = malloc((size_t)ROWS * 64);
    assert_non_null(in);
    for (int fmt = 0; fmt < 2; fmt++) {
        size_t n = gen_stream(in, ROWS, fmt);
        scase c = {fmt == 0 ? "COPY t FROM STDIN" : "COPY t FROM STDIN (FORMAT csv)", 1, NULL};
        result whole = {0};
        clock_t t0 = clock();
        run_cuts(&c, in, n, NULL, 0, &whole);
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        print_message("%s: %d rows, %zu bytes, %.3f s whole (with row copies)\n", fmt ? "csv" : "text", ROWS, n,
                      secs);
        assert_int_equal(whole.rc, 0);
        assert_int_equal(whole.n, ROWS);
        /* line numbers: every escaped or quoted line break adds one in csv */
        uint64_t expect_line = 1;
        for (int i = 0; i < whole.n; i++) {
            assert_int_equal(whole.rows[i].line, expect_line);
            uint64_t breaks = 0;
            for (size_t b = 0; b + 1 < whole.rows[i].len; b++) breaks += whole.rows[i].data[b] == '\n';
            expect_line += 1 + (fmt == 1 ? breaks : 0);
        }
        for (int round = 0; round < 3; round++) {
            size_t cap = n / 100 + 2;
            size_t *cuts = malloc(cap * sizeof *cuts);
            assert_non_null(cuts);
            int k = 0;
            size_t at = 0;
            for (;;) {
                at += 1 + rng() % 200;
                if (at >= n || (size_t)k == cap) break;
                cuts[k++] = at;
            }
            result r = {0};
            run_cuts(&c, in, n, cuts, k, &r);
            same_result(&whole, &r, "large random cuts");
            result_free(&r);
            free(cuts);
        }
        result_free(&whole);
    }
    free(in);
}

int main(int argc, char **argv)
{
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stmt_text_defaults),
        cmocka_unit_test(test_stmt_all_options),
        cmocka_unit_test(test_stmt_old_syntax),
        cmocka_unit_test(test_stmt_header_forms),
        cmocka_unit_test(test_stmt_to_query_file),
        cmocka_unit_test(test_stmt_errors),
        cmocka_unit_test(test_text_rows_and_keys),
        cmocka_unit_test(test_text_escapes),
        cmocka_unit_test(test_text_null_marker),
        cmocka_unit_test(test_text_custom_delimiter),
        cmocka_unit_test(test_text_crlf_and_cr),
        cmocka_unit_test(test_text_newline_style_errors),
        cmocka_unit_test(test_text_end_marker),
        cmocka_unit_test(test_text_end_marker_errors),
        cmocka_unit_test(test_text_header),
        cmocka_unit_test(test_text_missing_and_extra),
        cmocka_unit_test(test_table_columns),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_csv_escape),
        cmocka_unit_test(test_csv_multiline_lines),
        cmocka_unit_test(test_csv_null_and_force),
        cmocka_unit_test(test_csv_end_marker),
        cmocka_unit_test(test_csv_header_and_eol),
        cmocka_unit_test(test_binary_rows),
        cmocka_unit_test(test_binary_errors),
        cmocka_unit_test(test_zero_copy),
        cmocka_unit_test(test_big_row),
        cmocka_unit_test(test_callback_stop_and_sticky_error),
        cmocka_unit_test(test_encoding_embeds_ascii),
        cmocka_unit_test(test_no_key),
        cmocka_unit_test(test_random_large_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
