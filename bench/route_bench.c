/*
 * route_bench.c - micro-benchmark of the router's hot paths (built by
 * CMake as `route_bench`, not run by ctest).
 *
 * pgbench_accounts is hash-sharded by aid over two nodes; the statement is
 * pgbench's "SELECT abalance FROM pgbench_accounts WHERE aid = N".  Three
 * figures, each the median over many batches of the batch's mean time per
 * call (a batch amortises the clock reads):
 *
 *   hit   sw_router_route, N varies: same shape, served by the shape cache
 *         (scan + hash + lookup + evaluate);
 *   miss  sw_router_route with a unique table alias per call, so every call
 *         parses and builds a plan (and evicts once the cache is full);
 *   plan  sw_router_route_plan of the prepared "... WHERE aid = $1" with a
 *         text Bind value (no scan, no parse: evaluation only).
 *
 * Every result is checked against the hash function's own answer, so a
 * broken router cannot report a fast time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sw/conf.h"
#include "sw/route.h"
#include "sw/shard.h"

static const char yaml[] =
    "nodes:\n"
    "  - {name: shard1, host: 127.0.0.1, port: 5433, database: bench, user: bench}\n"
    "  - {name: shard2, host: 127.0.0.1, port: 5434, database: bench, user: bench}\n"
    "users:\n"
    "  - {name: bench, auth: trust}\n"
    "functions:\n"
    "  - {name: aid_hash, kind: hash, type: integer, buckets: 1024, nodes: [shard1, shard2]}\n"
    "databases:\n"
    "  - name: bench\n"
    "    default_node: shard1\n"
    "    tables:\n"
    "      - {name: pgbench_accounts, key: aid, function: aid_hash}\n";

#define BATCH 1000

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const sw_shardfn *FN;

static int expected_node(long aid)
{
    sw_value v = {SW_KEY_INT, aid, NULL, 0};
    return sw_shardfn_target_node(FN, sw_shardfn_dispatch(FN, &v, 0, NULL, 0));
}

static void check(const sw_route_out *out, long aid)
{
    if (out->status != SW_ROUTE_OK || out->n_targets != 1 || out->targets[0].node != expected_node(aid)) {
        fprintf(stderr, "route_bench: wrong route for aid %ld: status %d %s %s\n", aid, out->status,
                out->sqlstate, out->message);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    int batches = argc > 1 ? atoi(argv[1]) : 200;
    if (batches < 3) batches = 3;
    char err[1024];
    sw_conf *conf;
    if (sw_conf_load_string("route_bench.yaml", yaml, sizeof yaml - 1, &conf, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    sw_router *r = sw_router_new(conf, err, sizeof err);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    FN = sw_router_function(r, 0);
    sw_route_in in;
    memset(&in, 0, sizeof in);
    in.database = "bench";
    sw_route_out out;
    memset(&out, 0, sizeof out);
    double *ns = malloc((size_t)batches * sizeof *ns);
    char sql[160];
    long aid = 1;
    long serial = 0;

    /* hit: warm the one shape, then vary the constant */
    snprintf(sql, sizeof sql, "SELECT abalance FROM pgbench_accounts WHERE aid = %ld", aid);
    sw_router_route(r, &in, sql, strlen(sql), &out);
    sw_route_out_clear(&out);
    /* statement texts are made before the clock starts */
    static char texts[BATCH][96];
    static size_t lens_t[BATCH];
    static long aids[BATCH];
    for (int b = 0; b < batches; b++) {
        for (int i = 0; i < BATCH; i++) {
            aid = aid % 100000 + 1;
            aids[i] = aid;
            lens_t[i] = (size_t)snprintf(texts[i], sizeof texts[i],
                                         "SELECT abalance FROM pgbench_accounts WHERE aid = %ld", aid);
        }
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            sw_router_route(r, &in, texts[i], lens_t[i], &out);
            if (i == 0) check(&out, aids[i]);
            sw_route_out_clear(&out);
        }
        ns[b] = (double)(now_ns() - t0) / BATCH;
    }
    double hit = median(ns, batches);
    uint64_t hits, misses;
    size_t entries;
    sw_router_cache_stats(r, &hits, &misses, &entries);
    if (misses != 1) {
        fprintf(stderr, "route_bench: expected one miss, got %llu\n", (unsigned long long)misses);
        return 1;
    }

    /* miss: a unique alias per call is a new shape every time */
    int miss_batches = batches / 4 > 3 ? batches / 4 : 3;
    for (int b = 0; b < miss_batches; b++) {
        for (int i = 0; i < BATCH / 10; i++) {
            aid = aid % 100000 + 1;
            aids[i] = aid;
            lens_t[i] = (size_t)snprintf(texts[i], sizeof texts[i],
                                         "SELECT abalance FROM pgbench_accounts a%ld WHERE aid = %ld", serial++, aid);
        }
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH / 10; i++) {
            sw_router_route(r, &in, texts[i], lens_t[i], &out);
            if (i == 0) check(&out, aids[i]);
            sw_route_out_clear(&out);
        }
        ns[b] = (double)(now_ns() - t0) / (BATCH / 10);
    }
    double miss = median(ns, miss_batches);
    uint64_t misses2;
    sw_router_cache_stats(r, NULL, &misses2, &entries);

    /* plan: prepared once, a text Bind value per call */
    const char *psql = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
    sw_plan *p = sw_router_prepare(r, "bench", psql, strlen(psql), err, sizeof err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const uint8_t *vals[1] = {NULL};
    int32_t lens[1];
    int16_t fmts[1] = {0};
    in.nparams = 1;
    in.param_values = vals;
    in.param_lens = lens;
    in.param_formats = fmts;
    for (int b = 0; b < batches; b++) {
        for (int i = 0; i < BATCH; i++) {
            aid = aid % 100000 + 1;
            aids[i] = aid;
            lens_t[i] = (size_t)snprintf(texts[i], sizeof texts[i], "%ld", aid);
        }
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            vals[0] = (const uint8_t *)texts[i];
            lens[0] = (int32_t)lens_t[i];
            sw_router_route_plan(r, p, &in, &out);
            if (i == 0) check(&out, aids[i]);
            sw_route_out_clear(&out);
        }
        ns[b] = (double)(now_ns() - t0) / BATCH;
    }
    double plan = median(ns, batches);
    sw_plan_free(p);

    printf("router micro-benchmark: SELECT abalance FROM pgbench_accounts WHERE aid = N (hash, 2 nodes)\n");
    printf("  sw_router_route, shape-cache hit:    %8.0f ns/call (median of %d batches of %d)\n", hit, batches,
           BATCH);
    printf("  sw_router_route, shape-cache miss:   %8.0f ns/call (median of %d batches of %d)\n", miss,
           miss_batches, BATCH / 10);
    printf("  sw_router_route_plan, text Bind:     %8.0f ns/call (median of %d batches of %d)\n", plan, batches,
           BATCH);
    printf("  shape cache: %llu hits, %llu misses, %zu entries\n", (unsigned long long)hits,
           (unsigned long long)misses2, entries);
    free(ns);
    sw_router_free(r);
    sw_conf_free(conf);
    return 0;
}
