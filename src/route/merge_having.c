/*
 * merge_having.c - HAVING of a grouped merge, translated into the spec's
 * expression tree (sw_hx, root at 0) that the merger evaluates on whole
 * groups: AND/OR/NOT, comparisons, BETWEEN, IS [NOT] NULL over aggregates
 * (found among the columns or appended hidden), GROUP BY expressions and
 * constants (kept as their SQL text).  Anything else is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge_int.h"

static int unsupported(sw_mp *m)
{
    return sw_mp_fail(m, "0A000",
                      "HAVING ... is not supported across shards: only comparisons (=, <>, <, <=, >, >=, BETWEEN, "
                      "IS NULL) of aggregates, GROUP BY expressions and constants, combined with AND, OR and NOT, "
                      "are merged");
}

/* A new node of op; its index, or -1. */
static int hx_new(sw_mp *m, sw_hx_op op)
{
    sw_merge_spec *sp = m->sp;
    if (sp->n_having >= INT16_MAX) return unsupported(m);
    if (sw_mp_grow(m, (void **)&sp->having, &m->cap_having, sp->n_having, sizeof *sp->having) < 0) return -1;
    sw_hx *h = &sp->having[sp->n_having];
    memset(h, 0, sizeof *h);
    h->op = (uint8_t)op;
    h->a = h->b = -1;
    return sp->n_having++;
}

/* The SQL text of a constant: 1 (*out malloc'd, NULL for SQL NULL), 0 when
 * n is not a constant, -1 out of memory. */
static int const_text(sw_mp *m, const PgQuery__Node *n, char **out)
{
    bool neg = false;
    while (n && n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) n = n->type_cast->arg;
    if (n && n->node_case == PG_QUERY__NODE__NODE_A_EXPR && n->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP &&
        !n->a_expr->lexpr && n->a_expr->n_name == 1 && sw_mp_str(n->a_expr->name[0]) &&
        strcmp(sw_mp_str(n->a_expr->name[0]), "-") == 0) {
        neg = true;
        n = n->a_expr->rexpr;
        while (n && n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) n = n->type_cast->arg;
    }
    if (!n || n->node_case != PG_QUERY__NODE__NODE_A_CONST) return 0;
    const PgQuery__AConst *c = n->a_const;
    char buf[24];
    const char *s;
    if (c->isnull) {
        if (neg) return 0;
        *out = NULL;
        return 1;
    }
    switch (c->val_case) {
    case PG_QUERY__A__CONST__VAL_IVAL:
        snprintf(buf, sizeof buf, "%d", (int)c->ival->ival);
        s = buf;
        break;
    case PG_QUERY__A__CONST__VAL_FVAL: s = c->fval->fval; break;
    case PG_QUERY__A__CONST__VAL_SVAL:
        if (neg) return 0;
        s = c->sval->sval;
        break;
    case PG_QUERY__A__CONST__VAL_BOOLVAL:
        if (neg) return 0;
        s = c->boolval->boolval ? "true" : "false";
        break;
    default: return 0;
    }
    if (!s) s = "";
    char *t = malloc(strlen(s) + 2);
    if (!t) return sw_mp_oom(m);
    if (neg && s[0] == '-') strcpy(t, s + 1);
    else if (neg) sprintf(t, "-%s", s);
    else strcpy(t, s);
    *out = t;
    return 1;
}

/* An operand: a constant, or a column (found or appended). */
static int operand(sw_mp *m, const PgQuery__Node *n)
{
    if (!n) return unsupported(m);
    char *text = NULL;
    int k = const_text(m, n, &text);
    if (k < 0) return -1;
    if (k == 1) {
        int i = hx_new(m, SW_HX_CONST);
        if (i < 0) {
            free(text);
            return -1;
        }
        m->sp->having[i].text = text;
        return i;
    }
    int col = sw_mp_group_col(m, n, false, "HAVING");
    if (col < 0) return -1;
    int i = hx_new(m, SW_HX_COL);
    if (i < 0) return -1;
    m->sp->having[i].ref = (sw_mref){(int16_t)col, false};
    return i;
}

/* Node i gets operands a (and b). */
static int set_kids(sw_mp *m, int i, int a, int b)
{
    if (i < 0 || a < 0 || b == -2) return -1;
    m->sp->having[i].a = (int16_t)a;
    m->sp->having[i].b = (int16_t)b;
    return i;
}

static int binary(sw_mp *m, sw_hx_op op, const PgQuery__Node *l, const PgQuery__Node *r)
{
    int i = hx_new(m, op);
    if (i < 0) return -1;
    int a = operand(m, l);
    int b = a < 0 ? -2 : operand(m, r);
    return set_kids(m, i, a, b < 0 ? -2 : b);
}

static int pred(sw_mp *m, const PgQuery__Node *n);

/* args[k..n) joined by op (AND/OR), nested to the right. */
static int chain(sw_mp *m, sw_hx_op op, PgQuery__Node *const *args, size_t k, size_t n)
{
    if (k + 1 == n) return pred(m, args[k]);
    int i = hx_new(m, op);
    if (i < 0) return -1;
    int a = pred(m, args[k]);
    int b = a < 0 ? -2 : chain(m, op, args, k + 1, n);
    return set_kids(m, i, a, b < 0 ? -2 : b);
}

static sw_hx_op cmp_op(const char *s)
{
    static const struct {
        const char *name;
        sw_hx_op op;
    } ops[] = {{"=", SW_HX_EQ}, {"<>", SW_HX_NE}, {"!=", SW_HX_NE}, {"<", SW_HX_LT},
               {"<=", SW_HX_LE}, {">", SW_HX_GT},  {">=", SW_HX_GE}};
    for (size_t i = 0; s && i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(s, ops[i].name) == 0) return ops[i].op;
    return 0;
}

static int between(sw_mp *m, const PgQuery__AExpr *e, bool negate)
{
    const PgQuery__Node *r = e->rexpr;
    if (!e->lexpr || !r || r->node_case != PG_QUERY__NODE__NODE_LIST || r->list->n_items != 2) return unsupported(m);
    int root = negate ? hx_new(m, SW_HX_NOT) : -1;
    if (negate && root < 0) return -1;
    int conj = hx_new(m, SW_HX_AND);
    if (conj < 0) return -1;
    int ge = binary(m, SW_HX_GE, e->lexpr, r->list->items[0]);
    int le = ge < 0 ? -1 : binary(m, SW_HX_LE, e->lexpr, r->list->items[1]);
    if (set_kids(m, conj, ge, le < 0 ? -2 : le) < 0) return -1;
    return negate ? set_kids(m, root, conj, -1) : conj;
}

static int pred(sw_mp *m, const PgQuery__Node *n)
{
    if (!n) return unsupported(m);
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_BOOL_EXPR: {
        const PgQuery__BoolExpr *b = n->bool_expr;
        if (!b->n_args) return unsupported(m);
        switch (b->boolop) {
        case PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR: return chain(m, SW_HX_AND, b->args, 0, b->n_args);
        case PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR: return chain(m, SW_HX_OR, b->args, 0, b->n_args);
        case PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR: {
            int i = hx_new(m, SW_HX_NOT);
            if (i < 0) return -1;
            return set_kids(m, i, pred(m, b->args[0]), -1);
        }
        default: return unsupported(m);
        }
    }
    case PG_QUERY__NODE__NODE_A_EXPR: {
        const PgQuery__AExpr *e = n->a_expr;
        switch (e->kind) {
        case PG_QUERY__A__EXPR__KIND__AEXPR_OP: {
            sw_hx_op op = e->n_name == 1 ? cmp_op(sw_mp_str(e->name[0])) : 0;
            if (!op || !e->lexpr || !e->rexpr) return unsupported(m);
            return binary(m, op, e->lexpr, e->rexpr);
        }
        case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN: return between(m, e, false);
        case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN: return between(m, e, true);
        default: return unsupported(m);
        }
    }
    case PG_QUERY__NODE__NODE_NULL_TEST: {
        const PgQuery__NullTest *t = n->null_test;
        int i = hx_new(m, t->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NULL ? SW_HX_ISNULL : SW_HX_NOTNULL);
        if (i < 0) return -1;
        return set_kids(m, i, operand(m, t->arg), -1);
    }
    case PG_QUERY__NODE__NODE_FUNC_CALL: {
        /* HAVING bool_and(x): the aggregate is the condition */
        int k = sw_mp_agg_kind(n->func_call);
        if (k != SW_AGG_BOOL_AND && k != SW_AGG_BOOL_OR) return unsupported(m);
        int i = hx_new(m, SW_HX_EQ);
        if (i < 0) return -1;
        int a = operand(m, n);
        int b = a < 0 ? -1 : hx_new(m, SW_HX_CONST);
        if (b >= 0 && !(m->sp->having[b].text = strdup("true"))) return sw_mp_oom(m);
        return set_kids(m, i, a, b < 0 ? -2 : b);
    }
    default: return unsupported(m);
    }
}

int sw_mp_having(sw_mp *m, const PgQuery__Node *h)
{
    return pred(m, h) < 0 ? -1 : 0;
}
