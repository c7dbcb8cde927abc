/*
 * test_proto.c - unit tests for the protocol codec (sw_proto).  Every builder
 * is checked byte for byte against vectors written from the protocol
 * documentation, then round-tripped through sw_msg_peek and its decoder.
 * Every decoder is fed each truncation of a valid body, trailing garbage, and
 * many thousands of random and mutated bodies.  Inputs handed to decoders sit
 * in exactly-sized heap blocks so the sanitizer build catches any over-read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sw/proto.h"

#define MAX_TOTAL (1u << 20)

/* ------------------------------------------------------------ helpers */

/* A copy of p[0..n) in a block of exactly n bytes (1 when n is 0). */
static uint8_t *dup_exact(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    assert_non_null(d);
    if (n) memcpy(d, p, n);
    return d;
}

typedef struct msg_view {
    uint8_t type;
    const uint8_t *body;
    size_t len;
} msg_view;

/* Frames the message at *off in w with sw_msg_peek and advances *off. */
static msg_view frame_at(const sw_wbuf *w, size_t *off)
{
    sw_msg_hdr h = {0, 0};
    assert_true(*off < w->len);
    assert_int_equal(sw_msg_peek(w->data + *off, w->len - *off, MAX_TOTAL, &h), 1);
    assert_true(h.total >= SW_HDR_LEN);
    assert_true(h.total <= w->len - *off);
    msg_view m = {h.type, w->data + *off + SW_HDR_LEN, h.total - SW_HDR_LEN};
    *off += h.total;
    return m;
}

/* Frames the one message in w, which must fill it exactly. */
static msg_view frame_only(const sw_wbuf *w)
{
    size_t off = 0;
    msg_view m = frame_at(w, &off);
    assert_int_equal(off, w->len);
    return m;
}

static void assert_wbuf_bytes(const sw_wbuf *w, const void *want, size_t n)
{
    assert_false(w->oom);
    assert_int_equal(w->len, n);
    assert_memory_equal(w->data, want, n);
}

/* s is a NUL-terminated string wholly inside b[0..n). */
static void assert_str_in(const char *s, const uint8_t *b, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    assert_non_null(s);
    assert_true(p >= b && p < b + n);
    assert_non_null(memchr(p, 0, (size_t)(b + n - p)));
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* xorshift64*: deterministic so a failure reproduces. */
static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

/* Bytes skewed towards the values that steer decoders: NULs, 0xff, small ints. */
static uint8_t rnd_byte(void)
{
    uint32_t r = rnd() % 10;
    if (r < 3) return 0;
    if (r < 4) return 0xff;
    if (r < 6) return (uint8_t)(rnd() % 4);
    if (r < 7) return "SPCDVMHITE"[rnd() % 10];
    return (uint8_t)rnd();
}

/* ------------------------------------------------------------ decoder wrappers
 * Uniform signatures for the table-driven tests.  On success each checks that
 * every view it got back lies inside the input. */

typedef int (*decode_fn)(const uint8_t *b, size_t n);

static int dec_query(const uint8_t *b, size_t n)
{
    sw_query_msg m;
    int rc = sw_query_decode(b, n, &m);
    if (rc == 0) {
        assert_ptr_equal(m.sql, b);
        assert_int_equal(m.len, n - 1);
        assert_int_equal(strlen(m.sql), m.len);
    }
    return rc;
}

static int dec_parse(const uint8_t *b, size_t n)
{
    sw_parse_msg m;
    int rc = sw_parse_decode(b, n, &m);
    if (rc == 0) {
        assert_str_in(m.name, b, n);
        assert_str_in(m.query, b, n);
        assert_int_equal(strlen(m.query), m.query_len);
        assert_true(m.nparams >= 0);
        assert_ptr_equal(m.param_types + 4 * (size_t)m.nparams, b + n);
    }
    return rc;
}

static int dec_bind(const uint8_t *b, size_t n)
{
    sw_bind_msg m;
    int rc = sw_bind_decode(b, n, &m);
    if (rc == 0) {
        assert_str_in(m.portal, b, n);
        assert_str_in(m.stmt, b, n);
        assert_int_equal(m.tail_off, strlen(m.portal) + 1 + strlen(m.stmt) + 1);
        assert_true(m.nformats == 0 || m.nformats == 1 || m.nformats == m.nparams);
        for (int i = 0; i < m.nparams; i++) {
            const uint8_t *val = b;
            int32_t vlen = -2;
            int16_t fmt = -1;
            assert_int_equal(sw_bind_param(&m, b + n, i, &val, &vlen, &fmt), 0);
            if (vlen == -1) {
                assert_null(val);
            } else {
                assert_true(vlen >= 0);
                assert_true(val >= b && val + vlen <= b + n);
            }
            assert_true(fmt == 0 || fmt == 1);
        }
        const uint8_t *val;
        int32_t vlen;
        int16_t fmt;
        assert_int_equal(sw_bind_param(&m, b + n, -1, &val, &vlen, &fmt), -EBADMSG);
        assert_int_equal(sw_bind_param(&m, b + n, m.nparams, &val, &vlen, &fmt), -EBADMSG);
        assert_true(m.nresult_formats >= 0);
        assert_ptr_equal(m.result_formats + 2 * (size_t)m.nresult_formats, b + n);
    }
    return rc;
}

static int dec_target(const uint8_t *b, size_t n)
{
    sw_target_msg m;
    int rc = sw_target_decode(b, n, &m);
    if (rc == 0) {
        assert_true(m.kind == 'S' || m.kind == 'P');
        assert_str_in(m.name, b, n);
        assert_ptr_equal((const uint8_t *)m.name + strlen(m.name) + 1, b + n);
    }
    return rc;
}

static int dec_execute(const uint8_t *b, size_t n)
{
    sw_execute_msg m;
    int rc = sw_execute_decode(b, n, &m);
    if (rc == 0) {
        assert_str_in(m.portal, b, n);
        assert_ptr_equal((const uint8_t *)m.portal + strlen(m.portal) + 5, b + n);
    }
    return rc;
}

static int dec_error(const uint8_t *b, size_t n)
{
    sw_error_fields f;
    int rc = sw_error_decode(b, n, &f);
    if (rc == 0) {
        const char *all[] = {f.severity, f.severity_v, f.code, f.message, f.detail, f.hint};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            if (all[i]) assert_str_in(all[i], b, n);
        assert_int_equal(b[n - 1], 0);
    }
    return rc;
}

static int dec_param_status(const uint8_t *b, size_t n)
{
    const char *name, *value;
    int rc = sw_param_status_decode(b, n, &name, &value);
    if (rc == 0) {
        assert_str_in(name, b, n);
        assert_str_in(value, b, n);
        assert_ptr_equal(value + strlen(value) + 1, (const char *)b + n);
    }
    return rc;
}

static int dec_backend_key(const uint8_t *b, size_t n)
{
    int32_t pid, key;
    int rc = sw_backend_key_decode(b, n, &pid, &key);
    if (rc == 0) assert_int_equal(n, 8);
    return rc;
}

static int dec_ready(const uint8_t *b, size_t n)
{
    char st = 0;
    int rc = sw_ready_decode(b, n, &st);
    if (rc == 0) {
        assert_int_equal(n, 1);
        assert_true(st == 'I' || st == 'T' || st == 'E');
    }
    return rc;
}

static int dec_command_complete(const uint8_t *b, size_t n)
{
    const char *tag;
    int rc = sw_command_complete_decode(b, n, &tag);
    if (rc == 0) {
        assert_ptr_equal(tag, b);
        assert_int_equal(strlen(tag), n - 1);
    }
    return rc;
}

static int dec_auth(const uint8_t *b, size_t n)
{
    int32_t sub;
    const uint8_t *data;
    size_t dlen;
    int rc = sw_auth_decode(b, n, &sub, &data, &dlen);
    if (rc == 0) {
        assert_ptr_equal(data, b + 4);
        assert_int_equal(dlen, n - 4);
        assert_int_equal(sub, (int32_t)sw_be32(b));
    }
    return rc;
}

static int dec_startup(const uint8_t *b, size_t n)
{
    sw_startup s;
    int rc = sw_startup_decode(b, n, &s);
    if (rc == 0) {
        assert_int_equal(sw_be32(b), n);
        assert_int_equal(s.code, (int32_t)sw_be32(b + 4));
        assert_true(s.nparams >= 0 && s.nparams <= SW_STARTUP_MAX_PARAMS);
        for (int i = 0; i < s.nparams; i++) {
            assert_str_in(s.keys[i], b, n);
            assert_str_in(s.vals[i], b, n);
            assert_true(s.keys[i][0] != '\0');
        }
        if (s.code == SW_CODE_CANCEL) assert_int_equal(n, 16);
        if (s.code == SW_CODE_SSL || s.code == SW_CODE_GSSENC) assert_int_equal(n, 8);
    } else {
        assert_int_equal(s.nparams, 0);
    }
    return rc;
}

static const struct {
    const char *name;
    decode_fn fn;
} decoders[] = {
    {"query", dec_query},       {"parse", dec_parse},
    {"bind", dec_bind},         {"target", dec_target},
    {"execute", dec_execute},   {"error", dec_error},
    {"param_status", dec_param_status}, {"backend_key", dec_backend_key},
    {"ready", dec_ready},       {"command_complete", dec_command_complete},
    {"auth", dec_auth},         {"startup", dec_startup},
};
#define NDECODERS (sizeof decoders / sizeof decoders[0])

/* Each strict prefix of body must be refused. */
static void check_truncations(decode_fn fn, const uint8_t *body, size_t len)
{
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *c = dup_exact(body, cut);
        if (fn(c, cut) != -EBADMSG) fail_msg("prefix of %zu/%zu bytes accepted", cut, len);
        free(c);
    }
    uint8_t *whole = dup_exact(body, len);
    assert_int_equal(fn(whole, len), 0);
    free(whole);
}

/* body plus one more byte (a NUL, then a letter) must be refused. */
static void check_trailing(decode_fn fn, const uint8_t *body, size_t len)
{
    static const uint8_t extra[] = {0, 'x'};
    for (size_t k = 0; k < sizeof extra; k++) {
        uint8_t *c = malloc(len + 1);
        assert_non_null(c);
        memcpy(c, body, len);
        c[len] = extra[k];
        assert_int_equal(fn(c, len + 1), -EBADMSG);
        free(c);
    }
}

/* A Bind assembled from parts; vlens[i] of -1 sends SQL NULL. */
typedef struct bind_spec {
    const char *portal, *stmt;
    int nformats;
    const int16_t *formats;
    int nparams;
    const char *const *vals;
    const int32_t *vlens;
    int nres;
    const int16_t *res;
} bind_spec;

static void put_bind(sw_wbuf *w, const bind_spec *s)
{
    sw_msg_begin(w, SW_FE_BIND);
    sw_wbuf_cstr(w, s->portal);
    sw_wbuf_cstr(w, s->stmt);
    sw_wbuf_i16(w, (int16_t)s->nformats);
    for (int i = 0; i < s->nformats; i++) sw_wbuf_i16(w, s->formats[i]);
    sw_wbuf_i16(w, (int16_t)s->nparams);
    for (int i = 0; i < s->nparams; i++) {
        sw_wbuf_i32(w, s->vlens[i]);
        if (s->vlens[i] > 0) sw_wbuf_put(w, s->vals[i], (size_t)s->vlens[i]);
    }
    sw_wbuf_i16(w, (int16_t)s->nres);
    for (int i = 0; i < s->nres; i++) sw_wbuf_i16(w, s->res[i]);
    sw_msg_end(w);
}

/* ------------------------------------------------------------ framing */

static void test_msg_peek_needs_header(void **state)
{
    static const uint8_t q[] = "Q\x00\x00\x00\x0dSELECT 1";
    for (size_t avail = 0; avail < SW_HDR_LEN; avail++) {
        sw_msg_hdr h = {0xAA, 0xDEAD};
        assert_int_equal(sw_msg_peek(q, avail, MAX_TOTAL, &h), 0);
        assert_int_equal(h.type, 0xAA);
        assert_int_equal(h.total, 0xDEAD);
    }
    /* Five bytes answer; the body need not be there. */
    for (size_t avail = SW_HDR_LEN; avail <= sizeof q - 1; avail++) {
        sw_msg_hdr h = {0, 0};
        assert_int_equal(sw_msg_peek(q, avail, MAX_TOTAL, &h), 1);
        assert_int_equal(h.type, 'Q');
        assert_int_equal(h.total, 14);
    }
}

static void test_msg_peek_bad_length(void **state)
{
    uint8_t m[5] = {'Z', 0, 0, 0, 0};
    sw_msg_hdr h;
    for (uint8_t l = 0; l < 4; l++) {
        m[4] = l;
        assert_int_equal(sw_msg_peek(m, sizeof m, MAX_TOTAL, &h), -EBADMSG);
    }
    m[4] = 4;
    assert_int_equal(sw_msg_peek(m, sizeof m, MAX_TOTAL, &h), 1);
    assert_int_equal(h.total, 5);
}

static void test_msg_peek_oversized(void **state)
{
    uint8_t m[5] = {'D'};
    sw_msg_hdr h;
    sw_put_be32(m + 1, 99);  /* total 100 */
    assert_int_equal(sw_msg_peek(m, sizeof m, 100, &h), 1);
    assert_int_equal(h.total, 100);
    assert_int_equal(sw_msg_peek(m, sizeof m, 99, &h), -EMSGSIZE);
    sw_put_be32(m + 1, MAX_TOTAL);
    assert_int_equal(sw_msg_peek(m, sizeof m, MAX_TOTAL, &h), -EMSGSIZE);
    /* A length of 0xffffffff must not wrap into a small total. */
    sw_put_be32(m + 1, 0xffffffffu);
    assert_int_equal(sw_msg_peek(m, sizeof m, UINT32_MAX, &h), -EMSGSIZE);
    sw_put_be32(m + 1, 0xfffffffeu);
    assert_int_equal(sw_msg_peek(m, sizeof m, UINT32_MAX, &h), 1);
    assert_int_equal(h.total, 0xffffffffu);
    sw_put_be32(m + 1, 0x80000000u);
    assert_int_equal(sw_msg_peek(m, sizeof m, MAX_TOTAL, &h), -EMSGSIZE);
}

static void test_startup_peek(void **state)
{
    static const uint8_t ssl[] = {0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f};
    sw_msg_hdr h = {0xAA, 0};
    for (size_t avail = 0; avail < 4; avail++) assert_int_equal(sw_startup_peek(ssl, avail, 10000, &h), 0);
    assert_int_equal(h.type, 0xAA);
    assert_int_equal(sw_startup_peek(ssl, 4, 10000, &h), 1);
    assert_int_equal(h.type, 0);
    assert_int_equal(h.total, 8);

    uint8_t l[4];
    for (uint32_t n = 0; n < 8; n++) {
        sw_put_be32(l, n);
        assert_int_equal(sw_startup_peek(l, 4, 10000, &h), -EBADMSG);
    }
    sw_put_be32(l, 10000);
    assert_int_equal(sw_startup_peek(l, 4, 10000, &h), 1);
    assert_int_equal(h.total, 10000);
    sw_put_be32(l, 10001);
    assert_int_equal(sw_startup_peek(l, 4, 10000, &h), -EMSGSIZE);
    sw_put_be32(l, 0xffffffffu);
    assert_int_equal(sw_startup_peek(l, 4, 10000, &h), -EMSGSIZE);
}

/* Messages arriving a byte at a time frame the same as all at once. */
static void test_msg_peek_stream(void **state)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_query(&w, "SELECT 1", 8);
    sw_build_empty(&w, SW_FE_SYNC);
    sw_build_param_status(&w, "TimeZone", "UTC");
    sw_build_ready(&w, 'I');
    sw_build_target(&w, SW_FE_DESCRIBE, 'P', "");
    static const uint8_t want_types[] = {'Q', 'S', 'S', 'Z', 'D'};
    static const uint32_t want_totals[] = {14, 5, 18, 6, 7};

    size_t start = 0, got = 0;
    for (size_t avail = 0; avail <= w.len; avail++) {
        sw_msg_hdr h;
        int rc;
        while ((rc = sw_msg_peek(w.data + start, avail - start, MAX_TOTAL, &h)) == 1 &&
               h.total <= avail - start) {
            assert_int_equal(h.type, want_types[got]);
            assert_int_equal(h.total, want_totals[got]);
            start += h.total;
            got++;
        }
        assert_true(rc == 0 || rc == 1);
        if (rc == 0) assert_true(avail - start < SW_HDR_LEN);
    }
    assert_int_equal(got, 5);
    assert_int_equal(start, w.len);
    sw_wbuf_free(&w);
}

/* ------------------------------------------------------------ wbuf */

static void test_wbuf_init_free(void **state)
{
    sw_wbuf w;
    memset(&w, 0x5a, sizeof w);
    sw_wbuf_init(&w);
    assert_null(w.data);
    assert_int_equal(w.len, 0);
    assert_int_equal(w.cap, 0);
    assert_int_equal(w.msg_start, 0);
    assert_false(w.oom);
    sw_wbuf_free(&w);  /* freeing an empty buffer is fine */
    assert_int_equal(sw_wbuf_reserve(&w, 100), 0);
    assert_non_null(w.data);
    assert_true(w.cap >= 100);
    assert_int_equal(w.len, 0);
    size_t cap = w.cap;
    assert_int_equal(sw_wbuf_reserve(&w, cap), 0);
    assert_int_equal(w.cap, cap);  /* already enough: no growth */
    sw_wbuf_free(&w);
    assert_null(w.data);
    assert_int_equal(w.cap, 0);
}

static void test_wbuf_primitives(void **state)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_wbuf_u8(&w, 0xab);
    sw_wbuf_i16(&w, -2);
    sw_wbuf_i16(&w, 0x1234);
    sw_wbuf_i32(&w, -1);
    sw_wbuf_i32(&w, 0x01020304);
    sw_wbuf_i32(&w, INT32_MIN);
    sw_wbuf_cstr(&w, "hi");
    sw_wbuf_cstr(&w, "");
    sw_wbuf_put(&w, NULL, 0);
    sw_wbuf_put(&w, "xyz", 3);
    static const uint8_t want[] = {0xab, 0xff, 0xfe, 0x12, 0x34, 0xff, 0xff, 0xff, 0xff,
                                   0x01, 0x02, 0x03, 0x04, 0x80, 0x00, 0x00, 0x00,
                                   'h',  'i',  0,    0,    'x',  'y',  'z'};
    assert_wbuf_bytes(&w, want, sizeof want);
    sw_wbuf_free(&w);
}

static void test_wbuf_reset_keeps_capacity(void **state)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_query(&w, "SELECT 1", 8);
    uint8_t *data = w.data;
    size_t cap = w.cap;
    sw_wbuf_reset(&w);
    assert_int_equal(w.len, 0);
    assert_int_equal(w.msg_start, 0);
    assert_ptr_equal(w.data, data);
    assert_int_equal(w.cap, cap);
    sw_build_ready(&w, 'T');
    assert_wbuf_bytes(&w, "Z\x00\x00\x00\x05T", 6);
    sw_wbuf_free(&w);
}

static void test_wbuf_oom(void **state)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_ready(&w, 'I');
    size_t len = w.len;
    assert_int_equal(sw_wbuf_reserve(&w, SIZE_MAX), -ENOMEM);
    assert_true(w.oom);
    assert_int_equal(sw_wbuf_reserve(&w, 1), -ENOMEM);  /* sticky */
    sw_build_error(&w, 'E', "FATAL", "53200", "out of memory", NULL, NULL);
    sw_wbuf_u8(&w, 1);
    sw_msg_end(&w);
    assert_int_equal(w.len, len);
    assert_memory_equal(w.data, "Z\x00\x00\x00\x05I", 6);
    sw_wbuf_reset(&w);
    assert_false(w.oom);
    assert_int_equal(sw_wbuf_reserve(&w, (size_t)PTRDIFF_MAX + 1), -ENOMEM);
    assert_true(w.oom);
    sw_wbuf_reset(&w);
    assert_int_equal(sw_wbuf_reserve(&w, SIZE_MAX / 2 + 1), -ENOMEM);
    sw_wbuf_reset(&w);
    sw_build_ready(&w, 'E');
    assert_wbuf_bytes(&w, "Z\x00\x00\x00\x05" "E", 6);
    sw_wbuf_free(&w);
}

/* Many messages: capacity only ever doubles and every message frames back. */
static void test_wbuf_growth(void **state)
{
    enum { N = 20000 };
    sw_wbuf w;
    sw_wbuf_init(&w);
    size_t cap = 0;
    int grows = 0;
    char text[64];
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof text, "SELECT %d", i);
        switch (i % 4) {
        case 0: sw_build_query(&w, text, strlen(text)); break;
        case 1: sw_build_command_complete(&w, text); break;
        case 2: sw_build_backend_key(&w, i, -i); break;
        default: sw_build_empty(&w, SW_FE_SYNC); break;
        }
        assert_false(w.oom);
        assert_true(w.len <= w.cap);
        if (w.cap != cap) {
            if (cap) assert_int_equal(w.cap, cap * 2);
            cap = w.cap;
            grows++;
        }
    }
    assert_true(grows > 8);

    size_t off = 0;
    for (int i = 0; i < N; i++) {
        msg_view m = frame_at(&w, &off);
        snprintf(text, sizeof text, "SELECT %d", i);
        switch (i % 4) {
        case 0: {
            sw_query_msg q;
            assert_int_equal(m.type, 'Q');
            assert_int_equal(sw_query_decode(m.body, m.len, &q), 0);
            assert_string_equal(q.sql, text);
            break;
        }
        case 1: {
            const char *tag;
            assert_int_equal(m.type, 'C');
            assert_int_equal(sw_command_complete_decode(m.body, m.len, &tag), 0);
            assert_string_equal(tag, text);
            break;
        }
        case 2: {
            int32_t pid, key;
            assert_int_equal(m.type, 'K');
            assert_int_equal(sw_backend_key_decode(m.body, m.len, &pid, &key), 0);
            assert_int_equal(pid, i);
            assert_int_equal(key, -i);
            break;
        }
        default:
            assert_int_equal(m.type, 'S');
            assert_int_equal(m.len, 0);
        }
    }
    assert_int_equal(off, w.len);
    sw_wbuf_free(&w);
}

static void test_msg_begin_end(void **state)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_msg_begin(&w, 0);
    assert_int_equal(w.len, 4);  /* untyped: only the length placeholder */
    sw_wbuf_i32(&w, 7);
    sw_msg_end(&w);
    assert_wbuf_bytes(&w, "\x00\x00\x00\x08\x00\x00\x00\x07", 8);

    sw_wbuf_reset(&w);
    sw_build_ready(&w, 'I');
    sw_msg_begin(&w, 'C');
    assert_int_equal(w.len, 6 + 5);
    assert_int_equal(w.data[6], 'C');
    sw_wbuf_cstr(&w, "OK");
    sw_msg_end(&w);
    assert_wbuf_bytes(&w, "Z\x00\x00\x00\x05I" "C\x00\x00\x00\x07OK", 14);
    sw_wbuf_free(&w);
}

static void test_msg_header(void **state)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_msg_header(&w, 'B', 10);
    assert_wbuf_bytes(&w, "B\x00\x00\x00\x0e", 5);
    sw_wbuf_reset(&w);
    sw_msg_header(&w, 'd', 0);
    assert_wbuf_bytes(&w, "d\x00\x00\x00\x04", 5);
    sw_wbuf_reset(&w);
    sw_msg_header(&w, 'd', 0x12345);
    assert_wbuf_bytes(&w, "d\x00\x01\x23\x49", 5);
    sw_wbuf_free(&w);
}

/* ------------------------------------------------------------ startup */

/* StartupMessage user=postgres database=mydb, byte for byte. */
static const uint8_t startup_vec[] =
    "\x00\x00\x00\x25" "\x00\x03\x00\x00"
    "user\0" "postgres\0" "database\0" "mydb\0" "";
#define STARTUP_VEC_LEN 37

static void test_startup_vector(void **state)
{
    assert_int_equal(sizeof startup_vec, STARTUP_VEC_LEN);  /* literal adds the terminator */
    sw_wbuf w;
    sw_wbuf_init(&w);
    const char *const kv[] = {"user", "postgres", "database", "mydb", NULL};
    sw_build_startup(&w, kv);
    assert_wbuf_bytes(&w, startup_vec, STARTUP_VEC_LEN);

    sw_msg_hdr h;
    assert_int_equal(sw_startup_peek(w.data, w.len, 10000, &h), 1);
    assert_int_equal(h.total, STARTUP_VEC_LEN);
    sw_startup s;
    assert_int_equal(sw_startup_decode(startup_vec, STARTUP_VEC_LEN, &s), 0);
    assert_int_equal(s.code, SW_PROTO_V3);
    assert_int_equal(s.nparams, 2);
    assert_string_equal(s.keys[0], "user");
    assert_string_equal(s.vals[0], "postgres");
    assert_string_equal(s.keys[1], "database");
    assert_string_equal(s.vals[1], "mydb");
    assert_ptr_equal(s.keys[0], (const char *)startup_vec + 8);
    sw_wbuf_free(&w);
}

static void test_startup_roundtrip(void **state)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    const char *const kv[] = {"user", "alice", "database", "shop", "application_name", "",
                              "options", "-c search_path=app", NULL};
    sw_build_startup(&w, kv);
    sw_msg_hdr h;
    assert_int_equal(sw_startup_peek(w.data, w.len, 10000, &h), 1);
    assert_int_equal(h.total, w.len);
    assert_int_equal(dec_startup(w.data, w.len), 0);

    sw_startup s;
    assert_int_equal(sw_startup_decode(w.data, w.len, &s), 0);
    assert_int_equal(s.code, SW_PROTO_V3);
    assert_int_equal(s.nparams, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(s.keys[i], kv[2 * i]);
        assert_string_equal(s.vals[i], kv[2 * i + 1]);
    }
    assert_string_equal(sw_startup_get(&s, "database"), "shop");
    assert_string_equal(sw_startup_get(&s, "application_name"), "");
    assert_string_equal(sw_startup_get(&s, "options"), "-c search_path=app");
    assert_null(sw_startup_get(&s, "User"));
    assert_null(sw_startup_get(&s, "use"));
    assert_null(sw_startup_get(&s, "replication"));

    /* No parameters at all, and a dangling key that the builder drops. */
    static const uint8_t empty[] = {0, 0, 0, 9, 0, 3, 0, 0, 0};
    sw_wbuf_reset(&w);
    sw_build_startup(&w, NULL);
    assert_wbuf_bytes(&w, empty, sizeof empty);
    sw_wbuf_reset(&w);
    const char *const none[] = {NULL};
    sw_build_startup(&w, none);
    assert_wbuf_bytes(&w, empty, sizeof empty);
    assert_int_equal(sw_startup_decode(w.data, w.len, &s), 0);
    assert_int_equal(s.nparams, 0);
    assert_null(sw_startup_get(&s, "user"));
    sw_wbuf_reset(&w);
    const char *const odd[] = {"user", "bob", "database", NULL};
    sw_build_startup(&w, odd);
    assert_int_equal(sw_startup_decode(w.data, w.len, &s), 0);
    assert_int_equal(s.nparams, 1);
    assert_string_equal(sw_startup_get(&s, "user"), "bob");
    assert_null(sw_startup_get(&s, "database"));
    sw_wbuf_free(&w);
}

/* The last startup_raw packet, kept alive because *s points into it. */
static uint8_t *raw_pkt;

static void startup_raw_done(void)
{
    free(raw_pkt);
    raw_pkt = NULL;
}

/* A startup packet with the given code and payload; returns the decode result. */
static int startup_raw(int32_t code, const void *payload, size_t plen, sw_startup *s)
{
    size_t len = 8 + plen;
    startup_raw_done();
    uint8_t *p = raw_pkt = malloc(len);
    assert_non_null(p);
    sw_put_be32(p, (uint32_t)len);
    sw_put_be32(p + 4, (uint32_t)code);
    if (plen) memcpy(p + 8, payload, plen);
    int rc = sw_startup_decode(p, len, s);
    if (rc == 0) assert_int_equal(dec_startup(p, len), 0);
    return rc;
}
#define RAW(s) s, sizeof(s) - 1

static void test_startup_ssl_gssenc(void **state)
{
    static const uint8_t ssl[] = {0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f};
    static const uint8_t gss[] = {0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x30};
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_ssl_request(&w);
    assert_wbuf_bytes(&w, ssl, sizeof ssl);
    sw_wbuf_free(&w);

    sw_startup s;
    assert_int_equal(sw_startup_decode(ssl, sizeof ssl, &s), 0);
    assert_int_equal(s.code, SW_CODE_SSL);
    assert_int_equal(s.nparams, 0);
    assert_int_equal(sw_startup_decode(gss, sizeof gss, &s), 0);
    assert_int_equal(s.code, SW_CODE_GSSENC);
    assert_int_equal(s.nparams, 0);
    /* These carry nothing after the code. */
    assert_int_equal(startup_raw(SW_CODE_SSL, RAW("\0\0\0\0"), &s), -EBADMSG);
    assert_int_equal(startup_raw(SW_CODE_GSSENC, RAW("\0"), &s), -EBADMSG);
    startup_raw_done();
}

static void test_startup_cancel(void **state)
{
    static const uint8_t want[] = {0x00, 0x00, 0x00, 0x10, 0x04, 0xd2, 0x16, 0x2e,
                                   0x00, 0x00, 0x30, 0x39, 0xde, 0xad, 0xbe, 0xef};
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_cancel(&w, 12345, (int32_t)0xdeadbeef);
    assert_wbuf_bytes(&w, want, sizeof want);
    sw_msg_hdr h;
    assert_int_equal(sw_startup_peek(w.data, w.len, 10000, &h), 1);
    assert_int_equal(h.total, 16);
    sw_wbuf_free(&w);

    sw_startup s;
    assert_int_equal(sw_startup_decode(want, sizeof want, &s), 0);
    assert_int_equal(s.code, SW_CODE_CANCEL);
    assert_int_equal(s.cancel_pid, 12345);
    assert_int_equal(s.cancel_key, (int32_t)0xdeadbeef);
    assert_int_equal(s.nparams, 0);

    assert_int_equal(startup_raw(SW_CODE_CANCEL, RAW("\0\0\0\1"), &s), -EBADMSG);
    assert_int_equal(startup_raw(SW_CODE_CANCEL, RAW("\0\0\0\1\0\0\0\2\0"), &s), -EBADMSG);
    assert_int_equal(startup_raw(SW_CODE_CANCEL, RAW(""), &s), -EBADMSG);
    check_truncations(dec_startup, want, sizeof want);
    startup_raw_done();
}

static void test_startup_bad_layout(void **state)
{
    sw_startup s;
    /* Key without value, missing final terminator, trailing bytes after it. */
    assert_int_equal(startup_raw(SW_PROTO_V3, RAW("user\0alice\0database\0"), &s), -EBADMSG);
    assert_int_equal(startup_raw(SW_PROTO_V3, RAW("user\0alice\0database"), &s), -EBADMSG);
    assert_int_equal(startup_raw(SW_PROTO_V3, RAW("user\0alice\0"), &s), -EBADMSG);
    assert_int_equal(startup_raw(SW_PROTO_V3, RAW("user\0alice"), &s), -EBADMSG);
    assert_int_equal(startup_raw(SW_PROTO_V3, RAW("user"), &s), -EBADMSG);
    assert_int_equal(startup_raw(SW_PROTO_V3, RAW(""), &s), -EBADMSG);
    assert_int_equal(startup_raw(SW_PROTO_V3, RAW("user\0alice\0\0x"), &s), -EBADMSG);
    assert_int_equal(startup_raw(SW_PROTO_V3, RAW("user\0alice\0\0\0"), &s), -EBADMSG);
    assert_int_equal(startup_raw(SW_PROTO_V3, RAW("\0\0"), &s), -EBADMSG);
    assert_int_equal(s.nparams, 0);
    /* Good neighbours of the above. */
    assert_int_equal(startup_raw(SW_PROTO_V3, RAW("user\0alice\0\0"), &s), 0);
    assert_int_equal(s.nparams, 1);
    assert_int_equal(startup_raw(SW_PROTO_V3, RAW("user\0\0\0"), &s), 0);
    assert_int_equal(s.nparams, 1);
    assert_string_equal(s.vals[0], "");
    assert_int_equal(startup_raw(SW_PROTO_V3, RAW("\0"), &s), 0);
    assert_int_equal(s.nparams, 0);
    /* Any 3.x minor uses the same layout. */
    assert_int_equal(startup_raw(SW_PROTO_V3 + 2, RAW("user\0alice\0\0"), &s), 0);
    assert_int_equal(s.code, SW_PROTO_V3 + 2);
    assert_string_equal(sw_startup_get(&s, "user"), "alice");
    assert_int_equal(startup_raw(SW_PROTO_V3 + 2, RAW("user\0"), &s), -EBADMSG);

    /* The length word must match the packet and be at least 8. */
    uint8_t p[STARTUP_VEC_LEN + 1];
    memcpy(p, startup_vec, STARTUP_VEC_LEN);
    p[STARTUP_VEC_LEN] = 0;
    assert_int_equal(sw_startup_decode(p, STARTUP_VEC_LEN + 1, &s), -EBADMSG);
    assert_int_equal(sw_startup_decode(p, STARTUP_VEC_LEN - 1, &s), -EBADMSG);
    static const uint8_t shortp[] = {0, 0, 0, 4, 0, 3, 0, 0};
    assert_int_equal(sw_startup_decode(shortp, 4, &s), -EBADMSG);
    assert_int_equal(sw_startup_decode(shortp, 0, &s), -EBADMSG);
    startup_raw_done();
}

static void test_startup_max_params(void **state)
{
    enum { N = SW_STARTUP_MAX_PARAMS + 1 };
    char keys[N][16], vals[N][16];
    const char *kv[2 * N + 1];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        snprintf(vals[i], sizeof vals[i], "v%d", i);
        kv[2 * i] = keys[i];
        kv[2 * i + 1] = vals[i];
    }
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_startup s;

    kv[2 * SW_STARTUP_MAX_PARAMS] = NULL;
    sw_build_startup(&w, kv);
    assert_int_equal(sw_startup_decode(w.data, w.len, &s), 0);
    assert_int_equal(s.nparams, SW_STARTUP_MAX_PARAMS);
    assert_string_equal(s.keys[SW_STARTUP_MAX_PARAMS - 1], "k63");
    assert_string_equal(sw_startup_get(&s, "k63"), "v63");
    assert_string_equal(sw_startup_get(&s, "k0"), "v0");

    sw_wbuf_reset(&w);
    kv[2 * SW_STARTUP_MAX_PARAMS] = keys[SW_STARTUP_MAX_PARAMS];
    kv[2 * N] = NULL;
    sw_build_startup(&w, kv);
    assert_int_equal(sw_startup_decode(w.data, w.len, &s), -EBADMSG);
    assert_int_equal(s.nparams, 0);
    sw_wbuf_free(&w);
}

static void test_startup_unknown_version(void **state)
{
    sw_startup s;
    /* 2.0: the caller refuses it; the decoder only reports the code. */
    assert_int_equal(startup_raw(0x00020000, RAW("whatever\0garbage"), &s), 0);
    assert_int_equal(s.code, 0x00020000);
    assert_int_equal(s.nparams, 0);
    assert_int_equal(startup_raw(0x00040000, RAW("user\0x\0\0"), &s), 0);
    assert_int_equal(s.code, 0x00040000);
    assert_int_equal(s.nparams, 0);
    assert_int_equal(startup_raw(80877105, RAW(""), &s), 0);
    assert_int_equal(s.code, 80877105);
    assert_int_equal(startup_raw(-1, RAW("\xff"), &s), 0);
    assert_int_equal(s.code, -1);
    assert_null(sw_startup_get(&s, "user"));
    startup_raw_done();
}

/* Every cut of a v3 packet, with its length word patched to match. */
static void test_startup_truncated(void **state)
{
    check_truncations(dec_startup, startup_vec, STARTUP_VEC_LEN);
    for (size_t cut = 8; cut < STARTUP_VEC_LEN; cut++) {
        uint8_t *p = dup_exact(startup_vec, cut);
        sw_put_be32(p, (uint32_t)cut);
        sw_startup s;
        int rc = sw_startup_decode(p, cut, &s);
        free(p);
        if (rc != -EBADMSG) fail_msg("v3 packet cut to %zu accepted", cut);
    }
}

/* ------------------------------------------------------------ Query */

static void test_query(void **state)
{
    static const uint8_t vec[] = "Q\x00\x00\x00\x0dSELECT 1";
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_query(&w, "SELECT 1; trailing ignored", 8);
    assert_wbuf_bytes(&w, vec, sizeof vec);
    msg_view m = frame_only(&w);
    assert_int_equal(m.type, SW_FE_QUERY);
    sw_query_msg q;
    assert_int_equal(sw_query_decode(m.body, m.len, &q), 0);
    assert_int_equal(q.len, 8);
    assert_string_equal(q.sql, "SELECT 1");
    check_truncations(dec_query, m.body, m.len);
    check_trailing(dec_query, m.body, m.len);

    sw_wbuf_reset(&w);
    sw_build_query(&w, "", 0);
    assert_wbuf_bytes(&w, "Q\x00\x00\x00\x05", 6);
    m = frame_only(&w);
    assert_int_equal(sw_query_decode(m.body, m.len, &q), 0);
    assert_int_equal(q.len, 0);
    assert_string_equal(q.sql, "");
    sw_wbuf_free(&w);

    /* An embedded NUL would hide the rest of the body from string users. */
    assert_int_equal(sw_query_decode((const uint8_t *)"SELECT\0 1", 10, &q), -EBADMSG);
    assert_int_equal(sw_query_decode((const uint8_t *)"SELECT 1", 8, &q), -EBADMSG);
}

/* ------------------------------------------------------------ Parse */

static void test_parse_vector(void **state)
{
    static const uint8_t vec[] = "P\x00\x00\x00\x17" "s1\0" "SELECT $1\0" "\x00\x01" "\x00\x00\x00\x17";
    static const uint8_t oid[] = {0, 0, 0, 23};
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_parse(&w, "s1", "SELECT $1", 9, 1, oid);
    assert_wbuf_bytes(&w, vec, sizeof vec - 1);
    msg_view m = frame_only(&w);
    assert_int_equal(m.type, SW_FE_PARSE);
    sw_parse_msg p;
    assert_int_equal(sw_parse_decode(m.body, m.len, &p), 0);
    assert_string_equal(p.name, "s1");
    assert_string_equal(p.query, "SELECT $1");
    assert_int_equal(p.query_len, 9);
    assert_int_equal(p.nparams, 1);
    assert_int_equal(sw_be32(p.param_types), 23);
    check_truncations(dec_parse, m.body, m.len);
    check_trailing(dec_parse, m.body, m.len);
    sw_wbuf_free(&w);
}

static void test_parse_roundtrip(void **state)
{
    uint8_t oids[4 * 3];
    sw_put_be32(oids, 23);
    sw_put_be32(oids + 4, 0);  /* unspecified */
    sw_put_be32(oids + 8, 3802);
    sw_wbuf w;
    sw_wbuf_init(&w);
    static const char sql[] = "INSERT INTO t VALUES ($1, $2, $3)";
    sw_build_parse(&w, "", sql, sizeof sql - 1, 3, oids);
    sw_build_parse(&w, "unnamed_no_types", "SELECT 1", 8, 0, NULL);
    size_t off = 0;
    msg_view m = frame_at(&w, &off);
    sw_parse_msg p;
    assert_int_equal(sw_parse_decode(m.body, m.len, &p), 0);
    assert_string_equal(p.name, "");
    assert_string_equal(p.query, sql);
    assert_int_equal(p.query_len, sizeof sql - 1);
    assert_int_equal(p.nparams, 3);
    assert_memory_equal(p.param_types, oids, sizeof oids);
    check_truncations(dec_parse, m.body, m.len);
    check_trailing(dec_parse, m.body, m.len);

    m = frame_at(&w, &off);
    assert_int_equal(m.len, strlen("unnamed_no_types") + 1 + 9 + 2);
    assert_int_equal(sw_parse_decode(m.body, m.len, &p), 0);
    assert_string_equal(p.name, "unnamed_no_types");
    assert_int_equal(p.nparams, 0);
    assert_ptr_equal(p.param_types, m.body + m.len);
    check_truncations(dec_parse, m.body, m.len);
    sw_wbuf_free(&w);

    /* Counts are unsigned: 0xffff claims 65535 OIDs that are not there, as
     * does a count of 2 with one OID. */
    static const uint8_t neg[] = "s\0q\0\xff\xff";
    assert_int_equal(sw_parse_decode(neg, sizeof neg - 1, &p), -EBADMSG);
    static const uint8_t more[] = "s\0q\0\x00\x02\x00\x00\x00\x17";
    assert_int_equal(sw_parse_decode(more, sizeof more - 1, &p), -EBADMSG);

    /* PostgreSQL reads the count as unsigned 16-bit: 40000 types decode. */
    sw_wbuf big;
    sw_wbuf_init(&big);
    sw_wbuf_put(&big, "s\0q\0", 4);
    sw_wbuf_i16(&big, (int16_t)40000);
    for (int i = 0; i < 40000; i++) sw_wbuf_i32(&big, 23);
    assert_int_equal(sw_parse_decode(big.data, big.len, &p), 0);
    assert_int_equal(p.nparams, 40000);
    assert_ptr_equal(p.param_types + 4 * 40000, big.data + big.len);
    sw_wbuf_free(&big);
}

/* ------------------------------------------------------------ Bind */

/* From the docs' layout: unnamed portal, statement s1, one binary format
 * code for both parameters, int4 42 and a NULL, no result formats. */
static const uint8_t bind_vec[] = "B\x00\x00\x00\x1c" "\0" "s1\0" "\x00\x01\x00\x01" "\x00\x02"
                                  "\x00\x00\x00\x04\x00\x00\x00\x2a" "\xff\xff\xff\xff" "\x00\x00";
#define BIND_VEC_LEN 29

static void test_bind_vector(void **state)
{
    assert_int_equal(sizeof bind_vec - 1, BIND_VEC_LEN);
    sw_wbuf w;
    sw_wbuf_init(&w);
    static const int16_t fmt[] = {1};
    static const char *const vals[] = {"\x00\x00\x00\x2a", NULL};
    static const int32_t vlens[] = {4, -1};
    bind_spec s = {"", "s1", 1, fmt, 2, vals, vlens, 0, NULL};
    put_bind(&w, &s);
    assert_wbuf_bytes(&w, bind_vec, BIND_VEC_LEN);

    msg_view m = frame_only(&w);
    assert_int_equal(m.type, SW_FE_BIND);
    sw_bind_msg b;
    assert_int_equal(sw_bind_decode(m.body, m.len, &b), 0);
    assert_string_equal(b.portal, "");
    assert_string_equal(b.stmt, "s1");
    assert_int_equal(b.tail_off, 4);
    assert_int_equal(b.nformats, 1);
    assert_int_equal(b.nparams, 2);
    assert_ptr_equal(b.params, m.body + 10);
    assert_int_equal(b.nresult_formats, 0);

    const uint8_t *val;
    int32_t vlen;
    int16_t f;
    assert_int_equal(sw_bind_param(&b, m.body + m.len, 0, &val, &vlen, &f), 0);
    assert_int_equal(vlen, 4);
    assert_int_equal(sw_be32(val), 42);
    assert_int_equal(f, 1);
    assert_int_equal(sw_bind_param(&b, m.body + m.len, 1, &val, &vlen, &f), 0);
    assert_null(val);
    assert_int_equal(vlen, -1);
    assert_int_equal(f, 1);
    assert_int_equal(sw_bind_param(&b, m.body + m.len, 2, &val, &vlen, &f), -EBADMSG);
    check_truncations(dec_bind, m.body, m.len);
    check_trailing(dec_bind, m.body, m.len);
    sw_wbuf_free(&w);
}

/* Per-parameter formats, text and binary values, NULL and empty values. */
static void test_bind_mixed(void **state)
{
    static const int16_t fmts[] = {0, 1, 0, 1};
    static const char *const vals[] = {"hello", "\x00\x00\x00\x00\x00\x00\x01\x00", NULL, ""};
    static const int32_t vlens[] = {5, 8, -1, 0};
    static const int16_t res[] = {1, 0, 1};
    bind_spec s = {"portal_a", "stmt_b", 4, fmts, 4, vals, vlens, 3, res};
    sw_wbuf w;
    sw_wbuf_init(&w);
    put_bind(&w, &s);
    msg_view m = frame_only(&w);
    sw_bind_msg b;
    assert_int_equal(sw_bind_decode(m.body, m.len, &b), 0);
    assert_string_equal(b.portal, "portal_a");
    assert_string_equal(b.stmt, "stmt_b");
    assert_int_equal(b.tail_off, 9 + 7);
    assert_int_equal(b.nformats, 4);
    assert_int_equal(b.nparams, 4);
    assert_int_equal(b.nresult_formats, 3);
    for (int i = 0; i < 3; i++) assert_int_equal(rd16(b.result_formats + 2 * i), res[i]);
    for (int i = 0; i < 4; i++) {
        const uint8_t *val;
        int32_t vlen;
        int16_t f;
        assert_int_equal(sw_bind_param(&b, m.body + m.len, i, &val, &vlen, &f), 0);
        assert_int_equal(vlen, vlens[i]);
        assert_int_equal(f, fmts[i]);
        if (vlens[i] < 0) {
            assert_null(val);
        } else {
            assert_non_null(val);
            if (vlens[i]) assert_memory_equal(val, vals[i], (size_t)vlens[i]);
        }
    }
    check_truncations(dec_bind, m.body, m.len);
    check_trailing(dec_bind, m.body, m.len);

    /* No format codes: every parameter is text. */
    sw_wbuf_reset(&w);
    static const char *const tv[] = {"1", "two"};
    static const int32_t tl[] = {1, 3};
    bind_spec t = {"", "", 0, NULL, 2, tv, tl, 0, NULL};
    put_bind(&w, &t);
    m = frame_only(&w);
    assert_int_equal(sw_bind_decode(m.body, m.len, &b), 0);
    assert_int_equal(b.tail_off, 2);
    for (int i = 0; i < 2; i++) {
        const uint8_t *val;
        int32_t vlen;
        int16_t f = 9;
        assert_int_equal(sw_bind_param(&b, m.body + m.len, i, &val, &vlen, &f), 0);
        assert_int_equal(f, 0);
        assert_int_equal(vlen, tl[i]);
        assert_memory_equal(val, tv[i], (size_t)tl[i]);
    }
    check_truncations(dec_bind, m.body, m.len);

    /* No parameters at all, with one format code (which applies to none). */
    sw_wbuf_reset(&w);
    static const int16_t one[] = {1};
    bind_spec e = {"", "s", 1, one, 0, NULL, NULL, 1, one};
    put_bind(&w, &e);
    m = frame_only(&w);
    assert_int_equal(sw_bind_decode(m.body, m.len, &b), 0);
    assert_int_equal(b.nparams, 0);
    check_truncations(dec_bind, m.body, m.len);
    sw_wbuf_free(&w);
}

/* A Bind body from raw parts (no framing), decoded. */
static int bind_raw(int16_t nformats, const int16_t *formats, int nf_written, int16_t nparams,
                    const int32_t *vlens, int nv_written, int16_t nres)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_wbuf_cstr(&w, "p");
    sw_wbuf_cstr(&w, "s");
    sw_wbuf_i16(&w, nformats);
    for (int i = 0; i < nf_written; i++) sw_wbuf_i16(&w, formats[i]);
    sw_wbuf_i16(&w, nparams);
    for (int i = 0; i < nv_written; i++) {
        sw_wbuf_i32(&w, vlens[i]);
        for (int k = 0; k < vlens[i] && k < 16; k++) sw_wbuf_u8(&w, 'v');
    }
    sw_wbuf_i16(&w, nres);
    for (int i = 0; i < nres; i++) sw_wbuf_i16(&w, 0);
    uint8_t *body = dup_exact(w.data, w.len);
    int rc = dec_bind(body, w.len);
    free(body);
    sw_wbuf_free(&w);
    return rc;
}

static void test_bind_invalid(void **state)
{
    static const int16_t f01[] = {0, 1, 0};
    static const int32_t v[] = {1, 2, 3};
    assert_int_equal(bind_raw(3, f01, 3, 3, v, 3, 0), 0);  /* the valid baseline */
    assert_int_equal(bind_raw(2, f01, 2, 3, v, 3, 0), -EBADMSG);   /* nformats not 0/1/nparams */
    assert_int_equal(bind_raw(-1, f01, 0, 3, v, 3, 0), -EBADMSG);  /* 65535 counted, none present */
    assert_int_equal(bind_raw(0, f01, 0, -1, v, 0, 0), -EBADMSG);
    assert_int_equal(bind_raw(0, f01, 0, 3, v, 3, -1), -EBADMSG);
    assert_int_equal(bind_raw(0, f01, 0, 4, v, 3, 0), -EBADMSG);   /* fewer params than counted */
    static const int32_t nulls[] = {-1, 0, -1};
    assert_int_equal(bind_raw(1, f01, 1, 3, nulls, 3, 0), 0);
    static const int32_t bad[] = {1, -2, 3};
    assert_int_equal(bind_raw(0, f01, 0, 3, bad, 3, 0), -EBADMSG); /* length < -1 */
    static const int32_t huge[] = {0x7fffffff};
    assert_int_equal(bind_raw(0, f01, 0, 1, huge, 1, 0), -EBADMSG);
    static const int16_t f2[] = {2};
    assert_int_equal(bind_raw(1, f2, 1, 3, v, 3, 0), -EBADMSG);    /* unknown format code */
    /* 40000 parameters (PostgreSQL accepts up to 65535): counts are unsigned. */
    {
        sw_wbuf bw;
        sw_wbuf_init(&bw);
        sw_wbuf_put(&bw, "\0s\0", 3);
        sw_wbuf_i16(&bw, 0);
        sw_wbuf_i16(&bw, (int16_t)40000);
        for (int i = 0; i < 40000; i++) sw_wbuf_i32(&bw, -1);
        sw_wbuf_i16(&bw, 0);
        sw_bind_msg bm;
        assert_int_equal(sw_bind_decode(bw.data, bw.len, &bm), 0);
        assert_int_equal(bm.nparams, 40000);
        const uint8_t *val;
        int32_t vlen;
        int16_t fmt;
        assert_int_equal(sw_bind_param(&bm, bw.data + bw.len, 39999, &val, &vlen, &fmt), 0);
        assert_int_equal(vlen, -1);
        sw_wbuf_free(&bw);
    }
    static const int16_t fneg[] = {-1};
    assert_int_equal(bind_raw(1, fneg, 1, 3, v, 3, 0), -EBADMSG);

    /* Missing names. */
    sw_bind_msg b;
    assert_int_equal(sw_bind_decode((const uint8_t *)"p", 1, &b), -EBADMSG);
    assert_int_equal(sw_bind_decode((const uint8_t *)"p\0s", 3, &b), -EBADMSG);
}

/* Renaming a Bind: new names in a fresh header, the tail forwarded as is. */
static void test_bind_rename_tail(void **state)
{
    const uint8_t *body = bind_vec + SW_HDR_LEN;
    size_t blen = BIND_VEC_LEN - SW_HDR_LEN;
    sw_bind_msg b;
    assert_int_equal(sw_bind_decode(body, blen, &b), 0);
    const char *portal = "sw_p7", *stmt = "sw_s42";
    size_t tail = blen - b.tail_off;

    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_msg_header(&w, SW_FE_BIND, strlen(portal) + 1 + strlen(stmt) + 1 + tail);
    sw_wbuf_cstr(&w, portal);
    sw_wbuf_cstr(&w, stmt);
    sw_wbuf_put(&w, body + b.tail_off, tail);
    msg_view m = frame_only(&w);
    sw_bind_msg r;
    assert_int_equal(sw_bind_decode(m.body, m.len, &r), 0);
    assert_string_equal(r.portal, portal);
    assert_string_equal(r.stmt, stmt);
    assert_int_equal(r.nparams, 2);
    assert_memory_equal(m.body + r.tail_off, body + b.tail_off, tail);
    const uint8_t *val;
    int32_t vlen;
    int16_t f;
    assert_int_equal(sw_bind_param(&r, m.body + m.len, 0, &val, &vlen, &f), 0);
    assert_int_equal(sw_be32(val), 42);
    sw_wbuf_free(&w);
}

/* sw_bind_param stays inside body_end even when handed a shorter one. */
static void test_bind_param_bounds(void **state)
{
    uint8_t *body = dup_exact(bind_vec + SW_HDR_LEN, BIND_VEC_LEN - SW_HDR_LEN);
    size_t blen = BIND_VEC_LEN - SW_HDR_LEN;
    sw_bind_msg b;
    assert_int_equal(sw_bind_decode(body, blen, &b), 0);
    const uint8_t *val;
    int32_t vlen;
    int16_t f;
    /* Param 0 occupies params[0..8), param 1 params[8..12). */
    size_t p0 = (size_t)(b.params - body);
    assert_int_equal(sw_bind_param(&b, body + p0 + 7, 0, &val, &vlen, &f), -EBADMSG);
    assert_int_equal(sw_bind_param(&b, body + p0 + 8, 0, &val, &vlen, &f), 0);
    assert_int_equal(sw_bind_param(&b, body + p0 + 11, 1, &val, &vlen, &f), -EBADMSG);
    assert_int_equal(sw_bind_param(&b, body + p0 + 12, 1, &val, &vlen, &f), 0);
    assert_int_equal(sw_bind_param(&b, body, 0, &val, &vlen, &f), -EBADMSG);
    free(body);
}

/* ------------------------------------------------------------ Describe, Close, Execute */

static void test_target(void **state)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_target(&w, SW_FE_DESCRIBE, 'S', "");
    sw_build_target(&w, SW_FE_CLOSE, 'P', "cursor_1");
    assert_int_equal(w.len, 7 + 15);
    assert_memory_equal(w.data, "D\x00\x00\x00\x06S\0" "C\x00\x00\x00\x0e" "Pcursor_1", 22);
    size_t off = 0;
    msg_view m = frame_at(&w, &off);
    sw_target_msg t;
    assert_int_equal(m.type, 'D');
    assert_int_equal(sw_target_decode(m.body, m.len, &t), 0);
    assert_int_equal(t.kind, 'S');
    assert_string_equal(t.name, "");
    check_truncations(dec_target, m.body, m.len);
    check_trailing(dec_target, m.body, m.len);
    m = frame_at(&w, &off);
    assert_int_equal(m.type, 'C');
    assert_int_equal(sw_target_decode(m.body, m.len, &t), 0);
    assert_int_equal(t.kind, 'P');
    assert_string_equal(t.name, "cursor_1");
    check_truncations(dec_target, m.body, m.len);
    check_trailing(dec_target, m.body, m.len);
    sw_wbuf_free(&w);
    assert_int_equal(sw_target_decode((const uint8_t *)"Xname", 6, &t), -EBADMSG);
}

static void test_execute(void **state)
{
    static const uint8_t vec[] = "E\x00\x00\x00\x09\0\x00\x00\x00\x00";
    sw_execute_msg e;
    assert_int_equal(sw_execute_decode(vec + 5, 5, &e), 0);
    assert_string_equal(e.portal, "");
    assert_int_equal(e.max_rows, 0);
    check_truncations(dec_execute, vec + 5, 5);
    check_trailing(dec_execute, vec + 5, 5);

    /* There is no Execute builder; assemble one with the generic writer. */
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_msg_begin(&w, SW_FE_EXECUTE);
    sw_wbuf_cstr(&w, "c1");
    sw_wbuf_i32(&w, 500);
    sw_msg_end(&w);
    assert_wbuf_bytes(&w, "E\x00\x00\x00\x0b" "c1\0\x00\x00\x01\xf4", 12);
    msg_view m = frame_only(&w);
    assert_int_equal(sw_execute_decode(m.body, m.len, &e), 0);
    assert_string_equal(e.portal, "c1");
    assert_int_equal(e.max_rows, 500);
    check_truncations(dec_execute, m.body, m.len);
    check_trailing(dec_execute, m.body, m.len);
    sw_wbuf_free(&w);
}

/* ------------------------------------------------------------ errors */

static const uint8_t error_vec[] =
    "E\x00\x00\x00\x37" "SERROR\0" "VERROR\0" "C42P01\0" "Mrelation \"t\" does not exist\0";
#define ERROR_VEC_LEN 56  /* the literal's own NUL is the field terminator */

static void test_error_vector(void **state)
{
    assert_int_equal(sizeof error_vec, ERROR_VEC_LEN);
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_error(&w, SW_BE_ERROR, "ERROR", "42P01", "relation \"t\" does not exist", NULL, NULL);
    assert_wbuf_bytes(&w, error_vec, ERROR_VEC_LEN);
    msg_view m = frame_only(&w);
    assert_int_equal(m.type, 'E');
    sw_error_fields f;
    assert_int_equal(sw_error_decode(m.body, m.len, &f), 0);
    assert_string_equal(f.severity, "ERROR");
    assert_string_equal(f.severity_v, "ERROR");
    assert_string_equal(f.code, "42P01");
    assert_string_equal(f.message, "relation \"t\" does not exist");
    assert_null(f.detail);
    assert_null(f.hint);
    check_truncations(dec_error, m.body, m.len);
    check_trailing(dec_error, m.body, m.len);
    sw_wbuf_free(&w);
}

static void test_error_roundtrip(void **state)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_error(&w, SW_BE_NOTICE, "WARNING", "01000", "careful", "some detail", "a hint");
    sw_build_error(&w, SW_BE_ERROR, "FATAL", "28P01", "auth failed", NULL, "check password");
    sw_build_error(&w, SW_BE_ERROR, "FATAL", "08P01", "bad", "only detail", NULL);
    size_t off = 0;
    msg_view m = frame_at(&w, &off);
    assert_int_equal(m.type, 'N');
    sw_error_fields f;
    assert_int_equal(sw_error_decode(m.body, m.len, &f), 0);
    assert_string_equal(f.severity, "WARNING");
    assert_string_equal(f.severity_v, "WARNING");
    assert_string_equal(f.code, "01000");
    assert_string_equal(f.message, "careful");
    assert_string_equal(f.detail, "some detail");
    assert_string_equal(f.hint, "a hint");
    check_truncations(dec_error, m.body, m.len);
    check_trailing(dec_error, m.body, m.len);

    m = frame_at(&w, &off);
    assert_int_equal(m.type, 'E');
    assert_int_equal(sw_error_decode(m.body, m.len, &f), 0);
    assert_string_equal(f.severity, "FATAL");
    assert_null(f.detail);
    assert_string_equal(f.hint, "check password");
    assert_memory_equal(m.body + m.len - 17, "Hcheck password\0", 17);

    m = frame_at(&w, &off);
    assert_int_equal(sw_error_decode(m.body, m.len, &f), 0);
    assert_string_equal(f.detail, "only detail");
    assert_null(f.hint);
    assert_int_equal(off, w.len);
    sw_wbuf_free(&w);
}

static void test_error_fields(void **state)
{
    sw_error_fields f;
    /* Unknown field types (position, where, file...) are skipped. */
    static const uint8_t extra[] = "SERROR\0P12\0Wsome context\0C22012\0Fint.c\0L42\0Mdivision by zero\0";
    assert_int_equal(sw_error_decode(extra, sizeof extra, &f), 0);
    assert_string_equal(f.severity, "ERROR");
    assert_null(f.severity_v);
    assert_string_equal(f.code, "22012");
    assert_string_equal(f.message, "division by zero");
    assert_null(f.detail);
    /* Just the terminator: valid, every field absent. */
    assert_int_equal(sw_error_decode((const uint8_t *)"", 1, &f), 0);
    assert_null(f.severity);
    assert_null(f.message);
    /* Missing terminator, field type without a string, empty body. */
    assert_int_equal(sw_error_decode(extra, sizeof extra - 1, &f), -EBADMSG);
    assert_int_equal(sw_error_decode((const uint8_t *)"SERROR\0M", 8, &f), -EBADMSG);
    assert_int_equal(sw_error_decode((const uint8_t *)"S", 1, &f), -EBADMSG);
    assert_int_equal(sw_error_decode((const uint8_t *)"x", 0, &f), -EBADMSG);
    check_truncations(dec_error, extra, sizeof extra);
}

/* ------------------------------------------------------------ session messages */

static void test_param_status(void **state)
{
    static const uint8_t vec[] = "S\x00\x00\x00\x19" "client_encoding\0UTF8";
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_param_status(&w, "client_encoding", "UTF8");
    assert_wbuf_bytes(&w, vec, sizeof vec);
    msg_view m = frame_only(&w);
    const char *name, *value;
    assert_int_equal(sw_param_status_decode(m.body, m.len, &name, &value), 0);
    assert_string_equal(name, "client_encoding");
    assert_string_equal(value, "UTF8");
    check_truncations(dec_param_status, m.body, m.len);
    check_trailing(dec_param_status, m.body, m.len);
    sw_wbuf_reset(&w);
    sw_build_param_status(&w, "application_name", "");
    m = frame_only(&w);
    assert_int_equal(sw_param_status_decode(m.body, m.len, &name, &value), 0);
    assert_string_equal(value, "");
    sw_wbuf_free(&w);
}

static void test_backend_key(void **state)
{
    static const uint8_t vec[] = "K\x00\x00\x00\x0c\x00\x00\x04\xd2\x80\x00\x00\x01";
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_backend_key(&w, 1234, (int32_t)0x80000001u);
    assert_wbuf_bytes(&w, vec, sizeof vec - 1);
    msg_view m = frame_only(&w);
    int32_t pid, key;
    assert_int_equal(sw_backend_key_decode(m.body, m.len, &pid, &key), 0);
    assert_int_equal(pid, 1234);
    assert_int_equal(key, (int32_t)0x80000001u);
    check_truncations(dec_backend_key, m.body, m.len);
    check_trailing(dec_backend_key, m.body, m.len);
    sw_wbuf_free(&w);
}

static void test_ready(void **state)
{
    static const char states[] = {'I', 'T', 'E'};
    sw_wbuf w;
    sw_wbuf_init(&w);
    for (size_t i = 0; i < sizeof states; i++) sw_build_ready(&w, states[i]);
    assert_wbuf_bytes(&w, "Z\x00\x00\x00\x05I" "Z\x00\x00\x00\x05T" "Z\x00\x00\x00\x05" "E", 18);
    size_t off = 0;
    for (size_t i = 0; i < sizeof states; i++) {
        msg_view m = frame_at(&w, &off);
        char st = 0;
        assert_int_equal(m.type, 'Z');
        assert_int_equal(sw_ready_decode(m.body, m.len, &st), 0);
        assert_int_equal(st, states[i]);
        check_truncations(dec_ready, m.body, m.len);
        check_trailing(dec_ready, m.body, m.len);
    }
    sw_wbuf_free(&w);
    char st;
    assert_int_equal(sw_ready_decode((const uint8_t *)"X", 1, &st), -EBADMSG);
    assert_int_equal(sw_ready_decode((const uint8_t *)"", 1, &st), -EBADMSG);
}

static void test_command_complete(void **state)
{
    static const uint8_t vec[] = "C\x00\x00\x00\x0dSELECT 1";
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_command_complete(&w, "SELECT 1");
    assert_wbuf_bytes(&w, vec, sizeof vec);
    msg_view m = frame_only(&w);
    assert_int_equal(m.type, SW_BE_COMMAND_COMPLETE);
    const char *tag;
    assert_int_equal(sw_command_complete_decode(m.body, m.len, &tag), 0);
    assert_string_equal(tag, "SELECT 1");
    check_truncations(dec_command_complete, m.body, m.len);
    check_trailing(dec_command_complete, m.body, m.len);
    sw_wbuf_reset(&w);
    sw_build_command_complete(&w, "INSERT 0 5");
    m = frame_only(&w);
    assert_int_equal(sw_command_complete_decode(m.body, m.len, &tag), 0);
    assert_string_equal(tag, "INSERT 0 5");
    sw_wbuf_free(&w);
}

static void test_build_empty(void **state)
{
    static const uint8_t types[] = {SW_BE_PARSE_COMPLETE, SW_BE_BIND_COMPLETE, SW_BE_CLOSE_COMPLETE,
                                    SW_BE_NO_DATA, SW_BE_EMPTY_QUERY, SW_FE_SYNC, SW_FE_FLUSH,
                                    SW_FE_TERMINATE, SW_FE_COPY_DONE};
    sw_wbuf w;
    sw_wbuf_init(&w);
    for (size_t i = 0; i < sizeof types; i++) {
        sw_wbuf_reset(&w);
        sw_build_empty(&w, types[i]);
        uint8_t want[5] = {types[i], 0, 0, 0, 4};
        assert_wbuf_bytes(&w, want, 5);
        msg_view m = frame_only(&w);
        assert_int_equal(m.type, types[i]);
        assert_int_equal(m.len, 0);
    }
    sw_wbuf_free(&w);
}

/* ------------------------------------------------------------ authentication */

static void test_auth(void **state)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_auth(&w, SW_AUTH_OK, NULL, 0);
    assert_wbuf_bytes(&w, "R\x00\x00\x00\x08\x00\x00\x00\x00", 9);
    msg_view m = frame_only(&w);
    int32_t sub;
    const uint8_t *data;
    size_t dlen;
    assert_int_equal(sw_auth_decode(m.body, m.len, &sub, &data, &dlen), 0);
    assert_int_equal(sub, SW_AUTH_OK);
    assert_int_equal(dlen, 0);

    sw_wbuf_reset(&w);
    sw_build_auth(&w, SW_AUTH_MD5, "\x01\x02\x03\x04", 4);
    assert_wbuf_bytes(&w, "R\x00\x00\x00\x0c\x00\x00\x00\x05\x01\x02\x03\x04", 13);
    m = frame_only(&w);
    assert_int_equal(sw_auth_decode(m.body, m.len, &sub, &data, &dlen), 0);
    assert_int_equal(sub, SW_AUTH_MD5);
    assert_int_equal(dlen, 4);
    assert_memory_equal(data, "\x01\x02\x03\x04", 4);
    /* The data is opaque: every length from 4 up decodes, shorter does not. */
    for (size_t cut = 0; cut <= m.len; cut++) {
        uint8_t *c = dup_exact(m.body, cut);
        assert_int_equal(dec_auth(c, cut), cut < 4 ? -EBADMSG : 0);
        free(c);
    }

    static const char cont[] = "r=abc,s=c2FsdA==,i=4096";
    sw_wbuf_reset(&w);
    sw_build_auth(&w, SW_AUTH_SASL_CONTINUE, cont, sizeof cont - 1);
    m = frame_only(&w);
    assert_int_equal(m.len, 4 + sizeof cont - 1);
    assert_int_equal(sw_auth_decode(m.body, m.len, &sub, &data, &dlen), 0);
    assert_int_equal(sub, SW_AUTH_SASL_CONTINUE);
    assert_int_equal(dlen, sizeof cont - 1);
    assert_memory_equal(data, cont, dlen);
    sw_wbuf_free(&w);
}

static void test_auth_sasl(void **state)
{
    static const uint8_t vec[] = "R\x00\x00\x00\x2a\x00\x00\x00\x0a" "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0";
    sw_wbuf w;
    sw_wbuf_init(&w);
    const char *const mechs[] = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", NULL};
    sw_build_auth_sasl(&w, mechs);
    assert_wbuf_bytes(&w, vec, sizeof vec);
    msg_view m = frame_only(&w);
    int32_t sub;
    const uint8_t *data;
    size_t dlen;
    assert_int_equal(sw_auth_decode(m.body, m.len, &sub, &data, &dlen), 0);
    assert_int_equal(sub, SW_AUTH_SASL);
    /* The mechanism list reads back in order through the cursor. */
    sw_rd r;
    sw_rd_init(&r, data, dlen);
    assert_string_equal(sw_rd_cstr(&r, NULL), "SCRAM-SHA-256-PLUS");
    assert_string_equal(sw_rd_cstr(&r, NULL), "SCRAM-SHA-256");
    assert_string_equal(sw_rd_cstr(&r, NULL), "");
    assert_false(r.err);
    assert_int_equal(sw_rd_left(&r), 0);

    sw_wbuf_reset(&w);
    const char *const none[] = {NULL};
    sw_build_auth_sasl(&w, none);
    assert_wbuf_bytes(&w, "R\x00\x00\x00\x09\x00\x00\x00\x0a", 10);
    sw_wbuf_free(&w);
}

static void test_password(void **state)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_password(&w, "secret");
    assert_wbuf_bytes(&w, "p\x00\x00\x00\x0bsecret", 12);
    msg_view m = frame_only(&w);
    assert_int_equal(m.type, SW_FE_PASSWORD);
    assert_string_equal((const char *)m.body, "secret");
    sw_wbuf_reset(&w);
    sw_build_password(&w, "");
    assert_wbuf_bytes(&w, "p\x00\x00\x00\x05", 6);
    sw_wbuf_free(&w);
}

static void test_sasl_initial(void **state)
{
    static const uint8_t vec[] = "p\x00\x00\x00\x21" "SCRAM-SHA-256\0" "\x00\x00\x00\x0b" "n,,n=,r=abc";
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_sasl_initial(&w, "SCRAM-SHA-256", "n,,n=,r=abc", 11);
    assert_wbuf_bytes(&w, vec, sizeof vec - 1);
    msg_view m = frame_only(&w);
    sw_rd r;
    sw_rd_init(&r, m.body, m.len);
    assert_string_equal(sw_rd_cstr(&r, NULL), "SCRAM-SHA-256");
    int32_t n = sw_rd_i32(&r);
    assert_int_equal(n, 11);
    assert_memory_equal(sw_rd_bytes(&r, (size_t)n), "n,,n=,r=abc", 11);
    assert_false(r.err);
    assert_int_equal(sw_rd_left(&r), 0);

    /* No initial response: length -1 and nothing after it. */
    sw_wbuf_reset(&w);
    sw_build_sasl_initial(&w, "SCRAM-SHA-256", NULL, 0);
    assert_wbuf_bytes(&w, "p\x00\x00\x00\x16" "SCRAM-SHA-256\0\xff\xff\xff\xff", 23);
    /* An empty but present response is length 0, not -1. */
    sw_wbuf_reset(&w);
    sw_build_sasl_initial(&w, "M", "", 0);
    assert_wbuf_bytes(&w, "p\x00\x00\x00\x0aM\0\x00\x00\x00\x00", 11);
    sw_wbuf_free(&w);
}

static void test_sasl_response(void **state)
{
    static const char fin[] = "c=biws,r=abcdef,p=cHJvb2Y=";
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_sasl_response(&w, fin, sizeof fin - 1);
    assert_int_equal(w.len, 5 + sizeof fin - 1);
    assert_memory_equal(w.data, "p\x00\x00\x00\x1e", 5);
    assert_memory_equal(w.data + 5, fin, sizeof fin - 1);
    msg_view m = frame_only(&w);
    assert_int_equal(m.len, sizeof fin - 1);
    sw_wbuf_reset(&w);
    sw_build_sasl_response(&w, NULL, 0);
    assert_wbuf_bytes(&w, "p\x00\x00\x00\x04", 5);
    sw_wbuf_free(&w);
}

/* ------------------------------------------------------------ robustness */

static void check_rc(const char *name, int rc)
{
    if (rc != 0 && rc != -EBADMSG) fail_msg("%s returned %d", name, rc);
}

/* Random bytes into every decoder and both peeks. */
static void test_garbage(void **state)
{
    enum { ITER = 20000, MAXLEN = 64 };
    rng_state = 0x9E3779B97F4A7C15ULL;
    uint8_t src[MAXLEN];
    for (int it = 0; it < ITER; it++) {
        size_t n = rnd() % MAXLEN;
        for (size_t i = 0; i < n; i++) src[i] = rnd_byte();
        uint8_t *b = dup_exact(src, n);
        for (size_t d = 0; d < NDECODERS; d++) check_rc(decoders[d].name, decoders[d].fn(b, n));
        sw_msg_hdr h;
        int rc = sw_msg_peek(b, n, 1024, &h);
        assert_true(rc == 0 || rc == 1 || rc == -EBADMSG || rc == -EMSGSIZE);
        assert_int_equal(rc == 0, n < SW_HDR_LEN);
        if (rc == 1) assert_true(h.total >= 5 && h.total <= 1024);
        rc = sw_startup_peek(b, n, 1024, &h);
        assert_true(rc == 0 || rc == 1 || rc == -EBADMSG || rc == -EMSGSIZE);
        if (rc == 1) assert_true(h.total >= 8 && h.total <= 1024);
        free(b);

        /* Startup packets whose length word is right, so the layout is what
         * gets tested; codes skewed to the interesting ones. */
        if (n >= 8) {
            static const int32_t codes[] = {SW_PROTO_V3, SW_PROTO_V3 + 1, SW_CODE_CANCEL,
                                            SW_CODE_SSL, SW_CODE_GSSENC};
            sw_put_be32(src, (uint32_t)n);
            if (rnd() % 4) sw_put_be32(src + 4, (uint32_t)codes[rnd() % 5]);
            b = dup_exact(src, n);
            check_rc("startup", dec_startup(b, n));
            free(b);
        }
    }
}

typedef struct corpus_item {
    decode_fn fn;
    uint8_t *body;
    size_t len;
} corpus_item;

/* Valid bodies with a few bytes changed, cut or extended, into every decoder. */
static void test_mutations(void **state)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    decode_fn fns[32];
    int nf = 0;
    static const uint8_t oids[] = {0, 0, 0, 23, 0, 0, 0, 25};
    sw_build_query(&w, "SELECT 1", 8);                              fns[nf++] = dec_query;
    sw_build_parse(&w, "s", "SELECT $1, $2", 13, 2, oids);          fns[nf++] = dec_parse;
    static const int16_t fmts[] = {0, 1};
    static const char *const vals[] = {"ab", NULL};
    static const int32_t vlens[] = {2, -1};
    static const int16_t res[] = {1};
    bind_spec bs = {"p", "s", 2, fmts, 2, vals, vlens, 1, res};
    put_bind(&w, &bs);                                              fns[nf++] = dec_bind;
    bind_spec bs1 = {"", "", 1, res, 2, vals, vlens, 0, NULL};
    put_bind(&w, &bs1);                                             fns[nf++] = dec_bind;
    sw_build_target(&w, 'D', 'S', "s");                             fns[nf++] = dec_target;
    sw_msg_begin(&w, 'E');
    sw_wbuf_cstr(&w, "p");
    sw_wbuf_i32(&w, 0);
    sw_msg_end(&w);                                                 fns[nf++] = dec_execute;
    sw_build_error(&w, 'E', "ERROR", "XX000", "m", "d", "h");       fns[nf++] = dec_error;
    sw_build_param_status(&w, "a", "b");                            fns[nf++] = dec_param_status;
    sw_build_backend_key(&w, 1, 2);                                 fns[nf++] = dec_backend_key;
    sw_build_ready(&w, 'I');                                        fns[nf++] = dec_ready;
    sw_build_command_complete(&w, "OK");                            fns[nf++] = dec_command_complete;
    sw_build_auth(&w, SW_AUTH_MD5, "salt", 4);                      fns[nf++] = dec_auth;

    corpus_item items[34];
    int ni = 0;
    size_t off = 0;
    for (int i = 0; i < nf; i++) {
        msg_view m = frame_at(&w, &off);
        items[ni++] = (corpus_item){fns[i], dup_exact(m.body, m.len), m.len};
    }
    /* Startup packets are whole, length word included. */
    const char *const kv[] = {"user", "u", "database", "d", NULL};
    sw_wbuf_reset(&w);
    sw_build_startup(&w, kv);
    items[ni++] = (corpus_item){dec_startup, dup_exact(w.data, w.len), w.len};
    sw_wbuf_reset(&w);
    sw_build_cancel(&w, 7, 8);
    items[ni++] = (corpus_item){dec_startup, dup_exact(w.data, w.len), w.len};
    sw_wbuf_free(&w);

    rng_state = 0xD1B54A32D192ED03ULL;
    int own_ok = 0, own_bad = 0;
    enum { ITER = 30000 };
    for (int it = 0; it < ITER; it++) {
        const corpus_item *c = &items[rnd() % (uint32_t)ni];
        uint8_t src[128];
        size_t n = c->len;
        memcpy(src, c->body, n);
        int edits = 1 + (int)(rnd() % 3);
        for (int e = 0; e < edits; e++) {
            uint32_t op = rnd() % 8;
            if (op == 0 && n > 0) n--;
            else if (op == 1 && n < sizeof src) src[n++] = rnd_byte();
            else if (n > 0) src[rnd() % n] = rnd_byte();
        }
        if (c->fn == dec_startup && n >= 4 && rnd() % 2) sw_put_be32(src, (uint32_t)n);
        uint8_t *b = dup_exact(src, n);
        int rc = c->fn(b, n);
        check_rc("own decoder", rc);
        if (rc == 0) own_ok++;
        else own_bad++;
        for (size_t d = 0; d < NDECODERS; d++) check_rc(decoders[d].name, decoders[d].fn(b, n));
        free(b);
    }
    /* Both outcomes must be common, or the mutations test nothing. */
    assert_true(own_ok > ITER / 50);
    assert_true(own_bad > ITER / 4);
    for (int i = 0; i < ni; i++) free(items[i].body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_peek_needs_header),
        cmocka_unit_test(test_msg_peek_bad_length),
        cmocka_unit_test(test_msg_peek_oversized),
        cmocka_unit_test(test_startup_peek),
        cmocka_unit_test(test_msg_peek_stream),
        cmocka_unit_test(test_wbuf_init_free),
        cmocka_unit_test(test_wbuf_primitives),
        cmocka_unit_test(test_wbuf_reset_keeps_capacity),
        cmocka_unit_test(test_wbuf_oom),
        cmocka_unit_test(test_wbuf_growth),
        cmocka_unit_test(test_msg_begin_end),
        cmocka_unit_test(test_msg_header),
        cmocka_unit_test(test_startup_vector),
        cmocka_unit_test(test_startup_roundtrip),
        cmocka_unit_test(test_startup_ssl_gssenc),
        cmocka_unit_test(test_startup_cancel),
        cmocka_unit_test(test_startup_bad_layout),
        cmocka_unit_test(test_startup_max_params),
        cmocka_unit_test(test_startup_unknown_version),
        cmocka_unit_test(test_startup_truncated),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_parse_vector),
        cmocka_unit_test(test_parse_roundtrip),
        cmocka_unit_test(test_bind_vector),
        cmocka_unit_test(test_bind_mixed),
        cmocka_unit_test(test_bind_invalid),
        cmocka_unit_test(test_bind_rename_tail),
        cmocka_unit_test(test_bind_param_bounds),
        cmocka_unit_test(test_target),
        cmocka_unit_test(test_execute),
        cmocka_unit_test(test_error_vector),
        cmocka_unit_test(test_error_roundtrip),
        cmocka_unit_test(test_error_fields),
        cmocka_unit_test(test_param_status),
        cmocka_unit_test(test_backend_key),
        cmocka_unit_test(test_ready),
        cmocka_unit_test(test_command_complete),
        cmocka_unit_test(test_build_empty),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_auth_sasl),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_sasl_initial),
        cmocka_unit_test(test_sasl_response),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
