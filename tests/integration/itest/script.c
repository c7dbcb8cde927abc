/*
 * script.c - `sw_itest script CONNINFO FILE SECONDS`: run a file of
 * statements with known answers over and over for SECONDS, through a proxy
 * that may fail (test_alloc_failure.sh runs shardwire with allocations
 * failing at random).  Every answer must be the expected one, or a clean
 * failure: an error 53200 (out of memory), or the connection closed after
 * an error; then the client rolls back, reconnects when it must, and goes
 * on with the next unit.  Anything else -- a wrong answer, another error,
 * a connection closed without a word, a statement unanswered for 15 s --
 * fails at once with the details.
 *
 * FILE: units separated by empty lines; each line of a unit is
 *   KIND <TAB> SQL [<TAB> PARAM ...] <TAB> EXPECTED
 * KIND Q sends a simple Query, X the extended protocol (PQexecParams, text
 * parameters).  EXPECTED is "ROWS a|b;c|d" (as `sw_itest sql` prints
 * results) or "OK <command tag>".  A unit stops at its first failure.
 *
 * With "strict" after SECONDS, no failure at all is allowed (the run after
 * the allocation failures stopped: nothing may have been left broken).
 *
 * Prints one summary line: "units=N complete=N oom_errors=N
 * closed_after_error=N login_failures=N" and the SQLSTATEs seen.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define MAX_LINES 64
#define MAX_UNITS 64

typedef struct stmt {
    char kind;
    char *sql;
    const char *params[8];
    int nparams;
    char *expected;
} stmt;

typedef struct unit {
    stmt s[MAX_LINES];
    int n;
} unit;

typedef struct tally {
    long units, complete, oom, closed_err, login_fail;
    char states[256];
    bool strict;
} tally;

static void note_state(tally *t, const char *st)
{
    char tok[16];
    snprintf(tok, sizeof tok, " %s", st);
    if (!strstr(t->states, tok) && strlen(t->states) + strlen(tok) < sizeof t->states)
        strcat(t->states, tok);
}

static int load(const char *path, unit *u)
{
    FILE *f = fopen(path, "r");
    if (!f)
        IT_FAIL("%s: %s", path, strerror(errno));
    int nu = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool open = false;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0) {
            open = false;
            continue;
        }
        if (!open) {
            if (nu == MAX_UNITS)
                IT_FAIL("%s: more than %d units", path, MAX_UNITS);
            u[nu++].n = 0;
            open = true;
        }
        unit *cur = &u[nu - 1];
        if (cur->n == MAX_LINES)
            IT_FAIL("%s: a unit of more than %d lines", path, MAX_LINES);
        char *fields[12];
        int nf = 0;
        char *save, *dup = strdup(line);
        for (char *tok = strtok_r(dup, "\t", &save); tok && nf < 12; tok = strtok_r(NULL, "\t", &save))
            fields[nf++] = tok;
        if (nf < 3 || (fields[0][0] != 'Q' && fields[0][0] != 'X') || nf - 3 > 8)
            IT_FAIL("%s: bad line: %s", path, line);
        stmt *s = &cur->s[cur->n++];
        s->kind = fields[0][0];
        s->sql = fields[1];
        s->nparams = nf - 3;
        for (int i = 0; i < s->nparams; i++)
            s->params[i] = fields[2 + i];
        s->expected = fields[nf - 1];
    }
    free(line);
    fclose(f);
    return nu;
}

/* The outcome of one result in the format of EXPECTED. */
static void outcome(PGresult *r, char *out, size_t cap)
{
    size_t o = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        o += (size_t)snprintf(out + o, cap - o, "ROWS ");
        for (int i = 0; i < PQntuples(r) && o < cap; i++)
            for (int j = 0; j < PQnfields(r) && o < cap; j++)
                o += (size_t)snprintf(out + o, cap - o, "%s%s", j ? "|" : (i ? ";" : ""), PQgetvalue(r, i, j));
    } else {
        snprintf(out, cap, "OK %s", PQcmdStatus(r));
    }
}

typedef enum { RUN_OK, RUN_OOM, RUN_CLOSED } run_rc;

/* Wait for the last result of what was sent, at most 15 s. */
static PGresult *collect(PGconn *c, PGresult **err, const char *sql)
{
    PGresult *last = NULL, *r;
    *err = NULL;
    double deadline = it_now() + 15;
    for (;;) {
        while (PQisBusy(c)) {
            if (!PQconsumeInput(c))
                break;
            if (!PQisBusy(c))
                break;
            int left = (int)((deadline - it_now()) * 1000);
            if (left <= 0)
                IT_FAIL("no answer within 15 s to: %s", sql);
            struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
            poll(&p, 1, left);
        }
        r = PQgetResult(c);
        if (!r)
            break;
        if (PQresultStatus(r) == PGRES_FATAL_ERROR && !*err) {
            *err = r;
            continue;
        }
        PQclear(last);
        last = r;
    }
    return last;
}

/* A failure: clean (53200, or any error and then the connection closed)
 * or fatal to the test. */
static run_rc judge_error(PGconn *c, PGresult *err, const char *sql, tally *t)
{
    const char *st = err ? PQresultErrorField(err, PG_DIAG_SQLSTATE) : NULL;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", err ? PQresultErrorMessage(err) : PQerrorMessage(c));
    it_one_line(msg);
    if (t->strict)
        IT_FAIL("strict run: error %s at: %s: %s", st ? st : "(no SQLSTATE)", sql, msg);
    if (PQstatus(c) == CONNECTION_BAD) {
        if (!st)
            IT_FAIL("the connection was closed without an error message, at: %s (%s)", sql, msg);
        note_state(t, st);
        t->closed_err++;
        return RUN_CLOSED;
    }
    if (st && strcmp(st, "53200") == 0) {
        note_state(t, st);
        t->oom++;
        return RUN_OOM;
    }
    IT_FAIL("unexpected error %s at: %s: %s", st ? st : "(no SQLSTATE)", sql, msg);
}

static run_rc run_stmt(PGconn *c, const stmt *s, tally *t)
{
    int ok = s->kind == 'Q' ? PQsendQuery(c, s->sql)
                            : PQsendQueryParams(c, s->sql, s->nparams, NULL, s->params, NULL, NULL, 0);
    PGresult *err = NULL, *last = NULL;
    if (ok)
        last = collect(c, &err, s->sql);
    if (!ok || err) {
        run_rc rc = judge_error(c, err, s->sql, t);
        PQclear(err);
        PQclear(last);
        return rc;
    }
    char got[4096];
    if (!last)
        IT_FAIL("no result for: %s", s->sql);
    outcome(last, got, sizeof got);
    PQclear(last);
    if (strcmp(got, s->expected) != 0)
        IT_FAIL("wrong answer to: %s\n  expected: %s\n  got:      %s", s->sql, s->expected, got);
    return RUN_OK;
}

static PGconn *login(const char *conninfo, tally *t)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        char err[2048], st[6];
        PGconn *c = it_connect_try(conninfo, err, sizeof err);
        if (c)
            return c;
        t->login_fail++;
        if (t->strict)
            IT_FAIL("strict run: login failed: %s", err);
        if (!it_parse_sqlstate(err, st))
            IT_FAIL("login failed without a SQLSTATE: %s", err);
        if (strcmp(st, "53200") != 0 && strcmp(st, "08006") != 0)
            IT_FAIL("login failed with %s: %s", st, err);
        note_state(t, st);
        it_sleep_ms(20);
    }
    IT_FAIL("200 logins in a row failed");
}

int cmd_script(int argc, char **argv)
{
    static unit units[MAX_UNITS];
    int nu = load(argv[1], units);
    double until = it_now() + atof(argv[2]);
    tally t = {.strict = argc > 3 && strcmp(argv[3], "strict") == 0};
    PGconn *c = login(argv[0], &t);
    for (long k = 0; it_now() < until; k++) {
        unit *u = &units[k % nu];
        t.units++;
        run_rc rc = RUN_OK;
        for (int i = 0; i < u->n && rc == RUN_OK; i++)
            rc = run_stmt(c, &u->s[i], &t);
        if (rc == RUN_OK) {
            t.complete++;
            continue;
        }
        /* Leave a transaction the failure left open (its ROLLBACK can run
         * out of memory as well). */
        for (int i = 0; rc == RUN_OOM && i < 20 && PQtransactionStatus(c) != PQTRANS_IDLE; i++) {
            stmt rb = {.kind = 'Q', .sql = "ROLLBACK", .expected = "OK ROLLBACK"};
            rc = run_stmt(c, &rb, &t);
            if (rc == RUN_OK)
                break;
        }
        if (PQstatus(c) == CONNECTION_BAD) {
            PQfinish(c);
            c = login(argv[0], &t);
        } else if (PQtransactionStatus(c) != PQTRANS_IDLE) {
            IT_FAIL("could not leave the transaction after a failure (status %d)", (int)PQtransactionStatus(c));
        }
    }
    PQfinish(c);
    printf("units=%ld complete=%ld oom_errors=%ld closed_after_error=%ld login_failures=%ld states:%s\n", t.units,
           t.complete, t.oom, t.closed_err, t.login_fail, t.states[0] ? t.states : " none");
    return 0;
}
