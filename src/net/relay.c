/*
 * relay.c - the data path between a logged-in client and its linked server.
 *
 * Client to server: each complete message is looked at by its type byte and
 * normally forwarded straight from the client's input buffer.  Named
 * prepared statements are renamed to their shared server-side names
 * (prepared on demand on whichever server the client holds), Close of a
 * statement is answered by shardwire, SET/RESET are noted so that the
 * client's settings follow it from server to server.
 *
 * Server to client: replies are matched against the server's expect queue,
 * the ordered list of what it owes for each message sent.  Replies to
 * shardwire's own injected messages are swallowed; where shardwire answered
 * the client itself (a fake ParseComplete for a statement the server already
 * has), the fake reply is emitted exactly at its place in the stream.  At
 * ReadyForQuery with nothing outstanding, the transaction is over and in
 * transaction pooling the server goes back to its pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

/* ---------------------------------------------------------------- expect queue */

sw_expect *sw_expect_push(sw_server *s, uint8_t kind, bool hidden)
{
    sw_expectq *q = &s->expect;
    if (q->count == q->cap) {
        uint32_t ncap = q->cap ? q->cap * 2 : 16;
        sw_expect *ni = malloc(ncap * sizeof *ni);
        if (!ni) return NULL;
        for (uint32_t i = 0; i < q->count; i++) ni[i] = q->items[(q->head + i) & (q->cap - 1)];
        free(q->items);
        q->items = ni;
        q->cap = ncap;
        q->head = 0;
    }
    sw_expect *e = &q->items[(q->head + q->count) & (q->cap - 1)];
    q->count++;
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->hidden = hidden;
    return e;
}


void sw_expect_pop(sw_server *s)
{
    sw_expectq *q = &s->expect;
    sw_expect *e = &q->items[q->head];
    if (e->kind == SW_EXP_PARSE && e->hidden) s->parses_unconfirmed--;
    free(e->error);
    e->error = NULL;
    q->head = (q->head + 1) & (q->cap - 1);
    q->count--;
}

static void client_stmt_drop_hash(sw_client *c, uint64_t name_hash, uint64_t stmt_id);

/* A Parse we sent failed or was skipped: the server does not have the
 * statement, and a client Parse that failed leaves no name behind. */
static void parse_failed(sw_server *s, sw_expect *e)
{
    sw_map_del(&s->stmts, e->stmt_id);
    if (e->name_hash && s->client) client_stmt_drop_hash(s->client, e->name_hash, e->stmt_id);
}

/* After an error the server skips everything up to Sync: so do we.  Parses
 * it skipped never prepared their statements. */
static void expect_skip_to_sync(sw_server *s)
{
    sw_expect *e;
    while ((e = sw_expect_head(s)) && e->kind != SW_EXP_SYNC && e->kind != SW_EXP_QUERY) {
        if (e->kind == SW_EXP_PARSE && e->stmt_id) parse_failed(s, e);
        sw_expect_pop(s);
    }
}

/* Emit the fake replies now at the head of the queue. */
void sw_emit_fakes(sw_server *s)
{
    sw_client *c = s->client;
    sw_expect *e;
    while ((e = sw_expect_head(s)) && e->kind == SW_EXP_FAKE) {
        if (c) {
            sw_wbuf *w = sw_out_gen(&c->c);
            size_t start = w->len;
            if (e->fake_type == 'E') {
                sw_build_error(w, 'E', "ERROR", e->error, e->error + strlen(e->error) + 1, NULL, NULL);
                c->txn_failed = true;
            } else {
                sw_build_empty(w, e->fake_type);
            }
            sw_out_gen_done(&c->c, start);
        }
        sw_expect_pop(s);
    }
}

/* ---------------------------------------------------------------- helpers */

void sw_push_fake(sw_server *s, uint8_t type)
{
    sw_expect *e = sw_expect_push(s, SW_EXP_FAKE, false);
    if (e) e->fake_type = type;
}

/* A proxy-detected error in the middle of an extended-protocol batch: the
 * client sees it in order, then everything up to its Sync is dropped, as
 * PostgreSQL would. */
void sw_push_fake_error(sw_client *c, const char *sqlstate, const char *msg)
{
    sw_server *s = c->server;
    sw_expect *e = sw_expect_push(s, SW_EXP_FAKE, false);
    if (!e) return;
    e->fake_type = 'E';
    size_t a = strlen(sqlstate), b = strlen(msg);
    e->error = malloc(a + b + 2);
    if (e->error) {
        memcpy(e->error, sqlstate, a + 1);
        memcpy(e->error + a + 1, msg, b + 1);
    } else {
        e->fake_type = '3';
    }
    c->skip_until_sync = true;
}

/* Make sure the statement exists on the server, preparing it (hidden) first
 * if not. */
void sw_ensure_prepared(sw_server *s, sw_stmt *st)
{
    if (sw_map_get(&s->stmts, st->id)) return;
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_build_parse(w, st->name, st->query, st->query_len, st->nparams, st->param_types);
    sw_out_gen_done(&s->c, start);
    sw_map_put(&s->stmts, st->id, st);
    sw_expect *e = sw_expect_push(s, SW_EXP_PARSE, true);
    if (e) e->stmt_id = st->id;
    s->parses_unconfirmed++;
}

sw_client_stmt *sw_client_stmt_find(sw_client *c, const char *name)
{
    sw_client_stmt *cs = sw_map_get(&c->stmts, sw_stmt_name_hash(name));
    return cs && strcmp(cs->name, name) == 0 ? cs : NULL;
}

/* Record the client's name for a statement.  NULL when out of memory. */
sw_stmt *sw_client_stmt_add(sw_client *c, const char *name, const char *query, size_t qlen,
                                int16_t nparams, const uint8_t *types)
{
    sw_stmt *st = sw_stmt_intern(query, qlen, nparams, types);
    sw_client_stmt *cs = st ? malloc(sizeof *cs) : NULL;
    if (cs) cs->name = strdup(name);
    if (!cs || !cs->name || sw_map_put(&c->stmts, sw_stmt_name_hash(name), cs)) {
        if (cs) free(cs->name);
        free(cs);
        sw_stmt_release(st);
        return NULL;
    }
    cs->stmt = st;
    return st;
}

static void client_stmt_drop_hash(sw_client *c, uint64_t name_hash, uint64_t stmt_id)
{
    sw_client_stmt *cs = sw_map_get(&c->stmts, name_hash);
    if (!cs || cs->stmt->id != stmt_id) return;
    sw_map_del(&c->stmts, name_hash);
    sw_stmt_release(cs->stmt);
    free(cs->name);
    free(cs);
}

/* Forget the client's name (Close); the servers keep their copy for others. */
void sw_client_stmt_drop(sw_client *c, const char *name)
{
    sw_client_stmt *cs = sw_client_stmt_find(c, name);
    if (!cs) return;
    sw_map_del(&c->stmts, sw_stmt_name_hash(name));
    sw_stmt_release(cs->stmt);
    free(cs->name);
    free(cs);
}

/* ---------------------------------------------------------------- linking */

/* A server was just linked to c: bring its settings in line with the
 * client's before anything of the client's runs there. */
void sw_relay_linked(sw_client *c, sw_server *s)
{
    (void)c;
    if (s->applied.fp == c->wanted.fp) return;
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_msg_begin(w, SW_FE_QUERY);
    int n = sw_paramset_diff_sql(&s->applied, &c->wanted, w);
    sw_wbuf_u8(w, 0);
    sw_msg_end(w);
    if (n == 0) {
        w->len = start;
    } else {
        sw_out_gen_done(&s->c, start);
        sw_expect_push(s, SW_EXP_QUERY, true);
    }
    sw_paramset_copy(&s->applied, &c->wanted);
}

void sw_client_unlink(sw_client *c, bool clean)
{
    if (c->routed) {
        sw_routed_unlink_all(c, clean);
        return;
    }
    sw_server *s = c->server;
    if (!s) return;
    c->server = NULL;
    s->client = NULL;
    c->held = false;
    if (c->state == SW_CLIENT_ACTIVE) sw_client_set_state(c, SW_CLIENT_IDLE);
    sw_pool_release(s, clean);
}

/* ---------------------------------------------------------------- session settings */

/* The transaction ended (ReadyForQuery 'I'): SET/RESET seen in it take
 * effect unless it rolled back.  The server's own record follows what the
 * statements did there: RESET returns a server to its default, which may
 * differ from the client's startup value; the next sync mends that. */
void sw_settle_sessops(sw_client *c, sw_server *s)
{
    if (c->pending.n == 0) { c->txn_failed = false; return; }
    if (!c->txn_failed) {
        for (int i = 0; i < c->pending.n; i++) {
            sw_sessop *op = &c->pending.ops[i];
            if (op->kind == SW_SESSOP_SET) {
                sw_paramset_set(&c->wanted, op->name, op->sql);
                if (s) sw_paramset_set(&s->applied, op->name, op->sql);
            } else if (op->kind == SW_SESSOP_RESET) {
                sw_paramset_set(&c->wanted, op->name, sw_paramset_get(&c->startup, op->name));
                if (s) sw_paramset_set(&s->applied, op->name, NULL);
            } else {
                sw_paramset_copy(&c->wanted, &c->startup);
                if (s) sw_paramset_free(&s->applied);
            }
        }
    }
    sw_sessops_clear(&c->pending);
    c->txn_failed = false;
}

/* ---------------------------------------------------------------- client -> server */

void sw_discard_client_input(sw_client *c)
{
    sw_iobuf *b = &c->c.in;
    while (b->recv - b->parse >= SW_HDR_LEN) {
        sw_msg_hdr h;
        if (sw_msg_peek(b->data + b->parse, b->recv - b->parse, UINT32_MAX, &h) != 1) break;
        if (b->recv - b->parse < h.total) {
            c->c.stream_left = h.total - (b->recv - b->parse);
            c->c.stream_drop = true;
            b->parse = b->recv;
            break;
        }
        b->parse += h.total;
    }
    if (!c->c.out.writing) b->done = b->parse;
}

void sw_client_server_lost(sw_client *c, const char *sqlstate, const char *msg)
{
    sw_server *s = c->server;
    if (c->routed) {
        /* The transaction is broken on every node it touched. */
        bool fanning = c->fan.active;
        sw_routed_unlink_all(c, false);
        c->txn_status = 'I';
        free(c->begin_sql);
        c->begin_sql = NULL;
        c->proxy_failed = false;
        (void)fanning;
    } else if (s) {
        c->server = NULL;
        s->client = NULL;
    }
    sw_discard_client_input(c);
    c->skip_until_sync = false;
    c->held = false;
    sw_sessops_clear(&c->pending);
    c->txn_status = 'I';
    if (c->pool && c->pool->mode == SW_POOL_SESSION) {
        sw_client_error(c, "FATAL", sqlstate, msg, NULL);
        sw_client_close(c, NULL);
        return;
    }
    sw_client_set_state(c, SW_CLIENT_IDLE);
    sw_client_error(c, "ERROR", sqlstate, msg, NULL);
}

void sw_client_protocol_error(sw_client *c, const char *msg)
{
    sw_client_error(c, "FATAL", "08P01", msg, NULL);
    sw_client_close(c, msg);
}

/* Pick (or re-pick after a reload) the pool and ask it for a server. */
static void client_request_server(sw_client *c)
{
    if (c->conf_gen != sw_g.conf_gen || !c->pool || c->pool->stale) {
        const sw_conf_user *u = sw_conf_user_find(sw_g.conf, c->user);
        int node = sw_route_default_node(sw_g.conf, c->database);
        if (!u || node < 0) {
            sw_client_error(c, "FATAL", u ? "3D000" : "28000",
                            u ? "database no longer exists in the configuration"
                              : "role no longer exists in the configuration", NULL);
            sw_client_close(c, NULL);
            return;
        }
        c->conf_user = u;
        c->node_index = node;
        c->pool = sw_pool_get(node, u);
        c->conf_gen = sw_g.conf_gen;
        if (!c->pool) { sw_client_error(c, "ERROR", "53200", "out of memory", NULL); return; }
    }
    sw_client_set_state(c, SW_CLIENT_WAITING);
    c->wait_start_ms = sw_now_ms();
    sw_pool_acquire(c->pool, c);
    /* Only a queued client stops reading: linking at once (the common
     * case) then costs no epoll_ctl pair per transaction. */
    if (c->state == SW_CLIENT_WAITING) sw_conn_read_stop(&c->c);
}

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
    if (!m.name[0]) {  /* the unnamed statement lives on the server only */
        fwd(c, p, total);
        sw_expect_push(s, SW_EXP_PARSE, false);
        return;
    }
    char msg[160];
    if (sw_client_stmt_find(c, m.name)) {
        snprintf(msg, sizeof msg, "prepared statement \"%s\" already exists", m.name);
        sw_push_fake_error(c, "42P05", msg);
        return;
    }
    sw_stmt *st = sw_client_stmt_add(c, m.name, m.query, m.query_len, m.nparams, m.param_types);
    if (!st) {
        sw_push_fake_error(c, "53200", "out of memory");
        return;
    }
    if (sw_map_get(&s->stmts, st->id)) {
        sw_push_fake(s, SW_BE_PARSE_COMPLETE);
        return;
    }
    /* Rename: new header and name, then the original query and types. */
    size_t name_len = strlen(m.name);
    const uint8_t *tail = (const uint8_t *)m.name + name_len + 1;
    uint32_t tail_len = (uint32_t)(p + total - tail);
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_msg_header(w, SW_FE_PARSE, strlen(st->name) + 1 + tail_len);
    sw_wbuf_cstr(w, st->name);
    sw_out_gen_done(&s->c, start);
    sw_out_src(&s->c, &c->c, tail, tail_len);
    sw_map_put(&s->stmts, st->id, st);
    sw_expect *e = sw_expect_push(s, SW_EXP_PARSE, false);
    if (e) {
        e->stmt_id = st->id;
        e->name_hash = sw_stmt_name_hash(m.name);
    }
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
        fwd(c, p, total);
        sw_expect_push(s, SW_EXP_BIND, false);
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
    sw_msg_header(w, SW_FE_BIND, portal_len + 1 + strlen(cs->stmt->name) + 1 + tail_len);
    sw_wbuf_cstr(w, m.portal);
    sw_wbuf_cstr(w, cs->stmt->name);
    sw_out_gen_done(&s->c, start);
    sw_out_src(&s->c, &c->c, tail, tail_len);
    sw_expect_push(s, SW_EXP_BIND, false);
}

static void handle_describe_close(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    sw_server *s = c->server;
    sw_target_msg m;
    if (sw_target_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0) {
        sw_client_protocol_error(c, type == SW_FE_DESCRIBE ? "invalid Describe message" : "invalid Close message");
        return;
    }
    uint8_t kind = type == SW_FE_DESCRIBE ? SW_EXP_DESCRIBE : SW_EXP_CLOSE;
    if (m.kind != 'S' || !m.name[0]) {
        fwd(c, p, total);
        sw_expect_push(s, kind, false);
        return;
    }
    sw_client_stmt *cs = sw_client_stmt_find(c, m.name);
    if (type == SW_FE_CLOSE) {
        sw_client_stmt_drop(c, m.name);
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
    sw_build_target(w, SW_FE_DESCRIBE, 'S', cs->stmt->name);
    sw_out_gen_done(&s->c, start);
    sw_expect_push(s, SW_EXP_DESCRIBE, false);
}

/* Between transactions, statement bookkeeping needs no server: a named
 * Parse is checked with the PostgreSQL grammar and recorded (the server
 * prepares it on demand at its first Bind), Close of a statement forgets a
 * name, Sync reports the idle status.  Holding no server here matters: a
 * client that prepares synchronously while its other connections hold every
 * server in open transactions (pgbench -M prepared) would otherwise wait on
 * itself.  Returns true when the message was answered. */
static bool answer_locally(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    sw_wbuf *w;
    size_t start;
    char msg[256];
    if (type == SW_FE_PARSE) {
        sw_parse_msg m;
        if (sw_parse_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0 || !m.name[0]) return false;
        w = sw_out_gen(&c->c);
        start = w->len;
        if (sw_client_stmt_find(c, m.name)) {
            snprintf(msg, sizeof msg, "prepared statement \"%s\" already exists", m.name);
            sw_build_error(w, 'E', "ERROR", "42P05", msg, NULL, NULL);
            c->skip_until_sync = true;
        } else {
            PgQueryParseResult r = pg_query_parse(m.query);
            if (r.error) {
                snprintf(msg, sizeof msg, "%s", r.error->message);
                sw_build_error(w, 'E', "ERROR", "42601", msg, NULL, NULL);
                c->skip_until_sync = true;
            } else if (sw_client_stmt_add(c, m.name, m.query, m.query_len, m.nparams, m.param_types)) {
                sw_build_empty(w, SW_BE_PARSE_COMPLETE);
            } else {
                sw_build_error(w, 'E', "ERROR", "53200", "out of memory", NULL, NULL);
                c->skip_until_sync = true;
            }
            pg_query_free_parse_result(r);
        }
        sw_out_gen_done(&c->c, start);
        return true;
    }
    if (type == SW_FE_CLOSE) {
        sw_target_msg m;
        if (sw_target_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0 || m.kind != 'S' || !m.name[0]) return false;
        sw_client_stmt_drop(c, m.name);
        w = sw_out_gen(&c->c);
        start = w->len;
        sw_build_empty(w, SW_BE_CLOSE_COMPLETE);
        sw_out_gen_done(&c->c, start);
        return true;
    }
    if (type == SW_FE_SYNC) {
        c->skip_until_sync = false;
        w = sw_out_gen(&c->c);
        start = w->len;
        sw_build_ready(w, 'I');
        sw_out_gen_done(&c->c, start);
        return true;
    }
    if (type == SW_FE_FLUSH) return true;  /* output is flushed after the batch anyway */
    return false;
}

/* The first step of both client loops: pass through the rest of a large
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

/* Process the client's buffered messages.  Stops when a server is needed
 * and not linked, when the server's outgoing batch is full or in flight, or
 * when a message is incomplete. */
void sw_relay_client(sw_client *c)
{
    if (c->routed) {
        sw_routed_client(c);
        return;
    }
    sw_iobuf *b = &c->c.in;
    while (!c->c.closing && !c->c.paused) {
        if (c->state == SW_CLIENT_WAITING) return;
        if (c->held) {
            if (c->server && c->server->parses_unconfirmed > 0) break;
            c->held = false;
        }
        sw_server *s = c->server;
        uint32_t avail = b->recv - b->parse;
        sw_msg_hdr h;
        int fr = sw_client_frame(c, &h);
        if (fr == SW_FRAME_CLOSED) return;
        if (fr == SW_FRAME_STOP) break;
        if (fr == SW_FRAME_AGAIN) continue;
        if (!s && avail >= h.total && c->txn_status == 'I' && answer_locally(c, h.type, b->data + b->parse, h.total)) {
            b->parse += h.total;
            continue;
        }
        if (!s) {
            if (c->terminate_after_txn) {
                sw_client_error(c, "FATAL", "57P01", "terminating connection due to administrator command", NULL);
                sw_client_close(c, NULL);
                return;
            }
            client_request_server(c);
            return;
        }
        if (!sw_out_room(&s->c)) break;
        if (s->applied.fp != c->wanted.fp && s->txn_status == 'I' && s->expect.count == 0)
            sw_relay_linked(c, s);  /* settings changed between transactions (RESET) */
        if (avail < h.total) {
            bool streamable = h.type == SW_FE_COPY_DATA;
            if (streamable && h.total > SW_BUF_WHOLE_MAX) {
                sw_out_src(&s->c, &c->c, b->data + b->parse, avail);
                c->c.stream_left = h.total - avail;
                c->c.stream_drop = false;
                b->parse = b->recv;
                continue;
            }
            if (!sw_iobuf_make_room(&c->c, h.total)) {
                if (b->done != b->parse) break;  /* after the write completes */
                sw_client_protocol_error(c, "out of memory for message");
                return;
            }
            break;
        }
        const uint8_t *p = b->data + b->parse;
        b->parse += h.total;
        sw_debug("C>%c pid=%d len=%u exp=%u", h.type, c->pid, h.total, s->expect.count);
        switch (h.type) {
        case SW_FE_QUERY: {
            sw_query_msg q;
            if (sw_query_decode(p + SW_HDR_LEN, h.total - SW_HDR_LEN, &q) < 0) {
                sw_client_protocol_error(c, "invalid Query message");
                return;
            }
            sw_sessops_scan(q.sql, q.len, &c->pending);
            fwd(c, p, h.total);
            sw_expect_push(s, SW_EXP_QUERY, false);
            break;
        }
        case SW_FE_PARSE: handle_parse(c, p, h.total); break;
        case SW_FE_BIND: handle_bind(c, p, h.total); break;
        case SW_FE_DESCRIBE:
        case SW_FE_CLOSE: handle_describe_close(c, h.type, p, h.total); break;
        case SW_FE_EXECUTE:
            fwd(c, p, h.total);
            sw_expect_push(s, SW_EXP_EXECUTE, false);
            break;
        case SW_FE_SYNC:
            c->skip_until_sync = false;
            fwd(c, p, h.total);
            sw_expect_push(s, SW_EXP_SYNC, false);
            /* A later segment must not count on a Parse this one sent on
             * demand: an error here would make the server skip it. */
            if (s->parses_unconfirmed > 0) c->held = true;
            break;
        case SW_FE_FUNCTION_CALL:
            fwd(c, p, h.total);
            sw_expect_push(s, SW_EXP_FUNCTION, false);
            break;
        case SW_FE_FLUSH:
        case SW_FE_COPY_DATA:
        case SW_FE_COPY_DONE:
        case SW_FE_COPY_FAIL:
            fwd(c, p, h.total);
            break;
        default: {
            char msg[64];
            snprintf(msg, sizeof msg, "invalid frontend message type %d", h.type);
            sw_client_protocol_error(c, msg);
            return;
        }
        }
        if (c->c.closing) return;
        sw_emit_fakes(s);
        if (c->held) break;
    }
    if (c->c.closing) return;
    if (b->done < b->parse && !(c->server && c->server->c.out.writing && c->server->c.out.src == &c->c)) {
        /* Nothing in flight points here: consumed bytes are free. */
        bool referenced = c->server && c->server->c.out.nparts > 0;
        if (!referenced) b->done = b->parse;
    }
    if (c->server && sw_out_flush(&c->server->c) < 0) {
        sw_server_close(c->server, "write to server failed");
        return;
    }
    if (!c->c.closing && sw_out_flush(&c->c) < 0) {
        sw_client_close(c, "write failed");
        return;
    }
    if (!c->c.closing && !c->c.paused && c->state != SW_CLIENT_WAITING) sw_conn_read_start(&c->c);
}

/* The server confirmed the Parses a held client was waiting for. */
static void release_hold(sw_server *s)
{
    sw_client *c = s->client;
    if (c && c->held && s->parses_unconfirmed == 0 && !c->c.paused) sw_relay_client(c);
}

/* ---------------------------------------------------------------- server -> client */

/* Routed client: after a reply, end the transaction when every linked
 * server is done and idle, and let a stalled client go on. */
void sw_routed_after_reply(sw_client *c)
{
    if (c->fan.active || !sw_routed_quiescent(c)) return;
    for (int i = 0; i < SW_MAX_NODES && c->n_links; i++) {
        sw_server *ls = c->link[i];
        if (ls && c->c.out.writing && c->c.out.src == &ls->c) return;  /* after write_cb */
    }
    if (c->c.stream_left && !c->c.stream_drop) return;
    bool session = c->pool && c->pool->mode == SW_POOL_SESSION;
    if (c->txn_status == 'I' && c->n_links > 0) {
        bool idle = true;
        for (int i = 0; i < SW_MAX_NODES && idle; i++)
            if (c->link[i] && c->link[i]->txn_status != 'I') idle = false;
        if (idle && (!session || c->terminate_after_txn)) {
            sw_routed_unlink_all(c, true);
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
    if (c->c.in.recv > c->c.in.parse || c->stalled) sw_client_process(c);
}

static void release_if_done(sw_server *s)
{
    sw_client *c = s->client;
    if (!c || s->state != SW_SERVER_ACTIVE) return;
    if (c->routed) {
        sw_routed_after_reply(c);
        return;
    }
    if (s->txn_status != 'I' || s->expect.count > 0 || s->c.stream_left) return;
    if (c->c.out.writing && c->c.out.src == &s->c) return;  /* after write_cb */
    if (c->c.stream_left && !c->c.stream_drop) return;
    bool session = c->pool && c->pool->mode == SW_POOL_SESSION;
    if (session && !c->terminate_after_txn) return;
    sw_client_unlink(c, true);
    if (c->terminate_after_txn) {
        sw_client_error(c, "FATAL", "57P01", "terminating connection due to administrator command", NULL);
        sw_client_close(c, NULL);
        return;
    }
    /* The client may have pipelined more: carry on with a new server. */
    sw_client_process(c);
}

/* A message from the server while linked. */
void sw_relay_server_message(sw_server *s, sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    sw_expect *e = sw_expect_head(s);
    bool hidden = e && e->hidden;
    bool forward = !hidden;
    switch (type) {
    case SW_BE_PARAM_STATUS:
    case SW_BE_NOTICE:
    case SW_BE_NOTIFICATION:
        forward = true;  /* asynchronous: the client should see them */
        break;
    case SW_BE_ERROR:
        if (!e) break;
        if (e->kind == SW_EXP_QUERY) {
            if (hidden) {
                sw_error_fields f;
                sw_error_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &f);
                sw_warn("server %s: restoring client settings failed: %s", s->pool->key,
                        f.message ? f.message : "?");
                s->dead = true;  /* its settings are unknown now */
            } else {
                c->txn_failed = true;
            }
            break;
        }
        /* Extended protocol: the failing message and all up to Sync are
         * skipped by the server.  A hidden Parse's error is the client's
         * error too (its Bind would have failed). */
        forward = true;
        c->txn_failed = true;
        if (e->kind == SW_EXP_PARSE && e->stmt_id) parse_failed(s, e);
        sw_expect_pop(s);
        expect_skip_to_sync(s);
        break;
    case SW_BE_READY:
        if (e && (e->kind == SW_EXP_SYNC || e->kind == SW_EXP_QUERY || e->kind == SW_EXP_FUNCTION))
            sw_expect_pop(s);
        if (total >= 6) s->txn_status = (char)p[SW_HDR_LEN];
        if (!hidden) {
            c->txn_status = s->txn_status;
            if (s->txn_status == 'I') sw_settle_sessops(c, s);
        }
        break;
    case SW_BE_COMMAND_COMPLETE:
        if (e && e->kind == SW_EXP_EXECUTE) sw_expect_pop(s);
        if (c->pending.n && total >= SW_HDR_LEN + 8 && memcmp(p + SW_HDR_LEN, "ROLLBACK", 8) == 0)
            c->txn_failed = true;
        break;
    case SW_BE_PARSE_COMPLETE:
        if (e && e->kind == SW_EXP_PARSE) sw_expect_pop(s);
        break;
    case SW_BE_BIND_COMPLETE:
        if (e && e->kind == SW_EXP_BIND) sw_expect_pop(s);
        break;
    case SW_BE_CLOSE_COMPLETE:
        if (e && e->kind == SW_EXP_CLOSE) sw_expect_pop(s);
        break;
    case SW_BE_ROW_DESC:
    case SW_BE_NO_DATA:
        if (e && e->kind == SW_EXP_DESCRIBE) sw_expect_pop(s);
        break;
    case SW_BE_EMPTY_QUERY:
    case SW_BE_PORTAL_SUSPENDED:
        if (e && e->kind == SW_EXP_EXECUTE) sw_expect_pop(s);
        break;
    default:
        break;
    }
    if (c->copyin) {
        sw_copyin_filter(c, s, type, p, total, !forward);
        return;
    }
    if (!forward) return;
    if (c->fan.active && c->fan.merge) {
        sw_merged_filter(c, s, type, p, total, hidden);
        return;
    }
    if (!c->fan.active || hidden || sw_fan_filter(c, s, type, p, total)) sw_out_src(&c->c, &s->c, p, total);
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
    if (c->fan.active && c->fan.merge) {
        sw_merged_server(s);  /* every target is read at once */
        return;
    }
    if (c->fan.active && sw_fan_current(c) != s) {
        /* Another target is replying: this one waits its turn, unread. */
        sw_conn_read_stop(&s->c);
        sw_server *cur = sw_fan_current(c);
        sw_conn_read_start(&cur->c);
        if (!cur->c.paused && !cur->c.closing) sw_server_relay(cur);
        return;
    }
    while (!s->c.closing && !s->c.paused && s->client == c) {
        if (c->fan.active && sw_fan_current(c) != s) break;
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
            if (streamable && h.total > SW_BUF_WHOLE_MAX) {
                sw_expect *e = sw_expect_head(s);
                s->c.stream_drop = e && e->hidden;
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
        sw_debug("S>%c pid=%d len=%u exp=%u", h.type, c->pid, h.total, s->expect.count);
        sw_relay_server_message(s, c, h.type, p, h.total);
        if (s->txn_status == 'I' && s->expect.count == 0 && h.type == SW_BE_READY) {
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
    release_hold(s);
    if (c->fan.active && sw_fan_current(c) != s && s->client == c) {
        /* This target is done: the next one's replies flow now. */
        sw_server *next = sw_fan_current(c);
        sw_conn_read_start(&next->c);
        sw_server_relay(next);
        return;
    }
    if (!s->c.closing) release_if_done(s);
}
