/*
 * literal.c - reading a value reference (route_int.h) as a key value: a
 * constant's text from its item ('..' with '' doubled, E'..' escapes,
 * $tag$..$tag$, adjacent literals joined across a newline, a merged or
 * separate '-'), a text or binary Bind value, or text fixed in the plan;
 * and arrays for "key = ANY(...)" in text ({1,"a b",NULL}) or binary form.
 *
 * Everything is decoded into the caller's sw_litbuf: the hot path reads a
 * key without a heap block unless a literal is over 1 kB.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "route_int.h"

void sw_litbuf_release(sw_litbuf *b)
{
    free(b->heap);
    b->heap = NULL;
}

static void put_utf8(char *out, size_t *o, unsigned long cp)
{
    if (cp < 0x80) {
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (char)(0xC0 | (cp >> 6));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xE0 | (cp >> 12));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*o)++] = (char)(0xF0 | (cp >> 18));
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The output is never longer than the input, so outsz >= n suffices. */
long sw_lit_decode_string(const char *s, size_t n, char *out, size_t outsz)
{
    if (outsz < n) return -1;
    size_t i = 0, o = 0;
    if (n >= 2 && s[0] == '$') {
        size_t t = 1;
        while (t < n && s[t] != '$') t++;
        if (t >= n) return -1;
        size_t tag = t + 1;
        if (n < 2 * tag || memcmp(s, s + n - tag, tag) != 0) return -1;
        memcpy(out, s + tag, n - 2 * tag);
        return (long)(n - 2 * tag);
    }
    bool esc = false;
    if (i < n && (s[i] == 'E' || s[i] == 'e')) {
        esc = true;
        i++;
    }
    for (;;) {
        if (i >= n || s[i] != '\'') return -1;
        i++;
        for (;;) {
            if (i >= n) return -1;
            char c = s[i];
            if (c == '\'') {
                if (i + 1 < n && s[i + 1] == '\'') {
                    out[o++] = '\'';
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            if (esc && c == '\\' && i + 1 < n) {
                char d = s[i + 1];
                i += 2;
                switch (d) {
                case 'b': out[o++] = '\b'; break;
                case 'f': out[o++] = '\f'; break;
                case 'n': out[o++] = '\n'; break;
                case 'r': out[o++] = '\r'; break;
                case 't': out[o++] = '\t'; break;
                case 'x': {
                    int v = 0, k = 0;
                    while (k < 2 && i < n && hexval(s[i]) >= 0) v = v * 16 + hexval(s[i++]), k++;
                    if (k == 0) out[o++] = 'x';
                    else out[o++] = (char)v;
                    break;
                }
                case 'u':
                case 'U': {
                    int want = d == 'u' ? 4 : 8;
                    unsigned long cp = 0;
                    for (int k = 0; k < want; k++) {
                        if (i >= n || hexval(s[i]) < 0) return -1;
                        cp = cp * 16 + (unsigned long)hexval(s[i++]);
                    }
                    /* \uXXXX is at least 6 bytes of input for at most 4 out */
                    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
                    put_utf8(out, &o, cp);
                    break;
                }
                default:
                    if (d >= '0' && d <= '7') {
                        int v = d - '0', k = 1;
                        while (k < 3 && i < n && s[i] >= '0' && s[i] <= '7') v = v * 8 + (s[i++] - '0'), k++;
                        out[o++] = (char)v;
                    } else {
                        out[o++] = d;
                    }
                }
                continue;
            }
            out[o++] = c;
            i++;
        }
        /* Adjacent literals separated by whitespace with a newline are one. */
        size_t j = i;
        bool nl = false;
        while (j < n && isspace((unsigned char)s[j])) nl |= s[j++] == '\n';
        if (j >= n) break;
        if (!nl || s[j] != '\'') return -1;
        i = j;
    }
    return (long)o;
}

static void set_raw(sw_litbuf *b, const char *s, size_t n)
{
    if (n >= sizeof b->raw) n = sizeof b->raw - 1;
    memcpy(b->raw, s, n);
    b->raw[n] = '\0';
}

/* Scratch of at least n bytes for a decoded literal. */
static char *scratch(sw_litbuf *b, size_t n)
{
    if (n <= sizeof b->tmp) return b->tmp;
    free(b->heap);
    b->heap = malloc(n);
    return b->heap;
}

/* Text of a constant item or fixed string, decoded. */
static sw_lit_status const_text(const sw_eval *e, sw_vref v, sw_litbuf *b, const char **txt, size_t *len)
{
    if (v.kind == SW_VR_FIXED) {
        *txt = sw_plan_s(e->p, v.idx);
        *len = strlen(*txt);
        return SW_LIT_OK;
    }
    if (v.idx < 0 || v.idx >= e->n_items) return SW_LIT_UNKNOWN;
    const sw_item *it = &e->items[v.idx];
    const char *s = e->text + it->start;
    size_t n = it->end - it->start;
    switch (it->tok) {
    case PG_QUERY__TOKEN__ICONST:
    case PG_QUERY__TOKEN__FCONST: {
        bool neg = v.neg != 0;
        if (it->flags & SW_ITEM_NEG) {
            neg = !neg;
            s++, n--;
            while (n && isspace((unsigned char)*s)) s++, n--;
        }
        if (!neg) {
            *txt = s;
            *len = n;
            return SW_LIT_OK;
        }
        char *d = scratch(b, n + 1);
        if (!d) return SW_LIT_UNKNOWN;
        d[0] = '-';
        memcpy(d + 1, s, n);
        *txt = d;
        *len = n + 1;
        return SW_LIT_OK;
    }
    case PG_QUERY__TOKEN__SCONST: {
        char *d = scratch(b, n);
        if (!d) return SW_LIT_UNKNOWN;
        long m = sw_lit_decode_string(s, n, d, n);
        if (m < 0) return SW_LIT_UNKNOWN;
        *txt = d;
        *len = (size_t)m;
        return SW_LIT_OK;
    }
    default: return SW_LIT_UNKNOWN; /* bit strings */
    }
}

/* The Bind value of parameter idx: SW_LIT_OK with bytes and format. */
static sw_lit_status param(const sw_eval *e, int idx, const uint8_t **p, size_t *n, bool *binary)
{
    const sw_route_in *in = e->in;
    if (idx < 0 || idx >= in->nparams || !in->param_values) return SW_LIT_UNKNOWN;
    const uint8_t *val = in->param_values[idx];
    if (!val) return SW_LIT_NULL;
    int32_t len = in->param_lens ? in->param_lens[idx] : -1;
    if (len < 0) return SW_LIT_NULL;
    *p = val;
    *n = (size_t)len;
    *binary = in->param_formats && in->param_formats[idx] == 1;
    return SW_LIT_OK;
}

static sw_lit_status text_of(const sw_eval *e, sw_vref v, sw_litbuf *b, const char **txt, size_t *len,
                             const uint8_t **bin, size_t *binlen)
{
    *bin = NULL;
    switch (v.kind) {
    case SW_VR_NULL: return SW_LIT_NULL;
    case SW_VR_CONST:
    case SW_VR_FIXED: return const_text(e, v, b, txt, len);
    case SW_VR_ID: {
        if (!e->ids || v.idx < 0 || v.idx >= e->p->n_idcalls) return SW_LIT_UNKNOWN;
        int n = snprintf(b->tmp, sizeof b->tmp, "%" PRId64, e->ids[v.idx].id);
        *txt = b->tmp;
        *len = (size_t)n;
        return SW_LIT_OK;
    }
    case SW_VR_PARAM: {
        const uint8_t *p;
        size_t n;
        bool binary;
        sw_lit_status st = param(e, v.idx, &p, &n, &binary);
        if (st != SW_LIT_OK) return st;
        if (binary) {
            *bin = p;
            *binlen = n;
        } else {
            *txt = (const char *)p;
            *len = n;
        }
        return SW_LIT_OK;
    }
    default: return SW_LIT_UNKNOWN;
    }
}

sw_lit_status sw_lit_read(const sw_eval *e, sw_vref v, sw_key_type t, sw_value *out, sw_litbuf *b)
{
    const char *txt = NULL;
    size_t len = 0;
    const uint8_t *bin;
    size_t binlen = 0;
    b->raw[0] = '\0';
    sw_lit_status st = text_of(e, v, b, &txt, &len, &bin, &binlen);
    if (st != SW_LIT_OK) return st;
    if (bin) {
        if (sw_value_from_binary(t, bin, binlen, out, b->canon, sizeof b->canon) == 0) return SW_LIT_OK;
        snprintf(b->raw, sizeof b->raw, "(binary parameter $%d, %zu bytes)", v.idx + 1, binlen);
        return SW_LIT_INVALID;
    }
    if (sw_value_from_text(t, txt, len, out, b->canon, sizeof b->canon) == 0) return SW_LIT_OK;
    set_raw(b, txt, len);
    return SW_LIT_INVALID;
}

sw_lit_status sw_lit_text(const sw_eval *e, sw_vref v, char *buf, size_t bufsz)
{
    sw_litbuf b;
    b.heap = NULL;
    const char *txt = NULL;
    size_t len = 0;
    const uint8_t *bin;
    size_t binlen = 0;
    sw_lit_status st = text_of(e, v, &b, &txt, &len, &bin, &binlen);
    if (st == SW_LIT_OK && bin) {
        /* binary text/varchar/name are their bytes */
        txt = (const char *)bin;
        len = binlen;
    }
    if (st == SW_LIT_OK) {
        if (len >= bufsz || memchr(txt, '\0', len)) st = SW_LIT_INVALID;
        else {
            memcpy(buf, txt, len);
            buf[len] = '\0';
        }
    }
    sw_litbuf_release(&b);
    return st;
}

/* ---- arrays ---- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int binary_array(const uint8_t *p, size_t n, sw_key_type t, sw_litbuf *b, sw_lit_elem_fn fn,
                        void *ctx)
{
    if (n < 12) return SW_LIT_INVALID;
    int32_t ndim = (int32_t)be32(p);
    if (ndim < 0 || ndim > 6) return SW_LIT_INVALID;
    size_t off = 12;
    uint64_t count = ndim ? 1 : 0;
    for (int d = 0; d < ndim; d++) {
        if (off + 8 > n) return SW_LIT_INVALID;
        int32_t dim = (int32_t)be32(p + off);
        if (dim < 0) return SW_LIT_INVALID;
        count *= (uint64_t)dim;
        off += 8;
    }
    if (count > n) return SW_LIT_INVALID;
    for (uint64_t k = 0; k < count; k++) {
        if (off + 4 > n) return SW_LIT_INVALID;
        int32_t len = (int32_t)be32(p + off);
        off += 4;
        if (len < 0) {
            int rc = fn(ctx, NULL, true, "NULL");
            if (rc) return rc;
            continue;
        }
        if ((size_t)len > n - off) return SW_LIT_INVALID;
        sw_value v;
        if (sw_value_from_binary(t, p + off, (size_t)len, &v, b->canon, sizeof b->canon)) {
            snprintf(b->raw, sizeof b->raw, "(binary array element, %d bytes)", len);
            return SW_LIT_INVALID;
        }
        int rc = fn(ctx, &v, false, NULL);
        if (rc) return rc;
        off += (size_t)len;
    }
    return SW_LIT_OK;
}

/* PostgreSQL's array text form: {a,"b c",NULL,{nested}}, optional
 * "[1:3]=" dimensions in front. */
static int text_array(const char *s, size_t n, sw_key_type t, sw_litbuf *b, sw_lit_elem_fn fn, void *ctx)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)s[i])) i++;
    if (i < n && s[i] == '[') {
        while (i < n && s[i] != '=') i++;
        if (i++ >= n) return SW_LIT_INVALID;
        while (i < n && isspace((unsigned char)s[i])) i++;
    }
    if (i >= n || s[i] != '{') return SW_LIT_INVALID;
    int depth = 0;
    char elem[512];
    for (; i < n;) {
        char c = s[i];
        if (isspace((unsigned char)c) || c == ',') {
            i++;
            continue;
        }
        if (c == '{') {
            depth++;
            i++;
            continue;
        }
        if (c == '}') {
            depth--;
            i++;
            if (depth == 0) break;
            continue;
        }
        if (depth == 0) return SW_LIT_INVALID;
        size_t o = 0;
        bool quoted = c == '"';
        if (quoted) {
            i++;
            while (i < n && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < n) i++;
                if (o + 1 >= sizeof elem) return SW_LIT_UNKNOWN;
                elem[o++] = s[i++];
            }
            if (i >= n) return SW_LIT_INVALID;
            i++;
        } else {
            size_t lastsolid = 0;
            while (i < n && s[i] != ',' && s[i] != '}') {
                bool escaped = false;
                if (s[i] == '\\' && i + 1 < n) i++, escaped = true;
                if (o + 1 >= sizeof elem) return SW_LIT_UNKNOWN;
                if (escaped || !isspace((unsigned char)s[i])) lastsolid = o + 1;
                elem[o++] = s[i++];
            }
            o = lastsolid;
        }
        elem[o] = '\0';
        if (!quoted && o == 4 && strncasecmp(elem, "null", 4) == 0) {
            int rc = fn(ctx, NULL, true, "NULL");
            if (rc) return rc;
            continue;
        }
        sw_value v;
        if (sw_value_from_text(t, elem, o, &v, b->canon, sizeof b->canon)) {
            set_raw(b, elem, o);
            return SW_LIT_INVALID;
        }
        int rc = fn(ctx, &v, false, elem);
        if (rc) return rc;
    }
    return depth == 0 ? SW_LIT_OK : SW_LIT_INVALID;
}

int sw_lit_array(const sw_eval *e, sw_vref v, sw_key_type t, sw_litbuf *b, sw_lit_elem_fn fn, void *ctx)
{
    const char *txt = NULL;
    size_t len = 0;
    const uint8_t *bin;
    size_t binlen = 0;
    b->raw[0] = '\0';
    sw_lit_status st = text_of(e, v, b, &txt, &len, &bin, &binlen);
    if (st == SW_LIT_NULL) return SW_LIT_UNKNOWN;
    if (st != SW_LIT_OK) return st;
    int rc = bin ? binary_array(bin, binlen, t, b, fn, ctx) : text_array(txt, len, t, b, fn, ctx);
    if (rc == SW_LIT_INVALID && b->raw[0] == '\0') {
        if (bin) snprintf(b->raw, sizeof b->raw, "(binary array parameter $%d)", v.idx + 1);
        else set_raw(b, txt, len);
    }
    return rc;
}
