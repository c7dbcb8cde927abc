/*
 * merged.c - a SELECT fanned out to several shards whose answers are merged
 * (ORDER BY, LIMIT, aggregates...; or plainly concatenated as they arrive).
 *
 * Unlike the in-turn fan-out of routed.c, every target is read at once: each
 * server's messages are taken from its buffer and handed to the merger
 * (src/exec/merge.c), which copies the rows it needs; the client receives
 * what the merger writes.  Backpressure runs both ways: a server whose next
 * row the merger cannot take yet (its queue is full while it waits for the
 * others in the k-way merge) is not read, and while the client's write is
 * in flight nothing more is generated for it; the write callback and each
 * server's new data start the pump again.
 *
 * Target i of the fan is the i-th statement sent; a server holding several
 * targets (table-suffix parts on one node) answers them in order, so its
 * messages belong to its first target that has not sent ReadyForQuery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"
#include "sw/log.h"
#include "sw/merge.h"

#define EMIT_CHUNK (64 * 1024)

static int target_of(const sw_client *c, const sw_server *s)
{
    const sw_fan *f = &c->fan;
    for (int i = 0; i < f->n; i++)
        if (f->srv[i] == s && !f->replied[i]) return i;
    return -1;
}

static bool all_replied(const sw_client *c)
{
    for (int i = 0; i < c->fan.n; i++)
        if (!c->fan.replied[i]) return false;
    return true;
}

static void copy_to_client(sw_client *c, const uint8_t *p, uint32_t total)
{
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    sw_wbuf_put(w, p, total);
    sw_out_gen_done(&c->c, start);
}

/* The merger failed: its error goes to the client once, the rest drains. */
static void merge_failed(sw_client *c)
{
    sw_fan *f = &c->fan;
    if (f->merge_error || f->error_sent) {
        f->merge_error = true;
        return;
    }
    char state[6] = "XX000";
    const char *msg = sw_merge_failed(f->merge, state);
    f->merge_error = true;
    f->error_sent = true;
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    sw_build_error(w, SW_BE_ERROR, "ERROR", state, msg ? msg : "cross-shard merge failed", NULL, NULL);
    sw_out_gen_done(&c->c, start);
    sw_warn("client %s: %s", c->addr, msg ? msg : "cross-shard merge failed");
}

void sw_merged_filter(sw_client *c, sw_server *s, uint8_t type, const uint8_t *p, uint32_t total, bool hidden)
{
    sw_fan *f = &c->fan;
    if (hidden) {  /* a notice during a hidden step */
        copy_to_client(c, p, total);
        return;
    }
    int i = target_of(c, s);
    const uint8_t *body = p + SW_HDR_LEN;
    uint32_t blen = total - SW_HDR_LEN;
    switch (type) {
    case SW_BE_DATA_ROW:
        if (f->error_sent || i < 0) return;
        if (sw_merge_row(f->merge, i, body, blen) < 0) merge_failed(c);
        return;
    case SW_BE_ROW_DESC:
        if (f->error_sent || i < 0) return;
        if (sw_merge_describe(f->merge, i, body, blen) < 0) {
            merge_failed(c);
            return;
        }
        if (!f->sent_desc && !f->swallow_desc) {
            sw_wbuf *w = sw_out_gen(&c->c);
            size_t start = w->len;
            sw_merge_put_description(f->merge, w);
            sw_out_gen_done(&c->c, start);
        }
        f->sent_desc = true;
        return;
    case SW_BE_COMMAND_COMPLETE:
    case SW_BE_PORTAL_SUSPENDED:
        if (i >= 0) sw_merge_end(f->merge, i);
        if (!f->tag[0]) snprintf(f->tag, sizeof f->tag, "SELECT");
        return;
    case SW_BE_ERROR:
        if (i >= 0) sw_merge_end(f->merge, i);
        if (f->error_sent) return;
        f->error_sent = true;
        copy_to_client(c, p, total);
        return;
    case SW_BE_READY: {
        char st = total > SW_HDR_LEN ? (char)p[SW_HDR_LEN] : 'I';
        if (st == 'E' || (st == 'T' && f->status != 'E')) f->status = st;
        if (i >= 0) {
            sw_merge_end(f->merge, i);
            f->replied[i] = true;
        }
        return;
    }
    case SW_BE_PARSE_COMPLETE:
        if (!f->sent_parse) copy_to_client(c, p, total);
        f->sent_parse = true;
        return;
    case SW_BE_BIND_COMPLETE:
        if (!f->sent_bind && !f->error_sent) copy_to_client(c, p, total);
        f->sent_bind = true;
        return;
    case SW_BE_PARAM_DESC:
        if (!f->sent_pdesc && !f->error_sent) copy_to_client(c, p, total);
        f->sent_pdesc = true;
        return;
    case SW_BE_NO_DATA:
    case SW_BE_EMPTY_QUERY:
        if (!f->sent_desc && !f->error_sent) copy_to_client(c, p, total);
        f->sent_desc = true;
        return;
    default:
        copy_to_client(c, p, total);  /* notices, parameter status, notifications */
        return;
    }
}

int sw_server_peek(sw_server *s, sw_msg_hdr *h)
{
    sw_iobuf *b = &s->c.in;
    uint32_t avail = b->recv - b->parse;
    int rc = sw_msg_peek(b->data + b->parse, avail, UINT32_MAX, h);
    if (rc < 0) {
        sw_server_close(s, "invalid message from server");
        return -1;
    }
    if (rc == 0) return 0;
    if (avail >= h->total) return 1;
    if (!sw_server_msg_fits(s, h->total)) return -1;
    if (!sw_iobuf_make_room(&s->c, h->total) && b->done == b->parse) {
        sw_server_close(s, "out of memory for server message");
        return -1;
    }
    return 2;
}

const uint8_t *sw_server_take(sw_server *s, const sw_msg_hdr *h)
{
    sw_iobuf *b = &s->c.in;
    const uint8_t *p = b->data + b->parse;
    b->parse += h->total;
    b->done = b->parse;  /* the owner copies what it keeps: nothing points into b */
    return p;
}

/* Take what s has buffered.  Returns 1 when something was taken, 0 when
 * nothing, -1 when s or c went away; *blocked when s's next row must wait. */
static int take(sw_client *c, sw_server *s, bool *blocked)
{
    sw_fan *f = &c->fan;
    int took = 0;
    *blocked = false;
    while (!s->c.closing && s->client == c && f->active && f->merge) {
        sw_msg_hdr h;
        int rc = sw_server_peek(s, &h);
        if (rc < 0) return -1;
        if (rc == 0) break;
        if (h.type == SW_BE_DATA_ROW && !f->error_sent && !f->merge_error) {
            int i = target_of(c, s);
            if (i >= 0 && !sw_merge_satisfied(f->merge) && !sw_merge_wants(f->merge, i)) {
                *blocked = true;
                break;
            }
        }
        if (rc == 2) break;  /* not whole yet */
        const uint8_t *p = sw_server_take(s, &h);
        took = 1;
        sw_relay_server_message(s, c, h.type, p, h.total);
        if (c->c.closing) return -1;
    }
    return took;
}

/* Every target replied and every row is out: end the client's answer. */
static void finish(sw_client *c)
{
    sw_fan *f = &c->fan;
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    char status = f->status;
    if (!f->error_sent && f->tag[0]) {
        char tag[64];
        snprintf(tag, sizeof tag, "SELECT %llu", (unsigned long long)sw_merge_rows(f->merge));
        sw_build_command_complete(w, tag);
    }
    if (f->merge_error && status != 'I') {
        /* shardwire failed the statement inside a transaction: like a
         * server would, the transaction is aborted from the client's view */
        c->proxy_failed = true;
        status = 'E';
    }
    sw_build_ready(w, status);
    sw_out_gen_done(&c->c, start);
    size_t peak = sw_merge_peak_bytes(f->merge);
    sw_admin_merge_stats *ms = &sw_g.merge_stats;
    ms->merges++;
    ms->merge_rows += sw_merge_rows(f->merge);
    if (f->merge_error) ms->merge_failed++;
    if (peak > ms->peak_bytes) ms->peak_bytes = peak;
    if (peak > 1024 * 1024)
        sw_info("client %s: cross-shard merge held at most %zu KiB", c->addr, peak / 1024);
    c->txn_status = status;
    sw_merge_free(f->merge);
    f->merge = NULL;
    sw_merge_spec_free(f->spec_owned);
    f->spec_owned = NULL;
    f->active = false;
}

static void pump(sw_client *c)
{
    sw_fan *f = &c->fan;
    bool blocked[SW_MAX_NODES * 2];
    for (;;) {
        if (!f->active || !f->merge || c->c.closing) return;
        bool progress = false;
        for (int i = 0; i < f->n; i++) {
            sw_server *s = f->srv[i];
            blocked[i] = false;
            bool seen = false;
            for (int j = 0; j < i && !seen; j++) seen = f->srv[j] == s;
            if (seen) continue;
            int r = take(c, s, &blocked[i]);
            if (r < 0 || c->c.closing) return;
            if (r > 0) progress = true;
            if (!f->active || !f->merge) return;
        }
        if (c->c.out.writing) break;  /* the write callback pumps again */
        sw_wbuf *w = sw_out_gen(&c->c);
        size_t start = w->len;
        if (!f->rows_done && !f->error_sent) {
            int rc = sw_merge_emit(f->merge, w, EMIT_CHUNK);
            if (rc == 1) f->rows_done = true;
            if (rc < 0) {
                sw_out_gen_done(&c->c, start);
                merge_failed(c);
                start = w->len;
            }
        }
        if (w->len > start) progress = true;
        sw_out_gen_done(&c->c, start);
        bool done = all_replied(c) && (f->rows_done || f->error_sent);
        if (done) finish(c);
        if (sw_out_flush(&c->c) < 0) {
            sw_client_close(c, "write failed");
            return;
        }
        if (done) {
            sw_routed_after_reply(c);
            return;
        }
        if (!progress) break;
    }
    /* Read only the servers whose rows can be taken. */
    for (int i = 0; i < f->n; i++) {
        sw_server *s = f->srv[i];
        bool seen = false;
        for (int j = 0; j < i && !seen; j++) seen = f->srv[j] == s;
        if (seen || s->c.closing) continue;
        if (blocked[i]) sw_conn_read_stop(&s->c);
        else sw_conn_read_start(&s->c);
    }
}

void sw_merged_server(sw_server *s)
{
    sw_client *c = s->client;
    if (c) pump(c);
}

void sw_merged_drained(sw_client *c)
{
    if (c->fan.active && c->fan.merge) pump(c);
}
