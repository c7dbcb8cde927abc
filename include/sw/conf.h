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

/* A client-facing (logical) database. */
typedef struct sw_conf_database {
    char *name;
    int default_node;    /* index into nodes */
} sw_conf_database;

typedef struct sw_conf {
    char *path;

    /* listen: */
    char *listen_host;             /* default "127.0.0.1" */
    int listen_port;               /* default 6432 */
    int max_clients;               /* default 1000 */
    int shutdown_timeout_ms;       /* default 30000: SIGTERM drain bound */

    /* pool: */
    sw_pool_mode pool_mode;        /* default transaction */
    int pool_size;                 /* default 8 */
    int connect_timeout_ms;        /* default 5000 */
    int idle_timeout_ms;           /* default 600000; 0 = never */
    int query_wait_timeout_ms;     /* default 30000: client waiting for a server */
    int client_idle_timeout_ms;    /* default 0 = never */
    char *reset_query;             /* default "DISCARD ALL" (session mode release) */
    int max_prepared_per_server;   /* default 1000: LRU bound on server-side statements */

    /* limits: */
    uint32_t max_message_size;     /* default 64 MiB: larger messages get 08P01 */

    /* log: */
    sw_log_level log_level;        /* default info */

    sw_conf_node *nodes;
    int n_nodes;
    sw_conf_user *users;
    int n_users;
    sw_conf_database *databases;
    int n_databases;
} sw_conf;

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

const char *sw_pool_mode_name(sw_pool_mode m);
const char *sw_auth_method_name(sw_auth_method m);

#endif
