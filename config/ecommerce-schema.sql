-- The e-commerce schema of the project's seed documents: customers, payments,
-- orders (composite key order_id + order_sequence_id), order items,
-- products split by price range, and shipments split vertically into
-- shipment details and customer details.  Loaded on every demo node.
CREATE TABLE IF NOT EXISTS customer (
    customer_id               bigint PRIMARY KEY,
    customer_name             text NOT NULL,
    customer_email            text NOT NULL,
    customer_shipping_address text,
    customer_region           text NOT NULL CHECK (customer_region IN ('APJ', 'EMEA', 'LATAM', 'NA'))
);
CREATE INDEX IF NOT EXISTS customer_name_ ON customer (customer_name);

CREATE TABLE IF NOT EXISTS payments (
    payment_id   bigint PRIMARY KEY,
    payment_date date NOT NULL,
    payment_mode text NOT NULL
);

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
