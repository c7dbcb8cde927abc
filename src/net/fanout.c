/*
 * fanout.c - one statement sent to several servers whose replies are
 * concatenated into one answer: the targets reply in turn (the others are
 * not read meanwhile), the first description and the first error reach
 * the client, row counts are summed, one ReadyForQuery ends it.  COPY TO
 * from several shards comes this way too: one CSV header, one binary file
 * header and trailer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

#include "relay_int.h"

void sw_fan_begin(sw_client *c)
{
    memset(&c->fan, 0, sizeof c->fan);
    c->fan.status = 'I';
}

/* Start the merged reply: every target's server has its copy queued. */
void sw_fan_start(sw_client *c)
{
    c->fan.kind = SW_FAN_TURNS;
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

bool sw_fan_hold_rows(sw_client *c, const sw_route_out *o, const sw_route_target *t, int n)
{
    sw_fan *f = &c->fan;
    if (!o->row_part || o->n_row_part <= 0 || n < 2) return true;
    f->held = calloc((size_t)n, sizeof *f->held);
    f->order = malloc((size_t)o->n_row_part * sizeof *f->order);
    if (!f->held || !f->order) {
        sw_fan_release(c);
        f->held_oom = true;  /* no rows go out: the statement fails at the end */
        return false;
    }
    for (int k = 0; k < o->n_row_part; k++) {
        f->order[k] = -1;
        for (int i = 0; i < n; i++)
            if (t[i].part == o->row_part[k]) f->order[k] = i;
    }
    f->n_order = o->n_row_part;
    return true;
}

void sw_fan_release(sw_client *c)
{
    sw_fan *f = &c->fan;
    if (f->held)
        for (int i = 0; i < f->n; i++) sw_wbuf_free(&f->held[i]);
    free(f->held);
    free(f->order);
    f->held = NULL;
    f->order = NULL;
    f->n_order = 0;
}

/* The held rows into w: in VALUES order when every target returned one
 * row per VALUES row it got (ON CONFLICT DO NOTHING may return fewer:
 * then target by target). */
static void emit_held(sw_fan *f, sw_wbuf *w)
{
    size_t pos[SW_MAX_NODES * 2] = {0};
    int want[SW_MAX_NODES * 2] = {0}, have[SW_MAX_NODES * 2] = {0};
    bool ordered = true;
    for (int k = 0; k < f->n_order; k++) {
        if (f->order[k] < 0) ordered = false;
        else want[f->order[k]]++;
    }
    for (int i = 0; i < f->n; i++) {
        for (size_t o = 0; o + SW_HDR_LEN <= f->held[i].len; o += 1 + sw_be32(f->held[i].data + o + 1)) have[i]++;
        if (have[i] != want[i]) ordered = false;
    }
    if (!ordered) {
        for (int i = 0; i < f->n; i++) sw_wbuf_put(w, f->held[i].data, f->held[i].len);
        return;
    }
    for (int k = 0; k < f->n_order; k++) {
        int i = f->order[k];
        uint32_t len = 1 + sw_be32(f->held[i].data + pos[i] + 1);
        sw_wbuf_put(w, f->held[i].data + pos[i], len);
        pos[i] += len;
    }
}

/* The held rows go to the client now (the statement did not fail), or an
 * error when they could not all be held. */
static void release_held(sw_client *c)
{
    sw_fan *f = &c->fan;
    if (!f->held && !f->held_oom) return;
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    if (f->held_oom && f->failure == SW_FAN_FINE) {
        f->failure = SW_FAN_SERVER_FAILED;
        sw_build_error(w, 'E', "ERROR", "53200", "out of memory holding the rows RETURNING gave", NULL, NULL);
        if (c->txn_status != 'I' && !c->implicit_txn) c->proxy_failed = true;  /* the nodes wrote them */
    } else if (f->failure == SW_FAN_FINE) {
        emit_held(f, w);
    }
    sw_out_gen_done(&c->c, start);
    sw_fan_release(c);
}

static void fan_finish(sw_client *c)
{
    release_held(c);
    if (c->implicit_txn) {
        /* shardwire's own transaction around the write: its outcome, not
         * the nodes' ReadyForQuery, ends the statement */
        char tag[64] = "";
        if (c->fan.failure == SW_FAN_FINE && c->fan.tag[0]) {
            if (c->fan.have_count)
                snprintf(tag, sizeof tag, "%s %llu", c->fan.tag, (unsigned long long)c->fan.rows);
            else
                snprintf(tag, sizeof tag, "%s", c->fan.tag);
        }
        bool failed = c->fan.failure != SW_FAN_FINE;
        c->fan.kind = SW_FAN_NONE;
        c->implicit_txn = false;
        c->implicit_begun = 0;
        sw_commit_implicit(c, failed ? NULL : tag);
        return;
    }
    sw_wbuf *w = sw_out_gen(&c->c);
    size_t start = w->len;
    if (c->fan.copy_done_seen && c->fan.failure == SW_FAN_FINE) {
        if (c->fan.copy_trailer) {
            static const uint8_t trailer[2] = {0xff, 0xff};
            sw_msg_header(w, SW_BE_COPY_DATA, 2);
            sw_wbuf_put(w, trailer, 2);
        }
        sw_build_empty(w, SW_BE_COPY_DONE);
    }
    if (c->fan.failure == SW_FAN_FINE && c->fan.tag[0]) {
        char tag[64];
        if (c->fan.have_count)
            snprintf(tag, sizeof tag, "%s %llu", c->fan.tag, (unsigned long long)c->fan.rows);
        else
            snprintf(tag, sizeof tag, "%s", c->fan.tag);
        sw_build_command_complete(w, tag);
    }
    if (c->proxy_failed && c->fan.status == 'T') c->fan.status = 'E';  /* shardwire failed the transaction */
    sw_build_ready(w, c->fan.status);
    sw_out_gen_done(&c->c, start);
    c->txn_status = c->fan.status;
    c->fan.kind = SW_FAN_NONE;
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
    uint8_t once = 0;
    switch (type) {
    case SW_BE_PARSE_COMPLETE: once = SW_FAN_ONCE_PARSE; break;
    case SW_BE_BIND_COMPLETE: once = SW_FAN_ONCE_BIND; break;
    case SW_BE_PARAM_DESC: once = SW_FAN_ONCE_PDESC; break;
    case SW_BE_ROW_DESC:
    case SW_BE_NO_DATA:
    case SW_BE_EMPTY_QUERY: once = SW_FAN_ONCE_DESC; break;
    case SW_BE_DATA_ROW:
        if ((f->held || f->held_oom) && f->cur < f->n) {
            if (f->held && f->failure == SW_FAN_FINE && !f->held_oom) {
                sw_wbuf_put(&f->held[f->cur], p, total);
                if (f->held[f->cur].oom) f->held_oom = true;
            }
            return false;
        }
        return f->failure == SW_FAN_FINE && !(f->copies && f->cur > 0);
    case SW_BE_PORTAL_SUSPENDED:
        return f->failure == SW_FAN_FINE && !(f->copies && f->cur > 0);
    case SW_BE_COPY_OUT: once = SW_FAN_ONCE_DESC; break;
    case SW_BE_COPY_DATA: {
        bool first = !f->copy_data_seen;
        f->copy_data_seen = true;
        if (f->failure != SW_FAN_FINE) return false;
        if (f->copy == SW_FAN_COPY_HEADER && f->cur > 0 && first) return false;  /* the header line again */
        if (f->copy != SW_FAN_COPY_BINARY) return true;
        return copy_binary_data(c, first, p, total);
    }
    case SW_BE_COPY_DONE:
        f->copy_done_seen = true;
        return false;
    case SW_BE_ERROR:
        if (f->failure != SW_FAN_FINE) return false;
        f->failure = SW_FAN_SERVER_FAILED;
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
        if (counted && f->copies && f->cur > 0) {
            /* one logical write: what one server would count */
            if (n != f->copy_rows)
                sw_warn("client %s pid=%d: reference table copies diverge: node %s reports \"%.*s\", the first copy %llu rows",
                        c->addr, c->pid, s->pool->node_name, (int)len, tag, (unsigned long long)f->copy_rows);
        } else if (counted) {
            f->rows += n;
            f->copy_rows = n;
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
    case SW_BE_NOTICE:
        return !(f->copies && f->cur > 0);  /* the same notice from every copy */
    default:
        return true;  /* parameter status, notifications */
    }
    if (f->once & once) return false;
    f->once |= once;
    return f->failure == SW_FAN_FINE;
}

/* Send a simple query to several targets and merge the answers. */
void sw_fan_query(sw_client *c, const sw_route_target *t, int n, const char *sql, size_t len)
{
    sw_fan_begin(c);
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
    sw_fan_start(c);
    for (int i = 0; i < n; i++) {
        sw_server *s = c->fan.srv[i];
        if (i > 0 && s == c->fan.srv[i - 1]) continue;
        if (sw_out_flush(&s->c) < 0) sw_server_close(s, "write to server failed");
    }
}


