#!/usr/bin/env bash
# test_routing: the shard map over three real PostgreSQL nodes.  Every row
# written through shardwire is found, by direct connections, on exactly the
# node the map says (hash with multi-row INSERT split, shard-aware order IDs,
# table-suffix ranges, reference copies, vertical splits); reads come back
# from there; keyless statements fan out and merge; cross-shard
# transactions commit and roll back on every node; manual routing works;
# psql's catalog commands work; a reload changes routing for new
# transactions only.
source "$(dirname "$0")/lib.sh"
sw_direct && sw_skip_test "routing needs shardwire in the path"

pg_start a
pg_start b
pg_start c

step "physical schema on each node"
for n in a b c; do
    pg_psql $n <<'SQL'
CREATE TABLE customer (customer_id bigint PRIMARY KEY, customer_name text NOT NULL, customer_region text);
CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id bigint NOT NULL, price numeric(10,2));
CREATE TABLE order_items (order_id bigint NOT NULL, item_no int NOT NULL, product_id bigint, PRIMARY KEY (order_id, item_no));
CREATE TABLE payments (payment_id bigint PRIMARY KEY, payment_mode text);
CREATE TABLE events (event_id bigint PRIMARY KEY, event_date date NOT NULL);
CREATE TABLE tenants (tenant_id bigint PRIMARY KEY, tenant_name text);
SQL
done
# The directory: which node each tenant lives on, in a table on node a.
pg_psql a -c "CREATE TABLE tenant_directory (tenant_id bigint PRIMARY KEY, node text NOT NULL)" \
    -c "INSERT INTO tenant_directory VALUES (1, 'node_c'), (2, 'node_b'), (3, 'node_a'), (4, 'node_nowhere')"
pg_psql a -c "CREATE TABLE products_10_to_100 (product_id bigint PRIMARY KEY, product_price numeric(10,2))" \
    -c "CREATE TABLE products_101_to_250 (product_id bigint PRIMARY KEY, product_price numeric(10,2))" \
    -c "CREATE TABLE products_251_to_500 (product_id bigint PRIMARY KEY, product_price numeric(10,2))"
pg_psql b -c "CREATE TABLE shipment_details (shipping_id bigint PRIMARY KEY, order_id bigint)"
pg_psql c -c "CREATE TABLE shipment_details (shipping_id bigint PRIMARY KEY, order_id bigint)"
pg_psql c -c "CREATE TABLE customer_details (shipping_id bigint PRIMARY KEY, customer_region text)"
for n in a b c; do pg_psql $n -c "GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC"; done

cat >"$SW_TMP/functions.yaml" <<'YAML'
- name: customer_hash
  kind: hash
  buckets: 1024
  nodes: [node_a, node_b, node_c]
- name: order_ids
  kind: embedded
  source: customer_hash
- name: price_bands
  kind: range
  type: numeric
  ranges:
    - {from: 10, to: 101, table: products_10_to_100}
    - {from: 101, to: 251, table: products_101_to_250}
    - {from: 251, to: 501, table: products_251_to_500}
- name: event_dates
  kind: range
  type: date
  ranges:
    - {to: 2024-01-01, node: node_a}
    - {from: 2024-01-01, to: 2025-01-01, node: node_b}
    - {from: 2025-01-01, node: node_c}
- name: tenant_dir
  kind: directory
  node: node_a
  query: SELECT node FROM tenant_directory WHERE tenant_id = $1
  cache_ttl: 60s
YAML
write_tables() {  # shipment_details' node
    cat >"$SW_TMP/tables.yaml" <<YAML
- {name: customer, key: customer_id, function: customer_hash}
- name: orders
  key: customer_id
  function: customer_hash
  id: {column: order_id, function: order_ids}
- {name: order_items, key: order_id, function: order_ids}
- {name: products, key: product_price, function: price_bands, node: node_a}
- {name: events, key: event_date, function: event_dates}
- {name: tenants, key: tenant_id, function: tenant_dir}
- {name: payments, reference: true}
- {name: shipment_details, node: $1}
- {name: customer_details, node: node_c}
YAML
}
write_tables node_b
sw_config_write "$SW_TMP/sw.yaml" db=shop:a functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml"
sw_start "$SW_TMP/sw.yaml"
admin() { timeout 60 psql -X -w -q -At -v ON_ERROR_STOP=1 -d "$(sw_conninfo sw_scram shardwire)" -c "$1"; }

step "hash: 300 customers in multi-row INSERTs, each on exactly one node"
{
    for ((batch = 0; batch < 6; batch++)); do
        printf 'INSERT INTO customer (customer_id, customer_name, customer_region) VALUES '
        for ((i = 1; i <= 50; i++)); do
            id=$((batch * 50 + i))
            ((i > 1)) && printf ', '
            printf "(%d, 'name-%d', 'EMEA')" "$id" "$id"
        done
        printf ';\n'
    done
} >"$SW_TMP/customers.sql"
sw_psql -f "$SW_TMP/customers.sql"
total=0
declare -A where
for n in a b c; do
    cnt=$(pg_psql $n -c "SELECT count(*) FROM customer")
    ((cnt > 50)) || fail "node $n holds only $cnt of 300 customers: the hash does not spread"
    total=$((total + cnt))
    for id in $(pg_psql $n -c "SELECT customer_id FROM customer"); do
        [[ -z ${where[$id]:-} ]] || fail "customer $id is on node ${where[$id]} and on node $n"
        where[$id]=$n
    done
done
assert_eq 300 "$total" "customers over all nodes"
ok "300 customers spread, none duplicated"

step "each customer's route (SHOW ROUTE) names the node that holds it"
for id in 1 2 3 50 77 123 200 299 300; do
    out=$(admin "SHOW ROUTE SELECT * FROM customer WHERE customer_id = $id")
    assert_match "$out" "^node_${where[$id]}\|" "route of customer $id"
done
ok "SHOW ROUTE agrees with where rows are"

step "reads come back from the right node, for every customer"
for ((id = 1; id <= 300; id++)); do echo "SELECT customer_name FROM customer WHERE customer_id = $id;"; done >"$SW_TMP/reads.sql"
out=$(sw_psql -f "$SW_TMP/reads.sql")
expected=$(for ((id = 1; id <= 300; id++)); do echo "name-$id"; done)
assert_eq "$expected" "$out" "300 routed reads"
# Same through the extended protocol, with a cast and in binary-free text params.
out=$(sw_psql -c "SELECT customer_name FROM customer WHERE customer_id = '42'::bigint")
assert_eq "name-42" "$out" "cast literal"
ok "routed reads"

step "shard-aware order IDs: order_items routed by order_id alone land with their customer"
oid=$(sw_psql -c "SELECT shardwire_next_id('orders', 42)")
assert_match "$oid" "^[0-9]+$" "generated order id"
sw_psql -c "INSERT INTO orders (order_id, customer_id, price) VALUES ($oid, 42, 99.50)"
sw_psql -c "INSERT INTO order_items (order_id, item_no, product_id) VALUES ($oid, 1, 7), ($oid, 2, 8)"
n=${where[42]}
assert_eq 1 "$(pg_psql $n -c "SELECT count(*) FROM orders WHERE order_id = $oid")" "order on customer 42's node"
assert_eq 2 "$(pg_psql $n -c "SELECT count(*) FROM order_items WHERE order_id = $oid")" "items on customer 42's node"
assert_eq 2 "$(sw_psql -c "SELECT count(*) FROM order_items WHERE order_id = $oid")" "items read by order id"
ok "order $oid and its items on node $n"

step "table-suffix: products go to the physical table of their price band"
sw_psql -c "INSERT INTO products (product_id, product_price) VALUES (1, 15.00), (2, 150.00), (3, 300.00), (4, 100.99)"
assert_eq "1 4" "$(pg_psql a -c "SELECT product_id FROM products_10_to_100 ORDER BY 1" | xargs)" "10-100 band"
assert_eq "2" "$(pg_psql a -c "SELECT product_id FROM products_101_to_250")" "101-250 band"
assert_eq "3" "$(pg_psql a -c "SELECT product_id FROM products_251_to_500")" "251-500 band"
assert_eq "2" "$(sw_psql -c "SELECT product_id FROM products WHERE product_price = 150")" "read by price"
assert_eq "2|150.00" "$(sw_psql -c "SELECT p.product_id, p.product_price FROM products p WHERE p.product_price = 150")" "alias"
capture out sw_psql -v VERBOSITY=verbose -c "INSERT INTO products (product_id, product_price) VALUES (9, 900)"
assert_contains "$out" "22023" "price outside every band"
ok "suffix tables"

step "range over dates: only the overlapping nodes"
sw_psql -c "INSERT INTO events (event_id, event_date) VALUES (1, '2023-06-01'), (2, '2024-06-01'), (3, '2025-06-01')"
for n in a b c; do assert_eq 1 "$(pg_psql $n -c "SELECT count(*) FROM events")" "one event on $n"; done
out=$(admin "SHOW ROUTE SELECT * FROM events WHERE event_date >= '2024-03-01' AND event_date < '2024-09-01'")
assert_match "$out" "^node_b\|" "range inside 2024"
assert_eq 1 "$(echo "$out" | wc -l)" "one node for a 2024 range"
ok "date ranges"

step "directory: the node of a key is looked up in a table, then cached"
sw_psql -c "INSERT INTO tenants (tenant_id, tenant_name) VALUES (1, 'one')"
sw_psql -c "INSERT INTO tenants (tenant_id, tenant_name) VALUES (2, 'two')"
sw_psql -c "INSERT INTO tenants (tenant_id, tenant_name) VALUES (3, 'three')"
assert_eq "one" "$(pg_psql c -c "SELECT tenant_name FROM tenants")" "tenant 1 on node c"
assert_eq "two" "$(pg_psql b -c "SELECT tenant_name FROM tenants")" "tenant 2 on node b"
assert_eq "three" "$(pg_psql a -c "SELECT tenant_name FROM tenants")" "tenant 3 on node a"
assert_eq "two" "$(sw_psql -c "SELECT tenant_name FROM tenants WHERE tenant_id = 2")" "read through the cache"
capture out sw_psql -v VERBOSITY=verbose -c "SELECT * FROM tenants WHERE tenant_id = 4"
assert_contains "$out" "unknown node" "directory naming a node that does not exist"
capture out sw_psql -v VERBOSITY=verbose -c "SELECT * FROM tenants WHERE tenant_id = 5"
assert_contains "$out" "not in the directory" "key missing from the directory"
assert_eq "two" "$(sw_psql -c "SELECT tenant_name FROM tenants WHERE tenant_id = 2")" "still working after errors"
ok "directory lookups"

step "reference table: writes to every node, reads from one"
sw_psql -c "INSERT INTO payments (payment_id, payment_mode) VALUES (1, 'card'), (2, 'paypal')"
for n in a b c; do assert_eq 2 "$(pg_psql $n -c "SELECT count(*) FROM payments")" "payments copy on $n"; done
assert_eq "card" "$(sw_psql -c "SELECT payment_mode FROM payments WHERE payment_id = 1")" "reference read"
ok "reference copies"

step "vertical split: shipment_details only on node b, customer_details only on node c"
sw_psql -c "INSERT INTO shipment_details (shipping_id, order_id) VALUES (1, $oid)"
sw_psql -c "INSERT INTO customer_details (shipping_id, customer_region) VALUES (1, 'EMEA')"
assert_eq 1 "$(pg_psql b -c "SELECT count(*) FROM shipment_details")" "shipment on b"
assert_eq 0 "$(pg_psql c -c "SELECT count(*) FROM shipment_details")" "no shipment on c"
assert_eq 1 "$(pg_psql c -c "SELECT count(*) FROM customer_details")" "customer details on c"
assert_eq "$oid" "$(sw_psql -c "SELECT order_id FROM shipment_details WHERE shipping_id = 1")" "read pinned"
capture out sw_psql -v VERBOSITY=verbose -c "SELECT * FROM shipment_details s JOIN customer_details d USING (shipping_id)"
assert_contains "$out" "0A000" "join across vertical parts"
ok "vertical split"

step "keyless statements fan out and merge"
assert_eq 300 "$(sw_psql -c "SELECT customer_id FROM customer" | wc -l)" "rows from all nodes"
out=$(sw_psql_raw -c "UPDATE customer SET customer_region = 'APJ'" 2>&1)
assert_contains "$out" "UPDATE 300" "summed row count"
for n in a b c; do assert_eq 0 "$(pg_psql $n -c "SELECT count(*) FROM customer WHERE customer_region <> 'APJ'")" "updated on $n"; done
assert_eq "1 2 3" "$(sw_psql -c "SELECT customer_id FROM customer ORDER BY customer_id LIMIT 3" | tr '\n' ' ' | sed 's/ $//')" \
    "cross-shard ORDER BY/LIMIT merged"
assert_eq 300 "$(sw_psql -c "SELECT count(*) FROM customer")" "cross-shard count(*) summed"
capture out sw_psql -v VERBOSITY=verbose -c "SELECT customer_id, row_number() OVER (ORDER BY customer_id) FROM customer"
assert_contains "$out" "0A000" "window function across shards refused clearly"
capture out sw_psql -v VERBOSITY=verbose -c "UPDATE customer SET customer_id = customer_id + 1000 WHERE customer_id = 5"
assert_contains "$out" "0A000" "shard key change"
ok "fan-out"

step "cross-shard transactions commit and roll back on every node"
a_id=0 b_id=0
for ((id = 1000; id < 1100; id++)); do
    r=$(admin "SHOW ROUTE SELECT 1 FROM customer WHERE customer_id = $id" | cut -d'|' -f1)
    [[ $r == node_a && $a_id == 0 ]] && a_id=$id
    [[ $r == node_b && $b_id == 0 ]] && b_id=$id
done
((a_id && b_id)) || fail "no ids for nodes a and b"
sw_psql <<SQL
BEGIN;
INSERT INTO customer (customer_id, customer_name, customer_region) VALUES ($a_id, 'tx-a', 'NA');
INSERT INTO customer (customer_id, customer_name, customer_region) VALUES ($b_id, 'tx-b', 'NA');
ROLLBACK;
SQL
assert_eq 0 "$(pg_psql a -c "SELECT count(*) FROM customer WHERE customer_id = $a_id")" "rolled back on a"
assert_eq 0 "$(pg_psql b -c "SELECT count(*) FROM customer WHERE customer_id = $b_id")" "rolled back on b"
sw_psql <<SQL
BEGIN;
INSERT INTO customer (customer_id, customer_name, customer_region) VALUES ($a_id, 'tx-a', 'NA');
INSERT INTO customer (customer_id, customer_name, customer_region) VALUES ($b_id, 'tx-b', 'NA');
SELECT customer_name FROM customer WHERE customer_id IN ($a_id, $b_id);
COMMIT;
SQL
assert_eq 1 "$(pg_psql a -c "SELECT count(*) FROM customer WHERE customer_id = $a_id")" "committed on a"
assert_eq 1 "$(pg_psql b -c "SELECT count(*) FROM customer WHERE customer_id = $b_id")" "committed on b"
ok "two-node transaction"

step "extended protocol: pgbench custom script in extended and prepared modes"
cat >"$SW_TMP/lookup.sql" <<'SQL'
\set id random(1, 300)
SELECT customer_name FROM customer WHERE customer_id = :id;
SQL
for m in extended prepared; do
    capture out sw_pgbench -n -M $m -c 4 -j 2 -t 200 -f "$SW_TMP/lookup.sql"
    assert_eq 0 "$SW_RC" "pgbench -M $m: $out"
    assert_contains "$out" "number of failed transactions: 0" "pgbench -M $m"
done
ok "extended and prepared"

step "manual routing: comment and SET shardwire.shard"
assert_eq "$(pg_psql c -c "SELECT count(*) FROM customer")" "$(sw_psql -c "/* shard: node_c */ SELECT count(*) FROM customer")" "comment"
out=$(sw_psql -c "SET shardwire.shard = 'node_b'" -c "SELECT count(*) FROM customer")
assert_eq "$(pg_psql b -c "SELECT count(*) FROM customer")" "$out" "SET shardwire.shard"
ok "manual routing"

step "psql catalog commands through shardwire"
out=$(sw_psql_raw -c '\dt' 2>&1)
assert_contains "$out" "customer"
assert_contains "$out" "products_10_to_100"
ok "\\dt"

step "reload: new transactions use the new map, a running one keeps its own"
sess_open s1
sess_expect s1 "BEGIN" "OK BEGIN"
sess_expect s1 "INSERT INTO shipment_details VALUES (10, 1)" "OK INSERT 0 1"
write_tables node_c
sw_config_write "$SW_TMP/sw.yaml" db=shop:a functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml"
sw_signal HUP
retry 10 grep -q "configuration reloaded" "$SW_LOG" || fail "no reload in the log"
sess_expect s1 "INSERT INTO shipment_details VALUES (11, 1)" "OK INSERT 0 1"
sess_expect s1 "COMMIT" "OK COMMIT"
sess_expect s1 "INSERT INTO shipment_details VALUES (12, 1)" "OK INSERT 0 1"
sess_close s1
assert_eq "1 10 11" "$(pg_psql b -c "SELECT shipping_id FROM shipment_details ORDER BY 1" | xargs)" "old map inside the transaction"
assert_eq "12" "$(pg_psql c -c "SELECT shipping_id FROM shipment_details ORDER BY 1" | xargs)" "new map after it"
ok "reload"

sw_stop
