/*
 * fuzz_codec.c - libFuzzer target for the protocol codec (src/proto:
 * codec.c framing, decode.c body decoders, build.c/wbuf.c builders).
 *
 * Feeds: the input as a stream of typed protocol messages, framed with
 * sw_msg_peek exactly as the relay frames a socket's bytes; every framed
 * body goes through every body decoder, whatever its type byte says, since
 * a peer chooses the type too.
 *
 * Asserts (abort() on violation):
 *  - framing: a header is reported only with 5 bytes present, its total is
 *    the length word plus one, at least 5, never over the limit;
 *  - every view a decoder returns lies inside the body, and every string
 *    it returns is NUL-terminated inside the body;
 *  - where a builder exists, decode-then-encode gives back the very bytes
 *    that were decoded (Query, Parse, Describe/Close, ParameterStatus,
 *    BackendKeyData, ReadyForQuery, CommandComplete, Authentication);
 *  - a Bind that decodes accounts for every byte of its body, and each of
 *    its parameters can be read back with a format of 0 or 1;
 *  - an ErrorResponse encoded from decoded fields decodes to the same
 *    fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sw/proto.h"

/* Small, so the length check is exercised by short inputs too. */
#define MAX_TOTAL 4096

/* Shared by all checks of one message: the framed bytes and the body. */
typedef struct msg {
    const uint8_t *wire;   /* type byte onwards */
    size_t total;
    const uint8_t *body;
    size_t len;
} msg;

static void check(int ok)
{
    if (!ok) abort();
}

/* p is a string inside [body, body+len) whose NUL is inside too. */
static void check_str(const msg *m, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    check(p >= m->body && p < m->body + m->len);
    check(memchr(p, 0, (size_t)(m->body + m->len - p)) != NULL);
}

/* [p, p+n) lies inside the body (p may be NULL only when n is 0). */
static void check_span(const msg *m, const uint8_t *p, size_t n)
{
    if (n == 0 && !p) return;
    check(p >= m->body && n <= (size_t)(m->body + m->len - p));
}

/* The builder's output in w must be the decoded message byte for byte,
 * with the type byte the builder chose. */
static void check_same(const msg *m, sw_wbuf *w, uint8_t type)
{
    check(!w->oom);
    check(w->len == m->total);
    check(w->data[0] == type);
    check(memcmp(w->data + 1, m->wire + 1, m->total - 1) == 0);
    sw_wbuf_reset(w);
}

static void fuzz_query(const msg *m, sw_wbuf *w)
{
    sw_query_msg q;
    if (sw_query_decode(m->body, m->len, &q) != 0) return;
    check_str(m, q.sql);
    check(q.len == strlen(q.sql) && q.len + 1 == m->len);
    sw_build_query(w, q.sql, q.len);
    check_same(m, w, SW_FE_QUERY);
}

static void fuzz_parse(const msg *m, sw_wbuf *w)
{
    sw_parse_msg p;
    if (sw_parse_decode(m->body, m->len, &p) != 0) return;
    check_str(m, p.name);
    check_str(m, p.query);
    check(p.query_len == strlen(p.query));
    check_span(m, p.param_types, (size_t)p.nparams * 4);
    sw_build_parse(w, p.name, p.query, p.query_len, p.nparams, p.param_types);
    check_same(m, w, SW_FE_PARSE);
}

/* Parameter i read back through sw_bind_param must be the one found at
 * p by walking the values here. */
static void check_param(const msg *m, const sw_bind_msg *b, int i, const uint8_t *p)
{
    const uint8_t *val;
    int32_t vlen;
    int16_t format;
    check(sw_bind_param(b, m->body + m->len, i, &val, &vlen, &format) == 0);
    /* One format code applies to all parameters, else each has its own. */
    int expect = b->nformats == 0 ? 0 : b->formats[(b->nformats == 1 ? 0 : 2 * i) + 1];
    check(format == expect && (format == 0 || format == 1));
    check(vlen == (int32_t)sw_be32(p));
    check(vlen == -1 ? val == NULL : val == p + 4);
}

/* Every byte of an accepted Bind belongs to exactly one field. */
static void fuzz_bind(const msg *m)
{
    sw_bind_msg b;
    if (sw_bind_decode(m->body, m->len, &b) != 0) return;
    check_str(m, b.portal);
    check_str(m, b.stmt);
    check(b.tail_off == strlen(b.portal) + 1 + strlen(b.stmt) + 1 && b.tail_off <= m->len);
    check_span(m, b.formats, (size_t)b.nformats * 2);
    check_span(m, b.result_formats, (size_t)b.nresult_formats * 2);
    check(b.nformats <= 1 || b.nformats == b.nparams);
    for (int i = 0; i < b.nformats; i++) check(b.formats[2 * i] == 0 && b.formats[2 * i + 1] <= 1);

    /* Walk the values here: linear, where sw_bind_param is O(i) per call,
     * so only a few indexes (first, second, middle, last) are read back. */
    size_t used = b.tail_off + 2 + (size_t)b.nformats * 2 + 2;
    check(b.params == m->body + used);
    const uint8_t *p = b.params;
    int probe[] = {0, 1, b.nparams / 2, b.nparams - 1};
    for (int i = 0; i < b.nparams; i++) {
        check_span(m, p, 4);
        int32_t vlen = (int32_t)sw_be32(p);
        check(vlen >= -1);
        for (size_t k = 0; k < sizeof probe / sizeof probe[0]; k++)
            if (probe[k] == i) check_param(m, &b, i, p);
        size_t n = 4 + (vlen > 0 ? (size_t)vlen : 0);
        check_span(m, p, n);
        p += n;
        used += n;
    }
    used += 2 + (size_t)b.nresult_formats * 2;
    check(used == m->len);
    /* Out-of-range indexes are refused, not read. */
    const uint8_t *val;
    int32_t vlen;
    int16_t format;
    check(sw_bind_param(&b, m->body + m->len, b.nparams, &val, &vlen, &format) == -EBADMSG);
    check(sw_bind_param(&b, m->body + m->len, -1, &val, &vlen, &format) == -EBADMSG);
}

/* Describe and Close share a layout; rebuilt under both type bytes. */
static void fuzz_target(const msg *m, sw_wbuf *w)
{
    sw_target_msg t;
    if (sw_target_decode(m->body, m->len, &t) != 0) return;
    check(t.kind == 'S' || t.kind == 'P');
    check_str(m, t.name);
    check(m->len == 1 + strlen(t.name) + 1);
    sw_build_target(w, SW_FE_DESCRIBE, t.kind, t.name);
    check_same(m, w, SW_FE_DESCRIBE);
    sw_build_target(w, SW_FE_CLOSE, t.kind, t.name);
    check_same(m, w, SW_FE_CLOSE);
}

static void fuzz_execute(const msg *m)
{
    sw_execute_msg e;
    if (sw_execute_decode(m->body, m->len, &e) != 0) return;
    check_str(m, e.portal);
    check(m->len == strlen(e.portal) + 1 + 4);
    check(e.max_rows == (int32_t)sw_be32(m->body + m->len - 4));
}

/* Two field sets agree (both absent, or equal strings). */
static int same_field(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Encode what was decoded, decode that again: the same fields.  Only for
 * bodies carrying what sw_build_error always writes (S, C, M) and with V
 * equal to S, since the builder sends severity as both. */
static void fuzz_error(const msg *m, sw_wbuf *w)
{
    sw_error_fields f;
    if (sw_error_decode(m->body, m->len, &f) != 0) return;
    const char *fields[] = {f.severity, f.severity_v, f.code, f.message, f.detail, f.hint};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i]) check_str(m, fields[i]);
    check(m->body[m->len - 1] == 0);  /* the terminator is the last byte */
    if (!f.severity || !f.code || !f.message || !same_field(f.severity, f.severity_v)) return;

    sw_build_error(w, SW_BE_ERROR, f.severity, f.code, f.message, f.detail, f.hint);
    check(!w->oom && w->len > SW_HDR_LEN);
    sw_error_fields g;
    check(sw_error_decode(w->data + SW_HDR_LEN, w->len - SW_HDR_LEN, &g) == 0);
    check(same_field(f.severity, g.severity) && same_field(f.severity, g.severity_v));
    check(same_field(f.code, g.code) && same_field(f.message, g.message));
    check(same_field(f.detail, g.detail) && same_field(f.hint, g.hint));
    sw_wbuf_reset(w);
}

/* The small backend messages: each has an exact builder. */
static void fuzz_backend(const msg *m, sw_wbuf *w)
{
    const char *name, *value;
    if (sw_param_status_decode(m->body, m->len, &name, &value) == 0) {
        check_str(m, name);
        check_str(m, value);
        sw_build_param_status(w, name, value);
        check_same(m, w, SW_BE_PARAM_STATUS);
    }
    int32_t pid, key;
    if (sw_backend_key_decode(m->body, m->len, &pid, &key) == 0) {
        check(m->len == 8);
        sw_build_backend_key(w, pid, key);
        check_same(m, w, SW_BE_BACKEND_KEY);
    }
    char status;
    if (sw_ready_decode(m->body, m->len, &status) == 0) {
        check(status == 'I' || status == 'T' || status == 'E');
        sw_build_ready(w, status);
        check_same(m, w, SW_BE_READY);
    }
    const char *tag;
    if (sw_command_complete_decode(m->body, m->len, &tag) == 0) {
        check_str(m, tag);
        sw_build_command_complete(w, tag);
        check_same(m, w, SW_BE_COMMAND_COMPLETE);
    }
    int32_t subtype;
    const uint8_t *data;
    size_t dlen;
    if (sw_auth_decode(m->body, m->len, &subtype, &data, &dlen) == 0) {
        check(dlen + 4 == m->len && data == m->body + 4);
        sw_build_auth(w, subtype, data, dlen);
        check_same(m, w, SW_BE_AUTH);
    }
}

/* The header of one framed message, checked against the raw bytes. */
static int frame(const uint8_t *p, size_t avail, sw_msg_hdr *h)
{
    int rc = sw_msg_peek(p, avail, MAX_TOTAL, h);
    check(rc == 1 || rc == 0 || rc == -EBADMSG || rc == -EMSGSIZE);
    if (avail < SW_HDR_LEN) check(rc == 0);
    if (rc != 1) return rc;
    uint32_t word = sw_be32(p + 1);
    check(word >= 4 && (uint64_t)word + 1 <= MAX_TOTAL);
    check(h->total == word + 1 && h->type == p[0]);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    size_t off = 0;
    sw_msg_hdr h;
    while (frame(data + off, size - off, &h) == 1 && h.total <= size - off) {
        /* A copy of exactly the message: ASan then catches any decoder
         * reading one byte past the body. */
        uint8_t *copy = malloc(h.total);
        if (!copy) abort();
        memcpy(copy, data + off, h.total);
        msg m = {.wire = copy, .total = h.total, .body = copy + SW_HDR_LEN, .len = h.total - SW_HDR_LEN};
        fuzz_query(&m, &w);
        fuzz_parse(&m, &w);
        fuzz_bind(&m);
        fuzz_target(&m, &w);
        fuzz_execute(&m);
        fuzz_error(&m, &w);
        fuzz_backend(&m, &w);
        free(copy);
        off += h.total;
    }
    sw_wbuf_free(&w);
    return 0;
}
