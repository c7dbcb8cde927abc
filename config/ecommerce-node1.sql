-- ecommerce-node1.sql - physical schema of shard1 (127.0.0.1:15433).
-- Load directly into the node, not through shardwire:
--   psql -h 127.0.0.1 -p 15433 -d shop -v ON_ERROR_STOP=1 -f config/ecommerce-node1.sql
SET client_min_messages = warning;  -- no "already exists, skipping" notices on a re-run
\ir ecommerce-node-common.sql

-- region_list sends APJ and NA here.
ALTER TABLE customer_by_region DROP CONSTRAINT IF EXISTS customer_by_region_regions_here;
ALTER TABLE customer_by_region ADD CONSTRAINT customer_by_region_regions_here
    CHECK (customer_region IN ('APJ', 'NA'));

-- The logical table `products` is range-sharded on product_price by
-- price_bands into three physical tables, all on this node (the seeds'
-- horizontal split Products_10_to_100 etc.).  shardwire rewrites `products`
-- to the table of the price; the CHECKs repeat the half-open bands of
-- config/ecommerce.yaml so a row in the wrong table is refused.  There is
-- deliberately no `products` table on any node.
CREATE TABLE IF NOT EXISTS products_10_to_100 (
    product_id         bigint PRIMARY KEY,
    product_name       text NOT NULL,
    product_price      numeric(10, 2) NOT NULL CHECK (product_price >= 10 AND product_price < 101),
    product_categories text NOT NULL
);
CREATE TABLE IF NOT EXISTS products_101_to_250 (
    product_id         bigint PRIMARY KEY,
    product_name       text NOT NULL,
    product_price      numeric(10, 2) NOT NULL CHECK (product_price >= 101 AND product_price < 251),
    product_categories text NOT NULL
);
CREATE TABLE IF NOT EXISTS products_251_to_500 (
    product_id         bigint PRIMARY KEY,
    product_name       text NOT NULL,
    product_price      numeric(10, 2) NOT NULL CHECK (product_price >= 251 AND product_price < 501),
    product_categories text NOT NULL
);
CREATE INDEX IF NOT EXISTS products_10_to_100_price ON products_10_to_100 (product_price);
CREATE INDEX IF NOT EXISTS products_101_to_250_price ON products_101_to_250 (product_price);
CREATE INDEX IF NOT EXISTS products_251_to_500_price ON products_251_to_500 (product_price);
