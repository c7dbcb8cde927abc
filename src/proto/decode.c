/*
 * decode.c - decoders for the message bodies shardwire inspects: the
 * frontend's extended-query messages (to route and rename them) and the
 * backend's session and error messages.  Each reads through an sw_rd cursor
 * and checks err once at the end; where the protocol fixes the layout the body
 * must be consumed exactly, because a server would reject the leftovers and
 * the proxy must not forward what it has not understood.
 */
#include "sw/proto.h"

static inline int16_t be16(const uint8_t *p)
{
    return (int16_t)(uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* The cursor read without error and consumed everything. */
static inline int rd_done(const sw_rd *r)
{
    return !r->err && r->p == r->end ? 0 : -EBADMSG;
}

/* Query: the whole body is one string and its NUL. */
int sw_query_decode(const uint8_t *body, size_t len, sw_query_msg *out)
{
    /* The first NUL must be the last byte: an embedded one would make the
     * C string and len disagree about what the query is. */
    if (len == 0 || memchr(body, 0, len) != body + len - 1) return -EBADMSG;
    out->sql = (const char *)body;
    out->len = len - 1;
    return 0;
}

/* Parse: name, query, int16 count, count OIDs. */
int sw_parse_decode(const uint8_t *body, size_t len, sw_parse_msg *out)
{
    sw_rd r;
    sw_rd_init(&r, body, len);
    out->name = sw_rd_cstr(&r, NULL);
    out->query = sw_rd_cstr(&r, &out->query_len);
    out->nparams = sw_rd_u16(&r);
    out->param_types = sw_rd_bytes(&r, (size_t)out->nparams * 4);
    return rd_done(&r);
}

/* Skip one parameter value: int32 length (-1 is NULL) then the bytes. */
static inline void skip_param(sw_rd *r)
{
    int32_t n = sw_rd_i32(r);
    if (n < -1) r->err = true;
    else if (n > 0) sw_rd_bytes(r, (size_t)n);
}

/* Bind: walks every field so that a body that decodes is wholly well formed. */
int sw_bind_decode(const uint8_t *body, size_t len, sw_bind_msg *out)
{
    sw_rd r;
    sw_rd_init(&r, body, len);
    out->portal = sw_rd_cstr(&r, NULL);
    out->stmt = sw_rd_cstr(&r, NULL);
    out->tail_off = (size_t)(r.p - body);

    out->nformats = sw_rd_u16(&r);
    out->formats = sw_rd_bytes(&r, (size_t)out->nformats * 2);
    out->nparams = sw_rd_u16(&r);
    if (r.err) return -EBADMSG;
    if (out->nformats > 1 && out->nformats != out->nparams) return -EBADMSG;
    /* sw_bind_param promises callers 0 or 1, so other codes stop here. */
    for (int i = 0; i < out->nformats; i++)
        if ((uint16_t)be16(out->formats + 2 * i) > 1) return -EBADMSG;

    out->params = r.p;
    for (int i = 0; i < out->nparams; i++) skip_param(&r);

    out->nresult_formats = sw_rd_u16(&r);
    out->result_formats = sw_rd_bytes(&r, (size_t)out->nresult_formats * 2);
    return rd_done(&r);
}

/* Parameter i of a Bind that sw_bind_decode accepted. */
int sw_bind_param(const sw_bind_msg *b, const uint8_t *body_end, int i,
                  const uint8_t **val, int32_t *vlen, int16_t *format)
{
    if (i < 0 || i >= b->nparams || !b->params || body_end < b->params) return -EBADMSG;
    sw_rd r;
    sw_rd_init(&r, b->params, (size_t)(body_end - b->params));
    for (int k = 0; k < i; k++) skip_param(&r);
    int32_t n = sw_rd_i32(&r);
    const uint8_t *v = n >= 0 ? sw_rd_bytes(&r, (size_t)n) : NULL;
    if (r.err || n < -1) return -EBADMSG;
    *val = v;
    *vlen = n;
    *format = b->nformats == 0 ? 0 : be16(b->formats + (b->nformats == 1 ? 0 : 2 * i));
    return 0;
}

/* Describe or Close: 'S' or 'P' then a name. */
int sw_target_decode(const uint8_t *body, size_t len, sw_target_msg *out)
{
    sw_rd r;
    sw_rd_init(&r, body, len);
    out->kind = (char)sw_rd_u8(&r);
    out->name = sw_rd_cstr(&r, NULL);
    if (out->kind != 'S' && out->kind != 'P') return -EBADMSG;
    return rd_done(&r);
}

/* Execute: portal name and an int32 row limit, nothing else. */
int sw_execute_decode(const uint8_t *body, size_t len, sw_execute_msg *out)
{
    sw_rd r;
    sw_rd_init(&r, body, len);
    out->portal = sw_rd_cstr(&r, NULL);
    out->max_rows = sw_rd_i32(&r);
    return rd_done(&r);
}

/* ErrorResponse or NoticeResponse: (code, string) pairs up to a 0 code. */
int sw_error_decode(const uint8_t *body, size_t len, sw_error_fields *out)
{
    memset(out, 0, sizeof *out);
    sw_rd r;
    sw_rd_init(&r, body, len);
    for (;;) {
        uint8_t t = sw_rd_u8(&r);
        if (r.err) return -EBADMSG;
        if (t == 0) return rd_done(&r);
        const char *s = sw_rd_cstr(&r, NULL);
        if (r.err) return -EBADMSG;
        /* Servers add field types over time; unknown ones are skipped. */
        switch (t) {
        case 'S': out->severity = s; break;
        case 'V': out->severity_v = s; break;
        case 'C': out->code = s; break;
        case 'M': out->message = s; break;
        case 'D': out->detail = s; break;
        case 'H': out->hint = s; break;
        default: break;
        }
    }
}

/* ParameterStatus: name and value. */
int sw_param_status_decode(const uint8_t *body, size_t len, const char **name, const char **value)
{
    sw_rd r;
    sw_rd_init(&r, body, len);
    *name = sw_rd_cstr(&r, NULL);
    *value = sw_rd_cstr(&r, NULL);
    return rd_done(&r);
}

/* BackendKeyData: exactly pid and secret key. */
int sw_backend_key_decode(const uint8_t *body, size_t len, int32_t *pid, int32_t *key)
{
    sw_rd r;
    sw_rd_init(&r, body, len);
    *pid = sw_rd_i32(&r);
    *key = sw_rd_i32(&r);
    return rd_done(&r);
}

/* ReadyForQuery: one status byte, 'I', 'T' or 'E'. */
int sw_ready_decode(const uint8_t *body, size_t len, char *status)
{
    if (len != 1 || (body[0] != 'I' && body[0] != 'T' && body[0] != 'E')) return -EBADMSG;
    *status = (char)body[0];
    return 0;
}

/* CommandComplete: the tag string. */
int sw_command_complete_decode(const uint8_t *body, size_t len, const char **tag)
{
    sw_rd r;
    sw_rd_init(&r, body, len);
    *tag = sw_rd_cstr(&r, NULL);
    return rd_done(&r);
}

/* Authentication: int32 subtype; the rest is subtype-specific data. */
int sw_auth_decode(const uint8_t *body, size_t len, int32_t *subtype, const uint8_t **data, size_t *dlen)
{
    if (len < 4) return -EBADMSG;
    *subtype = (int32_t)sw_be32(body);
    *data = body + 4;
    *dlen = len - 4;
    return 0;
}
