/*
 * test_merge_write.c - unit tests for the check of writes that run on
 * several shards (sw_merge_check_write, src/route/merge_write.c).
 *
 * customers, orders and order_items are sharded by customer_id; every
 * other table (currencies, regions, ...) is a reference or unlisted one.
 * Each case pins the answer: 0 (every shard can do its part alone) or -1
 * with SQLSTATE 0A000 and a message naming what is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sw/merge.h"

static int g_ctx;

static const char *key_of(void *ctx, const char *schema, const char *rel, bool id)
{
    assert_ptr_equal(ctx, &g_ctx);
    if (schema && strcmp(schema, "public") != 0) return NULL;
    if (id) return NULL;
    if (strcmp(rel, "customers") == 0 || strcmp(rel, "orders") == 0 || strcmp(rel, "order_items") == 0)
        return "customer_id";
    return NULL;
}

static char g_state[6];
static char g_msg[512];

static int check(const char *sql)
{
    memset(g_state, 0, sizeof g_state);
    memset(g_msg, 'x', sizeof g_msg);
    return sw_merge_check_write(sql, strlen(sql), key_of, &g_ctx, g_state, g_msg, sizeof g_msg);
}

static void accepted(const char *sql)
{
    int rc = check(sql);
    if (rc != 0) fprintf(stderr, "%s: rc %d %s %s\n", sql, rc, g_state, g_msg);
    assert_int_equal(rc, 0);
}

/* Refused with 0A000, the message containing want. */
static void refused(const char *sql, const char *want)
{
    int rc = check(sql);
    if (rc != -1 || !strstr(g_msg, want)) fprintf(stderr, "%s: rc %d %s %s\n", sql, rc, g_state, g_msg);
    assert_int_equal(rc, -1);
    assert_string_equal(g_state, "0A000");
    assert_non_null(strstr(g_msg, want));
    assert_non_null(strstr(g_msg, "shard"));
}

/* ------------------------------------------------------------ refused */

static void test_update_scalar_agg_subquery(void **s)
{
    (void)s;
    refused("UPDATE orders SET price = (SELECT avg(price) FROM orders)", "aggregate in a subquery");
}

static void test_delete_where_agg_subquery(void **s)
{
    (void)s;
    refused("DELETE FROM orders WHERE price > (SELECT avg(price) FROM orders)", "aggregate in a subquery");
}

static void test_update_from_join_not_on_key(void **s)
{
    (void)s;
    refused("UPDATE orders o SET price = 0 FROM customers c WHERE c.customer_region = 'EMEA' AND o.status = "
            "c.customer_name",
            "join of orders and customers is not on the shard key");
}

static void test_update_from_no_condition(void **s)
{
    (void)s;
    refused("UPDATE customers c SET customer_name = o.status FROM orders o", "is not on the shard key");
}

static void test_delete_using_not_on_key(void **s)
{
    (void)s;
    refused("DELETE FROM orders o USING order_items i WHERE i.price > o.price", "is not on the shard key");
}

static void test_delete_using_join_other_column(void **s)
{
    (void)s;
    refused("DELETE FROM orders o USING customers c WHERE c.customer_name = o.status", "is not on the shard key");
}

static void test_update_in_non_key_subquery(void **s)
{
    (void)s;
    refused("UPDATE customers SET customer_region = 'x' WHERE customer_name IN (SELECT status FROM orders)",
            "subquery over orders");
}

static void test_delete_exists_not_on_key(void **s)
{
    (void)s;
    refused("DELETE FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.status = c.customer_name)",
            "subquery over orders");
}

static void test_update_returning_subquery(void **s)
{
    (void)s;
    refused("UPDATE orders SET price = 0 RETURNING (SELECT count(*) FROM order_items)", "subquery");
}

static void test_update_max_uncorrelated(void **s)
{
    (void)s;
    refused("UPDATE orders SET price = 0 WHERE price >= (SELECT max(price) FROM orders o2 WHERE o2.status = 'x')",
            "aggregate in a subquery");
}

static void test_update_cte_aggregate(void **s)
{
    (void)s;
    refused("WITH a AS (SELECT avg(price) AS p FROM orders) UPDATE orders SET price = (SELECT p FROM a)",
            "aggregate in a subquery");
}

static void test_update_subquery_limit(void **s)
{
    (void)s;
    refused("UPDATE orders SET price = 0 WHERE customer_id IN (SELECT customer_id FROM orders ORDER BY price "
            "LIMIT 5)",
            "LIMIT/OFFSET in a subquery");
}

static void test_update_multiassign_subquery(void **s)
{
    (void)s;
    refused("UPDATE orders SET (price, status) = (SELECT max(price), 'x' FROM order_items)", "subquery");
}

static void test_insert_select_aggregate(void **s)
{
    (void)s;
    refused("INSERT INTO order_items (customer_id, n) SELECT 1, count(*) FROM orders", "INSERT ... SELECT");
}

static void test_insert_select_limit(void **s)
{
    (void)s;
    refused("INSERT INTO orders (customer_id) SELECT customer_id FROM customers ORDER BY customer_id LIMIT 10",
            "INSERT ... SELECT");
}

static void test_insert_select_distinct(void **s)
{
    (void)s;
    refused("INSERT INTO regions (name) SELECT DISTINCT status FROM orders", "INSERT ... SELECT");
}

static void test_insert_select_window(void **s)
{
    (void)s;
    refused("INSERT INTO orders (customer_id, n) SELECT customer_id, row_number() OVER () FROM customers",
            "window functions");
}

static void test_insert_values_subquery(void **s)
{
    (void)s;
    refused("INSERT INTO orders (customer_id, price) VALUES (1, (SELECT max(price) FROM orders)), (5, 0)",
            "subquery");
}

static void test_insert_on_conflict_subquery(void **s)
{
    (void)s;
    refused("INSERT INTO orders (customer_id, price) VALUES (1, 2), (5, 3) ON CONFLICT (customer_id) DO UPDATE "
            "SET price = (SELECT avg(price) FROM orders)",
            "aggregate in a subquery");
}

static void test_insert_returning_subquery(void **s)
{
    (void)s;
    refused("INSERT INTO orders (customer_id, price) VALUES (1, 2), (5, 3) RETURNING (SELECT sum(price) FROM "
            "orders)",
            "aggregate in a subquery");
}

static void test_reference_write_reading_sharded(void **s)
{
    (void)s;
    /* every copy of the reference table would get its own shard's answer */
    refused("UPDATE currencies SET rate = 0 WHERE code IN (SELECT status FROM orders)", "subquery over orders");
}

static void test_second_statement_refused(void **s)
{
    (void)s;
    refused("UPDATE orders SET status = 'a'; DELETE FROM orders WHERE price > (SELECT avg(price) FROM orders)",
            "aggregate in a subquery");
}

/* ------------------------------------------------------------ accepted */

static void test_plain_update_delete(void **s)
{
    (void)s;
    accepted("UPDATE orders SET status = 'x'");
    accepted("UPDATE orders SET price = price * 2 WHERE status = 'open' RETURNING *, customer_id");
    accepted("DELETE FROM orders WHERE price < 0");
}

static void test_not_in_on_key(void **s)
{
    (void)s;
    accepted("DELETE FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM orders)");
    accepted("DELETE FROM orders WHERE customer_id IN (SELECT customer_id FROM customers WHERE customer_region = "
             "'x')");
}

static void test_update_from_on_key(void **s)
{
    (void)s;
    accepted("UPDATE orders o SET price = 0 FROM customers c WHERE c.customer_id = o.customer_id AND "
             "c.customer_region = 'EMEA'");
    accepted("DELETE FROM orders USING order_items i WHERE i.customer_id = orders.customer_id AND i.price > 3");
}

static void test_correlated_aggregate(void **s)
{
    (void)s;
    accepted("UPDATE customers c SET total = (SELECT sum(price) FROM orders o WHERE o.customer_id = "
             "c.customer_id)");
    accepted("UPDATE orders SET (price, status) = (SELECT max(price), 'x' FROM order_items i WHERE "
             "i.customer_id = orders.customer_id)");
}

static void test_correlated_exists(void **s)
{
    (void)s;
    accepted("DELETE FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = "
             "c.customer_id)");
}

static void test_reference_tables(void **s)
{
    (void)s;
    accepted("UPDATE orders SET price = price * (SELECT avg(rate) FROM currencies WHERE code = 'EUR')");
    accepted("DELETE FROM orders o USING regions r WHERE r.id = o.region_id AND r.name = 'gone'");
}

static void test_cte_grouped_by_key(void **s)
{
    (void)s;
    accepted("WITH per AS (SELECT customer_id, sum(price) AS s FROM orders GROUP BY customer_id) UPDATE customers "
             "c SET total = per.s FROM per WHERE per.customer_id = c.customer_id");
}

static void test_insert_values(void **s)
{
    (void)s;
    accepted("INSERT INTO orders (customer_id, price) VALUES (1, 2), (5, 3) RETURNING *");
    accepted("INSERT INTO orders (customer_id, price) VALUES (1, 2), (5, 3) ON CONFLICT (customer_id) DO UPDATE "
             "SET price = excluded.price");
    accepted("INSERT INTO orders (customer_id, price) VALUES (1, (SELECT rate FROM currencies LIMIT 1))");
}

static void test_insert_select_per_shard(void **s)
{
    (void)s;
    accepted("INSERT INTO order_items (customer_id, n) SELECT customer_id, count(*) FROM orders GROUP BY "
             "customer_id");
    accepted("INSERT INTO orders (customer_id) SELECT customer_id FROM customers ORDER BY customer_id");
    accepted("INSERT INTO orders (customer_id) SELECT customer_id FROM customers WHERE customer_region = 'x'");
}

static void test_not_a_write_or_no_parse(void **s)
{
    (void)s;
    accepted("SELECT avg(price) FROM orders");
    accepted("UPDATE orders SET");
    accepted("");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_scalar_agg_subquery),
        cmocka_unit_test(test_delete_where_agg_subquery),
        cmocka_unit_test(test_update_from_join_not_on_key),
        cmocka_unit_test(test_update_from_no_condition),
        cmocka_unit_test(test_delete_using_not_on_key),
        cmocka_unit_test(test_delete_using_join_other_column),
        cmocka_unit_test(test_update_in_non_key_subquery),
        cmocka_unit_test(test_delete_exists_not_on_key),
        cmocka_unit_test(test_update_returning_subquery),
        cmocka_unit_test(test_update_max_uncorrelated),
        cmocka_unit_test(test_update_cte_aggregate),
        cmocka_unit_test(test_update_subquery_limit),
        cmocka_unit_test(test_update_multiassign_subquery),
        cmocka_unit_test(test_insert_select_aggregate),
        cmocka_unit_test(test_insert_select_limit),
        cmocka_unit_test(test_insert_select_distinct),
        cmocka_unit_test(test_insert_select_window),
        cmocka_unit_test(test_insert_values_subquery),
        cmocka_unit_test(test_insert_on_conflict_subquery),
        cmocka_unit_test(test_insert_returning_subquery),
        cmocka_unit_test(test_reference_write_reading_sharded),
        cmocka_unit_test(test_second_statement_refused),
        cmocka_unit_test(test_plain_update_delete),
        cmocka_unit_test(test_not_in_on_key),
        cmocka_unit_test(test_update_from_on_key),
        cmocka_unit_test(test_correlated_aggregate),
        cmocka_unit_test(test_correlated_exists),
        cmocka_unit_test(test_reference_tables),
        cmocka_unit_test(test_cte_grouped_by_key),
        cmocka_unit_test(test_insert_values),
        cmocka_unit_test(test_insert_select_per_shard),
        cmocka_unit_test(test_not_a_write_or_no_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
