/*
 * plan.c - routing one statement of a plan: overrides (routing comments,
 * session settings), then every table occurrence evaluated (eval.c) and
 * combined by the co-location rules into one node set, or an error:
 * co-located sharded tables intersect their bound sets, differently
 * sharded ones must meet on one node, pinned tables fix the node,
 * reference tables follow the rest for reads and go everywhere for writes,
 * unlisted ones go to the default node.  Then the checks that need the
 * node set (cross-shard ORDER BY/aggregates, UPDATE moving a key) and the
 * targets (targets.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

/* A co-location class: tables whose rows are placed alike. */
typedef struct klass {
    int cls;                   /* function index (an embedded one's source) */
    sw_nodeset inter, uni, all; /* bound sets' intersection and union; unbound tables' nodes */
    bool any_bound;
    int first, first_unbound;  /* occurrences, for messages */
} klass;

typedef struct tables {
    sw_stmt_eval se;
    klass cls_buf[SW_INLINE_OCCS];
    klass *cls;
    int n_cls;
    int pinned, ref_write, ref_read, ins_sel, first_other; /* occurrences, -1 */
    sw_nodeset ref_copies;     /* nodes holding every reference table named */
} tables;

static sw_nodeset all_nodes(const sw_router *r)
{
    int n = r->conf->n_nodes;
    return n >= 64 ? ~(sw_nodeset)0 : ((sw_nodeset)1 << n) - 1;
}

static void node_list(const sw_router *r, sw_nodeset s, char *buf, size_t bufsz)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int n = 0; n < 64 && o + 1 < bufsz; n++) {
        if (!(s & ((sw_nodeset)1 << n))) continue;
        int w = snprintf(buf + o, bufsz - o, "%s%s", o ? ", " : "", sw_node_name(r, n));
        if (w < 0) break;
        o += (size_t)w;
    }
}

/* Co-location class: an embedded function lives where its source does. */
static int class_of(const sw_eval *e, int o)
{
    const sw_conf_table *t = sw_eval_table(e, o);
    const sw_conf_function *f = &e->r->conf->functions[t->function];
    return f->kind == SW_FN_EMBEDDED ? f->source : t->function;
}

static bool routable(sw_stmt_kind k)
{
    switch (k) {
    case SW_SK_SELECT:
    case SW_SK_INSERT:
    case SW_SK_UPDATE:
    case SW_SK_DELETE:
    case SW_SK_COPY:
    case SW_SK_DDL:
    case SW_SK_UTILITY: return true;
    default: return false;
    }
}

/* Routing comments first, then the session's settings. */
static int overrides(sw_eval *e, int *forced, const char **key, const char **src)
{
    const sw_plan *p = e->p;
    const sw_route_in *in = e->in;
    *forced = -1;
    *key = *src = NULL;
    if (p->hint_node >= 0) {
        *forced = p->hint_node;
        *src = "comment";
    } else if (p->hint_key >= 0) {
        *key = sw_plan_s(p, p->hint_key);
        *src = "comment";
    } else if (in->session.shard) {
        *forced = sw_conf_node_index(e->r->conf, in->session.shard);
        *src = "session";
        if (*forced < 0) {
            char known[256];
            sw_local_node_list(e->r, known, sizeof known);
            return sw_eval_error(e, "22023", "unknown node \"%s\" in shardwire.shard (nodes: %s)",
                                 in->session.shard, known);
        }
    } else if (in->session.sharding_key) {
        *key = in->session.sharding_key;
        *src = "session";
    }
    return 0;
}

/* Evaluate the INSERT target's rows: each row's target, their union. */
static int insert_rows(sw_eval *e, const sw_pstmt *st, sw_stmt_eval *se, const char *override, sw_occr *r)
{
    const sw_occ *oc = &e->p->occs[st->ins_occ];
    if (oc->n_rows > 64) {
        se->row_t = malloc((size_t)oc->n_rows * sizeof *se->row_t);
        if (!se->row_t) {
            se->row_t = se->row_buf;
            return sw_eval_oom(e);
        }
    }
    r->mask = 0;
    r->bound = true;
    for (int i = 0; i < oc->n_rows; i++) {
        int t = sw_eval_key(e, st->ins_occ, e->p->rows[oc->row0 + i].key, override);
        if (t < 0) return e->out->status;
        if (t >= 64) return sw_eval_error(e, "0A000", "too many targets");
        se->row_t[i] = t;
        r->mask |= (uint64_t)1 << t;
    }
    return 0;
}

static void add_to_class(sw_eval *e, tables *tb, int o, const sw_occr *res)
{
    const sw_conf_table *t = sw_eval_table(e, o);
    sw_nodeset nodes = sw_eval_mask_nodes(e, o, res->mask);
    int c = class_of(e, o), ci;
    for (ci = 0; ci < tb->n_cls; ci++)
        if (tb->cls[ci].cls == c) break;
    if (ci == tb->n_cls) {
        tb->cls[ci] = (klass){c, 0, 0, 0, false, o, -1};
        tb->n_cls++;
    }
    klass *kl = &tb->cls[ci];
    if (res->bound) {
        kl->inter = kl->any_bound ? kl->inter & nodes : nodes;
        kl->uni |= nodes;
        kl->any_bound = true;
    } else {
        kl->all |= nodes;
        if (kl->first_unbound < 0) kl->first_unbound = o;
        sw_eval_reason(e, "%s: no condition on %s -> every target of %s", t->name, t->key,
                       e->r->conf->functions[t->function].name);
    }
}

/* Every occurrence of the statement, evaluated and sorted by kind. */
static int eval_tables(sw_eval *e, const sw_pstmt *st, tables *tb, const char *key)
{
    const sw_router *r = e->r;
    for (int k = 0; k < st->n_occ; k++) {
        int o = st->occ0 + k;
        const sw_occ *oc = &e->p->occs[o];
        const sw_conf_table *t = sw_eval_table(e, o);
        tb->se.res[k].used = false;
        if (!t) {
            if (tb->first_other < 0) tb->first_other = o;
            continue;
        }
        if (t->kind == SW_TABLE_PINNED) {
            const sw_conf_table *pt = tb->pinned >= 0 ? sw_eval_table(e, tb->pinned) : NULL;
            if (pt && pt->node != t->node)
                return sw_eval_error(e, "0A000", "tables %s and %s live on different nodes (%s, %s) and cannot be joined",
                                     pt->name, t->name, sw_node_name(r, pt->node), sw_node_name(r, t->node));
            if (!pt) tb->pinned = o;
            continue;
        }
        if (t->kind == SW_TABLE_REFERENCE) {
            sw_nodeset copies = 0;
            if (t->nodes && t->n_nodes > 0) {
                for (int i = 0; i < t->n_nodes; i++)
                    if (t->nodes[i] >= 0 && t->nodes[i] < 64) copies |= (sw_nodeset)1 << t->nodes[i];
            } else {
                copies = all_nodes(r);
            }
            if (oc->write && tb->ref_write < 0) tb->ref_write = o;
            if (!oc->write && tb->ref_read < 0) tb->ref_read = o;
            tb->ref_copies &= copies;
            continue;
        }
        if (oc->ins_select) {
            tb->ins_sel = o;
            continue;
        }
        sw_occr *res = &tb->se.res[k];
        int rc = o == st->ins_occ ? insert_rows(e, st, &tb->se, key, res)
                                  : sw_eval_occ(e, o, key, &res->mask, &res->bound);
        if (rc) return rc;
        if (oc->n_rows > 0 && o != st->ins_occ && sw_popcount(res->mask) > 1)
            /* only the statement's own INSERT can be split into parts */
            return sw_eval_error(e, "0A000", "INSERT into %s inside a WITH clause cannot be split across shards",
                                 t->name);
        res->used = true;
        add_to_class(e, tb, o, res);
    }
    return 0;
}

/* The node set of the statement's tables. */
static int combine(sw_eval *e, const sw_pstmt *st, tables *tb, sw_nodeset *out_s)
{
    const sw_router *r = e->r;
    sw_nodeset s = 0;
    bool have = false;
    for (int ci = 0; ci < tb->n_cls; ci++) {
        klass *kl = &tb->cls[ci];
        sw_nodeset cs = kl->any_bound ? (kl->inter ? kl->inter : kl->uni) : kl->all;
        if (ci == 0) {
            s = cs;
            have = true;
        } else if (sw_popcount(s) != 1 || cs != s) {
            return sw_eval_error(e, "0A000", "tables %s and %s are sharded differently and cannot be joined across shards",
                                 sw_eval_table(e, tb->cls[0].first)->name, sw_eval_table(e, kl->first)->name);
        }
    }
    if (tb->ins_sel >= 0) {
        /* the rows come from one node's co-located tables: they belong there */
        if (tb->n_cls != 1 || tb->cls[0].cls != class_of(e, tb->ins_sel) || sw_popcount(s) != 1 ||
            sw_shardfn_conf(sw_eval_fn(e, tb->ins_sel))->table_targets)
            return sw_eval_error(e, "0A000", "INSERT ... SELECT across shards is not supported (table %s): run the "
                                             "SELECT, then INSERT its rows, or restrict it to one shard key value",
                                 sw_eval_table(e, tb->ins_sel)->name);
    }
    if (tb->pinned >= 0) {
        const sw_conf_table *pt = sw_eval_table(e, tb->pinned);
        sw_nodeset pn = (sw_nodeset)1 << pt->node;
        if (have && s != pn) {
            char where[128];
            node_list(r, s, where, sizeof where);
            return sw_eval_error(e, "0A000", "table %s lives on node %s but table %s resolves to %s: cannot join across shards",
                                 pt->name, sw_node_name(r, pt->node), sw_eval_table(e, tb->cls[0].first)->name, where);
        }
        sw_eval_reason(e, "%s is on %s", pt->name, sw_node_name(r, pt->node));
        s = pn;
        have = true;
    }
    if (tb->ref_write >= 0) {
        const sw_conf_table *rt = sw_eval_table(e, tb->ref_write);
        if (have) {
            int other = tb->pinned >= 0 ? tb->pinned : tb->cls[0].first;
            return sw_eval_error(e, "0A000", "writing reference table %s in a statement that reads %s table %s is not supported: "
                                             "each copy would be written from its own node's rows; read them first",
                                 rt->name, tb->pinned >= 0 && tb->n_cls == 0 ? "pinned" : "sharded",
                                 sw_eval_table(e, other)->name);
        }
        if (!tb->ref_copies) return sw_eval_error(e, "0A000", "reference tables of this statement share no node");
        if (st->volatile_fn >= 0 && sw_popcount(tb->ref_copies) > 1)
            return sw_eval_error(e, "0A000",
                                 "%s() in a write to reference table %s would give each copy its own value: "
                                 "compute the value first (SELECT %s()) and write it as a constant",
                                 sw_plan_s(e->p, st->volatile_fn), rt->name, sw_plan_s(e->p, st->volatile_fn));
        s = tb->ref_copies;
        have = true;
        e->out->copies = sw_popcount(s) > 1;
        sw_eval_reason(e, "write to reference table %s -> every copy", rt->name);
    } else if (tb->ref_read >= 0) {
        const sw_conf_table *rt = sw_eval_table(e, tb->ref_read);
        if (have) {
            sw_nodeset missing = s & ~tb->ref_copies;
            if (missing)
                return sw_eval_error(e, "0A000", "reference table %s has no copy on node %s", rt->name,
                                     sw_node_name(r, sw_lowest(missing)));
        } else {
            int def = e->db->default_node;
            if (!tb->ref_copies) return sw_eval_error(e, "0A000", "reference tables of this statement share no node");
            s = def >= 0 && def < 64 && (tb->ref_copies & ((sw_nodeset)1 << def))
                    ? (sw_nodeset)1 << def
                    : (sw_nodeset)1 << sw_lowest(tb->ref_copies);
            have = true;
            sw_eval_reason(e, "read of reference table %s -> %s", rt->name, sw_node_name(r, sw_lowest(s)));
        }
    }
    if (!have) {
        int def = e->db->default_node;
        s = def >= 0 && def < 64 ? (sw_nodeset)1 << def : 0;
        const sw_occ *oc = &e->p->occs[tb->first_other >= 0 ? tb->first_other : st->occ0];
        sw_eval_reason(e, "%s table %s -> default node %s", oc->table == SW_OCC_CATALOG ? "catalog" : "unlisted",
                       sw_plan_s(e->p, oc->relname), sw_node_name(r, def));
    }
    *out_s = s;
    return 0;
}

/* What can only be refused once the node set is known. */
static int check(sw_eval *e, const sw_pstmt *st, const tables *tb, sw_nodeset s)
{
    /* keyless ORDER BY/LIMIT/aggregates of a SELECT on several shards are
     * merged by the proxy (sw_merge_plan decides what it can answer
     * exactly); inside COPY (...) TO and cursors nothing merges them */
    if (sw_popcount(s) > 1 && (st->cursor || (st->kind == SW_SK_COPY && st->keyless_forbidden))) {
        int o = -1;
        for (int ci = 0; ci < tb->n_cls && o < 0; ci++) o = tb->cls[ci].first_unbound;
        if (o < 0) o = tb->n_cls ? tb->cls[0].first : st->occ0;
        const sw_conf_table *t = sw_eval_table(e, o);
        if (st->cursor)
            return sw_eval_error(e, "0A000",
                                 "a cursor over several shards is not supported: run the SELECT itself (psql: unset FETCH_COUNT) or add a shard key condition on %s.%s",
                                 t ? t->name : "?", t && t->key ? t->key : "?");
        return sw_eval_error(e, "0A000",
                             "COPY (query) TO cannot merge ORDER BY/LIMIT/aggregates across shards: run the query as a SELECT, or add a shard key condition on %s.%s",
                             t ? t->name : "?", t && t->key ? t->key : "?");
    }
    if (st->write && (st->kind == SW_SK_UPDATE || st->kind == SW_SK_DELETE || st->kind == SW_SK_INSERT) &&
        sw_popcount(s) == 1) {
        /* A subquery that reads a sharded table on every shard while the
         * write runs on one would see that shard's rows only. */
        for (int k = 0; k < st->n_occ; k++) {
            const sw_occ *oc = &e->p->occs[st->occ0 + k];
            const sw_occr *res = &tb->se.res[k];
            if (!oc->in_sublink || !res->used || res->bound) continue;
            sw_nodeset all = sw_eval_mask_nodes(e, st->occ0 + k, res->mask);
            if (sw_popcount(all) <= 1) continue;
            const sw_conf_table *t = sw_eval_table(e, st->occ0 + k);
            return sw_eval_error(e, "0A000",
                                 "a subquery of this %s reads %s on every shard, but the statement runs on one shard "
                                 "and would see only its rows: add a condition on %s.%s to the subquery, or compute "
                                 "the value first",
                                 sw_stmt_kind_name(st->kind), t->name, t->name, t->key);
        }
    }
    if (st->upd_occ >= 0) {
        const sw_occr *ur = &tb->se.res[st->upd_occ - st->occ0];
        int t = sw_eval_key(e, st->upd_occ, st->new_key, NULL);
        if (t < 0) return e->out->status;
        if (t >= 64 || ur->mask != (uint64_t)1 << t) {
            const sw_conf_table *ut = sw_eval_table(e, st->upd_occ);
            return sw_eval_error(e, "0A000", "UPDATE would move rows of %s to another shard (key %s): rows do not move "
                                             "between shards; DELETE them and INSERT them with the new key", ut->name,
                                 ut->key);
        }
    }
    return 0;
}

int sw_eval_stmt(sw_eval *e, int si)
{
    const sw_plan *p = e->p;
    const sw_pstmt *st = &p->stmts[si];
    sw_route_out *out = e->out;
    const sw_router *r = e->r;
    out->kind = st->kind;
    out->write = st->write;
    out->txn_op = st->txn_op;
    if (st->txn_name >= 0) snprintf(out->txn_name, sizeof out->txn_name, "%s", sw_plan_s(p, st->txn_name));
    if (st->local != SW_LOCAL_NONE) {
        if (st->err >= 0) return sw_eval_error(e, st->sqlstate, "%s", sw_plan_s(p, st->err));
        return sw_local_eval(e, st);
    }
    int forced;
    const char *key, *src;
    int rc = overrides(e, &forced, &key, &src);
    if (rc) return rc;
    int cap = 0;
    if (forced >= 0 && routable(st->kind)) {
        /* a forced node takes the statement as it is, whatever the
         * analysis could not route */
        sw_eval_reason(e, "%s shard: %s -> %s", src, sw_node_name(r, forced), sw_node_name(r, forced));
        return sw_out_add_target(out, &cap, forced, NULL) ? sw_eval_oom(e) : SW_ROUTE_OK;
    }
    if (st->err >= 0) return sw_eval_error(e, st->sqlstate, "%s", sw_plan_s(p, st->err));
    if (!routable(st->kind)) {
        sw_eval_reason(e, "%s: no preference", sw_stmt_kind_name(st->kind));
        return SW_ROUTE_OK;
    }
    if (key) sw_eval_reason(e, "%s sharding_key: %s", src, key);
    /* DDL whose targets are not those of one co-located set of tables */
    if (st->ddl == SW_DDL_DROP_INDEX) return sw_ddl_drop_index(e, si);
    if (st->ddl == SW_DDL_LIST && st->n_occ > 1) return sw_ddl_list(e, si, key);
    if (st->n_occ == 0) {
        sw_eval_reason(e, "no table: no preference");
        return SW_ROUTE_OK;
    }

    tables tb;
    bool small = st->n_occ <= SW_INLINE_OCCS;
    tb.se.res = small ? tb.se.occ_buf : calloc((size_t)st->n_occ, sizeof *tb.se.res);
    tb.se.row_t = tb.se.row_buf;
    tb.cls = small ? tb.cls_buf : calloc((size_t)st->n_occ, sizeof *tb.cls);
    tb.n_cls = 0;
    tb.pinned = tb.ref_write = tb.ref_read = tb.ins_sel = tb.first_other = -1;
    tb.ref_copies = all_nodes(r);
    sw_nodeset s = 0;
    if (!tb.se.res || !tb.cls) rc = sw_eval_oom(e);
    if (rc == 0) rc = eval_tables(e, st, &tb, key);
    if (rc == 0) rc = combine(e, st, &tb, &s);
    if (rc == 0) rc = check(e, st, &tb, s);
    if (rc == 0) rc = sw_make_targets(e, si, &tb.se, s);
    if (rc == 0 && (out->n_targets > 1 || e->reason_len == 0)) {
        char list[256];
        node_list(r, out->nodes, list, sizeof list);
        sw_eval_reason(e, "targets: %s", list);
    }
    if (tb.se.res != tb.se.occ_buf) free(tb.se.res);
    if (tb.se.row_t != tb.se.row_buf) free(tb.se.row_t);
    if (tb.cls != tb.cls_buf) free(tb.cls);
    return rc;
}
