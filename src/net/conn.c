/*
 * conn.c - the libuv glue shared by client and server connections: the input
 * buffer (allocation, compaction, growth), reading, and the outgoing batch of
 * iovec parts written with one uv_try_write / uv_write.
 *
 * Backpressure: when a batch cannot be written at once, the rest goes out
 * with uv_write and the source connection (whose buffer the batch points
 * into) is paused; write_cb un-pauses it and lets its owner continue.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

static void conn_process(sw_conn *c)
{
    if (c->closing) return;
    if (c->kind == SW_CONN_CLIENT) sw_client_process((sw_client *)c);
    else if (c->kind == SW_CONN_SERVER) sw_server_process((sw_server *)c);
}

void sw_conn_init(sw_conn *c, sw_conn_kind kind)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->tcp.data = c;
    sw_wbuf_init(&c->out.gen[0]);
    sw_wbuf_init(&c->out.gen[1]);
}

void sw_conn_detach_input(sw_conn *c, sw_conn *peer)
{
    if (!peer || peer->out.src != c) return;
    peer->out.src = NULL;
    free(peer->out.orphan);
    peer->out.orphan = c->in.data;
    c->in.data = NULL;
    c->in.cap = c->in.done = c->in.parse = c->in.recv = 0;
}

void sw_conn_forget_src(sw_conn *dst)
{
    sw_conn *src = dst->out.src;
    if (!src) return;
    dst->out.src = NULL;
    src->in.done = src->in.parse;
    src->paused = false;
}

void sw_conn_free_buffers(sw_conn *c)
{
    free(c->in.data);
    c->in.data = NULL;
    sw_wbuf_free(&c->out.gen[0]);
    sw_wbuf_free(&c->out.gen[1]);
    free(c->out.orphan);
    c->out.orphan = NULL;
}

/* Slide unprocessed bytes to the front; only legal when no write points in. */
static void iobuf_compact(sw_iobuf *b)
{
    assert(b->done <= b->parse && b->parse <= b->recv && b->recv <= b->cap);
    if (b->done == 0) return;
    memmove(b->data, b->data + b->done, b->recv - b->done);
    b->parse -= b->done;
    b->recv -= b->done;
    b->done = 0;
}

bool sw_iobuf_make_room(sw_conn *c, uint32_t need)
{
    sw_iobuf *b = &c->in;
    if (b->data && b->cap - b->parse >= need) return true;
    if (b->done != b->parse) return false;  /* in-flight write still points in */
    iobuf_compact(b);
    if (b->data && b->cap - b->parse >= need) return true;
    uint32_t ncap = b->cap ? b->cap : SW_BUF_INITIAL;
    while (ncap - b->parse < need) {
        if (ncap > UINT32_MAX / 2) return false;
        ncap *= 2;
    }
    uint8_t *nd = realloc(b->data, ncap);
    if (!nd) return false;
    b->data = nd;
    b->cap = ncap;
    return true;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    sw_conn *c = h->data;
    sw_iobuf *b = &c->in;
    (void)suggested;
    if (!b->data) {
        b->data = malloc(SW_BUF_INITIAL);
        b->cap = b->data ? SW_BUF_INITIAL : 0;
    }
    if (b->recv == b->cap && b->done > 0 && b->done == b->parse) iobuf_compact(b);
    if (b->cap > 0 && b->recv == b->cap && b->done == 0 && b->parse == 0 && b->cap < SW_BUF_WHOLE_MAX) {
        /* One message fills the buffer: grow so it can be read whole. */
        uint8_t *nd = realloc(b->data, b->cap * 2);
        if (nd) { b->data = nd; b->cap *= 2; }
    }
    buf->base = (char *)b->data + b->recv;
    buf->len = b->cap - b->recv;
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    sw_conn *c = stream->data;
    (void)buf;
    if (nread > 0) {
        c->in.recv += (uint32_t)nread;
        c->last_io_ms = uv_now(stream->loop);
        if (!c->paused) conn_process(c);
        return;
    }
    if (nread == 0) return;
    if (nread == UV_ENOBUFS) {
        /* The input buffer is full of bytes the owner cannot take yet (it
         * waits for a peer): stop reading; processing starts it again. */
        sw_conn_read_stop(c);
        if (c->in.data) return;
        /* No memory for an input buffer at all: nothing would start it
         * again, the connection would hang. */
        if (c->kind == SW_CONN_CLIENT) {
            sw_client_error((sw_client *)c, "FATAL", "53200", "out of memory", NULL);
            sw_client_close((sw_client *)c, "out of memory for the input buffer");
        } else if (c->kind == SW_CONN_SERVER) {
            sw_server_fail((sw_server *)c, "53200", "out of memory for the input buffer");
        }
        return;
    }
    /* EOF or error: the owner decides what it means. */
    sw_conn_read_stop(c);
    if (c->kind == SW_CONN_CLIENT) {
        sw_client_close((sw_client *)c, nread == UV_EOF ? NULL : uv_strerror((int)nread));
    } else if (c->kind == SW_CONN_SERVER) {
        sw_server *s = (sw_server *)c;
        sw_server_close(s, nread == UV_EOF ? "server closed the connection" : uv_strerror((int)nread));
    }
}

int sw_conn_read_start(sw_conn *c)
{
    if (c->reading || c->closing) return 0;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    if (rc == 0) c->reading = true;
    return rc;
}

void sw_conn_read_stop(sw_conn *c)
{
    if (!c->reading) return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

void sw_out_src(sw_conn *dst, sw_conn *src, const uint8_t *p, uint32_t len)
{
    sw_outq *o = &dst->out;
    assert(!o->writing);
    if (len == 0) return;
    o->src = src;
    if (o->nparts > 0) {
        sw_part *last = &o->part[o->nparts - 1];
        if (last->ptr && last->ptr + last->len == p) { last->len += len; return; }
    }
    assert(o->nparts < SW_IOV_MAX);
    o->part[o->nparts++] = (sw_part){.ptr = p, .off = 0, .len = len};
}

sw_wbuf *sw_out_gen(sw_conn *dst)
{
    return &dst->out.gen[dst->out.cur];
}

void sw_out_gen_done(sw_conn *dst, size_t start)
{
    sw_outq *o = &dst->out;
    sw_wbuf *w = &o->gen[o->cur];
    if (w->len == start) return;
    if (o->nparts > 0) {
        sw_part *last = &o->part[o->nparts - 1];
        if (!last->ptr && last->off + last->len == start) { last->len += (uint32_t)(w->len - start); return; }
    }
    assert(o->nparts < SW_IOV_MAX);
    o->part[o->nparts++] = (sw_part){.ptr = NULL, .off = (uint32_t)start, .len = (uint32_t)(w->len - start)};
}

/* The batch is on the wire: the source may move its buffer again. */
static void out_complete(sw_conn *dst)
{
    sw_outq *o = &dst->out;
    sw_wbuf_reset(&o->gen[0]);
    sw_wbuf_reset(&o->gen[1]);
    o->cur = 0;
    sw_conn *src = o->src;
    o->src = NULL;
    if (src) src->in.done = src->in.parse;
    free(o->orphan);
    o->orphan = NULL;
}

static void write_cb(uv_write_t *req, int status)
{
    sw_conn *dst = req->data;
    sw_outq *o = &dst->out;
    o->writing = false;
    sw_conn *src = o->src;
    if (status >= 0) dst->last_io_ms = uv_now(dst->tcp.loop);
    out_complete(dst);
    if (status < 0) {
        if (dst->kind == SW_CONN_CLIENT) sw_client_close((sw_client *)dst, uv_strerror(status));
        else if (dst->kind == SW_CONN_SERVER) sw_server_close((sw_server *)dst, uv_strerror(status));
    } else if (o->nparts > 0 && !dst->closing) {
        /* Bytes generated while the write was in flight (errors, fakes). */
        if (sw_out_flush(dst) < 0) return;
    }
    if (!src && dst->kind == SW_CONN_CLIENT && !dst->closing) sw_merged_drained((sw_client *)dst);
    if (!src && dst->kind == SW_CONN_SERVER && !dst->closing) {
        /* a COPY split over several shards waits for each target's room */
        sw_client *cl = ((sw_server *)dst)->client;
        if (cl && cl->copyin && cl->flow == SW_FLOW_STALLED && !cl->c.closing) sw_client_process(cl);
    }
    if (src && !src->closing) {
        /* The source may continue: read, and finish what it had buffered
         * (including a release at the end of a transaction). */
        src->paused = false;
        sw_conn_read_start(src);
        conn_process(src);
    }
}

int sw_out_flush(sw_conn *dst)
{
    sw_outq *o = &dst->out;
    if (o->writing || o->nparts == 0 || dst->closing) return 0;
    sw_wbuf *w = &o->gen[o->cur];
    if (w->oom) return -ENOMEM;
    size_t total = 0;
    for (int i = 0; i < o->nparts; i++) {
        sw_part *p = &o->part[i];
        o->bufs[i].base = (char *)(p->ptr ? p->ptr : w->data + p->off);
        o->bufs[i].len = p->len;
        total += p->len;
    }
    int n = o->nparts;
    o->nparts = 0;
    int rc = uv_try_write((uv_stream_t *)&dst->tcp, o->bufs, (unsigned)n);
    if (rc == UV_EAGAIN || rc == UV_ENOSYS) rc = 0;
    if (rc < 0) return rc;
    if (rc > 0) dst->last_io_ms = uv_now(dst->tcp.loop);
    if ((size_t)rc == total) {
        out_complete(dst);
        return 0;
    }
    /* Partial: skip what went out, queue the rest, pause the source. */
    size_t skip = (size_t)rc;
    int first = 0;
    while (skip >= o->bufs[first].len) skip -= o->bufs[first++].len;
    o->bufs[first].base += skip;
    o->bufs[first].len -= skip;
    o->req.data = dst;
    rc = uv_write(&o->req, (uv_stream_t *)&dst->tcp, o->bufs + first, (unsigned)(n - first), write_cb);
    if (rc < 0) return rc;
    o->writing = true;
    o->cur ^= 1;  /* new generated bytes must not touch the buffer in flight */
    if (o->src && o->src != dst) {
        o->src->paused = true;
        sw_conn_read_stop(o->src);
    }
    return 0;
}

void sw_conn_close(sw_conn *c, uv_close_cb freefn)
{
    if (c->closing) return;
    c->closing = true;
    sw_conn_read_stop(c);
    uv_close((uv_handle_t *)&c->tcp, freefn);
}
