/*
 * pipeline.c - `sw_itest pipeline`: libpq pipeline mode through the proxy.
 *
 * In pipeline mode the client sends many extended-protocol messages before
 * reading anything, with Sync marking the transaction boundaries.  The
 * proxy must keep every response in order, keep a server attached until
 * the Sync that ends the batch, and honour the protocol rule that after an
 * error everything up to the next Sync is skipped (PGRES_PIPELINE_ABORTED
 * on the client) while the next segment runs normally.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

/* Read the next result of a pipeline and check it.  For PGRES_TUPLES_OK a
 * non-NULL value is compared with field (0,0); for PGRES_FATAL_ERROR value
 * is the SQLSTATE.  Every result but a Sync is followed by a NULL. */
static void expect(PGconn *conn, ExecStatusType st, const char *value, const char *what)
{
    PGresult *res = it_wait_result(conn, 10.0, what);
    if (st == PGRES_FATAL_ERROR) {
        it_expect_error(res, value, NULL, what);
    } else {
        it_expect_status(res, st, what);
        if (st == PGRES_TUPLES_OK && value) {
            if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), value) != 0)
                IT_FAIL("%s: expected \"%s\", got \"%s\" (%d rows)", what, value,
                        PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "", PQntuples(res));
        }
    }
    PQclear(res);
    if (st == PGRES_PIPELINE_SYNC)
        return;
    res = it_wait_result(conn, 10.0, what);
    if (res)
        IT_FAIL("%s: expected end of results, got %s", what, PQresStatus(PQresultStatus(res)));
}

static void send_params(PGconn *conn, const char *sql, int n, const char *const *vals)
{
    if (!PQsendQueryParams(conn, sql, n, NULL, vals, NULL, NULL, 0))
        IT_FAIL("PQsendQueryParams(%s): %s", sql, PQerrorMessage(conn));
}

static void send_prepared(PGconn *conn, const char *name, int n, const char *const *vals)
{
    if (!PQsendQueryPrepared(conn, name, n, vals, NULL, NULL, 0))
        IT_FAIL("PQsendQueryPrepared(%s): %s", name, PQerrorMessage(conn));
}

static void pipe_sync(PGconn *conn)
{
    if (!PQpipelineSync(conn))
        IT_FAIL("PQpipelineSync: %s", PQerrorMessage(conn));
}

int cmd_pipeline(int argc, char **argv)
{
    (void)argc;
    PGconn *conn = it_connect(argv[0]);
    char table[64], sql[256];
    snprintf(table, sizeof table, "itest_pipe_%d", (int)getpid());
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s; CREATE TABLE %s (id int)", table, table);
    PQclear(it_exec_ok(conn, sql));

    if (!PQenterPipelineMode(conn))
        IT_FAIL("PQenterPipelineMode: %s", PQerrorMessage(conn));

    /* Segment 1: unnamed statements, a named Parse and its use, then Sync. */
    const char *v41[] = {"41"}, *vhi[] = {"hi"};
    send_params(conn, "SELECT $1::int + 1", 1, v41);
    if (!PQsendPrepare(conn, "pl_s1", "SELECT $1::text || '!'", 1, NULL))
        IT_FAIL("PQsendPrepare: %s", PQerrorMessage(conn));
    send_prepared(conn, "pl_s1", 1, vhi);
    pipe_sync(conn);
    expect(conn, PGRES_TUPLES_OK, "42", "seg1 params");
    expect(conn, PGRES_COMMAND_OK, NULL, "seg1 prepare");
    expect(conn, PGRES_TUPLES_OK, "hi!", "seg1 prepared");
    expect(conn, PGRES_PIPELINE_SYNC, NULL, "seg1 sync");

    /* Segment 2: an implicit transaction with an error in the middle.  The
     * insert before it is rolled back, the statements after it are skipped. */
    const char *v0[] = {"0"}, *v1[] = {"1"}, *vskip[] = {"skipped"};
    snprintf(sql, sizeof sql, "INSERT INTO %s VALUES ($1::int)", table);
    send_params(conn, sql, 1, v1);
    send_params(conn, "SELECT 1 / $1::int", 1, v0);
    send_prepared(conn, "pl_s1", 1, vskip);
    send_params(conn, sql, 1, v1);
    pipe_sync(conn);
    /* Segment 3 is queued behind the failed one before reading anything. */
    const char *vafter[] = {"after"};
    send_prepared(conn, "pl_s1", 1, vafter);
    pipe_sync(conn);
    expect(conn, PGRES_COMMAND_OK, NULL, "seg2 insert");
    expect(conn, PGRES_FATAL_ERROR, "22012", "seg2 division by zero");
    expect(conn, PGRES_PIPELINE_ABORTED, NULL, "seg2 skipped prepared");
    expect(conn, PGRES_PIPELINE_ABORTED, NULL, "seg2 skipped insert");
    expect(conn, PGRES_PIPELINE_SYNC, NULL, "seg2 sync");
    expect(conn, PGRES_TUPLES_OK, "after!", "seg3 prepared after recovery");
    expect(conn, PGRES_PIPELINE_SYNC, NULL, "seg3 sync");

    /* Segment 4: an explicit transaction that fails stays failed across the
     * Sync; it needs a ROLLBACK in a later segment. */
    send_params(conn, "BEGIN", 0, NULL);
    send_params(conn, sql, 1, v1);
    send_params(conn, "SELECT 1 / $1::int", 1, v0);
    send_params(conn, "SELECT 2", 0, NULL);
    pipe_sync(conn);
    expect(conn, PGRES_COMMAND_OK, NULL, "seg4 begin");
    expect(conn, PGRES_COMMAND_OK, NULL, "seg4 insert");
    expect(conn, PGRES_FATAL_ERROR, "22012", "seg4 division by zero");
    expect(conn, PGRES_PIPELINE_ABORTED, NULL, "seg4 skipped select");
    expect(conn, PGRES_PIPELINE_SYNC, NULL, "seg4 sync");
    if (PQtransactionStatus(conn) != PQTRANS_INERROR)
        IT_FAIL("seg4: transaction status %d, expected INERROR", (int)PQtransactionStatus(conn));
    send_params(conn, "ROLLBACK", 0, NULL);
    pipe_sync(conn);
    expect(conn, PGRES_COMMAND_OK, NULL, "seg5 rollback");
    expect(conn, PGRES_PIPELINE_SYNC, NULL, "seg5 sync");
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        IT_FAIL("seg5: transaction status %d, expected IDLE", (int)PQtransactionStatus(conn));

    /* Segment 6: a committed transaction, then a long batch of 200 small
     * statements in one segment, some binary, to exercise buffering. */
    send_params(conn, "BEGIN", 0, NULL);
    const char *v7[] = {"7"};
    send_params(conn, sql, 1, v7);
    send_params(conn, "COMMIT", 0, NULL);
    pipe_sync(conn);
    expect(conn, PGRES_COMMAND_OK, NULL, "seg6 begin");
    expect(conn, PGRES_COMMAND_OK, NULL, "seg6 insert");
    expect(conn, PGRES_COMMAND_OK, NULL, "seg6 commit");
    expect(conn, PGRES_PIPELINE_SYNC, NULL, "seg6 sync");

    enum { BATCH = 200 };
    for (int i = 0; i < BATCH; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", i);
        const char *vals[] = {num};
        if (i % 2 == 0) {
            send_prepared(conn, "pl_s1", 1, vals);
        } else if (!PQsendQueryParams(conn, "SELECT $1::int4 * 2", 1, NULL, vals, NULL, NULL,
                                      1 /* binary result */)) {
            IT_FAIL("PQsendQueryParams: %s", PQerrorMessage(conn));
        }
    }
    pipe_sync(conn);
    for (int i = 0; i < BATCH; i++) {
        char what[64];
        snprintf(what, sizeof what, "batch item %d", i);
        PGresult *res = it_wait_result(conn, 10.0, what);
        it_expect_status(res, PGRES_TUPLES_OK, what);
        if (i % 2 == 0) {
            char expected[32];
            snprintf(expected, sizeof expected, "%d!", i);
            if (strcmp(PQgetvalue(res, 0, 0), expected) != 0)
                IT_FAIL("%s: expected %s, got %s", what, expected, PQgetvalue(res, 0, 0));
        } else {
            uint32_t be;
            if (PQgetlength(res, 0, 0) != 4 || PQfformat(res, 0) != 1)
                IT_FAIL("%s: expected a 4-byte binary int4", what);
            memcpy(&be, PQgetvalue(res, 0, 0), 4);
            if ((int32_t)ntohl(be) != i * 2)
                IT_FAIL("%s: expected %d, got %d", what, i * 2, (int32_t)ntohl(be));
        }
        PQclear(res);
        if ((res = it_wait_result(conn, 10.0, what)) != NULL)
            IT_FAIL("%s: expected end of results", what);
    }
    expect(conn, PGRES_PIPELINE_SYNC, NULL, "batch sync");

    if (!PQexitPipelineMode(conn))
        IT_FAIL("PQexitPipelineMode: %s", PQerrorMessage(conn));

    /* Only the committed insert of segment 6 survived. */
    snprintf(sql, sizeof sql, "SELECT string_agg(id::text, ',') FROM %s", table);
    it_expect_value(conn, sql, "7");
    /* The named statement outlives the pipeline, and plain queries work. */
    const char *vend[] = {"end"};
    PGresult *res = PQexecPrepared(conn, "pl_s1", 1, vend, NULL, NULL, 0);
    it_expect_status(res, PGRES_TUPLES_OK, "pl_s1 after pipeline");
    if (strcmp(PQgetvalue(res, 0, 0), "end!") != 0)
        IT_FAIL("pl_s1 after pipeline: got %s", PQgetvalue(res, 0, 0));
    PQclear(res);
    snprintf(sql, sizeof sql, "DROP TABLE %s", table);
    PQclear(it_exec_ok(conn, sql));
    PQfinish(conn);
    it_note("ok");
    return 0;
}

/* `sw_itest pipeline-many CONNINFO TABLE FIRST N [txn|dup]`: what
 * psycopg's executemany sends: N INSERTs of (id, 'many') with ids FIRST..,
 * each a Bind/Execute of one unnamed statement, and one Sync at the end
 * (with txn: inside BEGIN ... COMMIT).  Every result must be there within
 * the timeout: the rows go to different shards of a routed table.  With
 * dup the last INSERT repeats the first id: it fails with 23505 and, the
 * batch being one transaction, none of the rows may be left. */
int cmd_pipeline_many(int argc, char **argv)
{
    PGconn *conn = it_connect(argv[0]);
    const char *table = argv[1];
    int first = atoi(argv[2]), n = atoi(argv[3]);
    bool txn = argc > 4 && strcmp(argv[4], "txn") == 0;
    bool dup = argc > 4 && strcmp(argv[4], "dup") == 0;
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO %s (id, v) VALUES ($1, 'many')", table);
    if (txn) PQclear(it_exec_ok(conn, "BEGIN"));
    if (!PQenterPipelineMode(conn)) IT_FAIL("PQenterPipelineMode: %s", PQerrorMessage(conn));
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", dup && i == n - 1 ? first : first + i);
        const char *vals[1] = {id};
        if (!PQsendQueryParams(conn, sql, 1, NULL, vals, NULL, NULL, 0))
            IT_FAIL("PQsendQueryParams: %s", PQerrorMessage(conn));
    }
    if (!PQpipelineSync(conn)) IT_FAIL("PQpipelineSync: %s", PQerrorMessage(conn));
    for (int i = 0; i < n; i++) {
        char what[64];
        snprintf(what, sizeof what, "INSERT %d of %d", i + 1, n);
        if (dup && i == n - 1) expect(conn, PGRES_FATAL_ERROR, "23505", what);
        else expect(conn, PGRES_COMMAND_OK, NULL, what);
    }
    PGresult *res = it_wait_result(conn, 10.0, "the Sync");
    it_expect_status(res, PGRES_PIPELINE_SYNC, "the Sync");
    PQclear(res);
    if (!PQexitPipelineMode(conn)) IT_FAIL("PQexitPipelineMode: %s", PQerrorMessage(conn));
    if (txn) PQclear(it_exec_ok(conn, "COMMIT"));
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE id >= %d AND id < %d", table, first, first + n);
    PGresult *c = it_exec_ok(conn, sql);
    if (atoi(PQgetvalue(c, 0, 0)) != (dup ? 0 : n))
        IT_FAIL("%s rows of %d inserted, expected %d", PQgetvalue(c, 0, 0), n, dup ? 0 : n);
    PQclear(c);
    printf("ok pipeline-many: %d INSERTs%s, one Sync\n", n,
           txn ? " in a transaction" : dup ? ", the last failing: none left" : "");
    PQfinish(conn);
    return 0;
}
