-- ecommerce-schema.sql - the LOGICAL e-commerce schema of the seed documents,
-- as clients see it through shardwire (config/ecommerce.yaml).  It documents
-- the model; it is not what the nodes hold.  Each node gets its physical
-- tables from config/ecommerce-node1.sql, -node2.sql and -node3.sql.
--
-- Placement (config/ecommerce.yaml):
--   customer           hash-sharded on customer_id (customer_hash), all nodes
--   orders             same key and function: co-located with their customer;
--                      order_id comes from shardwire_next_id('orders', customer_id)
--   order_items        sharded on order_id (order_ids, an embedded function whose
--                      IDs carry the customer's bucket): next to their order
--   customer_by_region list-sharded on customer_region (region_list)
--   payments           reference table: a full copy on every node
--   products           range on product_price (price_bands): three physical
--                      tables on shard1, products_10_to_100 [10, 101),
--                      products_101_to_250 [101, 251), products_251_to_500 [251, 501)
--   shipment_details   vertical split of the seeds' Shipments table: shard2
--   customer_details   the other half of Shipments, same shipping_id: shard3
--
-- Loading this file into one plain PostgreSQL database gives the same
-- tables unsharded (for comparing query results).

CREATE TABLE IF NOT EXISTS customer (
    customer_id               bigint PRIMARY KEY,
    customer_name             text NOT NULL,
    customer_email            text NOT NULL,
    customer_shipping_address text,
    customer_region           text NOT NULL CHECK (customer_region IN ('APJ', 'EMEA', 'LATAM', 'NA'))
);

-- The seeds' Customer_Region table: customers listed by region.
CREATE TABLE IF NOT EXISTS customer_by_region (
    customer_region text NOT NULL,
    customer_id     bigint NOT NULL,
    customer_name   text NOT NULL,
    customer_email  text NOT NULL,
    PRIMARY KEY (customer_region, customer_id)
);

CREATE TABLE IF NOT EXISTS payments (
    payment_id   bigint PRIMARY KEY,
    payment_date date NOT NULL,
    payment_mode text NOT NULL
);

-- order_sequence_id: the customer's n-th order.
CREATE TABLE IF NOT EXISTS orders (
    order_id          bigint NOT NULL,
    customer_id       bigint NOT NULL,
    order_date        date NOT NULL,
    payment_id        bigint,
    quantity          integer NOT NULL,
    price             numeric(10, 2) NOT NULL,
    order_sequence_id integer NOT NULL,
    PRIMARY KEY (order_id, order_sequence_id)
);

CREATE TABLE IF NOT EXISTS order_items (
    order_id    bigint NOT NULL,
    item_no     integer NOT NULL,
    customer_id bigint NOT NULL,
    product_id  bigint NOT NULL,
    quantity    integer NOT NULL,
    unit_price  numeric(10, 2) NOT NULL,
    PRIMARY KEY (order_id, item_no)
);

CREATE TABLE IF NOT EXISTS products (
    product_id         bigint PRIMARY KEY,
    product_name       text NOT NULL,
    product_price      numeric(10, 2) NOT NULL,
    product_categories text NOT NULL
);

CREATE TABLE IF NOT EXISTS shipment_details (
    shipping_id   bigint PRIMARY KEY,
    order_id      bigint NOT NULL,
    shipment_date date
);

CREATE TABLE IF NOT EXISTS customer_details (
    shipping_id               bigint PRIMARY KEY,
    customer_shipping_address text,
    customer_region           text
);
