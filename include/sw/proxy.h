/*
 * proxy.h - the proxy's runtime objects: connections (client and server
 * side), pools, prepared-statement registry and session parameter sets, and
 * the functions that move a client between states.
 *
 * Threading: everything runs on one libuv loop; nothing here is locked.
 *
 * Data path (PgBouncer's sbuf model): every connection owns one input
 * buffer.  Messages are parsed in place; whatever is forwarded unchanged is
 * written to the peer straight from that buffer, never copied.  Bytes that
 * shardwire itself produces (errors, rewritten headers, injected Parse or
 * SET statements) go to the destination's small generated-bytes buffer and
 * are interleaved in the same write as iovec parts.  While a write that
 * references a source buffer is in flight, the source neither reads nor
 * moves its buffer (backpressure); the write callback resumes it.
 */
#ifndef SW_PROXY_H
#define SW_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "sw/admin.h"
#include "sw/auth.h"
#include "sw/conf.h"
#include "sw/ledger.h"
#include "sw/map.h"
#include "sw/proto.h"
#include "sw/session.h"
#include "sw/route.h"
#include "sw/shard.h"

#define SW_IOV_MAX 16
#define SW_BUF_INITIAL 16384        /* initial input buffer per connection */
#define SW_BUF_WHOLE_MAX (256 * 1024) /* larger streamable messages pass through in pieces */

typedef struct sw_client sw_client;
typedef struct sw_server sw_server;
typedef struct sw_pool sw_pool;
typedef struct sw_conn sw_conn;

/* ------------------------------------------------------------------ buffers */

/* Input buffer.  Cursors, always done <= parse <= recv <= cap:
 *   [0, done)       garbage, reclaimed by compaction
 *   [done, parse)   processed bytes an in-flight write still points at
 *   [parse, recv)   received, not yet processed
 *   [recv, cap)     free space for the next read */
typedef struct sw_iobuf {
    uint8_t *data;
    uint32_t cap;
    uint32_t done;
    uint32_t parse;
    uint32_t recv;
} sw_iobuf;

/* One iovec part of an outgoing batch: either bytes in a source buffer
 * (ptr != NULL) or a range of the generated buffer (ptr == NULL, off). */
typedef struct sw_part {
    const uint8_t *ptr;
    uint32_t off;
    uint32_t len;
} sw_part;

/* Outgoing side of a connection. */
typedef struct sw_outq {
    sw_wbuf gen[2];        /* gen[cur] receives new bytes; gen[!cur] may be in flight */
    int cur;
    sw_part part[SW_IOV_MAX];
    int nparts;
    bool writing;          /* a uv_write is in flight */
    sw_conn *src;          /* connection whose buffer the in-flight write references */
    void *orphan;          /* a closed source's buffer, freed when the write completes */
    uv_write_t req;
    uv_buf_t bufs[SW_IOV_MAX];
} sw_outq;

typedef enum sw_conn_kind { SW_CONN_CLIENT, SW_CONN_SERVER, SW_CONN_CANCEL } sw_conn_kind;

/* The part common to both sides.  tcp must stay the first member: libuv
 * hands callbacks the handle, which is cast back to the connection. */
struct sw_conn {
    uv_tcp_t tcp;
    sw_conn_kind kind;
    sw_iobuf in;
    sw_outq out;
    bool reading;          /* uv_read_start is active */
    bool paused;           /* processing stopped until the peer's write completes */
    bool closing;          /* uv_close issued; freed in the close callback */
    uint32_t stream_left;  /* bytes of a message being passed through in pieces */
    bool stream_drop;      /* ...discard them instead of forwarding */
    uint64_t last_io_ms;   /* last time bytes were read, or written out */
};

/* ------------------------------------------------------------------ statements */

/* A prepared statement as the proxy knows it: one per distinct (query,
 * parameter types), shared by every client that prepared it, named on the
 * servers "sw_" + 32 hex digits of its XXH3-128. */
typedef struct sw_stmt {
    uint64_t id;           /* low 64 bits of the hash: key in server sets */
    char name[40];         /* server-side name */
    char *query;
    uint32_t query_len;
    uint16_t nparams;
    uint8_t *param_types;  /* 4 * nparams raw bytes */
    uint32_t refs;         /* client names pointing here */
    sw_plan *plan;         /* routing analysis, made at the first Parse under a router */
    const sw_router *plan_router; /* the router that made it */
    char *plan_error;      /* the statement does not parse: message for the client */
    struct sw_stmt_merge *merge; /* cross-shard merge plan, made at the first fan-out Bind */
} sw_stmt;

/* How a statement's answers from several shards merge (sw_merge_plan). */
typedef struct sw_stmt_merge {
    const sw_router *router;  /* the router it was planned under */
    int rc;                   /* sw_merge_plan's result: 1 concatenate, 0 merge, -1 refused */
    struct sw_merge_spec *spec;
    char *sql;                /* rc 0: text each shard runs */
    char sqlstate[6];
    char *msg;                /* rc -1 */
} sw_stmt_merge;
void sw_stmt_merge_free(sw_stmt_merge *m);

/* A client's own name for a statement. */
typedef struct sw_client_stmt {
    char *name;
    sw_stmt *stmt;
    bool unconfirmed;      /* its Parse (or shardwire's ParseComplete for it) is still in
                            * flight: the server may yet skip it */
    uint32_t batch;        /* the client's batch (sw_client.batch_no) that parsed it */
} sw_client_stmt;

/* Register (or find) the statement for a Parse; takes a reference. */
sw_stmt *sw_stmt_intern(const char *query, size_t qlen, uint16_t nparams, const uint8_t *types);
/* The id a statement of this text and types has (registered or not). */
uint64_t sw_stmt_id_of(const char *query, size_t qlen, uint16_t nparams, const uint8_t *types);
/* Drop a reference; frees the statement at zero. */
void sw_stmt_release(sw_stmt *s);
/* The name statement st has on server s (see sw_server.stmt_gen), in buf
 * when it is not st->name itself. */
struct sw_server;
const char *sw_server_stmt_name(const struct sw_server *s, const sw_stmt *st, char *buf, size_t bufsz);
/* Hash of a client statement name, the key of sw_client.stmts. */
uint64_t sw_stmt_name_hash(const char *name);

/* ------------------------------------------------------------------ server side */

typedef enum sw_server_state {
    SW_SERVER_CONNECTING,  /* TCP connect in progress */
    SW_SERVER_LOGIN,       /* startup/auth exchange */
    SW_SERVER_IDLE,        /* logged in, in its pool's idle list */
    SW_SERVER_ACTIVE,      /* linked to a client */
    SW_SERVER_RESETTING,   /* running the reset query before going idle */
    SW_SERVER_CLOSING
} sw_server_state;

struct sw_server {
    sw_conn c;
    sw_server_state state;
    sw_pool *pool;
    sw_client *client;     /* linked client, or NULL */
    sw_server *next, *prev;/* pool list membership (idle or active) */
    int32_t be_pid, be_key;
    char txn_status;       /* last ReadyForQuery status */
    bool dead;             /* connection lost or unusable: never reuse */
    sw_map stmts;          /* sw_stmt ids prepared on this connection */
    sw_paramset applied;   /* settings shardwire established here */
    sw_ledger owed;        /* what it owes, request by request (ledger.h) */
    bool faulted;          /* its replies no longer fit what it owes: close it */
    bool restoring;        /* the client's settings were sent (a hidden Query): nothing of the
                            * client's goes here until they are known to hold */
    uint32_t stmt_gen;     /* its statements are named sw_<hash>_<gen> once a cached plan went
                            * stale ("cached plan must not change result type"): a re-prepare
                            * then gets a fresh statement, not the stale one */
    bool session_state;    /* holds a pinned client's session state (sw/session.h): reset
                            * (pool.reset_query) or closed before another client uses it */
    char fault_state[6];   /* ...with this SQLSTATE and message for its client */
    char fault_msg[224];
    char fatal_state[6];   /* a FATAL it sent before going away, or "" */
    char *fatal_msg;
    bool fatal_forwarded;  /* ...and the client saw it (session mode) */
    uint64_t last_used_ms;
    uint64_t connect_start_ms; /* for the connect timeout (checked by the janitor) */
    uint64_t unawaited_ms; /* last janitor pass that found shardwire not waiting on it */
    sw_scram_client *scram;
    bool params_owner;     /* this login fills the pool's ParameterStatus cache */
    uv_getaddrinfo_t gai;
    uv_connect_t connect_req;
};

/* ------------------------------------------------------------------ pools */

/* Backend connections for one (node, client user); the node's database. */
struct sw_pool {
    char *key;             /* "node/user" */
    int node_index;        /* index in the config that created it */
    char *node_name;
    char *host;
    int port;
    char *database;
    char *server_user;
    char *server_password;
    int size;
    sw_pool_mode mode;
    int connect_timeout_ms;/* the node's connect_timeout */
    int query_timeout_ms;  /* the node's query_timeout, 0 = off */
    bool stale;            /* config changed: drain and close */
    sw_server *idle;       /* LIFO: the most recently used is hottest in caches */
    sw_server *active;     /* linked or resetting */
    sw_server *connecting; /* connecting or logging in */
    bool params_known;     /* the ParameterStatus cache is complete */
    bool have_addr;
    struct sockaddr_storage addr; /* resolved node address */
    int n_idle, n_active, n_connecting;
    sw_client *wait_head, *wait_tail;  /* clients queued for a server */
    int n_waiting;
    /* ParameterStatus values of the first server login, replayed to clients. */
    int n_params;
    char **param_names;
    char **param_values;
    uint64_t last_connect_fail_ms;
    char *last_connect_error;
    sw_pool *next;
};

/* The pool for (node, user) under the current config, created on demand. */
sw_pool *sw_pool_get(int node_index, const sw_conf_user *user);
/* Ask for a server for client: links at once when one is idle, otherwise
 * queues the client (and opens a connection if the pool has room).  The
 * client is told through sw_client_server_ready / sw_client_server_failed. */
void sw_pool_acquire(sw_pool *p, sw_client *client);
/* Remove client from the wait queue (timeout, disconnect). */
void sw_pool_cancel_wait(sw_pool *p, sw_client *client);
/* Give a server back: idle, reset first (session mode), or closed if dirty. */
void sw_pool_release(sw_server *s, bool clean);
/* A server finished login or reset: hand it to a waiter or park it idle. */
void sw_pool_server_ready(sw_server *s);
/* A server connection failed or closed; fail waiters when nothing is left to try. */
void sw_pool_server_gone(sw_server *s, const char *sqlstate, const char *why);
/* Periodic: idle timeouts, stale pools. */
void sw_pool_janitor(uint64_t now_ms);
/* Config reloaded: mark pools whose node or user changed as stale. */
void sw_pool_reconfigure(const sw_conf *conf);
void sw_pool_close_all(void);
int sw_pool_count_servers(void);

/* Open a new backend connection for p.  NULL on immediate failure. */
sw_server *sw_server_open(sw_pool *p);
/* Close a server connection (any state); freed in the close callback.  A
 * linked client is told with SQLSTATE 08006 and `why`. */
void sw_server_close(sw_server *s, const char *why);
/* The same with the SQLSTATE the linked client gets (57014 for a timeout). */
void sw_server_fail(sw_server *s, const char *sqlstate, const char *why);
/* A server message of `total` bytes is to be held whole: true when that is
 * within limits.max_server_message_size; otherwise s is failed (54000) and
 * false returned. */
bool sw_server_msg_fits(sw_server *s, uint32_t total);
/* Shardwire waits on s: it owes replies (or the rest of one), none of them
 * is here unprocessed, and s is being read.  query_timeout counts only then. */
bool sw_server_awaited(const sw_server *s);
/* Send the pool's reset query; the server goes idle when it completes. */
void sw_server_reset(sw_server *s);
/* Server side of the relay: process what the backend sent. */
void sw_server_process(sw_server *s);

/* ------------------------------------------------------------------ client side */

/* A statement sent to several targets whose replies make one answer. */
typedef enum sw_fan_kind {
    SW_FAN_NONE = 0,       /* no statement on several servers in progress */
    SW_FAN_TURNS,          /* targets reply in turn (the others are not read
                            * meanwhile), rows concatenated, the first
                            * description and the first error reach the
                            * client, counts summed, one ReadyForQuery */
    SW_FAN_MERGE           /* every target read at once, rows through the merger */
} sw_fan_kind;

/* Whether the answer has failed, and how. */
typedef enum sw_fan_failure {
    SW_FAN_FINE = 0,
    SW_FAN_SERVER_FAILED,  /* a target's error went to the client; the rest is drained */
    SW_FAN_MERGE_FAILED    /* the merger failed (its error, or a target's, was sent) */
} sw_fan_failure;

/* COPY ... TO STDOUT from several targets, concatenated in turn. */
typedef enum sw_fan_copy {
    SW_FAN_COPY_NONE = 0,
    SW_FAN_COPY_TEXT,      /* text or CSV without a header: as they come */
    SW_FAN_COPY_HEADER,    /* CSV HEADER: only the first target's header line is kept */
    SW_FAN_COPY_BINARY     /* binary: one file header, one trailer */
} sw_fan_copy;

/* Replies forwarded from the first target only. */
enum { SW_FAN_ONCE_PARSE = 1, SW_FAN_ONCE_BIND = 2, SW_FAN_ONCE_DESC = 4, SW_FAN_ONCE_PDESC = 8 };

typedef struct sw_fan {
    sw_fan_kind kind;
    sw_fan_failure failure;
    int n;                 /* targets */
    int cur;               /* target now replying (SW_FAN_TURNS) */
    sw_server *srv[SW_MAX_NODES * 2];
    uint8_t once;          /* SW_FAN_ONCE_*: those already forwarded */
    char tag[32];          /* command word(s) of the first CommandComplete */
    uint64_t rows;         /* summed row count */
    bool have_count;       /* ...which a target's tag carried */
    char status;           /* combined ReadyForQuery status */
    bool copies;           /* the targets are copies of reference tables running one write:
                            * the first target's rows, count and notices are the answer */
    uint64_t copy_rows;    /* ...the first target's count, to check the others against */
    /* SW_FAN_MERGE */
    struct sw_merge *merge;
    struct sw_merge_spec *spec_owned; /* the spec, when not a statement's cached one */
    bool replied[SW_MAX_NODES * 2]; /* target i sent its ReadyForQuery */
    bool swallow_desc;     /* the RowDescription was asked for by shardwire, not the client */
    bool described[SW_MAX_NODES * 2]; /* target i sent its RowDescription */
    int n_described;       /* ...how many have: the client's goes out when all have (one
                            * target's error instead means PostgreSQL's answer is the error) */
    bool rows_done;        /* the merger wrote its last row */
    /* COPY TO (SW_FAN_TURNS) */
    sw_fan_copy copy;
    bool copy_done_seen;   /* a target sent CopyDone: one goes to the client at the end */
    bool copy_data_seen;   /* the current target sent CopyData already */
    bool copy_trailer;     /* a binary trailer was held back: one goes at the end */
    /* A split INSERT ... RETURNING: each target's rows are held (held[i],
     * the DataRow messages as they came) and go out at the end in the
     * order of the VALUES rows (order[k]: the target of row k), as one
     * server returns them -- and not at all when the statement fails. */
    struct sw_wbuf *held;
    int *order;
    int n_order;
    bool held_oom;         /* a row could not be held: the statement fails with 53200 */
} sw_fan;
typedef struct sw_copyin sw_copyin;

/* Whether a logged-in client's messages are processed as they come. */
typedef enum sw_client_flow {
    SW_FLOW_RUN = 0,       /* yes */
    SW_FLOW_STALLED,       /* the next one waits: for the linked servers' replies, a server or room */
    SW_FLOW_HELD           /* stopped after a Sync until the Parses sent on demand before it are confirmed */
} sw_client_flow;

typedef enum sw_client_state {
    SW_CLIENT_STARTUP,     /* waiting for the startup packet */
    SW_CLIENT_AUTH,        /* password exchange in progress */
    SW_CLIENT_LOGIN,       /* authenticated; waiting for a server to complete login */
    SW_CLIENT_IDLE,        /* logged in, no server linked */
    SW_CLIENT_WAITING,     /* queued for a server */
    SW_CLIENT_ACTIVE,      /* linked to a server */
    SW_CLIENT_CLOSING
} sw_client_state;

/* A pipelined batch (statements before one Sync) outside a transaction is
 * one transaction in PostgreSQL.  Once it reaches a second node shardwire
 * makes it an explicit one on every node it touches (a BEGIN converts
 * what the node ran of the batch so far) and commits it, two-phase, at the
 * client's Sync. */
typedef enum sw_batch_txn {
    SW_BATCH_NONE = 0,
    SW_BATCH_OPEN,     /* BEGIN sent to the batch's nodes */
    SW_BATCH_SYNCED,   /* the client's Sync came: the nodes got Syncs of shardwire's */
} sw_batch_txn;

struct sw_client {
    sw_conn c;
    sw_client_state state;
    char *user;
    char *database;
    char addr[64];
    const sw_conf_user *conf_user; /* valid only while conf_gen == sw_proxy.conf_gen */
    uint64_t conf_gen;
    int node_index;        /* default node of the database */
    sw_pool *pool;         /* pool of the default node, or of the node waited for */
    sw_server *server;     /* current server: receives the client's messages; or NULL */
    /* routing (databases with sharded tables) */
    bool console;          /* connected to the admin database "shardwire" */
    bool routed;           /* statements are routed by the shard map */
    sw_router *router;     /* shard map of the current transaction: a reload applies from the next one */
    sw_server *link[SW_MAX_NODES]; /* servers held in this transaction, by node */
    int n_links;
    uint64_t link_mask;    /* bit i: link[i] is held (SW_MAX_NODES is 64) */
    int want_node;         /* node a server is being acquired for */
    /* The router's answer for the statement at the parse cursor, kept while
     * it waits for quiet, a server or room: routed once, not again. */
    sw_route_out route;
    bool route_kept;
    uint32_t route_at;     /* parse cursor it was made at (moves on compaction: routed again) */
    const sw_router *route_router;
    sw_client_flow flow;   /* whether its messages are processed now (one setter: sw_client_set_flow) */
    sw_fan fan;
    struct sw_copyin *copyin; /* COPY FROM STDIN split over several shards (copyin.c) */
    int copy_key_pos;      /* COPY without a column list: key position + 1 once looked up */
    char *begin_sql;       /* the client's BEGIN, replayed on servers joining the transaction */
    bool proxy_failed;     /* shardwire refused a statement inside the transaction */
    /* Savepoints the transaction has set, oldest first (NAMEDATALEN names):
     * a node joining the transaction later gets them after its BEGIN, so
     * ROLLBACK TO and RELEASE act on every node it holds. */
    uint64_t wrote_mask;   /* bit i: the transaction sent node i a statement that may write */
    struct sw_commit *commit; /* two-phase commit in progress (commit.c), or NULL */
    bool implicit_txn;     /* a write on several nodes outside a transaction: shardwire opened
                            * one on each (BEGIN) and commits it atomically when it is done */
    uint64_t implicit_begun; /* ...nodes that got its BEGIN */
    uint64_t unsynced_mask; /* nodes sent extended-protocol requests since the client's last
                            * Sync: each gets a Sync of shardwire's with the client's */
    sw_batch_txn batch;    /* a pipelined batch outside a transaction that reached several nodes */
    uint32_t pins;         /* SW_PIN_*: session state that keeps the client on its servers */
    sw_paramset reported;  /* ParameterStatus of its transaction: what its SETs came to */
    bool after_restore;    /* its settings were just restored: its held statement goes first */
    char restore_state[6]; /* its settings could not be restored on a server: its next */
    char *restore_msg;     /* statement fails with this, and it starts over from its startup ones */
    char (*savepoints)[64];
    int n_savepoints, cap_savepoints;
    char *lost_msg;        /* a server died while the transaction idled: the next statement hears it */
    char *shard_override;  /* SET shardwire.shard */
    char *key_override;    /* SET shardwire.sharding_key */
    bool overrides_local;  /* set with SET LOCAL: cleared when the transaction ends */
    sw_client *wait_next;  /* pool wait queue */
    sw_client *next, *prev;/* all clients */
    /* Startup and authentication (states STARTUP, AUTH): bounded in time
     * (listen.auth_timeout) and number (listen.max_startup, oldest first). */
    sw_client *st_next, *st_prev; /* sw_g.startup list, oldest first */
    bool in_startup;       /* on that list */
    bool ssl_done, gss_done; /* SSLRequest / GSSENCRequest already answered */
    uint64_t accept_ms;
    uint64_t wait_start_ms;
    /* auth */
    sw_auth_method auth;
    sw_scram_server *scram;
    char md5_stored[36];
    uint8_t md5_salt[4];
    bool auth_unknown_user;
    /* identity handed to the client */
    int32_t pid, key;
    /* extended protocol */
    sw_map stmts;          /* sw_stmt_name_hash(name) -> sw_client_stmt */
    sw_server *unnamed_at; /* one-node databases: the linked server where an unnamed Parse of
                            * this client's was processed (it succeeded or failed, either way
                            * dropping whatever unnamed statement was there): what the server
                            * has unnamed is this client's or nothing.  Any other server's
                            * unnamed statement belongs to someone else. */
    uint32_t n_unconfirmed; /* client statements marked unconfirmed */
    uint32_t batch_no;     /* one-node databases: Syncs sent, numbering the client's batches */
    uint16_t unnamed_inflight; /* unnamed Parses sent to the linked server, not yet answered */
    bool unnamed_batch;    /* one of them since the last Sync: a Bind behind it in the same
                            * batch is skipped with it if it is skipped */
    bool skip_until_sync;  /* after a proxy-generated error, drop until Sync */
    /* session state */
    sw_paramset startup;   /* from the startup packet: what RESET returns to */
    sw_paramset wanted;    /* committed session settings */
    sw_sessops pending;    /* SET/RESET seen in the current transaction */
    bool txn_failed;       /* error or ROLLBACK seen since the transaction began */
    char txn_status;
    bool terminate_after_txn; /* shutting down: close once the transaction ends */
    uint64_t last_active_ms;
};

/* A pool linked a server to the waiting client. */
void sw_client_server_ready(sw_client *c, sw_server *s);
/* The pool could not provide a server. */
void sw_client_server_failed(sw_client *c, const char *sqlstate, const char *msg);
/* The linked server s died under the client: every reply it still owed the
 * client is answered (an error per batch, a ReadyForQuery per Sync), the
 * transaction, if any, is failed from the client's view. */
void sw_client_server_lost(sw_client *c, sw_server *s, const char *sqlstate, const char *msg);
/* Client side of the relay: process what the client sent. */
void sw_client_process(sw_client *c);
/* Unlink the server at the end of a transaction (transaction pooling). */
void sw_client_unlink(sw_client *c, bool clean);
/* Send an ErrorResponse (plus ReadyForQuery unless fatal) and flush. */
void sw_client_error(sw_client *c, const char *severity, const char *sqlstate, const char *msg,
                     const char *detail);
void sw_client_close(sw_client *c, const char *why);
/* Accept a new client on the listener. */
void sw_client_accept(uv_stream_t *listener);
/* Find the client owning a cancel key. */
sw_client *sw_client_by_key(int32_t pid, int32_t key);
void sw_client_close_all(const char *sqlstate, const char *msg);
/* SIGTERM: idle clients are told and closed, busy ones after their transaction. */
void sw_client_drain_all(void);
int sw_client_count(void);
/* Periodic: close connections whose startup/authentication outlived
 * listen.auth_timeout. */
void sw_client_startup_janitor(uint64_t now_ms);

/* Forward a CancelRequest to the server running a client's query. */
void sw_cancel_forward(sw_server *s);

/* ------------------------------------------------------------------ connections */

void sw_conn_init(sw_conn *c, sw_conn_kind kind);
/* Start reading into the input buffer; on data the owner's process runs. */
int sw_conn_read_start(sw_conn *c);
void sw_conn_read_stop(sw_conn *c);
/* Append a whole range of src's input buffer to dst's outgoing batch. */
void sw_out_src(sw_conn *dst, sw_conn *src, const uint8_t *p, uint32_t len);
/* The generated buffer new bytes for dst go to; call sw_out_gen_done after
 * appending to close the part. */
sw_wbuf *sw_out_gen(sw_conn *dst);
void sw_out_gen_done(sw_conn *dst, size_t start);
/* Write the batch.  0 when written or in flight, negative on error (the
 * caller closes the connection). */
int sw_out_flush(sw_conn *dst);
/* True when dst can take another message's parts now: when its batch is
 * full it is written first.  False while a write is in flight (or failed;
 * the caller finds out through the connection closing). */
/* The client's generated output is written out: a merge may go on. */
void sw_merged_drained(sw_client *c);

static inline bool sw_out_room(sw_conn *dst)
{
    if (dst->out.writing || dst->closing) return false;
    if (dst->out.nparts >= SW_IOV_MAX - 4 && sw_out_flush(dst) < 0) return false;
    return !dst->out.writing;
}
/* Make room so that `need` bytes fit after parse; false when impossible now
 * (a write still points into the buffer) or over the hard limit. */
bool sw_iobuf_make_room(sw_conn *c, uint32_t need);
/* c is going away while peer's outgoing batch may still point into c's
 * input buffer: hand the buffer to peer, which frees it once written. */
void sw_conn_detach_input(sw_conn *c, sw_conn *peer);
/* dst is closing: its queued write will be cancelled, so the source it
 * points into may reuse those bytes now (and must not be touched later). */
void sw_conn_forget_src(sw_conn *dst);
void sw_conn_free_buffers(sw_conn *c);
/* Close the handle; `freefn` runs in the close callback. */
void sw_conn_close(sw_conn *c, uv_close_cb freefn);

/* Recovery of prepared transactions (recover.c): start it (a run at
 * once, then every transactions.recovery_interval), follow a reload's
 * interval, stop it at shutdown. */
void sw_recover_init(void);
void sw_recover_reconfigure(void);
void sw_recover_stop(void);

/* ------------------------------------------------------------------ the proxy */

typedef struct sw_proxy {
    uv_loop_t *loop;
    sw_conf *conf;
    uint64_t conf_gen;
    const char *conf_path;
    uv_tcp_t listener;
    bool listening;
    bool shutting_down;
    uint64_t shutdown_deadline_ms;
    sw_client *clients;
    int n_clients;         /* every client connection, logged in or not */
    sw_client *startup_head, *startup_tail; /* still in startup/authentication, oldest first */
    int n_startup;
    sw_pool *pools;
    sw_map cancel_keys;    /* key -> client */
    sw_map stmt_registry;  /* id -> sw_stmt */
    sw_router *router;     /* shard map of conf */
    /* Replaced maps (with their configs) kept while a transaction routes by them. */
    struct { sw_router *router; sw_conf *conf; } retired[16];
    int n_retired;
    sw_admin_merge_stats merge_stats; /* SHOW MERGES */
    uv_timer_t janitor;
    uv_signal_t sighup, sigterm, sigint;
    int32_t next_pid;
} sw_proxy;

extern sw_proxy sw_g;

static inline uint64_t sw_now_ms(void) { return uv_now(sw_g.loop); }
/* Wall-clock milliseconds since 1970: IDs carry real time, and the routing
 * caches' TTLs use the same clock. */
static inline uint64_t sw_wall_ms(void)
{
    uv_timeval64_t tv;
    if (uv_gettimeofday(&tv) != 0) return uv_now(sw_g.loop);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}


#endif
