/*
 * ledger.h - what a server connection owes, message by message.
 *
 * Every message shardwire sends to a server that the server answers gets an
 * entry, in order: the client's own messages and the ones shardwire injects
 * (settings, BEGIN replays, on-demand Parses), each marked with its owner.
 * Every message the server sends is consumed against the head entry by the
 * rules of the protocol (which replies each request may get, in which
 * order, where an error ends it, that an error in an extended-protocol
 * message makes the server skip everything up to Sync, that a server in
 * COPY IN ignores Sync).  A reply that does not fit is a violation: the
 * caller closes that server connection, it never guesses.
 *
 * Pure: no libuv, no sockets.  The caller learns through the retire
 * callback of every entry that leaves the ledger other than by a full answer
 * (failed, skipped by the server, absorbed by a COPY, lost with the
 * connection) and of every Parse, which is where it keeps its statement
 * bookkeeping honest.
 */
#ifndef SW_LEDGER_H
#define SW_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What an entry stands for: the request that was sent. */
typedef enum sw_owe_kind {
    SW_OWE_PARSE,          /* '1' */
    SW_OWE_BIND,           /* '2' */
    SW_OWE_DESCRIBE_STMT,  /* 't' then 'T' or 'n' */
    SW_OWE_DESCRIBE_PORTAL,/* 'T' or 'n' */
    SW_OWE_EXECUTE,        /* rows, then 'C', 'I' or 's'; or a COPY */
    SW_OWE_CLOSE,          /* '3' */
    SW_OWE_SYNC,           /* 'Z' (an error first when the commit fails) */
    SW_OWE_QUERY,          /* any number of results, then 'Z' */
    SW_OWE_FUNCTION,       /* 'V' or an error, then 'Z' */
    SW_OWE_FAKE,           /* nothing from the server: shardwire answers here itself */
    SW_OWE_GONE            /* absorbed in place (a Sync inside COPY IN); never at the head */
} sw_owe_kind;

/* Who the replies belong to. */
typedef enum sw_owner {
    SW_OWNER_CLIENT,
    SW_OWNER_PROXY,        /* shardwire's own request (settings, BEGIN replay, Parse) */
    SW_OWNER_COMMIT,       /* a step of shardwire's two-phase commit: success or
                            * error, the replies go to the commit, not the client */
    SW_OWNER_ABORT         /* shardwire's request that must fail (a Query, or
                            * a Bind of a statement that does not exist),
                            * aborting the server's transaction as the
                            * client's failed request would have: success
                            * is a violation */
} sw_owner;

/* How an entry left the ledger. */
typedef enum sw_retire {
    SW_RETIRE_OK,          /* answered in full */
    SW_RETIRE_FAILED,      /* answered with an ErrorResponse */
    SW_RETIRE_SKIPPED,     /* the server ignored it (after an error, until Sync) */
    SW_RETIRE_ABSORBED,    /* a Sync the server read as part of a COPY IN */
    SW_RETIRE_LOST         /* the connection went away first */
} sw_retire;

typedef struct sw_owed {
    uint8_t kind;          /* sw_owe_kind */
    uint8_t owner;         /* sw_owner */
    uint8_t phase;         /* progress through the reply (ledger.c) */
    uint8_t fake_type;     /* SW_OWE_FAKE: '1', '2', '3', 'n', 'E' ... */
    uint32_t seq;          /* order of sending */
    uint64_t stmt_id;      /* PARSE: the statement it creates on the server */
    uint64_t name_hash;    /* PARSE / FAKE '1': the client's name it creates */
    char *error;           /* FAKE 'E': "SQLSTATE\0message\0" (owned by the ledger) */
} sw_owed;

typedef void (*sw_ledger_retire_fn)(void *ctx, const sw_owed *e, sw_retire how);

typedef struct sw_ledger {
    sw_owed *items;        /* ring, cap a power of two */
    uint32_t cap, head, count;
    uint32_t next_seq;
    bool skipping;         /* an extended-protocol error: the server ignores all until Sync */
    bool absorbing;        /* in COPY IN with the client's CopyDone/CopyFail not yet sent */
    uint8_t n_copy_ends;
    uint32_t copy_end[8];  /* seq positions where the client ended a COPY */
    int n_proxy_parses;    /* injected Parses not yet answered */
    int n_ready;           /* Syncs, Queries, FunctionCalls owed: ReadyForQuery still to come */
    bool past_ready;       /* requests were answered since the last ReadyForQuery (a Flush):
                            * its transaction status is stale */
    sw_ledger_retire_fn retire;
    void *ctx;
} sw_ledger;

/* The verdict on one server message. */
typedef enum sw_reply_verdict {
    SW_REPLY_ASYNC,        /* NoticeResponse, ParameterStatus, NotificationResponse */
    SW_REPLY_PART,         /* part of the head entry's reply; it goes on */
    SW_REPLY_LAST,         /* completes the head entry (retired before return) */
    SW_REPLY_BAD           /* does not fit what is owed: close the server */
} sw_reply_verdict;

typedef struct sw_reply {
    uint8_t verdict;       /* sw_reply_verdict */
    uint8_t kind;          /* the entry it belongs to */
    uint8_t owner;
    bool error;            /* an ErrorResponse that ends or fails the entry */
} sw_reply;

/* Empty ledger; retire (may be NULL) hears of every entry that leaves
 * without its full answer (FAILED, SKIPPED, ABSORBED, LOST), and of every
 * Parse however it left (what exists on the server depends on it); other
 * answered entries leave silently, the common case costs no call. */
void sw_ledger_init(sw_ledger *l, sw_ledger_retire_fn retire, void *ctx);
/* Free everything; entries still owed retire as LOST. */
void sw_ledger_free(sw_ledger *l);

/* Record a request just sent (or, for FAKE, an answer shardwire owes at
 * this place), described by *e (kind, owner, stmt_id, name_hash, fake_type,
 * error; the ledger takes error).  Returns 0 when queued, 1 when the server
 * will not answer it and it was retired at once (SKIPPED while the server
 * skips to Sync, ABSORBED for a Sync inside COPY IN), -1 when it cannot be
 * owed (out of memory, a non-copy message sent during COPY IN, an injected
 * Query while the server skips): the caller closes the server. */
int sw_ledger_push(sw_ledger *l, const sw_owed *e);
/* The client's CopyDone or CopyFail was just sent. */
void sw_ledger_copy_end(sw_ledger *l);

/* Consume one server message of type `type`.  FAKE entries must be taken
 * off the head first (sw_ledger_fake): a reply with a FAKE at the head is
 * BAD. */
sw_reply sw_ledger_reply_slow(sw_ledger *l, uint8_t type);
static inline sw_reply sw_ledger_reply(sw_ledger *l, uint8_t type)
{
    /* Rows and results inside a running Query or Execute: most replies. */
    if (l->count) {
        const sw_owed *e = &l->items[l->head];
        if (e->phase == 0 && ((e->kind == SW_OWE_QUERY && (type == 'D' || type == 'T' || type == 'C')) ||
                              (e->kind == SW_OWE_EXECUTE && type == 'D'))) {
            sw_reply r = {.verdict = SW_REPLY_PART, .kind = e->kind, .owner = e->owner, .error = false};
            return r;
        }
    }
    return sw_ledger_reply_slow(l, type);
}

/* The FAKE entry at the head, or NULL; sw_ledger_pop_fake retires it. */
static inline sw_owed *sw_ledger_fake(sw_ledger *l)
{
    sw_owed *e = l->count ? &l->items[l->head] : NULL;
    return e && e->kind == SW_OWE_FAKE ? e : NULL;
}
void sw_ledger_pop_fake(sw_ledger *l);

/* Nothing owed and the server not skipping or in COPY: it may be reused. */
static inline bool sw_ledger_quiet(const sw_ledger *l)
{
    return l->count == 0 && !l->skipping && !l->absorbing;
}
/* The server owes replies it can send without hearing from the client
 * again: something is owed and the server is not waiting for COPY data. */
bool sw_ledger_server_busy(const sw_ledger *l);
/* Nothing owed, and the last thing the server said was ReadyForQuery: its
 * status is current, the connection may be given back. */
static inline bool sw_ledger_at_rest(const sw_ledger *l)
{
    return sw_ledger_quiet(l) && !l->past_ready;
}
/* Anything owed to the client (not only to shardwire)? */
bool sw_ledger_owes_client(const sw_ledger *l);

/* The connection is gone: what the client is still owed, in order.  For
 * each batch it has outstanding, `owe` is called with 'E' where an
 * ErrorResponse is owed (once per batch, none where the server already sent
 * one) and 'Z' for each ReadyForQuery (a Sync, a Query, a FunctionCall).
 * Returns true when the client's last batch is open (no Sync yet): its
 * messages up to the Sync must be dropped.  Every entry retires LOST. */
bool sw_ledger_lost(sw_ledger *l, void (*owe)(void *ctx, char what), void *ctx);

#endif
