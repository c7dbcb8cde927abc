/*
 * copyin.c - COPY ... FROM STDIN into a table spread over several shards.
 *
 * Every target server runs the COPY (inside a transaction shardwire opens
 * when the client has none, so that a failure commits nothing anywhere);
 * the client's stream is cut into rows (src/exec/copy_split.c) and each row
 * goes to the shard its key maps to (a reference table's rows go to every
 * copy; the HEADER line and the binary header to every target).  Rows for
 * one target are gathered into one CopyData message per client message.
 *
 * States, in order:
 *   STARTING  the COPY is sent; the first CopyInResponse goes to the client
 *   IN        client data is split and forwarded
 *   ENDING    CopyDone (or CopyFail after an error) sent; waiting for every
 *             target's CommandComplete/ErrorResponse and ReadyForQuery
 *   FINISHING shardwire's COMMIT (or ROLLBACK) runs on every target
 * then one answer reaches the client: "COPY n" summed, or the first error
 * with its line number counted in the client's stream (a shard counts its
 * own lines: its "line N" is mapped back through the rows it was sent,
 * each remembered with its first line in both streams).
 *
 * A target that cannot take more (its write is in flight) stops the client
 * from being read; the target's write callback resumes the client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"
#include "sw/copysplit.h"
#include "sw/log.h"
#include "sw/shard.h"
#include "sw/proxy.h"

typedef enum { CF_STARTING, CF_IN, CF_ENDING, CF_FINISHING } cf_state;

typedef struct cf_target {
    sw_server *s;
    bool got_g, done, replied, open;
    size_t start;          /* offset of the open CopyData in the server's gen buffer */
    uint64_t count;
    /* each row sent (header included): its first line in the client's
     * stream and in this target's; lines count as PostgreSQL counts them */
    uint32_t (*rows)[2];
    size_t n_rows, cap_rows;
    uint64_t next_line;    /* this target's line of the next row */
} cf_target;

struct sw_copyin {
    cf_state state;
    int n;
    cf_target t[SW_MAX_NODES];
    int node_target[SW_MAX_NODES];
    sw_copy_stmt stmt;
    sw_copy_split *split;
    bool broadcast;
    bool own_txn;
    bool sent_g;
    const sw_shardfn *fn;
    sw_key_type ktype;
    char table[128];
    char key[64];
    uint64_t row_no;       /* rows so far (the header included) */
    int prev_target;       /* target of the previous row (-1: every target), -2 none */
    uint64_t prev_line;    /* client line of the previous row */
    uint64_t cur_line;     /* line of the row being split */
    /* the first error: raw ErrorResponse of a target, or shardwire's own */
    bool failed;
    uint8_t *err_raw;
    uint32_t err_len;
    int err_target;
    char err_state[6];
    char err_msg[300];
    char err_where[200];
};

static cf_target *target_for(sw_copyin *cf, const sw_server *s)
{
    for (int i = 0; i < cf->n; i++)
        if (cf->t[i].s == s) return &cf->t[i];
    return NULL;
}

void sw_copyin_free(sw_copyin *cf)
{
    if (!cf) return;
    for (int i = 0; i < cf->n; i++) free(cf->t[i].rows);
    sw_copy_split_free(cf->split);
    sw_copy_stmt_clear(&cf->stmt);
    free(cf->err_raw);
    free(cf);
}

/* A target's CopyData for this client message, opened on first use. */
static sw_wbuf *open_data(cf_target *t)
{
    sw_wbuf *w = sw_out_gen(&t->s->c);
    if (!t->open) {
        t->start = w->len;
        sw_msg_begin(w, SW_FE_COPY_DATA);
        t->open = true;
    }
    return w;
}

static void close_data(sw_copyin *cf)
{
    for (int i = 0; i < cf->n; i++) {
        cf_target *t = &cf->t[i];
        if (!t->open) continue;
        sw_wbuf *w = sw_out_gen(&t->s->c);
        sw_msg_end(w);
        sw_out_gen_done(&t->s->c, t->start);
        t->open = false;
    }
}

static int send_row(sw_copyin *cf, cf_target *t, const sw_copy_row *row)
{
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? t->cap_rows * 2 : 1024;
        uint32_t(*nr)[2] = realloc(t->rows, cap * sizeof *nr);
        if (!nr) return -1;
        t->rows = nr;
        t->cap_rows = cap;
    }
    if (t->next_line == 0) t->next_line = 1;
    t->rows[t->n_rows][0] = (uint32_t)row->line;
    t->rows[t->n_rows][1] = (uint32_t)t->next_line;
    t->n_rows++;
    sw_wbuf *w = open_data(t);
    sw_wbuf_put(w, row->data, row->len);
    return 0;
}

/* shardwire's own error (bad key...), at the client's row. */
static void fail_own(sw_copyin *cf, const char *state, const char *msg)
{
    if (cf->failed) return;
    cf->failed = true;
    cf->err_target = -1;
    memcpy(cf->err_state, state, 6);
    snprintf(cf->err_msg, sizeof cf->err_msg, "%s", msg);
    snprintf(cf->err_where, sizeof cf->err_where, "COPY %s, line %llu", cf->table, (unsigned long long)cf->cur_line);
}

static int row_cb(void *ctx, const sw_copy_row *row)
{
    sw_copyin *cf = ctx;
    cf->row_no++;
    cf->cur_line = row->line;
    /* the previous row spanned the lines up to this one: its target's
     * stream advances by as many */
    if (cf->prev_target != -2 && row->line > cf->prev_line) {
        uint64_t span = row->line - cf->prev_line;
        for (int i = 0; i < cf->n; i++)
            if (cf->prev_target == -1 || cf->prev_target == i) cf->t[i].next_line += span;
    }
    cf->prev_line = row->line;
    cf->prev_target = -2;
    if (row->header || cf->broadcast) {
        for (int i = 0; i < cf->n; i++)
            if (send_row(cf, &cf->t[i], row) < 0) {
                fail_own(cf, "53200", "out of memory");
                return 1;
            }
        cf->prev_target = -1;
        return 0;
    }
    char msg[300];
    if (row->key_null) {
        snprintf(msg, sizeof msg, "null value in column \"%.60s\" of relation \"%.100s\" violates not-null constraint",
                 cf->key, cf->table);
        fail_own(cf, "23502", msg);
        return 1;
    }
    sw_value v;
    char buf[SW_VALUE_BUF];
    int rc = cf->stmt.format == SW_COPY_BINARY
                 ? sw_value_from_binary(cf->ktype, row->key, row->key_len, &v, buf, sizeof buf)
                 : sw_value_from_text(cf->ktype, (const char *)row->key, row->key_len, &v, buf, sizeof buf);
    if (rc < 0) {
        snprintf(msg, sizeof msg, "invalid input for shard key %s of %s: \"%.*s\"", cf->key, cf->table,
                 (int)(row->key_len > 60 ? 60 : row->key_len), (const char *)row->key);
        fail_own(cf, "22P02", msg);
        return 1;
    }
    char why[200];
    int tix = sw_shardfn_dispatch(cf->fn, &v, sw_wall_ms(), why, sizeof why);
    if (tix == SW_SHARD_LOOKUP) {
        fail_own(cf, "0A000", "COPY into a directory-sharded table is not supported: use INSERT");
        return 1;
    }
    if (tix < 0) {
        char val[SW_VALUE_BUF];
        sw_value_format(&v, val, sizeof val);
        snprintf(msg, sizeof msg, "no shard of %.100s for %.60s = %.100s", cf->table, cf->key, val);
        fail_own(cf, "22023", msg);
        return 1;
    }
    int node = sw_shardfn_target_node(cf->fn, tix);
    int ti = node >= 0 && node < SW_MAX_NODES ? cf->node_target[node] : -1;
    if (ti < 0) {
        fail_own(cf, "XX000", "a COPY row maps to a node the statement was not sent to");
        return 1;
    }
    if (send_row(cf, &cf->t[ti], row) < 0) {
        fail_own(cf, "53200", "out of memory");
        return 1;
    }
    cf->prev_target = ti;
    return 0;
}

static void flush_targets(sw_copyin *cf)
{
    for (int i = 0; i < cf->n; i++) {
        sw_server *s = cf->t[i].s;
        if (!s->c.closing && sw_out_flush(&s->c) < 0) sw_server_close(s, "write to server failed");
    }
}

/* Stop the targets still copying: CopyFail (or CopyDone when all is well). */
static void end_copy(sw_copyin *cf, bool fail)
{
    close_data(cf);
    for (int i = 0; i < cf->n; i++) {
        cf_target *t = &cf->t[i];
        sw_wbuf *w = sw_out_gen(&t->s->c);
        size_t start = w->len;
        if (fail) {
            sw_msg_begin(w, SW_FE_COPY_FAIL);
            sw_wbuf_cstr(w, "COPY stopped by shardwire: another shard failed");
            sw_msg_end(w);
        } else {
            sw_build_empty(w, SW_FE_COPY_DONE);
        }
        sw_out_gen_done(&t->s->c, start);
        sw_ledger_copy_end(&t->s->owed);
    }
    cf->state = CF_ENDING;
    flush_targets(cf);
}

int sw_copyin_begin(sw_client *c, sw_server *const *servers, const int *nodes, const char *const *sqls, int n,
                    const sw_copy_stmt *stmt, const sw_conf_table *table, const sw_shardfn *fn, int key_field)
{
    sw_copyin *cf = calloc(1, sizeof *cf);
    if (!cf) return -1;
    cf->n = n;
    cf->stmt = *stmt;
    cf->broadcast = table->kind != SW_TABLE_SHARDED;
    cf->fn = fn;
    cf->ktype = fn ? sw_shardfn_conf(fn)->type : SW_KEY_INT;
    snprintf(cf->table, sizeof cf->table, "%s", table->name);
    snprintf(cf->key, sizeof cf->key, "%s", table->key ? table->key : "");
    for (int i = 0; i < SW_MAX_NODES; i++) cf->node_target[i] = -1;
    cf->prev_target = -2;
    cf->split = sw_copy_split_new(&cf->stmt, cf->broadcast ? -1 : key_field);
    if (!cf->split) {
        memset(&cf->stmt, 0, sizeof cf->stmt);
        sw_copyin_free(cf);
        return -1;
    }
    cf->own_txn = c->txn_status == 'I';
    for (int i = 0; i < n; i++) {
        cf->t[i].s = servers[i];
        cf->node_target[nodes[i]] = i;
        sw_server *s = servers[i];
        sw_wbuf *w = sw_out_gen(&s->c);
        size_t start = w->len;
        if (cf->own_txn) {
            sw_build_query(w, "BEGIN", 5);
            sw_out_gen_done(&s->c, start);
            sw_owe(s, SW_OWE_QUERY, true);
            start = w->len;
        }
        sw_build_query(w, sqls[i], strlen(sqls[i]));
        sw_out_gen_done(&s->c, start);
        sw_owe(s, SW_OWE_QUERY, false);
    }
    c->copyin = cf;
    c->server = servers[0];
    flush_targets(cf);
    for (int i = 0; i < n; i++) sw_conn_read_start(&servers[i]->c);
    return 0;
}

/* A target's error: the first one is the answer; the others stop. */
static void target_error(sw_copyin *cf, cf_target *t, const uint8_t *p, uint32_t total)
{
    if (!cf->failed) {
        cf->failed = true;
        cf->err_target = (int)(t - cf->t);
        cf->err_raw = malloc(total);
        if (cf->err_raw) {
            memcpy(cf->err_raw, p, total);
            cf->err_len = total;
        }
    }
    if (cf->state == CF_STARTING || cf->state == CF_IN) end_copy(cf, true);
}

void sw_copyin_filter(sw_client *c, sw_server *s, uint8_t type, const uint8_t *p, uint32_t total, bool hidden)
{
    sw_copyin *cf = c->copyin;
    if (hidden) return;
    cf_target *t = target_for(cf, s);
    if (!t) return;
    switch (type) {
    case SW_BE_COPY_IN:
        t->got_g = true;
        if (!cf->sent_g && !cf->failed) {
            sw_wbuf *w = sw_out_gen(&c->c);
            size_t start = w->len;
            sw_wbuf_put(w, p, total);
            sw_out_gen_done(&c->c, start);
            cf->sent_g = true;
            if (cf->state == CF_STARTING) cf->state = CF_IN;
        }
        return;
    case SW_BE_COMMAND_COMPLETE: {
        const char *tag = (const char *)p + SW_HDR_LEN;
        if (total > SW_HDR_LEN + 5 && memcmp(tag, "COPY ", 5) == 0) t->count = strtoull(tag + 5, NULL, 10);
        t->done = true;
        return;
    }
    case SW_BE_ERROR:
        t->done = true;
        target_error(cf, t, p, total);
        return;
    case SW_BE_READY:
        t->replied = true;
        return;
    case SW_BE_NOTICE:
    case SW_BE_PARAM_STATUS:
    case SW_BE_NOTIFICATION: {
        sw_wbuf *w = sw_out_gen(&c->c);
        size_t start = w->len;
        sw_wbuf_put(w, p, total);
        sw_out_gen_done(&c->c, start);
        return;
    }
    default:
        return;
    }
}

/* The error for the client: a target's, its line mapped to the client's
 * stream, or shardwire's own. */
static void put_error(sw_copyin *cf, sw_wbuf *w)
{
    if (cf->err_target < 0 || !cf->err_raw) {
        if (cf->err_target >= 0) {
            sw_build_error(w, SW_BE_ERROR, "ERROR", "XX000", "COPY failed on a shard", NULL, NULL);
            return;
        }
        sw_msg_begin(w, SW_BE_ERROR);
        sw_wbuf_u8(w, 'S');
        sw_wbuf_cstr(w, "ERROR");
        sw_wbuf_u8(w, 'V');
        sw_wbuf_cstr(w, "ERROR");
        sw_wbuf_u8(w, 'C');
        sw_wbuf_cstr(w, cf->err_state);
        sw_wbuf_u8(w, 'M');
        sw_wbuf_cstr(w, cf->err_msg);
        sw_wbuf_u8(w, 'W');
        sw_wbuf_cstr(w, cf->err_where);
        sw_wbuf_u8(w, 0);
        sw_msg_end(w);
        return;
    }
    cf_target *t = &cf->t[cf->err_target];
    sw_msg_begin(w, SW_BE_ERROR);
    const uint8_t *q = cf->err_raw + SW_HDR_LEN, *end = cf->err_raw + cf->err_len;
    while (q < end && *q) {
        uint8_t code = *q++;
        const uint8_t *z = memchr(q, 0, (size_t)(end - q));
        if (!z) break;
        const char *val = (const char *)q;
        char fixed[1024];
        if (code == 'W') {
            /* "COPY t, line N[, column c: ...]": N is the target's line */
            const char *ln = strstr(val, ", line ");
            if (ln && t->n_rows) {
                char *e;
                unsigned long long nline = strtoull(ln + 7, &e, 10);
                size_t lo = 0, hi = t->n_rows;  /* the last row starting at or before nline */
                while (hi - lo > 1) {
                    size_t mid = (lo + hi) / 2;
                    if (t->rows[mid][1] <= nline) lo = mid;
                    else hi = mid;
                }
                if (nline >= t->rows[lo][1]) {
                    unsigned long long client = t->rows[lo][0] + (nline - t->rows[lo][1]);
                    snprintf(fixed, sizeof fixed, "%.*s, line %llu%s", (int)(ln - val), val, client, e);
                    val = fixed;
                }
            }
        }
        sw_wbuf_u8(w, code);
        sw_wbuf_cstr(w, val);
        q = z + 1;
    }
    sw_wbuf_u8(w, 0);
    sw_msg_end(w);
}

static void reply(sw_client *c)
{
    sw_copyin *cf = c->copyin;
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    char status = cf->own_txn ? 'I' : 'T';
    if (cf->failed) {
        put_error(cf, w);
        if (!cf->own_txn) {
            c->proxy_failed = true;
            status = 'E';
        }
    } else {
        uint64_t total = 0;
        for (int i = 0; i < cf->n; i++) total += cf->t[i].count;
        if (cf->broadcast && cf->n > 0) total = cf->t[0].count;  /* every copy got every row */
        sw_g.merge_stats.copies++;
        sw_g.merge_stats.copy_rows += total;
        char tag[40];
        snprintf(tag, sizeof tag, "COPY %llu", (unsigned long long)total);
        sw_build_command_complete(w, tag);
    }
    sw_build_ready(w, status);
    sw_out_gen_done(&c->c, start);
    c->txn_status = status;
    c->copyin = NULL;
    sw_copyin_free(cf);
    if (sw_out_flush(&c->c) < 0) {
        sw_client_close(c, "write failed");
        return;
    }
    sw_client_after_reply(c);
}

/* Move on once every target has answered. */
static void progress(sw_client *c)
{
    sw_copyin *cf = c->copyin;
    if (cf->state == CF_ENDING) {
        for (int i = 0; i < cf->n; i++)
            if (!cf->t[i].replied) return;
        if (!cf->own_txn) {
            reply(c);
            return;
        }
        for (int i = 0; i < cf->n; i++) {
            sw_server *s = cf->t[i].s;
            sw_wbuf *w = sw_out_gen(&s->c);
            size_t start = w->len;
            const char *q = cf->failed ? "ROLLBACK" : "COMMIT";
            sw_build_query(w, q, strlen(q));
            sw_out_gen_done(&s->c, start);
            sw_owe(s, SW_OWE_QUERY, true);
        }
        cf->state = CF_FINISHING;
        flush_targets(cf);
        return;
    }
    if (cf->state == CF_FINISHING) {
        for (int i = 0; i < cf->n; i++)
            if (!sw_ledger_quiet(&cf->t[i].s->owed)) return;
        reply(c);
    }
}

void sw_copyin_server(sw_server *s)
{
    sw_client *c = s->client;
    while (c && c->copyin && !s->c.closing && s->client == c) {
        sw_msg_hdr h;
        int rc = sw_server_peek(s, &h);
        if (rc < 0) return;
        if (rc != 1) break;
        const uint8_t *p = sw_server_take(s, &h);
        sw_relay_server_message(s, c, h.type, p, h.total);
        if (c->c.closing) return;
    }
    if (!c || c->c.closing || !c->copyin) return;
    progress(c);
    if (c->c.closing) return;
    if (sw_out_flush(&c->c) < 0) {
        sw_client_close(c, "write failed");
        return;
    }
    /* a stalled client may go on (targets have room again) */
    if (c->copyin && c->flow == SW_FLOW_STALLED) sw_client_process(c);
}

/* Whether every target can take more now. */
static bool targets_ready(sw_copyin *cf)
{
    for (int i = 0; i < cf->n; i++)
        if (!sw_out_room(&cf->t[i].s->c)) return false;
    return true;
}

int sw_copyin_client(sw_client *c, uint8_t type, const uint8_t *p, uint32_t total)
{
    sw_copyin *cf = c->copyin;
    if (cf->state >= CF_ENDING || cf->failed) {
        /* the COPY is over on the shards: its remaining data is dropped,
         * like a server ignores it after an error */
        if (type == SW_FE_COPY_DATA || type == SW_FE_COPY_DONE || type == SW_FE_COPY_FAIL ||
            type == SW_FE_FLUSH || type == SW_FE_SYNC) {
            c->c.in.parse += total;
            return 1;
        }
        return 0;  /* the next statement waits for the answer */
    }
    switch (type) {
    case SW_FE_COPY_DATA: {
        if (!targets_ready(cf)) return 0;
        int rc = sw_copy_split_feed(cf->split, p + SW_HDR_LEN, total - SW_HDR_LEN, row_cb, cf);
        c->c.in.parse += total;
        if (rc < 0) {
            uint64_t line;
            const char *msg = sw_copy_split_error(cf->split, &line);
            cf->cur_line = line;
            fail_own(cf, "22P04", msg ? msg : "malformed COPY data");
        }
        if (cf->failed) end_copy(cf, true);
        else {
            close_data(cf);
            flush_targets(cf);
        }
        return 1;
    }
    case SW_FE_COPY_DONE: {
        if (!targets_ready(cf)) return 0;
        c->c.in.parse += total;
        int rc = sw_copy_split_finish(cf->split, row_cb, cf);
        if (rc < 0 && !cf->failed) {
            uint64_t line;
            const char *msg = sw_copy_split_error(cf->split, &line);
            cf->cur_line = line;
            fail_own(cf, "22P04", msg ? msg : "malformed COPY data");
        }
        end_copy(cf, cf->failed);
        return 1;
    }
    case SW_FE_COPY_FAIL: {
        c->c.in.parse += total;
        const char *why = total > SW_HDR_LEN ? (const char *)p + SW_HDR_LEN : "";
        char msg[300];
        snprintf(msg, sizeof msg, "COPY from stdin failed: %.200s", why);
        if (!cf->failed) {
            cf->failed = true;
            cf->err_target = -1;
            memcpy(cf->err_state, "57014", 6);
            snprintf(cf->err_msg, sizeof cf->err_msg, "%s", msg);
            snprintf(cf->err_where, sizeof cf->err_where, "COPY %s", cf->table);
        }
        end_copy(cf, true);
        return 1;
    }
    case SW_FE_FLUSH:
    case SW_FE_SYNC:
        c->c.in.parse += total;
        return 1;
    default:
        c->c.in.parse += total;
        fail_own(cf, "08P01", "unexpected message type during COPY from stdin");
        end_copy(cf, true);
        return 1;
    }
}

/* COPY on several shards.  COPY FROM STDIN is split by the key;
 * COPY TO STDOUT concatenates in turn (*copy_to: the caller fans it out).
 * SW_MSG_DONE when answered or started, SW_MSG_WAIT for servers. */
int sw_copy_start(sw_client *c, const sw_route_target *t, int n, const char *sql, bool *copy_to,
                      bool *copy_header, bool *copy_binary)
{
    sw_copy_stmt cs;
    char err[256], msg[400];
    if (sw_copy_stmt_parse(sql, &cs, err, sizeof err) < 0) {
        sw_local_error(c, "42601", err);
        return SW_MSG_DONE;
    }
    int rc = SW_MSG_DONE;
    if (!cs.stdio) {
        sw_local_error(c, "0A000", "COPY with a server file or program on a table spread over several shards is not supported: use STDIN/STDOUT (psql's \\copy)");
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
        sw_local_error(c, "0A000", msg);
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
            sw_local_error(c, "0A000", msg);
            goto done;
        }
        fn = sw_router_function(c->router, table->function);
    }
    for (int i = 1; i < n; i++)
        if (t[i].node == t[i - 1].node) {
            sw_local_error(c, "0A000", "COPY into a table-suffix table with several parts on one node is not supported: use INSERT");
            goto done;
        }
    if (!sw_client_link_all(c, t, n)) {
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
        sw_local_error(c, "53200", "out of memory");
        goto done;
    }
    return SW_MSG_DONE;  /* the copyin owns cs now */
done:
    sw_copy_stmt_clear(&cs);
    return rc;
}

