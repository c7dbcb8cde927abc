-- ecommerce-node3.sql - physical schema of shard3 (127.0.0.1:15435).
-- Load directly into the node, not through shardwire:
--   psql -h 127.0.0.1 -p 15435 -d shop -v ON_ERROR_STOP=1 -f config/ecommerce-node3.sql
SET client_min_messages = warning;  -- no "already exists, skipping" notices on a re-run
\ir ecommerce-node-common.sql

-- region_list sends LATAM here.
ALTER TABLE customer_by_region DROP CONSTRAINT IF EXISTS customer_by_region_regions_here;
ALTER TABLE customer_by_region ADD CONSTRAINT customer_by_region_regions_here
    CHECK (customer_region IN ('LATAM'));

-- The other half of the seeds' Shipments table (see ecommerce-node2.sql):
-- the shipping address and region of each shipment, by shipping_id.
CREATE TABLE IF NOT EXISTS customer_details (
    shipping_id               bigint PRIMARY KEY,
    customer_shipping_address text,
    customer_region           text CHECK (customer_region IN ('APJ', 'EMEA', 'LATAM', 'NA'))
);
CREATE INDEX IF NOT EXISTS customer_details_region ON customer_details (customer_region);
