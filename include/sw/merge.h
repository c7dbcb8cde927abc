/*
 * merge.h - one answer from the answers of several shards.
 *
 * A SELECT that runs on several shards and needs more than concatenation
 * (ORDER BY, LIMIT/OFFSET, DISTINCT, DISTINCT ON, aggregates, GROUP BY,
 * HAVING) is planned once (sw_merge_plan, in src/route: pure libpg_query)
 * into a merge spec plus the text each shard runs; the proxy then feeds the
 * shards' replies to a merger (sw_merge_*, in src/exec: pure, no libuv)
 * that writes the client's answer.
 *
 * What each shard runs (the rewrite):
 *  - the client's select list, then hidden columns appended after it (sort
 *    keys missing from the list, GROUP BY expressions, DISTINCT ON
 *    expressions, and the partial aggregates below); the merger strips
 *    them, so the client sees its own columns only;
 *  - LIMIT l OFFSET o becomes LIMIT l + o (no OFFSET) when rows are merged
 *    in order, and is dropped when groups are merged;
 *  - aggregates, when groups span shards: count/sum/min/max/bool_and/
 *    bool_or stay as they are (their partials combine); avg(x) stays (its
 *    type is the answer's type) and gains hidden count(x), sum(x);
 *    variance/stddev(x) gain hidden count(x), sum(x::numeric),
 *    sum(x::numeric * x::numeric); HAVING is dropped from the shard text
 *    and evaluated by the merger; count(DISTINCT key) on the shard key sums.
 *  - when the grouping includes the shard key of the (co-located) tables,
 *    groups are whole on each shard: the statement runs as written (HAVING
 *    and all) and only ORDER BY/LIMIT/DISTINCT are merged.
 *
 * Column references in the spec: col is an index into the shard's result
 * columns.  With hidden = true, col counts from the first hidden column
 * (the client's column count is only known from the RowDescription when the
 * select list has a '*').
 */
#ifndef SW_MERGE_H
#define SW_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw/datum.h"

typedef struct sw_mref {
    int16_t col;
    bool hidden;
} sw_mref;

typedef struct sw_sortkey {
    sw_mref ref;
    bool desc;
    bool nulls_first;   /* as PostgreSQL defaults: NULLS FIRST for DESC, LAST for ASC */
} sw_sortkey;

/* How a column of a grouped merge is computed (one per result column,
 * visible and hidden, in order). */
typedef enum sw_mcol_kind {
    SW_MC_GROUP = 1,    /* part of the group key */
    SW_MC_ANY,          /* the same for every row of a group (an expression of the
                         * group key, a constant): the first value seen */
    SW_MC_AGG,          /* an aggregate: agg, with inputs arg[] (columns) */
    SW_MC_PART,         /* a hidden input of another column's aggregate: not computed */
} sw_mcol_kind;

typedef struct sw_mcol {
    uint8_t kind;       /* sw_mcol_kind */
    uint8_t agg;        /* sw_agg_kind when kind == SW_MC_AGG */
    sw_mref arg[3];     /* the aggregate's inputs, as sw_agg_kind lists them
                         * (COUNT/SUM/MIN/MAX/BOOL_*: arg[0] is the column itself) */
} sw_mcol;

/* HAVING, evaluated on merged groups: a tree in an array, root at 0. */
typedef enum sw_hx_op {
    SW_HX_AND = 1, SW_HX_OR, SW_HX_NOT,   /* a, b (NOT: a) */
    SW_HX_EQ, SW_HX_NE, SW_HX_LT, SW_HX_LE, SW_HX_GT, SW_HX_GE, /* a op b */
    SW_HX_ISNULL, SW_HX_NOTNULL,          /* a */
    SW_HX_COL,          /* ref */
    SW_HX_CONST,        /* text (NULL: SQL NULL) */
} sw_hx_op;

typedef struct sw_hx {
    uint8_t op;
    int16_t a, b;
    sw_mref ref;
    char *text;
} sw_hx;

/* A LIMIT or OFFSET value: absent, a constant, or a Bind parameter. */
typedef struct sw_mlimit {
    bool present;
    int param;          /* >= 0: Bind parameter index (0-based); -1: value */
    int64_t value;
} sw_mlimit;

typedef struct sw_merge_spec {
    int n_hidden;           /* hidden columns at the end of each shard row */
    /* grouped merge: rows are groups' partials, combined by key */
    bool grouped;
    int n_cols;             /* grouped: result columns (visible + hidden) */
    sw_mcol *cols;          /* grouped: n_cols entries */
    sw_hx *having;          /* grouped: NULL when there is no HAVING */
    int n_having;
    /* plain DISTINCT over the visible columns */
    bool distinct;
    /* DISTINCT ON: the first row of each run of equal keys (in sort order) */
    sw_mref *distinct_on;
    int n_distinct_on;
    /* ORDER BY of the answer */
    sw_sortkey *sort;
    int n_sort;
    /* true when each shard returns its rows in sort order (non-grouped, no
     * plain DISTINCT): a streaming k-way merge; otherwise the merger holds
     * the rows/groups and sorts them itself */
    bool sorted_streams;
    sw_mlimit limit, offset;
} sw_merge_spec;

void sw_merge_spec_free(sw_merge_spec *s);

/* Shard key of a sharded table, for the planner: the key column of
 * schema.relname (schema NULL when unqualified), or NULL when the table is
 * not sharded (reference, pinned, unlisted).  With id: the table's other
 * column whose values place its rows as the key does (a shard-aware ID), or
 * NULL. */
typedef const char *(*sw_merge_key_fn)(void *ctx, const char *schema, const char *relname, bool id);

/* Plan the merge of one SELECT (sql, NUL-terminated, len bytes) that runs
 * on several shards.  Returns:
 *   1  rows may simply be concatenated (nothing to merge): *spec and
 *      *shard_sql are left NULL;
 *   0  *spec (owned by the caller, sw_merge_spec_free) and *shard_sql (the
 *      text every shard runs, malloc'd);
 *  -1  the statement cannot be answered exactly across shards: sqlstate
 *      (6 bytes with NUL) and msg say why (0A000 naming the construct, e.g.
 *      "window functions are not supported across shards").
 * Pure: parses with libpg_query, rewrites the tree, deparses it. */
int sw_merge_plan(const char *sql, size_t len, sw_merge_key_fn key_of, void *ctx, sw_merge_spec **spec,
                  char **shard_sql, char sqlstate[6], char *msg, size_t msgsz);

/* Check a write (UPDATE, DELETE, INSERT ... SELECT/RETURNING) that runs
 * on several shards: 0 when every shard can do its part alone, -1 with
 * 0A000 and a message otherwise.  Each shard writes its own rows, so a
 * subquery or a join (UPDATE ... FROM, DELETE ... USING) reading a sharded
 * table must be co-located with the target row on the shard key, as in a
 * SELECT; an INSERT's SELECT must need no merge.  Statements that are not
 * writes, and text that does not parse, give 0. */
int sw_merge_check_write(const char *sql, size_t len, sw_merge_key_fn key_of, void *ctx, char sqlstate[6],
                         char *msg, size_t msgsz);

/* ------------------------------------------------------------------ merger */

typedef struct sw_merge sw_merge;
struct sw_wbuf;

typedef struct sw_merge_limits {
    uint64_t max_rows;      /* rows or groups held at once (0: no cap) */
    uint64_t max_bytes;     /* bytes held at once (0: no cap) */
} sw_merge_limits;

/* A merger for spec over n shards.  limit/offset are the resolved values
 * (-1: none).  spec must outlive the merger. */
sw_merge *sw_merge_new(const sw_merge_spec *spec, int n, int64_t limit, int64_t offset,
                       const sw_merge_limits *lim);
void sw_merge_free(sw_merge *m);

/* Shard i's RowDescription (message payload, after the 5-byte header).
 * 0, or -1 on error (sw_merge_failed). */
int sw_merge_describe(sw_merge *m, int i, const uint8_t *p, uint32_t len);
/* The RowDescription the client sees (hidden columns stripped), appended
 * to w as a whole message; 0 or -1 when no shard described yet. */
int sw_merge_put_description(sw_merge *m, struct sw_wbuf *w);
/* May shard i deliver its next row now?  (false while its previous row
 * waits for the other shards' in the k-way merge, or once the merger needs
 * no more rows: see sw_merge_satisfied.) */
bool sw_merge_wants(const sw_merge *m, int i);
/* A DataRow of shard i (payload), copied.  0, or -1 on error. */
int sw_merge_row(sw_merge *m, int i, const uint8_t *p, uint32_t len);
/* Shard i sent all its rows (its CommandComplete). */
void sw_merge_end(sw_merge *m, int i);
/* Append what can be answered now to w as DataRow messages, stopping once
 * w holds more than room bytes.  Returns 1 when every row has been written
 * (all shards ended, or the LIMIT is reached), 0 when more will come, -1 on
 * error (sw_merge_failed). */
int sw_merge_emit(sw_merge *m, struct sw_wbuf *w, size_t room);
/* The LIMIT is reached: no shard's further rows matter. */
bool sw_merge_satisfied(const sw_merge *m);
/* Rows written to the client so far (for "SELECT n"). */
uint64_t sw_merge_rows(const sw_merge *m);
/* Most bytes held at once so far. */
size_t sw_merge_peak_bytes(const sw_merge *m);
/* Non-NULL after an error: its message; sqlstate filled. */
const char *sw_merge_failed(const sw_merge *m, char sqlstate[6]);

#endif
