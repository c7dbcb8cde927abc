/*
 * direct.c - statements of a database whose tables all live on one node:
 * every message goes to the client's server as it comes, pipelining
 * included.  Named prepared statements are renamed to their shared
 * server-side names (prepared on demand on whichever server the client
 * holds), Close of a statement is answered by shardwire, SET/RESET are
 * noted.  Between transactions, Parse, Close and Sync are answered without
 * a server; after the client's server died inside a transaction, its
 * statements are answered as PostgreSQL answers them in a failed one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

/* Forward message [p, p+total) unchanged. */
static inline void fwd(sw_client *c, const uint8_t *p, uint32_t total)
{
    sw_out_src(&c->server->c, &c->c, p, total);
}

static void handle_parse(sw_client *c, const uint8_t *p, uint32_t total)
{
    sw_server *s = c->server;
    sw_parse_msg m;
    if (sw_parse_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0) {
        sw_client_protocol_error(c, "invalid Parse message");
        return;
    }
    char msg[400], state[6];
    if (!sw_session_parse(c, m.query, m.query_len, msg, sizeof msg)) {
        sw_push_fake_error(c, "0A000", msg);  /* in its place among the server's replies */
        return;
    }
    if (!m.name[0]) {  /* the unnamed statement lives on the server only */
        fwd(c, p, total);
        c->unnamed_inflight++;
        c->unnamed_batch = true;
        sw_owe_stmt(s, SW_OWE_PARSE, false, 0, sw_stmt_name_hash(""));
        return;
    }
    bool taken = sw_client_stmt_find(c, m.name) != NULL;
    if ((taken || c->txn_status == 'E') && sw_parse_refused(c, &m, taken, state, msg, sizeof msg)) {
        sw_push_fake_error(c, state, msg);  /* what the server would say, in its order */
        return;
    }
    sw_stmt *st = sw_client_stmt_add(c, m.name, m.query, m.query_len, m.nparams, m.param_types);
    if (!st) {
        sw_push_fake_error(c, "53200", "out of memory");
        return;
    }
    sw_client_stmt *cs = sw_client_stmt_find(c, m.name);
    if (cs && !sw_ledger_quiet(&s->owed)) {
        /* an earlier request of this batch may fail: then the server skips
         * this Parse, and a later batch must not count on the name */
        cs->unconfirmed = true;
        cs->batch = c->batch_no;
        c->n_unconfirmed++;
    }
    if (sw_map_get(&s->stmts, st->id)) {
        sw_push_fake_named(s, SW_BE_PARSE_COMPLETE, sw_stmt_name_hash(m.name), st->id);
        return;
    }
    /* Rename: new header and name, then the original query and types. */
    size_t name_len = strlen(m.name);
    const uint8_t *tail = (const uint8_t *)m.name + name_len + 1;
    uint32_t tail_len = (uint32_t)(p + total - tail);
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    char nb[64];
    const char *sname = sw_server_stmt_name(s, st, nb, sizeof nb);
    sw_msg_header(w, SW_FE_PARSE, strlen(sname) + 1 + tail_len);
    sw_wbuf_cstr(w, sname);
    sw_out_gen_done(&s->c, start);
    sw_out_src(&s->c, &c->c, tail, tail_len);
    if (sw_map_put(&s->stmts, st->id, st) != 0) {
        sw_server_fault(s, "53200", "out of memory");
        return;
    }
    sw_owe_stmt(s, SW_OWE_PARSE, false, st->id, sw_stmt_name_hash(m.name));
}

static void handle_bind(sw_client *c, const uint8_t *p, uint32_t total)
{
    sw_server *s = c->server;
    sw_bind_msg m;
    if (sw_bind_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0) {
        sw_client_protocol_error(c, "invalid Bind message");
        return;
    }
    if (!m.stmt[0]) {
        if (c->unnamed_at != s && !c->unnamed_batch) {  /* none of this client's here: never another client's */
            sw_push_fake_error(c, "26000", "unnamed prepared statement does not exist");
            return;
        }
        fwd(c, p, total);
        sw_owe(s, SW_OWE_BIND, false);
        return;
    }
    sw_client_stmt *cs = sw_client_stmt_find(c, m.stmt);
    if (!cs) {
        char msg[160];
        snprintf(msg, sizeof msg, "prepared statement \"%s\" does not exist", m.stmt);
        sw_push_fake_error(c, "26000", msg);
        return;
    }
    sw_ensure_prepared(s, cs->stmt);
    const uint8_t *tail = p + SW_HDR_LEN + m.tail_off;
    uint32_t tail_len = (uint32_t)(p + total - tail);
    size_t portal_len = strlen(m.portal);
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    char nb[64];
    const char *sname = sw_server_stmt_name(s, cs->stmt, nb, sizeof nb);
    sw_msg_header(w, SW_FE_BIND, portal_len + 1 + strlen(sname) + 1 + tail_len);
    sw_wbuf_cstr(w, m.portal);
    sw_wbuf_cstr(w, sname);
    sw_out_gen_done(&s->c, start);
    sw_out_src(&s->c, &c->c, tail, tail_len);
    sw_owe(s, SW_OWE_BIND, false);
}

static void handle_describe_close(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    sw_server *s = c->server;
    sw_target_msg m;
    if (sw_target_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0) {
        sw_client_protocol_error(c, type == SW_FE_DESCRIBE ? "invalid Describe message" : "invalid Close message");
        return;
    }
    sw_owe_kind kind = type == SW_FE_CLOSE ? SW_OWE_CLOSE
                     : m.kind == 'S' ? SW_OWE_DESCRIBE_STMT : SW_OWE_DESCRIBE_PORTAL;
    if (m.kind == 'S' && !m.name[0] && c->unnamed_at != s && !c->unnamed_batch) {
        /* another client's unnamed statement, if any: not this one's */
        if (type == SW_FE_CLOSE) sw_push_fake(s, SW_BE_CLOSE_COMPLETE);
        else sw_push_fake_error(c, "26000", "unnamed prepared statement does not exist");
        return;
    }
    if (m.kind != 'S' || !m.name[0]) {
        fwd(c, p, total);
        sw_owe(s, kind, false);
        return;
    }
    sw_client_stmt *cs = sw_client_stmt_find(c, m.name);
    if (type == SW_FE_CLOSE) {
        /* Every earlier reply is in (sw_direct_message waited): a server
         * skipping to Sync would skip this Close, and the name stays. */
        if (!s->owed.skipping) sw_client_stmt_drop(c, m.name);
        sw_push_fake(s, SW_BE_CLOSE_COMPLETE);
        return;
    }
    if (!cs) {
        char msg[160];
        snprintf(msg, sizeof msg, "prepared statement \"%s\" does not exist", m.name);
        sw_push_fake_error(c, "26000", msg);
        return;
    }
    sw_ensure_prepared(s, cs->stmt);
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    char nb[64];
    sw_build_target(w, SW_FE_DESCRIBE, 'S', sw_server_stmt_name(s, cs->stmt, nb, sizeof nb));
    sw_out_gen_done(&s->c, start);
    sw_owe(s, SW_OWE_DESCRIBE_STMT, false);
}

/* A Bind, Describe or Close of the unnamed statement while an unnamed
 * Parse of an earlier batch is still unanswered: if the server skipped
 * that Parse, its unnamed statement may be another client's, so the
 * message waits for the answer. */
static bool unnamed_unsettled(const sw_client *c, const sw_server *s, uint8_t type, const uint8_t *p, uint32_t total)
{
    if (c->unnamed_inflight == 0 || c->unnamed_batch || c->unnamed_at == s) return false;
    const uint8_t *b = p + SW_HDR_LEN, *end = p + total;
    if (type == SW_FE_BIND) {
        const uint8_t *z = memchr(b, 0, (size_t)(end - b));  /* the portal name */
        return z && z + 1 < end && z[1] == 0;
    }
    if (type == SW_FE_DESCRIBE || type == SW_FE_CLOSE) return end - b >= 2 && b[0] == 'S' && b[1] == 0;
    return false;
}

/* A Bind, Describe or Close of a named statement whose Parse is still in
 * flight from an earlier batch: the server may skip that Parse (an error
 * before it in its batch), so the message waits for the answer. */
static bool named_unsettled(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    const char *b = (const char *)p + SW_HDR_LEN, *end = (const char *)p + total;
    const char *name;
    if (type == SW_FE_BIND) {
        const char *z = memchr(b, 0, (size_t)(end - b));  /* the portal name */
        if (!z) return false;
        name = z + 1;
    } else if (type == SW_FE_DESCRIBE || type == SW_FE_CLOSE) {
        if (end - b < 2 || b[0] != 'S') return false;
        name = b + 1;
    } else {
        return false;
    }
    if (name >= end || !name[0] || !memchr(name, 0, (size_t)(end - name))) return false;
    sw_client_stmt *cs = sw_client_stmt_find(c, name);
    return cs && cs->unconfirmed && cs->batch != c->batch_no;
}

/* A named Parse shardwire answers itself (the server has the statement). */
static bool answered_here(sw_client *c, sw_server *s, const uint8_t *p, uint32_t total)
{
    sw_parse_msg m;
    if (sw_parse_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0 || !m.name[0]) return false;
    if (sw_client_stmt_find(c, m.name)) return true;  /* refused here */
    return sw_map_get(&s->stmts, sw_stmt_id_of(m.query, m.query_len, m.nparams, m.param_types)) != NULL;
}

int sw_direct_message(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    sw_iobuf *b = &c->c.in;
    sw_server *s = c->server;
    if (!s && c->txn_status == 'I' && sw_local_between_txns(c, type, p, total)) {
        b->parse += total;
        return SW_MSG_DONE;
    }
    if (!s && c->proxy_failed && sw_local_failed_txn(c, type, p, total)) {
        b->parse += total;
        return SW_MSG_DONE;
    }
    if (!s) {
        if (!sw_client_use_node(c, c->node_index)) return c->c.closing ? SW_MSG_CLOSED : SW_MSG_WAIT;
        s = c->server;
    }
    if (s->restoring && type != SW_FE_TERMINATE) return SW_MSG_WAIT;  /* the client's settings first */
    if (!sw_out_room(&s->c)) return SW_MSG_WAIT;
    if (type == SW_FE_PARSE && s->owed.n_ready > 0 && (c->txn_status == 'E' || answered_here(c, s, p, total)))
        return SW_MSG_WAIT;  /* its answer depends on the transaction state the pending replies tell */
    if (unnamed_unsettled(c, s, type, p, total)) return SW_MSG_WAIT;
    if (c->n_unconfirmed && named_unsettled(c, type, p, total)) return SW_MSG_WAIT;
    if (type == SW_FE_CLOSE && s->owed.count > 0 && total > SW_HDR_LEN + 1 && p[SW_HDR_LEN] == 'S' &&
        p[SW_HDR_LEN + 1] != 0) {
        /* Whether the server skips it depends on the replies still owed;
         * a Flush makes the server send those of this batch (it answers
         * nothing itself, and changes no byte the client gets). */
        sw_wbuf *w = sw_out_gen(&s->c);
        size_t start = w->len;
        sw_build_empty(w, SW_FE_FLUSH);
        sw_out_gen_done(&s->c, start);
        return SW_MSG_WAIT;
    }
    b->parse += total;
    switch (type) {
    case SW_FE_QUERY: {
        sw_query_msg q;
        if (sw_query_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &q) < 0) {
            sw_client_protocol_error(c, "invalid Query message");
            return SW_MSG_CLOSED;
        }
        char dname[64];
        if (c->txn_status != 'E' && sw_sql_deallocate_name(q.sql, q.len, dname, sizeof dname) &&
            sw_client_stmt_find(c, dname)) {
            /* the client's protocol statement: on the server it has
             * another name (sw_...), and PostgreSQL's DEALLOCATE drops it */
            if (!sw_ledger_quiet(&s->owed)) {
                b->parse -= total;
                return SW_MSG_WAIT;
            }
            sw_client_stmt_drop(c, dname);
            sw_local_tag(c, "DEALLOCATE", c->txn_status);
            break;
        }
        if (sw_g.conf->session_state == SW_SESSION_STATE_REFUSE && !sw_ledger_quiet(&s->owed)) {
            /* a refusal is answered here: after what the server still owes */
            b->parse -= total;
            return SW_MSG_WAIT;
        }
        if (!sw_session_statement(c, q.sql, q.len, &s, 1)) break;
        fwd(c, p, total);
        sw_owe(s, SW_OWE_QUERY, false);
        break;
    }
    case SW_FE_PARSE: handle_parse(c, p, total); break;
    case SW_FE_BIND: handle_bind(c, p, total); break;
    case SW_FE_DESCRIBE:
    case SW_FE_CLOSE: handle_describe_close(c, type, p, total); break;
    case SW_FE_EXECUTE:
        fwd(c, p, total);
        sw_owe(s, SW_OWE_EXECUTE, false);
        break;
    case SW_FE_SYNC:
        c->skip_until_sync = false;
        c->unnamed_batch = false;
        c->batch_no++;
        fwd(c, p, total);
        sw_owe(s, SW_OWE_SYNC, false);
        /* A later segment must not count on a Parse this one sent on
         * demand: an error here would make the server skip it. */
        if (s->owed.n_proxy_parses > 0) sw_client_set_flow(c, SW_FLOW_HELD);
        break;
    case SW_FE_FUNCTION_CALL:
        fwd(c, p, total);
        sw_owe(s, SW_OWE_FUNCTION, false);
        break;
    case SW_FE_COPY_DONE:
    case SW_FE_COPY_FAIL:
        fwd(c, p, total);
        sw_ledger_copy_end(&s->owed);
        break;
    case SW_FE_FLUSH:
    case SW_FE_COPY_DATA:
        fwd(c, p, total);
        break;
    default: {
        char msg[64];
        snprintf(msg, sizeof msg, "invalid frontend message type %d", type);
        sw_client_protocol_error(c, msg);
        return SW_MSG_CLOSED;
    }
    }
    return c->c.closing ? SW_MSG_CLOSED : SW_MSG_DONE;
}
