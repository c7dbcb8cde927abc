/*
 * ledger.c - the replies a server connection owes, consumed strictly.
 *
 * The rules are PostgreSQL's (postgres.c, the protocol chapter): each
 * request gets a fixed shape of reply; an ErrorResponse to an extended-
 * protocol message (Parse, Bind, Describe, Execute, Close) makes the server
 * ignore every message until Sync, simple Query and FunctionCall included;
 * an error inside a simple Query or FunctionCall still ends with
 * ReadyForQuery; a server in COPY IN reads Sync and Flush as part of the
 * copy and ignores them.  NoticeResponse, ParameterStatus and
 * NotificationResponse may come at any time.  Anything else out of place is
 * a violation the caller acts on by closing the connection.
 */
#include <stdlib.h>
#include <string.h>

#include "sw/ledger.h"

/* Progress through an entry's reply. */
enum {
    PH_START = 0,
    PH_PARAMS,   /* Describe of a statement: ParameterDescription seen */
    PH_RESULT,   /* FunctionCall: FunctionCallResponse seen */
    PH_COPYIN,   /* CopyInResponse seen: rows come from the client */
    PH_COPYOUT,  /* CopyOutResponse seen: CopyData until CopyDone */
    PH_FAILED    /* an ErrorResponse was part of it: only ReadyForQuery may follow */
};

static inline sw_owed *at(const sw_ledger *l, uint32_t i)
{
    return &l->items[(l->head + i) & (l->cap - 1)];
}

static inline sw_owed *head(const sw_ledger *l) { return l->count ? at(l, 0) : NULL; }

void sw_ledger_init(sw_ledger *l, sw_ledger_retire_fn retire, void *ctx)
{
    memset(l, 0, sizeof *l);
    l->retire = retire;
    l->ctx = ctx;
}

/* Tell the owner an entry is leaving; queued says it was counted. */
static void tell(sw_ledger *l, sw_owed *e, sw_retire how, bool queued)
{
    if (queued && e->kind == SW_OWE_PARSE && e->owner == SW_OWNER_PROXY) l->n_proxy_parses--;
    if (queued && (e->kind == SW_OWE_SYNC || e->kind == SW_OWE_QUERY || e->kind == SW_OWE_FUNCTION)) l->n_ready--;
    if ((how != SW_RETIRE_OK || e->kind == SW_OWE_PARSE) && e->kind != SW_OWE_GONE && l->retire)
        l->retire(l->ctx, e, how);
    if (e->error) {
        free(e->error);
        e->error = NULL;
    }
}

/* Retire the head entry, then any absorbed entries it uncovers. */
static void pop(sw_ledger *l, sw_retire how)
{
    uint8_t k = head(l)->kind;
    if (how == SW_RETIRE_OK || how == SW_RETIRE_FAILED)  /* the server answered it */
        l->past_ready = !(k == SW_OWE_SYNC || k == SW_OWE_QUERY || k == SW_OWE_FUNCTION);
    tell(l, head(l), how, true);
    l->head = (l->head + 1) & (l->cap - 1);
    l->count--;
    while (l->count && head(l)->kind == SW_OWE_GONE) {
        l->head = (l->head + 1) & (l->cap - 1);
        l->count--;
    }
}

void sw_ledger_free(sw_ledger *l)
{
    while (l->count) pop(l, SW_RETIRE_LOST);
    free(l->items);
    l->items = NULL;
    l->cap = 0;
    l->skipping = l->absorbing = false;
}

static bool grow(sw_ledger *l)
{
    if (l->count < l->cap) return true;
    uint32_t ncap = l->cap ? l->cap * 2 : 16;
    if (ncap < l->cap) return false;
    sw_owed *ni = malloc((size_t)ncap * sizeof *ni);
    if (!ni) return false;
    for (uint32_t i = 0; i < l->count; i++) ni[i] = *at(l, i);
    free(l->items);
    l->items = ni;
    l->cap = ncap;
    l->head = 0;
    return true;
}

int sw_ledger_push(sw_ledger *l, const sw_owed *proto)
{
    sw_owed e = *proto;
    e.phase = PH_START;
    e.seq = l->next_seq++;
    if (l->absorbing) {
        /* COPY IN: the server reads the client's messages as copy data.
         * Sync and Flush are ignored there; anything else would end the
         * copy with an error we do not model. */
        if (e.kind != SW_OWE_SYNC) {
            free(e.error);
            return -1;
        }
        tell(l, &e, SW_RETIRE_ABSORBED, false);
        return 1;
    }
    if (l->skipping && e.kind != SW_OWE_SYNC) {
        if (e.owner == SW_OWNER_PROXY && e.kind != SW_OWE_PARSE) {
            /* shardwire's own Query would be ignored: its effect is unknown */
            free(e.error);
            return -1;
        }
        tell(l, &e, SW_RETIRE_SKIPPED, false);
        return 1;
    }
    if (!grow(l)) {
        free(e.error);
        return -1;
    }
    if (e.kind == SW_OWE_SYNC) l->skipping = false;
    if (e.kind == SW_OWE_PARSE && e.owner == SW_OWNER_PROXY) l->n_proxy_parses++;
    if (e.kind == SW_OWE_SYNC || e.kind == SW_OWE_QUERY || e.kind == SW_OWE_FUNCTION) l->n_ready++;
    *at(l, l->count) = e;
    l->count++;
    return 0;
}

void sw_ledger_copy_end(sw_ledger *l)
{
    if (l->absorbing) {
        l->absorbing = false;
        return;
    }
    if (l->n_copy_ends == sizeof l->copy_end / sizeof l->copy_end[0]) {
        memmove(l->copy_end, l->copy_end + 1, sizeof l->copy_end - sizeof l->copy_end[0]);
        l->n_copy_ends--;
    }
    l->copy_end[l->n_copy_ends++] = l->next_seq;
}

/* The head entry got CopyInResponse: the messages the client sent after it
 * and before its CopyDone/CopyFail are read by the copy.  Returns false
 * when one of them is not a Sync (the copy would fail on it). */
static bool enter_copy_in(sw_ledger *l)
{
    uint32_t from = head(l)->seq;
    /* The first copy end after this request; older ones were strays. */
    uint32_t end = 0;
    bool have_end = false;
    int k = 0;
    while (k < l->n_copy_ends && (int32_t)(l->copy_end[k] - from) <= 0) k++;
    if (k < l->n_copy_ends) {
        end = l->copy_end[k];
        have_end = true;
        k++;
    }
    memmove(l->copy_end, l->copy_end + k, (size_t)(l->n_copy_ends - k) * sizeof l->copy_end[0]);
    l->n_copy_ends = (uint8_t)(l->n_copy_ends - k);
    for (uint32_t i = 1; i < l->count; i++) {
        sw_owed *e = at(l, i);
        if (have_end && (int32_t)(e->seq - end) >= 0) break;
        if (e->kind == SW_OWE_GONE) continue;
        if (e->kind != SW_OWE_SYNC) return false;
        tell(l, e, SW_RETIRE_ABSORBED, true);
        e->kind = SW_OWE_GONE;
    }
    if (!have_end) l->absorbing = true;
    head(l)->phase = PH_COPYIN;
    return true;
}

static sw_reply verdict(const sw_owed *e, sw_reply_verdict v, bool error)
{
    sw_reply r = {.verdict = (uint8_t)v, .kind = e->kind, .owner = e->owner, .error = error};
    return r;
}

static sw_reply bad(void)
{
    sw_reply r = {.verdict = SW_REPLY_BAD};
    return r;
}

/* An extended-protocol message failed: it and everything up to the next
 * Sync are done; with no Sync sent yet, later requests are skipped too. */
static sw_reply fail_extended(sw_ledger *l)
{
    sw_reply r = verdict(head(l), SW_REPLY_LAST, true);
    pop(l, SW_RETIRE_FAILED);
    while (l->count && head(l)->kind != SW_OWE_SYNC) pop(l, SW_RETIRE_SKIPPED);
    if (!l->count) l->skipping = true;
    else head(l)->phase = PH_FAILED;  /* its batch has had its error */
    if (l->absorbing) l->absorbing = false;  /* a failed copy reads no more */
    return r;
}

static sw_reply last(sw_ledger *l, sw_retire how, bool error)
{
    sw_reply r = verdict(head(l), SW_REPLY_LAST, error);
    pop(l, how);
    return r;
}

static sw_reply part(sw_owed *e, uint8_t phase, bool error)
{
    e->phase = phase;
    return verdict(e, SW_REPLY_PART, error);
}

/* A copy in either direction inside a Query or an Execute. */
static bool copy_step(sw_ledger *l, sw_owed *e, uint8_t type, sw_reply *r)
{
    switch (e->phase) {
    case PH_COPYOUT:
        if (type == 'd') { *r = part(e, PH_COPYOUT, false); return true; }
        if (type == 'c') { *r = part(e, PH_START, false); return true; }
        break;
    case PH_COPYIN:
        break;
    default:
        if (type == 'H') { *r = part(e, PH_COPYOUT, false); return true; }
        if (type == 'G') {
            *r = enter_copy_in(l) ? part(e, PH_COPYIN, false) : bad();
            return true;
        }
        break;
    }
    return false;
}

sw_reply sw_ledger_reply_slow(sw_ledger *l, uint8_t type)
{
    if (type == 'N' || type == 'S' || type == 'A') {
        sw_reply r = {.verdict = SW_REPLY_ASYNC};
        return r;
    }
    sw_owed *e = head(l);
    if (!e || e->kind == SW_OWE_FAKE) return bad();
    sw_reply r;
    switch (e->kind) {
    case SW_OWE_PARSE:
        if (type == '1') return last(l, SW_RETIRE_OK, false);
        if (type == 'E') return fail_extended(l);
        return bad();
    case SW_OWE_BIND:
        if (type == '2') return e->owner == SW_OWNER_ABORT ? bad() : last(l, SW_RETIRE_OK, false);
        if (type == 'E') return fail_extended(l);
        return bad();
    case SW_OWE_CLOSE:
        if (type == '3') return last(l, SW_RETIRE_OK, false);
        if (type == 'E') return fail_extended(l);
        return bad();
    case SW_OWE_DESCRIBE_STMT:
        if (type == 'E') return fail_extended(l);
        if (e->phase == PH_START) return type == 't' ? part(e, PH_PARAMS, false) : bad();
        if (type == 'T' || type == 'n') return last(l, SW_RETIRE_OK, false);
        return bad();
    case SW_OWE_DESCRIBE_PORTAL:
        if (type == 'T' || type == 'n') return last(l, SW_RETIRE_OK, false);
        if (type == 'E') return fail_extended(l);
        return bad();
    case SW_OWE_EXECUTE:
        if (type == 'D' && e->phase == PH_START) return part(e, PH_START, false);  /* the common case */
        if (type == 'E') return fail_extended(l);
        if (copy_step(l, e, type, &r)) return r;
        if (e->phase == PH_COPYIN) return type == 'C' ? last(l, SW_RETIRE_OK, false) : bad();
        if (e->phase != PH_START) return bad();
        if (type == 'D') return part(e, PH_START, false);
        if (type == 'C' || type == 'I' || type == 's') return last(l, SW_RETIRE_OK, false);
        return bad();
    case SW_OWE_SYNC:
        if (type == 'Z') return last(l, e->phase == PH_FAILED ? SW_RETIRE_FAILED : SW_RETIRE_OK, false);
        if (type == 'E' && e->phase == PH_START) return part(e, PH_FAILED, true);  /* the commit failed */
        return bad();
    case SW_OWE_QUERY:
        if (e->phase == PH_START && (type == 'T' || type == 'D' || type == 'C'))
            return part(e, PH_START, false);  /* the common case */
        if (e->phase == PH_FAILED) return type == 'Z' ? last(l, SW_RETIRE_FAILED, false) : bad();
        if (type == 'E') {
            if (l->absorbing) l->absorbing = false;
            return part(e, PH_FAILED, true);
        }
        if (copy_step(l, e, type, &r)) return r;
        if (e->phase == PH_COPYIN) return type == 'C' ? part(e, PH_START, false) : bad();
        if (e->phase != PH_START) return bad();
        if (type == 'T' || type == 'D' || type == 'C' || type == 'I') return part(e, PH_START, false);
        if (type == 'Z') return e->owner == SW_OWNER_ABORT ? bad() : last(l, SW_RETIRE_OK, false);
        return bad();
    case SW_OWE_FUNCTION:
        if (e->phase == PH_START) {
            if (type == 'V') return part(e, PH_RESULT, false);
            if (type == 'E') return part(e, PH_FAILED, true);
            return bad();
        }
        if (type == 'Z') return last(l, e->phase == PH_FAILED ? SW_RETIRE_FAILED : SW_RETIRE_OK, false);
        return bad();
    default:
        return bad();
    }
}

void sw_ledger_pop_fake(sw_ledger *l)
{
    if (sw_ledger_fake(l)) pop(l, SW_RETIRE_OK);
}

bool sw_ledger_server_busy(const sw_ledger *l)
{
    for (uint32_t i = 0; i < l->count; i++) {
        const sw_owed *e = at(l, i);
        if (e->kind == SW_OWE_FAKE || e->kind == SW_OWE_GONE) continue;
        return e->phase != PH_COPYIN || !l->absorbing;  /* in COPY IN until the client ends it */
    }
    return false;
}

bool sw_ledger_owes_client(const sw_ledger *l)
{
    if (l->skipping || l->absorbing) return true;
    for (uint32_t i = 0; i < l->count; i++)
        if (at(l, i)->owner == SW_OWNER_CLIENT && at(l, i)->kind != SW_OWE_GONE) return true;
    return false;
}

bool sw_ledger_lost(sw_ledger *l, void (*owe)(void *ctx, char what), void *ctx)
{
    /* Skipping means the error of the open batch was sent already. */
    bool erred = l->skipping;
    bool open = l->skipping;
    while (l->count) {
        sw_owed *e = head(l);
        if (e->owner == SW_OWNER_CLIENT) {
            switch (e->kind) {
            case SW_OWE_SYNC:
                if (!erred && e->phase != PH_FAILED) owe(ctx, 'E');
                owe(ctx, 'Z');
                erred = open = false;
                break;
            case SW_OWE_QUERY:
            case SW_OWE_FUNCTION:
                if (erred) break;  /* the server would have skipped it */
                if (e->phase != PH_FAILED) owe(ctx, 'E');
                owe(ctx, 'Z');
                break;
            case SW_OWE_GONE:
                break;
            default:  /* extended-protocol requests and shardwire's answers among them */
                if (!erred) owe(ctx, 'E');
                erred = open = true;
                break;
            }
        }
        pop(l, SW_RETIRE_LOST);
    }
    l->skipping = l->absorbing = false;
    l->n_copy_ends = 0;
    return open;
}
