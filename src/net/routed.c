/*
 * routed.c - the client side of the data path for databases with a shard
 * map.  Each statement (a Query message, or a Bind with the messages that
 * run its portal) is routed by the router to its node(s):
 *
 * - one node: forwarded straight from the client's buffer to that node's
 *   server, exactly like the unrouted relay, pipelining included;
 * - several nodes: the statement goes to each of them and their replies are
 *   merged into one answer (sw_fan: rows concatenated, counts summed);
 * - no node at all: SET shardwire.*, shardwire_next_id(), BEGIN before
 *   any statement, Parse and Close of statements are answered here.
 *
 * A client holds at most one server per node; all of them stay linked until
 * its transaction ends.  A server joining an open transaction first gets the
 * client's BEGIN.  Switching the node that receives the client's messages,
 * answering locally and fanning out all wait until every linked server has
 * finished replying ("quiescent"), so replies reach the client in order.
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

/* ---------------------------------------------------------------- links */

bool sw_client_quiescent(const sw_client *c)
{
    if (c->fan.active) return false;
    for (int i = 0, seen = 0; seen < c->n_links && i < SW_MAX_NODES; i++) {
        sw_server *s = c->link[i];
        if (!s) continue;
        seen++;
        if (!sw_ledger_quiet(&s->owed) || s->c.stream_left) return false;
    }
    return true;
}

static void clear_txn_state(sw_client *c)
{
    free(c->begin_sql);
    c->begin_sql = NULL;
    free(c->lost_msg);
    c->lost_msg = NULL;
    c->proxy_failed = false;
    if (c->overrides_local) {
        free(c->shard_override);
        free(c->key_override);
        c->shard_override = c->key_override = NULL;
        c->overrides_local = false;
    }
}

void sw_client_unlink(sw_client *c, bool clean)
{
    sw_server *login = c->server;
    if (login && !(login->pool && login->pool->node_index >= 0 && login->pool->node_index < SW_MAX_NODES &&
                   c->link[login->pool->node_index] == login)) {
        /* The server that served the login, never entered as a link. */
        c->server = NULL;
        login->client = NULL;
        sw_pool_release(login, clean && login->txn_status == 'I' && sw_ledger_quiet(&login->owed));
    }
    for (int i = 0; i < SW_MAX_NODES && c->n_links; i++) {
        sw_server *s = c->link[i];
        if (!s) continue;
        c->link[i] = NULL;
        c->n_links--;
        s->client = NULL;
        if (!s->c.reading && !s->c.closing) sw_conn_read_start(&s->c);
        bool ok = clean && s->txn_status == 'I' && sw_ledger_quiet(&s->owed) && !s->c.stream_left;
        sw_pool_release(s, ok);
    }
    c->n_links = 0;
    c->server = NULL;
    c->held = false;
    c->stalled = false;
    sw_merge_free(c->fan.merge);
    sw_merge_spec_free(c->fan.spec_owned);
    memset(&c->fan, 0, sizeof c->fan);
    sw_copyin_free(c->copyin);
    c->copyin = NULL;
    if (c->state == SW_CLIENT_ACTIVE) sw_client_set_state(c, SW_CLIENT_IDLE);
}

/* Replay the client's open transaction on a server that joins it. */
static void send_hidden_query(sw_server *s, const char *sql)
{
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_build_query(w, sql, strlen(sql));
    sw_out_gen_done(&s->c, start);
    sw_owe(s, SW_OWE_QUERY, true);
}

void sw_client_linked(sw_client *c, sw_server *s)
{
    int node = s->pool->node_index;
    if (node < 0 || node >= SW_MAX_NODES) node = 0;
    if (!c->link[node]) c->n_links++;
    c->link[node] = s;
    c->server = s;
    s->client = c;
    sw_settings_sync(c, s);
    if (c->txn_status != 'I') send_hidden_query(s, c->begin_sql ? c->begin_sql : "BEGIN");
}

/* Make node's server current.  True when it is; false when one is being
 * acquired (processing resumes when the pool links it) or on failure. */
bool sw_client_use_node(sw_client *c, int node)
{
    if (node < 0 || node >= SW_MAX_NODES) node = c->node_index;
    if (c->link[node]) {
        c->server = c->link[node];
        return true;
    }
    if (!c->conf_user) c->conf_user = sw_conf_user_find(sw_g.conf, c->user);
    if (!c->conf_user) {
        sw_client_error(c, "FATAL", "28000", "role no longer exists in the configuration", NULL);
        sw_client_close(c, NULL);
        return false;
    }
    sw_pool *p = sw_pool_get(node, c->conf_user);
    if (!p) {
        sw_client_error(c, "ERROR", "53200", "out of memory", NULL);
        return false;
    }
    c->pool = p;
    c->want_node = node;
    sw_client_set_state(c, SW_CLIENT_WAITING);
    c->wait_start_ms = sw_now_ms();
    sw_pool_acquire(p, c);
    if (c->state == SW_CLIENT_WAITING) sw_conn_read_stop(&c->c);
    return false;
}

/* Pick up a reloaded configuration between statements. */
static bool refresh_conf(sw_client *c)
{
    if (c->conf_gen == sw_g.conf_gen) return true;
    const sw_conf_user *u = sw_conf_user_find(sw_g.conf, c->user);
    int node = sw_route_default_node(sw_g.conf, c->database);
    if (!u || node < 0) {
        sw_client_error(c, "FATAL", u ? "3D000" : "28000",
                        u ? "database no longer exists in the configuration"
                          : "role no longer exists in the configuration", NULL);
        sw_client_close(c, NULL);
        return false;
    }
    c->conf_user = u;
    c->node_index = node;
    c->conf_gen = sw_g.conf_gen;
    return true;
}

/* ---------------------------------------------------------------- local replies */

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
static void local_error(sw_client *c, const char *sqlstate, const char *msg)
{
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    sw_build_error(w, 'E', "ERROR", sqlstate, msg, NULL, NULL);
    if (c->txn_status != 'I') {
        c->proxy_failed = true;
        c->txn_status = 'E';
    }
    sw_build_ready(w, c->txn_status);
    sw_out_gen_done(&c->c, start);
}

/* Extended-protocol error: in order with the current server's replies,
 * then the client's messages up to Sync are skipped. */
static void ext_error(sw_client *c, const char *sqlstate, const char *msg)
{
    if (c->server && !sw_ledger_quiet(&c->server->owed)) {
        sw_push_fake_error(c, sqlstate, msg);
    } else {
        sw_wbuf *w = sw_out_gen(&c->c);
        size_t start = w->len;
        sw_build_error(w, 'E', "ERROR", sqlstate, msg, NULL, NULL);
        sw_out_gen_done(&c->c, start);
        c->skip_until_sync = true;
    }
    if (c->txn_status != 'I') c->proxy_failed = true;
}

/* A reply of shardwire's own in an extended-protocol batch. */
static void ext_reply(sw_client *c, uint8_t type, uint64_t name_hash, uint64_t stmt_id)
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
static void local_answer(sw_client *c, const sw_route_out *o)
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

static void local_tag(sw_client *c, const char *tag, char status)
{
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    sw_build_command_complete(w, tag);
    sw_build_ready(w, status);
    sw_out_gen_done(&c->c, start);
    c->txn_status = status;
}

/* ---------------------------------------------------------------- fan-out merge */

static void fan_begin(sw_client *c)
{
    memset(&c->fan, 0, sizeof c->fan);
    c->fan.status = 'I';
}

/* Start the merged reply: every target's server has its copy queued. */
static void fan_start(sw_client *c)
{
    c->fan.active = true;
    c->fan.cur = 0;
    for (int i = 0; i < c->fan.n; i++) {
        sw_server *s = c->fan.srv[i];
        if (s != c->fan.srv[0]) sw_conn_read_stop(&s->c);
    }
}

/* Split "UPDATE 17" / "INSERT 0 5" into the words and the count. */
static bool tag_split(const char *tag, size_t len, size_t *word_len, uint64_t *count)
{
    size_t i = len;
    while (i > 0 && tag[i - 1] >= '0' && tag[i - 1] <= '9') i--;
    if (i == len || i == 0 || tag[i - 1] != ' ') return false;
    *word_len = i - 1;
    *count = strtoull(tag + i, NULL, 10);
    return true;
}

static void fan_finish(sw_client *c)
{
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    if (c->fan.copy_out && !c->fan.error_sent) {
        if (c->fan.copy_trailer) {
            static const uint8_t trailer[2] = {0xff, 0xff};
            sw_msg_header(w, SW_BE_COPY_DATA, 2);
            sw_wbuf_put(w, trailer, 2);
        }
        sw_build_empty(w, SW_BE_COPY_DONE);
    }
    if (!c->fan.error_sent && c->fan.tag[0]) {
        char tag[64];
        if (c->fan.have_count)
            snprintf(tag, sizeof tag, "%s %llu", c->fan.tag, (unsigned long long)c->fan.rows);
        else
            snprintf(tag, sizeof tag, "%s", c->fan.tag);
        sw_build_command_complete(w, tag);
    }
    sw_build_ready(w, c->fan.status);
    sw_out_gen_done(&c->c, start);
    c->txn_status = c->fan.status;
    c->fan.active = false;
}

/* Binary COPY TO from several targets: one file header (the first
 * target's) and one trailer (sent at the end).  PostgreSQL sends the
 * header with the first row and the trailer (-1) as a message of its own.
 * True when the message goes out unchanged. */
static bool copy_binary_data(sw_client *c, bool first, const uint8_t *p, uint32_t total)
{
    sw_fan *f = &c->fan;
    const uint8_t *d = p + SW_HDR_LEN;
    uint32_t dl = total - SW_HDR_LEN;
    bool changed = false;
    if (first && f->cur > 0 && dl >= 19 && memcmp(d, "PGCOPY\n\377\r\n\0", 11) == 0) {
        uint32_t h = 19 + sw_be32(d + 15);
        if (h <= dl) {
            d += h;
            dl -= h;
            changed = true;
        }
    }
    if (dl == 2 && d[0] == 0xff && d[1] == 0xff) {
        f->copy_trailer = true;
        return false;
    }
    if (!changed) return true;
    if (dl > 0) {
        sw_wbuf *w = sw_out_gen(&c->c);
        size_t start = w->len;
        sw_msg_header(w, SW_BE_COPY_DATA, dl);
        sw_wbuf_put(w, d, dl);
        sw_out_gen_done(&c->c, start);
    }
    return false;
}

bool sw_fan_filter(sw_client *c, sw_server *s, uint8_t type, const uint8_t *p, uint32_t total)
{
    sw_fan *f = &c->fan;
    bool *once = NULL;
    switch (type) {
    case SW_BE_PARSE_COMPLETE: once = &f->sent_parse; break;
    case SW_BE_BIND_COMPLETE: once = &f->sent_bind; break;
    case SW_BE_PARAM_DESC: once = &f->sent_pdesc; break;
    case SW_BE_ROW_DESC:
    case SW_BE_NO_DATA:
    case SW_BE_EMPTY_QUERY: once = &f->sent_desc; break;
    case SW_BE_DATA_ROW:
    case SW_BE_PORTAL_SUSPENDED:
        return !f->error_sent;
    case SW_BE_COPY_OUT: once = &f->sent_desc; break;
    case SW_BE_COPY_DATA: {
        bool first = !f->copy_data_seen;
        f->copy_data_seen = true;
        if (f->error_sent) return false;
        if (f->copy_header && f->cur > 0 && first) return false;  /* the header line again */
        if (!f->copy_binary) return true;
        return copy_binary_data(c, first, p, total);
    }
    case SW_BE_COPY_DONE:
        f->copy_out = true;
        return false;
    case SW_BE_ERROR:
        if (f->error_sent) return false;
        f->error_sent = true;
        return true;
    case SW_BE_COMMAND_COMPLETE: {
        const char *tag = (const char *)p + SW_HDR_LEN;
        size_t len = total > SW_HDR_LEN ? strnlen(tag, total - SW_HDR_LEN) : 0;
        size_t wl;
        uint64_t n;
        bool counted = tag_split(tag, len, &wl, &n);
        if (!counted) wl = len;
        if (!f->tag[0] || (wl == 8 && memcmp(tag, "ROLLBACK", 8) == 0)) {
            if (wl >= sizeof f->tag) wl = sizeof f->tag - 1;
            memcpy(f->tag, tag, wl);
            f->tag[wl] = 0;
        }
        if (counted) {
            f->rows += n;
            f->have_count = true;
        }
        return false;
    }
    case SW_BE_READY: {
        char st = total > SW_HDR_LEN ? (char)p[SW_HDR_LEN] : 'I';
        if (st == 'E' || (st == 'T' && f->status != 'E')) f->status = st;
        f->copy_data_seen = false;
        f->cur++;
        if (f->cur >= f->n) fan_finish(c);
        (void)s;
        return false;
    }
    default:
        return true;  /* notices, parameter status, notifications */
    }
    if (*once) return false;
    *once = true;
    return !f->error_sent;
}

/* ---------------------------------------------------------------- statements */

static sw_route_in route_in(sw_client *c)
{
    sw_route_in in;
    memset(&in, 0, sizeof in);
    in.database = c->database;
    in.session.shard = c->shard_override;
    in.session.sharding_key = c->key_override;
    in.now_ms = sw_wall_ms();
    return in;
}

/* Nodes the transaction already holds, as targets (COMMIT, SAVEPOINT...). */
static int link_targets(sw_client *c, sw_route_target *t, int max)
{
    int n = 0;
    for (int i = 0; i < SW_MAX_NODES && n < max; i++)
        if (c->link[i]) t[n++] = (sw_route_target){.node = i, .sql = NULL};
    return n;
}

/* Node for a statement that may run anywhere: where the client already is. */
static int any_node(sw_client *c)
{
    if (c->server) return c->server->pool->node_index;
    for (int i = 0; i < SW_MAX_NODES && c->n_links; i++)
        if (c->link[i]) return i;
    return c->node_index;
}

/* Link a server on every target node.  True when all are linked. */
static bool link_all(sw_client *c, const sw_route_target *t, int n)
{
    for (int i = 0; i < n; i++) {
        if (!c->link[t[i].node]) {
            sw_client_use_node(c, t[i].node);
            return false;
        }
    }
    return true;
}

/* Send a simple query to several targets and merge the answers. */
static void fan_query(sw_client *c, const sw_route_target *t, int n, const char *sql, size_t len)
{
    fan_begin(c);
    for (int i = 0; i < n; i++) {
        sw_server *s = c->link[t[i].node];
        const char *q = t[i].sql ? t[i].sql : sql;
        size_t ql = t[i].sql ? strlen(t[i].sql) : len;
        sw_wbuf *w = sw_out_gen(&s->c);
        size_t start = w->len;
        sw_build_query(w, q, ql);
        sw_out_gen_done(&s->c, start);
        sw_owe(s, SW_OWE_QUERY, false);
        c->fan.srv[c->fan.n++] = s;
    }
    c->server = c->fan.srv[0];
    fan_start(c);
    for (int i = 0; i < n; i++) {
        sw_server *s = c->fan.srv[i];
        if (i > 0 && s == c->fan.srv[i - 1]) continue;
        if (sw_out_flush(&s->c) < 0) sw_server_close(s, "write to server failed");
    }
}


/* ---------------------------------------------------------------- merged fan-out */

static const char *merge_key_of(void *ctx, const char *schema, const char *relname, bool id)
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
static bool merge_begin(sw_client *c, const sw_merge_spec *spec, sw_merge_spec *spec_owned, int n,
                        const sw_route_in *in)
{
    if (!spec) spec = &concat_spec;
    bool bad = false;
    int64_t limit = limit_value(&spec->limit, in, &bad);
    int64_t offset = limit_value(&spec->offset, in, &bad);
    if (bad) {
        sw_merge_spec_free(spec_owned);
        return false;
    }
    fan_begin(c);
    sw_merge_limits lim = merge_limits();
    c->fan.merge = sw_merge_new(spec, n, limit, offset, &lim);
    c->fan.spec_owned = spec_owned;
    if (!c->fan.merge) {
        sw_merge_spec_free(spec_owned);
        c->fan.spec_owned = NULL;
        return false;
    }
    return true;
}

/* Every target has its copy queued: read them all at once. */
static void merge_launch(sw_client *c)
{
    c->server = c->fan.srv[0];
    c->fan.active = true;
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
static int merge_plan_targets(sw_client *c, const sw_route_target *t, int n, const char *sql, size_t len,
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
        int r = sw_merge_plan(text, tl, merge_key_of, c, &sp, &ss, state, msg, msgsz);
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
static int merge_query(sw_client *c, const sw_route_target *t, int n, const char *sql, size_t len)
{
    if (!link_all(c, t, n)) return SW_MSG_WAIT;
    char state[6], msg[300];
    sw_merge_spec *spec;
    char *sqls[SW_MAX_NODES * 2];
    if (merge_plan_targets(c, t, n, sql, len, &spec, sqls, state, msg, sizeof msg) < 0) {
        local_error(c, state, msg);
        return SW_MSG_DONE;
    }
    sw_route_in in = route_in(c);
    if (!merge_begin(c, spec, spec, n, &in)) {
        for (int i = 0; i < n; i++) free(sqls[i]);
        local_error(c, "0A000", "LIMIT/OFFSET of a cross-shard query must be constants or parameters");
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
    merge_launch(c);
    return SW_MSG_DONE;
}

/* A write on several shards whose subqueries or joins would read only
 * each shard's rows (sw_merge_check_write): true, with the client's error
 * in state/msg. */
static bool write_refused(sw_client *c, sw_stmt_kind kind, const char *sql, size_t len, char state[6], char *msg,
                          size_t msgsz)
{
    if (kind != SW_SK_UPDATE && kind != SW_SK_DELETE && kind != SW_SK_INSERT) return false;
    return sw_merge_check_write(sql, len, merge_key_of, c, state, msg, msgsz) < 0;
}

/* The statement's merge plan under the current router (made once). */
static sw_stmt_merge *stmt_merge(sw_client *c, sw_stmt *st)
{
    if (st->merge && st->merge->router == c->router) return st->merge;
    sw_stmt_merge_free(st->merge);
    st->merge = calloc(1, sizeof *st->merge);
    if (!st->merge) return NULL;
    sw_stmt_merge *mp = st->merge;
    mp->router = c->router;
    char msg[300];
    mp->rc = sw_merge_plan(st->query, st->query_len, merge_key_of, c, &mp->spec, &mp->sql, mp->sqlstate, msg,
                           sizeof msg);
    if (mp->rc < 0) mp->msg = strdup(msg);
    return mp;
}


/* COPY on several shards.  COPY FROM STDIN is split by the key
 * (copyin.c); COPY TO STDOUT concatenates in turn (*copy_to: the caller
 * fans it out).  SW_MSG_DONE when answered or started, SW_MSG_WAIT for servers. */
static int copy_start(sw_client *c, const sw_route_target *t, int n, const char *sql, bool *copy_to,
                      bool *copy_header, bool *copy_binary)
{
    sw_copy_stmt cs;
    char err[256], msg[400];
    if (sw_copy_stmt_parse(sql, &cs, err, sizeof err) < 0) {
        local_error(c, "42601", err);
        return SW_MSG_DONE;
    }
    int rc = SW_MSG_DONE;
    if (!cs.stdio) {
        local_error(c, "0A000", "COPY with a server file or program on a table spread over several shards is not supported: use STDIN/STDOUT (psql's \\copy)");
        goto done;
    }
    if (!cs.from) {
        *copy_to = true;
        *copy_header = cs.header && cs.format != SW_COPY_BINARY;
        *copy_binary = cs.format == SW_COPY_BINARY;
        goto done;
    }
    const sw_conf_table *table = sw_router_table_conf(c->router, c->database, cs.schema, cs.relname);
    if (!table) {
        snprintf(msg, sizeof msg, "COPY into %s: table not found in the shard map", cs.relname ? cs.relname : "?");
        local_error(c, "0A000", msg);
        goto done;
    }
    int key_field = 0;
    const sw_shardfn *fn = NULL;
    if (table->kind == SW_TABLE_SHARDED) {
        key_field = -1;
        for (int i = 0; i < cs.n_columns; i++)
            if (strcmp(cs.columns[i], table->key) == 0) key_field = i;
        if (cs.n_columns == 0) {
            /* every column in table order: the catalog says where the key is */
            if (c->copy_key_pos <= 0) {
                sw_copy_columns_start(c, t[0].node, cs.schema, cs.relname, table->key);
                rc = SW_MSG_WAIT;
                goto done;
            }
            key_field = c->copy_key_pos - 1;
        }
        if (key_field < 0) {
            snprintf(msg, sizeof msg,
                     "COPY into sharded table %s: its column list must include the shard key %s",
                     table->name, table->key);
            local_error(c, "0A000", msg);
            goto done;
        }
        fn = sw_router_function(c->router, table->function);
    }
    for (int i = 1; i < n; i++)
        if (t[i].node == t[i - 1].node) {
            local_error(c, "0A000", "COPY into a table-suffix table with several parts on one node is not supported: use INSERT");
            goto done;
        }
    if (!link_all(c, t, n)) {
        rc = SW_MSG_WAIT;
        goto done;
    }
    c->copy_key_pos = 0;
    sw_server *servers[SW_MAX_NODES];
    int nodes[SW_MAX_NODES];
    const char *sqls[SW_MAX_NODES];
    for (int i = 0; i < n && i < SW_MAX_NODES; i++) {
        servers[i] = c->link[t[i].node];
        nodes[i] = t[i].node;
        sqls[i] = t[i].sql ? t[i].sql : sql;
    }
    if (sw_copyin_begin(c, servers, nodes, sqls, n, &cs, table, fn, key_field) < 0) {
        local_error(c, "53200", "out of memory");
        goto done;
    }
    return SW_MSG_DONE;  /* the copyin owns cs now */
done:
    sw_copy_stmt_clear(&cs);
    return rc;
}

static int routed_query(sw_client *c, const uint8_t *p, uint32_t total)
{
    sw_query_msg q;
    if (sw_query_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &q) < 0) {
        sw_client_protocol_error(c, "invalid Query message");
        return SW_MSG_CLOSED;
    }
    if (!refresh_conf(c)) return SW_MSG_CLOSED;
    if (c->n_links == 0 && c->txn_status == 'I') c->router = sw_g.router;
    sw_route_in in = route_in(c);
    sw_route_out o;
    memset(&o, 0, sizeof o);
    sw_router_route(c->router, &in, q.sql, q.len, &o);
    int rc = SW_MSG_DONE;
    bool quiet = sw_client_quiescent(c);
    sw_route_target tx[SW_MAX_NODES];
    const sw_route_target *t = o.targets;
    int n = o.n_targets;
    const char *rewrite = NULL;  /* whole statement replaced on every target */

    if (o.status == SW_ROUTE_LOOKUP) {
        /* Directory keys are looked up by the control plane; until then the
         * statement cannot be placed. */
        if (!quiet) { rc = SW_MSG_WAIT; goto out; }
        char msg[300];
        snprintf(msg, sizeof msg, "directory lookup needed for key %s", o.lookup_key);
        sw_directory_lookup_start(c, &o);
        (void)msg;
        rc = SW_MSG_WAIT;
        goto out;
    }
    if (c->proxy_failed && o.kind != SW_SK_ROLLBACK && o.kind != SW_SK_COMMIT) {
        if (!quiet) { rc = SW_MSG_WAIT; goto out; }
        if (c->lost_msg) {
            local_error(c, "08006", c->lost_msg);
            free(c->lost_msg);
            c->lost_msg = NULL;
        } else {
            local_error(c, "25P02", "current transaction is aborted, commands ignored until end of transaction block");
        }
        goto consumed;
    }
    if (o.status == SW_ROUTE_ERROR) {
        if (!quiet) { rc = SW_MSG_WAIT; goto out; }
        local_error(c, o.sqlstate, o.message);
        goto consumed;
    }
    if (o.local != SW_LOCAL_NONE) {
        if (!quiet) { rc = SW_MSG_WAIT; goto out; }
        local_answer(c, &o);
        goto consumed;
    }
    switch (o.kind) {
    case SW_SK_BEGIN:
        if (c->n_links == 0 && c->txn_status == 'I' && !o.multi) {
            if (!quiet) { rc = SW_MSG_WAIT; goto out; }
            free(c->begin_sql);
            c->begin_sql = strndup(q.sql, q.len);
            if (!c->begin_sql) {  /* a plain BEGIN replayed instead would change its meaning */
                local_error(c, "53200", "out of memory");
                goto consumed;
            }
            local_tag(c, "BEGIN", 'T');
            goto consumed;
        }
        break;
    case SW_SK_COMMIT:
    case SW_SK_ROLLBACK:
        if (o.multi) break;
        if (c->n_links == 0) {
            if (!quiet) { rc = SW_MSG_WAIT; goto out; }
            bool failed = c->proxy_failed || c->txn_status == 'E';
            clear_txn_state(c);
            local_tag(c, o.kind == SW_SK_COMMIT && !failed ? "COMMIT" : "ROLLBACK", 'I');
            sw_settle_sessops(c, NULL);
            goto consumed;
        }
        if (!quiet) { rc = SW_MSG_WAIT; goto out; }
        n = link_targets(c, tx, SW_MAX_NODES);
        t = tx;
        if (o.kind == SW_SK_COMMIT && (c->proxy_failed || c->txn_status == 'E')) rewrite = "ROLLBACK";
        break;
    case SW_SK_TXN_OTHER:
        if (c->n_links > 1) {
            if (!quiet) { rc = SW_MSG_WAIT; goto out; }
            n = link_targets(c, tx, SW_MAX_NODES);
            t = tx;
        }
        break;
    default:
        break;
    }
    if (n == 0) {
        tx[0] = (sw_route_target){.node = any_node(c), .sql = NULL};
        t = tx;
        n = 1;
    }
    bool copy_to = false, copy_header = false, copy_binary = false;
    if (n > 1 && o.kind == SW_SK_COPY && !o.multi) {
        if (!quiet) { rc = SW_MSG_WAIT; goto out; }
        rc = copy_start(c, t, n, q.sql, &copy_to, &copy_header, &copy_binary);
        if (rc == SW_MSG_WAIT) goto out;
        if (!copy_to) goto consumed;
        rc = SW_MSG_DONE;
    }
    if (n > 1 && o.multi) {
        if (!quiet) { rc = SW_MSG_WAIT; goto out; }
        local_error(c, "0A000", "a query string whose statements go to different shards cannot run as one: send the statements one at a time");
        goto consumed;
    }
    if (n == 1 && !t[0].sql && !rewrite) {
        int node = t[0].node;
        if (!(c->server && c->server == c->link[node])) {
            if (!quiet) { rc = SW_MSG_WAIT; goto out; }
            if (!sw_client_use_node(c, node)) { rc = SW_MSG_WAIT; goto out; }
        }
        sw_server *s = c->server;
        if (!sw_out_room(&s->c)) { rc = SW_MSG_WAIT; goto out; }
        sw_sessops_scan(q.sql, q.len, &c->pending);
        sw_out_src(&s->c, &c->c, p, total);
        sw_owe(s, SW_OWE_QUERY, false);
        goto consumed;
    }
    /* Several targets, or rewritten text: fan out. */
    if (!quiet) { rc = SW_MSG_WAIT; goto out; }
    if (n > (int)(sizeof c->fan.srv / sizeof c->fan.srv[0])) {
        local_error(c, "0A000", "statement has too many targets");
        goto consumed;
    }
    if (n > 1 && o.kind == SW_SK_SELECT && !rewrite && !o.multi) {
        rc = merge_query(c, t, n, q.sql, q.len);
        if (rc == SW_MSG_DONE) {
            sw_sessops_scan(q.sql, q.len, &c->pending);
            goto consumed;
        }
        goto out;
    }
    if (n > 1 && !rewrite && !o.multi) {
        char state[6], msg[300];
        if (write_refused(c, o.kind, q.sql, q.len, state, msg, sizeof msg)) {
            local_error(c, state, msg);
            goto consumed;
        }
    }
    if (!link_all(c, t, n)) { rc = SW_MSG_WAIT; goto out; }
    if (rewrite) {
        for (int i = 0; i < n; i++) tx[i].sql = (char *)rewrite;
        t = tx;
    }
    sw_sessops_scan(q.sql, q.len, &c->pending);
    fan_query(c, t, n, q.sql, q.len);
    c->fan.copy_header = copy_header;
    c->fan.copy_binary = copy_binary;
consumed:
    c->c.in.parse += total;
out:
    if (rewrite && t == tx) for (int i = 0; i < n; i++) tx[i].sql = NULL;
    sw_route_out_clear(&o);
    return rc;
}

/* The registry statement's routing plan under the current router. */
static const char *stmt_plan(sw_client *c, sw_stmt *st)
{
    if (st->plan && st->plan_router == c->router) return NULL;
    if (st->plan_router == c->router && st->plan_error) return st->plan_error;
    sw_plan_free(st->plan);
    st->plan = NULL;
    free(st->plan_error);
    st->plan_error = NULL;
    char err[256];
    st->plan = sw_router_prepare(c->router, c->database, st->query, st->query_len, err, sizeof err);
    st->plan_router = c->router;
    if (!st->plan) st->plan_error = strdup(err);
    return st->plan ? NULL : (st->plan_error ? st->plan_error : "syntax error");
}

static int routed_parse(sw_client *c, const uint8_t *p, uint32_t total)
{
    sw_parse_msg m;
    if (sw_parse_decode(p + SW_HDR_LEN, total - SW_HDR_LEN, &m) < 0) {
        sw_client_protocol_error(c, "invalid Parse message");
        return SW_MSG_CLOSED;
    }
    char msg[300];
    c->c.in.parse += total;
    if (m.name[0] && sw_client_stmt_find(c, m.name)) {
        snprintf(msg, sizeof msg, "prepared statement \"%s\" already exists", m.name);
        ext_error(c, "42P05", msg);
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
            ext_reply(c, SW_BE_PARSE_COMPLETE, sw_stmt_name_hash(""), cur->stmt->id);
            return SW_MSG_DONE;
        }
        sw_client_stmt_drop(c, "");
    }
    sw_stmt *st = sw_client_stmt_add(c, m.name, m.query, m.query_len, m.nparams, m.param_types);
    if (!st) {
        ext_error(c, "53200", "out of memory");
        return SW_MSG_DONE;
    }
    const char *err = stmt_plan(c, st);
    if (err) {
        snprintf(msg, sizeof msg, "%s", err);
        sw_client_stmt_drop(c, m.name);
        ext_error(c, "42601", msg);
        return SW_MSG_DONE;
    }
    ext_reply(c, SW_BE_PARSE_COMPLETE, sw_stmt_name_hash(m.name), st->id);
    return SW_MSG_DONE;
}

/* Renamed Bind for st on s, the client's bytes after the statement name. */
static void send_bind(sw_server *s, sw_client *c, const sw_bind_msg *m, const uint8_t *p, uint32_t total,
                      sw_stmt *st, bool copy)
{
    const uint8_t *tail = p + SW_HDR_LEN + m->tail_off;
    uint32_t tail_len = (uint32_t)(p + total - tail);
    size_t portal_len = strlen(m->portal);
    sw_wbuf *w = sw_out_gen(&s->c);
    size_t start = w->len;
    sw_msg_header(w, SW_FE_BIND, portal_len + 1 + strlen(st->name) + 1 + tail_len);
    sw_wbuf_cstr(w, m->portal);
    sw_wbuf_cstr(w, st->name);
    if (copy) sw_wbuf_put(w, tail, tail_len);
    sw_out_gen_done(&s->c, start);
    if (!copy) sw_out_src(&s->c, &c->c, tail, tail_len);
    sw_owe(s, SW_OWE_BIND, false);
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
        ext_error(c, "0A000", "a cross-shard result cannot be fetched in parts (Execute with a row limit)");
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
        if (merge_plan_targets(c, t, n, st->query, st->query_len, &owned, sqls, state, msg, sizeof msg) < 0) {
            ext_error(c, state, msg);
            return SW_MSG_DONE;
        }
        spec = owned;
    } else {
        sw_stmt_merge *mp = stmt_merge(c, st);
        if (!mp) {
            ext_error(c, "53200", "out of memory");
            return SW_MSG_DONE;
        }
        if (mp->rc < 0) {
            ext_error(c, mp->sqlstate, mp->msg ? mp->msg : "cannot merge");
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
    if (oom || !merge_begin(c, spec, owned, n, in)) {
        for (int i = 0; i < n; i++) {
            free(sqls[i]);
            sw_stmt_release(runs[i]);
        }
        if (oom) {
            sw_merge_spec_free(owned);
            ext_error(c, "53200", "out of memory");
        } else {
            ext_error(c, "22023", "invalid LIMIT/OFFSET parameter for a cross-shard query");
        }
        return SW_MSG_DONE;
    }
    c->fan.swallow_desc = !describes;
    c->c.in.parse += rest;
    for (int i = 0; i < n; i++) {
        sw_server *s = c->link[t[i].node];
        sw_stmt *run = runs[i] ? runs[i] : st;  /* may be st itself when the text did not change */
        sw_ensure_prepared(s, run);
        send_bind(s, c, m, p, total, run, true);
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
    merge_launch(c);
    return SW_MSG_DONE;
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
        ext_error(c, "26000", msg);
        return SW_MSG_DONE;
    }
    sw_stmt *st = cs->stmt;
    const char *perr = stmt_plan(c, st);
    if (perr) {
        c->c.in.parse += total;
        ext_error(c, "42601", perr);
        return SW_MSG_DONE;
    }
    if (!refresh_conf(c)) return SW_MSG_CLOSED;
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
    sw_route_in in = route_in(c);
    in.nparams = np;
    in.param_values = vals;
    in.param_lens = lens;
    in.param_formats = fmts;
    sw_route_out o;
    memset(&o, 0, sizeof o);
    sw_router_route_plan(c->router, st->plan, &in, &o);
    int rc = SW_MSG_DONE;
    bool quiet = sw_client_quiescent(c);
    sw_route_target tx[SW_MAX_NODES];
    const sw_route_target *t = o.targets;
    int n = o.n_targets;

    if (c->proxy_failed && o.kind != SW_SK_ROLLBACK && o.kind != SW_SK_COMMIT) {
        c->c.in.parse += total;
        ext_error(c, "25P02", "current transaction is aborted, commands ignored until end of transaction block");
        goto out;
    }
    if (o.status == SW_ROUTE_ERROR || o.status == SW_ROUTE_LOOKUP || o.local != SW_LOCAL_NONE) {
        c->c.in.parse += total;
        if (o.status == SW_ROUTE_ERROR) ext_error(c, o.sqlstate, o.message);
        else if (o.status == SW_ROUTE_LOOKUP)
            ext_error(c, "0A000", "directory-sharded keys must be looked up with the simple query protocol first");
        else
            ext_error(c, "0A000", "shardwire commands are answered with the simple query protocol only");
        goto out;
    }
    if ((o.kind == SW_SK_COMMIT || o.kind == SW_SK_ROLLBACK || o.kind == SW_SK_TXN_OTHER) && c->n_links > 1) {
        n = link_targets(c, tx, SW_MAX_NODES);
        t = tx;
    }
    if (n == 0) {
        tx[0] = (sw_route_target){.node = any_node(c), .sql = NULL};
        t = tx;
        n = 1;
    }
    if (n == 1) {
        int node = t[0].node;
        if (!(c->server && c->server == c->link[node])) {
            if (!quiet) { rc = SW_MSG_WAIT; goto out; }
            if (!sw_client_use_node(c, node)) { rc = SW_MSG_WAIT; goto out; }
        }
        sw_server *s = c->server;
        if (!sw_out_room(&s->c)) { rc = SW_MSG_WAIT; goto out; }
        sw_stmt *run = st, *interned = NULL;
        if (t[0].sql) {
            interned = run = sw_stmt_intern(t[0].sql, strlen(t[0].sql), st->nparams, st->param_types);
            if (!run) { c->c.in.parse += total; ext_error(c, "53200", "out of memory"); goto out; }
        }
        sw_ensure_prepared(s, run);
        send_bind(s, c, &m, p, total, run, false);
        sw_stmt_release(interned);  /* the server's set keeps the id */
        c->c.in.parse += total;
        goto out;
    }
    /* Fan out: the rest of the unit must be here to be copied to each. */
    if (!quiet) { rc = SW_MSG_WAIT; goto out; }
    {
        char state[6];
        if (write_refused(c, o.kind, st->query, st->query_len, state, msg, sizeof msg)) {
            c->c.in.parse += total;
            ext_error(c, state, msg);
            goto out;
        }
    }
    int64_t rest = unit_rest(c, c->c.in.parse + total);
    if (rest < 0) {
        c->c.in.parse += total;
        ext_error(c, "0A000", "a statement that runs on several shards must be followed by Sync before the next one");
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
    if (n > (int)(sizeof c->fan.srv / sizeof c->fan.srv[0]) || !link_all(c, t, n)) {
        if (n > (int)(sizeof c->fan.srv / sizeof c->fan.srv[0])) {
            c->c.in.parse += total;
            ext_error(c, "0A000", "statement has too many targets");
        } else {
            rc = SW_MSG_WAIT;
        }
        goto out;
    }
    if (o.kind == SW_SK_SELECT) {
        rc = merge_bind(c, &m, p, total, st, t, n, (uint32_t)rest, &in);
        goto out;
    }
    sw_stmt *runs[SW_MAX_NODES * 2];
    bool oom = false;
    for (int i = 0; i < n; i++) {
        runs[i] = t[i].sql ? sw_stmt_intern(t[i].sql, strlen(t[i].sql), st->nparams, st->param_types) : NULL;
        oom |= t[i].sql && !runs[i];
    }
    if (oom) {  /* never the unrewritten text instead */
        for (int i = 0; i < n; i++) sw_stmt_release(runs[i]);
        c->c.in.parse += total;
        ext_error(c, "53200", "out of memory");
        goto out;
    }
    fan_begin(c);
    const uint8_t *rp = p + total;
    for (int i = 0; i < n; i++) {
        sw_server *s = c->link[t[i].node];
        sw_stmt *run = runs[i] ? runs[i] : st;
        sw_ensure_prepared(s, run);
        send_bind(s, c, &m, p, total, run, true);
        sw_stmt_release(runs[i]);
        send_rest(s, rp, (uint32_t)rest);
        c->fan.srv[c->fan.n++] = s;
    }
    c->server = c->fan.srv[0];
    c->c.in.parse += total + (uint32_t)rest;
    fan_start(c);
    for (int i = 0; i < n; i++) {
        sw_server *s = c->fan.srv[i];
        if (i > 0 && s == c->fan.srv[i - 1]) continue;
        if (sw_out_flush(&s->c) < 0) sw_server_close(s, "write to server failed");
    }
out:
    sw_route_out_clear(&o);
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
            ext_reply(c, SW_BE_CLOSE_COMPLETE, 0, 0);
            return SW_MSG_DONE;
        }
        if (!cs) {
            c->c.in.parse += total;
            snprintf(msg, sizeof msg, "prepared statement \"%s\" does not exist", m.name);
            ext_error(c, "26000", msg);
            return SW_MSG_DONE;
        }
        if (!c->server) {
            if (!sw_client_quiescent(c)) return SW_MSG_WAIT;
            if (!sw_client_use_node(c, any_node(c))) return SW_MSG_WAIT;
        }
        sw_server *s = c->server;
        if (!sw_out_room(&s->c)) return SW_MSG_WAIT;
        sw_ensure_prepared(s, cs->stmt);
        sw_wbuf *w = sw_out_gen(&s->c);
        size_t start = w->len;
        sw_build_target(w, SW_FE_DESCRIBE, 'S', cs->stmt->name);
        sw_out_gen_done(&s->c, start);
        sw_owe(s, SW_OWE_DESCRIBE_STMT, false);
        c->c.in.parse += total;
        return SW_MSG_DONE;
    }
    /* A portal lives on the server its Bind went to. */
    if (!c->server) {
        c->c.in.parse += total;
        if (type == SW_FE_CLOSE) {
            ext_reply(c, SW_BE_CLOSE_COMPLETE, 0, 0);
        } else {
            snprintf(msg, sizeof msg, "portal \"%s\" does not exist", m.name);
            ext_error(c, "34000", msg);
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
            ext_error(c, "34000", "portal does not exist");
            return SW_MSG_DONE;
        }
        if (type == SW_FE_FUNCTION_CALL) {
            if (!sw_client_quiescent(c)) return SW_MSG_WAIT;
            if (!sw_client_use_node(c, any_node(c))) return SW_MSG_WAIT;
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
        if (s->owed.n_proxy_parses > 0) c->held = true;
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
