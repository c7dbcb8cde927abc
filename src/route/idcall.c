/*
 * idcall.c - shardwire_next_id(table, key) inside a statement: in an
 * INSERT's VALUES rows, in the select list of a SELECT without FROM (also
 * as INSERT ... SELECT, in a CTE or a subquery), several calls per
 * statement.  shardwire makes one ID per call, as the bare
 * "SELECT shardwire_next_id(...)" does (local.c), and writes it in the
 * call's place in every target's text: "(<id>::int8)", named like the
 * call when it is a select-list column of its own (and still naming the
 * parameters it took, so that their types can be inferred).  A row key that is a
 * call routes by the ID it gets.
 *
 * One value per call in the text is what PostgreSQL would compute only
 * where the expression is evaluated once: a call in a query that reads
 * rows (FROM, WHERE, UPDATE, DELETE, RETURNING, ON CONFLICT) would give
 * every row the same ID, and one in DDL or PREPARE would freeze it into a
 * definition, so those are refused.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

bool sw_idcall_is(const PgQuery__FuncCall *f)
{
    if (!f || f->n_funcname == 0 || f->n_funcname > 2) return false;
    const char *name = sw_node_str(f->funcname[f->n_funcname - 1]);
    return name && strcmp(name, "shardwire_next_id") == 0;
}

/* Items of the call: from its name (at loc) to the ')' closing its
 * argument list; false when they cannot be found. */
static bool call_items(const sw_actx *a, uint32_t loc, int32_t *first, int32_t *last)
{
    int i = sw_items_at(a->items, a->n_items, loc);
    if (i < 0) return false;
    int depth = 0;
    for (int k = i; k < a->n_items; k++) {
        int tok = a->items[k].tok;
        if (tok == PG_QUERY__TOKEN__ASCII_40) {
            depth++;
        } else if (tok == PG_QUERY__TOKEN__ASCII_41) {
            if (--depth == 0) {
                *first = i;
                *last = k;
                return true;
            }
            if (depth < 0) return false;
        }
    }
    return false;
}

int sw_idcall_add(sw_actx *a, const PgQuery__FuncCall *f, bool named)
{
    sw_pstmt *st = a->st;
    sw_plan *p = a->p;
    for (int i = st->idc0; i < st->idc0 + st->n_idc; i++)
        if (p->idcalls[i].loc == (uint32_t)f->location) {
            if (named) p->idcalls[i].named = true;
            return i;
        }
    if (st->kind != SW_SK_SELECT && st->kind != SW_SK_INSERT && st->kind != SW_SK_UPDATE &&
        st->kind != SW_SK_DELETE) {
        sw_st_error(a, "0A000", "shardwire_next_id() cannot be used in this statement: shardwire computes one id "
                                "per call when the statement runs, which a definition would freeze");
        return -1;
    }
    if (a->per_row > 0) {
        sw_st_error(a, "0A000", "shardwire_next_id() is computed by shardwire once per call in the text, and here it "
                                "would give every row the same id: use it in INSERT ... VALUES rows or a SELECT "
                                "without FROM, or fetch the ids first");
        return -1;
    }
    sw_idcall c;
    memset(&c, 0, sizeof c);
    c.loc = (uint32_t)f->location;
    c.named = named;
    if (f->location < 0 || !call_items(a, c.loc, &c.first, &c.last)) {
        sw_st_error(a, "0A000", "cannot find the text of this shardwire_next_id() call to replace it");
        return -1;
    }
    /* arguments first: a call in an argument gets its id before this one */
    if (f->n_args != 2 || !sw_quals_value(a, f->args[0], &c.table) || !sw_quals_value(a, f->args[1], &c.key)) {
        sw_st_error(a, "22023", "shardwire_next_id(table, key) takes a table name and a key constant or parameter");
        return -1;
    }
    if (st->n_idc == 0) st->idc0 = p->n_idcalls;
    if (st->idc0 + st->n_idc != p->n_idcalls) {
        sw_st_error(a, "0A000", "shardwire_next_id() calls of one statement out of order");
        return -1;
    }
    int i = sw_plan_idcall(p, &c);
    if (i >= 0) st->n_idc++;
    return i;
}

/* ------------------------------------------------------------ evaluation */

int sw_idcall_make_all(sw_eval *e, sw_madeid *ids)
{
    const sw_plan *p = e->p;
    e->ids = ids; /* a call may take an earlier one's id as its key */
    for (int i = 0; i < p->n_idcalls; i++) {
        int rc = sw_local_make_id(e, p->idcalls[i].table, p->idcalls[i].key, &ids[i].id, &ids[i].key_type);
        if (rc != SW_ROUTE_OK) return rc;
    }
    return SW_ROUTE_OK;
}

/* A parameter the call took, still named in the text with its type: a
 * client that lets PostgreSQL infer the types would otherwise be told
 * "could not determine data type of parameter". */
static void param_mention(sw_sbuf *b, sw_vref v, const char *type)
{
    if (v.kind != SW_VR_PARAM) return;
    char s[64];
    int n = snprintf(s, sizeof s, ", pg_column_size($%d::%s)", v.idx + 1, type);
    sw_sbuf_add(b, s, (size_t)n);
}

static const char *key_type_name(sw_key_type t)
{
    switch (t) {
    case SW_KEY_TEXT: return "text";
    case SW_KEY_NUMERIC: return "numeric";
    case SW_KEY_DATE: return "date";
    case SW_KEY_TIMESTAMP: return "timestamptz";
    default: return "int8";
    }
}

/* The text in call c's place: "(<id>::int8)", or with parameters
 * "(coalesce(<id>::int8, pg_column_size($1::text), ...))", which is the id. */
static void call_text(const sw_eval *e, const sw_idcall *c, sw_sbuf *b)
{
    const sw_madeid *m = &e->ids[c - e->p->idcalls];
    bool params = c->table.kind == SW_VR_PARAM || c->key.kind == SW_VR_PARAM;
    char v[64];
    int n = snprintf(v, sizeof v, params ? "(coalesce(%" PRId64 "::int8" : "(%" PRId64 "::int8", m->id);
    sw_sbuf_add(b, v, (size_t)n);
    if (params) {
        param_mention(b, c->table, "text");
        param_mention(b, c->key, key_type_name(m->key_type));
        sw_sbuf_add(b, ")", 1);
    }
    sw_sbuf_add(b, ")", 1);
    if (c->named) sw_sbuf_str(b, " AS shardwire_next_id");
}

void sw_idcall_copy(const sw_eval *e, const sw_pstmt *st, sw_sbuf *b, uint32_t from, uint32_t to)
{
    uint32_t pos = from;
    for (;;) {
        /* the first call starting in [pos, to) */
        const sw_idcall *next = NULL;
        for (int i = st->idc0; i < st->idc0 + st->n_idc; i++) {
            const sw_idcall *c = &e->p->idcalls[i];
            uint32_t s = e->items[c->first].start;
            if (s >= pos && s < to && (!next || s < e->items[next->first].start)) next = c;
        }
        if (!next) break;
        uint32_t s = e->items[next->first].start, z = e->items[next->last].end;
        sw_sbuf_add(b, e->text + pos, s - pos);
        call_text(e, next, b);
        pos = z < to ? z : to;
    }
    if (to > pos) sw_sbuf_add(b, e->text + pos, to - pos);
}

int sw_idcall_targets(sw_eval *e, int si)
{
    const sw_pstmt *st = &e->p->stmts[si];
    sw_route_out *out = e->out;
    if (st->n_idc == 0) return SW_ROUTE_OK;
    out->fresh = true;
    for (int i = 0; i < out->n_targets; i++) {
        if (out->targets[i].sql) continue;
        out->targets[i].sql = sw_rewrite(e, si, NULL, 0, NULL);
        if (!out->targets[i].sql) return sw_eval_oom(e);
    }
    if (out->n_targets == 0) {
        out->any_sql = sw_rewrite(e, si, NULL, 0, NULL);
        if (!out->any_sql) return sw_eval_oom(e);
    }
    return SW_ROUTE_OK;
}

/* The key type of the id function of the table a call names (a constant),
 * or int8's when it is a parameter or names no such table. */
/* The key type of the id function of the table a call names (a constant),
 * or int8's when it is a parameter or names no such table. */
static sw_key_type describe_key_type(sw_eval *e, const sw_idcall *c)
{
    char tname[128];
    sw_key_type kt = SW_KEY_INT;
    if (c->table.kind != SW_VR_PARAM && sw_lit_text(e, c->table, tname, sizeof tname) == SW_LIT_OK &&
        sw_local_id_table(e, tname, &kt))
        return kt;
    return SW_KEY_INT;
}

char *sw_router_describe_text(sw_router *r, const sw_plan *p)
{
    if (!p || p->n_idcalls == 0 || p->n_stmts != 1 || p->db < 0 || !p->text || !p->items) return NULL;
    sw_route_in in;
    memset(&in, 0, sizeof in);
    sw_route_out *out = calloc(1, sizeof *out);
    sw_madeid *ids = calloc((size_t)p->n_idcalls, sizeof *ids);
    char *text = NULL;
    if (out && ids) {
        sw_eval e = {r, p, &in, p->text, p->items, p->n_items, &r->conf->databases[p->db], out, 0, ids};
        for (int i = 0; i < p->n_idcalls; i++) ids[i].key_type = describe_key_type(&e, &p->idcalls[i]);
        const sw_pstmt *st = &p->stmts[0];
        sw_sbuf b = {0};
        sw_idcall_copy(&e, st, &b, p->items[st->first].start, p->items[st->last].end);
        sw_sbuf_add(&b, "", 0);
        if (b.oom) free(b.s);
        else text = b.s;
    }
    free(ids);
    free(out);
    return text;
}
