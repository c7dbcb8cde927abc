/*
 * merge.c - the merger: the rows several shards return for one SELECT
 * become the one answer a single server would give (include/sw/merge.h).
 *
 * Three ways, by the spec's shape:
 *  - stream: nothing to order or combine; rows go out as they arrive, any
 *    shard first, until the LIMIT;
 *  - k-way: every shard returns its rows in the answer's order; the smallest
 *    head row of all shards goes out next (DISTINCT ON keeps the first of
 *    each run of equal keys), until the LIMIT;
 *  - held: groups (aggregates) or distinct rows are collected in a hash
 *    table while the shards answer; once all have ended they are finished,
 *    filtered by HAVING, made distinct, sorted, and cut by OFFSET/LIMIT.
 *
 * Each shard's rows wait in a small queue of copies (a shard whose queue is
 * full is not read until the merge consumes from it: backpressure towards
 * the shards).  What the held way keeps counts against the query's caps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "sw/merge.h"
#include "sw/proto.h"
#include "xxhash.h"

#define QUEUE_MAX (64 * 1024)   /* bytes queued per shard before it is not read */
#define ARENA_CHUNK (64 * 1024)

typedef struct colmeta {
    uint32_t oid;
    int16_t fmt;
    sw_dtype dt;
} colmeta;

/* A shard's queued rows: [u32 len][payload]... from rd to len. */
typedef struct shardq {
    uint8_t *buf;
    size_t len, cap, rd;
    size_t nrows;
    bool ended, described;
    /* fields of the head row (the first queued), parsed on demand */
    bool head_parsed;
    const uint8_t **hv;
    int32_t *hl;
} shardq;

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    uint8_t data[];
} arena_chunk;

/* A group (or a distinct row) of the held way. */
typedef struct mgroup {
    struct mgroup *next;      /* hash chain */
    struct mgroup *all;       /* every group, in creation order */
    uint64_t hash;
    uint32_t keylen;
    const uint8_t *key;
    const uint8_t **v;        /* n_fields values: GROUP/ANY copies, then finals */
    int32_t *l;
    sw_agg **agg;             /* n_fields entries, NULL where not an aggregate */
} mgroup;

struct sw_merge {
    const sw_merge_spec *spec;
    int n;
    shardq *q;
    int64_t limit, offset;    /* -1: none */
    int64_t skipped, sent;
    sw_merge_limits lim;
    /* description */
    bool described;
    uint8_t *desc;            /* shard 0's RowDescription payload */
    uint32_t desc_len;
    int nf, nvis;
    colmeta *cols;
    int *sort_col, *don_col;  /* resolved absolute columns */
    /* k-way DISTINCT ON: key of the last row sent */
    uint8_t *last_key;
    size_t last_len;
    bool have_last;
    /* held way */
    mgroup **tab;
    size_t tab_cap, n_groups;
    mgroup *first, *last;
    arena_chunk *arena;
    size_t held_bytes, peak_bytes;
    mgroup **out;             /* finished rows, sorted */
    size_t n_out, out_pos;
    bool finished;
    sw_wbuf kbuf;             /* scratch: group keys */
    uint8_t *cbuf;            /* scratch: canonical bytes */
    size_t cbuf_cap;
    int rr;                   /* stream way: next shard to look at */
    /* error */
    bool failed;
    char sqlstate[6];
    char msg[256];
};

static void fail(sw_merge *m, const char *state, const char *fmt, const char *a, const char *b)
{
    if (m->failed) return;
    m->failed = true;
    memcpy(m->sqlstate, state, 6);
    snprintf(m->msg, sizeof m->msg, fmt, a ? a : "", b ? b : "");
}

/* The SQLSTATE of an aggregate's failure: out of range, or out of memory. */
static const char *agg_state(const char *err)
{
    return strcmp(err, "out of memory") == 0 ? "53200" : "22003";
}

static void account(sw_merge *m, ssize_t delta)
{
    m->held_bytes = (size_t)((ssize_t)m->held_bytes + delta);
    if (m->held_bytes > m->peak_bytes) m->peak_bytes = m->held_bytes;
}

static void *arena_alloc(sw_merge *m, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    arena_chunk *c = m->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = m->arena;
        c->used = 0;
        c->cap = cap;
        m->arena = c;
        account(m, (ssize_t)(sizeof *c + cap));
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

sw_merge *sw_merge_new(const sw_merge_spec *spec, int n, int64_t limit, int64_t offset,
                       const sw_merge_limits *lim)
{
    sw_merge *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->spec = spec;
    m->n = n;
    m->q = calloc((size_t)n, sizeof *m->q);
    m->limit = limit;
    m->offset = offset < 0 ? 0 : offset;
    if (lim) m->lim = *lim;
    sw_wbuf_init(&m->kbuf);
    if (!m->q) {
        free(m);
        return NULL;
    }
    return m;
}

void sw_merge_free(sw_merge *m)
{
    if (!m) return;
    for (int i = 0; i < m->n; i++) {
        free(m->q[i].buf);
        free(m->q[i].hv);
        free(m->q[i].hl);
    }
    free(m->q);
    for (mgroup *g = m->first; g; g = g->all)
        if (g->agg)
            for (int c = 0; c < m->nf; c++) sw_agg_free(g->agg[c]);
    while (m->arena) {
        arena_chunk *c = m->arena;
        m->arena = c->next;
        free(c);
    }
    free(m->tab);
    free(m->out);
    free(m->desc);
    free(m->cols);
    free(m->sort_col);
    free(m->don_col);
    free(m->last_key);
    free(m->cbuf);
    sw_wbuf_free(&m->kbuf);
    free(m);
}

const char *sw_merge_failed(const sw_merge *m, char sqlstate[6])
{
    if (!m->failed) return NULL;
    if (sqlstate) memcpy(sqlstate, m->sqlstate, 6);
    return m->msg;
}

uint64_t sw_merge_rows(const sw_merge *m) { return (uint64_t)m->sent; }
size_t sw_merge_peak_bytes(const sw_merge *m) { return m->peak_bytes; }

bool sw_merge_satisfied(const sw_merge *m)
{
    return m->failed || (m->limit >= 0 && m->sent >= m->limit);
}

static bool held_way(const sw_merge *m) { return m->spec->grouped || m->spec->distinct; }
static bool kway(const sw_merge *m) { return !held_way(m) && m->spec->n_sort > 0 && m->spec->sorted_streams; }

/* ------------------------------------------------------------ description */

static int resolve(const sw_merge *m, sw_mref r)
{
    int c = r.hidden ? m->nvis + r.col : r.col;
    return c >= 0 && c < m->nf ? c : -1;
}

static const char *col_name(const sw_merge *m, int col, char *buf, size_t cap)
{
    sw_rd r;
    sw_rd_init(&r, m->desc, m->desc_len);
    sw_rd_i16(&r);
    for (int i = 0; i < m->nf; i++) {
        size_t l;
        const char *name = sw_rd_cstr(&r, &l);
        if (!name) break;
        if (i == col) {
            snprintf(buf, cap, "%s", name);
            return buf;
        }
        sw_rd_bytes(&r, 18);
    }
    snprintf(buf, cap, "column %d", col + 1);
    return buf;
}

static bool need_comparable(sw_merge *m, int col, const char *what)
{
    if (m->cols[col].dt != SW_DT_UNSUPPORTED) return true;
    char name[64], tmsg[100];
    col_name(m, col, name, sizeof name);
    snprintf(tmsg, sizeof tmsg, "%s on \"%.40s\" (type oid %u)", what, name, m->cols[col].oid);
    fail(m, "0A000", "%s cannot be merged across shards (mergeable types: integers, numeric, float, text, bool, date, time, timestamp, timestamptz, uuid)%s",
         tmsg, "");
    return false;
}

static const char *agg_name(int k)
{
    switch (k) {
    case SW_AGG_COUNT: return "count";
    case SW_AGG_SUM: return "sum";
    case SW_AGG_MIN: return "min";
    case SW_AGG_MAX: return "max";
    case SW_AGG_BOOL_AND: return "bool_and";
    case SW_AGG_BOOL_OR: return "bool_or";
    case SW_AGG_AVG: return "avg";
    case SW_AGG_VAR_SAMP: return "var_samp";
    case SW_AGG_VAR_POP: return "var_pop";
    case SW_AGG_STDDEV_SAMP: return "stddev_samp";
    case SW_AGG_STDDEV_POP: return "stddev_pop";
    default: return "aggregate";
    }
}

/* The accumulators of a new group (NULL when an aggregate cannot merge). */
static sw_agg *make_agg(sw_merge *m, int c)
{
    const sw_mcol *mc = &m->spec->cols[c];
    sw_agg_col out = {m->cols[c].dt, m->cols[c].fmt};
    sw_agg_col in[3];
    memset(in, 0, sizeof in);
    for (int k = 0; k < 3; k++) {
        int a = resolve(m, mc->arg[k]);
        if (a >= 0) in[k] = (sw_agg_col){m->cols[a].dt, m->cols[a].fmt};
    }
    return sw_agg_new((sw_agg_kind)mc->agg, out, in);
}

static int check_columns(sw_merge *m)
{
    const sw_merge_spec *s = m->spec;
    m->nvis = m->nf - s->n_hidden;
    if (m->nvis < 0 || (s->grouped && m->nf != s->n_cols)) {
        fail(m, "XX000", "shard answer has an unexpected number of columns%s%s", NULL, NULL);
        return -1;
    }
    m->sort_col = calloc((size_t)s->n_sort + 1, sizeof(int));
    m->don_col = calloc((size_t)s->n_distinct_on + 1, sizeof(int));
    if (!m->sort_col || !m->don_col) {
        fail(m, "53200", "out of memory%s%s", NULL, NULL);
        return -1;
    }
    for (int i = 0; i < s->n_sort; i++) {
        m->sort_col[i] = resolve(m, s->sort[i].ref);
        if (m->sort_col[i] < 0) {
            fail(m, "XX000", "merge sort key out of range%s%s", NULL, NULL);
            return -1;
        }
        if (!need_comparable(m, m->sort_col[i], "ORDER BY")) return -1;
    }
    for (int i = 0; i < s->n_distinct_on; i++) {
        m->don_col[i] = resolve(m, s->distinct_on[i]);
        if (m->don_col[i] < 0) {
            fail(m, "XX000", "DISTINCT ON key out of range%s%s", NULL, NULL);
            return -1;
        }
        if (!need_comparable(m, m->don_col[i], "DISTINCT ON")) return -1;
    }
    if (s->distinct)
        for (int c = 0; c < m->nvis; c++)
            if (!need_comparable(m, c, "DISTINCT")) return -1;
    if (s->grouped) {
        for (int c = 0; c < m->nf; c++) {
            const sw_mcol *mc = &s->cols[c];
            if (mc->kind == SW_MC_GROUP && !need_comparable(m, c, "GROUP BY")) return -1;
            if (mc->kind == SW_MC_AGG) {
                errno = 0;
                sw_agg *a = make_agg(m, c);
                if (!a && errno == ENOMEM) {  /* calloc failed: the types were fine */
                    fail(m, "53200", "out of memory%s%s", NULL, NULL);
                    return -1;
                }
                if (!a) {
                    char name[80], what[160];
                    snprintf(what, sizeof what, "%s(\"%s\") of type oid %u", agg_name(mc->agg),
                             col_name(m, c, name, sizeof name), m->cols[c].oid);
                    fail(m, "0A000", "aggregate %s cannot be merged across shards%s", what, NULL);
                    return -1;
                }
                sw_agg_free(a);
            }
        }
        for (int i = 0; i < s->n_having; i++) {
            if (s->having[i].op != SW_HX_COL) continue;
            int c = resolve(m, s->having[i].ref);
            if (c < 0) {
                fail(m, "XX000", "HAVING column out of range%s%s", NULL, NULL);
                return -1;
            }
            if (!need_comparable(m, c, "HAVING")) return -1;
        }
    }
    return 0;
}

int sw_merge_describe(sw_merge *m, int i, const uint8_t *p, uint32_t len)
{
    if (i < 0 || i >= m->n) return -1;
    sw_rd r;
    sw_rd_init(&r, p, len);
    int nf = sw_rd_i16(&r);
    if (r.err || nf < 0) {
        fail(m, "08P01", "invalid RowDescription from a shard%s%s", NULL, NULL);
        return -1;
    }
    m->q[i].described = true;
    if (m->described) {
        if (nf != m->nf) {
            fail(m, "XX000", "shards describe the result differently (column counts differ)%s%s", NULL, NULL);
            return -1;
        }
        return m->failed ? -1 : 0;
    }
    m->nf = nf;
    m->desc = malloc(len ? len : 1);
    m->cols = calloc((size_t)nf + 1, sizeof *m->cols);
    for (int k = 0; k < m->n; k++) {
        m->q[k].hv = calloc((size_t)nf + 1, sizeof *m->q[k].hv);
        m->q[k].hl = calloc((size_t)nf + 1, sizeof *m->q[k].hl);
        if (!m->q[k].hv || !m->q[k].hl) m->desc = (free(m->desc), NULL);
    }
    if (!m->desc || !m->cols) {
        fail(m, "53200", "out of memory%s%s", NULL, NULL);
        return -1;
    }
    memcpy(m->desc, p, len);
    m->desc_len = len;
    for (int c = 0; c < nf; c++) {
        size_t l;
        sw_rd_cstr(&r, &l);
        sw_rd_i32(&r);
        sw_rd_i16(&r);
        uint32_t oid = (uint32_t)sw_rd_i32(&r);
        sw_rd_i16(&r);
        sw_rd_i32(&r);
        int16_t fmt = sw_rd_i16(&r);
        if (r.err) {
            fail(m, "08P01", "invalid RowDescription from a shard%s%s", NULL, NULL);
            return -1;
        }
        m->cols[c] = (colmeta){oid, fmt, sw_dtype_of(oid)};
    }
    m->described = true;
    return check_columns(m);
}

int sw_merge_put_description(sw_merge *m, sw_wbuf *w)
{
    if (!m->described) return -1;
    /* the first nvis field entries, as the shard wrote them */
    sw_rd r;
    sw_rd_init(&r, m->desc, m->desc_len);
    sw_rd_i16(&r);
    for (int c = 0; c < m->nvis; c++) {
        size_t l;
        sw_rd_cstr(&r, &l);
        sw_rd_bytes(&r, 18);
    }
    size_t body = (size_t)(r.p - m->desc);
    sw_msg_header(w, SW_BE_ROW_DESC, body);
    sw_wbuf_i16(w, (int16_t)m->nvis);
    sw_wbuf_put(w, m->desc + 2, body - 2);
    return 0;
}

/* ------------------------------------------------------------------ rows */

/* Split a DataRow payload into its nf fields. */
static int parse_fields(const uint8_t *p, uint32_t len, int nf, const uint8_t **v, int32_t *l)
{
    if (len < 2) return -1;
    int n = (int16_t)((p[0] << 8) | p[1]);
    if (n != nf) return -1;
    uint32_t off = 2;
    for (int c = 0; c < nf; c++) {
        if (len - off < 4) return -1;
        int32_t fl = (int32_t)sw_be32(p + off);
        off += 4;
        if (fl < 0) {
            v[c] = NULL;
            l[c] = -1;
            continue;
        }
        if ((uint32_t)fl > len - off) return -1;
        v[c] = p + off;
        l[c] = fl;
        off += (uint32_t)fl;
    }
    return off == len ? 0 : -1;
}

bool sw_merge_wants(const sw_merge *m, int i)
{
    if (m->failed || sw_merge_satisfied(m)) return false;
    if (held_way(m)) return true;
    return m->q[i].len - m->q[i].rd < QUEUE_MAX;
}

static int cmp_values(sw_merge *m, int col, const uint8_t *a, int32_t al, const uint8_t *b, int32_t bl)
{
    bool bad = false;
    int r = sw_datum_cmp(m->cols[col].dt, m->cols[col].fmt, a, (uint32_t)al, b, (uint32_t)bl, &bad);
    if (bad) {
        char name[80];
        fail(m, "22P02", "cannot decode a value of column \"%s\" to merge it%s", col_name(m, col, name, sizeof name),
             NULL);
    }
    return r;
}

/* Order of two rows by the sort keys (NULLs as the keys say). */
static int cmp_rows(sw_merge *m, const uint8_t *const *av, const int32_t *al, const uint8_t *const *bv,
                    const int32_t *bl)
{
    const sw_merge_spec *s = m->spec;
    for (int k = 0; k < s->n_sort; k++) {
        int c = m->sort_col[k];
        bool an = al[c] < 0, bn = bl[c] < 0;
        int r;
        if (an || bn) {
            if (an && bn) continue;
            r = an ? 1 : -1;  /* NULL is larger */
            if (s->sort[k].nulls_first != s->sort[k].desc) r = -r;
            if (s->sort[k].desc) r = -r;
            return r;
        }
        r = cmp_values(m, c, av[c], al[c], bv[c], bl[c]);
        if (r) return s->sort[k].desc ? -r : r;
    }
    return 0;
}

/* Canonical key of columns cols[0..n) of a row into m->kbuf. */
static int make_key(sw_merge *m, const int *cols, int n, const uint8_t *const *v, const int32_t *l)
{
    sw_wbuf_reset(&m->kbuf);
    for (int k = 0; k < n; k++) {
        int c = cols[k];
        if (l[c] < 0) {
            sw_wbuf_u8(&m->kbuf, 0);
            continue;
        }
        int cl;
        for (;;) {
            cl = sw_datum_canon(m->cols[c].dt, m->cols[c].fmt, v[c], (uint32_t)l[c], m->cbuf, m->cbuf_cap);
            if (cl < 0) {
                char name[80];
                fail(m, "22P02", "cannot decode a value of column \"%s\" to merge it%s",
                     col_name(m, c, name, sizeof name), NULL);
                return -1;
            }
            if ((size_t)cl <= m->cbuf_cap) break;
            uint8_t *nb = realloc(m->cbuf, (size_t)cl);
            if (!nb) {
                fail(m, "53200", "out of memory%s%s", NULL, NULL);
                return -1;
            }
            m->cbuf = nb;
            m->cbuf_cap = (size_t)cl;
        }
        sw_wbuf_u8(&m->kbuf, 1);
        sw_wbuf_i32(&m->kbuf, cl);
        sw_wbuf_put(&m->kbuf, m->cbuf, (size_t)cl);
    }
    if (m->kbuf.oom) {
        fail(m, "53200", "out of memory%s%s", NULL, NULL);
        return -1;
    }
    return 0;
}

static bool over_caps(sw_merge *m)
{
    char a[32], b[64];
    if (m->lim.max_rows && m->n_groups > m->lim.max_rows) {
        snprintf(a, sizeof a, "%llu", (unsigned long long)m->lim.max_rows);
        fail(m, "54000", "cross-shard merge would hold more than %s rows (merge_max_rows)%s", a,
             ": add a LIMIT, a shard key condition, or raise the cap");
        return true;
    }
    if (m->lim.max_bytes && m->held_bytes > m->lim.max_bytes) {
        snprintf(b, sizeof b, "%llu bytes", (unsigned long long)m->lim.max_bytes);
        fail(m, "54000", "cross-shard merge would hold more than %s (merge_max_bytes)%s", b,
             ": add a LIMIT, a shard key condition, or raise the cap");
        return true;
    }
    return false;
}

static int grow_table(sw_merge *m)
{
    size_t cap = m->tab_cap ? m->tab_cap * 2 : 256;
    mgroup **t = calloc(cap, sizeof *t);
    if (!t) return -1;
    for (mgroup *g = m->first; g; g = g->all) {
        size_t b = g->hash & (cap - 1);
        g->next = t[b];
        t[b] = g;
    }
    account(m, (ssize_t)((cap - m->tab_cap) * sizeof *t));
    free(m->tab);
    m->tab = t;
    m->tab_cap = cap;
    return 0;
}

/* A row of the held way: into its group. */
static int hold_row(sw_merge *m, const uint8_t *p, uint32_t len)
{
    const sw_merge_spec *s = m->spec;
    const uint8_t **v = m->q[0].hv;  /* scratch (the held way keeps no queue) */
    int32_t *l = m->q[0].hl;
    if (parse_fields(p, len, m->nf, v, l) < 0) {
        fail(m, "08P01", "invalid DataRow from a shard%s%s", NULL, NULL);
        return -1;
    }
    int keycols[1024];
    int nk = 0;
    if (s->grouped) {
        for (int c = 0; c < m->nf && nk < 1024; c++)
            if (s->cols[c].kind == SW_MC_GROUP) keycols[nk++] = c;
    } else {
        for (int c = 0; c < m->nvis && nk < 1024; c++) keycols[nk++] = c;
    }
    if (make_key(m, keycols, nk, v, l) < 0) return -1;
    uint64_t h = XXH3_64bits(m->kbuf.data, m->kbuf.len);
    if (m->n_groups >= m->tab_cap && grow_table(m) < 0) {
        fail(m, "53200", "out of memory%s%s", NULL, NULL);
        return -1;
    }
    size_t b = h & (m->tab_cap - 1);
    mgroup *g = m->tab[b];
    while (g && !(g->hash == h && g->keylen == m->kbuf.len && (g->keylen == 0 || memcmp(g->key, m->kbuf.data, g->keylen) == 0)))
        g = g->next;
    if (!g) {
        g = arena_alloc(m, sizeof *g);
        uint8_t *key = arena_alloc(m, m->kbuf.len ? m->kbuf.len : 1);
        const uint8_t **gv = arena_alloc(m, sizeof *gv * (size_t)m->nf + 1);
        int32_t *gl = arena_alloc(m, sizeof *gl * (size_t)m->nf + 1);
        if (!g || !key || !gv || !gl) {
            fail(m, "53200", "out of memory%s%s", NULL, NULL);
            return -1;
        }
        memset(g, 0, sizeof *g);
        if (m->kbuf.len) memcpy(key, m->kbuf.data, m->kbuf.len);
        g->key = key;
        g->keylen = (uint32_t)m->kbuf.len;
        g->hash = h;
        g->v = gv;
        g->l = gl;
        for (int c = 0; c < m->nf; c++) {
            bool keep = !s->grouped || s->cols[c].kind == SW_MC_GROUP || s->cols[c].kind == SW_MC_ANY;
            gl[c] = -1;
            gv[c] = NULL;
            if (keep && l[c] >= 0) {
                uint8_t *cp = arena_alloc(m, (size_t)l[c] + 1);
                if (!cp) {
                    fail(m, "53200", "out of memory%s%s", NULL, NULL);
                    return -1;
                }
                memcpy(cp, v[c], (size_t)l[c]);
                gv[c] = cp;
                gl[c] = l[c];
            }
        }
        if (s->grouped) {
            g->agg = arena_alloc(m, sizeof *g->agg * (size_t)m->nf + 1);
            if (!g->agg) {
                fail(m, "53200", "out of memory%s%s", NULL, NULL);
                return -1;
            }
            memset(g->agg, 0, sizeof *g->agg * (size_t)m->nf);
            for (int c = 0; c < m->nf; c++) {
                if (s->cols[c].kind != SW_MC_AGG) continue;
                g->agg[c] = make_agg(m, c);
                if (!g->agg[c]) {
                    fail(m, "53200", "out of memory%s%s", NULL, NULL);
                    return -1;
                }
                account(m, (ssize_t)sw_agg_size(g->agg[c]));
            }
        }
        g->next = m->tab[b];
        m->tab[b] = g;
        if (m->last) m->last->all = g;
        else m->first = g;
        m->last = g;
        m->n_groups++;
        if (over_caps(m)) return -1;
    }
    if (s->grouped) {
        for (int c = 0; c < m->nf; c++) {
            if (!g->agg[c]) continue;
            const sw_mcol *mc = &s->cols[c];
            const uint8_t *av[3] = {NULL, NULL, NULL};
            int32_t al[3] = {-1, -1, -1};
            for (int k = 0; k < 3; k++) {
                int a = resolve(m, mc->arg[k]);
                if (a >= 0) {
                    av[k] = v[a];
                    al[k] = l[a];
                }
            }
            char err[200];
            size_t before = sw_agg_size(g->agg[c]);
            if (sw_agg_add(g->agg[c], av, al, err, sizeof err) < 0) {
                fail(m, agg_state(err), "%s%s", err, NULL);
                return -1;
            }
            account(m, (ssize_t)sw_agg_size(g->agg[c]) - (ssize_t)before);
        }
        if (over_caps(m)) return -1;
    }
    return 0;
}

int sw_merge_row(sw_merge *m, int i, const uint8_t *p, uint32_t len)
{
    if (m->failed) return -1;
    if (sw_merge_satisfied(m)) return 0;
    if (!m->described) {
        fail(m, "08P01", "shard sent a row before describing it%s%s", NULL, NULL);
        return -1;
    }
    if (held_way(m)) return hold_row(m, p, len);
    shardq *q = &m->q[i];
    if (q->rd > 0 && (q->rd >= q->len || q->rd > q->cap / 2)) {
        memmove(q->buf, q->buf + q->rd, q->len - q->rd);
        q->len -= q->rd;
        q->rd = 0;
        q->head_parsed = false;  /* its field pointers moved */
    }
    size_t need = q->len + 4 + len;
    if (need > q->cap) {
        size_t cap = q->cap ? q->cap : 4096;
        while (cap < need) cap *= 2;
        uint8_t *nb = realloc(q->buf, cap);
        if (!nb) {
            fail(m, "53200", "out of memory%s%s", NULL, NULL);
            return -1;
        }
        account(m, (ssize_t)(cap - q->cap));
        q->buf = nb;
        q->cap = cap;
        q->head_parsed = false;
    }
    sw_put_be32(q->buf + q->len, len);
    memcpy(q->buf + q->len + 4, p, len);
    q->len += 4 + len;
    q->nrows++;
    return 0;
}

void sw_merge_end(sw_merge *m, int i)
{
    if (i >= 0 && i < m->n) m->q[i].ended = true;
}

static bool all_ended(const sw_merge *m)
{
    for (int i = 0; i < m->n; i++)
        if (!m->q[i].ended) return false;
    return true;
}

/* ------------------------------------------------------------------ output */

/* A queued shard row, hidden columns stripped, as a DataRow. */
static void put_stripped(sw_merge *m, sw_wbuf *w, const uint8_t *p, uint32_t len)
{
    if (m->nvis == m->nf) {
        sw_msg_header(w, SW_BE_DATA_ROW, len);
        sw_wbuf_put(w, p, len);
        return;
    }
    uint32_t off = 2;
    for (int c = 0; c < m->nvis; c++) {
        int32_t fl = (int32_t)sw_be32(p + off);
        off += 4 + (fl > 0 ? (uint32_t)fl : 0);
    }
    sw_msg_header(w, SW_BE_DATA_ROW, off);
    sw_wbuf_i16(w, (int16_t)m->nvis);
    sw_wbuf_put(w, p + 2, off - 2);
}

static void put_values(sw_merge *m, sw_wbuf *w, const uint8_t *const *v, const int32_t *l)
{
    size_t body = 2;
    for (int c = 0; c < m->nvis; c++) body += 4 + (l[c] > 0 ? (size_t)l[c] : 0);
    sw_msg_header(w, SW_BE_DATA_ROW, body);
    sw_wbuf_i16(w, (int16_t)m->nvis);
    for (int c = 0; c < m->nvis; c++) {
        sw_wbuf_i32(w, l[c]);
        if (l[c] > 0) sw_wbuf_put(w, v[c], (size_t)l[c]);
    }
}

/* OFFSET and LIMIT: whether the next row goes out. */
static bool take_row(sw_merge *m)
{
    if (m->skipped < m->offset) {
        m->skipped++;
        return false;
    }
    m->sent++;
    return true;
}

static void pop_head(sw_merge *m, int i)
{
    shardq *q = &m->q[i];
    uint32_t len = sw_be32(q->buf + q->rd);
    q->rd += 4 + len;
    q->nrows--;
    q->head_parsed = false;
}

static int head_fields(sw_merge *m, int i)
{
    shardq *q = &m->q[i];
    if (q->head_parsed) return 0;
    uint32_t len = sw_be32(q->buf + q->rd);
    if (parse_fields(q->buf + q->rd + 4, len, m->nf, q->hv, q->hl) < 0) {
        fail(m, "08P01", "invalid DataRow from a shard%s%s", NULL, NULL);
        return -1;
    }
    q->head_parsed = true;
    return 0;
}

static int emit_stream(sw_merge *m, sw_wbuf *w, size_t start, size_t room)
{
    for (;;) {
        if (sw_merge_satisfied(m)) return 1;
        bool any = false;
        for (int k = 0; k < m->n && w->len - start < room; k++) {
            int i = (m->rr + k) % m->n;
            shardq *q = &m->q[i];
            while (q->nrows && w->len - start < room && !sw_merge_satisfied(m)) {
                uint32_t len = sw_be32(q->buf + q->rd);
                if (take_row(m)) put_stripped(m, w, q->buf + q->rd + 4, len);
                pop_head(m, i);
                any = true;
            }
        }
        m->rr = (m->rr + 1) % m->n;
        if (w->len - start >= room) return 0;
        if (!any) return all_ended(m) ? 1 : 0;
    }
}

static int emit_kway(sw_merge *m, sw_wbuf *w, size_t start, size_t room)
{
    const sw_merge_spec *s = m->spec;
    while (w->len - start < room) {
        if (sw_merge_satisfied(m)) return 1;
        int best = -1;
        for (int i = 0; i < m->n; i++) {
            shardq *q = &m->q[i];
            if (!q->nrows) {
                if (!q->ended) return 0;  /* its next row may come first */
                continue;
            }
            if (head_fields(m, i) < 0) return -1;
            if (best < 0 || cmp_rows(m, q->hv, q->hl, m->q[best].hv, m->q[best].hl) < 0) best = i;
            if (m->failed) return -1;
        }
        if (best < 0) return 1;
        shardq *q = &m->q[best];
        bool dup = false;
        if (s->n_distinct_on) {
            if (make_key(m, m->don_col, s->n_distinct_on, q->hv, q->hl) < 0) return -1;
            dup = m->have_last && m->last_len == m->kbuf.len && (m->last_len == 0 || memcmp(m->last_key, m->kbuf.data, m->last_len) == 0);
            if (!dup) {
                uint8_t *nk = realloc(m->last_key, m->kbuf.len ? m->kbuf.len : 1);
                if (!nk) {
                    fail(m, "53200", "out of memory%s%s", NULL, NULL);
                    return -1;
                }
                if (m->kbuf.len) memcpy(nk, m->kbuf.data, m->kbuf.len);
                m->last_key = nk;
                m->last_len = m->kbuf.len;
                m->have_last = true;
            }
        }
        uint32_t len = sw_be32(q->buf + q->rd);
        if (!dup && take_row(m)) put_stripped(m, w, q->buf + q->rd + 4, len);
        pop_head(m, best);
    }
    return 0;
}

/* ---------------------------------------------------------- the held way */

typedef enum { TV_FALSE = 0, TV_TRUE = 1, TV_NULL = 2 } tv;

static tv having_eval(sw_merge *m, const mgroup *g, int node);

static tv having_cmp(sw_merge *m, const mgroup *g, const sw_hx *x)
{
    const sw_hx *a = &m->spec->having[x->a], *b = &m->spec->having[x->b];
    int r;
    bool bad = false;
    if (a->op == SW_HX_COL && b->op == SW_HX_COL) {
        int ca = resolve(m, a->ref), cb = resolve(m, b->ref);
        if (g->l[ca] < 0 || g->l[cb] < 0) return TV_NULL;
        if (m->cols[ca].dt == m->cols[cb].dt && m->cols[ca].fmt == m->cols[cb].fmt) {
            r = sw_datum_cmp(m->cols[ca].dt, m->cols[ca].fmt, g->v[ca], (uint32_t)g->l[ca], g->v[cb],
                             (uint32_t)g->l[cb], &bad);
        } else if (m->cols[cb].fmt == 0) {
            char *t = strndup((const char *)g->v[cb], (size_t)g->l[cb]);
            r = t ? sw_datum_cmp_text(m->cols[ca].dt, m->cols[ca].fmt, g->v[ca], (uint32_t)g->l[ca], t, &bad) : 0;
            free(t);
            if (!t) bad = true;
        } else {
            bad = true;
        }
    } else if (a->op == SW_HX_COL || b->op == SW_HX_COL) {
        const sw_hx *col = a->op == SW_HX_COL ? a : b, *k = a->op == SW_HX_COL ? b : a;
        int c = resolve(m, col->ref);
        if (g->l[c] < 0 || !k->text) return TV_NULL;
        r = sw_datum_cmp_text(m->cols[c].dt, m->cols[c].fmt, g->v[c], (uint32_t)g->l[c], k->text, &bad);
        if (col == b) r = -r;
    } else {
        if (!a->text || !b->text) return TV_NULL;
        r = strcmp(a->text, b->text);
    }
    if (bad) {
        fail(m, "0A000", "HAVING compares values shardwire cannot decode%s%s", NULL, NULL);
        return TV_NULL;
    }
    switch (x->op) {
    case SW_HX_EQ: return r == 0 ? TV_TRUE : TV_FALSE;
    case SW_HX_NE: return r != 0 ? TV_TRUE : TV_FALSE;
    case SW_HX_LT: return r < 0 ? TV_TRUE : TV_FALSE;
    case SW_HX_LE: return r <= 0 ? TV_TRUE : TV_FALSE;
    case SW_HX_GT: return r > 0 ? TV_TRUE : TV_FALSE;
    default: return r >= 0 ? TV_TRUE : TV_FALSE;
    }
}

static tv having_eval(sw_merge *m, const mgroup *g, int node)
{
    if (node < 0 || node >= m->spec->n_having) return TV_NULL;
    const sw_hx *x = &m->spec->having[node];
    switch (x->op) {
    case SW_HX_AND: {
        tv a = having_eval(m, g, x->a);
        if (a == TV_FALSE) return TV_FALSE;
        tv b = having_eval(m, g, x->b);
        if (b == TV_FALSE) return TV_FALSE;
        return a == TV_TRUE && b == TV_TRUE ? TV_TRUE : TV_NULL;
    }
    case SW_HX_OR: {
        tv a = having_eval(m, g, x->a);
        if (a == TV_TRUE) return TV_TRUE;
        tv b = having_eval(m, g, x->b);
        if (b == TV_TRUE) return TV_TRUE;
        return a == TV_FALSE && b == TV_FALSE ? TV_FALSE : TV_NULL;
    }
    case SW_HX_NOT: {
        tv a = having_eval(m, g, x->a);
        return a == TV_NULL ? TV_NULL : (a == TV_TRUE ? TV_FALSE : TV_TRUE);
    }
    case SW_HX_ISNULL:
    case SW_HX_NOTNULL: {
        const sw_hx *a = &m->spec->having[x->a];
        bool isnull = a->op == SW_HX_COL ? g->l[resolve(m, a->ref)] < 0 : a->text == NULL;
        return (isnull == (x->op == SW_HX_ISNULL)) ? TV_TRUE : TV_FALSE;
    }
    case SW_HX_COL: {
        int c = resolve(m, x->ref);
        if (g->l[c] < 0) return TV_NULL;
        bool bad = false;
        return sw_datum_cmp_text(m->cols[c].dt, m->cols[c].fmt, g->v[c], (uint32_t)g->l[c], "true", &bad) == 0
                   ? TV_TRUE
                   : TV_FALSE;
    }
    case SW_HX_CONST:
        if (!x->text) return TV_NULL;
        return (strcmp(x->text, "true") == 0 || strcmp(x->text, "t") == 0) ? TV_TRUE : TV_FALSE;
    default:
        return having_cmp(m, g, x);
    }
}

static sw_merge *sort_ctx;

static int cmp_groups(const void *a, const void *b)
{
    const mgroup *ga = *(mgroup *const *)a, *gb = *(mgroup *const *)b;
    return cmp_rows(sort_ctx, ga->v, ga->l, gb->v, gb->l);
}

/* Aggregates' final values, HAVING, DISTINCT, ORDER BY. */
static int finish_held(sw_merge *m)
{
    const sw_merge_spec *s = m->spec;
    m->finished = true;
    m->out = malloc(sizeof *m->out * (m->n_groups + 1));
    if (!m->out) {
        fail(m, "53200", "out of memory%s%s", NULL, NULL);
        return -1;
    }
    /* A query with aggregates and no GROUP BY answers one row even over no
     * rows at all; every shard sends its row, so there is a group. */
    for (mgroup *g = m->first; g; g = g->all) {
        if (s->grouped && !s->distinct) {
            /* plain distinct rows are already final */
        }
        if (s->grouped) {
            for (int c = 0; c < m->nf; c++) {
                if (!g->agg[c]) continue;
                uint8_t small[128];
                char err[200];
                int len = sw_agg_final(g->agg[c], small, sizeof small, err, sizeof err);
                if (len == -2) {
                    fail(m, agg_state(err), "%s%s", err, NULL);
                    return -1;
                }
                if (len == -1) {
                    g->l[c] = -1;
                    continue;
                }
                uint8_t *cp = arena_alloc(m, (size_t)len + 1);
                if (!cp) {
                    fail(m, "53200", "out of memory%s%s", NULL, NULL);
                    return -1;
                }
                if ((size_t)len <= sizeof small) memcpy(cp, small, (size_t)len);
                else sw_agg_final(g->agg[c], cp, (size_t)len, err, sizeof err);
                g->v[c] = cp;
                g->l[c] = len;
            }
            if (s->n_having && having_eval(m, g, 0) != TV_TRUE) {
                if (m->failed) return -1;
                continue;
            }
        }
        m->out[m->n_out++] = g;
    }
    if (s->grouped && s->distinct) {
        /* DISTINCT over the finished visible values */
        size_t kept = 0;
        size_t cap = 256;
        while (cap < m->n_out * 2) cap *= 2;
        mgroup **seen = calloc(cap, sizeof *seen);
        uint64_t *hs = calloc(cap, sizeof *hs);
        int vis[1024];
        for (int c = 0; c < m->nvis && c < 1024; c++) vis[c] = c;
        if (!seen || !hs) {
            free(seen);
            free(hs);
            fail(m, "53200", "out of memory%s%s", NULL, NULL);
            return -1;
        }
        for (size_t i = 0; i < m->n_out; i++) {
            mgroup *g = m->out[i];
            if (make_key(m, vis, m->nvis, g->v, g->l) < 0) {
                free(seen);
                free(hs);
                return -1;
            }
            uint8_t *key = arena_alloc(m, m->kbuf.len + 1);
            if (!key) break;
            if (m->kbuf.len) memcpy(key, m->kbuf.data, m->kbuf.len);
            uint64_t h = XXH3_64bits(key, m->kbuf.len);
            size_t b = h & (cap - 1);
            bool dup = false;
            while (seen[b]) {
                if (hs[b] == h && seen[b]->keylen == m->kbuf.len && memcmp(seen[b]->key, key, m->kbuf.len) == 0) {
                    dup = true;
                    break;
                }
                b = (b + 1) & (cap - 1);
            }
            if (dup) continue;
            g->key = key;  /* the group key is no longer needed: reuse for the row key */
            g->keylen = (uint32_t)m->kbuf.len;
            seen[b] = g;
            hs[b] = h;
            m->out[kept++] = g;
        }
        free(seen);
        free(hs);
        m->n_out = kept;
    }
    if (s->n_sort && m->n_out > 1) {
        sort_ctx = m;
        qsort(m->out, m->n_out, sizeof *m->out, cmp_groups);
        sort_ctx = NULL;
        if (m->failed) return -1;
    }
    return 0;
}

static int emit_held(sw_merge *m, sw_wbuf *w, size_t start, size_t room)
{
    if (!all_ended(m)) return 0;
    if (!m->finished && finish_held(m) < 0) return -1;
    while (m->out_pos < m->n_out && w->len - start < room) {
        if (sw_merge_satisfied(m)) return 1;
        mgroup *g = m->out[m->out_pos++];
        if (take_row(m)) put_values(m, w, g->v, g->l);
    }
    return m->out_pos >= m->n_out || sw_merge_satisfied(m) ? 1 : 0;
}

int sw_merge_emit(sw_merge *m, sw_wbuf *w, size_t room)
{
    if (m->failed) return -1;
    size_t start = w->len;
    int rc;
    if (!m->described) {
        rc = all_ended(m) ? 1 : 0;
    } else if (held_way(m)) {
        rc = emit_held(m, w, start, room);
    } else if (kway(m)) {
        rc = emit_kway(m, w, start, room);
    } else {
        rc = emit_stream(m, w, start, room);
    }
    if (w->oom) fail(m, "53200", "out of memory%s%s", NULL, NULL);
    return m->failed ? -1 : rc;
}
