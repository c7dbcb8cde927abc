/*
 * quals.c - the constraint a WHERE / JOIN ON condition puts on one table
 * occurrence's shard key, as a tree over value references (route_int.h).
 *
 * Leaves are comparisons of the key column with a constant or a parameter
 * (=, <, <=, >, >=, IN, = ANY, BETWEEN), casts around the value looked
 * through; AND and OR combine; anything else (NOT, a function of the key,
 * the key against another column, a subquery) is unbounded, written -1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

static int next_solid(const sw_actx *a, int i)
{
    for (i++; i < a->n_items; i++)
        if (!(a->items[i].flags & SW_ITEM_COMMENT)) return i;
    return -1;
}

static bool fixed_const(sw_actx *a, const PgQuery__AConst *c, sw_vref *v)
{
    char buf[64];
    const char *s = NULL;
    switch (c->val_case) {
    case PG_QUERY__A__CONST__VAL_IVAL:
        snprintf(buf, sizeof buf, "%d", c->ival ? c->ival->ival : 0);
        s = buf;
        break;
    case PG_QUERY__A__CONST__VAL_FVAL: s = c->fval ? c->fval->fval : NULL; break;
    case PG_QUERY__A__CONST__VAL_SVAL: s = c->sval ? c->sval->sval : NULL; break;
    case PG_QUERY__A__CONST__VAL_BOOLVAL: s = c->boolval && c->boolval->boolval ? "true" : "false"; break;
    case PG_QUERY__A__CONST__VAL_BSVAL: s = c->bsval ? c->bsval->bsval : NULL; break;
    default: break;
    }
    if (!s) s = "";
    int off = sw_plan_str(a->p, s, strlen(s));
    if (off < 0) return false;
    v->kind = SW_VR_FIXED;
    v->neg = 0;
    v->idx = off;
    return true;
}

/* A constant's reference: the constant item at its location (a folded
 * negative constant starts at its '-'), or its value when the text there
 * is part of the shape (an identifier used as a string, TRUE). */
static bool const_ref(sw_actx *a, const PgQuery__AConst *c, sw_vref *v)
{
    if (c->isnull) {
        v->kind = SW_VR_NULL;
        v->neg = 0;
        v->idx = -1;
        return true;
    }
    int i = c->location >= 0 ? sw_items_at(a->items, a->n_items, (uint32_t)c->location) : -1;
    if (i >= 0 && (a->items[i].flags & SW_ITEM_CONST)) {
        v->kind = SW_VR_CONST;
        v->neg = 0;
        v->idx = i;
        return true;
    }
    if (i >= 0 && a->items[i].tok == PG_QUERY__TOKEN__ASCII_45) {
        int j = next_solid(a, i);
        if (j >= 0 && (a->items[j].flags & SW_ITEM_CONST) && !(a->items[j].flags & SW_ITEM_NEG) &&
            (a->items[j].tok == PG_QUERY__TOKEN__ICONST || a->items[j].tok == PG_QUERY__TOKEN__FCONST)) {
            v->kind = SW_VR_CONST;
            v->neg = 1;
            v->idx = j;
            return true;
        }
    }
    /* U&'...' (whose item range is unreliable, so the plan is never
     * cached), TRUE, an identifier given as a string: part of the shape */
    return fixed_const(a, c, v);
}

bool sw_quals_value(sw_actx *a, const PgQuery__Node *n, sw_vref *v)
{
    while (n && n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) n = n->type_cast->arg;
    if (!n) return false;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_A_CONST: return const_ref(a, n->a_const, v);
    case PG_QUERY__NODE__NODE_PARAM_REF:
        if (n->param_ref->number < 1) return false;
        v->kind = SW_VR_PARAM;
        v->neg = 0;
        v->idx = n->param_ref->number - 1;
        return true;
    case PG_QUERY__NODE__NODE_FUNC_CALL: {
        if (!sw_idcall_is(n->func_call)) return false;
        int i = sw_idcall_add(a, n->func_call, false);
        if (i < 0) return false;
        v->kind = SW_VR_ID;
        v->neg = 0;
        v->idx = i;
        return true;
    }
    default: return false;
    }
}

bool sw_quals_is_key(sw_actx *a, const sw_scope *sc, int o, const PgQuery__ColumnRef *cr)
{
    (void)sc;
    const sw_occ *oc = &a->p->occs[o];
    const sw_conf_table *t = &a->r->conf->databases[a->p->db].tables[oc->table];
    size_t n = cr->n_fields;
    if (n == 0 || n > 4) return false;
    const char *col = sw_node_str(cr->fields[n - 1]);
    if (!col || strcmp(col, t->key) != 0) return false;
    if (n == 1) return true;
    const char *rel = sw_node_str(cr->fields[n - 2]);
    if (!rel) return false;
    if (n == 2) return strcmp(rel, sw_plan_s(a->p, oc->refname)) == 0;
    /* schema.table.key: only an unaliased reference is visible that way */
    if (oc->has_alias || strcmp(rel, sw_plan_s(a->p, oc->relname)) != 0) return false;
    const char *schema = sw_node_str(cr->fields[n - 3]);
    if (!schema) return false;
    return oc->schema < 0 || strcmp(schema, sw_plan_s(a->p, oc->schema)) == 0;
}

static bool is_key(sw_actx *a, const sw_scope *sc, int o, const PgQuery__Node *n)
{
    return n && n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && sw_quals_is_key(a, sc, o, n->column_ref);
}

static int leaf(sw_actx *a, sw_cons_op op, sw_vref lo, bool lo_incl, sw_vref hi, bool hi_incl)
{
    sw_cons c = {(uint8_t)op, lo_incl, hi_incl, false, lo, hi, -1, -1};
    return sw_plan_cons(a->p, &c);
}

static const sw_vref no_value = {SW_VR_NONE, 0, -1};

static int eq_leaf(sw_actx *a, sw_vref v)
{
    return leaf(a, SW_C_EQ, v, true, no_value, true);
}

/* Combine constraint roots under a new AND/OR node; -1 children are
 * dropped from AND and make OR unbounded. */
static int combine(sw_actx *a, sw_cons_op op, const int *kids, int n)
{
    int first = -1, last = -1, count = 0;
    for (int i = 0; i < n; i++) {
        if (kids[i] < 0) {
            if (op == SW_C_OR) return -1;
            continue;
        }
        if (first < 0) first = kids[i];
        else a->p->cons[last].next = kids[i];
        last = kids[i];
        count++;
    }
    if (count == 0) return -1;
    if (count == 1) return first;
    sw_cons c = {(uint8_t)op, false, false, false, no_value, no_value, first, -1};
    return sw_plan_cons(a->p, &c);
}

int sw_cons_and(sw_actx *a, int x, int y)
{
    int k[2] = {x, y};
    return combine(a, SW_C_AND, k, 2);
}

/* Values of a list (IN, ARRAY[...]) as an OR of equalities. */
static int or_of_values(sw_actx *a, PgQuery__Node *const *v, size_t n)
{
    if (n == 0) return -1;
    int kids_buf[64];
    int *kids = kids_buf;
    int rc = -1;
    if (n > 64) {
        kids = malloc(n * sizeof *kids);
        if (!kids) return -1;
    }
    for (size_t i = 0; i < n; i++) {
        sw_vref val;
        if (!sw_quals_value(a, v[i], &val)) goto out;
        kids[i] = eq_leaf(a, val);
        if (kids[i] < 0) goto out;
    }
    rc = combine(a, SW_C_OR, kids, (int)n);
out:
    if (kids != kids_buf) free(kids);
    return rc;
}

static const char *op_name(const PgQuery__AExpr *e)
{
    return e->n_name ? sw_node_str(e->name[e->n_name - 1]) : NULL;
}

static int cmp_leaf(sw_actx *a, const char *op, sw_vref v)
{
    if (strcmp(op, "=") == 0) return eq_leaf(a, v);
    if (strcmp(op, "<") == 0) return leaf(a, SW_C_RANGE, no_value, false, v, false);
    if (strcmp(op, "<=") == 0) return leaf(a, SW_C_RANGE, no_value, false, v, true);
    if (strcmp(op, ">") == 0) return leaf(a, SW_C_RANGE, v, false, no_value, false);
    if (strcmp(op, ">=") == 0) return leaf(a, SW_C_RANGE, v, true, no_value, false);
    return -1;
}

static const char *flip(const char *op)
{
    if (strcmp(op, "<") == 0) return ">";
    if (strcmp(op, "<=") == 0) return ">=";
    if (strcmp(op, ">") == 0) return "<";
    if (strcmp(op, ">=") == 0) return "<=";
    return op;
}

static const PgQuery__Node *strip_casts(const PgQuery__Node *n)
{
    while (n && n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) n = n->type_cast->arg;
    return n;
}

static int a_expr(sw_actx *a, const sw_scope *sc, int o, const PgQuery__AExpr *e)
{
    const char *op = op_name(e);
    if (!op) return -1;
    sw_vref v;
    switch (e->kind) {
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
        if (is_key(a, sc, o, e->lexpr) && sw_quals_value(a, e->rexpr, &v)) return cmp_leaf(a, op, v);
        if (is_key(a, sc, o, e->rexpr) && sw_quals_value(a, e->lexpr, &v)) return cmp_leaf(a, flip(op), v);
        return -1;
    case PG_QUERY__A__EXPR__KIND__AEXPR_IN:
        if (strcmp(op, "=") != 0 || !is_key(a, sc, o, e->lexpr) || !e->rexpr ||
            e->rexpr->node_case != PG_QUERY__NODE__NODE_LIST)
            return -1;
        return or_of_values(a, e->rexpr->list->items, e->rexpr->list->n_items);
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY: {
        if (strcmp(op, "=") != 0 || !is_key(a, sc, o, e->lexpr)) return -1;
        const PgQuery__Node *r = strip_casts(e->rexpr);
        if (r && r->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR)
            return or_of_values(a, r->a_array_expr->elements, r->a_array_expr->n_elements);
        if (sw_quals_value(a, e->rexpr, &v)) return leaf(a, SW_C_ANY, v, true, no_value, true);
        return -1;
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM: {
        if (!is_key(a, sc, o, e->lexpr) || !e->rexpr || e->rexpr->node_case != PG_QUERY__NODE__NODE_LIST ||
            e->rexpr->list->n_items != 2)
            return -1;
        sw_vref lo, hi;
        if (!sw_quals_value(a, e->rexpr->list->items[0], &lo) ||
            !sw_quals_value(a, e->rexpr->list->items[1], &hi))
            return -1;
        int c = leaf(a, SW_C_RANGE, lo, true, hi, true);
        if (c >= 0 && e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM) a->p->cons[c].symmetric = true;
        return c;
    }
    default: return -1;
    }
}

int sw_quals_cons(sw_actx *a, const sw_scope *sc, int o, const PgQuery__Node *q)
{
    if (!q) return -1;
    switch (q->node_case) {
    case PG_QUERY__NODE__NODE_BOOL_EXPR: {
        const PgQuery__BoolExpr *b = q->bool_expr;
        if (b->boolop != PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR && b->boolop != PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR)
            return -1;
        sw_cons_op op = b->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR ? SW_C_AND : SW_C_OR;
        int kids_buf[32];
        int *kids = kids_buf;
        if (b->n_args > 32) {
            kids = malloc(b->n_args * sizeof *kids);
            if (!kids) return -1;
        }
        int rc;
        for (size_t i = 0; i < b->n_args; i++) {
            kids[i] = sw_quals_cons(a, sc, o, b->args[i]);
            /* one unbounded branch makes the OR unbounded: stop early */
            if (kids[i] < 0 && op == SW_C_OR) {
                rc = -1;
                goto out;
            }
        }
        rc = combine(a, op, kids, (int)b->n_args);
    out:
        if (kids != kids_buf) free(kids);
        return rc;
    }
    case PG_QUERY__NODE__NODE_A_EXPR: return a_expr(a, sc, o, q->a_expr);
    default: return -1;
    }
}
