/*
 * link.c - the servers a client holds, at most one per node.  All of them
 * stay linked until its transaction ends; a server joining an open
 * transaction first gets the client's BEGIN, and every server gets the
 * client's settings before its statements.  Unlinking gives each back to
 * its pool, clean only when its ledger is empty and it is idle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"
#include "sw/merge.h"

bool sw_client_quiescent(const sw_client *c)
{
    if (c->fan.kind != SW_FAN_NONE || c->commit) return false;
    sw_server *s;
    SW_EACH_LINK(c, m, s)
        if (!sw_ledger_quiet(&s->owed) || s->c.stream_left) return false;
    return true;
}

void sw_client_txn_clear(sw_client *c)
{
    free(c->begin_sql);
    c->begin_sql = NULL;
    free(c->lost_msg);
    c->lost_msg = NULL;
    c->proxy_failed = false;
    c->n_savepoints = 0;
    c->wrote_mask = 0;
    if (c->overrides_local) {
        free(c->shard_override);
        free(c->key_override);
        c->shard_override = c->key_override = NULL;
        c->overrides_local = false;
    }
}

void sw_client_unlink(sw_client *c, bool clean)
{
    sw_server *login = c->server;
    if (login && !(login->pool && login->pool->node_index >= 0 && login->pool->node_index < SW_MAX_NODES &&
                   c->link[login->pool->node_index] == login)) {
        /* The server that served the login, never entered as a link. */
        c->server = NULL;
        login->client = NULL;
        sw_pool_release(login, clean && login->txn_status == 'I' && sw_ledger_at_rest(&login->owed));
    }
    sw_server *s;
    SW_EACH_LINK(c, m, s) {
        c->link[__builtin_ctzll(m)] = NULL;
        s->client = NULL;
        if (!s->c.reading && !s->c.closing) sw_conn_read_start(&s->c);
        bool ok = clean && s->txn_status == 'I' && sw_ledger_at_rest(&s->owed) && !s->c.stream_left;
        sw_pool_release(s, ok);
    }
    c->n_links = 0;
    c->link_mask = 0;
    c->unsynced_mask = 0;
    c->batch = SW_BATCH_NONE;
    c->unnamed_at = NULL;
    c->unnamed_inflight = 0;
    c->unnamed_batch = false;
    c->server = NULL;
    sw_client_set_flow(c, SW_FLOW_RUN);
    if (c->fan.kind != SW_FAN_NONE || c->fan.merge || c->fan.spec_owned || c->fan.n) {
        sw_fan_release(c);
        sw_merge_free(c->fan.merge);
        sw_merge_spec_free(c->fan.spec_owned);
        memset(&c->fan, 0, sizeof c->fan);  /* 1.3 kB: only when a fan-out was begun */
    }
    sw_copyin_free(c->copyin);
    c->copyin = NULL;
    if (c->state == SW_CLIENT_ACTIVE) sw_client_set_state(c, SW_CLIENT_IDLE);
}

/* Replay the client's open transaction on a server that joins it. */
static void send_hidden_query(sw_server *s, const char *sql)
{
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_build_query(w, sql, strlen(sql));
    sw_out_gen_done(&s->c, start);
    sw_owe(s, SW_OWE_QUERY, true);
}

bool sw_client_savepoint_track(sw_client *c, const sw_route_out *o)
{
    if (c->txn_status == 'I' || o->multi) return true;
    if (o->txn_op == SW_TXN_SAVEPOINT) {
        if (c->txn_status != 'T' || c->proxy_failed) return true;  /* refused by the nodes */
        if (c->n_savepoints == c->cap_savepoints) {
            int cap = c->cap_savepoints ? c->cap_savepoints * 2 : 8;
            void *nv = realloc(c->savepoints, (size_t)cap * sizeof *c->savepoints);
            if (!nv) return false;
            c->savepoints = nv;
            c->cap_savepoints = cap;
        }
        snprintf(c->savepoints[c->n_savepoints++], sizeof c->savepoints[0], "%s", o->txn_name);
        return true;
    }
    if (o->txn_op != SW_TXN_RELEASE && o->txn_op != SW_TXN_ROLLBACK_TO) return true;
    /* PostgreSQL acts on the most recent savepoint of that name: RELEASE
     * drops it and every later one, ROLLBACK TO keeps it. */
    for (int i = c->n_savepoints - 1; i >= 0; i--) {
        if (strcmp(c->savepoints[i], o->txn_name) == 0) {
            c->n_savepoints = o->txn_op == SW_TXN_RELEASE ? i : i + 1;
            break;
        }
    }
    return true;
}

/* One Query of SAVEPOINT statements re-creating the transaction's
 * savepoints on s (built in place: an allocation failure shows in the
 * generated buffer, which closes s before anything of it is sent). */
static void send_savepoints(sw_client *c, sw_server *s)
{
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_msg_begin(w, SW_FE_QUERY);
    for (int i = 0; i < c->n_savepoints; i++) {
        sw_wbuf_put(w, "SAVEPOINT \"", 11);
        for (const char *r = c->savepoints[i]; *r; r++) {
            if (*r == '"') sw_wbuf_put(w, "\"", 1);  /* an identifier's quote is doubled */
            sw_wbuf_put(w, r, 1);
        }
        sw_wbuf_put(w, "\";", 2);
    }
    sw_wbuf_put(w, "", 1);
    sw_msg_end(w);
    sw_out_gen_done(&s->c, start);
    sw_owe(s, SW_OWE_QUERY, true);
}

void sw_client_linked(sw_client *c, sw_server *s)
{
    int node = s->pool->node_index;
    if (node < 0 || node >= SW_MAX_NODES) node = 0;
    if (!c->link[node]) c->n_links++;
    c->link[node] = s;
    c->link_mask |= (uint64_t)1 << node;
    c->server = s;
    s->client = c;
    if (c->pins) s->session_state = true;  /* the client's session state may land here too */
    sw_settings_sync(c, s);
    if (c->txn_status != 'I') {
        send_hidden_query(s, c->begin_sql ? c->begin_sql : "BEGIN");
        if (c->implicit_txn) c->implicit_begun |= (uint64_t)1 << node;
        if (c->n_savepoints > 0) send_savepoints(c, s);
        /* joining a transaction that has failed: it is failed here too, so
         * this node answers what a failed transaction answers */
        if (c->proxy_failed || c->txn_status == 'E') sw_server_fail_batch(s);
    }
}

/* Make node's server current.  True when it is; false when one is being
 * acquired (processing resumes when the pool links it) or on failure. */
bool sw_client_use_node(sw_client *c, int node)
{
    if (node < 0 || node >= SW_MAX_NODES) node = c->node_index;
    if (c->link[node]) {
        c->server = c->link[node];
        return !c->server->restoring;  /* the client's settings first */
    }
    if (c->terminate_after_txn && c->n_links == 0) {
        /* shutting down: no new transaction starts */
        sw_client_error(c, "FATAL", "57P01", "terminating connection due to administrator command", NULL);
        sw_client_close(c, NULL);
        return false;
    }
    if (!c->conf_user) c->conf_user = sw_conf_user_find(sw_g.conf, c->user);
    if (!c->conf_user) {
        sw_client_error(c, "FATAL", "28000", "role no longer exists in the configuration", NULL);
        sw_client_close(c, NULL);
        return false;
    }
    /* The pool of the last node asked for is the common case: no lookup. */
    sw_pool *p = c->pool && !c->pool->stale && c->pool->node_index == node ? c->pool : sw_pool_get(node, c->conf_user);
    if (!p) {
        /* The message that wanted the node stays unanswered in the input:
         * an ERROR here and the retry's answer later would be one reply
         * too many.  Fail closed. */
        sw_client_error(c, "FATAL", "53200", "out of memory", NULL);
        sw_client_close(c, "out of memory for a pool");
        return false;
    }
    c->pool = p;
    c->want_node = node;
    sw_client_set_state(c, SW_CLIENT_WAITING);
    c->wait_start_ms = sw_now_ms();
    sw_pool_acquire(p, c);
    if (c->state == SW_CLIENT_WAITING) sw_conn_read_stop(&c->c);
    return false;
}

/* Pick up a reloaded configuration between statements. */
bool sw_client_refresh_conf(sw_client *c)
{
    if (c->conf_gen == sw_g.conf_gen) return true;
    const sw_conf_user *u = sw_conf_user_find(sw_g.conf, c->user);
    int node = sw_route_default_node(sw_g.conf, c->database);
    if (!u || node < 0) {
        sw_client_error(c, "FATAL", u ? "3D000" : "28000",
                        u ? "database no longer exists in the configuration"
                          : "role no longer exists in the configuration", NULL);
        sw_client_close(c, NULL);
        return false;
    }
    c->conf_user = u;
    c->node_index = node;
    c->conf_gen = sw_g.conf_gen;
    return true;
}

/* Nodes the transaction already holds, as targets (COMMIT, SAVEPOINT...). */
int sw_link_targets(sw_client *c, sw_route_target *t, int max)
{
    int n = 0;
    for (uint64_t m = c->link_mask; m && n < max; m &= m - 1)
        t[n++] = (sw_route_target){.node = __builtin_ctzll(m), .sql = NULL, .part = -1};
    return n;
}

/* Node for a statement that may run anywhere: where the client already is. */
int sw_client_any_node(sw_client *c)
{
    if (c->server) return c->server->pool->node_index;
    if (c->link_mask) return __builtin_ctzll(c->link_mask);
    return c->node_index;
}

/* Link a server on every target node.  True when all are linked. */
bool sw_client_link_all(sw_client *c, const sw_route_target *t, int n)
{
    for (int i = 0; i < n; i++) {
        if (!c->link[t[i].node]) {
            sw_client_use_node(c, t[i].node);
            return false;
        }
        if (c->link[t[i].node]->restoring) return false;  /* the client's settings first */
    }
    return true;
}

