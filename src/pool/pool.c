/*
 * pool.c - backend connection pools, one per (node, client user).
 *
 * A client asks for a server; an idle one is linked at once (LIFO, the
 * warmest), otherwise the client queues FIFO and, when the pool has room, a
 * new connection is opened.  Released servers go to the first waiter or
 * back to the idle list; in session mode they run the reset query first.
 * The janitor (a periodic timer) enforces wait, connect, query and idle
 * timeouts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

void sw_server_set_state(sw_server *s, sw_server_state st);
void sw_server_connect(sw_server *s);

/* ---------------------------------------------------------------- lists */

static void list_push(sw_server **head, sw_server *s)
{
    s->prev = NULL;
    s->next = *head;
    if (*head) (*head)->prev = s;
    *head = s;
}

static void list_remove(sw_server **head, sw_server *s)
{
    if (s->prev) s->prev->next = s->next; else if (*head == s) *head = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

/* Which list a server in this state lives on. */
static sw_server **list_of(sw_pool *p, sw_server *s)
{
    switch (s->state) {
    case SW_SERVER_CONNECTING:
    case SW_SERVER_LOGIN: return &p->connecting;
    case SW_SERVER_IDLE: return &p->idle;
    default: return &p->active;
    }
}

static void counts_add(sw_pool *p, sw_server *s, int d)
{
    switch (s->state) {
    case SW_SERVER_CONNECTING:
    case SW_SERVER_LOGIN: p->n_connecting += d; break;
    case SW_SERVER_IDLE: p->n_idle += d; break;
    default: p->n_active += d; break;
    }
}

/* Move s between lists as its state changes. */
static void pool_move(sw_server *s, sw_server_state st)
{
    sw_pool *p = s->pool;
    list_remove(list_of(p, s), s);
    counts_add(p, s, -1);
    sw_server_set_state(s, st);
    list_push(list_of(p, s), s);
    counts_add(p, s, 1);
}

static int pool_total(const sw_pool *p) { return p->n_idle + p->n_active + p->n_connecting; }

/* ---------------------------------------------------------------- lookup */

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

sw_pool *sw_pool_get(int node_index, const sw_conf_user *u)
{
    const sw_conf *conf = sw_g.conf;
    const sw_conf_node *n = &conf->nodes[node_index];
    char key[256];
    snprintf(key, sizeof key, "%s/%s", n->name, u->name);
    for (sw_pool *p = sw_g.pools; p; p = p->next)
        if (!p->stale && strcmp(p->key, key) == 0) return p;
    sw_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->key = strdup(key);
    p->node_index = node_index;
    p->node_name = strdup(n->name);
    p->host = strdup(n->host);
    p->port = n->port;
    p->database = strdup(n->database);
    p->server_user = strdup(u->server_user ? u->server_user : n->user);
    p->server_password = dup_or_null(u->server_user ? u->server_password : n->password);
    p->size = u->pool_size > 0 ? u->pool_size : conf->pool_size;
    p->mode = u->pool_mode >= 0 ? (sw_pool_mode)u->pool_mode : conf->pool_mode;
    p->connect_timeout_ms = n->connect_timeout_ms;
    p->query_timeout_ms = n->query_timeout_ms;
    if (!p->key || !p->node_name || !p->host || !p->database || !p->server_user ||
        (!p->server_password && (u->server_user ? u->server_password : n->password))) {
        /* out of memory: no half-made pool (its NULLs would be used later) */
        free(p->key); free(p->node_name); free(p->host); free(p->database);
        free(p->server_user); free(p->server_password);
        free(p);
        return NULL;
    }
    p->next = sw_g.pools;
    sw_g.pools = p;
    sw_info("pool %s created: %s:%d/%s as %s, size %d, %s pooling", p->key, p->host, p->port, p->database,
            p->server_user, p->size, sw_pool_mode_name(p->mode));
    return p;
}

/* ---------------------------------------------------------------- linking */

static void pool_link(sw_pool *p, sw_server *s, sw_client *c)
{
    pool_move(s, SW_SERVER_ACTIVE);
    s->last_used_ms = sw_now_ms();
    sw_client_server_ready(c, s);
}

static sw_client *pool_pop_waiter(sw_pool *p)
{
    sw_client *c = p->wait_head;
    if (!c) return NULL;
    p->wait_head = c->wait_next;
    if (!p->wait_head) p->wait_tail = NULL;
    c->wait_next = NULL;
    p->n_waiting--;
    return c;
}

static void pool_open_one(sw_pool *p)
{
    sw_server *s = sw_server_open(p);
    if (!s) return;
    list_push(&p->connecting, s);
    p->n_connecting++;
    sw_server_connect(s);
}

void sw_pool_acquire(sw_pool *p, sw_client *c)
{
    if (p->idle) {
        sw_server *s = p->idle;
        pool_link(p, s, c);
        return;
    }
    c->wait_next = NULL;
    if (p->wait_tail) p->wait_tail->wait_next = c; else p->wait_head = c;
    p->wait_tail = c;
    p->n_waiting++;
    c->wait_start_ms = sw_now_ms();
    /* Open as many connections as there are waiters not already covered. */
    if (pool_total(p) < p->size && p->n_connecting < p->n_waiting) pool_open_one(p);
}

void sw_pool_cancel_wait(sw_pool *p, sw_client *c)
{
    sw_client **pp = &p->wait_head, *prev = NULL;
    while (*pp && *pp != c) { prev = *pp; pp = &(*pp)->wait_next; }
    if (!*pp) return;
    *pp = c->wait_next;
    if (p->wait_tail == c) p->wait_tail = prev;
    c->wait_next = NULL;
    p->n_waiting--;
}

void sw_pool_server_ready(sw_server *s)
{
    sw_pool *p = s->pool;
    if (p->stale || s->dead) { sw_server_close(s, p->stale ? "configuration changed" : NULL); return; }
    sw_client *c = pool_pop_waiter(p);
    if (c) {
        pool_link(p, s, c);
        return;
    }
    pool_move(s, SW_SERVER_IDLE);
    s->last_used_ms = sw_now_ms();
    sw_conn_read_start(&s->c);
}

void sw_pool_release(sw_server *s, bool clean)
{
    sw_pool *p = s->pool;
    if (!clean || s->dead || p->stale || sw_g.shutting_down ||
        s->stmts.count > (uint32_t)sw_g.conf->max_prepared_per_server) {
        sw_server_close(s, clean ? "not reusable" : "released mid-transaction");
        return;
    }
    s->last_used_ms = sw_now_ms();
    bool reset_query = sw_g.conf->reset_query && sw_g.conf->reset_query[0];
    if (s->session_state && !reset_query) {
        /* a pinned client's temp tables, locks, LISTENs...: no other
         * client may find them */
        sw_server_close(s, "holds a client's session state and pool.reset_query is empty");
        return;
    }
    if ((p->mode == SW_POOL_SESSION || s->session_state) && reset_query) {
        sw_server_reset(s);  /* stays on the active list until idle */
        return;
    }
    sw_pool_server_ready(s);
}

void sw_pool_server_gone(sw_server *s, const char *sqlstate, const char *why)
{
    sw_pool *p = s->pool;
    /* The state is already CLOSING, so unlink from whichever list holds it. */
    if (s->prev) s->prev->next = s->next;
    else if (p->idle == s) p->idle = s->next;
    else if (p->active == s) p->active = s->next;
    else if (p->connecting == s) p->connecting = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
    p->n_idle = p->n_active = p->n_connecting = 0;
    for (sw_server *x = p->idle; x; x = x->next) p->n_idle++;
    for (sw_server *x = p->active; x; x = x->next) p->n_active++;
    for (sw_server *x = p->connecting; x; x = x->next) p->n_connecting++;
    if (sqlstate) {
        /* A connection attempt failed: waiters cannot be served unless
         * another attempt is under way or a busy server comes back. */
        free(p->last_connect_error);
        p->last_connect_error = why ? strdup(why) : NULL;
        p->last_connect_fail_ms = sw_now_ms();
        if (p->n_connecting == 0 && p->n_active == 0) {
            char msg[512];
            snprintf(msg, sizeof msg, "could not connect to node \"%s\": %s", p->node_name, why ? why : "failed");
            sw_client *c;
            while ((c = pool_pop_waiter(p))) sw_client_server_failed(c, sqlstate, msg);
        }
    } else if (p->n_waiting > p->n_connecting && pool_total(p) < p->size && !sw_g.shutting_down) {
        pool_open_one(p);
    }
}

/* ---------------------------------------------------------------- janitor */

void sw_pool_janitor(uint64_t now)
{
    const sw_conf *conf = sw_g.conf;
    sw_pool **pp = &sw_g.pools;
    while (*pp) {
        sw_pool *p = *pp;
        /* Waiters no connection attempt is serving (opening one ran out of
         * memory): try again. */
        if (!p->stale && !sw_g.shutting_down && p->n_waiting > p->n_connecting && pool_total(p) < p->size &&
            p->n_connecting == 0 && now - p->last_connect_fail_ms >= 1000)
            pool_open_one(p);
        /* Waiters past query_wait_timeout get an error and keep their session. */
        if (conf->query_wait_timeout_ms > 0) {
            while (p->wait_head && now - p->wait_head->wait_start_ms >= (uint64_t)conf->query_wait_timeout_ms) {
                sw_client *c = pool_pop_waiter(p);
                char msg[256];
                snprintf(msg, sizeof msg, "no server connection available in pool \"%s\" within %d ms", p->key,
                         conf->query_wait_timeout_ms);
                sw_client_server_failed(c, "53300", msg);
            }
        }
        sw_server *s, *next;
        for (s = p->connecting; s; s = next) {
            next = s->next;
            if (now - s->connect_start_ms >= (uint64_t)p->connect_timeout_ms) {
                char why[160];
                snprintf(why, sizeof why, "connection to %s:%d not logged in after %d ms (connect_timeout)",
                         p->host, p->port, p->connect_timeout_ms);
                sw_server_close(s, why);
            }
        }
        /* A server that owes replies and has said nothing for query_timeout
         * (a hung or frozen node): its client gets 57014.  Failing one can
         * release others (a routed client's other links), so rescan. */
        for (s = p->active; s && p->query_timeout_ms > 0;) {
            if (!sw_server_awaited(s)) {
                s->unawaited_ms = now;
                s = s->next;
                continue;
            }
            uint64_t since = s->c.last_io_ms > s->unawaited_ms ? s->c.last_io_ms : s->unawaited_ms;
            if (now - since < (uint64_t)p->query_timeout_ms) {
                s = s->next;
                continue;
            }
            char why[160];
            snprintf(why, sizeof why, "no reply for %llu ms (query_timeout is %d ms)",
                     (unsigned long long)(now - since), p->query_timeout_ms);
            /* A live but slow backend stops its query; a frozen one gets it when it wakes. */
            sw_cancel_forward(s);
            sw_server_fail(s, "57014", why);
            s = p->active;
        }
        for (s = p->idle; s; s = next) {
            next = s->next;
            if (p->stale || (conf->idle_timeout_ms > 0 && now - s->last_used_ms >= (uint64_t)conf->idle_timeout_ms))
                sw_server_close(s, p->stale ? "configuration changed" : "idle timeout");
        }
        if (p->stale && pool_total(p) == 0 && p->n_waiting == 0) {
            /* No client points at a stale pool once it is empty: clients
             * re-resolve their pool when the configuration generation moves. */
            bool referenced = false;
            for (sw_client *c = sw_g.clients; c; c = c->next) if (c->pool == p) { referenced = true; break; }
            if (!referenced) {
                *pp = p->next;
                for (int i = 0; i < p->n_params; i++) { free(p->param_names[i]); free(p->param_values[i]); }
                free(p->param_names); free(p->param_values);
                free(p->key); free(p->node_name); free(p->host); free(p->database);
                free(p->server_user); free(p->server_password); free(p->last_connect_error);
                free(p);
                continue;
            }
        }
        pp = &p->next;
    }
}

/* ---------------------------------------------------------------- reload and shutdown */

void sw_pool_reconfigure(const sw_conf *conf)
{
    for (sw_pool *p = sw_g.pools; p; p = p->next) {
        if (p->stale) continue;
        const char *slash = strchr(p->key, '/');
        const char *uname = slash ? slash + 1 : "";
        int ni = sw_conf_node_index(conf, p->node_name);
        const sw_conf_user *u = sw_conf_user_find(conf, uname);
        bool same = false;
        if (ni >= 0 && u) {
            const sw_conf_node *n = &conf->nodes[ni];
            const char *su = u->server_user ? u->server_user : n->user;
            const char *spw = u->server_user ? u->server_password : n->password;
            int size = u->pool_size > 0 ? u->pool_size : conf->pool_size;
            int mode = u->pool_mode >= 0 ? u->pool_mode : (int)conf->pool_mode;
            same = !strcmp(n->host, p->host) && n->port == p->port && !strcmp(n->database, p->database) &&
                   !strcmp(su, p->server_user) &&
                   ((!spw && !p->server_password) || (spw && p->server_password && !strcmp(spw, p->server_password))) &&
                   mode == (int)p->mode;
            if (same) {
                p->size = size;
                p->node_index = ni;
                p->connect_timeout_ms = n->connect_timeout_ms;
                p->query_timeout_ms = n->query_timeout_ms;
            }
        }
        if (!same) {
            p->stale = true;
            sw_info("pool %s: configuration changed, draining", p->key);
        }
    }
}

void sw_pool_close_all(void)
{
    for (sw_pool *p = sw_g.pools; p; p = p->next) {
        while (p->idle) sw_server_close(p->idle, NULL);
        while (p->active) sw_server_close(p->active, NULL);
        while (p->connecting) sw_server_close(p->connecting, NULL);
    }
}

int sw_pool_count_servers(void)
{
    int n = 0;
    for (sw_pool *p = sw_g.pools; p; p = p->next) n += pool_total(p);
    return n;
}
