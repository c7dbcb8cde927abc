/*
 * raw.c - `sw_itest malformed` and `sw_itest oversized`: hostile bytes on a
 * plain TCP socket, no libpq.
 *
 * A proxy parses every client packet before PostgreSQL sees it, so it is
 * the one that must cope with lengths that lie, garbage instead of a
 * startup packet and messages too large to buffer.  The contract checked
 * here: each bad input is answered with an ErrorResponse (08P01, or 0A000
 * for an unsupported protocol version) or a closed connection -- promptly,
 * never a hang -- and a well-formed session on the same listener still
 * works afterwards.  `oversized` additionally requires that a message whose
 * length word exceeds the limit is refused from its header alone, without
 * waiting for a body that never comes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "itest.h"

#define RECV_TIMEOUT_S 5
#define PROTO_3_0 196608u

static const char *g_host, *g_port;

static int raw_connect(void)
{
    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(g_host, g_port, &hints, &ai);
    if (rc != 0)
        IT_FAIL("getaddrinfo %s:%s: %s", g_host, g_port, gai_strerror(rc));
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        IT_FAIL("socket: %s", strerror(errno));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        IT_FAIL("connect %s:%s: %s", g_host, g_port, strerror(errno));
    freeaddrinfo(ai);
    /* The receive timeout is what turns a hang into a reported failure. */
    struct timeval tv = {RECV_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

/* Send everything; false if the peer already hung up (which is allowed:
 * it may close as soon as it has seen enough of a bad packet). */
static bool send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EPIPE || errno == ECONNRESET)
                return false;
            IT_FAIL("send: %s", strerror(errno));
        }
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* 1 = read n bytes, 0 = connection closed/reset, -1 = timed out. */
static int read_full(int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = recv(fd, c, n, 0);
        if (r == 0)
            return 0;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return -1;
            if (errno == ECONNRESET)
                return 0;
            IT_FAIL("recv: %s", strerror(errno));
        }
        c += r;
        n -= (size_t)r;
    }
    return 1;
}

typedef struct msg {
    char type;
    uint32_t len; /* body length */
    char *body;   /* NUL-terminated copy */
} msg;

static int read_msg(int fd, msg *m)
{
    unsigned char hdr[5];
    int rc = read_full(fd, hdr, 5);
    if (rc != 1)
        return rc;
    uint32_t len;
    memcpy(&len, hdr + 1, 4);
    len = ntohl(len);
    if (len < 4 || len > (1u << 24))
        IT_FAIL("server sent message '%c' with implausible length %u", hdr[0], len);
    m->type = (char)hdr[0];
    m->len = len - 4;
    free(m->body);
    m->body = malloc(m->len + 1);
    if (!m->body)
        IT_FAIL("out of memory");
    rc = read_full(fd, m->body, m->len);
    if (rc != 1)
        return rc;
    m->body[m->len] = '\0';
    return 1;
}

/* Fetch one field ('C' = SQLSTATE, 'M' = message) of an ErrorResponse. */
static const char *error_field(const msg *m, char code)
{
    const char *p = m->body, *end = m->body + m->len;
    while (p < end && *p) {
        char c = *p++;
        if (c == code)
            return p;
        p += strlen(p) + 1;
    }
    return "";
}

static void put32(unsigned char *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, 4);
}

/* Read until an ErrorResponse or the end of the connection.  The SQLSTATE
 * must be one of allowed (NULL-terminated); a close is acceptable unless
 * close_ok is false.  Returns the time it took. */
static double expect_reject(int fd, const char *const *allowed, bool close_ok, const char *what)
{
    double t0 = it_now();
    msg m = {0};
    for (;;) {
        int rc = read_msg(fd, &m);
        if (rc < 0)
            IT_FAIL("%s: no reply and no close within %d s (hang)", what, RECV_TIMEOUT_S);
        if (rc == 0) {
            if (!close_ok)
                IT_FAIL("%s: connection closed without an ErrorResponse", what);
            it_note("%s: connection closed (%.2f s)", what, it_now() - t0);
            break;
        }
        if (m.type == 'N' || m.type == 'S' || m.type == 'K')
            continue;
        if (m.type != 'E')
            IT_FAIL("%s: expected rejection, got message '%c'", what, m.type);
        const char *state = error_field(&m, 'C');
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(state, *a) == 0;
        if (!ok)
            IT_FAIL("%s: unexpected SQLSTATE %s: %s", what, state, error_field(&m, 'M'));
        it_note("%s: rejected with %s \"%s\" (%.2f s)", what, state, error_field(&m, 'M'),
                it_now() - t0);
        break;
    }
    free(m.body);
    close(fd);
    return it_now() - t0;
}

static size_t startup_packet(unsigned char *buf, size_t cap, const char *user, const char *db)
{
    size_t n = 8;
    const char *kv[] = {"user", user, "database", db, "application_name", "sw_itest_raw"};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        size_t l = strlen(kv[i]) + 1;
        if (n + l + 1 > cap)
            IT_FAIL("startup packet too long");
        memcpy(buf + n, kv[i], l);
        n += l;
    }
    buf[n++] = '\0';
    put32(buf, (uint32_t)n);
    put32(buf + 4, PROTO_3_0);
    return n;
}

/* Log in with a StartupMessage; handles trust and cleartext password only
 * (enough for the trust user the scripts use).  Returns at ReadyForQuery. */
static int raw_login(const char *user, const char *db, const char *password)
{
    int fd = raw_connect();
    unsigned char pkt[1024];
    size_t n = startup_packet(pkt, sizeof pkt, user, db);
    if (!send_all(fd, pkt, n))
        IT_FAIL("login: connection closed while sending the startup packet");
    msg m = {0};
    for (;;) {
        int rc = read_msg(fd, &m);
        if (rc != 1)
            IT_FAIL("login as %s: %s", user, rc == 0 ? "connection closed" : "timed out");
        if (m.type == 'R') {
            uint32_t code;
            memcpy(&code, m.body, 4);
            code = ntohl(code);
            if (code == 0)
                continue;
            if (code == 3 && password) {
                size_t pl = strlen(password) + 1;
                unsigned char hdr[5] = {'p'};
                put32(hdr + 1, (uint32_t)(pl + 4));
                send_all(fd, hdr, 5);
                send_all(fd, password, pl);
                continue;
            }
            IT_FAIL("login as %s: authentication request %u not supported by the raw client "
                    "(use a trust user)",
                    user, code);
        }
        if (m.type == 'E')
            IT_FAIL("login as %s rejected: %s %s", user, error_field(&m, 'C'),
                    error_field(&m, 'M'));
        if (m.type == 'Z')
            break;
    }
    free(m.body);
    return fd;
}

/* A simple Query that must produce one row with value "1"; bytewise sends
 * the message one byte at a time to exercise reassembly of split reads. */
static void raw_select1(int fd, bool bytewise, const char *what)
{
    static const char sql[] = "SELECT 1";
    unsigned char q[64] = {'Q'};
    put32(q + 1, (uint32_t)(4 + sizeof sql));
    memcpy(q + 5, sql, sizeof sql);
    size_t n = 5 + sizeof sql;
    for (size_t i = 0; i < n; i += bytewise ? 1 : n) {
        if (!send_all(fd, q + i, bytewise ? 1 : n))
            IT_FAIL("%s: connection closed while sending", what);
        if (bytewise)
            it_sleep_ms(2);
    }
    msg m = {0};
    bool saw_row = false;
    for (;;) {
        int rc = read_msg(fd, &m);
        if (rc != 1)
            IT_FAIL("%s: %s", what, rc == 0 ? "connection closed" : "timed out");
        if (m.type == 'E')
            IT_FAIL("%s: error %s %s", what, error_field(&m, 'C'), error_field(&m, 'M'));
        if (m.type == 'D') {
            /* int16 column count, int32 length, value */
            if (m.len < 7 || m.body[6] != '1')
                IT_FAIL("%s: unexpected DataRow", what);
            saw_row = true;
        }
        if (m.type == 'Z')
            break;
    }
    if (!saw_row)
        IT_FAIL("%s: no DataRow", what);
    free(m.body);
}

static void send_msg(int fd, char type, const void *body, size_t len_claimed, size_t len_sent)
{
    unsigned char hdr[5] = {(unsigned char)type};
    put32(hdr + 1, (uint32_t)len_claimed);
    if (send_all(fd, hdr, 5) && len_sent)
        send_all(fd, body, len_sent);
}

int cmd_malformed(int argc, char **argv)
{
    g_host = argv[0];
    g_port = argv[1];
    const char *user = argc > 2 ? argv[2] : "sw_trust";
    const char *db = argc > 3 ? argv[3] : "shop";
    static const char *const proto_err[] = {"08P01", NULL};
    static const char *const version_err[] = {"08P01", "0A000", NULL};
    unsigned char pkt[1024];
    int fd;

    /* Startup packet whose length word is below the minimum. */
    fd = raw_connect();
    put32(pkt, 3);
    send_all(fd, pkt, 4);
    expect_reject(fd, proto_err, true, "startup length 3");

    /* Startup packet claiming 2 GB: must be refused from the header. */
    fd = raw_connect();
    put32(pkt, 0x7fffffffu);
    put32(pkt + 4, PROTO_3_0);
    send_all(fd, pkt, 8);
    expect_reject(fd, proto_err, true, "startup length 2^31-1");

    /* Not PostgreSQL at all: an HTTP request. */
    fd = raw_connect();
    static const char http[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    send_all(fd, http, sizeof http - 1);
    expect_reject(fd, proto_err, true, "HTTP request");

    /* Random garbage with a plausible length. */
    fd = raw_connect();
    put32(pkt, 64);
    for (int i = 4; i < 64; i++)
        pkt[i] = (unsigned char)(i * 37 + 11);
    send_all(fd, pkt, 64);
    expect_reject(fd, version_err, true, "garbage startup body");

    /* Valid protocol 3.0 but the parameter list lacks its terminator. */
    fd = raw_connect();
    {
        static const char kv[] = "user\0sw_trust"; /* no final "\0\0" */
        size_t n = 8 + sizeof kv - 1;
        put32(pkt, (uint32_t)n);
        put32(pkt + 4, PROTO_3_0);
        memcpy(pkt + 8, kv, sizeof kv - 1);
        send_all(fd, pkt, n);
    }
    expect_reject(fd, proto_err, true, "unterminated startup parameters");

    /* Unsupported protocol version 9.9. */
    fd = raw_connect();
    {
        size_t n = startup_packet(pkt, sizeof pkt, user, db);
        put32(pkt + 4, (9u << 16) | 9u);
        send_all(fd, pkt, n);
    }
    expect_reject(fd, version_err, true, "protocol version 9.9");

    /* After a valid login: a message length word below 4. */
    fd = raw_login(user, db, NULL);
    send_msg(fd, 'Q', "SELECT 1", 2, 8);
    expect_reject(fd, proto_err, true, "message length 2 after login");

    /* After a valid login: an unknown message type. */
    fd = raw_login(user, db, NULL);
    send_msg(fd, 'z', NULL, 4, 0);
    expect_reject(fd, proto_err, true, "unknown message type 'z'");

    /* After a valid login: a Parse whose strings are not terminated. */
    fd = raw_login(user, db, NULL);
    send_msg(fd, 'P', "abcd", 8, 4);
    unsigned char sync[5] = {'S'};
    put32(sync + 1, 4);
    send_all(fd, sync, 5);
    expect_reject(fd, proto_err, true, "unterminated Parse");

    /* After a valid login: a Query with an empty, unterminated body. */
    fd = raw_login(user, db, NULL);
    send_msg(fd, 'Q', NULL, 4, 0);
    expect_reject(fd, proto_err, true, "Query without terminator");

    /* The listener is still healthy: a normal session, with the query
     * dribbled one byte at a time. */
    fd = raw_login(user, db, NULL);
    raw_select1(fd, false, "SELECT 1 after malformed input");
    raw_select1(fd, true, "SELECT 1 sent byte by byte");
    close(fd);
    it_note("ok");
    return 0;
}

int cmd_oversized(int argc, char **argv)
{
    g_host = argv[0];
    g_port = argv[1];
    const char *user = argv[2], *password = argv[3], *db = argv[4];
    char *end;
    unsigned long size = strtoul(argv[5], &end, 10);
    bool close_ok = argc > 6 && strcmp(argv[6], "--allow-close") == 0;
    if (*end || size < 5 || size > 0xffffffffUL)
        IT_FAIL("bad SIZE '%s'", argv[5]);
    static const char *const proto_err[] = {"08P01", NULL};

    int fd = raw_login(user, db, *password ? password : NULL);
    raw_select1(fd, false, "SELECT 1 before the oversized message");
    /* Claim size bytes, send a few: only the header can justify a reply. */
    send_msg(fd, 'Q', "SELECT 1", (size_t)size, 8);
    double took = expect_reject(fd, proto_err, close_ok, "oversized Query");
    if (took > 3.0)
        IT_FAIL("oversized Query: rejection took %.2f s; it must not wait for the body", took);

    /* Same right after login, before any query, with an extended-protocol
     * message type. */
    fd = raw_login(user, db, *password ? password : NULL);
    send_msg(fd, 'P', "\0SELECT 1\0\0", (size_t)size, 12);
    took = expect_reject(fd, proto_err, close_ok, "oversized Parse");
    if (took > 3.0)
        IT_FAIL("oversized Parse: rejection took %.2f s", took);

    fd = raw_login(user, db, *password ? password : NULL);
    raw_select1(fd, false, "SELECT 1 after oversized messages");
    close(fd);
    it_note("ok");
    return 0;
}
