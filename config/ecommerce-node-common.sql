-- ecommerce-node-common.sql - physical tables EVERY node holds (included by
-- ecommerce-node1.sql .. -node3.sql; not meant to be loaded alone).
--
-- customer, orders and order_items are sharded so that a customer, their
-- orders and those orders' items always share a node (customer_hash, and
-- order_ids whose IDs carry the same bucket).  That is why the foreign keys
-- below hold on every node: each node is a complete, consistent slice of the
-- customers it owns.  payments is a reference table (a full copy per node),
-- so orders may point at it locally too.  Columns must match the logical
-- schema in ecommerce-schema.sql.

CREATE TABLE IF NOT EXISTS customer (
    customer_id               bigint PRIMARY KEY,
    customer_name             text NOT NULL,
    customer_email            text NOT NULL,
    customer_shipping_address text,
    customer_region           text NOT NULL CHECK (customer_region IN ('APJ', 'EMEA', 'LATAM', 'NA'))
);
-- The seeds' generic customer index.
CREATE INDEX IF NOT EXISTS customer_name_ ON customer (customer_name);

-- List-sharded on customer_region (region_list); each node file adds a CHECK
-- naming the regions it owns, so a mis-routed row is refused by the node.
CREATE TABLE IF NOT EXISTS customer_by_region (
    customer_region text NOT NULL,
    customer_id     bigint NOT NULL,
    customer_name   text NOT NULL,
    customer_email  text NOT NULL,
    PRIMARY KEY (customer_region, customer_id)
);
-- The seeds' per-region customer_name_apj/_emea/_latam indexes, as one index
-- led by the region.
CREATE INDEX IF NOT EXISTS customer_by_region_name ON customer_by_region (customer_region, customer_name);

CREATE TABLE IF NOT EXISTS payments (
    payment_id   bigint PRIMARY KEY,
    payment_date date NOT NULL,
    payment_mode text NOT NULL CHECK (payment_mode IN ('card', 'paypal', 'bank_transfer', 'gift_card'))
);
CREATE INDEX IF NOT EXISTS payments_date ON payments (payment_date);

CREATE TABLE IF NOT EXISTS orders (
    order_id          bigint NOT NULL,
    customer_id       bigint NOT NULL REFERENCES customer (customer_id),
    order_date        date NOT NULL,
    payment_id        bigint REFERENCES payments (payment_id),
    quantity          integer NOT NULL CHECK (quantity > 0),
    price             numeric(10, 2) NOT NULL CHECK (price >= 0),
    order_sequence_id integer NOT NULL,
    PRIMARY KEY (order_id, order_sequence_id)
);
CREATE INDEX IF NOT EXISTS orders_customer_date ON orders (customer_id, order_date);
CREATE INDEX IF NOT EXISTS orders_date ON orders (order_date);

CREATE TABLE IF NOT EXISTS order_items (
    order_id    bigint NOT NULL,
    item_no     integer NOT NULL,
    customer_id bigint NOT NULL REFERENCES customer (customer_id),
    product_id  bigint NOT NULL,   -- products live on shard1 only: no foreign key
    quantity    integer NOT NULL CHECK (quantity > 0),
    unit_price  numeric(10, 2) NOT NULL,
    PRIMARY KEY (order_id, item_no)
);
CREATE INDEX IF NOT EXISTS order_items_product ON order_items (product_id);
CREATE INDEX IF NOT EXISTS order_items_customer ON order_items (customer_id);
