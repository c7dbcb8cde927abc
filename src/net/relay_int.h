/*
 * relay_int.h - pieces of the data path shared by relay.c (one server per
 * client, messages forwarded as they come) and routed.c (statements routed
 * by the shard map to one or several servers).  Private to src/net.
 */
#ifndef SW_RELAY_INT_H
#define SW_RELAY_INT_H

#include "sw/proxy.h"

void sw_client_set_state(sw_client *c, sw_client_state st);
void sw_relay_linked(sw_client *c, sw_server *s);
void sw_relay_client(sw_client *c);
void sw_server_relay(sw_server *s);

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

/* Outcome of sw_client_frame. */
enum { SW_FRAME_MSG = 0, SW_FRAME_AGAIN = 1, SW_FRAME_STOP = 2, SW_FRAME_CLOSED = 3 };
/* Frame the client's next message (shared first step of both client loops). */
int sw_client_frame(sw_client *c, sw_msg_hdr *h);

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

/* The client's names for prepared statements. */
sw_client_stmt *sw_client_stmt_find(sw_client *c, const char *name);
sw_stmt *sw_client_stmt_add(sw_client *c, const char *name, const char *query, size_t qlen,
                            uint16_t nparams, const uint8_t *types);
void sw_client_stmt_drop(sw_client *c, const char *name);

/* The transaction ended: apply or drop the SET/RESET seen in it. */
void sw_settle_sessops(sw_client *c, sw_server *s);
/* No server can be had: every complete message buffered is answered as a
 * failed request (an error per Query or batch, a ReadyForQuery per Sync),
 * an open transaction is failed from the client's view. */
void sw_client_fail_pending(sw_client *c, const char *sqlstate, const char *msg);
void sw_client_protocol_error(sw_client *c, const char *msg);

/* routed.c: the client loop for routed databases. */
void sw_routed_client(sw_client *c);
/* A server linked for c (routed): record it and replay the open transaction. */
void sw_routed_linked(sw_client *c, sw_server *s);
/* Fan-out merge of one server message; returns true when it is forwarded. */
bool sw_fan_filter(sw_client *c, sw_server *s, uint8_t type, const uint8_t *p, uint32_t total);
/* True when no linked server owes the client anything. */
bool sw_routed_quiescent(const sw_client *c);
/* Drop every link (end of transaction or failure). */
void sw_routed_unlink_all(sw_client *c, bool clean);
/* console.c: the admin database. */
void sw_console_login(sw_client *c);
void sw_console_process(sw_client *c);

/* directory.c: look a directory-sharded key up off the loop; the client
 * is processed again (and re-routed, now from the cache) when it is known. */
void sw_directory_lookup_start(sw_client *c, const sw_route_out *o);
/* libpq conninfo of a node (the control plane's connections). */
void sw_node_conninfo(const sw_conf_node *n, char *out, size_t outsz);
/* copycols.c: the column order of table on node, looked up off the loop for
 * a COPY without a column list; the client is processed again once
 * c->copy_key_pos is known (position + 1; -1 with the error sent). */
void sw_copy_columns_start(sw_client *c, int node, const char *schema, const char *relname, const char *key);

/* A server message while linked: expectations, then forwarding. */
void sw_relay_server_message(sw_server *s, sw_client *c, uint8_t type, const uint8_t *p, uint32_t total);
/* Routed client: after a reply, end the transaction when all is done. */
void sw_routed_after_reply(sw_client *c);

/* merged.c: a SELECT whose shards' answers go through the merger. */
/* s's next message, for owners that copy what they keep (merges, split
 * COPYs): 1 whole (*h), 2 header known but not whole yet (room made), 0 no
 * header yet, -1 s closed (invalid or too big). */
int sw_server_peek(sw_server *s, sw_msg_hdr *h);
/* Consume the message sw_server_peek found whole; returns its bytes, valid
 * until s's buffer is read into again. */
const uint8_t *sw_server_take(sw_server *s, const sw_msg_hdr *h);
void sw_merged_filter(sw_client *c, sw_server *s, uint8_t type, const uint8_t *p, uint32_t total, bool hidden);
void sw_merged_server(sw_server *s);

/* copyin.c: COPY FROM STDIN split over several shards. */
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
