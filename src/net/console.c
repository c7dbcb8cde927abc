/*
 * console.c - clients of the virtual database "shardwire": the admin
 * console.  They log in like any client (same users, same authentication;
 * only users in admin_users or stats_users get in) but are never linked to
 * a server; each simple query is answered by
 * sw_admin_query (SHOW SHARDS, SHOW TABLES, SHOW ROUTE, RELOAD, ...) and
 * followed by ReadyForQuery.
 */
#include <stdlib.h>
#include <string.h>

#include "sw/admin.h"
#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

int sw_proxy_reload(char *err, size_t errsz);

/* Login reply of a console client: no server to learn parameters from. */
void sw_console_login(sw_client *c)
{
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    static const char *const params[] = {
        "server_version", "15.0 (shardwire console)", "server_encoding", "UTF8",
        "client_encoding", "UTF8", "DateStyle", "ISO, MDY", "integer_datetimes", "on",
        "standard_conforming_strings", "on", "TimeZone", "UTC", "is_superuser", "off", NULL};
    sw_build_auth(w, SW_AUTH_OK, NULL, 0);
    for (int i = 0; params[i]; i += 2) sw_build_param_status(w, params[i], params[i + 1]);
    sw_build_backend_key(w, c->pid, c->key);
    sw_build_ready(w, 'I');
    sw_out_gen_done(&c->c, start);
    sw_client_set_state(c, SW_CLIENT_IDLE);
    sw_info("client %s opened the admin console as %s", c->addr, c->user);
}

static const char *const client_states[] = {"startup", "auth", "login", "idle", "waiting", "active", "closing"};

/* Every connected client for SHOW CLIENTS (malloc'd; NULL when out of
 * memory, and then only the count is shown). */
static sw_admin_client_row *client_rows(int *n)
{
    *n = 0;
    sw_admin_client_row *rows = calloc((size_t)(sw_g.n_clients > 0 ? sw_g.n_clients : 1), sizeof *rows);
    if (!rows) return NULL;
    for (sw_client *c = sw_g.clients; c && *n < sw_g.n_clients; c = c->next) {
        sw_admin_client_row *r = &rows[(*n)++];
        snprintf(r->user, sizeof r->user, "%s", c->user ? c->user : "");
        snprintf(r->database, sizeof r->database, "%s", c->database ? c->database : "");
        snprintf(r->addr, sizeof r->addr, "%s", c->addr);
        r->pid = c->pid;
        snprintf(r->state, sizeof r->state, "%s",
                 (unsigned)c->state < sizeof client_states / sizeof client_states[0] ? client_states[c->state] : "?");
        size_t o = 0;
        for (int k = 0; k < SW_MAX_NODES && k < sw_g.conf->n_nodes; k++) {
            if (!(c->link_mask & ((uint64_t)1 << k)) || o + 1 >= sizeof r->nodes) continue;
            int w = snprintf(r->nodes + o, sizeof r->nodes - o, "%s%s", o ? "," : "", sw_g.conf->nodes[k].name);
            if (w > 0) o += (size_t)w < sizeof r->nodes - o ? (size_t)w : sizeof r->nodes - o - 1;
        }
        if (c->pins) sw_pin_reasons(c->pins, r->pinned, sizeof r->pinned);
    }
    return rows;
}

static void node_stats(sw_admin_node_stats *st, int n)
{
    memset(st, 0, sizeof *st * (size_t)n);
    for (int i = 0; i < n; i++) st[i].up = true;
    for (sw_pool *p = sw_g.pools; p; p = p->next) {
        if (p->stale || p->node_index < 0 || p->node_index >= n) continue;
        sw_admin_node_stats *s = &st[p->node_index];
        s->servers_active += p->n_active;
        s->servers_idle += p->n_idle;
        s->servers_connecting += p->n_connecting;
        s->clients_waiting += p->n_waiting;
        if (p->last_connect_error && p->last_connect_fail_ms && p->n_idle + p->n_active == 0) {
            s->up = false;
            s->last_error = p->last_connect_error;
        }
    }
}

void sw_console_process(sw_client *c)
{
    sw_iobuf *b = &c->c.in;
    while (!c->c.closing) {
        uint32_t avail = b->recv - b->parse;
        sw_msg_hdr h;
        int rc = sw_msg_peek(b->data + b->parse, avail, 1024 * 1024, &h);
        if (rc < 0) {
            sw_client_protocol_error(c, "invalid message length");
            return;
        }
        if (rc == 0) break;
        if (avail < h.total) {
            if (!sw_iobuf_make_room(&c->c, h.total)) {
                sw_client_protocol_error(c, "out of memory for message");
                return;
            }
            break;
        }
        const uint8_t *p = b->data + b->parse;
        b->parse += h.total;
        if (h.type == SW_FE_TERMINATE) {
            sw_client_close(c, NULL);
            return;
        }
        sw_wbuf *w = sw_out_gen(&c->c);
        size_t start = w->len;
        if (h.type == SW_FE_QUERY) {
            sw_query_msg q;
            if (sw_query_decode(p + SW_HDR_LEN, h.total - SW_HDR_LEN, &q) < 0) {
                sw_client_protocol_error(c, "invalid Query message");
                return;
            }
            /* Access follows the running configuration: a reload may have
             * changed it since login. */
            sw_console_access access = sw_conf_console_access(sw_g.conf, c->user);
            if (access == SW_CONSOLE_NONE) {
                sw_build_error(w, 'E', "ERROR", "42501", "permission denied for database \"" SW_ADMIN_DATABASE "\"",
                               "User is no longer in admin_users or stats_users.", NULL);
                sw_build_ready(w, 'I');
                sw_out_gen_done(&c->c, start);
                continue;
            }
            int nn = sw_g.conf->n_nodes;
            sw_admin_node_stats *st = calloc((size_t)nn, sizeof *st);
            if (st) node_stats(st, nn);
            sw_admin_txn_row *txns = calloc(64, sizeof *txns);
            sw_admin_resolve res = {{0}, false};
            int nc = 0;
            sw_admin_client_row *crows = client_rows(&nc);
            sw_admin_env env = {.router = sw_g.router, .nodes = st, .n_clients = sw_client_count(),
                                .clients = crows, .n_client_rows = nc,
                                .now_ms = sw_wall_ms(), .merges = &sw_g.merge_stats,
                                .read_only = access != SW_CONSOLE_ADMIN,
                                .txns = txns, .n_txns = txns ? sw_recover_report(txns, 64) : 0,
                                .resolve = &res};
            sw_admin_action a = sw_admin_query(&env, q.sql, q.len, w);
            free(st);
            free(txns);
            free(crows);
            if (a == SW_ADMIN_RESOLVE && sw_recover_force(res.gid, res.commit) != 0) {
                w->len = start;
                sw_build_error(w, 'E', "ERROR", "53400", "too many RESOLVE commands waiting for recovery", NULL, NULL);
            }
            if (a == SW_ADMIN_RELOAD) {
                char err[4096];
                if (sw_proxy_reload(err, sizeof err) != 0) {
                    w->len = start;
                    sw_build_error(w, 'E', "ERROR", "F0000", "reload failed; the running configuration stays", err, NULL);
                }
            }
            sw_build_ready(w, 'I');
        } else if (h.type == SW_FE_SYNC) {
            sw_build_ready(w, 'I');
        } else if (h.type == SW_FE_PARSE) {
            sw_build_error(w, 'E', "ERROR", "0A000", "the admin console speaks the simple query protocol only", NULL, NULL);
        }
        sw_out_gen_done(&c->c, start);
    }
    if (!c->c.out.writing) b->done = b->parse;
    if (sw_out_flush(&c->c) < 0) sw_client_close(c, "write failed");
}
