/*
 * copy.c - `sw_itest copy`: the COPY sub-protocol through the proxy.
 *
 * COPY FROM STDIN streams CopyData from the client until CopyDone/CopyFail
 * and COPY TO STDOUT streams it back; the proxy must relay both directions
 * byte for byte, keep the server attached for the whole COPY, and handle the
 * server aborting a COPY midway (bad row) while the client is still sending.
 * Checked: text and CSV loads, exact round trip of the bytes, a bad row
 * (22P02) that commits nothing, a client-side CopyFail (57014), a COPY
 * rolled back with its transaction, and that the connection still works.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static void buf_add(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
        if (!b->data)
            IT_FAIL("out of memory");
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    buf_add(b, tmp, (size_t)n);
}

/* Rows id in [from, to) in COPY text format, written the way PostgreSQL
 * prints them so the COPY TO output can be compared byte for byte: tabs in
 * values escaped as \t, NULL as \N, numeric keeping its scale. */
static void make_text(buf *b, int from, int to)
{
    for (int i = from; i < to; i++) {
        if (i % 100 == 0)
            buf_printf(b, "%d\tname\\twith tab %d\t\\N\n", i, i);
        else
            buf_printf(b, "%d\tname %d\t%d.%02d\n", i, i, i, i % 100);
    }
}

/* Same in CSV: a field is quoted only when it holds a comma or a quote, as
 * PostgreSQL does on output; an unquoted empty field is NULL. */
static void make_csv(buf *b, int from, int to)
{
    for (int i = from; i < to; i++) {
        if (i % 2 == 0)
            buf_printf(b, "%d,\"quoted \"\"name\"\", %d\",%d.5\n", i, i, i);
        else if (i % 7 == 0)
            buf_printf(b, "%d,plain %d,\n", i, i);
        else
            buf_printf(b, "%d,plain %d,%d.25\n", i, i, i);
    }
}

/* Run a COPY FROM STDIN sending data in chunks; returns the final result. */
static PGresult *copy_in(PGconn *conn, const char *sql, const buf *data, const char *fail_msg)
{
    PGresult *res = PQexec(conn, sql);
    it_expect_status(res, PGRES_COPY_IN, sql);
    PQclear(res);
    /* 8 KB chunks cut at arbitrary places: rows span CopyData messages. */
    for (size_t off = 0; off < data->len; off += 8000) {
        size_t n = data->len - off < 8000 ? data->len - off : 8000;
        /* -1 may mean the server already rejected the COPY: go read why. */
        if (PQputCopyData(conn, data->data + off, (int)n) != 1)
            break;
    }
    PQputCopyEnd(conn, fail_msg);
    res = it_wait_result(conn, 30.0, sql);
    PGresult *extra = it_wait_result(conn, 10.0, sql);
    if (extra)
        IT_FAIL("%s: unexpected extra result %s", sql, PQresStatus(PQresultStatus(extra)));
    return res;
}

static void copy_out(PGconn *conn, const char *sql, buf *out)
{
    PGresult *res = PQexec(conn, sql);
    it_expect_status(res, PGRES_COPY_OUT, sql);
    PQclear(res);
    char *row;
    int n;
    while ((n = PQgetCopyData(conn, &row, 0)) > 0) {
        buf_add(out, row, (size_t)n);
        PQfreemem(row);
    }
    if (n != -1)
        IT_FAIL("%s: PQgetCopyData: %s", sql, PQerrorMessage(conn));
    res = it_wait_result(conn, 30.0, sql);
    it_expect_status(res, PGRES_COMMAND_OK, sql);
    PQclear(res);
    if ((res = it_wait_result(conn, 10.0, sql)) != NULL)
        IT_FAIL("%s: unexpected extra result", sql);
}

static void compare(const buf *want, const buf *got, const char *what)
{
    if (want->len == got->len && memcmp(want->data, got->data, want->len) == 0)
        return;
    size_t i = 0;
    while (i < want->len && i < got->len && want->data[i] == got->data[i])
        i++;
    IT_FAIL("%s: output differs at byte %zu (want %zu bytes, got %zu): want \"%.40s\" got "
            "\"%.40s\"",
            what, i, want->len, got->len, want->data + i, got->data + i);
}

int cmd_copy(int argc, char **argv)
{
    int rows = argc > 1 ? atoi(argv[1]) : 20000;
    PGconn *conn = it_connect(argv[0]);
    char table[64], sql[512], want[32];
    snprintf(table, sizeof table, "itest_copy_%d", (int)getpid());
    snprintf(sql, sizeof sql,
             "DROP TABLE IF EXISTS %s; CREATE TABLE %s (id int PRIMARY KEY, name text, "
             "amount numeric)",
             table, table);
    PQclear(it_exec_ok(conn, sql));

    /* 1. Text format load. */
    buf text = {0}, csv = {0};
    make_text(&text, 1, rows + 1);
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table);
    PGresult *res = copy_in(conn, sql, &text, NULL);
    it_expect_status(res, PGRES_COMMAND_OK, "COPY text in");
    snprintf(want, sizeof want, "%d", rows);
    if (strcmp(PQcmdTuples(res), want) != 0)
        IT_FAIL("COPY text in: %s rows reported, expected %s", PQcmdTuples(res), want);
    PQclear(res);

    /* 2. CSV load. */
    make_csv(&csv, rows + 1, 2 * rows + 1);
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN (FORMAT csv)", table);
    res = copy_in(conn, sql, &csv, NULL);
    it_expect_status(res, PGRES_COMMAND_OK, "COPY csv in");
    PQclear(res);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    snprintf(want, sizeof want, "%d", 2 * rows);
    it_expect_value(conn, sql, want);

    /* 3. Both back out, byte-identical. */
    buf out = {0};
    snprintf(sql, sizeof sql, "COPY (SELECT * FROM %s WHERE id <= %d ORDER BY id) TO STDOUT",
             table, rows);
    copy_out(conn, sql, &out);
    compare(&text, &out, "COPY text out");
    out.len = 0;
    snprintf(sql, sizeof sql,
             "COPY (SELECT * FROM %s WHERE id > %d ORDER BY id) TO STDOUT (FORMAT csv)", table,
             rows);
    copy_out(conn, sql, &out);
    compare(&csv, &out, "COPY csv out");
    it_note("%d text + %d csv rows loaded and read back identically", rows, rows);

    /* 4. A bad row in the middle: 22P02, nothing of that COPY is kept, and
     *    the connection carries on. */
    buf bad = {0};
    make_text(&bad, 3 * rows, 3 * rows + 500);
    buf_add(&bad, "oops\tbad row\t1\n", 15);
    make_text(&bad, 3 * rows + 500, 3 * rows + 5000);
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table);
    res = copy_in(conn, sql, &bad, NULL);
    it_expect_error(res, "22P02", "invalid input syntax for type integer", "COPY bad row");
    PQclear(res);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    it_expect_value(conn, sql, want);
    it_expect_value(conn, "SELECT 'alive after bad copy'", "alive after bad copy");

    /* 5. The client aborts a good COPY with CopyFail. */
    buf more = {0};
    make_text(&more, 5 * rows, 5 * rows + 2000);
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table);
    res = copy_in(conn, sql, &more, "client gave up");
    it_expect_error(res, "57014", "client gave up", "COPY CopyFail");
    PQclear(res);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    it_expect_value(conn, sql, want);

    /* 6. A good COPY inside a transaction that is rolled back. */
    PQclear(it_exec_ok(conn, "BEGIN"));
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table);
    res = copy_in(conn, sql, &more, NULL);
    it_expect_status(res, PGRES_COMMAND_OK, "COPY in transaction");
    PQclear(res);
    PQclear(it_exec_ok(conn, "ROLLBACK"));
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    it_expect_value(conn, sql, want);

    snprintf(sql, sizeof sql, "DROP TABLE %s", table);
    PQclear(it_exec_ok(conn, sql));
    PQfinish(conn);
    free(text.data);
    free(csv.data);
    free(out.data);
    free(bad.data);
    free(more.data);
    it_note("ok");
    return 0;
}
