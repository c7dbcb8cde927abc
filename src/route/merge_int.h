/*
 * merge_int.h - the merge planner's pieces, private to src/route/merge_*.c:
 * the planning context (the parsed statement being rewritten and the spec
 * being filled), the FROM tables of a query level with their shard keys,
 * and the parse-tree helpers the planner's files share.
 *
 * The tree is libpg_query's protobuf tree as protobuf-c unpacked it (every
 * message, array and string its own malloc block), so the planner edits it
 * in place with malloc'd nodes and frees what it removes; one
 * pg_query__parse_result__free_unpacked releases everything at the end.
 */
#ifndef SW_MERGE_INT_H
#define SW_MERGE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "route_int.h"
#include "sw/merge.h"

#define SW_MP_MAX_TABS 64
#define SW_MP_MAX_CTES 32
#define SW_MP_MAX_EXACT 64
/* PostgreSQL's limit on a target list (MaxTupleAttributeNumber). */
#define SW_MP_MAX_COLS 1664

/* One table of a query level's FROM (RangeVar, inside joins too). */
typedef struct sw_mp_tab {
    const char *schema;  /* NULL when unqualified */
    const char *relname;
    const char *refname; /* the name columns use: alias, or relname */
    bool has_alias;
    const char *key;     /* shard key column, NULL when not sharded (or a CTE) */
    bool nullable;       /* on the nullable side of an outer join */
} sw_mp_tab;

typedef struct sw_mp_tabs {
    sw_mp_tab v[SW_MP_MAX_TABS];
    int n;
} sw_mp_tabs;

/* A query level's WITH clause, to tell a CTE reference from a table. */
typedef struct sw_mp_scope {
    struct sw_mp_scope *parent;
    const PgQuery__WithClause *with;
    /* per CTE: 0 not looked at, 1 being looked at, 2 reads no sharded
     * table, 3 reads one */
    uint8_t cte[SW_MP_MAX_CTES];
} sw_mp_scope;

typedef struct sw_mp {
    sw_merge_key_fn key_of;
    void *ctx;
    PgQuery__SelectStmt *s; /* the top-level SELECT, rewritten in place */
    sw_mp_scope scope;      /* its WITH clause */
    sw_mp_tabs tabs;        /* its FROM tables */
    int n_vis;              /* target-list entries as written */
    int first_star;         /* index of the first target with a '*', or -1 */
    int n_hidden;           /* targets appended (__sw_h1, ...) */
    sw_merge_spec *sp;      /* the spec being filled */
    /* nested queries the co-location check found bound to the outer row's
     * shard (correlated on the shard key): exact per shard whatever they
     * compute */
    const PgQuery__SelectStmt *exact[SW_MP_MAX_EXACT];
    int n_exact;
    char coloc_msg[256];    /* the co-location check's refusal, or "" */
    int cap_cols, cap_having, cap_sort, cap_don;
    char *sqlstate;
    char *msg;
    size_t msgsz;
    bool failed;
} sw_mp;

/* ------------------------------------------------------------ merge_plan.c */

/* Record an error (the first one wins).  Always returns -1. */
int sw_mp_fail(sw_mp *m, const char *sqlstate, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Record out of memory.  Always returns -1. */
int sw_mp_oom(sw_mp *m);
/* Grow an array of the spec to hold n + 1 elements of size sz.  0 or -1. */
int sw_mp_grow(sw_mp *m, void **arr, int *cap, int n, size_t sz);
/* A LIMIT or OFFSET node as a spec value (absent for none, NULL, ALL).
 * 0, or -1 for anything but a constant or a parameter. */
int sw_mp_limit(sw_mp *m, const PgQuery__Node *n, bool offset, sw_mlimit *out);
/* Direction and NULLS placement of an ORDER BY item, as PostgreSQL
 * defaults them.  0, or -1 for USING. */
int sw_mp_sortby(sw_mp *m, const PgQuery__SortBy *sb, bool *desc, bool *nulls_first);
/* Append an ORDER BY key to the spec.  0 or -1. */
int sw_mp_add_sort(sw_mp *m, sw_mref ref, bool desc, bool nulls_first);
/* Plan m->s (m->sp allocated, zeroed): 1, 0 or -1 as sw_merge_plan; the
 * tree is rewritten in place when it returns 0. */
int sw_mp_plan_select(sw_mp *m);
/* Free a node of the tree and clear its slot. */
void sw_mp_drop(PgQuery__Node **slot);
/* Free a list of nodes of the tree and empty it. */
void sw_mp_drop_list(PgQuery__Node ***v, size_t *n);

/* ------------------------------------------------------------ merge_tree.c */

static inline const char *sw_mp_str(const PgQuery__Node *n)
{
    return n && n->node_case == PG_QUERY__NODE__NODE_STRING ? n->string->sval : NULL;
}

/* The generic tree walk (sw_node_msg, sw_node_each_child) is the router's
 * (route_int.h). */
/* Structural equality of two subtrees, ignoring every "location" field. */
bool sw_mp_equal(const PgQuery__Node *a, const PgQuery__Node *b);
/* Deep copy of a node (NULL and out of memory recorded when it fails). */
PgQuery__Node *sw_mp_copy(sw_mp *m, const PgQuery__Node *n);

/* Node builders: each takes ownership of the nodes it is given (freeing
 * them when it fails) and returns NULL, out of memory recorded, on failure. */
PgQuery__Node *sw_mp_wrap(sw_mp *m, PgQuery__Node__NodeCase c, void *msg);
PgQuery__Node *sw_mp_string(sw_mp *m, const char *s);
PgQuery__Node *sw_mp_int(sw_mp *m, int64_t v);
PgQuery__Node *sw_mp_param(sw_mp *m, int number);
/* Append x to a node list (x freed when it fails).  0 or -1. */
int sw_mp_push(sw_mp *m, PgQuery__Node ***v, size_t *n, PgQuery__Node *x);
/* arg::pg_catalog.type */
PgQuery__Node *sw_mp_cast(sw_mp *m, PgQuery__Node *arg, const char *type);
/* l op r */
PgQuery__Node *sw_mp_binop(sw_mp *m, const char *op, PgQuery__Node *l, PgQuery__Node *r);
/* Append "val AS __sw_hN" to the top-level target list: its target index,
 * or -1. */
int sw_mp_add_hidden(sw_mp *m, PgQuery__Node *val);
/* The expression of target i of the top-level SELECT. */
const PgQuery__Node *sw_mp_target(const sw_mp *m, int i);
/* The column name PostgreSQL gives target rt (its alias, or the name
 * figured from a column, function or cast), or NULL. */
const char *sw_mp_target_name(const PgQuery__ResTarget *rt);

/* Aggregates.  The last name of a call. */
const char *sw_mp_func_name(const PgQuery__FuncCall *f);
/* The sw_agg_kind of a mergeable aggregate call, 0 for anything else. */
int sw_mp_agg_kind(const PgQuery__FuncCall *f);
/* An aggregate call (mergeable or not; a window call is not one). */
bool sw_mp_is_agg(const PgQuery__FuncCall *f);
/* The first aggregate call in n, not looking into subqueries, or NULL. */
const PgQuery__FuncCall *sw_mp_find_agg(const PgQuery__Node *n);
/* An aggregate call in any node of a list. */
bool sw_mp_list_has_agg(PgQuery__Node *const *v, size_t n);
/* A subquery or a Bind parameter in n. */
bool sw_mp_has_sublink_or_param(const PgQuery__Node *n);
/* A column reference named name (its last field) in n, not looking into
 * subqueries. */
bool sw_mp_uses_column(const PgQuery__Node *n, const char *name);

/* ------------------------------------------------------------ merge_check.c */

/* The FROM tables of a query level, whose WITH is sc. */
void sw_mp_tabs_collect(sw_mp *m, PgQuery__Node *const *from, size_t n, sw_mp_scope *sc, sw_mp_tabs *t);
/* Is n a ColumnRef naming the shard key of a table of t?  Tables on the
 * nullable side of an outer join count only with nullable_ok. */
bool sw_mp_is_key(const sw_mp_tabs *t, const PgQuery__Node *n, bool nullable_ok);
/* Does every group of q (grouped) hold rows of one shard only? */
bool sw_mp_groups_per_shard(const PgQuery__SelectStmt *q, const sw_mp_tabs *t);
/* Window calls of q's own level: 0 none, 1 all partitioned by a shard key,
 * 2 some not. */
int sw_mp_windows(const PgQuery__SelectStmt *q, const sw_mp_tabs *t);
/* The nested queries of the top-level SELECT (CTEs, FROM subqueries,
 * sublinks) compute on each shard what one server would.  0 or -1. */
int sw_mp_check_nested(sw_mp *m);
/* Does q (whose enclosing WITH is sc) read a sharded table anywhere? */
bool sw_mp_reads_sharded(sw_mp *m, const PgQuery__SelectStmt *q, sw_mp_scope *sc);
/* A top-level UNION ALL/INTERSECT/EXCEPT: 1 (concatenate) or -1. */
int sw_mp_check_setop(sw_mp *m, const PgQuery__SelectStmt *s);

/* ------------------------------------------------------------ merge_group.c */

/* Plan a grouped merge of the top-level SELECT.  0 or -1. */
int sw_mp_plan_grouped(sw_mp *m, bool plain_distinct);
/* The column of a grouped query an ORDER BY or HAVING operand refers to,
 * appending hidden columns when needed (by_name: ORDER BY rules for
 * positions and output names).  Column index, or -1. */
int sw_mp_group_col(sw_mp *m, const PgQuery__Node *n, bool by_name, const char *what);

/* ------------------------------------------------------------ merge_having.c */

/* Translate the top-level HAVING into the spec.  0 or -1. */
int sw_mp_having(sw_mp *m, const PgQuery__Node *h);

/* ------------------------------------------------------------ merge_coloc.c */

/* Check that every join of sharded tables in s (the statement or a UNION
 * ALL branch) and every subquery over one is bound to a single shard
 * (co-located on the shard key).  Records nested queries found exact in
 * m->exact; a refusal goes to m->coloc_msg (reported after the nested
 * checks, whose messages are more specific).  0, or -1 (that refusal, or
 * out of memory recorded). */
int sw_mp_check_coloc(sw_mp *m, const PgQuery__SelectStmt *s);
/* Did the co-location check find q exact on each shard? */
bool sw_mp_is_exact(const sw_mp *m, const PgQuery__SelectStmt *q);

#endif
