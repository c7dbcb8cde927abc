/*
 * cancel.c - `sw_itest cancel`: query cancellation through the proxy.
 *
 * A CancelRequest arrives on a brand-new connection carrying the key the
 * client got in BackendKeyData; the proxy must map it to the server
 * connection currently running that client's query, and to no other.
 * Checked here: a running pg_sleep is cancelled promptly (57014), the
 * connection is usable afterwards, a cancel inside a transaction aborts
 * just that transaction, a cancel sent while idle is harmless, and -- when
 * a second conninfo is given -- a query of another client running at the
 * same time is not hit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

static void send_cancel(PGconn *conn, const char *what)
{
    PGcancel *c = PQgetCancel(conn);
    char err[256];
    if (!c)
        IT_FAIL("%s: PQgetCancel returned NULL", what);
    if (!PQcancel(c, err, sizeof err))
        IT_FAIL("%s: PQcancel failed: %s", what, err);
    PQfreeCancel(c);
}

/* Start a long sleep, cancel it after ~300 ms, require 57014 within 5 s. */
static void cancel_sleep(PGconn *conn, const char *what)
{
    if (!PQsendQuery(conn, "SELECT pg_sleep(30)"))
        IT_FAIL("%s: PQsendQuery: %s", what, PQerrorMessage(conn));
    it_sleep_ms(300);
    double t0 = it_now();
    send_cancel(conn, what);
    PGresult *res = it_wait_result(conn, 5.0, what);
    double took = it_now() - t0;
    it_expect_error(res, "57014", "canceling statement due to user request", what);
    PQclear(res);
    if ((res = it_wait_result(conn, 5.0, what)) != NULL)
        IT_FAIL("%s: unexpected extra result %s", what, PQresStatus(PQresultStatus(res)));
    it_note("%s: cancelled after %.2f s", what, took);
}

int cmd_cancel(int argc, char **argv)
{
    PGconn *conn = it_connect(argv[0]);
    PGconn *other = argc > 1 ? it_connect(argv[1]) : NULL;

    /* 1. Plain cancel of a running statement, with a bystander running. */
    if (other && !PQsendQuery(other, "SELECT 'bystander', pg_sleep(1.5)"))
        IT_FAIL("bystander: PQsendQuery: %s", PQerrorMessage(other));
    cancel_sleep(conn, "autocommit cancel");
    it_expect_value(conn, "SELECT 1", "1");
    if (other) {
        PGresult *res = it_wait_result(other, 10.0, "bystander");
        it_expect_status(res, PGRES_TUPLES_OK, "bystander query (must not be cancelled)");
        PQclear(res);
        if ((res = it_wait_result(other, 5.0, "bystander")) != NULL)
            IT_FAIL("bystander: unexpected extra result");
        it_expect_value(other, "SELECT 2", "2");
        it_note("bystander query was not cancelled");
    }

    /* 2. Cancel inside a transaction: the transaction is aborted, stays so
     *    until ROLLBACK, and then the connection is fine again. */
    PQclear(it_exec_ok(conn, "BEGIN"));
    it_expect_value(conn, "SELECT 10", "10");
    cancel_sleep(conn, "in-transaction cancel");
    if (PQtransactionStatus(conn) != PQTRANS_INERROR)
        IT_FAIL("after in-transaction cancel: transaction status %d, expected INERROR",
                (int)PQtransactionStatus(conn));
    PGresult *res = PQexec(conn, "SELECT 11");
    it_expect_error(res, "25P02", "current transaction is aborted", "query after cancel in tx");
    PQclear(res);
    PQclear(it_exec_ok(conn, "ROLLBACK"));
    it_expect_value(conn, "SELECT 12", "12");

    /* 3. A cancel while nothing runs must not break the next query. */
    send_cancel(conn, "idle cancel");
    it_sleep_ms(300);
    it_expect_value(conn, "SELECT 13", "13");

    /* 4. And cancelling works again on the same connection. */
    cancel_sleep(conn, "second cancel");
    it_expect_value(conn, "SELECT 14", "14");

    if (other)
        PQfinish(other);
    PQfinish(conn);
    it_note("ok");
    return 0;
}
