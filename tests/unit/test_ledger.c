/*
 * test_ledger.c - the per-server ledger of owed replies: every request's
 * reply shape, PostgreSQL's skip-to-Sync after an extended-protocol error,
 * Sync inside COPY IN, violations, and what a client is owed when the
 * connection dies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sw/ledger.h"

typedef struct rec {
    char log[256];  /* a letter per entry retired without its answer: f failed, s skipped, a absorbed, l lost */
    int n;
    uint64_t last_stmt;
} rec;

static void retire_cb(void *ctx, const sw_owed *e, sw_retire how)
{
    rec *r = ctx;
    static const char letters[] = "ofsal";
    if (r->n < (int)sizeof r->log - 1) r->log[r->n++] = letters[how];
    r->log[r->n] = 0;
    if (how != SW_RETIRE_OK) r->last_stmt = e->stmt_id;
}

static int push(sw_ledger *l, sw_owe_kind k, sw_owner o)
{
    sw_owed e = {.kind = (uint8_t)k, .owner = (uint8_t)o};
    return sw_ledger_push(l, &e);
}

static int pushc(sw_ledger *l, sw_owe_kind k) { return push(l, k, SW_OWNER_CLIENT); }

/* Feed a string of reply types; returns the verdict letters (A P L B). */
static const char *feed(sw_ledger *l, const char *types)
{
    static char out[128];
    int n = 0;
    for (const char *t = types; *t; t++) {
        sw_reply r = sw_ledger_reply(l, (uint8_t)*t);
        out[n++] = "APLB"[r.verdict];
    }
    out[n] = 0;
    return out;
}

static void test_simple_query(void **state)
{
    (void)state;
    rec r = {0};
    sw_ledger l;
    sw_ledger_init(&l, retire_cb, &r);
    assert_int_equal(pushc(&l, SW_OWE_QUERY), 0);
    assert_false(sw_ledger_quiet(&l));
    assert_string_equal(feed(&l, "TDDCNSZ"), "PPPPAAL");
    assert_true(sw_ledger_quiet(&l));
    /* an error inside a query string: only ReadyForQuery may follow */
    pushc(&l, SW_OWE_QUERY);
    assert_string_equal(feed(&l, "TCE"), "PPP");
    assert_string_equal(feed(&l, "T"), "B");
    assert_string_equal(feed(&l, "Z"), "L");
    assert_string_equal(r.log, "f");
    sw_ledger_free(&l);
}

/* FunctionCall with an unknown OID answers ErrorResponse + ReadyForQuery:
 * the Query after it must still get its own reply (once a server fell one
 * reply behind here). */
static void test_function_call(void **state)
{
    (void)state;
    rec r = {0};
    sw_ledger l;
    sw_ledger_init(&l, retire_cb, &r);
    pushc(&l, SW_OWE_FUNCTION);
    pushc(&l, SW_OWE_QUERY);
    assert_string_equal(feed(&l, "EZ"), "PL");
    assert_int_equal(l.count, 1);
    assert_string_equal(feed(&l, "TDCZ"), "PPPL");
    assert_true(sw_ledger_quiet(&l));
    pushc(&l, SW_OWE_FUNCTION);
    assert_string_equal(feed(&l, "VZ"), "PL");
    pushc(&l, SW_OWE_FUNCTION);
    assert_string_equal(feed(&l, "Z"), "B");  /* no result, no error */
    assert_string_equal(r.log, "f");
    sw_ledger_free(&l);
}

/* Parse ok, Bind fails: Execute, a simple Query and everything else up to
 * Sync are ignored by the server; the Query after Sync runs. */
static void test_error_skips_to_sync(void **state)
{
    (void)state;
    rec r = {0};
    sw_ledger l;
    sw_ledger_init(&l, retire_cb, &r);
    pushc(&l, SW_OWE_PARSE);
    pushc(&l, SW_OWE_BIND);
    pushc(&l, SW_OWE_EXECUTE);
    pushc(&l, SW_OWE_QUERY);
    pushc(&l, SW_OWE_FUNCTION);
    pushc(&l, SW_OWE_SYNC);
    pushc(&l, SW_OWE_QUERY);
    assert_int_equal(l.n_ready, 4);
    assert_string_equal(feed(&l, "1E"), "LL");
    assert_string_equal(r.log, "ofsss");
    assert_int_equal(l.count, 2);
    assert_int_equal(l.n_ready, 2);  /* the Sync and the last Query */
    assert_string_equal(feed(&l, "Z"), "L");
    assert_string_equal(feed(&l, "TDCZ"), "PPPL");
    assert_true(sw_ledger_quiet(&l));
    sw_ledger_free(&l);
}

/* The error arrives before the Sync was sent: later requests are skipped
 * as they are sent, the Sync ends it. */
static void test_skip_before_sync(void **state)
{
    (void)state;
    rec r = {0};
    sw_ledger l;
    sw_ledger_init(&l, retire_cb, &r);
    sw_owed p = {.kind = SW_OWE_PARSE, .owner = SW_OWNER_CLIENT, .stmt_id = 77};
    sw_ledger_push(&l, &p);
    assert_string_equal(feed(&l, "E"), "L");
    assert_int_equal(r.last_stmt, 77);
    assert_true(l.skipping);
    assert_false(sw_ledger_quiet(&l));
    assert_true(sw_ledger_owes_client(&l));
    assert_int_equal(pushc(&l, SW_OWE_BIND), 1);
    assert_int_equal(pushc(&l, SW_OWE_QUERY), 1);
    /* shardwire's own Parse is skipped with the Bind that needed it, but an
     * injected Query would be ignored: that cannot be owed */
    assert_int_equal(push(&l, SW_OWE_PARSE, SW_OWNER_PROXY), 1);
    assert_int_equal(push(&l, SW_OWE_QUERY, SW_OWNER_PROXY), -1);
    assert_int_equal(pushc(&l, SW_OWE_SYNC), 0);
    assert_false(l.skipping);
    assert_string_equal(feed(&l, "Z"), "L");
    assert_true(sw_ledger_quiet(&l));
    assert_string_equal(r.log, "fsss");
    assert_int_equal(l.n_proxy_parses, 0);
    sw_ledger_free(&l);
}

/* A Flush answered a batch after the last ReadyForQuery: the server's
 * transaction status is not known, it must not go back to a pool. */
static void test_at_rest(void **state)
{
    (void)state;
    sw_ledger l;
    sw_ledger_init(&l, NULL, NULL);
    assert_true(sw_ledger_at_rest(&l));
    pushc(&l, SW_OWE_QUERY);
    pushc(&l, SW_OWE_PARSE);
    pushc(&l, SW_OWE_BIND);
    pushc(&l, SW_OWE_EXECUTE);
    assert_string_equal(feed(&l, "CZ12C"), "PLLLL");
    assert_true(sw_ledger_quiet(&l));
    assert_false(sw_ledger_at_rest(&l));
    pushc(&l, SW_OWE_SYNC);
    assert_string_equal(feed(&l, "Z"), "L");
    assert_true(sw_ledger_at_rest(&l));
    sw_ledger_free(&l);
}

static void test_describe(void **state)
{
    (void)state;
    sw_ledger l;
    sw_ledger_init(&l, NULL, NULL);
    pushc(&l, SW_OWE_DESCRIBE_STMT);
    pushc(&l, SW_OWE_DESCRIBE_PORTAL);
    pushc(&l, SW_OWE_CLOSE);
    pushc(&l, SW_OWE_SYNC);
    assert_string_equal(feed(&l, "tTn3Z"), "PLLLL");
    pushc(&l, SW_OWE_DESCRIBE_STMT);
    assert_string_equal(feed(&l, "T"), "B");  /* ParameterDescription comes first */
    sw_ledger_free(&l);
}

static void test_execute(void **state)
{
    (void)state;
    sw_ledger l;
    sw_ledger_init(&l, NULL, NULL);
    pushc(&l, SW_OWE_BIND);
    pushc(&l, SW_OWE_EXECUTE);
    pushc(&l, SW_OWE_EXECUTE);
    pushc(&l, SW_OWE_EXECUTE);
    pushc(&l, SW_OWE_SYNC);
    assert_string_equal(feed(&l, "2DDsDCI"), "LPPLPLL");
    assert_string_equal(feed(&l, "Z"), "L");
    pushc(&l, SW_OWE_EXECUTE);
    assert_string_equal(feed(&l, "T"), "B");
    sw_ledger_free(&l);
}

/* A Sync that fails to commit the implicit transaction: error, then Z. */
static void test_sync_error(void **state)
{
    (void)state;
    sw_ledger l;
    sw_ledger_init(&l, NULL, NULL);
    pushc(&l, SW_OWE_SYNC);
    sw_reply rp = sw_ledger_reply(&l, 'E');
    assert_int_equal(rp.verdict, SW_REPLY_PART);
    assert_true(rp.error);
    assert_string_equal(feed(&l, "EZ"), "BL");
    sw_ledger_free(&l);
}

/* libpq's extended COPY FROM: Execute, Sync, data, CopyDone, Sync.  The
 * first Sync is read inside the copy and ignored by the server. */
static void test_copy_in_extended(void **state)
{
    (void)state;
    rec r = {0};
    sw_ledger l;
    sw_ledger_init(&l, retire_cb, &r);
    pushc(&l, SW_OWE_PARSE);
    pushc(&l, SW_OWE_BIND);
    pushc(&l, SW_OWE_EXECUTE);
    pushc(&l, SW_OWE_SYNC);
    assert_true(sw_ledger_server_busy(&l));
    assert_string_equal(feed(&l, "12G"), "LLP");
    assert_true(l.absorbing);
    assert_false(sw_ledger_server_busy(&l));  /* it waits for the client's rows */
    sw_ledger_copy_end(&l);
    assert_true(sw_ledger_server_busy(&l));   /* ...until CopyDone was sent */
    l.absorbing = true;
    assert_string_equal(r.log, "oa");
    assert_int_equal(pushc(&l, SW_OWE_SYNC), 1);  /* a Flush/Sync inside the copy: absorbed */
    assert_int_equal(pushc(&l, SW_OWE_BIND), -1); /* anything else would fail the copy */
    sw_ledger_copy_end(&l);
    assert_false(l.absorbing);
    pushc(&l, SW_OWE_SYNC);
    assert_string_equal(feed(&l, "CZ"), "LL");
    assert_true(sw_ledger_quiet(&l));

    /* The same with CopyDone already sent when CopyInResponse arrives. */
    pushc(&l, SW_OWE_EXECUTE);
    pushc(&l, SW_OWE_SYNC);
    sw_ledger_copy_end(&l);
    pushc(&l, SW_OWE_SYNC);
    assert_string_equal(feed(&l, "GCZ"), "PLL");
    assert_true(sw_ledger_quiet(&l));

    /* A request other than Sync between Execute and CopyDone: violation. */
    pushc(&l, SW_OWE_EXECUTE);
    pushc(&l, SW_OWE_QUERY);
    sw_ledger_copy_end(&l);
    assert_string_equal(feed(&l, "G"), "B");
    sw_ledger_free(&l);
}

static void test_copy_simple(void **state)
{
    (void)state;
    sw_ledger l;
    sw_ledger_init(&l, NULL, NULL);
    pushc(&l, SW_OWE_QUERY);
    assert_string_equal(feed(&l, "G"), "P");
    sw_ledger_copy_end(&l);
    assert_string_equal(feed(&l, "CTDCZ"), "PPPPL");
    pushc(&l, SW_OWE_QUERY);
    assert_string_equal(feed(&l, "HddcCZ"), "PPPPPL");
    pushc(&l, SW_OWE_QUERY);
    assert_string_equal(feed(&l, "Hd"), "PP");
    assert_string_equal(feed(&l, "Z"), "B");  /* still in COPY OUT */
    sw_ledger_free(&l);
    /* CopyFail: the server's error, then ReadyForQuery */
    sw_ledger_init(&l, NULL, NULL);
    pushc(&l, SW_OWE_QUERY);
    assert_string_equal(feed(&l, "G"), "P");
    assert_true(l.absorbing);
    sw_ledger_copy_end(&l);
    assert_string_equal(feed(&l, "EZ"), "PL");
    assert_true(sw_ledger_quiet(&l));
    sw_ledger_free(&l);
}

static void test_violations(void **state)
{
    (void)state;
    sw_ledger l;
    sw_ledger_init(&l, NULL, NULL);
    assert_string_equal(feed(&l, "Z"), "B");   /* nothing owed */
    assert_string_equal(feed(&l, "N"), "A");   /* a notice is always fine */
    pushc(&l, SW_OWE_PARSE);
    assert_string_equal(feed(&l, "2"), "B");
    sw_ledger_free(&l);
    sw_ledger_init(&l, NULL, NULL);
    pushc(&l, SW_OWE_QUERY);
    assert_string_equal(feed(&l, "1"), "B");
    assert_string_equal(feed(&l, "K"), "B");
    sw_ledger_free(&l);
    sw_ledger_init(&l, NULL, NULL);
    sw_owed f = {.kind = SW_OWE_FAKE, .owner = SW_OWNER_CLIENT, .fake_type = '1'};
    sw_ledger_push(&l, &f);
    assert_string_equal(feed(&l, "1"), "B");   /* fakes are taken off first */
    assert_non_null(sw_ledger_fake(&l));
    sw_ledger_pop_fake(&l);
    assert_true(sw_ledger_quiet(&l));
    sw_ledger_free(&l);
}

static void test_owners(void **state)
{
    (void)state;
    sw_ledger l;
    sw_ledger_init(&l, NULL, NULL);
    push(&l, SW_OWE_QUERY, SW_OWNER_PROXY);
    push(&l, SW_OWE_PARSE, SW_OWNER_PROXY);
    assert_int_equal(l.n_proxy_parses, 1);
    assert_false(sw_ledger_owes_client(&l));
    pushc(&l, SW_OWE_BIND);
    assert_true(sw_ledger_owes_client(&l));
    sw_reply r = sw_ledger_reply(&l, 'C');
    assert_int_equal(r.verdict, SW_REPLY_PART);
    assert_int_equal(r.owner, SW_OWNER_PROXY);
    r = sw_ledger_reply(&l, 'Z');
    assert_int_equal(r.verdict, SW_REPLY_LAST);
    r = sw_ledger_reply(&l, '1');
    assert_int_equal(r.owner, SW_OWNER_PROXY);
    assert_int_equal(l.n_proxy_parses, 0);
    r = sw_ledger_reply(&l, '2');
    assert_int_equal(r.owner, SW_OWNER_CLIENT);
    assert_true(sw_ledger_quiet(&l));
    sw_ledger_free(&l);
}

static char lost_out[64];
static int lost_n;
static void owe_cb(void *ctx, char what)
{
    (void)ctx;
    lost_out[lost_n++] = what;
    lost_out[lost_n] = 0;
}

static const char *lost(sw_ledger *l, bool *open)
{
    lost_n = 0;
    lost_out[0] = 0;
    *open = sw_ledger_lost(l, owe_cb, NULL);
    return lost_out;
}

/* Three pipelined batches outstanding when the server dies: each Sync gets
 * exactly one error and one ReadyForQuery. */
static void test_lost(void **state)
{
    (void)state;
    rec r = {0};
    sw_ledger l;
    bool open;
    sw_ledger_init(&l, retire_cb, &r);
    for (int i = 0; i < 3; i++) {
        pushc(&l, SW_OWE_BIND);
        pushc(&l, SW_OWE_EXECUTE);
        pushc(&l, SW_OWE_SYNC);
    }
    assert_string_equal(feed(&l, "2D"), "LP");  /* the first batch is half answered */
    assert_string_equal(lost(&l, &open), "EZEZEZ");
    assert_false(open);
    assert_true(sw_ledger_quiet(&l));
    assert_string_equal(r.log, "llllllll");  /* answered entries leave silently */

    /* A batch whose error was sent already gets only its ReadyForQuery; an
     * open batch (no Sync yet) gets its error and is left open. */
    pushc(&l, SW_OWE_BIND);
    pushc(&l, SW_OWE_SYNC);
    pushc(&l, SW_OWE_QUERY);
    pushc(&l, SW_OWE_PARSE);
    pushc(&l, SW_OWE_BIND);
    assert_string_equal(feed(&l, "E"), "L");
    assert_string_equal(lost(&l, &open), "ZEZE");
    assert_true(open);

    /* Skipping with nothing queued: the error was sent, the batch is open. */
    pushc(&l, SW_OWE_PARSE);
    feed(&l, "E");
    assert_string_equal(lost(&l, &open), "");
    assert_true(open);

    /* A simple query that already failed, shardwire's own query, a
     * function call. */
    push(&l, SW_OWE_QUERY, SW_OWNER_PROXY);
    pushc(&l, SW_OWE_QUERY);
    pushc(&l, SW_OWE_FUNCTION);
    feed(&l, "CZE");
    assert_string_equal(lost(&l, &open), "ZEZ");
    assert_false(open);
    sw_ledger_free(&l);
}

static void test_growth(void **state)
{
    (void)state;
    sw_ledger l;
    sw_ledger_init(&l, NULL, NULL);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 1000; i++) {
            pushc(&l, SW_OWE_BIND);
            pushc(&l, SW_OWE_EXECUTE);
        }
        pushc(&l, SW_OWE_SYNC);
        for (int i = 0; i < 1000; i++) assert_string_equal(feed(&l, "2C"), "LL");
        assert_string_equal(feed(&l, "Z"), "L");
        assert_true(sw_ledger_quiet(&l));
    }
    sw_owed f = {.kind = SW_OWE_FAKE, .owner = SW_OWNER_CLIENT, .fake_type = 'E', .error = strdup("XX000\0m")};
    sw_ledger_push(&l, &f);
    sw_ledger_free(&l);  /* frees the error string */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_query),
        cmocka_unit_test(test_function_call),
        cmocka_unit_test(test_error_skips_to_sync),
        cmocka_unit_test(test_skip_before_sync),
        cmocka_unit_test(test_at_rest),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_execute),
        cmocka_unit_test(test_sync_error),
        cmocka_unit_test(test_copy_in_extended),
        cmocka_unit_test(test_copy_simple),
        cmocka_unit_test(test_violations),
        cmocka_unit_test(test_owners),
        cmocka_unit_test(test_lost),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
