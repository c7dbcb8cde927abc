/*
 * test_conf_sharding.c - unit tests for the sharding part of the
 * configuration: the top-level `functions:` list and each database's
 * `tables:`.  The full example of the format loads and every field of
 * every struct is checked (targets and their nodes, the bucket table,
 * ranges, lists, defaults, tables); the defaults, key spellings of each
 * type and table-name folding get cases of their own; and every rule the
 * loader enforces has an error case asserting the exact diagnostic, since
 * those strings are what a user sees.  Every truncation of a sharding file
 * must fail cleanly (the sanitizer build turns a leak on an error path into
 * a failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sw/conf.h"

/* Five lines: three nodes and a user; tests add functions and databases
 * below, so line numbers in expectations count from line 6. */
#define HEAD                                                    \
    "nodes:\n"                                                  \
    "  - {name: shard1, host: h1, database: shop, user: u}\n"   \
    "  - {name: shard2, host: h2, database: shop, user: u}\n"   \
    "  - {name: shard3, host: h3, database: shop, user: u}\n"   \
    "users: [{name: app, auth: trust}]\n"

/* Line 6, for cases about functions: functions start at line 7. */
#define DB "databases: [{name: shop, default_node: shard1}]\n"

/* Lines 6-10, for cases about tables: tables start at line 15. */
#define FUNCS                                                                            \
    "functions:\n"                                                                       \
    "  - {name: h, kind: hash, nodes: [shard1, shard2, shard3]}\n"                       \
    "  - {name: ids, kind: embedded, source: h}\n"                                       \
    "  - {name: bands, kind: range, ranges: [{to: 10, table: p_0}, {from: 10, table: p_10}]}\n" \
    "  - {name: h8, kind: hash, buckets: 8, nodes: [shard1, shard2]}\n"                  \
    "databases:\n"                                                                       \
    "  - name: shop\n"                                                                   \
    "    default_node: shard1\n"                                                         \
    "    tables:\n"

/* 2024-01-01T00:00:00Z in milliseconds since 1970. */
#define EPOCH_2024 INT64_C(1704067200000)

/* The example from the format's description, with nodes and users after
 * it (so functions and databases name nodes declared later). */
static const char spec_example[] =
    "functions:\n"
    "  - name: customer_hash          # required, unique identifier\n"
    "    kind: hash                   # hash | range | list | ring | directory | embedded\n"
    "    type: integer                # integer | text | numeric | date | timestamp\n"
    "    buckets: 1024\n"
    "    nodes: [shard1, shard2, shard3]\n"
    "  - name: customer_hash_explicit\n"
    "    kind: hash\n"
    "    buckets: 8\n"
    "    assign:                      # instead of nodes: every bucket exactly once\n"
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
    "      - {node: shard2, values: [EMEA]}\n"
    "      - {node: shard3, values: [LATAM]}\n"
    "    default: shard1              # optional\n"
    "  - name: customer_ring\n"
    "    kind: ring\n"
    "    type: integer\n"
    "    vnodes: 160                  # default 160\n"
    "    nodes:                       # entries are a node name or {node, weight}\n"
    "      - shard1\n"
    "      - {node: shard2, weight: 2}\n"
    "  - name: customer_directory\n"
    "    kind: directory\n"
    "    type: integer\n"
    "    node: shard1\n"
    "    query: SELECT node FROM shard_directory WHERE customer_id = $1\n"
    "    cache_ttl: 60s               # duration, default 60s\n"
    "    cache_size: 100000           # default 100000\n"
    "  - name: order_ids\n"
    "    kind: embedded\n"
    "    source: customer_hash        # required: a function of kind hash\n"
    "    seq_bits: 12                 # default 12, 0..20\n"
    "    epoch: 2024-01-01            # date or timestamp, default 2024-01-01\n"
    "\n"
    "databases:\n"
    "  - name: shop\n"
    "    default_node: shard1         # unlisted tables, catalog queries\n"
    "    tables:\n"
    "      - name: customer           # \"schema.name\" also allowed; plain = any schema\n"
    "        key: customer_id         # sharded: key column ...\n"
    "        function: customer_hash  # ... and its function\n"
    "      - name: orders\n"
    "        key: customer_id\n"
    "        function: customer_hash  # same function = co-located with customer\n"
    "        id: {column: order_id, function: order_ids}\n"
    "      - name: order_items\n"
    "        key: order_id\n"
    "        function: order_ids      # embedded source is customer_hash: co-located too\n"
    "      - name: products           # table-suffix: function targets are tables on `node`\n"
    "        key: product_price\n"
    "        function: price_bands\n"
    "        node: shard1\n"
    "      - name: payments\n"
    "        reference: true          # a copy on every node (or `nodes: [..]`)\n"
    "      - name: shipment_details   # vertical split: the whole table on one node\n"
    "        node: shard2\n"
    "      - name: customer_details\n"
    "        node: shard3\n"
    "nodes:\n"
    "  - {name: shard1, host: h1, database: shop, user: u}\n"
    "  - {name: shard2, host: h2, database: shop, user: u}\n"
    "  - {name: shard3, host: h3, database: shop, user: u}\n"
    "users: [{name: app, auth: trust}]\n";

static char err[8192];

static sw_conf *load(const char *yaml)
{
    sw_conf *c = NULL;
    int rc = sw_conf_load_string("test.yaml", yaml, strlen(yaml), &c, err, sizeof err);
    if (rc != 0) fail_msg("unexpected error:\n%s", err);
    assert_non_null(c);
    return c;
}

static void expect_error(const char *yaml, const char *expected)
{
    sw_conf *c = (sw_conf *)0x1;
    memset(err, 'x', sizeof err);
    int rc = sw_conf_load_string("test.yaml", yaml, strlen(yaml), &c, err, sizeof err);
    assert_int_equal(rc, -1);
    assert_null(c);
    assert_string_equal(err, expected);
}

static void assert_targets(const sw_conf_function *fn, int n, const char *const *names,
                           const int *nodes)
{
    assert_int_equal(fn->n_targets, n);
    for (int t = 0; t < n; t++) {
        assert_string_equal(fn->targets[t], names[t]);
        assert_int_equal(fn->target_node[t], nodes[t]);
    }
}

/* ------------------------------------------------------------ valid files */

static void test_spec_example(void **state)
{
    (void)state;
    static const char *const shards[] = {"shard1", "shard2", "shard3"};
    static const int node_idx[] = {0, 1, 2};
    static const int no_node[] = {-1, -1, -1};
    sw_conf *c = load(spec_example);
    assert_int_equal(c->n_nodes, 3);
    assert_int_equal(c->n_functions, 8);

    /* hash, even split over three nodes */
    const sw_conf_function *fn = &c->functions[0];
    assert_string_equal(fn->name, "customer_hash");
    assert_int_equal(fn->kind, SW_FN_HASH);
    assert_int_equal(fn->type, SW_KEY_INT);
    assert_int_equal(fn->line, 2);
    assert_int_equal(fn->col, 5);
    assert_int_equal(fn->buckets, 1024);
    assert_false(fn->table_targets);
    assert_targets(fn, 3, shards, node_idx);
    assert_non_null(fn->bucket_target);
    assert_int_equal(fn->bucket_target[0], 0);
    assert_int_equal(fn->bucket_target[341], 0);
    assert_int_equal(fn->bucket_target[342], 1);
    assert_int_equal(fn->bucket_target[682], 1);
    assert_int_equal(fn->bucket_target[683], 2);
    assert_int_equal(fn->bucket_target[1023], 2);
    int per[3] = {0, 0, 0};
    for (int b = 0; b < 1024; b++) per[fn->bucket_target[b]]++;
    assert_int_equal(per[0], 342);
    assert_int_equal(per[1], 341);
    assert_int_equal(per[2], 341);
    assert_null(fn->weights);
    assert_int_equal(fn->default_target, -1);
    assert_int_equal(fn->source, -1);
    assert_int_equal(fn->dir_node, -1);

    /* hash, explicit assignment */
    fn = &c->functions[1];
    assert_string_equal(fn->name, "customer_hash_explicit");
    assert_int_equal(fn->kind, SW_FN_HASH);
    assert_int_equal(fn->buckets, 8);
    assert_targets(fn, 3, shards, node_idx);
    static const int explicit_map[8] = {0, 0, 0, 0, 1, 1, 1, 2};
    for (int b = 0; b < 8; b++) assert_int_equal(fn->bucket_target[b], explicit_map[b]);

    /* range onto physical tables */
    fn = &c->functions[2];
    static const char *const bands[] = {"products_10_to_100", "products_101_to_250",
                                        "products_251_to_500"};
    assert_string_equal(fn->name, "price_bands");
    assert_int_equal(fn->kind, SW_FN_RANGE);
    assert_int_equal(fn->type, SW_KEY_NUMERIC);
    assert_true(fn->table_targets);
    assert_targets(fn, 3, bands, no_node);
    assert_null(fn->bucket_target);
    assert_int_equal(fn->n_ranges, 3);
    assert_string_equal(fn->ranges[0].from, "10");
    assert_string_equal(fn->ranges[0].to, "101");
    assert_int_equal(fn->ranges[0].target, 0);
    assert_int_equal(fn->ranges[0].line, 18);
    assert_int_equal(fn->ranges[0].col, 9);
    assert_string_equal(fn->ranges[1].from, "101");
    assert_string_equal(fn->ranges[1].to, "251");
    assert_int_equal(fn->ranges[1].target, 1);
    assert_string_equal(fn->ranges[2].from, "251");
    assert_string_equal(fn->ranges[2].to, "501");
    assert_int_equal(fn->ranges[2].target, 2);
    assert_int_equal(fn->ranges[2].line, 20);
    assert_int_equal(fn->default_target, -1);

    /* range onto nodes, open at both ends */
    fn = &c->functions[3];
    assert_string_equal(fn->name, "order_date_range");
    assert_int_equal(fn->type, SW_KEY_DATE);
    assert_false(fn->table_targets);
    assert_targets(fn, 3, shards, node_idx);
    assert_null(fn->ranges[0].from);
    assert_string_equal(fn->ranges[0].to, "2024-01-01");
    assert_string_equal(fn->ranges[1].from, "2024-01-01");
    assert_string_equal(fn->ranges[1].to, "2025-01-01");
    assert_string_equal(fn->ranges[2].from, "2025-01-01");
    assert_null(fn->ranges[2].to);
    for (int i = 0; i < 3; i++) assert_int_equal(fn->ranges[i].target, i);

    /* list with a default that is also a listed target */
    fn = &c->functions[4];
    assert_string_equal(fn->name, "region_list");
    assert_int_equal(fn->kind, SW_FN_LIST);
    assert_int_equal(fn->type, SW_KEY_TEXT);
    assert_targets(fn, 3, shards, node_idx);
    assert_int_equal(fn->n_lists, 3);
    assert_int_equal(fn->lists[0].n_values, 1);
    assert_string_equal(fn->lists[0].values[0], "APJ");
    assert_string_equal(fn->lists[1].values[0], "EMEA");
    assert_string_equal(fn->lists[2].values[0], "LATAM");
    for (int i = 0; i < 3; i++) assert_int_equal(fn->lists[i].target, i);
    assert_int_equal(fn->lists[1].line, 33);
    assert_int_equal(fn->lists[1].col, 9);
    assert_int_equal(fn->default_target, 0);

    /* ring with weights */
    fn = &c->functions[5];
    assert_string_equal(fn->name, "customer_ring");
    assert_int_equal(fn->kind, SW_FN_RING);
    assert_int_equal(fn->vnodes, 160);
    assert_targets(fn, 2, shards, node_idx);
    assert_int_equal(fn->weights[0], 1);
    assert_int_equal(fn->weights[1], 2);
    assert_null(fn->bucket_target);

    /* directory: every node is a possible answer */
    fn = &c->functions[6];
    assert_string_equal(fn->name, "customer_directory");
    assert_int_equal(fn->kind, SW_FN_DIRECTORY);
    assert_int_equal(fn->dir_node, 0);
    assert_string_equal(fn->dir_query, "SELECT node FROM shard_directory WHERE customer_id = $1");
    assert_int_equal(fn->cache_ttl_ms, 60000);
    assert_int_equal(fn->cache_size, 100000);
    assert_targets(fn, 3, shards, node_idx);

    /* embedded: the source's targets, no bucket table of its own */
    fn = &c->functions[7];
    assert_string_equal(fn->name, "order_ids");
    assert_int_equal(fn->kind, SW_FN_EMBEDDED);
    assert_int_equal(fn->type, SW_KEY_INT);
    assert_int_equal(fn->source, 0);
    assert_int_equal(fn->seq_bits, 12);
    assert_int_equal(fn->slot_bits, 10);
    assert_int_equal(fn->buckets, 1024);
    assert_true(fn->epoch_ms == EPOCH_2024);
    assert_null(fn->bucket_target);
    assert_targets(fn, 3, shards, node_idx);

    assert_int_equal(sw_conf_function_index(c, "customer_hash"), 0);
    assert_int_equal(sw_conf_function_index(c, "order_ids"), 7);
    assert_int_equal(sw_conf_function_index(c, "nope"), -1);

    /* tables */
    const sw_conf_database *db = &c->databases[0];
    assert_int_equal(db->default_node, 0);
    assert_int_equal(db->n_tables, 7);
    const sw_conf_table *t = &db->tables[0];
    assert_null(t->schema);
    assert_string_equal(t->name, "customer");
    assert_int_equal(t->kind, SW_TABLE_SHARDED);
    assert_string_equal(t->key, "customer_id");
    assert_int_equal(t->function, 0);
    assert_int_equal(t->node, -1);
    assert_null(t->nodes);
    assert_int_equal(t->n_nodes, 0);
    assert_null(t->id_column);
    assert_int_equal(t->id_function, -1);
    assert_int_equal(t->line, 60);
    assert_int_equal(t->col, 9);

    t = &db->tables[1];
    assert_string_equal(t->name, "orders");
    assert_int_equal(t->kind, SW_TABLE_SHARDED);
    assert_string_equal(t->key, "customer_id");
    assert_int_equal(t->function, 0);
    assert_string_equal(t->id_column, "order_id");
    assert_int_equal(t->id_function, 7);

    t = &db->tables[2];
    assert_string_equal(t->name, "order_items");
    assert_int_equal(t->kind, SW_TABLE_SHARDED);
    assert_string_equal(t->key, "order_id");
    assert_int_equal(t->function, 7);
    assert_int_equal(t->node, -1);

    t = &db->tables[3];
    assert_string_equal(t->name, "products");
    assert_int_equal(t->kind, SW_TABLE_SHARDED);
    assert_string_equal(t->key, "product_price");
    assert_int_equal(t->function, 2);
    assert_int_equal(t->node, 0);

    t = &db->tables[4];
    assert_string_equal(t->name, "payments");
    assert_int_equal(t->kind, SW_TABLE_REFERENCE);
    assert_null(t->key);
    assert_int_equal(t->function, -1);
    assert_int_equal(t->node, -1);
    assert_null(t->nodes); /* every node */
    assert_int_equal(t->n_nodes, 0);

    t = &db->tables[5];
    assert_string_equal(t->name, "shipment_details");
    assert_int_equal(t->kind, SW_TABLE_PINNED);
    assert_int_equal(t->node, 1);
    assert_int_equal(t->function, -1);
    t = &db->tables[6];
    assert_string_equal(t->name, "customer_details");
    assert_int_equal(t->kind, SW_TABLE_PINNED);
    assert_int_equal(t->node, 2);
    assert_int_equal(t->line, 78);
    sw_conf_free(c);
}

/* Every default, on the smallest function of each kind. */
static void test_defaults(void **state)
{
    (void)state;
    sw_conf *c = load(HEAD DB);
    assert_int_equal(c->n_functions, 0);
    assert_null(c->functions);
    assert_int_equal(c->databases[0].n_tables, 0);
    assert_null(c->databases[0].tables);
    sw_conf_free(c);

    c = load(HEAD DB
             "functions:\n"
             "  - {name: h, kind: hash, nodes: [shard2]}\n"
             "  - {name: r, kind: range, ranges: [{from: 1, node: shard1}]}\n"
             "  - {name: ring, kind: ring, nodes: [shard3]}\n"
             "  - {name: d, kind: directory, node: shard2, query: 'SELECT n FROM m WHERE k = $1'}\n"
             "  - {name: e, kind: embedded, source: h}\n");
    for (int i = 0; i < c->n_functions; i++) {
        const sw_conf_function *fn = &c->functions[i];
        assert_int_equal(fn->type, SW_KEY_INT);
        assert_int_equal(fn->buckets, 1024);
        assert_int_equal(fn->vnodes, 160);
        assert_int_equal(fn->cache_ttl_ms, 60000);
        assert_int_equal(fn->cache_size, 100000);
        assert_int_equal(fn->seq_bits, 12);
        assert_true(fn->epoch_ms == EPOCH_2024);
        assert_int_equal(fn->default_target, -1);
        assert_int_equal(fn->dir_node, i == 3 ? 1 : -1);
        assert_int_equal(fn->source, i == 4 ? 0 : -1);
        assert_false(fn->table_targets);
    }
    /* One node takes every bucket. */
    for (int b = 0; b < 1024; b++) assert_int_equal(c->functions[0].bucket_target[b], 0);
    assert_int_equal(c->functions[0].target_node[0], 1);
    assert_int_equal(c->functions[2].weights[0], 1);
    assert_int_equal(c->functions[2].target_node[0], 2);
    assert_int_equal(c->functions[4].slot_bits, 10);
    assert_int_equal(c->functions[4].target_node[0], 1);
    sw_conf_free(c);
}

/* assign: comma lists, any entry order, a node named twice; targets are
 * numbered by first mention. */
static void test_assign(void **state)
{
    (void)state;
    sw_conf *c = load(HEAD DB
                      "functions:\n"
                      "  - name: h\n"
                      "    kind: hash\n"
                      "    type: text\n"
                      "    buckets: 16\n"
                      "    assign:\n"
                      "      - {node: shard3, buckets: '12-15'}\n"
                      "      - {node: shard1, buckets: '0 - 3, 8,9'}\n"
                      "      - {node: shard3, buckets: 4-7}\n"
                      "      - {node: shard1, buckets: 10-11}\n"
                      "  - {name: e, kind: embedded, source: h, seq_bits: 0}\n");
    const sw_conf_function *fn = &c->functions[0];
    static const char *const names[] = {"shard3", "shard1"};
    static const int nodes[] = {2, 0};
    assert_targets(fn, 2, names, nodes);
    static const int expect[16] = {1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0};
    for (int b = 0; b < 16; b++) assert_int_equal(fn->bucket_target[b], expect[b]);
    assert_int_equal(fn->type, SW_KEY_TEXT);
    /* The embedded function's IDs are integers whatever its source reads. */
    fn = &c->functions[1];
    assert_int_equal(fn->type, SW_KEY_INT);
    assert_int_equal(fn->slot_bits, 4);
    assert_int_equal(fn->buckets, 16);
    assert_int_equal(fn->seq_bits, 0);
    assert_targets(fn, 2, names, nodes);
    assert_null(fn->bucket_target);
    sw_conf_free(c);
}

/* Ranges in any file order; values compared as their type, so 1.50 meets
 * 1.5 and 2024-01-01 00:00+01 meets 2023-12-31 23:00Z. */
static void test_range_values(void **state)
{
    (void)state;
    sw_conf *c = load(HEAD DB
                      "functions:\n"
                      "  - name: num\n"
                      "    kind: range\n"
                      "    type: numeric\n"
                      "    ranges:\n"
                      "      - {from: 1.5, to: '+010', node: shard2}\n"
                      "      - {from: -2.25, to: 1.50, node: shard1}\n"
                      "      - {from: 10.0, node: shard3}\n"
                      "  - name: ts\n"
                      "    kind: range\n"
                      "    type: timestamp\n"
                      "    ranges:\n"
                      "      - {to: '2023-12-31 23:00:00Z', node: shard1}\n"
                      "      - {from: '2024-01-01T00:00+01:00', to: '2024-06-01 12:00:00.5', "
                      "node: shard2}\n"
                      "      - {from: '2024-06-01 12:00:00.500000', node: shard3}\n"
                      "  - name: txt\n"
                      "    kind: range\n"
                      "    type: text\n"
                      "    ranges:\n"
                      "      - {from: m, table: names_m}\n"
                      "      - {to: M, table: names_upper}\n"
                      "      - {from: M, to: m, table: names_mid}\n"
                      "  - name: ts2\n"
                      "    kind: range\n"
                      "    type: timestamp\n"
                      "    ranges:\n"
                      "      - {to: 2024-01-01, node: shard1}\n"
                      "      - {from: '2023-12-31t19:00 -0500', to: '2024-01-01 02:00+01', "
                      "node: shard2}\n"
                      "      - {from: '2024-01-01T01:00:00z', node: shard3}\n"
                      "  - name: ints\n"
                      "    kind: range\n"
                      "    ranges:\n"
                      "      - {from: 100, to: 200, node: shard2}\n"
                      "      - {from: -5, to: 0, node: shard1}\n"
                      "    default: shard3\n");
    const sw_conf_function *fn = &c->functions[0];
    assert_string_equal(fn->ranges[0].to, "+010");
    assert_int_equal(fn->ranges[1].target, 1);
    static const char *const shards21[] = {"shard2", "shard1", "shard3"};
    static const int nodes21[] = {1, 0, 2};
    assert_targets(fn, 3, shards21, nodes21);
    assert_int_equal(c->functions[1].n_ranges, 3);
    fn = &c->functions[2];
    assert_true(fn->table_targets);
    assert_int_equal(fn->n_targets, 3);
    assert_string_equal(fn->targets[2], "names_mid");
    assert_int_equal(fn->target_node[2], -1);
    assert_int_equal(c->functions[3].n_ranges, 3);
    /* A gap is fine when a default catches it; the default is a target
     * of its own. */
    fn = &c->functions[4];
    assert_int_equal(fn->n_targets, 3);
    assert_int_equal(fn->default_target, 2);
    assert_string_equal(fn->targets[2], "shard3");
    assert_int_equal(fn->target_node[2], 2);
    sw_conf_free(c);
}

/* Lists: typed duplicates only, table targets, a default naming a new
 * target. */
static void test_lists(void **state)
{
    (void)state;
    sw_conf *c = load(HEAD DB
                      "functions:\n"
                      "  - name: l\n"
                      "    kind: list\n"
                      "    lists:\n"
                      "      - {table: t_small, values: [1, 2, 3]}\n"
                      "      - {table: t_big, values: [1000, '-7']}\n"
                      "    default: t_other\n"
                      "  - name: d\n"
                      "    kind: list\n"
                      "    type: date\n"
                      "    lists: [{node: shard3, values: [2024-02-29, 2023-02-28]}]\n");
    const sw_conf_function *fn = &c->functions[0];
    static const char *const names[] = {"t_small", "t_big", "t_other"};
    static const int nodes[] = {-1, -1, -1};
    assert_true(fn->table_targets);
    assert_targets(fn, 3, names, nodes);
    assert_int_equal(fn->default_target, 2);
    assert_int_equal(fn->lists[0].n_values, 3);
    assert_int_equal(fn->lists[1].n_values, 2);
    assert_string_equal(fn->lists[1].values[1], "-7");
    assert_int_equal(fn->lists[1].target, 1);
    assert_int_equal(c->functions[1].target_node[0], 2);
    sw_conf_free(c);
}

/* A physical table may name its own node; the others live on the node of
 * the table using the function, which may be left out when every physical
 * table names one. */
static void test_table_target_nodes(void **state)
{
    (void)state;
    sw_conf *c = load(HEAD
                      "functions:\n"
                      "  - name: sizes\n"
                      "    kind: list\n"
                      "    type: text\n"
                      "    lists:\n"
                      "      - {table: g_small, values: [S]}\n"
                      "      - {table: g_large, node: shard3, values: [L]}\n"
                      "  - name: bands\n"
                      "    kind: range\n"
                      "    ranges:\n"
                      "      - {to: 10, table: p_0, node: shard2}\n"
                      "      - {from: 10, table: p_10, node: shard1}\n"
                      "databases:\n"
                      "  - name: shop\n"
                      "    default_node: shard1\n"
                      "    tables:\n"
                      "      - {name: g, key: size, function: sizes, node: shard2}\n"
                      "      - {name: p, key: price, function: bands}\n");
    static const char *const gnames[] = {"g_small", "g_large"};
    static const int gnodes[] = {-1, 2};
    assert_true(c->functions[0].table_targets);
    assert_targets(&c->functions[0], 2, gnames, gnodes);
    static const char *const pnames[] = {"p_0", "p_10"};
    static const int pnodes[] = {1, 0};
    assert_targets(&c->functions[1], 2, pnames, pnodes);
    assert_int_equal(c->databases[0].tables[0].node, 1);
    assert_int_equal(c->databases[0].tables[1].node, -1);
    sw_conf_free(c);
    /* Without a node of its own, one physical table needs the table's. */
    expect_error(HEAD
                 "functions:\n"
                 "  - {name: l, kind: list, lists: [{table: t1, node: shard2, values: [1]}, "
                 "{table: t2, values: [2]}]}\n"
                 "databases:\n"
                 "  - name: shop\n"
                 "    default_node: shard1\n"
                 "    tables: [{name: t, key: k, function: l}]\n",
                 "test.yaml:11:42: error: table \"t\" uses table-suffix function \"l\" but names no node\n"
                 "  hint: the function's targets are tables; add node: with the node that holds them");
}

/* Table names as PostgreSQL stores them, reference copies on some nodes. */
static void test_tables(void **state)
{
    (void)state;
    sw_conf *c = load(HEAD FUNCS
                      "      - {name: Public.Orders, key: Customer_ID, function: h}\n"
                      "      - {name: '\"Sales\".\"Order Items\"', key: '\"OrderId\"', "
                      "function: h}\n"
                      "      - {name: sales.orders, node: shard3}\n"
                      "      - {name: rates, reference: true, nodes: [shard3, shard1]}\n"
                      "      - {name: '\"a\"\"b\"', reference: true}\n"
                      "      - {name: parts, key: price, function: bands, node: shard2}\n"
                      "      - name: lines\n"
                      "        key: customer_id\n"
                      "        function: h\n"
                      "        id: {column: Line_ID, function: ids}\n"
                      "  - name: crm\n"
                      "    default_node: shard2\n");
    const sw_conf_database *db = &c->databases[0];
    assert_int_equal(db->n_tables, 7);
    assert_string_equal(db->tables[0].schema, "public");
    assert_string_equal(db->tables[0].name, "orders");
    assert_string_equal(db->tables[0].key, "customer_id");
    assert_string_equal(db->tables[1].schema, "Sales");
    assert_string_equal(db->tables[1].name, "Order Items");
    assert_string_equal(db->tables[1].key, "OrderId");
    assert_string_equal(db->tables[2].schema, "sales");
    assert_int_equal(db->tables[2].kind, SW_TABLE_PINNED);
    assert_int_equal(db->tables[2].node, 2);
    const sw_conf_table *t = &db->tables[3];
    assert_int_equal(t->kind, SW_TABLE_REFERENCE);
    assert_int_equal(t->n_nodes, 2);
    assert_int_equal(t->nodes[0], 2);
    assert_int_equal(t->nodes[1], 0);
    assert_null(db->tables[4].schema);
    assert_string_equal(db->tables[4].name, "a\"b");
    assert_int_equal(db->tables[5].node, 1);
    assert_int_equal(db->tables[5].function, 2);
    assert_int_equal(db->tables[6].function, 0);
    assert_string_equal(db->tables[6].id_column, "line_id");
    assert_int_equal(db->tables[6].id_function, 1);
    assert_int_equal(c->databases[1].n_tables, 0);
    sw_conf_free(c);
}

/* Every section may come before the ones it names. */
static void test_section_order(void **state)
{
    (void)state;
    sw_conf *c = load("databases:\n"
                      "  - name: shop\n"
                      "    default_node: b\n"
                      "    tables: [{name: t, key: k, function: e}]\n"
                      "functions:\n"
                      "  - {name: e, kind: embedded, source: h, "
                      "epoch: '2020-01-01 00:00:01.999Z'}\n"
                      "  - {name: h, kind: hash, buckets: 2, nodes: [b, a]}\n"
                      "nodes:\n"
                      "  - {name: a, host: h, database: d, user: u}\n"
                      "  - {name: b, host: h, database: d, user: u}\n"
                      "users: [{name: app, auth: trust}]\n");
    const sw_conf_function *e = &c->functions[0];
    assert_int_equal(e->source, 1);
    assert_int_equal(e->slot_bits, 1);
    assert_true(e->epoch_ms == INT64_C(1577836801999));
    assert_int_equal(e->n_targets, 2);
    assert_string_equal(e->targets[0], "b");
    assert_int_equal(e->target_node[0], 1);
    assert_int_equal(e->target_node[1], 0);
    assert_int_equal(c->functions[1].bucket_target[0], 0);
    assert_int_equal(c->functions[1].bucket_target[1], 1);
    assert_int_equal(c->databases[0].tables[0].function, 0);
    sw_conf_free(c);
}

/* Optional lists with every entry commented out are empty. */
static void test_empty_lists(void **state)
{
    (void)state;
    sw_conf *c = load(HEAD
                      "functions:\n"
                      "#  - {name: h, kind: hash, nodes: [shard1]}\n"
                      "databases:\n"
                      "  - name: shop\n"
                      "    default_node: shard1\n"
                      "    tables:\n"
                      "#      - {name: t, node: shard1}\n");
    assert_int_equal(c->n_functions, 0);
    assert_int_equal(c->databases[0].n_tables, 0);
    sw_conf_free(c);
}

/* Exactly 64 nodes load; the 65th is refused (error case below). */
static char *many_nodes(int n)
{
    size_t cap = (size_t)n * 64 + 256;
    char *yaml = malloc(cap);
    assert_non_null(yaml);
    size_t used = (size_t)snprintf(yaml, cap, "nodes:\n");
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(yaml + used, cap - used,
                                 "  - {name: n%d, host: h, database: d, user: u}\n", i);
    snprintf(yaml + used, cap - used,
             "databases: [{name: d, default_node: n0}]\nusers: [{name: a, auth: trust}]\n");
    return yaml;
}

static void test_node_limit(void **state)
{
    (void)state;
    char *yaml = many_nodes(64);
    sw_conf *c = load(yaml);
    assert_int_equal(c->n_nodes, 64);
    sw_conf_free(c);
    free(yaml);

    yaml = many_nodes(65);
    expect_error(yaml, "test.yaml:2:3: error: nodes has 65 entries, more than the 64 allowed");
    free(yaml);
}

static void test_example_file(void **state)
{
    (void)state;
    sw_conf *c = NULL;
    if (sw_conf_load("../../config/shardwire.yaml", &c, err, sizeof err) != 0) fail_msg("%s", err);
    /* One function of each kind, in enum order. */
    assert_int_equal(c->n_functions, 6);
    for (int i = 0; i < c->n_functions; i++) {
        const sw_conf_function *fn = &c->functions[i];
        assert_int_equal(fn->kind, i);
        assert_int_equal(fn->n_targets, 2);
        assert_int_equal(sw_conf_function_index(c, fn->name), i);
    }
    /* Where the example spells out a default, it must be the default. */
    const sw_conf_function *hash = &c->functions[SW_FN_HASH];
    assert_int_equal(hash->buckets, 1024);
    assert_int_equal(hash->type, SW_KEY_INT);
    assert_int_equal(c->functions[SW_FN_RING].vnodes, 160);
    assert_int_equal(c->functions[SW_FN_DIRECTORY].cache_ttl_ms, 60000);
    assert_int_equal(c->functions[SW_FN_DIRECTORY].cache_size, 100000);
    assert_int_equal(c->functions[SW_FN_EMBEDDED].seq_bits, 12);
    assert_true(c->functions[SW_FN_EMBEDDED].epoch_ms == EPOCH_2024);
    const sw_conf_database *db = &c->databases[0];
    assert_int_equal(db->n_tables, 5);
    assert_int_equal(db->tables[0].kind, SW_TABLE_SHARDED);
    assert_int_equal(db->tables[1].id_function, SW_FN_EMBEDDED);
    assert_int_equal(db->tables[3].kind, SW_TABLE_REFERENCE);
    assert_int_equal(db->tables[4].kind, SW_TABLE_PINNED);
    sw_conf_free(c);
}

/* Every prefix of the example either loads or fails with a diagnostic. */
static void test_truncations(void **state)
{
    (void)state;
    size_t len = strlen(spec_example);
    int ok = 0;
    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, spec_example, n);
        sw_conf *c = NULL;
        err[0] = '\0';
        if (sw_conf_load_string("t.yaml", copy, n, &c, err, sizeof err) == 0) {
            ok++;
            sw_conf_free(c);
        } else {
            assert_null(c);
            assert_true(strncmp(err, "t.yaml:", 7) == 0);
        }
        free(copy);
    }
    assert_true(ok >= 1);
}

/* ------------------------------------------------------------ error cases */

typedef struct error_case {
    const char *name;
    const char *yaml;
    const char *expected;
} error_case;

static const error_case error_cases[] = {
    /* ---- keys */
    {"function_unknown_key",
     HEAD DB
     "functions:\n"
     "  - name: h\n"
     "    kind: hash\n"
     "    bukets: 8\n"
     "    nodes: [shard1]\n",
     "test.yaml:10:5: error: unknown key \"bukets\" in functions[0]\n"
     "  hint: did you mean \"buckets\"?"},
    {"range_entry_unknown_key",
     HEAD DB
     "functions:\n"
     "  - {name: r, kind: range, ranges: [{from: 1, too: 2, node: shard1}]}\n",
     "test.yaml:8:47: error: unknown key \"too\" in functions[0].ranges[0]\n"
     "  hint: did you mean \"to\"?"},
    {"table_unknown_key",
     HEAD FUNCS
     "      - name: customer\n"
     "        key: id\n"
     "        fucntion: h\n",
     "test.yaml:17:9: error: unknown key \"fucntion\" in databases[0].tables[0]\n"
     "  hint: did you mean \"function\"?"},
    {"weighted_node_unknown_key",
     HEAD DB
     "functions:\n"
     "  - {name: r, kind: ring, nodes: [shard1, {node: shard2, wieght: 2}]}\n",
     "test.yaml:8:58: error: unknown key \"wieght\" in functions[0].nodes[1]\n"
     "  hint: did you mean \"weight\"?"},
    {"bad_kind",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hashed, nodes: [shard1]}\n",
     "test.yaml:8:21: error: functions[0].kind must be one of \"hash\", \"range\", \"list\", "
     "\"ring\", \"directory\", \"embedded\", got \"hashed\"\n"
     "  hint: did you mean \"hash\"?"},
    {"bad_type",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, type: int, nodes: [shard1]}\n",
     "test.yaml:8:33: error: functions[0].type must be one of \"integer\", \"text\", \"numeric\", "
     "\"date\", \"timestamp\", got \"int\""},
    {"key_of_other_kind",
     HEAD DB
     "functions:\n"
     "  - name: h\n"
     "    kind: hash\n"
     "    vnodes: 100\n"
     "    nodes: [shard1]\n",
     "test.yaml:10:5: error: functions[0].vnodes does not apply to a hash function\n"
     "  hint: a hash function takes name, kind, type, buckets, nodes, assign"},
    {"type_on_embedded",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, nodes: [shard1]}\n"
     "  - {name: e, kind: embedded, source: h, type: text, buckets: 8}\n",
     "test.yaml:9:42: error: functions[1].type does not apply to an embedded function\n"
     "  hint: an embedded function takes name, kind, source, seq_bits, epoch\n"
     "test.yaml:9:54: error: functions[1].buckets does not apply to an embedded function\n"
     "  hint: an embedded function takes name, kind, source, seq_bits, epoch"},
    {"function_missing_kind",
     HEAD DB
     "functions:\n"
     "  - {name: h, nodes: [shard1]}\n",
     "test.yaml:8:5: error: function is missing required key \"kind\""},
    /* ---- names */
    {"duplicate_function_name",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, nodes: [shard1]}\n"
     "  - {name: r, kind: ring, nodes: [shard1]}\n"
     "  - {name: h, kind: ring, nodes: [shard2]}\n",
     "test.yaml:10:12: error: duplicate function name \"h\", first defined at line 8"},
    {"unknown_node_in_hash",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, nodes: [shard1, shard4]}\n",
     "test.yaml:8:43: error: functions[0].nodes[1] names unknown node \"shard4\"\n"
     "  hint: known nodes: shard1, shard2, shard3"},
    {"unknown_node_reported_once",
     HEAD DB
     "functions:\n"
     "  - name: r\n"
     "    kind: list\n"
     "    lists:\n"
     "      - {node: shard9, values: [1]}\n"
     "      - {node: shard9, values: [2]}\n"
     "    default: shard0\n",
     "test.yaml:11:16: error: functions[0].lists[0].node names unknown node \"shard9\"\n"
     "  hint: known nodes: shard1, shard2, shard3\n"
     "test.yaml:13:14: error: functions[0].default names unknown node \"shard0\"\n"
     "  hint: known nodes: shard1, shard2, shard3"},
    {"unknown_directory_node",
     HEAD DB
     "functions:\n"
     "  - {name: d, kind: directory, node: dir, query: 'SELECT n FROM m WHERE k = $1'}\n",
     "test.yaml:8:38: error: functions[0].node names unknown node \"dir\"\n"
     "  hint: known nodes: shard1, shard2, shard3"},
    {"unknown_table_function",
     HEAD FUNCS
     "      - {name: customer, key: id, function: customer_hash}\n",
     "test.yaml:15:45: error: databases[0].tables[0].function names unknown function "
     "\"customer_hash\"\n"
     "  hint: known functions: h, ids, bands, h8"},
    {"unknown_table_function_none_declared",
     HEAD
     "databases:\n"
     "  - name: shop\n"
     "    default_node: shard1\n"
     "    tables: [{name: customer, key: id, function: h}]\n",
     "test.yaml:9:50: error: databases[0].tables[0].function names unknown function \"h\"\n"
     "  hint: no functions are declared"},
    {"unknown_table_node",
     HEAD FUNCS
     "      - {name: audit, node: shard7}\n",
     "test.yaml:15:29: error: databases[0].tables[0].node names unknown node \"shard7\"\n"
     "  hint: known nodes: shard1, shard2, shard3"},
    {"unknown_reference_node",
     HEAD FUNCS
     "      - {name: rates, reference: true, nodes: [shard1, shard5]}\n",
     "test.yaml:15:56: error: databases[0].tables[0].nodes[1] names unknown node \"shard5\"\n"
     "  hint: known nodes: shard1, shard2, shard3"},
    /* ---- required keys per kind */
    {"hash_without_nodes",
     HEAD DB
     "functions:\n"
     "  - name: h\n"
     "    kind: hash\n"
     "    buckets: 8\n",
     "test.yaml:8:5: error: hash function \"h\" is missing required key \"nodes\" or \"assign\""},
    {"hash_with_nodes_and_assign",
     HEAD DB
     "functions:\n"
     "  - name: h\n"
     "    kind: hash\n"
     "    nodes: [shard1]\n"
     "    assign: [{node: shard1, buckets: 0-1023}]\n",
     "test.yaml:11:5: error: functions[0] has both nodes and assign\n"
     "  hint: nodes spreads the buckets evenly in list order, assign gives them out "
     "explicitly; keep one"},
    {"range_without_ranges",
     HEAD DB
     "functions:\n"
     "  - {name: r, kind: range, type: date}\n",
     "test.yaml:8:5: error: range function \"r\" is missing required key \"ranges\""},
    {"range_with_empty_ranges",
     HEAD DB
     "functions:\n"
     "  - {name: r, kind: range, ranges: []}\n",
     "test.yaml:8:36: error: functions[0].ranges must not be empty"},
    {"list_without_lists",
     HEAD DB
     "functions:\n"
     "  - {name: l, kind: list, default: shard1}\n",
     "test.yaml:8:5: error: list function \"l\" is missing required key \"lists\""},
    {"ring_without_nodes",
     HEAD DB
     "functions:\n"
     "  - {name: r, kind: ring, vnodes: 10}\n",
     "test.yaml:8:5: error: ring function \"r\" is missing required key \"nodes\""},
    {"directory_without_node_and_query",
     HEAD DB
     "functions:\n"
     "  - {name: d, kind: directory, cache_ttl: 5m}\n",
     "test.yaml:8:5: error: directory function \"d\" is missing required key \"node\"\n"
     "test.yaml:8:5: error: directory function \"d\" is missing required key \"query\""},
    {"embedded_without_source",
     HEAD DB
     "functions:\n"
     "  - {name: e, kind: embedded, seq_bits: 10}\n",
     "test.yaml:8:5: error: embedded function \"e\" is missing required key \"source\""},
    {"list_entry_without_values",
     HEAD DB
     "functions:\n"
     "  - {name: l, kind: list, lists: [{node: shard1}]}\n",
     "test.yaml:8:35: error: list is missing required key \"values\""},
    {"range_entry_without_target",
     HEAD DB
     "functions:\n"
     "  - {name: r, kind: range, ranges: [{from: 1, to: 2}]}\n",
     "test.yaml:8:37: error: range is missing required key \"node\" or \"table\""},
    {"physical_table_on_two_nodes",
     HEAD DB
     "functions:\n"
     "  - {name: l, kind: list, lists: [{table: t1, node: shard1, values: [1]}, "
     "{table: t1, node: shard2, values: [2]}]}\n",
     "test.yaml:8:93: error: functions[0].lists[1].node puts physical table \"t1\" on node "
     "\"shard2\", but an earlier entry put it on \"shard1\""},
    /* ---- hash buckets */
    {"buckets_not_power_of_two",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, buckets: 1000, nodes: [shard1]}\n",
     "test.yaml:8:36: error: functions[0].buckets must be a power of two, got \"1000\"\n"
     "  hint: the nearest are 512 and 1024"},
    {"buckets_too_many",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, buckets: 131072, nodes: [shard1]}\n",
     "test.yaml:8:36: error: functions[0].buckets must be an integer between 1 and 65536, got "
     "\"131072\""},
    {"more_nodes_than_buckets",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, buckets: 2, nodes: [shard1, shard2, shard3]}\n",
     "test.yaml:8:46: error: functions[0].nodes lists 3 nodes, more than the function's 2 "
     "buckets\n"
     "  hint: every node needs at least one bucket; raise buckets"},
    {"hash_node_listed_twice",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, nodes: [shard1, shard2, shard1]}\n",
     "test.yaml:8:51: error: functions[0].nodes lists node \"shard1\" twice"},
    {"hash_node_weight",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, nodes: [shard1, {node: shard2, weight: 3}]}\n",
     "test.yaml:8:58: error: functions[0].nodes[1].weight does not apply to a hash function\n"
     "  hint: buckets are spread evenly over the nodes; use assign: to give a node more of them"},
    {"bucket_assigned_twice",
     HEAD DB
     "functions:\n"
     "  - name: h\n"
     "    kind: hash\n"
     "    buckets: 8\n"
     "    assign:\n"
     "      - {node: shard1, buckets: \"0-3\"}\n"
     "      - {node: shard2, buckets: \"3-7\"}\n",
     "test.yaml:13:33: error: functions[0].assign[1] assigns bucket 3 again: assign[0] at line "
     "12 already has it"},
    {"bucket_not_assigned",
     HEAD DB
     "functions:\n"
     "  - name: h\n"
     "    kind: hash\n"
     "    buckets: 16\n"
     "    assign:\n"
     "      - {node: shard1, buckets: \"0-3, 6\"}\n"
     "      - {node: shard2, buckets: \"8-12\"}\n",
     "test.yaml:11:5: error: functions[0].assign leaves buckets 4-5, 7, 13-15 unassigned\n"
     "  hint: every bucket from 0 to 15 goes to exactly one node"},
    {"one_bucket_not_assigned",
     HEAD DB
     "functions:\n"
     "  - name: h\n"
     "    kind: hash\n"
     "    buckets: 8\n"
     "    assign: [{node: shard1, buckets: 0-6}]\n",
     "test.yaml:11:5: error: functions[0].assign leaves bucket 7 unassigned\n"
     "  hint: every bucket from 0 to 7 goes to exactly one node"},
    {"bucket_out_of_range",
     HEAD DB
     "functions:\n"
     "  - name: h\n"
     "    kind: hash\n"
     "    buckets: 8\n"
     "    assign: [{node: shard1, buckets: 0-8}]\n",
     "test.yaml:11:38: error: functions[0].assign[0].buckets names bucket 8, but the function "
     "has 8 buckets (0-7)"},
    {"bucket_syntax",
     HEAD DB
     "functions:\n"
     "  - name: h\n"
     "    kind: hash\n"
     "    buckets: 8\n"
     "    assign: [{node: shard1, buckets: '7-0'}]\n",
     "test.yaml:11:38: error: functions[0].assign[0].buckets must list buckets like \"7\" or "
     "\"0-3, 8\", got \"7-0\"\n"
     "  hint: give single buckets or ranges from low to high, separated by commas"},
    {"bucket_list_trailing_comma",
     HEAD DB
     "functions:\n"
     "  - name: h\n"
     "    kind: hash\n"
     "    buckets: 4\n"
     "    assign: [{node: shard1, buckets: '0-1, 2,'}, {node: shard2, buckets: 3}]\n",
     "test.yaml:11:38: error: functions[0].assign[0].buckets must list buckets like \"7\" or "
     "\"0-3, 8\", got \"0-1, 2,\"\n"
     "  hint: give single buckets or ranges from low to high, separated by commas"},
    {"assign_entry_missing_buckets",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, assign: [{node: shard1}]}\n",
     "test.yaml:8:36: error: bucket assignment is missing required key \"buckets\""},
    /* ---- range and list values */
    {"range_bound_not_integer",
     HEAD DB
     "functions:\n"
     "  - {name: r, kind: range, ranges: [{from: 1, to: 1e3, node: shard1}]}\n",
     "test.yaml:8:51: error: functions[0].ranges[0].to must be an integer, got \"1e3\"\n"
     "  hint: function \"r\" has type integer: write whole numbers from -9223372036854775808 to "
     "9223372036854775807"},
    {"range_bound_not_numeric",
     HEAD DB
     "functions:\n"
     "  - {name: r, kind: range, type: numeric, ranges: [{from: 1.2.3, node: shard1}]}\n",
     "test.yaml:8:59: error: functions[0].ranges[0].from must be a number, got \"1.2.3\"\n"
     "  hint: function \"r\" has type numeric: write decimals like -12.50, without exponent"},
    {"range_bound_not_date",
     HEAD DB
     "functions:\n"
     "  - name: r\n"
     "    kind: range\n"
     "    type: date\n"
     "    ranges:\n"
     "      - {from: 2023-02-29, node: shard1}\n",
     "test.yaml:12:16: error: functions[0].ranges[0].from must be a date, got \"2023-02-29\"\n"
     "  hint: function \"r\" has type date: write YYYY-MM-DD"},
    {"range_bound_not_timestamp",
     HEAD DB
     "functions:\n"
     "  - name: r\n"
     "    kind: range\n"
     "    type: timestamp\n"
     "    ranges:\n"
     "      - {to: '2024-01-01 24:00', node: shard1}\n",
     "test.yaml:12:14: error: functions[0].ranges[0].to must be a timestamp, got \"2024-01-01 "
     "24:00\"\n"
     "  hint: function \"r\" has type timestamp: write YYYY-MM-DD[ HH:MM[:SS[.ffffff]]], in "
     "UTC unless it ends in Z or +HH:MM"},
    {"range_bound_mapping",
     HEAD DB
     "functions:\n"
     "  - {name: r, kind: range, ranges: [{from: {a: 1}, node: shard1}]}\n",
     "test.yaml:8:44: error: functions[0].ranges[0].from must be a value, got a mapping"},
    {"range_from_not_below_to",
     HEAD DB
     "functions:\n"
     "  - name: r\n"
     "    kind: range\n"
     "    ranges:\n"
     "      - {from: 10, to: 20, node: shard1}\n"
     "      - {from: 30, to: 030, node: shard2}\n",
     "test.yaml:12:9: error: functions[0].ranges[1] [30, 030) is empty: from must be below to\n"
     "  hint: ranges are half-open: [from, to) holds from but not to"},
    {"ranges_overlap",
     HEAD DB
     "functions:\n"
     "  - name: r\n"
     "    kind: range\n"
     "    type: numeric\n"
     "    ranges:\n"
     "      - {from: 10, to: 101, table: p_10}\n"
     "      - {from: 101, to: 251, table: p_101}\n"
     "      - {from: 250.99, to: 501, table: p_251}\n",
     "test.yaml:14:9: error: functions[0].ranges[2] [250.99, 501) overlaps ranges[1] [101, 251) "
     "at line 13"},
    {"ranges_overlap_open_ends",
     HEAD DB
     "functions:\n"
     "  - name: r\n"
     "    kind: range\n"
     "    type: date\n"
     "    ranges:\n"
     "      - {from: 2025-01-01, node: shard3}\n"
     "      - {to: 2024-01-01, node: shard1}\n"
     "      - {from: 2024-01-01, node: shard2}\n",
     "test.yaml:14:9: error: functions[0].ranges[2] [2024-01-01, +inf) overlaps ranges[0] "
     "[2025-01-01, +inf) at line 12"},
    {"ranges_contained",
     HEAD DB
     "functions:\n"
     "  - name: r\n"
     "    kind: range\n"
     "    type: text\n"
     "    ranges:\n"
     "      - {from: a, to: z, node: shard1}\n"
     "      - {from: m, to: n, node: shard2}\n",
     "test.yaml:13:9: error: functions[0].ranges[1] [\"m\", \"n\") overlaps ranges[0] [\"a\", "
     "\"z\") at line 12"},
    {"ranges_gap_without_default",
     HEAD DB
     "functions:\n"
     "  - name: r\n"
     "    kind: range\n"
     "    ranges:\n"
     "      - {from: 300, to: 400, node: shard3}\n"
     "      - {from: 0, to: 100, node: shard1}\n"
     "      - {from: 100, to: 200, node: shard2}\n",
     "test.yaml:13:9: error: functions[0].ranges leave a gap [200, 300) between ranges[2] at "
     "line 13 and ranges[0] at line 11\n"
     "  hint: extend a range to close it, or add default: with a node for values that match no "
     "range"},
    {"list_value_twice",
     HEAD DB
     "functions:\n"
     "  - name: l\n"
     "    kind: list\n"
     "    type: text\n"
     "    lists:\n"
     "      - {node: shard1, values: [APJ, EMEA]}\n"
     "      - {node: shard2, values: [LATAM, EMEA]}\n",
     "test.yaml:13:40: error: functions[0].lists[1].values[1] \"EMEA\" is already listed in "
     "lists[0] at line 12"},
    {"list_value_twice_typed",
     HEAD DB
     "functions:\n"
     "  - name: l\n"
     "    kind: list\n"
     "    type: numeric\n"
     "    lists:\n"
     "      - {node: shard1, values: [1.50, 2, 1.5]}\n",
     "test.yaml:12:42: error: functions[0].lists[0].values[2] \"1.5\" is already listed in "
     "lists[0] at line 12"},
    {"list_value_not_integer",
     HEAD DB
     "functions:\n"
     "  - {name: l, kind: list, lists: [{node: shard1, values: [1, two]}]}\n",
     "test.yaml:8:62: error: functions[0].lists[0].values[1] must be an integer, got \"two\"\n"
     "  hint: function \"l\" has type integer: write whole numbers from -9223372036854775808 to "
     "9223372036854775807"},
    {"list_values_empty",
     HEAD DB
     "functions:\n"
     "  - {name: l, kind: list, lists: [{node: shard1, values: []}]}\n",
     "test.yaml:8:58: error: functions[0].lists[0].values must not be empty\n"
     "  hint: write values: [a, b, c]"},
    {"mixed_node_and_table",
     HEAD DB
     "functions:\n"
     "  - name: r\n"
     "    kind: range\n"
     "    ranges:\n"
     "      - {to: 10, table: p_low}\n"
     "      - {from: 10, node: shard2}\n",
     "test.yaml:12:20: error: functions[0].ranges[1] names a node, but ranges[0] names a table\n"
     "  hint: the entries of one function all name nodes, or all name physical tables "
     "(table-suffix sharding)"},
    /* ---- ring, directory, embedded */
    {"ring_weight_out_of_range",
     HEAD DB
     "functions:\n"
     "  - {name: r, kind: ring, nodes: [{node: shard1, weight: 0}]}\n",
     "test.yaml:8:58: error: functions[0].nodes[0].weight must be an integer between 1 and 100, "
     "got \"0\""},
    {"directory_query_without_parameter",
     HEAD DB
     "functions:\n"
     "  - {name: d, kind: directory, node: shard1, query: 'SELECT n FROM m WHERE k = $10'}\n",
     "test.yaml:8:53: error: functions[0].query must use $1 for the key\n"
     "  hint: for example: SELECT node FROM shard_directory WHERE customer_id = $1"},
    {"embedded_source_not_hash",
     HEAD DB
     "functions:\n"
     "  - {name: r, kind: ring, nodes: [shard1]}\n"
     "  - {name: e, kind: embedded, source: r}\n",
     "test.yaml:9:39: error: functions[1].source must name a hash function, but \"r\" is a ring "
     "function\n"
     "  hint: an embedded ID carries the bucket of a hash function's key"},
    {"embedded_source_unknown",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, nodes: [shard1]}\n"
     "  - {name: e, kind: embedded, source: hh}\n",
     "test.yaml:9:39: error: functions[1].source names unknown function \"hh\"\n"
     "  hint: known functions: h, e"},
    {"embedded_seq_bits_too_many",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, nodes: [shard1]}\n"
     "  - {name: e, kind: embedded, source: h, seq_bits: 21}\n",
     "test.yaml:9:52: error: functions[1].seq_bits must be an integer between 0 and 20, got "
     "\"21\""},
    {"embedded_ids_run_out",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, buckets: 65536, nodes: [shard1]}\n"
     "  - {name: e, kind: embedded, source: h}\n",
     "test.yaml:9:39: error: IDs of function \"e\" would run out 397 days after its epoch: 16 "
     "slot bits (from \"h\") and 12 sequence bits leave 35 bits of milliseconds\n"
     "  hint: keep slot bits + seq_bits at most 24: lower seq_bits, or the source's buckets"},
    {"embedded_bad_epoch",
     HEAD DB
     "functions:\n"
     "  - {name: h, kind: hash, nodes: [shard1]}\n"
     "  - {name: e, kind: embedded, source: h, epoch: 2024-1-1}\n",
     "test.yaml:9:49: error: functions[1].epoch must be a date or timestamp, got \"2024-1-1\"\n"
     "  hint: write YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, in UTC unless it ends in Z or +HH:MM"},
    /* ---- tables */
    {"table_reference_and_key",
     HEAD FUNCS
     "      - name: payments\n"
     "        reference: true\n"
     "        key: payment_id\n"
     "        function: h\n",
     "test.yaml:17:9: error: table \"payments\" has both reference and key\n"
     "  hint: a reference table is copied whole to every node, a sharded one is spread by its "
     "key; keep one"},
    {"table_reference_and_node",
     HEAD FUNCS
     "      - {name: rates, reference: true, node: shard1}\n",
     "test.yaml:15:40: error: table \"rates\" has both reference and node\n"
     "  hint: a reference table is copied to every node, or to those listed in nodes: [...]"},
    {"table_nodes_without_reference",
     HEAD FUNCS
     "      - {name: rates, nodes: [shard1]}\n",
     "test.yaml:15:23: error: databases[0].tables[0].nodes applies only to reference tables\n"
     "  hint: add reference: true, or use node: to keep the table on one node"},
    {"table_key_without_function",
     HEAD FUNCS
     "      - name: customer\n"
     "        key: customer_id\n",
     "test.yaml:15:9: error: table \"customer\" has key but no function\n"
     "  hint: add function: with the sharding function for column customer_id"},
    {"table_function_without_key",
     HEAD FUNCS
     "      - {name: customer, function: h}\n",
     "test.yaml:15:9: error: table \"customer\" has function but no key\n"
     "  hint: add key: with the column the function reads"},
    {"table_without_placement",
     HEAD FUNCS
     "      - {name: customer, reference: false}\n",
     "test.yaml:15:9: error: table \"customer\" has no key, reference or node\n"
     "  hint: give key and function to shard it, reference: true to copy it to every node, or "
     "node to keep it on one; unlisted tables live on the database's default node"},
    {"table_suffix_without_node",
     HEAD FUNCS
     "      - {name: products, key: price, function: bands}\n",
     "test.yaml:15:48: error: table \"products\" uses table-suffix function \"bands\" but names "
     "no node\n"
     "  hint: the function's targets are tables; add node: with the node that holds them"},
    {"node_function_with_node_and_key",
     HEAD FUNCS
     "      - {name: customer, key: id, function: h, node: shard1}\n",
     "test.yaml:15:48: error: table \"customer\" names a node, but its function \"h\" places rows "
     "on nodes itself\n"
     "  hint: drop node:, or drop key and function to keep the whole table on that node"},
    {"duplicate_table_name",
     HEAD FUNCS
     "      - {name: customer, key: id, function: h}\n"
     "      - {name: orders, node: shard2}\n"
     "      - {name: Customer, node: shard3}\n",
     "test.yaml:17:16: error: duplicate table name \"Customer\", first defined at line 15"},
    {"table_any_schema_clash",
     HEAD FUNCS
     "      - {name: sales.orders, node: shard2}\n"
     "      - {name: crm.orders, node: shard2}\n"
     "      - {name: orders, node: shard3}\n",
     "test.yaml:17:16: error: table \"orders\" clashes with \"sales.orders\" at line 15\n"
     "  hint: a name without schema matches the table in every schema; qualify both, or keep one"},
    {"bad_table_name",
     HEAD FUNCS
     "      - {name: a.b.c, node: shard2}\n",
     "test.yaml:15:16: error: databases[0].tables[0].name must be a table name or schema.table, "
     "got \"a.b.c\"\n"
     "  hint: unquoted names are folded to lower case; write '\"Name\"' to keep capitals or "
     "other characters"},
    {"bad_key_column",
     HEAD FUNCS
     "      - {name: t, key: 'order id', function: h}\n",
     "test.yaml:15:24: error: databases[0].tables[0].key must be a column name, got \"order "
     "id\"\n"
     "  hint: unquoted names are folded to lower case; write '\"Name\"' to keep capitals or "
     "other characters"},
    {"id_function_not_embedded",
     HEAD FUNCS
     "      - name: orders\n"
     "        key: customer_id\n"
     "        function: h\n"
     "        id: {column: order_id, function: h8}\n",
     "test.yaml:18:42: error: databases[0].tables[0].id.function must name an embedded "
     "function, but \"h8\" is a hash function\n"
     "  hint: shardwire_next_id makes IDs with an embedded function"},
    {"id_function_other_source",
     HEAD FUNCS
     "      - name: orders\n"
     "        key: customer_id\n"
     "        function: h8\n"
     "        id: {column: order_id, function: ids}\n",
     "test.yaml:18:42: error: databases[0].tables[0].id.function \"ids\" carries buckets of "
     "\"h\", but the table is sharded by \"h8\"\n"
     "  hint: use an embedded function whose source is \"h8\""},
    {"id_missing_column",
     HEAD FUNCS
     "      - {name: orders, key: customer_id, function: h, id: {function: ids}}\n",
     "test.yaml:15:59: error: id is missing required key \"column\""},
    {"id_on_pinned_table",
     HEAD FUNCS
     "      - {name: audit, node: shard1, id: {column: audit_id, function: ids}}\n",
     "test.yaml:15:37: error: databases[0].tables[0].id needs a sharded table\n"
     "  hint: IDs are made from the key of a table with key and function"},
    {"tables_not_a_sequence",
     HEAD
     "databases:\n"
     "  - name: shop\n"
     "    default_node: shard1\n"
     "    tables: {name: t}\n",
     "test.yaml:9:13: error: databases[0].tables must be a sequence of tables, got a mapping\n"
     "  hint: start each table with \"- \" on its own line"},
};

static void run_error_case(void **state)
{
    const error_case *ec = *state;
    expect_error(ec->yaml, ec->expected);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_spec_example),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_assign),
        cmocka_unit_test(test_range_values),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_table_target_nodes),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_section_order),
        cmocka_unit_test(test_empty_lists),
        cmocka_unit_test(test_node_limit),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_truncations),
    };
    enum {
        N_FIXED = sizeof fixed / sizeof fixed[0],
        N_CASES = sizeof error_cases / sizeof error_cases[0]
    };
    /* One cmocka test per error case, named after it, so a failure says
     * which diagnostic regressed. */
    static struct CMUnitTest tests[N_FIXED + N_CASES];
    memcpy(tests, fixed, sizeof fixed);
    for (size_t i = 0; i < N_CASES; i++) {
        tests[N_FIXED + i] = (struct CMUnitTest){
            .name = error_cases[i].name,
            .test_func = run_error_case,
            .initial_state = (void *)&error_cases[i],
        };
    }
    return _cmocka_run_group_tests("conf_sharding", tests, N_FIXED + N_CASES, NULL, NULL);
}
