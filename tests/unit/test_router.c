/*
 * test_router.c - unit tests for the shard-key router (sw/route.h).
 *
 * One configuration (loaded with sw_conf_load_string): the e-commerce
 * layout over shard1..shard3 (customer/orders hashed by customer_id and
 * co-located, order_items keyed by embedded order IDs, products table-suffix
 * by price on shard1, payments and currencies reference tables,
 * shipment_details and customer_details pinned, audit.log pinned with a
 * schema), pgbench_accounts hashed by aid over shard1+shard2, and one table
 * per other function kind: shipments by date range, regional_sales by
 * region list, loyalty on a ring, tenants through a directory.
 *
 * Covered: statement kinds and write flags; table extraction (quoting,
 * schemas, aliases, case, catalogs, CTE names); every constraint form with
 * casts, text and binary parameters, IN/ANY, AND/OR, ranges; exact text of
 * INSERT splits and table-suffix rewrites; co-location, non-co-located,
 * pinned and reference combinations; keyless fan-out and the forbidden
 * cross-shard shapes; key-moving UPDATEs; value errors; SET/SHOW
 * shardwire.*, routing comments, session overrides, shardwire_next_id and
 * directory lookups; the shape cache's hit/miss counters and bound;
 * multi-statement texts; prepared statements.
 *
 * Hash and ring placement is not pinned here (the sharding function tests
 * do that): expected nodes of such keys are asked of the router's own
 * function, so these tests check how statements are read and combined.
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

#include "sw/conf.h"
#include "sw/route.h"
#include "sw/shard.h"

#define NOW_MS 1749945600000ULL /* 2025-06-15T00:00:00Z */

static const char yaml[] =
    "nodes:\n"
    "  - {name: shard1, host: 127.0.0.1, port: 5433, database: shop, user: postgres}\n"
    "  - {name: shard2, host: 127.0.0.1, port: 5434, database: shop, user: postgres}\n"
    "  - {name: shard3, host: 127.0.0.1, port: 5435, database: shop, user: postgres}\n"
    "users:\n"
    "  - {name: app, auth: trust}\n"
    "functions:\n"
    "  - {name: customer_hash, kind: hash, type: integer, buckets: 1024, nodes: [shard1, shard2, shard3]}\n"
    "  - {name: order_ids, kind: embedded, source: customer_hash, seq_bits: 12, epoch: 2024-01-01}\n"
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
    "      - {node: shard2, values: [EMEA]}\n"
    "      - {node: shard3, values: [LATAM]}\n"
    "  - name: customer_ring\n"
    "    kind: ring\n"
    "    type: integer\n"
    "    nodes: [shard1, {node: shard2, weight: 2}]\n"
    "  - name: customer_directory\n"
    "    kind: directory\n"
    "    type: integer\n"
    "    node: shard1\n"
    "    query: SELECT node FROM shard_directory WHERE customer_id = $1\n"
    "  - {name: aid_hash, kind: hash, type: integer, nodes: [shard1, shard2]}\n"
    "databases:\n"
    "  - name: shop\n"
    "    default_node: shard1\n"
    "    tables:\n"
    "      - {name: customer, key: customer_id, function: customer_hash}\n"
    "      - name: orders\n"
    "        key: customer_id\n"
    "        function: customer_hash\n"
    "        id: {column: order_id, function: order_ids}\n"
    "      - {name: order_items, key: order_id, function: order_ids}\n"
    "      - {name: products, key: product_price, function: price_bands, node: shard1}\n"
    "      - {name: payments, reference: true}\n"
    "      - {name: currencies, reference: true, nodes: [shard2, shard3]}\n"
    "      - {name: shipment_details, node: shard2}\n"
    "      - {name: customer_details, node: shard3}\n"
    "      - {name: audit.log, node: shard3}\n"
    "      - {name: pgbench_accounts, key: aid, function: aid_hash}\n"
    "      - {name: shipments, key: ship_date, function: order_date_range}\n"
    "      - {name: regional_sales, key: region, function: region_list}\n"
    "      - {name: loyalty, key: customer_id, function: customer_ring}\n"
    "      - {name: tenants, key: customer_id, function: customer_directory}\n"
    "  - name: other\n"
    "    default_node: shard2\n";

static sw_conf *C;
static sw_router *R;
static sw_route_out out;

static int setup(void **state)
{
    (void)state;
    char err[1024];
    if (sw_conf_load_string("test.yaml", yaml, sizeof yaml - 1, &C, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    R = sw_router_new(C, err, sizeof err);
    if (!R) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sw_route_out_clear(&out);
    sw_router_free(R);
    sw_conf_free(C);
    return 0;
}

static sw_route_in base_in(void)
{
    sw_route_in in;
    memset(&in, 0, sizeof in);
    in.database = "shop";
    in.now_ms = NOW_MS;
    return in;
}

static sw_route_status route_with(const sw_route_in *in, const char *sql)
{
    sw_route_out_clear(&out);
    return sw_router_route(R, in, sql, strlen(sql), &out);
}

static sw_route_status route(const char *sql)
{
    sw_route_in in = base_in();
    return route_with(&in, sql);
}

static int node(const char *name)
{
    int n = sw_conf_node_index(C, name);
    assert_true(n >= 0);
    return n;
}

/* Node of key (text form) under function fn, as the function answers. */
static int key_node(const char *fn, const char *key)
{
    int fi = sw_conf_function_index(C, fn);
    assert_true(fi >= 0);
    const sw_shardfn *f = sw_router_function(R, fi);
    char buf[SW_VALUE_BUF];
    sw_value v;
    assert_int_equal(sw_value_from_text(sw_shardfn_conf(f)->type, key, strlen(key), &v, buf, sizeof buf), 0);
    int t = sw_shardfn_dispatch(f, &v, NOW_MS, NULL, 0);
    assert_true(t >= 0);
    return sw_shardfn_target_node(f, t);
}

static void show(const char *sql)
{
    fprintf(stderr, "  sql: %s\n  status %d %s %s\n  reason: %s\n", sql, out.status, out.sqlstate,
            out.message, out.reason);
    for (int i = 0; i < out.n_targets; i++)
        fprintf(stderr, "  target %d node %d sql %s\n", i, out.targets[i].node,
                out.targets[i].sql ? out.targets[i].sql : "(unchanged)");
}

/* Routed OK to exactly this node set (bit mask), one target per node. */
static void expect_mask(const char *sql, sw_nodeset want)
{
    if (route(sql) != SW_ROUTE_OK || out.nodes != want) show(sql);
    assert_int_equal(out.status, SW_ROUTE_OK);
    assert_int_equal(out.nodes, want);
    assert_int_equal(out.n_targets, __builtin_popcountll(want));
    for (int i = 1; i < out.n_targets; i++) assert_true(out.targets[i - 1].node < out.targets[i].node);
}

static sw_nodeset bit(int n)
{
    return (sw_nodeset)1 << n;
}

static void expect_node(const char *sql, int n)
{
    expect_mask(sql, bit(n));
    assert_null(out.targets[0].sql);
}

static void expect_none(const char *sql)
{
    if (route(sql) != SW_ROUTE_OK || out.n_targets) show(sql);
    assert_int_equal(out.status, SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 0);
    assert_int_equal(out.nodes, 0);
}

static void expect_error(const char *sql, const char *sqlstate, const char *msgpart)
{
    if (route(sql) != SW_ROUTE_ERROR) show(sql);
    assert_int_equal(out.status, SW_ROUTE_ERROR);
    assert_string_equal(out.sqlstate, sqlstate);
    if (msgpart && !strstr(out.message, msgpart)) show(sql);
    if (msgpart) assert_non_null(strstr(out.message, msgpart));
    assert_int_equal(out.n_targets, 0);
}

/* A key of customer_hash on node n, and one on another node. */
static int cust_key_on(int n)
{
    char k[32];
    for (int i = 1; i < 10000; i++) {
        snprintf(k, sizeof k, "%d", i);
        if (key_node("customer_hash", k) == n) return i;
    }
    fail();
    return -1;
}

#define ALL3 (bit(0) | bit(1) | bit(2))

/* ------------------------------------------------------------------ kinds */

static void test_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *sql;
        sw_stmt_kind kind;
        bool write;
    } cases[] = {
        {"SELECT 1", SW_SK_SELECT, false},
        {"VALUES (1), (2)", SW_SK_SELECT, false},
        {"TABLE payments", SW_SK_SELECT, false},
        {"WITH x AS (SELECT 1) SELECT * FROM x", SW_SK_SELECT, false},
        {"INSERT INTO payments (id) VALUES (1)", SW_SK_INSERT, true},
        {"UPDATE payments SET x = 1", SW_SK_UPDATE, true},
        {"DELETE FROM payments", SW_SK_DELETE, true},
        {"COPY payments FROM STDIN", SW_SK_COPY, true},
        {"COPY payments TO STDOUT", SW_SK_COPY, false},
        {"CREATE TABLE t (a int)", SW_SK_DDL, true},
        {"ALTER TABLE payments ADD COLUMN y int", SW_SK_DDL, true},
        {"DROP TABLE t", SW_SK_DDL, true},
        {"TRUNCATE payments", SW_SK_DDL, true},
        {"CREATE INDEX ON payments (id)", SW_SK_DDL, true},
        {"BEGIN", SW_SK_BEGIN, false},
        {"START TRANSACTION ISOLATION LEVEL SERIALIZABLE", SW_SK_BEGIN, false},
        {"COMMIT", SW_SK_COMMIT, false},
        {"END", SW_SK_COMMIT, false},
        {"ROLLBACK", SW_SK_ROLLBACK, false},
        {"ABORT", SW_SK_ROLLBACK, false},
        {"SAVEPOINT a", SW_SK_TXN_OTHER, false},
        {"RELEASE SAVEPOINT a", SW_SK_TXN_OTHER, false},
        {"ROLLBACK TO SAVEPOINT a", SW_SK_TXN_OTHER, false},
        {"SET search_path = public", SW_SK_SET, false},
        {"RESET ALL", SW_SK_SET, false},
        {"SHOW search_path", SW_SK_SHOW, false},
        {"LISTEN chan", SW_SK_UTILITY, false},
        {"DISCARD ALL", SW_SK_UTILITY, false},
        {"-- nothing\n", SW_SK_EMPTY, false},
        {"", SW_SK_EMPTY, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (route(cases[i].sql) != SW_ROUTE_OK || out.kind != cases[i].kind) show(cases[i].sql);
        assert_int_equal(out.status, SW_ROUTE_OK);
        assert_int_equal(out.kind, cases[i].kind);
        assert_int_equal(out.write, cases[i].write);
        assert_false(out.multi);
        assert_int_equal(out.local, SW_LOCAL_NONE);
    }
    assert_string_equal(sw_stmt_kind_name(SW_SK_SELECT), "SELECT");
    assert_string_equal(sw_stmt_kind_name(SW_SK_INSERT), "INSERT");
    assert_string_equal(sw_stmt_kind_name(SW_SK_DDL), "DDL");
    assert_string_equal(sw_stmt_kind_name(SW_SK_TXN_OTHER), "TRANSACTION");
}

static void test_no_preference(void **state)
{
    (void)state;
    expect_none("SELECT 1");
    expect_none("SELECT now()");
    expect_none("VALUES (1)");
    expect_none("BEGIN");
    expect_none("COMMIT");
    expect_none("SET search_path = public");
    expect_none("SHOW TimeZone");
    expect_none("LISTEN x");
    expect_none("");
    assert_int_equal(out.kind, SW_SK_EMPTY);
}

static void test_default_node_helper(void **state)
{
    (void)state;
    assert_int_equal(sw_route_default_node(C, "shop"), node("shard1"));
    assert_int_equal(sw_route_default_node(C, "other"), node("shard2"));
    assert_int_equal(sw_route_default_node(C, "nope"), -1);
    assert_ptr_equal(sw_router_conf(R), C);
    assert_non_null(sw_router_function(R, 0));
    assert_null(sw_router_function(R, 99));
}

/* ------------------------------------------------------- table extraction */

static void test_unlisted_and_catalog(void **state)
{
    (void)state;
    expect_node("SELECT * FROM some_table WHERE x = 1", node("shard1"));
    expect_node("SELECT relname FROM pg_catalog.pg_class", node("shard1"));
    expect_node("SELECT * FROM pg_stat_activity", node("shard1"));
    expect_node("SELECT * FROM information_schema.tables", node("shard1"));
    /* the other database's default node */
    sw_route_in in = base_in();
    in.database = "other";
    assert_int_equal(route_with(&in, "SELECT * FROM some_table"), SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(node("shard2")));
    /* a catalog next to a sharded table does not pull it to the default node */
    int k = cust_key_on(node("shard3"));
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT * FROM customer c, pg_class WHERE c.customer_id = %d", k);
    expect_node(sql, node("shard3"));
}

static void test_unknown_database(void **state)
{
    (void)state;
    sw_route_in in = base_in();
    in.database = "nope";
    assert_int_equal(route_with(&in, "SELECT 1"), SW_ROUTE_ERROR);
    assert_string_equal(out.sqlstate, "3D000");
}

static void test_quoting_case_schema_alias(void **state)
{
    (void)state;
    int k = cust_key_on(node("shard2"));
    char sql[200];
    static const char *const forms[] = {
        "SELECT * FROM customer WHERE customer_id = %d",
        "SELECT * FROM \"customer\" WHERE \"customer_id\" = %d",
        "SELECT * FROM CUSTOMER WHERE Customer_Id = %d",
        "SELECT * FROM public.customer WHERE customer_id = %d",
        "SELECT * FROM sales.customer c WHERE c.customer_id = %d",
        "SELECT * FROM customer AS cu WHERE cu.customer_id = %d",
        "SELECT * FROM customer WHERE customer.customer_id = %d",
        "SELECT * FROM public.customer WHERE public.customer.customer_id = %d",
        "select * from customer where customer_id=%d",
    };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        snprintf(sql, sizeof sql, forms[i], k);
        expect_node(sql, node("shard2"));
    }
    /* a quoted mixed-case name is another table: unlisted */
    snprintf(sql, sizeof sql, "SELECT * FROM \"Customer\" WHERE customer_id = %d", k);
    expect_node(sql, node("shard1"));
    /* the alias hides the table name: customer.customer_id is not this table's */
    snprintf(sql, sizeof sql, "SELECT * FROM customer c WHERE x.customer_id = %d", k);
    expect_mask(sql, ALL3);
    /* a CTE named like a table is not the table */
    expect_none("WITH customer AS (SELECT 1 AS customer_id) SELECT * FROM customer WHERE customer_id = 5");
}

static void test_schema_declared_table(void **state)
{
    (void)state;
    expect_node("SELECT * FROM audit.log", node("shard3"));
    expect_node("INSERT INTO audit.log (msg) VALUES ('x')", node("shard3"));
    /* unqualified or another schema: not that table */
    expect_node("SELECT * FROM log", node("shard1"));
    expect_node("SELECT * FROM public.log", node("shard1"));
}

static void test_tables_everywhere(void **state)
{
    (void)state;
    /* subquery, CTE, JOIN, UPDATE ... FROM, DELETE ... USING, COPY, DDL */
    expect_node("SELECT * FROM t WHERE id IN (SELECT id FROM shipment_details)", node("shard2"));
    expect_node("WITH s AS (SELECT * FROM customer_details) SELECT * FROM s", node("shard3"));
    expect_node("SELECT * FROM x JOIN shipment_details d ON d.id = x.id", node("shard2"));
    expect_node("UPDATE shipment_details SET a = 1 FROM t WHERE t.id = 1", node("shard2"));
    expect_node("DELETE FROM customer_details USING t WHERE t.id = customer_details.id", node("shard3"));
    expect_node("COPY customer_details TO STDOUT", node("shard3"));
    expect_node("CREATE INDEX ON shipment_details (id)", node("shard2"));
    expect_node("DROP TABLE customer_details", node("shard3"));
    expect_node("LOCK TABLE shipment_details", node("shard2"));
    expect_node("EXPLAIN SELECT * FROM customer_details", node("shard3"));
    assert_int_equal(out.kind, SW_SK_SELECT);
}

/* ------------------------------------------------------------ constraints */

static void test_eq_forms_and_casts(void **state)
{
    (void)state;
    int n = key_node("customer_hash", "42");
    static const char *const forms[] = {
        "SELECT * FROM customer WHERE customer_id = 42",
        "SELECT * FROM customer WHERE 42 = customer_id",
        "SELECT * FROM customer WHERE customer_id = '42'",
        "SELECT * FROM customer WHERE customer_id = '42'::bigint",
        "SELECT * FROM customer WHERE customer_id = CAST(42 AS int8)",
        "SELECT * FROM customer WHERE customer_id = 42::int4::bigint",
        "SELECT * FROM customer WHERE customer_id = bigint '42'",
        "SELECT * FROM customer WHERE customer_id = ' 42 '",
        "SELECT * FROM customer WHERE customer_id = $$42$$",
        "SELECT * FROM customer WHERE customer_id = E'4\\x32'",
        "SELECT * FROM customer WHERE (customer_id = 42)",
        "SELECT * FROM customer WHERE customer_id = 42 AND name = 'x'",
        "SELECT * FROM customer WHERE name LIKE 'a%' AND customer_id = 42",
    };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) expect_node(forms[i], n);
    assert_non_null(strstr(out.reason, "customer.customer_id = 42"));
    assert_non_null(strstr(out.reason, "customer_hash"));
}

static void test_negative_constant(void **state)
{
    (void)state;
    expect_node("SELECT * FROM customer WHERE customer_id = -7", key_node("customer_hash", "-7"));
    expect_node("SELECT * FROM customer WHERE customer_id = - 9", key_node("customer_hash", "-9"));
    /* same shape as the positive one: served from the cache, still exact */
    expect_node("SELECT * FROM customer WHERE customer_id = 7", key_node("customer_hash", "7"));
    expect_node("SELECT * FROM customer WHERE customer_id = -8", key_node("customer_hash", "-8"));
}

static void test_unbounded_forms(void **state)
{
    (void)state;
    static const char *const forms[] = {
        "SELECT * FROM customer WHERE NOT customer_id = 42",
        "SELECT * FROM customer WHERE customer_id <> 42",
        "SELECT * FROM customer WHERE customer_id + 1 = 43",
        "SELECT * FROM customer WHERE abs(customer_id) = 42",
        "SELECT * FROM customer WHERE customer_id::text = '42'",
        "SELECT * FROM customer WHERE customer_id = other_id",
        "SELECT * FROM customer WHERE customer_id IS NULL",
        "SELECT * FROM customer WHERE customer_id = (SELECT 42)",
        "SELECT * FROM customer WHERE customer_id = 42 OR name = 'x'",
        "SELECT * FROM customer WHERE customer_id NOT IN (1, 2)",
        "SELECT * FROM customer WHERE customer_id NOT BETWEEN 1 AND 2",
        "SELECT * FROM customer WHERE customer_id = NULL",
        "SELECT * FROM customer WHERE customer_id > 5",
        "SELECT * FROM customer",
    };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) expect_mask(forms[i], ALL3);
    assert_non_null(strstr(out.reason, "no condition on customer_id"));
}

static void test_in_and_or(void **state)
{
    (void)state;
    int a = cust_key_on(node("shard1")), b = cust_key_on(node("shard3"));
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT * FROM customer WHERE customer_id IN (%d, %d)", a, b);
    expect_mask(sql, bit(node("shard1")) | bit(node("shard3")));
    snprintf(sql, sizeof sql, "SELECT * FROM customer WHERE customer_id IN (%d, '%d'::int)", a, a);
    expect_node(sql, node("shard1"));
    snprintf(sql, sizeof sql, "SELECT * FROM customer WHERE customer_id = %d OR customer_id = %d", a, b);
    expect_mask(sql, bit(node("shard1")) | bit(node("shard3")));
    snprintf(sql, sizeof sql, "SELECT * FROM customer WHERE customer_id = ANY(ARRAY[%d, %d])", a, b);
    expect_mask(sql, bit(node("shard1")) | bit(node("shard3")));
    snprintf(sql, sizeof sql, "SELECT * FROM customer WHERE customer_id = ANY('{%d,%d}'::bigint[])", b, b);
    expect_node(sql, node("shard3"));
    /* AND: intersection; the IN narrows to the one that equals */
    snprintf(sql, sizeof sql, "SELECT * FROM customer WHERE customer_id IN (%d, %d) AND customer_id = %d", a, b, b);
    expect_node(sql, node("shard3"));
    /* (a OR b) AND (name...) keeps the OR's set */
    snprintf(sql, sizeof sql,
             "SELECT * FROM customer WHERE (customer_id = %d OR customer_id = %d) AND (name = 'x' OR name = 'y')", a, b);
    expect_mask(sql, bit(node("shard1")) | bit(node("shard3")));
}

static void test_ranges_on_dates(void **state)
{
    (void)state;
    expect_node("SELECT * FROM shipments WHERE ship_date = '2023-05-01'", node("shard1"));
    expect_node("SELECT * FROM shipments WHERE ship_date = DATE '2024-06-30'", node("shard2"));
    expect_node("SELECT * FROM shipments WHERE ship_date = '2025-01-01'::date", node("shard3"));
    expect_node("SELECT * FROM shipments WHERE ship_date < '2024-01-01'", node("shard1"));
    expect_mask("SELECT * FROM shipments WHERE ship_date <= '2024-01-01'", bit(0) | bit(1));
    expect_node("SELECT * FROM shipments WHERE ship_date >= '2025-02-01'", node("shard3"));
    expect_mask("SELECT * FROM shipments WHERE '2024-03-01' < ship_date", bit(1) | bit(2));
    expect_node("SELECT * FROM shipments WHERE ship_date BETWEEN '2024-02-01' AND '2024-11-30'", node("shard2"));
    expect_mask("SELECT * FROM shipments WHERE ship_date BETWEEN '2023-02-01' AND '2024-11-30'", bit(0) | bit(1));
    expect_node("SELECT * FROM shipments WHERE ship_date BETWEEN SYMMETRIC '2024-11-30' AND '2024-02-01'",
                node("shard2"));
    expect_node("SELECT * FROM shipments WHERE ship_date >= '2024-02-01' AND ship_date < '2024-03-01'",
                node("shard2"));
    expect_mask("SELECT * FROM shipments WHERE ship_date NOT BETWEEN '2024-02-01' AND '2024-11-30'", ALL3);
}

static void test_list_and_ring(void **state)
{
    (void)state;
    expect_node("SELECT * FROM regional_sales WHERE region = 'EMEA'", node("shard2"));
    expect_node("SELECT * FROM regional_sales WHERE region IN ('LATAM')", node("shard3"));
    expect_mask("SELECT * FROM regional_sales WHERE region IN ('APJ', 'EMEA')", bit(0) | bit(1));
    expect_error("SELECT * FROM regional_sales WHERE region = 'it''s' OR region = 'APJ'", "22023", "'it''s'");
    expect_node("SELECT * FROM loyalty WHERE customer_id = 77", key_node("customer_ring", "77"));
    expect_node("SELECT abalance FROM pgbench_accounts WHERE aid = 12345", key_node("aid_hash", "12345"));
    expect_mask("SELECT * FROM pgbench_accounts", bit(0) | bit(1));
}

/* -------------------------------------------------------------- parameters */

static sw_route_status route_params(const char *sql, int n, const char *const *vals, const int32_t *lens,
                                    const int16_t *fmts)
{
    char err[256];
    sw_plan *p = sw_router_prepare(R, "shop", sql, strlen(sql), err, sizeof err);
    assert_non_null(p);
    sw_route_in in = base_in();
    in.nparams = n;
    in.param_values = (const uint8_t *const *)vals;
    in.param_lens = lens;
    in.param_formats = fmts;
    sw_route_out_clear(&out);
    sw_route_status st = sw_router_route_plan(R, p, &in, &out);
    sw_plan_free(p);
    return st;
}

static void test_params_text_and_binary(void **state)
{
    (void)state;
    int n = key_node("customer_hash", "42");
    const char *v1[] = {"42"};
    int32_t l1[] = {2};
    int16_t text[] = {0}, bin[] = {1};
    assert_int_equal(route_params("SELECT * FROM customer WHERE customer_id = $1", 1, v1, l1, text), SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(n));
    assert_int_equal(route_params("SELECT * FROM customer WHERE customer_id = $1::int8", 1, v1, l1, NULL), SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(n));
    static const char b8[] = {0, 0, 0, 0, 0, 0, 0, 42};
    static const char b4[] = {0, 0, 0, 42};
    const char *v8[] = {b8}, *v4[] = {b4};
    int32_t l8[] = {8}, l4[] = {4};
    assert_int_equal(route_params("SELECT * FROM customer WHERE customer_id = $1", 1, v8, l8, bin), SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(n));
    assert_int_equal(route_params("SELECT * FROM customer WHERE customer_id = $1", 1, v4, l4, bin), SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(n));
    /* a NULL or missing parameter leaves the key unbounded */
    const char *vn[] = {NULL};
    int32_t ln[] = {-1};
    assert_int_equal(route_params("SELECT * FROM customer WHERE customer_id = $1", 1, vn, ln, text), SW_ROUTE_OK);
    assert_int_equal(out.nodes, ALL3);
    assert_int_equal(route_params("SELECT * FROM customer WHERE customer_id = $1", 0, NULL, NULL, NULL), SW_ROUTE_OK);
    assert_int_equal(out.nodes, ALL3);
    /* a bad binary length is an invalid value */
    int32_t l3[] = {3};
    assert_int_equal(route_params("SELECT * FROM customer WHERE customer_id = $1", 1, v4, l3, bin), SW_ROUTE_ERROR);
    assert_string_equal(out.sqlstate, "22P02");
}

static void test_params_in_any_and_dates(void **state)
{
    (void)state;
    int a = cust_key_on(node("shard1")), b = cust_key_on(node("shard2"));
    char ta[16], tb[16], arr[64];
    snprintf(ta, sizeof ta, "%d", a);
    snprintf(tb, sizeof tb, "%d", b);
    const char *v2[] = {ta, tb};
    int32_t l2[] = {(int32_t)strlen(ta), (int32_t)strlen(tb)};
    assert_int_equal(route_params("SELECT * FROM customer WHERE customer_id IN ($1, $2)", 2, v2, l2, NULL),
                     SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(node("shard1")) | bit(node("shard2")));
    snprintf(arr, sizeof arr, "{%d, \"%d\"}", b, b);
    const char *va[] = {arr};
    int32_t la[] = {(int32_t)strlen(arr)};
    assert_int_equal(route_params("SELECT * FROM customer WHERE customer_id = ANY($1)", 1, va, la, NULL), SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(node("shard2")));
    /* binary int8[] {a, b}: ndim 1, no nulls, oid 20, dim 2 lbound 1 */
    unsigned char ba[12 + 8 + 2 * 12] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 2, 0, 0, 0, 1};
    for (int i = 0; i < 2; i++) {
        unsigned char *e = ba + 20 + i * 12;
        int v = i ? b : a;
        e[3] = 8;
        e[10] = (unsigned char)(v >> 8);
        e[11] = (unsigned char)v;
    }
    const char *vb[] = {(const char *)ba};
    int32_t lb[] = {(int32_t)sizeof ba};
    int16_t bin[] = {1};
    assert_int_equal(route_params("SELECT * FROM customer WHERE customer_id = ANY($1::bigint[])", 1, vb, lb, bin),
                     SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(node("shard1")) | bit(node("shard2")));
    /* date ranges from text and binary parameters */
    const char *vd[] = {"2024-02-01", "2024-03-01"};
    int32_t ld[] = {10, 10};
    assert_int_equal(route_params("SELECT * FROM shipments WHERE ship_date BETWEEN $1 AND $2", 2, vd, ld, NULL),
                     SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(node("shard2")));
    static const char d2025[] = {0, 0, 0x23, 0x8a}; /* 9098 days after 2000-01-01 = 2024-11-28 */
    const char *vbd[] = {d2025};
    int32_t lbd[] = {4};
    assert_int_equal(route_params("SELECT * FROM shipments WHERE ship_date = $1", 1, vbd, lbd, bin), SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(node("shard2")));
}

static void test_prepared_plan(void **state)
{
    (void)state;
    char err[256];
    assert_null(sw_router_prepare(R, "shop", "SELEC 1", 7, err, sizeof err));
    assert_non_null(strstr(err, "syntax error"));
    const char *sql = "UPDATE orders SET status = $2 WHERE customer_id = $1";
    sw_plan *p = sw_router_prepare(R, "shop", sql, strlen(sql), err, sizeof err);
    assert_non_null(p);
    assert_int_equal(sw_plan_kind(p), SW_SK_UPDATE);
    /* the same plan routes differently with other values */
    for (int i = 0; i < 3; i++) {
        int k = cust_key_on(i);
        char kt[16];
        snprintf(kt, sizeof kt, "%d", k);
        const char *v[] = {kt, "x"};
        int32_t l[] = {(int32_t)strlen(kt), 1};
        sw_route_in in = base_in();
        in.nparams = 2;
        in.param_values = (const uint8_t *const *)v;
        in.param_lens = l;
        sw_route_out_clear(&out);
        assert_int_equal(sw_router_route_plan(R, p, &in, &out), SW_ROUTE_OK);
        assert_int_equal(out.nodes, bit(i));
        assert_true(out.write);
    }
    sw_plan_free(p);
}

/* ---------------------------------------------------------------- INSERT */

static void expect_target(int i, int n, const char *sql)
{
    assert_true(i < out.n_targets);
    assert_int_equal(out.targets[i].node, n);
    if (!sql) {
        assert_null(out.targets[i].sql);
        return;
    }
    assert_non_null(out.targets[i].sql);
    if (strcmp(out.targets[i].sql, sql) != 0) fprintf(stderr, "  got:  %s\n  want: %s\n", out.targets[i].sql, sql);
    assert_string_equal(out.targets[i].sql, sql);
}

static void test_insert_single_and_split(void **state)
{
    (void)state;
    expect_node("INSERT INTO regional_sales (region, amount) VALUES ('EMEA', 10)", node("shard2"));
    expect_node("INSERT INTO regional_sales (amount, region) VALUES (1, 'LATAM'), (2, 'LATAM')", node("shard3"));
    const char *sql = "INSERT INTO regional_sales (region, amount) VALUES ('APJ', 1), ('EMEA', 2), ('APJ', 3) "
                      "ON CONFLICT DO NOTHING RETURNING region";
    assert_int_equal(route(sql), SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 2);
    assert_int_equal(out.nodes, bit(0) | bit(1));
    expect_target(0, node("shard1"),
                  "INSERT INTO regional_sales (region, amount) VALUES ('APJ', 1), ('APJ', 3) "
                  "ON CONFLICT DO NOTHING RETURNING region");
    expect_target(1, node("shard2"),
                  "INSERT INTO regional_sales (region, amount) VALUES ('EMEA', 2) "
                  "ON CONFLICT DO NOTHING RETURNING region");
    assert_true(out.write);
    assert_int_equal(out.kind, SW_SK_INSERT);
}

static void test_insert_split_hash_keys(void **state)
{
    (void)state;
    int a = cust_key_on(node("shard3")), b = cust_key_on(node("shard2"));
    char sql[300], w2[300], w3[300];
    snprintf(sql, sizeof sql,
             "insert into customer(customer_id,name)values(%d,'a'),\n (%d, 'b') , (%d,'c');", a, b, a + 0);
    assert_int_equal(route(sql), SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 2);
    snprintf(w2, sizeof w2, "insert into customer(customer_id,name)values(%d, 'b')", b);
    snprintf(w3, sizeof w3, "insert into customer(customer_id,name)values(%d,'a'), (%d,'c')", a, a);
    expect_target(0, node("shard2"), w2);
    expect_target(1, node("shard3"), w3);
}

static void test_insert_errors(void **state)
{
    (void)state;
    expect_error("INSERT INTO customer VALUES (5, 'x')", "0A000", "needs a column list");
    expect_error("INSERT INTO customer (name) VALUES ('x')", "0A000", "must set its shard key customer_id");
    expect_error("INSERT INTO customer (customer_id) VALUES (DEFAULT)", "0A000", "constant or parameter");
    expect_error("INSERT INTO customer (customer_id) VALUES (1 + 1)", "0A000", "constant or parameter");
    expect_error("INSERT INTO customer DEFAULT VALUES", "0A000", "customer");
    expect_error("INSERT INTO customer (customer_id) VALUES (NULL)", "22004", "customer_id");
    expect_error("INSERT INTO customer (customer_id, n) VALUES (1, 2) ON CONFLICT (customer_id) "
                 "DO UPDATE SET customer_id = 3",
                 "0A000", "ON CONFLICT");
    /* rows of one prepared statement on different shards */
    int a = cust_key_on(0), b = cust_key_on(1);
    char ta[16], tb[16];
    snprintf(ta, sizeof ta, "%d", a);
    snprintf(tb, sizeof tb, "%d", b);
    const char *v[] = {ta, tb};
    int32_t l[] = {(int32_t)strlen(ta), (int32_t)strlen(tb)};
    assert_int_equal(route_params("INSERT INTO customer (customer_id) VALUES ($1), ($2)", 2, v, l, NULL),
                     SW_ROUTE_ERROR);
    assert_string_equal(out.sqlstate, "0A000");
    assert_non_null(strstr(out.message, "parameters"));
    /* ... fine when they meet */
    const char *v2[] = {ta, ta};
    int32_t l2[] = {(int32_t)strlen(ta), (int32_t)strlen(ta)};
    assert_int_equal(route_params("INSERT INTO customer (customer_id) VALUES ($1), ($2)", 2, v2, l2, NULL),
                     SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(0));
    assert_null(out.targets[0].sql);
}

static void test_insert_select(void **state)
{
    (void)state;
    int k = cust_key_on(node("shard2"));
    char sql[300];
    snprintf(sql, sizeof sql,
             "INSERT INTO orders (customer_id, total) SELECT customer_id, 0 FROM customer WHERE customer_id = %d", k);
    expect_node(sql, node("shard2"));
    expect_error("INSERT INTO orders (customer_id, total) SELECT customer_id, 0 FROM customer", "0A000",
                 "INSERT ... SELECT");
    expect_error("INSERT INTO orders (customer_id) SELECT id FROM staging", "0A000", "INSERT ... SELECT");
    /* a FROM-less SELECT is one row */
    snprintf(sql, sizeof sql, "INSERT INTO orders (customer_id, total) SELECT %d, 1", k);
    expect_node(sql, node("shard2"));
}

/* ---------------------------------------------------------- table suffix */

static void test_suffix_rewrite(void **state)
{
    (void)state;
    int s1 = node("shard1");
    assert_int_equal(route("SELECT name FROM products WHERE product_price = 50"), SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 1);
    expect_target(0, s1, "SELECT name FROM products_10_to_100 AS products WHERE product_price = 50");
    assert_int_equal(route("SELECT p.name FROM public.products p WHERE p.product_price = 300.5"), SW_ROUTE_OK);
    expect_target(0, s1, "SELECT p.name FROM products_251_to_500 p WHERE p.product_price = 300.5");
    assert_int_equal(route("SELECT name FROM products"), SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 1);
    expect_target(0, s1,
                  "SELECT name FROM (SELECT * FROM products_10_to_100 UNION ALL SELECT * FROM products_101_to_250 "
                  "UNION ALL SELECT * FROM products_251_to_500) AS products");
    /* one node: ORDER BY / LIMIT stay allowed */
    assert_int_equal(route("SELECT name FROM products p WHERE product_price BETWEEN 50 AND 150 ORDER BY 1 LIMIT 5"),
                     SW_ROUTE_OK);
    expect_target(0, s1,
                  "SELECT name FROM (SELECT * FROM products_10_to_100 UNION ALL SELECT * FROM products_101_to_250) p "
                  "WHERE product_price BETWEEN 50 AND 150 ORDER BY 1 LIMIT 5");
    expect_error("SELECT * FROM products WHERE product_price = 5", "22023", "no shard for value 5");
}

static void test_suffix_writes(void **state)
{
    (void)state;
    int s1 = node("shard1");
    assert_int_equal(route("UPDATE products SET stock = 0"), SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 3);
    expect_target(0, s1, "UPDATE products_10_to_100 AS products SET stock = 0");
    expect_target(1, s1, "UPDATE products_101_to_250 AS products SET stock = 0");
    expect_target(2, s1, "UPDATE products_251_to_500 AS products SET stock = 0");
    assert_int_equal(route("DELETE FROM products WHERE product_price < 50"), SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 1);
    expect_target(0, s1, "DELETE FROM products_10_to_100 AS products WHERE product_price < 50");
    assert_int_equal(route("INSERT INTO products (product_id, product_price) VALUES (1, 20), (2, 300), (3, 30)"),
                     SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 2);
    expect_target(0, s1, "INSERT INTO products_10_to_100 AS products (product_id, product_price) VALUES (1, 20), (3, 30)");
    expect_target(1, s1, "INSERT INTO products_251_to_500 AS products (product_id, product_price) VALUES (2, 300)");
    assert_int_equal(route("ALTER TABLE products ADD COLUMN note text"), SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 3);
    expect_target(0, s1, "ALTER TABLE products_10_to_100 ADD COLUMN note text");
    expect_target(2, s1, "ALTER TABLE products_251_to_500 ADD COLUMN note text");
}

/* ------------------------------------------------------------ combinations */

static void test_colocated_join(void **state)
{
    (void)state;
    int k = cust_key_on(node("shard3"));
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT * FROM customer c JOIN orders o ON o.customer_id = c.customer_id WHERE c.customer_id = %d", k);
    expect_node(sql, node("shard3"));
    snprintf(sql, sizeof sql, "SELECT * FROM customer JOIN orders USING (customer_id) WHERE customer_id = %d", k);
    expect_node(sql, node("shard3"));
    /* inner join ON binds too */
    snprintf(sql, sizeof sql, "SELECT * FROM customer c JOIN orders o ON o.customer_id = c.customer_id AND o.customer_id = %d", k);
    expect_node(sql, node("shard3"));
    /* an outer join's ON condition on the nullable side does not */
    snprintf(sql, sizeof sql,
             "SELECT * FROM customer c LEFT JOIN orders o ON o.customer_id = c.customer_id AND o.customer_id = %d", k);
    expect_mask(sql, ALL3);
    /* keyless co-located join: every node */
    expect_mask("SELECT * FROM customer c JOIN orders o ON o.customer_id = c.customer_id", ALL3);
    /* order_items is keyed by embedded IDs whose source is customer_hash */
    snprintf(sql, sizeof sql,
             "SELECT * FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE o.customer_id = %d", k);
    expect_node(sql, node("shard3"));
    /* a subquery on a co-located table */
    snprintf(sql, sizeof sql, "SELECT * FROM orders WHERE customer_id IN (SELECT customer_id FROM customer WHERE customer_id = %d)", k);
    expect_node(sql, node("shard3"));
}

static void test_non_colocated(void **state)
{
    (void)state;
    expect_error("SELECT * FROM customer c JOIN regional_sales r ON r.customer_id = c.customer_id", "0A000",
                 "sharded differently");
    int k = cust_key_on(node("shard2"));
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT * FROM customer c, regional_sales r WHERE c.customer_id = %d AND r.region = 'EMEA'", k);
    expect_node(sql, node("shard2"));
    snprintf(sql, sizeof sql,
             "SELECT * FROM customer c, regional_sales r WHERE c.customer_id = %d AND r.region = 'APJ'", k);
    expect_error(sql, "0A000", "customer and regional_sales");
}

static void test_pinned(void **state)
{
    (void)state;
    int k2 = cust_key_on(node("shard2")), k1 = cust_key_on(node("shard1"));
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT * FROM customer c JOIN shipment_details s USING (customer_id) WHERE c.customer_id = %d", k2);
    expect_node(sql, node("shard2"));
    snprintf(sql, sizeof sql, "SELECT * FROM customer c JOIN shipment_details s USING (customer_id) WHERE c.customer_id = %d", k1);
    expect_error(sql, "0A000", "shipment_details");
    assert_non_null(strstr(out.message, "customer"));
    expect_error("SELECT * FROM customer JOIN shipment_details USING (customer_id)", "0A000", "shipment_details");
    expect_error("SELECT * FROM shipment_details JOIN customer_details USING (id)", "0A000", "customer_details");
}

static void test_reference_tables(void **state)
{
    (void)state;
    expect_node("SELECT * FROM payments", node("shard1"));
    expect_node("SELECT * FROM currencies", node("shard2"));
    int k = cust_key_on(node("shard3"));
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT * FROM customer c JOIN payments p USING (customer_id) WHERE c.customer_id = %d", k);
    expect_node(sql, node("shard3"));
    expect_mask("SELECT * FROM customer c JOIN payments p USING (customer_id)", ALL3);
    expect_node("SELECT * FROM shipment_details JOIN currencies USING (code)", node("shard2"));
    expect_error("SELECT * FROM customer_details JOIN currencies USING (code) JOIN payments USING (id) "
                 "JOIN shipment_details USING (id)",
                 "0A000", NULL);
    k = cust_key_on(node("shard1"));
    snprintf(sql, sizeof sql, "SELECT * FROM customer c JOIN currencies USING (code) WHERE c.customer_id = %d", k);
    expect_error(sql, "0A000", "no copy on node shard1");
    /* writes go to every copy */
    expect_mask("INSERT INTO payments (id, amount) VALUES (1, 2)", ALL3);
    expect_mask("UPDATE currencies SET rate = 1", bit(1) | bit(2));
    expect_mask("DELETE FROM payments WHERE id = 3", ALL3);
    expect_error("INSERT INTO payments SELECT * FROM customer", "0A000", "reference table payments");
}

static void test_keyless_fanout_and_forbidden(void **state)
{
    (void)state;
    expect_mask("SELECT * FROM customer WHERE name = 'x'", ALL3);
    expect_mask("SELECT name FROM customer UNION ALL SELECT name FROM orders", ALL3);
    expect_mask("UPDATE customer SET name = 'x'", ALL3);
    expect_mask("DELETE FROM orders WHERE total = 0", ALL3);
    expect_mask("CREATE INDEX ON customer (name)", ALL3);
    expect_mask("TRUNCATE orders", ALL3);
    expect_mask("COPY customer FROM STDIN", ALL3);
    assert_true(out.write);
    /* keyless ORDER BY/LIMIT/aggregates reach every shard: the proxy merges
     * them (or refuses what it cannot merge, see test_merge_plan.c) */
    static const char *const merged[] = {
        "SELECT * FROM customer ORDER BY name",
        "SELECT * FROM customer LIMIT 10",
        "SELECT * FROM customer OFFSET 10",
        "SELECT count(*) FROM customer",
        "SELECT sum(total) FROM orders",
        "SELECT DISTINCT name FROM customer",
        "SELECT name FROM customer GROUP BY name",
        "SELECT c.name FROM customer c JOIN orders o USING (customer_id) ORDER BY 1",
    };
    for (size_t i = 0; i < sizeof merged / sizeof *merged; i++) expect_mask(merged[i], ALL3);
    /* with the key, the same shapes are fine */
    int k = cust_key_on(1);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM orders WHERE customer_id = %d GROUP BY status ORDER BY 1 LIMIT 3", k);
    expect_node(sql, 1);
    /* aggregates in a subquery are not top level */
    expect_mask("SELECT * FROM customer WHERE customer_id IN (SELECT max(customer_id) FROM orders)", ALL3);
    /* EXPLAIN is not a query result */
    expect_mask("EXPLAIN SELECT count(*) FROM customer", ALL3);
}

static void test_update_key_move(void **state)
{
    (void)state;
    int a = cust_key_on(0), b = cust_key_on(1), a2 = -1;
    for (int i = a + 1; i < 10000 && a2 < 0; i++) {
        char t[16];
        snprintf(t, sizeof t, "%d", i);
        if (key_node("customer_hash", t) == 0) a2 = i;
    }
    assert_true(a2 > 0);
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE customer SET customer_id = %d WHERE customer_id = %d", b, a);
    expect_error(sql, "0A000", "UPDATE would move rows of customer to another shard (key customer_id)");
    snprintf(sql, sizeof sql, "UPDATE customer SET customer_id = %d, name = 'x' WHERE customer_id = %d", a2, a);
    expect_node(sql, 0);
    snprintf(sql, sizeof sql, "UPDATE customer SET (name, customer_id) = ('x', %d) WHERE customer_id = %d", b, a);
    expect_error(sql, "0A000", "UPDATE would move rows");
    expect_error("UPDATE customer SET customer_id = 5", "0A000", "UPDATE would move rows");
    snprintf(sql, sizeof sql, "UPDATE customer SET customer_id = customer_id + 1 WHERE customer_id = %d", a);
    expect_error(sql, "0A000", "UPDATE would move rows");
    /* products: moving between physical tables */
    expect_error("UPDATE products SET product_price = 300 WHERE product_price = 50", "0A000", "products");
    assert_int_equal(route("UPDATE products SET product_price = 60 WHERE product_price = 50"), SW_ROUTE_OK);
    expect_target(0, node("shard1"), "UPDATE products_10_to_100 AS products SET product_price = 60 WHERE product_price = 50");
}

static void test_value_errors(void **state)
{
    (void)state;
    expect_error("SELECT * FROM regional_sales WHERE region = 'NA'", "22023",
                 "no shard for value 'NA' of key region in table regional_sales (function region_list)");
    expect_error("SELECT * FROM customer WHERE customer_id = 'abc'", "22P02", "abc");
    assert_non_null(strstr(out.message, "customer_id"));
    assert_non_null(strstr(out.message, "customer"));
    expect_error("SELECT * FROM customer WHERE customer_id = 4.5", "22P02", "4.5");
    expect_error("SELECT * FROM shipments WHERE ship_date = '2024-13-45'", "22P02", "ship_date");
    expect_error("INSERT INTO regional_sales (region) VALUES ('APJ'), ('XX')", "22023", "'XX'");
    /* the error explains itself in the reason too */
    assert_non_null(strstr(out.reason, "22023"));
    expect_error("SELEC * FROM customer", "42601", "syntax error");
}

/* ------------------------------------------------- local answers, overrides */

static void test_set_show_shardwire(void **state)
{
    (void)state;
    assert_int_equal(route("SET shardwire.shard = 'shard2'"), SW_ROUTE_OK);
    assert_int_equal(out.local, SW_LOCAL_SET_SHARD);
    assert_string_equal(out.local_value, "shard2");
    assert_false(out.set_local);
    assert_int_equal(out.n_targets, 0);
    assert_int_equal(out.kind, SW_SK_SET);
    assert_int_equal(route("SET LOCAL shardwire.shard TO shard3"), SW_ROUTE_OK);
    assert_string_equal(out.local_value, "shard3");
    assert_true(out.set_local);
    assert_int_equal(route("RESET shardwire.shard"), SW_ROUTE_OK);
    assert_int_equal(out.local, SW_LOCAL_SET_SHARD);
    assert_null(out.local_value);
    assert_int_equal(route("SET shardwire.shard TO DEFAULT"), SW_ROUTE_OK);
    assert_null(out.local_value);
    expect_error("SET shardwire.shard = 'nowhere'", "22023", "shard1, shard2, shard3");
    assert_int_equal(route("SET shardwire.sharding_key = '42'"), SW_ROUTE_OK);
    assert_int_equal(out.local, SW_LOCAL_SET_KEY);
    assert_string_equal(out.local_value, "42");
    assert_int_equal(route("SHOW shardwire.shard"), SW_ROUTE_OK);
    assert_int_equal(out.local, SW_LOCAL_SHOW_SETTING);
    assert_string_equal(out.local_value, "shardwire.shard");
    assert_int_equal(out.kind, SW_SK_SHOW);
    expect_error("SET shardwire.nonsense = 1", "42704", "shardwire.nonsense");
    assert_int_equal(route("SET search_path = x"), SW_ROUTE_OK);
    assert_int_equal(out.local, SW_LOCAL_NONE);
}

static void test_routing_comments(void **state)
{
    (void)state;
    expect_node("/* shard: shard3 */ SELECT * FROM customer", node("shard3"));
    assert_non_null(strstr(out.reason, "comment"));
    expect_node("SELECT count(*) FROM customer -- shard: shard2", node("shard2"));
    expect_node("/* shard: shard2 */ SELECT 1", node("shard2"));
    expect_error("/* shard: shard9 */ SELECT 1", "22023", "shard1, shard2, shard3");
    int k = cust_key_on(node("shard3"));
    char sql[200];
    snprintf(sql, sizeof sql, "/* sharding_key: %d */ SELECT * FROM orders o JOIN customer USING (customer_id)", k);
    expect_node(sql, node("shard3"));
    snprintf(sql, sizeof sql, "/* sharding_key: %d */ INSERT INTO orders (customer_id, x) VALUES (1, 2), (2, 3)", k);
    expect_node(sql, node("shard3"));
    /* an ordinary comment changes nothing */
    expect_mask("/* hello */ SELECT * FROM customer", ALL3);
}

static void test_session_overrides(void **state)
{
    (void)state;
    sw_route_in in = base_in();
    in.session.shard = "shard2";
    assert_int_equal(route_with(&in, "SELECT * FROM customer ORDER BY 1"), SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(node("shard2")));
    assert_non_null(strstr(out.reason, "session"));
    /* transaction control and settings keep "no preference" */
    assert_int_equal(route_with(&in, "BEGIN"), SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 0);
    /* a comment wins over the session */
    assert_int_equal(route_with(&in, "/* shard: shard1 */ SELECT * FROM customer"), SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(node("shard1")));
    in.session.shard = "gone";
    assert_int_equal(route_with(&in, "SELECT 1"), SW_ROUTE_ERROR);
    assert_string_equal(out.sqlstate, "22023");
    in.session.shard = NULL;
    int k = cust_key_on(node("shard1"));
    char kt[16];
    snprintf(kt, sizeof kt, "%d", k);
    in.session.sharding_key = kt;
    assert_int_equal(route_with(&in, "SELECT * FROM customer"), SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(node("shard1")));
    in.session.sharding_key = "abc";
    assert_int_equal(route_with(&in, "SELECT * FROM customer"), SW_ROUTE_ERROR);
    assert_string_equal(out.sqlstate, "22P02");
}

static void test_next_id(void **state)
{
    (void)state;
    assert_int_equal(route("SELECT shardwire_next_id('orders', 42)"), SW_ROUTE_OK);
    assert_int_equal(out.local, SW_LOCAL_NEXT_ID);
    assert_int_equal(out.kind, SW_SK_SELECT);
    assert_int_equal(out.n_targets, 0);
    int64_t id1 = out.local_id;
    assert_true(id1 > 0);
    /* the ID lands where its customer does */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT * FROM order_items WHERE order_id = %lld", (long long)id1);
    expect_node(sql, key_node("customer_hash", "42"));
    /* next one differs (sequence) and is still on the customer's node */
    assert_int_equal(route("SELECT shardwire_next_id('orders', 42)"), SW_ROUTE_OK);
    assert_true(out.local_id != id1);
    const char *v[] = {"orders", "7"};
    int32_t l[] = {6, 1};
    assert_int_equal(route_params("SELECT shardwire_next_id($1, $2)", 2, v, l, NULL), SW_ROUTE_OK);
    assert_int_equal(out.local, SW_LOCAL_NEXT_ID);
    snprintf(sql, sizeof sql, "SELECT * FROM order_items WHERE order_id = %lld", (long long)out.local_id);
    expect_node(sql, key_node("customer_hash", "7"));
    expect_error("SELECT shardwire_next_id('customer', 1)", "22023", "customer");
    expect_error("SELECT shardwire_next_id('orders', 'x')", "22P02", "x");
}

static void test_directory_lookup(void **state)
{
    (void)state;
    assert_int_equal(route("SELECT * FROM tenants WHERE customer_id = 314"), SW_ROUTE_LOOKUP);
    int fi = sw_conf_function_index(C, "customer_directory");
    assert_int_equal(out.lookup_fn, fi);
    assert_string_equal(out.lookup_key, "314");
    assert_int_equal(out.n_targets, 0);
    sw_value v;
    char buf[SW_VALUE_BUF];
    assert_int_equal(sw_value_from_text(SW_KEY_INT, "314", 3, &v, buf, sizeof buf), 0);
    assert_true(sw_shardfn_directory_store(sw_router_function_mut(R, fi), &v, "shard3", NOW_MS) >= 0);
    expect_node("SELECT * FROM tenants WHERE customer_id = 314", node("shard3"));
    /* another key of the same shape asks again */
    assert_int_equal(route("SELECT * FROM tenants WHERE customer_id = 315"), SW_ROUTE_LOOKUP);
    assert_string_equal(out.lookup_key, "315");
}

/* ---------------------------------------------------------- shape cache */

static void test_shape_cache_counters(void **state)
{
    (void)state;
    char err[256];
    sw_router *r = sw_router_new(C, err, sizeof err);
    assert_non_null(r);
    sw_route_in in = base_in();
    uint64_t hits, misses;
    size_t entries;
    sw_route_out o;
    memset(&o, 0, sizeof o);
    int a = cust_key_on(0), b = cust_key_on(2);
    char q[200];
    snprintf(q, sizeof q, "SELECT * FROM customer WHERE customer_id = %d", a);
    assert_int_equal(sw_router_route(r, &in, q, strlen(q), &o), SW_ROUTE_OK);
    assert_int_equal(o.nodes, bit(0));
    sw_route_out_clear(&o);
    /* same shape, other constant: a hit that routes elsewhere */
    snprintf(q, sizeof q, "SELECT *   FROM customer WHERE customer_id =%d", b);
    assert_int_equal(sw_router_route(r, &in, q, strlen(q), &o), SW_ROUTE_OK);
    assert_int_equal(o.nodes, bit(2));
    sw_route_out_clear(&o);
    sw_router_cache_stats(r, &hits, &misses, &entries);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 1);
    assert_int_equal(entries, 1);
    /* a new comment or alias is a new shape */
    snprintf(q, sizeof q, "/* x */ SELECT * FROM customer WHERE customer_id = %d", a);
    assert_int_equal(sw_router_route(r, &in, q, strlen(q), &o), SW_ROUTE_OK);
    sw_route_out_clear(&o);
    snprintf(q, sizeof q, "SELECT * FROM customer c WHERE customer_id = %d", a);
    assert_int_equal(sw_router_route(r, &in, q, strlen(q), &o), SW_ROUTE_OK);
    sw_route_out_clear(&o);
    /* another database is another shape */
    in.database = "other";
    snprintf(q, sizeof q, "SELECT * FROM customer WHERE customer_id = %d", a);
    assert_int_equal(sw_router_route(r, &in, q, strlen(q), &o), SW_ROUTE_OK);
    assert_int_equal(o.nodes, bit(1)); /* unlisted there */
    sw_route_out_clear(&o);
    sw_router_cache_stats(r, &hits, &misses, &entries);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 4);
    assert_int_equal(entries, 4);
    /* a parse error is not cached */
    assert_int_equal(sw_router_route(r, &in, "SELEC 1", 7, &o), SW_ROUTE_ERROR);
    assert_int_equal(sw_router_route(r, &in, "SELEC 1", 7, &o), SW_ROUTE_ERROR);
    sw_router_cache_stats(r, &hits, &misses, &entries);
    assert_int_equal(misses, 6);
    assert_int_equal(entries, 4);
    /* bounded: least recently used go */
    sw_router_set_cache_capacity(r, 2);
    sw_router_cache_stats(r, NULL, NULL, &entries);
    assert_int_equal(entries, 2);
    in.database = "shop";
    for (int i = 0; i < 10; i++) {
        snprintf(q, sizeof q, "SELECT %d AS c%d FROM payments", i, i);
        assert_int_equal(sw_router_route(r, &in, q, strlen(q), &o), SW_ROUTE_OK);
        sw_route_out_clear(&o);
    }
    sw_router_cache_stats(r, &hits, &misses, &entries);
    assert_int_equal(entries, 2);
    snprintf(q, sizeof q, "SELECT %d AS c%d FROM payments", 5, 9);
    assert_int_equal(sw_router_route(r, &in, q, strlen(q), &o), SW_ROUTE_OK);
    sw_route_out_clear(&o);
    uint64_t hits2;
    sw_router_cache_stats(r, &hits2, NULL, NULL);
    assert_int_equal(hits2, hits + 1);
    sw_router_free(r);
}

static void test_cached_plans_evaluate_fresh(void **state)
{
    (void)state;
    /* the same shape with values of every kind, twice each: the second
     * pass is served by the cache and must agree */
    for (int pass = 0; pass < 2; pass++) {
        expect_node("SELECT * FROM shipments WHERE ship_date = '2023-01-01'", 0);
        expect_node("SELECT * FROM shipments WHERE ship_date = '2025-01-01'", 2);
        expect_node("SELECT * FROM regional_sales WHERE region = E'EM\\x45A'", 1);
        expect_node("SELECT * FROM regional_sales WHERE region = 'LATAM'", 2);
        assert_int_equal(route("SET shardwire.shard = 'shard1'"), SW_ROUTE_OK);
        assert_string_equal(out.local_value, "shard1");
        assert_int_equal(route("SET shardwire.shard = 'shard3'"), SW_ROUTE_OK);
        assert_string_equal(out.local_value, "shard3");
    }
}

/* -------------------------------------------------------- multi-statement */

static void test_multi_statement(void **state)
{
    (void)state;
    int a = cust_key_on(0), b = cust_key_on(2);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT * FROM customer WHERE customer_id = %d; SELECT * FROM customer WHERE customer_id = %d", a, b);
    assert_int_equal(route(sql), SW_ROUTE_OK);
    assert_true(out.multi);
    assert_int_equal(out.kind, SW_SK_SELECT);
    assert_int_equal(out.nodes, bit(0) | bit(2));
    assert_null(out.targets[0].sql);
    assert_null(out.targets[1].sql);
    assert_int_equal(route("BEGIN; INSERT INTO regional_sales (region, amount) VALUES ('APJ', 1), ('EMEA', 2); COMMIT"),
                     SW_ROUTE_OK);
    assert_true(out.multi);
    assert_true(out.write);
    assert_int_equal(out.kind, SW_SK_BEGIN);
    assert_int_equal(out.n_targets, 2);
    expect_target(0, 0, "BEGIN; INSERT INTO regional_sales (region, amount) VALUES ('APJ', 1); COMMIT");
    expect_target(1, 1, "BEGIN; INSERT INTO regional_sales (region, amount) VALUES ('EMEA', 2); COMMIT");
    expect_error("SELECT 1; SET shardwire.shard = 'shard1'", "0A000", "own");
    expect_error("SELECT 1; SELECT * FROM regional_sales WHERE region = 'XX'", "22023", "XX");
    assert_int_equal(route("SELECT 1; SELECT 2;"), SW_ROUTE_OK);
    assert_true(out.multi);
    assert_int_equal(out.n_targets, 0);
}

/* ------------------------------------------------------------ more forms */

static void test_write_flags(void **state)
{
    (void)state;
    assert_int_equal(route("WITH x AS (INSERT INTO payments (id) VALUES (1) RETURNING *) SELECT * FROM x"), SW_ROUTE_OK);
    assert_int_equal(out.kind, SW_SK_SELECT);
    assert_true(out.write);
    assert_int_equal(out.nodes, ALL3);
    int k = cust_key_on(1);
    char sql[200];
    snprintf(sql, sizeof sql, "EXPLAIN ANALYZE UPDATE customer SET name = 'x' WHERE customer_id = %d", k);
    expect_node(sql, 1);
    assert_int_equal(out.kind, SW_SK_UPDATE);
    assert_true(out.write);
    snprintf(sql, sizeof sql, "EXPLAIN UPDATE customer SET name = 'x' WHERE customer_id = %d", k);
    expect_node(sql, 1);
    assert_false(out.write);
    snprintf(sql, sizeof sql, "SELECT * INTO newt FROM customer WHERE customer_id = %d", k);
    expect_node(sql, 1);
    assert_true(out.write);
}

static void test_nested_insert(void **state)
{
    (void)state;
    int a = cust_key_on(0), b = cust_key_on(2);
    char sql[200];
    snprintf(sql, sizeof sql, "WITH x AS (INSERT INTO customer (customer_id) VALUES (%d) RETURNING *) SELECT * FROM x", b);
    expect_node(sql, 2);
    snprintf(sql, sizeof sql,
             "WITH x AS (INSERT INTO customer (customer_id) VALUES (%d), (%d) RETURNING *) SELECT * FROM x", a, b);
    expect_error(sql, "0A000", "WITH");
}

static void test_literal_forms(void **state)
{
    (void)state;
    expect_node("SELECT * FROM regional_sales WHERE region = E'EM\\x45A'", 1);
    expect_node("SELECT * FROM regional_sales WHERE region = e'\\u0045MEA'", 1);
    expect_node("SELECT * FROM regional_sales WHERE region = $tag$EMEA$tag$", 1);
    expect_node("SELECT * FROM regional_sales WHERE region = 'EM'\n  'EA'", 1);
    expect_node("SELECT * FROM regional_sales WHERE region = N'EMEA'", 1);
    expect_node("SELECT * FROM regional_sales WHERE region = U&'\\0045MEA'", 1);
    expect_node("SELECT * FROM regional_sales WHERE region = 'EMEA'::varchar(10)", 1);
    expect_node("SELECT * FROM regional_sales WHERE region = CAST('LATAM' AS text)", 2);
    /* an array literal for ANY */
    expect_mask("SELECT * FROM regional_sales WHERE region = ANY('{APJ,\"LATAM\"}')", bit(0) | bit(2));
    expect_mask("SELECT * FROM regional_sales WHERE region = ANY('{APJ,NULL}'::text[])", bit(0));
}

static void test_uncacheable_text(void **state)
{
    (void)state;
    uint64_t h0, m0, h1, m1;
    size_t e0, e1;
    sw_router_cache_stats(R, &h0, &m0, &e0);
    for (int i = 0; i < 2; i++) expect_node("SELECT * FROM regional_sales WHERE region = U&'LATA\\004D'", 2);
    sw_router_cache_stats(R, &h1, &m1, &e1);
    assert_int_equal(h1, h0);
    assert_int_equal(m1, m0 + 2);
    assert_int_equal(e1, e0);
}

static void test_long_texts(void **state)
{
    (void)state;
    /* more than 256 tokens and 4 kB of text, more than 64 rows */
    size_t cap = 64 * 1024;
    char *sql = malloc(cap);
    assert_non_null(sql);
    size_t n = (size_t)snprintf(sql, cap, "SELECT * FROM regional_sales WHERE region IN (");
    for (int i = 0; i < 600; i++) n += (size_t)snprintf(sql + n, cap - n, "%s'%s'", i ? ", " : "", i % 2 ? "APJ" : "LATAM");
    snprintf(sql + n, cap - n, ")");
    assert_true(strlen(sql) > 4096);
    expect_mask(sql, bit(0) | bit(2));
    expect_mask(sql, bit(0) | bit(2)); /* and from the cache */
    n = (size_t)snprintf(sql, cap, "INSERT INTO regional_sales (region, n) VALUES ");
    for (int i = 0; i < 150; i++)
        n += (size_t)snprintf(sql + n, cap - n, "%s('%s', %d)", i ? ", " : "", i % 3 == 0 ? "EMEA" : "APJ", i);
    assert_int_equal(route(sql), SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 2);
    int rows[2] = {0, 0};
    for (int t = 0; t < 2; t++) {
        const char *p = out.targets[t].sql;
        assert_non_null(p);
        for (; (p = strchr(p, '(')) != NULL; p++) rows[t]++;
        rows[t]--; /* the column list */
    }
    assert_int_equal(rows[0], 100); /* APJ on shard1 */
    assert_int_equal(rows[1], 50);  /* EMEA on shard2 */
    assert_non_null(strstr(out.targets[1].sql, "VALUES ('EMEA', 0), ('EMEA', 3), "));
    /* a statement naming many tables */
    n = (size_t)snprintf(sql, cap, "SELECT * FROM customer c0");
    for (int i = 1; i < 40; i++) n += (size_t)snprintf(sql + n, cap - n, " JOIN orders o%d USING (customer_id)", i);
    int k = cust_key_on(2);
    snprintf(sql + n, cap - n, " WHERE c0.customer_id = %d", k);
    expect_node(sql, 2);
    free(sql);
}

static void test_suffix_misc(void **state)
{
    (void)state;
    assert_int_equal(route("COPY products TO STDOUT"), SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 3);
    expect_target(0, 0, "COPY products_10_to_100 TO STDOUT");
    expect_target(1, 0, "COPY products_101_to_250 TO STDOUT");
    assert_int_equal(route("TRUNCATE products"), SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 3);
    expect_target(2, 0, "TRUNCATE products_251_to_500");
    assert_int_equal(route("SELECT * FROM ONLY products WHERE product_price >= 260"), SW_ROUTE_OK);
    expect_target(0, 0, "SELECT * FROM ONLY products_251_to_500 AS products WHERE product_price >= 260");
    assert_int_equal(route("SELECT * FROM \"products\" WHERE product_price = 20.5"), SW_ROUTE_OK);
    expect_target(0, 0, "SELECT * FROM products_10_to_100 AS products WHERE product_price = 20.5");
    /* DDL runs once per physical table */
    assert_int_equal(route("DROP TABLE products"), SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 3);
    expect_target(0, 0, "DROP TABLE products_10_to_100");
    expect_target(2, 0, "DROP TABLE products_251_to_500");
    /* suffix table with a hash table on another node */
    int k = cust_key_on(1);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT * FROM products p, customer c WHERE c.customer_id = %d AND p.product_price = 20", k);
    expect_error(sql, "0A000", "sharded differently");
}

static void test_multi_with_rewrite(void **state)
{
    (void)state;
    assert_int_equal(route("SELECT 1;\nUPDATE products SET x = 1 WHERE product_price > 200"), SW_ROUTE_OK);
    assert_true(out.multi);
    assert_int_equal(out.n_targets, 1);
    expect_target(0, 0,
                  "SELECT 1; UPDATE products_101_to_250 AS products SET x = 1 WHERE product_price > 200; "
                  "UPDATE products_251_to_500 AS products SET x = 1 WHERE product_price > 200");
    assert_int_equal(route("INSERT INTO regional_sales (region) VALUES ('LATAM'), ('APJ'); SELECT * FROM payments"),
                     SW_ROUTE_OK);
    assert_int_equal(out.n_targets, 2);
    expect_target(0, 0, "INSERT INTO regional_sales (region) VALUES ('APJ'); SELECT * FROM payments");
    expect_target(1, 2, "INSERT INTO regional_sales (region) VALUES ('LATAM'); SELECT * FROM payments");
}

static void test_reason_text(void **state)
{
    (void)state;
    expect_node("SELECT * FROM customer WHERE customer_id = 42", key_node("customer_hash", "42"));
    char want[128];
    snprintf(want, sizeof want, "customer.customer_id = 42 -> customer_hash hash bucket ");
    assert_non_null(strstr(out.reason, want));
    assert_non_null(strstr(out.reason, C->nodes[out.targets[0].node].name));
    expect_node("SELECT * FROM shipments WHERE ship_date = '2024-05-01'", 1);
    assert_non_null(strstr(out.reason, "order_date_range range [2024-01-01, 2025-01-01) -> shard2"));
    expect_node("SELECT * FROM some_table", 0);
    assert_non_null(strstr(out.reason, "default node shard1"));
}

static void test_ddl_without_tables(void **state)
{
    (void)state;
    static const char *const sqls[] = {"CREATE EXTENSION IF NOT EXISTS pg_trgm", "CREATE SCHEMA s",
                                       "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
                                       "CREATE ROLE r"};
    for (size_t i = 0; i < sizeof sqls / sizeof *sqls; i++) {
        expect_none(sqls[i]);
        assert_int_equal(out.kind, SW_SK_DDL);
        assert_true(out.write);
    }
}

static void test_union_of_keyed_arms(void **state)
{
    (void)state;
    int a = cust_key_on(0), b = cust_key_on(1);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT name FROM customer WHERE customer_id = %d UNION ALL SELECT name FROM customer WHERE customer_id = %d",
             a, b);
    expect_mask(sql, bit(0) | bit(1));
    snprintf(sql, sizeof sql, "SELECT * FROM customer WHERE customer_id = %d FOR UPDATE", b);
    expect_node(sql, 1);
}

static void test_numeric_keys(void **state)
{
    (void)state;
    static const struct {
        const char *price;
        const char *table;
    } cases[] = {{"10", "products_10_to_100"},     {"100.999", "products_10_to_100"},
                 {"101", "products_101_to_250"},   {"'250.00'", "products_101_to_250"},
                 {"250.5", "products_101_to_250"}, {"251.0", "products_251_to_500"}, {"'0500.0'", "products_251_to_500"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char sql[160], want[200];
        snprintf(sql, sizeof sql, "DELETE FROM products WHERE product_price = %s", cases[i].price);
        snprintf(want, sizeof want, "DELETE FROM %s AS products WHERE product_price = %s", cases[i].table,
                 cases[i].price);
        assert_int_equal(route(sql), SW_ROUTE_OK);
        assert_int_equal(out.n_targets, 1);
        expect_target(0, 0, want);
    }
    expect_error("DELETE FROM products WHERE product_price = 501", "22023", "no shard for value 501");
}

static void test_binary_text_param(void **state)
{
    (void)state;
    const char *v[] = {"LATAM"};
    int32_t l[] = {5};
    int16_t bin[] = {1};
    assert_int_equal(route_params("SELECT * FROM regional_sales WHERE region = $1", 1, v, l, bin), SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(2));
    assert_int_equal(route_params("SELECT * FROM regional_sales WHERE region = $1::text", 1, v, l, NULL), SW_ROUTE_OK);
    assert_int_equal(out.nodes, bit(2));
    const char *bad[] = {"NORTH"};
    assert_int_equal(route_params("INSERT INTO regional_sales (region) VALUES ($1)", 1, bad, l, NULL), SW_ROUTE_ERROR);
    assert_string_equal(out.sqlstate, "22023");
}

static void test_lookup_among_keys(void **state)
{
    (void)state;
    int fi = sw_conf_function_index(C, "customer_directory");
    sw_value v;
    char buf[SW_VALUE_BUF];
    assert_int_equal(sw_value_from_text(SW_KEY_INT, "500", 3, &v, buf, sizeof buf), 0);
    assert_true(sw_shardfn_directory_store(sw_router_function_mut(R, fi), &v, "shard2", NOW_MS) >= 0);
    assert_int_equal(route("SELECT * FROM tenants WHERE customer_id IN (500, 501)"), SW_ROUTE_LOOKUP);
    assert_string_equal(out.lookup_key, "501");
    assert_int_equal(route("SELECT 1; SELECT * FROM tenants WHERE customer_id = 502"), SW_ROUTE_LOOKUP);
    assert_string_equal(out.lookup_key, "502");
    assert_true(out.multi);
    expect_node("SELECT * FROM tenants WHERE customer_id = 500", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_no_preference),
        cmocka_unit_test(test_default_node_helper),
        cmocka_unit_test(test_unlisted_and_catalog),
        cmocka_unit_test(test_unknown_database),
        cmocka_unit_test(test_quoting_case_schema_alias),
        cmocka_unit_test(test_schema_declared_table),
        cmocka_unit_test(test_tables_everywhere),
        cmocka_unit_test(test_eq_forms_and_casts),
        cmocka_unit_test(test_negative_constant),
        cmocka_unit_test(test_unbounded_forms),
        cmocka_unit_test(test_in_and_or),
        cmocka_unit_test(test_ranges_on_dates),
        cmocka_unit_test(test_list_and_ring),
        cmocka_unit_test(test_params_text_and_binary),
        cmocka_unit_test(test_params_in_any_and_dates),
        cmocka_unit_test(test_prepared_plan),
        cmocka_unit_test(test_insert_single_and_split),
        cmocka_unit_test(test_insert_split_hash_keys),
        cmocka_unit_test(test_insert_errors),
        cmocka_unit_test(test_insert_select),
        cmocka_unit_test(test_suffix_rewrite),
        cmocka_unit_test(test_suffix_writes),
        cmocka_unit_test(test_colocated_join),
        cmocka_unit_test(test_non_colocated),
        cmocka_unit_test(test_pinned),
        cmocka_unit_test(test_reference_tables),
        cmocka_unit_test(test_keyless_fanout_and_forbidden),
        cmocka_unit_test(test_update_key_move),
        cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_set_show_shardwire),
        cmocka_unit_test(test_routing_comments),
        cmocka_unit_test(test_session_overrides),
        cmocka_unit_test(test_next_id),
        cmocka_unit_test(test_directory_lookup),
        cmocka_unit_test(test_shape_cache_counters),
        cmocka_unit_test(test_cached_plans_evaluate_fresh),
        cmocka_unit_test(test_multi_statement),
        cmocka_unit_test(test_write_flags),
        cmocka_unit_test(test_nested_insert),
        cmocka_unit_test(test_literal_forms),
        cmocka_unit_test(test_uncacheable_text),
        cmocka_unit_test(test_long_texts),
        cmocka_unit_test(test_suffix_misc),
        cmocka_unit_test(test_multi_with_rewrite),
        cmocka_unit_test(test_reason_text),
        cmocka_unit_test(test_ddl_without_tables),
        cmocka_unit_test(test_union_of_keyed_arms),
        cmocka_unit_test(test_numeric_keys),
        cmocka_unit_test(test_binary_text_param),
        cmocka_unit_test(test_lookup_among_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
