/*
 * merge_plan.c - the cross-shard merge planner (sw_merge_plan, sw/merge.h):
 * parse the SELECT, refuse what shards cannot answer exactly
 * (merge_check.c), then plan either a grouped merge (merge_group.c,
 * merge_having.c) or a merge of final rows: ORDER BY items resolved to
 * result columns (hidden ones appended when the select list lacks them),
 * LIMIT/OFFSET pushed down as LIMIT limit + offset, DISTINCT and DISTINCT
 * ON.  The rewritten tree is deparsed into the text every shard runs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge_int.h"

int sw_mp_fail(sw_mp *m, const char *sqlstate, const char *fmt, ...)
{
    if (m->failed) return -1;
    m->failed = true;
    memcpy(m->sqlstate, sqlstate, 6);
    if (m->msg && m->msgsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->msg, m->msgsz, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int sw_mp_oom(sw_mp *m)
{
    return sw_mp_fail(m, "53200", "out of memory planning a cross-shard merge");
}

int sw_mp_grow(sw_mp *m, void **arr, int *cap, int n, size_t sz)
{
    if (n < *cap) return 0;
    int ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, (size_t)ncap * sz);
    if (!p) return sw_mp_oom(m);
    *arr = p;
    *cap = ncap;
    return 0;
}

void sw_mp_drop(PgQuery__Node **slot)
{
    if (*slot) protobuf_c_message_free_unpacked(&(*slot)->base, NULL);
    *slot = NULL;
}

void sw_mp_drop_list(PgQuery__Node ***v, size_t *n)
{
    for (size_t i = 0; i < *n; i++) sw_mp_drop(&(*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

/* ------------------------------------------------------------ LIMIT */

/* A whole number written as text (a numeric or string literal). */
static bool parse_int(const char *s, int64_t *v)
{
    if (!s || !*s) return false;
    const char *p = s;
    if (*p == '-' || *p == '+') p++;
    if (!*p) return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9') return false;
    errno = 0;
    long long x = strtoll(s, NULL, 10);
    if (errno) return false;
    *v = x;
    return true;
}

int sw_mp_limit(sw_mp *m, const PgQuery__Node *n, bool offset, sw_mlimit *out)
{
    const char *what = offset ? "OFFSET" : "LIMIT";
    out->present = false;
    out->param = -1;
    out->value = 0;
    while (n && n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) n = n->type_cast->arg;
    if (!n) return 0;
    if (n->node_case == PG_QUERY__NODE__NODE_PARAM_REF && n->param_ref->number >= 1) {
        out->present = true;
        out->param = n->param_ref->number - 1;
        return 0;
    }
    if (n->node_case == PG_QUERY__NODE__NODE_A_CONST) {
        const PgQuery__AConst *c = n->a_const;
        if (c->isnull) return 0; /* LIMIT ALL, LIMIT NULL: no limit */
        int64_t v = 0;
        bool ok = true;
        switch (c->val_case) {
        case PG_QUERY__A__CONST__VAL_IVAL: v = c->ival->ival; break;
        case PG_QUERY__A__CONST__VAL_FVAL: ok = parse_int(c->fval->fval, &v); break;
        case PG_QUERY__A__CONST__VAL_SVAL: ok = parse_int(c->sval->sval, &v); break;
        default: ok = false; break;
        }
        if (ok) {
            if (v < 0)
                return sw_mp_fail(m, offset ? "2201X" : "2201W", "%s must not be negative", what);
            out->present = true;
            out->value = v;
            return 0;
        }
    }
    return sw_mp_fail(m, "0A000", "%s other than a constant or a parameter is not supported across shards", what);
}

/* A LIMIT or OFFSET value as a shard-text node: a constant, or the
 * parameter as bigint (what PostgreSQL infers for LIMIT $n; the cast keeps
 * $1 + $2 from being an ambiguous unknown + unknown). */
static PgQuery__Node *limit_node(sw_mp *m, const sw_mlimit *l)
{
    if (l->param >= 0) return sw_mp_cast(m, sw_mp_param(m, l->param + 1), "int8");
    return sw_mp_int(m, l->value);
}

/* Shards return limit + offset rows (no OFFSET) when keep, all rows
 * otherwise; the merger skips and cuts. */
static int push_limit(sw_mp *m, bool keep)
{
    PgQuery__SelectStmt *s = m->s;
    const sw_mlimit *l = &m->sp->limit, *o = &m->sp->offset;
    if (keep && l->present && o->present) {
        PgQuery__Node *sum;
        if (l->param < 0 && o->param < 0)
            sum = sw_mp_int(m, l->value > INT64_MAX - o->value ? INT64_MAX : l->value + o->value);
        else
            sum = sw_mp_binop(m, "+", limit_node(m, l), limit_node(m, o));
        if (!sum) return -1;
        sw_mp_drop(&s->limit_count);
        s->limit_count = sum;
        sw_mp_drop(&s->limit_offset);
    } else if (keep && l->present) {
        sw_mp_drop(&s->limit_offset);
    } else {
        sw_mp_drop(&s->limit_count);
        sw_mp_drop(&s->limit_offset);
        s->limit_option = PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_DEFAULT;
    }
    return 0;
}

/* ------------------------------------------------------------ row merge */

int sw_mp_add_sort(sw_mp *m, sw_mref ref, bool desc, bool nulls_first)
{
    sw_merge_spec *sp = m->sp;
    if (sw_mp_grow(m, (void **)&sp->sort, &m->cap_sort, sp->n_sort, sizeof *sp->sort) < 0) return -1;
    sp->sort[sp->n_sort++] = (sw_sortkey){ref, desc, nulls_first};
    return 0;
}

int sw_mp_sortby(sw_mp *m, const PgQuery__SortBy *sb, bool *desc, bool *nulls_first)
{
    if (sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING || sb->n_use_op)
        return sw_mp_fail(m, "0A000", "ORDER BY ... USING is not supported across shards");
    *desc = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
    if (sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST) *nulls_first = true;
    else if (sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST) *nulls_first = false;
    else *nulls_first = *desc;
    return 0;
}

/* Targets that name/expression matching may use: those before the first
 * '*' (a '*' stands for columns we cannot count). */
static int matchable(const sw_mp *m)
{
    return m->first_star >= 0 ? m->first_star : m->n_vis;
}

/* The result column an ORDER BY or DISTINCT ON item refers to (rows
 * merge): a visible one by position, output name or expression, else an
 * appended hidden one.  0 or -1. */
static int row_ref(sw_mp *m, const PgQuery__Node *n, const char *what, sw_mref *ref)
{
    PgQuery__SelectStmt *s = m->s;
    int lim = matchable(m);
    if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        int k = n->a_const->ival->ival;
        if (k < 1 || (m->first_star < 0 && k > m->n_vis) || k > SW_MP_MAX_COLS)
            return sw_mp_fail(m, "42P10", "%s position %d is not in select list", what, k);
        *ref = (sw_mref){(int16_t)(k - 1), false};
        return 0;
    }
    if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields == 1) {
        const char *x = sw_mp_str(n->column_ref->fields[0]);
        for (int i = 0; x && i < lim; i++) {
            const char *name = sw_mp_target_name(s->target_list[i]->res_target);
            if (name && strcmp(name, x) == 0) {
                *ref = (sw_mref){(int16_t)i, false};
                return 0;
            }
        }
    }
    for (int i = 0; i < lim; i++)
        if (sw_mp_equal(sw_mp_target(m, i), n)) {
            *ref = (sw_mref){(int16_t)i, false};
            return 0;
        }
    for (int i = m->n_vis; i < (int)s->n_target_list; i++)
        if (sw_mp_equal(sw_mp_target(m, i), n)) {
            *ref = (sw_mref){(int16_t)(i - m->n_vis), true};
            return 0;
        }
    int t = sw_mp_add_hidden(m, sw_mp_copy(m, n));
    if (t < 0) return -1;
    *ref = (sw_mref){(int16_t)(t - m->n_vis), true};
    return 0;
}

static int plan_rows(sw_mp *m, bool plain_distinct)
{
    PgQuery__SelectStmt *s = m->s;
    sw_merge_spec *sp = m->sp;
    sp->distinct = plain_distinct;
    if (!plain_distinct) {
        for (size_t i = 0; i < s->n_distinct_clause; i++) {
            sw_mref r = {0, false};
            if (row_ref(m, s->distinct_clause[i], "SELECT DISTINCT ON", &r) < 0) return -1;
            if (sw_mp_grow(m, (void **)&sp->distinct_on, &m->cap_don, sp->n_distinct_on, sizeof r) < 0) return -1;
            sp->distinct_on[sp->n_distinct_on++] = r;
        }
    }
    for (size_t i = 0; i < s->n_sort_clause; i++) {
        const PgQuery__Node *n = s->sort_clause[i];
        if (n->node_case != PG_QUERY__NODE__NODE_SORT_BY || !n->sort_by->node)
            return sw_mp_fail(m, "0A000", "this ORDER BY is not supported across shards");
        bool desc = false, nf = false;
        sw_mref r = {0, false};
        if (sw_mp_sortby(m, n->sort_by, &desc, &nf) < 0 || row_ref(m, n->sort_by->node, "ORDER BY", &r) < 0)
            return -1;
        if (plain_distinct && r.hidden && m->first_star >= 0)
            return sw_mp_fail(m, "0A000", "SELECT DISTINCT * with ORDER BY other than positions is not supported "
                                          "across shards: list the columns");
        if (plain_distinct && r.hidden)
            return sw_mp_fail(m, "42P10", "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
        if (sw_mp_add_sort(m, r, desc, nf) < 0) return -1;
    }
    if (sp->n_distinct_on && !s->n_sort_clause) {
        /* PostgreSQL sorts by the DISTINCT ON expressions to find the first
         * row of each; the shards do the same, explicitly, for the merge */
        for (size_t i = 0; i < s->n_distinct_clause; i++) {
            PgQuery__Node *e = sw_mp_copy(m, s->distinct_clause[i]);
            PgQuery__SortBy *sb = e ? malloc(sizeof *sb) : NULL;
            if (!sb) {
                if (e) protobuf_c_message_free_unpacked(&e->base, NULL);
                return sw_mp_oom(m);
            }
            pg_query__sort_by__init(sb);
            sb->node = e;
            sb->sortby_dir = PG_QUERY__SORT_BY_DIR__SORTBY_DEFAULT;
            sb->sortby_nulls = PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_DEFAULT;
            sb->location = -1;
            if (sw_mp_push(m, &s->sort_clause, &s->n_sort_clause, sw_mp_wrap(m, PG_QUERY__NODE__NODE_SORT_BY, sb)) < 0)
                return -1;
            if (sw_mp_add_sort(m, sp->distinct_on[i], false, false) < 0) return -1;
        }
    }
    sp->sorted_streams = sp->n_sort > 0 && !plain_distinct;
    /* a global top-N row is among its shard's top N; without ORDER BY a
     * DISTINCT's first N rows are not */
    return push_limit(m, !(plain_distinct && !sp->n_sort));
}

/* ------------------------------------------------------------ the planner */

static bool has_grouping_sets(const PgQuery__SelectStmt *s)
{
    for (size_t i = 0; i < s->n_group_clause; i++)
        if (s->group_clause[i]->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) return true;
    return false;
}

static bool spec_trivial(const sw_mp *m)
{
    const sw_merge_spec *sp = m->sp;
    return !sp->grouped && !sp->distinct && !sp->n_distinct_on && !sp->n_sort && !sp->limit.present &&
           !sp->offset.present && !m->n_hidden;
}

static int deparse(sw_mp *m, PgQuery__ParseResult *tree, char **out)
{
    size_t len = pg_query__parse_result__get_packed_size(tree);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return sw_mp_oom(m);
    pg_query__parse_result__pack(tree, buf);
    PgQueryProtobuf pb = {len, (char *)buf};
    PgQueryDeparseResult d = pg_query_deparse_protobuf(pb);
    free(buf);
    int rc = 0;
    if (d.error) rc = sw_mp_fail(m, "XX000", "cannot write the shard statement: %s", d.error->message);
    else if (!d.query || !(*out = strdup(d.query))) rc = sw_mp_oom(m);
    pg_query_free_deparse_result(d);
    return rc;
}

int sw_mp_plan_select(sw_mp *m)
{
    PgQuery__SelectStmt *s = m->s;
    /* joins and subqueries first: the nested checks rely on what it finds
     * exact, and report their own refusals first (they are more specific) */
    bool coloc_ok = sw_mp_check_coloc(m, s) == 0;
    if (m->failed) return -1;
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE && s->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED) {
        int rc = sw_mp_check_setop(m, s);
        return rc < 0 || coloc_ok ? rc : sw_mp_fail(m, "0A000", "%s", m->coloc_msg);
    }
    m->scope.with = s->with_clause;
    if (sw_mp_check_nested(m) < 0) return -1;
    if (!coloc_ok) return sw_mp_fail(m, "0A000", "%s", m->coloc_msg);
    if (s->n_values_lists) {
        if (s->n_sort_clause || s->limit_count || s->limit_offset || s->n_distinct_clause)
            return sw_mp_fail(m, "0A000", "VALUES with ORDER BY, LIMIT or DISTINCT is not supported across shards");
        return 1;
    }
    sw_mp_tabs_collect(m, s->from_clause, s->n_from_clause, &m->scope, &m->tabs);
    m->n_vis = (int)s->n_target_list;
    m->first_star = -1;
    for (int i = 0; i < m->n_vis; i++) {
        const PgQuery__Node *t = s->target_list[i];
        if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET)
            return sw_mp_fail(m, "0A000", "this select list is not supported across shards");
        const PgQuery__Node *v = t->res_target->val;
        if (v && v->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && v->column_ref->n_fields &&
            v->column_ref->fields[v->column_ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR &&
            m->first_star < 0)
            m->first_star = i;
    }
    bool aggs = s->having_clause || sw_mp_list_has_agg(s->target_list, s->n_target_list) ||
                sw_mp_list_has_agg(s->sort_clause, s->n_sort_clause);
    if (has_grouping_sets(s))
        return sw_mp_fail(m, "0A000", "GROUPING SETS, ROLLUP and CUBE are not supported across shards");
    bool per_shard = sw_mp_groups_per_shard(s, &m->tabs);
    bool grouped = !per_shard && (s->n_group_clause || aggs);
    int win = sw_mp_windows(s, &m->tabs);
    if (win && (grouped || win == 2))
        return sw_mp_fail(m, "0A000", "window functions are not supported across shards%s",
                          grouped ? "" : ": partition by the shard key");
    if (s->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES)
        return sw_mp_fail(m, "0A000", "FETCH FIRST ... WITH TIES is not supported across shards");
    if (sw_mp_limit(m, s->limit_count, false, &m->sp->limit) < 0 ||
        sw_mp_limit(m, s->limit_offset, true, &m->sp->offset) < 0)
        return -1;
    bool plain_distinct = s->n_distinct_clause == 1 && !sw_node_msg(s->distinct_clause[0]);
    int rc = grouped ? sw_mp_plan_grouped(m, plain_distinct) : plan_rows(m, plain_distinct);
    if (rc < 0) return -1;
    if (spec_trivial(m)) return 1;
    if (s->into_clause) return sw_mp_fail(m, "0A000", "SELECT INTO is not supported across shards");
    return 0;
}

int sw_merge_plan(const char *sql, size_t len, sw_merge_key_fn key_of, void *ctx, sw_merge_spec **spec,
                  char **shard_sql, char sqlstate[6], char *msg, size_t msgsz)
{
    (void)len;
    *spec = NULL;
    *shard_sql = NULL;
    sw_mp m;
    memset(&m, 0, sizeof m);
    m.key_of = key_of;
    m.ctx = ctx;
    m.sqlstate = sqlstate;
    m.msg = msg;
    m.msgsz = msgsz;
    if (msg && msgsz) msg[0] = '\0';

    PgQueryProtobufParseResult pr = pg_query_parse_protobuf(sql);
    if (pr.error) {
        sw_mp_fail(&m, "42601", "%s", pr.error->message ? pr.error->message : "syntax error");
        pg_query_free_protobuf_parse_result(pr);
        return -1;
    }
    PgQuery__ParseResult *tree =
        pg_query__parse_result__unpack(NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
    pg_query_free_protobuf_parse_result(pr);
    if (!tree) return sw_mp_oom(&m);
    int rc = 1;
    const PgQuery__Node *st = tree->n_stmts == 1 && tree->stmts[0] ? tree->stmts[0]->stmt : NULL;
    if (st && st->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
        m.s = st->select_stmt;
        m.sp = calloc(1, sizeof *m.sp);
        if (!m.sp) rc = sw_mp_oom(&m);
        else rc = sw_mp_plan_select(&m);
        if (rc == 0) {
            m.sp->n_hidden = m.n_hidden;
            if (deparse(&m, tree, shard_sql) < 0) rc = -1;
        }
        if (rc == 0) {
            *spec = m.sp;
        } else {
            sw_merge_spec_free(m.sp);
        }
    }
    pg_query__parse_result__free_unpacked(tree, NULL);
    return rc;
}
