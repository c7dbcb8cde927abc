/*
 * relay.c - server to client: what a linked server sends is read in place,
 * consumed against its ledger (ledger.h) and forwarded straight from its
 * input buffer, or swallowed when the request was shardwire's own.  Fake
 * replies shardwire owes are emitted exactly at their place in the stream.
 * Large rows and copy data pass through in pieces.  Replies of several
 * servers to one statement go through the fan-out or merge filters.  When
 * every linked server is done and idle, the transaction is over and in
 * transaction pooling the servers go back to their pools.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

/* After a reply: end the transaction when every linked server is done and
 * idle, and let a stalled or held client go on. */
void sw_client_after_reply(sw_client *c)
{
    if (c->flow == SW_FLOW_HELD && c->server && c->server->owed.n_proxy_parses == 0 && !c->c.paused) {
        sw_client_process(c);  /* the Parses a held client waited for are confirmed */
        if (c->c.closing) return;
    }
    if (c->fan.kind != SW_FAN_NONE || !sw_client_quiescent(c)) {
        /* a Terminate waits only for the replies the servers will send */
        /* a stalled message may wait for less than quiet (a Parse for the
         * transaction's state, a Terminate for the replies the servers will
         * still send): it looks again */
        const sw_iobuf *b = &c->c.in;
        if (b->recv > b->parse && !c->c.stream_left &&
            (c->flow == SW_FLOW_STALLED || b->data[b->parse] == SW_FE_TERMINATE))
            sw_client_process(c);
        return;
    }
    sw_server *ls;
    SW_EACH_LINK(c, m, ls)
        if (c->c.out.writing && c->c.out.src == &ls->c) return;  /* after write_cb */
    if (c->c.stream_left && !c->c.stream_drop) return;
    bool session = c->pool && c->pool->mode == SW_POOL_SESSION;
    if (c->after_restore) {
        /* the statement held back for the settings just restored goes
         * now, on this server: released instead, it would need them
         * restored again on the next one, and so on */
        c->after_restore = false;
        if (c->c.in.recv > c->c.in.parse) {
            sw_client_process(c);
            if (c->c.closing || !sw_client_quiescent(c)) return;
        }
    }
    if (c->txn_status == 'I' && c->n_links > 0) {
        bool idle = true;
        SW_EACH_LINK(c, m, ls)
            if (ls->txn_status != 'I' || !sw_ledger_at_rest(&ls->owed)) idle = false;
        /* a pinned client keeps its servers (sw/session.h) */
        if (idle && ((!session && !c->pins) || c->terminate_after_txn)) {
            sw_client_unlink(c, true);
            if (c->terminate_after_txn) {
                sw_client_error(c, "FATAL", "57P01", "terminating connection due to administrator command", NULL);
                sw_client_close(c, NULL);
                return;
            }
        }
    }
    if (c->txn_status == 'I') {
        free(c->begin_sql);
        c->begin_sql = NULL;
        c->proxy_failed = false;
    }
    if (c->c.in.recv > c->c.in.parse || c->flow == SW_FLOW_STALLED) sw_client_process(c);
}

/* A FATAL or PANIC error: the server is about to go away. */
static bool error_is_fatal(const uint8_t *p, uint32_t total, sw_error_fields *f)
{
    if (sw_error_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, f) < 0) return false;
    const char *sev = f->severity_v ? f->severity_v : f->severity;
    return sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0);
}

/* A message from the server while linked: consumed against its ledger,
 * then forwarded (or swallowed when the request was shardwire's own).  A
 * message that does not fit what the server owes faults the server. */
void sw_relay_server_message(sw_server *s, sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    sw_error_fields ef;
    memset(&ef, 0, sizeof ef);
    if (type == SW_BE_ERROR && error_is_fatal(p, total, &ef)) {
        /* The connection ends after this.  In session mode the client's
         * session ends with it and sees the server's own words; otherwise
         * what it is owed is answered when the connection closes, with
         * this error's SQLSTATE and message. */
        s->dead = true;
        snprintf(s->fatal_state, sizeof s->fatal_state, "%s", ef.code ? ef.code : "08006");
        free(s->fatal_msg);
        s->fatal_msg = strdup(ef.message ? ef.message : "server closed the connection");
        if (s->pool->mode == SW_POOL_SESSION) {
            s->fatal_forwarded = true;
            sw_out_src(&c->c, &s->c, p, total);
        }
        return;
    }
    sw_reply r = sw_ledger_reply(&s->owed, type);
    if (r.verdict == SW_REPLY_BAD) {
        char msg[160];
        snprintf(msg, sizeof msg, "protocol out of step with node \"%s\": unexpected message type '%c'",
                 s->pool->node_name, type >= 32 && type < 127 ? type : '?');
        sw_server_fault(s, "08P01", msg);
        return;
    }
    bool mine = r.verdict != SW_REPLY_ASYNC && r.owner != SW_OWNER_CLIENT;
    bool forward = !mine;
    if (mine && r.error && r.owner == SW_OWNER_PROXY) {
        if (r.kind == SW_OWE_PARSE) {
            forward = true;  /* an on-demand Parse failed: the client's Bind fails with it */
        } else {
            /* Replaying the client's settings or transaction failed: the
             * connection is not what the client's statements expect. */
            if (sw_error_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &ef) < 0) memset(&ef, 0, sizeof ef);
            char msg[300];
            snprintf(msg, sizeof msg, "could not restore the session on node \"%s\": %s", s->pool->node_name,
                     ef.message ? ef.message : "error");
            const char *code = ef.code && strlen(ef.code) == 5 ? ef.code : "08006";
            if (s->restoring && c) {
                /* the client's settings: its waiting statement never ran;
                 * it fails with this, and the session starts over from its
                 * startup settings (which no longer include what failed) */
                snprintf(msg, sizeof msg,
                         "could not restore this session's settings on node \"%s\": %s; they are reset to "
                         "the connection's startup values",
                         s->pool->node_name, ef.message ? ef.message : "error");
                free(c->restore_msg);
                c->restore_msg = strdup(msg);
                snprintf(c->restore_state, sizeof c->restore_state, "%s", code);
                sw_paramset_copy(&c->wanted, &c->startup);
            }
            sw_server_fault(s, code, msg);
            return;
        }
    }
    switch (type) {
    case SW_BE_ERROR:
        if (forward) c->txn_failed = true;
        if (forward && total > SW_HDR_LEN + 20 && memmem(p, total, "cached plan must not change result type", 39)) {
            /* The server's statement is stale: the client will prepare it
             * again, and must get a new one, not this one under the same
             * sw_ name.  New names for all of this server's statements. */
            s->stmt_gen++;
            sw_map_free(&s->stmts);
            sw_map_init(&s->stmts);
        }
        break;
    case SW_BE_READY:
        if (total >= 6) s->txn_status = (char)p[SW_HDR_LEN];
        if (mine && s->restoring) {
            s->restoring = false;  /* the settings hold: the client goes on */
            if (c) c->after_restore = true;
        }
        if (!mine) {
            c->txn_status = s->txn_status;
            if (s->txn_status == 'I') sw_settle_sessops(c, s);
        }
        break;
    case SW_BE_COMMAND_COMPLETE:
        if (!mine && c->pending.n && total >= SW_HDR_LEN + 8 && memcmp(p + SW_HDR_LEN, "ROLLBACK", 8) == 0)
            c->txn_failed = true;
        break;
    case SW_BE_PARAM_STATUS:
        /* what the server made of the client's SET (DateStyle 'ymd' after
         * 'iso' is "ISO, YMD"): the value to replay elsewhere */
        if (!mine && c->pending.n) sw_settings_reported(c, p + SW_HDR_LEN, total - SW_HDR_LEN);
        break;
    default:
        break;
    }
    if (r.owner == SW_OWNER_COMMIT && r.verdict != SW_REPLY_ASYNC) {
        sw_commit_reply(c, s, type, p, total);
        return;
    }
    if (c->copyin) {
        sw_copyin_filter(c, s, type, p, total, !forward);
        return;
    }
    if (!forward) return;
    if (c->fan.kind == SW_FAN_MERGE) {
        sw_merged_filter(c, s, type, p, total, mine);
        return;
    }
    if (c->fan.kind == SW_FAN_NONE || sw_fan_filter(c, s, type, p, total)) sw_out_src(&c->c, &s->c, p, total);
}

void sw_server_relay(sw_server *s);

void sw_server_relay(sw_server *s)
{
    sw_iobuf *b = &s->c.in;
    sw_client *c = s->client;
    if (c->copyin) {
        sw_copyin_server(s);  /* every target is read at once */
        return;
    }
    if (c->fan.kind == SW_FAN_MERGE) {
        sw_merged_server(s);  /* every target is read at once */
        return;
    }
    if (c->fan.kind != SW_FAN_NONE && sw_fan_current(c) != s) {
        /* Another target is replying: this one waits its turn, unread. */
        sw_conn_read_stop(&s->c);
        sw_server *cur = sw_fan_current(c);
        sw_conn_read_start(&cur->c);
        if (!cur->c.paused && !cur->c.closing) sw_server_relay(cur);
        return;
    }
    while (!s->c.closing && !s->c.paused && s->client == c) {
        if (c->fan.kind != SW_FAN_NONE && sw_fan_current(c) != s) break;
        uint32_t avail = b->recv - b->parse;
        if (c->c.closing) break;
        if (!sw_out_room(&c->c)) break;
        if (s->c.stream_left) {
            if (avail == 0) break;
            uint32_t n = avail < s->c.stream_left ? avail : s->c.stream_left;
            if (!s->c.stream_drop) sw_out_src(&c->c, &s->c, b->data + b->parse, n);
            b->parse += n;
            s->c.stream_left -= n;
            continue;
        }
        sw_emit_fakes(s);
        sw_msg_hdr h;
        int rc = sw_msg_peek(b->data + b->parse, avail, UINT32_MAX, &h);
        if (rc < 0) {
            sw_server_close(s, "invalid message from server");
            return;
        }
        if (rc == 0) break;
        if (avail < h.total) {
            /* Rows and copy data can be huge: pass them through in pieces. */
            bool streamable = h.type == SW_BE_DATA_ROW || h.type == SW_BE_COPY_DATA ||
                              h.type == SW_BE_NOTICE || h.type == SW_BE_NOTIFICATION ||
                              h.type == SW_BE_FUNCTION_RESULT || h.type == SW_BE_ROW_DESC;
            /* (not a row a fan-out holds to give in order) */
            bool held = h.type == SW_BE_DATA_ROW && c && (c->fan.held || c->fan.held_oom);
            if (streamable && !held && h.total > SW_BUF_WHOLE_MAX) {
                sw_reply r = sw_ledger_reply(&s->owed, h.type);
                if (r.verdict == SW_REPLY_BAD) {
                    sw_server_fail(s, "08P01", "protocol out of step with the server");
                    return;
                }
                s->c.stream_drop = r.verdict != SW_REPLY_ASYNC && r.owner != SW_OWNER_CLIENT;
                if (!s->c.stream_drop) sw_out_src(&c->c, &s->c, b->data + b->parse, avail);
                s->c.stream_left = h.total - avail;
                b->parse = b->recv;
                continue;
            }
            if (!sw_server_msg_fits(s, h.total)) return;
            if (!sw_iobuf_make_room(&s->c, h.total)) {
                if (b->done != b->parse) break;
                sw_server_close(s, "out of memory for server message");
                return;
            }
            break;
        }
        const uint8_t *p = b->data + b->parse;
        b->parse += h.total;
        sw_debug("S>%c pid=%d len=%u owed=%u", h.type, c->pid, h.total, s->owed.count);
        sw_relay_server_message(s, c, h.type, p, h.total);
        if (sw_server_check_fault(s)) return;
        if (s->txn_status == 'I' && sw_ledger_at_rest(&s->owed) && h.type == SW_BE_READY) {
            sw_emit_fakes(s);
            break;
        }
    }
    if (s->c.closing || c->c.closing) return;
    sw_emit_fakes(s);
    if (sw_out_flush(&c->c) < 0) {
        sw_client_close(c, "write failed");
        return;
    }
    if (!(c->c.out.writing && c->c.out.src == &s->c)) b->done = b->parse;
    if (sw_out_flush(&s->c) < 0) {
        sw_server_close(s, "write to server failed");
        return;
    }
    if (c->fan.kind != SW_FAN_NONE && sw_fan_current(c) != s && s->client == c) {
        /* This target is done: the next one's replies flow now. */
        sw_server *next = sw_fan_current(c);
        sw_conn_read_start(&next->c);
        sw_server_relay(next);
        return;
    }
    if (!s->c.closing && s->client == c && s->state == SW_SERVER_ACTIVE) sw_client_after_reply(c);
}
