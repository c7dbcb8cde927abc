/*
 * merge_coloc.c - co-location of what a statement running on every shard
 * combines.  Each shard joins only the rows it holds and evaluates a
 * subquery over its own rows, which is exact only when rows that belong
 * together live on one shard: sharded tables (and FROM subqueries or CTEs
 * over them, through the key column they select) joined by equalities of
 * their shard keys, and subqueries bound to the outer row by such an
 * equality or asked `key IN (SELECT key ...)`.  Anything else would miss
 * rows held by other shards and is refused (0A000).
 *
 * Per query level, a union-find over its FROM items joins those whose keys
 * are equated (ON, USING, NATURAL, the WHERE's AND-chain); one extra node
 * stands for the shard of the enclosing query's current row.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge_int.h"

/* The union-find node of the outer row's shard. */
#define OUTER SW_MP_MAX_TABS
#define MAX_DEPTH 32

/* What a nested query looks like from the level that uses it. */
typedef struct co_info {
    bool sharded;       /* reads a sharded table */
    bool bound;         /* every sharded row it reads is on the outer row's shard */
    bool first_is_key;  /* its first output column is a shard key column */
    int n_targets;
    const char *key[2]; /* output names of shard key columns */
    const char *table;  /* a sharded table it reads, for messages */
    uint64_t parent_edges; /* keys equated with the enclosing level's items */
    bool far_edge;         /* ... or with items further out */
} co_info;

typedef struct co_scope {
    struct co_scope *parent;
    sw_mp_scope msc; /* the same WITH for merge_check.c */
    uint8_t state[SW_MP_MAX_CTES]; /* 0 unknown, 1 being checked, 2 info known */
    co_info info[SW_MP_MAX_CTES];
} co_scope;

typedef struct co_occ {
    const char *schema, *relname, *refname;
    bool has_alias;
    bool sharded;
    const char *key[2]; /* columns whose values place its rows */
    const char *table;  /* the sharded table behind it */
    const char *what;   /* its name in messages */
} co_occ;

typedef struct co_level {
    struct co_level *outer;
    co_scope sc;
    co_occ occ[SW_MP_MAX_TABS];
    int n;
    int uf[SW_MP_MAX_TABS + 1];
    uint64_t parent_edges;
    bool far_edge;
    const char *sub_table; /* a sharded table read by a subquery of the level */
} co_level;

typedef struct co {
    sw_mp *m;
    int depth;
    bool failed;
} co;

static int co_fail(co *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int co_fail(co *c, const char *fmt, ...)
{
    if (!c->failed) {
        c->failed = true;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->m->coloc_msg, sizeof c->m->coloc_msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *nz(const char *s)
{
    return s && *s ? s : NULL;
}

static bool eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static int find(co_level *L, int i)
{
    while (L->uf[i] != i) i = L->uf[i] = L->uf[L->uf[i]];
    return i;
}

static void unite(co_level *L, int a, int b)
{
    L->uf[find(L, a)] = find(L, b);
}

static bool occ_key(const co_occ *o, const char *col)
{
    return o->sharded && col && (eq(o->key[0], col) || eq(o->key[1], col));
}

/* ------------------------------------------------------------ names */

typedef struct co_ref {
    co_level *lv; /* NULL: not resolved */
    int i;
    bool key;
} co_ref;

/* The FROM item a column reference names, searching outward like
 * PostgreSQL.  An unqualified name resolves only to the innermost level
 * with FROM items, and only to an item keyed on it: another item there
 * may hold a column of that name, which we cannot see. */
static co_ref resolve(co_level *L, const PgQuery__Node *n)
{
    co_ref r = {NULL, 0, false};
    if (!n || n->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return r;
    const PgQuery__ColumnRef *cr = n->column_ref;
    const char *f[3] = {NULL, NULL, NULL};
    if (cr->n_fields < 1 || cr->n_fields > 3) return r;
    for (size_t i = 0; i < cr->n_fields; i++)
        if (!(f[i] = sw_mp_str(cr->fields[i]))) return r;
    const char *col = f[cr->n_fields - 1];
    for (co_level *lv = L; lv; lv = lv->outer) {
        if (cr->n_fields == 1) {
            if (!lv->n) continue;
            for (int i = 0; i < lv->n; i++)
                if (occ_key(&lv->occ[i], col)) return (co_ref){lv, i, true};
            return r;
        }
        for (int i = 0; i < lv->n; i++) {
            const co_occ *o = &lv->occ[i];
            bool hit = cr->n_fields == 2 ? eq(o->refname, f[0])
                                         : !o->has_alias && eq(o->schema, f[0]) && eq(o->relname, f[1]);
            if (hit) return (co_ref){lv, i, occ_key(o, col)};
        }
    }
    return r;
}

/* ------------------------------------------------------------ equalities */

static bool is_eq_op(const PgQuery__AExpr *a)
{
    return a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP && a->n_name >= 1 &&
           eq(sw_mp_str(a->name[a->n_name - 1]), "=");
}

/* One conjunct: a = b between two shard key columns ties their items. */
static void equality(co_level *L, const PgQuery__Node *e)
{
    if (!e || e->node_case != PG_QUERY__NODE__NODE_A_EXPR || !is_eq_op(e->a_expr)) return;
    co_ref a = resolve(L, e->a_expr->lexpr), b = resolve(L, e->a_expr->rexpr);
    if (!a.key || !b.key) return;
    /* an ID column follows its own function: equated only with a column of
     * its name (orders.order_id = order_items.order_id), never with a key
     * another function places */
    const PgQuery__ColumnRef *la = e->a_expr->lexpr->column_ref, *rb = e->a_expr->rexpr->column_ref;
    const char *ca = sw_mp_str(la->fields[la->n_fields - 1]), *cb = sw_mp_str(rb->fields[rb->n_fields - 1]);
    if ((eq(a.lv->occ[a.i].key[1], ca) || eq(b.lv->occ[b.i].key[1], cb)) && !eq(ca, cb)) return;
    if (a.lv == L && b.lv == L) {
        unite(L, a.i, b.i);
    } else if (a.lv == L || b.lv == L) {
        co_ref in = a.lv == L ? a : b, out = a.lv == L ? b : a;
        unite(L, in.i, OUTER);
        if (out.lv == L->outer) L->parent_edges |= (uint64_t)1 << out.i;
        else L->far_edge = true;
    }
}

static void and_chain(co_level *L, const PgQuery__Node *e)
{
    if (!e) return;
    if (e->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR && e->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR) {
        for (size_t i = 0; i < e->bool_expr->n_args; i++) and_chain(L, e->bool_expr->args[i]);
        return;
    }
    equality(L, e);
}

/* ------------------------------------------------------------ levels */

static int check_level(co *c, const PgQuery__SelectStmt *q, co_level *outer, co_scope *parent, co_info *out);

static int add_occ(co *c, co_level *L, co_occ o)
{
    if (L->n >= SW_MP_MAX_TABS) return co_fail(c, "too many tables in one FROM to check across shards");
    L->occ[L->n++] = o;
    return 0;
}

/* An item built from a nested query's look. */
static co_occ occ_of(const co_info *in, const char *refname, const char *what)
{
    co_occ o;
    memset(&o, 0, sizeof o);
    o.refname = refname;
    o.has_alias = true;
    o.sharded = in->sharded;
    o.key[0] = in->key[0];
    o.key[1] = in->key[1];
    o.table = in->table;
    o.what = what;
    return o;
}

static co_scope *cte_find(co_scope *sc, const char *name, int *k)
{
    for (; sc; sc = sc->parent) {
        const PgQuery__WithClause *w = sc->msc.with;
        for (size_t i = 0; w && i < w->n_ctes; i++) {
            const PgQuery__Node *n = w->ctes[i];
            if (n->node_case == PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR && eq(n->common_table_expr->ctename, name)) {
                *k = (int)i;
                return sc;
            }
        }
    }
    return NULL;
}

static int collect(co *c, co_level *L, const PgQuery__Node *n)
{
    if (!n) return 0;
    if (n->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) {
        const PgQuery__RangeVar *rv = n->range_var;
        if (!rv->relname) return 0;
        co_occ o;
        memset(&o, 0, sizeof o);
        o.schema = nz(rv->schemaname);
        o.relname = rv->relname;
        o.has_alias = rv->alias && nz(rv->alias->aliasname);
        o.refname = o.has_alias ? rv->alias->aliasname : rv->relname;
        o.what = rv->relname;
        int k;
        co_scope *def = o.schema ? NULL : cte_find(&L->sc, rv->relname, &k);
        if (def) {
            if (k < SW_MP_MAX_CTES && def->state[k] == 2) {
                co_occ t = occ_of(&def->info[k], o.refname, rv->relname);
                t.relname = rv->relname;
                t.has_alias = o.has_alias;
                return add_occ(c, L, t);
            }
            /* a recursive self-reference: its rows, key unknown */
            const PgQuery__Node *b = def->msc.with->ctes[k]->common_table_expr->ctequery;
            o.sharded = b && b->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
                        sw_mp_reads_sharded(c->m, b->select_stmt, &def->msc);
            o.table = rv->relname;
            return add_occ(c, L, o);
        }
        o.key[0] = c->m->key_of(c->m->ctx, o.schema, rv->relname, false);
        if (o.key[0]) o.key[1] = c->m->key_of(c->m->ctx, o.schema, rv->relname, true);
        o.sharded = o.key[0] != NULL;
        o.table = rv->relname;
        return add_occ(c, L, o);
    }
    if (n->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR) {
        const PgQuery__JoinExpr *j = n->join_expr;
        int lo = L->n;
        if (collect(c, L, j->larg) < 0) return -1;
        int mid = L->n;
        if (collect(c, L, j->rarg) < 0) return -1;
        int hi = L->n;
        and_chain(L, j->quals);
        /* USING (col) and NATURAL equate same-named columns of both sides */
        for (int a = lo; a < mid; a++)
            for (int b = mid; b < hi; b++) {
                const co_occ *x = &L->occ[a], *y = &L->occ[b];
                if (!x->sharded || !y->sharded) continue;
                for (size_t u = 0; u < j->n_using_clause; u++) {
                    const char *col = sw_mp_str(j->using_clause[u]);
                    if (occ_key(x, col) && occ_key(y, col)) unite(L, a, b);
                }
                if (j->is_natural)
                    for (int kx = 0; kx < 2; kx++)
                        if (occ_key(y, x->key[kx])) unite(L, a, b);
            }
        return 0;
    }
    if (n->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT) {
        const PgQuery__RangeSubselect *rs = n->range_subselect;
        if (!rs->subquery || rs->subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) return 0;
        co_info in;
        if (check_level(c, rs->subquery->select_stmt, L, &L->sc, &in) < 0) return -1;
        const char *alias = rs->alias && nz(rs->alias->aliasname) ? rs->alias->aliasname : NULL;
        if (add_occ(c, L, occ_of(&in, alias, alias ? alias : "a subquery")) < 0) return -1;
        int me = L->n - 1;
        /* LATERAL, equated on the key with one earlier item: rows of its shard */
        if (in.sharded && in.bound && (in.parent_edges || in.far_edge)) {
            uint64_t e = in.parent_edges;
            bool tied = false;
            if (!in.far_edge && (e & (e - 1)) == 0 && __builtin_ctzll(e) < me) {
                unite(L, me, __builtin_ctzll(e));
                tied = true;
            } else if (!e) {
                unite(L, me, OUTER);
                L->far_edge = tied = true;
            }
            if (tied && c->m->n_exact < SW_MP_MAX_EXACT) c->m->exact[c->m->n_exact++] = rs->subquery->select_stmt;
        }
        return 0;
    }
    return 0;
}

/* ------------------------------------------------------------ subqueries */

typedef struct walk_ctx {
    co *c;
    co_level *L;
} walk_ctx;

/* Is a sublink `key IN (SELECT key ...)` with both keys of sharded items? */
static bool in_on_key(co_level *L, const PgQuery__SubLink *sl, const co_info *in)
{
    if (sl->sub_link_type != PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK) return false;
    if (sl->n_oper_name && !eq(sw_mp_str(sl->oper_name[sl->n_oper_name - 1]), "=")) return false;
    if (!in->first_is_key || in->n_targets != 1) return false;
    return resolve(L, sl->testexpr).key;
}

static int sublink(co *c, co_level *L, const PgQuery__SubLink *sl)
{
    const PgQuery__Node *sub = sl->subselect;
    if (!sub || sub->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) return 0;
    co_info in;
    if (check_level(c, sub->select_stmt, L, &L->sc, &in) < 0) return -1;
    if (!in.sharded) return 0;
    if (!L->sub_table) L->sub_table = in.table;
    if (in.bound) {
        if (c->m->n_exact < SW_MP_MAX_EXACT) c->m->exact[c->m->n_exact++] = sub->select_stmt;
        return 0;
    }
    if (in_on_key(L, sl, &in)) return 0;
    return co_fail(c,
                   "subquery over %s is not supported across shards: each shard would see only its own rows; "
                   "correlate it with the outer query on the shard key (inner key = outer key) or add a shard "
                   "key condition",
                   in.table ? in.table : "a sharded table");
}

static int walk_child(void *ctx, const ProtobufCMessage *m)
{
    walk_ctx *w = ctx;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    /* nested levels: checked on their own */
    if (d == &pg_query__range_subselect__descriptor || d == &pg_query__with_clause__descriptor ||
        d == &pg_query__select_stmt__descriptor)
        return 0;
    if (d == &pg_query__sub_link__descriptor) {
        const PgQuery__SubLink *sl = (const PgQuery__SubLink *)m;
        if (sl->testexpr && walk_child(ctx, &sl->testexpr->base)) return 1;
        return sublink(w->c, w->L, sl) < 0 ? 1 : 0;
    }
    return sw_node_each_child(m, walk_child, ctx);
}

/* ------------------------------------------------------------ one level */

static void add_key_name(co_info *out, const char *name)
{
    if (!name || eq(out->key[0], name) || eq(out->key[1], name)) return;
    if (!out->key[0]) out->key[0] = name;
    else if (!out->key[1]) out->key[1] = name;
}

/* The output columns of L's SELECT that are shard keys of its items. */
static void key_outputs(co_level *L, const PgQuery__SelectStmt *q, co_info *out)
{
    for (size_t t = 0; t < q->n_target_list; t++) {
        const PgQuery__Node *tn = q->target_list[t];
        if (tn->node_case != PG_QUERY__NODE__NODE_RES_TARGET || !tn->res_target->val) continue;
        const PgQuery__ResTarget *rt = tn->res_target;
        const PgQuery__Node *v = rt->val;
        if (v->node_case != PG_QUERY__NODE__NODE_COLUMN_REF || !v->column_ref->n_fields) continue;
        const PgQuery__ColumnRef *cr = v->column_ref;
        if (cr->fields[cr->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
            const char *qual = cr->n_fields == 2 ? sw_mp_str(cr->fields[0]) : NULL;
            if (cr->n_fields > 2) continue;
            for (int i = 0; i < L->n; i++)
                if (L->occ[i].sharded && (!qual || eq(L->occ[i].refname, qual))) {
                    add_key_name(out, L->occ[i].key[0]);
                    add_key_name(out, L->occ[i].key[1]);
                }
            continue;
        }
        co_ref r = resolve(L, v);
        if (!r.key || r.lv != L) continue;
        if (t == 0) out->first_is_key = true;
        add_key_name(out, nz(rt->name) ? rt->name : sw_mp_str(cr->fields[cr->n_fields - 1]));
    }
}

static int check_setop(co *c, const PgQuery__SelectStmt *q, co_level *L, co_info *out)
{
    co_info l, r;
    if (check_level(c, q->larg, L->outer, &L->sc, &l) < 0 || check_level(c, q->rarg, L->outer, &L->sc, &r) < 0)
        return -1;
    out->sharded = l.sharded || r.sharded;
    out->bound = (!l.sharded || l.bound) && (!r.sharded || r.bound);
    out->n_targets = l.n_targets;
    out->table = l.table ? l.table : r.table;
    /* a key column only when every branch selects one there */
    out->first_is_key = (l.first_is_key || !l.sharded) && (r.first_is_key || !r.sharded);
    /* bound to one earlier item only when both branches are bound to it */
    out->parent_edges = l.parent_edges & r.parent_edges;
    out->far_edge = l.far_edge && r.far_edge;
    return 0;
}

static int check_body(co *c, const PgQuery__SelectStmt *q, co_level *L, co_scope *parent, co_info *out)
{
    const PgQuery__WithClause *w = q->with_clause;
    for (size_t k = 0; w && k < w->n_ctes; k++) {
        const PgQuery__Node *n = w->ctes[k];
        if (n->node_case != PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR) continue;
        const PgQuery__Node *b = n->common_table_expr->ctequery;
        if (!b || b->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) continue;
        co_info in;
        if (k < SW_MP_MAX_CTES) L->sc.state[k] = 1;
        if (check_level(c, b->select_stmt, L->outer, &L->sc, &in) < 0) return -1;
        if (k < SW_MP_MAX_CTES) {
            L->sc.info[k] = in;
            L->sc.state[k] = 2;
        }
    }
    if (q->op != PG_QUERY__SET_OPERATION__SETOP_NONE && q->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED)
        return check_setop(c, q, L, out);
    for (size_t i = 0; i < q->n_from_clause; i++)
        if (collect(c, L, q->from_clause[i]) < 0) return -1;
    and_chain(L, q->where_clause);
    walk_ctx wc = {c, L};
    if (sw_node_each_child(&q->base, walk_child, &wc)) return -1;

    /* every sharded item in one group: pairs of rows meet on one shard */
    int first = -1;
    for (int i = 0; i < L->n; i++) {
        const co_occ *o = &L->occ[i];
        if (!o->sharded) continue;
        if (first < 0) {
            first = i;
            continue;
        }
        if (find(L, i) == find(L, first)) continue;
        const co_occ *a = &L->occ[first];
        if (!a->key[0] || !o->key[0]) {
            const co_occ *sq = !a->key[0] ? a : o;
            return co_fail(c,
                           "join of %s and %s is not on the shard key: %s selects no shard key column of %s to join "
                           "on",
                           a->what, o->what, sq->what, sq->table ? sq->table : "its sharded table");
        }
        return co_fail(c,
                       "join of %s and %s is not on the shard key: join them on their shard key columns (%s and %s) "
                       "or add a shard key condition",
                       a->what, o->what, a->key[0], o->key[0]);
    }
    out->sharded = first >= 0 || sw_mp_reads_sharded(c->m, q, parent ? &parent->msc : NULL);
    out->bound = true;
    for (int i = 0; i < L->n; i++)
        if (L->occ[i].sharded && find(L, i) != find(L, OUTER)) out->bound = false;
    out->n_targets = (int)q->n_target_list;
    out->table = first >= 0 ? L->occ[first].table : L->sub_table;
    out->parent_edges = L->parent_edges;
    out->far_edge = L->far_edge;
    key_outputs(L, q, out);
    return 0;
}

/* Check the level q (its FROM items, their joins, its subqueries, its
 * CTEs) and describe it for the level using it. */
static int check_level(co *c, const PgQuery__SelectStmt *q, co_level *outer, co_scope *parent, co_info *out)
{
    memset(out, 0, sizeof *out);
    if (!q) return 0;
    if (c->depth >= MAX_DEPTH) return co_fail(c, "statement nests too deeply to check across shards");
    /* on the heap: levels nest */
    co_level *L = calloc(1, sizeof *L);
    if (!L) {
        c->failed = true;
        return sw_mp_oom(c->m);
    }
    L->outer = outer;
    L->sc.parent = parent;
    L->sc.msc.parent = parent ? &parent->msc : NULL;
    L->sc.msc.with = q->with_clause;
    for (int i = 0; i <= OUTER; i++) L->uf[i] = i;
    c->depth++;
    int rc = check_body(c, q, L, parent, out);
    c->depth--;
    free(L);
    return rc;
}

int sw_mp_check_coloc(sw_mp *m, const PgQuery__SelectStmt *s)
{
    co c = {m, 0, false};
    co_info info;
    m->coloc_msg[0] = '\0';
    return check_level(&c, s, NULL, NULL, &info);
}

bool sw_mp_is_exact(const sw_mp *m, const PgQuery__SelectStmt *q)
{
    for (int i = 0; i < m->n_exact; i++)
        if (m->exact[i] == q) return true;
    return false;
}
