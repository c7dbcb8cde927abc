/*
 * walk.c - walking a statement's parse tree: the generic walk (through
 * protobuf-c's descriptors, so a table named anywhere in a DDL or utility
 * statement is found without a case per node type), table occurrences,
 * query levels (scopes) with their FROM items and quals, and SELECT.
 * INSERT, UPDATE and DELETE are in dml.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

/* Record a value-independent error on the statement (the first one wins). */
void sw_st_error(sw_actx *a, const char *sqlstate, const char *fmt, ...)
{
    if (a->st->err >= 0) return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(a->st->sqlstate, sqlstate, 6);
    a->st->err = sw_plan_str(a->p, msg, strlen(msg));
}

/* ------------------------------------------------------------ tree helpers */

const ProtobufCMessage *sw_node_msg(const PgQuery__Node *n)
{
    if (!n || n->node_case == PG_QUERY__NODE__NODE__NOT_SET) return NULL;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&pg_query__node__descriptor, (unsigned)n->node_case);
    if (!f) return NULL;
    return *(const ProtobufCMessage *const *)((const char *)n + f->offset);
}

int sw_node_each_child(const ProtobufCMessage *m, sw_node_child_fn fn, void *ctx)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            const ProtobufCMessage *const *arr = *(const ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++) {
                if (!arr[k]) continue;
                int rc = fn(ctx, arr[k]);
                if (rc) return rc;
            }
        } else {
            if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                *(const uint32_t *)(base + f->quantifier_offset) != f->id)
                continue;
            const ProtobufCMessage *c = *(const ProtobufCMessage *const *)(base + f->offset);
            if (c) {
                int rc = fn(ctx, c);
                if (rc) return rc;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------ aggregates */

static bool agg_name(const char *s)
{
    static const char *const names[] = {
        "count", "sum", "min", "max", "avg", "array_agg", "string_agg", "bool_and", "bool_or",
        "every", "bit_and", "bit_or", "bit_xor", "json_agg", "jsonb_agg", "json_object_agg",
        "jsonb_object_agg", "xmlagg", "stddev", "stddev_pop", "stddev_samp", "variance",
        "var_pop", "var_samp", "corr", "covar_pop", "covar_samp", "regr_avgx", "regr_avgy",
        "regr_count", "regr_intercept", "regr_r2", "regr_slope", "regr_sxx", "regr_sxy",
        "regr_syy", "percentile_cont", "percentile_disc", "mode", "range_agg",
        "range_intersect_agg", "any_value", NULL};
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) return true;
    return false;
}

/* An aggregate or window call in an expression, not counting subqueries. */
static int find_agg(void *ctx, const ProtobufCMessage *m)
{
    (void)ctx;
    if (m->descriptor == &pg_query__select_stmt__descriptor) return 0;
    if (m->descriptor == &pg_query__func_call__descriptor) {
        const PgQuery__FuncCall *f = (const PgQuery__FuncCall *)m;
        if (f->agg_star || f->agg_distinct || f->over || f->agg_within_group || f->agg_filter ||
            f->n_agg_order)
            return 1;
        const char *name = f->n_funcname ? sw_node_str(f->funcname[f->n_funcname - 1]) : NULL;
        if (name && agg_name(name)) return 1;
    }
    return sw_node_each_child(m, find_agg, ctx);
}

static bool has_agg(PgQuery__Node *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && find_agg(NULL, &v[i]->base)) return true;
    return false;
}

/* ------------------------------------------------------------ occurrences */

static bool cte_visible(const sw_scope *sc, const char *name)
{
    for (; sc; sc = sc->parent) {
        if (!sc->with) continue;
        for (size_t i = 0; i < sc->with->n_ctes; i++) {
            const PgQuery__Node *c = sc->with->ctes[i];
            if (c->node_case == PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR &&
                strcmp(c->common_table_expr->ctename, name) == 0)
                return true;
        }
    }
    return false;
}

int sw_add_occ(sw_actx *a, const PgQuery__RangeVar *rv, const sw_scope *sc, unsigned flags)
{
    if (!rv || !rv->relname) return -1;
    const char *schema = rv->schemaname && *rv->schemaname ? rv->schemaname : NULL;
    if (!schema && cte_visible(sc, rv->relname)) return -1;
    sw_occ o;
    memset(&o, 0, sizeof o);
    o.table = sw_router_table(a->r, a->p->db, schema, rv->relname);
    o.in_sublink = a->sublink_depth > 0;
    o.cons = -1;
    o.row0 = -1;
    o.name_first = o.name_last = -1;
    int parts = 1 + (schema ? 1 : 0) + (rv->catalogname && *rv->catalogname ? 1 : 0);
    int ti = rv->location >= 0 ? sw_items_at(a->items, a->n_items, (uint32_t)rv->location) : -1;
    if (ti >= 0 && ti + 2 * (parts - 1) < a->n_items) {
        bool ok = true;
        for (int k = 1; k < parts; k++)
            if (a->items[ti + 2 * k - 1].tok != PG_QUERY__TOKEN__ASCII_46) ok = false;
        if (ok) {
            o.name_first = ti;
            o.name_last = ti + 2 * (parts - 1);
        }
    }
    const char *ref = rv->alias && rv->alias->aliasname ? rv->alias->aliasname : rv->relname;
    o.has_alias = rv->alias && rv->alias->aliasname;
    o.refname = sw_plan_str(a->p, ref, strlen(ref));
    o.relname = sw_plan_str(a->p, rv->relname, strlen(rv->relname));
    o.schema = schema ? sw_plan_str(a->p, schema, strlen(schema)) : -1;
    o.alias_ok = (flags & SW_WF_ALIAS_OK) != 0;
    o.write = (flags & SW_WF_WRITE) != 0;
    return sw_plan_occ(a->p, &o);
}

/* The configured sharded table of occurrence o, or NULL. */
const sw_conf_table *sw_occ_sharded(const sw_actx *a, int o)
{
    if (o < 0 || a->p->db < 0) return NULL;
    int t = a->p->occs[o].table;
    if (t < 0) return NULL;
    const sw_conf_table *ct = &a->r->conf->databases[a->p->db].tables[t];
    return ct->kind == SW_TABLE_SHARDED ? ct : NULL;
}

/* ------------------------------------------------------------ walkers */

/* Built-in functions whose value differs between two evaluations, or
 * between two nodes' transactions: a write that runs on several copies
 * would store different values.  (User-defined volatile functions and
 * column defaults are not seen: only the catalog knows them.) */
static bool volatile_builtin(const char *name)
{
    static const char *const names[] = {
        "random", "random_normal", "clock_timestamp", "statement_timestamp", "transaction_timestamp",
        "now", "timeofday", "nextval", "setval", "currval", "lastval", "gen_random_uuid",
        "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "txid_current", "pg_current_xact_id",
        "inet_client_addr", "pg_backend_pid", NULL};
    for (int i = 0; names[i]; i++)
        if (strcmp(name, names[i]) == 0) return true;
    return false;
}

typedef struct walk_ctx {
    sw_actx *a;
    sw_scope *sc;
    unsigned flags;
} walk_ctx;

static int walk_child(void *ctx, const ProtobufCMessage *m);

static void walk_msg(sw_actx *a, const ProtobufCMessage *m, sw_scope *sc, unsigned flags)
{
    if (!m) return;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (d == &pg_query__node__descriptor) {
        sw_walk_node(a, (const PgQuery__Node *)m, sc, flags);
    } else if (d == &pg_query__range_var__descriptor) {
        sw_add_occ(a, (const PgQuery__RangeVar *)m, sc, flags);
    } else if (d == &pg_query__select_stmt__descriptor) {
        sw_walk_select(a, (const PgQuery__SelectStmt *)m, sc, false);
    } else {
        walk_ctx c = {a, sc, flags};
        sw_node_each_child(m, walk_child, &c);
    }
}

static int walk_child(void *ctx, const ProtobufCMessage *m)
{
    walk_ctx *c = ctx;
    walk_msg(c->a, m, c->sc, c->flags);
    return 0;
}

void sw_walk_list(sw_actx *a, PgQuery__Node *const *v, size_t n, sw_scope *sc)
{
    for (size_t i = 0; i < n; i++) sw_walk_node(a, v[i], sc, 0);
}

void sw_walk_node(sw_actx *a, const PgQuery__Node *n, sw_scope *sc, unsigned flags)
{
    if (!n) return;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT: sw_walk_select(a, n->select_stmt, sc, false); return;
    case PG_QUERY__NODE__NODE_INSERT_STMT: sw_walk_insert(a, n->insert_stmt, sc, false); return;
    case PG_QUERY__NODE__NODE_UPDATE_STMT: sw_walk_update(a, n->update_stmt, sc, false); return;
    case PG_QUERY__NODE__NODE_DELETE_STMT: sw_walk_delete(a, n->delete_stmt, sc); return;
    case PG_QUERY__NODE__NODE_RANGE_VAR: sw_add_occ(a, n->range_var, sc, flags); return;
    case PG_QUERY__NODE__NODE_A_CONST:
    case PG_QUERY__NODE__NODE_COLUMN_REF:
    case PG_QUERY__NODE__NODE_PARAM_REF:
    case PG_QUERY__NODE__NODE_STRING: return;
    case PG_QUERY__NODE__NODE_SUB_LINK: {
        walk_ctx c = {a, sc, flags};
        a->sublink_depth++;
        sw_node_each_child(&n->sub_link->base, walk_child, &c);
        a->sublink_depth--;
        return;
    }
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
        /* CURRENT_TIMESTAMP, LOCALTIME...: the transaction's start, which
         * differs from node to node */
        if (a->st->volatile_fn < 0) a->st->volatile_fn = sw_plan_str(a->p, "CURRENT_TIMESTAMP", 17);
        return;
    case PG_QUERY__NODE__NODE_FUNC_CALL: {
        const PgQuery__FuncCall *f = n->func_call;
        const char *name = f->n_funcname ? sw_node_str(f->funcname[f->n_funcname - 1]) : NULL;
        if (name && a->st->volatile_fn < 0 && volatile_builtin(name))
            a->st->volatile_fn = sw_plan_str(a->p, name, strlen(name));
        if (sw_idcall_is(f)) sw_idcall_add(a, f, false);
        walk_ctx c = {a, sc, flags};
        sw_node_each_child(&f->base, walk_child, &c);
        return;
    }
    default: {
        const ProtobufCMessage *m = sw_node_msg(n);
        if (m) {
            walk_ctx c = {a, sc, flags};
            sw_node_each_child(m, walk_child, &c);
        }
    }
    }
}

void sw_walk_ctes(sw_actx *a, const PgQuery__WithClause *w, sw_scope *sc)
{
    if (!w) return;
    for (size_t i = 0; i < w->n_ctes; i++) {
        const PgQuery__Node *c = w->ctes[i];
        if (c->node_case == PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR)
            sw_walk_node(a, c->common_table_expr->ctequery, sc, 0);
    }
}

/* FROM items of one query level: the tables first (so a level's
 * occurrences are contiguous), subqueries and functions afterwards. */
void sw_walk_from(sw_actx *a, const PgQuery__Node *n, sw_scope *sc, unsigned flags)
{
    if (!n) return;
    if (n->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) {
        sw_add_occ(a, n->range_var, sc, flags | SW_WF_ALIAS_OK);
    } else if (n->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR) {
        sw_walk_from(a, n->join_expr->larg, sc, flags);
        sw_walk_from(a, n->join_expr->rarg, sc, flags);
    }
}

void sw_walk_from_rest(sw_actx *a, const PgQuery__Node *n, sw_scope *sc)
{
    if (!n) return;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR: return;
    case PG_QUERY__NODE__NODE_JOIN_EXPR:
        sw_walk_from_rest(a, n->join_expr->larg, sc);
        sw_walk_from_rest(a, n->join_expr->rarg, sc);
        sw_walk_node(a, n->join_expr->quals, sc, 0);
        return;
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
        /* Not LATERAL: it sees the enclosing levels, not its siblings;
         * LATERAL references are just not used as keys. */
        sw_walk_node(a, n->range_subselect->subquery, sc, 0);
        return;
    }
    default: sw_walk_node(a, n, sc, 0); return;
    }
}

#define MAX_QUALS 16

/* ON conditions of inner joins that are not under the nullable side of an
 * outer join: they restrict every row of the level like WHERE does. */
static void join_quals(const PgQuery__Node *n, bool usable, const PgQuery__Node **q, int *nq)
{
    if (!n || n->node_case != PG_QUERY__NODE__NODE_JOIN_EXPR) return;
    const PgQuery__JoinExpr *j = n->join_expr;
    bool l = usable, r = usable;
    switch (j->jointype) {
    case PG_QUERY__JOIN_TYPE__JOIN_INNER:
        if (usable && j->quals && *nq < MAX_QUALS) q[(*nq)++] = j->quals;
        break;
    case PG_QUERY__JOIN_TYPE__JOIN_LEFT: r = false; break;
    case PG_QUERY__JOIN_TYPE__JOIN_RIGHT: l = false; break;
    default: l = r = false; break;
    }
    join_quals(j->larg, l, q, nq);
    join_quals(j->rarg, r, q, nq);
}

/* Constraints of the level's sharded tables from its quals. */
void sw_walk_quals(sw_actx *a, sw_scope *sc, const PgQuery__Node *where,
                        PgQuery__Node *const *from, size_t n_from)
{
    const PgQuery__Node *q[MAX_QUALS + 1];
    int nq = 0;
    if (where) q[nq++] = where;
    for (size_t i = 0; i < n_from; i++) join_quals(from[i], true, q, &nq);
    if (nq == 0) return;
    for (int o = sc->occ0; o < sc->occ_end; o++) {
        if (!sw_occ_sharded(a, o)) continue;
        int c = -1;
        for (int k = 0; k < nq; k++) c = sw_cons_and(a, c, sw_quals_cons(a, sc, o, q[k]));
        a->p->occs[o].cons = c;
    }
}

void sw_walk_select(sw_actx *a, const PgQuery__SelectStmt *s, sw_scope *parent, bool top)
{
    if (!s) return;
    sw_scope sc = {parent, a->p->n_occs, a->p->n_occs, s->with_clause};
    sw_walk_ctes(a, s->with_clause, &sc);
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE &&
        s->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED) {
        bool union_all = s->op == PG_QUERY__SET_OPERATION__SETOP_UNION && s->all;
        if (top && (!union_all || s->n_sort_clause || s->limit_count || s->limit_offset))
            a->st->keyless_forbidden = true;
        sw_walk_select(a, s->larg, &sc, top && union_all);
        sw_walk_select(a, s->rarg, &sc, top && union_all);
        sw_walk_list(a, s->sort_clause, s->n_sort_clause, &sc);
        return;
    }
    /* a level that reads rows evaluates its expressions once per row */
    int per_row = s->n_from_clause > 0;
    a->per_row += per_row;
    sc.occ0 = a->p->n_occs;
    for (size_t i = 0; i < s->n_from_clause; i++) sw_walk_from(a, s->from_clause[i], &sc, 0);
    sc.occ_end = a->p->n_occs;
    for (size_t i = 0; i < s->n_from_clause; i++) sw_walk_from_rest(a, s->from_clause[i], &sc);
    sw_walk_quals(a, &sc, s->where_clause, s->from_clause, s->n_from_clause);

    sw_walk_node(a, s->where_clause, &sc, 0);
    for (size_t i = 0; i < s->n_target_list; i++) {
        /* a call that is a column of its own keeps its column name */
        const PgQuery__Node *t = s->target_list[i];
        if (t->node_case == PG_QUERY__NODE__NODE_RES_TARGET && !(t->res_target->name && t->res_target->name[0]) &&
            t->res_target->val &&
            t->res_target->val->node_case == PG_QUERY__NODE__NODE_FUNC_CALL &&
            sw_idcall_is(t->res_target->val->func_call))
            sw_idcall_add(a, t->res_target->val->func_call, true);
    }
    sw_walk_list(a, s->target_list, s->n_target_list, &sc);
    sw_walk_list(a, s->values_lists, s->n_values_lists, &sc);
    sw_walk_list(a, s->group_clause, s->n_group_clause, &sc);
    sw_walk_node(a, s->having_clause, &sc, 0);
    sw_walk_list(a, s->sort_clause, s->n_sort_clause, &sc);
    sw_walk_node(a, s->limit_count, &sc, 0);
    sw_walk_node(a, s->limit_offset, &sc, 0);
    if (s->into_clause && s->into_clause->rel) {
        sw_add_occ(a, s->into_clause->rel, &sc, SW_WF_WRITE);
        if (top) a->st->write = true;
    }
    a->per_row -= per_row;
    if (top && (s->n_sort_clause || s->limit_count || s->limit_offset || s->n_distinct_clause ||
                s->n_group_clause || s->having_clause || s->n_window_clause ||
                has_agg(s->target_list, s->n_target_list)))
        a->st->keyless_forbidden = true;
}
