/*
 * merge_write.c - writes that run on several shards (sw_merge_check_write,
 * sw/merge.h).  Every shard updates, deletes or inserts over its own rows
 * only, so a subquery or a join that reads a sharded table is answered
 * from that shard's rows alone: exact only when it is co-located with the
 * target row on the shard key, as for a SELECT's.  Nothing is merged here;
 * the write is either safe as it is or refused (0A000).
 *
 * The checks are the SELECT planner's (merge_check.c, merge_coloc.c): an
 * UPDATE/DELETE is looked at as the SELECT that would read the same rows,
 * FROM the target table plus its UPDATE ... FROM / DELETE ... USING items,
 * WHERE its WHERE, selecting its SET expressions and RETURNING list.  That
 * SELECT borrows the statement's nodes and is never freed as a tree.  An
 * INSERT's SELECT must need no merge at all.
 */
#include <stdlib.h>
#include <string.h>

#include "merge_int.h"

static void mp_init(sw_mp *m, sw_merge_key_fn key_of, void *ctx, char *sqlstate, char *msg, size_t msgsz)
{
    memset(m, 0, sizeof *m);
    m->key_of = key_of;
    m->ctx = ctx;
    m->sqlstate = sqlstate;
    m->msg = msg;
    m->msgsz = msgsz;
}

/* Append the n nodes of v to out (borrowed pointers). */
static void append(PgQuery__Node **out, size_t *k, PgQuery__Node *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) out[(*k)++] = v[i];
}

/* The joins and subqueries of "SELECT targets FROM rel, from WHERE where"
 * (with the statement's WITH) are exact on each shard.  0 or -1. */
static int check_as_select(sw_mp *m, PgQuery__WithClause *with, PgQuery__RangeVar *rel, PgQuery__Node *const *from,
                           size_t n_from, PgQuery__Node *const *t1, size_t n_t1, PgQuery__Node *const *t2, size_t n_t2,
                           PgQuery__Node *where)
{
    PgQuery__Node relnode;
    pg_query__node__init(&relnode);
    relnode.node_case = PG_QUERY__NODE__NODE_RANGE_VAR;
    relnode.range_var = rel;

    PgQuery__Node **fv = malloc((n_from + 1) * sizeof *fv);
    PgQuery__Node **tv = malloc((n_t1 + n_t2 + 1) * sizeof *tv);
    if (!fv || !tv) {
        free(fv);
        free(tv);
        return sw_mp_oom(m);
    }
    size_t nf = 0, nt = 0;
    if (rel) fv[nf++] = &relnode;
    append(fv, &nf, from, n_from);
    append(tv, &nt, t1, n_t1);
    append(tv, &nt, t2, n_t2);

    PgQuery__SelectStmt s;
    pg_query__select_stmt__init(&s);
    s.with_clause = with;
    s.from_clause = fv;
    s.n_from_clause = nf;
    s.target_list = tv;
    s.n_target_list = nt;
    s.where_clause = where;

    m->s = &s;
    /* as for a SELECT: co-location first (it finds the exact subqueries),
     * the nested checks' more specific refusals before its own */
    bool coloc_ok = sw_mp_check_coloc(m, &s) == 0;
    int rc = 0;
    if (m->failed) {
        rc = -1;
    } else {
        m->scope.with = with;
        if (sw_mp_check_nested(m) < 0) rc = -1;
        else if (!coloc_ok) rc = sw_mp_fail(m, "0A000", "%s", m->coloc_msg);
    }
    m->s = NULL;
    free(fv);
    free(tv);
    return rc;
}

/* INSERT ... SELECT: the SELECT must give each shard's rows as they are
 * (a sort alone is harmless: rows are inserted in any order). */
static int check_insert_select(const sw_mp *outer, const PgQuery__InsertStmt *ins)
{
    sw_mp fresh, *m = &fresh;
    mp_init(m, outer->key_of, outer->ctx, outer->sqlstate, outer->msg, outer->msgsz);
    PgQuery__Node *q = ins->select_stmt;
    if (!q || q->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) return 0;
    PgQuery__SelectStmt *s = q->select_stmt;
    /* the INSERT's CTEs are the SELECT's scope; lent for the check */
    bool lent = !s->with_clause && ins->with_clause;
    if (lent) s->with_clause = ins->with_clause;
    m->s = s;
    m->sp = calloc(1, sizeof *m->sp);
    int rc = m->sp ? sw_mp_plan_select(m) : sw_mp_oom(m);
    if (lent) s->with_clause = NULL;
    if (rc == 0) {
        const sw_merge_spec *sp = m->sp;
        if (sp->grouped || sp->distinct || sp->n_distinct_on || sp->limit.present || sp->offset.present)
            rc = sw_mp_fail(m, "0A000",
                            "INSERT ... SELECT with aggregates, GROUP BY, DISTINCT or LIMIT/OFFSET is not supported "
                            "across shards: each shard would compute its own answer; add a shard key condition or "
                            "group by the shard key");
    }
    sw_merge_spec_free(m->sp);
    m->sp = NULL;
    m->s = NULL;
    return rc < 0 ? -1 : 0;
}

static int check_stmt(sw_mp *m, const PgQuery__Node *st)
{
    switch (st->node_case) {
    case PG_QUERY__NODE__NODE_UPDATE_STMT: {
        const PgQuery__UpdateStmt *u = st->update_stmt;
        return check_as_select(m, u->with_clause, u->relation, u->from_clause, u->n_from_clause, u->target_list,
                               u->n_target_list, u->returning_list, u->n_returning_list, u->where_clause);
    }
    case PG_QUERY__NODE__NODE_DELETE_STMT: {
        const PgQuery__DeleteStmt *d = st->delete_stmt;
        return check_as_select(m, d->with_clause, d->relation, d->using_clause, d->n_using_clause, NULL, 0,
                               d->returning_list, d->n_returning_list, d->where_clause);
    }
    case PG_QUERY__NODE__NODE_INSERT_STMT: {
        const PgQuery__InsertStmt *ins = st->insert_stmt;
        const PgQuery__OnConflictClause *oc = ins->on_conflict_clause;
        /* RETURNING and ON CONFLICT DO UPDATE see the inserted (or
         * conflicting) row of the target table: its shard's */
        if (check_as_select(m, ins->with_clause, ins->relation, NULL, 0, oc ? oc->target_list : NULL,
                            oc ? oc->n_target_list : 0, ins->returning_list, ins->n_returning_list,
                            oc ? oc->where_clause : NULL) < 0)
            return -1;
        return check_insert_select(m, ins);
    }
    default: return 0;
    }
}

int sw_merge_check_write(const char *sql, size_t len, sw_merge_key_fn key_of, void *ctx, char sqlstate[6], char *msg,
                         size_t msgsz)
{
    (void)len;
    if (msg && msgsz) msg[0] = '\0';
    PgQueryProtobufParseResult pr = pg_query_parse_protobuf(sql);
    if (pr.error) {
        /* the router has already answered the client about it */
        pg_query_free_protobuf_parse_result(pr);
        return 0;
    }
    PgQuery__ParseResult *tree =
        pg_query__parse_result__unpack(NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
    pg_query_free_protobuf_parse_result(pr);
    sw_mp m;
    mp_init(&m, key_of, ctx, sqlstate, msg, msgsz);
    if (!tree) return sw_mp_oom(&m);
    int rc = 0;
    for (size_t i = 0; i < tree->n_stmts && rc == 0; i++) {
        const PgQuery__Node *st = tree->stmts[i] ? tree->stmts[i]->stmt : NULL;
        if (!st) continue;
        mp_init(&m, key_of, ctx, sqlstate, msg, msgsz);
        rc = check_stmt(&m, st);
    }
    pg_query__parse_result__free_unpacked(tree, NULL);
    return rc < 0 ? -1 : 0;
}
