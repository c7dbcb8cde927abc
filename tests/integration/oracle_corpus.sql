-- oracle_corpus.sql - the queries of the differential oracle test
-- (test_oracle.sh, run by sw_oracle): each one runs through shardwire and
-- on a plain PostgreSQL holding the same data, in text and in binary result
-- format, and both answers must be identical.
--
-- Format:
--   * A statement starts at its first line that is neither blank nor a
--     "--" comment and ends at the first line whose last non-blank
--     character is ';' (the ';' is not sent).  One statement per entry.
--   * Comment lines before a statement may hold directives for it:
--       -- ordered          rows are compared in order; only when the ORDER
--                           BY is total on what is selected (a unique
--                           tie-breaker, or only the sort columns selected so
--                           that equal keys print alike).  Without it both
--                           answers are compared as sorted multisets.
--       -- error SQLSTATE   shardwire must refuse the statement with that
--                           SQLSTATE; the oracle's answer is not looked at
--                           (and the self-test skips the entry).
--       -- name: label      shown in reports.
--     Any other comment is just a comment.  A directive inside a statement
--     is an error (a forgotten ';').
--
-- Rules the entries follow:
--   * select lists hold bare aggregates (shardwire refuses an expression
--     over an aggregate across shards: those are "-- error 0A000" entries);
--   * "numeric" values that compare equal may print differently (1.5 and
--     1.50), so orderings on amount always end with fact_id;
--   * no LIMIT without a total ORDER BY (the rows would be arbitrary).
--
-- Data: shardwire-gendata (customer, customer_by_region, orders,
-- order_items, payments, products, shipment_details, customer_details) and
-- order_facts (oracle_extra.sql, sw_oracle --gen-facts).  Placement
-- (config/ecommerce.yaml): customer, orders and order_facts hash-sharded on
-- customer_id, order_items on order_id (co-located with its order),
-- customer_by_region list-sharded on customer_region, payments a reference
-- copy on every node, products three price-band tables on shard1,
-- shipment_details on shard2, customer_details on shard3.

-- =====================================================================
-- 1. Routing shapes that need no merging (one node, or concatenation)
-- =====================================================================

-- name: no table
SELECT 1 AS one, 'two'::text AS two, 3.50::numeric AS three, NULL::int AS nothing;

-- name: routed customer
-- ordered
SELECT * FROM customer WHERE customer_id = 42;

-- name: routed orders of one customer
-- ordered
SELECT order_id, order_date, quantity, price, order_sequence_id FROM orders WHERE customer_id = 42 ORDER BY order_sequence_id, order_id;

-- name: routed IN list (two shards, concatenated)
SELECT customer_id, customer_name, customer_region FROM customer WHERE customer_id IN (1, 2, 3, 500, 1000, 1499);

-- name: routed aggregate on one customer
SELECT count(*), sum(price), avg(quantity), min(order_date), max(order_date) FROM orders WHERE customer_id = 77;

-- name: routed window function on one customer
-- ordered
SELECT order_id, price, sum(price) OVER (ORDER BY order_sequence_id, order_id) AS running FROM orders WHERE customer_id = 77 ORDER BY order_sequence_id, order_id;

-- name: routed order_facts of one customer
-- ordered
SELECT fact_id, order_id, qty, units, big, score, ratio, amount, amount2, flag, label, code, grade, d, ts, tstz, u FROM order_facts WHERE customer_id = 7 ORDER BY fact_id;

-- name: keyless plain select (concatenation)
SELECT customer_id, customer_name, customer_email, customer_shipping_address, customer_region FROM customer;

-- name: keyless select with a filter
SELECT order_id, customer_id, order_date, price FROM orders WHERE order_date = '2025-06-01';

-- name: keyless star on order_facts
SELECT * FROM order_facts;

-- name: keyless order_facts filter on NULLs
SELECT fact_id, label, code FROM order_facts WHERE label IS NULL AND code IS NOT NULL;

-- name: keyless expressions without aggregates
SELECT fact_id, units * 2 AS dbl, coalesce(label, '?') AS lbl, upper(code) AS up, d + 1 AS next_day, ts::date AS day, qty::numeric / 3 AS third FROM order_facts WHERE fact_id % 10 = 3;

-- name: keyless order_items of a day range
SELECT i.order_id, i.item_no, i.product_id, i.unit_price FROM order_items i WHERE i.unit_price BETWEEN 100 AND 101;

-- name: empty keyless answer
SELECT fact_id, label FROM order_facts WHERE fact_id < 0;

-- name: order_items by order_id (routed through the embedded id)
-- ordered
SELECT item_no, product_id, quantity, unit_price FROM order_items WHERE order_id = 53355622413665464 ORDER BY item_no;

-- name: list-sharded region, one node
-- ordered
SELECT customer_id, customer_name FROM customer_by_region WHERE customer_region = 'LATAM' ORDER BY customer_id LIMIT 15;

-- name: list-sharded region aggregate on one node
SELECT customer_region, count(*) FROM customer_by_region WHERE customer_region = 'EMEA' GROUP BY 1;

-- name: products keyless (three band tables on one node)
-- ordered
SELECT product_id, product_name, product_price FROM products ORDER BY product_price DESC, product_id LIMIT 12;

-- name: products by price band
-- ordered
SELECT product_id, product_name, product_price, product_categories FROM products WHERE product_price BETWEEN 120 AND 180 ORDER BY product_price, product_id;

-- name: products per category (one node)
-- ordered
SELECT product_categories, count(*), min(product_price), max(product_price), avg(product_price) FROM products GROUP BY product_categories ORDER BY product_categories;

-- name: products window (one node)
-- ordered
SELECT product_id, product_price, rank() OVER (PARTITION BY product_categories ORDER BY product_price DESC, product_id) AS r FROM products WHERE product_categories = 'toys' ORDER BY r, product_id;

-- name: payments (reference table, one node)
-- ordered
SELECT payment_id, payment_date, payment_mode FROM payments ORDER BY payment_id LIMIT 20;

-- name: shipment_details (vertical, one node)
-- ordered
SELECT shipment_date, count(*) FROM shipment_details GROUP BY shipment_date ORDER BY count(*) DESC, shipment_date LIMIT 10;

-- name: customer_details (vertical, one node)
-- ordered
SELECT customer_region, count(*), count(customer_shipping_address) FROM customer_details GROUP BY 1 ORDER BY 1;

-- =====================================================================
-- 2. The seeds' analytics
-- =====================================================================

-- name: monthly sales (orders)
-- ordered
SELECT date_trunc('month', order_date) AS month, count(*) AS orders, sum(price) AS revenue, sum(price * quantity) AS weighted FROM orders GROUP BY date_trunc('month', order_date) ORDER BY month;

-- name: monthly sales (order items)
-- ordered
SELECT date_trunc('month', o.order_date) AS month, sum(i.unit_price * i.quantity) AS sales, sum(i.quantity) AS units FROM orders o JOIN order_items i ON i.order_id = o.order_id GROUP BY 1 ORDER BY 1;

-- name: monthly sales 2025 only
-- ordered
SELECT date_trunc('month', order_date) AS month, sum(price * quantity) AS sales FROM orders WHERE order_date >= '2025-01-01' GROUP BY month ORDER BY month DESC;

-- name: yearly sales
-- ordered
SELECT extract(year FROM order_date) AS y, count(*), sum(price), avg(price), min(price), max(price) FROM orders GROUP BY 1 ORDER BY 1;

-- name: revenue by region
-- ordered
SELECT c.customer_region, count(*) AS orders, sum(o.price) AS revenue FROM customer c JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.customer_region ORDER BY c.customer_region;

-- name: revenue by region, biggest first
-- ordered
SELECT c.customer_region, sum(o.price * o.quantity) AS revenue FROM customer c JOIN orders o ON o.customer_id = c.customer_id GROUP BY 1 ORDER BY revenue DESC, 1;

-- name: revenue by region and month
-- ordered
SELECT c.customer_region, date_trunc('month', o.order_date) AS month, sum(o.price) AS revenue FROM customer c JOIN orders o ON o.customer_id = c.customer_id GROUP BY 1, 2 ORDER BY 1, 2;

-- name: average order value by region
-- ordered
SELECT c.customer_region, avg(o.price) AS aov, count(DISTINCT o.customer_id) AS buyers FROM customer c JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.customer_region ORDER BY 1;

-- name: customer segments by order value
-- ordered
SELECT segment, count(*) AS customers FROM (SELECT customer_id, CASE WHEN sum(price) >= 2000 THEN 'high' WHEN sum(price) >= 700 THEN 'mid' ELSE 'low' END AS segment FROM orders GROUP BY customer_id) s GROUP BY segment ORDER BY segment;

-- name: customer segments with totals
-- ordered
SELECT segment, count(*) AS customers, sum(total) AS revenue, avg(total) AS avg_total FROM (SELECT customer_id, sum(price) AS total, CASE WHEN count(*) >= 6 THEN 'loyal' WHEN count(*) >= 3 THEN 'regular' ELSE 'occasional' END AS segment FROM orders GROUP BY customer_id) s GROUP BY segment ORDER BY segment;

-- name: per-customer totals (grouped by the key)
SELECT customer_id, count(*), sum(price), max(order_date) FROM orders GROUP BY customer_id;

-- name: top customers by spend
-- ordered
SELECT customer_id, sum(price) AS spend FROM orders GROUP BY customer_id ORDER BY spend DESC, customer_id LIMIT 10;

-- name: top-N products by quantity
-- ordered
SELECT product_id, sum(quantity) AS qty FROM order_items GROUP BY product_id ORDER BY qty DESC, product_id LIMIT 10;

-- name: top-N products by revenue
-- ordered
SELECT product_id, sum(quantity * unit_price) AS revenue, count(*) AS lines FROM order_items GROUP BY product_id ORDER BY revenue DESC, product_id LIMIT 10;

-- name: bottom products by quantity
-- ordered
SELECT product_id, sum(quantity) FROM order_items GROUP BY product_id ORDER BY sum(quantity), product_id LIMIT 10;

-- name: cohorts: first order month per customer
-- ordered
SELECT cohort, count(*) AS customers FROM (SELECT customer_id, date_trunc('month', min(order_date)) AS cohort FROM orders GROUP BY customer_id) f GROUP BY cohort ORDER BY cohort;

-- name: cohorts with min() outside date_trunc
-- ordered
SELECT cohort, count(*) FROM (SELECT customer_id, min(date_trunc('month', order_date)) AS cohort FROM orders GROUP BY customer_id) f GROUP BY 1 ORDER BY 1;

-- name: cohorts by region
-- ordered
SELECT f.cohort, c.customer_region, count(*) FROM (SELECT customer_id, date_trunc('quarter', min(order_date)) AS cohort FROM orders GROUP BY customer_id) f JOIN customer c ON c.customer_id = f.customer_id GROUP BY 1, 2 ORDER BY 1, 2;

-- name: payment mode shares (reference table)
-- ordered
SELECT payment_mode, count(*) AS payments FROM payments GROUP BY payment_mode ORDER BY payments DESC, payment_mode;

-- name: payment mode shares with a window (one node)
-- ordered
SELECT payment_mode, count(*), round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS pct FROM payments GROUP BY payment_mode ORDER BY payment_mode;

-- name: revenue per payment mode (orders joined to the reference table)
-- ordered
SELECT p.payment_mode, count(*) AS orders, sum(o.price) AS revenue FROM orders o JOIN payments p ON p.payment_id = o.payment_id GROUP BY p.payment_mode ORDER BY p.payment_mode;

-- name: orders per weekday
-- ordered
SELECT extract(isodow FROM order_date) AS dow, count(*), sum(quantity) FROM orders GROUP BY 1 ORDER BY 1;

-- name: items per order size
-- ordered
SELECT n_items, count(*) AS orders FROM (SELECT order_id, count(*) AS n_items FROM order_items GROUP BY order_id) s GROUP BY n_items ORDER BY n_items;

-- name: customers per region (customer table)
-- ordered
SELECT customer_region, count(*) FROM customer GROUP BY customer_region ORDER BY customer_region;

-- name: customers per region (list-sharded table: whole groups per node)
-- ordered
SELECT customer_region, count(*), min(customer_name), max(customer_email) FROM customer_by_region GROUP BY customer_region ORDER BY customer_region;

-- =====================================================================
-- 3. Aggregates without GROUP BY, over every type
-- =====================================================================

-- name: count star
SELECT count(*) FROM orders;

-- name: count star, several tables' worth
SELECT count(*) FROM order_items;

-- name: count on NULL-heavy columns
SELECT count(*), count(order_id), count(qty), count(units), count(big), count(score), count(ratio), count(amount), count(amount2) FROM order_facts;

-- name: count on NULL-heavy columns (second half)
SELECT count(flag), count(label), count(code), count(grade), count(d), count(ts), count(tstz), count(u) FROM order_facts;

-- name: count distinct shard key (orders)
SELECT count(DISTINCT customer_id) FROM orders;

-- name: count distinct shard key (order_facts)
SELECT count(DISTINCT customer_id) AS customers, count(*) AS rows FROM order_facts;

-- name: count distinct shard key (order_items)
SELECT count(DISTINCT order_id) FROM order_items;

-- name: sums over integer widths
SELECT sum(qty), sum(units), sum(big) FROM order_facts;

-- name: sum over numeric
SELECT sum(amount), sum(amount2) FROM order_facts;

-- name: sum over floats
SELECT sum(score), sum(ratio) FROM order_facts;

-- name: sum over orders
SELECT sum(price), sum(quantity), sum(order_sequence_id) FROM orders;

-- name: avg over integer widths
SELECT avg(qty), avg(units), avg(big) FROM order_facts;

-- name: avg over numeric
SELECT avg(amount), avg(amount2) FROM order_facts;

-- name: avg over floats
SELECT avg(score), avg(ratio) FROM order_facts;

-- name: avg over orders
SELECT avg(price), avg(quantity) FROM orders;

-- name: min/max over integers
SELECT min(qty), max(qty), min(units), max(units), min(big), max(big) FROM order_facts;

-- name: min/max over numeric and floats
SELECT min(amount), max(amount), min(amount2), max(amount2), min(score), max(score), min(ratio), max(ratio) FROM order_facts;

-- name: min/max over text, varchar, char
SELECT min(label), max(label), min(code), max(code), min(grade), max(grade) FROM order_facts;

-- name: min/max over date, timestamp, timestamptz
SELECT min(d), max(d), min(ts), max(ts), min(tstz), max(tstz) FROM order_facts;

-- name: min/max over uuid (as text) and bool (as int)
SELECT min(u::text), max(u::text), min(flag::int), max(flag::int) FROM order_facts;

-- name: bool_and / bool_or / every
SELECT bool_and(flag), bool_or(flag), every(flag) FROM order_facts;

-- name: bool_and / bool_or on a filtered set
SELECT bool_and(flag), bool_or(flag) FROM order_facts WHERE qty > 15;

-- name: bool_and / bool_or derived
SELECT bool_and(qty > -10), bool_or(units > 100000), bool_and(label IS NOT NULL) FROM order_facts;

-- name: stddev family over smallint
SELECT stddev(qty), stddev_samp(qty), stddev_pop(qty), variance(qty), var_samp(qty), var_pop(qty) FROM order_facts;

-- name: stddev family over int
SELECT stddev(units), stddev_samp(units), stddev_pop(units), variance(units), var_samp(units), var_pop(units) FROM order_facts;

-- name: stddev family over bigint
SELECT stddev(big), stddev_samp(big), stddev_pop(big), variance(big), var_samp(big), var_pop(big) FROM order_facts;

-- name: stddev family over bigint without the extremes
SELECT stddev(big), var_pop(big) FROM order_facts WHERE abs(big) < 1000000000000000;

-- name: stddev family over numeric
SELECT stddev(amount), stddev_samp(amount), stddev_pop(amount), variance(amount), var_samp(amount), var_pop(amount) FROM order_facts;

-- name: stddev family over numeric(12,3)
SELECT stddev(amount2), stddev_pop(amount2), var_samp(amount2), var_pop(amount2) FROM order_facts;

-- name: stddev family over float8
SELECT stddev(score), stddev_pop(score), variance(score), var_pop(score) FROM order_facts;

-- name: stddev family over real
SELECT stddev(ratio), stddev_pop(ratio), var_samp(ratio), var_pop(ratio) FROM order_facts;

-- name: stddev of order prices
SELECT stddev(price), variance(price), stddev(quantity), variance(quantity) FROM orders;

-- name: aggregates over a single row
SELECT count(*), sum(units), avg(units), min(label), stddev(units), stddev_pop(units), var_samp(amount), var_pop(amount), bool_and(flag) FROM order_facts WHERE fact_id = 17;

-- name: variance family over a single row of each numeric type
SELECT variance(qty), var_pop(qty), stddev(big), stddev_pop(big), variance(score), var_pop(ratio), stddev(amount2) FROM order_facts WHERE fact_id = 3;

-- name: aggregates over all-NULL inputs
SELECT count(units), sum(units), avg(units), min(units), max(units), stddev(units), var_pop(units) FROM order_facts WHERE units IS NULL;

-- name: aggregates over all-NULL numeric, float, text, bool
SELECT sum(amount), avg(amount), variance(amount), sum(score), avg(ratio), min(label), max(d), bool_and(flag), bool_or(flag) FROM order_facts WHERE amount IS NULL AND score IS NULL AND ratio IS NULL AND label IS NULL AND d IS NULL AND flag IS NULL;

-- name: aggregates over no rows at all
SELECT count(*), count(units), sum(units), avg(amount), min(ts), max(tstz), stddev(score), bool_or(flag) FROM order_facts WHERE fact_id < 0;

-- name: aggregates on rows of one shard only
SELECT count(*), sum(amount), avg(score), min(label) FROM order_facts WHERE customer_id IN (1, 2);

-- name: FILTER
SELECT count(*) FILTER (WHERE flag) AS t, count(*) FILTER (WHERE NOT flag) AS f, count(*) FILTER (WHERE flag IS NULL) AS n FROM order_facts;

-- name: FILTER on sums and averages
SELECT sum(units) FILTER (WHERE qty > 0), avg(amount) FILTER (WHERE label LIKE 'a%'), max(ts) FILTER (WHERE d < '2020-01-01') FROM order_facts;

-- name: FILTER over orders
SELECT count(*) FILTER (WHERE quantity > 3), sum(price) FILTER (WHERE order_date >= '2025-01-01'), avg(price) FILTER (WHERE quantity = 1) FROM orders;

-- name: aggregates of expressions
SELECT sum(units * 2), sum(qty::numeric / 7), max(length(label)), min(abs(big)), avg(coalesce(ratio, 0)) FROM order_facts;

-- name: aggregate of a CASE
SELECT sum(CASE WHEN flag THEN 1 ELSE 0 END), count(CASE WHEN qty < 0 THEN 1 END) FROM order_facts;

-- name: many aggregates at once over orders
SELECT count(*), count(payment_id), sum(price), avg(price), min(price), max(price), sum(quantity), avg(quantity), min(order_date), max(order_date) FROM orders;

-- name: count distinct key with a filter
SELECT count(DISTINCT customer_id) FROM orders WHERE quantity >= 5;

-- name: aggregates over a co-located join
SELECT count(*), sum(i.quantity * i.unit_price), avg(i.unit_price), count(DISTINCT o.customer_id) FROM orders o JOIN order_items i ON i.order_id = o.order_id;

-- name: aggregates over order_facts joined to customer
SELECT count(*), sum(f.units), max(c.customer_name) FROM order_facts f JOIN customer c ON c.customer_id = f.customer_id;

-- =====================================================================
-- 4. GROUP BY
-- =====================================================================

-- name: group by column, unordered
SELECT quantity, count(*), sum(price) FROM orders GROUP BY quantity;

-- ordered
-- name: group by column, ordered
SELECT quantity, count(*), sum(price), avg(price) FROM orders GROUP BY quantity ORDER BY quantity;

-- name: group by position
-- ordered
SELECT qty, count(*), sum(units) FROM order_facts GROUP BY 1 ORDER BY 1 NULLS FIRST;

-- name: group by alias
-- ordered
SELECT date_part('year', d) AS yr, count(*) FROM order_facts GROUP BY yr ORDER BY yr NULLS LAST;

-- name: group by expression
-- ordered
SELECT units % 3 AS m, count(*), sum(units) FROM order_facts GROUP BY units % 3 ORDER BY m NULLS FIRST;

-- name: group by expression not selected
SELECT count(*), sum(qty) FROM order_facts GROUP BY units % 5;

-- name: group by a column not in the select list
SELECT count(*), avg(price) FROM orders GROUP BY quantity;

-- name: group by two columns
-- ordered
SELECT flag, grade, count(*), sum(qty) FROM order_facts GROUP BY flag, grade ORDER BY flag NULLS FIRST, grade NULLS FIRST;

-- name: group by three columns, unordered
SELECT flag, code, qty > 0 AS pos, count(*), max(label) FROM order_facts GROUP BY flag, code, qty > 0;

-- name: group by text (mixed case, non-ASCII)
-- ordered
SELECT label, count(*), min(fact_id), max(fact_id) FROM order_facts GROUP BY label ORDER BY label;

-- name: group by varchar
-- ordered
SELECT code, count(*), sum(amount) FROM order_facts GROUP BY code ORDER BY code DESC NULLS LAST;

-- name: group by char(2)
-- ordered
SELECT grade, count(*), avg(score) FROM order_facts GROUP BY grade ORDER BY grade;

-- name: group by bool
-- ordered
SELECT flag, count(*), sum(units), avg(units), stddev(units) FROM order_facts GROUP BY flag ORDER BY flag;

-- name: group by date
SELECT d, count(*) FROM order_facts GROUP BY d;

-- name: group by date_trunc of a timestamp
-- ordered
SELECT date_trunc('year', ts) AS y, count(*), min(ts), max(ts) FROM order_facts GROUP BY 1 ORDER BY 1;

-- name: group by date_trunc of a timestamptz
-- ordered
SELECT date_trunc('month', tstz) AS m, count(*), max(tstz) FROM order_facts WHERE tstz >= '2024-01-01' GROUP BY 1 ORDER BY 1;

-- name: group by uuid
SELECT u, count(*) FROM order_facts GROUP BY u;

-- name: group by numeric (equal values printed differently group together)
SELECT amount::float8 AS a, count(*) FROM order_facts WHERE amount IN (0, 1.5, -3, 2.25, 100.1, -0.5) GROUP BY amount;

-- name: group by numeric(12,3)
SELECT amount2, count(*), min(fact_id) FROM order_facts GROUP BY amount2;

-- name: group by float8
SELECT score, count(*) FROM order_facts WHERE score IN (1.5, 2.25, -3, 0, 100) GROUP BY score;

-- name: group by real
SELECT ratio, count(*) FROM order_facts GROUP BY ratio;

-- name: group by bigint, with extremes
-- ordered
SELECT big, count(*) FROM order_facts GROUP BY big HAVING count(*) > 1 ORDER BY big NULLS FIRST;

-- name: group by with every aggregate
-- ordered
SELECT grade, count(*), count(units), sum(units), avg(units), min(units), max(units), bool_and(flag), bool_or(flag), stddev(units), variance(units) FROM order_facts GROUP BY grade ORDER BY grade NULLS FIRST;

-- name: group by with numeric aggregates
-- ordered
SELECT flag, sum(amount), avg(amount), stddev_samp(amount), var_pop(amount), min(amount2), max(amount2), avg(amount2) FROM order_facts GROUP BY flag ORDER BY flag NULLS LAST;

-- name: group by with float aggregates
-- ordered
SELECT flag, sum(score), avg(score), stddev(score), sum(ratio), avg(ratio), var_samp(ratio) FROM order_facts GROUP BY flag ORDER BY flag NULLS FIRST;

-- name: group by with bigint aggregates
-- ordered
SELECT qty, sum(big), avg(big) FROM order_facts GROUP BY qty ORDER BY qty NULLS FIRST;

-- name: group by with single-row groups
-- ordered
SELECT fact_id, count(*), sum(units), avg(amount), variance(qty), stddev_pop(score) FROM order_facts WHERE fact_id <= 40 GROUP BY fact_id ORDER BY fact_id;

-- name: group by with all-NULL groups
-- ordered
SELECT label IS NULL AS no_label, count(units), sum(units), avg(units), max(units) FROM order_facts WHERE units IS NULL OR label IS NOT NULL GROUP BY label IS NULL ORDER BY 1;

-- name: group by with FILTER
-- ordered
SELECT grade, count(*) FILTER (WHERE flag), sum(units) FILTER (WHERE units > 0), avg(score) FILTER (WHERE score < 100) FROM order_facts GROUP BY grade ORDER BY grade NULLS FIRST;

-- name: group by the shard key
SELECT customer_id, count(*), sum(units), min(label), max(d) FROM order_facts GROUP BY customer_id;

-- name: group by the shard key, ordered with limit
-- ordered
SELECT customer_id, count(*), sum(amount) FROM order_facts GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 15;

-- name: group by the shard key with count distinct non-key
-- ordered
SELECT customer_id, count(DISTINCT label), count(DISTINCT code) FROM order_facts GROUP BY customer_id ORDER BY customer_id LIMIT 25;

-- name: group by the shard key with string_agg
-- ordered
SELECT customer_id, string_agg(label, ',' ORDER BY fact_id) AS labels FROM order_facts GROUP BY customer_id ORDER BY customer_id LIMIT 20;

-- name: group by the shard key and another column
SELECT customer_id, flag, count(*), sum(qty) FROM order_facts GROUP BY customer_id, flag;

-- name: group by the shard key with array_agg
-- ordered
SELECT customer_id, array_agg(order_sequence_id ORDER BY order_sequence_id) FROM orders GROUP BY customer_id ORDER BY customer_id LIMIT 30;

-- name: group by the join key of co-located tables
SELECT o.customer_id, count(i.*), sum(i.quantity) FROM orders o JOIN order_items i ON i.order_id = o.order_id GROUP BY o.customer_id;

-- name: group by order_id in order_items (its shard key)
-- ordered
SELECT order_id, count(*), sum(quantity * unit_price) FROM order_items GROUP BY order_id ORDER BY sum(quantity * unit_price) DESC, order_id LIMIT 10;

-- name: group by with count distinct key
-- ordered
SELECT quantity, count(DISTINCT customer_id) FROM orders GROUP BY quantity ORDER BY quantity;

-- name: group by region with count distinct key over the join
-- ordered
SELECT c.customer_region, count(DISTINCT f.customer_id), count(*) FROM order_facts f JOIN customer c ON c.customer_id = f.customer_id GROUP BY 1 ORDER BY 1;

-- name: order by aggregate
-- ordered
SELECT label, count(*) AS n FROM order_facts GROUP BY label ORDER BY n DESC, label NULLS FIRST;

-- name: order by aggregate not selected
-- ordered
SELECT code FROM order_facts GROUP BY code ORDER BY sum(units) DESC NULLS LAST, code NULLS LAST;

-- name: order by avg
-- ordered
SELECT grade, avg(amount) FROM order_facts GROUP BY grade ORDER BY avg(amount) NULLS FIRST, grade;

-- name: order by max of a timestamp
-- ordered
SELECT qty, max(ts) FROM order_facts GROUP BY qty ORDER BY max(ts) DESC, qty NULLS FIRST;

-- name: limit on grouped results
-- ordered
SELECT quantity, count(*) FROM orders GROUP BY quantity ORDER BY quantity LIMIT 3;

-- name: offset on grouped results
-- ordered
SELECT quantity, count(*) FROM orders GROUP BY quantity ORDER BY quantity OFFSET 4;

-- name: limit and offset on grouped results
-- ordered
SELECT qty, sum(units), count(*) FROM order_facts GROUP BY qty ORDER BY qty NULLS LAST LIMIT 5 OFFSET 3;

-- name: limit on grouped results ordered by aggregate
-- ordered
SELECT label, sum(qty) AS s FROM order_facts GROUP BY label ORDER BY s DESC NULLS LAST, label LIMIT 5;

-- name: offset beyond the groups
-- ordered
SELECT quantity, count(*) FROM orders GROUP BY quantity ORDER BY quantity OFFSET 50;

-- name: limit 0 on groups
SELECT quantity, count(*) FROM orders GROUP BY quantity ORDER BY quantity LIMIT 0;

-- name: group by constant expression columns
-- ordered
SELECT 'k' AS k, quantity, 42 AS answer, count(*) FROM orders GROUP BY quantity ORDER BY quantity;

-- name: group by and expression of the group key in the select list
-- ordered
SELECT quantity, quantity * 10 AS q10, count(*) FROM orders GROUP BY quantity ORDER BY quantity;

-- name: grouped count over empty input
SELECT qty, count(*) FROM order_facts WHERE fact_id < 0 GROUP BY qty;

-- =====================================================================
-- 5. HAVING
-- =====================================================================

-- name: having count
-- ordered
SELECT customer_region, count(*) FROM customer GROUP BY customer_region HAVING count(*) > 300 ORDER BY 1;

-- name: having sum
-- ordered
SELECT quantity, sum(price) FROM orders GROUP BY quantity HAVING sum(price) > 10000 ORDER BY quantity;

-- name: having with an aggregate not selected
-- ordered
SELECT quantity FROM orders GROUP BY quantity HAVING avg(price) > 500 ORDER BY quantity;

-- name: having AND
-- ordered
SELECT label, count(*) FROM order_facts GROUP BY label HAVING count(*) > 40 AND max(units) > 90000 ORDER BY label;

-- name: having OR
-- ordered
SELECT code, count(*) FROM order_facts GROUP BY code HAVING min(qty) = -5 OR sum(units) < 0 ORDER BY code NULLS FIRST;

-- name: having NOT
-- ordered
SELECT grade, count(*) FROM order_facts GROUP BY grade HAVING NOT (count(*) < 140) ORDER BY grade NULLS FIRST;

-- name: having BETWEEN
-- ordered
SELECT label, count(*) FROM order_facts GROUP BY label HAVING count(*) BETWEEN 40 AND 50 ORDER BY label;

-- name: having IS NULL
-- ordered
SELECT qty, max(label) FROM order_facts GROUP BY qty HAVING max(label) IS NULL ORDER BY qty;

-- name: having IS NOT NULL on an all-NULL-able aggregate
-- ordered
SELECT grade, count(*) FROM order_facts WHERE fact_id < 300 GROUP BY grade HAVING avg(amount2) IS NOT NULL ORDER BY grade NULLS LAST;

-- name: having negative constants
-- ordered
SELECT qty, min(units) FROM order_facts GROUP BY qty HAVING min(units) < -49000 ORDER BY qty NULLS FIRST;

-- name: having on a negative sum
-- ordered
SELECT code, sum(qty) FROM order_facts GROUP BY code HAVING sum(qty) > -5 ORDER BY code NULLS FIRST;

-- name: having comparing two aggregates
-- ordered
SELECT qty, min(units), max(units) FROM order_facts GROUP BY qty HAVING max(units) <> min(units) ORDER BY qty NULLS FIRST;

-- name: having on numeric avg
-- ordered
SELECT label, avg(amount) FROM order_facts GROUP BY label HAVING avg(amount) > 50000000 ORDER BY label NULLS FIRST;

-- name: having on a float sum
-- ordered
SELECT flag, sum(score) FROM order_facts GROUP BY flag HAVING sum(score) > 1000 ORDER BY flag NULLS FIRST;

-- name: having on bool_or
-- ordered
SELECT code, bool_or(flag) FROM order_facts GROUP BY code HAVING bool_or(flag) ORDER BY code NULLS FIRST;

-- name: having on count distinct key
-- ordered
SELECT quantity, count(DISTINCT customer_id) FROM orders GROUP BY quantity HAVING count(DISTINCT customer_id) > 100 ORDER BY quantity;

-- name: having with limit
-- ordered
SELECT label, count(*) AS n FROM order_facts GROUP BY label HAVING count(*) >= 45 ORDER BY n DESC, label NULLS FIRST LIMIT 4;

-- name: having on a date
-- ordered
SELECT flag, min(d) FROM order_facts GROUP BY flag HAVING min(d) < '2000-01-01' ORDER BY flag NULLS FIRST;

-- name: having on a text max
-- ordered
SELECT qty, max(code) FROM order_facts GROUP BY qty HAVING max(code) >= 'a' ORDER BY qty NULLS FIRST;

-- name: having that keeps nothing
SELECT quantity, count(*) FROM orders GROUP BY quantity HAVING count(*) > 100000;

-- name: having without group by
SELECT count(*) FROM orders HAVING count(*) > 10;

-- name: having without group by, false
SELECT sum(price) FROM orders HAVING sum(price) < 0;

-- name: having with the shard key grouped (whole groups per shard)
SELECT customer_id, count(*) FROM order_facts GROUP BY customer_id HAVING count(*) >= 12;

-- name: having with the shard key grouped and count distinct
-- ordered
SELECT customer_id, count(DISTINCT label) FROM order_facts GROUP BY customer_id HAVING count(DISTINCT label) > 6 ORDER BY customer_id;

-- name: having on a co-located join grouped by region
-- ordered
SELECT c.customer_region, sum(o.price) FROM customer c JOIN orders o ON o.customer_id = c.customer_id GROUP BY 1 HAVING count(*) > 1000 ORDER BY 1;

-- =====================================================================
-- 6. ORDER BY, LIMIT, OFFSET
-- =====================================================================

-- name: order by key with a unique tiebreaker
-- ordered
SELECT order_id, customer_id, order_date, price FROM orders ORDER BY order_date, order_id LIMIT 25;

-- name: order by desc
-- ordered
SELECT order_id, price FROM orders ORDER BY price DESC, order_id DESC LIMIT 25;

-- name: order by several keys mixed directions
-- ordered
SELECT customer_id, order_date, order_id FROM orders ORDER BY customer_id DESC, order_date ASC, order_id DESC LIMIT 30;

-- name: order by everything, no limit
-- ordered
SELECT order_id, order_sequence_id, customer_id, quantity FROM orders ORDER BY order_id, order_sequence_id;

-- name: order by the shard key
-- ordered
SELECT customer_id, customer_name FROM customer ORDER BY customer_id;

-- name: order by a column not in the select list
-- ordered
SELECT fact_id, label FROM order_facts ORDER BY score DESC NULLS LAST, fact_id LIMIT 20;

-- name: order by position
-- ordered
SELECT label, fact_id FROM order_facts ORDER BY 1 NULLS FIRST, 2 LIMIT 30;

-- name: order by alias
-- ordered
SELECT fact_id, units * 2 AS dbl FROM order_facts ORDER BY dbl DESC NULLS LAST, fact_id LIMIT 20;

-- name: order by an expression
-- ordered
SELECT fact_id, units FROM order_facts ORDER BY abs(units) NULLS FIRST, fact_id LIMIT 30;

-- name: order by an expression not selected
-- ordered
SELECT fact_id FROM order_facts ORDER BY lower(label) NULLS FIRST, fact_id LIMIT 30;

-- name: order by a CASE
-- ordered
SELECT fact_id, qty FROM order_facts ORDER BY CASE WHEN qty < 0 THEN 0 ELSE 1 END, fact_id DESC LIMIT 20;

-- name: order by smallint nulls first
-- ordered
SELECT fact_id, qty FROM order_facts ORDER BY qty NULLS FIRST, fact_id LIMIT 60;

-- name: order by smallint desc nulls last
-- ordered
SELECT fact_id, qty FROM order_facts ORDER BY qty DESC NULLS LAST, fact_id LIMIT 60;

-- name: order by int asc (nulls last by default)
-- ordered
SELECT units FROM order_facts ORDER BY units LIMIT 100;

-- name: order by int desc (nulls first by default)
-- ordered
SELECT units FROM order_facts ORDER BY units DESC LIMIT 1000;

-- name: order by bigint with extremes
-- ordered
SELECT big FROM order_facts ORDER BY big NULLS FIRST;

-- name: order by bigint desc
-- ordered
SELECT fact_id, big FROM order_facts ORDER BY big DESC NULLS LAST, fact_id LIMIT 40;

-- name: order by float8
-- ordered
SELECT score FROM order_facts ORDER BY score NULLS FIRST;

-- name: order by float8 desc with tiebreaker
-- ordered
SELECT fact_id, score FROM order_facts ORDER BY score DESC, fact_id LIMIT 50;

-- name: order by real
-- ordered
SELECT ratio FROM order_facts ORDER BY ratio DESC NULLS LAST;

-- name: order by numeric with mixed scales (tiebreaker)
-- ordered
SELECT fact_id, amount FROM order_facts ORDER BY amount NULLS FIRST, fact_id LIMIT 200;

-- name: order by numeric desc (tiebreaker)
-- ordered
SELECT fact_id, amount FROM order_facts ORDER BY amount DESC, fact_id;

-- name: order by numeric(12,3)
-- ordered
SELECT amount2 FROM order_facts ORDER BY amount2 NULLS FIRST;

-- name: order by bool
-- ordered
SELECT flag FROM order_facts ORDER BY flag NULLS FIRST;

-- name: order by bool desc with tiebreaker
-- ordered
SELECT fact_id, flag FROM order_facts ORDER BY flag DESC, fact_id LIMIT 30;

-- name: order by text (C collation: bytes)
-- ordered
SELECT label FROM order_facts ORDER BY label;

-- name: order by text desc nulls last
-- ordered
SELECT fact_id, label FROM order_facts ORDER BY label DESC NULLS LAST, fact_id DESC LIMIT 100;

-- name: order by varchar
-- ordered
SELECT code FROM order_facts ORDER BY code NULLS FIRST;

-- name: order by char(2)
-- ordered
SELECT grade FROM order_facts ORDER BY grade DESC;

-- name: order by char(2) and text
-- ordered
SELECT grade, label FROM order_facts ORDER BY grade NULLS FIRST, label NULLS FIRST;

-- name: order by date (BC, leap day, infinity)
-- ordered
SELECT d FROM order_facts ORDER BY d NULLS FIRST;

-- name: order by date desc with tiebreaker
-- ordered
SELECT fact_id, d FROM order_facts ORDER BY d DESC NULLS LAST, fact_id LIMIT 40;

-- name: order by timestamp
-- ordered
SELECT ts FROM order_facts ORDER BY ts;

-- name: order by timestamp desc with tiebreaker
-- ordered
SELECT fact_id, ts FROM order_facts ORDER BY ts DESC, fact_id LIMIT 40;

-- name: order by timestamptz
-- ordered
SELECT tstz FROM order_facts ORDER BY tstz NULLS FIRST;

-- name: order by uuid
-- ordered
SELECT u FROM order_facts ORDER BY u;

-- name: order by uuid desc with tiebreaker
-- ordered
SELECT fact_id, u FROM order_facts ORDER BY u DESC NULLS LAST, fact_id LIMIT 40;

-- name: order by many types at once
-- ordered
SELECT flag, grade, d, fact_id FROM order_facts ORDER BY flag NULLS FIRST, grade DESC NULLS LAST, d, fact_id LIMIT 150;

-- name: order by all nullable keys
-- ordered
SELECT qty, code, ratio FROM order_facts ORDER BY qty, code DESC, ratio NULLS FIRST;

-- name: limit only with total order
-- ordered
SELECT fact_id FROM order_facts ORDER BY fact_id LIMIT 7;

-- name: offset only
-- ordered
SELECT fact_id, label FROM order_facts ORDER BY fact_id OFFSET 1990;

-- name: limit and offset
-- ordered
SELECT fact_id, label FROM order_facts ORDER BY fact_id LIMIT 10 OFFSET 500;

-- name: limit and offset desc
-- ordered
SELECT order_id, price FROM orders ORDER BY price DESC, order_id LIMIT 10 OFFSET 10;

-- name: offset beyond the end
-- ordered
SELECT fact_id FROM order_facts ORDER BY fact_id LIMIT 10 OFFSET 100000;

-- name: offset exactly at the end
-- ordered
SELECT fact_id FROM order_facts ORDER BY fact_id OFFSET 2000;

-- name: limit 0
-- ordered
SELECT fact_id, label, score FROM order_facts ORDER BY fact_id LIMIT 0;

-- name: limit larger than the table
-- ordered
SELECT customer_id FROM customer ORDER BY customer_id DESC LIMIT 100000;

-- name: limit with FETCH FIRST syntax
-- ordered
SELECT fact_id, amount FROM order_facts ORDER BY amount DESC NULLS LAST, fact_id FETCH FIRST 12 ROWS ONLY;

-- name: limit 1 (the maximum row)
-- ordered
SELECT order_id, price FROM orders ORDER BY price DESC, order_id LIMIT 1;

-- name: order by with a keyless filter
-- ordered
SELECT order_id, order_date FROM orders WHERE quantity >= 8 ORDER BY order_date, order_id;

-- name: order by on a co-located join
-- ordered
SELECT o.order_id, i.item_no, i.product_id FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE o.quantity >= 9 ORDER BY o.order_id, i.item_no;

-- name: order by across customer and order_facts
-- ordered
SELECT c.customer_name, f.fact_id, f.ts FROM customer c JOIN order_facts f ON f.customer_id = c.customer_id ORDER BY f.ts DESC NULLS LAST, f.fact_id LIMIT 25;

-- name: order by only sort columns with ties
-- ordered
SELECT quantity FROM orders ORDER BY quantity DESC LIMIT 120;

-- name: order by two sort columns with ties
-- ordered
SELECT quantity, order_date FROM orders ORDER BY quantity, order_date DESC LIMIT 300;

-- name: order by text then numeric tiebreaker
-- ordered
SELECT code, amount, fact_id FROM order_facts ORDER BY code, amount DESC, fact_id LIMIT 80;

-- name: order by timestamptz with offsets
-- ordered
SELECT fact_id, tstz FROM order_facts WHERE tstz IS NOT NULL ORDER BY tstz, fact_id LIMIT 30;

-- name: order by date expression
-- ordered
SELECT fact_id, d FROM order_facts WHERE d BETWEEN '2000-01-01' AND '2030-01-01' ORDER BY extract(month FROM d), extract(day FROM d), fact_id LIMIT 40;

-- name: order by collate "C" explicitly
-- ordered
SELECT label FROM order_facts WHERE label IS NOT NULL ORDER BY label COLLATE "C" DESC;

-- name: order by one shard's rows only
-- ordered
SELECT fact_id, units FROM order_facts WHERE customer_id = 5 ORDER BY units NULLS FIRST, fact_id;

-- name: order by on keyless order_items
-- ordered
SELECT order_id, item_no, unit_price FROM order_items ORDER BY unit_price DESC, order_id, item_no LIMIT 50;

-- =====================================================================
-- 7. DISTINCT and DISTINCT ON
-- =====================================================================

-- name: distinct, unordered
SELECT DISTINCT label FROM order_facts;

-- name: distinct ordered
-- ordered
SELECT DISTINCT label FROM order_facts ORDER BY label;

-- name: distinct two columns
-- ordered
SELECT DISTINCT flag, grade FROM order_facts ORDER BY flag NULLS FIRST, grade NULLS FIRST;

-- name: distinct with order by and limit
-- ordered
SELECT DISTINCT qty FROM order_facts ORDER BY qty NULLS FIRST LIMIT 10;

-- name: distinct with order by desc, limit and offset
-- ordered
SELECT DISTINCT code FROM order_facts ORDER BY code DESC NULLS LAST LIMIT 4 OFFSET 2;

-- name: distinct quantity of orders
-- ordered
SELECT DISTINCT quantity FROM orders ORDER BY quantity;

-- name: distinct on an expression
-- ordered
SELECT DISTINCT date_trunc('year', d) AS y FROM order_facts ORDER BY y NULLS FIRST;

-- name: distinct numeric(12,3)
SELECT DISTINCT amount2 FROM order_facts WHERE amount2 BETWEEN -50000 AND 50000;

-- name: distinct dates of orders
SELECT DISTINCT order_date FROM orders;

-- name: distinct timestamps
-- ordered
SELECT DISTINCT ts FROM order_facts ORDER BY ts DESC NULLS LAST LIMIT 30;

-- name: distinct uuids
SELECT DISTINCT u FROM order_facts;

-- name: distinct bool
-- ordered
SELECT DISTINCT flag FROM order_facts ORDER BY flag;

-- name: distinct shard key
SELECT DISTINCT customer_id FROM order_facts;

-- name: distinct shard key ordered, limited
-- ordered
SELECT DISTINCT customer_id FROM orders ORDER BY customer_id DESC LIMIT 20;

-- name: distinct over a co-located join
-- ordered
SELECT DISTINCT c.customer_region, o.quantity FROM customer c JOIN orders o ON o.customer_id = c.customer_id ORDER BY 1, 2;

-- name: distinct on, first row per label
-- ordered
SELECT DISTINCT ON (label) label, fact_id, score FROM order_facts ORDER BY label, fact_id;

-- name: distinct on, last row per label
-- ordered
SELECT DISTINCT ON (label) label, fact_id, ts FROM order_facts ORDER BY label NULLS FIRST, fact_id DESC;

-- name: distinct on two keys
-- ordered
SELECT DISTINCT ON (flag, grade) flag, grade, fact_id, amount FROM order_facts ORDER BY flag, grade, fact_id;

-- name: distinct on with limit
-- ordered
SELECT DISTINCT ON (qty) qty, fact_id, units FROM order_facts ORDER BY qty NULLS FIRST, units DESC NULLS LAST, fact_id LIMIT 8;

-- name: distinct on with limit and offset
-- ordered
SELECT DISTINCT ON (code) code, fact_id FROM order_facts ORDER BY code, fact_id LIMIT 5 OFFSET 3;

-- name: distinct on highest score per grade
-- ordered
SELECT DISTINCT ON (grade) grade, score, fact_id FROM order_facts WHERE score IS NOT NULL ORDER BY grade, score DESC, fact_id;

-- name: distinct on the shard key (latest order per customer)
-- ordered
SELECT DISTINCT ON (customer_id) customer_id, order_id, order_date FROM orders ORDER BY customer_id, order_date DESC, order_id DESC LIMIT 40;

-- name: distinct on the shard key, no limit
SELECT DISTINCT ON (customer_id) customer_id, order_sequence_id FROM orders ORDER BY customer_id, order_sequence_id DESC;

-- name: distinct on an expression
-- ordered
SELECT DISTINCT ON (date_trunc('month', order_date)) date_trunc('month', order_date) AS m, order_id, price FROM orders ORDER BY date_trunc('month', order_date), price DESC, order_id;

-- name: distinct on a date with NULLs
-- ordered
SELECT DISTINCT ON (d) d, fact_id FROM order_facts WHERE d < '2000-01-01' OR d IS NULL ORDER BY d NULLS FIRST, fact_id;

-- name: distinct on region over a co-located join
-- ordered
SELECT DISTINCT ON (c.customer_region) c.customer_region, o.order_id, o.price FROM customer c JOIN orders o ON o.customer_id = c.customer_id ORDER BY c.customer_region, o.price DESC, o.order_id;

-- =====================================================================
-- 8. Joins of co-located tables, UNION ALL, subqueries
-- =====================================================================

-- name: customer join orders, keyless
SELECT c.customer_id, c.customer_name, o.order_id, o.price FROM customer c JOIN orders o ON o.customer_id = c.customer_id WHERE o.price > 2500;

-- name: orders join order_items, keyless
SELECT o.order_id, o.customer_id, i.item_no, i.quantity FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE i.unit_price > 495;

-- name: three-way co-located join
SELECT c.customer_region, o.order_id, i.product_id FROM customer c JOIN orders o ON o.customer_id = c.customer_id JOIN order_items i ON i.order_id = o.order_id WHERE i.product_id = 7;

-- name: left join, customers without orders
SELECT c.customer_id, c.customer_name FROM customer c LEFT JOIN orders o ON o.customer_id = c.customer_id WHERE o.order_id IS NULL;

-- name: order_facts join orders on the key
SELECT f.fact_id, o.order_id FROM order_facts f JOIN orders o ON o.customer_id = f.customer_id AND o.order_sequence_id = f.qty;

-- name: join with a reference table
SELECT o.order_id, p.payment_mode FROM orders o JOIN payments p ON p.payment_id = o.payment_id WHERE o.quantity = 10;

-- name: EXISTS on a co-located table
SELECT c.customer_id FROM customer c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id AND o.quantity >= 9);

-- name: IN subquery on a co-located table
SELECT customer_id, customer_region FROM customer WHERE customer_id IN (SELECT customer_id FROM order_facts WHERE qty = 20);

-- name: keyed subquery in FROM, per shard
SELECT s.customer_id, s.n FROM (SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id) s WHERE s.n >= 9;

-- name: aggregate over a per-shard subquery
-- ordered
SELECT n, count(*) FROM (SELECT customer_id, count(*) AS n FROM order_facts GROUP BY customer_id) s GROUP BY n ORDER BY n;

-- name: CTE of a per-customer aggregate
-- ordered
WITH spend AS (SELECT customer_id, sum(price) AS total FROM orders GROUP BY customer_id) SELECT customer_id, total FROM spend ORDER BY total DESC, customer_id LIMIT 10;

-- name: UNION ALL of two keyless selects
SELECT customer_id, 'order' AS kind FROM orders WHERE quantity >= 9 UNION ALL SELECT customer_id, 'fact' FROM order_facts WHERE qty = 20;

-- name: UNION ALL within one customer
-- ordered
SELECT * FROM (SELECT order_id AS id, 'o' AS kind FROM orders WHERE customer_id = 42 UNION ALL SELECT fact_id, 'f' FROM order_facts WHERE customer_id = 42) u ORDER BY id, kind;

-- name: UNION ALL of the same table twice
SELECT fact_id FROM order_facts WHERE label = 'apple' UNION ALL SELECT fact_id FROM order_facts WHERE label = 'Apple';

-- name: keyless select of many columns with casts
SELECT fact_id, qty::int, units::bigint, big::numeric, score::real, ratio::float8, amount::float8, amount2::text, d::timestamp, ts::timestamptz, u::text FROM order_facts WHERE fact_id % 50 = 0;

-- name: keyless select of customer_by_region (three nodes)
SELECT customer_region, customer_id, customer_name FROM customer_by_region WHERE customer_name LIKE 'A%';

-- =====================================================================
-- 9. Shapes shardwire refuses across shards
-- =====================================================================

-- name: window function across shards
-- error 0A000
SELECT order_id, row_number() OVER (ORDER BY order_date, order_id) FROM orders;

-- name: window function with partition across shards
-- error 0A000
SELECT customer_id, rank() OVER (PARTITION BY quantity ORDER BY price DESC) FROM orders;

-- name: window aggregate across shards
-- error 0A000
SELECT fact_id, sum(units) OVER () FROM order_facts;

-- name: round(avg(x), 2)
-- error 0A000
SELECT round(avg(price), 2) FROM orders;

-- name: round(avg(x), 2) grouped
-- error 0A000
SELECT quantity, round(avg(price), 2) FROM orders GROUP BY quantity;

-- name: arithmetic over aggregates
-- error 0A000
SELECT sum(price) / count(*) FROM orders;

-- name: HAVING with an expression over an aggregate
-- error 0A000
SELECT grade, min(units) FROM order_facts GROUP BY grade HAVING max(units) > -min(units);

-- name: string_agg without the key in GROUP BY
-- error 0A000
SELECT string_agg(label, ',') FROM order_facts;

-- name: string_agg grouped by a non-key
-- error 0A000
SELECT grade, string_agg(code, ',' ORDER BY fact_id) FROM order_facts GROUP BY grade;

-- name: count distinct non-key
-- error 0A000
SELECT count(DISTINCT label) FROM order_facts;

-- name: count distinct non-key grouped
-- error 0A000
SELECT quantity, count(DISTINCT order_date) FROM orders GROUP BY quantity;

-- name: count distinct product over order_items (key is order_id)
-- error 0A000
SELECT count(DISTINCT product_id) FROM order_items;

-- name: subquery with an aggregate across shards in WHERE
-- error 0A000
SELECT order_id, price FROM orders WHERE price > (SELECT avg(price) FROM orders);

-- name: per-customer totals above the average total
-- error 0A000
SELECT customer_id, total FROM (SELECT customer_id, sum(price) AS total FROM orders GROUP BY customer_id) t WHERE total > (SELECT avg(price) * 5 FROM orders);

-- name: UNION with ORDER BY
-- error 0A000
SELECT customer_id FROM orders WHERE quantity > 9 UNION SELECT customer_id FROM order_facts WHERE qty > 19 ORDER BY 1;

-- name: GROUPING SETS
-- error 0A000
SELECT flag, grade, count(*) FROM order_facts GROUP BY GROUPING SETS ((flag), (grade));

-- name: ROLLUP
-- error 0A000
SELECT quantity, count(*) FROM orders GROUP BY ROLLUP (quantity);

-- name: products joined with orders
-- error 0A000
SELECT p.product_name, i.quantity FROM products p JOIN order_items i ON i.product_id = p.product_id;

-- name: products joined with order_items, aggregated
-- error 0A000
SELECT p.product_categories, sum(i.quantity) FROM order_items i JOIN products p ON p.product_id = i.product_id GROUP BY 1;

-- name: shipment_details joined with customer_details (two nodes)
-- error 0A000
SELECT s.shipping_id, d.customer_region FROM shipment_details s JOIN customer_details d ON d.shipping_id = s.shipping_id;

-- =====================================================================
-- 10. Co-location of joins and subqueries

-- name: uncorrelated IN over a sharded table
-- error 0A000
SELECT count(*) FROM customer c WHERE c.customer_region IN (SELECT o.order_date::text FROM orders o WHERE o.quantity = 10);

-- name: uncorrelated EXISTS over a sharded table
-- error 0A000
SELECT c.customer_id FROM customer c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.quantity = 10 AND o.price > 2990);

-- name: join not on the shard key
-- error 0A000
SELECT c.customer_id, o.order_id FROM customer c JOIN orders o ON o.order_sequence_id = c.customer_id;

-- name: comma join of sharded tables without a key equality
-- error 0A000
SELECT count(*) FROM customer c, orders o WHERE o.quantity = 10 AND c.customer_id < 5;

-- name: FROM subquery without its key joined to a sharded table
-- error 0A000
SELECT c.customer_id, s.price FROM customer c JOIN (SELECT price, quantity FROM orders) s ON s.quantity = c.customer_id;

-- name: correlated scalar aggregate subquery on the key
SELECT c.customer_id, (SELECT sum(o.quantity) FROM orders o WHERE o.customer_id = c.customer_id) AS units FROM customer c WHERE c.customer_id % 40 = 0;

-- name: correlated count subquery on the key in WHERE
SELECT c.customer_id, c.customer_name FROM customer c WHERE (SELECT count(*) FROM orders o WHERE o.customer_id = c.customer_id) >= 6;

-- name: correlated NOT EXISTS on the key, unqualified inner key
SELECT c.customer_id FROM customer c WHERE NOT EXISTS (SELECT 1 FROM orders WHERE customer_id = c.customer_id);

-- name: FROM subquery selecting the key joined on it
SELECT c.customer_region, count(*) FROM customer c JOIN (SELECT customer_id AS cid, price FROM orders WHERE quantity >= 9) s ON s.cid = c.customer_id GROUP BY 1 ORDER BY 1;

-- name: comma join on the key in WHERE
SELECT c.customer_id, o.order_id FROM customer c, orders o WHERE o.customer_id = c.customer_id AND o.price > 2950;
