/*
 * directory.c - lookups for directory-sharded keys ("query sharding": the
 * node of a key is a row in a mapping table).  A key missing from the
 * function's cache is looked up with libpq on a worker thread of the libuv
 * pool, so the loop and every other client go on meanwhile; the answer is
 * stored in the cache on the loop thread and the waiting client is routed
 * again.  One lookup at a time per client; the connection is opened per
 * lookup (answers are cached, so lookups are rare).
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

typedef struct dir_lookup {
    uv_work_t req;
    int32_t pid, key;       /* the waiting client, found again by its cancel key */
    sw_router *router;      /* whose function caches the answer */
    int fn;
    char conninfo[512];
    char *query;
    char value[SW_VALUE_BUF];
    char node[128];         /* answer */
    char error[512];
} dir_lookup;

static void conninfo_add(char *out, size_t outsz, const char *k, const char *v)
{
    if (!v) return;
    size_t n = strlen(out);
    snprintf(out + n, outsz - n, "%s%s='", n ? " " : "", k);
    for (const char *p = v; *p; p++) {
        n = strlen(out);
        if (n + 3 >= outsz) return;
        if (*p == '\'' || *p == '\\') out[n++] = '\\';
        out[n++] = *p;
        out[n] = 0;
    }
    n = strlen(out);
    snprintf(out + n, outsz - n, "'");
}

void sw_node_conninfo(const sw_conf_node *n, char *out, size_t outsz)
{
    char port[16];
    snprintf(port, sizeof port, "%d", n->port);
    out[0] = 0;
    conninfo_add(out, outsz, "host", n->host);
    conninfo_add(out, outsz, "port", port);
    conninfo_add(out, outsz, "dbname", n->database);
    conninfo_add(out, outsz, "user", n->user);
    conninfo_add(out, outsz, "password", n->password);
    conninfo_add(out, outsz, "connect_timeout", "5");
}

static void lookup_work(uv_work_t *req)
{
    dir_lookup *l = req->data;
    PGconn *pc = PQconnectdb(l->conninfo);
    if (PQstatus(pc) != CONNECTION_OK) {
        snprintf(l->error, sizeof l->error, "directory node unreachable: %s", PQerrorMessage(pc));
        PQfinish(pc);
        return;
    }
    const char *params[1] = {l->value};
    PGresult *r = PQexecParams(pc, l->query, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(l->error, sizeof l->error, "directory lookup failed: %s", PQresultErrorMessage(r));
    } else if (PQntuples(r) < 1 || PQgetisnull(r, 0, 0)) {
        snprintf(l->error, sizeof l->error, "key %s is not in the directory", l->value);
    } else {
        snprintf(l->node, sizeof l->node, "%s", PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    PQfinish(pc);
}

static void lookup_done(uv_work_t *req, int status)
{
    dir_lookup *l = req->data;
    sw_client *c = sw_client_by_key(l->pid, l->key);
    bool current = false;
    for (sw_client *x = sw_g.clients; x; x = x->next) if (x->router == l->router) current = true;
    if (l->router == sw_g.router) current = true;
    if (status == 0 && !l->error[0] && current) {
        sw_shardfn *fn = sw_router_function_mut(l->router, l->fn);
        const sw_conf_function *cf = fn ? sw_shardfn_conf(fn) : NULL;
        sw_value v;
        char buf[SW_VALUE_BUF];
        if (!fn || !cf || sw_value_from_text(cf->type, l->value, strlen(l->value), &v, buf, sizeof buf) != 0) {
            snprintf(l->error, sizeof l->error, "invalid directory key %s", l->value);
        } else if (sw_shardfn_directory_store(fn, &v, l->node, sw_wall_ms()) < 0) {
            snprintf(l->error, sizeof l->error, "directory maps key %s to unknown node \"%s\"", l->value, l->node);
        }
    }
    if (c && !c->c.closing) {
        if (l->error[0] || status != 0) {
            sw_warn("%s", l->error[0] ? l->error : "directory lookup cancelled");
            /* The statement that needed it is answered with the error. */
            sw_iobuf *b = &c->c.in;
            sw_msg_hdr h;
            if (sw_msg_peek(b->data + b->parse, b->recv - b->parse, UINT32_MAX, &h) == 1 &&
                b->recv - b->parse >= h.total)
                b->parse += h.total;
            sw_client_error(c, "ERROR", "58000", l->error[0] ? l->error : "directory lookup cancelled", NULL);
        }
        sw_client_set_state(c, c->n_links ? SW_CLIENT_ACTIVE : SW_CLIENT_IDLE);
        sw_client_process(c);
    }
    free(l->query);
    free(l);
}

void sw_directory_lookup_start(sw_client *c, const sw_route_out *o)
{
    const sw_conf *conf = sw_router_conf(c->router);
    const sw_shardfn *fn = sw_router_function(c->router, o->lookup_fn);
    const sw_conf_function *cf = fn ? sw_shardfn_conf(fn) : NULL;
    dir_lookup *l = calloc(1, sizeof *l);
    if (!cf || cf->dir_node < 0 || !l) {
        free(l);
        sw_client_error(c, "ERROR", "58000", "directory function is not usable", NULL);
        return;
    }
    sw_node_conninfo(&conf->nodes[cf->dir_node], l->conninfo, sizeof l->conninfo);
    l->query = strdup(cf->dir_query);
    snprintf(l->value, sizeof l->value, "%s", o->lookup_key);
    l->pid = c->pid;
    l->key = c->key;
    l->router = c->router;
    l->fn = o->lookup_fn;
    l->req.data = l;
    if (!l->query || uv_queue_work(sw_g.loop, &l->req, lookup_work, lookup_done) != 0) {
        free(l->query);
        free(l);
        sw_client_error(c, "ERROR", "58000", "could not start the directory lookup", NULL);
        return;
    }
    /* Nothing more is read from the client until the answer is in. */
    sw_client_set_state(c, SW_CLIENT_WAITING);
    sw_conn_read_stop(&c->c);
}
