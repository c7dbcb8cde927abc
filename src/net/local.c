/*
 * local.c - answers shardwire gives without a server: its own errors in
 * the simple and the extended protocol (in order with what the current
 * server still owes), SET/SHOW shardwire.*, shardwire_next_id(), the
 * BEGIN/COMMIT of a transaction that has touched no node yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

static void put_row_description(sw_wbuf *w, const char *col, int32_t type_oid, int16_t typlen)
{
    sw_msg_begin(w, SW_BE_ROW_DESC);
    sw_wbuf_i16(w, 1);
    sw_wbuf_cstr(w, col);
    sw_wbuf_i32(w, 0);
    sw_wbuf_i16(w, 0);
    sw_wbuf_i32(w, type_oid);
    sw_wbuf_i16(w, typlen);
    sw_wbuf_i32(w, -1);
    sw_wbuf_i16(w, 0);
    sw_msg_end(w);
}

static void put_data_row(sw_wbuf *w, const char *v)
{
    sw_msg_begin(w, SW_BE_DATA_ROW);
    sw_wbuf_i16(w, 1);
    if (!v) {
        sw_wbuf_i32(w, -1);
    } else {
        sw_wbuf_i32(w, (int32_t)strlen(v));
        sw_wbuf_put(w, v, strlen(v));
    }
    sw_msg_end(w);
}

/* Simple-protocol error from shardwire itself.  Inside a transaction it
 * fails the transaction, as PostgreSQL would: until ROLLBACK, statements
 * are refused and COMMIT rolls back on every server. */
void sw_local_error(sw_client *c, const char *sqlstate, const char *msg)
{
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    sw_build_error(w, 'E', "ERROR", sqlstate, msg, NULL, NULL);
    if (c->txn_status != 'I') {
        if (c->txn_status == 'T' && !c->proxy_failed) sw_client_fail_links(c);
        c->proxy_failed = true;
        c->txn_status = 'E';
    }
    sw_build_ready(w, c->txn_status);
    sw_out_gen_done(&c->c, start);
}

/* Extended-protocol error: in order with the current server's replies,
 * then the client's messages up to Sync are skipped. */
void sw_ext_error(sw_client *c, const char *sqlstate, const char *msg)
{
    if (c->server && !sw_ledger_quiet(&c->server->owed)) {
        sw_push_fake_error(c, sqlstate, msg);
    } else {
        sw_wbuf *w = sw_out_gen(&c->c);
        size_t start = w->len;
        sw_build_error(w, 'E', "ERROR", sqlstate, msg, NULL, NULL);
        sw_out_gen_done(&c->c, start);
        c->skip_until_sync = true;
        /* a transaction open on the server fails with the request */
        if (c->txn_status == 'T' && !c->proxy_failed) sw_client_fail_links(c);
        else if (c->server && c->server->txn_status != 'I') sw_server_fail_batch(c->server);
    }
    if (c->txn_status != 'I') c->proxy_failed = true;
}

/* A reply of shardwire's own in an extended-protocol batch. */
void sw_ext_reply(sw_client *c, uint8_t type, uint64_t name_hash, uint64_t stmt_id)
{
    if (c->server && !sw_ledger_quiet(&c->server->owed)) {
        sw_push_fake_named(c->server, type, name_hash, stmt_id);
        return;
    }
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    sw_build_empty(w, type);
    sw_out_gen_done(&c->c, start);
}

static void set_override(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? strdup(v) : NULL;
}

/* Statements answered without a server (simple protocol). */
void sw_local_answer(sw_client *c, const sw_route_out *o)
{
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    char buf[64];
    switch (o->local) {
    case SW_LOCAL_SET_SHARD:
    case SW_LOCAL_SET_KEY:
        set_override(o->local == SW_LOCAL_SET_SHARD ? &c->shard_override : &c->key_override, o->local_value);
        if (o->set_local && c->txn_status != 'I') c->overrides_local = true;
        sw_build_command_complete(w, o->local_value || !o->set_local ? "SET" : "RESET");
        break;
    case SW_LOCAL_SHOW_SETTING: {
        const char *name = o->local_value && strstr(o->local_value, "key") ? "shardwire.sharding_key" : "shardwire.shard";
        const char *v = strcmp(name, "shardwire.shard") == 0 ? c->shard_override : c->key_override;
        put_row_description(w, name, 25, -1);
        put_data_row(w, v ? v : "");
        sw_build_command_complete(w, "SHOW");
        break;
    }
    case SW_LOCAL_NEXT_ID:
        snprintf(buf, sizeof buf, "%lld", (long long)o->local_id);
        put_row_description(w, "shardwire_next_id", 20, 8);
        put_data_row(w, buf);
        sw_build_command_complete(w, "SELECT 1");
        break;
    default:
        break;
    }
    sw_build_ready(w, c->txn_status);
    sw_out_gen_done(&c->c, start);
}

void sw_local_tag(sw_client *c, const char *tag, char status)
{
    sw_local_tag_warn(c, NULL, NULL, tag, status);
}

void sw_local_tag_warn(sw_client *c, const char *sqlstate, const char *warning, const char *tag, char status)
{
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    if (warning) sw_build_error(w, 'N', "WARNING", sqlstate, warning, NULL, NULL);
    sw_build_command_complete(w, tag);
    sw_build_ready(w, status);
    sw_out_gen_done(&c->c, start);
    c->txn_status = status;
}

/* Between transactions, statement bookkeeping needs no server: a named
 * Parse is checked with the PostgreSQL grammar and recorded (the server
 * prepares it on demand at its first Bind), Close of a statement forgets a
 * name, Sync reports the idle status.  Holding no server here matters: a
 * client that prepares synchronously while its other connections hold every
 * server in open transactions (pgbench -M prepared) would otherwise wait on
 * itself.  Returns true when the message was answered. */
bool sw_local_between_txns(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    sw_wbuf *w;
    size_t start;
    char msg[256];
    if (type == SW_FE_PARSE) {
        sw_parse_msg m;
        if (sw_parse_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0 || !m.name[0]) return false;
        w = sw_out_gen(&c->c);
        start = w->len;
        char state[6];
        if (sw_client_stmt_find(c, m.name) && sw_parse_refused(c, &m, true, state, msg, sizeof msg)) {
            sw_build_error(w, 'E', "ERROR", state, msg, NULL, NULL);
            c->skip_until_sync = true;
        } else {
            PgQueryParseResult r = pg_query_parse(m.query);
            if (r.error) {
                snprintf(msg, sizeof msg, "%s", r.error->message);
                sw_build_error(w, 'E', "ERROR", "42601", msg, NULL, NULL);
                c->skip_until_sync = true;
            } else if (sw_client_stmt_add(c, m.name, m.query, m.query_len, m.nparams, m.param_types)) {
                sw_build_empty(w, SW_BE_PARSE_COMPLETE);
            } else {
                sw_build_error(w, 'E', "ERROR", "53200", "out of memory", NULL, NULL);
                c->skip_until_sync = true;
            }
            pg_query_free_parse_result(r);
        }
        sw_out_gen_done(&c->c, start);
        return true;
    }
    if (type == SW_FE_CLOSE) {
        sw_target_msg m;
        if (sw_target_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0 || m.kind != 'S' || !m.name[0]) return false;
        sw_client_stmt_drop(c, m.name);
        w = sw_out_gen(&c->c);
        start = w->len;
        sw_build_empty(w, SW_BE_CLOSE_COMPLETE);
        sw_out_gen_done(&c->c, start);
        return true;
    }
    if (type == SW_FE_SYNC) {
        c->skip_until_sync = false;
        w = sw_out_gen(&c->c);
        start = w->len;
        sw_build_ready(w, 'I');
        sw_out_gen_done(&c->c, start);
        return true;
    }
    if (type == SW_FE_FLUSH) return true;  /* output is flushed after the batch anyway */
    return false;
}

/* Whether sql is one COMMIT/END or ROLLBACK/ABORT (not ROLLBACK TO):
 * what PostgreSQL accepts in a failed transaction. */
static bool is_txn_exit(const char *sql, bool *commit)
{
    return sw_sql_txn_exit(sql, commit, false);
}

bool sw_sql_txn_exit(const char *sql, bool *commit, bool also_savepoint)
{
    PgQueryParseResult r = pg_query_parse(sql);
    bool yes = false;
    *commit = false;
    if (!r.error && r.parse_tree) {
        const char *t = r.parse_tree;
        const char *first = strstr(t, "\"stmt\":");
        bool one = first && !strstr(first + 7, "\"stmt\":");
        bool c = strstr(t, "\"TransactionStmt\":{\"kind\":\"TRANS_STMT_COMMIT\"") != NULL;
        bool rb = strstr(t, "\"TransactionStmt\":{\"kind\":\"TRANS_STMT_ROLLBACK\"") != NULL;
        bool more = also_savepoint && (strstr(t, "\"kind\":\"TRANS_STMT_ROLLBACK_TO\"") ||
                                       strstr(t, "\"kind\":\"TRANS_STMT_PREPARE\""));
        yes = one && (c || rb || more);
        *commit = c;
    }
    pg_query_free_parse_result(r);
    return yes;
}

bool sw_parse_refused(const sw_client *c, const sw_parse_msg *m, bool name_taken, char state[6], char *msg,
                      size_t msgsz)
{
    /* PostgreSQL's order: the grammar, then the failed transaction, then
     * the duplicate name (rare paths: a second parse costs nothing here) */
    if (name_taken || c->txn_status == 'E') {
        PgQueryParseResult r = pg_query_parse(m->query);
        bool bad = r.error != NULL;
        if (bad) {
            memcpy(state, "42601", 6);
            snprintf(msg, msgsz, "%s", r.error->message);
        }
        pg_query_free_parse_result(r);
        if (bad) return true;
    }
    bool commit;
    if (c->txn_status == 'E' && !sw_sql_txn_exit(m->query, &commit, true)) {
        memcpy(state, "25P02", 6);
        snprintf(msg, msgsz, "current transaction is aborted, commands ignored until end of transaction block");
        return true;
    }
    if (name_taken) {
        memcpy(state, "42P05", 6);
        snprintf(msg, msgsz, "prepared statement \"%s\" already exists", m->name);
        return true;
    }
    return false;
}

/* The client's transaction failed under it (its server died): until it
 * ends the transaction, statements get 25P02 like in any failed
 * transaction, and its COMMIT or ROLLBACK is answered ROLLBACK.  Returns
 * true when the message was answered here. */
bool sw_local_failed_txn(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    static const char aborted[] = "current transaction is aborted, commands ignored until end of transaction block";
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    const char *state = c->lost_msg ? "08006" : "25P02";
    const char *msg = c->lost_msg ? c->lost_msg : aborted;
    bool commit;
    switch (type) {
    case SW_FE_QUERY: {
        sw_query_msg q;
        if (sw_query_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &q) < 0) return false;
        if (is_txn_exit(q.sql, &commit)) {
            sw_build_command_complete(w, "ROLLBACK");
            c->proxy_failed = false;
            c->txn_status = 'I';
        } else {
            sw_build_error(w, 'E', "ERROR", state, msg, NULL, NULL);
        }
        sw_build_ready(w, c->txn_status);
        break;
    }
    case SW_FE_PARSE: {
        sw_parse_msg m;
        if (sw_parse_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0) return false;
        if (is_txn_exit(m.query, &commit)) {
            /* Run by a server outside any transaction from here on. */
            c->proxy_failed = false;
            c->txn_status = 'I';
            free(c->lost_msg);
            c->lost_msg = NULL;
            return false;
        }
        sw_build_error(w, 'E', "ERROR", state, msg, NULL, NULL);
        c->skip_until_sync = true;
        break;
    }
    case SW_FE_SYNC:
        sw_build_ready(w, 'E');
        c->skip_until_sync = false;
        break;
    case SW_FE_FUNCTION_CALL:
        sw_build_error(w, 'E', "ERROR", state, msg, NULL, NULL);
        sw_build_ready(w, 'E');
        break;
    case SW_FE_FLUSH:
    case SW_FE_COPY_DATA:
    case SW_FE_COPY_DONE:
    case SW_FE_COPY_FAIL:
        break;  /* nothing to say, as PostgreSQL */
    default:    /* Bind, Describe, Execute, Close: part of a batch that fails */
        sw_build_error(w, 'E', "ERROR", state, msg, NULL, NULL);
        c->skip_until_sync = true;
        break;
    }
    sw_out_gen_done(&c->c, start);
    if (w->len > start && c->lost_msg) {
        free(c->lost_msg);
        c->lost_msg = NULL;
    }
    return true;
}
