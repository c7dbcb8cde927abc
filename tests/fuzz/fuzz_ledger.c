/*
 * fuzz_ledger.c - libFuzzer target for the reply ledger (src/proto/ledger.c,
 * include/sw/ledger.h): what a server connection owes, message by message.
 *
 * Feeds: the input as a script of ledger operations, one or two bytes each:
 * push a request (any kind, any owner, FAKE answers with an error string),
 * consume a server reply (through the inline fast path or the slow one),
 * the client's CopyDone, pop a FAKE head, lose the connection, free and
 * start over.  A shadow record of every pushed entry (by a unique stmt_id)
 * follows what the ledger says happened to it.
 *
 * Asserts (abort() on violation):
 *  - every entry leaves exactly once: the retire callback hears of it at
 *    most once and never as answered unless it is a Parse; entries leave only from the head and
 *    join only at the tail, so the ring is always a suffix of what was
 *    queued and never holds more than was queued and not yet gone; at most
 *    one leaves silently (answered) per reply or pop, and only on a LAST
 *    verdict or a pop;
 *  - the ring is in sending order and its counters (n_ready,
 *    n_proxy_parses) match what it holds;
 *  - verdicts are in range, ASYNC only for N/S/A, PART/ASYNC/BAD leave the
 *    count alone, LAST shrinks it and names the head entry, a FAKE head
 *    makes any non-async reply BAD, and the inline fast path agrees with
 *    sw_ledger_reply_slow;
 *  - a skipping server owes nothing queued; quiet implies not busy and
 *    owing the client nothing; after sw_ledger_lost nothing is owed and the
 *    client is told only 'E' and 'Z', no more of them than entries it had.
 * LeakSanitizer checks that FAKE error strings are freed however they go.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sw/ledger.h"

enum { ID_NEW = 0, ID_QUEUED, ID_TOLD, ID_REFUSED, ID_AT_PUSH, ID_ANSWERED };

typedef struct shadow {
    uint8_t *state;     /* per stmt_id, ID_* */
    uint32_t n_ids;
    uint32_t queued;    /* ids in ID_QUEUED */
    uint32_t *order;    /* ids queued, in pushing order: order[first..n_order) is */
    uint32_t first;     /* what the ring held after the last operation */
    uint32_t n_order;
    uint32_t pushing;   /* id being pushed, or UINT32_MAX */
    uint32_t told_now;  /* callbacks during the current operation */
    uint32_t e_owed, z_owed;
} shadow;

static void check(int ok)
{
    if (!ok) abort();
}

static void on_retire(void *ctx, const sw_owed *e, sw_retire how)
{
    shadow *s = ctx;
    check(e->kind != SW_OWE_GONE);
    check(e->stmt_id < s->n_ids);
    uint8_t *st = &s->state[e->stmt_id];
    if (how == SW_RETIRE_OK) {
        /* Only a Parse is reported when answered; it still leaves as an
         * answered (silent) departure, which scan() counts. */
        check(e->kind == SW_OWE_PARSE && *st == ID_QUEUED && e->stmt_id != s->pushing);
        return;
    }
    check(how == SW_RETIRE_FAILED || how == SW_RETIRE_SKIPPED || how == SW_RETIRE_ABSORBED ||
          how == SW_RETIRE_LOST);
    if (e->stmt_id == s->pushing) {
        /* Retired on the spot: the server will never answer it. */
        check(*st == ID_NEW && (how == SW_RETIRE_SKIPPED || how == SW_RETIRE_ABSORBED));
        *st = ID_AT_PUSH;
        return;
    }
    check(*st == ID_QUEUED);
    *st = ID_TOLD;
    s->queued--;
    s->told_now++;
}

static void on_owe(void *ctx, char what)
{
    shadow *s = ctx;
    check(what == 'E' || what == 'Z');
    if (what == 'E') s->e_owed++; else s->z_owed++;
}

static const sw_owed *ring_at(const sw_ledger *l, uint32_t i)
{
    return &l->items[(l->head + i) & (l->cap - 1)];
}

static int owes_ready(uint8_t kind)
{
    return kind == SW_OWE_SYNC || kind == SW_OWE_QUERY || kind == SW_OWE_FUNCTION;
}

/* Walk the ring against the shadow; returns how many queued ids left
 * without a callback (answered), and marks them so.  Entries leave only
 * from the head and join only at the tail, so the ring must be a suffix of
 * what it held before plus what was pushed since. */
static uint32_t scan(const sw_ledger *l, shadow *s)
{
    check(l->count <= l->cap && (l->cap & (l->cap - 1)) == 0);
    check(!l->count || l->head < l->cap);
    check(l->count <= s->n_order - s->first);
    uint32_t gone_from = s->n_order - l->count;
    int ready = 0, proxy_parses = 0;
    for (uint32_t i = 0; i < l->count; i++) {
        const sw_owed *e = ring_at(l, i);
        check(e->stmt_id == s->order[gone_from + i]);
        if (i) check((int32_t)(e->seq - ring_at(l, i - 1)->seq) > 0);
        if (e->kind == SW_OWE_GONE) {
            check(s->state[e->stmt_id] == ID_TOLD);
            continue;
        }
        check(s->state[e->stmt_id] == ID_QUEUED);
        if (owes_ready(e->kind)) ready++;
        if (e->kind == SW_OWE_PARSE && e->owner == SW_OWNER_PROXY) proxy_parses++;
    }
    check(l->n_ready == ready && l->n_proxy_parses == proxy_parses);
    /* Off the head since the last look: told already, or answered now. */
    uint32_t silent = 0;
    for (uint32_t i = s->first; i < gone_from; i++) {
        uint8_t *st = &s->state[s->order[i]];
        check(*st == ID_QUEUED || *st == ID_TOLD);
        if (*st == ID_QUEUED) {
            *st = ID_ANSWERED;
            s->queued--;
            silent++;
        }
    }
    s->first = gone_from;
    return silent;
}

/* Predicates that follow from each other whatever the state. */
static void check_predicates(sw_ledger *l)
{
    if (l->skipping) check(l->count == 0);
    if (sw_ledger_quiet(l)) check(!sw_ledger_owes_client(l) && !sw_ledger_server_busy(l));
    if (sw_ledger_at_rest(l)) check(sw_ledger_quiet(l));
    if (l->count == 0) check(!sw_ledger_server_busy(l));
    sw_owed *f = sw_ledger_fake(l);
    check(f ? (l->count && ring_at(l, 0)->kind == SW_OWE_FAKE && f == ring_at(l, 0))
            : (!l->count || ring_at(l, 0)->kind != SW_OWE_FAKE));
}

static const uint8_t fake_types[] = {'1', '2', '3', 'n', 'E'};

static void op_push(sw_ledger *l, shadow *s, uint8_t arg, uint8_t extra)
{
    sw_owed e;
    memset(&e, 0, sizeof e);
    e.kind = (uint8_t)(arg % 10);  /* PARSE .. FAKE; GONE is the ledger's own */
    e.owner = (uint8_t)((arg / 10) % 3);
    e.stmt_id = s->n_ids;
    e.name_hash = extra;
    if (e.kind == SW_OWE_FAKE) {
        e.fake_type = fake_types[extra % sizeof fake_types];
        if (e.fake_type == 'E') {
            static const char text[] = "XX000\0fuzzed failure";
            e.error = malloc(sizeof text);
            if (!e.error) abort();
            memcpy(e.error, text, sizeof text);
        }
    }
    s->pushing = s->n_ids++;
    uint32_t before = l->count;
    int rc = sw_ledger_push(l, &e);
    s->pushing = UINT32_MAX;
    uint8_t *st = &s->state[e.stmt_id];
    check(rc == 0 || rc == 1 || rc == -1);
    if (rc == 0) {
        check(*st == ID_NEW && l->count == before + 1 && ring_at(l, before)->stmt_id == e.stmt_id);
        *st = ID_QUEUED;
        s->queued++;
        s->order[s->n_order++] = (uint32_t)e.stmt_id;
    } else if (rc == 1) {
        check(*st == ID_AT_PUSH && l->count == before);
    } else {
        check(*st == ID_NEW && l->count == before);
        *st = ID_REFUSED;
    }
}

/* Reply types the ledger knows, so that most script bytes mean something. */
static const char reply_types[] = "123tTnDCIsZEVNSAGHdcW";

/* Whether sw_ledger_reply answers type without the slow path: rows and
 * results at phase 0 of a Query, rows of an Execute (ledger.h). */
static int fast_case(const sw_ledger *l, uint8_t type)
{
    if (!l->count) return 0;
    const sw_owed *h = ring_at(l, 0);
    return h->phase == 0 && ((h->kind == SW_OWE_QUERY && (type == 'D' || type == 'T' || type == 'C')) ||
                             (h->kind == SW_OWE_EXECUTE && type == 'D'));
}

/* The fast path's answer must be exactly what the slow path gives, and
 * the slow path must leave such an entry where it was. */
static void check_fast_path(sw_ledger *l, uint8_t type, sw_reply fast)
{
    uint8_t kind = ring_at(l, 0)->kind;
    sw_reply slow = sw_ledger_reply_slow(l, type);
    check(slow.verdict == fast.verdict && slow.kind == fast.kind && slow.owner == fast.owner &&
          slow.error == fast.error);
    check(l->count && ring_at(l, 0)->kind == kind && ring_at(l, 0)->phase == 0);
}

static void op_reply(sw_ledger *l, shadow *s, uint8_t type, int slow)
{
    uint32_t before = l->count;
    int head_fake = before && ring_at(l, 0)->kind == SW_OWE_FAKE;
    uint8_t head_kind = before ? ring_at(l, 0)->kind : 0xff;
    uint8_t head_owner = before ? ring_at(l, 0)->owner : 0xff;
    int fast = !slow && fast_case(l, type);
    s->told_now = 0;
    sw_reply r = slow ? sw_ledger_reply_slow(l, type) : sw_ledger_reply(l, type);
    int async = type == 'N' || type == 'S' || type == 'A';
    check(r.verdict <= SW_REPLY_BAD);
    check((r.verdict == SW_REPLY_ASYNC) == async);
    if (head_fake && !async) check(r.verdict == SW_REPLY_BAD);
    if (r.verdict == SW_REPLY_LAST) {
        check(l->count < before && r.kind == head_kind && r.owner == head_owner);
    } else {
        check(l->count == before);
        if (r.verdict == SW_REPLY_PART) check(r.kind == head_kind && r.owner == head_owner);
    }
    uint32_t silent = scan(l, s);
    check(silent <= 1);
    if (r.verdict != SW_REPLY_LAST) check(silent == 0);
    else check(silent + s->told_now >= 1);
    if (fast) check_fast_path(l, type, r);
}

static void op_pop_fake(sw_ledger *l, shadow *s)
{
    int had = sw_ledger_fake(l) != NULL;
    uint32_t before = l->count;
    s->told_now = 0;
    sw_ledger_pop_fake(l);
    check(had ? l->count < before : l->count == before);
    check(scan(l, s) == (uint32_t)had && s->told_now == 0);
}

/* The connection dies: everything queued is told LOST, nothing silently. */
static void op_lost(sw_ledger *l, shadow *s)
{
    uint32_t client = 0, client_ready = 0;
    for (uint32_t i = 0; i < l->count; i++) {
        const sw_owed *e = ring_at(l, i);
        if (e->owner != SW_OWNER_CLIENT || e->kind == SW_OWE_GONE) continue;
        client++;
        if (owes_ready(e->kind)) client_ready++;
    }
    s->e_owed = s->z_owed = 0;
    sw_ledger_lost(l, on_owe, s);
    check(l->count == 0 && !l->skipping && !l->absorbing && l->n_copy_ends == 0);
    check(scan(l, s) == 0 && s->queued == 0);
    check(s->z_owed <= client_ready && s->e_owed <= client);
}

static void op_restart(sw_ledger *l, shadow *s)
{
    sw_ledger_free(l);
    check(scan(l, s) == 0 && s->queued == 0);
    sw_ledger_init(l, on_retire, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    shadow s = {.n_ids = 0, .pushing = UINT32_MAX};
    s.state = calloc(size + 1, 1);  /* at most one push per input byte */
    s.order = calloc(size + 1, sizeof *s.order);
    if (!s.state || !s.order) abort();
    sw_ledger l;
    sw_ledger_init(&l, on_retire, &s);

    for (size_t i = 0; i < size; i++) {
        uint8_t op = data[i] & 7, arg = data[i] >> 3;
        uint8_t extra = i + 1 < size ? data[i + 1] : 0;
        switch (op) {
        case 0: case 1: case 2:
            op_push(&l, &s, arg, extra);
            if (arg % 10 == SW_OWE_FAKE) i++;  /* extra chose the fake type */
            break;
        case 3: case 4: {
            uint8_t type = arg < sizeof reply_types - 1 ? (uint8_t)reply_types[arg] : extra;
            if (arg >= sizeof reply_types - 1) i++;
            op_reply(&l, &s, type, op == 4);
            break;
        }
        case 5:
            sw_ledger_copy_end(&l);
            check(scan(&l, &s) == 0);
            break;
        case 6:
            op_pop_fake(&l, &s);
            break;
        default:
            if (arg == 0) op_lost(&l, &s);
            else if (arg == 1) op_restart(&l, &s);
            break;
        }
        check_predicates(&l);
    }
    op_restart(&l, &s);
    sw_ledger_free(&l);
    free(s.state);
    free(s.order);
    return 0;
}
