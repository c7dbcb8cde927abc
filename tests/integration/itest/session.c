/*
 * session.c - session-state subcommands of sw_itest:
 *
 *   notify   LISTEN/NOTIFY: notifications reach the listening client, also
 *            while it is idle, and carry the pid the client was told in
 *            BackendKeyData (session pooling passes the real server through).
 *   params   current_setting() of chosen settings against expected values.
 *   params2  two clients with different startup parameters interleaving
 *            transactions (run with a pool of one server): each must always
 *            see its own settings, session-level SET must follow its client,
 *            SET LOCAL and SET in a rolled-back transaction must not stick.
 *   connect  one connection attempt, checking the SQLSTATE of a refusal.
 *   sql      a line-oriented SQL runner the scripts drive through FIFOs to
 *            hold sessions open across steps (see sess_* in lib.sh).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "itest.h"

/* ---- notify ---------------------------------------------------------- */

static PGnotify *wait_notify(PGconn *conn, double timeout_s, const char *what)
{
    double deadline = it_now() + timeout_s;
    for (;;) {
        if (!PQconsumeInput(conn))
            IT_FAIL("%s: %s", what, PQerrorMessage(conn));
        PGnotify *n = PQnotifies(conn);
        if (n)
            return n;
        int left_ms = (int)((deadline - it_now()) * 1000);
        if (left_ms <= 0)
            IT_FAIL("%s: no notification within %.0f s", what, timeout_s);
        struct pollfd pfd = {PQsocket(conn), POLLIN, 0};
        poll(&pfd, 1, left_ms);
    }
}

static void check_notify(PGnotify *n, const char *payload, int pid, const char *what)
{
    if (strcmp(n->relname, "sw_itest_ch") != 0)
        IT_FAIL("%s: channel \"%s\", expected sw_itest_ch", what, n->relname);
    if (strcmp(n->extra, payload) != 0)
        IT_FAIL("%s: payload \"%s\", expected \"%s\"", what, n->extra, payload);
    if (n->be_pid != pid)
        IT_FAIL("%s: notification from pid %d, but the sender's PQbackendPID is %d", what,
                n->be_pid, pid);
    PQfreemem(n);
}

int cmd_notify(int argc, char **argv)
{
    bool cross = !(argc > 1 && strcmp(argv[1], "--no-cross") == 0);
    PGconn *conn = it_connect(argv[0]);

    char pid[16];
    snprintf(pid, sizeof pid, "%d", PQbackendPID(conn));
    /* The key the client holds must name the server it really talks to. */
    it_expect_value(conn, "SELECT pg_backend_pid()", pid);

    PQclear(it_exec_ok(conn, "LISTEN sw_itest_ch"));
    PQclear(it_exec_ok(conn, "NOTIFY sw_itest_ch, 'x'"));
    check_notify(wait_notify(conn, 5.0, "self notify"), "x", PQbackendPID(conn), "self notify");
    it_note("self notification received from pid %d", PQbackendPID(conn));

    if (cross) {
        /* Delivered while the listener sits idle: the bytes must flow from
         * server to client without the client asking for anything. */
        PGconn *other = it_connect(argv[0]);
        PQclear(it_exec_ok(other, "SELECT pg_notify('sw_itest_ch', 'from other')"));
        check_notify(wait_notify(conn, 5.0, "cross notify"), "from other", PQbackendPID(other),
                     "cross notify");
        it_note("notification from another session received");
        PQfinish(other);
    }
    PQclear(it_exec_ok(conn, "UNLISTEN *"));
    it_expect_value(conn, "SELECT count(*) FROM pg_listening_channels()", "0");
    PQfinish(conn);
    it_note("ok");
    return 0;
}

/* ---- params ---------------------------------------------------------- */

static void expect_setting(PGconn *conn, const char *name, const char *expected,
                           const char *who)
{
    const char *vals[] = {name};
    PGresult *res = PQexecParams(conn, "SELECT current_setting($1)", 1, NULL, vals, NULL, NULL, 0);
    it_expect_status(res, PGRES_TUPLES_OK, "current_setting");
    const char *got = PQgetvalue(res, 0, 0);
    if (strcmp(got, expected) != 0)
        IT_FAIL("%s: %s is \"%s\", expected \"%s\"", who, name, got, expected);
    PQclear(res);
}

int cmd_params(int argc, char **argv)
{
    PGconn *conn = it_connect(argv[0]);
    if (argc == 1) {
        static const char *const names[] = {"intervalstyle", "application_name", "TimeZone"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            char sql[128];
            snprintf(sql, sizeof sql, "SELECT current_setting('%s')", names[i]);
            char *v = it_exec_value(conn, sql);
            printf("%s=%s\n", names[i], v);
            free(v);
        }
    }
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            IT_FAIL("argument \"%s\" is not SETTING=EXPECTED", argv[i]);
        *eq = '\0';
        expect_setting(conn, argv[i], eq + 1, "client");
        it_note("%s = %s", argv[i], eq + 1);
    }
    PQfinish(conn);
    return 0;
}

/* What one client of params2 expects to see. */
typedef struct view {
    const char *who;
    PGconn *conn;
    const char *intervalstyle, *timezone, *appname, *timeout, *interval_text;
} view;

static void check_view(const view *v, const char *step)
{
    PGresult *res = it_exec_ok(
        v->conn, "SELECT current_setting('intervalstyle'), current_setting('TimeZone'), "
                 "current_setting('application_name'), current_setting('statement_timeout'), "
                 "'1 day 2 hours'::interval::text");
    const char *want[] = {v->intervalstyle, v->timezone, v->appname, v->timeout,
                          v->interval_text};
    static const char *const names[] = {"intervalstyle", "TimeZone", "application_name",
                                        "statement_timeout", "'1 day 2 hours'::interval"};
    for (int i = 0; i < 5; i++)
        if (strcmp(PQgetvalue(res, 0, i), want[i]) != 0)
            IT_FAIL("%s, client %s: %s is \"%s\", expected \"%s\"", step, v->who, names[i],
                    PQgetvalue(res, 0, i), want[i]);
    PQclear(res);
}

/* One transaction of a client: optionally explicit, checking its view. */
static void tx(const view *v, bool explicit_tx, const char *step)
{
    if (explicit_tx)
        PQclear(it_exec_ok(v->conn, "BEGIN"));
    check_view(v, step);
    if (explicit_tx)
        PQclear(it_exec_ok(v->conn, "COMMIT"));
}

int cmd_params2(int argc, char **argv)
{
    const char *tz_a = argc > 2 ? argv[2] : "Asia/Kathmandu";
    const char *tz_default = argc > 3 ? argv[3] : "UTC";

    /* libpq turns PGTZ into a "timezone" startup parameter; only A gets it. */
    setenv("PGTZ", tz_a, 1);
    PGconn *ca = it_connect(argv[0]);
    unsetenv("PGTZ");
    PGconn *cb = it_connect(argv[1]);

    view a = {"A", ca, "iso_8601", tz_a, "itest_a", "0", "P1DT2H"};
    view b = {"B", cb, "postgres", tz_default, "itest_b", "0", "1 day 02:00:00"};

    /* Startup parameters, interleaved transaction by transaction. */
    for (int i = 0; i < 10; i++) {
        tx(&a, i % 2 == 0, "startup parameters");
        tx(&b, i % 2 == 1, "startup parameters");
    }
    it_note("startup parameters follow their clients");

    /* A session-level SET stays with A, B keeps the default. */
    PQclear(it_exec_ok(ca, "SET statement_timeout = '1234ms'"));
    a.timeout = "1234ms";
    for (int i = 0; i < 5; i++)
        tx(&b, i % 2 == 0, "after A's SET");
    tx(&a, false, "after A's SET");
    tx(&a, true, "after A's SET");
    PQclear(it_exec_ok(cb, "SET application_name = 'itest_b2'"));
    b.appname = "itest_b2";
    tx(&a, false, "after B's SET");
    tx(&b, true, "after B's SET");
    it_note("session-level SET follows its client");

    /* SET LOCAL lasts until the end of the transaction only. */
    PQclear(it_exec_ok(ca, "BEGIN"));
    PQclear(it_exec_ok(ca, "SET LOCAL statement_timeout = '4321ms'"));
    PQclear(it_exec_ok(ca, "SET LOCAL intervalstyle = 'sql_standard'"));
    view a_local = a;
    a_local.timeout = "4321ms";
    a_local.intervalstyle = "sql_standard";
    a_local.interval_text = "1 2:00:00";
    check_view(&a_local, "inside SET LOCAL transaction");
    PQclear(it_exec_ok(ca, "COMMIT"));
    tx(&b, false, "after A's SET LOCAL");
    tx(&a, false, "after A's SET LOCAL");

    /* A session SET inside a rolled-back transaction is undone. */
    PQclear(it_exec_ok(ca, "BEGIN"));
    PQclear(it_exec_ok(ca, "SET statement_timeout = '999ms'"));
    PQclear(it_exec_ok(ca, "ROLLBACK"));
    tx(&b, true, "after A's rolled-back SET");
    tx(&a, false, "after A's rolled-back SET");

    /* RESET goes back to A's own startup value, not to B's. */
    PQclear(it_exec_ok(ca, "SET intervalstyle = 'postgres_verbose'"));
    PQclear(it_exec_ok(ca, "RESET intervalstyle"));
    PQclear(it_exec_ok(ca, "RESET statement_timeout"));
    a.timeout = "0";
    tx(&b, false, "after A's RESET");
    tx(&a, true, "after A's RESET");
    it_note("SET LOCAL, rolled-back SET and RESET behave");

    PQfinish(ca);
    PQfinish(cb);
    it_note("ok");
    return 0;
}

/* ---- connect --------------------------------------------------------- */

int cmd_connect(int argc, char **argv)
{
    char err[2048], state[6] = "";
    PGconn *conn = it_connect_try(argv[0], err, sizeof err);
    if (argc == 1) {
        if (!conn)
            IT_FAIL("cannot connect: %s", err);
        it_expect_value(conn, "SELECT 1", "1");
        PQfinish(conn);
        it_note("connected");
        return 0;
    }
    if (conn)
        IT_FAIL("connection succeeded, expected refusal with %s", argv[1]);
    if (!it_parse_sqlstate(err, state))
        IT_FAIL("refused without a SQLSTATE (expected %s): %s", argv[1], err);
    if (strcmp(state, argv[1]) != 0)
        IT_FAIL("refused with %s, expected %s: %s", state, argv[1], err);
    if (argc > 2 && !strstr(err, argv[2]))
        IT_FAIL("refusal message does not contain \"%s\": %s", argv[2], err);
    it_note("refused as expected: %s", err);
    return 0;
}

/* ---- sql runner ------------------------------------------------------ */

static void print_notice(void *arg, const char *message)
{
    (void)arg;
    fprintf(stderr, "%s", message);
}

static void print_value(const char *v)
{
    for (; *v; v++)
        putchar(*v == '\n' || *v == '\r' ? ' ' : *v);
}

/* Print a query outcome on exactly one line:
 *   ROWS r1f1|r1f2;r2f1|...     a result set (empty after "ROWS " if none)
 *   OK <command tag>            a command
 *   ERR <SQLSTATE> <message>    an error (NOSTATE if none was sent) */
static void print_outcome(PGresult *last, PGresult *error, PGconn *conn)
{
    if (error || !last) {
        const char *state = error ? PQresultErrorField(error, PG_DIAG_SQLSTATE) : NULL;
        const char *m = error ? PQresultErrorField(error, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        char buf[1024];
        snprintf(buf, sizeof buf, "%s",
                 m ? m : (error ? PQresultErrorMessage(error) : PQerrorMessage(conn)));
        printf("ERR %s %s\n", state ? state : "NOSTATE", it_one_line(buf));
        return;
    }
    if (PQresultStatus(last) == PGRES_TUPLES_OK) {
        fputs("ROWS ", stdout);
        for (int r = 0; r < PQntuples(last); r++) {
            if (r)
                putchar(';');
            for (int f = 0; f < PQnfields(last); f++) {
                if (f)
                    putchar('|');
                print_value(PQgetvalue(last, r, f));
            }
        }
        putchar('\n');
        return;
    }
    printf("OK %s\n", PQcmdStatus(last));
}

int cmd_sql(int argc, char **argv)
{
    (void)argc;
    char err[2048], state[6];
    PGconn *conn = it_connect_try(argv[0], err, sizeof err);
    if (!conn) {
        printf("ERR %s %s\n", it_parse_sqlstate(err, state) ? state : "CONNECT", err);
        return 1;
    }
    PQsetNoticeProcessor(conn, print_notice, NULL);
    printf("READY %d\n", PQbackendPID(conn));

    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (strncmp(line, "\\sleep ", 7) == 0) {
            it_sleep_ms(atoi(line + 7));
            printf("OK sleep\n");
            continue;
        }
        if (strcmp(line, "\\notifies") == 0) {
            /* the notifications received so far: "ROWS channel|payload;..." */
            PQconsumeInput(conn);
            fputs("ROWS ", stdout);
            PGnotify *nt;
            int k = 0;
            while ((nt = PQnotifies(conn)) != NULL) {
                printf("%s%s|%s", k++ ? ";" : "", nt->relname, nt->extra);
                PQfreemem(nt);
            }
            putchar('\n');
            continue;
        }
        if (strncmp(line, "\\prepare ", 9) == 0 || strncmp(line, "\\exec ", 6) == 0) {
            /* "\prepare NAME SQL": PQprepare; "\exec NAME": PQexecPrepared */
            bool prep = line[1] == 'p';
            char *name = line + (prep ? 9 : 6);
            char *sql = prep ? strchr(name, ' ') : NULL;
            if (prep && !sql) {
                printf("ERR USAGE \\prepare NAME SQL\n");
                continue;
            }
            if (sql) *sql++ = '\0';
            PGresult *r = prep ? PQprepare(conn, name, sql, 0, NULL) : PQexecPrepared(conn, name, 0, NULL, NULL, NULL, 0);
            ExecStatusType rs = PQresultStatus(r);
            if (rs == PGRES_FATAL_ERROR) print_outcome(NULL, r, conn);
            else print_outcome(r, NULL, conn);
            PQclear(r);
            continue;
        }
        if (strncmp(line, "\\param ", 7) == 0) {
            /* what the server last reported for a parameter (ParameterStatus) */
            const char *v = PQparameterStatus(conn, line + 7);
            printf("ROWS %s\n", v ? v : "(none)");
            continue;
        }
        if (strcmp(line, "\\pid") == 0) {
            printf("ROWS %d\n", PQbackendPID(conn));
            continue;
        }
        if (strncmp(line, "\\d ", 3) == 0) {
            /* "\d SQL": Parse then Describe of the statement: the
             * parameter types and the columns it would return */
            PGresult *pr = PQprepare(conn, "", line + 3, 0, NULL);
            if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
                print_outcome(NULL, pr, conn);
                PQclear(pr);
                continue;
            }
            PQclear(pr);
            PGresult *d = PQdescribePrepared(conn, "");
            if (PQresultStatus(d) != PGRES_COMMAND_OK) {
                print_outcome(NULL, d, conn);
                PQclear(d);
                continue;
            }
            printf("DESC params=");
            for (int i = 0; i < PQnparams(d); i++) printf("%s%u", i ? "," : "", PQparamtype(d, i));
            printf(" fields=");
            for (int i = 0; i < PQnfields(d); i++) printf("%s%s:%u", i ? "," : "", PQfname(d, i), PQftype(d, i));
            putchar('\n');
            PQclear(d);
            continue;
        }
        PGresult *last = NULL, *error = NULL, *res;
        /* "\x SQL": the extended protocol (Parse, Bind, Describe, Execute, Sync) */
        bool ext = strncmp(line, "\\x ", 3) == 0;
        if (ext ? PQsendQueryParams(conn, line + 3, 0, NULL, NULL, NULL, NULL, 0) : PQsendQuery(conn, line)) {
            while ((res = PQgetResult(conn)) != NULL) {
                if (PQresultStatus(res) == PGRES_FATAL_ERROR && !error) {
                    error = res;
                    continue;
                }
                PQclear(last);
                last = res;
            }
        }
        print_outcome(last, error, conn);
        PQclear(last);
        PQclear(error);
    }
    free(line);
    PQfinish(conn);
    return 0;
}
