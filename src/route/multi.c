/*
 * multi.c - evaluating a whole plan: the empty text, one statement, or
 * several (each routed on its own; the targets are the union of their
 * nodes, and when a statement had to be rewritten every node gets the
 * statements joined, each rewritten one as its part for that node).
 */
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

/* Original text of statement si. */
static void stmt_text(const sw_eval *e, int si, const char **s, size_t *n)
{
    const sw_pstmt *st = &e->p->stmts[si];
    uint32_t b = e->items[st->first].start, z = e->items[st->last].end;
    *s = e->text + b;
    *n = z - b;
}

static sw_route_status route_plan(sw_eval *e, sw_madeid *ids);

static int eval_multi(sw_eval *e)
{
    const sw_plan *p = e->p;
    sw_route_out *out = e->out;
    out->multi = true;
    out->kind = p->stmts[0].kind;
    for (int i = 0; i < p->n_stmts; i++)
        if (p->stmts[i].local != SW_LOCAL_NONE)
            return sw_eval_error(e, "0A000",
                                 "shardwire settings and shardwire_next_id() must be sent as a statement of their own");
    size_t n_subs = p->n_stmts > 0 ? (size_t)p->n_stmts : 1;
    sw_route_out *subs = calloc(n_subs, sizeof *subs);
    if (!subs) return sw_eval_oom(e);
    int rc = 0;
    bool rewritten = false;
    sw_nodeset nodes = 0;
    for (int i = 0; i < p->n_stmts && rc == 0; i++) {
        sw_eval se = *e;
        se.out = &subs[i];
        se.reason_len = 0;
        subs[i].lookup_fn = -1;
        int st = sw_eval_stmt(&se, i);
        if (st == SW_ROUTE_OK) st = sw_idcall_targets(&se, i);
        sw_eval_reason(e, "[%d] %s", i + 1, subs[i].reason);
        out->fresh |= subs[i].fresh;
        out->write |= subs[i].write;
        if (st != SW_ROUTE_OK) {
            out->status = subs[i].status;
            memcpy(out->sqlstate, subs[i].sqlstate, sizeof out->sqlstate);
            memcpy(out->message, subs[i].message, sizeof out->message);
            out->lookup_fn = subs[i].lookup_fn;
            memcpy(out->lookup_key, subs[i].lookup_key, sizeof out->lookup_key);
            rc = st;
            break;
        }
        nodes |= subs[i].nodes;
        for (int k = 0; k < subs[i].n_targets; k++)
            if (subs[i].targets[k].sql) rewritten = true;
        if (subs[i].any_sql) rewritten = true;
    }
    /* only statements that need no particular node, one of them with ids:
     * the joined text for whichever node runs it */
    bool anywhere = rc == 0 && nodes == 0 && rewritten;
    if (anywhere) nodes = 1;
    int cap = 0;
    for (sw_nodeset m = nodes; m && rc == 0; m &= m - 1) {
        int node = __builtin_ctzll(m);
        char *sql = NULL;
        if (rewritten) {
            /* each node runs every statement, the rewritten ones as their
             * part for that node (if any) */
            sw_sbuf b = {0};
            for (int i = 0; i < p->n_stmts; i++) {
                bool mine = false;
                for (int k = 0; k < subs[i].n_targets; k++)
                    if (subs[i].targets[k].sql) mine = true;
                if (!mine) {
                    const char *s;
                    size_t n;
                    stmt_text(e, i, &s, &n);
                    if (b.len) sw_sbuf_str(&b, "; ");
                    if (subs[i].any_sql) sw_sbuf_str(&b, subs[i].any_sql);
                    else sw_sbuf_add(&b, s, n);
                    continue;
                }
                for (int k = 0; k < subs[i].n_targets; k++) {
                    if (subs[i].targets[k].node != node) continue;
                    if (b.len) sw_sbuf_str(&b, "; ");
                    if (subs[i].targets[k].sql) {
                        sw_sbuf_str(&b, subs[i].targets[k].sql);
                    } else {
                        /* a node that runs this statement unchanged */
                        const char *s;
                        size_t n;
                        stmt_text(e, i, &s, &n);
                        sw_sbuf_add(&b, s, n);
                    }
                }
            }
            sw_sbuf_add(&b, "", 0);
            if (b.oom) {
                free(b.s);
                rc = sw_eval_oom(e);
                break;
            }
            sql = b.s;
        }
        if (anywhere) {
            out->any_sql = sql;
            break;
        }
        if (sw_out_add_target(out, &cap, node, sql)) rc = sw_eval_oom(e);
    }
    for (int i = 0; i < p->n_stmts; i++) sw_route_out_clear(&subs[i]);
    free(subs);
    return rc;
}

sw_route_status sw_plan_eval(sw_router *r, const sw_plan *p, const sw_route_in *in, const char *text,
                             const sw_item *items, int n_items, sw_route_out *out)
{
    memset(out, 0, sizeof *out);
    out->lookup_fn = -1;
    sw_eval e = {r, p, in, text, items, n_items, NULL, out, 0, NULL};
    if (p->db < 0) {
        sw_eval_error(&e, "3D000", "database \"%s\" does not exist", in->database ? in->database : "");
        return out->status;
    }
    e.db = &r->conf->databases[p->db];
    sw_madeid ids_buf[16];
    sw_madeid *ids = NULL;
    if (p->n_idcalls > 0) {
        ids = p->n_idcalls <= 16 ? ids_buf : malloc((size_t)p->n_idcalls * sizeof *ids);
        if (!ids) {
            sw_eval_oom(&e);
            return out->status;
        }
    }
    int rc = route_plan(&e, ids);
    if (ids != ids_buf) free(ids);
    return rc;
}

/* sw_plan_eval with e's database found and room for the ids. */
static sw_route_status route_plan(sw_eval *e_, sw_madeid *ids)
{
    sw_eval e = *e_;
    const sw_plan *p = e.p;
    sw_route_out *out = e.out;
    if (p->hint_err >= 0) {
        sw_eval_error(&e, p->hint_sqlstate, "%s", sw_plan_s(p, p->hint_err));
        return out->status;
    }
    if (p->n_stmts == 0) {
        out->kind = SW_SK_EMPTY;
        sw_eval_reason(&e, "empty statement: no preference");
        return SW_ROUTE_OK;
    }
    int rc = ids ? sw_idcall_make_all(&e, ids) : SW_ROUTE_OK;
    if (rc == SW_ROUTE_OK) rc = p->n_stmts == 1 ? sw_eval_stmt(&e, 0) : eval_multi(&e);
    if (rc == SW_ROUTE_OK && p->n_stmts == 1) rc = sw_idcall_targets(&e, 0);
    if (rc != SW_ROUTE_OK) {
        /* keep what the caller may want to log, drop targets */
        for (int i = 0; i < out->n_targets; i++) free(out->targets[i].sql);
        if (out->targets != out->inline_targets) free(out->targets);
        out->targets = NULL;
        out->n_targets = 0;
        out->nodes = 0;
        free(out->local_value);
        out->local_value = NULL;
        free(out->any_sql);
        out->any_sql = NULL;
        free(out->row_part);
        out->row_part = NULL;
        out->n_row_part = 0;
        out->status = (sw_route_status)rc;
        return out->status;
    }
    sw_out_sort_targets(out);
    return SW_ROUTE_OK;
}
