-- ecommerce-node2.sql - physical schema of shard2 (127.0.0.1:15434).
-- Load directly into the node, not through shardwire:
--   psql -h 127.0.0.1 -p 15434 -d shop -v ON_ERROR_STOP=1 -f config/ecommerce-node2.sql
SET client_min_messages = warning;  -- no "already exists, skipping" notices on a re-run
\ir ecommerce-node-common.sql

-- region_list sends EMEA here.
ALTER TABLE customer_by_region DROP CONSTRAINT IF EXISTS customer_by_region_regions_here;
ALTER TABLE customer_by_region ADD CONSTRAINT customer_by_region_regions_here
    CHECK (customer_region IN ('EMEA'));

-- Vertical split of the seeds' Shipments table: what was shipped and when
-- lives here; where it went (customer_details) lives on shard3, joined by
-- shipping_id.  order_id points into orders on whichever node holds the
-- customer, so there is no foreign key.
CREATE TABLE IF NOT EXISTS shipment_details (
    shipping_id   bigint PRIMARY KEY,
    order_id      bigint NOT NULL,
    shipment_date date
);
CREATE INDEX IF NOT EXISTS shipment_details_order ON shipment_details (order_id);
CREATE INDEX IF NOT EXISTS shipment_details_date ON shipment_details (shipment_date);
