/*
 * prepared.c - `sw_itest prepared`: protocol-level named prepared
 * statements used across many transactions.
 *
 * Under transaction pooling consecutive transactions of one client may run
 * on different server connections, and one server connection serves many
 * clients; the proxy has to make a client's named statements exist wherever
 * its next Bind lands, keep them private to that client, and report the
 * errors PostgreSQL would (26000 unknown name, 42P05 duplicate name).  Run
 * several instances at once with a small pool to make collisions likely.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define OID_INT4 23
#define OID_INT8 20
#define OID_TEXT 25
#define OID_BYTEA 17

static void prepare(PGconn *conn, const char *name, const char *sql, int n, const Oid *types)
{
    PGresult *res = PQprepare(conn, name, sql, n, types);
    char what[128];
    snprintf(what, sizeof what, "PQprepare %s", name);
    it_expect_status(res, PGRES_COMMAND_OK, what);
    PQclear(res);
}

/* ps_add with text parameters and a text result. */
static void add_text(PGconn *conn, int a, int b)
{
    char sa[16], sb[16], want[16];
    snprintf(sa, sizeof sa, "%d", a);
    snprintf(sb, sizeof sb, "%d", b);
    snprintf(want, sizeof want, "%d", a + b);
    const char *vals[] = {sa, sb};
    PGresult *res = PQexecPrepared(conn, "ps_add", 2, vals, NULL, NULL, 0);
    it_expect_status(res, PGRES_TUPLES_OK, "ps_add text");
    if (strcmp(PQgetvalue(res, 0, 0), want) != 0)
        IT_FAIL("ps_add(%d,%d) text: expected %s, got %s", a, b, want, PQgetvalue(res, 0, 0));
    PQclear(res);
}

/* ps_add with binary int4 parameters and a binary result. */
static void add_binary(PGconn *conn, int a, int b)
{
    uint32_t ba = htonl((uint32_t)a), bb = htonl((uint32_t)b), out;
    const char *vals[] = {(const char *)&ba, (const char *)&bb};
    const int lens[] = {4, 4}, fmts[] = {1, 1};
    PGresult *res = PQexecPrepared(conn, "ps_add", 2, vals, lens, fmts, 1);
    it_expect_status(res, PGRES_TUPLES_OK, "ps_add binary");
    if (PQfformat(res, 0) != 1 || PQgetlength(res, 0, 0) != 4)
        IT_FAIL("ps_add binary: result is not a 4-byte binary value");
    memcpy(&out, PQgetvalue(res, 0, 0), 4);
    if ((int32_t)ntohl(out) != a + b)
        IT_FAIL("ps_add(%d,%d) binary: got %d", a, b, (int32_t)ntohl(out));
    PQclear(res);
}

/* ps_echo round-trips text, bytea (with NUL bytes) and int8 in binary. */
static void echo_binary(PGconn *conn, int i)
{
    char text[32];
    unsigned char blob[6] = {0x00, 0xff, (unsigned char)i, 0x00, 0x5c, 0x27};
    /* int8 in network byte order, built bytewise to be endian-neutral. */
    uint64_t big = (uint64_t)((int64_t)i * -1000000007LL);
    unsigned char bbig[8];
    for (int k = 0; k < 8; k++)
        bbig[k] = (unsigned char)(big >> (56 - 8 * k));
    snprintf(text, sizeof text, "row %d ünï", i);
    const char *vals[] = {text, (const char *)blob, (const char *)bbig};
    const int lens[] = {(int)strlen(text), (int)sizeof blob, 8}, fmts[] = {0, 1, 1};
    PGresult *res = PQexecPrepared(conn, "ps_echo", 3, vals, lens, fmts, 1);
    it_expect_status(res, PGRES_TUPLES_OK, "ps_echo");
    if (PQgetlength(res, 0, 0) != (int)strlen(text) ||
        memcmp(PQgetvalue(res, 0, 0), text, strlen(text)) != 0)
        IT_FAIL("ps_echo: text column mismatch");
    if (PQgetlength(res, 0, 1) != (int)sizeof blob ||
        memcmp(PQgetvalue(res, 0, 1), blob, sizeof blob) != 0)
        IT_FAIL("ps_echo: bytea column mismatch");
    if (PQgetlength(res, 0, 2) != 8 || memcmp(PQgetvalue(res, 0, 2), bbig, 8) != 0)
        IT_FAIL("ps_echo: int8 column mismatch");
    PQclear(res);
}

static void insert_row(PGconn *conn, int id)
{
    char sid[16];
    snprintf(sid, sizeof sid, "%d", id);
    const char *vals[] = {sid};
    PGresult *res = PQexecPrepared(conn, "ps_ins", 1, vals, NULL, NULL, 0);
    it_expect_status(res, PGRES_COMMAND_OK, "ps_ins");
    if (strcmp(PQcmdTuples(res), "1") != 0)
        IT_FAIL("ps_ins: expected 1 row, got %s", PQcmdTuples(res));
    PQclear(res);
}

static void check_describe(PGconn *conn)
{
    PGresult *res = PQdescribePrepared(conn, "ps_echo");
    it_expect_status(res, PGRES_COMMAND_OK, "PQdescribePrepared ps_echo");
    const Oid want_params[] = {OID_TEXT, OID_BYTEA, OID_INT8};
    if (PQnparams(res) != 3)
        IT_FAIL("describe ps_echo: %d params, expected 3", PQnparams(res));
    for (int i = 0; i < 3; i++)
        if (PQparamtype(res, i) != want_params[i])
            IT_FAIL("describe ps_echo: param %d has type %u, expected %u", i,
                    PQparamtype(res, i), want_params[i]);
    if (PQnfields(res) != 3 || PQftype(res, 0) != OID_TEXT || PQftype(res, 1) != OID_BYTEA ||
        PQftype(res, 2) != OID_INT8 || strcmp(PQfname(res, 0), "t") != 0)
        IT_FAIL("describe ps_echo: unexpected result description");
    PQclear(res);
}

static void prepare_all(PGconn *conn, const char *table)
{
    char sql[256];
    prepare(conn, "ps_add", "SELECT $1::int4 + $2::int4", 0, NULL);
    const Oid echo_types[] = {OID_TEXT, OID_BYTEA, OID_INT8};
    prepare(conn, "ps_echo", "SELECT $1 AS t, $2 AS b, $3 AS i", 3, echo_types);
    snprintf(sql, sizeof sql, "INSERT INTO %s (id) VALUES ($1)", table);
    prepare(conn, "ps_ins", sql, 0, NULL);
}

int cmd_prepared(int argc, char **argv)
{
    int iterations = argc > 1 ? atoi(argv[1]) : 300;
    PGconn *conn = it_connect(argv[0]);
    char table[64], sql[256];
    snprintf(table, sizeof table, "itest_prep_%d", (int)getpid());
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s; CREATE TABLE %s (id int)", table, table);
    PQclear(it_exec_ok(conn, sql));

    prepare_all(conn, table);
    check_describe(conn);

    /* Same name again: PostgreSQL refuses, and so must the proxy, even if
     * the next transaction lands on a server that never saw ps_add. */
    PGresult *res = PQprepare(conn, "ps_add", "SELECT 1", 0, NULL);
    it_expect_error(res, "42P05", "prepared statement \"ps_add\" already exists",
                    "duplicate prepare");
    PQclear(res);

    int committed = 0;
    for (int i = 0; i < iterations; i++) {
        switch (i % 4) {
        case 0: /* autocommit: every statement is its own transaction */
            add_text(conn, i, 1);
            add_binary(conn, i, -7);
            insert_row(conn, i);
            committed++;
            break;
        case 1: /* explicit transaction, committed */
            PQclear(it_exec_ok(conn, "BEGIN"));
            add_binary(conn, i, 2);
            echo_binary(conn, i);
            insert_row(conn, i);
            /* An unnamed statement in between must not disturb named ones. */
            {
                const char *v[] = {"5"};
                PGresult *r = PQexecParams(conn, "SELECT $1::int * 3", 1, NULL, v, NULL, NULL, 0);
                it_expect_status(r, PGRES_TUPLES_OK, "unnamed statement");
                PQclear(r);
            }
            add_text(conn, i, 3);
            PQclear(it_exec_ok(conn, "COMMIT"));
            committed++;
            break;
        case 2: /* explicit transaction, rolled back */
            PQclear(it_exec_ok(conn, "BEGIN"));
            insert_row(conn, i);
            add_text(conn, i, 4);
            PQclear(it_exec_ok(conn, "ROLLBACK"));
            break;
        case 3: /* failed transaction: the statements survive the error */
            PQclear(it_exec_ok(conn, "BEGIN"));
            insert_row(conn, i);
            {
                const char *v[] = {"2147483647", "1"};
                PGresult *r = PQexecPrepared(conn, "ps_add", 2, v, NULL, NULL, 0);
                it_expect_error(r, "22003", "integer out of range", "ps_add overflow");
                PQclear(r);
            }
            PQclear(it_exec_ok(conn, "ROLLBACK"));
            echo_binary(conn, i);
            break;
        }
    }
    char want[32];
    snprintf(want, sizeof want, "%d", committed);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    it_expect_value(conn, sql, want);
    check_describe(conn);

    /* Unknown statement names fail like on PostgreSQL, both for Bind and for
     * Describe, and leave the connection usable. */
    res = PQexecPrepared(conn, "nope_stmt", 0, NULL, NULL, NULL, 0);
    it_expect_error(res, "26000", "prepared statement \"nope_stmt\" does not exist",
                    "execute unknown statement");
    PQclear(res);
    res = PQdescribePrepared(conn, "nope_stmt");
    it_expect_error(res, "26000", "prepared statement \"nope_stmt\" does not exist",
                    "describe unknown statement");
    PQclear(res);
    add_text(conn, 1, 1);

    /* SQL-level PREPARE/EXECUTE/DEALLOCATE inside one transaction (session
     * state outside a transaction is not portable across pooled servers). */
    PQclear(it_exec_ok(conn, "BEGIN"));
    PQclear(it_exec_ok(conn, "PREPARE sql_ps(int) AS SELECT $1 * 2"));
    it_expect_value(conn, "EXECUTE sql_ps(21)", "42");
    PQclear(it_exec_ok(conn, "DEALLOCATE sql_ps"));
    res = PQexec(conn, "EXECUTE sql_ps(21)");
    it_expect_error(res, "26000", "prepared statement \"sql_ps\" does not exist",
                    "execute deallocated statement");
    PQclear(res);
    PQclear(it_exec_ok(conn, "ROLLBACK"));

#ifdef LIBPQ_HAS_CLOSE_PREPARED
    /* Protocol-level Close (libpq >= 17). */
    res = PQclosePrepared(conn, "ps_echo");
    it_expect_status(res, PGRES_COMMAND_OK, "PQclosePrepared ps_echo");
    PQclear(res);
    res = PQdescribePrepared(conn, "ps_echo");
    it_expect_error(res, "26000", NULL, "describe closed statement");
    PQclear(res);
    prepare(conn, "ps_echo", "SELECT $1::text AS t, $2::bytea AS b, $3::int8 AS i", 0, NULL);
#endif
    PQfinish(conn);

    /* A fresh connection starts with no statements: the old names are
     * unknown and can be prepared again without 42P05. */
    conn = it_connect(argv[0]);
    res = PQexecPrepared(conn, "ps_add", 0, NULL, NULL, NULL, 0);
    it_expect_error(res, "26000", "prepared statement \"ps_add\" does not exist",
                    "statement of a previous connection");
    PQclear(res);
    prepare_all(conn, table);
    for (int i = 0; i < 20; i++) {
        add_text(conn, i, 100);
        add_binary(conn, -i, 100);
        echo_binary(conn, i);
    }
    check_describe(conn);
    snprintf(sql, sizeof sql, "DROP TABLE %s", table);
    PQclear(it_exec_ok(conn, sql));
    PQfinish(conn);
    it_note("ok (%d iterations)", iterations);
    return 0;
}
