/*
 * settings.c - a client's session settings follow it from server to server:
 * before its statements run on a server, that server gets the SET/RESET
 * that make its settings the client's; at the end of a transaction the
 * SET/RESET seen in it are applied to the client's record (or dropped when
 * it rolled back).  Session state that cannot follow (sw/session.h's pins)
 * keeps the client on its servers instead, until it is gone.
 */
#include <ctype.h>
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
        s->restoring = true;  /* the client waits for the answer: a failure must stop its statement */
    }
    if (sw_paramset_copy(&s->applied, &c->wanted) != 0)
        sw_server_fault(s, "53200", "out of memory recording session settings");
}

/* Whether new pins are refused (pool.session_state: refuse under
 * transaction pooling): then the 0A000 message into msg.  What could not
 * be examined (SW_PIN_UNKNOWN) is never refused, only pinned. */
static bool pins_refused(const sw_client *c, uint32_t pins, char *msg, size_t msgsz)
{
    uint32_t fresh = pins & ~c->pins & ~SW_PIN_UNKNOWN;
    if (!fresh || !c->pool || c->pool->mode != SW_POOL_TRANSACTION ||
        sw_g.conf->session_state != SW_SESSION_STATE_REFUSE)
        return false;
    char why[200];
    sw_pin_reasons(fresh, why, sizeof why);
    snprintf(msg, msgsz,
             "this statement creates session state (%s) that transaction pooling cannot keep "
             "(pool.session_state is refuse): use a session-pooled user or database",
             why);
    return true;
}

/* The client keeps its servers for pins; they are reset before anyone
 * else gets them. */
static void pins_take(sw_client *c, uint32_t pins)
{
    if (!pins) return;
    if ((pins & ~c->pins) && c->pool && c->pool->mode == SW_POOL_TRANSACTION) {
        char why[200];
        sw_pin_reasons(pins & ~c->pins, why, sizeof why);
        sw_debug("client %s pid=%d pinned to its servers: %s", c->addr, c->pid, why);
    }
    c->pins |= pins;
    sw_server *ls;
    SW_EACH_LINK(c, m, ls) ls->session_state = true;
    if (c->server) c->server->session_state = true;
}

/* The pins among ops[first..n), SW_PIN_UNKNOWN when the scan ran out of
 * memory (what the statement does to the session is not known). */
static uint32_t ops_pins(sw_sessops *ops, int first, bool *dealloc)
{
    uint32_t pins = ops->oom ? SW_PIN_UNKNOWN : 0;
    ops->oom = false;
    for (int i = first; i < ops->n; i++) {
        if (ops->ops[i].kind == SW_SESSOP_PIN) pins |= ops->ops[i].pins;
        if (ops->ops[i].kind == SW_SESSOP_DEALLOCATE_ALL && dealloc) *dealloc = true;
    }
    return pins;
}

bool sw_session_statement(sw_client *c, const char *sql, size_t len, sw_server *const *srv, int n)
{
    int first = c->pending.n;
    if (sw_sessops_scan(sql, len, &c->pending) == 0 && !c->pending.oom) return true;
    bool dealloc = false;
    uint32_t pins = ops_pins(&c->pending, first, &dealloc);
    char msg[400];
    if (pins_refused(c, pins, msg, sizeof msg)) {
        while (c->pending.n > first) {  /* it is not sent: it does nothing */
            sw_sessop *op = &c->pending.ops[--c->pending.n];
            free(op->name);
            free(op->sql);
        }
        sw_local_error(c, "0A000", msg);
        return false;
    }
    pins_take(c, pins);
    if (dealloc) {
        /* the servers that run it lose every prepared statement (shardwire's
         * shared ones too), and the client its names */
        for (int i = 0; i < n; i++) {
            if (!srv[i]) continue;
            sw_map_free(&srv[i]->stmts);
            sw_map_init(&srv[i]->stmts);
        }
        sw_client_stmt_drop_all(c);
    }
    return true;
}

bool sw_session_parse(sw_client *c, const char *sql, size_t len, char *msg, size_t msgsz)
{
    sw_sessops ops = {0};
    sw_sessops_scan(sql, len, &ops);
    uint32_t pins = ops_pins(&ops, 0, NULL);
    sw_sessops_clear(&ops);
    free(ops.ops);
    if (pins_refused(c, pins, msg, msgsz)) return false;
    pins_take(c, pins);
    return true;
}

void sw_settings_reported(sw_client *c, const uint8_t *body, uint32_t len)
{
    const char *name, *value;
    if (sw_param_status_decode(body, len, &name, &value) < 0) return;
    char lname[128], sql[1024];
    size_t k = 0;
    for (; name[k] && k + 1 < sizeof lname; k++) lname[k] = (char)tolower((unsigned char)name[k]);
    lname[k] = 0;
    if (sw_param_set_sql(sql, sizeof sql, lname, value) >= sizeof sql) return;  /* the client's text stays */
    sw_paramset_set(&c->reported, lname, sql);
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
                /* the value the server reported for it, where it reports one */
                const char *sql = sw_paramset_get(&c->reported, op->name);
                if (!sql) sql = op->sql;
                sw_paramset_set(&c->wanted, op->name, sql);
                if (s) sw_paramset_set(&s->applied, op->name, sql);
            } else if (op->kind == SW_SESSOP_RESET) {
                sw_paramset_set(&c->wanted, op->name, sw_paramset_get(&c->startup, op->name));
                if (s) sw_paramset_set(&s->applied, op->name, NULL);
            } else if (op->kind == SW_SESSOP_UNPIN) {
                c->pins &= ~op->pins;
            } else if (op->kind == SW_SESSOP_PIN || op->kind == SW_SESSOP_DEALLOCATE_ALL) {
                /* taken when sent */
            } else {
                sw_paramset_copy(&c->wanted, &c->startup);
                if (s) sw_paramset_free(&s->applied);
            }
        }
    }
    sw_sessops_clear(&c->pending);
    sw_paramset_free(&c->reported);
    c->txn_failed = false;
}

