/*
 * common.c - helpers shared by the sw_itest subcommands: failure reporting,
 * a process watchdog, connecting with SQLSTATE-bearing errors, and small
 * result assertions.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

const char *it_cmd = "?";

void it_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "sw_itest %s: FAIL: ", it_cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (%s:%d)\n", file, line);
    exit(1);
}

void it_note(const char *fmt, ...)
{
    va_list ap;
    printf("sw_itest %s: ", it_cmd);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

double it_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void it_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void on_alarm(int sig)
{
    static const char msg[] = "sw_itest: FAIL: watchdog expired (something hung)\n";
    (void)sig;
    /* Only async-signal-safe calls here. */
    ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)n;
    _exit(1);
}

void it_watchdog(int seconds)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm((unsigned)seconds);
}

char *it_one_line(char *s)
{
    if (!s)
        return s;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    return s;
}

bool it_parse_sqlstate(const char *msg, char out[6])
{
    /* Verbose messages look like "...: FATAL:  28P01: password ...". */
    static const char *const sev[] = {"FATAL:  ", "ERROR:  ", "PANIC:  "};
    for (size_t i = 0; i < sizeof sev / sizeof sev[0]; i++) {
        for (const char *p = strstr(msg, sev[i]); p; p = strstr(p + 1, sev[i])) {
            const char *c = p + strlen(sev[i]);
            bool ok = true;
            for (int k = 0; k < 5; k++)
                if (!(isdigit((unsigned char)c[k]) || isupper((unsigned char)c[k])))
                    ok = false;
            if (ok && c[5] == ':') {
                memcpy(out, c, 5);
                out[5] = '\0';
                return true;
            }
        }
    }
    return false;
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *it_connect_try(const char *conninfo, char *err, size_t errsz)
{
    PGconn *conn = PQconnectStart(conninfo);
    if (!conn) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    /* Set before the first poll: the startup packet has not been sent yet,
     * so any FATAL during authentication is formatted with its SQLSTATE. */
    PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
    double deadline = it_now() + 20.0;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (PQstatus(conn) != CONNECTION_BAD) {
        if (st == PGRES_POLLING_OK)
            break;
        if (st == PGRES_POLLING_FAILED)
            break;
        struct pollfd pfd = {PQsocket(conn), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
        int left_ms = (int)((deadline - it_now()) * 1000);
        if (left_ms <= 0) {
            snprintf(err, errsz, "connection attempt timed out after 20 s");
            PQfinish(conn);
            return NULL;
        }
        if (pfd.fd >= 0 && poll(&pfd, 1, left_ms) < 0 && errno != EINTR) {
            snprintf(err, errsz, "poll: %s", strerror(errno));
            PQfinish(conn);
            return NULL;
        }
        st = PQconnectPoll(conn);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errsz, "%s", PQerrorMessage(conn));
        it_one_line(err);
        PQfinish(conn);
        return NULL;
    }
    PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
    /* Notices such as "table does not exist, skipping" are noise here;
     * checks that care install their own processor. */
    PQsetNoticeProcessor(conn, quiet_notice, NULL);
    /* SW_ITEST_TRACE=FILE logs every protocol message, for debugging a
     * failing check. */
    const char *trace = getenv("SW_ITEST_TRACE");
    if (trace && *trace) {
        FILE *f = fopen(trace, "a");
        if (f) {
            setvbuf(f, NULL, _IOLBF, 0);
            PQtrace(conn, f);
            PQsetTraceFlags(conn, PQTRACE_SUPPRESS_TIMESTAMPS);
        }
    }
    return conn;
}

PGconn *it_connect(const char *conninfo)
{
    char err[2048];
    PGconn *conn = it_connect_try(conninfo, err, sizeof err);
    if (!conn)
        IT_FAIL("cannot connect: %s", err);
    return conn;
}

static const char *res_state(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "-----";
}

static const char *res_msg(const PGresult *res)
{
    static char buf[1024];
    const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!m && res)
        m = PQresultErrorMessage(res);
    snprintf(buf, sizeof buf, "%s", m && *m ? m : "(no message)");
    return it_one_line(buf);
}

void it_expect_status(const PGresult *res, ExecStatusType st, const char *what)
{
    if (!res)
        IT_FAIL("%s: expected %s, got no result", what, PQresStatus(st));
    if (PQresultStatus(res) != st)
        IT_FAIL("%s: expected %s, got %s [%s] %s", what, PQresStatus(st),
                PQresStatus(PQresultStatus(res)), res_state(res), res_msg(res));
}

void it_expect_error(const PGresult *res, const char *sqlstate, const char *msg_part,
                     const char *what)
{
    if (!res)
        IT_FAIL("%s: expected error %s, got no result", what, sqlstate);
    if (PQresultStatus(res) != PGRES_FATAL_ERROR)
        IT_FAIL("%s: expected error %s, got %s", what, sqlstate,
                PQresStatus(PQresultStatus(res)));
    if (strcmp(res_state(res), sqlstate) != 0)
        IT_FAIL("%s: expected SQLSTATE %s, got %s: %s", what, sqlstate, res_state(res),
                res_msg(res));
    if (msg_part && !strstr(res_msg(res), msg_part))
        IT_FAIL("%s: error message \"%s\" does not contain \"%s\"", what, res_msg(res),
                msg_part);
}

PGresult *it_exec_ok(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        IT_FAIL("query \"%.80s\" failed: %s [%s] %s", sql, PQresStatus(st), res_state(res),
                res ? res_msg(res) : PQerrorMessage(conn));
    return res;
}

char *it_exec_value(PGconn *conn, const char *sql)
{
    PGresult *res = it_exec_ok(conn, sql);
    if (PQntuples(res) != 1 || PQnfields(res) != 1)
        IT_FAIL("query \"%.80s\": expected 1x1 result, got %dx%d", sql, PQntuples(res),
                PQnfields(res));
    char *v = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

void it_expect_value(PGconn *conn, const char *sql, const char *expected)
{
    char *v = it_exec_value(conn, sql);
    if (strcmp(v, expected) != 0)
        IT_FAIL("query \"%.80s\": expected \"%s\", got \"%s\"", sql, expected, v);
    free(v);
}

PGresult *it_wait_result(PGconn *conn, double timeout_s, const char *what)
{
    double deadline = it_now() + timeout_s;
    for (;;) {
        if (!PQconsumeInput(conn))
            IT_FAIL("%s: connection error: %s", what, PQerrorMessage(conn));
        if (!PQisBusy(conn))
            return PQgetResult(conn);
        int left_ms = (int)((deadline - it_now()) * 1000);
        if (left_ms <= 0)
            IT_FAIL("%s: no result within %.1f s", what, timeout_s);
        struct pollfd pfd = {PQsocket(conn), POLLIN, 0};
        if (poll(&pfd, 1, left_ms) < 0 && errno != EINTR)
            IT_FAIL("%s: poll: %s", what, strerror(errno));
    }
}

void it_drain(PGconn *conn, const char *what)
{
    PGresult *res;
    while ((res = it_wait_result(conn, 10.0, what)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_FATAL_ERROR)
            IT_FAIL("%s: unexpected error [%s] %s", what, res_state(res), res_msg(res));
        PQclear(res);
    }
}
