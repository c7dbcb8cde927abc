/*
 * failure.c - what a client hears when shardwire cannot give it a server's
 * answer: its server died (every reply still owed is answered, one error
 * per batch and one ReadyForQuery per Sync, and an open transaction is
 * failed from the client's view), no server could be had (every buffered
 * request answered as failed), or it broke the protocol (FATAL, closed).
 * The client's input stays framed in every case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

/* What a dead server still owed the client, answered by shardwire. */
typedef struct lost_reply {
    sw_wbuf *w;
    const char *sqlstate, *msg;
    char status;
    bool error_sent;       /* the batch in progress had its error already (fan-out) */
    int n;
} lost_reply;

static void lost_owe(void *ctx, char what)
{
    lost_reply *x = ctx;
    x->n++;
    if (what == 'Z') {
        sw_build_ready(x->w, x->status);
        x->error_sent = false;
    } else if (!x->error_sent) {
        sw_build_error(x->w, 'E', "ERROR", x->sqlstate, x->msg, NULL, NULL);
    }
}

/* The linked server that owes the client replies: s itself, or in a
 * fan-out or multi-node transaction another one (the transaction is lost
 * on all of them, and they all go). */
static sw_server *owing_server(sw_client *c, sw_server *s)
{
    if (sw_ledger_owes_client(&s->owed)) return s;
    for (int i = 0; i < c->fan.n && c->fan.kind != SW_FAN_NONE; i++)
        if (c->fan.srv[i] && sw_ledger_owes_client(&c->fan.srv[i]->owed)) return c->fan.srv[i];
    sw_server *ls;
    SW_EACH_LINK(c, m, ls)
        if (sw_ledger_owes_client(&ls->owed)) return ls;
    if (c->server && sw_ledger_owes_client(&c->server->owed)) return c->server;
    return NULL;
}

void sw_client_server_lost(sw_client *c, sw_server *s, const char *sqlstate, const char *msg)
{
    if (c->commit && sw_commit_server_lost(c, s)) {
        if (sw_out_flush(&c->c) < 0) sw_client_close(c, "write failed");
        return;
    }
    if (s->fatal_state[0]) {
        sqlstate = s->fatal_state;
        if (s->fatal_msg) msg = s->fatal_msg;
    }
    if (s->pool->mode == SW_POOL_SESSION) {
        /* The session is gone with its server, as with PostgreSQL. */
        if (!s->fatal_forwarded) sw_client_error(c, "FATAL", sqlstate, msg, NULL);
        else sw_out_flush(&c->c);
        sw_client_close(c, NULL);
        return;
    }
    /* a pipelined batch shardwire made a transaction is not the client's:
     * it fails with the batch, which ends idle */
    bool in_txn = c->txn_status != 'I' && c->batch == SW_BATCH_NONE;
    lost_reply x = {.w = sw_out_gen(&c->c), .sqlstate = sqlstate, .msg = msg, .status = in_txn ? 'E' : 'I',
                    .error_sent = c->fan.kind != SW_FAN_NONE && c->fan.failure != SW_FAN_FINE};
    size_t start = x.w->len;
    sw_server *owing = owing_server(c, s);
    bool open = owing && sw_ledger_lost(&owing->owed, lost_owe, &x);
    sw_out_gen_done(&c->c, start);
    sw_client_unlink(c, false);  /* the transaction is broken on every node it touched */
    free(c->begin_sql);
    c->begin_sql = NULL;
    s->client = NULL;
    sw_client_set_flow(c, SW_FLOW_RUN);
    c->skip_until_sync = open;
    sw_sessops_clear(&c->pending);
    c->txn_failed = false;
    if (in_txn) {
        /* Failed from the client's view, as after an error: statements get
         * 25P02 until it ends the transaction, which rolls back. */
        c->proxy_failed = true;
        c->txn_status = 'E';
        if (x.n == 0) {
            free(c->lost_msg);
            c->lost_msg = strdup(msg);
        }
    } else {
        c->txn_status = 'I';
    }
    if (sw_out_flush(&c->c) < 0) {
        sw_client_close(c, "write failed");
        return;
    }
    /* A statement held back for its session's settings, which could not
     * be restored here: nothing else would wake the client for it. */
    if (c->restore_msg && c->c.in.recv > c->c.in.parse && !c->c.closing) sw_client_process(c);
}

void sw_client_fail_pending(sw_client *c, const char *sqlstate, const char *msg)
{
    sw_iobuf *b = &c->c.in;
    /* a pipelined batch shardwire made a transaction is not the client's:
     * it fails with the batch, which ends idle */
    bool in_txn = c->txn_status != 'I' && c->batch == SW_BATCH_NONE;
    char status = in_txn ? 'E' : 'I';
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    bool erred = c->skip_until_sync;
    while (b->recv - b->parse >= SW_HDR_LEN && !c->c.stream_left) {
        sw_msg_hdr h;
        if (sw_msg_peek(b->data + b->parse, b->recv - b->parse, sw_g.conf->max_message_size, &h) != 1 ||
            b->recv - b->parse < h.total)
            break;  /* the rest is framed when it arrives */
        switch (h.type) {
        case SW_FE_QUERY:
        case SW_FE_FUNCTION_CALL:
            if (erred) break;  /* skipped until Sync, as the server would */
            sw_build_error(w, 'E', "ERROR", sqlstate, msg, NULL, NULL);
            sw_build_ready(w, status);
            break;
        case SW_FE_SYNC:
            sw_build_ready(w, status);
            erred = false;
            break;
        case SW_FE_FLUSH:
        case SW_FE_COPY_DATA:
        case SW_FE_COPY_DONE:
        case SW_FE_COPY_FAIL:
            break;
        case SW_FE_TERMINATE:
            goto out;  /* the loop closes the client on it */
        default:
            if (!erred) sw_build_error(w, 'E', "ERROR", sqlstate, msg, NULL, NULL);
            erred = true;
            break;
        }
        b->parse += h.total;
    }
out:
    sw_out_gen_done(&c->c, start);
    if (!c->c.out.writing) b->done = b->parse;
    c->skip_until_sync = erred;
    if (in_txn) {
        c->proxy_failed = true;
        c->txn_status = 'E';
    }
    if (sw_out_flush(&c->c) < 0) sw_client_close(c, "write failed");
}

void sw_client_protocol_error(sw_client *c, const char *msg)
{
    sw_client_error(c, "FATAL", "08P01", msg, NULL);
    sw_client_close(c, msg);
}

/* Pick (or re-pick after a reload) the pool and ask it for a server. */
