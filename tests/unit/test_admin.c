/*
 * test_admin.c - unit tests for the admin console (sw/admin.h).
 *
 * Every answer is decoded back from the wire bytes by a strict local
 * reader: RowDescription first (every column text, OID 25, text format),
 * DataRows of exactly that width, CommandComplete last; or one
 * ErrorResponse; or one EmptyQueryResponse - never ReadyForQuery, and no
 * byte left over.  Against a configuration in the sharding format of the
 * spec (hash, explicit-assign hash, numeric table-suffix range, date range,
 * list, ring, directory, embedded; sharded, reference, pinned and
 * schema-qualified tables in two databases) the tests check:
 *
 * - SHOW SHARDS / NODES: one row per node with its address, pool columns
 *   NULL without stats and the given numbers with them.
 * - SHOW TABLES: kind, key, function, targets (node list, node:table for
 *   table-suffix, copies of reference tables, the pinned node),
 *   co-location through a shared function and through an embedded source.
 * - SHOW FUNCTIONS: targets and the per-kind details text, including the
 *   live size of a directory cache.
 * - SHOW ROUTE: a keyed query lands on the node sw_shardfn_dispatch gives,
 *   for many keys; keyless reads fan out to three rows; a table-suffix
 *   query shows the rewritten text; a statement with no table says which
 *   default would serve it; IN picks the database; router errors come back
 *   with the router's SQLSTATE; a directory miss says LOOKUP.
 * - SHOW CACHE equals sw_router_cache_stats and moves with routing.
 * - SHOW CLIENTS, VERSION, HELP; RELOAD returns SW_ADMIN_RELOAD, and on a
 *   read-only (stats user's) console 42501 while every SHOW still answers.
 * - Keyword matching: case, blanks, trailing semicolons; near misses
 *   (extra words, glued words) are 42601 with the command list as hint;
 *   blank text is EmptyQueryResponse; without a router only the commands
 *   that need none answer.
 *
 * Query texts are copied into exactly-sized heap blocks without a NUL so
 * the sanitizer build catches any read past the given length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sw/admin.h"
#include "sw/conf.h"
#include "sw/proto.h"
#include "sw/route.h"
#include "sw/shard.h"

static const char config_yaml[] =
    "nodes:\n"
    "  - {name: shard1, host: 10.0.0.1, port: 5433, database: shop1, user: postgres}\n"
    "  - {name: shard2, host: 10.0.0.2, port: 5434, database: shop2, user: postgres}\n"
    "  - {name: shard3, host: 10.0.0.3, database: shop3, user: admin}\n"
    "users:\n"
    "  - {name: app, auth: trust}\n"
    "functions:\n"
    "  - name: customer_hash\n"
    "    kind: hash\n"
    "    type: integer\n"
    "    buckets: 1024\n"
    "    nodes: [shard1, shard2, shard3]\n"
    "  - name: customer_hash_explicit\n"
    "    kind: hash\n"
    "    buckets: 8\n"
    "    assign:\n"
    "      - {node: shard1, buckets: \"0-3\"}\n"
    "      - {node: shard2, buckets: \"4-6\"}\n"
    "      - {node: shard3, buckets: \"7\"}\n"
    "  - name: price_bands\n"
    "    kind: range\n"
    "    type: numeric\n"
    "    ranges:\n"
    "      - {from: 10, to: 101, table: products_10_to_100}\n"
    "      - {from: 101, to: 251, table: products_101_to_250}\n"
    "      - {from: 251, to: 501, table: products_251_to_500}\n"
    "  - name: order_date_range\n"
    "    kind: range\n"
    "    type: date\n"
    "    ranges:\n"
    "      - {to: 2024-01-01, node: shard1}\n"
    "      - {from: 2024-01-01, to: 2025-01-01, node: shard2}\n"
    "      - {from: 2025-01-01, node: shard3}\n"
    "  - name: region_list\n"
    "    kind: list\n"
    "    type: text\n"
    "    lists:\n"
    "      - {node: shard1, values: [APJ]}\n"
    "      - {node: shard2, values: [EMEA, NA]}\n"
    "      - {node: shard3, values: [LATAM]}\n"
    "    default: shard1\n"
    "  - name: customer_ring\n"
    "    kind: ring\n"
    "    type: integer\n"
    "    vnodes: 160\n"
    "    nodes:\n"
    "      - shard1\n"
    "      - {node: shard2, weight: 2}\n"
    "  - name: customer_directory\n"
    "    kind: directory\n"
    "    type: integer\n"
    "    node: shard1\n"
    "    query: SELECT node FROM shard_directory WHERE customer_id = $1\n"
    "    cache_ttl: 60s\n"
    "    cache_size: 100000\n"
    "  - name: order_ids\n"
    "    kind: embedded\n"
    "    source: customer_hash\n"
    "    seq_bits: 12\n"
    "    epoch: 2024-01-01\n"
    "databases:\n"
    "  - name: shop\n"
    "    default_node: shard1\n"
    "    tables:\n"
    "      - name: customer\n"
    "        key: customer_id\n"
    "        function: customer_hash\n"
    "      - name: orders\n"
    "        key: customer_id\n"
    "        function: customer_hash\n"
    "        id: {column: order_id, function: order_ids}\n"
    "      - name: order_items\n"
    "        key: order_id\n"
    "        function: order_ids\n"
    "      - name: products\n"
    "        key: product_price\n"
    "        function: price_bands\n"
    "        node: shard1\n"
    "      - name: accounts\n"
    "        key: account_id\n"
    "        function: customer_directory\n"
    "      - name: payments\n"
    "        reference: true\n"
    "      - name: shipment_details\n"
    "        node: shard2\n"
    "  - name: crm\n"
    "    default_node: shard2\n"
    "    tables:\n"
    "      - name: sales.invoices\n"
    "        node: shard3\n"
    "      - name: countries\n"
    "        reference: true\n"
    "        nodes: [shard1, shard3]\n";

typedef struct fixture {
    sw_conf *conf;
    sw_router *router;
    sw_admin_env env;
} fixture;

/* ------------------------------------------------------------ reply reader */

#define MAX_COLS 16
#define MAX_ROWS 64

/* One decoded answer. */
typedef struct reply {
    sw_admin_action action;
    char kind;                       /* 'T' result set, 'E' error, 'C' bare tag, 'I' empty */
    int ncols;
    char *cols[MAX_COLS];
    int nrows;
    char *cells[MAX_ROWS][MAX_COLS]; /* NULL = SQL NULL */
    char *tag;
    char *code, *message, *detail, *hint;
} reply;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static void reply_free(reply *r)
{
    for (int c = 0; c < r->ncols; c++) free(r->cols[c]);
    for (int i = 0; i < r->nrows; i++)
        for (int c = 0; c < r->ncols; c++) free(r->cells[i][c]);
    free(r->tag);
    free(r->code);
    free(r->message);
    free(r->detail);
    free(r->hint);
    memset(r, 0, sizeof *r);
}

static void decode_rowdesc(reply *r, const uint8_t *body, size_t len)
{
    sw_rd rd;
    sw_rd_init(&rd, body, len);
    int n = sw_rd_i16(&rd);
    assert_true(n > 0 && n <= MAX_COLS);
    for (int c = 0; c < n; c++) {
        const char *name = sw_rd_cstr(&rd, NULL);
        assert_int_equal(sw_rd_i32(&rd), 0);  /* table OID */
        assert_int_equal(sw_rd_i16(&rd), 0);  /* attribute number */
        assert_int_equal(sw_rd_i32(&rd), 25); /* text */
        assert_int_equal(sw_rd_i16(&rd), -1);
        assert_int_equal(sw_rd_i32(&rd), -1);
        assert_int_equal(sw_rd_i16(&rd), 0);  /* text format */
        assert_false(rd.err);
        r->cols[c] = strdup(name);
    }
    r->ncols = n;
    assert_false(rd.err);
    assert_int_equal(sw_rd_left(&rd), 0);
}

static void decode_datarow(reply *r, const uint8_t *body, size_t len)
{
    sw_rd rd;
    sw_rd_init(&rd, body, len);
    assert_int_equal(sw_rd_i16(&rd), r->ncols);
    assert_true(r->nrows < MAX_ROWS);
    for (int c = 0; c < r->ncols; c++) {
        int32_t n = sw_rd_i32(&rd);
        if (n == -1) {
            r->cells[r->nrows][c] = NULL;
            continue;
        }
        assert_true(n >= 0);
        const uint8_t *p = sw_rd_bytes(&rd, (size_t)n);
        assert_false(rd.err);
        assert_null(memchr(p, 0, (size_t)n));
        r->cells[r->nrows][c] = strndup((const char *)p, (size_t)n);
    }
    assert_false(rd.err);
    assert_int_equal(sw_rd_left(&rd), 0);
    r->nrows++;
}

/* Decode w strictly: T D* C | E | C | I, and nothing else. */
static void decode(const sw_wbuf *w, reply *r)
{
    const uint8_t *p = w->data;
    size_t left = w->len;
    int nmsgs = 0;
    bool done = false;
    assert_true(left > 0);
    while (left > 0) {
        sw_msg_hdr h;
        assert_int_equal(sw_msg_peek(p, left, UINT32_MAX, &h), 1);
        assert_true(h.total <= left);
        assert_false(done);  /* nothing after C, E or I */
        const uint8_t *body = p + SW_HDR_LEN;
        size_t blen = h.total - SW_HDR_LEN;
        switch (h.type) {
        case SW_BE_ROW_DESC:
            assert_int_equal(nmsgs, 0);
            r->kind = 'T';
            decode_rowdesc(r, body, blen);
            break;
        case SW_BE_DATA_ROW:
            assert_int_equal(r->kind, 'T');
            decode_datarow(r, body, blen);
            break;
        case SW_BE_COMMAND_COMPLETE: {
            const char *tag = NULL;
            assert_true(sw_command_complete_decode(body, blen, &tag) >= 0);
            r->tag = strdup(tag);
            if (nmsgs == 0) r->kind = 'C';
            done = true;
            break;
        }
        case SW_BE_ERROR: {
            assert_int_equal(nmsgs, 0);
            sw_error_fields f;
            memset(&f, 0, sizeof f);
            assert_true(sw_error_decode(body, blen, &f) >= 0);
            assert_string_equal(f.severity, "ERROR");
            r->kind = 'E';
            r->code = dup_or_null(f.code);
            r->message = dup_or_null(f.message);
            r->detail = dup_or_null(f.detail);
            r->hint = dup_or_null(f.hint);
            done = true;
            break;
        }
        case SW_BE_EMPTY_QUERY:
            assert_int_equal(nmsgs, 0);
            assert_int_equal(blen, 0);
            r->kind = 'I';
            done = true;
            break;
        default:
            fail_msg("unexpected message type '%c'", h.type);
        }
        p += h.total;
        left -= h.total;
        nmsgs++;
    }
    assert_true(done);
}

/* Run one console query (copied into an exact-size block, no NUL). */
static void run_env(const sw_admin_env *env, const char *sql, reply *r)
{
    memset(r, 0, sizeof *r);
    size_t len = strlen(sql);
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, sql, len);
    sw_wbuf w;
    sw_wbuf_init(&w);
    r->action = sw_admin_query(env, copy, len, &w);
    assert_false(w.oom);
    decode(&w, r);
    sw_wbuf_free(&w);
    free(copy);
}

static void run(fixture *fx, const char *sql, reply *r) { run_env(&fx->env, sql, r); }

static int col_index(const reply *r, const char *name)
{
    for (int c = 0; c < r->ncols; c++)
        if (strcmp(r->cols[c], name) == 0) return c;
    fail_msg("no column %s", name);
    return -1;
}

static const char *cell(const reply *r, int row, const char *col)
{
    assert_true(row >= 0 && row < r->nrows);
    return r->cells[row][col_index(r, col)];
}

/* The row whose column col equals val. */
static int row_where(const reply *r, const char *col, const char *val)
{
    int c = col_index(r, col);
    for (int i = 0; i < r->nrows; i++)
        if (r->cells[i][c] && strcmp(r->cells[i][c], val) == 0) return i;
    fail_msg("no row with %s = %s", col, val);
    return -1;
}

static void assert_cols(const reply *r, const char *const *names, int n)
{
    assert_int_equal(r->kind, 'T');
    assert_string_equal(r->tag, "SHOW");
    assert_int_equal(r->ncols, n);
    for (int c = 0; c < n; c++) assert_string_equal(r->cols[c], names[c]);
}

static void assert_error(const reply *r, const char *code)
{
    assert_int_equal(r->kind, 'E');
    assert_int_equal(r->action, SW_ADMIN_NONE);
    assert_string_equal(r->code, code);
}

/* ------------------------------------------------------------ fixture */

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char err[4096];
    if (sw_conf_load_string("admin.yaml", config_yaml, strlen(config_yaml), &fx->conf, err,
                            sizeof err) != 0)
        fail_msg("config does not load:\n%s", err);
    fx->router = sw_router_new(fx->conf, err, sizeof err);
    if (!fx->router) fail_msg("router: %s", err);
    fx->env.router = fx->router;
    fx->env.n_clients = 7;
    fx->env.now_ms = 1735689600000ULL; /* 2025-01-01 */
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    sw_router_free(fx->router);
    sw_conf_free(fx->conf);
    free(fx);
    return 0;
}

/* ------------------------------------------------------------ SHOW SHARDS */

static void test_shards_without_stats(void **state)
{
    fixture *fx = *state;
    static const char *const cols[] = {"name", "host", "port", "database", "user", "up",
                                       "servers_active", "servers_idle", "servers_connecting",
                                       "clients_waiting", "last_error"};
    reply r;
    run(fx, "SHOW SHARDS", &r);
    assert_cols(&r, cols, 11);
    assert_int_equal(r.action, SW_ADMIN_NONE);
    assert_int_equal(r.nrows, 3);
    assert_string_equal(cell(&r, 0, "name"), "shard1");
    assert_string_equal(cell(&r, 0, "host"), "10.0.0.1");
    assert_string_equal(cell(&r, 0, "port"), "5433");
    assert_string_equal(cell(&r, 0, "database"), "shop1");
    assert_string_equal(cell(&r, 1, "name"), "shard2");
    assert_string_equal(cell(&r, 1, "port"), "5434");
    assert_string_equal(cell(&r, 2, "name"), "shard3");
    assert_string_equal(cell(&r, 2, "port"), "5432"); /* the default */
    assert_string_equal(cell(&r, 2, "user"), "admin");
    /* No stats: unknown, not zero. */
    for (int i = 0; i < 3; i++) {
        assert_null(cell(&r, i, "up"));
        assert_null(cell(&r, i, "servers_active"));
        assert_null(cell(&r, i, "last_error"));
    }
    reply_free(&r);
}

static void test_shards_with_stats(void **state)
{
    fixture *fx = *state;
    sw_admin_node_stats st[3] = {
        {.servers_active = 2, .servers_idle = 5, .servers_connecting = 1, .clients_waiting = 0, .up = true},
        {.servers_active = 0, .servers_idle = 0, .servers_connecting = 0, .clients_waiting = 4, .up = false,
         .last_error = "connection refused"},
        {.servers_active = 8, .servers_idle = 0, .servers_connecting = 0, .clients_waiting = 3, .up = true},
    };
    sw_admin_env env = fx->env;
    env.nodes = st;
    reply r;
    /* The alias, lower case, blanks and semicolons. */
    run_env(&env, "  show\n\tnodes ; ;", &r);
    assert_int_equal(r.nrows, 3);
    assert_string_equal(cell(&r, 0, "up"), "true");
    assert_string_equal(cell(&r, 0, "servers_active"), "2");
    assert_string_equal(cell(&r, 0, "servers_idle"), "5");
    assert_string_equal(cell(&r, 0, "servers_connecting"), "1");
    assert_string_equal(cell(&r, 0, "clients_waiting"), "0");
    assert_null(cell(&r, 0, "last_error"));
    assert_string_equal(cell(&r, 1, "up"), "false");
    assert_string_equal(cell(&r, 1, "clients_waiting"), "4");
    assert_string_equal(cell(&r, 1, "last_error"), "connection refused");
    assert_string_equal(cell(&r, 2, "servers_active"), "8");
    assert_string_equal(cell(&r, 2, "clients_waiting"), "3");
    reply_free(&r);
}

/* ------------------------------------------------------------ SHOW TABLES */

static void test_tables(void **state)
{
    fixture *fx = *state;
    static const char *const cols[] = {"database", "table", "kind", "key", "function",
                                       "function_kind", "targets", "colocated_with",
                                       "id_column", "id_function"};
    reply r;
    run(fx, "Show Tables;", &r);
    assert_cols(&r, cols, 10);
    assert_int_equal(r.nrows, 9);

    int i = row_where(&r, "table", "customer");
    assert_string_equal(cell(&r, i, "database"), "shop");
    assert_string_equal(cell(&r, i, "kind"), "sharded");
    assert_string_equal(cell(&r, i, "key"), "customer_id");
    assert_string_equal(cell(&r, i, "function"), "customer_hash");
    assert_string_equal(cell(&r, i, "function_kind"), "hash");
    assert_string_equal(cell(&r, i, "targets"), "shard1,shard2,shard3");
    /* Same function, and an embedded function whose source it is. */
    assert_string_equal(cell(&r, i, "colocated_with"), "orders,order_items");
    assert_null(cell(&r, i, "id_column"));

    i = row_where(&r, "table", "orders");
    assert_string_equal(cell(&r, i, "id_column"), "order_id");
    assert_string_equal(cell(&r, i, "id_function"), "order_ids");
    assert_string_equal(cell(&r, i, "colocated_with"), "customer,order_items");

    i = row_where(&r, "table", "order_items");
    assert_string_equal(cell(&r, i, "function"), "order_ids");
    assert_string_equal(cell(&r, i, "function_kind"), "embedded");
    assert_string_equal(cell(&r, i, "targets"), "shard1,shard2,shard3");
    assert_string_equal(cell(&r, i, "colocated_with"), "customer,orders");

    i = row_where(&r, "table", "products");
    assert_string_equal(cell(&r, i, "function_kind"), "range");
    assert_string_equal(cell(&r, i, "targets"),
                        "shard1:products_10_to_100,shard1:products_101_to_250,"
                        "shard1:products_251_to_500");
    assert_null(cell(&r, i, "colocated_with"));

    i = row_where(&r, "table", "accounts");
    assert_string_equal(cell(&r, i, "function_kind"), "directory");
    /* Any node the mapping table names. */
    assert_string_equal(cell(&r, i, "targets"), "shard1,shard2,shard3");

    i = row_where(&r, "table", "payments");
    assert_string_equal(cell(&r, i, "kind"), "reference");
    assert_null(cell(&r, i, "key"));
    assert_null(cell(&r, i, "function"));
    assert_string_equal(cell(&r, i, "targets"), "shard1,shard2,shard3");

    i = row_where(&r, "table", "shipment_details");
    assert_string_equal(cell(&r, i, "kind"), "pinned");
    assert_string_equal(cell(&r, i, "targets"), "shard2");

    i = row_where(&r, "table", "sales.invoices");
    assert_string_equal(cell(&r, i, "database"), "crm");
    assert_string_equal(cell(&r, i, "kind"), "pinned");
    assert_string_equal(cell(&r, i, "targets"), "shard3");

    i = row_where(&r, "table", "countries");
    assert_string_equal(cell(&r, i, "database"), "crm");
    assert_string_equal(cell(&r, i, "targets"), "shard1,shard3");
    reply_free(&r);
}

/* ------------------------------------------------------------ SHOW FUNCTIONS */

static void test_functions(void **state)
{
    fixture *fx = *state;
    static const char *const cols[] = {"name", "kind", "type", "targets", "tables", "details"};
    reply r;
    run(fx, "SHOW FUNCTIONS", &r);
    assert_cols(&r, cols, 6);
    assert_int_equal(r.nrows, 8);

    int i = row_where(&r, "name", "customer_hash");
    assert_string_equal(cell(&r, i, "kind"), "hash");
    assert_string_equal(cell(&r, i, "type"), "integer");
    assert_string_equal(cell(&r, i, "targets"), "shard1,shard2,shard3");
    assert_string_equal(cell(&r, i, "tables"), "shop.customer,shop.orders");
    /* Even spread: bucket b -> nodes[b * 3 / 1024]. */
    assert_string_equal(cell(&r, i, "details"), "buckets=1024 (shard1:342, shard2:341, shard3:341)");

    i = row_where(&r, "name", "customer_hash_explicit");
    assert_string_equal(cell(&r, i, "details"), "buckets=8 (shard1:4, shard2:3, shard3:1)");
    assert_null(cell(&r, i, "tables"));

    i = row_where(&r, "name", "price_bands");
    assert_string_equal(cell(&r, i, "type"), "numeric");
    assert_string_equal(cell(&r, i, "targets"),
                        "products_10_to_100,products_101_to_250,products_251_to_500");
    assert_string_equal(cell(&r, i, "details"),
                        "[10,101)->products_10_to_100; [101,251)->products_101_to_250; "
                        "[251,501)->products_251_to_500");

    i = row_where(&r, "name", "order_date_range");
    assert_string_equal(cell(&r, i, "type"), "date");
    assert_string_equal(cell(&r, i, "details"),
                        "(-inf,2024-01-01)->shard1; [2024-01-01,2025-01-01)->shard2; "
                        "[2025-01-01,+inf)->shard3");

    i = row_where(&r, "name", "region_list");
    assert_string_equal(cell(&r, i, "type"), "text");
    assert_string_equal(cell(&r, i, "details"),
                        "{APJ}->shard1; {EMEA,NA}->shard2; {LATAM}->shard3; default->shard1");

    i = row_where(&r, "name", "customer_ring");
    assert_string_equal(cell(&r, i, "targets"), "shard1,shard2");
    assert_string_equal(cell(&r, i, "details"), "vnodes=160 weights=shard1:1,shard2:2");

    i = row_where(&r, "name", "customer_directory");
    assert_string_equal(cell(&r, i, "tables"), "shop.accounts");
    assert_string_equal(cell(&r, i, "details"),
                        "node=shard1 ttl=60s cache_size=100000 cached=0 "
                        "query=SELECT node FROM shard_directory WHERE customer_id = $1");

    i = row_where(&r, "name", "order_ids");
    assert_string_equal(cell(&r, i, "kind"), "embedded");
    assert_string_equal(cell(&r, i, "targets"), "shard1,shard2,shard3");
    /* Used as a key function and as an ID generator. */
    assert_string_equal(cell(&r, i, "tables"), "shop.orders,shop.order_items");
    assert_string_equal(cell(&r, i, "details"),
                        "source=customer_hash slot_bits=10 seq_bits=12 epoch=2024-01-01");
    reply_free(&r);
}

/* The directory column reads the live cache, not the file. */
static void test_functions_directory_cache(void **state)
{
    fixture *fx = *state;
    int fi = sw_conf_function_index(fx->conf, "customer_directory");
    assert_true(fi >= 0);
    sw_shardfn *fn = sw_router_function_mut(fx->router, fi);
    sw_value v;
    char buf[SW_VALUE_BUF];
    assert_int_equal(sw_value_from_text(SW_KEY_INT, "123456", 6, &v, buf, sizeof buf), 0);
    assert_true(sw_shardfn_directory_store(fn, &v, "shard1", fx->env.now_ms) >= 0);
    reply r;
    run(fx, "SHOW FUNCTIONS", &r);
    int i = row_where(&r, "name", "customer_directory");
    assert_non_null(strstr(cell(&r, i, "details"), " cached=1 "));
    reply_free(&r);
}

/* ------------------------------------------------------------ SHOW ROUTE */

static const char *const route_cols[] = {"node", "sql", "kind", "reason"};

/* The node customer_hash gives key (text form). */
static const char *expected_node(fixture *fx, const char *key)
{
    int fi = sw_conf_function_index(fx->conf, "customer_hash");
    const sw_shardfn *fn = sw_router_function(fx->router, fi);
    sw_value v;
    char buf[SW_VALUE_BUF];
    assert_int_equal(sw_value_from_text(SW_KEY_INT, key, strlen(key), &v, buf, sizeof buf), 0);
    int t = sw_shardfn_dispatch(fn, &v, 0, NULL, 0);
    assert_true(t >= 0);
    int node = sw_shardfn_target_node(fn, t);
    assert_true(node >= 0 && node < fx->conf->n_nodes);
    return fx->conf->nodes[node].name;
}

static void test_route_keyed(void **state)
{
    fixture *fx = *state;
    bool seen[3] = {false, false, false};
    for (int k = 1; k <= 40; k++) {
        char key[16], stmt[128], cmd[160];
        snprintf(key, sizeof key, "%d", k * 7919);
        snprintf(stmt, sizeof stmt, "SELECT name FROM customer WHERE customer_id = %s", key);
        snprintf(cmd, sizeof cmd, "SHOW ROUTE %s;", stmt);
        reply r;
        run(fx, cmd, &r);
        assert_cols(&r, route_cols, 4);
        assert_int_equal(r.nrows, 1);
        const char *node = expected_node(fx, key);
        assert_string_equal(cell(&r, 0, "node"), node);
        assert_string_equal(cell(&r, 0, "sql"), stmt); /* unchanged text */
        assert_string_equal(cell(&r, 0, "kind"), "SELECT");
        assert_non_null(cell(&r, 0, "reason"));
        seen[node[5] - '1'] = true;
        reply_free(&r);
    }
    /* The keys cover every node, so the rows are not all alike by chance. */
    assert_true(seen[0] && seen[1] && seen[2]);
}

static void test_route_keyless(void **state)
{
    fixture *fx = *state;
    reply r;
    run(fx, "show route select name from customer where name like 'A%'", &r);
    assert_cols(&r, route_cols, 4);
    assert_int_equal(r.nrows, 3);
    assert_string_equal(cell(&r, 0, "node"), "shard1");
    assert_string_equal(cell(&r, 1, "node"), "shard2");
    assert_string_equal(cell(&r, 2, "node"), "shard3");
    for (int i = 0; i < 3; i++) {
        assert_string_equal(cell(&r, i, "sql"), "select name from customer where name like 'A%'");
        assert_string_equal(cell(&r, i, "kind"), "SELECT");
    }
    reply_free(&r);
}

static void test_route_suffix(void **state)
{
    fixture *fx = *state;
    reply r;
    run(fx, "SHOW ROUTE SELECT * FROM products WHERE product_price = 150", &r);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(cell(&r, 0, "node"), "shard1");
    const char *sql = cell(&r, 0, "sql");
    assert_non_null(strstr(sql, "products_101_to_250"));
    assert_null(strstr(sql, "products_10_to_100"));
    reply_free(&r);
}

static void test_route_no_table(void **state)
{
    fixture *fx = *state;
    reply r;
    run(fx, "SHOW ROUTE SELECT 1", &r);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(cell(&r, 0, "node"), "(any: default shard1)");
    assert_string_equal(cell(&r, 0, "sql"), "SELECT 1");
    reply_free(&r);

    /* IN picks the database, here one with another default. */
    run(fx, "SHOW ROUTE IN crm SELECT 1", &r);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(cell(&r, 0, "node"), "(any: default shard2)");
    assert_string_equal(cell(&r, 0, "sql"), "SELECT 1");
    reply_free(&r);

    run(fx, "SHOW ROUTE IN \"crm\" SELECT * FROM sales.invoices", &r);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(cell(&r, 0, "node"), "shard3");
    reply_free(&r);

    /* A statement starting with IN... is not a database clause. */
    run(fx, "SHOW ROUTE INSERT INTO shipment_details (id) VALUES (1)", &r);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(cell(&r, 0, "node"), "shard2");
    assert_string_equal(cell(&r, 0, "kind"), "INSERT");
    reply_free(&r);
}

static void test_route_errors(void **state)
{
    fixture *fx = *state;
    reply r;
    /* The router's own refusal, with its SQLSTATE. */
    run(fx, "SHOW ROUTE INSERT INTO customer VALUES (1, 'x')", &r);
    assert_error(&r, "0A000");
    assert_non_null(r.message);
    assert_true(strlen(r.message) > 0);
    reply_free(&r);

    run(fx, "SHOW ROUTE SELECT row_number() OVER () FROM customer", &r);
    assert_error(&r, "0A000");
    /* The detail is the routing chain, not the message again. */
    assert_true(!r.detail || !strstr(r.detail, r.message));
    reply_free(&r);

    /* A write on every shard whose subquery would see one shard's rows:
     * refused as the proxy refuses it; the same write without it is not. */
    run(fx, "SHOW ROUTE UPDATE customer SET name = (SELECT max(name) FROM customer)", &r);
    assert_error(&r, "0A000");
    assert_non_null(strstr(r.message, "aggregate in a subquery"));
    reply_free(&r);
    run(fx, "SHOW ROUTE UPDATE customer SET name = 'x'", &r);
    assert_int_equal(r.nrows, 3);
    assert_string_equal(cell(&r, 0, "kind"), "UPDATE");
    reply_free(&r);

    run(fx, "SHOW ROUTE SELEKT 1", &r);
    assert_error(&r, "42601");
    assert_true(!r.detail || !strstr(r.detail, r.message));
    reply_free(&r);

    run(fx, "SHOW ROUTE IN nosuchdb SELECT 1", &r);
    assert_error(&r, "3D000");
    assert_string_equal(r.message, "database \"nosuchdb\" does not exist");
    assert_string_equal(r.hint, "known databases: shop, crm");
    reply_free(&r);

    run(fx, "SHOW ROUTE", &r);
    assert_error(&r, "42601");
    reply_free(&r);

    run(fx, "SHOW ROUTE IN crm", &r);
    assert_error(&r, "42601");
    reply_free(&r);
}

static void test_route_lookup(void **state)
{
    fixture *fx = *state;
    reply r;
    run(fx, "SHOW ROUTE SELECT * FROM accounts WHERE account_id = 77", &r);
    assert_int_equal(r.nrows, 1);
    /* The directory's node answers first. */
    assert_string_equal(cell(&r, 0, "node"), "(lookup on shard1)");
    assert_string_equal(cell(&r, 0, "kind"), "SELECT");
    assert_true(strncmp(cell(&r, 0, "reason"), "LOOKUP: ", 8) == 0);
    reply_free(&r);

    /* Once the directory answered, the same statement has a node. */
    int fi = sw_conf_function_index(fx->conf, "customer_directory");
    sw_value v;
    char buf[SW_VALUE_BUF];
    assert_int_equal(sw_value_from_text(SW_KEY_INT, "77", 2, &v, buf, sizeof buf), 0);
    assert_true(sw_shardfn_directory_store(sw_router_function_mut(fx->router, fi), &v, "shard1",
                                           fx->env.now_ms) >= 0);
    run(fx, "SHOW ROUTE SELECT * FROM accounts WHERE account_id = 77", &r);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(cell(&r, 0, "node"), "shard1");
    reply_free(&r);
}

/* ------------------------------------------------------------ SHOW CACHE */

static void cache_row(fixture *fx, uint64_t *hits, uint64_t *misses)
{
    static const char *const cols[] = {"hits", "misses", "entries"};
    uint64_t h, m;
    size_t e;
    reply r;
    run(fx, "SHOW CACHE", &r);
    sw_router_cache_stats(fx->router, &h, &m, &e);
    assert_cols(&r, cols, 3);
    assert_int_equal(r.nrows, 1);
    char want[32];
    snprintf(want, sizeof want, "%llu", (unsigned long long)h);
    assert_string_equal(cell(&r, 0, "hits"), want);
    snprintf(want, sizeof want, "%llu", (unsigned long long)m);
    assert_string_equal(cell(&r, 0, "misses"), want);
    snprintf(want, sizeof want, "%zu", e);
    assert_string_equal(cell(&r, 0, "entries"), want);
    *hits = h;
    *misses = m;
    reply_free(&r);
}

/* SHOW MERGES reports the proxy's counters as given; zeros without them. */
static void test_merges(void **state)
{
    fixture *fx = *state;
    static const char *const cols[] = {"merges", "merge_rows", "merge_failed", "peak_bytes", "copies", "copy_rows"};
    reply r;
    run(fx, "SHOW MERGES", &r);
    assert_cols(&r, cols, 6);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(cell(&r, 0, "merges"), "0");
    reply_free(&r);
    sw_admin_merge_stats ms = {.merges = 3, .merge_rows = 1200, .merge_failed = 1, .peak_bytes = 65536,
                               .copies = 2, .copy_rows = 3000};
    fx->env.merges = &ms;
    run(fx, "show merges;", &r);
    assert_string_equal(cell(&r, 0, "merges"), "3");
    assert_string_equal(cell(&r, 0, "merge_rows"), "1200");
    assert_string_equal(cell(&r, 0, "merge_failed"), "1");
    assert_string_equal(cell(&r, 0, "peak_bytes"), "65536");
    assert_string_equal(cell(&r, 0, "copies"), "2");
    assert_string_equal(cell(&r, 0, "copy_rows"), "3000");
    reply_free(&r);
    fx->env.merges = NULL;
}

static void test_cache(void **state)
{
    fixture *fx = *state;
    uint64_t h0, m0, h1, m1;
    cache_row(fx, &h0, &m0);
    reply r;
    /* A shape never seen, then the same shape with another constant. */
    run(fx, "SHOW ROUTE SELECT customer_id FROM orders WHERE customer_id = 5 AND 1 = 1", &r);
    reply_free(&r);
    run(fx, "SHOW ROUTE SELECT customer_id FROM orders WHERE customer_id = 6 AND 1 = 1", &r);
    reply_free(&r);
    cache_row(fx, &h1, &m1);
    assert_true(m1 >= m0 + 1);
    assert_true(h1 >= h0 + 1);
}

/* ------------------------------------------------------------ small commands */

static void test_clients_version_help(void **state)
{
    fixture *fx = *state;
    reply r;
    run(fx, "SHOW CLIENTS", &r);
    static const char *const ccols[] = {"clients"};
    assert_cols(&r, ccols, 1);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(cell(&r, 0, "clients"), "7");
    reply_free(&r);

    run(fx, "show version", &r);
    static const char *const vcols[] = {"version"};
    assert_cols(&r, vcols, 1);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(cell(&r, 0, "version"), "shardwire " SW_VERSION);
    reply_free(&r);

    run(fx, "SHOW HELP;", &r);
    static const char *const hcols[] = {"command", "description"};
    assert_cols(&r, hcols, 2);
    assert_int_equal(r.nrows, 12);
    row_where(&r, "command", "SHOW SHARDS");
    row_where(&r, "command", "SHOW TRANSACTIONS");
    row_where(&r, "command", "SHOW ROUTE [IN database] statement");
    row_where(&r, "command", "SHOW MERGES");
    row_where(&r, "command", "RELOAD");
    reply_free(&r);
}

static void test_reload(void **state)
{
    fixture *fx = *state;
    reply r;
    run(fx, "RELOAD", &r);
    assert_int_equal(r.kind, 'C');
    assert_string_equal(r.tag, "RELOAD");
    assert_int_equal(r.action, SW_ADMIN_RELOAD);
    reply_free(&r);

    run(fx, " reload ;", &r);
    assert_int_equal(r.action, SW_ADMIN_RELOAD);
    reply_free(&r);

    run(fx, "RELOAD now", &r);
    assert_error(&r, "42601");
    reply_free(&r);
}

/* SHOW TRANSACTIONS lists what it is given; RESOLVE parses its ID and
 * decision into env->resolve and asks for the action, and refuses
 * malformed input and stats users. */
static void test_transactions_resolve(void **state)
{
    fixture *fx = *state;
    sw_admin_env env = fx->env;
    sw_admin_txn_row rows[2] = {
        {.gid = "sw:a:node_a:19:7", .node = "", .state = "committing (preparing)", .age_ms = 12},
        {.gid = "sw:a:node_a:19:3", .node = "node_b", .state = "prepared, in flight", .age_ms = 4000},
    };
    sw_admin_resolve res;
    memset(&res, 0, sizeof res);
    env.txns = rows;
    env.n_txns = 2;
    env.resolve = &res;
    reply r;
    run_env(&env, "show transactions", &r);
    static const char *const cols[] = {"gid", "node", "state", "age_ms"};
    assert_cols(&r, cols, 4);
    assert_int_equal(r.nrows, 2);
    assert_string_equal(cell(&r, row_where(&r, "gid", "sw:a:node_a:19:3"), "node"), "node_b");
    assert_string_equal(cell(&r, row_where(&r, "gid", "sw:a:node_a:19:3"), "age_ms"), "4000");
    reply_free(&r);

    run_env(&env, "RESOLVE 'sw:a:node_a:19:3' rollback;", &r);
    assert_int_equal(r.action, SW_ADMIN_RESOLVE);
    assert_string_equal(r.tag, "RESOLVE");
    assert_string_equal(res.gid, "sw:a:node_a:19:3");
    assert_false(res.commit);
    reply_free(&r);
    run_env(&env, "resolve 'sw:x:y:1:2' COMMIT", &r);
    assert_int_equal(r.action, SW_ADMIN_RESOLVE);
    assert_true(res.commit);
    reply_free(&r);

    static const char *const bad[] = {"RESOLVE", "RESOLVE sw:x:y:1:2 COMMIT", "RESOLVE 'x' COMMIT",
                                      "RESOLVE 'sw:x:y:1:2'", "RESOLVE 'sw:x:y:1:2' MAYBE", "RESOLVE 'sw:x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_env(&env, bad[i], &r);
        assert_error(&r, "42601");
        assert_int_equal(r.action, SW_ADMIN_NONE);
        reply_free(&r);
    }
    env.read_only = true;
    run_env(&env, "RESOLVE 'sw:x:y:1:2' COMMIT", &r);
    assert_error(&r, "42501");
    assert_int_equal(r.action, SW_ADMIN_NONE);
    reply_free(&r);
}

/* A stats user's console (read_only): every SHOW answers as for an admin,
 * RELOAD is refused with 42501 and asks for no action. */
static void test_read_only(void **state)
{
    fixture *fx = *state;
    sw_admin_env env = fx->env;
    env.read_only = true;
    reply r;
    run_env(&env, "RELOAD", &r);
    assert_error(&r, "42501");
    assert_string_equal(r.message, "permission denied to run RELOAD");
    assert_non_null(strstr(r.hint, "admin_users"));
    reply_free(&r);
    run_env(&env, " reload ;", &r);
    assert_error(&r, "42501");
    reply_free(&r);

    static const char *const shows[] = {"SHOW SHARDS", "SHOW TABLES", "SHOW FUNCTIONS", "SHOW CACHE",
                                        "SHOW MERGES", "SHOW CLIENTS", "SHOW VERSION", "SHOW HELP",
                                        "SHOW ROUTE SELECT * FROM customer WHERE customer_id = 1"};
    for (size_t i = 0; i < sizeof shows / sizeof shows[0]; i++) {
        reply a, b;
        run_env(&env, shows[i], &a);
        run(fx, shows[i], &b);
        assert_int_equal(a.kind, 'T');
        assert_int_equal(a.action, SW_ADMIN_NONE);
        assert_int_equal(a.nrows, b.nrows);
        assert_int_equal(a.ncols, b.ncols);
        reply_free(&a);
        reply_free(&b);
    }
    /* Unknown commands stay 42601, not a permission error. */
    run_env(&env, "RELOAD now", &r);
    assert_error(&r, "42601");
    reply_free(&r);
}

static void test_unknown(void **state)
{
    fixture *fx = *state;
    static const char *const bad[] = {
        "SELECT 1", "SHOW", "SHOW SHARDS extra", "SHOW SHARDSX", "SHOWSHARDS",
        "SHOW POOLS", "RELOADX", "SHOW; SHOW SHARDS", "SHOW ROUTEX SELECT 1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reply r;
        run(fx, bad[i], &r);
        assert_error(&r, "42601");
        assert_non_null(strstr(r.message, "unrecognized admin command"));
        assert_non_null(r.hint);
        assert_non_null(strstr(r.hint, "SHOW SHARDS"));
        assert_non_null(strstr(r.hint, "SHOW ROUTE [IN database] statement"));
        assert_non_null(strstr(r.hint, "RELOAD"));
        reply_free(&r);
    }
    /* Long input is quoted shortened. */
    char longq[300];
    memset(longq, 'x', sizeof longq - 1);
    longq[sizeof longq - 1] = '\0';
    reply r;
    run(fx, longq, &r);
    assert_error(&r, "42601");
    assert_true(strlen(r.message) < 120);
    reply_free(&r);
}

static void test_empty(void **state)
{
    fixture *fx = *state;
    static const char *const blank[] = {"", "   ", ";", " ;\n ; "};
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
        reply r;
        run(fx, blank[i], &r);
        assert_int_equal(r.kind, 'I');
        assert_int_equal(r.action, SW_ADMIN_NONE);
        reply_free(&r);
    }
}

/* Without a router only the commands that need no configuration answer. */
static void test_no_router(void **state)
{
    (void)state;
    sw_admin_env env;
    memset(&env, 0, sizeof env);
    env.n_clients = 2;
    reply r;
    run_env(&env, "SHOW SHARDS", &r);
    assert_error(&r, "55000");
    reply_free(&r);
    run_env(&env, "SHOW ROUTE SELECT 1", &r);
    assert_error(&r, "55000");
    reply_free(&r);
    run_env(&env, "SHOW CLIENTS", &r);
    assert_string_equal(cell(&r, 0, "clients"), "2");
    reply_free(&r);
    run_env(&env, "RELOAD", &r);
    assert_int_equal(r.action, SW_ADMIN_RELOAD);
    reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shards_without_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shards_with_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_functions_directory_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_keyed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_keyless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_suffix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_no_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clients_version_help, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions_resolve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test(test_no_router),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
