/*
 * wbuf.c - the growable output buffer every builder appends to, and the
 * begin/end pair that frames a message.  Allocation failure is sticky (oom)
 * rather than returned from each append, so a builder writes a whole message
 * without checking every call and the caller checks once.
 *
 * While a message is open, msg_start is the offset of its length word (one
 * past the type byte for typed messages): that is exactly where the bytes the
 * length counts begin, so sw_msg_end needs no other state.
 */
#include "sw/proto.h"

#include <stdlib.h>

#define WBUF_MIN_CAP 256

/* Empty buffer; allocates nothing until the first append. */
void sw_wbuf_init(sw_wbuf *w)
{
    w->data = NULL;
    w->len = 0;
    w->cap = 0;
    w->msg_start = 0;
    w->oom = false;
}

/* Releases data and leaves w empty and reusable. */
void sw_wbuf_free(sw_wbuf *w)
{
    free(w->data);
    sw_wbuf_init(w);
}

/* Room for extra more bytes: 0, or -ENOMEM with oom set. */
int sw_wbuf_reserve(sw_wbuf *w, size_t extra)
{
    if (w->oom) return -ENOMEM;
    if (extra <= w->cap - w->len) return 0;
    /* Sizes past PTRDIFF_MAX cannot be allocated and would make the doubling
     * below overflow, so they fail here without asking malloc. */
    if (extra > (size_t)PTRDIFF_MAX - w->len) goto fail;
    size_t need = w->len + extra;
    size_t cap = w->cap ? w->cap : WBUF_MIN_CAP;
    while (cap < need) cap = cap > (size_t)PTRDIFF_MAX / 2 ? need : cap * 2;
    uint8_t *d = realloc(w->data, cap);
    if (!d) goto fail;
    w->data = d;
    w->cap = cap;
    return 0;
fail:
    w->oom = true;
    return -ENOMEM;
}

/* Appends n bytes; ignored once oom is set. */
void sw_wbuf_put(sw_wbuf *w, const void *p, size_t n)
{
    if (n == 0 || sw_wbuf_reserve(w, n) != 0) return;
    memcpy(w->data + w->len, p, n);
    w->len += n;
}

/* Appends one byte. */
void sw_wbuf_u8(sw_wbuf *w, uint8_t v)
{
    sw_wbuf_put(w, &v, 1);
}

/* Appends a big-endian int16. */
void sw_wbuf_i16(sw_wbuf *w, int16_t v)
{
    uint16_t u = (uint16_t)v;
    uint8_t b[2] = {(uint8_t)(u >> 8), (uint8_t)u};
    sw_wbuf_put(w, b, 2);
}

/* Appends a big-endian int32. */
void sw_wbuf_i32(sw_wbuf *w, int32_t v)
{
    uint8_t b[4];
    sw_put_be32(b, (uint32_t)v);
    sw_wbuf_put(w, b, 4);
}

/* Appends s and its NUL. */
void sw_wbuf_cstr(sw_wbuf *w, const char *s)
{
    sw_wbuf_put(w, s, strlen(s) + 1);
}

/* Opens a message: the type byte (none when type is 0) and a length placeholder. */
void sw_msg_begin(sw_wbuf *w, uint8_t type)
{
    if (type) sw_wbuf_u8(w, type);
    w->msg_start = w->len;
    sw_wbuf_i32(w, 0);
}

/* Closes the open message by patching its length word. */
void sw_msg_end(sw_wbuf *w)
{
    /* After oom the placeholder may never have been written. */
    if (w->oom || w->len < w->msg_start + 4) return;
    sw_put_be32(w->data + w->msg_start, (uint32_t)(w->len - w->msg_start));
}

/* Header only: type byte and a length covering body_len bytes sent later. */
void sw_msg_header(sw_wbuf *w, uint8_t type, size_t body_len)
{
    sw_wbuf_u8(w, type);
    sw_wbuf_i32(w, (int32_t)(uint32_t)(4 + body_len));
}
