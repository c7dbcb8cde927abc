/*
 * route_int.h - the router's pieces, private to src/route: the scanned
 * statement text (items), plans and their parts, and the functions the
 * router's files share.
 *
 * Items are the statement's tokens as the shape cache sees them: one per
 * pg_query_scan token, except that a '-' directly followed by a numeric
 * constant is one item with it (so 5 and -5 have the same shape).  Two texts
 * of the same shape have the same items in the same order, so a plan refers
 * to constants, table names and row boundaries by item index and can be
 * evaluated against any text of its shape.
 */
#ifndef SW_ROUTE_INT_H
#define SW_ROUTE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "sw/map.h"
#include "sw/route.h"

/* ------------------------------------------------------------ items (tokens.c) */

enum {
    SW_ITEM_CONST = 1u << 0,   /* a constant: blanked in the shape */
    SW_ITEM_NEG = 1u << 1,     /* a '-' merged with the numeric constant after it */
    SW_ITEM_COMMENT = 1u << 2, /* a comment token */
};

typedef struct sw_item {
    uint32_t start, end; /* byte range in the text */
    int32_t tok;         /* PG_QUERY__TOKEN__*; for a NEG item the constant's */
    uint32_t flags;
} sw_item;

/* Items of one text.  The first SW_ITEMS_INLINE live in the struct, so a
 * short statement is scanned without a heap block of ours. */
#define SW_ITEMS_INLINE 256
typedef struct sw_items {
    sw_item *v;
    int n;
    int cap;
    bool uncacheable; /* a token whose byte range is unreliable (U&'...') */
    bool has_param;   /* a $n token */
    sw_item inline_v[SW_ITEMS_INLINE];
} sw_items;

/* Scan text (NUL-terminated, len bytes) into it and hash its shape with
 * seed.  Returns 0, or -1 when the scanner rejects the text. */
int sw_items_scan(const char *text, size_t len, sw_items *it, uint64_t seed, uint64_t *shape);
void sw_items_free(sw_items *it);
/* Item holding byte offset loc (exact start), or -1. */
int sw_items_at(const sw_item *v, int n, uint32_t loc);

/* ------------------------------------------------------------------- plans */

/* Where a value comes from. */
typedef enum sw_vref_kind {
    SW_VR_NONE = 0,  /* no value (open range end) */
    SW_VR_CONST,     /* constant item idx (neg: a separate '-' before it) */
    SW_VR_PARAM,     /* Bind parameter idx (0-based) */
    SW_VR_FIXED,     /* text at offset idx of the plan's strings (part of the shape) */
    SW_VR_NULL,      /* SQL NULL */
    SW_VR_ID,        /* the id shardwire makes for shardwire_next_id() call idx of the plan */
} sw_vref_kind;

typedef struct sw_vref {
    uint8_t kind;
    uint8_t neg;
    int32_t idx;
} sw_vref;

/* Constraint tree node over one table occurrence's key. */
typedef enum sw_cons_op {
    SW_C_ALL = 0, /* unbounded */
    SW_C_EQ,      /* key = a */
    SW_C_RANGE,   /* a (lo, NONE = open) .. b (hi, NONE = open) */
    SW_C_ANY,     /* key = ANY(a) with a an array constant or parameter */
    SW_C_AND,
    SW_C_OR,
} sw_cons_op;

typedef struct sw_cons {
    uint8_t op;
    bool lo_incl, hi_incl;
    bool symmetric;  /* BETWEEN SYMMETRIC: bounds in either order */
    sw_vref a, b;
    int32_t kid;     /* AND/OR: first child */
    int32_t next;    /* next sibling, -1 */
} sw_cons;

#define SW_OCC_UNLISTED (-1) /* a table the configuration does not name */
#define SW_OCC_CATALOG (-2)  /* pg_catalog, information_schema, pg_* */

/* One reference to a table in a statement. */
typedef struct sw_occ {
    int32_t table;       /* index into the database's tables, or SW_OCC_* */
    int32_t cons;        /* constraint root, -1 = unbounded */
    int32_t name_first;  /* items of the (schema.)name, -1 when unknown */
    int32_t name_last;
    int32_t refname;     /* plan string: the name columns use (alias or relname) */
    int32_t relname;     /* plan string: relname as written */
    int32_t schema;      /* plan string: schema as written, -1 */
    int32_t row0;        /* INSERT target: its rows (n_rows > 0) give the key */
    int32_t n_rows;
    bool ins_select;     /* INSERT ... SELECT target: bound by what the SELECT reads */
    bool has_alias;
    bool alias_ok;       /* a FROM item / DML target: "AS alias" may follow */
    bool write;          /* the table the statement changes */
    bool in_sublink;     /* read by a subquery expression (EXISTS, IN, scalar) */
} sw_occ;

/* One VALUES row of an INSERT into a sharded table. */
typedef struct sw_prow {
    sw_vref key;
    int32_t first, last; /* items of "( ... )" */
} sw_prow;

typedef struct sw_pstmt {
    sw_stmt_kind kind;
    bool write;
    bool explain;
    bool keyless_forbidden;  /* top-level ORDER BY/LIMIT/DISTINCT/GROUP BY/aggregate */
    bool cursor;             /* DECLARE CURSOR: its FETCHes go to one server */
    int32_t volatile_fn;     /* plan string: a volatile function the statement calls
                              * (clock_timestamp, random, nextval...), -1 */
    uint8_t txn_op;          /* sw_txn_op of a transaction statement */
    int32_t txn_name;        /* plan string: its savepoint name or GID, -1 */
    int32_t first, last;     /* items of the statement, last = last non-comment */
    int32_t occ0, n_occ;
    /* value-independent error found by the analysis */
    char sqlstate[6];
    int32_t err;             /* plan string, -1 */
    /* answered by shardwire */
    sw_route_local local;
    bool set_local;
    sw_vref local_val;       /* SET value / next_id table name */
    sw_vref local_key;       /* next_id key */
    int32_t local_name;      /* plan string: SHOW setting name */
    /* INSERT into a sharded table */
    int32_t ins_occ;         /* -1 */
    int32_t row0, n_rows;    /* VALUES rows (or one row of a FROM-less SELECT) */
    bool rows_split_ok;      /* row item ranges found: may be split */
    bool returning;          /* INSERT ... RETURNING */
    bool insert_select;      /* INSERT ... SELECT with a FROM */
    /* UPDATE assigning the key */
    int32_t upd_occ;         /* -1 */
    sw_vref new_key;
    bool new_key_bad;        /* the new key is not a constant or parameter */
    /* DDL that needs more than its tables renamed (ddl.c) */
    uint8_t ddl;             /* SW_DDL_* */
    bool ddl_concurrent;     /* DROP INDEX CONCURRENTLY: one index per statement */
    int32_t ddl_occ;         /* CREATE INDEX: occurrence of its table, -1 */
    int32_t ddl_item;        /* CREATE INDEX: item of the index name; DROP INDEX: item
                              * IF EXISTS goes after (-1: written, or no name) */
    int32_t ddl_first, ddl_last; /* DROP INDEX: items of the list of names */
    int32_t ddl_str;         /* CREATE INDEX: plan string, the index name (-1: none);
                              * DROP INDEX: the first of ddl_n consecutive strings,
                              * the names (without their schemas) */
    int32_t ddl_n;
    /* shardwire_next_id() calls inside the statement (idcall.c) */
    int32_t idc0, n_idc;     /* the plan's idcalls[idc0 .. idc0 + n_idc) */
} sw_pstmt;

/* A shardwire_next_id(table, key) call inside a statement: its id is
 * made when the plan is evaluated and written in the call's place. */
typedef struct sw_idcall {
    sw_vref table, key;
    int32_t first, last;     /* items of the call, its name to its ')' */
    uint32_t loc;            /* the call's byte offset (one entry per call) */
    bool named;              /* a select-list column of its own: keeps the name */
} sw_idcall;

enum {
    SW_DDL_NONE = 0,
    SW_DDL_LIST,       /* DROP TABLE/VIEW, TRUNCATE: every occurrence is one entry of the list */
    SW_DDL_INDEX,      /* CREATE INDEX */
    SW_DDL_DROP_INDEX, /* DROP INDEX */
};

struct sw_plan {
    sw_router *r;
    int db;                  /* index into conf->databases, -1 unknown */
    sw_pstmt *stmts;
    int n_stmts, cap_stmts;
    sw_occ *occs;
    int n_occs, cap_occs;
    sw_cons *cons;
    int n_cons, cap_cons;
    sw_prow *rows;
    int n_rows, cap_rows;
    sw_idcall *idcalls;      /* in statement order */
    int n_idcalls, cap_idcalls;
    char *strs;              /* NUL-terminated strings, referenced by offset */
    size_t n_strs, cap_strs;
    int n_items;             /* items of the text analysed (shape check) */
    bool oom;
    /* routing comments found in the text */
    int32_t hint_node;       /* comment "shard: NAME": node, -1 */
    int32_t hint_key;        /* comment "sharding_key: V": plan string, -1 */
    char hint_sqlstate[6];   /* a comment naming an unknown node */
    int32_t hint_err;
    /* prepared statements keep their text and items */
    char *text;
    size_t text_len;
    sw_item *items;
};

/* Plan building helpers (planbuf.c).  Indexes, or -1 on allocation failure
 * (p->oom is then set). */
int sw_plan_str(sw_plan *p, const char *s, size_t len);
int sw_plan_cons(sw_plan *p, const sw_cons *c);
int sw_plan_occ(sw_plan *p, const sw_occ *o);
int sw_plan_row(sw_plan *p, const sw_prow *row);
int sw_plan_idcall(sw_plan *p, const sw_idcall *c);
static inline const char *sw_plan_s(const sw_plan *p, int32_t off)
{
    return off >= 0 ? p->strs + off : NULL;
}

/* ------------------------------------------------------------ router (router.c) */

typedef struct sw_rdb {
    const sw_conf_database *conf;
    sw_map names;    /* hash(name) -> first table index + 1 (as a pointer-sized int) */
    int *chain;      /* [n_tables]: next table index with the same name hash, -1 */
} sw_rdb;

typedef struct sw_shape sw_shape;

struct sw_router {
    const sw_conf *conf;
    sw_shardfn **fns;
    int n_fns;
    sw_rdb *dbs;
    int n_dbs;
    uint32_t id_seq;
    /* shape cache (shape.c) */
    sw_map shapes;
    sw_shape *lru_head, *lru_tail; /* most recently used first */
    size_t n_shapes, max_shapes;
    uint64_t hits, misses;
};

/* Table index in database db for a reference (schema may be NULL), or
 * SW_OCC_UNLISTED / SW_OCC_CATALOG. */
int sw_router_table(const sw_router *r, int db, const char *schema, const char *name);
int sw_router_db(const sw_router *r, const char *database);
void sw_router_cache_init(sw_router *r);
void sw_router_cache_free(sw_router *r);

/* ---------------------------------------------------------- analysis (analyze.c) */

/* Build the plan of text (NUL-terminated) whose items are it.  Returns NULL
 * with sqlstate/message when it does not parse (or memory runs out). */
sw_plan *sw_plan_build(sw_router *r, int db, const char *text, size_t len, const sw_items *it,
                       char sqlstate[6], char *msg, size_t msgsz);
void sw_plan_destroy(sw_plan *p);

/* Analysis context (analyze.c, walk.c, dml.c, quals.c, local.c). */
typedef struct sw_scope sw_scope;
typedef struct sw_actx {
    sw_plan *p;
    sw_router *r;
    const char *text;
    const sw_item *items;
    int n_items;
    sw_pstmt *st;     /* statement being analysed */
    int sublink_depth; /* inside a subquery expression (EXISTS, IN, scalar) */
    int per_row;       /* inside an expression evaluated once per row read */
} sw_actx;

struct sw_scope {
    sw_scope *parent;
    int occ0, occ_end;             /* occurrences of this query level */
    PgQuery__WithClause *with;     /* CTE names visible from here */
};

static inline const char *sw_node_str(const PgQuery__Node *n)
{
    return n && n->node_case == PG_QUERY__NODE__NODE_STRING ? n->string->sval : NULL;
}

/* Tree walking (walk.c, dml.c).  Flags of a walk: */
enum {
    SW_WF_WRITE = 1u << 0,    /* a bare table reached here is what the statement changes */
    SW_WF_ALIAS_OK = 1u << 1, /* a FROM item or DML target: "AS alias" may follow */
};
/* Record a value-independent error on the statement (the first one wins). */
void sw_st_error(sw_actx *a, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The message a Node holds (its active oneof member), or NULL. */
const ProtobufCMessage *sw_node_msg(const PgQuery__Node *n);
typedef int (*sw_node_child_fn)(void *ctx, const ProtobufCMessage *m);
/* Call fn on every message-typed child of m (the active member of a
 * oneof only); stops at the first nonzero return and passes it back. */
int sw_node_each_child(const ProtobufCMessage *m, sw_node_child_fn fn, void *ctx);
/* Record a table reference of scope sc: occurrence index, or -1 (a CTE
 * name, or out of memory). */
int sw_add_occ(sw_actx *a, const PgQuery__RangeVar *rv, const sw_scope *sc, unsigned flags);
/* The configured sharded table of occurrence o, or NULL. */
const sw_conf_table *sw_occ_sharded(const sw_actx *a, int o);
/* Walk anything for tables and subqueries. */
void sw_walk_node(sw_actx *a, const PgQuery__Node *n, sw_scope *sc, unsigned flags);
void sw_walk_list(sw_actx *a, PgQuery__Node *const *v, size_t n, sw_scope *sc);
void sw_walk_ctes(sw_actx *a, const PgQuery__WithClause *w, sw_scope *sc);
/* A query level's FROM item: its tables (sw_walk_from, first, so a
 * level's occurrences are contiguous), then its subqueries and functions. */
void sw_walk_from(sw_actx *a, const PgQuery__Node *n, sw_scope *sc, unsigned flags);
void sw_walk_from_rest(sw_actx *a, const PgQuery__Node *n, sw_scope *sc);
/* Constraints of the level's sharded tables from WHERE and inner JOIN ON. */
void sw_walk_quals(sw_actx *a, sw_scope *sc, const PgQuery__Node *where, PgQuery__Node *const *from,
                   size_t n_from);
/* Statements; top = the text's own statement (not in WITH or a subquery). */
void sw_walk_select(sw_actx *a, const PgQuery__SelectStmt *s, sw_scope *parent, bool top);
void sw_walk_insert(sw_actx *a, const PgQuery__InsertStmt *ins, sw_scope *parent, bool top);
void sw_walk_update(sw_actx *a, const PgQuery__UpdateStmt *up, sw_scope *parent, bool top);
void sw_walk_delete(sw_actx *a, const PgQuery__DeleteStmt *del, sw_scope *parent);

/* Constraint of qual on occurrence o (quals.c): index, or -1 = unbounded. */
int sw_quals_cons(sw_actx *a, const sw_scope *sc, int o, const PgQuery__Node *qual);
/* AND of two constraint roots (-1 = unbounded). */
int sw_cons_and(sw_actx *a, int x, int y);
/* A constant or parameter, casts looked through: true with *v set. */
bool sw_quals_value(sw_actx *a, const PgQuery__Node *n, sw_vref *v);
/* Whether column reference cr names occurrence o's key in scope sc. */
bool sw_quals_is_key(sw_actx *a, const sw_scope *sc, int o, const PgQuery__ColumnRef *cr);

/* ------------------------------------------------------- literals (literal.c) */

typedef enum sw_lit_status {
    SW_LIT_OK = 0,
    SW_LIT_NULL = 1,     /* SQL NULL */
    SW_LIT_UNKNOWN = 2,  /* cannot be read here (no Bind value, undecodable) */
    SW_LIT_INVALID = -1, /* not a value of the key type: raw holds its text */
} sw_lit_status;

/* Scratch space for reading one value. */
typedef struct sw_litbuf {
    char raw[SW_VALUE_BUF];    /* the value as written, for messages */
    char canon[SW_VALUE_BUF];  /* sw_value's buffer */
    char tmp[1024];            /* decoded literal */
    char *heap;                /* longer decoded literal */
} sw_litbuf;

void sw_litbuf_release(sw_litbuf *b);

/* Evaluation context (eval.c, plan.c, targets.c, rewrite.c, multi.c, local.c). */
typedef struct sw_eval {
    sw_router *r;
    const sw_plan *p;
    const sw_route_in *in;
    const char *text;
    const sw_item *items;
    int n_items;
    const sw_conf_database *db;
    sw_route_out *out;
    size_t reason_len;
    const struct sw_madeid *ids; /* the ids of the plan's shardwire_next_id() calls */
} sw_eval;

/* The id made for one shardwire_next_id() call, and its key's type. */
typedef struct sw_madeid {
    int64_t id;
    sw_key_type key_type;
} sw_madeid;

/* Read v as type t into *out (buffers in b).  Returns a sw_lit_status. */
sw_lit_status sw_lit_read(const sw_eval *e, sw_vref v, sw_key_type t, sw_value *out, sw_litbuf *b);
/* Text of v (decoded literal or text Bind value) into buf; SW_LIT_*. */
sw_lit_status sw_lit_text(const sw_eval *e, sw_vref v, char *buf, size_t bufsz);
/* Read v as an array of type t; calls fn for each element (v NULL when
 * is_null).  Returns SW_LIT_OK, SW_LIT_UNKNOWN, SW_LIT_INVALID (raw text in
 * b->raw), or SW_LIT_STOP when fn returned it to stop the walk. */
#define SW_LIT_STOP 100
typedef int (*sw_lit_elem_fn)(void *ctx, const sw_value *v, bool is_null, const char *raw);
int sw_lit_array(const sw_eval *e, sw_vref v, sw_key_type t, sw_litbuf *b, sw_lit_elem_fn fn,
                 void *ctx);
/* Decode a string constant's token text ('..', E'..', $$..$$, adjacent
 * literals); returns decoded length or -1 when it cannot. */
long sw_lit_decode_string(const char *s, size_t n, char *out, size_t outsz);

/* ------------------------------------------------------- evaluation (eval.c) */

/* Targets of occurrence o's table function that may hold matching rows:
 * *mask (target bits), *bound (false = every target).  Returns 0, or the
 * route status (error or lookup, out filled). */
int sw_eval_occ(sw_eval *e, int o, const char *override_key, uint64_t *mask, bool *bound);
/* Target of one key value for occurrence o (INSERT rows, UPDATE new key):
 * >= 0, or -1 with out filled (error/lookup). */
int sw_eval_key(sw_eval *e, int o, sw_vref v, const char *override_key);

/* Errors and reasons. */
int sw_eval_error(sw_eval *e, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sw_eval_reason(sw_eval *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Helpers over the configuration. */
const sw_conf_table *sw_eval_table(const sw_eval *e, int o);
const sw_shardfn *sw_eval_fn(const sw_eval *e, int o);
const char *sw_node_name(const sw_router *r, int node);

/* --------------------------------------------------------- rewriting (rewrite.c) */

typedef struct sw_sbuf {
    char *s;
    size_t len, cap;
    bool oom;
} sw_sbuf;

void sw_sbuf_add(sw_sbuf *b, const char *s, size_t n);
void sw_sbuf_str(sw_sbuf *b, const char *s);
/* Append an identifier, double-quoted when PostgreSQL would fold or reject it. */
void sw_sbuf_ident(sw_sbuf *b, const char *s);

/* How one occurrence is written in a target's text. */
typedef struct sw_rename {
    int occ;
    uint64_t mask; /* physical tables (targets of the table-suffix function) */
} sw_rename;

/* Text of statement si for one target: suffix occurrences renamed as
 * given, and (rows != NULL) only the INSERT rows whose flag is set.
 * Returns a malloc'd string or NULL (out of memory). */
char *sw_rewrite(sw_eval *e, int si, const sw_rename *ren, int n_ren, const bool *rows);

/* --------------------------------------------------------------- local.c */

/* Routing comments of the text into the plan (hint_*). */
void sw_local_comments(sw_plan *p, sw_router *r, const char *text, const sw_item *items, int n);
/* Analyse SET/RESET/SHOW of shardwire.* and shardwire_next_id(): true when
 * node is one of them (st filled). */
bool sw_local_analyze(sw_actx *a, const PgQuery__Node *node);
/* Answer a local statement into out.  Returns the status. */
int sw_local_eval(sw_eval *e, const sw_pstmt *st);
/* The table named tname ("schema.table" or "table") when it has an id
 * column with an embedded function, with the type of that function's
 * key in *key_type; else NULL. */
const sw_conf_table *sw_local_id_table(const sw_eval *e, const char *tname, sw_key_type *key_type);
/* Make the id of shardwire_next_id(table, key) into *id.  Status. */
int sw_local_make_id(sw_eval *e, sw_vref table, sw_vref key, int64_t *id, sw_key_type *key_type);
/* "shard1, shard2, shard3" into buf. */
void sw_local_node_list(const sw_router *r, char *buf, size_t bufsz);

/* -------------------------------------------------------------- idcall.c */

/* Whether f calls shardwire_next_id. */
bool sw_idcall_is(const PgQuery__FuncCall *f);
/* Record call f of the statement being analysed (once per call; named: a
 * select-list column of its own).  Its index, or -1 with the statement's
 * error set when it cannot be used there. */
int sw_idcall_add(sw_actx *a, const PgQuery__FuncCall *f, bool named);
/* Make the ids of every call of the plan into ids[n_idcalls] (e->ids is
 * set to it).  Status. */
int sw_idcall_make_all(sw_eval *e, sw_madeid *ids);
/* Append text[from, to) of statement st, its calls replaced by their ids. */
void sw_idcall_copy(const sw_eval *e, const sw_pstmt *st, sw_sbuf *b, uint32_t from, uint32_t to);
/* A statement with calls: every target (or, with none, out->any_sql)
 * gets the text with the ids, and out->fresh is set.  Status. */
int sw_idcall_targets(sw_eval *e, int si);

/* --------------------------------- statements (plan.c, targets.c, multi.c) */

static inline int sw_popcount(uint64_t x)
{
    return __builtin_popcountll(x);
}

/* Lowest node of s, or -1. */
static inline int sw_lowest(uint64_t s)
{
    return s ? __builtin_ctzll(s) : -1;
}

#define SW_INLINE_OCCS 32

/* One table occurrence, evaluated. */
typedef struct sw_occr {
    uint64_t mask; /* targets of its table's function that may hold its rows */
    bool bound;
    bool used;     /* a sharded occurrence that was evaluated */
} sw_occr;

/* A statement's evaluated occurrences and INSERT rows. */
typedef struct sw_stmt_eval {
    sw_occr occ_buf[SW_INLINE_OCCS];
    sw_occr *res;  /* [n_occ], indexed from the statement's occ0 */
    int row_buf[64];
    int *row_t;    /* target of each INSERT row */
} sw_stmt_eval;

/* Append a target (sql owned, freed on failure).  0, or -1. */
int sw_out_add_target(sw_route_out *out, int *cap, int node, char *sql);
/* Order targets by node, keeping the order within a node. */
void sw_out_sort_targets(sw_route_out *out);
/* Out of memory error; returns SW_ROUTE_ERROR. */
int sw_eval_oom(sw_eval *e);
/* Nodes of a target mask of occurrence o's function. */
sw_nodeset sw_eval_mask_nodes(const sw_eval *e, int o, uint64_t mask);
/* Targets of statement si whose tables resolved to node set s: INSERT
 * parts, table-suffix rewrites, or one unchanged target per node. */
int sw_make_targets(sw_eval *e, int si, const sw_stmt_eval *se, sw_nodeset s);
/* Node of target t of table tb's function: a physical table of a
 * table-suffix function is on its own node or else on the table's. */
int sw_table_target_node(const sw_router *r, const sw_conf_table *tb, int t);
/* Route statement si into e->out.  Returns the status. */
int sw_eval_stmt(sw_eval *e, int si);
/* Evaluate plan p against text/items into out (the common end of
 * sw_router_route and sw_router_route_plan). */
sw_route_status sw_plan_eval(sw_router *r, const sw_plan *p, const sw_route_in *in,
                             const char *text, const sw_item *items, int n_items,
                             sw_route_out *out);

/* -------------------------------------------------------------------- ddl.c */

/* Analyse DDL statement n: its tables (the one it changes written, the
 * ones it only names read) and what the DDL targets need later. */
void sw_ddl_analyze(sw_actx *a, const PgQuery__Node *n);
/* DROP INDEX: every node of the database, IF EXISTS forced, with the
 * names the indexes of the node's table-suffix tables got.  Status. */
int sw_ddl_drop_index(sw_eval *e, int si);
/* DROP/TRUNCATE of several tables: each node gets the list of the
 * (physical) tables it holds.  Status. */
int sw_ddl_list(sw_eval *e, int si, const char *key);
/* What cannot be split over a table-suffix table's physical tables: 0, or
 * the error status. */
int sw_ddl_suffix_check(sw_eval *e, int si, const sw_rename *ren, int n_ren);
/* CREATE INDEX: the index name for physical table t of the indexed
 * table, name plus the table's suffix, as an identifier. */
void sw_ddl_index_name(const sw_eval *e, const sw_pstmt *st, int t, sw_sbuf *b);

#endif
