/*
 * death.c - raw-protocol clients for the server-death, pool-wait and
 * allocation-failure tests, where a check must see every message in order
 * (an extra ReadyForQuery, a missing error or a stream out of frame is
 * exactly what is being looked for, and libpq would hide or reject it):
 *
 *   sw_itest wire HOST PORT USER DB [PASSWORD]
 *       A line-driven client on a plain TCP socket (trust or cleartext
 *       login).  Prints "READY <pid>" (the BackendKeyData pid), then
 *       answers every line of stdin with exactly one line:
 *         Q <sql>          queue a Query                         -> OK
 *         B <sql>          queue Parse/Bind/Execute/Sync (unnamed) -> OK
 *         F <oid> [int4..] queue a FunctionCall, binary int4 args -> OK
 *         send             write everything queued at once       -> OK <bytes>
 *         sendbut N        write all but the last N queued bytes -> OK <bytes>
 *         recv N [SECONDS] read until N ReadyForQuery, a close or the
 *                          timeout (default 10)                  -> transcript
 *         drain MS         read whatever comes within MS ms      -> transcript
 *         q <sql>          Q + send + recv 1
 *         sleep MS                                               -> OK
 *       A transcript is the space-separated list of what arrived: 1 2 3 n s
 *       t T I (the one-letter replies), D(v1|v2) (NULL for null),
 *       C(tag), Z(status), V(int4 or NULL), E(SEVERITY SQLSTATE {message}),
 *       then "close" or "timeout" when the reading ended that way; "-" for
 *       nothing.  Notices, ParameterStatus and notifications are left out.
 *
 *   sw_itest fnmix HOST PORT USER DB [ROUNDS]
 *       4 raw clients sending FunctionCalls (unknown OID 1, and int4pl,
 *       OID 177, with two binary int4 arguments) pipelined and interleaved
 *       with Queries, inside and outside transactions, and 8 clients
 *       running SELECT <a number of their own> in simple and extended
 *       protocol, all at once (one process each).  Every reply is compared
 *       in full with what PostgreSQL sends; the first difference fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"

#define PROTO_3_0 196608u

/* ---- buffers and framing -------------------------------------------- */

typedef struct buf {
    unsigned char *p;
    size_t len, cap;
} buf;

static void buf_put(buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            IT_FAIL("out of memory");
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void buf_u8(buf *b, uint8_t v) { buf_put(b, &v, 1); }

static void buf_u16(buf *b, uint16_t v)
{
    v = htons(v);
    buf_put(b, &v, 2);
}

static void buf_u32(buf *b, uint32_t v)
{
    v = htonl(v);
    buf_put(b, &v, 4);
}

static void buf_str(buf *b, const char *s) { buf_put(b, s, strlen(s) + 1); }

/* Start a message of type t; msg_end fills in its length. */
static size_t msg_begin(buf *b, char t)
{
    buf_u8(b, (uint8_t)t);
    size_t at = b->len;
    buf_u32(b, 0);
    return at;
}

static void msg_end(buf *b, size_t at)
{
    uint32_t v = htonl((uint32_t)(b->len - at));
    memcpy(b->p + at, &v, 4);
}

static void put_query(buf *b, const char *sql)
{
    size_t at = msg_begin(b, 'Q');
    buf_str(b, sql);
    msg_end(b, at);
}

static void put_batch(buf *b, const char *sql)
{
    size_t at = msg_begin(b, 'P');
    buf_str(b, "");
    buf_str(b, sql);
    buf_u16(b, 0);
    msg_end(b, at);
    at = msg_begin(b, 'B');
    buf_str(b, "");
    buf_str(b, "");
    buf_u16(b, 0); /* parameter formats */
    buf_u16(b, 0); /* parameters */
    buf_u16(b, 0); /* result formats: all text */
    msg_end(b, at);
    at = msg_begin(b, 'E');
    buf_str(b, "");
    buf_u32(b, 0);
    msg_end(b, at);
    at = msg_begin(b, 'S');
    msg_end(b, at);
}

static void put_fcall(buf *b, uint32_t oid, int nargs, const int32_t *args)
{
    size_t at = msg_begin(b, 'F');
    buf_u32(b, oid);
    buf_u16(b, 1);
    buf_u16(b, 1); /* every argument binary */
    buf_u16(b, (uint16_t)nargs);
    for (int i = 0; i < nargs; i++) {
        buf_u32(b, 4);
        buf_u32(b, (uint32_t)args[i]);
    }
    buf_u16(b, 1); /* binary result */
    msg_end(b, at);
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

static uint16_t get16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return ntohs(v);
}

/* ---- the connection ---------------------------------------------------- */

typedef struct wconn {
    int fd;
    buf in;    /* received, not yet consumed */
    size_t at; /* consumed up to here */
    bool closed;
    int pid;
} wconn;

static int tcp_connect(const char *host, const char *port)
{
    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0)
        IT_FAIL("getaddrinfo %s:%s: %s", host, port, gai_strerror(rc));
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        IT_FAIL("socket: %s", strerror(errno));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        IT_FAIL("connect %s:%s: %s", host, port, strerror(errno));
    freeaddrinfo(ai);
    int one = 1;
    /* Every "send" must leave as the writes the test asks for. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void send_all(wconn *w, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = send(w->fd, c, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EPIPE || errno == ECONNRESET)
                return; /* the reply (a close) tells the rest */
            IT_FAIL("send: %s", strerror(errno));
        }
        c += k;
        n -= (size_t)k;
    }
}

/* Wait for more bytes until deadline (absolute, it_now()).  1 = got some,
 * 0 = closed, -1 = timed out. */
static int fill(wconn *w, double deadline)
{
    if (w->closed)
        return 0;
    for (;;) {
        int left = (int)((deadline - it_now()) * 1000);
        if (left < 0)
            left = 0;
        struct pollfd p = {.fd = w->fd, .events = POLLIN};
        int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return -1;
        unsigned char tmp[65536];
        ssize_t n = recv(w->fd, tmp, sizeof tmp, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            w->closed = true;
            return 0;
        }
        if (w->at > 0 && w->at == w->in.len)
            w->in.len = w->at = 0;
        buf_put(&w->in, tmp, (size_t)n);
        return 1;
    }
}

typedef struct wmsg {
    char type;
    const unsigned char *body;
    uint32_t len;
} wmsg;

/* The next whole message: 1, or 0 closed / -1 timed out first. */
static int next_msg(wconn *w, wmsg *m, double deadline)
{
    for (;;) {
        size_t avail = w->in.len - w->at;
        if (avail >= 5) {
            uint32_t len = get32(w->in.p + w->at + 1);
            if (len < 4 || len > (1u << 26))
                IT_FAIL("message '%c' with implausible length %u: the stream is out of frame",
                        w->in.p[w->at], len);
            if (avail >= 1 + (size_t)len) {
                m->type = (char)w->in.p[w->at];
                m->body = w->in.p + w->at + 5;
                m->len = len - 4;
                w->at += 1 + len;
                return 1;
            }
        }
        int r = fill(w, deadline);
        if (r != 1)
            return r;
    }
}

static const char *field(const wmsg *m, char code)
{
    const char *p = (const char *)m->body, *end = p + m->len;
    while (p < end && *p) {
        char c = *p++;
        if (c == code)
            return p;
        p += strlen(p) + 1;
    }
    return "";
}

/* Append the transcript token of m to out; false for messages that are
 * left out (asynchronous ones). */
static bool describe(const wmsg *m, buf *out)
{
    char tmp[1200];
    const unsigned char *p = m->body;
    switch (m->type) {
    case 'N':
    case 'S':
    case 'A':
    case 'K':
        return false;
    case 'D': {
        buf_put(out, "D(", 2);
        uint16_t n = m->len >= 2 ? get16(p) : 0;
        size_t o = 2;
        for (uint16_t i = 0; i < n && o + 4 <= m->len; i++) {
            if (i)
                buf_put(out, "|", 1);
            int32_t l = (int32_t)get32(p + o);
            o += 4;
            if (l < 0) {
                buf_put(out, "NULL", 4);
                continue;
            }
            for (int32_t k = 0; k < l && o + (size_t)k < m->len; k++) {
                char ch = (char)p[o + (size_t)k];
                buf_put(out, ch == ' ' ? "_" : ch == '\n' ? "~" : &ch, 1);
            }
            o += (size_t)l;
        }
        buf_put(out, ")", 1);
        return true;
    }
    case 'C':
        snprintf(tmp, sizeof tmp, "C(%.*s)", (int)(m->len ? m->len - 1 : 0), (const char *)p);
        break;
    case 'Z':
        snprintf(tmp, sizeof tmp, "Z(%c)", m->len ? (char)p[0] : '?');
        break;
    case 'V': {
        int32_t l = m->len >= 4 ? (int32_t)get32(p) : -2;
        if (l < 0)
            snprintf(tmp, sizeof tmp, "V(NULL)");
        else if (l == 4 && m->len >= 8)
            snprintf(tmp, sizeof tmp, "V(%d)", (int32_t)get32(p + 4));
        else
            snprintf(tmp, sizeof tmp, "V(%d bytes)", l);
        break;
    }
    case 'E':
        snprintf(tmp, sizeof tmp, "E(%s %s {%.900s})", field(m, 'V')[0] ? field(m, 'V') : field(m, 'S'),
                 field(m, 'C'), field(m, 'M'));
        for (char *c = tmp; *c; c++)
            if (*c == '\n')
                *c = ' ';
        break;
    default:
        snprintf(tmp, sizeof tmp, "%c", m->type);
        break;
    }
    buf_put(out, tmp, strlen(tmp));
    return true;
}

/* Read until nz ReadyForQuery (nz < 0: until the deadline), appending
 * the transcript to out (NUL-terminated). */
static void transcript(wconn *w, int nz, double deadline, buf *out)
{
    out->len = 0;
    int seen = 0;
    while (nz < 0 || seen < nz) {
        wmsg m;
        int r = next_msg(w, &m, deadline);
        if (r != 1) {
            if (r == 0 || nz >= 0) {
                if (out->len)
                    buf_put(out, " ", 1);
                const char *e = r == 0 ? "close" : "timeout";
                buf_put(out, e, strlen(e));
            }
            break;
        }
        if (m.type == 'N' || m.type == 'A')
            fprintf(stderr, "wire: async '%c': %s\n", m.type, field(&m, 'M'));
        size_t before = out->len;
        if (out->len)
            buf_put(out, " ", 1);
        if (!describe(&m, out))
            out->len = before;
        if (m.type == 'Z')
            seen++;
    }
    if (out->len == 0)
        buf_put(out, "-", 1);
    buf_u8(out, 0);
}

/* Log in with a startup packet; trust and cleartext password only. */
static void wire_login(wconn *w, const char *host, const char *port, const char *user, const char *db,
                       const char *password)
{
    memset(w, 0, sizeof *w);
    w->fd = tcp_connect(host, port);
    buf b = {0};
    buf_u32(&b, 0);
    buf_u32(&b, PROTO_3_0);
    buf_str(&b, "user");
    buf_str(&b, user);
    buf_str(&b, "database");
    buf_str(&b, db);
    buf_str(&b, "application_name");
    buf_str(&b, "sw_itest_wire");
    buf_u8(&b, 0);
    uint32_t n = htonl((uint32_t)b.len);
    memcpy(b.p, &n, 4);
    send_all(w, b.p, b.len);
    double deadline = it_now() + 20;
    for (;;) {
        wmsg m;
        int r = next_msg(w, &m, deadline);
        if (r != 1)
            IT_FAIL("login as %s: %s", user, r == 0 ? "connection closed" : "timed out");
        if (m.type == 'E') {
            printf("ERR %s %s\n", field(&m, 'C'), field(&m, 'M'));
            exit(1);
        }
        if (m.type == 'R') {
            uint32_t code = get32(m.body);
            if (code == 0)
                continue;
            if (code == 3 && password) {
                b.len = 0;
                size_t at = msg_begin(&b, 'p');
                buf_str(&b, password);
                msg_end(&b, at);
                send_all(w, b.p, b.len);
                continue;
            }
            IT_FAIL("login as %s: authentication request %u is not supported (use a trust user)", user, code);
        }
        if (m.type == 'K' && m.len >= 8)
            w->pid = (int)get32(m.body);
        if (m.type == 'Z')
            break;
    }
    free(b.p);
}

/* ---- wire ------------------------------------------------------------ */

int cmd_wire(int argc, char **argv)
{
    wconn w;
    wire_login(&w, argv[0], argv[1], argv[2], argv[3], argc > 4 && argv[4][0] ? argv[4] : NULL);
    printf("READY %d\n", w.pid);
    buf q = {0}, out = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        char *arg = strchr(line, ' ');
        arg = arg ? arg + 1 : line + n;
        if (strncmp(line, "Q ", 2) == 0) {
            put_query(&q, arg);
            puts("OK");
        } else if (strncmp(line, "B ", 2) == 0) {
            put_batch(&q, arg);
            puts("OK");
        } else if (strncmp(line, "F ", 2) == 0) {
            int32_t args[16];
            int na = 0;
            char *end;
            uint32_t oid = (uint32_t)strtoul(arg, &end, 10);
            while (*end == ' ' && na < 16)
                args[na++] = (int32_t)strtol(end + 1, &end, 10);
            put_fcall(&q, oid, na, args);
            puts("OK");
        } else if (strcmp(line, "send") == 0 || strncmp(line, "sendbut ", 8) == 0) {
            size_t keep = line[4] ? strtoul(arg, NULL, 10) : 0;
            if (keep > q.len)
                keep = q.len;
            size_t k = q.len - keep;
            send_all(&w, q.p, k);
            memmove(q.p, q.p + k, keep);
            q.len = keep;
            printf("OK %zu\n", k);
        } else if (strncmp(line, "recv ", 5) == 0 || strncmp(line, "q ", 2) == 0) {
            int nz = 1;
            double secs = 10;
            if (line[0] == 'q') {
                put_query(&q, arg);
                send_all(&w, q.p, q.len);
                q.len = 0;
            } else {
                char *end;
                nz = (int)strtol(arg, &end, 10);
                if (*end == ' ')
                    secs = strtod(end + 1, NULL);
            }
            transcript(&w, nz, it_now() + secs, &out);
            puts((char *)out.p);
        } else if (strncmp(line, "drain ", 6) == 0) {
            transcript(&w, -1, it_now() + atoi(arg) / 1000.0, &out);
            puts((char *)out.p);
        } else if (strncmp(line, "sleep ", 6) == 0) {
            it_sleep_ms(atoi(arg));
            puts("OK");
        } else {
            printf("BAD %s\n", line);
        }
        fflush(stdout);
    }
    free(line);
    free(q.p);
    free(out.p);
    close(w.fd);
    return 0;
}

/* ---- fnmix ----------------------------------------------------------- */

typedef struct fnctx {
    wconn w;
    buf q, out;
    int id;
    long checks;
} fnctx;

/* Send what is queued, read nz ReadyForQuery, require exactly want. */
static void exchange(fnctx *x, int nz, const char *want, const char *what)
{
    send_all(&x->w, x->q.p, x->q.len);
    x->q.len = 0;
    transcript(&x->w, nz, it_now() + 30, &x->out);
    if (strcmp((char *)x->out.p, want) != 0)
        IT_FAIL("client %d, %s:\n  expected: %s\n  got:      %s", x->id, what, want, (char *)x->out.p);
    x->checks++;
}

#define UNKNOWN_FN "E(ERROR 42883 {function with OID 1 does not exist})"

static void fn_client(fnctx *x, int rounds)
{
    char sql[64], sql2[64], want[512];
    for (int i = 0; i < rounds; i++) {
        long u = (long)x->id * 1000000L + i * 10L;
        int32_t ab[2] = {x->id * 1000 + i, 7 * i + 1};
        int32_t bad[2] = {1, 2};

        /* Unknown OID, then a Query in the same write. */
        snprintf(sql, sizeof sql, "SELECT %ld", u + 1);
        put_fcall(&x->q, 1, 2, bad);
        put_query(&x->q, sql);
        snprintf(want, sizeof want, UNKNOWN_FN " Z(I) T D(%ld) C(SELECT 1) Z(I)", u + 1);
        exchange(x, 2, want, "FunctionCall(OID 1) + Query");

        /* int4pl, then a Query in the same write. */
        snprintf(sql, sizeof sql, "SELECT %ld", u + 2);
        put_fcall(&x->q, 177, 2, ab);
        put_query(&x->q, sql);
        snprintf(want, sizeof want, "V(%d) Z(I) T D(%ld) C(SELECT 1) Z(I)", ab[0] + ab[1], u + 2);
        exchange(x, 2, want, "FunctionCall(int4pl) + Query");

        /* Each on its own round trip. */
        put_fcall(&x->q, 1, 0, NULL);
        exchange(x, 1, UNKNOWN_FN " Z(I)", "FunctionCall(OID 1) alone");
        snprintf(sql, sizeof sql, "SELECT %ld", u + 3);
        put_query(&x->q, sql);
        snprintf(want, sizeof want, "T D(%ld) C(SELECT 1) Z(I)", u + 3);
        exchange(x, 1, want, "Query after FunctionCall(OID 1)");

        /* Query, good call, bad call, extended batch, Query: one write. */
        snprintf(sql, sizeof sql, "SELECT %ld", u + 4);
        snprintf(sql2, sizeof sql2, "SELECT %ld", u + 5);
        put_query(&x->q, sql);
        put_fcall(&x->q, 177, 2, ab);
        put_fcall(&x->q, 1, 2, bad);
        put_batch(&x->q, sql2);
        snprintf(sql, sizeof sql, "SELECT %ld", u + 6);
        put_query(&x->q, sql);
        snprintf(want, sizeof want,
                 "T D(%ld) C(SELECT 1) Z(I) V(%d) Z(I) " UNKNOWN_FN " Z(I) 1 2 D(%ld) C(SELECT 1) Z(I) "
                 "T D(%ld) C(SELECT 1) Z(I)",
                 u + 4, ab[0] + ab[1], u + 5, u + 6);
        exchange(x, 5, want, "Query, calls, batch, Query in one write");

        /* Inside a transaction: the unknown OID fails it, as any error. */
        if (i % 4 == 0) {
            put_query(&x->q, "BEGIN");
            put_fcall(&x->q, 177, 2, ab);
            put_fcall(&x->q, 1, 0, NULL);
            put_query(&x->q, "SELECT 1");
            put_fcall(&x->q, 177, 2, ab);
            put_query(&x->q, "COMMIT");
            snprintf(want, sizeof want,
                     "C(BEGIN) Z(T) V(%d) Z(T) " UNKNOWN_FN " Z(E) "
                     "E(ERROR 25P02 {current transaction is aborted, commands ignored until end of transaction block}) Z(E) "
                     "E(ERROR 25P02 {current transaction is aborted, commands ignored until end of transaction block}) Z(E) "
                     "C(ROLLBACK) Z(I)",
                     ab[0] + ab[1]);
            exchange(x, 6, want, "FunctionCalls in a failed transaction");
        }
    }
}

static void query_client(fnctx *x, int rounds)
{
    char sql[64], want[256];
    for (int i = 0; i < rounds * 3; i++) {
        long u = (long)x->id * 1000000L + i;
        snprintf(sql, sizeof sql, "SELECT %ld", u);
        if (i % 3 == 2) {
            put_batch(&x->q, sql);
            snprintf(want, sizeof want, "1 2 D(%ld) C(SELECT 1) Z(I)", u);
        } else {
            put_query(&x->q, sql);
            snprintf(want, sizeof want, "T D(%ld) C(SELECT 1) Z(I)", u);
        }
        exchange(x, 1, want, "SELECT of its own number");
    }
}

int cmd_fnmix(int argc, char **argv)
{
    int rounds = argc > 4 ? atoi(argv[4]) : 100;
    enum { N_FN = 4, N_Q = 8 };
    pid_t pids[N_FN + N_Q];
    fflush(stdout);
    for (int k = 0; k < N_FN + N_Q; k++) {
        pid_t p = fork();
        if (p < 0)
            IT_FAIL("fork: %s", strerror(errno));
        if (p == 0) {
            fnctx x = {.id = k + 1};
            wire_login(&x.w, argv[0], argv[1], argv[2], argv[3], NULL);
            if (k < N_FN)
                fn_client(&x, rounds);
            else
                query_client(&x, rounds);
            close(x.w.fd);
            printf("client %d (%s): %ld exchanges as expected\n", x.id, k < N_FN ? "FunctionCall" : "SELECT",
                   x.checks);
            fflush(stdout);
            _exit(0);
        }
        pids[k] = p;
    }
    int failed = 0;
    for (int k = 0; k < N_FN + N_Q; k++) {
        int st;
        if (waitpid(pids[k], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed++;
    }
    if (failed)
        IT_FAIL("%d of %d clients saw a reply that was not theirs or not PostgreSQL's", failed, N_FN + N_Q);
    it_note("ok: %d clients, every reply their own", N_FN + N_Q);
    return 0;
}
