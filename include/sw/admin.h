/*
 * admin.h - the admin console: what clients of the virtual database
 * `shardwire` see when they send a simple query (as PgBouncer's `pgbouncer`
 * database).  Pure: the proxy hands over the query text and a snapshot of
 * its state, gets back protocol messages and an action to take; no I/O.
 *
 * The console speaks a tiny command language, not SQL: keywords are
 * case-insensitive, blanks are free, a trailing semicolon is optional.
 *
 *   SHOW SHARDS | SHOW NODES        backends and their pool state
 *   SHOW TABLES                     every configured table and its placement
 *   SHOW FUNCTIONS                  sharding functions and their tables
 *   SHOW ROUTE [IN db] <statement>  where the router sends a statement
 *   SHOW CACHE                      shape cache hits, misses, entries
 *   SHOW CLIENTS                    connected clients, and which are pinned and why
 *   SHOW VERSION, SHOW HELP
 *   SHOW TRANSACTIONS               two-phase commits not finished
 *   RESOLVE 'gid' COMMIT|ROLLBACK   settle a prepared transaction by hand
 *   RELOAD                          reread the configuration file
 *
 * Users in the configuration's stats_users have a read-only console
 * (env.read_only): SHOW commands work, RELOAD (and whatever changes state)
 * gets 42501.
 * Every result column is text (OID 25); a result ends with CommandComplete
 * "SHOW".  Unknown commands get ErrorResponse 42601 with the list above as
 * a hint.
 */
#ifndef SW_ADMIN_H
#define SW_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw/proto.h"
#include "sw/route.h"

/* The name clients connect to for the console. */
#define SW_ADMIN_DATABASE "shardwire"

/* Pool state of one node as the proxy sees it. */
typedef struct sw_admin_node_stats {
    int servers_active;      /* linked to a client */
    int servers_idle;
    int servers_connecting;  /* connecting or logging in */
    int clients_waiting;     /* queued for a server of this node */
    bool up;                 /* last connection attempt succeeded */
    const char *last_error;  /* last connect/login failure, or NULL */
} sw_admin_node_stats;

/* Cross-shard work since start (SHOW MERGES). */
typedef struct sw_admin_merge_stats {
    uint64_t merges;         /* SELECTs answered by merging several shards */
    uint64_t merge_rows;     /* rows they sent to clients */
    uint64_t merge_failed;   /* merges refused while running (caps, types) */
    uint64_t peak_bytes;     /* most bytes one merge held */
    uint64_t copies;         /* COPY FROM STDIN split over several shards */
    uint64_t copy_rows;      /* rows they loaded */
} sw_admin_merge_stats;

/* A transaction shardwire's two-phase commit has not finished (SHOW
 * TRANSACTIONS): committing now, or prepared on a node and not settled. */
typedef struct sw_admin_txn_row {
    char gid[200];
    char node[64];           /* where it is prepared; "" while committing */
    char state[128];
    int64_t age_ms;
} sw_admin_txn_row;

/* One connected client (SHOW CLIENTS). */
typedef struct sw_admin_client_row {
    char user[64];
    char database[64];
    char addr[64];
    int pid;                 /* the pid shardwire gave it */
    char state[16];          /* startup, auth, login, idle, waiting, active, closing */
    char nodes[128];         /* the nodes it holds servers of now */
    char pinned[256];        /* why it keeps its servers between transactions, or "" */
} sw_admin_client_row;

/* An operator's decision for a prepared transaction (RESOLVE). */
typedef struct sw_admin_resolve {
    char gid[200];
    bool commit;
} sw_admin_resolve;

/* What the console reports on; owned by the caller, read only during the call. */
typedef struct sw_admin_env {
    sw_router *router;                /* current router (its conf via sw_router_conf); may be NULL */
    const sw_admin_node_stats *nodes; /* [conf->n_nodes] in config order, or NULL = unknown */
    int n_clients;                    /* connected clients, console ones included */
    const sw_admin_client_row *clients; /* SHOW CLIENTS: n_client_rows of them (NULL: only the count) */
    int n_client_rows;
    uint64_t now_ms;                  /* wall clock, for SHOW ROUTE's ID and cache clocks */
    const sw_admin_merge_stats *merges; /* or NULL = unknown */
    bool read_only;                   /* a stats user: SHOW commands only, RELOAD gets 42501 */
    const sw_admin_txn_row *txns;     /* SHOW TRANSACTIONS */
    int n_txns;
    sw_admin_resolve *resolve;        /* filled for SW_ADMIN_RESOLVE (may be NULL: refused) */
} sw_admin_env;

typedef enum sw_admin_action {
    SW_ADMIN_NONE = 0,
    SW_ADMIN_RELOAD,          /* reread the configuration file (as SIGHUP) */
    SW_ADMIN_RESOLVE,         /* settle env->resolve's transaction as it says */
} sw_admin_action;

/* Answer one console query string sql[0..len): appends RowDescription,
 * DataRows and CommandComplete, or one ErrorResponse, or EmptyQueryResponse
 * for a blank string, to out - never ReadyForQuery.  Returns the action the
 * proxy must take.  Allocation failures set out->oom. */
sw_admin_action sw_admin_query(const sw_admin_env *env, const char *sql, size_t len, sw_wbuf *out);

#endif
