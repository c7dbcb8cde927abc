/*
 * owe.c - the glue between a server connection and its ledger (ledger.h):
 * recording what each request sent owes, the answers shardwire gives in
 * the server's place (fakes, emitted exactly where they fall in the reply
 * stream), on-demand Parses, and faults: a server whose requests or
 * replies no longer fit its ledger is marked and closed by the loop that
 * found out, never reused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

/* An entry left s's ledger.  A Parse that failed, was skipped or was lost
 * with the connection did not prepare its statement there, and a client's
 * name it would have created does not exist (PostgreSQL would not have
 * it): both records follow. */
void sw_server_retire_cb(void *ctx, const sw_owed *e, sw_retire how)
{
    sw_server *s = ctx;
    if (e->kind == SW_OWE_PARSE && !e->stmt_id && e->owner == SW_OWNER_CLIENT && s->client) {
        /* the client's unnamed Parse (one-node databases) */
        sw_client *c = s->client;
        if (c->unnamed_inflight) c->unnamed_inflight--;
        if (how == SW_RETIRE_OK || how == SW_RETIRE_FAILED) c->unnamed_at = s;
        return;
    }
    if (how == SW_RETIRE_OK) {
        if (e->kind == SW_OWE_PARSE && e->name_hash && s->client)
            sw_client_stmt_confirm(s->client, e->name_hash, e->stmt_id);
        return;
    }
    if (how == SW_RETIRE_ABSORBED) return;
    bool creates = e->kind == SW_OWE_PARSE || (e->kind == SW_OWE_FAKE && e->fake_type == SW_BE_PARSE_COMPLETE);
    if (e->kind == SW_OWE_PARSE && e->stmt_id) sw_map_del(&s->stmts, e->stmt_id);
    if (creates && e->name_hash && s->client) {
        sw_client_stmt_drop_id(s->client, e->name_hash, e->stmt_id);
    }
}

void sw_server_fault(sw_server *s, const char *sqlstate, const char *msg)
{
    if (s->faulted) return;
    s->faulted = true;
    snprintf(s->fault_state, sizeof s->fault_state, "%s", sqlstate);
    snprintf(s->fault_msg, sizeof s->fault_msg, "%s", msg);
}

bool sw_server_close_faulted(sw_server *s)
{
    if (s->c.closing) return false;
    char msg[sizeof s->fault_msg];
    char state[6];
    memcpy(msg, s->fault_msg, sizeof msg);
    memcpy(state, s->fault_state, sizeof state);
    sw_server_fail(s, state, msg);
    return true;
}

bool sw_owe_stmt(sw_server *s, sw_owe_kind kind, bool hidden, uint64_t stmt_id, uint64_t name_hash)
{
    sw_owed e = {.kind = (uint8_t)kind, .owner = hidden ? SW_OWNER_PROXY : SW_OWNER_CLIENT,
                 .stmt_id = stmt_id, .name_hash = name_hash};
    if (sw_ledger_push(&s->owed, &e) >= 0) return true;
    sw_server_fault(s, "08P01", "a request cannot be accounted for on this server connection "
                                "(sent during COPY, while the server skips to Sync, or out of memory)");
    return false;
}

bool sw_owe(sw_server *s, sw_owe_kind kind, bool hidden) { return sw_owe_stmt(s, kind, hidden, 0, 0); }

/* Emit the fake replies now at the head of the ledger. */
void sw_emit_fakes_now(sw_server *s)
{
    sw_client *c = s->client;
    sw_owed *e;
    while ((e = sw_ledger_fake(&s->owed))) {
        if (c) {
            sw_wbuf *w = sw_out_gen(&c->c);
            size_t start = w->len;
            if (e->fake_type == 'E') {
                sw_build_error(w, 'E', "ERROR", e->error, e->error + strlen(e->error) + 1, NULL, NULL);
                c->txn_failed = true;
            } else {
                sw_build_empty(w, e->fake_type);
                if (e->fake_type == SW_BE_PARSE_COMPLETE && e->name_hash)
                    sw_client_stmt_confirm(c, e->name_hash, e->stmt_id);
            }
            sw_out_gen_done(&c->c, start);
        }
        sw_ledger_pop_fake(&s->owed);
    }
}

/* ---------------------------------------------------------------- helpers */

void sw_push_fake_named(sw_server *s, uint8_t type, uint64_t name_hash, uint64_t stmt_id)
{
    sw_owed e = {.kind = SW_OWE_FAKE, .owner = SW_OWNER_CLIENT, .fake_type = type,
                 .name_hash = name_hash, .stmt_id = stmt_id};
    if (sw_ledger_push(&s->owed, &e) < 0) sw_server_fault(s, "53200", "out of memory");
}

void sw_push_fake(sw_server *s, uint8_t type) { sw_push_fake_named(s, type, 0, 0); }

/* A proxy-detected error in the middle of an extended-protocol batch: the
 * client sees it in order, then everything up to its Sync is dropped, as
 * PostgreSQL would. */
void sw_server_fail_batch(sw_server *s)
{
    if (s->owed.skipping) return;  /* the server failed it already */
    /* A Bind of a statement no one has (client names become sw_<hash> on
     * servers), its name in the server's log for the operator, then a Sync
     * of shardwire's own.  Not a Query: that would drop the client's
     * unnamed statement.  (Nor a PL/pgSQL RAISE: PostgreSQL 15 was seen to
     * crash on an Execute of a closed unnamed portal after one, in a failed
     * transaction.)  The Sync ends the server's skipping; the client's
     * messages up to its own Sync are dropped by shardwire. */
    static const char abort_stmt[] = "shardwire failed this request batch";
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_msg_header(w, SW_FE_BIND, 1 + sizeof abort_stmt + 2 + 2 + 2);
    sw_wbuf_cstr(w, "");
    sw_wbuf_cstr(w, abort_stmt);
    static const uint8_t no_formats_params_results[6] = {0, 0, 0, 0, 0, 0};
    sw_wbuf_put(w, no_formats_params_results, sizeof no_formats_params_results);
    sw_build_empty(w, SW_FE_SYNC);
    sw_out_gen_done(&s->c, start);
    sw_owed e = {.kind = SW_OWE_BIND, .owner = SW_OWNER_ABORT};
    sw_owed z = {.kind = SW_OWE_SYNC, .owner = SW_OWNER_PROXY};
    if (sw_ledger_push(&s->owed, &e) < 0 || sw_ledger_push(&s->owed, &z) < 0)
        sw_server_fault(s, "53200", "out of memory");
}

void sw_client_fail_links(sw_client *c)
{
    sw_server *s;
    SW_EACH_LINK(c, m, s)
        if (!s->owed.absorbing) sw_server_fail_batch(s);
}

void sw_push_fake_error(sw_client *c, const char *sqlstate, const char *msg)
{
    sw_server *s = c->server;
    c->skip_until_sync = true;
    size_t a = strlen(sqlstate), b = strlen(msg);
    sw_owed e = {.kind = SW_OWE_FAKE, .owner = SW_OWNER_CLIENT, .fake_type = 'E', .error = malloc(a + b + 2)};
    if (!e.error) {
        sw_server_fault(s, "53200", "out of memory");
        return;
    }
    memcpy(e.error, sqlstate, a + 1);
    memcpy(e.error + a + 1, msg, b + 1);
    if (sw_ledger_push(&s->owed, &e) < 0) sw_server_fault(s, "53200", "out of memory");
    sw_server_fail_batch(s);
    if (c->txn_status == 'T' && !c->proxy_failed) sw_client_fail_links(c);  /* the transaction fails on every node */
}

/* Make sure the statement exists on the server, preparing it (hidden) first
 * if not. */
void sw_ensure_prepared(sw_server *s, sw_stmt *st)
{
    if (sw_map_get(&s->stmts, st->id)) return;
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    char nb[64];
    sw_build_parse(w, sw_server_stmt_name(s, st, nb, sizeof nb), st->query, st->query_len, st->nparams,
                   st->param_types);
    sw_out_gen_done(&s->c, start);
    if (sw_map_put(&s->stmts, st->id, st) != 0) {
        sw_server_fault(s, "53200", "out of memory");
        return;
    }
    sw_owe_stmt(s, SW_OWE_PARSE, true, st->id, 0);
}

