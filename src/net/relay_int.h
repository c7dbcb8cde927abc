/*
 * relay_int.h - the pieces of the data path, private to src/net, by file.
 *
 *   pipeline.c  the one client loop: frame, hand each message on
 *   direct.c    databases on one node: every message to the client's server
 *   routed.c    databases with a shard map: each statement to its node(s)
 *   link.c      the servers a client holds, by node, and unlinking them
 *   local.c     answers shardwire gives without a server
 *   fanout.c    one statement on several servers, replies concatenated in turn
 *   merged.c    one SELECT on several servers, replies merged
 *   copyin.c    COPY FROM STDIN split over several servers
 *   relay.c     server to client: replies against the ledger, forwarded
 *   owe.c       what each request owes (ledger glue), fakes, faults
 *   settings.c  session settings following the client from server to server
 *   failure.c   what a client hears when no server answer can be had
 *   stmt.c      the shared statement registry and the clients' names
 */
#ifndef SW_RELAY_INT_H
#define SW_RELAY_INT_H

#include "sw/proxy.h"

/* Outcome of handling one client message: it was consumed (answered or
 * sent on), it must wait (nothing consumed), or the client was closed. */
enum { SW_MSG_DONE = 1, SW_MSG_WAIT = 0, SW_MSG_CLOSED = -1 };

void sw_client_set_state(sw_client *c, sw_client_state st);

/* ---------------------------------------------------------------- pipeline.c */

/* Outcome of sw_client_frame. */
enum { SW_FRAME_MSG = 0, SW_FRAME_AGAIN = 1, SW_FRAME_STOP = 2, SW_FRAME_CLOSED = 3 };
/* Frame the client's next message: pass through the rest of a large
 * CopyData, close on Terminate or a bad length, drop messages up to Sync
 * after an error. */
int sw_client_frame(sw_client *c, sw_msg_hdr *h);
/* Process the client's buffered messages (logged-in clients). */
void sw_client_run(sw_client *c);

/* ---------------------------------------------------------------- direct.c, routed.c */

/* One message of a logged-in client; consumes it unless SW_MSG_WAIT. */
int sw_direct_message(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total);
int sw_routed_message(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total);

/* ---------------------------------------------------------------- links (routed.c) */

/* A server linked for c: record it, bring its settings in line and replay
 * the open transaction. */
void sw_client_linked(sw_client *c, sw_server *s);
/* Make node's server current.  True when it is; false when one is being
 * acquired (processing resumes when the pool links it) or on failure. */
bool sw_client_use_node(sw_client *c, int node);
/* True when no linked server owes the client anything. */
bool sw_client_quiescent(const sw_client *c);
/* Fan-out merge of one server message; returns true when it is forwarded. */
bool sw_fan_filter(sw_client *c, sw_server *s, uint8_t type, const uint8_t *p, uint32_t total);

/* ---------------------------------------------------------------- relay.c */

void sw_server_relay(sw_server *s);
/* A server message while linked: the ledger, then forwarding. */
void sw_relay_server_message(sw_server *s, sw_client *c, uint8_t type, const uint8_t *p, uint32_t total);
/* After a reply: end the transaction when all is done, let the client go on. */
void sw_client_after_reply(sw_client *c);

/* ---------------------------------------------------------------- owe.c */

/* Record on s's ledger the replies a request just sent owes (hidden: they
 * are shardwire's own).  false when it cannot be owed: s is faulted, and
 * the loop that sent it closes it (sw_server_check_fault). */
bool sw_owe(sw_server *s, sw_owe_kind kind, bool hidden);
bool sw_owe_stmt(sw_server *s, sw_owe_kind kind, bool hidden, uint64_t stmt_id, uint64_t name_hash);
/* s's replies or requests no longer fit its ledger: remember why (the
 * first reason wins); sw_server_check_fault closes it, telling its client. */
void sw_server_fault(sw_server *s, const char *sqlstate, const char *msg);
/* Close s if it is faulted; true when it was. */
bool sw_server_check_fault(sw_server *s);
/* The ledger's retire callback (server.c sets it up). */
void sw_server_retire_cb(void *ctx, const sw_owed *e, sw_retire how);
/* Fake replies emitted in order with s's real ones; a named one is a
 * ParseComplete that created the client's name (dropped again when the
 * server skips it). */
void sw_push_fake(sw_server *s, uint8_t type);
void sw_push_fake_named(sw_server *s, uint8_t type, uint64_t name_hash, uint64_t stmt_id);
/* An error for c's current server batch; drops the client's input to Sync. */
void sw_push_fake_error(sw_client *c, const char *sqlstate, const char *msg);
void sw_emit_fakes(sw_server *s);
/* Prepare st on s (hidden Parse) unless it is there. */
void sw_ensure_prepared(sw_server *s, sw_stmt *st);

/* ---------------------------------------------------------------- stmt.c */

/* The client's names for prepared statements. */
sw_client_stmt *sw_client_stmt_find(sw_client *c, const char *name);
sw_stmt *sw_client_stmt_add(sw_client *c, const char *name, const char *query, size_t qlen,
                            uint16_t nparams, const uint8_t *types);
void sw_client_stmt_drop(sw_client *c, const char *name);
/* Drop the name with this hash if it still names statement stmt_id. */
void sw_client_stmt_drop_id(sw_client *c, uint64_t name_hash, uint64_t stmt_id);

/* ---------------------------------------------------------------- settings.c */

/* A server was just linked to c: bring its settings in line with c's. */
void sw_settings_sync(sw_client *c, sw_server *s);
/* The transaction ended: apply or drop the SET/RESET seen in it. */
void sw_settle_sessops(sw_client *c, sw_server *s);

/* ---------------------------------------------------------------- failure.c */

/* No server can be had: every complete message buffered is answered as a
 * failed request (an error per Query or batch, a ReadyForQuery per Sync),
 * an open transaction is failed from the client's view. */
void sw_client_fail_pending(sw_client *c, const char *sqlstate, const char *msg);
/* FATAL 08P01 and close. */
void sw_client_protocol_error(sw_client *c, const char *msg);

/* ---------------------------------------------------------------- console.c */

void sw_console_login(sw_client *c);
void sw_console_process(sw_client *c);

/* ---------------------------------------------------------------- directory.c, copycols.c */

/* Look a directory-sharded key up off the loop; the client is processed
 * again (and re-routed, now from the cache) when it is known. */
void sw_directory_lookup_start(sw_client *c, const sw_route_out *o);
/* libpq conninfo of a node (the control plane's connections). */
void sw_node_conninfo(const sw_conf_node *n, char *out, size_t outsz);
/* The column order of table on node, looked up off the loop for a COPY
 * without a column list; the client is processed again once
 * c->copy_key_pos is known (position + 1; -1 with the error sent). */
void sw_copy_columns_start(sw_client *c, int node, const char *schema, const char *relname, const char *key);

/* ---------------------------------------------------------------- merged.c */

/* s's next message, for owners that copy what they keep (merges, split
 * COPYs): 1 whole (*h), 2 header known but not whole yet (room made), 0 no
 * header yet, -1 s closed (invalid or too big). */
int sw_server_peek(sw_server *s, sw_msg_hdr *h);
/* Consume the message sw_server_peek found whole; returns its bytes, valid
 * until s's buffer is read into again. */
const uint8_t *sw_server_take(sw_server *s, const sw_msg_hdr *h);
void sw_merged_filter(sw_client *c, sw_server *s, uint8_t type, const uint8_t *p, uint32_t total, bool hidden);
void sw_merged_server(sw_server *s);

/* ---------------------------------------------------------------- copyin.c */

struct sw_copy_stmt;
int sw_copyin_begin(sw_client *c, sw_server *const *servers, const int *nodes, const char *const *sqls, int n,
                    const struct sw_copy_stmt *stmt, const sw_conf_table *table, const sw_shardfn *fn,
                    int key_field);
void sw_copyin_free(sw_copyin *cf);
void sw_copyin_filter(sw_client *c, sw_server *s, uint8_t type, const uint8_t *p, uint32_t total, bool hidden);
void sw_copyin_server(sw_server *s);
int sw_copyin_client(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total);

/* The current fan-out target, or NULL. */
static inline sw_server *sw_fan_current(const sw_client *c)
{
    return c->fan.active ? c->fan.srv[c->fan.cur] : NULL;
}

#endif
