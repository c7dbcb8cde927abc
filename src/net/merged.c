/*
 * merged.c - a SELECT fanned out to several shards whose answers are merged
 * (ORDER BY, LIMIT, aggregates...; or plainly concatenated as they arrive).
 *
 * Starting one: the statement is planned once (src/route/merge_*.c: the
 * text each shard runs and how their rows combine), LIMIT/OFFSET values are
 * bound, and every target gets its copy.
 *
 * Unlike the in-turn fan-out of fanout.c, every target is read at once: each
 * server's messages are taken from its buffer and handed to the merger
 * (src/exec/merge.c), which copies the rows it needs; the client receives
 * what the merger writes.  Backpressure runs both ways: a server whose next
 * row the merger cannot take yet (its queue is full while it waits for the
 * others in the k-way merge) is not read, and while the client's write is
 * in flight nothing more is generated for it; the write callback and each
 * server's new data start the pump again.
 *
 * Target i of the fan is the i-th statement sent; a server holding several
 * targets (table-suffix parts on one node) answers them in order, so its
 * messages belong to its first target that has not sent ReadyForQuery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"
#include "sw/log.h"
#include "sw/merge.h"

#define EMIT_CHUNK (64 * 1024)

/* ---------------------------------------------------------------- starting a merge */

const char *sw_merge_key_of(void *ctx, const char *schema, const char *relname, bool id)
{
    sw_client *c = ctx;
    return id ? sw_router_id_of(c->router, c->database, schema, relname)
              : sw_router_key_of(c->router, c->database, schema, relname);
}

/* Nothing to merge: rows are concatenated as they arrive. */
static const sw_merge_spec concat_spec;

static sw_merge_limits merge_limits(void)
{
    sw_merge_limits l;
    l.max_rows = sw_g.conf->merge_max_rows > 0 ? (uint64_t)sw_g.conf->merge_max_rows : 0;
    l.max_bytes = sw_g.conf->merge_max_bytes;
    return l;
}

/* A LIMIT/OFFSET value: the constant, or its Bind parameter.  -1: none. */
static int64_t limit_value(const sw_mlimit *l, const sw_route_in *in, bool *bad)
{
    if (!l->present) return -1;
    if (l->param < 0) return l->value < 0 ? 0 : l->value;
    if (l->param >= in->nparams || !in->param_values[l->param]) return -1;  /* LIMIT NULL: none */
    const uint8_t *v = in->param_values[l->param];
    int32_t len = in->param_lens[l->param];
    int64_t x = 0;
    if (in->param_formats[l->param] == 1) {
        if (len == 8) x = (int64_t)(((uint64_t)sw_be32(v) << 32) | sw_be32(v + 4));
        else if (len == 4) x = (int32_t)sw_be32(v);
        else *bad = true;
    } else {
        char buf[32];
        if (len <= 0 || len >= (int32_t)sizeof buf) {
            *bad = true;
            return -1;
        }
        memcpy(buf, v, (size_t)len);
        buf[len] = 0;
        char *end;
        x = strtoll(buf, &end, 10);
        if (*end) *bad = true;
    }
    return x < 0 ? 0 : x;
}

/* Begin a merged fan-out over the linked servers of t (spec NULL:
 * concatenation).  spec_owned: freed with the fan. */
int sw_merge_begin(sw_client *c, const sw_merge_spec *spec, sw_merge_spec *spec_owned, int n,
                   const sw_route_in *in)
{
    if (!spec) spec = &concat_spec;
    bool bad = false;
    int64_t limit = limit_value(&spec->limit, in, &bad);
    int64_t offset = limit_value(&spec->offset, in, &bad);
    if (bad) {
        sw_merge_spec_free(spec_owned);
        return 0;
    }
    sw_fan_begin(c);
    sw_merge_limits lim = merge_limits();
    c->fan.merge = sw_merge_new(spec, n, limit, offset, &lim);
    c->fan.spec_owned = spec_owned;
    if (!c->fan.merge) {
        sw_merge_spec_free(spec_owned);
        c->fan.spec_owned = NULL;
        return -1;
    }
    return 1;
}

/* Every target has its copy queued: read them all at once. */
void sw_merge_launch(sw_client *c)
{
    c->server = c->fan.srv[0];
    c->fan.kind = SW_FAN_MERGE;
    c->fan.cur = 0;
    for (int i = 0; i < c->fan.n; i++) {
        sw_server *s = c->fan.srv[i];
        if (i > 0 && s == c->fan.srv[i - 1]) continue;
        if (sw_out_flush(&s->c) < 0) sw_server_close(s, "write to server failed");
        else if (!s->c.closing) sw_conn_read_start(&s->c);
    }
}

/* Plan the merge of a SELECT for each target text.  specs/sqls: per
 * target (sqls[i] NULL: the target's text unchanged).  0, or -1 with the
 * client's error in state/msg. */
int sw_merge_plan_targets(sw_client *c, const sw_route_target *t, int n, const char *sql, size_t len,
                              sw_merge_spec **spec, char **sqls, char state[6], char *msg, size_t msgsz)
{
    *spec = NULL;
    for (int i = 0; i < n; i++) sqls[i] = NULL;
    bool per_target = false;
    for (int i = 0; i < n; i++) per_target |= t[i].sql != NULL;
    for (int i = 0; i < (per_target ? n : 1); i++) {
        const char *text = t[i].sql ? t[i].sql : sql;
        size_t tl = t[i].sql ? strlen(t[i].sql) : len;
        sw_merge_spec *sp = NULL;
        char *ss = NULL;
        int r = sw_merge_plan(text, tl, sw_merge_key_of, c, &sp, &ss, state, msg, msgsz);
        if (r < 0) {
            for (int k = 0; k < n; k++) free(sqls[k]);
            sw_merge_spec_free(*spec);
            *spec = NULL;
            return -1;
        }
        if (i == 0) *spec = sp;
        else sw_merge_spec_free(sp);
        sqls[i] = ss;
    }
    if (!per_target)
        for (int i = 1; i < n; i++) {
            sqls[i] = sqls[0] ? strdup(sqls[0]) : NULL;
            if (sqls[0] && !sqls[i]) {
                /* never send a shard the unrewritten text instead */
                for (int k = 0; k < i; k++) free(sqls[k]);
                sw_merge_spec_free(*spec);
                *spec = NULL;
                memcpy(state, "53200", 6);
                snprintf(msg, msgsz, "out of memory");
                return -1;
            }
        }
    return 0;
}

/* A simple-protocol SELECT on several shards, merged. */
int sw_merge_query(sw_client *c, const sw_route_target *t, int n, const char *sql, size_t len)
{
    if (!sw_client_link_all(c, t, n)) return SW_MSG_WAIT;
    char state[6], msg[300];
    sw_merge_spec *spec;
    char *sqls[SW_MAX_NODES * 2];
    if (sw_merge_plan_targets(c, t, n, sql, len, &spec, sqls, state, msg, sizeof msg) < 0) {
        sw_local_error(c, state, msg);
        return SW_MSG_DONE;
    }
    sw_route_in in = sw_client_route_in(c);
    int begun = sw_merge_begin(c, spec, spec, n, &in);
    if (begun <= 0) {
        for (int i = 0; i < n; i++) free(sqls[i]);
        if (begun < 0) sw_local_error(c, "53200", "out of memory");
        else sw_local_error(c, "0A000", "LIMIT/OFFSET of a cross-shard query must be constants or parameters");
        return SW_MSG_DONE;
    }
    for (int i = 0; i < n; i++) {
        sw_server *s = c->link[t[i].node];
        const char *q = sqls[i] ? sqls[i] : (t[i].sql ? t[i].sql : sql);
        size_t ql = sqls[i] || t[i].sql ? strlen(q) : len;
        sw_wbuf *w = sw_out_gen(&s->c);
        size_t start = w->len;
        sw_build_query(w, q, ql);
        sw_out_gen_done(&s->c, start);
        sw_owe(s, SW_OWE_QUERY, false);
        c->fan.srv[c->fan.n++] = s;
        free(sqls[i]);
    }
    sw_merge_launch(c);
    return SW_MSG_DONE;
}

/* A write on several shards whose subqueries or joins would read only
 * each shard's rows (sw_merge_check_write): true, with the client's error
 * in state/msg. */
bool sw_write_refused(sw_client *c, sw_stmt_kind kind, const char *sql, size_t len, char state[6], char *msg,
                          size_t msgsz)
{
    if (kind != SW_SK_UPDATE && kind != SW_SK_DELETE && kind != SW_SK_INSERT) return false;
    return sw_merge_check_write(sql, len, sw_merge_key_of, c, state, msg, msgsz) < 0;
}

/* The statement's merge plan under the current router (made once). */
sw_stmt_merge *sw_stmt_merge_of(sw_client *c, sw_stmt *st)
{
    if (st->merge && st->merge->router == c->router) return st->merge;
    sw_stmt_merge_free(st->merge);
    st->merge = calloc(1, sizeof *st->merge);
    if (!st->merge) return NULL;
    sw_stmt_merge *mp = st->merge;
    mp->router = c->router;
    char msg[300];
    mp->rc = sw_merge_plan(st->query, st->query_len, sw_merge_key_of, c, &mp->spec, &mp->sql, mp->sqlstate, msg,
                           sizeof msg);
    if (mp->rc < 0) mp->msg = strdup(msg);
    return mp;
}


/* ---------------------------------------------------------------- running it */

static int target_of(const sw_client *c, const sw_server *s)
{
    const sw_fan *f = &c->fan;
    for (int i = 0; i < f->n; i++)
        if (f->srv[i] == s && !f->replied[i]) return i;
    return -1;
}

static bool all_replied(const sw_client *c)
{
    for (int i = 0; i < c->fan.n; i++)
        if (!c->fan.replied[i]) return false;
    return true;
}

static void copy_to_client(sw_client *c, const uint8_t *p, uint32_t total)
{
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    sw_wbuf_put(w, p, total);
    sw_out_gen_done(&c->c, start);
}

/* The merger failed: its error goes to the client once, the rest drains. */
static void merge_failed(sw_client *c)
{
    sw_fan *f = &c->fan;
    if (f->failure != SW_FAN_FINE) {  /* an error reached the client already */
        f->failure = SW_FAN_MERGE_FAILED;
        return;
    }
    char state[6] = "XX000";
    const char *msg = sw_merge_failed(f->merge, state);
    f->failure = SW_FAN_MERGE_FAILED;
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    sw_build_error(w, SW_BE_ERROR, "ERROR", state, msg ? msg : "cross-shard merge failed", NULL, NULL);
    sw_out_gen_done(&c->c, start);
    sw_warn("client %s: %s", c->addr, msg ? msg : "cross-shard merge failed");
}

void sw_merged_filter(sw_client *c, sw_server *s, uint8_t type, const uint8_t *p, uint32_t total, bool hidden)
{
    sw_fan *f = &c->fan;
    if (hidden) {  /* a notice during a hidden step */
        copy_to_client(c, p, total);
        return;
    }
    int i = target_of(c, s);
    const uint8_t *body = p + SW_HDR_LEN;
    uint32_t blen = total - SW_HDR_LEN;
    switch (type) {
    case SW_BE_DATA_ROW:
        if (f->failure != SW_FAN_FINE || i < 0) return;
        if (sw_merge_row(f->merge, i, body, blen) < 0) merge_failed(c);
        return;
    case SW_BE_ROW_DESC:
        if (f->failure != SW_FAN_FINE || i < 0) return;
        if (sw_merge_describe(f->merge, i, body, blen) < 0) {
            merge_failed(c);
            return;
        }
        if (!f->described[i]) {
            f->described[i] = true;
            f->n_described++;
        }
        if (f->n_described < f->n) return;  /* a target may still fail the statement */
        if (!(f->once & SW_FAN_ONCE_DESC) && !f->swallow_desc) {
            sw_wbuf *w = sw_out_gen(&c->c);
            size_t start = w->len;
            sw_merge_put_description(f->merge, w);
            sw_out_gen_done(&c->c, start);
        }
        f->once |= SW_FAN_ONCE_DESC;
        return;
    case SW_BE_COMMAND_COMPLETE:
    case SW_BE_PORTAL_SUSPENDED:
        if (i >= 0) sw_merge_end(f->merge, i);
        if (!f->tag[0]) snprintf(f->tag, sizeof f->tag, "SELECT");
        return;
    case SW_BE_ERROR:
        if (i >= 0) sw_merge_end(f->merge, i);
        if (f->failure != SW_FAN_FINE) return;
        f->failure = SW_FAN_SERVER_FAILED;
        copy_to_client(c, p, total);
        return;
    case SW_BE_READY: {
        char st = total > SW_HDR_LEN ? (char)p[SW_HDR_LEN] : 'I';
        if (st == 'E' || (st == 'T' && f->status != 'E')) f->status = st;
        if (i >= 0) {
            sw_merge_end(f->merge, i);
            f->replied[i] = true;
        }
        return;
    }
    case SW_BE_PARSE_COMPLETE:
        if (!(f->once & SW_FAN_ONCE_PARSE)) copy_to_client(c, p, total);
        f->once |= SW_FAN_ONCE_PARSE;
        return;
    case SW_BE_BIND_COMPLETE:
        if (!(f->once & SW_FAN_ONCE_BIND) && f->failure == SW_FAN_FINE) copy_to_client(c, p, total);
        f->once |= SW_FAN_ONCE_BIND;
        return;
    case SW_BE_PARAM_DESC:
        if (!(f->once & SW_FAN_ONCE_PDESC) && f->failure == SW_FAN_FINE) copy_to_client(c, p, total);
        f->once |= SW_FAN_ONCE_PDESC;
        return;
    case SW_BE_NO_DATA:
    case SW_BE_EMPTY_QUERY:
        if (!(f->once & SW_FAN_ONCE_DESC) && f->failure == SW_FAN_FINE) copy_to_client(c, p, total);
        f->once |= SW_FAN_ONCE_DESC;
        return;
    default:
        copy_to_client(c, p, total);  /* notices, parameter status, notifications */
        return;
    }
}

int sw_server_peek(sw_server *s, sw_msg_hdr *h)
{
    sw_iobuf *b = &s->c.in;
    uint32_t avail = b->recv - b->parse;
    int rc = sw_msg_peek(b->data + b->parse, avail, UINT32_MAX, h);
    if (rc < 0) {
        sw_server_close(s, "invalid message from server");
        return -1;
    }
    if (rc == 0) return 0;
    if (avail >= h->total) return 1;
    if (!sw_server_msg_fits(s, h->total)) return -1;
    if (!sw_iobuf_make_room(&s->c, h->total) && b->done == b->parse) {
        sw_server_close(s, "out of memory for server message");
        return -1;
    }
    return 2;
}

const uint8_t *sw_server_take(sw_server *s, const sw_msg_hdr *h)
{
    sw_iobuf *b = &s->c.in;
    const uint8_t *p = b->data + b->parse;
    b->parse += h->total;
    b->done = b->parse;  /* the owner copies what it keeps: nothing points into b */
    return p;
}

/* Take what s has buffered.  Returns 1 when something was taken, 0 when
 * nothing, -1 when s or c went away; *blocked when s's next row must wait. */
static int take(sw_client *c, sw_server *s, bool *blocked)
{
    sw_fan *f = &c->fan;
    int took = 0;
    *blocked = false;
    while (!s->c.closing && s->client == c && f->kind == SW_FAN_MERGE) {
        sw_msg_hdr h;
        int rc = sw_server_peek(s, &h);
        if (rc < 0) return -1;
        if (rc == 0) break;
        if (h.type == SW_BE_DATA_ROW && f->failure == SW_FAN_FINE) {
            int i = target_of(c, s);
            if (i >= 0 && !sw_merge_satisfied(f->merge) && !sw_merge_wants(f->merge, i)) {
                *blocked = true;
                break;
            }
        }
        if (rc == 2) break;  /* not whole yet */
        const uint8_t *p = sw_server_take(s, &h);
        took = 1;
        sw_relay_server_message(s, c, h.type, p, h.total);
        if (c->c.closing) return -1;
    }
    return took;
}

/* Every target replied and every row is out: end the client's answer. */
static void finish(sw_client *c)
{
    sw_fan *f = &c->fan;
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    char status = f->status;
    if (c->proxy_failed && status == 'T') status = 'E';  /* shardwire failed the transaction */
    if (f->failure == SW_FAN_FINE && f->tag[0]) {
        char tag[64];
        snprintf(tag, sizeof tag, "SELECT %llu", (unsigned long long)sw_merge_rows(f->merge));
        sw_build_command_complete(w, tag);
    }
    if (f->failure == SW_FAN_MERGE_FAILED && status != 'I') {
        /* shardwire failed the statement inside a transaction: like a
         * server would, the transaction is aborted from the client's view */
        c->proxy_failed = true;
        status = 'E';
    }
    sw_build_ready(w, status);
    sw_out_gen_done(&c->c, start);
    size_t peak = sw_merge_peak_bytes(f->merge);
    sw_admin_merge_stats *ms = &sw_g.merge_stats;
    ms->merges++;
    ms->merge_rows += sw_merge_rows(f->merge);
    if (f->failure == SW_FAN_MERGE_FAILED) ms->merge_failed++;
    if (peak > ms->peak_bytes) ms->peak_bytes = peak;
    if (peak > 1024 * 1024)
        sw_info("client %s: cross-shard merge held at most %zu KiB", c->addr, peak / 1024);
    c->txn_status = status;
    sw_merge_free(f->merge);
    f->merge = NULL;
    sw_merge_spec_free(f->spec_owned);
    f->spec_owned = NULL;
    f->kind = SW_FAN_NONE;
}

static void pump(sw_client *c)
{
    sw_fan *f = &c->fan;
    bool blocked[SW_MAX_NODES * 2];
    for (;;) {
        if (f->kind != SW_FAN_MERGE || c->c.closing) return;
        bool progress = false;
        for (int i = 0; i < f->n; i++) {
            sw_server *s = f->srv[i];
            blocked[i] = false;
            bool seen = false;
            for (int j = 0; j < i && !seen; j++) seen = f->srv[j] == s;
            if (seen) continue;
            int r = take(c, s, &blocked[i]);
            if (r < 0 || c->c.closing) return;
            if (r > 0) progress = true;
            if (f->kind != SW_FAN_MERGE) return;
        }
        if (c->c.out.writing) break;  /* the write callback pumps again */
        sw_wbuf *w = sw_out_gen(&c->c);
        size_t start = w->len;
        if (!f->rows_done && f->failure == SW_FAN_FINE && ((f->once & SW_FAN_ONCE_DESC) || all_replied(c))) {
            int rc = sw_merge_emit(f->merge, w, EMIT_CHUNK);
            if (rc == 1) f->rows_done = true;
            if (rc < 0) {
                sw_out_gen_done(&c->c, start);
                merge_failed(c);
                start = w->len;
            }
        }
        if (w->len > start) progress = true;
        sw_out_gen_done(&c->c, start);
        bool done = all_replied(c) && (f->rows_done || f->failure != SW_FAN_FINE);
        if (done) finish(c);
        if (sw_out_flush(&c->c) < 0) {
            sw_client_close(c, "write failed");
            return;
        }
        if (done) {
            sw_client_after_reply(c);
            return;
        }
        if (!progress) break;
    }
    /* Read only the servers whose rows can be taken. */
    for (int i = 0; i < f->n; i++) {
        sw_server *s = f->srv[i];
        bool seen = false;
        for (int j = 0; j < i && !seen; j++) seen = f->srv[j] == s;
        if (seen || s->c.closing) continue;
        if (blocked[i]) sw_conn_read_stop(&s->c);
        else sw_conn_read_start(&s->c);
    }
}

void sw_merged_server(sw_server *s)
{
    sw_client *c = s->client;
    if (c) pump(c);
}

void sw_merged_drained(sw_client *c)
{
    if (c->fan.kind == SW_FAN_MERGE) pump(c);
}
