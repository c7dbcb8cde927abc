-- oracle_extra.sql - the extra table of the differential oracle test
-- (test_oracle.sh), loaded directly into every shard and into the oracle.
--
-- order_facts is sharded on customer_id with customer_hash, like orders, so
-- it is co-located with customer and orders.  Nearly every column is NULL
-- about 40% of the time, and the types are the ones merging must get
-- exactly right: the integer widths, numeric with and without a typmod,
-- float8 and real, bool, text/varchar/char, date, timestamp, timestamptz
-- and uuid.  fact_id is unique: the tie-breaker for ordered comparisons.
-- Its rows come from `sw_oracle --gen-facts N --seed S` (oracle/facts.c).
CREATE TABLE IF NOT EXISTS order_facts (
    fact_id     bigint NOT NULL PRIMARY KEY,
    customer_id bigint NOT NULL,
    order_id    bigint,
    qty         smallint,
    units       integer,
    big         bigint,
    score       double precision,
    ratio       real,
    amount      numeric,
    amount2     numeric(12, 3),
    flag        boolean,
    label       text,
    code        varchar(8),
    grade       char(2),
    d           date,
    ts          timestamp,
    tstz        timestamptz,
    u           uuid
);
CREATE INDEX IF NOT EXISTS order_facts_customer ON order_facts (customer_id);
