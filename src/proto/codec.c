/*
 * codec.c - message framing and the startup phase.  sw_msg_peek runs once per
 * message on the forwarding path, so it only reads the 5 header bytes and
 * enforces the size limit; it never touches the body.  The startup decoder
 * follows the server's own layout rules so that anything shardwire accepts a
 * real server would accept too.
 */
#include "sw/proto.h"

/* 1 with *h filled, 0 if fewer than 5 bytes, -EBADMSG or -EMSGSIZE. */
int sw_msg_peek(const uint8_t *p, size_t avail, uint32_t max_total, sw_msg_hdr *h)
{
    if (avail < SW_HDR_LEN) return 0;
    uint32_t len = sw_be32(p + 1);
    /* 64-bit sum: a length word of 0xffffffff must not wrap to a tiny total. */
    uint64_t total = (uint64_t)len + 1;
    if (len < 4) return -EBADMSG;
    if (total > max_total) return -EMSGSIZE;
    h->type = p[0];
    h->total = (uint32_t)total;
    return 1;
}

/* 1 with *h filled, 0 if fewer than 4 bytes, -EBADMSG or -EMSGSIZE. */
int sw_startup_peek(const uint8_t *p, size_t avail, uint32_t max_total, sw_msg_hdr *h)
{
    if (avail < 4) return 0;
    uint32_t len = sw_be32(p);
    if (len < 8) return -EBADMSG;
    if (len > max_total) return -EMSGSIZE;
    h->type = 0;
    h->total = len;
    return 1;
}

/* Parse the key\0value\0...\0 list of a 3.x StartupMessage into out. */
static int startup_params(sw_rd *r, sw_startup *out)
{
    for (;;) {
        size_t klen;
        const char *key = sw_rd_cstr(r, &klen);
        if (r->err) return -EBADMSG;
        /* An empty key is the list terminator; the server insists it is the
         * packet's last byte, so anything after it is garbage. */
        if (klen == 0) return sw_rd_left(r) == 0 ? 0 : -EBADMSG;
        const char *val = sw_rd_cstr(r, NULL);
        if (r->err || out->nparams == SW_STARTUP_MAX_PARAMS) return -EBADMSG;
        out->keys[out->nparams] = key;
        out->vals[out->nparams] = val;
        out->nparams++;
    }
}

/* 0 with *out filled from a whole startup-phase packet, or -EBADMSG. */
int sw_startup_decode(const uint8_t *pkt, size_t len, sw_startup *out)
{
    out->code = 0;
    out->cancel_pid = 0;
    out->cancel_key = 0;
    out->nparams = 0;
    if (len < 8 || sw_be32(pkt) != len) return -EBADMSG;

    sw_rd r;
    sw_rd_init(&r, pkt + 4, len - 4);
    out->code = sw_rd_i32(&r);
    switch (out->code) {
    case SW_CODE_CANCEL:
        if (len != 16) return -EBADMSG;
        out->cancel_pid = sw_rd_i32(&r);
        out->cancel_key = sw_rd_i32(&r);
        return 0;
    case SW_CODE_SSL:
    case SW_CODE_GSSENC:
        return len == 8 ? 0 : -EBADMSG;
    default:
        /* Any 3.x minor shares the 3.0 layout; other majors are left for the
         * caller to refuse with a proper error. */
        if ((uint32_t)out->code >> 16 != 3) return 0;
        if (startup_params(&r, out) == 0) return 0;
        out->nparams = 0;
        return -EBADMSG;
    }
}

/* The value of startup parameter key, or NULL when absent. */
const char *sw_startup_get(const sw_startup *s, const char *key)
{
    for (int i = 0; i < s->nparams; i++)
        if (strcmp(s->keys[i], key) == 0) return s->vals[i];
    return NULL;
}
