/*
 * ddl.c - DDL on every node that holds its tables, with the physical names.
 *
 * Analysis: the table a statement changes is its written occurrence; the
 * tables it only names (a foreign key's target, LIKE, INHERITS) are read,
 * so a foreign key to a reference table follows the table instead of
 * writing every copy.  DROP's names come without positions in the parse
 * tree: they are found among the items, as are CREATE INDEX's and DROP
 * INDEX's index names.  Renaming a table-suffix table (or one of its
 * physical tables) is refused: the shard map names the physical tables.
 *
 * Evaluation: a DROP or TRUNCATE of several tables gives each node the
 * list of the (physical) tables it holds.  CREATE INDEX on a table-suffix
 * table names each physical table's index with the suffix the physical
 * name has over the logical one (two physical tables may share a
 * database, and index names are per schema).  DROP INDEX cannot know its
 * table: it goes to every node of the database with IF EXISTS, and drops
 * there also the suffixed names the index got on the node's table-suffix
 * tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

/* Longer identifiers are truncated by PostgreSQL (NAMEDATALEN - 1), and
 * truncated names of two physical tables' indexes could collide. */
#define SW_MAX_IDENT 63

/* ------------------------------------------------------------ helpers */

static sw_nodeset node_bit(int node)
{
    return node >= 0 && node < 64 ? (sw_nodeset)1 << node : 0;
}

static sw_nodeset all_nodes(const sw_router *r)
{
    int n = r->conf->n_nodes;
    return n >= 64 ? ~(sw_nodeset)0 : ((sw_nodeset)1 << n) - 1;
}

static sw_nodeset copies(const sw_router *r, const sw_conf_table *t)
{
    if (!t->nodes || t->n_nodes == 0) return all_nodes(r);
    sw_nodeset s = 0;
    for (int i = 0; i < t->n_nodes; i++) s |= node_bit(t->nodes[i]);
    return s;
}

static bool suffix_fn(const sw_router *r, const sw_conf_table *t)
{
    return t->kind == SW_TABLE_SHARDED && sw_shardfn_conf(r->fns[t->function])->table_targets;
}

/* name followed by the suffix physical has over logical ("_10_to_100" for
 * products_10_to_100 of products, "_" + physical when it does not start
 * with "<logical>_"), into buf.  Returns the full length. */
static size_t suffixed(char *buf, size_t bufsz, const char *name, const char *logical,
                       const char *physical)
{
    size_t ll = strlen(logical);
    bool prefixed = strncmp(physical, logical, ll) == 0 && physical[ll] == '_';
    int n = snprintf(buf, bufsz, "%s%s%s", name, prefixed ? "" : "_", prefixed ? physical + ll : physical);
    return n < 0 ? 0 : (size_t)n;
}

/* Next / previous item that is not a comment, within the statement; -1. */
static int next_item(const sw_item *it, int k, int last)
{
    for (k++; k <= last; k++)
        if (!(it[k].flags & SW_ITEM_COMMENT)) return k;
    return -1;
}

static int prev_item(const sw_item *it, int k, int first)
{
    for (k--; k >= first; k--)
        if (!(it[k].flags & SW_ITEM_COMMENT)) return k;
    return -1;
}

static int tok(const sw_actx *a, int k)
{
    return k >= 0 ? a->items[k].tok : -1;
}

/* Last item of a name of parts dotted parts starting at item k, or -1. */
static int name_end(const sw_actx *a, int k, int parts)
{
    if (k < 0 || tok(a, k) < 256) return -1;
    for (int i = 1; i < parts; i++) {
        k = next_item(a->items, k, a->st->last);
        if (tok(a, k) != PG_QUERY__TOKEN__ASCII_46) return -1;
        k = next_item(a->items, k, a->st->last);
        if (tok(a, k) < 256) return -1;
    }
    return k;
}

/* ------------------------------------------------------------ analysis */

/* The table-suffix table of occurrence o, or NULL. */
static const sw_conf_table *suffix_table(const sw_actx *a, int o)
{
    const sw_conf_table *t = sw_occ_sharded(a, o);
    return t && suffix_fn(a->r, t) ? t : NULL;
}

/* Walk n; the occurrence of rel (the table the statement changes) is the
 * written one.  Returns it, or -1. */
static int walk_main(sw_actx *a, const PgQuery__Node *n, const PgQuery__RangeVar *rel)
{
    int before = a->p->n_occs;
    sw_walk_node(a, n, NULL, rel ? 0 : SW_WF_WRITE);
    if (!rel) return -1;
    int ti = rel->location >= 0 ? sw_items_at(a->items, a->n_items, (uint32_t)rel->location) : -1;
    int mine = -1;
    for (int o = before; o < a->p->n_occs && mine < 0; o++)
        if (ti >= 0 && a->p->occs[o].name_first == ti) mine = o;
    /* the statement's own table comes first in the tree */
    if (mine < 0 && a->p->n_occs > before) mine = before;
    if (mine >= 0) a->p->occs[mine].write = true;
    return mine;
}

/* First item of DROP's names, after DROP [MATERIALIZED | FOREIGN] TABLE |
 * VIEW | INDEX [CONCURRENTLY] [IF EXISTS]; *kw is the item IF EXISTS
 * follows.  -1 when the text does not read so. */
static int drop_list_start(const sw_actx *a, const PgQuery__DropStmt *d, int *kw)
{
    const sw_item *it = a->items;
    int last = a->st->last;
    int k = a->st->first;
    if (it[k].flags & SW_ITEM_COMMENT) k = next_item(it, k, last);
    if (tok(a, k) != PG_QUERY__TOKEN__DROP) return -1;
    k = next_item(it, k, last);
    if (tok(a, k) == PG_QUERY__TOKEN__MATERIALIZED || tok(a, k) == PG_QUERY__TOKEN__FOREIGN)
        k = next_item(it, k, last);
    if (tok(a, k) != PG_QUERY__TOKEN__TABLE && tok(a, k) != PG_QUERY__TOKEN__VIEW &&
        tok(a, k) != PG_QUERY__TOKEN__INDEX)
        return -1;
    if (d->concurrent) {
        k = next_item(it, k, last);
        if (tok(a, k) != PG_QUERY__TOKEN__CONCURRENTLY) return -1;
    }
    *kw = k;
    k = next_item(it, k, last);
    if (d->missing_ok) {
        if (tok(a, k) != PG_QUERY__TOKEN__IF_P) return -1;
        k = next_item(it, k, last);
        if (tok(a, k) != PG_QUERY__TOKEN__EXISTS) return -1;
        k = next_item(it, k, last);
    }
    return k;
}

/* After the name ending at item last: the first item of the next name
 * (more names follow), or -1. */
static int after_name(const sw_actx *a, int last, bool more)
{
    if (last < 0 || !more) return -1;
    int k = next_item(a->items, last, a->st->last);
    if (tok(a, k) != PG_QUERY__TOKEN__ASCII_44) return -1;
    return next_item(a->items, k, a->st->last);
}

static void drop_index(sw_actx *a, const PgQuery__DropStmt *d, int k, int kw)
{
    sw_pstmt *st = a->st;
    st->ddl = SW_DDL_DROP_INDEX;
    st->ddl_concurrent = d->concurrent;
    st->ddl_item = d->missing_ok ? -1 : kw;
    st->ddl_first = k;
    /* the items first, so that the names are stored consecutively */
    for (size_t i = 0; i < d->n_objects; i++) {
        const PgQuery__Node *o = d->objects[i];
        int last = o->node_case == PG_QUERY__NODE__NODE_LIST
                       ? name_end(a, k, (int)o->list->n_items) : -1;
        if (last < 0 || !sw_node_str(o->list->items[o->list->n_items - 1])) {
            sw_st_error(a, "0A000", "cannot read the index names of this DROP INDEX");
            return;
        }
        st->ddl_last = last;
        k = after_name(a, last, i + 1 < d->n_objects);
    }
    for (size_t i = 0; i < d->n_objects; i++) {
        const PgQuery__List *l = d->objects[i]->list;
        const char *name = sw_node_str(l->items[l->n_items - 1]);
        int off = sw_plan_str(a->p, name, strlen(name));
        if (i == 0) st->ddl_str = off;
    }
    st->ddl_n = (int32_t)d->n_objects;
}

/* DROP TABLE/VIEW/...: the names are lists of strings, not RangeVars. */
static void drop_stmt(sw_actx *a, const PgQuery__DropStmt *d)
{
    switch (d->remove_type) {
    case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE:
    case PG_QUERY__OBJECT_TYPE__OBJECT_VIEW:
    case PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW:
    case PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_TABLE:
    case PG_QUERY__OBJECT_TYPE__OBJECT_INDEX: break;
    default: return;
    }
    int kw = -1;
    int k = drop_list_start(a, d, &kw);
    if (d->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX) {
        if (k < 0) sw_st_error(a, "0A000", "cannot read the index names of this DROP INDEX");
        else drop_index(a, d, k, kw);
        return;
    }
    a->st->ddl = SW_DDL_LIST;
    for (size_t i = 0; i < d->n_objects; i++) {
        const PgQuery__Node *o = d->objects[i];
        if (o->node_case != PG_QUERY__NODE__NODE_LIST || o->list->n_items == 0) {
            k = -1;
            continue;
        }
        size_t n = o->list->n_items;
        const char *name = sw_node_str(o->list->items[n - 1]);
        const char *schema = n >= 2 ? sw_node_str(o->list->items[n - 2]) : NULL;
        int last = name_end(a, k, (int)n);
        if (name) {
            PgQuery__RangeVar rv = PG_QUERY__RANGE_VAR__INIT;
            rv.relname = (char *)name;
            rv.schemaname = (char *)(schema ? schema : "");
            rv.catalogname = (char *)"";
            rv.location = -1;
            int oi = sw_add_occ(a, &rv, NULL, SW_WF_WRITE);
            if (oi >= 0 && last >= 0) {
                a->p->occs[oi].name_first = k;
                a->p->occs[oi].name_last = last;
            }
        }
        k = after_name(a, last, i + 1 < d->n_objects);
    }
}

/* CREATE INDEX [CONCURRENTLY] [IF NOT EXISTS] name ON [ONLY] table: the
 * name is the item before ON. */
static void create_index(sw_actx *a, const PgQuery__IndexStmt *ix, int o)
{
    sw_pstmt *st = a->st;
    st->ddl = SW_DDL_INDEX;
    st->ddl_occ = o;
    if (!ix->idxname || !*ix->idxname || o < 0) return;
    st->ddl_str = sw_plan_str(a->p, ix->idxname, strlen(ix->idxname));
    int first = a->p->occs[o].name_first;
    if (first < 0) return;
    int k = prev_item(a->items, first, st->first);
    if (tok(a, k) == PG_QUERY__TOKEN__ONLY) k = prev_item(a->items, k, st->first);
    if (tok(a, k) != PG_QUERY__TOKEN__ON) return;
    k = prev_item(a->items, k, st->first);
    if (tok(a, k) >= 256) st->ddl_item = k;
}

/* ALTER TABLE ... RENAME TO of a table-suffix table or of a physical one. */
static void rename_check(sw_actx *a, const PgQuery__RenameStmt *rs, int o)
{
    if (rs->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE || !rs->relation) return;
    const sw_conf_table *t = suffix_table(a, o);
    if (t) {
        sw_st_error(a, "0A000", "cannot rename table-suffix table %s: the shard map names its physical tables",
                    t->name);
        return;
    }
    if (a->p->db < 0 || !rs->relation->relname) return;
    const sw_conf_database *db = &a->r->conf->databases[a->p->db];
    for (int i = 0; i < db->n_tables; i++) {
        const sw_conf_table *tb = &db->tables[i];
        if (!suffix_fn(a->r, tb)) continue;
        const sw_shardfn *fn = a->r->fns[tb->function];
        for (int k = 0; k < sw_shardfn_n_targets(fn); k++) {
            if (strcmp(sw_shardfn_target_name(fn, k), rs->relation->relname) != 0) continue;
            sw_st_error(a, "0A000", "cannot rename %s, a physical table of table-suffix table %s: the shard map names it",
                        rs->relation->relname, tb->name);
            return;
        }
    }
}

void sw_ddl_analyze(sw_actx *a, const PgQuery__Node *n)
{
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_DROP_STMT: drop_stmt(a, n->drop_stmt); return;
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
        sw_walk_node(a, n, NULL, SW_WF_WRITE);
        a->st->ddl = SW_DDL_LIST;
        return;
    case PG_QUERY__NODE__NODE_INDEX_STMT:
        create_index(a, n->index_stmt, walk_main(a, n, n->index_stmt->relation));
        return;
    case PG_QUERY__NODE__NODE_CREATE_STMT: walk_main(a, n, n->create_stmt->relation); return;
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT: walk_main(a, n, n->alter_table_stmt->relation); return;
    case PG_QUERY__NODE__NODE_RENAME_STMT:
        rename_check(a, n->rename_stmt, walk_main(a, n, n->rename_stmt->relation));
        return;
    default: sw_walk_node(a, n, NULL, SW_WF_WRITE); return;
    }
}

/* ------------------------------------------------------------ CREATE INDEX */

int sw_ddl_suffix_check(sw_eval *e, int si, const sw_rename *ren, int n_ren)
{
    const sw_pstmt *st = &e->p->stmts[si];
    for (int k = 0; k < n_ren; k++) {
        const sw_occ *oc = &e->p->occs[ren[k].occ];
        const sw_conf_table *t = sw_eval_table(e, ren[k].occ);
        if (!oc->write && !oc->alias_ok)
            return sw_eval_error(e, "0A000", "DDL that refers to table-suffix table %s without changing it (a foreign key, LIKE, INHERITS) is not supported",
                                 t->name);
        if (st->ddl != SW_DDL_INDEX || ren[k].occ != st->ddl_occ || st->ddl_str < 0) continue;
        if (st->ddl_item < 0)
            return sw_eval_error(e, "0A000", "cannot find the index name of this CREATE INDEX to give it the suffixes of %s",
                                 t->name);
        const sw_shardfn *fn = sw_eval_fn(e, ren[k].occ);
        for (uint64_t m = ren[k].mask; m; m &= m - 1) {
            char buf[256];
            const char *phys = sw_shardfn_target_name(fn, __builtin_ctzll(m));
            if (suffixed(buf, sizeof buf, sw_plan_s(e->p, st->ddl_str), t->name, phys) > SW_MAX_IDENT)
                return sw_eval_error(e, "0A000", "index name %s would be longer than %d bytes on physical table %s: choose a shorter name",
                                     buf, SW_MAX_IDENT, phys);
        }
    }
    return 0;
}

void sw_ddl_index_name(const sw_eval *e, const sw_pstmt *st, int t, sw_sbuf *b)
{
    char buf[256];
    suffixed(buf, sizeof buf, sw_plan_s(e->p, st->ddl_str), sw_eval_table(e, st->ddl_occ)->name,
             sw_shardfn_target_name(sw_eval_fn(e, st->ddl_occ), t));
    sw_sbuf_ident(b, buf);
}

/* ------------------------------------------------------------ DROP / TRUNCATE lists */

/* Where occurrence o's table lives: nodes, and for a table-suffix table
 * its physical tables (*sfx).  0, or the error status. */
static int object_nodes(sw_eval *e, int o, const char *key, sw_nodeset *nodes, uint64_t *sfx)
{
    const sw_conf_table *t = sw_eval_table(e, o);
    *sfx = 0;
    if (!t) {
        *nodes = node_bit(e->db->default_node);
        return 0;
    }
    if (t->kind == SW_TABLE_PINNED) {
        *nodes = node_bit(t->node);
        return 0;
    }
    if (t->kind == SW_TABLE_REFERENCE) {
        *nodes = copies(e->r, t);
        return 0;
    }
    uint64_t mask;
    bool bound;
    int rc = sw_eval_occ(e, o, key, &mask, &bound);
    if (rc) return rc;
    *nodes = sw_eval_mask_nodes(e, o, mask);
    if (suffix_fn(e->r, t)) *sfx = mask;
    return 0;
}

/* Byte range of a list entry: its name, with TRUNCATE's ONLY before and
 * '*' after it. */
static void entry_span(const sw_eval *e, const sw_pstmt *st, const sw_occ *oc, uint32_t *from,
                       uint32_t *to)
{
    const sw_item *it = e->items;
    int f = oc->name_first, l = oc->name_last;
    int k = prev_item(it, f, st->first);
    if (k >= 0 && it[k].tok == PG_QUERY__TOKEN__ONLY) f = k;
    k = next_item(it, l, st->last);
    if (k >= 0 && it[k].tok == PG_QUERY__TOKEN__ASCII_42) l = k;
    *from = it[f].start;
    *to = it[l].end;
}

/* The statement with only the entries on node (table-suffix ones as the
 * node's physical tables).  malloc'd, NULL when out of memory. */
static char *list_text(const sw_eval *e, const sw_pstmt *st, int node, const sw_nodeset *nodes,
                       const uint64_t *sfx)
{
    const sw_item *it = e->items;
    const sw_occ *occs = &e->p->occs[st->occ0];
    uint32_t begin = it[st->first].start, end = it[st->last].end, head, tail, f, t;
    entry_span(e, st, &occs[0], &head, &t);
    entry_span(e, st, &occs[st->n_occ - 1], &f, &tail);
    sw_sbuf b = {0};
    sw_sbuf_add(&b, e->text + begin, head - begin);
    bool first = true;
    for (int k = 0; k < st->n_occ; k++) {
        if (!(nodes[k] & node_bit(node))) continue;
        entry_span(e, st, &occs[k], &f, &t);
        if (!sfx[k]) {
            if (!first) sw_sbuf_str(&b, ", ");
            first = false;
            sw_sbuf_add(&b, e->text + f, t - f);
            continue;
        }
        const sw_conf_table *tb = sw_eval_table(e, st->occ0 + k);
        const sw_shardfn *fn = sw_eval_fn(e, st->occ0 + k);
        uint32_t name = it[occs[k].name_last].start, after = it[occs[k].name_last].end;
        for (uint64_t m = sfx[k]; m; m &= m - 1) {
            int p = __builtin_ctzll(m);
            if (sw_table_target_node(e->r, tb, p) != node) continue;
            if (!first) sw_sbuf_str(&b, ", ");
            first = false;
            sw_sbuf_add(&b, e->text + f, name - f);
            sw_sbuf_ident(&b, sw_shardfn_target_name(fn, p));
            sw_sbuf_add(&b, e->text + after, t - after);
        }
    }
    sw_sbuf_add(&b, e->text + tail, end - tail);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

int sw_ddl_list(sw_eval *e, int si, const char *key)
{
    const sw_pstmt *st = &e->p->stmts[si];
    int n = st->n_occ, cap = 0, rc = 0;
    sw_nodeset nodes_buf[SW_INLINE_OCCS];
    uint64_t sfx_buf[SW_INLINE_OCCS];
    bool small = n <= SW_INLINE_OCCS;
    sw_nodeset *nodes = small ? nodes_buf : malloc((size_t)n * sizeof *nodes);
    uint64_t *sfx = small ? sfx_buf : malloc((size_t)n * sizeof *sfx);
    if (!nodes || !sfx) rc = sw_eval_oom(e);
    sw_nodeset all = 0;
    bool located = true;
    for (int k = 0; k < n && rc == 0; k++) {
        rc = object_nodes(e, st->occ0 + k, key, &nodes[k], &sfx[k]);
        all |= nodes[k];
        if (e->p->occs[st->occ0 + k].name_first < 0) located = false;
    }
    for (sw_nodeset m = all; m && rc == 0; m &= m - 1) {
        int node = __builtin_ctzll(m);
        bool whole = true;
        for (int k = 0; k < n; k++)
            if (!(nodes[k] & node_bit(node)) || sfx[k]) whole = false;
        if (whole) {
            if (sw_out_add_target(e->out, &cap, node, NULL)) rc = sw_eval_oom(e);
            continue;
        }
        if (!located) {
            rc = sw_eval_error(e, "0A000", "cannot split this statement's list of tables by node: send one statement per table");
            break;
        }
        char *sql = list_text(e, st, node, nodes, sfx);
        if (!sql || sw_out_add_target(e->out, &cap, node, sql)) rc = sw_eval_oom(e);
    }
    if (rc == 0) {
        sw_eval_reason(e, "%d tables: each node gets the ones it holds", n);
        char list[256];
        size_t used = 0;
        list[0] = '\0';
        for (sw_nodeset m = all; m && used + 1 < sizeof list; m &= m - 1) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
                             sw_node_name(e->r, __builtin_ctzll(m)));
            if (w < 0) break;
            used += (size_t)w;
        }
        sw_eval_reason(e, "targets: %s", list);
    }
    if (nodes != nodes_buf) free(nodes);
    if (sfx != sfx_buf) free(sfx);
    return rc;
}

/* ------------------------------------------------------------ DROP INDEX */

/* Every node of the database: its default node and every node one of
 * its tables is on. */
static sw_nodeset db_nodes(const sw_eval *e)
{
    const sw_conf_database *db = e->db;
    sw_nodeset s = node_bit(db->default_node);
    for (int i = 0; i < db->n_tables; i++) {
        const sw_conf_table *t = &db->tables[i];
        if (t->kind == SW_TABLE_PINNED) {
            s |= node_bit(t->node);
        } else if (t->kind == SW_TABLE_REFERENCE) {
            s |= copies(e->r, t);
        } else {
            const sw_shardfn *fn = e->r->fns[t->function];
            for (int k = 0; k < sw_shardfn_n_targets(fn); k++)
                s |= node_bit(sw_table_target_node(e->r, t, k));
        }
    }
    return s & all_nodes(e->r);
}

/* Text [from, to) of the statement, IF EXISTS added when it is missing. */
static void copy_if_exists(const sw_eval *e, const sw_pstmt *st, sw_sbuf *b, uint32_t from, uint32_t to)
{
    if (st->ddl_item >= 0) {
        uint32_t at = e->items[st->ddl_item].end;
        if (at >= from && at <= to) {
            sw_sbuf_add(b, e->text + from, at - from);
            sw_sbuf_str(b, " IF EXISTS");
            from = at;
        }
    }
    sw_sbuf_add(b, e->text + from, to - from);
}

/* The suffixes of the physical tables node holds, each once, as
 * consecutive NUL-terminated strings in b.  Returns how many. */
static int node_suffixes(const sw_eval *e, int node, sw_sbuf *b)
{
    int n = 0;
    const sw_conf_database *db = e->db;
    for (int i = 0; i < db->n_tables; i++) {
        const sw_conf_table *t = &db->tables[i];
        if (!suffix_fn(e->r, t)) continue;
        const sw_shardfn *fn = e->r->fns[t->function];
        for (int k = 0; k < sw_shardfn_n_targets(fn); k++) {
            if (sw_table_target_node(e->r, t, k) != node) continue;
            char buf[256];
            size_t len = suffixed(buf, sizeof buf, "", t->name, sw_shardfn_target_name(fn, k));
            if (len >= sizeof buf) continue;
            bool seen = false;
            for (size_t off = 0; off < b->len && !seen; off += strlen(b->s + off) + 1)
                seen = strcmp(b->s + off, buf) == 0;
            if (seen) continue;
            sw_sbuf_add(b, buf, len + 1);
            n++;
        }
    }
    return n;
}

/* One name of DROP INDEX's list, starting at item *k: its schema prefix
 * as written in this text ("s." or ""), *k moved to the next name. */
static void next_name(const sw_eval *e, const sw_pstmt *st, int *k, const char **prefix, size_t *len)
{
    const sw_item *it = e->items;
    int last = *k;
    for (int x = *k; x >= 0 && x <= st->ddl_last && it[x].tok != PG_QUERY__TOKEN__ASCII_44;
         x = next_item(it, x, st->ddl_last))
        last = x;
    *prefix = e->text + it[*k].start;
    *len = it[last].start - it[*k].start;
    int comma = next_item(it, last, st->ddl_last);
    *k = comma >= 0 ? next_item(it, comma, st->ddl_last) : -1;
}

/* sep, then one suffixed index name: schema prefix, name + suffix.  False
 * (nothing added) when it is too long to have been created. */
static bool add_variant(sw_sbuf *b, const char *sep, const char *prefix, size_t plen,
                        const char *name, const char *sfx)
{
    char buf[256];
    int len = snprintf(buf, sizeof buf, "%s%s", name, sfx);
    if (len < 0 || len > SW_MAX_IDENT) return false;
    sw_sbuf_str(b, sep);
    sw_sbuf_add(b, prefix, plen);
    sw_sbuf_ident(b, buf);
    return true;
}

static int add_sql(sw_eval *e, int *cap, int node, sw_sbuf *b)
{
    if (b->oom) {
        free(b->s);
        return sw_eval_oom(e);
    }
    return sw_out_add_target(e->out, cap, node, b->s) ? sw_eval_oom(e) : 0;
}

static int drop_index_node(sw_eval *e, const sw_pstmt *st, int node, int *cap)
{
    const sw_item *it = e->items;
    uint32_t begin = it[st->first].start, end = it[st->last].end;
    uint32_t l0 = it[st->ddl_first].start, l1 = it[st->ddl_last].end;
    sw_sbuf sfx = {0};
    int n_sfx = node_suffixes(e, node, &sfx);
    int rc = 0, k = st->ddl_first;
    const char *name = sw_plan_s(e->p, st->ddl_str), *prefix;
    size_t plen;
    if (sfx.oom) {
        rc = sw_eval_oom(e);
    } else if (n_sfx == 0 && st->ddl_item < 0) {
        if (sw_out_add_target(e->out, cap, node, NULL)) rc = sw_eval_oom(e);
    } else if (!st->ddl_concurrent) {
        sw_sbuf b = {0};
        copy_if_exists(e, st, &b, begin, l1);
        for (int i = 0; i < st->ddl_n && k >= 0; i++, name += strlen(name) + 1) {
            next_name(e, st, &k, &prefix, &plen);
            const char *x = sfx.s;
            for (int j = 0; j < n_sfx; j++, x += strlen(x) + 1) add_variant(&b, ", ", prefix, plen, name, x);
        }
        sw_sbuf_add(&b, e->text + l1, end - l1);
        rc = add_sql(e, cap, node, &b);
    } else {
        /* CONCURRENTLY drops one index per statement */
        if (st->ddl_item < 0) {
            if (sw_out_add_target(e->out, cap, node, NULL)) rc = sw_eval_oom(e);
        } else {
            sw_sbuf b = {0};
            copy_if_exists(e, st, &b, begin, end);
            rc = add_sql(e, cap, node, &b);
        }
        next_name(e, st, &k, &prefix, &plen);
        const char *x = sfx.s;
        for (int j = 0; j < n_sfx && rc == 0; j++, x += strlen(x) + 1) {
            sw_sbuf b = {0};
            copy_if_exists(e, st, &b, begin, l0);
            if (!add_variant(&b, "", prefix, plen, name, x)) {
                free(b.s);
                continue;
            }
            sw_sbuf_add(&b, e->text + l1, end - l1);
            rc = add_sql(e, cap, node, &b);
        }
    }
    free(sfx.s);
    return rc;
}

int sw_ddl_drop_index(sw_eval *e, int si)
{
    const sw_pstmt *st = &e->p->stmts[si];
    sw_nodeset all = db_nodes(e);
    int cap = 0, rc = 0;
    for (sw_nodeset m = all; m && rc == 0; m &= m - 1) rc = drop_index_node(e, st, __builtin_ctzll(m), &cap);
    if (rc == 0)
        sw_eval_reason(e, "DROP INDEX: its table is not known -> every node of database %s, IF EXISTS, "
                          "with the suffixed names of each node's table-suffix tables", e->db->name);
    return rc;
}
