/*
 * server.c - a backend connection: TCP connect (resolving host names off the
 * loop), the startup and authentication exchange with PostgreSQL (trust,
 * cleartext, md5, SCRAM-SHA-256), the reset query on release in session
 * mode, and dispatch of incoming bytes by state.  Traffic while linked to a
 * client is handled by relay.c.  One function changes state.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

void sw_server_relay(sw_server *s);

static const char *const state_names[] = {"connecting", "login", "idle", "active", "resetting", "closing"};

/* The only place a server's state changes. */
static void server_set_state(sw_server *s, sw_server_state st)
{
    sw_debug("server %s pid=%d: %s -> %s", s->pool->key, s->be_pid, state_names[s->state], state_names[st]);
    s->state = st;
}

void sw_server_set_state(sw_server *s, sw_server_state st);
void sw_server_set_state(sw_server *s, sw_server_state st) { server_set_state(s, st); }

static void server_free_cb(uv_handle_t *h)
{
    sw_server *s = h->data;
    sw_conn_free_buffers(&s->c);
    sw_map_free(&s->stmts);
    sw_paramset_free(&s->applied);
    s->client = NULL;
    sw_ledger_free(&s->owed);
    free(s->fatal_msg);
    free(s->scram);
    free(s);
}

void sw_server_close(sw_server *s, const char *why) { sw_server_fail(s, "08006", why); }

void sw_server_fail(sw_server *s, const char *sqlstate, const char *why)
{
    if (s->c.closing) return;
    sw_server_state was = s->state;
    if (why) sw_info("server %s pid=%d closing: %s", s->pool->key, s->be_pid, why);
    sw_client *c = s->client;
    server_set_state(s, SW_SERVER_CLOSING);
    sw_conn_forget_src(&s->c);
    if (c) {
        sw_conn_detach_input(&s->c, &c->c);
        char msg[256];
        snprintf(msg, sizeof msg, "server connection to node \"%s\" lost: %s", s->pool->node_name,
                 why ? why : "closed");
        sw_client_server_lost(c, s, sqlstate, msg);
    }
    sw_pool_server_gone(s, was == SW_SERVER_CONNECTING || was == SW_SERVER_LOGIN ? "08006" : NULL, why);
    sw_conn_close(&s->c, server_free_cb);
}

bool sw_server_msg_fits(sw_server *s, uint32_t total)
{
    uint32_t cap = sw_g.conf->max_server_message_size;
    if (total <= cap) return true;
    char why[160];
    snprintf(why, sizeof why, "server message of %u bytes exceeds limits.max_server_message_size (%u bytes)",
             (unsigned)total, (unsigned)cap);
    sw_server_fail(s, "54000", why);
    return false;
}

bool sw_server_awaited(const sw_server *s)
{
    if (s->c.closing || !s->c.reading || s->c.paused) return false;
    bool owes = s->state == SW_SERVER_RESETTING ||
                (s->state == SW_SERVER_ACTIVE && (sw_ledger_server_busy(&s->owed) || s->c.stream_left > 0));
    if (!owes) return false;
    /* Replies already here wait for shardwire (or for its client), not for the server. */
    const sw_iobuf *b = &s->c.in;
    uint32_t avail = b->recv - b->parse;
    if (avail == 0) return true;
    if (s->c.stream_left) return false;
    sw_msg_hdr h;
    int rc = sw_msg_peek(b->data + b->parse, avail, UINT32_MAX, &h);
    return rc == 0 || (rc == 1 && avail < h.total);
}

/* ---------------------------------------------------------------- connect */

/* Keepalive probes find a node whose host or network went away even while
 * no query is running (a dead peer is silent, not closed). */
static void server_keepalive(sw_server *s)
{
    const sw_conf *conf = sw_g.conf;
    uv_os_fd_t fd;
    if (!conf->tcp_keepalive || uv_fileno((const uv_handle_t *)&s->c.tcp, &fd) != 0) return;
    int on = 1, idle = conf->tcp_keepalive_idle_ms / 1000, intvl = conf->tcp_keepalive_interval_ms / 1000,
        cnt = conf->tcp_keepalive_count;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) != 0)
        sw_warn("server %s: could not set TCP keepalive", s->pool->key);
}

static void server_send_startup(sw_server *s)
{
    sw_pool *p = s->pool;
    const char *kv[] = {"user", p->server_user, "database", p->database, NULL};
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_build_startup(w, kv);
    sw_out_gen_done(&s->c, start);
    if (sw_out_flush(&s->c) < 0) sw_server_close(s, "write failed");
}

static void connect_cb(uv_connect_t *req, int status)
{
    sw_server *s = req->data;
    if (s->c.closing) return;
    if (status < 0) {
        char why[160];
        snprintf(why, sizeof why, "could not connect to %s:%d: %s", s->pool->host, s->pool->port, uv_strerror(status));
        sw_server_close(s, why);
        return;
    }
    uv_tcp_nodelay(&s->c.tcp, 1);
    server_keepalive(s);
    server_set_state(s, SW_SERVER_LOGIN);
    sw_conn_read_start(&s->c);
    server_send_startup(s);
}

static void server_connect_addr(sw_server *s, const struct sockaddr *addr)
{
    s->connect_req.data = s;
    int rc = uv_tcp_connect(&s->connect_req, &s->c.tcp, addr, connect_cb);
    if (rc < 0) {
        char why[160];
        snprintf(why, sizeof why, "could not connect to %s:%d: %s", s->pool->host, s->pool->port, uv_strerror(rc));
        sw_server_close(s, why);
    }
}

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    sw_server *s = req->data;
    if (s->c.closing) { uv_freeaddrinfo(res); return; }
    if (status < 0 || !res) {
        char why[160];
        snprintf(why, sizeof why, "could not resolve \"%s\": %s", s->pool->host, uv_strerror(status));
        uv_freeaddrinfo(res);
        sw_server_close(s, why);
        return;
    }
    memcpy(&s->pool->addr, res->ai_addr, res->ai_addrlen);
    ((struct sockaddr_in *)&s->pool->addr)->sin_port = htons((uint16_t)s->pool->port);
    s->pool->have_addr = true;
    uv_freeaddrinfo(res);
    server_connect_addr(s, (struct sockaddr *)&s->pool->addr);
}

/* Resolve the pool's address once: numeric addresses directly, names with
 * uv_getaddrinfo (a thread-pool lookup, never blocking the loop). */
static void server_start_connect(sw_server *s)
{
    sw_pool *p = s->pool;
    if (!p->have_addr) {
        struct sockaddr_in a4;
        struct sockaddr_in6 a6;
        if (uv_ip4_addr(p->host, p->port, &a4) == 0) {
            memcpy(&p->addr, &a4, sizeof a4);
            p->have_addr = true;
        } else if (uv_ip6_addr(p->host, p->port, &a6) == 0) {
            memcpy(&p->addr, &a6, sizeof a6);
            p->have_addr = true;
        }
    }
    if (p->have_addr) {
        server_connect_addr(s, (struct sockaddr *)&p->addr);
        return;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    s->gai.data = s;
    int rc = uv_getaddrinfo(sw_g.loop, &s->gai, gai_cb, p->host, NULL, &hints);
    if (rc < 0) sw_server_close(s, uv_strerror(rc));
}

sw_server *sw_server_open(sw_pool *p)
{
    sw_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    sw_conn_init(&s->c, SW_CONN_SERVER);
    if (uv_tcp_init(sw_g.loop, &s->c.tcp) < 0) { free(s); return NULL; }
    s->c.tcp.data = s;
    s->pool = p;
    s->state = SW_SERVER_CONNECTING;
    s->txn_status = 'I';
    s->connect_start_ms = sw_now_ms();
    sw_map_init(&s->stmts);
    sw_paramset_init(&s->applied);
    sw_ledger_init(&s->owed, sw_server_retire_cb, s);
    return s;
}

void sw_server_connect(sw_server *s);
void sw_server_connect(sw_server *s) { server_start_connect(s); }

/* ---------------------------------------------------------------- login */

static void login_send(sw_server *s, sw_wbuf *w, size_t start)
{
    sw_out_gen_done(&s->c, start);
    if (sw_out_flush(&s->c) < 0) sw_server_close(s, "write failed");
}

static void login_auth(sw_server *s, const uint8_t *body, uint32_t len)
{
    int32_t sub;
    const uint8_t *data;
    size_t dlen;
    if (sw_auth_decode(body, len, &sub, &data, &dlen) < 0) { sw_server_close(s, "bad authentication message"); return; }
    sw_pool *p = s->pool;
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    const char *pw = p->server_password;
    if (sub != SW_AUTH_OK && sub != SW_AUTH_SASL_CONTINUE && sub != SW_AUTH_SASL_FINAL && !pw) {
        sw_server_close(s, "server asked for a password but none is configured for this node/user");
        return;
    }
    char out[SW_SCRAM_MSG_MAX];
    size_t outlen = 0;
    switch (sub) {
    case SW_AUTH_OK:
        return;
    case SW_AUTH_CLEARTEXT:
        sw_build_password(w, pw);
        login_send(s, w, start);
        return;
    case SW_AUTH_MD5: {
        if (dlen < 4) { sw_server_close(s, "bad md5 request"); return; }
        char stored[36], resp[36];
        if (strncmp(pw, "md5", 3) == 0 && strlen(pw) == 35) snprintf(stored, sizeof stored, "%s", pw);
        else sw_md5_stored(p->server_user, pw, stored);
        sw_md5_response(stored, data, resp);
        sw_build_password(w, resp);
        login_send(s, w, start);
        return;
    }
    case SW_AUTH_SASL: {
        bool found = false;
        sw_rd r;
        sw_rd_init(&r, data, dlen);
        for (;;) {
            size_t n;
            const char *mech = sw_rd_cstr(&r, &n);
            if (r.err || n == 0) break;
            if (strcmp(mech, "SCRAM-SHA-256") == 0) found = true;
        }
        if (!found) { sw_server_close(s, "server offers no supported SASL mechanism"); return; }
        s->scram = calloc(1, sizeof *s->scram);
        if (!s->scram || sw_scram_client_first(s->scram, pw, NULL, out, sizeof out, &outlen) < 0) {
            sw_server_close(s, "SCRAM setup failed");
            return;
        }
        sw_build_sasl_initial(w, "SCRAM-SHA-256", out, outlen);
        login_send(s, w, start);
        return;
    }
    case SW_AUTH_SASL_CONTINUE:
        if (!s->scram || sw_scram_client_final(s->scram, (const char *)data, dlen, out, sizeof out, &outlen) < 0) {
            sw_server_close(s, "bad SCRAM server-first message");
            return;
        }
        sw_build_sasl_response(w, out, outlen);
        login_send(s, w, start);
        return;
    case SW_AUTH_SASL_FINAL:
        if (!s->scram || sw_scram_client_verify(s->scram, (const char *)data, dlen) < 0) {
            sw_server_close(s, "server SCRAM signature did not verify");
            return;
        }
        free(s->scram);
        s->scram = NULL;
        return;
    default: {
        char why[96];
        snprintf(why, sizeof why, "unsupported authentication method %d requested by server", sub);
        sw_server_close(s, why);
        return;
    }
    }
}

/* ParameterStatus during the first login of a pool fills its cache. */
static void login_param(sw_server *s, const uint8_t *body, uint32_t len)
{
    const char *name, *value;
    if (sw_param_status_decode(body, len, &name, &value) < 0) return;
    sw_pool *p = s->pool;
    if (p->params_known) return;
    if (!s->params_owner) {
        if (p->n_params > 0) return;  /* another login is filling it */
        s->params_owner = true;
    }
    char **nn = realloc(p->param_names, (size_t)(p->n_params + 1) * sizeof *nn);
    if (!nn) return;
    p->param_names = nn;
    char **nv = realloc(p->param_values, (size_t)(p->n_params + 1) * sizeof *nv);
    if (!nv) return;
    p->param_values = nv;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {  /* neither is kept */
        free(n);
        free(v);
        return;
    }
    p->param_names[p->n_params] = n;
    p->param_values[p->n_params] = v;
    p->n_params++;
}

static void server_login_process(sw_server *s)
{
    sw_iobuf *b = &s->c.in;
    while (!s->c.closing && s->state == SW_SERVER_LOGIN) {
        uint32_t avail = b->recv - b->parse;
        sw_msg_hdr h;
        int rc = sw_msg_peek(b->data + b->parse, avail, UINT32_MAX, &h);
        if (rc < 0) { sw_server_close(s, "invalid message from server during login"); return; }
        if (rc == 0) break;
        if (avail < h.total) {
            if (!sw_server_msg_fits(s, h.total)) return;
            if (!sw_iobuf_make_room(&s->c, h.total)) { sw_server_close(s, "out of memory for a login message"); return; }
            break;
        }
        const uint8_t *body = b->data + b->parse + SW_HDR_LEN;
        uint32_t blen = h.total - SW_HDR_LEN;
        b->parse += h.total;
        b->done = b->parse;
        switch (h.type) {
        case SW_BE_AUTH: login_auth(s, body, blen); break;
        case SW_BE_PARAM_STATUS: login_param(s, body, blen); break;
        case SW_BE_BACKEND_KEY: sw_backend_key_decode(body, blen, &s->be_pid, &s->be_key); break;
        case SW_BE_NOTICE:
        case SW_BE_NEGOTIATE: break;
        case SW_BE_ERROR: {
            sw_error_fields f;
            char why[512];
            sw_error_decode(body, blen, &f);
            snprintf(why, sizeof why, "login to %s:%d as \"%s\" failed: %s", s->pool->host, s->pool->port,
                     s->pool->server_user, f.message ? f.message : "error");
            sw_server_close(s, why);
            return;
        }
        case SW_BE_READY:
            if (s->params_owner) s->pool->params_known = true;
            s->params_owner = false;
            s->txn_status = 'I';
            sw_info("server %s connected, backend pid %d", s->pool->key, s->be_pid);
            sw_pool_server_ready(s);
            return;
        default:
            sw_server_close(s, "unexpected message from server during login");
            return;
        }
    }
}

/* ---------------------------------------------------------------- reset and idle */

void sw_server_reset(sw_server *s)
{
    server_set_state(s, SW_SERVER_RESETTING);
    const char *q = s->pool ? sw_g.conf->reset_query : NULL;
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_build_query(w, q, strlen(q));
    sw_out_gen_done(&s->c, start);
    sw_map_free(&s->stmts);  /* DISCARD ALL drops prepared statements */
    sw_map_init(&s->stmts);
    sw_paramset_free(&s->applied);
    s->session_state = false;
    if (sw_out_flush(&s->c) < 0) { sw_server_close(s, "write failed"); return; }
    sw_conn_read_start(&s->c);
}

/* Swallow the reset query's replies; idle at ReadyForQuery. */
static void server_reset_process(sw_server *s)
{
    sw_iobuf *b = &s->c.in;
    for (;;) {
        uint32_t avail = b->recv - b->parse;
        sw_msg_hdr h;
        int rc = sw_msg_peek(b->data + b->parse, avail, UINT32_MAX, &h);
        if (rc < 0) { sw_server_close(s, "invalid message from server"); return; }
        if (rc == 0 || avail < h.total) {
            if (rc == 1 && !sw_server_msg_fits(s, h.total)) return;
            if (rc == 1 && !sw_iobuf_make_room(&s->c, h.total)) { sw_server_close(s, "out of memory for server message"); return; }
            return;
        }
        uint8_t type = h.type;
        b->parse += h.total;
        b->done = b->parse;
        if (type == SW_BE_ERROR) { sw_server_close(s, "reset query failed"); return; }
        if (type == SW_BE_READY) {
            s->txn_status = 'I';
            sw_pool_server_ready(s);
            return;
        }
    }
}

/* An idle server should say nothing; anything it says (a FATAL before it
 * goes away, mostly) means it cannot be reused. */
static void server_idle_process(sw_server *s)
{
    sw_iobuf *b = &s->c.in;
    while (!s->c.closing) {
        uint32_t avail = b->recv - b->parse;
        sw_msg_hdr h;
        int rc = sw_msg_peek(b->data + b->parse, avail, UINT32_MAX, &h);
        if (rc < 0) { sw_server_close(s, "invalid message from idle server"); return; }
        if (rc == 0) return;
        if (avail < h.total) {
            if (sw_server_msg_fits(s, h.total) && !sw_iobuf_make_room(&s->c, h.total))
                sw_server_close(s, "out of memory for server message");
            return;
        }
        if (h.type == SW_BE_ERROR) {
            sw_error_fields f;
            sw_error_decode(b->data + b->parse + SW_HDR_LEN, h.total - SW_HDR_LEN, &f);
            char why[256];
            snprintf(why, sizeof why, "idle server sent error: %s", f.message ? f.message : "?");
            sw_server_close(s, why);
            return;
        }
        b->parse += h.total;
        b->done = b->parse;
    }
}

void sw_server_process(sw_server *s)
{
    if (s->c.closing) return;
    switch (s->state) {
    case SW_SERVER_LOGIN: server_login_process(s); break;
    case SW_SERVER_ACTIVE:
        if (s->client) sw_server_relay(s);
        break;
    case SW_SERVER_RESETTING: server_reset_process(s); break;
    case SW_SERVER_IDLE: server_idle_process(s); break;
    default: break;
    }
}

/* ---------------------------------------------------------------- cancel */

typedef struct sw_cancel_req {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uint8_t pkt[16];
} sw_cancel_req;

static void cancel_close_cb(uv_handle_t *h) { free(h->data); }

static void cancel_write_cb(uv_write_t *req, int status)
{
    sw_cancel_req *cr = req->data;
    (void)status;
    uv_close((uv_handle_t *)&cr->tcp, cancel_close_cb);
}

static void cancel_connect_cb(uv_connect_t *req, int status)
{
    sw_cancel_req *cr = req->data;
    if (status < 0) {
        sw_warn("cancel request: could not connect: %s", uv_strerror(status));
        uv_close((uv_handle_t *)&cr->tcp, cancel_close_cb);
        return;
    }
    uv_buf_t buf = uv_buf_init((char *)cr->pkt, sizeof cr->pkt);
    cr->write.data = cr;
    if (uv_write(&cr->write, (uv_stream_t *)&cr->tcp, &buf, 1, cancel_write_cb) < 0)
        uv_close((uv_handle_t *)&cr->tcp, cancel_close_cb);
}

void sw_cancel_forward(sw_server *s)
{
    if (!s->pool->have_addr || s->be_pid == 0) return;
    sw_cancel_req *cr = calloc(1, sizeof *cr);
    if (!cr) return;
    sw_put_be32(cr->pkt, 16);
    sw_put_be32(cr->pkt + 4, SW_CODE_CANCEL);
    sw_put_be32(cr->pkt + 8, (uint32_t)s->be_pid);
    sw_put_be32(cr->pkt + 12, (uint32_t)s->be_key);
    uv_tcp_init(sw_g.loop, &cr->tcp);
    cr->tcp.data = cr;
    cr->connect.data = cr;
    if (uv_tcp_connect(&cr->connect, &cr->tcp, (struct sockaddr *)&s->pool->addr, cancel_connect_cb) < 0)
        uv_close((uv_handle_t *)&cr->tcp, cancel_close_cb);
}
