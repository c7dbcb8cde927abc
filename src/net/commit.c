/*
 * commit.c - two-phase commit of a transaction that wrote on several
 * nodes, driven by the client's COMMIT.
 *
 * The decision lives in PostgreSQL, on one participant (the coordinator:
 * the lowest-numbered node the transaction wrote on): every other writer
 * runs PREPARE TRANSACTION, nodes that only read commit at once, then the
 * coordinator records the transaction ID in shardwire.commit_decisions and
 * commits in the same transaction - that commit *is* the decision - and
 * finally every prepared node gets COMMIT PREPARED.  Any failure before the
 * decision rolls everything back (ROLLBACK PREPARED, ROLLBACK) and the
 * client gets the error; a failure after it is finished by recovery
 * (recover.c) and the client gets COMMIT.  Losing the coordinator while it
 * decides leaves the outcome to recovery: the client hears 08007, as from a
 * server whose connection broke during COMMIT.
 *
 * Transaction IDs are "sw:<instance>:<coordinator>:<start>:<seq>": the
 * instance that made it, the node holding its decision, this process's
 * start time and a counter, so instances and restarts never collide.
 *
 * Every request is shardwire's own (ledger owner COMMIT): its replies come
 * here (sw_commit_reply), never to the client, and the client's next
 * messages wait until the commit has an outcome.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

typedef enum sw_commit_step {
    SW_COMMIT_PREPARING,   /* writers prepare, readers commit */
    SW_COMMIT_DECIDING,    /* the coordinator records the decision and commits */
    SW_COMMIT_FINISHING,   /* COMMIT PREPARED everywhere */
    SW_COMMIT_ABORTING     /* ROLLBACK PREPARED / ROLLBACK everywhere */
} sw_commit_step;

static const char *const step_names[] = {"preparing", "deciding", "finishing", "aborting"};

/* What one participant is in the protocol. */
typedef enum sw_part_state {
    SW_PART_OPEN,          /* in the client's transaction */
    SW_PART_ASKED,         /* a request of the current step is owed */
    SW_PART_PREPARED,      /* holds the prepared transaction */
    SW_PART_DONE,          /* committed, rolled back, or out of it */
    SW_PART_LOST           /* the connection went away */
} sw_part_state;

typedef struct sw_cpart {
    sw_server *s;
    int node;
    bool wrote;
    bool coordinator;
    uint8_t state;         /* sw_part_state */
    bool ok;               /* the current request's reply said it worked */
    char tag[32];          /* its last CommandComplete */
} sw_cpart;

struct sw_commit {
    sw_commit_step step;
    char gid[200];
    sw_cpart part[SW_MAX_NODES];
    int n_parts;
    int owed;              /* participants with a request of this step owed */
    uint8_t *error;        /* the first ErrorResponse a participant sent (the client's answer) */
    uint32_t error_len;
    char fail_state[6];    /* ...or shardwire's own error */
    char fail_msg[256];
    bool unknown;          /* the decision's fate is unknown (08007) */
    char tag[64];          /* an implicit transaction's CommandComplete, sent on success */
    bool implicit;         /* ...that transaction (no COMMIT of the client's) */
    bool client_erred;     /* the client has its error already: only ReadyForQuery is owed */
    bool ext;              /* the COMMIT came as Bind/Execute/Sync: BindComplete first */
    bool described;        /* ...with a Describe of its portal: NoData */
    uint64_t started_ms;
};

static uint64_t commit_seq;
static uint64_t commit_boot_ms;

/* Fault injection for the tests of the protocol: SW_TEST_COMMIT_STOP=step
 * stops the whole process (SIGSTOP) when a commit reaches that point, so
 * that a test can kill nodes or the proxy there and let it go on. */
static void test_stop(const char *at)
{
    static const char *want;
    static bool read_env;
    if (!read_env) {
        want = getenv("SW_TEST_COMMIT_STOP");
        read_env = true;
    }
    if (want && strcmp(want, at) == 0) {
        want = NULL;  /* once per process: the test then lets it run */
        sw_info("commit: stopping at %s (SW_TEST_COMMIT_STOP)", at);
        raise(SIGSTOP);
    }
}

const char *sw_commit_step_name(const sw_client *c)
{
    return c->commit ? step_names[c->commit->step] : "";
}

const char *sw_commit_gid(const sw_client *c)
{
    return c->commit ? c->commit->gid : "";
}

uint64_t sw_commit_started_ms(const sw_client *c)
{
    return c->commit ? c->commit->started_ms : 0;
}

uint64_t sw_commit_last_seq(void) { return commit_seq; }
uint64_t sw_commit_boot_ms(void)
{
    if (!commit_boot_ms) commit_boot_ms = sw_wall_ms();
    return commit_boot_ms;
}

bool sw_commit_wanted(const sw_client *c)
{
    if (c->txn_status != 'T' || c->proxy_failed || c->n_links < 2) return false;
    uint64_t w = c->wrote_mask & c->link_mask;
    if ((w & (w - 1)) == 0) return false;  /* one writer: its own commit is atomic */
    const sw_conf_database *d = sw_conf_database_find(sw_g.conf, c->database);
    return d && d->two_phase;
}

/* Send sql to a participant; its replies come to sw_commit_reply. */
static void ask(sw_commit *k, sw_cpart *pt, const char *sql)
{
    sw_server *s = pt->s;
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_build_query(w, sql, strlen(sql));
    sw_out_gen_done(&s->c, start);
    sw_owed e = {.kind = SW_OWE_QUERY, .owner = SW_OWNER_COMMIT};
    if (sw_ledger_push(&s->owed, &e) < 0) sw_server_fault(s, "53200", "out of memory");
    pt->state = SW_PART_ASKED;
    pt->ok = false;
    pt->tag[0] = 0;
    k->owed++;
}

static void flush_all(sw_client *c)
{
    sw_commit *k = c->commit;
    for (int i = 0; i < k->n_parts; i++) {
        sw_server *s = k->part[i].s;
        if (!s || k->part[i].state == SW_PART_LOST) continue;
        if (s->c.out.nparts > 0 && !s->c.out.writing && sw_out_flush(&s->c) < 0)
            sw_server_fault(s, "08006", "write to server failed");
    }
}

static void set_failure(sw_commit *k, const char *state, const char *fmt, const char *node)
{
    if (k->error || k->fail_state[0]) return;  /* the first reason is the answer */
    snprintf(k->fail_state, sizeof k->fail_state, "%s", state);
    snprintf(k->fail_msg, sizeof k->fail_msg, fmt, node);
}

static void step_abort(sw_client *c);
static void step_decide(sw_client *c);
static void step_finish(sw_client *c);
static void commit_done(sw_client *c);

static void commit_begin(sw_client *c, bool ext, bool described, const char *tag, bool aborting);

void sw_commit_start(sw_client *c) { commit_begin(c, false, false, NULL, false); }
void sw_commit_start_ext(sw_client *c, bool described) { commit_begin(c, true, described, NULL, false); }
void sw_commit_implicit(sw_client *c, const char *tag) { commit_begin(c, false, false, tag ? tag : "", !tag); }

static void commit_begin(sw_client *c, bool ext, bool described, const char *tag, bool aborting)
{
    sw_commit *k = calloc(1, sizeof *k);
    if (!k) {
        /* nothing was sent: the transaction is still open on every node
         * (the client may retry the COMMIT, or roll back) */
        sw_wbuf *w = sw_out_gen(&c->c);
        size_t start = w->len;
        if (ext) sw_build_empty(w, SW_BE_BIND_COMPLETE);
        sw_build_error(w, 'E', "ERROR", "53200", "out of memory starting a two-phase commit", NULL, NULL);
        sw_build_ready(w, c->txn_status);
        sw_out_gen_done(&c->c, start);
        return;
    }
    k->ext = ext;
    k->described = described;
    if (tag) {
        k->implicit = true;
        snprintf(k->tag, sizeof k->tag, "%s", tag);
        k->client_erred = aborting;
    }
    c->commit = k;
    k->started_ms = sw_now_ms();
    int coord = -1;
    uint64_t w = c->wrote_mask & c->link_mask;
    if (w) coord = __builtin_ctzll(w);
    else if (c->link_mask) coord = __builtin_ctzll(c->link_mask);  /* nothing to decide: rolling back */
    sw_server *s;
    SW_EACH_LINK(c, m, s) {
        sw_cpart *pt = &k->part[k->n_parts++];
        pt->s = s;
        pt->node = __builtin_ctzll(m);
        pt->wrote = (w >> pt->node) & 1;
        pt->coordinator = pt->node == coord;
        pt->state = SW_PART_OPEN;
    }
    int n = snprintf(k->gid, sizeof k->gid, "sw:%s:%s:%llx:%llu", sw_g.conf->instance,
                     sw_g.conf->nodes[coord].name, (unsigned long long)sw_commit_boot_ms(),
                     (unsigned long long)++commit_seq);
    if (n < 0 || (size_t)n >= sizeof k->gid) {
        set_failure(k, "0A000", "transaction ID too long for node %s: shorten transactions.instance or the node name",
                    sw_g.conf->nodes[coord].name);
        step_abort(c);
        return;
    }
    if (k->client_erred) {
        step_abort(c);
        return;
    }
    sw_debug("client %s pid=%d: two-phase commit %s", c->addr, c->pid, k->gid);
    char sql[256];
    snprintf(sql, sizeof sql, "PREPARE TRANSACTION '%s'", k->gid);
    k->step = SW_COMMIT_PREPARING;
    for (int i = 0; i < k->n_parts; i++) {
        sw_cpart *pt = &k->part[i];
        if (pt->coordinator) continue;
        ask(k, pt, pt->wrote ? sql : "COMMIT");
    }
    flush_all(c);
    test_stop("prepare");
}

/* Every participant answered the current step (or was lost). */
static void step_complete(sw_client *c)
{
    sw_commit *k = c->commit;
    switch (k->step) {
    case SW_COMMIT_PREPARING: {
        bool all = true;
        for (int i = 0; i < k->n_parts; i++)
            if (k->part[i].coordinator && k->part[i].state == SW_PART_LOST) all = false;
        for (int i = 0; i < k->n_parts; i++) {
            sw_cpart *pt = &k->part[i];
            if (pt->coordinator) continue;
            if (pt->wrote) {
                if (pt->state == SW_PART_PREPARED) continue;
                all = false;
            } else if (pt->state != SW_PART_DONE) {
                all = false;
            }
        }
        test_stop("prepared");
        if (all) step_decide(c);
        else step_abort(c);
        return;
    }
    case SW_COMMIT_DECIDING: {
        sw_cpart *co = NULL;
        for (int i = 0; i < k->n_parts; i++)
            if (k->part[i].coordinator) co = &k->part[i];
        if (co->state == SW_PART_DONE && co->ok) {
            test_stop("decided");
            step_finish(c);
        } else if (co->state == SW_PART_LOST) {
            k->unknown = true;
            commit_done(c);
        } else {
            step_abort(c);
        }
        return;
    }
    case SW_COMMIT_FINISHING:
    case SW_COMMIT_ABORTING:
        commit_done(c);
        return;
    }
}

static void step_decide(sw_client *c)
{
    sw_commit *k = c->commit;
    k->step = SW_COMMIT_DECIDING;
    char sql[512];
    /* The decision must survive a crash of its node even where commits
     * are asynchronous (the prepared parts are flushed by PostgreSQL). */
    snprintf(sql, sizeof sql,
             "SET LOCAL synchronous_commit TO on; INSERT INTO shardwire.commit_decisions (gid) VALUES ('%s'); COMMIT",
             k->gid);
    for (int i = 0; i < k->n_parts; i++)
        if (k->part[i].coordinator) ask(k, &k->part[i], sql);
    flush_all(c);
}

static void step_finish(sw_client *c)
{
    sw_commit *k = c->commit;
    k->step = SW_COMMIT_FINISHING;
    char sql[256];
    snprintf(sql, sizeof sql, "COMMIT PREPARED '%s'", k->gid);
    for (int i = 0; i < k->n_parts; i++)
        if (k->part[i].state == SW_PART_PREPARED) ask(k, &k->part[i], sql);
    if (k->owed == 0) {
        commit_done(c);
        return;
    }
    flush_all(c);
}

static void step_abort(sw_client *c)
{
    sw_commit *k = c->commit;
    k->step = SW_COMMIT_ABORTING;
    char sql[256];
    snprintf(sql, sizeof sql, "ROLLBACK PREPARED '%s'", k->gid);
    for (int i = 0; i < k->n_parts; i++) {
        sw_cpart *pt = &k->part[i];
        if (pt->state == SW_PART_PREPARED) ask(k, pt, sql);
        else if (pt->state == SW_PART_OPEN || (pt->state == SW_PART_DONE && pt->s->txn_status != 'I'))
            ask(k, pt, "ROLLBACK");
    }
    if (k->owed == 0) {
        commit_done(c);
        return;
    }
    flush_all(c);
}

/* The outcome is known (or known to be unknown): tell the client. */
static void commit_done(sw_client *c)
{
    sw_commit *k = c->commit;
    bool committed = k->step == SW_COMMIT_FINISHING;
    bool leftover = false;
    for (int i = 0; i < k->n_parts; i++) {
        sw_cpart *pt = &k->part[i];
        if (pt->state == SW_PART_LOST || !pt->ok) leftover = true;
    }
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    if (k->ext) {
        sw_build_empty(w, SW_BE_BIND_COMPLETE);
        if (k->described) sw_build_empty(w, SW_BE_NO_DATA);
    }
    if (committed) {
        if (!k->implicit) sw_build_command_complete(w, "COMMIT");
        else if (k->tag[0]) sw_build_command_complete(w, k->tag);
    } else if (k->client_erred) {
        /* the statement's own error was the answer */
    } else if (k->unknown) {
        char msg[400];
        snprintf(msg, sizeof msg,
                 "the connection to the node deciding transaction %s was lost during COMMIT: its outcome will be "
                 "settled by recovery",
                 k->gid);
        sw_build_error(w, 'E', "ERROR", "08007", msg, NULL, NULL);
    } else if (k->error) {
        sw_wbuf_put(w, k->error, k->error_len);
    } else {
        sw_build_error(w, 'E', "ERROR", k->fail_state[0] ? k->fail_state : "40000",
                       k->fail_state[0] ? k->fail_msg : "the transaction was rolled back", NULL, NULL);
    }
    sw_build_ready(w, 'I');
    sw_out_gen_done(&c->c, start);
    if (committed) sw_debug("client %s pid=%d: %s committed", c->addr, c->pid, k->gid);
    else sw_info("client %s pid=%d: two-phase commit %s %s", c->addr, c->pid, k->gid,
                 k->unknown ? "lost its coordinator: left to recovery" : "rolled back");
    if (leftover || k->unknown) sw_recover_soon();
    c->txn_status = 'I';
    c->txn_failed = !committed;
    sw_client_txn_clear(c);
    sw_settle_sessops(c, NULL);
    free(k->error);
    free(k);
    c->commit = NULL;
}

void sw_commit_reply(sw_client *c, sw_server *s, uint8_t type, const uint8_t *p, uint32_t total)
{
    sw_commit *k = c->commit;
    if (!k) {
        sw_server_fault(s, "08P01", "a reply to a commit request outside a commit");
        return;
    }
    sw_cpart *pt = NULL;
    for (int i = 0; i < k->n_parts; i++)
        if (k->part[i].s == s) pt = &k->part[i];
    if (!pt || pt->state != SW_PART_ASKED) {
        sw_server_fault(s, "08P01", "a reply to a commit request no one asked");
        return;
    }
    switch (type) {
    case SW_BE_ERROR:
        if (!k->error && !k->fail_state[0] && k->step != SW_COMMIT_FINISHING && k->step != SW_COMMIT_ABORTING) {
            k->error = malloc(total);
            if (k->error) {
                memcpy(k->error, p, total);
                k->error_len = total;
            } else {
                set_failure(k, "53200", "out of memory (node %s failed the commit)", s->pool->node_name);
            }
        }
        if (k->step == SW_COMMIT_FINISHING || k->step == SW_COMMIT_ABORTING) {
            sw_error_fields ef;
            if (sw_error_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &ef) < 0) memset(&ef, 0, sizeof ef);
            sw_warn("commit %s on node %s: %s (left to recovery)", k->gid, s->pool->node_name,
                    ef.message ? ef.message : "error");
        }
        return;
    case SW_BE_COMMAND_COMPLETE: {
        size_t n = total > SW_HDR_LEN ? strnlen((const char *)p + SW_HDR_LEN, total - SW_HDR_LEN) : 0;
        if (n >= sizeof pt->tag) n = sizeof pt->tag - 1;
        memcpy(pt->tag, p + SW_HDR_LEN, n);
        pt->tag[n] = 0;
        return;
    }
    case SW_BE_READY:
        break;
    default:
        return;  /* rows of nothing; a notice */
    }
    char status = total > SW_HDR_LEN ? (char)p[SW_HDR_LEN] : '?';
    k->owed--;
    switch (k->step) {
    case SW_COMMIT_PREPARING:
        pt->ok = status == 'I' && strcmp(pt->tag, pt->wrote ? "PREPARE TRANSACTION" : "COMMIT") == 0;
        pt->state = pt->ok && pt->wrote ? SW_PART_PREPARED : SW_PART_DONE;
        if (!pt->ok && status == 'I' && pt->wrote && !k->error)
            set_failure(k, "40000", "node %s rolled back its part of the transaction", s->pool->node_name);
        break;
    case SW_COMMIT_DECIDING:
        pt->ok = status == 'I' && strcmp(pt->tag, "COMMIT") == 0;
        pt->state = status == 'I' ? SW_PART_DONE : SW_PART_OPEN;  /* an error leaves it to roll back */
        if (!pt->ok && !k->error)
            set_failure(k, "40000", "node %s could not record the commit decision", s->pool->node_name);
        break;
    case SW_COMMIT_FINISHING:
    case SW_COMMIT_ABORTING:
        pt->ok = status == 'I';
        pt->state = SW_PART_DONE;
        if (k->step == SW_COMMIT_FINISHING) test_stop("finishing");
        break;
    }
    if (k->owed == 0) step_complete(c);
}

bool sw_commit_server_lost(sw_client *c, sw_server *s)
{
    sw_commit *k = c->commit;
    if (!k) return false;
    sw_cpart *pt = NULL;
    for (int i = 0; i < k->n_parts; i++)
        if (k->part[i].s == s) pt = &k->part[i];
    if (!pt) return false;
    bool was_asked = pt->state == SW_PART_ASKED;
    pt->state = SW_PART_LOST;
    pt->s = NULL;
    int node = pt->node;
    if (c->link[node] == s) {
        c->link[node] = NULL;
        c->link_mask &= ~((uint64_t)1 << node);
        c->n_links--;
    }
    if (c->server == s) c->server = NULL;
    s->client = NULL;
    sw_warn("commit %s: lost node %s while %s", k->gid, s->pool->node_name, step_names[k->step]);
    if (k->step == SW_COMMIT_PREPARING && (pt->wrote || pt->coordinator))
        set_failure(k, "08006", "connection to node %s lost during COMMIT: the transaction was rolled back",
                    s->pool->node_name);
    if (pt->coordinator && k->step == SW_COMMIT_PREPARING && !was_asked) {
        /* the coordinator's own transaction is gone: nothing can be decided;
         * the others roll back once they have answered */
        if (k->owed == 0) step_abort(c);
    } else if (was_asked) {
        k->owed--;
        if (k->owed == 0) step_complete(c);
    }
    if (c->commit == NULL) sw_client_after_reply(c);
    return true;
}

void sw_commit_abandon(sw_client *c)
{
    sw_commit *k = c->commit;
    if (!k) return;
    sw_warn("client %s pid=%d went away during commit %s (%s): left to recovery", c->addr, c->pid, k->gid,
            step_names[k->step]);
    sw_recover_soon();
    free(k->error);
    free(k);
    c->commit = NULL;
}
