#!/usr/bin/env bash
# The main job: install what is missing, build shardwire and the data
# generator, start three local PostgreSQL 15 nodes (shard1..shard3) in a
# scratch directory (.run/), load each node's physical e-commerce schema
# directly, start shardwire with config/ecommerce.yaml on 127.0.0.1:6432,
# load deterministic demo data THROUGH shardwire, check that every row landed
# on the node the configuration says, show the sharding at work, and leave
# everything running.
#   bash scripts/demo.sh          start (or restart) the demo
#   bash scripts/demo.sh stop     stop every server the demo started
# Data size: DEMO_CUSTOMERS (2000), DEMO_ORDERS (6000), DEMO_SEED (1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN=$ROOT/.run
PGBIN=/usr/lib/postgresql/15/bin
NODES=(shard1 shard2 shard3)
PORTS=(15433 15434 15435)
SW_PORT=6432
CONFIG=$ROOT/config/ecommerce.yaml
GEN_ARGS=(--customers "${DEMO_CUSTOMERS:-2000}" --orders "${DEMO_ORDERS:-6000}" --seed "${DEMO_SEED:-1}")

as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd /tmp && runuser -u postgres -- "$@"); else "$@"; fi; }

stop_all() {
  if [ -f "$RUN/shardwire.pid" ]; then
    kill -INT "$(cat "$RUN/shardwire.pid")" 2>/dev/null || true
    rm -f "$RUN/shardwire.pid"
  fi
  for i in 0 1 2; do
    [ -d "$RUN/node$i" ] && as_pg "$PGBIN/pg_ctl" -D "$RUN/node$i" -m fast stop >/dev/null 2>&1 || true
  done
}

if [ "${1:-}" = "stop" ]; then stop_all; echo "demo stopped"; exit 0; fi

# No ambient libpq settings or psqlrc: the demo names everything itself.
unset PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGOPTIONS
export PSQLRC=/dev/null

bash scripts/deps.sh
echo "== building shardwire and shardwire-gendata"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target shardwire shardwire-gendata >/dev/null

stop_all
rm -rf "$RUN"
mkdir -p "$RUN"
[ "$(id -u)" -eq 0 ] && chown postgres "$RUN"

echo "== starting three PostgreSQL 15 nodes: ${NODES[*]} on ports ${PORTS[*]}"
for i in 0 1 2; do
  d=$RUN/node$i
  as_pg "$PGBIN/initdb" -D "$d" -A trust -U postgres --no-sync >/dev/null
  cat >> "$d/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = ${PORTS[$i]}
unix_socket_directories = '$RUN'
fsync = off
synchronous_commit = off
max_prepared_transactions = 10
CONF
  cat > "$d/pg_hba.conf" <<CONF
local all all trust
host all all 127.0.0.1/32 scram-sha-256
CONF
  as_pg "$PGBIN/pg_ctl" -D "$d" -l "$RUN/node$i.log" -w start >/dev/null
  psql -X -q -h "$RUN" -p "${PORTS[$i]}" -U postgres -d postgres \
    -c "CREATE ROLE shardwire LOGIN PASSWORD 'shardwire'" -c "CREATE DATABASE shop OWNER shardwire"
done

# Each node gets only its own physical tables, loaded directly (shardwire
# never sees DDL for them): customer, customer_by_region, orders,
# order_items and payments everywhere; the three products_* price bands on
# shard1; shipment_details on shard2; customer_details on shard3.
echo "== loading the physical schema into each node directly (config/ecommerce-node{1,2,3}.sql)"
for i in 0 1 2; do
  PGPASSWORD=shardwire psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${PORTS[$i]}" -U shardwire -d shop \
    -f "config/ecommerce-node$((i + 1)).sql"
done

build/shardwire --check -c "$CONFIG"
echo "== starting shardwire on 127.0.0.1:$SW_PORT with config/ecommerce.yaml"
nohup build/shardwire -c "$CONFIG" > "$RUN/shardwire.log" 2>&1 &
echo $! > "$RUN/shardwire.pid"
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$SW_PORT) 2>/dev/null && break
  if ! kill -0 "$(cat "$RUN/shardwire.pid")" 2>/dev/null; then
    echo "shardwire exited during start-up:" >&2
    cat "$RUN/shardwire.log" >&2
    exit 1
  fi
  sleep 0.1
done

export PGPASSWORD=app
SWQ=(psql -X -h 127.0.0.1 -p "$SW_PORT" -U app -d shop)           # through shardwire
ADMIN=(psql -X -h 127.0.0.1 -p "$SW_PORT" -U app -d shardwire)    # shardwire's admin console
direct() { local i=$1; shift; psql -X -q -h "$RUN" -p "${PORTS[$i]}" -U postgres -d shop "$@"; }

echo "== generating demo data: shardwire-gendata ${GEN_ARGS[*]}"
build/shardwire-gendata "${GEN_ARGS[@]}" > "$RUN/data.sql"
echo "== loading it THROUGH shardwire ($(grep -c '^INSERT' "$RUN/data.sql") multi-row INSERTs; each is split by shard)"
t0=$(date +%s%N)
"${SWQ[@]}" -q -v ON_ERROR_STOP=1 -f "$RUN/data.sql"
echo "   loaded in $((($(date +%s%N) - t0) / 1000000)) ms"

# ------------------------------------------------------------------ placement check
# The generator knows where every row must land (same hash, buckets, lists
# and bands as config/ecommerce.yaml); count what each node really holds.
echo
echo "== rows per node, counted directly on each node (expected: shardwire-gendata --counts)"
TABLES=(customer orders order_items customer_by_region payments
  products_10_to_100 products_101_to_250 products_251_to_500 products
  shipment_details customer_details)
declare -A ACTUAL=() EXPECTED=()
for i in 0 1 2; do
  # One query per node: the count of each table, or nothing when the
  # node has no such table.
  while IFS='|' read -r t n; do
    ACTUAL[$i,$t]=$n
  done < <(direct "$i" -At -c "
    SELECT t, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', t), false, true, '')))[1]::text
    FROM unnest(string_to_array('${TABLES[*]}', ' ')) AS t
    WHERE to_regclass(t) IS NOT NULL")
done
while IFS=$'\t' read -r node t n; do
  EXPECTED[$((node - 1)),$t]=$n
done < <(build/shardwire-gendata "${GEN_ARGS[@]}" --counts)

bad=0
printf '   %-22s %10s %10s %10s\n' table "${NODES[@]}"
for t in "${TABLES[@]}"; do
  line=$(printf '   %-22s' "$t")
  for i in 0 1 2; do
    a=${ACTUAL[$i,$t]:--} e=${EXPECTED[$i,$t]:--}
    if [ "$a" = "$e" ]; then
      line+=$(printf ' %10s' "$a")
    else
      line+=$(printf ' %10s' "$a!=$e")
      bad=$((bad + 1))
    fi
  done
  echo "$line"
done
echo "   ('-' = no such table on that node: 'products' is only a name shardwire rewrites)"
if [ "$bad" -ne 0 ]; then
  echo "!! $bad placements differ from the configuration (shown as actual!=expected)" >&2
  echo "   shardwire log: $RUN/shardwire.log; stop with: bash scripts/demo.sh stop" >&2
  exit 1
fi
echo "   every row is on the node (and table) config/ecommerce.yaml says"

# ------------------------------------------------------------------ showcase
FAILED=0
# show TITLE SQL: run SQL (one or more statements, each sent on its own, as
# psql does with a script) through shardwire, printing it first.
show() {
  echo; echo "-- $1"; echo "shop=> $2"
  "${SWQ[@]}" -v ON_ERROR_STOP=1 <<<"$2" || { FAILED=$((FAILED + 1)); echo "   (failed)"; }
}
# show_any TITLE SQL: the same for a statement whose answer may be an error.
show_any() {
  echo; echo "-- $1"; echo "shop=> $2"
  "${SWQ[@]}" <<<"$2" || true
}
# route SQL: where shardwire would send SQL (admin console), without running it.
route() {
  echo "shardwire=> SHOW ROUTE $1"
  "${ADMIN[@]}" -c "SHOW ROUTE $1" || { FAILED=$((FAILED + 1)); echo "   (failed)"; }
}
# one SQL: a single value through shardwire.
one() { "${SWQ[@]}" -At -v ON_ERROR_STOP=1 -c "$1"; }
# holder TABLE COLUMN VALUE: the node(s) that really hold the row, asked directly.
holder() {
  local i out=""
  for i in 0 1 2; do
    [ "$(direct "$i" -At -c "SELECT count(*) FROM $1 WHERE $2 = $3")" != 0 ] && out+="${NODES[$i]} "
  done
  echo "${out:-nowhere}"
}

echo
echo "== which node holds a customer? (hash of customer_id -> bucket -> node)"
for id in 42 1000 1337; do
  route "SELECT * FROM customer WHERE customer_id = $id"
  echo "   customer $id is stored on: $(holder customer customer_id "$id")(checked on each node directly)"
done

show "a routed lookup: one node answers" \
  "SELECT * FROM customer WHERE customer_id = 42"

show "the customer's orders: same key, same function, same node" \
  "SELECT order_id, order_date, quantity, price, order_sequence_id FROM orders WHERE customer_id = 42 ORDER BY order_date DESC LIMIT 3"

OID=$(one "SELECT order_id FROM orders WHERE customer_id = 42 ORDER BY order_date DESC LIMIT 1") ||
  { echo "!! could not read an order of customer 42 through shardwire" >&2; exit 1; }
echo
echo "== an order and its items by order_id alone (the ID carries the customer's bucket)"
show "decode order $OID: ms since 2024-01-01 | bucket | sequence" \
  "SELECT $OID >> 22 AS ms, ($OID >> 12) & 1023 AS bucket, $OID & 4095 AS seq, timestamp '2024-01-01' + ($OID >> 22) * interval '1 ms' AS created"
route "SELECT * FROM order_items WHERE order_id = $OID"
show "order $OID with its items (order_items is sharded on order_id, orders on customer_id: co-located)" \
  "SELECT i.item_no, i.product_id, i.quantity, i.unit_price, o.order_date, o.price AS order_total
   FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE i.order_id = $OID ORDER BY i.item_no"

echo
echo "== products: one logical table, three physical tables on shard1, chosen by price"
route "SELECT * FROM products WHERE product_price = 42.50"
route "SELECT * FROM products WHERE product_price BETWEEN 120 AND 180"
show "a price-range query: only products_101_to_250 is read" \
  "SELECT product_id, product_name, product_price, product_categories FROM products
   WHERE product_price BETWEEN 120 AND 180 ORDER BY product_price LIMIT 5"
route "INSERT INTO products (product_id, product_name, product_price, product_categories)
       VALUES (9001, 'Acme Pocket Kite', 12.00, 'toys'), (9002, 'Acme Tent', 320.00, 'sports')"

echo
echo "== keyless statements fan out to every node; rows are concatenated"
route "SELECT order_id, customer_id, price FROM orders WHERE order_date = '2025-06-01'"
show "orders of one day: they come from all three nodes" \
  "SELECT order_id, customer_id, order_date, price FROM orders WHERE order_date = '2025-06-01'"

echo
echo "== analytics over every shard: the answers are merged into one server's answer"
route "SELECT date_trunc('month', order_date) AS month, count(*), sum(price) FROM orders GROUP BY 1 ORDER BY 1 DESC LIMIT 3"
show "monthly sales (the last six months): partial counts and sums combined per month" \
  "SELECT date_trunc('month', order_date)::date AS month, count(*) AS orders, sum(price) AS revenue, avg(price) AS avg_order
   FROM orders GROUP BY 1 ORDER BY 1 DESC LIMIT 6"
show "revenue by region: customers and orders are co-located, so the join runs on each shard" \
  "SELECT c.customer_region, count(DISTINCT c.customer_id) AS customers, sum(o.price) AS revenue, stddev(o.price) AS spread
   FROM customer c JOIN orders o ON o.customer_id = c.customer_id GROUP BY 1 HAVING sum(o.price) > 1000 ORDER BY revenue DESC"
show "customer segments by order value (per-customer totals are whole on each shard)" \
  "SELECT segment, count(*) AS customers FROM (
     SELECT customer_id, CASE WHEN sum(price) >= 2000 THEN 'gold' WHEN sum(price) >= 500 THEN 'silver' ELSE 'bronze' END AS segment
     FROM orders GROUP BY customer_id) t GROUP BY segment ORDER BY customers DESC"
show "top 5 products by units sold (groups merged, then sorted and cut)" \
  "SELECT product_id, sum(quantity) AS units FROM order_items GROUP BY product_id ORDER BY units DESC, product_id LIMIT 5"
show "the 5 most expensive orders anywhere: a k-way merge of each shard's top 5" \
  "SELECT order_id, customer_id, price FROM orders ORDER BY price DESC, order_id LIMIT 5"
show_any "a shape that cannot be merged exactly is refused, not answered wrongly" \
  "SELECT customer_id, rank() OVER (ORDER BY price DESC) FROM orders LIMIT 3"

echo
echo "== list sharding: customer_by_region (APJ, NA -> shard1; EMEA -> shard2; LATAM -> shard3)"
route "SELECT * FROM customer_by_region WHERE customer_region = 'LATAM'"
show "one region, one node: aggregates are fine" \
  "SELECT customer_region, count(*) AS customers FROM customer_by_region WHERE customer_region = 'EMEA' GROUP BY 1"

echo
echo "== a reference table (payments: a copy on every node) and the vertical split of shipments"
route "SELECT payment_mode, count(*) FROM payments GROUP BY 1"
show "payments, read from one copy" \
  "SELECT payment_mode, count(*) AS payments FROM payments GROUP BY 1 ORDER BY 2 DESC"
SID=$(one "SELECT shipping_id FROM shipment_details WHERE order_id = $OID" || true)
route "SELECT * FROM shipment_details WHERE order_id = $OID"
show "the shipment of order $OID (shipment_details lives on shard2)" \
  "SELECT * FROM shipment_details WHERE order_id = $OID"
if [ -n "$SID" ]; then
  show "where it went (customer_details lives on shard3)" \
    "SELECT * FROM customer_details WHERE shipping_id = $SID"
fi

echo
echo "== a new order: shardwire_next_id hands out an ID that routes to the customer's node"
NEW=$(one "SELECT shardwire_next_id('orders', 42)") ||
  { echo "!! shardwire_next_id failed" >&2; exit 1; }
echo "shop=> SELECT shardwire_next_id('orders', 42)   -> $NEW"
echo "   bucket $((NEW >> 12 & 1023)), same as order $OID's bucket $((OID >> 12 & 1023)) (customer 42)"
PRICE=$(one "SELECT product_price FROM products WHERE product_id = 7")
SEQ=$(one "SELECT max(order_sequence_id) + 1 FROM orders WHERE customer_id = 42")
show "place it: a transaction on customer 42's node only" \
  "BEGIN;
   INSERT INTO orders (order_id, customer_id, order_date, payment_id, quantity, price, order_sequence_id)
     VALUES ($NEW, 42, current_date, NULL, 2, 2 * $PRICE, $SEQ);
   INSERT INTO order_items (order_id, item_no, customer_id, product_id, quantity, unit_price)
     VALUES ($NEW, 1, 42, 7, 2, $PRICE);
   COMMIT"
route "SELECT * FROM order_items WHERE order_id = $NEW"
show "read back by order_id alone" \
  "SELECT * FROM order_items WHERE order_id = $NEW"
echo "   order $NEW is stored on: $(holder orders order_id "$NEW")and its item on: $(holder order_items order_id "$NEW")"
show "or in one statement: shardwire makes the ID inside the INSERT and writes it in" \
  "INSERT INTO orders (order_id, customer_id, order_date, payment_id, quantity, price, order_sequence_id)
     VALUES (shardwire_next_id('orders', 42), 42, current_date, NULL, 1, $PRICE, $((SEQ + 1)))
     RETURNING order_id, customer_id, order_sequence_id"

echo
cat <<MSG
shardwire is running on 127.0.0.1:$SW_PORT (log: $RUN/shardwire.log)
Connect with:   PGPASSWORD=app psql -h 127.0.0.1 -p $SW_PORT -U app -d shop
Admin console:  PGPASSWORD=app psql -h 127.0.0.1 -p $SW_PORT -U app -d shardwire -c 'SHOW HELP'
A node directly: psql -h $RUN -p ${PORTS[0]} -U postgres -d shop      (shard1; ${PORTS[1]} shard2, ${PORTS[2]} shard3)
Reload config:  kill -HUP \$(cat $RUN/shardwire.pid)     (config: $CONFIG)
Stop the demo:  bash scripts/demo.sh stop
MSG
if [ "$FAILED" -ne 0 ]; then
  echo "!! $FAILED showcase statements failed (see above; shardwire log: $RUN/shardwire.log)" >&2
  exit 1
fi
