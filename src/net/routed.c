/*
 * routed.c - statements of a database with a shard map.  Each statement (a
 * Query message, or a Bind with the messages that run its portal) goes
 * through the same steps: it is routed once by the router (the answer is
 * kept while the statement waits for quiet, a server or room), classified
 * by what the answer and the client's transaction call for, and handed to
 * the module that does it:
 *
 * - one node: forwarded straight from the client's buffer to that node's
 *   server, pipelining included (as direct.c does for one-node databases);
 * - several nodes: fanned out with replies concatenated (fanout.c), merged
 *   (merged.c), or a COPY split by key (copyin.c);
 * - no node at all: SET shardwire.*, shardwire_next_id(), BEGIN before any
 *   statement, refusals (local.c).
 *
 * Switching the node that receives the client's messages, answering
 * locally and fanning out all wait until every linked server has finished
 * replying (quiescent), so replies reach the client in order.
 *
 * Parse is never sent as is: statements are registered by their text
 * (shared registry, see stmt.c), analysed once for routing, and prepared on
 * whichever server a Bind routes them to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"
#include "sw/copysplit.h"
#include "sw/merge.h"


/* ---------------------------------------------------------------- statements */

sw_route_in sw_client_route_in(sw_client *c)
{
    sw_route_in in;
    memset(&in, 0, sizeof in);
    in.database = c->database;
    in.session.shard = c->shard_override;
    in.session.sharding_key = c->key_override;
    in.now_ms = sw_wall_ms();
    return in;
}

/* ---------------------------------------------------------------- route once */

void sw_client_route_drop(sw_client *c)
{
    if (!c->route_kept) return;
    sw_route_out_clear(&c->route);
    c->route_kept = false;
}

/* The kept answer for the message at the parse cursor, or NULL. */
static sw_route_out *route_kept(sw_client *c)
{
    if (c->route_kept && c->route_at == c->c.in.parse && c->route_router == c->router) return &c->route;
    sw_client_route_drop(c);
    return NULL;
}

static sw_route_out *route_keep(sw_client *c)
{
    /* a directory key not cached yet is routed again once it is known */
    c->route_kept = c->route.status != SW_ROUTE_LOOKUP;
    c->route_at = c->c.in.parse;
    c->route_router = c->router;
    return &c->route;
}

static sw_route_out *route_query(sw_client *c, const sw_query_msg *q)
{
    sw_route_out *o = route_kept(c);
    if (o) return o;
    sw_route_in in = sw_client_route_in(c);
    if (!c->route_kept) sw_route_out_clear(&c->route);
    sw_router_route(c->router, &in, q->sql, q->len, &c->route);
    return route_keep(c);
}

/* ---------------------------------------------------------------- simple protocol */

/* What to do with a routed Query, decided from the router's answer and the
 * client's transaction: one of these, then the module that does it. */
typedef enum q_step {
    Q_LOOKUP,      /* a directory key must be looked up first */
    Q_ABORTED,     /* the transaction has failed: 25P02 (or why it failed) */
    Q_REFUSED,     /* the router's error */
    Q_LOCAL,       /* SET/SHOW shardwire.*, shardwire_next_id() */
    Q_BEGIN,       /* BEGIN before any statement: kept, replayed where the transaction goes */
    Q_END,         /* COMMIT/ROLLBACK of a transaction that touched no node */
    Q_TWO_PHASE,   /* COMMIT of a transaction that wrote on several nodes */
    Q_PREPARE_MULTI, /* the client's own PREPARE TRANSACTION over several nodes: refused */
    Q_EMPTY_FAILED, /* an empty query in a failed transaction */
    Q_MULTI_SPLIT, /* several statements over several shards: refused */
    Q_TOO_MANY,    /* more targets than one fan-out holds */
    Q_COPY,        /* COPY on several shards */
    Q_SINGLE,      /* one node, the text as sent */
    Q_MERGE,       /* a SELECT on several shards */
    Q_FANOUT       /* several targets or rewritten text: replies concatenated */
} q_step;

typedef struct q_plan {
    q_step step;
    const sw_route_target *t;
    int n;
    const char *rewrite;   /* the whole statement replaced on every target */
    sw_route_target tx[SW_MAX_NODES];
} q_plan;

/* A node failed the transaction: PostgreSQL refuses all but transaction
 * control, and so must shardwire -- the nodes the transaction has not
 * failed on (or has not reached) would run the statement. */
static inline bool failed_refuses(const sw_client *c, const sw_route_out *o)
{
    return c->txn_status == 'E' && o->kind != SW_SK_ROLLBACK && o->kind != SW_SK_COMMIT &&
           o->kind != SW_SK_TXN_OTHER && o->status != SW_ROUTE_ERROR;
}

static void classify_query(sw_client *c, const sw_route_out *o, q_plan *pl)
{
    pl->t = o->targets;
    pl->n = o->n_targets;
    pl->rewrite = NULL;
    if (o->status == SW_ROUTE_LOOKUP) { pl->step = Q_LOOKUP; return; }
    /* In a failed transaction PostgreSQL still reports a syntax error
     * (parsing comes first) and answers an empty query. */
    bool syntax = o->status == SW_ROUTE_ERROR && strcmp(o->sqlstate, "42601") == 0;
    bool refuse = !syntax && !(o->status == SW_ROUTE_OK && o->kind == SW_SK_EMPTY && o->local == SW_LOCAL_NONE);
    if (!refuse && !syntax && c->txn_status != 'I' && (c->proxy_failed || c->txn_status == 'E')) {
        pl->step = Q_EMPTY_FAILED;  /* no node need hear of it */
        return;
    }
    /* ROLLBACK TO goes on: shardwire failed the transaction on every node
     * it holds (and fails it on any that joins), so the nodes answer it */
    if (refuse && c->proxy_failed && o->kind != SW_SK_ROLLBACK && o->kind != SW_SK_COMMIT &&
        o->txn_op != SW_TXN_ROLLBACK_TO) { pl->step = Q_ABORTED; return; }
    if (refuse && failed_refuses(c, o)) { pl->step = Q_ABORTED; return; }
    if (o->status == SW_ROUTE_ERROR) { pl->step = Q_REFUSED; return; }
    if (o->local != SW_LOCAL_NONE) { pl->step = Q_LOCAL; return; }
    switch (o->kind) {
    case SW_SK_BEGIN:
        if (c->n_links == 0 && c->txn_status == 'I' && !o->multi) { pl->step = Q_BEGIN; return; }
        break;
    case SW_SK_COMMIT:
    case SW_SK_ROLLBACK:
        if (o->multi) break;
        if (c->n_links == 0) { pl->step = Q_END; return; }
        pl->n = sw_link_targets(c, pl->tx, SW_MAX_NODES);
        pl->t = pl->tx;
        if (o->kind == SW_SK_COMMIT && (c->proxy_failed || c->txn_status == 'E')) pl->rewrite = "ROLLBACK";
        else if (o->kind == SW_SK_COMMIT && o->txn_op == SW_TXN_NONE && sw_commit_wanted(c)) {
            pl->step = Q_TWO_PHASE;
            return;
        }
        break;
    case SW_SK_TXN_OTHER:
        if (o->txn_op == SW_TXN_PREPARE && c->n_links > 1) {
            pl->step = Q_PREPARE_MULTI;
            return;
        }
        if (c->n_links > 1) {
            pl->n = sw_link_targets(c, pl->tx, SW_MAX_NODES);
            pl->t = pl->tx;
        }
        break;
    default:
        break;
    }
    if (pl->n == 0) {
        pl->tx[0] = (sw_route_target){.node = sw_client_any_node(c), .sql = o->any_sql, .part = -1};
        pl->t = pl->tx;
        pl->n = 1;
    }
    if (pl->n > 1 && o->kind == SW_SK_COPY && !o->multi) pl->step = Q_COPY;
    else if (pl->n > 1 && o->multi) pl->step = Q_MULTI_SPLIT;
    else if (pl->n == 1 && !pl->t[0].sql && !pl->rewrite) pl->step = Q_SINGLE;
    else if (pl->n > (int)(sizeof c->fan.srv / sizeof c->fan.srv[0])) pl->step = Q_TOO_MANY;
    else if (pl->n > 1 && o->kind == SW_SK_SELECT && !pl->rewrite) pl->step = Q_MERGE;
    else pl->step = Q_FANOUT;
}

/* The statement may change data on its targets: they take part in the
 * transaction's commit as writers.  (A SELECT is taken as a reader: a
 * function it calls that writes is not seen.) */
static void note_writes(sw_client *c, const sw_route_out *o, const sw_route_target *t, int n)
{
    if (!(o->write || o->kind == SW_SK_UTILITY || o->kind == SW_SK_DDL || o->multi)) return;
    for (int i = 0; i < n; i++)
        if (t[i].node >= 0 && t[i].node < SW_MAX_NODES) c->wrote_mask |= (uint64_t)1 << t[i].node;
}

/* SET TRANSACTION inside the transaction: the nodes it reaches later get
 * it after their BEGIN, so isolation level and READ ONLY hold on every
 * participant.  False when out of memory. */
static bool remember_set_transaction(sw_client *c, const sw_route_out *o, const char *sql, size_t len)
{
    if (o->txn_op != SW_TXN_SET_TRANSACTION || o->multi || c->txn_status != 'T') return true;
    const char *begin = c->begin_sql ? c->begin_sql : "BEGIN";
    size_t bl = strlen(begin);
    char *n = malloc(bl + 2 + len + 1);
    if (!n) return false;
    memcpy(n, begin, bl);
    memcpy(n + bl, "; ", 2);
    memcpy(n + bl + 2, sql, len);
    n[bl + 2 + len] = 0;
    free(c->begin_sql);
    c->begin_sql = n;
    return true;
}

/* Whether the database commits transactions on several nodes with
 * two-phase commit. */
static bool two_phase_db(const sw_client *c)
{
    const sw_conf_database *d = sw_conf_database_find(sw_g.conf, c->database);
    return d && d->two_phase;
}

/* A write outside a transaction that runs on two or more nodes commits
 * atomically: shardwire wraps it in a transaction of its own. */
static bool implicit_wanted(const sw_client *c, const sw_route_out *o, const sw_route_target *t, int n)
{
    if (c->txn_status != 'I' || o->multi || n < 2) return false;
    if (o->kind != SW_SK_INSERT && o->kind != SW_SK_UPDATE && o->kind != SW_SK_DELETE) return false;
    bool several = false;
    for (int i = 1; i < n; i++) several |= t[i].node != t[0].node;
    return several && two_phase_db(c);
}

/* Its BEGIN on every target that has not had it (a server linked before
 * the transaction began, in session mode; sw_client_linked sends it to the
 * ones linked since). */
static void implicit_begin(sw_client *c, const sw_route_target *t, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t bit = (uint64_t)1 << t[i].node;
        if (c->implicit_begun & bit) continue;
        sw_server *s = c->link[t[i].node];
        sw_wbuf *w = sw_out_gen(&s->c);
        size_t start = w->len;
        sw_build_query(w, "BEGIN", 5);
        sw_out_gen_done(&s->c, start);
        sw_owe(s, SW_OWE_QUERY, true);
        c->implicit_begun |= bit;
    }
}

/* A BEGIN on its way to a server outside a transaction: the nodes the
 * transaction reaches later replay its text (isolation level, READ ONLY,
 * DEFERRABLE), never a plain BEGIN.  False when out of memory. */
static bool remember_begin(sw_client *c, const char *sql, size_t len)
{
    char *copy = strndup(sql, len);
    if (!copy) return false;
    c->wrote_mask = 0;
    free(c->begin_sql);
    c->begin_sql = copy;
    return true;
}

/* A savepoint statement goes to the transaction's nodes (all linked
 * already): follow it, and after ROLLBACK TO the nodes' own state is the
 * transaction's again.  False when refused (out of memory, answered). */
static bool txn_statement_sent(sw_client *c, const sw_route_out *o)
{
    if (!sw_client_savepoint_track(c, o)) {
        sw_local_error(c, "53200", "out of memory");
        return false;
    }
    if (o->txn_op == SW_TXN_ROLLBACK_TO) c->proxy_failed = false;
    return true;
}

/* The linked servers of targets t[0..n) (NULL where none is linked yet)
 * into srv (room for max); returns how many. */
static int target_servers(const sw_client *c, const sw_route_target *t, int n, sw_server **srv, int max)
{
    int k = 0;
    for (int i = 0; i < n && k < max; i++) srv[k++] = c->link[t[i].node];
    return k;
}

static int routed_query(sw_client *c, const uint8_t *p, uint32_t total)
{
    sw_query_msg q;
    if (sw_query_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &q) < 0) {
        sw_client_protocol_error(c, "invalid Query message");
        return SW_MSG_CLOSED;
    }
    if (!sw_client_refresh_conf(c)) return SW_MSG_CLOSED;
    if (c->batch != SW_BATCH_NONE) {
        /* libpq and the drivers never send one there; its implicit
         * commit would not be the batch's */
        sw_client_protocol_error(c, "a simple Query inside a pipelined batch that spans nodes: send Sync first");
        return SW_MSG_CLOSED;
    }
    {
        char dname[64];
        if (c->txn_status != 'E' && !c->proxy_failed && sw_sql_deallocate_name(q.sql, q.len, dname, sizeof dname) &&
            sw_client_stmt_find(c, dname)) {
            /* the client's protocol statement exists here only (servers
             * have it as sw_...): PostgreSQL's DEALLOCATE drops it */
            if (!sw_client_quiescent(c)) return SW_MSG_WAIT;
            c->c.in.parse += total;
            sw_client_stmt_drop(c, dname);
            sw_local_tag(c, "DEALLOCATE", c->txn_status);
            return SW_MSG_DONE;
        }
    }
    if (c->n_links == 0 && c->txn_status == 'I') c->router = sw_g.router;
    const sw_route_out *o = route_query(c, &q);
    q_plan pl;
    classify_query(c, o, &pl);
    /* Only more of the same node's pipeline may go before the replies the
     * linked servers still owe; anything else comes after them. */
    bool same_server = pl.step == Q_SINGLE && c->server && c->server == c->link[pl.t[0].node];
    if (!same_server && !sw_client_quiescent(c)) return SW_MSG_WAIT;
    bool copy_to = false, copy_header = false, copy_binary = false;
    char state[6], msg[300];
    switch (pl.step) {
    case Q_LOOKUP:
        sw_directory_lookup_start(c, o);
        return SW_MSG_WAIT;
    case Q_ABORTED:
        if (c->lost_msg) {
            sw_local_error(c, "08006", c->lost_msg);
            free(c->lost_msg);
            c->lost_msg = NULL;
        } else {
            sw_local_error(c, "25P02", "current transaction is aborted, commands ignored until end of transaction block");
        }
        break;
    case Q_REFUSED:
        sw_local_error(c, o->sqlstate, o->message);
        break;
    case Q_LOCAL:
        sw_local_answer(c, o);
        break;
    case Q_EMPTY_FAILED: {
        sw_wbuf *w = sw_out_gen(&c->c);
        size_t start = w->len;
        sw_build_empty(w, SW_BE_EMPTY_QUERY);
        sw_build_ready(w, 'E');
        sw_out_gen_done(&c->c, start);
        c->txn_status = 'E';
        break;
    }
    case Q_BEGIN:
        c->wrote_mask = 0;
        free(c->begin_sql);
        c->begin_sql = strndup(q.sql, q.len);
        if (!c->begin_sql) {  /* a plain BEGIN replayed instead would change its meaning */
            sw_local_error(c, "53200", "out of memory");
            break;
        }
        sw_local_tag(c, "BEGIN", 'T');
        break;
    case Q_END: {
        bool failed = c->proxy_failed || c->txn_status == 'E';
        bool none = c->txn_status == 'I';  /* no BEGIN: PostgreSQL warns */
        sw_client_txn_clear(c);
        sw_local_tag_warn(c, "25P01", none ? "there is no transaction in progress" : NULL,
                          o->kind == SW_SK_COMMIT && !failed ? "COMMIT" : "ROLLBACK", 'I');
        sw_settle_sessops(c, NULL);
        break;
    }
    case Q_TWO_PHASE:
        c->c.in.parse += total;
        sw_commit_start(c);
        return SW_MSG_DONE;
    case Q_PREPARE_MULTI:
        sw_local_error(c, "0A000", "PREPARE TRANSACTION is not supported for a transaction on several nodes: shardwire commits it with two-phase commit itself, use COMMIT");
        break;
    case Q_MULTI_SPLIT:
        sw_local_error(c, "0A000", "a query string whose statements go to different shards cannot run as one: send the statements one at a time");
        break;
    case Q_TOO_MANY:
        sw_local_error(c, "0A000", "statement has too many targets");
        break;
    case Q_COPY: {
        int rc = sw_copy_start(c, pl.t, pl.n, q.sql, &copy_to, &copy_header, &copy_binary);
        if (rc != SW_MSG_DONE) return rc;
        note_writes(c, o, pl.t, pl.n);
        if (!copy_to) break;
        goto fan_out;  /* COPY TO: concatenated in turn */
    }
    case Q_SINGLE: {
        if (sw_g.conf->session_state == SW_SESSION_STATE_REFUSE && !sw_client_quiescent(c))
            return SW_MSG_WAIT;  /* a refusal is answered here: after what the servers still owe */
        if (!same_server && !sw_client_use_node(c, pl.t[0].node)) return c->c.closing ? SW_MSG_CLOSED : SW_MSG_WAIT;
        sw_server *s = c->server;
        if (!sw_out_room(&s->c)) return SW_MSG_WAIT;
        if (o->kind == SW_SK_BEGIN && !o->multi && c->txn_status == 'I' && !remember_begin(c, q.sql, q.len)) {
            sw_local_error(c, "53200", "out of memory");
            break;
        }
        if (o->kind == SW_SK_TXN_OTHER && !txn_statement_sent(c, o)) break;
        if (!remember_set_transaction(c, o, q.sql, q.len)) {
            sw_local_error(c, "53200", "out of memory");
            break;
        }
        if (!sw_session_statement(c, q.sql, q.len, &s, 1)) break;
        note_writes(c, o, pl.t, pl.n);
        sw_out_src(&s->c, &c->c, p, total);
        sw_owe(s, SW_OWE_QUERY, false);
        break;
    }
    case Q_MERGE: {
        sw_server *srv[SW_MAX_NODES * 2];
        int ns = target_servers(c, pl.t, pl.n, srv, SW_MAX_NODES * 2);
        if (!sw_session_statement(c, q.sql, q.len, srv, ns)) break;
        int rc = sw_merge_query(c, pl.t, pl.n, q.sql, q.len);
        if (rc != SW_MSG_DONE) return rc;
        break;
    }
    case Q_FANOUT:
        if (pl.n > 1 && !pl.rewrite && !o->multi &&
            sw_write_refused(c, o->kind, q.sql, q.len, state, msg, sizeof msg)) {
            sw_local_error(c, state, msg);
            break;
        }
        if (sw_g.conf->session_state == SW_SESSION_STATE_REFUSE) {
            /* before anything is sent (or a transaction of shardwire's
             * begun): session state may be refused */
            char refused[400];
            if (!sw_session_parse(c, q.sql, q.len, refused, sizeof refused)) {
                sw_local_error(c, "0A000", refused);
                break;
            }
        }
        if (!c->implicit_txn && implicit_wanted(c, o, pl.t, pl.n)) {
            /* one atomic write: a transaction of shardwire's on every node */
            c->implicit_txn = true;
            c->implicit_begun = 0;
            c->txn_status = 'T';
            c->wrote_mask = 0;
        }
    fan_out:
        if (!sw_client_link_all(c, pl.t, pl.n)) return c->c.closing ? SW_MSG_CLOSED : SW_MSG_WAIT;
        if (c->implicit_txn) implicit_begin(c, pl.t, pl.n);
        if (pl.rewrite) {
            for (int i = 0; i < pl.n; i++) pl.tx[i].sql = (char *)pl.rewrite;  /* pl.t is pl.tx here */
        }
        if (o->kind == SW_SK_TXN_OTHER && !txn_statement_sent(c, o)) break;
        {
            sw_server *srv[SW_MAX_NODES * 2];
            int ns = target_servers(c, pl.t, pl.n, srv, SW_MAX_NODES * 2);
            if (!sw_session_statement(c, q.sql, q.len, srv, ns)) break;
        }
        note_writes(c, o, pl.t, pl.n);
        sw_fan_query(c, pl.t, pl.n, q.sql, q.len);
        c->fan.copies = o->copies;
        sw_fan_hold_rows(c, o, pl.t, pl.n);  /* out of memory: the statement fails at its end */
        if (copy_to)
            c->fan.copy = copy_binary ? SW_FAN_COPY_BINARY : copy_header ? SW_FAN_COPY_HEADER : SW_FAN_COPY_TEXT;
        break;
    }
    c->c.in.parse += total;
    return SW_MSG_DONE;
}

/* The registry statement's routing plan under the current router; on
 * failure the message for the client, its SQLSTATE in *state. */
static const char *stmt_plan(sw_client *c, sw_stmt *st, const char **state)
{
    *state = "42601";
    if (st->plan && st->plan_router == c->router) return NULL;
    if (st->plan_router == c->router && st->plan_error) return st->plan_error;
    sw_plan_free(st->plan);
    st->plan = NULL;
    free(st->plan_error);
    st->plan_error = NULL;
    char err[256];
    st->plan = sw_router_prepare(c->router, c->database, st->query, st->query_len, err, sizeof err);
    if (!st->plan && strncmp(err, "out of memory", 13) != 0) st->plan_error = strdup(err);
    if (!st->plan && !st->plan_error) {
        /* Out of memory is not the statement's fault (sw_router_prepare's
         * other failures are): not remembered, the next use plans again. */
        st->plan_router = NULL;
        *state = "53200";
        return "out of memory";
    }
    st->plan_router = c->router;
    return st->plan ? NULL : st->plan_error;
}

static int routed_parse(sw_client *c, const uint8_t *p, uint32_t total)
{
    sw_parse_msg m;
    if (sw_parse_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0) {
        sw_client_protocol_error(c, "invalid Parse message");
        return SW_MSG_CLOSED;
    }
    char msg[300];
    /* Answered here: what PostgreSQL would say depends on the transaction
     * state the replies still owed will tell. */
    sw_server *ls;
    SW_EACH_LINK(c, lm, ls)
        if (ls->owed.n_ready > 0) return SW_MSG_WAIT;
    c->c.in.parse += total;
    bool taken = m.name[0] && sw_client_stmt_find(c, m.name);
    char state[6];
    {
        char refused[400];
        if (!sw_session_parse(c, m.query, m.query_len, refused, sizeof refused)) {
            sw_ext_error(c, "0A000", refused);
            return SW_MSG_DONE;
        }
    }
    if ((taken || c->txn_status == 'E') && sw_parse_refused(c, &m, taken, state, msg, sizeof msg)) {
        sw_ext_error(c, state, msg);
        return SW_MSG_DONE;
    }
    if (!m.name[0]) {
        /* Drivers re-send the same unnamed statement for every execution:
         * keep the one already registered (and analysed) when it matches. */
        sw_client_stmt *cur = sw_client_stmt_find(c, "");
        if (cur && cur->stmt->query_len == m.query_len && cur->stmt->nparams == m.nparams &&
            memcmp(cur->stmt->query, m.query, m.query_len) == 0 &&
            (m.nparams == 0 || memcmp(cur->stmt->param_types, m.param_types, (size_t)m.nparams * 4) == 0) &&
            cur->stmt->plan_router == c->router && cur->stmt->plan) {
            sw_ext_reply(c, SW_BE_PARSE_COMPLETE, sw_stmt_name_hash(""), cur->stmt->id);
            return SW_MSG_DONE;
        }
        sw_client_stmt_drop(c, "");
    }
    sw_stmt *st = sw_client_stmt_add(c, m.name, m.query, m.query_len, m.nparams, m.param_types);
    if (!st) {
        sw_ext_error(c, "53200", "out of memory");
        return SW_MSG_DONE;
    }
    const char *plan_state;
    const char *err = stmt_plan(c, st, &plan_state);
    if (err) {
        snprintf(msg, sizeof msg, "%s", err);
        sw_client_stmt_drop(c, m.name);
        sw_ext_error(c, plan_state, msg);
        return SW_MSG_DONE;
    }
    sw_ext_reply(c, SW_BE_PARSE_COMPLETE, sw_stmt_name_hash(m.name), st->id);
    return SW_MSG_DONE;
}

/* Renamed Bind for statement name on s, the client's bytes after the
 * statement name. */
static void send_bind(sw_server *s, sw_client *c, const sw_bind_msg *m, const uint8_t *p, uint32_t total,
                      const char *name, bool copy)
{
    const uint8_t *tail = p + SW_HDR_LEN + m->tail_off;
    uint32_t tail_len = (uint32_t)(p + total - tail);
    size_t portal_len = strlen(m->portal);
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_msg_header(w, SW_FE_BIND, portal_len + 1 + strlen(name) + 1 + tail_len);
    sw_wbuf_cstr(w, m->portal);
    sw_wbuf_cstr(w, name);
    if (copy) sw_wbuf_put(w, tail, tail_len);
    sw_out_gen_done(&s->c, start);
    if (!copy) sw_out_src(&s->c, &c->c, tail, tail_len);
    sw_owe(s, SW_OWE_BIND, false);
}

/* A text made for one execution (it holds the ids of shardwire_next_id()
 * calls) as s's unnamed statement, with st's parameter types: kept as a
 * named statement it would stay on the server for good.  (Clients of a
 * routed database never own a server's unnamed statement.)  Its Bind
 * names "". */
static void send_fresh_parse(sw_server *s, const char *sql, const sw_stmt *st)
{
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_build_parse(w, "", sql, strlen(sql), st->nparams, st->param_types);
    sw_out_gen_done(&s->c, start);
    sw_owe_stmt(s, SW_OWE_PARSE, true, 0, 0);
}

/* Length of the messages after a Bind up to and including its Sync, or 0
 * when they have not all arrived; -1 when another statement starts first. */
static int64_t unit_rest(sw_client *c, uint32_t from)
{
    sw_iobuf *b = &c->c.in;
    uint32_t off = from;
    for (;;) {
        sw_msg_hdr h;
        int rc = sw_msg_peek(b->data + off, b->recv - off, sw_g.conf->max_message_size, &h);
        if (rc <= 0 || b->recv - off < h.total) return 0;
        off += h.total;
        if (h.type == SW_FE_SYNC) return off - from;
        if (h.type != SW_FE_DESCRIBE && h.type != SW_FE_EXECUTE && h.type != SW_FE_CLOSE &&
            h.type != SW_FE_FLUSH)
            return -1;
    }
}

/* Copy the rest of a fanned-out unit to s, with matching expectations. */
static void send_rest(sw_server *s, const uint8_t *p, uint32_t len)
{
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_wbuf_put(w, p, len);
    sw_out_gen_done(&s->c, start);
    uint32_t off = 0;
    while (off < len) {
        uint32_t mlen = sw_be32(p + off + 1) + 1;
        switch (p[off]) {
        case SW_FE_DESCRIBE:
            sw_owe(s, p[off + SW_HDR_LEN] == 'S' ? SW_OWE_DESCRIBE_STMT : SW_OWE_DESCRIBE_PORTAL, false);
            break;
        case SW_FE_EXECUTE: sw_owe(s, SW_OWE_EXECUTE, false); break;
        case SW_FE_CLOSE: sw_owe(s, SW_OWE_CLOSE, false); break;
        case SW_FE_SYNC: sw_owe(s, SW_OWE_SYNC, false); break;
        default: break;
        }
        off += mlen;
    }
}


/* What follows a fanned-out Bind up to Sync: whether it describes the
 * portal, and the largest Execute row limit. */
static void unit_scan(const uint8_t *p, uint32_t len, bool *describes, int32_t *max_rows)
{
    *describes = false;
    *max_rows = 0;
    uint32_t off = 0;
    while (off + SW_HDR_LEN <= len) {
        uint32_t mlen = sw_be32(p + off + 1) + 1;
        if (p[off] == SW_FE_DESCRIBE && mlen > SW_HDR_LEN && p[off + SW_HDR_LEN] == 'P') *describes = true;
        if (p[off] == SW_FE_EXECUTE) {
            sw_execute_msg e;
            if (sw_execute_decode(p + off + SW_HDR_LEN, mlen - SW_HDR_LEN, &e) == 0 && e.max_rows > *max_rows)
                *max_rows = e.max_rows;
        }
        off += mlen;
    }
}

/* An extended-protocol SELECT on several shards, merged: each gets the
 * Bind (of the rewritten statement), a Describe of the portal when the
 * client sent none (the merger needs the column types), and the rest. */
static int merge_bind(sw_client *c, const sw_bind_msg *m, const uint8_t *p, uint32_t total, sw_stmt *st,
                      const sw_route_target *t, int n, uint32_t rest, const sw_route_in *in)
{
    const uint8_t *rp = p + total;
    /* on a refusal only the Bind is consumed: ext_error skips to the Sync */
    c->c.in.parse += total;
    bool describes;
    int32_t max_rows;
    unit_scan(rp, rest, &describes, &max_rows);
    if (max_rows > 0) {
        sw_ext_error(c, "0A000", "a cross-shard result cannot be fetched in parts (Execute with a row limit)");
        return SW_MSG_DONE;
    }
    bool per_target = false;
    for (int i = 0; i < n; i++) per_target |= t[i].sql != NULL;
    sw_merge_spec *owned = NULL;
    const sw_merge_spec *spec = NULL;
    char *sqls[SW_MAX_NODES * 2];
    char state[6], msg[300];
    const char *shared_sql = NULL;  /* the one rewritten text every target runs */
    if (per_target) {
        if (sw_merge_plan_targets(c, t, n, st->query, st->query_len, &owned, sqls, state, msg, sizeof msg) < 0) {
            sw_ext_error(c, state, msg);
            return SW_MSG_DONE;
        }
        spec = owned;
    } else {
        sw_stmt_merge *mp = sw_stmt_merge_of(c, st);
        if (!mp) {
            sw_ext_error(c, "53200", "out of memory");
            return SW_MSG_DONE;
        }
        if (mp->rc < 0) {
            sw_ext_error(c, mp->sqlstate, mp->msg ? mp->msg : "cannot merge");
            return SW_MSG_DONE;
        }
        spec = mp->spec;
        shared_sql = mp->sql;
        for (int i = 0; i < n; i++) sqls[i] = mp->sql ? strdup(mp->sql) : NULL;
    }
    /* Every target's statement before anything is sent: out of memory
     * fails the statement, it never sends a shard other text. */
    sw_stmt *runs[SW_MAX_NODES * 2];
    bool oom = false;
    for (int i = 0; i < n; i++) {
        const char *text = sqls[i] ? sqls[i] : t[i].sql;
        runs[i] = text ? sw_stmt_intern(text, strlen(text), st->nparams, st->param_types) : NULL;
        oom |= (shared_sql && !sqls[i]) || (text && !runs[i]);
    }
    int begun = oom ? -1 : sw_merge_begin(c, spec, owned, n, in);
    if (begun <= 0) {
        for (int i = 0; i < n; i++) {
            free(sqls[i]);
            sw_stmt_release(runs[i]);
        }
        if (oom) sw_merge_spec_free(owned);
        if (begun < 0) {
            sw_ext_error(c, "53200", "out of memory");
        } else {
            sw_ext_error(c, "22023", "invalid LIMIT/OFFSET parameter for a cross-shard query");
        }
        return SW_MSG_DONE;
    }
    c->fan.swallow_desc = !describes;
    c->c.in.parse += rest;
    for (int i = 0; i < n; i++) {
        sw_server *s = c->link[t[i].node];
        sw_stmt *run = runs[i] ? runs[i] : st;  /* may be st itself when the text did not change */
        sw_ensure_prepared(s, run);
        char nb[64];
        send_bind(s, c, m, p, total, sw_server_stmt_name(s, run, nb, sizeof nb), true);
        sw_stmt_release(runs[i]);
        if (!describes) {
            sw_wbuf *w = sw_out_gen(&s->c);
            size_t start = w->len;
            sw_build_target(w, SW_FE_DESCRIBE, 'P', m->portal);
            sw_out_gen_done(&s->c, start);
            sw_owe(s, SW_OWE_DESCRIBE_PORTAL, false);
        }
        send_rest(s, rp, rest);
        c->fan.srv[c->fan.n++] = s;
        free(sqls[i]);
    }
    sw_merge_launch(c);
    return SW_MSG_DONE;
}

/* The next statement of a batch goes to another node, which waits until
 * the current server has answered what it was sent; without a Sync or
 * Flush behind it that server would not answer (it waits for more): ask
 * it to (a Flush has no reply of its own). */
static void flush_for_switch(sw_client *c)
{
    sw_server *s = c->server;
    if (!s || s->owed.n_ready > 0 || sw_ledger_quiet(&s->owed) || !sw_out_room(&s->c)) return;
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_build_empty(w, SW_FE_FLUSH);
    sw_out_gen_done(&s->c, start);
    if (sw_out_flush(&s->c) < 0) sw_server_close(s, "write to server failed");
}

/* A Sync of shardwire's (its ReadyForQuery is not the client's) to every
 * node the batch reached, but for skip (the server that gets the client's
 * own Sync), which may be NULL. */
static void sync_batch_nodes(sw_client *c, const sw_server *skip)
{
    sw_server *s;
    SW_EACH_LINK(c, m, s) {
        if (s == skip || !(c->unsynced_mask & ((uint64_t)1 << __builtin_ctzll(m)))) continue;
        sw_wbuf *w = sw_out_gen(&s->c);
        size_t start = w->len;
        sw_build_empty(w, SW_FE_SYNC);
        sw_out_gen_done(&s->c, start);
        sw_owe(s, SW_OWE_SYNC, true);
        if (sw_out_flush(&s->c) < 0) sw_server_close(s, "write to server failed");
    }
    c->unsynced_mask = 0;
}

/* An extended-protocol BEGIN of shardwire's on s, in the middle of the
 * client's batch there: it makes what s ran of the batch part of an
 * explicit transaction (PostgreSQL turns the batch's implicit transaction
 * into a transaction block). */
static void send_hidden_begin_ext(sw_server *s)
{
    sw_stmt *b = sw_stmt_intern("BEGIN", 5, 0, NULL);
    if (!b) {
        sw_server_fault(s, "53200", "out of memory");
        return;
    }
    sw_ensure_prepared(s, b);
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    char nb[64];
    const char *bname = sw_server_stmt_name(s, b, nb, sizeof nb);
    sw_msg_header(w, SW_FE_BIND, 1 + strlen(bname) + 1 + 2 + 2 + 2);
    sw_wbuf_cstr(w, "");
    sw_wbuf_cstr(w, bname);
    sw_wbuf_i16(w, 0); /* parameter formats */
    sw_wbuf_i16(w, 0); /* parameters */
    sw_wbuf_i16(w, 0); /* result formats */
    sw_msg_header(w, SW_FE_EXECUTE, 1 + 4);
    sw_wbuf_cstr(w, "");
    sw_wbuf_i32(w, 0);
    sw_build_empty(w, SW_FE_FLUSH); /* its replies now: the batch may not come back here */
    sw_out_gen_done(&s->c, start);
    sw_owe(s, SW_OWE_BIND, true);
    sw_owe(s, SW_OWE_EXECUTE, true);
    sw_stmt_release(b); /* the server's set keeps the id */
}

/* The batch (outside a transaction) is about to reach a second node: it
 * becomes shardwire's transaction on every node (sw_batch_txn).  Nodes
 * that ran part of it get an extended BEGIN, other linked nodes a Query
 * BEGIN; nodes linked later get theirs from sw_client_linked. */
static void batch_begin(sw_client *c)
{
    sw_server *s;
    SW_EACH_LINK(c, m, s) {
        if (c->unsynced_mask & ((uint64_t)1 << __builtin_ctzll(m))) {
            send_hidden_begin_ext(s);
        } else {
            sw_wbuf *w = sw_out_gen(&s->c);
            size_t start = w->len;
            sw_build_query(w, "BEGIN", 5);
            sw_out_gen_done(&s->c, start);
            sw_owe(s, SW_OWE_QUERY, true);
        }
        if (sw_out_flush(&s->c) < 0) sw_server_close(s, "write to server failed");
    }
    free(c->begin_sql);
    c->begin_sql = NULL;
    c->n_savepoints = 0;
    c->txn_failed = false;
    c->txn_status = 'T';
    c->batch = SW_BATCH_OPEN;
    sw_debug("client %s pid=%d: pipelined batch on several nodes: one transaction", c->addr, c->pid);
}

/* The client's Sync ends a batch that is shardwire's transaction: every
 * node of it gets a Sync of shardwire's, and once all have answered the
 * transaction commits (two-phase) or, if any statement failed, rolls back;
 * the commit answers the client's Sync with ReadyForQuery idle. */
static int batch_sync(sw_client *c, uint32_t total)
{
    sw_server *s;
    if (c->batch == SW_BATCH_OPEN) {
        sync_batch_nodes(c, NULL);  /* the client's Sync is answered by the commit */
        c->batch = SW_BATCH_SYNCED;
    }
    if (!sw_client_quiescent(c)) return SW_MSG_WAIT;
    bool failed = c->txn_failed || c->proxy_failed;
    SW_EACH_LINK(c, m, s)
        if (s->txn_status != 'T') failed = true;
    c->batch = SW_BATCH_NONE;
    c->skip_until_sync = false;
    c->c.in.parse += total;
    sw_commit_implicit(c, failed ? NULL : "");
    return SW_MSG_DONE;
}

/* txn_statement_sent for a Bind: the error goes in the batch. */
static bool bind_txn_statement(sw_client *c, const sw_route_out *o)
{
    if (!sw_client_savepoint_track(c, o)) {
        sw_ext_error(c, "53200", "out of memory");
        return false;
    }
    if (o->txn_op == SW_TXN_ROLLBACK_TO) c->proxy_failed = false;
    return true;
}

static int routed_bind(sw_client *c, const uint8_t *p, uint32_t total)
{
    sw_bind_msg m;
    if (sw_bind_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0) {
        sw_client_protocol_error(c, "invalid Bind message");
        return SW_MSG_CLOSED;
    }
    char msg[300];
    sw_client_stmt *cs = sw_client_stmt_find(c, m.stmt);
    if (!cs) {
        c->c.in.parse += total;
        if (m.stmt[0]) snprintf(msg, sizeof msg, "prepared statement \"%s\" does not exist", m.stmt);
        else snprintf(msg, sizeof msg, "unnamed prepared statement does not exist");
        sw_ext_error(c, "26000", msg);
        return SW_MSG_DONE;
    }
    sw_stmt *st = cs->stmt;
    const char *pstate;
    const char *perr = stmt_plan(c, st, &pstate);
    if (perr) {
        c->c.in.parse += total;
        sw_ext_error(c, pstate, perr);
        return SW_MSG_DONE;
    }
    if (!sw_client_refresh_conf(c)) return SW_MSG_CLOSED;
    /* Parameters for the router. */
    const uint8_t *vals[256];
    int32_t lens[256];
    int16_t fmts[256];
    const uint8_t *end = p + total;
    int np = m.nparams < 256 ? m.nparams : 256;
    for (int i = 0; i < np; i++) {
        const uint8_t *v;
        int32_t l;
        int16_t f;
        if (sw_bind_param(&m, end, i, &v, &l, &f) < 0) { v = NULL; l = -1; f = 0; }
        vals[i] = l < 0 ? NULL : v;
        lens[i] = l;
        fmts[i] = f;
    }
    sw_route_in in = sw_client_route_in(c);
    in.nparams = np;
    in.param_values = vals;
    in.param_lens = lens;
    in.param_formats = fmts;
    sw_route_out *o = route_kept(c);
    if (!o) {
        if (!c->route_kept) sw_route_out_clear(&c->route);
        sw_router_route_plan(c->router, st->plan, &in, &c->route);
        o = route_keep(c);
    }
    int rc = SW_MSG_DONE;
    bool quiet = sw_client_quiescent(c);
    sw_route_target tx[SW_MAX_NODES];
    const sw_route_target *t = o->targets;
    int n = o->n_targets;

    if ((c->proxy_failed && o->kind != SW_SK_ROLLBACK && o->kind != SW_SK_COMMIT && o->txn_op != SW_TXN_ROLLBACK_TO) ||
        failed_refuses(c, o)) {
        c->c.in.parse += total;
        if (m.nparams != st->nparams) {  /* PostgreSQL checks the count first */
            snprintf(msg, sizeof msg, "bind message supplies %d parameters, but prepared statement \"%s\" requires %d",
                     (int)m.nparams, m.stmt, (int)st->nparams);
            sw_ext_error(c, "08P01", msg);
        } else {
            sw_ext_error(c, "25P02", "current transaction is aborted, commands ignored until end of transaction block");
        }
        goto out;
    }
    if (o->status == SW_ROUTE_ERROR || o->status == SW_ROUTE_LOOKUP || o->local != SW_LOCAL_NONE) {
        c->c.in.parse += total;
        if (o->status == SW_ROUTE_ERROR) sw_ext_error(c, o->sqlstate, o->message);
        else if (o->status == SW_ROUTE_LOOKUP)
            sw_ext_error(c, "0A000", "directory-sharded keys must be looked up with the simple query protocol first");
        else
            sw_ext_error(c, "0A000", "shardwire commands are answered with the simple query protocol only");
        goto out;
    }
    if (c->batch != SW_BATCH_NONE &&
        (o->kind == SW_SK_BEGIN || o->kind == SW_SK_COMMIT || o->kind == SW_SK_ROLLBACK || o->kind == SW_SK_TXN_OTHER)) {
        /* the client has no transaction block: what PostgreSQL says of a
         * savepoint there; the block shardwire opened cannot be the
         * client's own */
        c->c.in.parse += total;
        const char *sp = o->txn_op == SW_TXN_SAVEPOINT ? "SAVEPOINT"
                         : o->txn_op == SW_TXN_RELEASE ? "RELEASE SAVEPOINT"
                         : o->txn_op == SW_TXN_ROLLBACK_TO ? "ROLLBACK TO SAVEPOINT" : NULL;
        if (sp) {
            snprintf(msg, sizeof msg, "%s can only be used in transaction blocks", sp);
            sw_ext_error(c, "25P01", msg);
        } else {
            sw_ext_error(c, "0A000", "transaction control cannot follow statements on several nodes in one pipelined "
                                     "batch outside a transaction: send BEGIN before the batch, or Sync first");
        }
        goto out;
    }
    if (o->kind == SW_SK_COMMIT && o->txn_op == SW_TXN_NONE && sw_commit_wanted(c)) {
        /* The whole unit up to Sync is answered by the commit. */
        if (!quiet) { rc = SW_MSG_WAIT; goto out; }
        int64_t rest = unit_rest(c, c->c.in.parse + total);
        if (rest == 0) { rc = SW_MSG_WAIT; goto out; }
        if (rest < 0) {
            c->c.in.parse += total;
            sw_ext_error(c, "0A000", "a COMMIT of a transaction on several nodes must be followed by Sync before the next statement");
            goto out;
        }
        bool described = false;
        for (uint32_t off = c->c.in.parse + total; off < c->c.in.parse + total + (uint32_t)rest;) {
            sw_msg_hdr h;
            if (sw_msg_peek(c->c.in.data + off, c->c.in.recv - off, sw_g.conf->max_message_size, &h) <= 0) break;
            if (h.type == SW_FE_DESCRIBE) described = true;
            off += h.total;
        }
        c->c.in.parse += total + (uint32_t)rest;
        sw_commit_start_ext(c, described);
        goto out;
    }
    if (o->txn_op == SW_TXN_PREPARE && c->n_links > 1) {
        c->c.in.parse += total;
        sw_ext_error(c, "0A000", "PREPARE TRANSACTION is not supported for a transaction on several nodes: shardwire commits it with two-phase commit itself, use COMMIT");
        goto out;
    }
    if ((o->kind == SW_SK_COMMIT || o->kind == SW_SK_ROLLBACK || o->kind == SW_SK_TXN_OTHER) && c->n_links > 1) {
        n = sw_link_targets(c, tx, SW_MAX_NODES);
        t = tx;
    }
    if (n == 0) {
        tx[0] = (sw_route_target){.node = sw_client_any_node(c), .sql = o->any_sql, .part = -1};
        t = tx;
        n = 1;
    }
    if (n == 1) {
        int node = t[0].node;
        if (!(c->server && c->server == c->link[node])) {
            if (!quiet) {
                flush_for_switch(c);
                rc = SW_MSG_WAIT;
                goto out;
            }
            if (c->txn_status == 'I' && c->batch == SW_BATCH_NONE &&
                (c->unsynced_mask & ~((uint64_t)1 << node)) && two_phase_db(c))
                batch_begin(c);
            if (!sw_client_use_node(c, node)) { rc = SW_MSG_WAIT; goto out; }
        }
        sw_server *s = c->server;
        if (!sw_out_room(&s->c)) { rc = SW_MSG_WAIT; goto out; }
        if (o->kind == SW_SK_BEGIN && c->txn_status == 'I' && !remember_begin(c, st->query, st->query_len)) {
            c->c.in.parse += total;
            sw_ext_error(c, "53200", "out of memory");
            goto out;
        }
        if (o->kind == SW_SK_TXN_OTHER && !bind_txn_statement(c, o)) {
            c->c.in.parse += total;
            goto out;
        }
        if (!remember_set_transaction(c, o, st->query, st->query_len)) {
            c->c.in.parse += total;
            sw_ext_error(c, "53200", "out of memory");
            goto out;
        }
        if (c->txn_status == 'I' && c->unsynced_mask == 0) c->wrote_mask = 0;  /* a new batch */
        note_writes(c, o, t, n);
        if (o->fresh) {
            send_fresh_parse(s, t[0].sql, st);
            send_bind(s, c, &m, p, total, "", false);
            c->unsynced_mask |= (uint64_t)1 << node;
            c->c.in.parse += total;
            goto out;
        }
        sw_stmt *run = st, *interned = NULL;
        if (t[0].sql) {
            interned = run = sw_stmt_intern(t[0].sql, strlen(t[0].sql), st->nparams, st->param_types);
            if (!run) { c->c.in.parse += total; sw_ext_error(c, "53200", "out of memory"); goto out; }
        }
        sw_ensure_prepared(s, run);
        char nb[64];
        send_bind(s, c, &m, p, total, sw_server_stmt_name(s, run, nb, sizeof nb), false);
        c->unsynced_mask |= (uint64_t)1 << node;
        sw_stmt_release(interned);  /* the server's set keeps the id */
        c->c.in.parse += total;
        goto out;
    }
    /* Fan out: the rest of the unit must be here to be copied to each. */
    if (c->batch != SW_BATCH_NONE) {
        c->c.in.parse += total;
        sw_ext_error(c, "0A000", "a statement that runs on several nodes cannot follow statements on other nodes in "
                                 "one pipelined batch outside a transaction: send Sync first, or BEGIN before the batch");
        goto out;
    }
    if (!quiet) { flush_for_switch(c); rc = SW_MSG_WAIT; goto out; }
    {
        char state[6];
        if (sw_write_refused(c, o->kind, st->query, st->query_len, state, msg, sizeof msg)) {
            c->c.in.parse += total;
            sw_ext_error(c, state, msg);
            goto out;
        }
    }
    int64_t rest = unit_rest(c, c->c.in.parse + total);
    if (rest < 0) {
        c->c.in.parse += total;
        sw_ext_error(c, "0A000", "a statement that runs on several shards must be followed by Sync before the next one");
        goto out;
    }
    if (rest == 0) {
        if (!sw_iobuf_make_room(&c->c, total + 65536) && c->c.in.done == c->c.in.parse) {
            sw_client_protocol_error(c, "out of memory for message");
            rc = SW_MSG_CLOSED;
            goto out;
        }
        rc = SW_MSG_WAIT;
        goto out;
    }
    if (n > (int)(sizeof c->fan.srv / sizeof c->fan.srv[0])) {
        c->c.in.parse += total;
        sw_ext_error(c, "0A000", "statement has too many targets");
        goto out;
    }
    if (!c->implicit_txn && implicit_wanted(c, o, t, n)) {
        /* one atomic write, as with a Query: a transaction of shardwire's
         * on every node, committed when the unit's replies are in */
        c->implicit_txn = true;
        c->implicit_begun = 0;
        c->txn_status = 'T';
        c->wrote_mask = 0;
    }
    if (!sw_client_link_all(c, t, n)) {
        rc = SW_MSG_WAIT;
        goto out;
    }
    if (c->implicit_txn) implicit_begin(c, t, n);
    if (o->kind == SW_SK_SELECT && o->fresh) {
        c->c.in.parse += total;
        sw_ext_error(c, "0A000", "a SELECT with shardwire_next_id() calls must run on one node");
        goto out;
    }
    if (o->kind == SW_SK_SELECT) {
        rc = merge_bind(c, &m, p, total, st, t, n, (uint32_t)rest, &in);
        goto out;
    }
    sw_stmt *runs[SW_MAX_NODES * 2];
    bool oom = false;
    for (int i = 0; i < n; i++) {
        runs[i] = t[i].sql && !o->fresh ? sw_stmt_intern(t[i].sql, strlen(t[i].sql), st->nparams, st->param_types) : NULL;
        oom |= t[i].sql && !o->fresh && !runs[i];
    }
    if (oom && c->implicit_txn) {
        /* shardwire's BEGIN is on the nodes already: rather than guess
         * how to unwind it, end the session */
        for (int i = 0; i < n; i++) sw_stmt_release(runs[i]);
        sw_client_error(c, "FATAL", "53200", "out of memory routing the statement", NULL);
        sw_client_close(c, "out of memory routing a statement");
        rc = SW_MSG_CLOSED;
        goto out;
    }
    if (oom || (o->kind == SW_SK_TXN_OTHER && !bind_txn_statement(c, o))) {  /* never the unrewritten text instead */
        for (int i = 0; i < n; i++) sw_stmt_release(runs[i]);
        c->c.in.parse += total;
        if (oom) sw_ext_error(c, "53200", "out of memory");
        goto out;
    }
    note_writes(c, o, t, n);
    sw_fan_begin(c);
    c->fan.copies = o->copies;
    const uint8_t *rp = p + total;
    for (int i = 0; i < n; i++) {
        sw_server *s = c->link[t[i].node];
        if (o->fresh) {
            send_fresh_parse(s, t[i].sql, st);
            send_bind(s, c, &m, p, total, "", true);
        } else {
            sw_stmt *run = runs[i] ? runs[i] : st;
            sw_ensure_prepared(s, run);
            char nb[64];
            send_bind(s, c, &m, p, total, sw_server_stmt_name(s, run, nb, sizeof nb), true);
        }
        sw_stmt_release(runs[i]);
        send_rest(s, rp, (uint32_t)rest);
        c->fan.srv[c->fan.n++] = s;
    }
    c->server = c->fan.srv[0];
    c->c.in.parse += total + (uint32_t)rest;
    sw_fan_start(c);
    sw_fan_hold_rows(c, o, t, n);  /* out of memory: the statement fails at its end */
    for (int i = 0; i < n; i++) {
        sw_server *s = c->fan.srv[i];
        if (i > 0 && s == c->fan.srv[i - 1]) continue;
        if (sw_out_flush(&s->c) < 0) sw_server_close(s, "write to server failed");
    }
out:
    return rc;
}

/* Describe or Close. */
static int routed_target_msg(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    sw_target_msg m;
    if (sw_target_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0) {
        sw_client_protocol_error(c, type == SW_FE_DESCRIBE ? "invalid Describe message" : "invalid Close message");
        return SW_MSG_CLOSED;
    }
    char msg[300];
    if (m.kind == 'S') {
        sw_client_stmt *cs = sw_client_stmt_find(c, m.name);
        if (type == SW_FE_CLOSE) {
            c->c.in.parse += total;
            sw_client_stmt_drop(c, m.name);
            sw_ext_reply(c, SW_BE_CLOSE_COMPLETE, 0, 0);
            return SW_MSG_DONE;
        }
        if (!cs) {
            c->c.in.parse += total;
            snprintf(msg, sizeof msg, "prepared statement \"%s\" does not exist", m.name);
            sw_ext_error(c, "26000", msg);
            return SW_MSG_DONE;
        }
        if (!c->server) {
            if (!sw_client_quiescent(c)) return SW_MSG_WAIT;
            if (!sw_client_use_node(c, sw_client_any_node(c))) return SW_MSG_WAIT;
        }
        sw_server *s = c->server;
        if (!sw_out_room(&s->c)) return SW_MSG_WAIT;
        /* shardwire_next_id() calls exist on no server: what the text is
         * with an int8 in their place describes the statement */
        sw_stmt *d = cs->stmt, *described = NULL;
        char *dtext = cs->stmt->plan ? sw_router_describe_text(c->router, cs->stmt->plan) : NULL;
        if (dtext) {
            described = d = sw_stmt_intern(dtext, strlen(dtext), cs->stmt->nparams, cs->stmt->param_types);
            free(dtext);
            if (!d) {
                c->c.in.parse += total;
                sw_ext_error(c, "53200", "out of memory");
                return SW_MSG_DONE;
            }
        }
        sw_ensure_prepared(s, d);
        sw_wbuf *w = sw_out_gen(&s->c);
        size_t start = w->len;
        char nb[64];
        sw_build_target(w, SW_FE_DESCRIBE, 'S', sw_server_stmt_name(s, d, nb, sizeof nb));
        sw_out_gen_done(&s->c, start);
        sw_stmt_release(described); /* the server's set keeps the id */
        sw_owe(s, SW_OWE_DESCRIBE_STMT, false);
        c->c.in.parse += total;
        return SW_MSG_DONE;
    }
    /* A portal lives on the server its Bind went to. */
    if (!c->server) {
        c->c.in.parse += total;
        if (type == SW_FE_CLOSE) {
            sw_ext_reply(c, SW_BE_CLOSE_COMPLETE, 0, 0);
        } else {
            snprintf(msg, sizeof msg, "portal \"%s\" does not exist", m.name);
            sw_ext_error(c, "34000", msg);
        }
        return SW_MSG_DONE;
    }
    sw_server *s = c->server;
    if (!sw_out_room(&s->c)) return SW_MSG_WAIT;
    sw_out_src(&s->c, &c->c, p, total);
    sw_owe(s, type == SW_FE_CLOSE ? SW_OWE_CLOSE : SW_OWE_DESCRIBE_PORTAL, false);
    c->c.in.parse += total;
    return SW_MSG_DONE;
}

/* Messages that follow the current server: Execute, Sync, Flush, copy data,
 * function calls. */
static int routed_forward(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    if (type == SW_FE_SYNC && c->batch != SW_BATCH_NONE) return batch_sync(c, total);
    if (type == SW_FE_FUNCTION_CALL && c->txn_status != 'I' && (c->txn_status == 'E' || c->proxy_failed || c->n_links > 1)) {
        /* In a failed transaction PostgreSQL refuses the call; the server
         * at hand may be a node the transaction did not fail on. */
        if (!sw_client_quiescent(c)) return SW_MSG_WAIT;
        if (c->txn_status == 'E' || c->proxy_failed) {
            c->c.in.parse += total;
            sw_local_error(c, "25P02", "current transaction is aborted, commands ignored until end of transaction block");
            return SW_MSG_DONE;
        }
    }
    if (!c->server) {
        if (type == SW_FE_SYNC) {
            if (!sw_client_quiescent(c)) return SW_MSG_WAIT;
            c->skip_until_sync = false;
            if (c->proxy_failed && c->txn_status != 'I') c->txn_status = 'E';
            sw_wbuf *w = sw_out_gen(&c->c);
            size_t start = w->len;
            sw_build_ready(w, c->txn_status);
            sw_out_gen_done(&c->c, start);
            c->c.in.parse += total;
            return SW_MSG_DONE;
        }
        if (type == SW_FE_EXECUTE) {
            c->c.in.parse += total;
            sw_ext_error(c, "34000", "portal does not exist");
            return SW_MSG_DONE;
        }
        if (type == SW_FE_FUNCTION_CALL) {
            if (!sw_client_quiescent(c)) return SW_MSG_WAIT;
            if (!sw_client_use_node(c, sw_client_any_node(c))) return SW_MSG_WAIT;
        } else {
            c->c.in.parse += total;  /* Flush, stray copy messages: nothing to do */
            return SW_MSG_DONE;
        }
    }
    sw_server *s = c->server;
    if (!sw_out_room(&s->c)) return SW_MSG_WAIT;
    sw_out_src(&s->c, &c->c, p, total);
    c->c.in.parse += total;
    switch (type) {
    case SW_FE_EXECUTE: sw_owe(s, SW_OWE_EXECUTE, false); break;
    case SW_FE_SYNC:
        c->skip_until_sync = false;
        sw_owe(s, SW_OWE_SYNC, false);
        if (c->unsynced_mask) sync_batch_nodes(c, s);
        if (s->owed.n_proxy_parses > 0) sw_client_set_flow(c, SW_FLOW_HELD);
        break;
    case SW_FE_FUNCTION_CALL: sw_owe(s, SW_OWE_FUNCTION, false); break;
    case SW_FE_COPY_DONE:
    case SW_FE_COPY_FAIL: sw_ledger_copy_end(&s->owed); break;
    default: break;
    }
    return SW_MSG_DONE;
}

int sw_routed_message(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    switch (type) {
    case SW_FE_QUERY: return routed_query(c, p, total);
    case SW_FE_PARSE: return routed_parse(c, p, total);
    case SW_FE_BIND: return routed_bind(c, p, total);
    case SW_FE_DESCRIBE:
    case SW_FE_CLOSE: return routed_target_msg(c, type, p, total);
    case SW_FE_EXECUTE:
    case SW_FE_SYNC:
    case SW_FE_FLUSH:
    case SW_FE_FUNCTION_CALL:
    case SW_FE_COPY_DATA:
    case SW_FE_COPY_DONE:
    case SW_FE_COPY_FAIL: return routed_forward(c, type, p, total);
    default: {
        char msg[64];
        snprintf(msg, sizeof msg, "invalid frontend message type %d", type);
        sw_client_protocol_error(c, msg);
        return SW_MSG_CLOSED;
    }
    }
}

