/*
 * settings.c - a client's session settings follow it from server to server:
 * before its statements run on a server, that server gets the SET/RESET
 * that make its settings the client's; at the end of a transaction the
 * SET/RESET seen in it are applied to the client's record (or dropped when
 * it rolled back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

/* A server was just linked to c: bring its settings in line with the
 * client's before anything of the client's runs there. */
void sw_settings_sync(sw_client *c, sw_server *s)
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
        sw_owe(s, SW_OWE_QUERY, true);
    }
    if (sw_paramset_copy(&s->applied, &c->wanted) != 0)
        sw_server_fault(s, "53200", "out of memory recording session settings");
}

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

