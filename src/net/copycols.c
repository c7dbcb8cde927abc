/*
 * copycols.c - where the shard key sits in a COPY without a column list.
 * Such a COPY carries every column of the table in table order, which only
 * the catalog knows: the order is read with libpq from the first target
 * node on a worker thread of the libuv pool (the loop and other clients go
 * on), then the client's COPY is routed again.  Nothing is cached: a table
 * altered between two COPYs is read afresh.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

typedef struct col_lookup {
    uv_work_t req;
    int32_t pid, key;       /* the waiting client, found again by its cancel key */
    char conninfo[512];
    char relation[300];     /* quoted, qualified as written */
    char keycol[128];
    int pos;                /* answer: 0-based position of the key */
    char error[512];
} col_lookup;

static void quote_ident(char *out, size_t outsz, const char *id)
{
    size_t n = strlen(out);
    if (n + 2 >= outsz) return;
    out[n++] = '"';
    for (const char *p = id; *p && n + 3 < outsz; p++) {
        if (*p == '"') out[n++] = '"';
        out[n++] = *p;
    }
    out[n++] = '"';
    out[n] = 0;
}

static void columns_work(uv_work_t *req)
{
    col_lookup *l = req->data;
    PGconn *pc = PQconnectdb(l->conninfo);
    if (PQstatus(pc) != CONNECTION_OK) {
        snprintf(l->error, sizeof l->error, "node unreachable for the column order of the COPY: %s",
                 PQerrorMessage(pc));
        PQfinish(pc);
        return;
    }
    /* COPY without a column list takes the non-dropped, non-generated
     * columns in attnum order */
    const char *params[1] = {l->relation};
    PGresult *r = PQexecParams(pc,
                               "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                               "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                               1, NULL, params, NULL, NULL, 0);
    l->pos = -1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(l->error, sizeof l->error, "%s", PQresultErrorMessage(r));
    } else {
        for (int i = 0; i < PQntuples(r) && l->pos < 0; i++)
            if (strcmp(PQgetvalue(r, i, 0), l->keycol) == 0) l->pos = i;
        if (l->pos < 0)
            snprintf(l->error, sizeof l->error, "shard key column \"%s\" is not a column of %s", l->keycol,
                     l->relation);
    }
    PQclear(r);
    PQfinish(pc);
}

static void columns_done(uv_work_t *req, int status)
{
    col_lookup *l = req->data;
    sw_client *c = sw_client_by_key(l->pid, l->key);
    if (c && !c->c.closing) {
        if (l->error[0] || status != 0) {
            /* the COPY is answered with the error */
            sw_iobuf *b = &c->c.in;
            sw_msg_hdr h;
            if (sw_msg_peek(b->data + b->parse, b->recv - b->parse, UINT32_MAX, &h) == 1 &&
                b->recv - b->parse >= h.total)
                b->parse += h.total;
            c->copy_key_pos = 0;
            sw_client_error(c, "ERROR", "42P01", l->error[0] ? l->error : "column lookup cancelled", NULL);
        } else {
            c->copy_key_pos = l->pos + 1;
        }
        sw_client_set_state(c, c->n_links ? SW_CLIENT_ACTIVE : SW_CLIENT_IDLE);
        sw_client_process(c);
    }
    free(l);
}

void sw_copy_columns_start(sw_client *c, int node, const char *schema, const char *relname, const char *key)
{
    const sw_conf *conf = sw_router_conf(c->router);
    col_lookup *l = calloc(1, sizeof *l);
    if (!l || node < 0 || node >= conf->n_nodes) {
        free(l);
        sw_client_error(c, "ERROR", "58000", "could not look up the columns of the COPY's table", NULL);
        return;
    }
    sw_node_conninfo(&conf->nodes[node], l->conninfo, sizeof l->conninfo);
    if (schema) {
        quote_ident(l->relation, sizeof l->relation, schema);
        strncat(l->relation, ".", sizeof l->relation - strlen(l->relation) - 1);
    }
    quote_ident(l->relation, sizeof l->relation, relname);
    snprintf(l->keycol, sizeof l->keycol, "%s", key);
    l->pid = c->pid;
    l->key = c->key;
    l->req.data = l;
    if (uv_queue_work(sw_g.loop, &l->req, columns_work, columns_done) != 0) {
        free(l);
        sw_client_error(c, "ERROR", "58000", "could not start the column lookup", NULL);
        return;
    }
    /* Nothing more is read from the client until the answer is in. */
    sw_client_set_state(c, SW_CLIENT_WAITING);
    sw_conn_read_stop(&c->c);
}
