/*
 * pipeline.c - the one client loop.  Each message the client sent is
 * framed in place, then handed on by the database's kind: a database whose
 * tables live on one node forwards every message to the client's server
 * as it comes (direct.c); one with a shard map routes each statement to
 * its node or nodes (routed.c), where a single node is forwarded to just
 * the same way and several are fanned out or merged.  Whatever the route,
 * the loop stops when a server must be waited for, when a server's outgoing
 * batch is full or in flight, when a message is incomplete, or when the
 * replies of the servers linked so far must come first; the server side
 * (relay.c) starts it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

static const char *const flow_names[] = {"run", "stalled", "held"};

/* The only place a client's flow changes. */
void sw_client_set_flow(sw_client *c, sw_client_flow f)
{
    if (c->flow == f) return;
    sw_debug("client %s pid=%d: flow %s -> %s", c->addr, c->pid, flow_names[c->flow], flow_names[f]);
    c->flow = f;
}

/* The first step of the loop: pass through the rest of a large
 * CopyData, frame the next message, close on Terminate or a bad length,
 * drop messages up to Sync after an error.  SW_FRAME_MSG leaves a header
 * for the message at the parse cursor (possibly not all received yet). */
int sw_client_frame(sw_client *c, sw_msg_hdr *h)
{
    sw_iobuf *b = &c->c.in;
    sw_server *s = c->server;
    uint32_t avail = b->recv - b->parse;
    uint32_t max = sw_g.conf->max_message_size;
    if (c->c.stream_left) {
        /* The rest of a large CopyData passes through as it arrives. */
        if (avail == 0) return SW_FRAME_STOP;
        if (!c->c.stream_drop && (!s || !sw_out_room(&s->c))) return SW_FRAME_STOP;
        uint32_t n = avail < c->c.stream_left ? avail : c->c.stream_left;
        if (!c->c.stream_drop) sw_out_src(&s->c, &c->c, b->data + b->parse, n);
        b->parse += n;
        c->c.stream_left -= n;
        if (!c->c.stream_left) c->c.stream_drop = false;
        return SW_FRAME_AGAIN;
    }
    int rc = sw_msg_peek(b->data + b->parse, avail, max, h);
    if (rc < 0) {
        char msg[128];
        if (rc == -EMSGSIZE)
            snprintf(msg, sizeof msg, "message of %u bytes exceeds the limit of %u bytes",
                     (unsigned)sw_be32(b->data + b->parse + 1) + 1, (unsigned)max);
        else
            snprintf(msg, sizeof msg, "invalid message length");
        sw_client_protocol_error(c, msg);
        return SW_FRAME_CLOSED;
    }
    if (rc == 0) return SW_FRAME_STOP;
    if (h->type == SW_FE_TERMINATE) {
        /* PostgreSQL answers everything sent before it, then goes: the
         * Terminate waits until the linked servers owe nothing more. */
        sw_server *ls;
        SW_EACH_LINK(c, m, ls)
            if (sw_ledger_server_busy(&ls->owed) || ls->c.stream_left) return SW_FRAME_STOP;
        if (c->fan.kind != SW_FAN_NONE || c->commit) return SW_FRAME_STOP;
        sw_client_close(c, NULL);
        return SW_FRAME_CLOSED;
    }
    if (c->skip_until_sync && h->type != SW_FE_SYNC) {
        /* Dropped like PostgreSQL drops messages after an error. */
        if (avail < h->total) {
            c->c.stream_left = h->total - avail;
            c->c.stream_drop = true;
            b->parse = b->recv;
        } else {
            b->parse += h->total;
        }
        return SW_FRAME_AGAIN;
    }
    return SW_FRAME_MSG;
}

/* Close a linked server whose ledger faulted (its client is told); true
 * when one was. */
static bool links_faulted(sw_client *c)
{
    if (sw_server_check_fault(c->server)) return true;
    if (c->n_links <= 1) return false;  /* c->server is the one */
    sw_server *s;
    SW_EACH_LINK(c, m, s)
        if (sw_server_check_fault(s)) return true;
    return false;
}

/* A linked server is skipping to Sync after an error: PostgreSQL ignores
 * the client's messages up to its Sync, so they are dropped here too,
 * wherever they would have been routed. */
static bool batch_failed(const sw_client *c)
{
    sw_server *s;
    SW_EACH_LINK(c, m, s)
        if (s->owed.skipping) return true;
    return false;
}

/* Whether anything in flight to a linked server still points into c's buffer. */
static bool input_referenced(const sw_client *c)
{
    sw_server *s;
    SW_EACH_LINK(c, m, s)
        if (s->c.out.src == &c->c && (s->c.out.writing || s->c.out.nparts > 0)) return true;
    return false;
}

static void flush_links(sw_client *c)
{
    sw_server *s;
    SW_EACH_LINK(c, m, s) {
        if (s->c.out.nparts > 0 && !s->c.out.writing && sw_out_flush(&s->c) < 0)
            sw_server_close(s, "write to server failed");
        if (c->c.closing) return;
    }
}

void sw_client_run(sw_client *c)
{
    sw_iobuf *b = &c->c.in;
    if (c->flow == SW_FLOW_STALLED) sw_client_set_flow(c, SW_FLOW_RUN);  /* whatever it waited for, try again */
    /* A new transaction routes by the newest map. */
    if (c->routed && c->n_links == 0 && c->txn_status == 'I' && c->fan.kind == SW_FAN_NONE) c->router = sw_g.router;
    while (!c->c.closing && !c->c.paused) {
        if (c->state == SW_CLIENT_WAITING) return;
        if (c->fan.kind != SW_FAN_NONE || c->commit) { sw_client_set_flow(c, SW_FLOW_STALLED); break; }
        if (c->flow == SW_FLOW_HELD) {
            if (c->server && c->server->owed.n_proxy_parses > 0) break;
            sw_client_set_flow(c, SW_FLOW_RUN);
        }
        sw_server *s = c->server;
        uint32_t avail = b->recv - b->parse;
        sw_msg_hdr h;
        int fr = sw_client_frame(c, &h);
        if (fr == SW_FRAME_CLOSED) return;
        if (fr == SW_FRAME_STOP) break;
        if (fr == SW_FRAME_AGAIN) continue;
        if (c->routed && h.type != SW_FE_SYNC && !c->copyin && batch_failed(c)) {
            c->skip_until_sync = true;  /* the next frame drops it */
            continue;
        }
        if (avail < h.total) {
            if (h.type == SW_FE_COPY_DATA && s && !c->copyin && h.total > SW_BUF_WHOLE_MAX) {
                if (!sw_out_room(&s->c)) break;
                sw_out_src(&s->c, &c->c, b->data + b->parse, avail);
                c->c.stream_left = h.total - avail;
                c->c.stream_drop = false;
                b->parse = b->recv;
                continue;
            }
            if (!sw_iobuf_make_room(&c->c, h.total)) {
                if (b->done != b->parse) break;
                sw_client_protocol_error(c, "out of memory for message");
                return;
            }
            break;
        }
        if (c->restore_msg && (h.type == SW_FE_QUERY || h.type == SW_FE_PARSE || h.type == SW_FE_BIND ||
                               h.type == SW_FE_DESCRIBE || h.type == SW_FE_EXECUTE || h.type == SW_FE_CLOSE ||
                               h.type == SW_FE_FUNCTION_CALL)) {
            /* the statement that waited for its session's settings fails
             * with their error; it never ran */
            if (!sw_client_quiescent(c)) {
                sw_client_set_flow(c, SW_FLOW_STALLED);
                break;
            }
            b->parse += h.total;
            if (h.type == SW_FE_QUERY || h.type == SW_FE_FUNCTION_CALL) sw_local_error(c, c->restore_state, c->restore_msg);
            else sw_ext_error(c, c->restore_state, c->restore_msg);
            free(c->restore_msg);
            c->restore_msg = NULL;
            continue;
        }
        if (s && s->applied.fp != c->wanted.fp && s->txn_status == 'I' && sw_ledger_at_rest(&s->owed))
            sw_settings_sync(c, s);  /* settings changed between transactions (RESET) */
        const uint8_t *p = b->data + b->parse;
        int r;
        if (c->copyin) {
            r = sw_copyin_client(c, h.type, p, h.total);
            if (r == SW_MSG_WAIT) {
                sw_client_set_flow(c, SW_FLOW_STALLED);
                break;
            }
            continue;
        }
        r = c->routed ? sw_routed_message(c, h.type, p, h.total) : sw_direct_message(c, h.type, p, h.total);
        if (r != SW_MSG_WAIT) sw_client_route_drop(c);  /* kept only while the message waits */
        if (r == SW_MSG_CLOSED || c->c.closing) return;
        if (links_faulted(c)) {
            /* The client was told; what it sent after the message is still
             * to be read (nothing else would wake this loop for it). */
            if (c->c.closing) return;
            continue;
        }
        if (r == SW_MSG_WAIT) {
            if (c->state != SW_CLIENT_WAITING) sw_client_set_flow(c, SW_FLOW_STALLED);
            break;
        }
        if (c->server) sw_emit_fakes(c->server);
        if (c->flow == SW_FLOW_HELD) break;
    }
    if (c->c.closing) return;
    if (b->done < b->parse && !input_referenced(c)) b->done = b->parse;
    flush_links(c);
    if (c->c.closing) return;
    if (sw_out_flush(&c->c) < 0) {
        sw_client_close(c, "write failed");
        return;
    }
    if (c->copyin && c->flow == SW_FLOW_STALLED) {
        /* a COPY target cannot take more: the client waits, unread, until
         * the target's write completes */
        sw_conn_read_stop(&c->c);
        return;
    }
    if (!c->c.closing && !c->c.paused && c->state != SW_CLIENT_WAITING) sw_conn_read_start(&c->c);
}
