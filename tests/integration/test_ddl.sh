#!/usr/bin/env bash
# test_ddl: DDL through shardwire reaches every node that holds a table,
# with the physical names.  Three real PostgreSQL nodes; customer is
# hash-sharded over all three, products is table-suffix by price with
# products_10_to_100 and products_101_to_250 on node a and
# products_251_to_500 on node b, payments is a reference table (a copy on
# every node), shipment_details is pinned to node c.  After each step
# (CREATE TABLE, CREATE INDEX named and unnamed, ALTER TABLE ADD COLUMN,
# DROP INDEX, TRUNCATE, DROP TABLE) direct connections to every node check
# the catalogs: exactly the expected tables, columns and indexes, on exactly
# the expected nodes.
source "$(dirname "$0")/lib.sh"
sw_direct && sw_skip_test "the physical names exist only behind shardwire"

pg_start a
pg_start b
pg_start c

cat >"$SW_TMP/functions.yaml" <<'YAML'
- name: customer_hash
  kind: hash
  buckets: 1024
  nodes: [node_a, node_b, node_c]
- name: price_bands
  kind: range
  type: numeric
  ranges:
    - {from: 10, to: 101, table: products_10_to_100}
    - {from: 101, to: 251, table: products_101_to_250}
    - {from: 251, to: 501, table: products_251_to_500, node: node_b}
YAML
cat >"$SW_TMP/tables.yaml" <<'YAML'
- {name: customer, key: customer_id, function: customer_hash}
- {name: products, key: product_price, function: price_bands, node: node_a}
- {name: payments, reference: true}
- {name: shipment_details, node: node_c}
YAML
sw_config_write "$SW_TMP/sw.yaml" db=shop:a functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml"
sw_start "$SW_TMP/sw.yaml"
admin() { timeout 60 psql -X -w -q -At -v ON_ERROR_STOP=1 -d "$(sw_conninfo sw_scram shardwire)" -c "$1"; }

# What each node holds, straight from its catalogs (space-separated, sorted).
tables_on() {
    pg_psql "$1" -c "SELECT coalesce(string_agg(relname, ' ' ORDER BY relname), '') FROM pg_class
                     WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
}
indexes_on() {
    pg_psql "$1" -c "SELECT coalesce(string_agg(indexname, ' ' ORDER BY indexname), '') FROM pg_indexes
                     WHERE schemaname = 'public'"
}
columns_on() {
    pg_psql "$1" -c "SELECT coalesce(string_agg(table_name || '.' || column_name, ' '
                            ORDER BY table_name, ordinal_position), '')
                     FROM information_schema.columns WHERE table_schema = 'public'"
}
# expect_on FN WHAT A B C: FN's answer on nodes a, b and c.
expect_on() {
    local fn=$1 what=$2
    shift 2
    local n
    for n in a b c; do
        assert_eq "$1" "$($fn $n)" "$what on node $n"
        shift
    done
}

step "CREATE TABLE: hash on every node, suffix per physical table on its node, reference everywhere, pinned on its node"
sw_psql -c "CREATE TABLE customer (customer_id bigint PRIMARY KEY, name text NOT NULL)"
sw_psql -c "CREATE TABLE products (product_id bigint PRIMARY KEY, product_price numeric(10,2) NOT NULL, name text)"
sw_psql -c "CREATE TABLE payments (payment_id bigint PRIMARY KEY, payment_mode text)"
sw_psql -c "CREATE TABLE shipment_details (shipping_id bigint PRIMARY KEY, customer_id bigint)"
expect_on tables_on "tables" \
    "customer payments products_101_to_250 products_10_to_100" \
    "customer payments products_251_to_500" \
    "customer payments shipment_details"
expect_on columns_on "columns" \
    "customer.customer_id customer.name payments.payment_id payments.payment_mode products_101_to_250.product_id products_101_to_250.product_price products_101_to_250.name products_10_to_100.product_id products_10_to_100.product_price products_10_to_100.name" \
    "customer.customer_id customer.name payments.payment_id payments.payment_mode products_251_to_500.product_id products_251_to_500.product_price products_251_to_500.name" \
    "customer.customer_id customer.name payments.payment_id payments.payment_mode shipment_details.shipping_id shipment_details.customer_id"
ok "tables created where the map puts them"

step "SHOW ROUTE shows one statement per physical table"
out=$(admin "SHOW ROUTE CREATE INDEX pn ON products (name)")
assert_contains "$out" "node_a|CREATE INDEX pn_10_to_100 ON products_10_to_100 (name)|DDL" "route of a suffix CREATE INDEX"
assert_contains "$out" "node_a|CREATE INDEX pn_101_to_250 ON products_101_to_250 (name)|DDL" "route of a suffix CREATE INDEX"
assert_contains "$out" "node_b|CREATE INDEX pn_251_to_500 ON products_251_to_500 (name)|DDL" "route of a suffix CREATE INDEX"
ok "SHOW ROUTE"

step "rows go to the physical tables that now exist"
sw_psql -c "INSERT INTO products (product_id, product_price, name) VALUES (1, 15, 'pen'), (2, 150, 'ink'), (3, 300, 'pad'), (4, 99, 'cap')"
for id in 1 2 3 4 5 6 7 8 9; do sw_psql -c "INSERT INTO customer (customer_id, name) VALUES ($id, 'c$id')"; done
sw_psql -c "INSERT INTO payments (payment_id, payment_mode) VALUES (1, 'card'), (2, 'cash')"
sw_psql -c "INSERT INTO shipment_details (shipping_id, customer_id) VALUES (1, 1), (2, 2)"
assert_eq "1 4" "$(pg_psql a -c "SELECT product_id FROM products_10_to_100 ORDER BY 1" | xargs)" "10-100 band on node a"
assert_eq "2" "$(pg_psql a -c "SELECT product_id FROM products_101_to_250")" "101-250 band on node a"
assert_eq "3" "$(pg_psql b -c "SELECT product_id FROM products_251_to_500")" "251-500 band on node b"
assert_eq "1 2 3 4" "$(sw_psql -c "SELECT product_id FROM products" | sort | xargs)" "keyless read over both nodes"
assert_eq "3|pad" "$(sw_psql -c "SELECT product_id, name FROM products WHERE product_price = 300")" "read by price on node b"
ok "products spread over two nodes"

step "CREATE INDEX: named ones get each physical table's suffix, unnamed ones PostgreSQL's names"
sw_psql -c "CREATE INDEX products_name_idx ON products (name)"
sw_psql -c "CREATE INDEX ON products (product_price)"
sw_psql -c "CREATE INDEX customer_name_idx ON customer (name)"
sw_psql -c "CREATE INDEX ON payments (payment_mode)"
sw_psql -c "CREATE INDEX ship_customer_idx ON shipment_details (customer_id)"
expect_on indexes_on "indexes" \
    "customer_name_idx customer_pkey payments_payment_mode_idx payments_pkey products_101_to_250_pkey products_101_to_250_product_price_idx products_10_to_100_pkey products_10_to_100_product_price_idx products_name_idx_101_to_250 products_name_idx_10_to_100" \
    "customer_name_idx customer_pkey payments_payment_mode_idx payments_pkey products_251_to_500_pkey products_251_to_500_product_price_idx products_name_idx_251_to_500" \
    "customer_name_idx customer_pkey payments_payment_mode_idx payments_pkey ship_customer_idx shipment_details_pkey"
ok "indexes created with the physical names"

step "ALTER TABLE ADD COLUMN on every kind of table"
sw_psql -c "ALTER TABLE products ADD COLUMN note text"
sw_psql -c "ALTER TABLE customer ADD COLUMN email text"
sw_psql -c "ALTER TABLE payments ADD COLUMN memo text"
sw_psql -c "ALTER TABLE shipment_details ADD COLUMN carrier text"
expect_on columns_on "columns" \
    "customer.customer_id customer.name customer.email payments.payment_id payments.payment_mode payments.memo products_101_to_250.product_id products_101_to_250.product_price products_101_to_250.name products_101_to_250.note products_10_to_100.product_id products_10_to_100.product_price products_10_to_100.name products_10_to_100.note" \
    "customer.customer_id customer.name customer.email payments.payment_id payments.payment_mode payments.memo products_251_to_500.product_id products_251_to_500.product_price products_251_to_500.name products_251_to_500.note" \
    "customer.customer_id customer.name customer.email payments.payment_id payments.payment_mode payments.memo shipment_details.shipping_id shipment_details.customer_id shipment_details.carrier"
sw_psql -c "UPDATE products SET note = 'n' || product_id"
assert_eq "n3" "$(pg_psql b -c "SELECT note FROM products_251_to_500")" "new column filled on node b"
ok "columns added everywhere"

step "renaming a table-suffix table is refused"
capture out sw_psql -v VERBOSITY=verbose -c "ALTER TABLE products RENAME TO goods"
assert_eq 1 "$SW_RC" "RENAME of a table-suffix table fails"
assert_contains "$out" "0A000" "RENAME sqlstate"
capture out sw_psql -v VERBOSITY=verbose -c "ALTER TABLE products_251_to_500 RENAME TO goods"
assert_contains "$out" "0A000" "RENAME of a physical table"
expect_on tables_on "tables after refused renames" \
    "customer payments products_101_to_250 products_10_to_100" \
    "customer payments products_251_to_500" \
    "customer payments shipment_details"
ok "RENAME refused, nothing renamed"

step "DROP INDEX: every node, IF EXISTS, with the suffixed names"
# (IF EXISTS is forced: nodes without the index or its variants notice it.)
quiet() { sw_psql -c "SET client_min_messages = warning" -c "$1"; }
quiet "DROP INDEX products_name_idx"
quiet "DROP INDEX customer_name_idx, ship_customer_idx"
expect_on indexes_on "indexes after DROP INDEX" \
    "customer_pkey payments_payment_mode_idx payments_pkey products_101_to_250_pkey products_101_to_250_product_price_idx products_10_to_100_pkey products_10_to_100_product_price_idx" \
    "customer_pkey payments_payment_mode_idx payments_pkey products_251_to_500_pkey products_251_to_500_product_price_idx" \
    "customer_pkey payments_payment_mode_idx payments_pkey shipment_details_pkey"
# The same statement again: IF EXISTS was forced, so nothing fails.
quiet "DROP INDEX products_name_idx"
sw_psql -c "CREATE UNIQUE INDEX prod_id_name ON products (product_id, name)"
assert_eq "prod_id_name_101_to_250:products_101_to_250 prod_id_name_10_to_100:products_10_to_100" \
    "$(pg_psql a -c "SELECT indexname || ':' || tablename FROM pg_indexes WHERE indexname LIKE 'prod_id_name%' ORDER BY 1" | xargs)" \
    "unique index on node a"
assert_eq "prod_id_name_251_to_500:products_251_to_500" \
    "$(pg_psql b -c "SELECT indexname || ':' || tablename FROM pg_indexes WHERE indexname LIKE 'prod_id_name%'")" \
    "unique index on node b"
quiet "DROP INDEX CONCURRENTLY prod_id_name"
for n in a b c; do
    assert_eq 0 "$(pg_psql $n -c "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'prod_id_name%'")" "CONCURRENTLY on node $n"
done
ok "indexes dropped everywhere"

step "TRUNCATE: one table, then a list spread over the nodes"
sw_psql -c "TRUNCATE products"
for t in products_10_to_100 products_101_to_250; do
    assert_eq 0 "$(pg_psql a -c "SELECT count(*) FROM $t")" "$t truncated"
done
assert_eq 0 "$(pg_psql b -c "SELECT count(*) FROM products_251_to_500")" "products_251_to_500 truncated"
assert_eq 9 "$(sw_psql -c "SELECT customer_id FROM customer" | wc -l)" "customers untouched"
sw_psql -c "INSERT INTO products (product_id, product_price) VALUES (1, 15), (3, 300)"
sw_psql -c "TRUNCATE products, shipment_details, payments"
assert_eq 0 "$(pg_psql a -c "SELECT count(*) FROM products_10_to_100")" "list: node a's physical table"
assert_eq 0 "$(pg_psql b -c "SELECT count(*) FROM products_251_to_500")" "list: node b's physical table"
assert_eq 0 "$(pg_psql c -c "SELECT count(*) FROM shipment_details")" "list: pinned table"
for n in a b c; do
    assert_eq 0 "$(pg_psql $n -c "SELECT count(*) FROM payments")" "list: payments copy on node $n"
done
ok "TRUNCATE reached every physical table"

step "DROP TABLE: the suffix table per physical table, then a mixed list"
sw_psql -c "DROP TABLE products"
expect_on tables_on "tables after DROP TABLE products" \
    "customer payments" \
    "customer payments" \
    "customer payments shipment_details"
quiet "DROP TABLE IF EXISTS customer, shipment_details, payments, no_such_table"
expect_on tables_on "tables after the last DROP TABLE" "" "" ""
expect_on indexes_on "indexes at the end" "" "" ""
ok "every table dropped from every node that held it"
