/*
 * stream_client.c - the smallest libpq client that reads a large answer
 * without keeping it (built by CMake as `stream_client`, used by
 * bench/merge.sh, not run by ctest).
 *
 *   stream_client [-r REPEAT] [-c] CONNINFO SQL
 *
 * Connects once, then runs SQL REPEAT times (default 1) in single-row mode
 * (PQsetSingleRowMode), so that libpq hands over one row at a time and the
 * client's memory stays flat however many rows arrive: each row is counted
 * with the bytes of its values, and dropped.  One line per run on stdout:
 *
 *   rows=N bytes=B seconds=S
 *
 * where S is the wall time from sending the query to the end of its answer
 * (connection set-up is not included).  With -c the line ends with
 * fnv=HEX, an FNV-1a hash of every value in arrival order (NULL and the
 * field and row boundaries included): two servers that sent the same rows
 * in the same order print the same hash, without either answer being kept.
 * Any error ends the program with status 1 and the server's message on
 * stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static unsigned long long fnv_add(unsigned long long h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * FNV_PRIME;
    return h;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs sql once in single-row mode; counts rows and value bytes, hashes them
 * into *hash when it is not NULL; -1 on error. */
static int stream_once(PGconn *conn, const char *sql, unsigned long long *rows, unsigned long long *bytes,
                       unsigned long long *hash)
{
    int failed = 0;
    *rows = *bytes = 0;
    if (!PQsendQuery(conn, sql)) {
        fprintf(stderr, "stream_client: %s", PQerrorMessage(conn));
        return -1;
    }
    /* Only possible right after sending: a failure means libpq refused it. */
    if (!PQsetSingleRowMode(conn)) {
        fprintf(stderr, "stream_client: single-row mode refused\n");
        failed = 1;
    }
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL) {
        switch (PQresultStatus(res)) {
        case PGRES_SINGLE_TUPLE: {
            int nf = PQnfields(res);
            for (int f = 0; f < nf; f++) {
                int len = PQgetlength(res, 0, f);
                *bytes += (unsigned long long)len;
                if (!hash) continue;
                /* Separators that cannot occur in text values keep ("ab","c") apart from ("a","bc"). */
                if (PQgetisnull(res, 0, f))
                    *hash = fnv_add(*hash, "\x1d", 1);
                else
                    *hash = fnv_add(*hash, PQgetvalue(res, 0, f), (size_t)len);
                *hash = fnv_add(*hash, "\x1f", 1);
            }
            if (hash) *hash = fnv_add(*hash, "\x1e", 1);
            (*rows)++;
            break;
        }
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
            break;
        default:
            /* Keep reading: libpq needs the answer drained before the next query. */
            if (!failed) fprintf(stderr, "stream_client: %s", PQresultErrorMessage(res));
            failed = 1;
            break;
        }
        PQclear(res);
    }
    return failed ? -1 : 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: stream_client [-r REPEAT] [-c] CONNINFO SQL\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long repeat = 1;
    int opt, checksum = 0;
    while ((opt = getopt(argc, argv, "r:c")) != -1) {
        if (opt == 'c') {
            checksum = 1;
            continue;
        }
        if (opt != 'r') usage();
        char *end;
        repeat = strtol(optarg, &end, 10);
        if (*end || repeat < 1) usage();
    }
    if (argc - optind != 2) usage();

    PGconn *conn = PQconnectdb(argv[optind]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "stream_client: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    int rc = 0;
    for (long i = 0; i < repeat && rc == 0; i++) {
        unsigned long long rows, bytes, hash = FNV_OFFSET;
        double t0 = now_s();
        if (stream_once(conn, argv[optind + 1], &rows, &bytes, checksum ? &hash : NULL) < 0) {
            rc = 1;
            break;
        }
        double secs = now_s() - t0;
        if (checksum)
            printf("rows=%llu bytes=%llu seconds=%.6f fnv=%016llx\n", rows, bytes, secs, hash);
        else
            printf("rows=%llu bytes=%llu seconds=%.6f\n", rows, bytes, secs);
        fflush(stdout);
    }
    PQfinish(conn);
    return rc;
}
