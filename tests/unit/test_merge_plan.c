/*
 * test_merge_plan.c - unit tests for the cross-shard merge planner
 * (sw_merge_plan, src/route/merge_*.c).
 *
 * customers, orders and order_items are sharded by customer_id (the key_of
 * below); every other table is a reference or unlisted one.  Each case pins
 * the return value, the spec fields that matter (sort keys and their
 * columns, hidden columns, column kinds and aggregate inputs, the HAVING
 * tree, LIMIT/OFFSET values and parameters) and the exact text the shards
 * run; every text returned must parse again.  Refusals pin the SQLSTATE
 * and the construct the message names.
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

#include <pg_query.h>

#include "sw/merge.h"

/* ------------------------------------------------------------ helpers */

static int g_key_calls;

static const char *key_of(void *ctx, const char *schema, const char *rel, bool id)
{
    assert_ptr_equal(ctx, &g_key_calls);
    g_key_calls++;
    if (schema && strcmp(schema, "public") != 0) return NULL;
    if (id) return strcmp(rel, "orders") == 0 ? "order_id" : NULL;
    if (strcmp(rel, "items_by_order") == 0) return "order_id";
    if (strcmp(rel, "customers") == 0 || strcmp(rel, "orders") == 0 || strcmp(rel, "order_items") == 0)
        return "customer_id";
    return NULL;
}

typedef struct plan {
    int rc;
    sw_merge_spec *sp;
    char *sql;
    char state[6];
    char msg[512];
} plan;

static plan P;

static void run(const char *sql)
{
    sw_merge_spec_free(P.sp);
    free(P.sql);
    memset(&P, 0, sizeof P);
    P.rc = sw_merge_plan(sql, strlen(sql), key_of, &g_key_calls, &P.sp, &P.sql, P.state, P.msg, sizeof P.msg);
}

static int teardown(void **state)
{
    (void)state;
    sw_merge_spec_free(P.sp);
    free(P.sql);
    memset(&P, 0, sizeof P);
    return 0;
}

/* Planned (0) with this shard text, which parses again. */
static void planned(const char *sql, const char *shard_sql)
{
    run(sql);
    if (P.rc != 0) fprintf(stderr, "%s: rc %d %s %s\n", sql, P.rc, P.state, P.msg);
    assert_int_equal(P.rc, 0);
    assert_non_null(P.sp);
    assert_non_null(P.sql);
    assert_string_equal(P.sql, shard_sql);
    PgQueryParseResult r = pg_query_parse(P.sql);
    assert_null(r.error);
    pg_query_free_parse_result(r);
}

/* Concatenation (1): nothing to merge. */
static void concat(const char *sql)
{
    run(sql);
    if (P.rc != 1) fprintf(stderr, "%s: rc %d %s %s\n", sql, P.rc, P.state, P.msg);
    assert_int_equal(P.rc, 1);
    assert_null(P.sp);
    assert_null(P.sql);
}

/* Refused (-1) with this SQLSTATE and a message containing part. */
static void refused(const char *sql, const char *state, const char *part)
{
    run(sql);
    if (P.rc != -1) fprintf(stderr, "%s: rc %d %s\n", sql, P.rc, P.sql ? P.sql : "");
    assert_int_equal(P.rc, -1);
    assert_null(P.sp);
    assert_null(P.sql);
    assert_string_equal(P.state, state);
    if (!strstr(P.msg, part)) fprintf(stderr, "message: %s\n", P.msg);
    assert_non_null(strstr(P.msg, part));
}

static void sortkey(int i, int col, bool hidden, bool desc, bool nulls_first)
{
    assert_true(i < P.sp->n_sort);
    assert_int_equal(P.sp->sort[i].ref.col, col);
    assert_int_equal(P.sp->sort[i].ref.hidden, hidden);
    assert_int_equal(P.sp->sort[i].desc, desc);
    assert_int_equal(P.sp->sort[i].nulls_first, nulls_first);
}

static void col(int i, sw_mcol_kind kind, int agg, int a0, int a1, int a2)
{
    assert_true(i < P.sp->n_cols);
    const sw_mcol *c = &P.sp->cols[i];
    assert_int_equal(c->kind, kind);
    if (kind != SW_MC_AGG) return;
    assert_int_equal(c->agg, agg);
    assert_int_equal(c->arg[0].col, a0);
    assert_false(c->arg[0].hidden);
    if (agg >= SW_AGG_AVG) {
        assert_int_equal(c->arg[1].col, a1);
        assert_int_equal(c->arg[2].col, a2);
    }
}

static void no_limit(void)
{
    assert_false(P.sp->limit.present);
    assert_false(P.sp->offset.present);
}

static void limit_is(const sw_mlimit *l, int param, int64_t value)
{
    assert_true(l->present);
    assert_int_equal(l->param, param);
    if (param < 0) assert_int_equal(l->value, value);
}

/* HAVING node i. */
static void hx(int i, sw_hx_op op, int a, int b)
{
    assert_true(i < P.sp->n_having);
    assert_int_equal(P.sp->having[i].op, op);
    if (op != SW_HX_COL && op != SW_HX_CONST) {
        assert_int_equal(P.sp->having[i].a, a);
        assert_int_equal(P.sp->having[i].b, b);
    }
}

static void hx_col(int i, int c)
{
    hx(i, SW_HX_COL, 0, 0);
    assert_int_equal(P.sp->having[i].ref.col, c);
    assert_false(P.sp->having[i].ref.hidden);
}

static void hx_const(int i, const char *text)
{
    hx(i, SW_HX_CONST, 0, 0);
    if (!text) assert_null(P.sp->having[i].text);
    else assert_string_equal(P.sp->having[i].text, text);
}

/* ------------------------------------------------------------ ORDER BY */

static void test_order_by_position(void **state)
{
    (void)state;
    planned("SELECT id, total FROM orders ORDER BY 2 DESC", "SELECT id, total FROM orders ORDER BY 2 DESC");
    assert_false(P.sp->grouped);
    assert_int_equal(P.sp->n_hidden, 0);
    assert_int_equal(P.sp->n_sort, 1);
    sortkey(0, 1, false, true, true);
    assert_true(P.sp->sorted_streams);
    assert_false(P.sp->distinct);
    no_limit();
}

static void test_order_by_name(void **state)
{
    (void)state;
    planned("SELECT id, total FROM orders ORDER BY total, id DESC",
            "SELECT id, total FROM orders ORDER BY total, id DESC");
    assert_int_equal(P.sp->n_sort, 2);
    sortkey(0, 1, false, false, false);
    sortkey(1, 0, false, true, true);
}

static void test_order_by_alias(void **state)
{
    (void)state;
    planned("SELECT id, total AS t FROM orders ORDER BY t DESC NULLS LAST",
            "SELECT id, total AS t FROM orders ORDER BY t DESC NULLS LAST");
    sortkey(0, 1, false, true, false);
    assert_int_equal(P.sp->n_hidden, 0);
}

static void test_order_by_output_name_of_qualified_column(void **state)
{
    (void)state;
    /* total is the output name of o.total */
    planned("SELECT o.id, o.total FROM orders o ORDER BY total", "SELECT o.id, o.total FROM orders o ORDER BY total");
    sortkey(0, 1, false, false, false);
    /* and lower the output name of lower(status) */
    planned("SELECT id, lower(status) FROM orders ORDER BY lower",
            "SELECT id, lower(status) FROM orders ORDER BY lower");
    sortkey(0, 1, false, false, false);
}

static void test_order_by_expression(void **state)
{
    (void)state;
    /* the same expression at another place in the text */
    planned("SELECT id, total * 2 FROM orders ORDER BY total * 2 NULLS FIRST",
            "SELECT id, total * 2 FROM orders ORDER BY total * 2 NULLS FIRST");
    sortkey(0, 1, false, false, true);
    assert_int_equal(P.sp->n_hidden, 0);
}

static void test_order_by_hidden(void **state)
{
    (void)state;
    planned("SELECT id FROM orders ORDER BY created_at DESC, id",
            "SELECT id, created_at AS __sw_h1 FROM orders ORDER BY created_at DESC, id");
    assert_int_equal(P.sp->n_hidden, 1);
    sortkey(0, 0, true, true, true);
    sortkey(1, 0, false, false, false);
    assert_true(P.sp->sorted_streams);
}

static void test_order_by_hidden_once(void **state)
{
    (void)state;
    planned("SELECT id FROM orders ORDER BY lower(status), total + 1, lower(status) DESC",
            "SELECT id, lower(status) AS __sw_h1, total + 1 AS __sw_h2 FROM orders ORDER BY lower(status), total + 1, "
            "lower(status) DESC");
    assert_int_equal(P.sp->n_hidden, 2);
    sortkey(0, 0, true, false, false);
    sortkey(1, 1, true, false, false);
    sortkey(2, 0, true, true, true);
}

static void test_order_by_star(void **state)
{
    (void)state;
    /* positions count through the '*'; names cannot */
    planned("SELECT * FROM orders ORDER BY 3, created_at",
            "SELECT *, created_at AS __sw_h1 FROM orders ORDER BY 3, created_at");
    sortkey(0, 2, false, false, false);
    sortkey(1, 0, true, false, false);
    assert_int_equal(P.sp->n_hidden, 1);
}

static void test_order_by_using_refused(void **state)
{
    (void)state;
    refused("SELECT id FROM orders ORDER BY id USING <", "0A000", "USING");
}

static void test_order_by_bad_position(void **state)
{
    (void)state;
    refused("SELECT id FROM orders ORDER BY 2", "42P10", "ORDER BY position 2 is not in select list");
    refused("SELECT id FROM orders ORDER BY 0", "42P10", "position 0");
}

static void test_for_update_with_order(void **state)
{
    (void)state;
    planned("SELECT id FROM orders ORDER BY id LIMIT 3 FOR UPDATE",
            "SELECT id FROM orders ORDER BY id LIMIT 3 FOR UPDATE");
    sortkey(0, 0, false, false, false);
    limit_is(&P.sp->limit, -1, 3);
}

/* ------------------------------------------------------------ LIMIT / OFFSET */

static void test_limit_offset_const(void **state)
{
    (void)state;
    planned("SELECT id FROM orders ORDER BY id LIMIT 10 OFFSET 5", "SELECT id FROM orders ORDER BY id LIMIT 15");
    limit_is(&P.sp->limit, -1, 10);
    limit_is(&P.sp->offset, -1, 5);
    assert_true(P.sp->sorted_streams);
}

static void test_limit_offset_params(void **state)
{
    (void)state;
    planned("SELECT id FROM orders ORDER BY id LIMIT $1 OFFSET $2",
            "SELECT id FROM orders ORDER BY id LIMIT ($1::bigint + $2::bigint)");
    limit_is(&P.sp->limit, 0, 0);
    limit_is(&P.sp->offset, 1, 0);
}

static void test_limit_const_offset_param(void **state)
{
    (void)state;
    planned("SELECT id FROM orders ORDER BY id LIMIT 10 OFFSET $1",
            "SELECT id FROM orders ORDER BY id LIMIT (10 + $1::bigint)");
    limit_is(&P.sp->limit, -1, 10);
    limit_is(&P.sp->offset, 0, 0);
}

static void test_limit_param_alone(void **state)
{
    (void)state;
    planned("SELECT id FROM orders ORDER BY id LIMIT $3", "SELECT id FROM orders ORDER BY id LIMIT $3");
    limit_is(&P.sp->limit, 2, 0);
    assert_false(P.sp->offset.present);
}

static void test_limit_all(void **state)
{
    (void)state;
    planned("SELECT id FROM orders ORDER BY id LIMIT ALL", "SELECT id FROM orders ORDER BY id");
    no_limit();
    planned("SELECT id FROM orders ORDER BY id LIMIT NULL OFFSET 4", "SELECT id FROM orders ORDER BY id");
    assert_false(P.sp->limit.present);
    limit_is(&P.sp->offset, -1, 4);
    /* nothing else to merge: rows are concatenated */
    concat("SELECT id FROM orders LIMIT ALL");
}

static void test_offset_only(void **state)
{
    (void)state;
    planned("SELECT id FROM orders OFFSET 3", "SELECT id FROM orders");
    assert_false(P.sp->limit.present);
    limit_is(&P.sp->offset, -1, 3);
    assert_false(P.sp->sorted_streams);
    assert_int_equal(P.sp->n_sort, 0);
}

static void test_limit_without_order(void **state)
{
    (void)state;
    planned("SELECT id FROM orders LIMIT 5", "SELECT id FROM orders LIMIT 5");
    limit_is(&P.sp->limit, -1, 5);
    assert_false(P.sp->sorted_streams);
}

static void test_fetch_first(void **state)
{
    (void)state;
    planned("SELECT id FROM orders ORDER BY id OFFSET 2 ROWS FETCH FIRST 3 ROWS ONLY",
            "SELECT id FROM orders ORDER BY id LIMIT 5");
    limit_is(&P.sp->limit, -1, 3);
    limit_is(&P.sp->offset, -1, 2);
    refused("SELECT id FROM orders ORDER BY id FETCH FIRST 3 ROWS WITH TIES", "0A000", "WITH TIES");
}

static void test_limit_big_values(void **state)
{
    (void)state;
    planned("SELECT id FROM orders ORDER BY id LIMIT 3000000000 OFFSET 3000000000",
            "SELECT id FROM orders ORDER BY id LIMIT 6000000000");
    limit_is(&P.sp->limit, -1, 3000000000LL);
    planned("SELECT id FROM orders ORDER BY id LIMIT '7' OFFSET '3'", "SELECT id FROM orders ORDER BY id LIMIT 10");
    limit_is(&P.sp->limit, -1, 7);
    limit_is(&P.sp->offset, -1, 3);
}

static void test_limit_refusals(void **state)
{
    (void)state;
    refused("SELECT id FROM orders ORDER BY id LIMIT 1 + 1", "0A000", "LIMIT");
    refused("SELECT id FROM orders ORDER BY id OFFSET (SELECT 1)", "0A000", "OFFSET");
    refused("SELECT id FROM orders ORDER BY id LIMIT -1", "2201W", "LIMIT must not be negative");
    refused("SELECT id FROM orders ORDER BY id OFFSET -2", "2201X", "OFFSET must not be negative");
}

/* ------------------------------------------------------------ DISTINCT */

static void test_distinct(void **state)
{
    (void)state;
    planned("SELECT DISTINCT status FROM orders", "SELECT DISTINCT status FROM orders");
    assert_true(P.sp->distinct);
    assert_false(P.sp->sorted_streams);
    assert_false(P.sp->grouped);
    assert_int_equal(P.sp->n_distinct_on, 0);
}

static void test_distinct_order_limit(void **state)
{
    (void)state;
    /* a global top-N distinct row is within each shard's top N */
    planned("SELECT DISTINCT status FROM orders ORDER BY status DESC LIMIT 3 OFFSET 1",
            "SELECT DISTINCT status FROM orders ORDER BY status DESC LIMIT 4");
    assert_true(P.sp->distinct);
    assert_false(P.sp->sorted_streams);
    sortkey(0, 0, false, true, true);
    limit_is(&P.sp->limit, -1, 3);
    limit_is(&P.sp->offset, -1, 1);
}

static void test_distinct_limit_without_order(void **state)
{
    (void)state;
    planned("SELECT DISTINCT status FROM orders LIMIT 3", "SELECT DISTINCT status FROM orders");
    limit_is(&P.sp->limit, -1, 3);
    assert_true(P.sp->distinct);
}

static void test_distinct_order_not_selected(void **state)
{
    (void)state;
    refused("SELECT DISTINCT status FROM orders ORDER BY total", "42P10",
            "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
    refused("SELECT DISTINCT * FROM orders ORDER BY id", "0A000", "SELECT DISTINCT *");
}

static void test_distinct_on(void **state)
{
    (void)state;
    planned("SELECT DISTINCT ON (customer_id) customer_id, id, created_at FROM orders "
            "ORDER BY customer_id, created_at DESC LIMIT 10",
            "SELECT DISTINCT ON (customer_id) customer_id, id, created_at FROM orders "
            "ORDER BY customer_id, created_at DESC LIMIT 10");
    assert_false(P.sp->distinct);
    assert_int_equal(P.sp->n_distinct_on, 1);
    assert_int_equal(P.sp->distinct_on[0].col, 0);
    assert_false(P.sp->distinct_on[0].hidden);
    sortkey(0, 0, false, false, false);
    sortkey(1, 2, false, true, true);
    assert_true(P.sp->sorted_streams);
    limit_is(&P.sp->limit, -1, 10);
}

static void test_distinct_on_hidden(void **state)
{
    (void)state;
    planned("SELECT DISTINCT ON (status) id FROM orders ORDER BY status, id",
            "SELECT DISTINCT ON (status) id, status AS __sw_h1 FROM orders ORDER BY status, id");
    assert_int_equal(P.sp->n_hidden, 1);
    assert_int_equal(P.sp->n_distinct_on, 1);
    assert_int_equal(P.sp->distinct_on[0].col, 0);
    assert_true(P.sp->distinct_on[0].hidden);
    sortkey(0, 0, true, false, false);
    sortkey(1, 0, false, false, false);
}

static void test_distinct_on_without_order(void **state)
{
    (void)state;
    /* the shards sort by the DISTINCT ON expressions, as PostgreSQL does */
    planned("SELECT DISTINCT ON (customer_id, status) customer_id, id FROM orders LIMIT 5",
            "SELECT DISTINCT ON (customer_id, status) customer_id, id, status AS __sw_h1 FROM orders "
            "ORDER BY customer_id, status LIMIT 5");
    assert_int_equal(P.sp->n_distinct_on, 2);
    assert_int_equal(P.sp->n_sort, 2);
    sortkey(0, 0, false, false, false);
    sortkey(1, 0, true, false, false);
    assert_true(P.sp->sorted_streams);
}

/* ------------------------------------------------------------ aggregates */

static void test_count_star(void **state)
{
    (void)state;
    planned("SELECT count(*) FROM orders", "SELECT count(*) FROM orders");
    assert_true(P.sp->grouped);
    assert_int_equal(P.sp->n_cols, 1);
    assert_int_equal(P.sp->n_hidden, 0);
    col(0, SW_MC_AGG, SW_AGG_COUNT, 0, 0, 0);
    assert_null(P.sp->having);
    assert_int_equal(P.sp->n_sort, 0);
}

static void test_every_simple_aggregate(void **state)
{
    (void)state;
    planned("SELECT count(id), sum(total), min(total), max(total), bool_and(paid), bool_or(paid), every(paid) "
            "FROM orders",
            "SELECT count(id), sum(total), min(total), max(total), bool_and(paid), bool_or(paid), every(paid) "
            "FROM orders");
    assert_int_equal(P.sp->n_cols, 7);
    col(0, SW_MC_AGG, SW_AGG_COUNT, 0, 0, 0);
    col(1, SW_MC_AGG, SW_AGG_SUM, 1, 0, 0);
    col(2, SW_MC_AGG, SW_AGG_MIN, 2, 0, 0);
    col(3, SW_MC_AGG, SW_AGG_MAX, 3, 0, 0);
    col(4, SW_MC_AGG, SW_AGG_BOOL_AND, 4, 0, 0);
    col(5, SW_MC_AGG, SW_AGG_BOOL_OR, 5, 0, 0);
    col(6, SW_MC_AGG, SW_AGG_BOOL_AND, 6, 0, 0);
}

static void test_avg_parts(void **state)
{
    (void)state;
    planned("SELECT status, avg(total) FROM orders GROUP BY status",
            "SELECT status, avg(total), count(total) AS __sw_h1, sum(total) AS __sw_h2 FROM orders GROUP BY status");
    assert_int_equal(P.sp->n_cols, 4);
    assert_int_equal(P.sp->n_hidden, 2);
    col(0, SW_MC_GROUP, 0, 0, 0, 0);
    col(1, SW_MC_AGG, SW_AGG_AVG, 2, 3, 1);
    col(2, SW_MC_PART, 0, 0, 0, 0);
    col(3, SW_MC_PART, 0, 0, 0, 0);
}

static void test_avg_filter(void **state)
{
    (void)state;
    planned("SELECT avg(total) FILTER (WHERE paid) FROM orders",
            "SELECT avg(total) FILTER (WHERE paid), count(total) FILTER (WHERE paid) AS __sw_h1, "
            "sum(total) FILTER (WHERE paid) AS __sw_h2 FROM orders");
    col(0, SW_MC_AGG, SW_AGG_AVG, 1, 2, 0);
}

static void test_stddev_parts_filter(void **state)
{
    (void)state;
    planned("SELECT stddev(total) FILTER (WHERE total > 0) FROM orders",
            "SELECT stddev(total) FILTER (WHERE total > 0), count(total) FILTER (WHERE total > 0) AS __sw_h1, "
            "sum(total::numeric) FILTER (WHERE total > 0) AS __sw_h2, "
            "sum(total::numeric * total::numeric) FILTER (WHERE total > 0) AS __sw_h3 FROM orders");
    assert_int_equal(P.sp->n_cols, 4);
    col(0, SW_MC_AGG, SW_AGG_STDDEV_SAMP, 1, 2, 3);
    col(1, SW_MC_PART, 0, 0, 0, 0);
    col(3, SW_MC_PART, 0, 0, 0, 0);
}

static void test_variance_family_shares_parts(void **state)
{
    (void)state;
    planned("SELECT variance(total), var_samp(total), var_pop(total), stddev_samp(total), stddev_pop(total), "
            "avg(total) FROM orders",
            "SELECT variance(total), var_samp(total), var_pop(total), stddev_samp(total), stddev_pop(total), "
            "avg(total), count(total) AS __sw_h1, sum(total::numeric) AS __sw_h2, "
            "sum(total::numeric * total::numeric) AS __sw_h3, sum(total) AS __sw_h4 FROM orders");
    assert_int_equal(P.sp->n_cols, 10);
    assert_int_equal(P.sp->n_hidden, 4);
    col(0, SW_MC_AGG, SW_AGG_VAR_SAMP, 6, 7, 8);
    col(1, SW_MC_AGG, SW_AGG_VAR_SAMP, 6, 7, 8);
    col(2, SW_MC_AGG, SW_AGG_VAR_POP, 6, 7, 8);
    col(3, SW_MC_AGG, SW_AGG_STDDEV_SAMP, 6, 7, 8);
    col(4, SW_MC_AGG, SW_AGG_STDDEV_POP, 6, 7, 8);
    col(5, SW_MC_AGG, SW_AGG_AVG, 6, 9, 5);
}

static void test_count_distinct_key(void **state)
{
    (void)state;
    planned("SELECT status, count(DISTINCT customer_id) FROM orders GROUP BY status",
            "SELECT status, count(DISTINCT customer_id) FROM orders GROUP BY status");
    col(0, SW_MC_GROUP, 0, 0, 0, 0);
    col(1, SW_MC_AGG, SW_AGG_COUNT, 1, 0, 0);
    planned("SELECT count(DISTINCT o.customer_id) FROM orders o JOIN customers c USING (customer_id)",
            "SELECT count(DISTINCT o.customer_id) FROM orders o JOIN customers c USING (customer_id)");
    col(0, SW_MC_AGG, SW_AGG_COUNT, 0, 0, 0);
}

static void test_distinct_aggregates(void **state)
{
    (void)state;
    /* duplicates change neither min nor max; a key never repeats */
    planned("SELECT max(DISTINCT total), avg(DISTINCT customer_id) FROM orders",
            "SELECT max(DISTINCT total), avg(DISTINCT customer_id), count(DISTINCT customer_id) AS __sw_h1, "
            "sum(DISTINCT customer_id) AS __sw_h2 FROM orders");
    col(0, SW_MC_AGG, SW_AGG_MAX, 0, 0, 0);
    col(1, SW_MC_AGG, SW_AGG_AVG, 2, 3, 1);
}

static void test_count_distinct_refused(void **state)
{
    (void)state;
    refused("SELECT count(DISTINCT status) FROM orders", "0A000",
            "count(DISTINCT x) across shards needs x to be the shard key or a GROUP BY including the shard key");
    /* o is not the alias of a sharded table here */
    refused("SELECT count(DISTINCT o.customer_id) FROM orders x, currencies o", "0A000", "count(DISTINCT x)");
    refused("SELECT sum(DISTINCT total) FROM orders", "0A000", "sum(DISTINCT x)");
    refused("SELECT stddev(DISTINCT customer_id) FROM orders", "0A000", "stddev(DISTINCT ...)");
}

static void test_unmergeable_aggregates(void **state)
{
    (void)state;
    refused("SELECT string_agg(status, ',') FROM orders", "0A000",
            "aggregate string_agg is not supported across shards");
    refused("SELECT status, array_agg(id) FROM orders GROUP BY status", "0A000", "aggregate array_agg");
    refused("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY total) FROM orders", "0A000",
            "aggregate percentile_cont");
    refused("SELECT regr_slope(total, id) FROM orders", "0A000", "aggregate regr_slope");
}

static void test_expression_over_aggregate(void **state)
{
    (void)state;
    refused("SELECT round(avg(total), 2) FROM orders", "0A000",
            "an expression over an aggregate (round(...)) is not supported across shards; select the aggregate "
            "itself");
    refused("SELECT sum(total) / count(*) FROM orders", "0A000", "an expression over an aggregate (sum(...))");
    refused("SELECT status, count(*) + 1 FROM orders GROUP BY status", "0A000", "(count(...))");
}

static void test_star_with_aggregates(void **state)
{
    (void)state;
    refused("SELECT *, count(*) FROM orders", "0A000", "SELECT * with GROUP BY or aggregates");
    refused("SELECT * FROM orders GROUP BY id", "0A000", "SELECT *");
}

/* ------------------------------------------------------------ GROUP BY */

static void test_group_by_position(void **state)
{
    (void)state;
    planned("SELECT status, count(*) FROM orders GROUP BY 1", "SELECT status, count(*) FROM orders GROUP BY 1");
    assert_true(P.sp->grouped);
    assert_int_equal(P.sp->n_cols, 2);
    col(0, SW_MC_GROUP, 0, 0, 0, 0);
    col(1, SW_MC_AGG, SW_AGG_COUNT, 1, 0, 0);
    refused("SELECT status, count(*) FROM orders GROUP BY 3", "42P10", "GROUP BY position 3 is not in select list");
}

static void test_group_by_alias(void **state)
{
    (void)state;
    planned("SELECT status AS s, count(*) FROM orders GROUP BY s",
            "SELECT status AS s, count(*) FROM orders GROUP BY s");
    assert_int_equal(P.sp->n_hidden, 0);
    col(0, SW_MC_GROUP, 0, 0, 0, 0);
}

static void test_group_by_input_column_wins(void **state)
{
    (void)state;
    /* GROUP BY created_at is the input column, not the output name */
    planned("SELECT date_trunc('day', created_at) AS created_at, count(*) FROM orders GROUP BY created_at",
            "SELECT date_trunc('day', created_at) AS created_at, count(*), created_at AS __sw_h1 FROM orders "
            "GROUP BY created_at");
    col(0, SW_MC_ANY, 0, 0, 0, 0);
    col(1, SW_MC_AGG, SW_AGG_COUNT, 1, 0, 0);
    col(2, SW_MC_GROUP, 0, 0, 0, 0);
}

static void test_group_by_expression(void **state)
{
    (void)state;
    planned("SELECT lower(status), sum(total) FROM orders GROUP BY lower(status) ORDER BY lower(status)",
            "SELECT lower(status), sum(total) FROM orders GROUP BY lower(status)");
    col(0, SW_MC_GROUP, 0, 0, 0, 0);
    col(1, SW_MC_AGG, SW_AGG_SUM, 1, 0, 0);
    sortkey(0, 0, false, false, false);
    assert_false(P.sp->sorted_streams);
}

static void test_group_by_hidden(void **state)
{
    (void)state;
    planned("SELECT count(*) FROM orders GROUP BY status, date_trunc('month', created_at)",
            "SELECT count(*), status AS __sw_h1, date_trunc('month', created_at) AS __sw_h2 FROM orders "
            "GROUP BY status, date_trunc('month', created_at)");
    assert_int_equal(P.sp->n_cols, 3);
    assert_int_equal(P.sp->n_hidden, 2);
    col(0, SW_MC_AGG, SW_AGG_COUNT, 0, 0, 0);
    col(1, SW_MC_GROUP, 0, 0, 0, 0);
    col(2, SW_MC_GROUP, 0, 0, 0, 0);
}

static void test_group_constants_and_functions(void **state)
{
    (void)state;
    planned("SELECT status, upper(status), 1, 'x'::text, count(*) FROM orders GROUP BY status",
            "SELECT status, upper(status), 1, 'x'::text, count(*) FROM orders GROUP BY status");
    col(0, SW_MC_GROUP, 0, 0, 0, 0);
    col(1, SW_MC_ANY, 0, 0, 0, 0);
    col(2, SW_MC_ANY, 0, 0, 0, 0);
    col(3, SW_MC_ANY, 0, 0, 0, 0);
    col(4, SW_MC_AGG, SW_AGG_COUNT, 4, 0, 0);
}

static void test_grouped_order_limit(void **state)
{
    (void)state;
    planned("SELECT status, count(*) FROM orders GROUP BY status ORDER BY 2 DESC, status LIMIT 5 OFFSET 2",
            "SELECT status, count(*) FROM orders GROUP BY status");
    assert_int_equal(P.sp->n_sort, 2);
    sortkey(0, 1, false, true, true);
    sortkey(1, 0, false, false, false);
    assert_false(P.sp->sorted_streams);
    limit_is(&P.sp->limit, -1, 5);
    limit_is(&P.sp->offset, -1, 2);
}

static void test_grouped_limit_params(void **state)
{
    (void)state;
    planned("SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY n LIMIT $1 OFFSET $2",
            "SELECT status, count(*) AS n FROM orders GROUP BY status");
    sortkey(0, 1, false, false, false);
    limit_is(&P.sp->limit, 0, 0);
    limit_is(&P.sp->offset, 1, 0);
}

static void test_grouped_order_by_hidden_aggregates(void **state)
{
    (void)state;
    planned("SELECT status FROM orders GROUP BY status ORDER BY sum(total) DESC, avg(total), lower(status)",
            "SELECT status, sum(total) AS __sw_h1, avg(total) AS __sw_h2, count(total) AS __sw_h3, "
            "sum(total) AS __sw_h4, lower(status) AS __sw_h5 FROM orders GROUP BY status");
    assert_int_equal(P.sp->n_cols, 6);
    assert_int_equal(P.sp->n_hidden, 5);
    col(0, SW_MC_GROUP, 0, 0, 0, 0);
    col(1, SW_MC_AGG, SW_AGG_SUM, 1, 0, 0);
    col(2, SW_MC_AGG, SW_AGG_AVG, 3, 4, 2);
    col(3, SW_MC_PART, 0, 0, 0, 0);
    col(4, SW_MC_PART, 0, 0, 0, 0);
    col(5, SW_MC_ANY, 0, 0, 0, 0);
    sortkey(0, 1, false, true, true);
    sortkey(1, 2, false, false, false);
    sortkey(2, 5, false, false, false);
}

static void test_grouped_order_by_refused(void **state)
{
    (void)state;
    refused("SELECT status, count(*) FROM orders GROUP BY status ORDER BY count(*) * 2", "0A000",
            "ORDER BY with an expression over an aggregate (count(...))");
    refused("SELECT status, count(*) FROM orders GROUP BY status ORDER BY 3", "42P10", "ORDER BY position 3");
}

static void test_grouped_distinct(void **state)
{
    (void)state;
    planned("SELECT DISTINCT count(*) FROM orders GROUP BY status",
            "SELECT count(*), status AS __sw_h1 FROM orders GROUP BY status");
    assert_true(P.sp->grouped);
    assert_true(P.sp->distinct);
    col(1, SW_MC_GROUP, 0, 0, 0, 0);
    refused("SELECT DISTINCT ON (status) status, count(*) FROM orders GROUP BY status", "0A000", "DISTINCT ON");
}

/* ------------------------------------------------------------ HAVING */

static void test_having_and(void **state)
{
    (void)state;
    planned("SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > 10 AND sum(total) >= 100.5",
            "SELECT status, count(*), sum(total) AS __sw_h1 FROM orders GROUP BY status");
    col(2, SW_MC_AGG, SW_AGG_SUM, 2, 0, 0);
    assert_int_equal(P.sp->n_having, 7);
    hx(0, SW_HX_AND, 1, 4);
    hx(1, SW_HX_GT, 2, 3);
    hx_col(2, 1);
    hx_const(3, "10");
    hx(4, SW_HX_GE, 5, 6);
    hx_col(5, 2);
    hx_const(6, "100.5");
}

static void test_having_or_not_null(void **state)
{
    (void)state;
    planned("SELECT status, count(*) FROM orders GROUP BY status "
            "HAVING NOT (max(total) IS NULL) OR status <> 'x' OR min(total) IS NOT NULL",
            "SELECT status, count(*), max(total) AS __sw_h1, min(total) AS __sw_h2 FROM orders GROUP BY status");
    hx(0, SW_HX_OR, 1, 4);
    hx(1, SW_HX_NOT, 2, -1);
    hx(2, SW_HX_ISNULL, 3, -1);
    hx_col(3, 2);
    hx(4, SW_HX_OR, 5, 8);
    hx(5, SW_HX_NE, 6, 7);
    hx_col(6, 0);
    hx_const(7, "x");
    hx(8, SW_HX_NOTNULL, 9, -1);
    hx_col(9, 3);
}

static void test_having_between(void **state)
{
    (void)state;
    planned("SELECT status FROM orders GROUP BY status HAVING avg(total) BETWEEN 1 AND 100",
            "SELECT status, avg(total) AS __sw_h1, count(total) AS __sw_h2, sum(total) AS __sw_h3 FROM orders "
            "GROUP BY status");
    col(1, SW_MC_AGG, SW_AGG_AVG, 2, 3, 1);
    hx(0, SW_HX_AND, 1, 4);
    hx(1, SW_HX_GE, 2, 3);
    hx_col(2, 1);
    hx_const(3, "1");
    hx(4, SW_HX_LE, 5, 6);
    hx_col(5, 1);
    hx_const(6, "100");
}

static void test_having_not_between(void **state)
{
    (void)state;
    planned("SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) NOT BETWEEN 1 AND 5",
            "SELECT status, count(*) FROM orders GROUP BY status");
    hx(0, SW_HX_NOT, 1, -1);
    hx(1, SW_HX_AND, 2, 5);
    hx(2, SW_HX_GE, 3, 4);
    hx_col(3, 1);
    hx_const(4, "1");
    hx(5, SW_HX_LE, 6, 7);
    hx_const(7, "5");
}

static void test_having_constants(void **state)
{
    (void)state;
    planned("SELECT status, count(*) FROM orders GROUP BY status HAVING min(total) > -5.5 AND "
            "max(total) < '10'::numeric AND count(*) <> -(3) AND max(created_at) > NULL",
            "SELECT status, count(*), min(total) AS __sw_h1, max(total) AS __sw_h2, max(created_at) AS __sw_h3 "
            "FROM orders GROUP BY status");
    hx(0, SW_HX_AND, 1, 4);
    hx_const(3, "-5.5");
    hx(4, SW_HX_AND, 5, 8);
    hx(5, SW_HX_LT, 6, 7);
    hx_const(7, "10");
    hx(8, SW_HX_AND, 9, 12);
    hx(9, SW_HX_NE, 10, 11);
    hx_col(10, 1);
    hx_const(11, "-3");
    hx(12, SW_HX_GT, 13, 14);
    hx_col(13, 4);
    hx_const(14, NULL);
}

static void test_having_bool_aggregate(void **state)
{
    (void)state;
    planned("SELECT status FROM orders GROUP BY status HAVING bool_or(paid)",
            "SELECT status, bool_or(paid) AS __sw_h1 FROM orders GROUP BY status");
    hx(0, SW_HX_EQ, 1, 2);
    hx_col(1, 1);
    hx_const(2, "true");
}

static void test_having_group_expression(void **state)
{
    (void)state;
    /* a function of the group key: computed by the shards, the same on
     * every partial of a group */
    planned("SELECT count(*) FROM orders GROUP BY status HAVING lower(status) = 'x' AND status <> 'y'",
            "SELECT count(*), status AS __sw_h1, lower(status) AS __sw_h2 FROM orders GROUP BY status");
    col(1, SW_MC_GROUP, 0, 0, 0, 0);
    col(2, SW_MC_ANY, 0, 0, 0, 0);
    hx_col(2, 2);
    hx_col(5, 1);
}

static void test_having_without_group_by(void **state)
{
    (void)state;
    planned("SELECT 1 FROM orders HAVING count(*) > 1",
            "SELECT 1, count(*) AS __sw_h1 FROM orders");
    assert_true(P.sp->grouped);
    col(0, SW_MC_ANY, 0, 0, 0, 0);
    col(1, SW_MC_AGG, SW_AGG_COUNT, 1, 0, 0);
    hx(0, SW_HX_GT, 1, 2);
}

static void test_having_refused(void **state)
{
    (void)state;
    refused("SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) IN (1, 2)", "0A000",
            "HAVING ... is not supported across shards");
    refused("SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) + 1 > 3", "0A000",
            "HAVING with an expression over an aggregate");
    refused("SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > $1", "0A000",
            "HAVING with a subquery or a parameter");
    refused("SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > (SELECT 1)", "0A000",
            "HAVING with a subquery");
    refused("SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) BETWEEN SYMMETRIC 5 AND 1",
            "0A000", "HAVING ...");
}

/* ------------------------------------------------------------ per-shard groups */

static void test_per_shard_key(void **state)
{
    (void)state;
    planned("SELECT customer_id, count(*), avg(total) FROM orders GROUP BY customer_id HAVING count(*) > 1 "
            "ORDER BY 2 DESC LIMIT 5 OFFSET 1",
            "SELECT customer_id, count(*), avg(total) FROM orders GROUP BY customer_id HAVING count(*) > 1 "
            "ORDER BY 2 DESC LIMIT 6");
    assert_false(P.sp->grouped);
    assert_null(P.sp->cols);
    assert_null(P.sp->having);
    assert_int_equal(P.sp->n_hidden, 0);
    sortkey(0, 1, false, true, true);
    assert_true(P.sp->sorted_streams);
    limit_is(&P.sp->limit, -1, 5);
    limit_is(&P.sp->offset, -1, 1);
}

static void test_per_shard_alias_qualified(void **state)
{
    (void)state;
    planned("SELECT o.customer_id, sum(o.total), count(DISTINCT o.status) FROM orders o "
            "JOIN customers c ON c.customer_id = o.customer_id GROUP BY o.customer_id ORDER BY sum(o.total) DESC "
            "LIMIT 3",
            "SELECT o.customer_id, sum(o.total), count(DISTINCT o.status) FROM orders o "
            "JOIN customers c ON c.customer_id = o.customer_id GROUP BY o.customer_id ORDER BY sum(o.total) DESC "
            "LIMIT 3");
    assert_false(P.sp->grouped);
    sortkey(0, 1, false, true, true);
}

static void test_per_shard_by_position_and_alias(void **state)
{
    (void)state;
    planned("SELECT c.customer_id AS cid, count(*) FROM customers c GROUP BY 1 ORDER BY cid",
            "SELECT c.customer_id AS cid, count(*) FROM customers c GROUP BY 1 ORDER BY cid");
    assert_false(P.sp->grouped);
    sortkey(0, 0, false, false, false);
    planned("SELECT o.customer_id AS cid, max(total) FROM orders o GROUP BY cid ORDER BY 2",
            "SELECT o.customer_id AS cid, max(total) FROM orders o GROUP BY cid ORDER BY 2");
    assert_false(P.sp->grouped);
}

static void test_per_shard_hidden_order(void **state)
{
    (void)state;
    planned("SELECT customer_id FROM orders GROUP BY customer_id ORDER BY count(*) DESC LIMIT 10",
            "SELECT customer_id, count(*) AS __sw_h1 FROM orders GROUP BY customer_id ORDER BY count(*) DESC "
            "LIMIT 10");
    assert_false(P.sp->grouped);
    assert_int_equal(P.sp->n_hidden, 1);
    sortkey(0, 0, true, true, true);
}

static void test_per_shard_nothing_to_merge(void **state)
{
    (void)state;
    concat("SELECT customer_id, count(*) FROM orders GROUP BY customer_id HAVING count(*) > 2");
    concat("SELECT public.orders.customer_id, count(*) FROM public.orders GROUP BY 1");
}

static void test_key_on_nullable_side_is_not_per_shard(void **state)
{
    (void)state;
    /* customer_id is NULL on every shard for currencies without orders */
    planned("SELECT o.customer_id, count(*) FROM currencies cu LEFT JOIN orders o ON true GROUP BY o.customer_id",
            "SELECT o.customer_id, count(*) FROM currencies cu LEFT JOIN orders o ON true GROUP BY o.customer_id");
    assert_true(P.sp->grouped);
    col(0, SW_MC_GROUP, 0, 0, 0, 0);
}

static void test_cte_named_like_table_is_not_it(void **state)
{
    (void)state;
    planned("WITH orders AS (SELECT * FROM currencies) SELECT customer_id, count(*) FROM orders GROUP BY customer_id",
            "WITH orders AS (SELECT * FROM currencies) SELECT customer_id, count(*) FROM orders GROUP BY customer_id");
    assert_true(P.sp->grouped);
}

/* ------------------------------------------------------------ windows */

static void test_window_refused(void **state)
{
    (void)state;
    refused("SELECT id, row_number() OVER (ORDER BY id) FROM orders", "0A000",
            "window functions are not supported across shards");
    refused("SELECT id, sum(total) OVER w FROM orders WINDOW w AS (PARTITION BY status)", "0A000",
            "window functions");
    /* groups of several shards */
    refused("SELECT status, count(*), rank() OVER (PARTITION BY customer_id) FROM orders GROUP BY status", "0A000",
            "window functions are not supported across shards");
}

static void test_window_partitioned_by_key(void **state)
{
    (void)state;
    planned("SELECT id, row_number() OVER w FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY id) "
            "ORDER BY id LIMIT 5",
            "SELECT id, row_number() OVER w FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY id) "
            "ORDER BY id LIMIT 5");
    sortkey(0, 0, false, false, false);
    concat("SELECT id, sum(total) OVER (PARTITION BY o.customer_id) FROM orders o");
}

/* ------------------------------------------------------------ nested queries */

static void test_nested_aggregate_refused(void **state)
{
    (void)state;
    refused("SELECT * FROM orders WHERE total > (SELECT avg(total) FROM orders)", "0A000",
            "aggregate in a subquery is not supported across shards: add a shard key condition or group by the "
            "shard key");
    refused("SELECT c.name, x.n FROM customers c JOIN (SELECT status, count(*) AS n FROM orders GROUP BY status) x "
            "ON true",
            "0A000", "aggregate in a subquery");
    refused("WITH t AS (SELECT status, count(*) FROM orders GROUP BY status) SELECT * FROM t", "0A000",
            "aggregate in a subquery");
    /* through a CTE */
    refused("WITH t AS (SELECT * FROM orders) SELECT * FROM customers WHERE 0 < (SELECT count(*) FROM t)", "0A000",
            "aggregate in a subquery");
}

static void test_nested_limit_refused(void **state)
{
    (void)state;
    refused("SELECT id FROM (SELECT * FROM orders ORDER BY id LIMIT 5) x", "0A000",
            "LIMIT/OFFSET in a subquery is not supported across shards");
    /* even grouped by the key: LIMIT keeps the first rows of each shard */
    refused("SELECT * FROM (SELECT customer_id, count(*) FROM orders GROUP BY customer_id LIMIT 3) x", "0A000",
            "LIMIT/OFFSET in a subquery");
}

static void test_nested_distinct(void **state)
{
    (void)state;
    refused("SELECT * FROM (SELECT DISTINCT status FROM orders) x", "0A000", "DISTINCT in a subquery");
    concat("SELECT * FROM (SELECT DISTINCT customer_id, status FROM orders) x");
}

static void test_nested_window(void **state)
{
    (void)state;
    refused("SELECT * FROM (SELECT id, rank() OVER (ORDER BY total) r FROM orders) x WHERE r = 1", "0A000",
            "window functions in a subquery");
    concat("SELECT * FROM (SELECT id, row_number() OVER (PARTITION BY customer_id ORDER BY id) rn FROM orders) x "
           "WHERE rn = 1");
}

static void test_nested_reference_tables(void **state)
{
    (void)state;
    /* the same answer on every shard */
    concat("SELECT * FROM orders WHERE total > (SELECT avg(rate) FROM currencies)");
    concat("WITH r AS (SELECT code, count(*) FROM currencies GROUP BY code LIMIT 3) "
           "SELECT * FROM orders o JOIN r ON true");
}

static void test_nested_grouped_by_key(void **state)
{
    (void)state;
    concat("SELECT * FROM customers WHERE customer_id IN "
           "(SELECT customer_id FROM orders GROUP BY customer_id HAVING count(*) > 1)");
    concat("SELECT c.name, x.n FROM customers c JOIN "
           "(SELECT o.customer_id, sum(o.total) AS n FROM orders o GROUP BY o.customer_id) x "
           "ON x.customer_id = c.customer_id");
}

static void test_nested_under_a_merge(void **state)
{
    (void)state;
    planned("SELECT c.customer_id, x.n FROM customers c JOIN "
            "(SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id) x USING (customer_id) "
            "ORDER BY x.n DESC LIMIT 10",
            "SELECT c.customer_id, x.n FROM customers c JOIN "
            "(SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id) x USING (customer_id) "
            "ORDER BY x.n DESC LIMIT 10");
    sortkey(0, 1, false, true, true);
    refused("SELECT id FROM orders WHERE total > (SELECT avg(total) FROM orders) ORDER BY id", "0A000",
            "aggregate in a subquery");
}

/* ------------------------------------------------------------ set operations */

static void test_union_all(void **state)
{
    (void)state;
    concat("SELECT id FROM orders UNION ALL SELECT id FROM order_items");
    concat("SELECT id FROM orders UNION ALL (SELECT id FROM order_items UNION ALL SELECT customer_id FROM customers)");
    /* a branch whose groups are per shard */
    concat("SELECT customer_id, count(*) FROM orders GROUP BY customer_id UNION ALL "
           "SELECT customer_id, count(*) FROM order_items GROUP BY customer_id");
}

static void test_union_refused(void **state)
{
    (void)state;
    refused("SELECT id FROM orders UNION SELECT id FROM order_items", "0A000", "UNION is not supported across shards");
    refused("SELECT id FROM orders INTERSECT SELECT id FROM order_items", "0A000", "INTERSECT");
    refused("SELECT id FROM orders EXCEPT ALL SELECT id FROM order_items", "0A000", "EXCEPT ALL");
    refused("SELECT id FROM orders UNION ALL SELECT id FROM order_items ORDER BY 1", "0A000",
            "ORDER BY/LIMIT/OFFSET over UNION ALL");
    refused("SELECT id FROM orders UNION ALL SELECT id FROM order_items LIMIT 3", "0A000", "UNION ALL");
    refused("SELECT status, count(*) FROM orders GROUP BY status UNION ALL SELECT 'x', 1 FROM orders", "0A000",
            "aggregate in a UNION ALL branch");
    refused("SELECT id FROM orders UNION ALL (SELECT id FROM order_items ORDER BY id LIMIT 1)", "0A000",
            "LIMIT/OFFSET in a UNION ALL branch");
    /* every shard would return the reference table's rows */
    refused("SELECT code FROM currencies UNION ALL SELECT status FROM orders", "0A000",
            "a UNION ALL branch that reads no sharded table");
}

/* ------------------------------------------------------------ other refusals */

static void test_grouping_sets_refused(void **state)
{
    (void)state;
    refused("SELECT status, count(*) FROM orders GROUP BY ROLLUP (status)", "0A000", "GROUPING SETS, ROLLUP and CUBE");
    refused("SELECT status, count(*) FROM orders GROUP BY CUBE (status, paid)", "0A000", "CUBE");
    refused("SELECT status, count(*) FROM orders GROUP BY GROUPING SETS ((status), ())", "0A000", "GROUPING SETS");
}

static void test_select_into_refused(void **state)
{
    (void)state;
    refused("SELECT id INTO newt FROM orders ORDER BY id", "0A000", "SELECT INTO");
    /* nothing to merge: each shard makes its part */
    concat("SELECT id INTO newt FROM orders");
}

static void test_parse_error(void **state)
{
    (void)state;
    refused("SELEC id FROM orders", "42601", "syntax error at or near \"SELEC\"");
}

static void test_values(void **state)
{
    (void)state;
    concat("VALUES (1), (2)");
    refused("VALUES (1), (2) ORDER BY 1", "0A000", "VALUES");
}

/* ------------------------------------------------------------ concatenation */

static void test_plain_select(void **state)
{
    (void)state;
    g_key_calls = 0;
    concat("SELECT id, total FROM orders WHERE status = 'paid'");
    assert_true(g_key_calls > 0);
    concat("SELECT o.*, c.name FROM orders o JOIN customers c USING (customer_id) WHERE EXISTS "
           "(SELECT 1 FROM order_items i WHERE i.customer_id = o.customer_id)");
}

static void test_not_a_single_select(void **state)
{
    (void)state;
    concat("SELECT 1; SELECT 2");
    concat("UPDATE orders SET total = 0");
    concat("");
}

/* ------------------------------------------------------------ co-location */

#define NOT_ON_KEY "is not on the shard key"

static void test_coloc_join_on_key(void **state)
{
    (void)state;
    concat("SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.customer_id");
    concat("SELECT c.name, o.total FROM customers c JOIN orders o ON c.customer_id = o.customer_id AND o.total > 5");
    concat("SELECT * FROM customers c, orders o WHERE c.customer_id = o.customer_id AND o.total > 5");
    concat("SELECT * FROM customers JOIN orders USING (customer_id)");
    concat("SELECT * FROM customers NATURAL JOIN orders");
    concat("SELECT * FROM customers JOIN orders ON customers.customer_id = orders.customer_id");
    concat("SELECT * FROM public.customers JOIN orders o ON public.customers.customer_id = o.customer_id");
}

static void test_coloc_join_transitive(void **state)
{
    (void)state;
    concat("SELECT * FROM customers c JOIN orders o ON o.customer_id = c.customer_id "
           "JOIN order_items i ON i.customer_id = o.customer_id");
    concat("SELECT * FROM customers c, orders o, order_items i "
           "WHERE o.customer_id = c.customer_id AND i.customer_id = c.customer_id");
    refused("SELECT * FROM customers c JOIN orders o ON o.customer_id = c.customer_id "
            "JOIN order_items i ON i.order_id = o.order_id",
            "0A000", "join of customers and order_items " NOT_ON_KEY);
}

static void test_coloc_join_not_on_key(void **state)
{
    (void)state;
    refused("SELECT c.name, o.total FROM customers c JOIN orders o ON o.status = c.status", "0A000",
            "join of customers and orders " NOT_ON_KEY);
    refused("SELECT * FROM customers c, orders o", "0A000", "join of customers and orders " NOT_ON_KEY);
    refused("SELECT * FROM customers c, orders o WHERE c.customer_id = o.order_id", "0A000", NOT_ON_KEY);
    refused("SELECT * FROM customers JOIN orders USING (status)", "0A000", NOT_ON_KEY);
    refused("SELECT * FROM customers c CROSS JOIN orders o", "0A000", NOT_ON_KEY);
    /* only the AND-chain counts: OR does not bind the rows */
    refused("SELECT * FROM customers c JOIN orders o ON o.customer_id = c.customer_id OR o.total > 5", "0A000",
            NOT_ON_KEY);
    /* a key compared to a constant of the other does not join them */
    refused("SELECT * FROM customers c, orders o WHERE c.customer_id = 1 AND o.total = c.total", "0A000",
            NOT_ON_KEY);
}

static void test_coloc_outer_join(void **state)
{
    (void)state;
    concat("SELECT c.customer_id FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id "
           "WHERE o.order_id IS NULL");
    concat("SELECT * FROM customers c FULL JOIN orders o ON o.customer_id = c.customer_id");
    refused("SELECT * FROM customers c LEFT JOIN orders o ON o.status = c.status", "0A000",
            "join of customers and orders " NOT_ON_KEY);
}

static void test_coloc_id_column(void **state)
{
    (void)state;
    /* orders' shard-aware order_id places its rows like its key */
    concat("SELECT * FROM orders o JOIN items_by_order i ON i.order_id = o.order_id");
    refused("SELECT * FROM customers c JOIN items_by_order i ON i.order_id = c.order_id", "0A000",
            "join of customers and items_by_order " NOT_ON_KEY);
}

static void test_coloc_reference_join(void **state)
{
    (void)state;
    concat("SELECT o.order_id, p.name FROM orders o JOIN products p ON p.product_id = o.product_id");
    concat("SELECT * FROM products p, payments y WHERE p.x = y.x");
}

static void test_coloc_join_under_a_merge(void **state)
{
    (void)state;
    planned("SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.customer_id ORDER BY 2",
            "SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.customer_id ORDER BY 2");
    refused("SELECT c.region, count(*) FROM customers c JOIN orders o ON o.status = c.status GROUP BY 1", "0A000",
            NOT_ON_KEY);
}

static void test_coloc_exists(void **state)
{
    (void)state;
    concat("SELECT c.customer_id FROM customers c WHERE EXISTS "
           "(SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id AND o.total > 9)");
    concat("SELECT c.customer_id FROM customers c WHERE NOT EXISTS "
           "(SELECT 1 FROM orders WHERE c.customer_id = customer_id)");
    concat("SELECT customer_id FROM customers WHERE EXISTS "
           "(SELECT 1 FROM orders o WHERE o.customer_id = customers.customer_id)");
    refused("SELECT c.customer_id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.total > 9)",
            "0A000", "subquery over orders");
    refused("SELECT c.customer_id FROM customers c WHERE EXISTS "
            "(SELECT 1 FROM orders o WHERE o.status = c.status)",
            "0A000", "subquery over orders");
    /* an OR does not bind the subquery's rows to the outer row */
    refused("SELECT c.customer_id FROM customers c WHERE EXISTS "
            "(SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id OR o.total > 9)",
            "0A000", "subquery over orders");
}

static void test_coloc_in_on_key(void **state)
{
    (void)state;
    concat("SELECT * FROM customers c WHERE c.customer_id IN (SELECT customer_id FROM orders WHERE total > 5)");
    concat("SELECT * FROM customers WHERE customer_id NOT IN (SELECT o.customer_id FROM orders o)");
    concat("SELECT * FROM customers c WHERE c.customer_id = ANY (SELECT customer_id FROM orders)");
    refused("SELECT count(*) FROM customers c WHERE c.region IN (SELECT status FROM orders)", "0A000",
            "subquery over orders");
    refused("SELECT * FROM customers c WHERE c.region IN (SELECT customer_id FROM orders)", "0A000",
            "subquery over orders");
    refused("SELECT * FROM customers c WHERE c.customer_id > ALL (SELECT customer_id FROM orders)", "0A000",
            "subquery over orders");
}

static void test_coloc_scalar_and_array(void **state)
{
    (void)state;
    concat("SELECT c.customer_id, (SELECT max(o.total) FROM orders o WHERE o.customer_id = c.customer_id) "
           "FROM customers c");
    refused("SELECT c.customer_id, (SELECT o.total FROM orders o WHERE o.order_id = 7) FROM customers c", "0A000",
            "subquery over orders");
    refused("SELECT c.customer_id, ARRAY(SELECT o.order_id FROM orders o) FROM customers c", "0A000",
            "subquery over orders");
    concat("SELECT c.customer_id, ARRAY(SELECT o.order_id FROM orders o WHERE o.customer_id = c.customer_id) "
           "FROM customers c");
}

static void test_coloc_correlated_aggregate(void **state)
{
    (void)state;
    /* bound to the outer row's shard: the aggregate is exact there */
    concat("SELECT c.customer_id, (SELECT sum(price) FROM orders o WHERE o.customer_id = c.customer_id) "
           "FROM customers c");
    concat("SELECT c.customer_id FROM customers c WHERE "
           "(SELECT count(*) FROM orders o WHERE o.customer_id = c.customer_id) > 3");
    concat("SELECT c.customer_id, (SELECT o.total FROM orders o WHERE o.customer_id = c.customer_id "
           "ORDER BY o.total DESC LIMIT 1) FROM customers c");
    planned("SELECT c.customer_id, (SELECT sum(price) FROM orders o WHERE o.customer_id = c.customer_id) AS s "
            "FROM customers c ORDER BY s",
            "SELECT c.customer_id, (SELECT sum(price) FROM orders o WHERE o.customer_id = c.customer_id) AS s "
            "FROM customers c ORDER BY s");
    /* uncorrelated: still the nested aggregate refusal */
    refused("SELECT c.customer_id, (SELECT sum(price) FROM orders o) FROM customers c", "0A000",
            "aggregate in a subquery");
    refused("SELECT c.customer_id, (SELECT sum(price) FROM orders o WHERE o.status = c.status) FROM customers c",
            "0A000", "aggregate in a subquery");
}

static void test_coloc_sublink_reference(void **state)
{
    (void)state;
    concat("SELECT * FROM orders o WHERE o.product_id IN (SELECT product_id FROM products WHERE price > 5)");
    concat("SELECT o.order_id, (SELECT name FROM products p WHERE p.product_id = o.product_id) FROM orders o");
    /* a reference table's rows repeat on every shard: not bound */
    refused("SELECT * FROM payments p WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = p.customer_id)",
            "0A000", "subquery over orders");
}

static void test_coloc_sublink_nested(void **state)
{
    (void)state;
    concat("SELECT c.customer_id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o "
           "JOIN order_items i ON i.customer_id = o.customer_id WHERE o.customer_id = c.customer_id)");
    refused("SELECT c.customer_id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o "
            "JOIN order_items i ON i.order_id = o.order_id WHERE o.customer_id = c.customer_id)",
            "0A000", "join of orders and order_items " NOT_ON_KEY);
    /* two levels down, bound to the outermost row */
    concat("SELECT c.customer_id FROM customers c WHERE EXISTS (SELECT 1 FROM products p WHERE EXISTS "
           "(SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id AND o.product_id = p.product_id))");
    /* in a JOIN's ON clause */
    refused("SELECT * FROM customers c JOIN products p ON p.product_id IN (SELECT product_id FROM orders)",
            "0A000", "subquery over orders");
    /* an unknown qualifier binds nothing */
    refused("SELECT * FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = x.customer_id)",
            "0A000", "subquery over orders");
}

static void test_coloc_from_subquery(void **state)
{
    (void)state;
    concat("SELECT * FROM customers c JOIN (SELECT customer_id, total FROM orders WHERE total > 1) s "
           "ON s.customer_id = c.customer_id");
    concat("SELECT * FROM customers c JOIN (SELECT o.customer_id AS cid FROM orders o) s ON s.cid = c.customer_id");
    concat("SELECT * FROM customers c JOIN (SELECT * FROM orders) s ON s.customer_id = c.customer_id");
    concat("SELECT * FROM customers c JOIN (SELECT customer_id, sum(total) AS t FROM orders GROUP BY customer_id) s "
           "ON s.customer_id = c.customer_id");
    refused("SELECT * FROM customers c JOIN (SELECT total FROM orders) s ON s.total = c.customer_id", "0A000",
            "s selects no shard key column of orders");
    refused("SELECT * FROM customers c JOIN (SELECT customer_id AS cid, total FROM orders) s "
            "ON s.total = c.customer_id",
            "0A000", "join of customers and s " NOT_ON_KEY);
    /* a join inside the subquery is checked too */
    refused("SELECT * FROM (SELECT o.total FROM orders o JOIN order_items i ON i.order_id = o.order_id) s",
            "0A000", "join of orders and order_items " NOT_ON_KEY);
    /* over reference tables only: not sharded rows */
    concat("SELECT * FROM orders o JOIN (SELECT product_id FROM products) p ON p.product_id = o.product_id");
}

static void test_coloc_lateral(void **state)
{
    (void)state;
    concat("SELECT * FROM customers c, LATERAL (SELECT sum(total) AS t FROM orders o "
           "WHERE o.customer_id = c.customer_id) x");
    refused("SELECT * FROM customers c, LATERAL (SELECT total FROM orders o WHERE o.status = c.status) x", "0A000",
            NOT_ON_KEY);
}

static void test_coloc_cte(void **state)
{
    (void)state;
    concat("WITH big AS (SELECT customer_id FROM orders WHERE total > 100) "
           "SELECT * FROM customers c JOIN big b ON b.customer_id = c.customer_id");
    concat("WITH big AS (SELECT customer_id FROM orders WHERE total > 100) "
           "SELECT * FROM customers c WHERE c.customer_id IN (SELECT customer_id FROM big)");
    refused("WITH t AS (SELECT status FROM orders) SELECT * FROM customers c JOIN t ON t.status = c.status", "0A000",
            "join of customers and t " NOT_ON_KEY);
    refused("WITH t AS (SELECT * FROM orders o, customers c WHERE o.status = c.status) SELECT * FROM t", "0A000",
            "join of orders and customers " NOT_ON_KEY);
    /* a CTE over reference tables joins freely */
    concat("WITH p AS (SELECT product_id FROM products) SELECT * FROM orders o JOIN p ON p.product_id = o.x");
}

static void test_coloc_union_all_branch(void **state)
{
    (void)state;
    concat("SELECT o.order_id FROM orders o JOIN customers c ON c.customer_id = o.customer_id "
           "UNION ALL SELECT order_id FROM order_items");
    refused("SELECT o.order_id FROM orders o JOIN customers c ON c.status = o.status "
            "UNION ALL SELECT order_id FROM order_items",
            "0A000", "join of orders and customers " NOT_ON_KEY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_order_by_position, teardown),
        cmocka_unit_test_teardown(test_order_by_name, teardown),
        cmocka_unit_test_teardown(test_order_by_alias, teardown),
        cmocka_unit_test_teardown(test_order_by_output_name_of_qualified_column, teardown),
        cmocka_unit_test_teardown(test_order_by_expression, teardown),
        cmocka_unit_test_teardown(test_order_by_hidden, teardown),
        cmocka_unit_test_teardown(test_order_by_hidden_once, teardown),
        cmocka_unit_test_teardown(test_order_by_star, teardown),
        cmocka_unit_test_teardown(test_order_by_using_refused, teardown),
        cmocka_unit_test_teardown(test_order_by_bad_position, teardown),
        cmocka_unit_test_teardown(test_for_update_with_order, teardown),
        cmocka_unit_test_teardown(test_limit_offset_const, teardown),
        cmocka_unit_test_teardown(test_limit_offset_params, teardown),
        cmocka_unit_test_teardown(test_limit_const_offset_param, teardown),
        cmocka_unit_test_teardown(test_limit_param_alone, teardown),
        cmocka_unit_test_teardown(test_limit_all, teardown),
        cmocka_unit_test_teardown(test_offset_only, teardown),
        cmocka_unit_test_teardown(test_limit_without_order, teardown),
        cmocka_unit_test_teardown(test_fetch_first, teardown),
        cmocka_unit_test_teardown(test_limit_big_values, teardown),
        cmocka_unit_test_teardown(test_limit_refusals, teardown),
        cmocka_unit_test_teardown(test_distinct, teardown),
        cmocka_unit_test_teardown(test_distinct_order_limit, teardown),
        cmocka_unit_test_teardown(test_distinct_limit_without_order, teardown),
        cmocka_unit_test_teardown(test_distinct_order_not_selected, teardown),
        cmocka_unit_test_teardown(test_distinct_on, teardown),
        cmocka_unit_test_teardown(test_distinct_on_hidden, teardown),
        cmocka_unit_test_teardown(test_distinct_on_without_order, teardown),
        cmocka_unit_test_teardown(test_count_star, teardown),
        cmocka_unit_test_teardown(test_every_simple_aggregate, teardown),
        cmocka_unit_test_teardown(test_avg_parts, teardown),
        cmocka_unit_test_teardown(test_avg_filter, teardown),
        cmocka_unit_test_teardown(test_stddev_parts_filter, teardown),
        cmocka_unit_test_teardown(test_variance_family_shares_parts, teardown),
        cmocka_unit_test_teardown(test_count_distinct_key, teardown),
        cmocka_unit_test_teardown(test_distinct_aggregates, teardown),
        cmocka_unit_test_teardown(test_count_distinct_refused, teardown),
        cmocka_unit_test_teardown(test_unmergeable_aggregates, teardown),
        cmocka_unit_test_teardown(test_expression_over_aggregate, teardown),
        cmocka_unit_test_teardown(test_star_with_aggregates, teardown),
        cmocka_unit_test_teardown(test_group_by_position, teardown),
        cmocka_unit_test_teardown(test_group_by_alias, teardown),
        cmocka_unit_test_teardown(test_group_by_input_column_wins, teardown),
        cmocka_unit_test_teardown(test_group_by_expression, teardown),
        cmocka_unit_test_teardown(test_group_by_hidden, teardown),
        cmocka_unit_test_teardown(test_group_constants_and_functions, teardown),
        cmocka_unit_test_teardown(test_grouped_order_limit, teardown),
        cmocka_unit_test_teardown(test_grouped_limit_params, teardown),
        cmocka_unit_test_teardown(test_grouped_order_by_hidden_aggregates, teardown),
        cmocka_unit_test_teardown(test_grouped_order_by_refused, teardown),
        cmocka_unit_test_teardown(test_grouped_distinct, teardown),
        cmocka_unit_test_teardown(test_having_and, teardown),
        cmocka_unit_test_teardown(test_having_or_not_null, teardown),
        cmocka_unit_test_teardown(test_having_between, teardown),
        cmocka_unit_test_teardown(test_having_not_between, teardown),
        cmocka_unit_test_teardown(test_having_constants, teardown),
        cmocka_unit_test_teardown(test_having_bool_aggregate, teardown),
        cmocka_unit_test_teardown(test_having_group_expression, teardown),
        cmocka_unit_test_teardown(test_having_without_group_by, teardown),
        cmocka_unit_test_teardown(test_having_refused, teardown),
        cmocka_unit_test_teardown(test_per_shard_key, teardown),
        cmocka_unit_test_teardown(test_per_shard_alias_qualified, teardown),
        cmocka_unit_test_teardown(test_per_shard_by_position_and_alias, teardown),
        cmocka_unit_test_teardown(test_per_shard_hidden_order, teardown),
        cmocka_unit_test_teardown(test_per_shard_nothing_to_merge, teardown),
        cmocka_unit_test_teardown(test_key_on_nullable_side_is_not_per_shard, teardown),
        cmocka_unit_test_teardown(test_cte_named_like_table_is_not_it, teardown),
        cmocka_unit_test_teardown(test_window_refused, teardown),
        cmocka_unit_test_teardown(test_window_partitioned_by_key, teardown),
        cmocka_unit_test_teardown(test_nested_aggregate_refused, teardown),
        cmocka_unit_test_teardown(test_nested_limit_refused, teardown),
        cmocka_unit_test_teardown(test_nested_distinct, teardown),
        cmocka_unit_test_teardown(test_nested_window, teardown),
        cmocka_unit_test_teardown(test_nested_reference_tables, teardown),
        cmocka_unit_test_teardown(test_nested_grouped_by_key, teardown),
        cmocka_unit_test_teardown(test_nested_under_a_merge, teardown),
        cmocka_unit_test_teardown(test_union_all, teardown),
        cmocka_unit_test_teardown(test_union_refused, teardown),
        cmocka_unit_test_teardown(test_grouping_sets_refused, teardown),
        cmocka_unit_test_teardown(test_select_into_refused, teardown),
        cmocka_unit_test_teardown(test_parse_error, teardown),
        cmocka_unit_test_teardown(test_values, teardown),
        cmocka_unit_test_teardown(test_plain_select, teardown),
        cmocka_unit_test_teardown(test_not_a_single_select, teardown),
        cmocka_unit_test_teardown(test_coloc_join_on_key, teardown),
        cmocka_unit_test_teardown(test_coloc_join_transitive, teardown),
        cmocka_unit_test_teardown(test_coloc_join_not_on_key, teardown),
        cmocka_unit_test_teardown(test_coloc_outer_join, teardown),
        cmocka_unit_test_teardown(test_coloc_id_column, teardown),
        cmocka_unit_test_teardown(test_coloc_reference_join, teardown),
        cmocka_unit_test_teardown(test_coloc_join_under_a_merge, teardown),
        cmocka_unit_test_teardown(test_coloc_exists, teardown),
        cmocka_unit_test_teardown(test_coloc_in_on_key, teardown),
        cmocka_unit_test_teardown(test_coloc_scalar_and_array, teardown),
        cmocka_unit_test_teardown(test_coloc_correlated_aggregate, teardown),
        cmocka_unit_test_teardown(test_coloc_sublink_reference, teardown),
        cmocka_unit_test_teardown(test_coloc_sublink_nested, teardown),
        cmocka_unit_test_teardown(test_coloc_from_subquery, teardown),
        cmocka_unit_test_teardown(test_coloc_lateral, teardown),
        cmocka_unit_test_teardown(test_coloc_cte, teardown),
        cmocka_unit_test_teardown(test_coloc_union_all_branch, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
