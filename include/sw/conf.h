/*
 * conf.h - shardwire configuration: the YAML file turned into one immutable
 * struct.  A loaded sw_conf is never modified; a reload builds a new one and
 * swaps it in, so anything holding the old pointer keeps a consistent view.
 *
 * Errors are reported like a compiler: "file:line:col: error: message",
 * optionally followed by a line "  hint: ...".  Line and column are 1-based
 * and point at the offending key or value.
 */
#ifndef SW_CONF_H
#define SW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sw_pool_mode { SW_POOL_SESSION = 0, SW_POOL_TRANSACTION = 1 } sw_pool_mode;
/* What transaction pooling does with session state a server connection
 * cannot hand on (TEMP tables, SQL PREPARE, LISTEN, ...). */
typedef enum sw_session_state_mode {
    SW_SESSION_STATE_PIN = 0,    /* keep the client on its servers until the state is gone */
    SW_SESSION_STATE_REFUSE = 1, /* refuse the statement with 0A000 */
} sw_session_state_mode;
typedef enum sw_auth_method { SW_AUTH_METHOD_TRUST = 0, SW_AUTH_METHOD_MD5 = 1, SW_AUTH_METHOD_SCRAM = 2 } sw_auth_method;
typedef enum sw_log_level { SW_LOG_ERROR = 0, SW_LOG_WARN = 1, SW_LOG_INFO = 2, SW_LOG_DEBUG = 3 } sw_log_level;

/* A backend PostgreSQL server. */
typedef struct sw_conf_node {
    char *name;
    char *host;
    int port;
    char *database;      /* physical database on that server */
    char *user;          /* login role used by shardwire */
    char *password;      /* plaintext, may be NULL (trust) */
    int query_timeout_ms;   /* a server owing replies and silent this long is failed (57014); 0 = off;
                               pool.query_timeout unless the node sets its own */
    int connect_timeout_ms; /* connect + login; pool.connect_timeout unless the node sets its own */
    int line;            /* where it was declared, for messages */
} sw_conf_node;

/* A client-facing role. */
typedef struct sw_conf_user {
    char *name;
    sw_auth_method auth;
    char *password;      /* plaintext, or NULL */
    char *scram_secret;  /* "SCRAM-SHA-256$..." verifier, or NULL */
    char *md5_hash;      /* "md5<32 hex>", or NULL */
    char *server_user;   /* backend role override, or NULL = node's user */
    char *server_password;
    int pool_size;       /* 0 = pool default */
    int pool_mode;       /* -1 = pool default, else sw_pool_mode */
} sw_conf_user;

/* ------------------------------------------------------------------ sharding */

/* Type of a shard key: how its values are read and compared.  Integer keys
 * hash and compare as int64 whatever their spelling (42, '42', 42::int8, a
 * binary Bind value); text hashes its bytes; numeric compares exactly. */
typedef enum sw_key_type {
    SW_KEY_INT = 0,       /* smallint, integer, bigint */
    SW_KEY_TEXT = 1,      /* text, varchar, char */
    SW_KEY_NUMERIC = 2,   /* numeric/decimal, exact */
    SW_KEY_DATE = 3,      /* date: days since 2000-01-01 */
    SW_KEY_TIMESTAMP = 4, /* timestamp/timestamptz: microseconds since 2000-01-01 UTC */
} sw_key_type;

typedef enum sw_fn_kind {
    SW_FN_HASH = 0,       /* XXH3-64 of the key onto buckets, buckets onto targets */
    SW_FN_RANGE = 1,      /* ordered [from, to) ranges */
    SW_FN_LIST = 2,       /* value lists */
    SW_FN_RING = 3,       /* consistent-hash ring, weighted, virtual nodes */
    SW_FN_DIRECTORY = 4,  /* key -> node looked up in a table on a node */
    SW_FN_EMBEDDED = 5,   /* shard-aware IDs carrying their source bucket */
} sw_fn_kind;

/* One [from, to) range; from/to are the YAML spellings, NULL = open end. */
typedef struct sw_conf_range {
    char *from;
    char *to;
    int target;          /* index into the function's targets */
    int line, col;
} sw_conf_range;

/* One list entry: these values go to target. */
typedef struct sw_conf_list {
    char **values;
    int n_values;
    int target;
    int line, col;
} sw_conf_list;

/* A sharding function: maps a key value to one of its targets.  Targets are
 * node names, except for a table-suffix function (range or list entries
 * that name `table:` instead of `node:`), whose targets are physical table
 * names that all live on the node of the table using the function. */
typedef struct sw_conf_function {
    char *name;
    sw_fn_kind kind;
    sw_key_type type;     /* SW_FN_EMBEDDED: always SW_KEY_INT */
    int line, col;
    char **targets;       /* node or physical table names, distinct */
    int *target_node;     /* per target: node index, or -1 for table targets */
    int n_targets;
    bool table_targets;   /* table-suffix function */
    /* hash */
    int buckets;          /* default 1024, power of two, 1..65536 */
    int *bucket_target;   /* [buckets]: target of each bucket */
    /* ring */
    int *weights;         /* [n_targets], >= 1 */
    int vnodes;           /* points per unit of weight, default 160 */
    /* range */
    sw_conf_range *ranges; /* in file order, checked: no overlaps, no gaps unless default */
    int n_ranges;
    /* list */
    sw_conf_list *lists;
    int n_lists;
    int default_target;   /* range, list: target of unmatched values, -1 = error */
    /* directory */
    int dir_node;         /* node holding the mapping table */
    char *dir_query;      /* one $1 parameter, returns the node name */
    int cache_ttl_ms;     /* default 60s */
    int cache_size;       /* entries, default 100000 */
    /* embedded */
    int source;           /* index of the hash function whose bucket the ID carries */
    int seq_bits;         /* low bits of randomness/sequence, default 12 */
    int slot_bits;        /* log2(source buckets) */
    int64_t epoch_ms;     /* time origin of IDs, default 2024-01-01T00:00:00Z */
} sw_conf_function;

typedef enum sw_table_kind {
    SW_TABLE_SHARDED = 0,   /* rows spread by key and function */
    SW_TABLE_REFERENCE = 1, /* a full copy on every node (or on `nodes`) */
    SW_TABLE_PINNED = 2,    /* vertical split: the whole table on one node */
} sw_table_kind;

/* A table the router knows about.  Anything unlisted lives on the
 * database's default node. */
typedef struct sw_conf_table {
    char *schema;         /* NULL = matches references in any schema */
    char *name;           /* as PostgreSQL stores it (unquoted names lower-case) */
    sw_table_kind kind;
    char *key;            /* SHARDED: key column */
    int function;         /* SHARDED: index into functions */
    int node;             /* PINNED: its node; SHARDED with a table-suffix function: node of the parts; else -1 */
    int *nodes;           /* REFERENCE: nodes holding copies (NULL = all) */
    int n_nodes;
    char *id_column;      /* column filled by shardwire_next_id(table, key), or NULL */
    int id_function;      /* SW_FN_EMBEDDED function generating it, or -1 */
    int line, col;
} sw_conf_table;

/* A client-facing (logical) database. */
typedef struct sw_conf_database {
    char *name;
    int default_node;    /* index into nodes */
    bool two_phase;      /* default true: a transaction that wrote on several nodes commits with
                            two-phase commit; false: one node after the other, as fast as one
                            node but not atomic */
    sw_conf_table *tables;
    int n_tables;
} sw_conf_database;

typedef struct sw_conf {
    char *path;

    /* listen: */
    char *listen_host;             /* default "127.0.0.1" */
    int listen_port;               /* default 6432 */
    int max_clients;               /* default 1000: logged-in clients */
    int max_startup;               /* default 1000: connections still in startup/authentication;
                                      one more drops the oldest of them */
    int auth_timeout_ms;           /* default 60000: startup + authentication must end by then */
    int shutdown_timeout_ms;       /* default 30000: SIGTERM drain bound */

    /* pool: */
    sw_pool_mode pool_mode;        /* default transaction */
    int pool_size;                 /* default 8 */
    int connect_timeout_ms;        /* default 5000: default of nodes[].connect_timeout */
    int query_timeout_ms;          /* default 0 = off: default of nodes[].query_timeout */
    bool tcp_keepalive;            /* default true: SO_KEEPALIVE on server connections */
    int tcp_keepalive_idle_ms;     /* default 60s: idle time before the first probe (whole seconds) */
    int tcp_keepalive_interval_ms; /* default 10s: between probes (whole seconds) */
    int tcp_keepalive_count;       /* default 6: unanswered probes before the connection is dead */
    int idle_timeout_ms;           /* default 600000; 0 = never */
    int query_wait_timeout_ms;     /* default 30000: client waiting for a server */
    int client_idle_timeout_ms;    /* default 0 = never */
    char *reset_query;             /* default "DISCARD ALL" (session mode release) */
    int max_prepared_per_server;   /* default 1000: LRU bound on server-side statements */
    sw_session_state_mode session_state; /* default pin */

    /* limits: */
    uint32_t max_message_size;     /* default 64 MiB: larger messages get 08P01 */
    uint32_t max_server_message_size; /* default 256 MiB: a larger server message that must be held
                                         whole fails its server connection (54000) */
    int merge_max_rows;            /* default 1000000: rows/groups one cross-shard merge may hold (0 = no cap) */
    uint32_t merge_max_bytes;      /* default 256 MiB: bytes one cross-shard merge may hold */

    /* log: */
    sw_log_level log_level;        /* default info */

    /* transactions: (two-phase commit across nodes) */
    char *instance;                /* default "shardwire": names this instance in its
                                      transaction IDs; instances in front of the same
                                      nodes need different names */
    int recovery_interval_ms;      /* default 30s: how often prepared transactions are checked */
    int recovery_min_age_ms;       /* default 60s: another instance's prepared transaction is
                                      resolved only once this old */

    sw_conf_node *nodes;
    int n_nodes;
    sw_conf_user *users;
    int n_users;
    sw_conf_database *databases;
    int n_databases;
    sw_conf_function *functions;
    int n_functions;

    /* Admin console (database "shardwire") access, by client user name. */
    char **admin_users;            /* every console command */
    int n_admin_users;
    char **stats_users;            /* SHOW commands only */
    int n_stats_users;
} sw_conf;

/* What a user may do on the admin console. */
typedef enum sw_console_access {
    SW_CONSOLE_NONE = 0,  /* may not connect: 42501 */
    SW_CONSOLE_STATS = 1, /* SHOW commands */
    SW_CONSOLE_ADMIN = 2, /* everything, RELOAD included */
} sw_console_access;

/* Load and validate path.  On success returns 0 and *out (caller frees with
 * sw_conf_free).  On failure returns -1 and writes the diagnostic (one or
 * more lines "file:line:col: error: ..." plus optional "  hint: ...") into
 * err. */
int sw_conf_load(const char *path, sw_conf **out, char *err, size_t errsz);

/* Same, from a string (for tests); name is used as the file name in errors. */
int sw_conf_load_string(const char *name, const char *yaml, size_t len, sw_conf **out,
                        char *err, size_t errsz);

void sw_conf_free(sw_conf *c);

/* Lookups by name; NULL / -1 when absent. */
const sw_conf_user *sw_conf_user_find(const sw_conf *c, const char *name);
const sw_conf_database *sw_conf_database_find(const sw_conf *c, const char *name);
int sw_conf_node_index(const sw_conf *c, const char *name);
int sw_conf_function_index(const sw_conf *c, const char *name);
/* Console access of a client user under c (admin_users, stats_users). */
sw_console_access sw_conf_console_access(const sw_conf *c, const char *user);

const char *sw_pool_mode_name(sw_pool_mode m);
const char *sw_auth_method_name(sw_auth_method m);

#endif
