/*
 * oracle.c - sw_oracle: the differential test of shardwire's cross-shard
 * merging.  Each corpus query runs through shardwire (--proxy) and on a
 * plain PostgreSQL server holding the same data unsharded (--oracle), once
 * per result format: text (PQexec's simple protocol) and binary
 * (PQexecParams without parameters, resultFormat 1: the extended
 * protocol).  The answers must agree (see compare.c); a "-- error SQLSTATE"
 * query must instead fail through the proxy with that SQLSTATE.
 *
 * Output: one FAIL line per failing query (where it is in the corpus, which
 * formats failed, what differs, the query), then
 *   oracle: N queries, F formats, P passed, X failed
 * and exit status 1 when anything failed.  Every query runs under a client
 * side timeout: a hung proxy is cancelled, reported and reconnected, so one
 * bad merge cannot stall the rest of the corpus.
 *
 * `sw_oracle --gen-facts N --seed S` prints the order_facts test data
 * instead (facts.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oracle.h"

typedef struct side {
    const char *label;          /* "proxy" or "oracle" */
    const char *conninfo;
    PGconn *conn;               /* NULL until connected, or after a loss */
    int timeouts[2];            /* queries that got no answer in time, per format */
    bool unreachable;           /* a reconnect failed: the server is gone */
} side;

/* After this many timeouts in one format a side is given up on in that
 * format: a proxy that hangs on everything would otherwise cost the
 * timeout once per query. */
#define MAX_TIMEOUTS 5

/* What one execution gave: a result, or an error. */
typedef struct outcome {
    PGresult *res;              /* TUPLES_OK / COMMAND_OK result, else NULL */
    char sqlstate[6];           /* on error; "" when the error has none */
    or_buf msg;                 /* on error: one line */
} outcome;

typedef struct options {
    const char *proxy, *oracle, *corpus;
    bool text, binary, verbose, skip_errors;
    int timeout_s;
    int only_line;              /* run only the query starting at this corpus line */
} options;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Whitespace runs (newlines included) collapsed to one space, in place. */
static char *one_line(char *s)
{
    char *w = s;
    bool space = false;
    for (const char *r = s; *r; r++) {
        if (*r == ' ' || *r == '\n' || *r == '\r' || *r == '\t') {
            space = w != s;
            continue;
        }
        if (space)
            *w++ = ' ';
        space = false;
        *w++ = *r;
    }
    *w = '\0';
    return s;
}

/* The outcome becomes an error: message what + detail, on one line. */
static void set_error(outcome *o, const char *sqlstate, const char *what, const char *detail)
{
    snprintf(o->sqlstate, sizeof o->sqlstate, "%s", sqlstate ? sqlstate : "");
    o->msg.len = 0;
    or_buf_printf(&o->msg, "%s%s", what, detail ? detail : "");
    one_line(o->msg.s);
}

/* Connect when not connected; two attempts half a second apart, then the
 * side is marked unreachable. */
static bool connect_side(side *s, outcome *o)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
        return true;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt)
            nanosleep(&(struct timespec){0, 500000000L}, NULL);
        PQfinish(s->conn);
        s->conn = PQconnectdb(s->conninfo);
        if (s->conn && PQstatus(s->conn) == CONNECTION_OK) {
            PQsetNoticeProcessor(s->conn, quiet_notice, NULL);
            return true;
        }
    }
    set_error(o, "", "cannot connect: ", s->conn ? PQerrorMessage(s->conn) : "out of memory");
    PQfinish(s->conn);
    s->conn = NULL;
    s->unreachable = true;
    return false;
}

static void drop_conn(side *s)
{
    PQfinish(s->conn);
    s->conn = NULL;
}

/* Wait until a result is ready or the deadline passes; false on timeout
 * or a broken connection (msg says which). */
static bool wait_ready(PGconn *c, double deadline, const char **why)
{
    while (PQisBusy(c)) {
        int left = (int)((deadline - now_s()) * 1000);
        if (left <= 0) {
            *why = "timeout";
            return false;
        }
        struct pollfd pfd = {PQsocket(c), POLLIN, 0};
        if (poll(&pfd, 1, left) < 0 && errno != EINTR) {
            *why = "poll failed";
            return false;
        }
        if (!PQconsumeInput(c)) {
            *why = "connection lost";
            return false;
        }
    }
    return true;
}

/* Run sql on s, in binary or text result format, within timeout_s. */
static void run(side *s, const char *sql, bool binary, int timeout_s, outcome *o)
{
    o->res = NULL;
    o->sqlstate[0] = '\0';
    o->msg.len = 0;
    if (s->timeouts[binary] >= MAX_TIMEOUTS) {
        set_error(o, "", binary ? "not run: too many binary-format timeouts already on the "
                                : "not run: too many text-format timeouts already on the ",
                  s->label);
        return;
    }
    if (!connect_side(s, o))
        return;
    int sent = binary ? PQsendQueryParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 1) : PQsendQuery(s->conn, sql);
    if (!sent) {
        set_error(o, "", "could not send: ", PQerrorMessage(s->conn));
        drop_conn(s);
        return;
    }
    double deadline = now_s() + timeout_s;
    PGresult *keep = NULL;
    const char *why = NULL;
    bool cancelled = false;
    for (;;) {
        if (!wait_ready(s->conn, deadline, &why)) {
            if (strcmp(why, "timeout") != 0 || cancelled)
                break;
            /* Ask the server to give up, and allow it a few seconds to. */
            char eb[256];
            PGcancel *cn = PQgetCancel(s->conn);
            if (cn) {
                PQcancel(cn, eb, sizeof eb);
                PQfreeCancel(cn);
            }
            cancelled = true;
            deadline = now_s() + 2;
            continue;
        }
        PGresult *r = PQgetResult(s->conn);
        if (!r) {
            why = NULL;
            break;
        }
        /* The first error wins; otherwise the last result. */
        if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
            PQclear(r);
        } else {
            PQclear(keep);
            keep = r;
        }
    }
    if (why || cancelled) {
        char what[128];
        if (cancelled) {
            s->timeouts[binary]++;
            snprintf(what, sizeof what, "no answer within %d s (cancelled%s)", timeout_s,
                     why ? ", then gave up on the connection" : "");
        } else {
            snprintf(what, sizeof what, "%s: ", why);
        }
        set_error(o, "", what, cancelled ? NULL : PQerrorMessage(s->conn));
        PQclear(keep);
        if (why)
            drop_conn(s);
        return;
    }
    ExecStatusType st = keep ? PQresultStatus(keep) : PGRES_EMPTY_QUERY;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        o->res = keep;
    } else if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR) {
        const char *m = PQresultErrorField(keep, PG_DIAG_MESSAGE_PRIMARY);
        set_error(o, PQresultErrorField(keep, PG_DIAG_SQLSTATE), "", m ? m : PQresultErrorMessage(keep));
        PQclear(keep);
    } else {
        set_error(o, "", "unexpected result status ", PQresStatus(st));
        PQclear(keep);
    }
    if (PQstatus(s->conn) != CONNECTION_OK)
        drop_conn(s);
}

static void outcome_clear(outcome *o)
{
    PQclear(o->res);
    o->res = NULL;
    or_buf_free(&o->msg);
}

static void describe_error(const char *who, const outcome *o, or_buf *diff)
{
    if (o->sqlstate[0])
        or_buf_printf(diff, "%s error %s: %s", who, o->sqlstate, or_buf_str(&o->msg));
    else
        or_buf_printf(diff, "%s failed: %s", who, or_buf_str(&o->msg));
}

/* One query in one format: true when it passes; diff says why not, and
 * with --verbose detail gets both sides' rows. */
static bool check(const options *opt, side *proxy, side *oracle, const or_query *q, bool binary, or_buf *diff,
                  or_buf *detail)
{
    outcome p = {0}, o = {0};
    bool pass;
    run(proxy, q->sql, binary, opt->timeout_s, &p);
    if (q->error[0]) {
        pass = !p.res && strcmp(p.sqlstate, q->error) == 0;
        if (!pass && p.res)
            or_buf_printf(diff, "expected error %s, got a result (%d rows)", q->error, PQntuples(p.res));
        else if (!pass)
            or_buf_printf(diff, "expected error %s, got %s %s", q->error,
                          p.sqlstate[0] ? p.sqlstate : "no SQLSTATE:", or_buf_str(&p.msg));
        outcome_clear(&p);
        return pass;
    }
    run(oracle, q->sql, binary, opt->timeout_s, &o);
    if (!o.res) {
        describe_error("oracle", &o, diff);
        pass = false;
    } else if (!p.res) {
        describe_error("proxy", &p, diff);
        pass = false;
    } else {
        pass = or_compare(p.res, o.res, q->ordered, binary, diff);
        if (!pass && opt->verbose) {
            or_buf_printf(detail, "  %s format:\n", binary ? "binary" : "text");
            or_dump_rows(p.res, q->ordered, binary, "proxy", 20, detail);
            or_dump_rows(o.res, q->ordered, binary, "oracle", 20, detail);
        }
    }
    outcome_clear(&p);
    outcome_clear(&o);
    return pass;
}

static int run_corpus(const options *opt)
{
    or_corpus corpus;
    char err[512];
    if (or_corpus_load(opt->corpus, &corpus, err, sizeof err) < 0) {
        fprintf(stderr, "sw_oracle: %s\n", err);
        return 2;
    }
    side proxy = {"proxy", opt->proxy, NULL, {0, 0}, false}, oracle = {"oracle", opt->oracle, NULL, {0, 0}, false};
    outcome probe = {0};
    if (!connect_side(&proxy, &probe) || !connect_side(&oracle, &probe)) {
        fprintf(stderr, "sw_oracle: %s: %s\n", proxy.conn ? oracle.label : proxy.label, or_buf_str(&probe.msg));
        outcome_clear(&probe);
        PQfinish(proxy.conn);
        PQfinish(oracle.conn);
        or_corpus_free(&corpus);
        return 2;
    }
    outcome_clear(&probe);

    const char *base = strrchr(opt->corpus, '/');
    base = base ? base + 1 : opt->corpus;
    int n_formats = opt->text + opt->binary, ran = 0, passed = 0, failed = 0, skipped = 0, not_run = 0;
    double t0 = now_s();
    for (int i = 0; i < corpus.n; i++) {
        const or_query *q = &corpus.q[i];
        if (opt->only_line && q->line != opt->only_line)
            continue;
        if (q->error[0] && opt->skip_errors) {
            skipped++;
            continue;
        }
        /* A server that is gone would turn every remaining query into the
         * same "cannot connect" line: count them, say it once. */
        if (proxy.unreachable || oracle.unreachable) {
            not_run++;
            continue;
        }
        ran++;
        or_buf diff[2] = {{0}, {0}}, detail = {0}, what = {0};
        bool bad[2] = {false, false};
        for (int f = 0; f < 2; f++) {
            bool binary = f == 1;
            if (binary ? opt->binary : opt->text)
                bad[f] = !check(opt, &proxy, &oracle, q, binary, &diff[f], &detail);
        }
        if (bad[0] && bad[1] && strcmp(or_buf_str(&diff[0]), or_buf_str(&diff[1])) == 0)
            or_buf_printf(&what, "text,binary: %s", or_buf_str(&diff[0]));
        else if (bad[0] || bad[1])
            or_buf_printf(&what, "%s%s%s%s%s", bad[0] ? "text: " : "", bad[0] ? or_buf_str(&diff[0]) : "",
                          bad[0] && bad[1] ? "; " : "", bad[1] ? "binary: " : "", bad[1] ? or_buf_str(&diff[1]) : "");
        char *sql = one_line(or_xstrdup(q->sql));
        const char *nm = q->name ? q->name : "";
        if (bad[0] || bad[1]) {
            failed++;
            printf("FAIL %s:%d%s%s%s %s :: %s\n", base, q->line, *nm ? " [" : "", nm, *nm ? "]" : "",
                   or_buf_str(&what), sql);
            if (opt->verbose && detail.len)
                fputs(or_buf_str(&detail), stdout);
        } else {
            passed++;
            if (opt->verbose)
                printf("ok   %s:%d%s%s%s\n", base, q->line, *nm ? " [" : "", nm, *nm ? "]" : "");
        }
        free(sql);
        or_buf_free(&diff[0]);
        or_buf_free(&diff[1]);
        or_buf_free(&detail);
        or_buf_free(&what);
    }
    if (skipped)
        printf("oracle: skipped %d \"-- error\" queries (--skip-errors)\n", skipped);
    if (not_run)
        printf("FAIL oracle: the %s became unreachable: %d further queries not run (counted as failed)\n",
               proxy.unreachable ? proxy.label : oracle.label, not_run);
    printf("oracle: %d queries, %d formats, %d passed, %d failed (%.1f s)\n", ran + not_run, n_formats, passed,
           failed + not_run, now_s() - t0);
    PQfinish(proxy.conn);
    PQfinish(oracle.conn);
    or_corpus_free(&corpus);
    if (ran == 0) {
        fprintf(stderr, "sw_oracle: no query ran\n");
        return 2;
    }
    return failed ? 1 : 0;
}

static void usage(FILE *out)
{
    fputs("usage: sw_oracle --proxy CONNINFO --oracle CONNINFO --corpus FILE\n"
          "                 [--formats text,binary] [--skip-errors] [--timeout SECONDS]\n"
          "                 [--only LINE] [--verbose]\n"
          "       sw_oracle --gen-facts ROWS [--seed S] [--batch N]\n"
          "  --proxy      conninfo of shardwire (the side under test)\n"
          "  --oracle     conninfo of the plain PostgreSQL holding the same data\n"
          "  --corpus     query file (format: see the top of oracle_corpus.sql)\n"
          "  --formats    text, binary or both (default text,binary)\n"
          "  --skip-errors  leave out \"-- error\" queries (comparing a server with itself)\n"
          "  --timeout    seconds one query may take (default 30)\n"
          "  --only       run only the query starting at this corpus line\n"
          "  --verbose    an ok line per passing query, both sides' rows per failing one\n"
          "  --gen-facts  print ROWS rows of order_facts as INSERTs (seed default 1, batch 100)\n",
          out);
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    options opt = {.text = true, .binary = true, .timeout_s = 30};
    long facts = -1, seed = 1, batch = 100;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--verbose")) {
            opt.verbose = true;
        } else if (!strcmp(a, "--skip-errors")) {
            opt.skip_errors = true;
        } else if (!v) {
            fprintf(stderr, "sw_oracle: %s needs a value (or is unknown)\n", a);
            usage(stderr);
            return 2;
        } else if (!strcmp(a, "--proxy")) {
            opt.proxy = v, i++;
        } else if (!strcmp(a, "--oracle")) {
            opt.oracle = v, i++;
        } else if (!strcmp(a, "--corpus")) {
            opt.corpus = v, i++;
        } else if (!strcmp(a, "--formats")) {
            opt.text = opt.binary = false;
            char *list = or_xstrdup(v), *save = NULL;
            for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (!strcmp(t, "text")) {
                    opt.text = true;
                } else if (!strcmp(t, "binary")) {
                    opt.binary = true;
                } else {
                    fprintf(stderr, "sw_oracle: unknown format '%s' (text, binary)\n", t);
                    free(list);
                    return 2;
                }
            }
            free(list);
            i++;
        } else if (!strcmp(a, "--timeout") && parse_long(v, 1, 3600, &n)) {
            opt.timeout_s = (int)n, i++;
        } else if (!strcmp(a, "--only") && parse_long(v, 1, 1000000000, &n)) {
            opt.only_line = (int)n, i++;
        } else if (!strcmp(a, "--gen-facts") && parse_long(v, 1, 100000000, &n)) {
            facts = n, i++;
        } else if (!strcmp(a, "--seed") && parse_long(v, 0, 1000000000, &n)) {
            seed = n, i++;
        } else if (!strcmp(a, "--batch") && parse_long(v, 1, 100000, &n)) {
            batch = n, i++;
        } else {
            fprintf(stderr, "sw_oracle: bad option or value: %s %s\n", a, v);
            usage(stderr);
            return 2;
        }
    }
    if (facts > 0) {
        or_gen_facts(facts, (uint64_t)seed, batch);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (!opt.proxy || !opt.oracle || !opt.corpus || !(opt.text || opt.binary)) {
        usage(stderr);
        return 2;
    }
    return run_corpus(&opt);
}
