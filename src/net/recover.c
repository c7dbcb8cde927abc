/*
 * recover.c - settling prepared transactions that two-phase commits left
 * behind (commit.c): at startup, every transactions.recovery_interval, and
 * soon after a commit lost a participant or its client.
 *
 * A run happens on a worker thread of the libuv pool with libpq, from a
 * snapshot of the configuration and of the commits this process has in
 * flight, so the loop never waits for it.  For every node it lists
 * pg_prepared_xacts with shardwire's "sw:" IDs; a prepared transaction
 * that may no longer be waiting for its decision (another process of this
 * instance, a commit of this process that is over, or another instance's
 * older than recovery_min_age) is settled by its coordinator's
 * shardwire.commit_decisions:
 *
 *   INSERT (gid, committed = false) ... ON CONFLICT DO NOTHING
 *
 * either finds the commit's own row (committed: COMMIT PREPARED), or, when
 * there is none, records the abort - a deciding transaction still in flight
 * makes the INSERT wait for it, and one that comes later fails on the row -
 * so the decision can never change afterwards (ROLLBACK PREPARED).  The
 * same run creates the decision table where it is missing, warns when a
 * node's max_prepared_transactions is 0, and prunes decisions no prepared
 * transaction needs any more.  SHOW TRANSACTIONS reports the last run.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

#define MAX_INFLIGHT 256
#define MAX_FOUND 512
#define MAX_FORCED 16

/* One prepared transaction a run found. */
typedef struct found {
    int node;
    char gid[200];
    int64_t age_ms;
    char action[96];       /* what became of it */
} found;

typedef struct job {
    uv_work_t req;
    int n_nodes;
    struct {
        char name[64];
        char conninfo[600];
        bool ready;        /* decision table known to exist */
        bool spread_ready; /* sequence spreading installed */
        char *spread_want; /* sw_spread_want's list for the node */
        int spread_changed;
        bool reached;
        int max_prepared;  /* -1 unknown */
    } nodes[SW_MAX_NODES];
    char instance[64];
    char boot[24];         /* this process's start, as in its IDs */
    uint64_t last_seq;     /* commits started before the snapshot */
    int64_t min_age_ms;
    char inflight[MAX_INFLIGHT][200];
    int n_inflight;
    struct { char gid[200]; bool commit; char result[160]; } forced[MAX_FORCED];
    int n_forced;
    found found[MAX_FOUND];
    int n_found;
    char log[4096];        /* messages for the loop thread to log */
    size_t log_len;
} job;

static struct {
    bool running;
    bool again;            /* asked for while running: one more run after it */
    bool table_ready[SW_MAX_NODES];
    bool spread_ready[SW_MAX_NODES];
    uv_timer_t timer, soon;
    bool timers;
    /* the last run's report */
    found last[MAX_FOUND];
    int n_last;
    uint64_t last_run_ms;
    uint64_t runs, committed, rolled_back;
    /* operator decisions waiting for the next run */
    struct { char gid[200]; bool commit; } forced[MAX_FORCED];
    int n_forced;
    char forced_result[MAX_FORCED][200];
    int n_forced_result;
} rec;

static void job_log(job *j, const char *fmt, const char *a, const char *b, const char *c)
{
    if (j->log_len >= sizeof j->log - 1) return;
    int n = snprintf(j->log + j->log_len, sizeof j->log - j->log_len, fmt, a, b ? b : "", c ? c : "");
    if (n > 0) j->log_len += (size_t)n;
    if (j->log_len < sizeof j->log - 1) j->log[j->log_len++] = '\n';
    if (j->log_len >= sizeof j->log) j->log_len = sizeof j->log - 1;
    j->log[j->log_len] = 0;
}

static PGresult *exec1(PGconn *pc, const char *sql, const char *param)
{
    const char *params[1] = {param};
    return PQexecParams(pc, sql, param ? 1 : 0, NULL, param ? params : NULL, NULL, NULL, 0);
}

static bool ok_cmd(PGresult *r) { return PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK; }

/* The decision table, where the coordinator records commits. */
static const char decisions_ddl[] =
    "CREATE SCHEMA IF NOT EXISTS shardwire;"
    "CREATE TABLE IF NOT EXISTS shardwire.commit_decisions ("
    " gid text PRIMARY KEY, committed boolean NOT NULL DEFAULT true,"
    " decided_at timestamptz NOT NULL DEFAULT now());"
    "GRANT USAGE ON SCHEMA shardwire TO PUBLIC;"
    "GRANT SELECT, INSERT ON shardwire.commit_decisions TO PUBLIC";

static void node_setup(job *j, int i, PGconn *pc)
{
    PGresult *r = PQexec(pc, "SHOW max_prepared_transactions");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) j->nodes[i].max_prepared = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (j->nodes[i].max_prepared == 0)
        job_log(j, "W node %s: max_prepared_transactions is 0, so transactions that write on several nodes cannot "
                   "commit (set it to at least max_connections on every node, or turn two_phase off)",
                j->nodes[i].name, NULL, NULL);
    if (j->nodes[i].spread_want) {
        char msg[512];
        j->nodes[i].spread_changed = sw_spread_node(pc, !j->nodes[i].spread_ready, j->nodes[i].spread_want, msg, sizeof msg);
        if (msg[0]) job_log(j, "W node %s: %s", j->nodes[i].name, msg, NULL);
        if (j->nodes[i].spread_changed >= 0) j->nodes[i].spread_ready = true;
    }
    if (j->nodes[i].ready) return;
    r = PQexec(pc, decisions_ddl);
    if (ok_cmd(r)) {
        j->nodes[i].ready = true;
    } else {
        /* two instances creating it at once: one of them wins */
        char *m = PQresultErrorMessage(r);
        job_log(j, "W node %s: could not create shardwire.commit_decisions: %s", j->nodes[i].name, m, NULL);
    }
    PQclear(r);
}

/* Is the commit that made gid possibly still deciding? */
static bool may_be_in_flight(const job *j, const char *gid, int64_t age_ms)
{
    char inst[64], coord[64], boot[24];
    unsigned long long seq;
    if (sscanf(gid, "sw:%63[^:]:%63[^:]:%23[^:]:%llu", inst, coord, boot, &seq) != 4) return true;
    if (strcmp(inst, j->instance) != 0) return age_ms < j->min_age_ms;  /* another instance's */
    if (strcmp(boot, j->boot) != 0) return false;  /* an earlier process of this instance */
    if (seq > j->last_seq) return true;             /* started after the snapshot */
    for (int i = 0; i < j->n_inflight; i++)
        if (strcmp(j->inflight[i], gid) == 0) return true;
    return false;
}

static int node_by_name(const job *j, const char *name)
{
    for (int i = 0; i < j->n_nodes; i++)
        if (strcmp(j->nodes[i].name, name) == 0) return i;
    return -1;
}

/* The decision for gid, made final: 1 commit, 0 roll back, -1 unknown now.
 * forced: an operator's decision for a transaction that has none yet. */
static int decide(job *j, PGconn *coord, const char *gid, int forced, char *why, size_t whysz)
{
    PGresult *r = PQexec(coord, "SET lock_timeout = '3s'");
    PQclear(r);
    const char *params[2] = {gid, forced == 1 ? "true" : "false"};
    r = PQexecParams(coord,
                     "INSERT INTO shardwire.commit_decisions (gid, committed) VALUES ($1, $2::boolean) "
                     "ON CONFLICT (gid) DO NOTHING",
                     2, NULL, params, NULL, NULL, 0);
    if (!ok_cmd(r)) {
        snprintf(why, whysz, "%s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    r = exec1(coord, "SELECT committed FROM shardwire.commit_decisions WHERE gid = $1", gid);
    int d = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) d = PQgetvalue(r, 0, 0)[0] == 't';
    else snprintf(why, whysz, "%s", PQresultErrorMessage(r));
    PQclear(r);
    (void)j;
    return d;
}

static void settle(job *j, PGconn **conns, found *f, int forced)
{
    char inst[64], coord_name[64], boot[24];
    unsigned long long seq;
    if (sscanf(f->gid, "sw:%63[^:]:%63[^:]:%23[^:]:%llu", inst, coord_name, boot, &seq) != 4) {
        snprintf(f->action, sizeof f->action, "skipped: not a shardwire transaction ID");
        return;
    }
    int co = node_by_name(j, coord_name);
    if (co < 0 || !conns[co]) {
        snprintf(f->action, sizeof f->action, co < 0 ? "waiting: coordinator %s is not configured"
                                                    : "waiting: coordinator %s unreachable", coord_name);
        return;
    }
    char why[256] = "";
    int d = decide(j, conns[co], f->gid, forced, why, sizeof why);
    if (d < 0) {
        char *nl = strchr(why, '\n');
        if (nl) *nl = 0;
        snprintf(f->action, sizeof f->action, "waiting: %.80s", why);
        return;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "%s PREPARED '%s'", d ? "COMMIT" : "ROLLBACK", f->gid);
    PGresult *r = PQexec(conns[f->node], sql);
    if (PQresultStatus(r) == PGRES_COMMAND_OK || strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : "", "42704") == 0) {
        snprintf(f->action, sizeof f->action, d ? "committed" : "rolled back");
        job_log(j, "I recovery: %s %s", d ? "committed" : "rolled back", f->gid, NULL);
    } else {
        snprintf(f->action, sizeof f->action, "waiting: %.80s", PQresultErrorMessage(r));
        char *nl = strchr(f->action, '\n');
        if (nl) *nl = 0;
    }
    PQclear(r);
}

static void quiet_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static void recover_work(uv_work_t *req)
{
    job *j = req->data;
    PGconn *conns[SW_MAX_NODES] = {0};
    bool all_reached = true;
    for (int i = 0; i < j->n_nodes; i++) {
        j->nodes[i].max_prepared = -1;
        PGconn *pc = PQconnectdb(j->nodes[i].conninfo);
        if (PQstatus(pc) != CONNECTION_OK) {
            PQfinish(pc);
            all_reached = false;
            continue;
        }
        PQsetNoticeProcessor(pc, quiet_notice, NULL);  /* "already exists, skipping" */
        conns[i] = pc;
        j->nodes[i].reached = true;
        node_setup(j, i, pc);
    }
    /* What is prepared, everywhere. */
    for (int i = 0; i < j->n_nodes; i++) {
        if (!conns[i]) continue;
        PGresult *r = PQexec(conns[i],
                             "SELECT gid, (extract(epoch FROM now() - prepared) * 1000)::bigint FROM pg_prepared_xacts "
                             "WHERE gid LIKE 'sw:%' AND database = current_database() ORDER BY prepared");
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            for (int k = 0; k < PQntuples(r) && j->n_found < MAX_FOUND; k++) {
                found *f = &j->found[j->n_found++];
                f->node = i;
                snprintf(f->gid, sizeof f->gid, "%s", PQgetvalue(r, k, 0));
                f->age_ms = atoll(PQgetvalue(r, k, 1));
                f->action[0] = 0;
            }
        } else {
            all_reached = false;
        }
        PQclear(r);
    }
    for (int k = 0; k < j->n_found; k++) {
        found *f = &j->found[k];
        int forced = -1;
        for (int x = 0; x < j->n_forced; x++)
            if (strcmp(j->forced[x].gid, f->gid) == 0) forced = j->forced[x].commit;
        if (forced < 0 && may_be_in_flight(j, f->gid, f->age_ms)) {
            snprintf(f->action, sizeof f->action, "in flight");
            continue;
        }
        settle(j, conns, f, forced < 0 ? 0 : forced);
        if (forced >= 0) {
            for (int x = 0; x < j->n_forced; x++)
                if (strcmp(j->forced[x].gid, f->gid) == 0)
                    snprintf(j->forced[x].result, sizeof j->forced[x].result, "%s", f->action);
        }
    }
    /* Decisions no prepared transaction needs: every node was listed, and
     * an hour is far longer than any commit takes to prepare. */
    if (all_reached) {
        size_t cap = 16;
        for (int k = 0; k < j->n_found; k++) cap += strlen(j->found[k].gid) + 3;
        char *arr = malloc(cap);
        if (arr) {
            size_t n = 0;
            arr[n++] = '{';
            for (int k = 0; k < j->n_found; k++)
                n += (size_t)sprintf(arr + n, "%s\"%s\"", k ? "," : "", j->found[k].gid);
            arr[n++] = '}';
            arr[n] = 0;
            for (int i = 0; i < j->n_nodes; i++) {
                if (!conns[i] || !j->nodes[i].ready) continue;
                PGresult *r = exec1(conns[i],
                                    "DELETE FROM shardwire.commit_decisions WHERE decided_at < now() - interval '1 hour' "
                                    "AND gid <> ALL ($1::text[])",
                                    arr);
                PQclear(r);
            }
            free(arr);
        }
    }
    for (int x = 0; x < j->n_forced; x++)
        if (!j->forced[x].result[0]) snprintf(j->forced[x].result, sizeof j->forced[x].result, "not prepared on any reachable node");
    for (int i = 0; i < j->n_nodes; i++)
        if (conns[i]) PQfinish(conns[i]);
}

static void recover_start(void);

static void recover_done(uv_work_t *req, int status)
{
    job *j = req->data;
    (void)status;
    for (char *line = j->log, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (line[0] == 'W') sw_warn("%s", line + 2);
        else sw_info("%s", line + 2);
    }
    for (int i = 0; i < j->n_nodes && i < SW_MAX_NODES; i++) {
        if (j->nodes[i].ready) rec.table_ready[i] = true;
        if (j->nodes[i].spread_ready) rec.spread_ready[i] = true;
        if (j->nodes[i].spread_changed > 0)
            sw_info("node %s: %d sequence(s) of sharded tables spread", j->nodes[i].name, j->nodes[i].spread_changed);
        free(j->nodes[i].spread_want);
    }
    memcpy(rec.last, j->found, sizeof j->found[0] * (size_t)j->n_found);
    rec.n_last = j->n_found;
    for (int k = 0; k < j->n_found; k++) {
        if (strcmp(j->found[k].action, "committed") == 0) rec.committed++;
        if (strcmp(j->found[k].action, "rolled back") == 0) rec.rolled_back++;
    }
    for (int x = 0; x < j->n_forced; x++)
        sw_info("RESOLVE %s %s: %s", j->forced[x].gid, j->forced[x].commit ? "COMMIT" : "ROLLBACK",
                j->forced[x].result);
    rec.last_run_ms = sw_wall_ms();
    rec.runs++;
    rec.running = false;
    free(j);
    if (rec.again && !sw_g.shutting_down) {
        rec.again = false;
        recover_start();
    }
}

/* The node's list of tables to spread, or NULL (none, or out of memory:
 * the next run tries again). */
static char *spread_list(const sw_conf *conf, int node)
{
    for (size_t cap = 4096; cap <= (64u << 20); cap *= 4) {
        char *buf = malloc(cap);
        if (!buf) return NULL;
        if (sw_spread_want(conf, node, buf, cap)) return buf;
        free(buf);
    }
    return NULL;
}

static void recover_start(void)
{
    if (rec.running) {
        rec.again = true;
        return;
    }
    const sw_conf *conf = sw_g.conf;
    if (!conf) return;
    job *j = calloc(1, sizeof *j);
    if (!j) return;  /* the next period tries again */
    j->n_nodes = conf->n_nodes < SW_MAX_NODES ? conf->n_nodes : SW_MAX_NODES;
    for (int i = 0; i < j->n_nodes; i++) {
        snprintf(j->nodes[i].name, sizeof j->nodes[i].name, "%s", conf->nodes[i].name);
        sw_node_conninfo(&conf->nodes[i], j->nodes[i].conninfo, sizeof j->nodes[i].conninfo);
        j->nodes[i].ready = rec.table_ready[i];
        j->nodes[i].spread_ready = rec.spread_ready[i];
        j->nodes[i].spread_want = spread_list(conf, i);
    }
    snprintf(j->instance, sizeof j->instance, "%s", conf->instance ? conf->instance : "shardwire");
    snprintf(j->boot, sizeof j->boot, "%llx", (unsigned long long)sw_commit_boot_ms());
    j->last_seq = sw_commit_last_seq();
    j->min_age_ms = conf->recovery_min_age_ms;
    for (sw_client *c = sw_g.clients; c && j->n_inflight < MAX_INFLIGHT; c = c->next)
        if (c->commit) snprintf(j->inflight[j->n_inflight++], sizeof j->inflight[0], "%s", sw_commit_gid(c));
    for (int x = 0; x < rec.n_forced; x++) {
        snprintf(j->forced[x].gid, sizeof j->forced[x].gid, "%s", rec.forced[x].gid);
        j->forced[x].commit = rec.forced[x].commit;
    }
    j->n_forced = rec.n_forced;
    rec.n_forced = 0;
    j->req.data = j;
    if (uv_queue_work(sw_g.loop, &j->req, recover_work, recover_done) != 0) {
        for (int i = 0; i < j->n_nodes; i++) free(j->nodes[i].spread_want);
        free(j);
        return;
    }
    rec.running = true;
}

static void timer_cb(uv_timer_t *t)
{
    (void)t;
    if (!sw_g.shutting_down) recover_start();
}

void sw_recover_init(void)
{
    if (rec.timers) return;
    uv_timer_init(sw_g.loop, &rec.timer);
    uv_timer_init(sw_g.loop, &rec.soon);
    rec.timers = true;
    uint64_t every = sw_g.conf && sw_g.conf->recovery_interval_ms > 0 ? (uint64_t)sw_g.conf->recovery_interval_ms : 30000;
    uv_timer_start(&rec.timer, timer_cb, 0, every);
}

void sw_recover_reconfigure(void)
{
    if (!rec.timers) return;
    uint64_t every = sw_g.conf->recovery_interval_ms > 0 ? (uint64_t)sw_g.conf->recovery_interval_ms : 30000;
    uv_timer_start(&rec.timer, timer_cb, every, every);
}

void sw_recover_soon(void)
{
    if (!rec.timers || sw_g.shutting_down) return;
    uv_timer_start(&rec.soon, timer_cb, 200, 0);
}

void sw_recover_stop(void)
{
    if (!rec.timers) return;
    uv_timer_stop(&rec.timer);
    uv_timer_stop(&rec.soon);
    uv_close((uv_handle_t *)&rec.timer, NULL);
    uv_close((uv_handle_t *)&rec.soon, NULL);
    rec.timers = false;
}

int sw_recover_force(const char *gid, bool commit)
{
    if (rec.n_forced >= MAX_FORCED) return -1;
    snprintf(rec.forced[rec.n_forced].gid, sizeof rec.forced[0].gid, "%s", gid);
    rec.forced[rec.n_forced].commit = commit;
    rec.n_forced++;
    recover_start();
    return 0;
}

int sw_recover_report(sw_admin_txn_row *rows, int max)
{
    int n = 0;
    uint64_t now = sw_now_ms();
    for (sw_client *c = sw_g.clients; c && n < max; c = c->next) {
        if (!c->commit) continue;
        sw_admin_txn_row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        snprintf(r->gid, sizeof r->gid, "%s", sw_commit_gid(c));
        snprintf(r->node, sizeof r->node, "%s", "");
        snprintf(r->state, sizeof r->state, "committing (%s)", sw_commit_step_name(c));
        r->age_ms = (int64_t)(now - sw_commit_started_ms(c));
    }
    const sw_conf *conf = sw_g.conf;
    for (int k = 0; k < rec.n_last && n < max; k++) {
        const found *f = &rec.last[k];
        if (strcmp(f->action, "committed") == 0 || strcmp(f->action, "rolled back") == 0) continue;
        sw_admin_txn_row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        snprintf(r->gid, sizeof r->gid, "%s", f->gid);
        snprintf(r->node, sizeof r->node, "%s", conf && f->node < conf->n_nodes ? conf->nodes[f->node].name : "?");
        snprintf(r->state, sizeof r->state, "prepared, %s", f->action);
        r->age_ms = f->age_ms;
    }
    return n;
}
