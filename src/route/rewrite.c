/*
 * rewrite.c - a statement's text for one target, built from the original
 * text and its items: table-suffix names replaced by the physical table
 * (keeping the name columns use: "products_10_to_100 AS products"), or by
 * a UNION ALL of the physical tables when several may hold the rows; and
 * for a split INSERT only the rows bound for the target.  DDL keeps a
 * schema qualifier, and CREATE INDEX gives the index of one physical table
 * that table's suffix (ddl.c).
 *
 * The statement is cut from its first item to its last non-comment item
 * (the ';' and trailing comments are not part of it); everything between
 * edits is copied byte for byte, but for shardwire_next_id() calls, which
 * become their ids (idcall.c).
 */
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

void sw_sbuf_add(sw_sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 256;
        while (ncap < b->len + n + 1) ncap *= 2;
        char *ns = realloc(b->s, ncap);
        if (!ns) {
            b->oom = true;
            return;
        }
        b->s = ns;
        b->cap = ncap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void sw_sbuf_str(sw_sbuf *b, const char *s)
{
    sw_sbuf_add(b, s, strlen(s));
}

/* Words that cannot be a bare table name or alias. */
static bool reserved(const char *s)
{
    static const char *const words[] = {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
        "authorization", "binary", "both", "case", "cast", "check", "collate", "collation",
        "column", "concurrently", "constraint", "create", "cross", "current_catalog",
        "current_date", "current_role", "current_schema", "current_time", "current_timestamp",
        "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
        "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group",
        "having", "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull", "join",
        "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural",
        "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps",
        "placing", "primary", "references", "returning", "right", "select", "session_user",
        "similar", "some", "symmetric", "table", "tablesample", "then", "to", "trailing", "true",
        "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window",
        "with", NULL};
    for (int i = 0; words[i]; i++)
        if (strcmp(s, words[i]) == 0) return true;
    return false;
}

void sw_sbuf_ident(sw_sbuf *b, const char *s)
{
    bool plain = *s && !(*s >= '0' && *s <= '9') && *s != '$';
    for (const char *c = s; *c && plain; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '$')) plain = false;
    if (plain && !reserved(s)) {
        sw_sbuf_str(b, s);
        return;
    }
    sw_sbuf_add(b, "\"", 1);
    for (const char *c = s; *c; c++) {
        if (*c == '"') sw_sbuf_add(b, "\"", 1);
        sw_sbuf_add(b, c, 1);
    }
    sw_sbuf_add(b, "\"", 1);
}

enum { ED_RENAME, ED_ROWS, ED_INDEX };

typedef struct edit {
    uint32_t from, to; /* byte range replaced */
    int kind;          /* ED_* */
    int ren;           /* index into ren */
} edit;

static void rename_text(sw_eval *e, sw_sbuf *b, const sw_rename *rn)
{
    const sw_occ *oc = &e->p->occs[rn->occ];
    const sw_shardfn *fn = sw_eval_fn(e, rn->occ);
    uint64_t mask = rn->mask;
    if ((mask & (mask - 1)) == 0) {
        sw_sbuf_ident(b, sw_shardfn_target_name(fn, __builtin_ctzll(mask)));
        if (!oc->alias_ok || oc->has_alias) return;
    } else {
        sw_sbuf_add(b, "(", 1);
        for (uint64_t m = mask; m; m &= m - 1) {
            sw_sbuf_str(b, m == mask ? "SELECT * FROM " : " UNION ALL SELECT * FROM ");
            sw_sbuf_ident(b, sw_shardfn_target_name(fn, __builtin_ctzll(m)));
        }
        sw_sbuf_add(b, ")", 1);
        if (oc->has_alias) return;
    }
    sw_sbuf_str(b, " AS ");
    sw_sbuf_ident(b, sw_plan_s(e->p, oc->relname));
}

char *sw_rewrite(sw_eval *e, int si, const sw_rename *ren, int n_ren, const bool *rows)
{
    const sw_pstmt *st = &e->p->stmts[si];
    const sw_item *it = e->items;
    edit buf[16];
    int cap = n_ren + 2;
    edit *ed = cap <= 16 ? buf : malloc((size_t)cap * sizeof *ed);
    if (!ed) return NULL;
    int n = 0;
    for (int k = 0; k < n_ren; k++) {
        const sw_occ *oc = &e->p->occs[ren[k].occ];
        if (oc->name_first < 0 || ren[k].mask == 0) continue;
        /* DDL keeps the schema: the physical table belongs in the schema
         * the statement names */
        int first = st->kind == SW_SK_DDL && !oc->alias_ok ? oc->name_last : oc->name_first;
        ed[n++] = (edit){it[first].start, it[oc->name_last].end, ED_RENAME, k};
        /* the index of one physical table gets that table's suffix */
        if (st->ddl == SW_DDL_INDEX && ren[k].occ == st->ddl_occ && st->ddl_item >= 0 &&
            sw_popcount(ren[k].mask) == 1)
            ed[n++] = (edit){it[st->ddl_item].start, it[st->ddl_item].end, ED_INDEX, k};
    }
    const sw_occ *io = st->ins_occ >= 0 ? &e->p->occs[st->ins_occ] : NULL;
    if (rows && io && io->n_rows > 0) {
        const sw_prow *r = &e->p->rows[io->row0];
        ed[n++] = (edit){it[r[0].first].start, it[r[io->n_rows - 1].last].end, ED_ROWS, -1};
    }
    /* in text order; an edit inside an earlier one is dropped */
    for (int i = 1; i < n; i++) {
        edit x = ed[i];
        int j = i - 1;
        while (j >= 0 && ed[j].from > x.from) {
            ed[j + 1] = ed[j];
            j--;
        }
        ed[j + 1] = x;
    }
    sw_sbuf b = {0};
    uint32_t pos = it[st->first].start, end = it[st->last].end;
    for (int i = 0; i < n; i++) {
        if (ed[i].from < pos) continue;
        sw_idcall_copy(e, st, &b, pos, ed[i].from);
        if (ed[i].kind == ED_RENAME) {
            rename_text(e, &b, &ren[ed[i].ren]);
        } else if (ed[i].kind == ED_INDEX) {
            sw_ddl_index_name(e, st, __builtin_ctzll(ren[ed[i].ren].mask), &b);
        } else {
            const sw_prow *r = &e->p->rows[io->row0];
            bool first = true;
            for (int k = 0; k < io->n_rows; k++) {
                if (!rows[k]) continue;
                if (!first) sw_sbuf_add(&b, ", ", 2);
                first = false;
                sw_idcall_copy(e, st, &b, it[r[k].first].start, it[r[k].last].end);
            }
        }
        pos = ed[i].to;
    }
    if (end > pos) sw_idcall_copy(e, st, &b, pos, end);
    sw_sbuf_add(&b, "", 0);
    if (ed != buf) free(ed);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
