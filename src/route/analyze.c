/*
 * analyze.c - from a statement text to a plan (see route_int.h): parse it
 * with libpg_query (protobuf tree), then walk every statement once
 * (walk.c, dml.c, ddl.c) and record its kind, the tables it touches (each with the
 * items of its name for rewriting), the constraint on each sharded table's
 * key (quals.c), INSERT rows and UPDATE key assignments.  Nothing here
 * depends on the values of constants: they are recorded as item
 * references.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

/* ------------------------------------------------------------ statements */

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* DDL by the statement node's name: CREATE/ALTER/DROP/TRUNCATE/... */
static bool ddl_name(const char *n)
{
    static const char *const pre[] = {"Create", "Alter", "Drop", "Truncate", "Rename", "Comment",
                                      "Grant", "Index", "View", "Define", "CompositeType", "Rule",
                                      "SecLabel", "ReassignOwned", "RefreshMatView",
                                      "ImportForeignSchema", NULL};
    for (int i = 0; pre[i]; i++)
        if (has_prefix(n, pre[i])) return true;
    return false;
}

static bool explain_analyze(const PgQuery__ExplainStmt *x)
{
    for (size_t i = 0; i < x->n_options; i++) {
        const PgQuery__Node *o = x->options[i];
        if (o->node_case == PG_QUERY__NODE__NODE_DEF_ELEM && o->def_elem->defname &&
            strcmp(o->def_elem->defname, "analyze") == 0) {
            const PgQuery__Node *arg = o->def_elem->arg;
            /* ANALYZE, ANALYZE true/on/1; false/off/0 turn it off */
            if (!arg) return true;
            const char *s = sw_node_str(arg);
            if (s) return strcmp(s, "false") != 0 && strcmp(s, "off") != 0;
            if (arg->node_case == PG_QUERY__NODE__NODE_BOOLEAN) return arg->boolean->boolval;
            if (arg->node_case == PG_QUERY__NODE__NODE_INTEGER) return arg->integer->ival != 0;
            return true;
        }
    }
    return false;
}

static void analyze_stmt(sw_actx *a, const PgQuery__Node *n, bool top)
{
    sw_pstmt *st = a->st;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
        st->kind = SW_SK_SELECT;
        if (top && sw_local_analyze(a, n)) return;
        sw_walk_select(a, n->select_stmt, NULL, true);
        return;
    case PG_QUERY__NODE__NODE_INSERT_STMT:
        st->kind = SW_SK_INSERT;
        st->write = true;
        sw_walk_insert(a, n->insert_stmt, NULL, true);
        return;
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
        st->kind = SW_SK_UPDATE;
        st->write = true;
        sw_walk_update(a, n->update_stmt, NULL, true);
        return;
    case PG_QUERY__NODE__NODE_DELETE_STMT:
        st->kind = SW_SK_DELETE;
        st->write = true;
        sw_walk_delete(a, n->delete_stmt, NULL);
        return;
    case PG_QUERY__NODE__NODE_COPY_STMT: {
        const PgQuery__CopyStmt *c = n->copy_stmt;
        st->kind = SW_SK_COPY;
        st->write = c->is_from;
        if (c->relation) sw_add_occ(a, c->relation, NULL, c->is_from ? SW_WF_WRITE : 0);
        if (c->query) {
            if (c->query->node_case == PG_QUERY__NODE__NODE_SELECT_STMT)
                sw_walk_select(a, c->query->select_stmt, NULL, true);
            else
                sw_walk_node(a, c->query, NULL, 0);
        }
        return;
    }
    case PG_QUERY__NODE__NODE_EXPLAIN_STMT: {
        const PgQuery__ExplainStmt *x = n->explain_stmt;
        if (x->query) analyze_stmt(a, x->query, false);
        st->explain = true;
        st->keyless_forbidden = false;
        if (!explain_analyze(x)) st->write = false;
        return;
    }
    case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
        switch (n->transaction_stmt->kind) {
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START: st->kind = SW_SK_BEGIN; break;
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT:
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED: st->kind = SW_SK_COMMIT; break;
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK:
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_PREPARED: st->kind = SW_SK_ROLLBACK; break;
        default: st->kind = SW_SK_TXN_OTHER; break;
        }
        switch (n->transaction_stmt->kind) {
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT: st->txn_op = SW_TXN_SAVEPOINT; break;
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE: st->txn_op = SW_TXN_RELEASE; break;
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO: st->txn_op = SW_TXN_ROLLBACK_TO; break;
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_PREPARE: st->txn_op = SW_TXN_PREPARE; break;
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED: st->txn_op = SW_TXN_COMMIT_PREPARED; break;
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_PREPARED: st->txn_op = SW_TXN_ROLLBACK_PREPARED; break;
        default: break;
        }
        {
            const char *nm = n->transaction_stmt->savepoint_name;
            if (!nm || !nm[0]) nm = n->transaction_stmt->gid;
            if (nm && nm[0]) st->txn_name = sw_plan_str(a->p, nm, strlen(nm));
        }
        return;
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
        st->kind = SW_SK_SET;
        if (n->variable_set_stmt->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_MULTI && n->variable_set_stmt->name &&
            strcmp(n->variable_set_stmt->name, "TRANSACTION") == 0)
            st->txn_op = SW_TXN_SET_TRANSACTION;
        if (top) sw_local_analyze(a, n);
        return;
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
        st->kind = SW_SK_SHOW;
        if (top) sw_local_analyze(a, n);
        return;
    case PG_QUERY__NODE__NODE_DROP_STMT:
        st->kind = SW_SK_DDL;
        st->write = true;
        sw_ddl_analyze(a, n);
        return;
    default: {
        const ProtobufCMessage *m = sw_node_msg(n);
        bool ddl = m && ddl_name(m->descriptor->short_name);
        st->kind = ddl ? SW_SK_DDL : SW_SK_UTILITY;
        st->write = ddl;
        st->cursor = n->node_case == PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT;
        if (ddl) sw_ddl_analyze(a, n);
        else sw_walk_node(a, n, NULL, 0);
        return;
    }
    }
}

/* First item starting at or after byte b. */
static int item_from(const sw_item *v, int n, uint32_t b)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid].start < b) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

sw_plan *sw_plan_build(sw_router *r, int db, const char *text, size_t len, const sw_items *it,
                       char sqlstate[6], char *msg, size_t msgsz)
{
    PgQueryProtobufParseResult pr = pg_query_parse_protobuf(text);
    if (pr.error) {
        memcpy(sqlstate, "42601", 6);
        snprintf(msg, msgsz, "%s", pr.error->message ? pr.error->message : "syntax error");
        pg_query_free_protobuf_parse_result(pr);
        return NULL;
    }
    PgQuery__ParseResult *tree =
        pg_query__parse_result__unpack(NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
    sw_plan *p = tree ? calloc(1, sizeof *p) : NULL;
    if (!p) goto oom;
    p->r = r;
    p->db = db;
    p->n_items = it->n;
    p->hint_node = p->hint_key = p->hint_err = -1;
    sw_local_comments(p, r, text, it->v, it->n);
    if (tree->n_stmts) {
        p->stmts = calloc(tree->n_stmts, sizeof *p->stmts);
        if (!p->stmts) goto oom;
    }
    sw_actx a = {p, r, text, it->v, it->n, NULL, 0, 0};
    for (size_t i = 0; i < tree->n_stmts; i++) {
        const PgQuery__RawStmt *raw = tree->stmts[i];
        if (!raw->stmt) continue;
        sw_pstmt *st = &p->stmts[p->n_stmts];
        memset(st, 0, sizeof *st);
        st->err = st->local_name = st->txn_name = st->volatile_fn = -1;
        st->ins_occ = st->upd_occ = -1;
        st->ddl_occ = st->ddl_item = st->ddl_first = st->ddl_last = st->ddl_str = -1;
        uint32_t b = raw->stmt_location > 0 ? (uint32_t)raw->stmt_location : 0;
        size_t e = raw->stmt_len > 0 ? (size_t)b + (size_t)raw->stmt_len : len;
        st->first = item_from(it->v, it->n, b);
        st->last = st->first - 1;
        for (int k = st->first; k < it->n && it->v[k].end <= e; k++)
            if (!(it->v[k].flags & SW_ITEM_COMMENT) && it->v[k].tok != PG_QUERY__TOKEN__ASCII_59)
                st->last = k;
        if (st->last < st->first) continue; /* nothing but comments */
        st->occ0 = p->n_occs;
        a.st = st;
        analyze_stmt(&a, raw->stmt, true);
        st->n_occ = p->n_occs - st->occ0;
        p->n_stmts++;
    }
    if (p->oom) goto oom;
    pg_query__parse_result__free_unpacked(tree, NULL);
    pg_query_free_protobuf_parse_result(pr);
    return p;
oom:
    memcpy(sqlstate, "53200", 6);
    snprintf(msg, msgsz, "out of memory analysing the statement");
    sw_plan_destroy(p);
    if (tree) pg_query__parse_result__free_unpacked(tree, NULL);
    pg_query_free_protobuf_parse_result(pr);
    return NULL;
}
