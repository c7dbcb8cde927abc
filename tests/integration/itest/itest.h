/*
 * itest.h - shared helpers of sw_itest, the libpq client the integration
 * scripts use for checks psql cannot express: cancellation, pipelining,
 * named prepared statements, COPY, raw malformed packets, interleaved
 * sessions.  Every subcommand exits 0 on success and 1 with a one-line
 * "sw_itest <cmd>: FAIL: ..." message on the first failed expectation, so
 * a script only has to look at the exit status.
 */
#ifndef SW_ITEST_H
#define SW_ITEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdnoreturn.h>

#include <libpq-fe.h>

/* Name of the running subcommand, used as the prefix of every message. */
extern const char *it_cmd;

#define IT_FAIL(...) it_fail(__FILE__, __LINE__, __VA_ARGS__)

noreturn void it_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void it_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

double it_now(void);
void it_sleep_ms(int ms);

/* Abort the whole process after this many seconds: a hung proxy must turn
 * into a failure with a message, never into a stuck test. */
void it_watchdog(int seconds);

/* Connect with verbose error reporting switched on before the startup
 * packet is sent, so connection-time errors carry their SQLSTATE
 * ("FATAL:  28P01: ...").  Returns NULL and fills err on failure. */
PGconn *it_connect_try(const char *conninfo, char *err, size_t errsz);
/* Same, failing the test when the connection cannot be made. */
PGconn *it_connect(const char *conninfo);

/* Extract the SQLSTATE from a verbose libpq error message; false if none. */
bool it_parse_sqlstate(const char *msg, char out[6]);

/* Flatten a (possibly multi-line) message onto one line, in place. */
char *it_one_line(char *s);

/* Run sql and require PGRES_COMMAND_OK or PGRES_TUPLES_OK; returns the
 * result (caller clears). */
PGresult *it_exec_ok(PGconn *conn, const char *sql);
/* Run sql returning exactly one row and one column; returns a malloc'd copy
 * of the text value (NULL becomes ""). */
char *it_exec_value(PGconn *conn, const char *sql);
/* Require the value of a one-row query to equal expected. */
void it_expect_value(PGconn *conn, const char *sql, const char *expected);

/* Require res to have status st; what names the step in the message. */
void it_expect_status(const PGresult *res, ExecStatusType st, const char *what);
/* Require res to be an error with the given SQLSTATE and, when msg_part is
 * not NULL, a primary message containing it. */
void it_expect_error(const PGresult *res, const char *sqlstate, const char *msg_part,
                     const char *what);

/* Wait until a result of an asynchronously sent query is available (at
 * most timeout_s seconds) and return it; NULL when the query is done. */
PGresult *it_wait_result(PGconn *conn, double timeout_s, const char *what);
/* Read results until NULL, failing on errors; for tidy-up after a check. */
void it_drain(PGconn *conn, const char *what);

/* Subcommands. */
int cmd_cancel(int argc, char **argv);
int cmd_pipeline(int argc, char **argv);
int cmd_pipeline_many(int argc, char **argv);
int cmd_prepared(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_malformed(int argc, char **argv);
int cmd_oversized(int argc, char **argv);
int cmd_notify(int argc, char **argv);
int cmd_params(int argc, char **argv);
int cmd_params2(int argc, char **argv);
int cmd_sql(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_startup_probe(int argc, char **argv);
int cmd_silent(int argc, char **argv);
int cmd_slowlogin(int argc, char **argv);
int cmd_wire(int argc, char **argv);
int cmd_fnmix(int argc, char **argv);
int cmd_script(int argc, char **argv);

#endif
