/*
 * protodiff.c - the differential protocol test: the same message sequence
 * sent to PostgreSQL directly and through shardwire, the replies compared
 * message by message.
 *
 * A seeded generator makes valid, invalid and adversarial sequences out of
 * the frontend protocol: pipelined extended-protocol batches, errors in the
 * middle of them (and simple Queries after the error, which PostgreSQL
 * skips until Sync), Flush, Describe of missing statements and portals,
 * Execute with row limits, named statements reused and closed, FunctionCall
 * with known and unknown OIDs, COPY in and out (and CopyFail), transaction
 * control, parameter counts up to 65535, Terminate in the middle.  Every
 * sequence ends with Sync and a probe query, so a stream left one reply
 * behind shows.
 *
 * Each side is a fresh connection (trust authentication).  What the server
 * sends after login is recorded as a trace, one token per message: its
 * type, with the SQLSTATE and severity of an ErrorResponse, the tag of a
 * CommandComplete, the status of ReadyForQuery, a hash of a DataRow, the
 * column names and types of a RowDescription.  Left out, as they differ by
 * design: BackendKeyData, the login's ParameterStatus messages, message
 * texts.  A side that stops answering records "timeout"; a closed
 * connection "eof".
 *
 * Usage:
 *   sw_protodiff [options] HOST_A PORT_A HOST_B PORT_B USER DB
 *     --seed N       first seed (default 1)
 *     --count N      sequences (default 100)
 *     --procs K      K processes at once, each its own seeds (default 1)
 *     --routed       only statements a sharded table t(id, v) answers the
 *                    same on one server and on several (keyed reads,
 *                    ordered fan-outs, extended batches one per Sync)
 *     --txnpool      shardwire pools in transaction mode: the unnamed
 *                    statement is named only in the batch that parsed it
 *     --case NAME    run one fixed regression case instead of generated ones
 *     --show         print each sequence and its traces
 * Exit status 0 when every trace matched; 1 with the first mismatch (seed,
 * sequence, both traces) on stderr; 3 when PostgreSQL itself dropped the
 * direct connection (a crash of its own) before any mismatch.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- buffers */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n) nc *= 2;
        b->p = realloc(b->p, nc);
        if (!b->p) abort();
        b->cap = nc;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void put8(buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 2);
}
static void put32(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}
static void putstr(buf *b, const char *s) { put(b, s, strlen(s) + 1); }

static size_t msg_start;
static void msg_begin(buf *b, char type)
{
    put8(b, (uint8_t)type);
    msg_start = b->len;
    put32(b, 0);
}
static void msg_end(buf *b)
{
    uint32_t n = (uint32_t)(b->len - msg_start);
    b->p[msg_start] = (uint8_t)(n >> 24);
    b->p[msg_start + 1] = (uint8_t)(n >> 16);
    b->p[msg_start + 2] = (uint8_t)(n >> 8);
    b->p[msg_start + 3] = (uint8_t)n;
}

/* ---------------------------------------------------------------- a sequence */

/* The messages, and a readable listing of them. */
typedef struct seq {
    buf wire;
    buf text;
    bool terminated;       /* ends with Terminate: no probe */
} seq;

/* Transaction pooling: a client's unnamed statement lives on the server
 * it was parsed on, which the client may not have after its Sync; the
 * generator then names it only in the batch that parsed it. */
static bool txnpool, batch_unnamed;


static const char *stmt_ref(const char *name)
{
    return txnpool && !name[0] && !batch_unnamed ? "s1" : name;
}

static void note(seq *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(seq *s, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    put(&s->text, line, strlen(line));
    put8(&s->text, '\n');
}

static void m_query(seq *s, const char *sql)
{
    msg_begin(&s->wire, 'Q');
    putstr(&s->wire, sql);
    msg_end(&s->wire);
    note(s, "Query %s", sql);
}

static void m_parse(seq *s, const char *name, const char *sql, unsigned ntypes, uint32_t type)
{
    if (!name[0]) batch_unnamed = true;
    msg_begin(&s->wire, 'P');
    putstr(&s->wire, name);
    putstr(&s->wire, sql);
    put16(&s->wire, (uint16_t)ntypes);
    for (unsigned i = 0; i < ntypes; i++) put32(&s->wire, type);
    msg_end(&s->wire);
    note(s, "Parse name=\"%s\" types=%u %s", name, ntypes, sql);
}

/* nparams text values ("" entries become NULL) */
static void m_bind(seq *s, const char *portal, const char *stmt, unsigned nparams, const char *value)
{
    stmt = stmt_ref(stmt);
    msg_begin(&s->wire, 'B');
    putstr(&s->wire, portal);
    putstr(&s->wire, stmt);
    put16(&s->wire, 0);
    put16(&s->wire, (uint16_t)nparams);
    for (unsigned i = 0; i < nparams; i++) {
        if (i == 0 && value) {
            put32(&s->wire, (uint32_t)strlen(value));
            put(&s->wire, value, strlen(value));
        } else {
            put32(&s->wire, 0xffffffffu);
        }
    }
    put16(&s->wire, 0);
    msg_end(&s->wire);
    note(s, "Bind portal=\"%s\" stmt=\"%s\" params=%u first=%s", portal, stmt, nparams, value ? value : "NULL");
}

static void m_target(seq *s, char type, char kind, const char *name)
{
    if (kind == 'S') name = stmt_ref(name);
    msg_begin(&s->wire, type);
    put8(&s->wire, (uint8_t)kind);
    putstr(&s->wire, name);
    msg_end(&s->wire);
    note(s, "%s %c \"%s\"", type == 'D' ? "Describe" : "Close", kind, name);
}

static void m_execute(seq *s, const char *portal, uint32_t rows)
{
    msg_begin(&s->wire, 'E');
    putstr(&s->wire, portal);
    put32(&s->wire, rows);
    msg_end(&s->wire);
    note(s, "Execute \"%s\" rows=%u", portal, rows);
}

static void m_empty(seq *s, char type, const char *name)
{
    if (type == 'S') batch_unnamed = false;
    msg_begin(&s->wire, type);
    msg_end(&s->wire);
    note(s, "%s", name);
}

/* FunctionCall: binary int4 arguments, binary result. */
static void m_fcall(seq *s, uint32_t oid, int nargs, const int32_t *args)
{
    msg_begin(&s->wire, 'F');
    put32(&s->wire, oid);
    put16(&s->wire, 1);
    put16(&s->wire, 1);
    put16(&s->wire, (uint16_t)nargs);
    for (int i = 0; i < nargs; i++) {
        put32(&s->wire, 4);
        put32(&s->wire, (uint32_t)args[i]);
    }
    put16(&s->wire, 1);
    msg_end(&s->wire);
    note(s, "FunctionCall oid=%u nargs=%d", oid, nargs);
}

static void m_copydata(seq *s, const char *row)
{
    msg_begin(&s->wire, 'd');
    put(&s->wire, row, strlen(row));
    msg_end(&s->wire);
    note(s, "CopyData %.*s", (int)strcspn(row, "\n"), row);
}

static void m_copyfail(seq *s)
{
    msg_begin(&s->wire, 'f');
    putstr(&s->wire, "stopped");
    msg_end(&s->wire);
    note(s, "CopyFail");
}

/* ---------------------------------------------------------------- the generator */

static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? (uint32_t)(rng % n) : 0;
}

static const char *const stmt_names[] = {"", "s1", "s2", "nosuch"};

static const char *const portal_names[] = {"", "p1", "nosuch"};

/* Simple-protocol statements both setups answer alike.  Table t(id int
 * primary key, v text) holds ids 1..20; cp(x int) takes COPY rows. */
static const char *query_text(bool routed, char *tmp, size_t tmpsz)
{
    /* Session settings (SET) are left out: how they follow a client under
     * transaction pooling is checked by the settings tests. */
    /* Routed: ROLLBACK TO SAVEPOINT is left out -- after shardwire itself
     * failed a transaction it answers 25P02 where PostgreSQL would roll
     * back to the savepoint (savepoints across nodes: documented). */
    uint32_t k = rnd(routed ? 14 : 18);
    if (routed && k == 12) k = 11;
    switch (k) {
    case 0: snprintf(tmp, tmpsz, "SELECT v FROM t WHERE id = %u", rnd(25)); return tmp;
    case 1: return "SELECT count(*) FROM t";
    case 2: return "SELECT id, v FROM t ORDER BY id";
    case 3: return "SELECT 1/0";
    case 4: return "SELECT nosuchcolumn FROM t";
    case 5: return "BEGIN";
    case 6: return "COMMIT";
    case 7: return "ROLLBACK";
    case 8: return "";
    case 9: snprintf(tmp, tmpsz, "SELECT v FROM t WHERE id = %u; SELECT 2", rnd(25)); return tmp;
    case 10: return "SELECT 1; SELECT 1/0; SELECT 3";
    case 11: return "SAVEPOINT sp";
    case 12: return "ROLLBACK TO SAVEPOINT sp";
    case 13: return "SELEC syntax error";
    case 14: return "COPY t TO STDOUT";
    case 15: return "COPY (SELECT id FROM t ORDER BY id LIMIT 3) TO STDOUT WITH (FORMAT csv, HEADER)";
    case 16: return "SELECT pg_sleep(0.01)";
    default: return "SELECT 'a'::text || 'b'";
    }
}

static const char *parse_text(bool routed, unsigned *ntypes)
{
    *ntypes = 0;
    /* A routed database answers Parse itself after a grammar check (the
     * node is known only at Bind): an unknown column shows at Bind there,
     * not at Parse.  Documented; left out of routed sequences. */
    uint32_t k = rnd(routed ? 4 : 8);
    if (routed && k == 2) k = 4;
    switch (k) {
    case 0: *ntypes = 1; return "SELECT v FROM t WHERE id = $1";
    case 1: return "SELECT count(*) FROM t";
    case 2: return "SELECT nosuchcolumn FROM t";
    case 3: return "SELECT 1/0";
    case 4: return "SELEC broken";
    case 5: *ntypes = 1; return "SELECT $1::int + 1";
    case 6: return "SELECT generate_series(1, 5)";
    default: return "BEGIN";
    }
}

/* A routed database's batch: one request the way drivers send them,
 * then Sync.  (A statement that runs on several shards must be followed by
 * Sync there; and a Parse is answered after a grammar check, the node being
 * known only at Bind.  Both documented; adversarial mixes are left to the
 * one-node runs.) */
static void gen_batch_routed(seq *s)
{
    unsigned nt;
    const char *st = stmt_names[rnd(2)];
    char v[16];
    snprintf(v, sizeof v, "%u", rnd(25));
    switch (rnd(6)) {
    case 0: {
        const char *q = parse_text(true, &nt);
        m_parse(s, st, q, nt, nt ? 23 : 0);
        break;
    }
    case 1:
        m_bind(s, "", st, rnd(2), rnd(6) ? v : NULL);
        m_execute(s, "", 0);
        break;
    case 2: m_target(s, 'D', rnd(2) ? 'S' : 'P', st); break;
    case 3: m_target(s, 'C', 'S', st); break;
    default: {
        const char *q = parse_text(true, &nt);
        m_parse(s, "", q, nt, nt ? 23 : 0);
        m_bind(s, "", "", nt, v);
        m_target(s, 'D', 'P', "");
        m_execute(s, "", 0);
        break;
    }
    }
    m_empty(s, 'S', "Sync");
}

/* One extended-protocol batch: some of Parse, Bind, Describe, Execute,
 * Close, Flush; mostly ended by Sync. */
static void gen_batch(seq *s, bool routed)
{
    if (routed) {
        gen_batch_routed(s);
        return;
    }
    int n = 1 + (int)rnd(6);
    for (int i = 0; i < n; i++) {
        unsigned nt;
        const char *st = stmt_names[rnd(routed ? 2 : 4)];
        const char *po = portal_names[routed ? 0 : rnd(3)];
        switch (rnd(routed ? 4 : 8)) {
        case 0: {
            const char *q = parse_text(routed, &nt);
            /* A named Parse between transactions is answered by shardwire
             * after a grammar check (a client preparing synchronously must
             * not wait for a server): an unknown column shows at Bind, not
             * at Parse.  Documented; left out here. */
            if (strstr(q, "nosuchcolumn")) st = "";
            m_parse(s, st, q, nt, nt ? 23 : 0);
            break;
        }
        case 1: {
            char v[16];
            snprintf(v, sizeof v, "%u", rnd(25));
            m_bind(s, po, st, rnd(4) == 0 ? 0 : 1, rnd(6) ? v : NULL);
            break;
        }
        case 2: m_target(s, 'D', rnd(2) ? 'S' : 'P', rnd(2) ? st : po); break;
        case 3: m_execute(s, po, rnd(3) == 0 ? 1 + rnd(3) : 0); break;
        case 4: {
            m_target(s, 'C', rnd(2) ? 'S' : 'P', rnd(2) ? st : po);
            break;
        }
        case 5: m_empty(s, 'H', "Flush"); break;
        case 6: {
            char tmp[128];
            m_query(s, query_text(routed, tmp, sizeof tmp));  /* a Query inside the batch */
            break;
        }
        default: {
            /* a whole statement in one go, the way drivers send it */
            const char *q = parse_text(routed, &nt);
            char v[16];
            snprintf(v, sizeof v, "%u", rnd(25));
            m_parse(s, "", q, nt, nt ? 23 : 0);
            m_bind(s, "", "", nt, v);
            m_target(s, 'D', 'P', "");
            m_execute(s, "", 0);
            break;
        }
        }
    }
    if (rnd(8) != 0 || routed) m_empty(s, 'S', "Sync");
}

static void gen(seq *s, uint64_t seed, bool routed)
{
    rng = seed * 0x9e3779b97f4a7c15ull + 1;
    batch_unnamed = false;
    int steps = 1 + (int)rnd(8);
    char tmp[128];
    for (int i = 0; i < steps; i++) {
        uint32_t k = rnd(routed ? 10 : 14);
        if (k < 4) {
            m_query(s, query_text(routed, tmp, sizeof tmp));
        } else if (k < 8) {
            gen_batch(s, routed);
        } else if (k == 8) {
            int32_t args[2] = {(int32_t)rnd(100), (int32_t)rnd(100)};
            m_fcall(s, rnd(2) ? 177 : 1, 2, args);  /* int4pl, and an OID that names nothing */
        } else if (k == 9) {
            m_empty(s, 'S', "Sync");
        } else if (k == 10) {
            m_query(s, "COPY cp FROM STDIN");
            int rows = (int)rnd(3);
            for (int r = 0; r < rows; r++) m_copydata(s, rnd(5) ? "7\n" : "notanint\n");
            if (rnd(4) == 0) m_copyfail(s);
            else m_empty(s, 'c', "CopyDone");
        } else if (k == 11) {
            /* many parameters: PostgreSQL accepts up to 65535 */
            unsigned n = rnd(2) ? 40000 : 65535;
            m_parse(s, "", "SELECT $1::int", n, 23);
            m_bind(s, "", "", rnd(2) ? n : 1, "5");
            m_execute(s, "", 0);
            m_empty(s, 'S', "Sync");
        } else if (k == 12) {
            m_empty(s, 'c', "CopyDone (stray)");
        } else {
            /* Terminate right after a flush point: what PostgreSQL still
             * holds unflushed before it (a CloseComplete shardwire answers
             * itself, say) is lost there and sent here. */
            m_empty(s, 'S', "Sync");
            m_empty(s, 'X', "Terminate");
            s->terminated = true;
            return;
        }
    }
    m_empty(s, 'S', "Sync");
    m_query(s, "ROLLBACK");  /* a transaction left failed would refuse the probe */
    m_query(s, "SELECT 'probe-end'");
}

/* ---------------------------------------------------------------- fixed regression cases */

/* A batch whose Parse or Bind fails, a Query inside it (skipped until
 * Sync), then a Query after the Sync. */
static void error_then_query(seq *s, const char *sql, unsigned nparams, const char *value)
{
    m_parse(s, "", sql, nparams, nparams ? 23 : 0);
    m_bind(s, "", "", nparams, value);
    m_execute(s, "", 0);
    m_query(s, "SELECT 'skipped'");
    m_empty(s, 'S', "Sync");
    m_query(s, "SELECT 'after-sync'");
}

static bool gen_case(seq *s, const char *name)
{
    int32_t args[2] = {2, 3};
    if (strcmp(name, "fcall-unknown") == 0) {
        m_fcall(s, 1, 0, NULL);
        m_query(s, "SELECT 'after-fcall'");
    } else if (strcmp(name, "fcall-int4pl") == 0) {
        m_fcall(s, 177, 2, args);
        m_query(s, "SELECT 'after-fcall'");
    } else if (strcmp(name, "error-then-query") == 0) {
        error_then_query(s, "SELECT nosuchcolumn FROM t", 0, NULL);
    } else if (strcmp(name, "bind-error-then-query") == 0) {
        /* the same where the error is the Bind's (a bad key parameter) */
        error_then_query(s, "SELECT v FROM t WHERE id = $1", 1, "notanint");
    } else if (strcmp(name, "params-40000") == 0) {
        m_parse(s, "", "SELECT $1::int", 40000, 23);
        m_bind(s, "", "", 40000, "5");
        m_execute(s, "", 0);
        m_empty(s, 'S', "Sync");
    } else if (strcmp(name, "params-65535") == 0) {
        m_parse(s, "big", "SELECT $1::int", 65535, 23);
        m_bind(s, "", "big", 65535, "6");
        m_execute(s, "", 0);
        m_empty(s, 'S', "Sync");
    } else if (strcmp(name, "copy-extended") == 0) {
        m_parse(s, "", "COPY cp FROM STDIN", 0, 0);
        m_bind(s, "", "", 0, NULL);
        m_execute(s, "", 0);
        m_empty(s, 'S', "Sync");  /* read inside the copy and ignored, as libpq sends it */
        m_copydata(s, "1\n");
        m_empty(s, 'c', "CopyDone");
        m_empty(s, 'S', "Sync");
    } else {
        return false;
    }
    m_empty(s, 'S', "Sync");
    m_query(s, "ROLLBACK");
    m_query(s, "SELECT 'probe-end'");
    return true;
}

/* ---------------------------------------------------------------- running one side */

static int dial(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

typedef struct conn {
    int fd;
    buf in;
    size_t off;
} conn;

/* Next message; 1 with type/body, 0 on timeout, -1 on EOF. */
static int next_msg(conn *c, int timeout_ms, char *type, const uint8_t **body, uint32_t *len)
{
    for (;;) {
        size_t avail = c->in.len - c->off;
        if (avail >= 5) {
            const uint8_t *p = c->in.p + c->off;
            uint32_t n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
            if (n < 4) return -1;
            if (avail >= (size_t)n + 1) {
                *type = (char)p[0];
                *body = p + 5;
                *len = n - 4;
                c->off += (size_t)n + 1;
                return 1;
            }
        }
        struct pollfd pf = {.fd = c->fd, .events = POLLIN};
        int r = poll(&pf, 1, timeout_ms);
        if (r == 0) return 0;
        if (r < 0 && errno == EINTR) continue;
        uint8_t tmp[65536];
        ssize_t got = read(c->fd, tmp, sizeof tmp);
        if (got <= 0) return -1;
        put(&c->in, tmp, (size_t)got);
    }
}

static uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static const char *field(const uint8_t *b, uint32_t len, char code)
{
    uint32_t i = 0;
    while (i < len && b[i]) {
        char f = (char)b[i];
        const char *v = (const char *)b + i + 1;
        size_t vl = strnlen(v, len - i - 1);
        if (f == code) return v;
        i += 1 + (uint32_t)vl + 1;
    }
    return "";
}

/* One token of the trace for a message. */
static void token(buf *t, char type, const uint8_t *b, uint32_t len)
{
    char tok[300];
    switch (type) {
    case 'E':
    case 'N': {
        const char *sev = field(b, len, 'V');
        snprintf(tok, sizeof tok, "%c:%s:%s", type, field(b, len, 'C'), sev[0] ? sev : field(b, len, 'S'));
        break;
    }
    case 'C': snprintf(tok, sizeof tok, "C:%.*s", (int)strnlen((const char *)b, len), (const char *)b); break;
    case 'Z': snprintf(tok, sizeof tok, "Z%c", len ? b[0] : '?'); break;
    case 'D':
    case 'd':
    case 'V': snprintf(tok, sizeof tok, "%c:%08x", type, fnv(b, len)); break;
    case 'T': {
        /* names and type OIDs; table OIDs differ between servers */
        uint32_t h = 2166136261u;
        uint16_t n = len >= 2 ? (uint16_t)(b[0] << 8 | b[1]) : 0;
        uint32_t i = 2;
        for (uint16_t k = 0; k < n && i < len; k++) {
            size_t nl = strnlen((const char *)b + i, len - i);
            h = fnv(b + i, nl) ^ (h * 31);
            i += (uint32_t)nl + 1;
            if (i + 18 <= len) h = fnv(b + i + 6, 4) ^ (h * 31);  /* type OID */
            i += 18;
        }
        snprintf(tok, sizeof tok, "T:%u:%08x", n, h);
        break;
    }
    case 'S': snprintf(tok, sizeof tok, "S:%s", (const char *)b); break;
    case 'A': snprintf(tok, sizeof tok, "A"); break;
    default: snprintf(tok, sizeof tok, "%c", type); break;
    }
    put(t, tok, strlen(tok));
    put8(t, ' ');
}

/* Log in, send s, trace the replies until the probe is answered. */
static void run_side(const char *host, int port, const char *user, const char *db, const seq *s, buf *trace)
{
    conn c = {.fd = dial(host, port)};
    if (c.fd < 0) {
        put(trace, "connect-failed", 14);
        return;
    }
    buf st = {0};
    put32(&st, 0);
    put32(&st, 196608);
    putstr(&st, "user");
    putstr(&st, user);
    putstr(&st, "database");
    putstr(&st, db);
    put8(&st, 0);
    st.p[0] = (uint8_t)(st.len >> 24);
    st.p[1] = (uint8_t)(st.len >> 16);
    st.p[2] = (uint8_t)(st.len >> 8);
    st.p[3] = (uint8_t)st.len;
    if (write(c.fd, st.p, st.len) != (ssize_t)st.len) abort();
    free(st.p);
    char type;
    const uint8_t *body;
    uint32_t len;
    for (;;) {  /* login: up to ReadyForQuery, not traced */
        int r = next_msg(&c, 5000, &type, &body, &len);
        if (r <= 0) {
            put(trace, "login-failed", 12);
            close(c.fd);
            free(c.in.p);
            return;
        }
        if (type == 'E') {
            token(trace, type, body, len);
            close(c.fd);
            free(c.in.p);
            return;
        }
        if (type == 'Z') break;
    }
    /* Send everything at once (reading meanwhile would only matter for
     * sequences larger than the socket buffers, which these are not). */
    size_t sent = 0;
    while (sent < s->wire.len) {
        ssize_t w = write(c.fd, s->wire.p + sent, s->wire.len - sent);
        if (w <= 0) break;
        sent += (size_t)w;
    }
    bool probe_seen = false;
    for (;;) {
        int r = next_msg(&c, 1500, &type, &body, &len);
        if (r == 0) {
            put(trace, "timeout", 7);
            break;
        }
        if (r < 0) {
            put(trace, "eof", 3);
            break;
        }
        token(trace, type, body, len);
        if (type == 'D' && len >= 15 && memcmp(body + 6, "probe-end", 9) == 0) probe_seen = true;
        if (type == 'Z' && probe_seen) break;
    }
    close(c.fd);
    free(c.in.p);
}

/* ---------------------------------------------------------------- main */

static struct {
    const char *ha, *hb, *user, *db;
    int pa, pb;
    bool routed, show;
} o;

static int compare(uint64_t seed, const seq *s, const char *label)
{
    buf ta = {0}, tb = {0};
    run_side(o.ha, o.pa, o.user, o.db, s, &ta);
    run_side(o.hb, o.pb, o.user, o.db, s, &tb);
    put8(&ta, 0);
    put8(&tb, 0);
    int rc = strcmp((char *)ta.p, (char *)tb.p) != 0;
    size_t la = strlen((char *)ta.p);
    if (rc && !s->terminated && la >= 3 && strcmp((char *)ta.p + la - 3, "eof") == 0) {
        /* PostgreSQL itself dropped the connection (PostgreSQL 15 was seen to
         * crash on some sequences): not shardwire's finding, and the server
         * restarting spoils what follows. */
        fprintf(stderr, "POSTGRESQL FAILED %s (seed %llu): the direct connection closed; replay it against "
                        "PostgreSQL alone (both sides the same server)\n--- sequence\n%.*s--- direct\n%s\n",
                label, (unsigned long long)seed, (int)s->text.len, (char *)s->text.p, (char *)ta.p);
        rc = 3;
    }
    if (rc || o.show) {
        FILE *f = rc ? stderr : stdout;
        fprintf(f, "%s %s (seed %llu)\n--- sequence\n%.*s--- direct\n%s\n--- through shardwire\n%s\n",
                rc ? "MISMATCH" : "ok", label, (unsigned long long)seed, (int)s->text.len, (char *)s->text.p,
                (char *)ta.p, (char *)tb.p);
    }
    free(ta.p);
    free(tb.p);
    return rc;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1, count = 100;
    int procs = 1;
    const char *one_case = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--count") && i + 1 < argc) count = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--procs") && i + 1 < argc) procs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--case") && i + 1 < argc) one_case = argv[++i];
        else if (!strcmp(argv[i], "--routed")) o.routed = true;
        else if (!strcmp(argv[i], "--txnpool")) txnpool = true;
        else if (!strcmp(argv[i], "--show")) o.show = true;
        else break;
    }
    if (argc - i != 6) {
        fprintf(stderr, "usage: sw_protodiff [--seed N] [--count N] [--procs K] [--routed] [--case NAME] [--show] "
                        "HOST_A PORT_A HOST_B PORT_B USER DB\n");
        return 2;
    }
    o.ha = argv[i];
    o.pa = atoi(argv[i + 1]);
    o.hb = argv[i + 2];
    o.pb = atoi(argv[i + 3]);
    o.user = argv[i + 4];
    o.db = argv[i + 5];
    if (one_case) {
        seq s = {0};
        if (!gen_case(&s, one_case)) {
            fprintf(stderr, "sw_protodiff: no case named %s\n", one_case);
            return 2;
        }
        int rc = compare(0, &s, one_case);
        if (!rc) printf("ok %s\n", one_case);
        free(s.wire.p);
        free(s.text.p);
        return rc;
    }
    struct timespec ts0, ts1;
    clock_gettime(CLOCK_MONOTONIC, &ts0);
    int failed = 0;
    for (int p = 0; p < procs; p++) {
        pid_t pid = procs > 1 ? fork() : 0;
        if (pid < 0) return 2;
        if (pid > 0) continue;
        int rc = 0;
        for (uint64_t k = (uint64_t)p; k < count; k += (uint64_t)procs) {
            seq s = {0};
            gen(&s, seed + k, o.routed);
            char label[32];
            snprintf(label, sizeof label, "sequence %llu", (unsigned long long)k);
            rc = compare(seed + k, &s, label);
            free(s.wire.p);
            free(s.text.p);
            if (rc) break;
        }
        if (procs > 1) _exit(rc);
        failed = rc;
    }
    for (int p = 0; p < procs && procs > 1; p++) {
        int st;
        if (wait(&st) > 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
            if (failed != 1) failed = WIFEXITED(st) && WEXITSTATUS(st) == 3 ? 3 : 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts1);
    double secs = (double)(ts1.tv_sec - ts0.tv_sec) + (double)(ts1.tv_nsec - ts0.tv_nsec) / 1e9;
    printf("sw_protodiff: %llu sequences from seed %llu in %.1f s (%.0f/s), %s\n", (unsigned long long)count,
           (unsigned long long)seed, secs, secs > 0 ? (double)count / secs : 0.0, failed == 3 ? "PostgreSQL failed" : failed ? "MISMATCH" : "all identical");
    return failed;
}
