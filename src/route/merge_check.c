/*
 * merge_check.c - what may run unchanged on every shard.  A query level's
 * FROM tables and which column references are shard keys; when its groups
 * (or DISTINCT rows, or window partitions) live on one shard each; and the
 * nested queries of a statement (CTEs, FROM subqueries, sublinks, UNION ALL
 * branches), which compute per shard what one server would only when they
 * group by the shard key or read no sharded table at all.  Anything else
 * is refused (0A000) rather than answered wrongly.
 */
#include <stdlib.h>
#include <string.h>

#include "merge_int.h"

static const char *nz(const char *s)
{
    return s && *s ? s : NULL;
}

/* ------------------------------------------------------------ CTEs */

static bool node_reads_sharded(sw_mp *m, const ProtobufCMessage *n, sw_mp_scope *sc);

/* The scope whose WITH defines name, its index in *i; NULL for a table. */
static sw_mp_scope *cte_find(sw_mp_scope *sc, const char *name, int *i)
{
    for (; sc; sc = sc->parent) {
        if (!sc->with) continue;
        for (size_t k = 0; k < sc->with->n_ctes; k++) {
            const PgQuery__Node *c = sc->with->ctes[k];
            if (c->node_case == PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR && c->common_table_expr->ctename &&
                strcmp(c->common_table_expr->ctename, name) == 0) {
                *i = (int)k;
                return sc;
            }
        }
    }
    return NULL;
}

static bool cte_reads_sharded(sw_mp *m, sw_mp_scope *sc, int i)
{
    if (i >= SW_MP_MAX_CTES) return true; /* not tracked: assume the worst */
    switch (sc->cte[i]) {
    case 1: return false; /* a recursive CTE's self-reference: its base decides */
    case 2: return false;
    case 3: return true;
    }
    sc->cte[i] = 1;
    const PgQuery__Node *q = sc->with->ctes[i]->common_table_expr->ctequery;
    bool r = q && node_reads_sharded(m, &q->base, sc);
    sc->cte[i] = r ? 3 : 2;
    return r;
}

/* A CTE reference (unqualified, defined in scope), or a table. */
static bool is_cte_ref(const PgQuery__RangeVar *rv, sw_mp_scope *sc, sw_mp_scope **def, int *i)
{
    if (nz(rv->schemaname) || !rv->relname) return false;
    sw_mp_scope *d = cte_find(sc, rv->relname, i);
    if (def) *def = d;
    return d != NULL;
}

static bool rv_sharded(sw_mp *m, const PgQuery__RangeVar *rv, sw_mp_scope *sc)
{
    sw_mp_scope *def;
    int i;
    if (is_cte_ref(rv, sc, &def, &i)) return cte_reads_sharded(m, def, i);
    return rv->relname && m->key_of(m->ctx, nz(rv->schemaname), rv->relname, false) != NULL;
}

typedef struct rs_ctx {
    sw_mp *m;
    sw_mp_scope *sc;
} rs_ctx;

static bool select_reads_sharded(sw_mp *m, const PgQuery__SelectStmt *q, sw_mp_scope *parent);

static int rs_child(void *ctx, const ProtobufCMessage *c)
{
    rs_ctx *r = ctx;
    if (c->descriptor == &pg_query__select_stmt__descriptor)
        return select_reads_sharded(r->m, (const PgQuery__SelectStmt *)c, r->sc);
    if (c->descriptor == &pg_query__range_var__descriptor)
        return rv_sharded(r->m, (const PgQuery__RangeVar *)c, r->sc);
    return sw_node_each_child(c, rs_child, ctx);
}

static bool node_reads_sharded(sw_mp *m, const ProtobufCMessage *n, sw_mp_scope *sc)
{
    rs_ctx r = {m, sc};
    return rs_child(&r, n) != 0;
}

/* Does q read a sharded table anywhere (its subqueries and CTEs too)? */
static bool select_reads_sharded(sw_mp *m, const PgQuery__SelectStmt *q, sw_mp_scope *parent)
{
    sw_mp_scope sc = {parent, q->with_clause, {0}};
    rs_ctx r = {m, &sc};
    return sw_node_each_child(&q->base, rs_child, &r) != 0;
}

bool sw_mp_reads_sharded(sw_mp *m, const PgQuery__SelectStmt *q, sw_mp_scope *sc)
{
    return select_reads_sharded(m, q, sc);
}

/* ------------------------------------------------------------ tables, keys */

static void collect(sw_mp *m, const PgQuery__Node *n, sw_mp_scope *sc, bool nullable, sw_mp_tabs *t)
{
    if (!n) return;
    if (n->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) {
        const PgQuery__RangeVar *rv = n->range_var;
        if (t->n >= SW_MP_MAX_TABS || !rv->relname) return;
        sw_mp_tab *e = &t->v[t->n++];
        int i;
        e->schema = nz(rv->schemaname);
        e->relname = rv->relname;
        e->has_alias = rv->alias && nz(rv->alias->aliasname);
        e->refname = e->has_alias ? rv->alias->aliasname : rv->relname;
        /* a CTE named like a sharded table is not that table */
        e->key = is_cte_ref(rv, sc, NULL, &i) ? NULL : m->key_of(m->ctx, e->schema, rv->relname, false);
        e->nullable = nullable;
    } else if (n->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR) {
        const PgQuery__JoinExpr *j = n->join_expr;
        bool l = nullable, r = nullable;
        switch (j->jointype) {
        case PG_QUERY__JOIN_TYPE__JOIN_INNER: break;
        case PG_QUERY__JOIN_TYPE__JOIN_LEFT: r = true; break;
        case PG_QUERY__JOIN_TYPE__JOIN_RIGHT: l = true; break;
        default: l = r = true; break;
        }
        collect(m, j->larg, sc, l, t);
        collect(m, j->rarg, sc, r, t);
    }
}

void sw_mp_tabs_collect(sw_mp *m, PgQuery__Node *const *from, size_t n, sw_mp_scope *sc, sw_mp_tabs *t)
{
    t->n = 0;
    for (size_t i = 0; i < n; i++) collect(m, from[i], sc, false, t);
}

bool sw_mp_is_key(const sw_mp_tabs *t, const PgQuery__Node *n, bool nullable_ok)
{
    if (!t || !n || n->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return false;
    const PgQuery__ColumnRef *c = n->column_ref;
    const char *f[3] = {NULL, NULL, NULL};
    if (c->n_fields < 1 || c->n_fields > 3) return false;
    for (size_t i = 0; i < c->n_fields; i++)
        if (!(f[i] = sw_mp_str(c->fields[i]))) return false; /* a '*' */
    const char *col = f[c->n_fields - 1];
    for (int i = 0; i < t->n; i++) {
        const sw_mp_tab *e = &t->v[i];
        if (!e->key || strcmp(e->key, col) != 0 || (e->nullable && !nullable_ok)) continue;
        if (c->n_fields == 1) return true;
        if (c->n_fields == 2 && strcmp(e->refname, f[0]) == 0) return true;
        if (c->n_fields == 3 && !e->has_alias && e->schema && strcmp(e->schema, f[0]) == 0 &&
            strcmp(e->relname, f[1]) == 0)
            return true;
    }
    return false;
}

static const PgQuery__Node *res_val(const PgQuery__Node *t)
{
    return t && t->node_case == PG_QUERY__NODE__NODE_RES_TARGET ? t->res_target->val : NULL;
}

/* The target an integer constant (a position) names, or NULL. */
static const PgQuery__Node *by_position(const PgQuery__SelectStmt *q, const PgQuery__Node *n)
{
    if (!n || n->node_case != PG_QUERY__NODE__NODE_A_CONST || n->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL)
        return NULL;
    int k = n->a_const->ival->ival;
    return k >= 1 && (size_t)k <= q->n_target_list ? res_val(q->target_list[k - 1]) : NULL;
}

bool sw_mp_groups_per_shard(const PgQuery__SelectStmt *q, const sw_mp_tabs *t)
{
    if (!q->n_group_clause) return false;
    for (size_t i = 0; i < q->n_group_clause; i++) {
        const PgQuery__Node *g = q->group_clause[i];
        if (sw_mp_is_key(t, g, false) || sw_mp_is_key(t, by_position(q, g), false)) return true;
    }
    /* A bare shard key in the select list of a grouped query is accepted by
     * PostgreSQL only when it is constant per group (grouped by it, by an
     * alias of it, or by its table's primary key): every group then holds
     * rows of one key, so of one shard. */
    for (size_t i = 0; i < q->n_target_list; i++)
        if (sw_mp_is_key(t, res_val(q->target_list[i]), false)) return true;
    return false;
}

/* DISTINCT rows never repeat across shards when they include a shard key. */
static bool distinct_per_shard(const PgQuery__SelectStmt *q, const sw_mp_tabs *t)
{
    bool plain = q->n_distinct_clause == 1 && !sw_node_msg(q->distinct_clause[0]);
    if (plain) {
        for (size_t i = 0; i < q->n_target_list; i++)
            if (sw_mp_is_key(t, res_val(q->target_list[i]), false)) return true;
        return false;
    }
    for (size_t i = 0; i < q->n_distinct_clause; i++) {
        const PgQuery__Node *d = q->distinct_clause[i];
        if (sw_mp_is_key(t, d, false) || sw_mp_is_key(t, by_position(q, d), false)) return true;
    }
    return false;
}

/* ------------------------------------------------------------ windows */

/* The PARTITION BY of a window, following references to named windows. */
static const PgQuery__WindowDef *window_partition(const PgQuery__SelectStmt *q, const PgQuery__WindowDef *w)
{
    const PgQuery__WindowDef *d = w;
    for (int depth = 0; d && depth < 8; depth++) {
        if (d->n_partition_clause) return d;
        /* OVER w names a window; (w ORDER BY ...) refers to one */
        const char *ref = nz(d->refname) ? d->refname : (d == w ? nz(d->name) : NULL);
        if (!ref) return NULL;
        const PgQuery__WindowDef *next = NULL;
        for (size_t i = 0; i < q->n_window_clause; i++) {
            const PgQuery__Node *n = q->window_clause[i];
            if (n->node_case == PG_QUERY__NODE__NODE_WINDOW_DEF && nz(n->window_def->name) &&
                strcmp(n->window_def->name, ref) == 0)
                next = n->window_def;
        }
        d = next;
    }
    return NULL;
}

typedef struct win_ctx {
    const PgQuery__SelectStmt *q;
    const sw_mp_tabs *t;
    int res;
} win_ctx;

static int win_child(void *ctx, const ProtobufCMessage *c)
{
    win_ctx *w = ctx;
    if (c->descriptor == &pg_query__select_stmt__descriptor) return 0;
    if (c->descriptor == &pg_query__func_call__descriptor && ((const PgQuery__FuncCall *)c)->over) {
        const PgQuery__WindowDef *d = window_partition(w->q, ((const PgQuery__FuncCall *)c)->over);
        bool keyed = false;
        for (size_t i = 0; d && i < d->n_partition_clause && !keyed; i++)
            keyed = sw_mp_is_key(w->t, d->partition_clause[i], false);
        if (!keyed) {
            w->res = 2;
            return 1;
        }
        w->res = 1;
    }
    return sw_node_each_child(c, win_child, ctx);
}

int sw_mp_windows(const PgQuery__SelectStmt *q, const sw_mp_tabs *t)
{
    win_ctx w = {q, t, 0};
    for (size_t i = 0; i < q->n_target_list && w.res < 2; i++) win_child(&w, &q->target_list[i]->base);
    for (size_t i = 0; i < q->n_sort_clause && w.res < 2; i++) win_child(&w, &q->sort_clause[i]->base);
    return w.res;
}

/* ------------------------------------------------------------ nested queries */

typedef struct nest_ctx {
    sw_mp *m;
    sw_mp_scope *sc;
} nest_ctx;

static int check_query(sw_mp *m, const PgQuery__SelectStmt *q, sw_mp_scope *parent, bool branch);

static int nest_child(void *ctx, const ProtobufCMessage *c)
{
    nest_ctx *n = ctx;
    if (c->descriptor == &pg_query__select_stmt__descriptor)
        return check_query(n->m, (const PgQuery__SelectStmt *)c, n->sc, false);
    return sw_node_each_child(c, nest_child, ctx);
}

static bool is_setop(const PgQuery__SelectStmt *q)
{
    return q->op != PG_QUERY__SET_OPERATION__SETOP_NONE && q->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED;
}

static const char *setop_name(const PgQuery__SelectStmt *q)
{
    switch (q->op) {
    case PG_QUERY__SET_OPERATION__SETOP_UNION: return q->all ? "UNION ALL" : "UNION";
    case PG_QUERY__SET_OPERATION__SETOP_INTERSECT: return q->all ? "INTERSECT ALL" : "INTERSECT";
    default: return q->all ? "EXCEPT ALL" : "EXCEPT";
    }
}

/* Does q's FROM produce each of its rows on one shard only (a sharded
 * table's rows, not a reference table's that every shard holds)? */
static bool from_item_per_shard(sw_mp *m, const PgQuery__Node *n, sw_mp_scope *sc, int depth);

static bool select_per_shard(sw_mp *m, const PgQuery__SelectStmt *q, sw_mp_scope *parent, int depth)
{
    if (!q || depth > 16) return false;
    sw_mp_scope sc = {parent, q->with_clause, {0}};
    if (is_setop(q))
        return select_per_shard(m, q->larg, &sc, depth + 1) && select_per_shard(m, q->rarg, &sc, depth + 1);
    for (size_t i = 0; i < q->n_from_clause; i++)
        if (from_item_per_shard(m, q->from_clause[i], &sc, depth + 1)) return true;
    return false;
}

static bool from_item_per_shard(sw_mp *m, const PgQuery__Node *n, sw_mp_scope *sc, int depth)
{
    if (!n || depth > 16) return false;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR: {
        const PgQuery__RangeVar *rv = n->range_var;
        sw_mp_scope *def;
        int i;
        if (is_cte_ref(rv, sc, &def, &i)) {
            const PgQuery__Node *b = def->with->ctes[i]->common_table_expr->ctequery;
            return b && b->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
                   select_per_shard(m, b->select_stmt, def, depth + 1);
        }
        return rv->relname && m->key_of(m->ctx, nz(rv->schemaname), rv->relname, false) != NULL;
    }
    case PG_QUERY__NODE__NODE_JOIN_EXPR: {
        const PgQuery__JoinExpr *j = n->join_expr;
        bool l = from_item_per_shard(m, j->larg, sc, depth + 1);
        bool r = from_item_per_shard(m, j->rarg, sc, depth + 1);
        switch (j->jointype) {
        case PG_QUERY__JOIN_TYPE__JOIN_INNER: return l || r;
        case PG_QUERY__JOIN_TYPE__JOIN_LEFT: return l;
        case PG_QUERY__JOIN_TYPE__JOIN_RIGHT: return r;
        default: return l && r;
        }
    }
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
        const PgQuery__Node *s = n->range_subselect->subquery;
        return s && s->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
               select_per_shard(m, s->select_stmt, sc, depth + 1);
    }
    default: return false;
    }
}

/* A nested query (or, with branch, a top-level UNION ALL branch, whose
 * rows are concatenated as they are). */
static int check_query(sw_mp *m, const PgQuery__SelectStmt *q, sw_mp_scope *parent, bool branch)
{
    if (!q) return 0;
    sw_mp_scope sc = {parent, q->with_clause, {0}};
    nest_ctx nc = {m, &sc};
    if (is_setop(q)) {
        bool union_all = q->op == PG_QUERY__SET_OPERATION__SETOP_UNION && q->all;
        if (union_all && !q->n_sort_clause && !q->limit_count && !q->limit_offset) {
            if (q->with_clause && sw_node_each_child(&q->with_clause->base, nest_child, &nc)) return -1;
            if (check_query(m, q->larg, &sc, branch) < 0) return -1;
            return check_query(m, q->rarg, &sc, branch);
        }
        if (!branch && !select_reads_sharded(m, q, parent)) return 0;
        if (union_all)
            return sw_mp_fail(m, "0A000", "ORDER BY/LIMIT/OFFSET over UNION ALL %s is not supported across shards",
                              branch ? "branches" : "in a subquery");
        return sw_mp_fail(m, "0A000", "%s %s is not supported across shards%s", setop_name(q),
                          branch ? "inside UNION ALL" : "in a subquery",
                          q->op == PG_QUERY__SET_OPERATION__SETOP_UNION ? ": use UNION ALL" : "");
    }
    bool limit = q->limit_count || q->limit_offset;
    bool agg = q->n_group_clause || q->having_clause || sw_mp_list_has_agg(q->target_list, q->n_target_list) ||
               sw_mp_list_has_agg(q->sort_clause, q->n_sort_clause);
    bool distinct = q->n_distinct_clause > 0;
    bool sorted = branch && q->n_sort_clause;
    bool win = sw_mp_windows(q, NULL) != 0;
    if (branch) {
        /* every shard would answer a reference table's rows */
        if (!select_per_shard(m, q, parent, 0))
            return sw_mp_fail(m, "0A000",
                              "a UNION ALL branch that reads no sharded table is not supported across shards");
        if (q->into_clause) return sw_mp_fail(m, "0A000", "SELECT INTO is not supported across shards");
    }
    /* bound to the outer row's shard on the key (merge_coloc.c): every row
     * it reads is on the shard evaluating it */
    bool exact = !branch && sw_mp_is_exact(m, q);
    if ((limit || agg || distinct || sorted || win) && !exact && (branch || select_reads_sharded(m, q, parent))) {
        const char *where = branch ? "in a UNION ALL branch" : "in a subquery";
        if (limit)
            return sw_mp_fail(m, "0A000", "LIMIT/OFFSET %s is not supported across shards: add a shard key condition",
                              where);
        if (sorted) return sw_mp_fail(m, "0A000", "ORDER BY %s is not supported across shards", where);
        /* on the heap: nested queries nest deeply */
        sw_mp_tabs *t = malloc(sizeof *t);
        if (!t) return sw_mp_oom(m);
        sw_mp_tabs_collect(m, q->from_clause, q->n_from_clause, &sc, t);
        bool bad_agg = agg && !sw_mp_groups_per_shard(q, t);
        bool bad_distinct = distinct && !distinct_per_shard(q, t);
        bool bad_win = win && sw_mp_windows(q, t) == 2;
        free(t);
        if (bad_agg)
            return sw_mp_fail(m, "0A000",
                              "aggregate %s is not supported across shards: add a shard key condition or group by "
                              "the shard key", where);
        if (bad_distinct)
            return sw_mp_fail(m, "0A000",
                              "DISTINCT %s is not supported across shards: add a shard key condition or select the "
                              "shard key", where);
        if (bad_win)
            return sw_mp_fail(m, "0A000",
                              "window functions %s are not supported across shards: partition by the shard key",
                              where);
    }
    return sw_node_each_child(&q->base, nest_child, &nc) ? -1 : 0;
}

int sw_mp_check_nested(sw_mp *m)
{
    nest_ctx nc = {m, &m->scope};
    return sw_node_each_child(&m->s->base, nest_child, &nc) ? -1 : 0;
}

int sw_mp_check_setop(sw_mp *m, const PgQuery__SelectStmt *s)
{
    if (!(s->op == PG_QUERY__SET_OPERATION__SETOP_UNION && s->all))
        return sw_mp_fail(m, "0A000", "%s is not supported across shards%s", setop_name(s),
                          s->op == PG_QUERY__SET_OPERATION__SETOP_UNION ? ": use UNION ALL" : "");
    if (s->n_sort_clause || s->limit_count || s->limit_offset)
        return sw_mp_fail(m, "0A000", "ORDER BY/LIMIT/OFFSET over UNION ALL is not supported across shards");
    if (s->into_clause) return sw_mp_fail(m, "0A000", "SELECT INTO is not supported across shards");
    return check_query(m, s, NULL, true) < 0 ? -1 : 1;
}
