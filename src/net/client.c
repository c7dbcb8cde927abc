/*
 * client.c - a client connection from accept to logged in: startup packet,
 * SSL/GSSENC refusal, CancelRequest dispatch, password authentication
 * (SCRAM-SHA-256, md5, trust), startup parameters, and the login reply
 * (AuthenticationOk, ParameterStatus, BackendKeyData, ReadyForQuery).
 * Until login a connection is on the startup list: bounded in time
 * (listen.auth_timeout) and in number (listen.max_startup, oldest dropped
 * first), and not counted against max_clients.  Bytes that are not a
 * startup packet get PostgreSQL 15's answers.  After login, relay.c carries
 * the traffic.  One function changes state.
 */
#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

/* PostgreSQL's bounds: a startup packet's length word, less its own 4
 * bytes, is 4..MAX_STARTUP_PACKET_LENGTH (10000); a password or SASL
 * message's length word at most PG_MAX_AUTH_TOKEN_LENGTH (65535). */
#define STARTUP_MAX (10000 + 4)
#define AUTH_MSG_MAX (65535 + 1)

static const char *const state_names[] = {"startup", "auth", "login", "idle", "waiting", "active", "closing"};

/* Off the list of connections still logging in. */
static void startup_unlist(sw_client *c)
{
    if (!c->in_startup) return;
    if (c->st_prev) c->st_prev->st_next = c->st_next; else sw_g.startup_head = c->st_next;
    if (c->st_next) c->st_next->st_prev = c->st_prev; else sw_g.startup_tail = c->st_prev;
    c->st_next = c->st_prev = NULL;
    c->in_startup = false;
    sw_g.n_startup--;
}

/* The only place a client's state changes. */
static void client_set_state(sw_client *c, sw_client_state st)
{
    sw_debug("client %s pid=%d: %s -> %s", c->addr, c->pid, state_names[c->state], state_names[st]);
    c->state = st;
    if (st >= SW_CLIENT_LOGIN) startup_unlist(c);
}

void sw_client_set_state(sw_client *c, sw_client_state st);
void sw_client_set_state(sw_client *c, sw_client_state st) { client_set_state(c, st); }

int sw_client_count(void) { return sw_g.n_clients; }

sw_client *sw_client_by_key(int32_t pid, int32_t key)
{
    sw_client *c = sw_map_get(&sw_g.cancel_keys, (uint64_t)(uint32_t)key);
    return c && c->pid == pid ? c : NULL;
}

/* ---------------------------------------------------------------- output */

static void client_flush(sw_client *c)
{
    if (sw_out_flush(&c->c) < 0) sw_client_close(c, "write failed");
}

void sw_client_error(sw_client *c, const char *severity, const char *sqlstate, const char *msg,
                     const char *detail)
{
    if (c->c.closing) return;
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    sw_build_error(w, 'E', severity, sqlstate, msg, detail, NULL);
    bool fatal = strcmp(severity, "FATAL") == 0;
    if (!fatal && c->state >= SW_CLIENT_IDLE) sw_build_ready(w, c->txn_status ? c->txn_status : 'I');
    sw_out_gen_done(&c->c, start);
    client_flush(c);
}

/* FATAL error then close once it is written (the close waits for the write). */
static void client_fatal_detail(sw_client *c, const char *sqlstate, const char *msg, const char *detail)
{
    sw_info("client %s: %s (%s)", c->addr, msg, sqlstate);
    sw_client_error(c, "FATAL", sqlstate, msg, detail);
    sw_client_close(c, NULL);
}

static void client_fatal(sw_client *c, const char *sqlstate, const char *msg)
{
    client_fatal_detail(c, sqlstate, msg, NULL);
}

/* Close without a word, as PostgreSQL does with bytes it cannot take for a
 * startup packet: only the log says why. */
static void client_drop(sw_client *c, const char *why)
{
    sw_info("client %s: %s", c->addr, why);
    sw_client_close(c, NULL);
}

/* ---------------------------------------------------------------- close */

static void client_free_cb(uv_handle_t *h)
{
    sw_client *c = h->data;
    sw_conn_free_buffers(&c->c);
    free(c->user);
    free(c->database);
    free(c->scram);
    uint32_t pos = 0;
    sw_map_slot *sl;
    while ((sl = sw_map_next(&c->stmts, &pos))) {
        sw_client_stmt *cs = sl->val;
        sw_stmt_release(cs->stmt);
        free(cs->name);
        free(cs);
    }
    sw_map_free(&c->stmts);
    sw_paramset_free(&c->startup);
    sw_paramset_free(&c->wanted);
    sw_paramset_free(&c->reported);
    free(c->restore_msg);
    sw_sessops_clear(&c->pending);
    free(c->pending.ops);
    sw_route_out_clear(&c->route);
    free(c->lost_msg);
    free(c->begin_sql);
    free(c->savepoints);
    free(c->shard_override);
    free(c->key_override);
    free(c);
}

void sw_client_close(sw_client *c, const char *why)
{
    if (c->c.closing) return;
    if (why) sw_info("client %s pid=%d closing: %s", c->addr, c->pid, why);
    if (c->state == SW_CLIENT_WAITING && c->pool) sw_pool_cancel_wait(c->pool, c);
    /* Let a pending FATAL reach the client: closing a TCP handle cancels
     * queued writes, so try once synchronously first. */
    sw_out_flush(&c->c);
    sw_conn_forget_src(&c->c);
    sw_server *ls;
    SW_EACH_LINK(c, m, ls) sw_conn_detach_input(&c->c, &ls->c);
    if (c->server && c->server->client == c) sw_conn_detach_input(&c->c, &c->server->c);
    sw_commit_abandon(c);
    sw_client_unlink(c, !c->c.stream_left);
    if (c->key) sw_map_del(&sw_g.cancel_keys, (uint64_t)(uint32_t)c->key);
    if (c->prev) c->prev->next = c->next; else sw_g.clients = c->next;
    if (c->next) c->next->prev = c->prev;
    sw_g.n_clients--;
    client_set_state(c, SW_CLIENT_CLOSING);
    sw_conn_close(&c->c, client_free_cb);
}

void sw_client_close_all(const char *sqlstate, const char *msg)
{
    while (sw_g.clients) {
        sw_client *c = sw_g.clients;
        if (c->state >= SW_CLIENT_IDLE) sw_client_error(c, "FATAL", sqlstate, msg, NULL);
        sw_client_close(c, NULL);
    }
}

void sw_client_drain_all(void)
{
    sw_client *next;
    for (sw_client *c = sw_g.clients; c; c = next) {
        next = c->next;
        bool busy = c->routed ? (c->n_links > 0 || c->txn_status != 'I')
                              : c->server && (c->server->txn_status != 'I' || !sw_ledger_at_rest(&c->server->owed));
        if (busy) {
            c->terminate_after_txn = true;
        } else {
            if (c->state >= SW_CLIENT_IDLE)
                sw_client_error(c, "FATAL", "57P01", "terminating connection due to administrator command", NULL);
            sw_client_close(c, NULL);
        }
    }
}

/* ---------------------------------------------------------------- accept */

void sw_client_accept(uv_stream_t *listener)
{
    sw_client *c = calloc(1, sizeof *c);
    if (!c) return;
    sw_conn_init(&c->c, SW_CONN_CLIENT);
    uv_tcp_init(sw_g.loop, &c->c.tcp);
    c->c.tcp.data = c;
    if (uv_accept(listener, (uv_stream_t *)&c->c.tcp) != 0) {
        c->c.closing = true;
        uv_close((uv_handle_t *)&c->c.tcp, client_free_cb);
        return;
    }
    uv_tcp_nodelay(&c->c.tcp, 1);
    struct sockaddr_storage sa;
    int salen = sizeof sa;
    strcpy(c->addr, "?");
    if (uv_tcp_getpeername(&c->c.tcp, (struct sockaddr *)&sa, &salen) == 0) {
        char host[48] = "";
        int port = 0;
        if (sa.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&sa, host, sizeof host);
            port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
        } else if (sa.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&sa, host, sizeof host);
            port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
        }
        snprintf(c->addr, sizeof c->addr, "%s:%d", host, port);
    }
    sw_map_init(&c->stmts);
    sw_paramset_init(&c->startup);
    sw_paramset_init(&c->wanted);
    c->txn_status = 'I';
    c->node_index = -1;
    c->last_active_ms = sw_now_ms();
    c->next = sw_g.clients;
    if (c->next) c->next->prev = c;
    sw_g.clients = c;
    sw_g.n_clients++;
    c->state = SW_CLIENT_STARTUP;
    c->accept_ms = sw_now_ms();
    c->st_prev = sw_g.startup_tail;
    if (sw_g.startup_tail) sw_g.startup_tail->st_next = c; else sw_g.startup_head = c;
    sw_g.startup_tail = c;
    c->in_startup = true;
    sw_g.n_startup++;
    /* Only logged-in clients count against max_clients: connections that
     * never finish logging in must not keep real ones out. */
    if (sw_g.n_clients - sw_g.n_startup >= sw_g.conf->max_clients) {
        client_fatal(c, "53300", "sorry, too many clients already");
        return;
    }
    /* Those still logging in are capped on their own; the one that has been
     * at it longest makes room.  A real login takes milliseconds, so only
     * a silent or slow peer is old enough to be first in line. */
    if (sw_g.n_startup > sw_g.conf->max_startup) {
        sw_client *oldest = sw_g.startup_head;
        sw_info("client %s: dropped after %llu ms still logging in: more than listen.max_startup=%d "
                "connections are", oldest->addr, (unsigned long long)(c->accept_ms - oldest->accept_ms),
                sw_g.conf->max_startup);
        client_fatal(oldest, "53300", "sorry, too many connections are logging in at once");
    }
    sw_conn_read_start(&c->c);
}

void sw_client_startup_janitor(uint64_t now)
{
    uint64_t limit = (uint64_t)sw_g.conf->auth_timeout_ms;
    while (sw_g.startup_head && now - sw_g.startup_head->accept_ms >= limit) {
        sw_client *c = sw_g.startup_head;
        if (c->c.closing) {
            startup_unlist(c);
            continue;
        }
        /* PostgreSQL sends nothing then either: the startup packet timeout
         * exits silently, and during authentication the FATAL "canceling
         * authentication due to timeout" goes to the log only. */
        client_drop(c, c->state == SW_CLIENT_AUTH ? "canceling authentication due to timeout"
                                                  : "timeout while waiting for the startup packet");
    }
}

/* ---------------------------------------------------------------- startup */

/* Record a startup setting as the statement that re-establishes it. */
static void client_startup_param(sw_client *c, const char *name, const char *value)
{
    char lname[128];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof lname; i++) lname[i] = (char)tolower((unsigned char)name[i]);
    lname[i] = 0;
    for (const char *p = lname; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.')) return;  /* not a GUC name */
    size_t need = sw_param_set_sql(NULL, 0, lname, value) + 1;
    char *sql = malloc(need);
    if (!sql) return;
    sw_param_set_sql(sql, need, lname, value);
    sw_paramset_set(&c->startup, lname, sql);
    free(sql);
}

/* The "options" startup parameter: command-line switches for the backend.
 * "-c name=value" and "--name=value" are settings; backslash escapes a space. */
static void client_parse_options(sw_client *c, const char *opts)
{
    char tok[1024];
    const char *p = opts;
    bool pending_c = false;
    while (*p) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) break;
        size_t n = 0;
        while (*p && !isspace((unsigned char)*p)) {
            if (*p == '\\' && p[1]) p++;
            if (n + 1 < sizeof tok) tok[n++] = *p;
            p++;
        }
        tok[n] = 0;
        const char *setting = NULL;
        if (pending_c) { setting = tok; pending_c = false; }
        else if (strcmp(tok, "-c") == 0) { pending_c = true; continue; }
        else if (strncmp(tok, "-c", 2) == 0) setting = tok + 2;
        else if (strncmp(tok, "--", 2) == 0) setting = tok + 2;
        else { sw_warn("client %s: ignoring unsupported option \"%s\"", c->addr, tok); continue; }
        char *eq = strchr(setting, '=');
        if (!eq) continue;
        *eq = 0;
        for (char *d = (char *)setting; *d; d++) if (*d == '-') *d = '_';
        client_startup_param(c, setting, eq + 1);
    }
}

static void client_begin_auth(sw_client *c);

/* NegotiateProtocolVersion: the newest protocol shardwire speaks and the
 * protocol options (_pq_.*) it does not know, as PostgreSQL answers a 3.x
 * startup packet with a newer minor or such options (PostgreSQL 15 sends
 * the whole version, 3.0, where the protocol documents the minor alone). */
static void client_negotiate_version(sw_client *c, const sw_startup *st)
{
    int n = 0;
    for (int i = 0; i < st->nparams; i++)
        if (!strncmp(st->keys[i], "_pq_.", 5)) n++;
    if ((st->code & 0xffff) == 0 && n == 0) return;
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    sw_msg_begin(w, SW_BE_NEGOTIATE);
    sw_wbuf_i32(w, 3 << 16);
    sw_wbuf_i32(w, n);
    for (int i = 0; i < st->nparams; i++)
        if (!strncmp(st->keys[i], "_pq_.", 5)) sw_wbuf_cstr(w, st->keys[i]);
    sw_msg_end(w);
    sw_out_gen_done(&c->c, start);
}

/* One whole startup-phase packet, answered as PostgreSQL 15's
 * ProcessStartupPacket answers it. */
static void client_handle_startup(sw_client *c, const uint8_t *pkt, uint32_t len)
{
    sw_startup st;
    uint32_t code = sw_be32(pkt + 4);
    if ((code == SW_CODE_SSL && !c->ssl_done) || (code == SW_CODE_GSSENC && !c->gss_done)) {
        /* No TLS or GSS encryption yet: the client continues in plain text
         * (with the other request, or a startup packet). */
        if (code == SW_CODE_SSL) c->ssl_done = true; else c->gss_done = true;
        sw_wbuf *w = sw_out_gen(&c->c);
        size_t start = w->len;
        sw_wbuf_u8(w, 'N');
        sw_out_gen_done(&c->c, start);
        client_flush(c);
        /* Bytes sent before the answer was seen were not encrypted, and may
         * have been injected. */
        if (!c->c.closing && c->c.in.recv > c->c.in.parse)
            client_fatal_detail(c, "08P01",
                                code == SW_CODE_SSL ? "received unencrypted data after SSL request"
                                                    : "received unencrypted data after GSSAPI encryption request",
                                "This could be either a client-software bug or evidence of an attempted "
                                "man-in-the-middle attack.");
        return;
    }
    if (code == SW_CODE_CANCEL) {
        /* Never answered, whatever it matches. */
        sw_client *target = len >= 16 ? sw_client_by_key((int32_t)sw_be32(pkt + 8), (int32_t)sw_be32(pkt + 12)) : NULL;
        if (target && target->routed) {
            sw_info("cancel request for client %s pid=%d", target->addr, target->pid);
            sw_server *ls;
            SW_EACH_LINK(target, m, ls)
                if (!sw_ledger_quiet(&ls->owed)) sw_cancel_forward(ls);
        } else if (target && target->server && !sw_ledger_quiet(&target->server->owed)) {
            /* (nothing in flight: nothing to cancel, and a cancel delivered
             * late would hit the client's next statement) */
            sw_info("cancel request for client %s pid=%d", target->addr, target->pid);
            sw_cancel_forward(target->server);
        }
        sw_client_close(c, NULL);
        return;
    }
    if ((code >> 16) != 3) {
        /* Also a second SSLRequest or GSSENCRequest: PostgreSQL reads those
         * as protocol 1234.5679 / 1234.5680. */
        char msg[128];
        snprintf(msg, sizeof msg, "unsupported frontend protocol %u.%u: server supports 3.0 to 3.0",
                 code >> 16, code & 0xffff);
        if (code != 0 && (code >> 16) < 3) {
            /* A protocol 1 or 2 client reads errors in its own format: 'E'
             * and one string, as PostgreSQL still sends it. */
            sw_info("client %s: %s (0A000)", c->addr, msg);
            sw_wbuf *w = sw_out_gen(&c->c);
            size_t start = w->len;
            sw_wbuf_u8(w, 'E');
            sw_wbuf_put(w, "FATAL:  ", 8);
            sw_wbuf_put(w, msg, strlen(msg));
            sw_wbuf_put(w, "\n", 2);  /* newline and the string's NUL */
            sw_out_gen_done(&c->c, start);
            sw_client_close(c, NULL);
            return;
        }
        client_fatal(c, "0A000", msg);
        return;
    }
    if (sw_startup_decode(pkt, len, &st) < 0) {
        client_fatal(c, "08P01", "invalid startup packet layout: expected terminator as last byte");
        return;
    }
    client_negotiate_version(c, &st);
    const char *user = sw_startup_get(&st, "user");
    if (!user || !*user) {
        client_fatal(c, "28000", "no PostgreSQL user name specified in startup packet");
        return;
    }
    const char *db = sw_startup_get(&st, "database");
    if (!db || !*db) db = user;
    c->user = strdup(user);
    c->database = strdup(db);
    if (!c->user || !c->database) { client_fatal(c, "53200", "out of memory"); return; }
    for (int i = 0; i < st.nparams; i++) {
        const char *k = st.keys[i];
        if (!strcmp(k, "user") || !strcmp(k, "database")) continue;
        if (!strcmp(k, "replication")) {
            if (strcmp(st.vals[i], "false") && strcmp(st.vals[i], "0") && strcmp(st.vals[i], "off")) {
                client_fatal(c, "0A000", "replication connections are not supported by shardwire");
                return;
            }
            continue;
        }
        if (!strcmp(k, "options")) { client_parse_options(c, st.vals[i]); continue; }
        if (!strncmp(k, "_pq_.", 5)) continue;  /* protocol extensions: none supported */
        client_startup_param(c, k, st.vals[i]);
    }
    client_begin_auth(c);
}

/* ---------------------------------------------------------------- auth */

static void client_login(sw_client *c);

static void auth_failed(sw_client *c)
{
    char msg[256];
    snprintf(msg, sizeof msg, "password authentication failed for user \"%s\"", c->user);
    client_fatal(c, "28P01", msg);
}

/* Deriving a verifier from a plaintext password costs 4096 PBKDF2 rounds
 * (milliseconds on the loop): do it once per user and configuration. */
static bool scram_secret_for_password(const sw_conf_user *u, sw_scram_secret *out)
{
    static sw_map cache;
    static uint64_t cache_gen;
    if (cache_gen != sw_g.conf_gen) {
        uint32_t pos = 0;
        sw_map_slot *sl;
        while ((sl = sw_map_next(&cache, &pos))) free(sl->val);
        sw_map_free(&cache);
        cache_gen = sw_g.conf_gen;
    }
    uint64_t key = (uint64_t)(uintptr_t)u;
    sw_scram_secret *sec = sw_map_get(&cache, key);
    if (!sec) {
        sec = malloc(sizeof *sec);
        if (!sec) return false;
        if (sw_scram_secret_from_password(u->password, NULL, 0, SW_SCRAM_DEFAULT_ITERATIONS, sec) != 0 ||
            sw_map_put(&cache, key, sec) != 0) {
            free(sec);
            return false;
        }
    }
    *out = *sec;
    return true;
}

static void client_begin_auth(sw_client *c)
{
    const sw_conf_user *u = sw_conf_user_find(sw_g.conf, c->user);
    c->conf_user = u;
    c->conf_gen = sw_g.conf_gen;
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    if (u && u->auth == SW_AUTH_METHOD_TRUST) {
        client_login(c);
        return;
    }
    client_set_state(c, SW_CLIENT_AUTH);
    if (u && u->auth == SW_AUTH_METHOD_MD5) {
        c->auth = SW_AUTH_METHOD_MD5;
        if (u->md5_hash) snprintf(c->md5_stored, sizeof c->md5_stored, "%s", u->md5_hash);
        else sw_md5_stored(c->user, u->password ? u->password : "", c->md5_stored);
        sw_random_bytes(c->md5_salt, 4);
        sw_build_auth(w, SW_AUTH_MD5, c->md5_salt, 4);
    } else {
        /* SCRAM, also for unknown users: a mock exchange that always fails,
         * so that probing cannot tell which roles exist. */
        c->auth = SW_AUTH_METHOD_SCRAM;
        c->auth_unknown_user = (u == NULL);
        c->scram = calloc(1, sizeof *c->scram);
        if (!c->scram) { client_fatal(c, "53200", "out of memory"); return; }
        sw_scram_secret secret;
        bool have = false;
        if (u && u->scram_secret) have = sw_scram_secret_parse(u->scram_secret, &secret) == 0;
        else if (u && u->password && !(have = scram_secret_for_password(u, &secret))) {
            /* not a wrong password: the verifier could not be computed */
            client_fatal(c, "53200", "out of memory");
            return;
        }
        sw_scram_server_init(c->scram, have ? &secret : NULL);
        static const char *const mechs[] = {"SCRAM-SHA-256", NULL};
        sw_build_auth_sasl(w, mechs);
    }
    sw_out_gen_done(&c->c, start);
    client_flush(c);
}

static void client_handle_password(sw_client *c, const uint8_t *body, uint32_t len)
{
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    if (c->auth == SW_AUTH_METHOD_MD5) {
        sw_rd r;
        sw_rd_init(&r, body, len);
        size_t rlen = 0;
        const char *resp = sw_rd_cstr(&r, &rlen);
        if (r.err || rlen + 1 != len) { client_fatal(c, "08P01", "invalid password packet size"); return; }
        char expect[36];
        sw_md5_response(c->md5_stored, c->md5_salt, expect);
        if (strcmp(resp, expect) != 0) { auth_failed(c); return; }
        client_login(c);
        return;
    }
    char out[SW_SCRAM_MSG_MAX];
    size_t outlen = 0;
    if (c->scram->state == 0) {
        sw_rd r;
        sw_rd_init(&r, body, len);
        const char *mech = sw_rd_cstr(&r, NULL);
        int32_t dlen = sw_rd_i32(&r);
        const uint8_t *data = dlen >= 0 ? sw_rd_bytes(&r, (size_t)dlen) : NULL;
        if (r.err || !data) { client_fatal(c, "08P01", "malformed SASLInitialResponse"); return; }
        if (strcmp(mech, "SCRAM-SHA-256") != 0) {
            client_fatal(c, "28000", "client selected an invalid SASL authentication mechanism");
            return;
        }
        int rc = sw_scram_server_first(c->scram, (const char *)data, (size_t)dlen, NULL, out, sizeof out, &outlen);
        if (rc == -EIO) { client_fatal(c, "53200", "out of memory"); return; }  /* no nonce */
        if (rc < 0) {
            client_fatal(c, "08P01", "malformed SCRAM message");
            return;
        }
        sw_build_auth(w, SW_AUTH_SASL_CONTINUE, out, outlen);
        sw_out_gen_done(&c->c, start);
        client_flush(c);
        return;
    }
    int rc = sw_scram_server_final(c->scram, (const char *)body, len, out, sizeof out, &outlen);
    if (rc == -EBADMSG) { client_fatal(c, "08P01", "malformed SCRAM message"); return; }
    /* -EIO: the HMACs could not be computed (OpenSSL out of memory), which
     * says nothing about the password */
    if (rc == -EIO && !c->auth_unknown_user) { client_fatal(c, "53200", "out of memory"); return; }
    if (rc < 0 || c->auth_unknown_user) { auth_failed(c); return; }
    sw_build_auth(w, SW_AUTH_SASL_FINAL, out, outlen);
    sw_out_gen_done(&c->c, start);
    free(c->scram);
    c->scram = NULL;
    client_login(c);
}

/* ---------------------------------------------------------------- login */

static void client_login(sw_client *c)
{
    char msg[256];
    if (!c->conf_user || c->conf_gen != sw_g.conf_gen) c->conf_user = sw_conf_user_find(sw_g.conf, c->user);
    if (!c->conf_user) { auth_failed(c); return; }
    if (sw_g.n_clients - sw_g.n_startup >= sw_g.conf->max_clients) {
        client_fatal(c, "53300", "sorry, too many clients already");
        return;
    }
    if (strcmp(c->database, SW_ADMIN_DATABASE) == 0) {
        /* As PostgreSQL refuses a role without CONNECT privilege: after
         * authentication, so the answer tells nothing to a stranger. */
        if (sw_conf_console_access(sw_g.conf, c->user) == SW_CONSOLE_NONE) {
            client_fatal_detail(c, "42501", "permission denied for database \"" SW_ADMIN_DATABASE "\"",
                                "User does not have CONNECT privilege.");
            return;
        }
        c->console = true;
        do {
            sw_random_bytes(&c->key, sizeof c->key);
        } while (c->key == 0 || sw_map_get(&sw_g.cancel_keys, (uint64_t)(uint32_t)c->key));
        c->pid = ++sw_g.next_pid;
        if (sw_map_put(&sw_g.cancel_keys, (uint64_t)(uint32_t)c->key, c)) c->key = 0;
        sw_console_login(c);
        client_flush(c);
        return;
    }
    c->node_index = sw_route_default_node(sw_g.conf, c->database);
    if (c->node_index < 0) {
        snprintf(msg, sizeof msg, "database \"%s\" does not exist", c->database);
        client_fatal(c, "3D000", msg);
        return;
    }
    c->conf_gen = sw_g.conf_gen;
    {
        const sw_conf_database *db = sw_conf_database_find(sw_g.conf, c->database);
        c->routed = db && db->n_tables > 0 && sw_g.router;
        /* Session mode links a server now: the client loop, which takes the
         * newest map only while nothing is linked, would never set it. */
        if (c->routed) c->router = sw_g.router;
    }
    c->pool = sw_pool_get(c->node_index, c->conf_user);
    if (!c->pool) { client_fatal(c, "53200", "out of memory"); return; }
    /* Identity for cancel requests: random key, proxy-assigned pid (the
     * real backend pid in session mode, set when the server is linked). */
    do {
        sw_random_bytes(&c->key, sizeof c->key);
    } while (c->key == 0 || sw_map_get(&sw_g.cancel_keys, (uint64_t)(uint32_t)c->key));
    c->pid = ++sw_g.next_pid;
    if (sw_map_put(&sw_g.cancel_keys, (uint64_t)(uint32_t)c->key, c)) {
        c->key = 0;
        client_fatal(c, "53200", "out of memory");
        return;
    }
    client_set_state(c, SW_CLIENT_LOGIN);
    if (c->pool->params_known && c->pool->mode == SW_POOL_TRANSACTION) {
        sw_client_server_ready(c, NULL);
        return;
    }
    /* Session mode links for good; otherwise the first login of a pool
     * learns the server's ParameterStatus values. */
    sw_pool_acquire(c->pool, c);
}

/* Drop startup settings that equal the server's own defaults: nothing to
 * replay for them on every link. */
static void client_prune_defaults(sw_client *c, const sw_pool *p)
{
    for (int i = 0; i < p->n_params; i++) {
        char lname[128];
        size_t k = 0;
        for (; p->param_names[i][k] && k + 1 < sizeof lname; k++)
            lname[k] = (char)tolower((unsigned char)p->param_names[i][k]);
        lname[k] = 0;
        const char *sql = sw_paramset_get(&c->startup, lname);
        if (!sql) continue;
        char expect[512];
        if (sw_param_set_sql(expect, sizeof expect, lname, p->param_values[i]) < sizeof expect &&
            strcmp(sql, expect) == 0)
            sw_paramset_set(&c->startup, lname, NULL);
    }
}

/* Quoted value inside "SET name TO '...'" back to plain text. */
static void sql_unquote(const char *sql, char *out, size_t outsz)
{
    const char *q = strchr(sql, '\'');
    size_t o = 0;
    if (!q) { out[0] = 0; return; }
    for (q++; *q && o + 1 < outsz; q++) {
        if (*q == '\'') {
            if (q[1] == '\'') q++;
            else break;
        }
        out[o++] = *q;
    }
    out[o] = 0;
}

static void client_finish_login(sw_client *c, sw_server *s)
{
    sw_pool *p = c->pool;
    client_prune_defaults(c, p);
    sw_paramset_copy(&c->wanted, &c->startup);
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    sw_build_auth(w, SW_AUTH_OK, NULL, 0);
    for (int i = 0; i < p->n_params; i++) {
        char lname[128], val[512];
        size_t k = 0;
        for (; p->param_names[i][k] && k + 1 < sizeof lname; k++)
            lname[k] = (char)tolower((unsigned char)p->param_names[i][k]);
        lname[k] = 0;
        const char *sql = sw_paramset_get(&c->wanted, lname);
        const char *v = p->param_values[i];
        if (sql) { sql_unquote(sql, val, sizeof val); v = val; }
        if (sql && strcmp(lname, "client_encoding") == 0) {
            /* PostgreSQL reports the encoding's own name ("utf8" is UTF8) */
            int enc = pg_char_to_encoding(v);
            if (enc >= 0) v = pg_encoding_to_char(enc);
        }
        sw_build_param_status(w, p->param_names[i], v);
    }
    if (s && p->mode == SW_POOL_SESSION) c->pid = s->be_pid;
    sw_build_backend_key(w, c->pid, c->key);
    sw_build_ready(w, 'I');
    sw_out_gen_done(&c->c, start);
    sw_info("client %s logged in: user=%s database=%s pool=%s mode=%s", c->addr, c->user, c->database,
            p->key, sw_pool_mode_name(p->mode));
    if (s) {
        if (p->mode == SW_POOL_SESSION) {
            client_set_state(c, SW_CLIENT_ACTIVE);
            c->server = NULL;
            sw_client_linked(c, s);
        } else {
            client_set_state(c, SW_CLIENT_ACTIVE);
            sw_client_unlink(c, true);
        }
    } else {
        client_set_state(c, SW_CLIENT_IDLE);
    }
    client_flush(c);
}

/* ---------------------------------------------------------------- state changes from the pool */

void sw_client_server_ready(sw_client *c, sw_server *s)
{
    if (c->state == SW_CLIENT_LOGIN) {
        if (s) {
            c->server = s;
            s->client = c;
        }
        client_finish_login(c, s);
        return;
    }
    client_set_state(c, SW_CLIENT_ACTIVE);
    sw_client_linked(c, s);
    sw_client_process(c);
}

void sw_client_server_failed(sw_client *c, const char *sqlstate, const char *msg)
{
    if (c->state == SW_CLIENT_LOGIN) {
        client_fatal(c, sqlstate, msg);
        return;
    }
    client_set_state(c, SW_CLIENT_IDLE);
    /* The messages that asked for a server are answered with the error,
     * each as PostgreSQL answers a failed request; the stream stays framed. */
    sw_client_fail_pending(c, sqlstate, msg);
    if (c->state == SW_CLIENT_IDLE && !c->c.closing) sw_conn_read_start(&c->c);
}

/* ---------------------------------------------------------------- input before login */

void sw_client_process(sw_client *c)
{
    if (c->c.closing) return;
    c->last_active_ms = sw_now_ms();
    if (c->state >= SW_CLIENT_IDLE) {
        if (c->console) {
            sw_console_process(c);
            return;
        }
        if (c->state == SW_CLIENT_WAITING) return;
        sw_client_run(c);
        return;
    }
    sw_iobuf *b = &c->c.in;
    while (!c->c.closing && (c->state == SW_CLIENT_STARTUP || c->state == SW_CLIENT_AUTH)) {
        uint32_t avail = b->recv - b->parse;
        sw_msg_hdr h;
        int rc;
        if (c->state == SW_CLIENT_STARTUP) rc = sw_startup_peek(b->data + b->parse, avail, STARTUP_MAX, &h);
        else rc = sw_msg_peek(b->data + b->parse, avail, AUTH_MSG_MAX, &h);
        if (rc < 0) {
            /* PostgreSQL logs these (COMMERROR) and closes without a reply. */
            client_drop(c, c->state == SW_CLIENT_STARTUP ? "invalid length of startup packet"
                                                          : "invalid message length during authentication");
            return;
        }
        if (rc == 0 || avail < h.total) {
            if (rc == 1 && !sw_iobuf_make_room(&c->c, h.total)) { client_fatal(c, "53200", "out of memory"); return; }
            break;
        }
        const uint8_t *p = b->data + b->parse;
        b->parse += h.total;
        if (b->done < b->parse && !c->c.out.writing) b->done = b->parse;
        if (c->state == SW_CLIENT_STARTUP) {
            client_handle_startup(c, p, h.total);
        } else if (h.type == SW_FE_PASSWORD) {
            client_handle_password(c, p + SW_HDR_LEN, h.total - SW_HDR_LEN);
        } else {
            /* Terminate included: PostgreSQL answers anything but a
             * password message so. */
            char msg[96];
            snprintf(msg, sizeof msg, "expected %s response, got message type %d",
                     c->auth == SW_AUTH_METHOD_SCRAM ? "SASL" : "password", h.type);
            client_fatal(c, "08P01", msg);
        }
    }
    client_flush(c);
}
