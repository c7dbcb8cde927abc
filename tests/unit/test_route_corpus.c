/*
 * test_route_corpus.c - the data-driven routing corpus.  Loads
 * route_corpus.yaml (the e-commerce layout plus one table per kind of
 * sharding function), builds a router and routes every case of
 * route_corpus.txt (format documented at the top of that file) through the
 * public interface only: sw_router_route for simple-protocol text,
 * sw_router_prepare + sw_router_route_plan when a case carries Bind values.
 *
 * Expected node sets are absolute for range, list, pinned, reference and
 * table-suffix tables.  For hash, ring, embedded and directory keys the
 * expectation names the key instead ("customer_hash:42"): the node is asked
 * of the router's own function with sw_shardfn_dispatch, so the corpus
 * checks how statements are read and combined, not the hash itself (whose
 * values are pinned by the sharding function tests).
 *
 * Every case runs twice on the same router: the second pass is served by
 * the shape cache and must give exactly the same answer.  All mismatches
 * are printed (file:line, SQL, expected, got, the router's reason) before
 * the test fails, with the totals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <pg_query.h>

#include "sw/conf.h"
#include "sw/route.h"
#include "sw/shard.h"

/* 2025-06-15T00:00:00Z: every case is routed "now", so directory cache
 * entries stay fresh and next_id timestamps are exact. */
#define NOW_MS 1749945600000ULL

#define MAX_OPTS 24
#define MAX_PARAMS 16

/* ------------------------------------------------------------ small strings */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_addf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_addf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) { va_end(ap2); return; }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 256;
        while (ncap < b->len + (size_t)n + 1) ncap *= 2;
        b->p = realloc(b->p, ncap);
        assert_non_null(b->p);
        b->cap = ncap;
    }
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
}

static const char *sb_str(const sbuf *b) { return b->p ? b->p : ""; }
static void sb_reset(sbuf *b) { b->len = 0; if (b->p) b->p[0] = '\0'; }
static void sb_free(sbuf *b) { free(b->p); memset(b, 0, sizeof *b); }

/* ------------------------------------------------------------ corpus entries */

typedef enum entry_type { E_CASE, E_DIRSTORE, E_PREMISE } entry_type;

typedef struct opt {
    char *name;
    char *value;           /* "" for a flag */
} opt;

typedef struct entry {
    entry_type type;
    int line;
    bool known;            /* a "# KNOWN:" line precedes it */
    char *sql;             /* unescaped */
    size_t sqllen;
    char *raw_sql;         /* as written in the file, for reports */
    char *expect;
    opt opts[MAX_OPTS];
    int nopts;
    char *args[3];         /* directives */
} entry;

/* One routing answer, copied out of sw_route_out. */
typedef struct result {
    sw_route_status status;
    char sqlstate[6];
    char message[256];
    char reason[512];
    sw_stmt_kind kind;
    bool write, multi, set_local;
    sw_nodeset nodes;
    int n_targets;
    int *tnode;
    char **tsql;           /* NULL = unchanged text */
    char *anysql;          /* no target: the text to run instead (ids made) */
    bool fresh;
    sw_route_local local;
    char *local_value;
    int64_t local_id;
    int lookup_fn;
    char lookup_key[SW_VALUE_BUF];
} result;

typedef struct ctx {
    sw_conf *conf;
    sw_router *r;
    const char *file;
    entry *entries;
    int n_entries;
    /* previous case's answer, for "same" */
    bool have_prev;
    sw_route_status prev_status;
    sw_nodeset prev_nodes;
    int64_t *ids;
    int n_ids;
} ctx;

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = strndup(s, n);
    assert_non_null(d);
    return d;
}

/* \n, \t and \\ in the SQL column; any other backslash stays as written. */
static char *unescape(const char *s, size_t *outlen)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    assert_non_null(d);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[i + 1];
            if (c == 'n') { d[j++] = '\n'; i++; continue; }
            if (c == 't') { d[j++] = '\t'; i++; continue; }
            if (c == '\\') { d[j++] = '\\'; i++; continue; }
        }
        d[j++] = s[i];
    }
    d[j] = '\0';
    *outlen = j;
    return d;
}

static char *trim(char *s)
{
    while (*s == ' ') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r')) s[--n] = '\0';
    return s;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void parse_corpus(ctx *c, char *text)
{
    int cap = 512;
    c->entries = calloc((size_t)cap, sizeof *c->entries);
    assert_non_null(c->entries);
    bool known = false;
    int lineno = 0;
    char *save = NULL;
    for (char *line = text; line; line = save) {
        save = strchr(line, '\n');
        if (save) *save++ = '\0';
        lineno++;
        size_t ll = strlen(line);
        if (ll > 0 && line[ll - 1] == '\r') line[--ll] = '\0';
        if (ll == 0) continue;
        if (line[0] == '#') {
            if (strncmp(line, "# KNOWN:", 8) == 0) known = true;
            continue;
        }
        if (c->n_entries == cap) {
            cap *= 2;
            c->entries = realloc(c->entries, (size_t)cap * sizeof *c->entries);
            assert_non_null(c->entries);
        }
        entry *e = &c->entries[c->n_entries++];
        memset(e, 0, sizeof *e);
        e->line = lineno;
        if (line[0] == '@') {
            char *tok = strtok(line, " \t");
            if (strcmp(tok, "@dirstore") == 0) e->type = E_DIRSTORE;
            else if (strcmp(tok, "@premise") == 0) e->type = E_PREMISE;
            else fail_msg("%s:%d: unknown directive %s", c->file, lineno, tok);
            for (int i = 0; i < 3; i++) {
                tok = strtok(NULL, " \t");
                e->args[i] = tok ? xstrdup(tok) : NULL;
            }
            continue;
        }
        e->type = E_CASE;
        e->known = known;
        known = false;
        char *tab = strchr(line, '\t');
        if (!tab) fail_msg("%s:%d: a case needs SQL<TAB>EXPECTED", c->file, lineno);
        *tab = '\0';
        e->raw_sql = xstrdup(line);
        e->sql = unescape(line, &e->sqllen);
        char *rest = tab + 1;
        char *field = rest;
        int nf = 0;
        while (field) {
            char *next = strchr(field, '\t');
            if (next) *next++ = '\0';
            if (nf == 0) {
                e->expect = xstrdup(trim(field));
            } else if (*field) {
                if (e->nopts == MAX_OPTS) fail_msg("%s:%d: too many options", c->file, lineno);
                char *eq = strchr(field, '=');
                /* "sql~=x", "sql!~=x", "all~=x": the operator is part of the name */
                opt *o = &e->opts[e->nopts++];
                if (eq) {
                    o->name = xstrndup(field, (size_t)(eq - field));
                    o->value = xstrdup(eq + 1);
                } else {
                    o->name = xstrdup(trim(field));
                    o->value = xstrdup("");
                }
            }
            nf++;
            field = next;
        }
    }
}

static void free_entries(ctx *c)
{
    for (int i = 0; i < c->n_entries; i++) {
        entry *e = &c->entries[i];
        free(e->sql);
        free(e->raw_sql);
        free(e->expect);
        for (int j = 0; j < e->nopts; j++) { free(e->opts[j].name); free(e->opts[j].value); }
        for (int j = 0; j < 3; j++) free(e->args[j]);
    }
    free(c->entries);
}

static const char *opt_get(const entry *e, const char *name)
{
    for (int i = 0; i < e->nopts; i++)
        if (strcmp(e->opts[i].name, name) == 0) return e->opts[i].value;
    return NULL;
}

/* ------------------------------------------------------------ the oracle */

static int popcount64(uint64_t m) { return __builtin_popcountll(m); }

static void format_nodes(const sw_conf *conf, sw_nodeset m, char *out, size_t outsz)
{
    out[0] = '\0';
    size_t n = 0;
    for (int i = 0; i < conf->n_nodes && i < SW_MAX_NODES; i++) {
        if (!(m & (1ULL << i))) continue;
        int w = snprintf(out + n, outsz - n, "%s%s", n ? "," : "", conf->nodes[i].name);
        if (w < 0 || (size_t)w >= outsz - n) break;
        n += (size_t)w;
    }
    if (n == 0) snprintf(out, outsz, "(no nodes)");
}

/* Node set named by one atom: a node name, FN:KEY (the node of KEY in the
 * router's function FN) or *FN (every node FN can answer). */
static int resolve_atom(ctx *c, const char *atom, sw_nodeset *mask, sbuf *why)
{
    if (atom[0] == '*') {
        int fi = sw_conf_function_index(c->conf, atom + 1);
        if (fi < 0) { sb_addf(why, "corpus: unknown function %s", atom + 1); return -1; }
        const sw_shardfn *fn = sw_router_function(c->r, fi);
        if (!fn) { sb_addf(why, "corpus: router has no function %s", atom + 1); return -1; }
        for (int t = 0; t < sw_shardfn_n_targets(fn); t++) {
            int node = sw_shardfn_target_node(fn, t);
            if (node >= 0) *mask |= 1ULL << node;
        }
        return 0;
    }
    const char *colon = strchr(atom, ':');
    if (!colon) {
        int ni = sw_conf_node_index(c->conf, atom);
        if (ni < 0) { sb_addf(why, "corpus: unknown node %s", atom); return -1; }
        *mask |= 1ULL << ni;
        return 0;
    }
    char fname[64];
    size_t fl = (size_t)(colon - atom);
    if (fl >= sizeof fname) { sb_addf(why, "corpus: bad atom %s", atom); return -1; }
    memcpy(fname, atom, fl);
    fname[fl] = '\0';
    int fi = sw_conf_function_index(c->conf, fname);
    if (fi < 0) { sb_addf(why, "corpus: unknown function %s", fname); return -1; }
    const sw_shardfn *fn = sw_router_function(c->r, fi);
    if (!fn) { sb_addf(why, "corpus: router has no function %s", fname); return -1; }
    const char *key = colon + 1;
    sw_value v;
    char vbuf[SW_VALUE_BUF];
    if (sw_value_from_text(c->conf->functions[fi].type, key, strlen(key), &v, vbuf, sizeof vbuf) != 0) {
        sb_addf(why, "corpus: %s is not a valid key of %s", key, fname);
        return -1;
    }
    char w[128] = "";
    int t = sw_shardfn_dispatch(fn, &v, NOW_MS, w, sizeof w);
    int node = t >= 0 ? sw_shardfn_target_node(fn, t) : -1;
    if (node < 0) {
        sb_addf(why, "corpus: oracle %s gave target %d (%s)", atom, t, w);
        return -1;
    }
    *mask |= 1ULL << node;
    return 0;
}

static int resolve_atoms(ctx *c, const char *list, sw_nodeset *mask, sbuf *why)
{
    *mask = 0;
    char *copy = xstrdup(list);
    int rc = 0;
    char *save = NULL;
    for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        if (resolve_atom(c, trim(a), mask, why) != 0) { rc = -1; break; }
    }
    free(copy);
    return rc;
}

/* ------------------------------------------------------------ Bind values */

typedef struct params {
    int n;
    uint8_t *val[MAX_PARAMS];
    int32_t len[MAX_PARAMS];
    int16_t fmt[MAX_PARAMS];
} params;

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) { p[i] = (uint8_t)(v & 0xff); v >>= 8; }
}

/* Days from 1970-01-01 (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void set_param(params *p, const void *data, size_t len, int16_t fmt)
{
    int i = p->n++;
    p->val[i] = malloc(len ? len : 1);
    assert_non_null(p->val[i]);
    if (len) memcpy(p->val[i], data, len);
    p->len[i] = (int32_t)len;
    p->fmt[i] = fmt;
}

/* PostgreSQL's binary numeric: ndigits, weight, sign, dscale, base-10000
 * digits.  Input is a plain decimal ("-150.50"). */
static size_t encode_numeric(const char *s, uint8_t *out)
{
    int neg = 0;
    if (*s == '-') { neg = 1; s++; }
    else if (*s == '+') s++;
    const char *dot = strchr(s, '.');
    size_t il = dot ? (size_t)(dot - s) : strlen(s);
    const char *frac = dot ? dot + 1 : "";
    size_t fl = strlen(frac);
    /* digits string aligned to groups of 4 around the point */
    size_t ipad = (4 - il % 4) % 4, fpad = (4 - fl % 4) % 4;
    char digits[256];
    size_t nd = 0;
    for (size_t i = 0; i < ipad; i++) digits[nd++] = '0';
    memcpy(digits + nd, s, il); nd += il;
    size_t igroups = (ipad + il) / 4;
    memcpy(digits + nd, frac, fl); nd += fl;
    for (size_t i = 0; i < fpad; i++) digits[nd++] = '0';
    int ngroups = (int)(nd / 4);
    int16_t groups[64];
    for (int g = 0; g < ngroups; g++) {
        int v = 0;
        for (int k = 0; k < 4; k++) v = v * 10 + (digits[g * 4 + k] - '0');
        groups[g] = (int16_t)v;
    }
    int first = 0, last = ngroups;
    int weight = (int)igroups - 1;
    while (first < last && groups[first] == 0) { first++; weight--; }
    while (last > first && groups[last - 1] == 0) last--;
    int n = last - first;
    if (n == 0) weight = 0;
    put_be(out, (uint64_t)n, 2);
    put_be(out + 2, (uint64_t)(uint16_t)(int16_t)weight, 2);
    put_be(out + 4, n == 0 ? 0 : (neg ? 0x4000 : 0), 2);
    put_be(out + 6, (uint64_t)fl, 2);
    for (int g = 0; g < n; g++) put_be(out + 8 + 2 * g, (uint64_t)(uint16_t)groups[first + g], 2);
    return 8 + 2 * (size_t)n;
}

/* A one-dimensional binary array of int8 (ba8), int4 (ba4) or text (bat). */
static size_t encode_array(const char *kind, const char *body, uint8_t *out, size_t outsz)
{
    uint32_t oid = strcmp(kind, "ba8") == 0 ? 20 : strcmp(kind, "ba4") == 0 ? 23 : 25;
    char *copy = xstrdup(body);
    char *in = copy;
    if (*in == '{') in++;
    size_t n = strlen(in);
    if (n && in[n - 1] == '}') in[n - 1] = '\0';
    size_t off = 20;
    int count = 0;
    char *save = NULL;
    for (char *e = strtok_r(in, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        assert_true(off + 12 + strlen(e) < outsz);
        if (oid == 25) {
            put_be(out + off, strlen(e), 4);
            memcpy(out + off + 4, e, strlen(e));
            off += 4 + strlen(e);
        } else {
            int bytes = oid == 20 ? 8 : 4;
            put_be(out + off, (uint64_t)bytes, 4);
            put_be(out + off + 4, (uint64_t)strtoll(e, NULL, 10), bytes);
            off += 4 + (size_t)bytes;
        }
        count++;
    }
    put_be(out, 1, 4);                 /* ndim */
    put_be(out + 4, 0, 4);             /* no nulls */
    put_be(out + 8, oid, 4);
    put_be(out + 12, (uint64_t)count, 4);
    put_be(out + 16, 1, 4);            /* lower bound */
    free(copy);
    return off;
}

/* params=SPEC,SPEC,...: t:TEXT, b2:/b4:/b8:INT, bt:TEXT, bd:DATE, bn:DECIMAL,
 * ba8:/ba4:/bat:{..}, null.  Commas inside braces belong to the value. */
static int build_params(const char *spec, params *p, sbuf *why)
{
    memset(p, 0, sizeof *p);
    char *copy = xstrdup(spec);
    char *s = copy;
    int rc = 0;
    while (*s) {
        char *e = s;
        int depth = 0;
        while (*e && (depth > 0 || *e != ',')) {
            if (*e == '{') depth++;
            else if (*e == '}') depth--;
            e++;
        }
        char saved = *e;
        *e = '\0';
        if (p->n == MAX_PARAMS) { sb_addf(why, "corpus: too many params"); rc = -1; break; }
        char *colon = strchr(s, ':');
        if (strcmp(s, "null") == 0) {
            int i = p->n++;
            p->val[i] = NULL;
            p->len[i] = -1;
            p->fmt[i] = 0;
        } else if (!colon) {
            sb_addf(why, "corpus: bad param %s", s);
            rc = -1;
            break;
        } else {
            *colon = '\0';
            const char *k = s, *v = colon + 1;
            uint8_t b[512];
            if (strcmp(k, "t") == 0) {
                set_param(p, v, strlen(v), 0);
            } else if (strcmp(k, "bt") == 0) {
                set_param(p, v, strlen(v), 1);
            } else if (strcmp(k, "b2") == 0 || strcmp(k, "b4") == 0 || strcmp(k, "b8") == 0) {
                int bytes = k[1] - '0';
                put_be(b, (uint64_t)strtoll(v, NULL, 10), bytes);
                set_param(p, b, (size_t)bytes, 1);
            } else if (strcmp(k, "bd") == 0) {
                int y, m, d;
                if (sscanf(v, "%d-%d-%d", &y, &m, &d) != 3) { sb_addf(why, "corpus: bad date %s", v); rc = -1; break; }
                int64_t days = days_from_civil(y, (unsigned)m, (unsigned)d) - days_from_civil(2000, 1, 1);
                put_be(b, (uint64_t)(uint32_t)(int32_t)days, 4);
                set_param(p, b, 4, 1);
            } else if (strcmp(k, "bn") == 0) {
                set_param(p, b, encode_numeric(v, b), 1);
            } else if (strcmp(k, "ba8") == 0 || strcmp(k, "ba4") == 0 || strcmp(k, "bat") == 0) {
                set_param(p, b, encode_array(k, v, b, sizeof b), 1);
            } else {
                sb_addf(why, "corpus: bad param kind %s", k);
                rc = -1;
                break;
            }
        }
        if (!saved) break;
        s = e + 1;
    }
    free(copy);
    return rc;
}

static void free_params(params *p)
{
    for (int i = 0; i < p->n; i++) free(p->val[i]);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------ routing */

static void result_free(result *res)
{
    for (int i = 0; i < res->n_targets; i++) free(res->tsql[i]);
    free(res->tsql);
    free(res->anysql);
    free(res->tnode);
    free(res->local_value);
    memset(res, 0, sizeof *res);
}

/* A copy of a target's text with the ids shardwire_next_id() calls got
 * written as ID: they differ from one routing to the next. */
static char *ids_masked(const char *s)
{
    char *d = xstrdup(s), *w = d;
    for (const char *r = s; *r;) {
        const char *q = r;
        if (*q == '(') q++;
        if (strncmp(q, "coalesce(", 9) == 0) q += 9;
        if (q > r && *q >= '0' && *q <= '9') {
            const char *z = q;
            while (*z >= '0' && *z <= '9') z++;
            if (strncmp(z, "::int8", 6) == 0) {
                memcpy(w, r, (size_t)(q - r));
                w += q - r;
                memcpy(w, "ID", 2);
                w += 2;
                r = z;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = '\0';
    return d;
}

static void result_take(result *res, const sw_route_out *out)
{
    memset(res, 0, sizeof *res);
    res->status = out->status;
    memcpy(res->sqlstate, out->sqlstate, sizeof res->sqlstate);
    res->sqlstate[5] = '\0';
    snprintf(res->message, sizeof res->message, "%.*s", (int)sizeof out->message, out->message);
    snprintf(res->reason, sizeof res->reason, "%.*s", (int)sizeof out->reason, out->reason);
    res->kind = out->kind;
    res->write = out->write;
    res->multi = out->multi;
    res->set_local = out->set_local;
    res->nodes = out->nodes;
    res->n_targets = out->n_targets;
    if (out->n_targets > 0) {
        res->tnode = calloc((size_t)out->n_targets, sizeof *res->tnode);
        res->tsql = calloc((size_t)out->n_targets, sizeof *res->tsql);
        assert_non_null(res->tnode);
        assert_non_null(res->tsql);
        for (int i = 0; i < out->n_targets; i++) {
            res->tnode[i] = out->targets[i].node;
            res->tsql[i] = out->targets[i].sql ? ids_masked(out->targets[i].sql) : NULL;
        }
    }
    res->anysql = out->any_sql ? ids_masked(out->any_sql) : NULL;
    res->fresh = out->fresh;
    res->local = out->local;
    res->local_value = out->local_value ? xstrdup(out->local_value) : NULL;
    res->local_id = out->local_id;
    res->lookup_fn = out->lookup_fn;
    snprintf(res->lookup_key, sizeof res->lookup_key, "%.*s", (int)sizeof out->lookup_key, out->lookup_key);
}

/* Route one case; a prepare failure is reported as ERROR 42601. */
static void route_case(ctx *c, const entry *e, result *res, sbuf *why)
{
    sw_route_in in;
    memset(&in, 0, sizeof in);
    const char *db = opt_get(e, "db");
    in.database = db ? db : "shop";
    in.now_ms = NOW_MS;
    in.session.shard = opt_get(e, "shard");
    in.session.sharding_key = opt_get(e, "key");
    const char *pspec = opt_get(e, "params");
    bool ext = pspec != NULL || opt_get(e, "ext") != NULL;
    params p;
    memset(&p, 0, sizeof p);
    if (pspec && *pspec && build_params(pspec, &p, why) != 0) {
        free_params(&p);
        memset(res, 0, sizeof *res);
        res->status = (sw_route_status)-1;
        return;
    }
    /* Exactly sized copy (text plus its terminator) so over-reads show. */
    char *sql = malloc(e->sqllen + 1);
    assert_non_null(sql);
    memcpy(sql, e->sql, e->sqllen + 1);
    sw_route_out out;
    memset(&out, 0, sizeof out);
    if (ext) {
        char err[512] = "";
        sw_plan *plan = sw_router_prepare(c->r, in.database, sql, e->sqllen, err, sizeof err);
        /* The plan keeps what it needs of the text. */
        free(sql);
        sql = NULL;
        if (!plan) {
            memset(res, 0, sizeof *res);
            res->status = SW_ROUTE_ERROR;
            memcpy(res->sqlstate, "42601", 6);
            snprintf(res->message, sizeof res->message, "prepare: %.200s", err);
            free_params(&p);
            return;
        }
        in.nparams = p.n;
        in.param_values = (const uint8_t *const *)p.val;
        in.param_lens = p.len;
        in.param_formats = p.fmt;
        sw_router_route_plan(c->r, plan, &in, &out);
        result_take(res, &out);
        sw_route_out_clear(&out);
        sw_plan_free(plan);
    } else {
        sw_router_route(c->r, &in, sql, e->sqllen, &out);
        result_take(res, &out);
        sw_route_out_clear(&out);
    }
    free(sql);
    free_params(&p);
}

/* The enum's own names: the corpus checks the kind, not its display name. */
static const char *kind_id(sw_stmt_kind k)
{
    static const char *const names[] = {"EMPTY", "SELECT", "INSERT", "UPDATE", "DELETE",
                                        "COPY", "DDL", "BEGIN", "COMMIT", "ROLLBACK",
                                        "TXN_OTHER", "SET", "SHOW", "UTILITY"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static const char *local_name(sw_route_local l)
{
    switch (l) {
    case SW_LOCAL_NONE: return "none";
    case SW_LOCAL_SET_SHARD: return "set_shard";
    case SW_LOCAL_SET_KEY: return "set_key";
    case SW_LOCAL_SHOW_SETTING: return "show";
    case SW_LOCAL_NEXT_ID: return "next_id";
    }
    return "?";
}

static const char *effective_sql(const entry *e, const result *res, int i)
{
    return res->tsql[i] ? res->tsql[i] : e->sql;
}

/* Everything a second routing must reproduce (not the reason, not the ID). */
static void describe(ctx *c, const entry *e, const result *res, sbuf *d, bool full)
{
    char nodes[256];
    switch ((int)res->status) {
    case SW_ROUTE_OK:
        format_nodes(c->conf, res->nodes, nodes, sizeof nodes);
        if (res->n_targets == 0 && res->local == SW_LOCAL_NONE) sb_addf(d, "none");
        else if (res->local != SW_LOCAL_NONE) sb_addf(d, "local:%s", local_name(res->local));
        else sb_addf(d, "%s", nodes);
        if (res->local != SW_LOCAL_NONE && res->n_targets > 0) sb_addf(d, " nodes=%s", nodes);
        if (res->local_value) sb_addf(d, " value=%s", res->local_value);
        if (res->n_targets > 0 && (full || res->n_targets != popcount64(res->nodes)))
            sb_addf(d, " [%d targets]", res->n_targets);
        break;
    case SW_ROUTE_ERROR:
        sb_addf(d, "error %s: %s", res->sqlstate, res->message);
        break;
    case SW_ROUTE_LOOKUP:
        sb_addf(d, "lookup fn=%d (%s) key=%s", res->lookup_fn,
                res->lookup_fn >= 0 && res->lookup_fn < c->conf->n_functions
                    ? c->conf->functions[res->lookup_fn].name : "?",
                res->lookup_key);
        break;
    default:
        sb_addf(d, "status %d", (int)res->status);
        break;
    }
    if (!full) return;
    sb_addf(d, " kind=%s write=%d multi=%d setlocal=%d", kind_id(res->kind), res->write,
            res->multi, res->set_local);
    if (res->status == SW_ROUTE_OK) {
        for (int i = 0; i < res->n_targets; i++) {
            sb_addf(d, "\n      target %d: node %d", i, res->tnode[i]);
            if (res->tsql[i]) sb_addf(d, " sql: %s", res->tsql[i]);
        }
        if (res->anysql) sb_addf(d, "\n      any node sql: %s", res->anysql);
        if (res->fresh) sb_addf(d, " fresh");
    }
    (void)e;
}

/* Checks one answer against one expectation x of the case; appends what is
 * wrong to why. */
static void check_one(ctx *c, const entry *e, const char *x, const result *res, sbuf *why)
{
    sw_route_status want_status = SW_ROUTE_OK;
    sw_nodeset want_nodes = 0;
    bool check_nodes = false, want_none = false;
    if (strcmp(x, "none") == 0) {
        want_none = true;
    } else if (strncmp(x, "error ", 6) == 0 || strcmp(x, "error") == 0) {
        want_status = SW_ROUTE_ERROR;
    } else if (strncmp(x, "lookup ", 7) == 0) {
        want_status = SW_ROUTE_LOOKUP;
    } else if (strncmp(x, "local:", 6) == 0) {
        /* checked below */
    } else if (strcmp(x, "same") == 0) {
        if (!c->have_prev || c->prev_status != SW_ROUTE_OK || popcount64(c->prev_nodes) != 1) {
            sb_addf(why, "corpus: 'same' needs a previous single-node answer; ");
            return;
        }
        want_nodes = c->prev_nodes;
        check_nodes = true;
    } else {
        if (resolve_atoms(c, x, &want_nodes, why) != 0) return;
        check_nodes = true;
    }

    if ((int)res->status != (int)want_status) {
        sb_addf(why, "status %d, want %d; ", (int)res->status, (int)want_status);
        return;
    }
    if (want_status == SW_ROUTE_ERROR) {
        if (x[5] && strcmp(res->sqlstate, x + 6) != 0) sb_addf(why, "sqlstate %s, want %s; ", res->sqlstate, x + 6);
        if (res->message[0] == '\0') sb_addf(why, "empty error message; ");
    } else if (want_status == SW_ROUTE_LOOKUP) {
        char fn[64] = "", key[128] = "";
        if (sscanf(x + 7, "%63s %127s", fn, key) != 2) { sb_addf(why, "corpus: lookup FN KEY; "); return; }
        int fi = sw_conf_function_index(c->conf, fn);
        if (res->lookup_fn != fi) sb_addf(why, "lookup_fn %d, want %d; ", res->lookup_fn, fi);
        if (strcmp(res->lookup_key, key) != 0) sb_addf(why, "lookup_key '%s', want '%s'; ", res->lookup_key, key);
    } else {
        /* Consistency of every OK answer. */
        sw_nodeset m = 0;
        for (int i = 0; i < res->n_targets; i++) {
            if (res->tnode[i] < 0 || res->tnode[i] >= c->conf->n_nodes) {
                sb_addf(why, "target %d has node %d; ", i, res->tnode[i]);
                continue;
            }
            m |= 1ULL << res->tnode[i];
            if (i > 0 && res->tnode[i] < res->tnode[i - 1]) sb_addf(why, "targets not sorted by node; ");
            if (res->tsql[i]) {
                PgQueryParseResult pr = pg_query_parse(res->tsql[i]);
                if (pr.error) sb_addf(why, "target %d sql does not parse (%s); ", i, pr.error->message);
                pg_query_free_parse_result(pr);
            }
        }
        if (m != res->nodes) sb_addf(why, "nodes mask does not match the targets; ");
        if (res->n_targets > 0 && res->reason[0] == '\0') sb_addf(why, "empty reason; ");

        if (strncmp(x, "local:", 6) == 0) {
            if (strcmp(local_name(res->local), x + 6) != 0)
                sb_addf(why, "local %s, want %s; ", local_name(res->local), x + 6);
        } else if (res->local != SW_LOCAL_NONE) {
            sb_addf(why, "unexpected local answer %s; ", local_name(res->local));
        }
        if (want_none && res->n_targets != 0) sb_addf(why, "want no preference (0 targets); ");
        if (check_nodes) {
            if (res->nodes != want_nodes) {
                char a[256];
                format_nodes(c->conf, want_nodes, a, sizeof a);
                sb_addf(why, "nodes differ (want %s); ", a);
            }
            const char *tn = opt_get(e, "targets");
            if (!tn && res->n_targets != popcount64(res->nodes))
                sb_addf(why, "%d targets for %d nodes; ", res->n_targets, popcount64(res->nodes));
        }
    }

    /* Options. */
    for (int i = 0; i < e->nopts; i++) {
        const char *n = e->opts[i].name, *v = e->opts[i].value;
        if (strcmp(n, "kind") == 0) {
            if (strcmp(kind_id(res->kind), v) != 0)
                sb_addf(why, "kind %s, want %s; ", kind_id(res->kind), v);
        } else if (strcmp(n, "write") == 0) {
            if (res->write != (atoi(v) != 0)) sb_addf(why, "write=%d, want %s; ", res->write, v);
        } else if (strcmp(n, "multi") == 0) {
            if (res->multi != (atoi(v) != 0)) sb_addf(why, "multi=%d, want %s; ", res->multi, v);
        } else if (strcmp(n, "setlocal") == 0) {
            if (res->set_local != (atoi(v) != 0)) sb_addf(why, "set_local=%d, want %s; ", res->set_local, v);
        } else if (strcmp(n, "targets") == 0) {
            if (strcmp(v, "any") != 0 && res->n_targets != atoi(v))
                sb_addf(why, "%d targets, want %s; ", res->n_targets, v);
        } else if (strcmp(n, "sql~") == 0 || strcmp(n, "sql!~") == 0 || strcmp(n, "all~") == 0) {
            int hits = 0, n_t = res->n_targets;
            for (int t = 0; t < res->n_targets; t++)
                if (strstr(effective_sql(e, res, t), v)) hits++;
            if (n_t == 0 && res->anysql) {  /* whichever node runs it */
                n_t = 1;
                hits = strstr(res->anysql, v) != NULL;
            }
            if (n[0] == 'a' && (n_t == 0 || hits != n_t))
                sb_addf(why, "not every target's sql contains \"%s\"; ", v);
            else if (n[3] == '~' && hits == 0)
                sb_addf(why, "no target's sql contains \"%s\"; ", v);
            else if (n[3] == '!' && hits > 0)
                sb_addf(why, "a target's sql contains \"%s\"; ", v);
        } else if (strcmp(n, "row") == 0) {
            /* row=TEXT@WHERE: TEXT is in the target(s) on node WHERE (an atom)
             * or in the target whose sql names WHERE (a physical table), and
             * in no other target. */
            const char *at = strrchr(v, '@');
            if (!at) { sb_addf(why, "corpus: row=TEXT@WHERE; "); continue; }
            char *text = xstrndup(v, (size_t)(at - v));
            const char *where = at + 1;
            sw_nodeset wn = 0;
            bool by_node = strchr(where, ':') || sw_conf_node_index(c->conf, where) >= 0;
            if (by_node && resolve_atom(c, where, &wn, why) != 0) { free(text); continue; }
            int in_place = 0, elsewhere = 0;
            for (int t = 0; t < res->n_targets; t++) {
                const char *s = effective_sql(e, res, t);
                bool place = by_node ? (res->tnode[t] >= 0 && (wn & (1ULL << res->tnode[t])))
                                     : strstr(s, where) != NULL;
                if (strstr(s, text)) {
                    if (place) in_place++;
                    else elsewhere++;
                }
            }
            if (in_place != 1 || elsewhere != 0)
                sb_addf(why, "row \"%s\" is in %d target(s) at %s and %d elsewhere; ", text, in_place,
                        where, elsewhere);
            free(text);
        } else if (strcmp(n, "msg~") == 0) {
            if (!strstr(res->message, v)) sb_addf(why, "message lacks \"%s\"; ", v);
        } else if (strcmp(n, "reason~") == 0) {
            if (!strstr(res->reason, v)) sb_addf(why, "reason lacks \"%s\"; ", v);
        } else if (strcmp(n, "value") == 0) {
            if (strcmp(v, "NULL") == 0 ? res->local_value != NULL
                                        : (!res->local_value || strcmp(res->local_value, v) != 0))
                sb_addf(why, "local_value %s, want %s; ", res->local_value ? res->local_value : "NULL", v);
        } else if (strcmp(n, "idof") == 0) {
            /* idof=FN:KEY: the ID is FN's layout, carries KEY's source bucket,
             * the routing time and dispatches where KEY does. */
            const char *colon = strchr(v, ':');
            char fname[64] = "";
            if (colon && (size_t)(colon - v) < sizeof fname) memcpy(fname, v, (size_t)(colon - v));
            int fi = sw_conf_function_index(c->conf, fname);
            if (fi < 0 || c->conf->functions[fi].kind != SW_FN_EMBEDDED) {
                sb_addf(why, "corpus: idof needs an embedded function; ");
                continue;
            }
            const sw_conf_function *f = &c->conf->functions[fi];
            const sw_shardfn *src = sw_router_function(c->r, f->source);
            sw_value kv;
            char kb[SW_VALUE_BUF];
            if (sw_value_from_text(SW_KEY_INT, colon + 1, strlen(colon + 1), &kv, kb, sizeof kb) != 0) {
                sb_addf(why, "corpus: bad idof key; ");
                continue;
            }
            int64_t id = res->local_id;
            uint64_t bucket = ((uint64_t)id >> f->seq_bits) & ((1ULL << f->slot_bits) - 1);
            uint64_t ts = (uint64_t)id >> (f->slot_bits + f->seq_bits);
            if (id <= 0) sb_addf(why, "local_id %lld is not positive; ", (long long)id);
            if (bucket != sw_shardfn_bucket(src, &kv))
                sb_addf(why, "id %lld carries bucket %llu, want %u; ", (long long)id,
                        (unsigned long long)bucket, sw_shardfn_bucket(src, &kv));
            if (ts != NOW_MS - (uint64_t)f->epoch_ms)
                sb_addf(why, "id %lld carries time %llu, want %llu; ", (long long)id,
                        (unsigned long long)ts, (unsigned long long)(NOW_MS - (uint64_t)f->epoch_ms));
            char idtxt[128];
            snprintf(idtxt, sizeof idtxt, "%s:%lld", fname, (long long)id);
            char keyatom[128];
            snprintf(keyatom, sizeof keyatom, "%s:%s", c->conf->functions[f->source].name, colon + 1);
            sw_nodeset a = 0, b = 0;
            if (resolve_atom(c, idtxt, &a, why) == 0 && resolve_atom(c, keyatom, &b, why) == 0 && a != b)
                sb_addf(why, "id dispatches to another node than its key; ");
            c->ids = realloc(c->ids, (size_t)(c->n_ids + 1) * sizeof *c->ids);
            assert_non_null(c->ids);
            c->ids[c->n_ids++] = id;
        } else if (strcmp(n, "db") == 0 || strcmp(n, "shard") == 0 || strcmp(n, "key") == 0 ||
                   strcmp(n, "params") == 0 || strcmp(n, "ext") == 0) {
            /* inputs */
        } else {
            sb_addf(why, "corpus: unknown option %s; ", n);
        }
    }
}

/* EXPECTED may list alternatives "A|B" where router.md leaves a choice
 * (e.g. decode an E'' string or treat it as unbounded): one must hold. */
static void check_case(ctx *c, const entry *e, const result *res, sbuf *why)
{
    if (!strchr(e->expect, '|')) {
        check_one(c, e, e->expect, res, why);
        return;
    }
    char *copy = xstrdup(e->expect);
    sbuf all = {0}, one = {0};
    bool ok = false;
    char *save = NULL;
    for (char *alt = strtok_r(copy, "|", &save); alt && !ok; alt = strtok_r(NULL, "|", &save)) {
        sb_reset(&one);
        check_one(c, e, trim(alt), res, &one);
        if (one.len == 0) ok = true;
        else sb_addf(&all, "[%s] %s", alt, sb_str(&one));
    }
    if (!ok) sb_addf(why, "%s", sb_str(&all));
    sb_free(&all);
    sb_free(&one);
    free(copy);
}

static int run_directive(ctx *c, const entry *e, sbuf *why)
{
    if (e->type == E_PREMISE) {
        if (!e->args[0] || !e->args[1]) { sb_addf(why, "corpus: @premise ATOM NODE"); return -1; }
        sw_nodeset a = 0, b = 0;
        if (resolve_atom(c, e->args[0], &a, why) != 0 || resolve_atom(c, e->args[1], &b, why) != 0) return -1;
        if (a != b) {
            char got[128];
            format_nodes(c->conf, a, got, sizeof got);
            sb_addf(why, "premise %s = %s does not hold (it is %s): pick other keys", e->args[0], e->args[1], got);
            return -1;
        }
        return 0;
    }
    /* @dirstore FN KEY NODE */
    if (!e->args[0] || !e->args[1] || !e->args[2]) { sb_addf(why, "corpus: @dirstore FN KEY NODE"); return -1; }
    int fi = sw_conf_function_index(c->conf, e->args[0]);
    if (fi < 0) { sb_addf(why, "corpus: unknown function %s", e->args[0]); return -1; }
    sw_shardfn *fn = sw_router_function_mut(c->r, fi);
    sw_value v;
    char vb[SW_VALUE_BUF];
    if (sw_value_from_text(c->conf->functions[fi].type, e->args[1], strlen(e->args[1]), &v, vb, sizeof vb) != 0) {
        sb_addf(why, "corpus: bad key %s", e->args[1]);
        return -1;
    }
    int t = sw_shardfn_directory_store(fn, &v, e->args[2], NOW_MS);
    if (t < 0) { sb_addf(why, "directory_store(%s, %s) = %d", e->args[1], e->args[2], t); return -1; }
    return 0;
}

/* ------------------------------------------------------------ the test */

static const char *corpus_dir(void)
{
    static char dir[1024];
    const char *env = getenv("SW_ROUTE_CORPUS_DIR");
    if (env && *env) return env;
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        char probe[1100];
        snprintf(probe, sizeof probe, "%s/route_corpus.txt", dir);
        if (access(probe, R_OK) == 0) return dir;
    }
    return ".";
}

static void test_route_corpus(void **state)
{
    (void)state;
    const char *dir = corpus_dir();
    char ypath[1100], cpath[1100];
    snprintf(ypath, sizeof ypath, "%s/route_corpus.yaml", dir);
    snprintf(cpath, sizeof cpath, "%s/route_corpus.txt", dir);

    ctx c;
    memset(&c, 0, sizeof c);
    c.file = "route_corpus.txt";
    char err[4096] = "";
    if (sw_conf_load(ypath, &c.conf, err, sizeof err) != 0) fail_msg("route_corpus.yaml:\n%s", err);
    /* The same text through the string loader gives the same layout. */
    char *ytext = read_file(ypath);
    sw_conf *c2 = NULL;
    if (sw_conf_load_string("route_corpus.yaml", ytext, strlen(ytext), &c2, err, sizeof err) != 0)
        fail_msg("route_corpus.yaml (string):\n%s", err);
    assert_int_equal(c2->n_functions, c.conf->n_functions);
    assert_int_equal(c2->n_nodes, 3);
    sw_conf_free(c2);
    free(ytext);
    assert_int_equal(c.conf->n_functions, 10);
    assert_int_equal(c.conf->functions[sw_conf_function_index(c.conf, "price_bands")].kind, SW_FN_RANGE);
    assert_true(c.conf->functions[sw_conf_function_index(c.conf, "price_bands")].table_targets);

    /* Display names of the statement kinds, as SHOW ROUTE prints them. */
    assert_string_equal(sw_stmt_kind_name(SW_SK_SELECT), "SELECT");
    assert_string_equal(sw_stmt_kind_name(SW_SK_INSERT), "INSERT");
    assert_string_equal(sw_stmt_kind_name(SW_SK_UPDATE), "UPDATE");
    assert_string_equal(sw_stmt_kind_name(SW_SK_DELETE), "DELETE");
    for (int k = SW_SK_EMPTY; k <= SW_SK_UTILITY; k++) {
        assert_non_null(sw_stmt_kind_name((sw_stmt_kind)k));
        assert_true(sw_stmt_kind_name((sw_stmt_kind)k)[0] != '\0');
    }

    c.r = sw_router_new(c.conf, err, sizeof err);
    if (!c.r) fail_msg("sw_router_new: %s", err);

    char *text = read_file(cpath);
    parse_corpus(&c, text);
    free(text);

    int n_cases = 0, fail1 = 0, fail2 = 0, known_fail = 0, n_lookup = 0, bad_directives = 0;
    result *first = calloc((size_t)c.n_entries, sizeof *first);
    bool *failed = calloc((size_t)c.n_entries, sizeof *failed);
    assert_non_null(first);
    assert_non_null(failed);
    sbuf report = {0}, why = {0}, got = {0}, again = {0};
    bool verbose = getenv("SW_CORPUS_VERBOSE") != NULL;

    for (int pass = 1; pass <= 2; pass++) {
        c.have_prev = false;
        for (int i = 0; i < c.n_entries; i++) {
            entry *e = &c.entries[i];
            sb_reset(&why);
            if (e->type != E_CASE) {
                if (run_directive(&c, e, &why) != 0 && pass == 1) {
                    sb_addf(&report, "%s:%d: directive failed: %s\n", c.file, e->line, sb_str(&why));
                    bad_directives++;
                }
                continue;
            }
            if (pass == 1) n_cases++;
            result res;
            route_case(&c, e, &res, &why);
            if (why.len == 0) check_case(&c, e, &res, &why);
            sb_reset(&got);
            describe(&c, e, &res, &got, false);
            if (pass == 1) {
                if (res.status == SW_ROUTE_LOOKUP) n_lookup++;
                if (why.len > 0) {
                    failed[i] = true;
                    fail1++;
                    if (e->known) known_fail++;
                    sb_reset(&again);
                    describe(&c, e, &res, &again, true);
                    sb_addf(&report, "%s:%d:%s %s\n    expected: %s\n    got:      %s\n    reason:   %s\n    why:      %s\n",
                            c.file, e->line, e->known ? " (KNOWN)" : "", e->raw_sql, e->expect,
                            sb_str(&again), res.reason, sb_str(&why));
                } else if (verbose) {
                    sb_reset(&again);
                    describe(&c, e, &res, &again, true);
                    printf("ok %s:%d %s -> %s | %s\n", c.file, e->line, e->raw_sql, sb_str(&again), res.reason);
                }
                first[i] = res;
            } else {
                /* The cached answer must be the first answer, and still right. */
                sbuf a = {0}, b = {0};
                describe(&c, e, &first[i], &a, true);
                describe(&c, e, &res, &b, true);
                bool same = strcmp(sb_str(&a), sb_str(&b)) == 0;
                if (!same || (why.len > 0 && !failed[i])) {
                    fail2++;
                    sb_addf(&report, "%s:%d: second pass (shape cache) differs: %s\n    first:  %s\n    second: %s\n    why:    %s\n",
                            c.file, e->line, e->raw_sql, sb_str(&a), sb_str(&b), sb_str(&why));
                }
                sb_free(&a);
                sb_free(&b);
                result_free(&res);
            }
            c.have_prev = true;
            c.prev_status = first[i].status;
            c.prev_nodes = first[i].nodes;
        }
    }

    /* IDs handed out at the same millisecond never repeat. */
    for (int i = 0; i < c.n_ids; i++)
        for (int j = i + 1; j < c.n_ids; j++)
            if (c.ids[i] == c.ids[j]) {
                sb_addf(&report, "next_id returned %lld twice\n", (long long)c.ids[i]);
                fail2++;
                i = c.n_ids;
                break;
            }

    uint64_t hits = 0, misses = 0;
    size_t entries = 0;
    sw_router_cache_stats(c.r, &hits, &misses, &entries);

    if (report.len) printf("%s", sb_str(&report));
    printf("route corpus: %d cases, %d passed, %d failed (%d marked KNOWN), %d second-pass/cache problems, "
           "%d failed directives; %d lookups; shape cache %llu hits, %llu misses, %zu entries\n",
           n_cases, n_cases - fail1, fail1, known_fail, fail2, bad_directives, n_lookup, (unsigned long long)hits,
           (unsigned long long)misses, entries);
    fflush(stdout);

    for (int i = 0; i < c.n_entries; i++) result_free(&first[i]);
    free(first);
    free(failed);
    free(c.ids);
    sb_free(&report);
    sb_free(&why);
    sb_free(&got);
    sb_free(&again);
    free_entries(&c);
    sw_router_free(c.r);
    sw_conf_free(c.conf);

    assert_true(n_cases >= 300);
    /* The second pass repeats simple-protocol shapes: some must hit. */
    assert_true(hits > 0);
    assert_int_equal(fail1, 0);
    assert_int_equal(fail2, 0);
    assert_int_equal(bad_directives, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
