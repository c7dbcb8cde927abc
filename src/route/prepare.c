/*
 * prepare.c - plans of extended-protocol statements: analysed once at
 * Parse, kept with their text and items, evaluated at every Bind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

sw_plan *sw_router_prepare(sw_router *r, const char *database, const char *sql, size_t len, char *err,
                           size_t errsz)
{
    char *text = malloc(len + 1);
    sw_items *it = malloc(sizeof *it);
    sw_plan *p = NULL;
    if (it) it->v = NULL;  /* nothing of its own to free until it is scanned */
    if (!text || !it) {
        if (err && errsz) snprintf(err, errsz, "out of memory");
        goto out;
    }
    memcpy(text, sql, len);
    text[len] = '\0';
    int db = sw_router_db(r, database);
    uint64_t shape;
    char sqlstate[6], msg[256];
    if (sw_items_scan(text, len, it, 0, &shape) < 0) {
        it->v = it->inline_v;
        it->n = 0;
        it->cap = SW_ITEMS_INLINE;
    }
    p = sw_plan_build(r, db, text, len, it, sqlstate, msg, sizeof msg);
    if (!p) {
        if (err && errsz) snprintf(err, errsz, "%s", msg);
        goto out;
    }
    if (it->n) {
        p->items = malloc((size_t)it->n * sizeof *p->items);
        if (!p->items) {
            if (err && errsz) snprintf(err, errsz, "out of memory");
            sw_plan_destroy(p);
            p = NULL;
            goto out;
        }
        memcpy(p->items, it->v, (size_t)it->n * sizeof *p->items);
    }
    p->text = text;
    p->text_len = len;
    text = NULL;
out:
    if (it) sw_items_free(it);
    free(it);
    free(text);
    return p;
}

void sw_plan_free(sw_plan *p)
{
    sw_plan_destroy(p);
}

sw_route_status sw_router_route_plan(sw_router *r, const sw_plan *p, const sw_route_in *in, sw_route_out *out)
{
    return sw_plan_eval(r, p, in, p->text, p->items, p->n_items, out);
}

sw_stmt_kind sw_plan_kind(const sw_plan *p)
{
    return p->n_stmts ? p->stmts[0].kind : SW_SK_EMPTY;
}
