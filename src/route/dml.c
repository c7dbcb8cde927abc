/*
 * dml.c - walking INSERT, UPDATE and DELETE: the changed table, INSERT rows
 * (each row's key value and the items of its "( ... )" for splitting),
 * key-changing UPDATE assignments, and the errors a statement can be told
 * without looking at values (no column list, a key that is not a constant
 * or parameter, ON CONFLICT DO UPDATE of the key).
 */
#include <string.h>

#include "route_int.h"

/* Items of each "( ... )" row after the VALUES keyword that follows the
 * table name: true when exactly n rows were found. */
static bool find_rows(sw_actx *a, int from, int row0, int n)
{
    const sw_item *it = a->items;
    int end = a->st->last;
    int i = from, depth = 0;
    for (; i <= end; i++) {
        if (it[i].tok == PG_QUERY__TOKEN__ASCII_40) depth++;
        else if (it[i].tok == PG_QUERY__TOKEN__ASCII_41) depth--;
        else if (depth == 0 && it[i].tok == PG_QUERY__TOKEN__VALUES) break;
    }
    if (i > end) return false;
    i++;
    for (int r = 0; r < n; r++) {
        while (i <= end && (it[i].flags & SW_ITEM_COMMENT)) i++;
        if (i > end || it[i].tok != PG_QUERY__TOKEN__ASCII_40) return false;
        int first = i;
        depth = 0;
        for (; i <= end; i++) {
            if (it[i].tok == PG_QUERY__TOKEN__ASCII_40) depth++;
            else if (it[i].tok == PG_QUERY__TOKEN__ASCII_41 && --depth == 0) break;
        }
        if (i > end) return false;
        a->p->rows[row0 + r].first = first;
        a->p->rows[row0 + r].last = i;
        i++;
        while (i <= end && (it[i].flags & SW_ITEM_COMMENT)) i++;
        if (r < n - 1) {
            if (i > end || it[i].tok != PG_QUERY__TOKEN__ASCII_44) return false;
            i++;
        }
    }
    return true;
}

/* INSERT ... SELECT into sharded table t: whether the SELECT's column
 * kpos is, as it stands, the key column of a table it reads (an
 * occurrence from before on, not in a subquery expression) sharded by the
 * same function.  Then each node's rows keep their node; a constant or an
 * expression could belong anywhere. */
static bool key_from_source(sw_actx *a, const sw_conf_table *t, const PgQuery__SelectStmt *s, size_t kpos,
                            int before)
{
    bool plain = s->op == PG_QUERY__SET_OPERATION__SETOP_NONE ||
                 s->op == PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED;
    if (!plain || kpos >= s->n_target_list || s->target_list[kpos]->node_case != PG_QUERY__NODE__NODE_RES_TARGET)
        return false;
    const PgQuery__Node *v = s->target_list[kpos]->res_target->val;
    if (!v || v->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return false;
    for (int k = before; k < a->p->n_occs; k++) {
        const sw_conf_table *src = sw_occ_sharded(a, k);
        if (!src || src->function != t->function || a->p->occs[k].in_sublink) continue;
        if (sw_quals_is_key(a, NULL, k, v->column_ref)) return true;
    }
    return false;
}

static void insert_rows(sw_actx *a, int o, const sw_conf_table *t, const PgQuery__InsertStmt *ins,
                        sw_scope *parent, bool top)
{
    const char *tname = t->name;
    if (ins->n_cols == 0) {
        sw_st_error(a, "0A000", "INSERT into sharded table %s needs a column list", tname);
        return;
    }
    size_t kpos = ins->n_cols;
    for (size_t i = 0; i < ins->n_cols; i++) {
        const PgQuery__Node *c = ins->cols[i];
        if (c->node_case == PG_QUERY__NODE__NODE_RES_TARGET && c->res_target->name &&
            strcmp(c->res_target->name, t->key) == 0 && c->res_target->n_indirection == 0) {
            kpos = i;
            break;
        }
    }
    if (kpos == ins->n_cols) {
        sw_st_error(a, "0A000", "INSERT into sharded table %s must set its shard key %s", tname, t->key);
        return;
    }
    const PgQuery__SelectStmt *s =
        ins->select_stmt && ins->select_stmt->node_case == PG_QUERY__NODE__NODE_SELECT_STMT
            ? ins->select_stmt->select_stmt : NULL;
    if (!s) {
        sw_st_error(a, "0A000", "INSERT into sharded table %s must set its shard key %s", tname, t->key);
        return;
    }
    bool plain = s->op == PG_QUERY__SET_OPERATION__SETOP_NONE ||
                 s->op == PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED;
    size_t n_rows = 0;
    if (plain && s->n_values_lists) {
        n_rows = s->n_values_lists;
    } else if (plain && !s->n_from_clause && !s->where_clause && s->n_target_list && !s->with_clause) {
        n_rows = 1;
    } else {
        a->p->occs[o].ins_select = true;
        int before = a->p->n_occs;
        sw_walk_select(a, s, parent, false);
        if (!key_from_source(a, t, s, kpos, before))
            sw_st_error(a, "0A000",
                        "INSERT ... SELECT into sharded table %s must take its shard key %s from the shard key column "
                        "of a table it reads that is sharded the same way, so that every row stays on the node it "
                        "comes from", tname, t->key);
        return;
    }
    int row0 = a->p->n_rows;
    for (size_t r = 0; r < n_rows; r++) {
        const PgQuery__Node *cell = NULL;
        if (s->n_values_lists) {
            const PgQuery__Node *l = s->values_lists[r];
            if (l->node_case == PG_QUERY__NODE__NODE_LIST && kpos < l->list->n_items)
                cell = l->list->items[kpos];
        } else if (kpos < s->n_target_list &&
                   s->target_list[kpos]->node_case == PG_QUERY__NODE__NODE_RES_TARGET) {
            cell = s->target_list[kpos]->res_target->val;
        }
        sw_prow row = {{SW_VR_NONE, 0, 0}, -1, -1};
        if (!cell || !sw_quals_value(a, cell, &row.key)) {
            sw_st_error(a, "0A000", "cannot route: shard key %s of table %s must be a constant or parameter "
                                    "(write the value, not an expression that computes it)",
                     t->key, tname);
            return;
        }
        if (sw_plan_row(a->p, &row) < 0) return;
    }
    a->p->occs[o].row0 = row0;
    a->p->occs[o].n_rows = (int32_t)n_rows;
    if (top) {
        a->st->ins_occ = o;
        a->st->returning = ins->n_returning_list > 0;
        if (s->n_values_lists)
            a->st->rows_split_ok = find_rows(a, a->p->occs[o].name_last >= 0 ? a->p->occs[o].name_last + 1
                                                                            : a->st->first,
                                             row0, (int)n_rows);
    }
    sw_walk_list(a, s->values_lists, s->n_values_lists, parent);
    sw_walk_list(a, s->target_list, s->n_target_list, parent);
}

void sw_walk_insert(sw_actx *a, const PgQuery__InsertStmt *ins, sw_scope *parent, bool top)
{
    a->st->write = true; /* also inside WITH */
    sw_scope sc = {parent, a->p->n_occs, a->p->n_occs, ins->with_clause};
    sw_walk_ctes(a, ins->with_clause, &sc);
    sw_scope tsc = {&sc, a->p->n_occs, a->p->n_occs, NULL};
    int o = sw_add_occ(a, ins->relation, &sc, SW_WF_WRITE | SW_WF_ALIAS_OK);
    tsc.occ_end = a->p->n_occs;
    const sw_conf_table *t = sw_occ_sharded(a, o);
    if (t) {
        const PgQuery__OnConflictClause *oc = ins->on_conflict_clause;
        if (oc && oc->action == PG_QUERY__ON_CONFLICT_ACTION__ONCONFLICT_UPDATE) {
            for (size_t i = 0; i < oc->n_target_list; i++) {
                const PgQuery__Node *c = oc->target_list[i];
                if (c->node_case == PG_QUERY__NODE__NODE_RES_TARGET && c->res_target->name &&
                    strcmp(c->res_target->name, t->key) == 0)
                    sw_st_error(a, "0A000", "ON CONFLICT DO UPDATE cannot change shard key %s of table %s",
                             t->key, t->name);
            }
        }
        insert_rows(a, o, t, ins, &sc, top);
    } else {
        sw_walk_node(a, ins->select_stmt, &sc, 0);
    }
    a->per_row++; /* ON CONFLICT and RETURNING: once per row */
    if (ins->on_conflict_clause) {
        sw_walk_list(a, ins->on_conflict_clause->target_list, ins->on_conflict_clause->n_target_list, &tsc);
        sw_walk_node(a, ins->on_conflict_clause->where_clause, &tsc, 0);
    }
    sw_walk_list(a, ins->returning_list, ins->returning_list ? ins->n_returning_list : 0, &tsc);
    a->per_row--;
}

/* A key assignment in UPDATE ... SET: the new value, or new_key_bad. */
static void update_key(sw_actx *a, int o, const sw_conf_table *t, const PgQuery__UpdateStmt *up,
                       bool top)
{
    for (size_t i = 0; i < up->n_target_list; i++) {
        const PgQuery__Node *c = up->target_list[i];
        if (c->node_case != PG_QUERY__NODE__NODE_RES_TARGET || !c->res_target->name ||
            strcmp(c->res_target->name, t->key) != 0)
            continue;
        const PgQuery__Node *val = c->res_target->val;
        if (val && val->node_case == PG_QUERY__NODE__NODE_MULTI_ASSIGN_REF) {
            const PgQuery__MultiAssignRef *m = val->multi_assign_ref;
            const PgQuery__Node *src = m->source;
            val = NULL;
            if (src && src->node_case == PG_QUERY__NODE__NODE_ROW_EXPR && m->colno >= 1 &&
                (size_t)m->colno <= src->row_expr->n_args)
                val = src->row_expr->args[m->colno - 1];
        }
        /* SET key = key leaves every row where it is */
        if (val && val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && sw_quals_is_key(a, NULL, o, val->column_ref))
            continue;
        sw_vref v;
        if (!top || !val || !sw_quals_value(a, val, &v) || v.kind == SW_VR_NULL) {
            sw_st_error(a, "0A000", "UPDATE would move rows of %s to another shard (key %s): rows do not move "
                                    "between shards; DELETE them and INSERT them with the new key", t->name, t->key);
            return;
        }
        a->st->upd_occ = o;
        a->st->new_key = v;
    }
}

void sw_walk_update(sw_actx *a, const PgQuery__UpdateStmt *up, sw_scope *parent, bool top)
{
    a->st->write = true; /* also inside WITH */
    sw_scope sc = {parent, a->p->n_occs, a->p->n_occs, up->with_clause};
    sw_walk_ctes(a, up->with_clause, &sc);
    a->per_row++; /* every expression of an UPDATE is evaluated per row */
    sc.occ0 = a->p->n_occs;
    int o = sw_add_occ(a, up->relation, &sc, SW_WF_WRITE | SW_WF_ALIAS_OK);
    for (size_t i = 0; i < up->n_from_clause; i++) sw_walk_from(a, up->from_clause[i], &sc, 0);
    sc.occ_end = a->p->n_occs;
    for (size_t i = 0; i < up->n_from_clause; i++) sw_walk_from_rest(a, up->from_clause[i], &sc);
    sw_walk_quals(a, &sc, up->where_clause, up->from_clause, up->n_from_clause);
    const sw_conf_table *t = sw_occ_sharded(a, o);
    if (t) update_key(a, o, t, up, top);
    sw_walk_list(a, up->target_list, up->n_target_list, &sc);
    sw_walk_node(a, up->where_clause, &sc, 0);
    sw_walk_list(a, up->returning_list, up->n_returning_list, &sc);
    a->per_row--;
}

void sw_walk_delete(sw_actx *a, const PgQuery__DeleteStmt *del, sw_scope *parent)
{
    a->st->write = true; /* also inside WITH */
    sw_scope sc = {parent, a->p->n_occs, a->p->n_occs, del->with_clause};
    sw_walk_ctes(a, del->with_clause, &sc);
    a->per_row++; /* and of a DELETE */
    sc.occ0 = a->p->n_occs;
    sw_add_occ(a, del->relation, &sc, SW_WF_WRITE | SW_WF_ALIAS_OK);
    for (size_t i = 0; i < del->n_using_clause; i++) sw_walk_from(a, del->using_clause[i], &sc, 0);
    sc.occ_end = a->p->n_occs;
    for (size_t i = 0; i < del->n_using_clause; i++) sw_walk_from_rest(a, del->using_clause[i], &sc);
    sw_walk_quals(a, &sc, del->where_clause, del->using_clause, del->n_using_clause);
    sw_walk_node(a, del->where_clause, &sc, 0);
    sw_walk_list(a, del->returning_list, del->n_returning_list, &sc);
    a->per_row--;
}
