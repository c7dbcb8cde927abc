/*
 * targets.c - from a statement's node set to its targets: one unchanged
 * target per node; a multi-row INSERT split into one part per target; a
 * table-suffix statement rewritten for its physical tables (one target per
 * physical table, on its node, when a written table spans several; a
 * UNION ALL subquery of each node's physical tables for read ones).  The
 * texts themselves come from rewrite.c.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

int sw_out_add_target(sw_route_out *out, int *cap, int node, char *sql)
{
    const int inline_cap = (int)(sizeof out->inline_targets / sizeof out->inline_targets[0]);
    if (!out->targets) out->targets = out->inline_targets;
    bool inl = out->targets == out->inline_targets;
    int have = inl ? inline_cap : *cap;
    if (out->n_targets >= have) {
        int ncap = have * 2;
        sw_route_target *nt = inl ? malloc((size_t)ncap * sizeof *nt)
                                  : realloc(out->targets, (size_t)ncap * sizeof *nt);
        if (!nt) {
            free(sql);
            return -1;
        }
        if (inl) memcpy(nt, out->inline_targets, (size_t)out->n_targets * sizeof *nt);
        out->targets = nt;
        *cap = ncap;
    }
    out->targets[out->n_targets].node = node;
    out->targets[out->n_targets].sql = sql;
    out->targets[out->n_targets].part = -1;
    out->n_targets++;
    if (node >= 0 && node < 64) out->nodes |= (sw_nodeset)1 << node;
    return 0;
}

void sw_out_sort_targets(sw_route_out *out)
{
    for (int i = 1; i < out->n_targets; i++) {
        sw_route_target t = out->targets[i];
        int j = i - 1;
        while (j >= 0 && out->targets[j].node > t.node) {
            out->targets[j + 1] = out->targets[j];
            j--;
        }
        out->targets[j + 1] = t;
    }
}

int sw_eval_oom(sw_eval *e)
{
    return sw_eval_error(e, "53200", "out of memory routing the statement");
}

int sw_table_target_node(const sw_router *r, const sw_conf_table *tb, int t)
{
    const sw_shardfn *fn = r->fns[tb->function];
    int node = sw_shardfn_target_node(fn, t);
    return node < 0 && sw_shardfn_conf(fn)->table_targets ? tb->node : node;
}

sw_nodeset sw_eval_mask_nodes(const sw_eval *e, int o, uint64_t mask)
{
    const sw_conf_table *t = sw_eval_table(e, o);
    sw_nodeset s = 0;
    for (uint64_t m = mask; m; m &= m - 1) {
        int node = sw_table_target_node(e->r, t, __builtin_ctzll(m));
        if (node >= 0 && node < 64) s |= (sw_nodeset)1 << node;
    }
    return s;
}

static bool stmt_has_param(const sw_eval *e, const sw_pstmt *st)
{
    for (int i = st->first; i <= st->last && i < e->n_items; i++)
        if (e->items[i].tok == PG_QUERY__TOKEN__PARAM) return true;
    return false;
}

/* Renames of the statement's table-suffix occurrences, one physical
 * table set each; ren has room for n_occ entries. */
static int suffix_renames(const sw_eval *e, const sw_pstmt *st, const sw_occr *res, sw_rename *ren)
{
    int n = 0;
    for (int k = 0; k < st->n_occ; k++) {
        int o = st->occ0 + k;
        if (!res[k].used) continue;
        const sw_shardfn *fn = sw_eval_fn(e, o);
        if (!sw_shardfn_conf(fn)->table_targets) continue;
        ren[n].occ = o;
        ren[n].mask = res[k].mask;
        n++;
    }
    return n;
}

static int emit(sw_eval *e, int *cap, int node, int si, const sw_rename *ren, int n_ren, const bool *rows)
{
    char *sql = sw_rewrite(e, si, ren, n_ren, rows);
    if (!sql || sw_out_add_target(e->out, cap, node, sql)) return sw_eval_oom(e);
    return 0;
}

/* One part per target of the INSERT's rows. */
static int split_insert(sw_eval *e, int si, const sw_stmt_eval *se, sw_rename *ren, int n_ren, int *cap)
{
    const sw_pstmt *st = &e->p->stmts[si];
    const sw_occr *ir = &se->res[st->ins_occ - st->occ0];
    const sw_occ *io = &e->p->occs[st->ins_occ];
    if (stmt_has_param(e, st))
        return sw_eval_error(e, "0A000", "multi-row INSERT whose rows go to different shards cannot use parameters");
    if (!st->rows_split_ok)
        return sw_eval_error(e, "0A000", "cannot split this INSERT into %s across shards",
                             sw_eval_table(e, st->ins_occ)->name);
    bool rows_buf[64];
    bool *rows = io->n_rows <= 64 ? rows_buf : malloc((size_t)io->n_rows);
    if (!rows) return sw_eval_oom(e);
    int ins_ren = -1;
    for (int k = 0; k < n_ren; k++)
        if (ren[k].occ == st->ins_occ) ins_ren = k;
    int rc = 0;
    for (uint64_t m = ir->mask; m && rc == 0; m &= m - 1) {
        int t = __builtin_ctzll(m);
        for (int i = 0; i < io->n_rows; i++) rows[i] = se->row_t[i] == t;
        if (ins_ren >= 0) ren[ins_ren].mask = (uint64_t)1 << t;
        sw_nodeset nodes = sw_eval_mask_nodes(e, st->ins_occ, (uint64_t)1 << t);
        rc = emit(e, cap, sw_lowest(nodes), si, ren, n_ren, rows);
        if (rc == 0) e->out->targets[e->out->n_targets - 1].part = t;
    }
    if (rows != rows_buf) free(rows);
    if (rc == 0 && st->returning && !e->out->multi) {
        e->out->row_part = malloc((size_t)io->n_rows * sizeof *e->out->row_part);
        if (!e->out->row_part) return sw_eval_oom(e);
        for (int i = 0; i < io->n_rows; i++) e->out->row_part[i] = se->row_t[i];
        e->out->n_row_part = io->n_rows;
    }
    return rc;
}

/* The physical tables of mask (occurrence o's function) on node. */
static uint64_t on_node(const sw_eval *e, int o, uint64_t mask, int node)
{
    const sw_conf_table *t = sw_eval_table(e, o);
    uint64_t r = 0;
    for (uint64_t m = mask; m; m &= m - 1)
        if (sw_table_target_node(e->r, t, __builtin_ctzll(m)) == node) r |= m & -m;
    return r;
}

/* Table-suffix: a written table (or one that cannot take a subquery in
 * its place) spanning several physical tables gives one target per
 * physical table, on that table's node; read ones become a UNION ALL
 * subquery of the physical tables on each node. */
static int suffix_targets(sw_eval *e, int si, sw_nodeset s, sw_rename *ren, int n_ren, int *cap)
{
    int split = -1;
    for (int k = 0; k < n_ren; k++) {
        const sw_occ *oc = &e->p->occs[ren[k].occ];
        bool several = sw_popcount(ren[k].mask) > 1;
        if (oc->name_first < 0)
            return sw_eval_error(e, "0A000", "cannot rewrite table %s into its physical tables here",
                                 sw_eval_table(e, ren[k].occ)->name);
        if (several && (oc->write || !oc->alias_ok) && split < 0) split = k;
        else if (several && !oc->alias_ok)
            return sw_eval_error(e, "0A000", "cannot rewrite table %s into several physical tables here",
                                 sw_eval_table(e, ren[k].occ)->name);
    }
    /* Each node answers for the physical tables it holds: right for one
     * table-suffix occurrence, not for two that could pair rows across
     * nodes. */
    if (n_ren > 1 && sw_popcount(s) > 1)
        return sw_eval_error(e, "0A000", "table %s has physical tables on several nodes and cannot be joined with %s across them",
                             sw_eval_table(e, ren[0].occ)->name, sw_eval_table(e, ren[1].occ)->name);
    int rc = 0;
    if (split >= 0) {
        uint64_t all = ren[split].mask;
        for (uint64_t m = all; m && rc == 0; m &= m - 1) {
            ren[split].mask = m & -m;
            int node = sw_table_target_node(e->r, sw_eval_table(e, ren[split].occ), __builtin_ctzll(m));
            rc = emit(e, cap, node, si, ren, n_ren, NULL);
        }
        ren[split].mask = all;
    } else {
        uint64_t all = ren[0].mask;
        for (sw_nodeset m = s; m && rc == 0; m &= m - 1) {
            int node = __builtin_ctzll(m);
            if (n_ren == 1) ren[0].mask = on_node(e, ren[0].occ, all, node);
            if (ren[0].mask == 0)
                rc = sw_eval_error(e, "0A000", "table %s has no physical table on node %s",
                                   sw_eval_table(e, ren[0].occ)->name, sw_node_name(e->r, node));
            else
                rc = emit(e, cap, node, si, ren, n_ren, NULL);
        }
        ren[0].mask = all;
    }
    return rc;
}

int sw_make_targets(sw_eval *e, int si, const sw_stmt_eval *se, sw_nodeset s)
{
    const sw_pstmt *st = &e->p->stmts[si];
    int cap = 0;
    sw_rename ren_buf[SW_INLINE_OCCS];
    sw_rename *ren = st->n_occ <= SW_INLINE_OCCS ? ren_buf : malloc((size_t)st->n_occ * sizeof *ren);
    if (!ren) return sw_eval_oom(e);
    int rc = 0;
    int n_ren = suffix_renames(e, st, se->res, ren);
    if (st->ins_occ >= 0 && sw_popcount(se->res[st->ins_occ - st->occ0].mask) > 1) {
        rc = split_insert(e, si, se, ren, n_ren, &cap);
    } else if (n_ren > 0) {
        rc = st->kind == SW_SK_DDL ? sw_ddl_suffix_check(e, si, ren, n_ren) : 0;
        if (rc == 0) rc = suffix_targets(e, si, s, ren, n_ren, &cap);
    } else {
        for (sw_nodeset m = s; m && rc == 0; m &= m - 1)
            if (sw_out_add_target(e->out, &cap, __builtin_ctzll(m), NULL)) rc = sw_eval_oom(e);
    }
    if (ren != ren_buf) free(ren);
    return rc;
}
