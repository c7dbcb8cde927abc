/*
 * gendata.c - shardwire-gendata: deterministic demo data for the e-commerce
 * schema (config/ecommerce.yaml), written as SQL to stdout for loading
 * through shardwire.
 *
 * Every row comes from a PRNG stream keyed by (seed, table, row number), so
 * customer 42 is the same customer whatever --customers says, and the same
 * arguments always give byte-identical output.  Statements are multi-row
 * INSERTs with column lists (shardwire needs them to find the shard key);
 * rows of one statement that belong to different shards are split by the
 * proxy, and `products` rows go to the physical table of their price band.
 *
 * Order IDs follow the shard-aware layout of an `embedded` function over
 * customer_hash (1024 buckets, 12 sequence bits, epoch 2024-01-01):
 *   id = (ms since epoch) << 22 | bucket << 12 | seq
 * with bucket = XXH3-64 of the customer_id's 8 little-endian bytes & 1023,
 * the value shardwire_next_id('orders', customer_id) would carry.  Order
 * times are strictly increasing, one per millisecond at least, so IDs are
 * unique without coordination.
 *
 * --counts prints, instead of SQL, the rows each physical table should hold
 * on each node of config/ecommerce.yaml, so the demo can check the routing
 * end to end against direct counts.  --node N writes only the rows node N
 * holds, into the physical tables (products_10_to_100 ... instead of
 * products), for loading straight into that node without shardwire: a
 * sharded data set whose placement does not depend on the proxy's INSERT
 * routing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

/* The placement config/ecommerce.yaml declares; --counts relies on it. */
#define N_NODES 3
#define HASH_BUCKETS 1024 /* customer_hash buckets; node = bucket * N_NODES / HASH_BUCKETS */
#define SEQ_BITS 12       /* order_ids seq_bits */
#define SLOT_BITS 10      /* log2(HASH_BUCKETS) */
#define EPOCH_DAYS 19723  /* 2024-01-01 in days since 1970-01-01: order_ids epoch */
#define SPAN_DAYS 731     /* orders and payments fall in 2024-01-01 .. 2025-12-31 */
#define PRODUCTS_NODE 1   /* products_* tables live on shard1 */
#define SHIPMENT_NODE 2   /* shipment_details on shard2 */
#define CUSTDETAIL_NODE 3 /* customer_details on shard3 */

/* PRNG streams: one per table, indexed by row number. */
enum { S_CUSTOMER = 1, S_PRODUCT, S_ORDER };

typedef struct rng {
    uint64_t s;
} rng;

/* splitmix64: tiny, full-period, good enough to pick names; not crypto. */
static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Stream for row `index` of table `stream`: independent of row counts. */
static rng rng_for(uint64_t seed, uint64_t stream, uint64_t index)
{
    rng r = {seed * 0xd1342543de82ef95ULL + stream * 0x9e3779b97f4a7c15ULL};
    r.s ^= index * 0xff51afd7ed558ccdULL;
    rng_next(&r);
    return r;
}

/* Uniform integer in [0, n); the modulo bias is irrelevant for n this small. */
static uint64_t rng_below(rng *r, uint64_t n)
{
    return rng_next(r) % n;
}

/* Index into weights[0..n) drawn in proportion to the weights. */
static int rng_weighted(rng *r, const int *weights, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++) total += weights[i];
    int x = (int)rng_below(r, (uint64_t)total);
    for (int i = 0; i < n; i++) {
        if (x < weights[i]) return i;
        x -= weights[i];
    }
    return n - 1;
}

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define PICK(r, a) ((a)[rng_below((r), (uint64_t)COUNT(a))])

/* ------------------------------------------------------------------ vocabulary */

static const char *const FIRST[] = {
    "Aarav", "Abigail", "Adebayo", "Aiko", "Alejandro", "Amara", "Amelia", "Ana", "Andrei",
    "Anika", "Arjun", "Astrid", "Ava", "Beatriz", "Benjamin", "Camila", "Carlos", "Chen",
    "Chiara", "Chloe", "Daniel", "Daniela", "David", "Diego", "Elena", "Elif", "Emily", "Emma",
    "Ethan", "Fatima", "Felipe", "Freya", "Gabriel", "Grace", "Hana", "Hannah", "Hiroshi",
    "Ines", "Isabella", "Ivan", "Jack", "James", "Javier", "Ji-woo", "Jonas", "Jose", "Julia",
    "Kai", "Kenji", "Lars", "Layla", "Leila", "Liam", "Lucas", "Lucia", "Mateo", "Maya",
    "Mei", "Mia", "Mohammed", "Nadia", "Noah", "Nora", "Olivia", "Omar", "Oscar", "Priya",
    "Rafael", "Ravi", "Rosa", "Sakura", "Samuel", "Sara", "Sebastian", "Sofia", "Sven",
    "Tariq", "Thabo", "Valentina", "Wei", "William", "Yara", "Yusuf", "Zara", "Zoe",
};

static const char *const LAST[] = {
    "Adeyemi", "Ahmed", "Alvarez", "Andersen", "Bakker", "Becker", "Brown", "Castro", "Chen",
    "Costa", "Dubois", "Fernandez", "Fischer", "Garcia", "Gonzalez", "Gupta", "Haddad",
    "Hansen", "Hernandez", "Ito", "Ivanova", "Jensen", "Johnson", "Kaur", "Khan", "Kim",
    "Kowalski", "Kumar", "Lee", "Lopez", "Martin", "Martinez", "Mendes", "Mensah", "Meyer",
    "Moreau", "Muller", "Murphy", "Nakamura", "Nguyen", "Novak", "O'Brien", "O'Connor",
    "Okafor", "Park", "Patel", "Pereira", "Petrov", "Ramirez", "Rossi", "Santos", "Sato",
    "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Taylor", "Torres", "Wagner",
    "Wang", "Williams", "Wilson", "Yamamoto", "Yilmaz", "Zhang",
};

static const char *const DOMAINS[] = {"example.com", "example.net", "example.org", "mail.example"};

static const char *const STREETS[] = {
    "Acacia", "Birch", "Cedar", "Chestnut", "Elm", "Harbour", "Hillside", "Lake", "Maple",
    "Meadow", "Mill", "Oak", "Orchard", "Park", "Pine", "River", "Station", "Sunset", "Willow",
};

static const char *const STREET_KINDS[] = {"Street", "Avenue", "Road", "Lane", "Boulevard", "Way"};

/* Regions in the order the schema's CHECK lists them; weights are the
 * share of customers; cities give addresses a plausible place. */
static const char *const REGIONS[] = {"APJ", "EMEA", "LATAM", "NA"};
static const int REGION_WEIGHTS[] = {20, 30, 15, 35};
/* Node of each region in region_list (APJ, NA -> shard1; EMEA -> shard2; LATAM -> shard3). */
static const int REGION_NODE[] = {1, 2, 3, 1};
static const char *const CITIES[][6] = {
    {"Tokyo", "Sydney", "Singapore", "Mumbai", "Seoul", "Auckland"},
    {"London", "Berlin", "Paris", "Madrid", "Dubai", "Nairobi"},
    {"Sao Paulo", "Mexico City", "Buenos Aires", "Bogota", "Lima", "Santiago"},
    {"New York", "Toronto", "Chicago", "Austin", "Seattle", "Vancouver"},
};

typedef struct category {
    const char *name;
    const char *const *nouns;
    int n_nouns;
} category;

static const char *const N_ELECTRONICS[] = {"Headphones", "Speaker", "Keyboard", "Monitor",
                                            "Webcam", "Charger", "Smartwatch", "Router"};
static const char *const N_HOME[] = {"Lamp", "Kettle", "Blanket", "Vase", "Cookware Set",
                                     "Coffee Grinder", "Armchair", "Rug"};
static const char *const N_BOOKS[] = {"Cookbook", "Atlas", "Novel", "Field Guide", "Art Book",
                                      "Encyclopedia"};
static const char *const N_GARDEN[] = {"Planter", "Hose", "Pruning Shears", "Bird Feeder",
                                       "Lawn Mower", "Greenhouse Kit"};
static const char *const N_SPORTS[] = {"Yoga Mat", "Dumbbell Set", "Tent", "Backpack",
                                       "Running Shoes", "Bicycle Helmet"};
static const char *const N_TOYS[] = {"Puzzle", "Kite", "Building Blocks", "Board Game",
                                     "Plush Bear", "Model Train"};
static const char *const N_BEAUTY[] = {"Serum", "Hair Dryer", "Perfume", "Shaving Kit",
                                       "Face Cream"};

static const category CATEGORIES[] = {
    {"electronics", N_ELECTRONICS, COUNT(N_ELECTRONICS)},
    {"home", N_HOME, COUNT(N_HOME)},
    {"books", N_BOOKS, COUNT(N_BOOKS)},
    {"garden", N_GARDEN, COUNT(N_GARDEN)},
    {"sports", N_SPORTS, COUNT(N_SPORTS)},
    {"toys", N_TOYS, COUNT(N_TOYS)},
    {"beauty", N_BEAUTY, COUNT(N_BEAUTY)},
};

static const char *const BRANDS[] = {"Acme", "Brightwell", "Halcyon", "Kestrel", "Maru",
                                     "Nordlys", "Solano", "Tidewater"};
static const char *const ADJECTIVES[] = {"Classic", "Compact", "Deluxe", "Eco", "Essential",
                                         "Everyday", "Premium", "Pro", "Travel", "Vintage"};
/* Extra tags some products carry after their category. */
static const char *const TAGS[] = {"gifts", "sale", "bestseller", "new"};

/* Price bands of price_bands: [from, to) in cents, physical table, share of products. */
static const struct {
    int64_t from_cents, to_cents;
    const char *table;
    int weight;
} BANDS[] = {
    {1000, 10100, "products_10_to_100", 45},
    {10100, 25100, "products_101_to_250", 35},
    {25100, 50100, "products_251_to_500", 20},
};

static const char *const PAY_MODES[] = {"card", "paypal", "bank_transfer", "gift_card"};
static const int PAY_WEIGHTS[] = {55, 25, 12, 8};

/* ------------------------------------------------------------------ output */

/* One multi-row INSERT being built: rows are appended until the batch is
 * full, then the statement is closed and a new one starts. */
typedef struct inserter {
    FILE *out;
    const char *head; /* "INSERT INTO t (a, b) VALUES" */
    int batch;
    int only_node;    /* write only rows of this node (1-based); 0 = all rows */
    int in_stmt;      /* rows in the open statement */
    long rows;        /* rows written in total */
    long *statements; /* shared statement counter */
} inserter;

static void ins_row(inserter *in, int node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append a row that lives on `node` (0 = every node, a reference table). */
static void ins_row(inserter *in, int node, const char *fmt, ...)
{
    if (in->only_node && node && node != in->only_node) return;
    if (in->in_stmt == 0)
        fprintf(in->out, "%s\n  (", in->head);
    else
        fputs(",\n  (", in->out);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(in->out, fmt, ap);
    va_end(ap);
    fputc(')', in->out);
    in->rows++;
    if (++in->in_stmt == in->batch) {
        fputs(";\n", in->out);
        in->in_stmt = 0;
        (*in->statements)++;
    }
}

static void ins_finish(inserter *in)
{
    if (in->in_stmt > 0) {
        fputs(";\n", in->out);
        in->in_stmt = 0;
        (*in->statements)++;
    }
}

/* s as a SQL string literal (standard_conforming_strings: only ' doubles). */
static void sql_quote(char *dst, size_t dstsz, const char *s)
{
    size_t j = 0;
    if (dstsz < 3) return;
    dst[j++] = '\'';
    for (; *s && j + 3 < dstsz; s++) {
        if (*s == '\'') dst[j++] = '\'';
        dst[j++] = *s;
    }
    dst[j++] = '\'';
    dst[j] = '\0';
}

/* "YYYY-MM-DD" of a day number (days since 1970-01-01), proleptic Gregorian. */
static void format_date(char out[11], int64_t days)
{
    /* Howard Hinnant's civil_from_days. */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) y++;
    snprintf(out, 11, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
}

static void format_money(char out[24], int64_t cents)
{
    snprintf(out, 24, "%" PRId64 ".%02d", cents / 100, (int)(cents % 100));
}

/* ------------------------------------------------------------------ rows */

/* Bucket of customer_hash for an integer key: XXH3-64 of its canonical
 * form, the 8 little-endian bytes. */
static uint32_t customer_bucket(int64_t customer_id)
{
    uint8_t le[8];
    uint64_t x = (uint64_t)customer_id;
    for (int k = 0; k < 8; k++) le[k] = (uint8_t)(x >> (8 * k));
    return (uint32_t)(XXH3_64bits(le, sizeof le) & (HASH_BUCKETS - 1));
}

/* Node (1-based) customer_hash assigns a bucket: buckets split evenly in list order. */
static int bucket_node(uint32_t bucket)
{
    return (int)((uint64_t)bucket * N_NODES / HASH_BUCKETS) + 1;
}

typedef struct customer {
    char name[64];
    char email[96];
    char address[128];
    int region;
} customer;

/* Customer `id` (1-based) of the data set `seed`. */
static void gen_customer(uint64_t seed, int64_t id, customer *c)
{
    rng r = rng_for(seed, S_CUSTOMER, (uint64_t)id);
    const char *first = PICK(&r, FIRST);
    const char *last = PICK(&r, LAST);
    snprintf(c->name, sizeof c->name, "%s %s", first, last);

    /* Email: first.last<id>@domain, lower case, letters and digits only. */
    char local[64];
    size_t j = 0;
    for (const char *p = first; *p && j < 30; p++)
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) local[j++] = (char)(*p | 0x20);
    local[j++] = '.';
    for (const char *p = last; *p && j < 60; p++)
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) local[j++] = (char)(*p | 0x20);
    local[j] = '\0';
    snprintf(c->email, sizeof c->email, "%s%" PRId64 "@%s", local, id, PICK(&r, DOMAINS));

    c->region = rng_weighted(&r, REGION_WEIGHTS, COUNT(REGION_WEIGHTS));
    int number = 1 + (int)rng_below(&r, 2400);
    const char *street = PICK(&r, STREETS);
    const char *kind = PICK(&r, STREET_KINDS);
    const char *city = CITIES[c->region][rng_below(&r, COUNT(CITIES[0]))];
    snprintf(c->address, sizeof c->address, "%d %s %s, %s", number, street, kind, city);
}

typedef struct product {
    int64_t cents;
    char name[96];
    char categories[48];
} product;

/* Product `id` (1-based) of the data set `seed`; returns its price band. */
static int gen_product(uint64_t seed, long id, product *p)
{
    rng r = rng_for(seed, S_PRODUCT, (uint64_t)id);
    int band_weights[COUNT(BANDS)];
    for (int b = 0; b < COUNT(BANDS); b++) band_weights[b] = BANDS[b].weight;
    int b = rng_weighted(&r, band_weights, COUNT(BANDS));
    /* Up to the last cent below the next band: 100.99 is still in
     * [10, 101), as the half-open ranges of price_bands say. */
    int64_t lo = BANDS[b].from_cents, hi = BANDS[b].to_cents - 1;
    p->cents = lo + (int64_t)rng_below(&r, (uint64_t)(hi - lo + 1));
    int c = (int)rng_below(&r, COUNT(CATEGORIES));
    const category *cat = &CATEGORIES[c];
    const char *brand = PICK(&r, BRANDS), *adj = PICK(&r, ADJECTIVES);
    snprintf(p->name, sizeof p->name, "%s %s %s", brand, adj,
             cat->nouns[rng_below(&r, (uint64_t)cat->n_nouns)]);
    if (rng_below(&r, 4) == 0)
        snprintf(p->categories, sizeof p->categories, "%s,%s", cat->name, PICK(&r, TAGS));
    else
        snprintf(p->categories, sizeof p->categories, "%s", cat->name);
    return b;
}

typedef struct options {
    long customers, orders, products;
    uint64_t seed;
    int batch;
    bool counts;
    int node;           /* --node: rows of this node only, physical tables; 0 = all */
} options;

/* One order as every table derived from it sees it. */
typedef struct order {
    int64_t order_id;
    long customer_id;
    int node;           /* 1-based node of the customer's bucket */
    int64_t day;        /* order date, days since 1970-01-01 */
    int pay_mode;
    int n_items;
    long product[4];
    int qty[4];
    int total_qty;
    int64_t total_cents;
    bool shipped;
    int ship_days;      /* shipment date - order date */
} order;

/* Order i (0-based) of o's data set; price[] holds product prices in cents. */
static void gen_order(const options *o, const int64_t *price, long i, order *d)
{
    static const int n_item_weights[] = {40, 30, 20, 10};
    static const int qty_weights[] = {70, 20, 10};
    rng r = rng_for(o->seed, S_ORDER, (uint64_t)i);

    /* Order i happens in the i-th of `orders` equal slices of 2024-2025:
     * times strictly increase, so no two orders share a millisecond and
     * their IDs cannot collide whatever bucket and sequence they carry. */
    const int64_t slice = (int64_t)SPAN_DAYS * 86400000 / o->orders;
    int64_t ms = i * slice + (int64_t)rng_below(&r, (uint64_t)slice);
    d->day = EPOCH_DAYS + ms / 86400000;

    /* A third of the orders come from the first tenth of the customers
     * (the regulars), the rest from anyone. */
    if (rng_below(&r, 3) == 0)
        d->customer_id = 1 + (long)rng_below(&r, (uint64_t)(o->customers + 9) / 10);
    else
        d->customer_id = 1 + (long)rng_below(&r, (uint64_t)o->customers);
    uint32_t bucket = customer_bucket(d->customer_id);
    d->node = bucket_node(bucket);
    d->order_id = (int64_t)((uint64_t)ms << (SLOT_BITS + SEQ_BITS) | (uint64_t)bucket << SEQ_BITS |
                            ((uint64_t)i & ((1u << SEQ_BITS) - 1)));
    d->pay_mode = rng_weighted(&r, PAY_WEIGHTS, COUNT(PAY_WEIGHTS));

    /* 1-4 distinct products (when there are that many), 1-3 of each. */
    d->n_items = 1 + rng_weighted(&r, n_item_weights, COUNT(n_item_weights));
    if (d->n_items > o->products) d->n_items = (int)o->products;
    d->total_qty = 0;
    d->total_cents = 0;
    for (int it = 0; it < d->n_items; it++) {
        bool dup;
        do {
            d->product[it] = 1 + (long)rng_below(&r, (uint64_t)o->products);
            dup = false;
            for (int p = 0; p < it; p++) dup |= d->product[p] == d->product[it];
        } while (dup);
        d->qty[it] = 1 + rng_weighted(&r, qty_weights, COUNT(qty_weights));
        d->total_qty += d->qty[it];
        d->total_cents += d->qty[it] * price[d->product[it]];
    }
    d->shipped = rng_below(&r, 10) != 0;
    d->ship_days = 1 + (int)rng_below(&r, 4);
}

/* Expected rows per physical table and node (index 1..N_NODES). */
typedef struct counts {
    long customer[N_NODES + 1];
    long customer_by_region[N_NODES + 1];
    long orders[N_NODES + 1];
    long order_items[N_NODES + 1];
    long bands[COUNT(BANDS)];
    long payments;
    long shipments;
} counts;

/* Write the whole data set as SQL to out (NULL: only fill k). */
static int generate(const options *o, FILE *out, counts *k)
{
    int64_t *price = calloc((size_t)o->products + 1, sizeof *price);
    int *orders_of = calloc((size_t)o->customers + 1, sizeof *orders_of);
    if (!price || !orders_of) {
        free(price);
        free(orders_of);
        fprintf(stderr, "shardwire-gendata: out of memory\n");
        return -1;
    }
    FILE *sink = out;
    if (!sink) sink = fopen("/dev/null", "w");
    if (!sink) {
        fprintf(stderr, "shardwire-gendata: /dev/null: %s\n", strerror(errno));
        free(price);
        free(orders_of);
        return -1;
    }
    long statements = 0;
    char q1[160], q2[240], q3[320], d1[11], m1[24];

    fprintf(sink,
            "-- e-commerce demo data: shardwire-gendata --customers %ld --orders %ld"
            " --products %ld --seed %" PRIu64 "\n"
            "%s",
            o->customers, o->orders, o->products, o->seed,
            o->node ? "" : "-- Load it through shardwire (config/ecommerce.yaml), which routes every row.\n");
    if (o->node)
        fprintf(sink,
                "-- --node %d: only the rows node %d holds, in its physical tables; load it\n"
                "-- directly into that node, not through shardwire.\n",
                o->node, o->node);

    /* Products.  Through shardwire they go to the logical `products` and
     * the proxy picks the band table; with --node they are written to the
     * band tables directly, one band after the other (statements of two
     * tables must not interleave). */
    for (long id = 1; id <= o->products; id++) {
        product p;
        k->bands[gen_product(o->seed, id, &p)]++;
        price[id] = p.cents;
    }
    long n_products = 0;
    for (int pass = 0; pass < (o->node ? COUNT(BANDS) : 1); pass++) {
        char head[160];
        snprintf(head, sizeof head,
                 "INSERT INTO %s (product_id, product_name, product_price, product_categories) VALUES",
                 o->node ? BANDS[pass].table : "products");
        inserter in = {sink, head, o->batch, o->node, 0, 0, &statements};
        for (long id = 1; id <= o->products; id++) {
            product p;
            int b = gen_product(o->seed, id, &p);
            if (o->node && b != pass) continue;
            format_money(m1, p.cents);
            sql_quote(q1, sizeof q1, p.name);
            sql_quote(q2, sizeof q2, p.categories);
            ins_row(&in, PRODUCTS_NODE, "%ld, %s, %s, %s", id, q1, m1, q2);
        }
        ins_finish(&in);
        n_products += in.rows;
    }

    /* Customers (hash-sharded), then the same people in the region-listed
     * table (list-sharded): the same ids land on different nodes. */
    inserter in = {sink,
                    "INSERT INTO customer (customer_id, customer_name, customer_email, "
                    "customer_shipping_address, customer_region) VALUES",
                    o->batch, o->node, 0, 0, &statements};
    for (long id = 1; id <= o->customers; id++) {
        customer c;
        gen_customer(o->seed, id, &c);
        sql_quote(q1, sizeof q1, c.name);
        sql_quote(q2, sizeof q2, c.email);
        sql_quote(q3, sizeof q3, c.address);
        ins_row(&in, bucket_node(customer_bucket(id)), "%ld, %s, %s, %s, '%s'", id, q1, q2, q3,
                REGIONS[c.region]);
        k->customer[bucket_node(customer_bucket(id))]++;
    }
    ins_finish(&in);
    long n_customers = in.rows;

    in = (inserter){sink,
                    "INSERT INTO customer_by_region (customer_region, customer_id, customer_name, "
                    "customer_email) VALUES",
                    o->batch, o->node, 0, 0, &statements};
    for (long id = 1; id <= o->customers; id++) {
        customer c;
        gen_customer(o->seed, id, &c);
        sql_quote(q1, sizeof q1, c.name);
        sql_quote(q2, sizeof q2, c.email);
        ins_row(&in, REGION_NODE[c.region], "'%s', %ld, %s, %s", REGIONS[c.region], id, q1, q2);
        k->customer_by_region[REGION_NODE[c.region]]++;
    }
    ins_finish(&in);
    long n_by_region = in.rows;

    /* One payment per order, paid the day it was placed (reference table:
     * shardwire writes it to every node). */
    in = (inserter){sink, "INSERT INTO payments (payment_id, payment_date, payment_mode) VALUES",
                    o->batch, o->node, 0, 0, &statements};
    for (long i = 0; i < o->orders; i++) {
        order d;
        gen_order(o, price, i, &d);
        format_date(d1, d.day);
        ins_row(&in, 0, "%ld, '%s', '%s'", i + 1, d1, PAY_MODES[d.pay_mode]);
    }
    ins_finish(&in);
    k->payments = o->orders;
    long n_payments = in.rows;

    /* Orders: order_sequence_id is the customer's n-th order. */
    in = (inserter){sink,
                    "INSERT INTO orders (order_id, customer_id, order_date, payment_id, quantity, "
                    "price, order_sequence_id) VALUES",
                    o->batch, o->node, 0, 0, &statements};
    for (long i = 0; i < o->orders; i++) {
        order d;
        gen_order(o, price, i, &d);
        format_date(d1, d.day);
        format_money(m1, d.total_cents);
        ins_row(&in, d.node, "%" PRId64 ", %ld, '%s', %ld, %d, %s, %d", d.order_id, d.customer_id,
                d1, i + 1, d.total_qty, m1, ++orders_of[d.customer_id]);
        k->orders[d.node]++;
    }
    ins_finish(&in);
    long n_orders = in.rows;

    /* Items: routed by order_id alone, they follow their order. */
    in = (inserter){sink,
                    "INSERT INTO order_items (order_id, item_no, customer_id, product_id, quantity, "
                    "unit_price) VALUES",
                    o->batch, o->node, 0, 0, &statements};
    for (long i = 0; i < o->orders; i++) {
        order d;
        gen_order(o, price, i, &d);
        for (int it = 0; it < d.n_items; it++) {
            format_money(m1, price[d.product[it]]);
            ins_row(&in, d.node, "%" PRId64 ", %d, %ld, %ld, %d, %s", d.order_id, it + 1,
                    d.customer_id, d.product[it], d.qty[it], m1);
            k->order_items[d.node]++;
        }
    }
    ins_finish(&in);
    long n_items = in.rows;

    /* Shipments, split vertically: when and what (shipment_details, on
     * shard2) and where to (customer_details, on shard3), one row each per
     * shipped order, joined by shipping_id. */
    in = (inserter){sink, "INSERT INTO shipment_details (shipping_id, order_id, shipment_date) VALUES",
                    o->batch, o->node, 0, 0, &statements};
    long shipping_id = 0;
    for (long i = 0; i < o->orders; i++) {
        order d;
        gen_order(o, price, i, &d);
        if (!d.shipped) continue;
        k->shipments++;
        format_date(d1, d.day + d.ship_days);
        ins_row(&in, SHIPMENT_NODE, "%ld, %" PRId64 ", '%s'", ++shipping_id, d.order_id, d1);
    }
    ins_finish(&in);
    long n_shipments = in.rows;

    in = (inserter){sink,
                    "INSERT INTO customer_details (shipping_id, customer_shipping_address, "
                    "customer_region) VALUES",
                    o->batch, o->node, 0, 0, &statements};
    shipping_id = 0;
    for (long i = 0; i < o->orders; i++) {
        order d;
        gen_order(o, price, i, &d);
        if (!d.shipped) continue;
        customer c;
        gen_customer(o->seed, d.customer_id, &c);
        sql_quote(q3, sizeof q3, c.address);
        ins_row(&in, CUSTDETAIL_NODE, "%ld, %s, '%s'", ++shipping_id, q3, REGIONS[c.region]);
    }
    ins_finish(&in);

    if (out) {
        char which[32] = "";
        if (o->node) snprintf(which, sizeof which, ", rows of node %d", o->node);
        fprintf(stderr,
                "shardwire-gendata: seed %" PRIu64 "%s: products %ld, customer %ld, "
                "customer_by_region %ld, payments %ld, orders %ld, order_items %ld, "
                "shipment_details %ld, customer_details %ld (%ld INSERT statements)\n",
                o->seed, which, n_products, n_customers, n_by_region, n_payments, n_orders, n_items,
                n_shipments, in.rows, statements);
    }
    if (!out) fclose(sink);
    free(price);
    free(orders_of);
    return 0;
}

/* The rows each physical table should hold on each node, one
 * "node<TAB>table<TAB>rows" line per placement. */
static void print_counts(const counts *k)
{
    static const char *const sharded[] = {"customer", "customer_by_region", "orders", "order_items"};
    const long *per_node[] = {k->customer, k->customer_by_region, k->orders, k->order_items};
    for (int n = 1; n <= N_NODES; n++) {
        for (int t = 0; t < COUNT(sharded); t++) printf("%d\t%s\t%ld\n", n, sharded[t], per_node[t][n]);
        printf("%d\tpayments\t%ld\n", n, k->payments);
        if (n == PRODUCTS_NODE)
            for (int b = 0; b < COUNT(BANDS); b++) printf("%d\t%s\t%ld\n", n, BANDS[b].table, k->bands[b]);
        if (n == SHIPMENT_NODE) printf("%d\tshipment_details\t%ld\n", n, k->shipments);
        if (n == CUSTDETAIL_NODE) printf("%d\tcustomer_details\t%ld\n", n, k->shipments);
    }
}

static void usage(FILE *f)
{
    fputs("usage: shardwire-gendata [--customers N] [--orders N] [--products N] [--seed S]\n"
          "                         [--batch N] [--counts | --node N]\n"
          "Writes deterministic e-commerce demo data as SQL INSERTs to stdout, for\n"
          "loading through shardwire with config/ecommerce.yaml.  Row counts go to stderr.\n"
          "  --customers N  customers (default 2000)\n"
          "  --orders N     orders, one payment each (default 6000)\n"
          "  --products N   products across the three price bands (default 500)\n"
          "  --seed S       data set (default 1); same arguments, same bytes\n"
          "  --batch N      rows per INSERT statement (default 50)\n"
          "  --counts       print the expected rows per node and physical table\n"
          "                 (\"node<TAB>table<TAB>rows\") instead of SQL\n"
          "  --node N       only the rows node N (1-3) holds, into its physical tables,\n"
          "                 for loading directly into that node without shardwire\n",
          f);
}

/* Parse a decimal integer in [lo, hi]; -1 when s is not one. */
static int parse_num(const char *s, long long lo, long long hi, long long *v)
{
    char *end;
    if (!s || !*s) return -1;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end || x < lo || x > hi) return -1;
    *v = x;
    return 0;
}

int main(int argc, char **argv)
{
    options o = {2000, 6000, 500, 1, 50, false, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long long v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--counts")) {
            o.counts = true;
            continue;
        }
        struct {
            const char *name;
            long long lo, hi;
        } const num[] = {
            {"--customers", 1, 100000000},
            {"--orders", 1, 100000000}, /* >= 1 ms between orders in two years */
            {"--products", 1, 100000000},
            {"--seed", 0, INT64_MAX},
            {"--batch", 1, 100000},
            {"--node", 1, N_NODES},
        };
        int which = -1;
        for (int n = 0; n < COUNT(num); n++)
            if (!strcmp(a, num[n].name)) which = n;
        if (which < 0) {
            fprintf(stderr, "shardwire-gendata: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (i + 1 >= argc || parse_num(argv[i + 1], num[which].lo, num[which].hi, &v) < 0) {
            fprintf(stderr, "shardwire-gendata: %s needs an integer in %lld..%lld\n", a,
                    num[which].lo, num[which].hi);
            return 2;
        }
        i++;
        switch (which) {
        case 0: o.customers = (long)v; break;
        case 1: o.orders = (long)v; break;
        case 2: o.products = (long)v; break;
        case 3: o.seed = (uint64_t)v; break;
        case 4: o.batch = (int)v; break;
        default: o.node = (int)v; break;
        }
    }

    counts k;
    memset(&k, 0, sizeof k);
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    if (o.counts) o.node = 0; /* counts cover every node */
    if (generate(&o, o.counts ? NULL : stdout, &k) < 0) return 1;
    if (o.counts) print_counts(&k);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "shardwire-gendata: writing stdout: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
