/*
 * merge_group.c - planning a grouped merge: groups span shards, so each
 * shard returns its partial groups and the merger combines them by key.
 * Every result column gets a kind (group key, per-group constant, or an
 * aggregate and its inputs); avg and variance/stddev gain hidden partial
 * columns (count, sums), GROUP BY expressions missing from the select list
 * become hidden key columns, and ORDER BY/HAVING operands are found among
 * the columns or appended.  The shard text loses HAVING, ORDER BY,
 * DISTINCT and LIMIT/OFFSET: they apply to whole groups only.
 */
#include <stdlib.h>
#include <string.h>

#include "merge_int.h"

/* Column i of the spec (zeroed when new); NULL when out of memory. */
static sw_mcol *col_at(sw_mp *m, int i)
{
    sw_merge_spec *sp = m->sp;
    while (sp->n_cols <= i) {
        if (sw_mp_grow(m, (void **)&sp->cols, &m->cap_cols, sp->n_cols, sizeof *sp->cols) < 0) return NULL;
        memset(&sp->cols[sp->n_cols++], 0, sizeof *sp->cols);
    }
    return &sp->cols[i];
}

/* Append a hidden column computing val, of kind k.  Its index, or -1. */
static int hidden_col(sw_mp *m, PgQuery__Node *val, sw_mcol_kind k)
{
    int t = sw_mp_add_hidden(m, val);
    sw_mcol *c = t >= 0 ? col_at(m, t) : NULL;
    if (!c) return -1;
    c->kind = (uint8_t)k;
    return t;
}

enum { PART_PLAIN, PART_NUMERIC, PART_SQUARE };

/* A hidden partial of aggregate column col: the same call (arguments,
 * DISTINCT, FILTER) named fname, its argument x as is, as x::numeric or
 * as x::numeric * x::numeric.  Its index, or -1. */
static int add_part(sw_mp *m, int col, const char *fname, int how)
{
    PgQuery__Node *n = sw_mp_copy(m, sw_mp_target(m, col));
    if (!n) return -1;
    PgQuery__FuncCall *f = n->func_call;
    sw_mp_drop_list(&f->funcname, &f->n_funcname);
    if (sw_mp_push(m, &f->funcname, &f->n_funcname, sw_mp_string(m, fname)) < 0) goto fail;
    if (how != PART_PLAIN) {
        PgQuery__Node *x = f->args[0];
        f->args[0] = NULL;
        PgQuery__Node *x2 = how == PART_SQUARE ? sw_mp_copy(m, x) : NULL;
        if (how == PART_SQUARE && !x2) {
            protobuf_c_message_free_unpacked(&x->base, NULL);
            goto fail;
        }
        PgQuery__Node *e = sw_mp_cast(m, x, "numeric");
        if (how == PART_SQUARE) e = sw_mp_binop(m, "*", e, sw_mp_cast(m, x2, "numeric"));
        if (!e) goto fail;
        f->args[0] = e;
    }
    /* avg(x) and stddev(x) share count(x): one column serves both */
    for (int i = m->n_vis; i < (int)m->s->n_target_list; i++)
        if (m->sp->cols[i].kind == SW_MC_PART && sw_mp_equal(sw_mp_target(m, i), n)) {
            protobuf_c_message_free_unpacked(&n->base, NULL);
            return i;
        }
    return hidden_col(m, n, SW_MC_PART);
fail:
    protobuf_c_message_free_unpacked(&n->base, NULL);
    return -1;
}

/* Column col (a target) is the aggregate call f: its kind and partials. */
static int agg_col(sw_mp *m, int col)
{
    const PgQuery__FuncCall *f = sw_mp_target(m, col)->func_call;
    const char *name = sw_mp_func_name(f);
    int kind = sw_mp_agg_kind(f);
    if (!name) name = "?";
    if (!kind) return sw_mp_fail(m, "0A000", "aggregate %s is not supported across shards", name);
    bool var = kind >= SW_AGG_VAR_SAMP;
    if ((kind == SW_AGG_AVG || var) && f->n_args != 1)
        return sw_mp_fail(m, "0A000", "aggregate %s is not supported across shards", name);
    if (f->agg_distinct) {
        switch (kind) {
        case SW_AGG_MIN:
        case SW_AGG_MAX:
        case SW_AGG_BOOL_AND:
        case SW_AGG_BOOL_OR: break; /* duplicates do not change them */
        case SW_AGG_COUNT:
        case SW_AGG_SUM:
        case SW_AGG_AVG:
            /* a shard key value never repeats across shards */
            if (f->n_args == 1 && sw_mp_is_key(&m->tabs, f->args[0], true)) break;
            return sw_mp_fail(m, "0A000",
                              "%s(DISTINCT x) across shards needs x to be the shard key or a GROUP BY including "
                              "the shard key", name);
        default: return sw_mp_fail(m, "0A000", "%s(DISTINCT ...) is not supported across shards", name);
        }
    }
    sw_mcol *c = col_at(m, col);
    if (!c) return -1;
    *c = (sw_mcol){SW_MC_AGG, (uint8_t)kind, {{(int16_t)col, false}, {0, false}, {0, false}}};
    if (kind == SW_AGG_AVG || var) {
        int a0 = add_part(m, col, "count", PART_PLAIN);
        int a1 = a0 < 0 ? -1 : add_part(m, col, "sum", var ? PART_NUMERIC : PART_PLAIN);
        int a2 = a1 < 0 ? -1 : var ? add_part(m, col, "sum", PART_SQUARE) : col;
        if (a2 < 0) return -1;
        c = &m->sp->cols[col];
        c->arg[0] = (sw_mref){(int16_t)a0, false};
        c->arg[1] = (sw_mref){(int16_t)a1, false};
        c->arg[2] = (sw_mref){(int16_t)a2, false};
    }
    return 0;
}

/* Is name the name of an input column somewhere in the statement (other
 * than in the GROUP BY item self and in ORDER BY)? */
static bool input_column(const sw_mp *m, const char *name, const PgQuery__Node *self)
{
    const PgQuery__SelectStmt *s = m->s;
    for (size_t i = 0; i < s->n_target_list; i++)
        if (sw_mp_uses_column(s->target_list[i], name)) return true;
    for (size_t i = 0; i < s->n_group_clause; i++)
        if (s->group_clause[i] != self && sw_mp_uses_column(s->group_clause[i], name)) return true;
    /* not ORDER BY: there a bare name is the output column first */
    for (size_t i = 0; i < s->n_from_clause; i++)
        if (sw_mp_uses_column(s->from_clause[i], name)) return true;
    return sw_mp_uses_column(s->where_clause, name) || sw_mp_uses_column(s->having_clause, name);
}

/* The target a GROUP BY item stands for, -1 for none, -2 on error. */
static int group_target(sw_mp *m, const PgQuery__Node *g)
{
    if (g->node_case == PG_QUERY__NODE__NODE_A_CONST && g->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        int k = g->a_const->ival->ival;
        if (k < 1 || k > m->n_vis) {
            sw_mp_fail(m, "42P10", "GROUP BY position %d is not in select list", k);
            return -2;
        }
        return k - 1;
    }
    if (g->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && g->column_ref->n_fields == 1) {
        /* In GROUP BY an input column wins over an output name; an output
         * name is taken when the target is that column, or when the name
         * is used nowhere else as a column. */
        const char *x = sw_mp_str(g->column_ref->fields[0]);
        for (int i = 0; x && i < m->n_vis; i++) {
            const char *name = sw_mp_target_name(m->s->target_list[i]->res_target);
            if (!name || strcmp(name, x) != 0) continue;
            const PgQuery__Node *v = sw_mp_target(m, i);
            bool same = v && v->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && sw_mp_uses_column(v, x);
            if (same || !input_column(m, x, g)) return i;
            break;
        }
    }
    for (int i = 0; i < m->n_vis; i++)
        if (sw_mp_equal(sw_mp_target(m, i), g)) return i;
    return -1;
}

int sw_mp_group_col(sw_mp *m, const PgQuery__Node *n, bool by_name, const char *what)
{
    PgQuery__SelectStmt *s = m->s;
    if (by_name && n->node_case == PG_QUERY__NODE__NODE_A_CONST &&
        n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        int k = n->a_const->ival->ival;
        if (k < 1 || k > m->n_vis) return sw_mp_fail(m, "42P10", "%s position %d is not in select list", what, k);
        return k - 1;
    }
    if (by_name && n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields == 1) {
        const char *x = sw_mp_str(n->column_ref->fields[0]);
        for (int i = 0; x && i < m->n_vis; i++) {
            const char *name = sw_mp_target_name(s->target_list[i]->res_target);
            if (name && strcmp(name, x) == 0) return i;
        }
    }
    for (int i = 0; i < (int)s->n_target_list; i++)
        if (m->sp->cols[i].kind != SW_MC_PART && sw_mp_equal(sw_mp_target(m, i), n)) return i;
    if (n->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && sw_mp_is_agg(n->func_call)) {
        int t = hidden_col(m, sw_mp_copy(m, n), SW_MC_AGG);
        if (t < 0 || agg_col(m, t) < 0) return -1;
        return t;
    }
    const PgQuery__FuncCall *inner = sw_mp_find_agg(n);
    if (inner) {
        const char *name = sw_mp_func_name(inner);
        return sw_mp_fail(m, "0A000",
                          "%s with an expression over an aggregate (%s(...)) is not supported across shards; use the "
                          "aggregate itself", what, name ? name : "?");
    }
    if (sw_mp_has_sublink_or_param(n))
        return sw_mp_fail(m, "0A000",
                          "%s with a subquery or a parameter is not supported across shards in a grouped query", what);
    /* PostgreSQL accepts it only as a function of the group key: the same
     * on every partial of a group */
    return hidden_col(m, sw_mp_copy(m, n), SW_MC_ANY);
}

static int plan_targets(sw_mp *m, const int *gt)
{
    PgQuery__SelectStmt *s = m->s;
    if (m->n_vis && !col_at(m, m->n_vis - 1)) return -1;
    for (int i = 0; i < m->n_vis; i++) {
        const PgQuery__Node *v = sw_mp_target(m, i);
        bool key = false;
        for (size_t g = 0; g < s->n_group_clause && !key; g++)
            key = gt[g] == i || sw_mp_equal(s->group_clause[g], v);
        if (key) {
            m->sp->cols[i].kind = SW_MC_GROUP;
        } else if (v && v->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && sw_mp_is_agg(v->func_call)) {
            if (agg_col(m, i) < 0) return -1;
        } else {
            const PgQuery__FuncCall *inner = sw_mp_find_agg(v);
            if (inner) {
                const char *name = v->node_case == PG_QUERY__NODE__NODE_FUNC_CALL ? sw_mp_func_name(v->func_call)
                                                                                   : sw_mp_func_name(inner);
                return sw_mp_fail(m, "0A000",
                                  "an expression over an aggregate (%s(...)) is not supported across shards; select "
                                  "the aggregate itself", name ? name : "?");
            }
            m->sp->cols[i].kind = SW_MC_ANY;
        }
    }
    /* GROUP BY expressions the select list lacks: hidden key columns */
    for (size_t g = 0; g < s->n_group_clause; g++) {
        if (gt[g] >= 0) continue;
        bool have = false;
        for (int i = m->n_vis; i < (int)s->n_target_list && !have; i++)
            have = m->sp->cols[i].kind == SW_MC_GROUP && sw_mp_equal(sw_mp_target(m, i), s->group_clause[g]);
        if (!have && hidden_col(m, sw_mp_copy(m, s->group_clause[g]), SW_MC_GROUP) < 0) return -1;
    }
    return 0;
}

int sw_mp_plan_grouped(sw_mp *m, bool plain_distinct)
{
    PgQuery__SelectStmt *s = m->s;
    sw_merge_spec *sp = m->sp;
    if (m->first_star >= 0)
        return sw_mp_fail(m, "0A000", "SELECT * with GROUP BY or aggregates is not supported across shards: list the "
                                      "columns");
    if (s->n_distinct_clause && !plain_distinct)
        return sw_mp_fail(m, "0A000", "DISTINCT ON with GROUP BY or aggregates is not supported across shards");
    sp->grouped = true;
    sp->distinct = plain_distinct;

    int *gt = s->n_group_clause ? malloc(s->n_group_clause * sizeof *gt) : NULL;
    if (s->n_group_clause && !gt) return sw_mp_oom(m);
    int rc = 0;
    for (size_t g = 0; g < s->n_group_clause && rc == 0; g++)
        if ((gt[g] = group_target(m, s->group_clause[g])) == -2) rc = -1;
    if (rc == 0) rc = plan_targets(m, gt);
    free(gt);
    if (rc < 0) return -1;

    for (size_t i = 0; i < s->n_sort_clause; i++) {
        const PgQuery__Node *n = s->sort_clause[i];
        if (n->node_case != PG_QUERY__NODE__NODE_SORT_BY || !n->sort_by->node)
            return sw_mp_fail(m, "0A000", "this ORDER BY is not supported across shards");
        bool desc = false, nf = false;
        if (sw_mp_sortby(m, n->sort_by, &desc, &nf) < 0) return -1;
        int c = sw_mp_group_col(m, n->sort_by->node, true, "ORDER BY");
        if (c < 0) return -1;
        if (plain_distinct && c >= m->n_vis)
            return sw_mp_fail(m, "42P10", "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
        if (sw_mp_add_sort(m, (sw_mref){(int16_t)c, false}, desc, nf) < 0) return -1;
    }
    if (s->having_clause) {
        if (sw_mp_having(m, s->having_clause) < 0) return -1;
        sw_mp_drop(&s->having_clause);
    }
    /* whole groups only exist after the merge */
    sw_mp_drop_list(&s->sort_clause, &s->n_sort_clause);
    sw_mp_drop_list(&s->distinct_clause, &s->n_distinct_clause);
    sw_mp_drop(&s->limit_count);
    sw_mp_drop(&s->limit_offset);
    s->limit_option = PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_DEFAULT;
    sp->n_cols = (int)s->n_target_list;
    return 0;
}
