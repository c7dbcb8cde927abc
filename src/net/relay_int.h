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
/* Set whether c's messages are processed now (the only setter). */
void sw_client_set_flow(sw_client *c, sw_client_flow f);
/* Process the client's buffered messages (logged-in clients). */
void sw_client_run(sw_client *c);

/* ---------------------------------------------------------------- direct.c, routed.c */

/* One message of a logged-in client; consumes it unless SW_MSG_WAIT. */
int sw_direct_message(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total);
int sw_routed_message(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total);

/* Forget the route kept for the message at the parse cursor. */
void sw_client_route_drop(sw_client *c);
/* What the router is told about the client's statement context. */
sw_route_in sw_client_route_in(sw_client *c);

/* ---------------------------------------------------------------- link.c */

/* Each server c holds, s set to it: SW_EACH_LINK(c, m, s) { ... }; safe
 * against unlinking inside (m is a copy of the link mask). */
#define SW_EACH_LINK(c, m, s) \
    for (uint64_t m = (c)->link_mask; m && (((s) = (c)->link[__builtin_ctzll(m)]), 1); m &= m - 1)

/* A server linked for c: record it, bring its settings in line and replay
 * the open transaction. */
void sw_client_linked(sw_client *c, sw_server *s);
/* Make node's server current.  True when it is; false when one is being
 * acquired (processing resumes when the pool links it) or on failure. */
bool sw_client_use_node(sw_client *c, int node);
/* Link a server on every target node.  True when all are linked (else one
 * is being acquired). */
bool sw_client_link_all(sw_client *c, const sw_route_target *t, int n);
/* Nodes the transaction already holds, as targets (COMMIT, SAVEPOINT...). */
int sw_link_targets(sw_client *c, sw_route_target *t, int max);
/* Node for a statement that may run anywhere: where the client already is. */
int sw_client_any_node(sw_client *c);
/* True when no linked server owes the client anything. */
bool sw_client_quiescent(const sw_client *c);
/* Drop every link (end of transaction or failure); clean: the servers may
 * be reused if their ledgers are empty and they are idle. */
void sw_client_unlink(sw_client *c, bool clean);
/* Forget the transaction's replay state (BEGIN text, failure, SET LOCAL). */
void sw_client_txn_clear(sw_client *c);
/* A savepoint statement (o->txn_op) is on its way to the transaction's
 * nodes: follow it in the list replayed on nodes that join later.  False
 * when out of memory (the caller refuses the statement). */
bool sw_client_savepoint_track(sw_client *c, const sw_route_out *o);
/* Pick up a reloaded configuration between statements; false: closed. */
bool sw_client_refresh_conf(sw_client *c);

/* ---------------------------------------------------------------- local.c */

/* Simple-protocol error (E + Z); inside a transaction it fails it. */
void sw_local_error(sw_client *c, const char *sqlstate, const char *msg);
/* Extended-protocol error, in order with the current server's replies;
 * the client's messages up to Sync are then dropped. */
void sw_ext_error(sw_client *c, const char *sqlstate, const char *msg);
/* An extended-protocol reply of shardwire's own (ParseComplete for name
 * name_hash / stmt_id, CloseComplete), in order with the server's. */
void sw_ext_reply(sw_client *c, uint8_t type, uint64_t name_hash, uint64_t stmt_id);
/* SET/SHOW shardwire.*, shardwire_next_id(): o->local. */
void sw_local_answer(sw_client *c, const sw_route_out *o);
/* CommandComplete tag + ReadyForQuery status. */
void sw_local_tag(sw_client *c, const char *tag, char status);
/* The same, after a WARNING notice (SQLSTATE, text) as PostgreSQL sends one. */
void sw_local_tag_warn(sw_client *c, const char *sqlstate, const char *warning, const char *tag, char status);
/* Between transactions on a one-node database: Parse, Close, Sync, Flush
 * answered without a server.  True when answered. */
bool sw_local_between_txns(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total);
/* Whether sql is one COMMIT/END or ROLLBACK/ABORT (also ROLLBACK TO and
 * PREPARE TRANSACTION with also_savepoint): what PostgreSQL accepts in a
 * failed transaction.  *commit: it was COMMIT. */
bool sw_sql_txn_exit(const char *sql, bool *commit, bool also_savepoint);
/* What PostgreSQL says to a Parse before it stores a statement, in its
 * order: a syntax error (checked when the name is taken), a failed
 * transaction unless the statement ends it, the name taken.  true with
 * the error in state/msg. */
bool sw_parse_refused(const sw_client *c, const sw_parse_msg *m, bool name_taken, char state[6], char *msg,
                      size_t msgsz);
/* The client's transaction failed under it: 25P02 until it ends it.  True
 * when answered. */
bool sw_local_failed_txn(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total);

/* ---------------------------------------------------------------- fanout.c */

void sw_fan_begin(sw_client *c);
/* Every target's server has its copy queued: the first one replies. */
void sw_fan_start(sw_client *c);
/* Fan-out merge of one server message; returns true when it is forwarded. */
bool sw_fan_filter(sw_client *c, sw_server *s, uint8_t type, const uint8_t *p, uint32_t total);
/* Send a simple query to several (linked) targets, replies concatenated. */
void sw_fan_query(sw_client *c, const sw_route_target *t, int n, const char *sql, size_t len);
/* After the fan-out of o's targets t began: hold a split INSERT's
 * RETURNING rows to give them in VALUES order.  False when out of memory
 * (nothing is held; the caller fails the statement). */
bool sw_fan_hold_rows(sw_client *c, const sw_route_out *o, const sw_route_target *t, int n);
/* Free what the fan-out holds. */
void sw_fan_release(sw_client *c);

/* ---------------------------------------------------------------- commit.c */

typedef struct sw_commit sw_commit;
/* The client's COMMIT needs two-phase commit: its transaction wrote on two
 * or more nodes, and the database has two_phase on. */
bool sw_commit_wanted(const sw_client *c);
/* Run it (the client's COMMIT is consumed); the client gets COMMIT, or the
 * error that rolled it back, when the outcome is known.  Meanwhile its
 * next messages wait (sw_client_quiescent is false). */
void sw_commit_start(sw_client *c);
/* The same for a COMMIT sent as Bind/[Describe]/Execute/Sync (consumed). */
void sw_commit_start_ext(sw_client *c, bool described);
/* The write of an implicit transaction (sw_client.implicit_txn) is done:
 * commit it atomically and answer with tag (its CommandComplete) and
 * ReadyForQuery; tag NULL: it failed (the error went to the client), roll
 * it back everywhere, then ReadyForQuery. */
void sw_commit_implicit(sw_client *c, const char *tag);
/* A reply to one of the commit's requests (ledger owner COMMIT). */
void sw_commit_reply(sw_client *c, sw_server *s, uint8_t type, const uint8_t *p, uint32_t total);
/* A participant's connection went away; true when the commit took it. */
bool sw_commit_server_lost(sw_client *c, sw_server *s);
/* The client goes away mid-commit: recovery will settle it. */
void sw_commit_abandon(sw_client *c);
/* SHOW TRANSACTIONS: the commit's step and ID, "" when none. */
const char *sw_commit_step_name(const sw_client *c);
const char *sw_commit_gid(const sw_client *c);
uint64_t sw_commit_started_ms(const sw_client *c);
/* Transaction IDs of this process: its start time, the last counter used. */
uint64_t sw_commit_boot_ms(void);
uint64_t sw_commit_last_seq(void);

/* ---------------------------------------------------------------- spread.c */

/* The sharded tables whose sequences node spreads, one "schema\tname\tslot\tstride"
 * line each, into buf; false when buf is too small. */
bool sw_spread_want(const sw_conf *conf, int node, char *buf, size_t bufsz);
/* On a recovery worker's connection: install the objects when install, bring
 * the node's list to want and spread its tables' sequences.  Returns the
 * number of sequences changed or -1; msg gets a warning for the log or "". */
struct pg_conn;
int sw_spread_node(struct pg_conn *pc, bool install, const char *want, char *msg, size_t msgsz);

/* ---------------------------------------------------------------- recover.c */

/* A commit left something behind: run again shortly. */
void sw_recover_soon(void);
/* RESOLVE: settle gid as the operator says, unless a decision is recorded
 * (the next run, started now).  -1 when too many are waiting. */
int sw_recover_force(const char *gid, bool commit);
/* SHOW TRANSACTIONS rows: commits in progress, then what the last run
 * found unsettled.  Returns how many were filled. */
int sw_recover_report(sw_admin_txn_row *rows, int max);

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
bool sw_server_close_faulted(sw_server *s);
static inline bool sw_server_check_fault(sw_server *s)
{
    return s && s->faulted && sw_server_close_faulted(s);
}
/* The ledger's retire callback (server.c sets it up). */
void sw_server_retire_cb(void *ctx, const sw_owed *e, sw_retire how);
/* Fake replies emitted in order with s's real ones; a named one is a
 * ParseComplete that created the client's name (dropped again when the
 * server skips it). */
void sw_push_fake(sw_server *s, uint8_t type);
void sw_push_fake_named(sw_server *s, uint8_t type, uint64_t name_hash, uint64_t stmt_id);
/* shardwire failed a request of the batch s is running: s gets a Query that
 * fails, so that its transaction (explicit, or the batch's implicit one)
 * aborts as it would have on the request's own error. */
void sw_server_fail_batch(sw_server *s);
/* shardwire failed the client's transaction: it fails on every linked
 * server too (each gets the failing request), so their statuses, and what
 * they accept next, are what PostgreSQL's would be. */
void sw_client_fail_links(sw_client *c);
/* An error for c's current server batch; drops the client's input to Sync. */
void sw_push_fake_error(sw_client *c, const char *sqlstate, const char *msg);
void sw_emit_fakes_now(sw_server *s);
static inline void sw_emit_fakes(sw_server *s)
{
    if (sw_ledger_fake(&s->owed)) sw_emit_fakes_now(s);
}
/* Prepare st on s (hidden Parse) unless it is there. */
void sw_ensure_prepared(sw_server *s, sw_stmt *st);

/* ---------------------------------------------------------------- stmt.c */

/* The client's names for prepared statements. */
sw_client_stmt *sw_client_stmt_find(sw_client *c, const char *name);
sw_stmt *sw_client_stmt_add(sw_client *c, const char *name, const char *query, size_t qlen,
                            uint16_t nparams, const uint8_t *types);
void sw_client_stmt_drop(sw_client *c, const char *name);
/* Forget every name of the client (DEALLOCATE ALL, DISCARD ALL). */
void sw_client_stmt_drop_all(sw_client *c);
/* A simple query is about to go to the servers srv[0..n): record what it
 * does to the session (c->pending; settled at the end of its transaction),
 * pin the client to its servers for the session state it creates, and
 * forget the prepared statements it removes on them.  False when session
 * state is refused (pool.session_state: refuse) and the client got the
 * error: then nothing may be sent. */
bool sw_session_statement(sw_client *c, const char *sql, size_t len, sw_server *const *srv, int n);
/* The same for the statement of a Parse: only the pins count (it runs
 * later, at Execute, if at all).  False when refused, with the message
 * (0A000) for the caller to send. */
bool sw_session_parse(sw_client *c, const char *sql, size_t len, char *msg, size_t msgsz);
/* A ParameterStatus body the client's server sent during its transaction:
 * the value a SET of that name gets when the transaction settles. */
void sw_settings_reported(sw_client *c, const uint8_t *body, uint32_t len);
/* Drop the name with this hash if it still names statement stmt_id. */
void sw_client_stmt_drop_id(sw_client *c, uint64_t name_hash, uint64_t stmt_id);
/* The Parse that made the client's name (name_hash, stmt_id) was answered:
 * the name is certain. */
void sw_client_stmt_confirm(sw_client *c, uint64_t name_hash, uint64_t stmt_id);

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

struct sw_merge_spec;
/* The key / ID column of a table, for the merge planner (ctx: client). */
const char *sw_merge_key_of(void *ctx, const char *schema, const char *relname, bool id);
/* Begin a merged fan-out of n targets (spec NULL: concatenation);
 * spec_owned is freed with the fan.  1, or 0 for a bad LIMIT/OFFSET
 * value, -1 out of memory. */
int sw_merge_begin(sw_client *c, const struct sw_merge_spec *spec, struct sw_merge_spec *spec_owned, int n,
                   const sw_route_in *in);
/* Every target has its copy queued: read them all at once. */
void sw_merge_launch(sw_client *c);
/* Plan the merge of a SELECT for each target text; 0, or -1 with the
 * client's error in state/msg. */
int sw_merge_plan_targets(sw_client *c, const sw_route_target *t, int n, const char *sql, size_t len,
                          struct sw_merge_spec **spec, char **sqls, char state[6], char *msg, size_t msgsz);
/* A simple-protocol SELECT on several shards, merged. */
int sw_merge_query(sw_client *c, const sw_route_target *t, int n, const char *sql, size_t len);
/* A write on several shards whose subqueries would read only each shard's
 * rows: true, with the client's error in state/msg. */
bool sw_write_refused(sw_client *c, sw_stmt_kind kind, const char *sql, size_t len, char state[6], char *msg,
                      size_t msgsz);
/* The statement's merge plan under the current router (made once). */
sw_stmt_merge *sw_stmt_merge_of(sw_client *c, sw_stmt *st);

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
/* COPY on several shards: COPY FROM STDIN split by key, COPY TO
 * (*copy_to) left to the caller to fan out in turn. */
int sw_copy_start(sw_client *c, const sw_route_target *t, int n, const char *sql, bool *copy_to,
                  bool *copy_header, bool *copy_binary);

/* The current fan-out target, or NULL. */
static inline sw_server *sw_fan_current(const sw_client *c)
{
    return c->fan.kind != SW_FAN_NONE ? c->fan.srv[c->fan.cur] : NULL;
}

#endif
