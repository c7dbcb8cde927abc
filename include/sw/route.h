/*
 * route.h - where a statement goes.  Pure: libpg_query and the sharding
 * functions, no I/O, no libuv; unit tested on its own with a routing corpus.
 *
 * A router is built from one configuration (all sharding functions and the
 * table maps of every logical database) and is immutable apart from two
 * caches that only the loop thread touches: the shape cache of analysed
 * simple-protocol statements and the directory functions' key caches.  A
 * reload builds a new router; statements routed afterwards use it.
 *
 * Analysing a statement (libpg_query's parse tree, walked once) gives a
 * plan: the statement kind, the tables it touches, and for each sharded
 * table the constraints on its key as references to the statement's
 * constants (by token position) and parameters ($n).  Routing evaluates a
 * plan against the actual constants and Bind values.  Plans do not depend
 * on the constants' values, so the simple protocol keys a cache by the
 * statement's shape (its token stream with constants blanked): a repeated
 * query pays a scan, not a parse.
 *
 * Choices the routing rules leave open, as implemented:
 *  - Table names compare as PostgreSQL stores them (the parser folds
 *    unquoted names to lower case, "Customer" quoted is another table).  A
 *    table declared "s.t" matches references s.t, and unqualified t only
 *    when s is public; a plain one matches t in any schema.  Names of CTEs
 *    are not tables.  Unlisted tables and catalogs go to the default node
 *    when nothing else is named, and do not constrain a statement that
 *    names configured tables.
 *  - A key compared with NULL, a parameter without a Bind value, or a
 *    literal that cannot be decoded leaves that table unbounded; conditions
 *    that contradict each other (key = 1 AND key = 2) pick the function's
 *    first target.  The ON condition of an outer join binds nothing.
 *  - Key values that must be known (INSERT rows, UPDATE's new key,
 *    sharding_key overrides): NULL is 22004, a missing Bind value 08P01.
 *  - Overrides, strongest first: comment "shard:", comment "sharding_key:",
 *    session shard, session sharding_key.  A forced node applies to
 *    SELECT/INSERT/UPDATE/DELETE/COPY/DDL/utility statements only (with the
 *    text unchanged but for shardwire_next_id() calls, even when the
 *    analysis could not route it); BEGIN,
 *    SET, SHOW... keep "no preference".
 *  - Several statements in one text: kind is the first statement's, write
 *    any statement's; targets are the union of the statements' nodes, sql
 *    NULL unless a statement had to be rewritten, in which case every
 *    node's text is all statements joined by "; ", each rewritten one as
 *    its part for that node (or left out).  SET/SHOW shardwire.* and a
 *    bare SELECT shardwire_next_id() in such a text are 0A000.
 *  - shardwire_next_id() inside a statement: each call's id is made once
 *    per routing and written in its place in every target's text (fresh;
 *    with no target, any_sql); a row key that is a call routes by its id.
 *  - Rewritten text runs from the statement's first token (comments
 *    included) to its last token that is not a comment; no ';'.
 *  - A physical table of a table-suffix function lives on the node its
 *    entry names, or else on the node of the table using the function.
 *    Reads get, on each node, a UNION ALL of that node's physical tables;
 *    two table-suffix occurrences over several nodes in one statement are
 *    0A000.
 *  - DDL on a table-suffix table runs once per physical table, on its
 *    node, with the physical name (a schema qualifier is kept).  CREATE
 *    INDEX name on it names each physical table's index name + suffix:
 *    the suffix is what the physical name adds to "<logical>" when it
 *    starts with "<logical>_" (products_10_to_100 -> _10_to_100), else
 *    "_<physical>"; an unnamed index stays unnamed; a name that would
 *    exceed 63 bytes is 0A000.  Renaming a table-suffix table or one of
 *    its physical tables (RENAME TO) is 0A000; so is DDL that names one
 *    without changing it (a foreign key, LIKE, INHERITS).  Tables a DDL
 *    statement only names are read, so a foreign key to a reference table
 *    needs a copy on each node of the table.
 *  - DROP TABLE/VIEW and TRUNCATE of several tables: each node gets the
 *    list of the tables it holds (table-suffix ones as its physical
 *    tables, in place; ONLY and '*' kept per entry), unchanged text where
 *    it holds them all.
 *  - DROP INDEX: the router cannot know an index's table.  It goes to every
 *    node of the logical database (its default node and every node one of
 *    its tables is on) with IF EXISTS forced, and on each node also drops
 *    name + suffix for every suffix of the node's physical tables (each
 *    suffix once, names over 63 bytes left out), so an index created
 *    through shardwire on a table-suffix table is dropped everywhere.
 *    DROP INDEX CONCURRENTLY (one index per statement) gives one target
 *    per name.
 *  - SHOW shardwire.x: local_value is the setting's name ("shardwire.shard").
 *    lookup_key is the canonical value (42, APJ, 12.5); lookup_fn is -1
 *    unless status is SW_ROUTE_LOOKUP.
 *  - Parse errors are 42601 with libpg_query's message.  Reasons join their
 *    parts with "; ".
 */
#ifndef SW_ROUTE_H
#define SW_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw/conf.h"
#include "sw/shard.h"

typedef struct sw_router sw_router;
typedef struct sw_plan sw_plan;

/* Build the router for conf (conf must outlive it).  NULL with a message
 * in err on failure. */
sw_router *sw_router_new(const sw_conf *conf, char *err, size_t errsz);
void sw_router_free(sw_router *r);
const sw_conf *sw_router_conf(const sw_router *r);
/* Sharding function by config index (for admin output). */
const sw_shardfn *sw_router_function(const sw_router *r, int index);
sw_shardfn *sw_router_function_mut(sw_router *r, int index);

typedef enum sw_stmt_kind {
    SW_SK_EMPTY = 0,      /* only comments / blanks */
    SW_SK_SELECT,         /* SELECT, VALUES, TABLE, and WITH ... SELECT */
    SW_SK_INSERT,
    SW_SK_UPDATE,
    SW_SK_DELETE,
    SW_SK_COPY,
    SW_SK_DDL,            /* CREATE/ALTER/DROP/TRUNCATE ... */
    SW_SK_BEGIN,          /* BEGIN, START TRANSACTION */
    SW_SK_COMMIT,         /* COMMIT, END, COMMIT PREPARED */
    SW_SK_ROLLBACK,       /* ROLLBACK, ABORT, ROLLBACK PREPARED */
    SW_SK_TXN_OTHER,      /* SAVEPOINT, RELEASE, ROLLBACK TO, PREPARE TRANSACTION */
    SW_SK_SET,            /* SET, RESET, SET LOCAL */
    SW_SK_SHOW,
    SW_SK_UTILITY,        /* everything else: LISTEN, DISCARD, EXPLAIN of a non-query, ... */
} sw_stmt_kind;

const char *sw_stmt_kind_name(sw_stmt_kind k);

/* Which transaction statement, for the ones whose effect shardwire
 * tracks across nodes (savepoints replayed on a node that joins later,
 * a client's own two-phase commit). */
typedef enum sw_txn_op {
    SW_TXN_NONE = 0,
    SW_TXN_SAVEPOINT,
    SW_TXN_RELEASE,
    SW_TXN_ROLLBACK_TO,
    SW_TXN_PREPARE,       /* PREPARE TRANSACTION 'gid' */
    SW_TXN_COMMIT_PREPARED,
    SW_TXN_ROLLBACK_PREPARED,
    SW_TXN_SET_TRANSACTION,  /* SET TRANSACTION ...: replayed after BEGIN on nodes joining later */
} sw_txn_op;

/* Per-session routing overrides (SET shardwire.shard / shardwire.sharding_key). */
typedef struct sw_route_session {
    const char *shard;        /* node name, or NULL */
    const char *sharding_key; /* a key value in text form, or NULL */
} sw_route_session;

/* What is known when a statement is routed. */
typedef struct sw_route_in {
    const char *database;     /* logical database */
    /* Bind parameters (extended protocol); nparams = 0 for simple queries. */
    int nparams;
    const uint8_t *const *param_values; /* NULL entry = SQL NULL */
    const int32_t *param_lens;
    const int16_t *param_formats;       /* per parameter: 0 text, 1 binary */
    sw_route_session session;
    uint64_t now_ms;
} sw_route_in;

typedef enum sw_route_status {
    SW_ROUTE_OK = 0,
    SW_ROUTE_ERROR = 1,       /* sqlstate/message say why */
    SW_ROUTE_LOOKUP = 2,      /* a directory key is not cached: see lookup_* */
} sw_route_status;

/* One place to run (part of) the statement. */
typedef struct sw_route_target {
    int node;
    char *sql;                /* owned; NULL = the statement text unchanged */
    int part;                 /* a part of a split INSERT ... RETURNING (see row_part), else -1 */
} sw_route_target;

/* Ways a statement is answered by shardwire itself. */
typedef enum sw_route_local {
    SW_LOCAL_NONE = 0,
    SW_LOCAL_SET_SHARD,       /* SET [LOCAL] shardwire.shard = 'x' (local_value; NULL = RESET) */
    SW_LOCAL_SET_KEY,         /* SET [LOCAL] shardwire.sharding_key = '...' */
    SW_LOCAL_SHOW_SETTING,    /* SHOW shardwire.shard / shardwire.sharding_key */
    SW_LOCAL_NEXT_ID,         /* SELECT shardwire_next_id('table', key): local_id */
} sw_route_local;

typedef struct sw_route_out {
    sw_route_status status;
    sw_stmt_kind kind;
    bool write;               /* changes data (INSERT/UPDATE/DELETE/COPY FROM/DDL) */
    bool multi;               /* the text holds more than one statement */
    bool set_local;           /* SET LOCAL (the override ends with the transaction) */
    bool copies;              /* a write of reference-table copies: every target runs the same
                               * statement on the same rows; one target's answer is the answer */
    uint8_t txn_op;           /* sw_txn_op */
    char txn_name[64];        /* its savepoint name or GID (NAMEDATALEN) */
    /* SW_ROUTE_OK: targets sorted by node; several may share a node when a
     * table-suffix statement runs once per physical table.  n_targets == 0
     * means "no preference": the proxy runs it on the client's current
     * server, or the database's default node (transaction control, SET,
     * SHOW, statements touching no table). */
    sw_route_target *targets;  /* inline_targets, or heap when there are more */
    int n_targets;
    sw_route_target inline_targets[2]; /* the common case allocates nothing */
    sw_nodeset nodes;         /* the targets' nodes */
    /* The statement calls shardwire_next_id(): every target's sql holds
     * the ids made for this execution (so it is never kept as a prepared
     * statement), and with no targets any_sql is the text to run instead
     * of the statement's. */
    bool fresh;
    char *any_sql;            /* owned */
    /* A multi-row INSERT ... RETURNING split over several targets: row i
     * of its VALUES went to the target whose part is row_part[i], so the
     * RETURNING rows can be given in the order of the VALUES, as one
     * server would. */
    int32_t *row_part;        /* owned, n_row_part entries; NULL otherwise */
    int n_row_part;
    sw_route_local local;
    char *local_value;        /* owned */
    int64_t local_id;
    /* SW_ROUTE_ERROR */
    char sqlstate[6];
    char message[256];
    /* SW_ROUTE_LOOKUP: ask function lookup_fn's directory for this key
     * (text form), store the answer with sw_shardfn_directory_store, route again. */
    int lookup_fn;
    char lookup_key[SW_VALUE_BUF];
    /* Always: a one-line explanation for SHOW ROUTE and debug logs, e.g.
     * "customer.customer_id = 42 -> hash bucket 317 -> shard2". */
    char reason[512];
} sw_route_out;

/* Free what out owns (targets' sql, local_value) and zero it. */
void sw_route_out_clear(sw_route_out *out);

/* Route a simple-protocol query string (one or more statements) through
 * the shape cache.  Returns out->status.  out is overwritten: clear an
 * earlier result first. */
sw_route_status sw_router_route(sw_router *r, const sw_route_in *in, const char *sql, size_t len,
                                sw_route_out *out);

/* Analyse an extended-protocol statement once (at Parse).  NULL with a
 * message in err when it does not parse.  The plan keeps what it needs of
 * sql and refers to r: it is valid until r is freed. */
sw_plan *sw_router_prepare(sw_router *r, const char *database, const char *sql, size_t len,
                           char *err, size_t errsz);
void sw_plan_free(sw_plan *p);
/* Route a prepared statement with its Bind values.  Returns out->status. */
sw_route_status sw_router_route_plan(sw_router *r, const sw_plan *p, const sw_route_in *in,
                                     sw_route_out *out);
sw_stmt_kind sw_plan_kind(const sw_plan *p);
/* Text to describe prepared statement p with on a server (a Describe of
 * the statement): its shardwire_next_id() calls written as an int8 that
 * still names their parameters, typed.  malloc'd; NULL when p has no such
 * calls (its own text describes it) or out of memory. */
char *sw_router_describe_text(sw_router *r, const sw_plan *p);

/* Shape cache statistics (hits, misses, entries) for SHOW and benchmarks. */
void sw_router_cache_stats(const sw_router *r, uint64_t *hits, uint64_t *misses, size_t *entries);
/* Bound the shape cache to n plans (default 4096; least recently used
 * go first; 0 turns caching off). */
void sw_router_set_cache_capacity(sw_router *r, size_t n);

/* Key column of schema.relname (schema NULL: unqualified) when it is a
 * sharded table of database, else NULL.  Owned by the router's config. */
const char *sw_router_key_of(const sw_router *r, const char *database, const char *schema, const char *relname);
/* The ID column of that sharded table when its values place rows as the
 * key does (an embedded function over the table's own function), else NULL. */
const char *sw_router_id_of(const sw_router *r, const char *database, const char *schema, const char *relname);

/* The declared table schema.relname of database (same matching), or NULL. */
const sw_conf_table *sw_router_table_conf(const sw_router *r, const char *database, const char *schema,
                                     const char *relname);

/* Index of the database's default node, or -1 when the database is unknown. */
int sw_route_default_node(const sw_conf *conf, const char *database);

#endif
