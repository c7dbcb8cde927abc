/*
 * bounds.c - peers that never finish logging in, on plain TCP sockets:
 *
 *   sw_itest startup-probe HOST PORT DB
 *       A fixed list of startup-phase inputs (bad lengths, HTTP, unknown
 *       protocol versions, SSLRequest sequences, a CancelRequest, wrong
 *       messages during md5 and SCRAM authentication, protocol options);
 *       for each, one line "case: what the server did" (close, N, R<code>,
 *       v<minor>/<options>, "E <severity> <SQLSTATE> <message>").  The
 *       script compares the whole transcript with PostgreSQL's, so the
 *       cases are chosen to be deterministic.
 *   sw_itest silent HOST PORT N CONNINFO
 *       N connections that send nothing; then a real login and SELECT 1
 *       with CONNINFO.  Prints "closed_before=K login_ms=T closed_after=K2":
 *       how many silent sockets the server had closed before and after the
 *       login.  Fails if the login fails.
 *   sw_itest slowlogin HOST PORT USER DB drip|stall
 *       drip: a valid startup packet, one byte every 200 ms; stall: the
 *       startup packet at once, then nothing after the server's first
 *       authentication request.  Prints "closed after S s, then sent: X"
 *       (X = none, or the message types that came after the first reply),
 *       or fails if the server never closes within 30 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "itest.h"

#define PROTO_3_0 196608u

static const char *g_host, *g_port;

static int tcp_connect(int recv_timeout_s)
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
    struct timeval tv = {recv_timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void put32(unsigned char *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, 4);
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

/* Send; a peer that already closed is fine (it may stop reading early). */
static void send_bytes(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        c += w;
        n -= (size_t)w;
    }
}

/* 1 = n bytes read, 0 = closed or reset, -1 = timed out. */
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
            return 0;
        }
        c += r;
        n -= (size_t)r;
    }
    return 1;
}

/* The next thing the server does, appended to out: "close", "timeout",
 * "N", "R<code>", "v<minor>/<n>[:option...]", "E <S> <C> <M>" or the type
 * letter of anything else.  Returns the message type (0 for close or
 * timeout). */
static char next_reply(int fd, bool single_byte, char *out, size_t outsz)
{
    size_t used = strlen(out);
    const char *sep = used ? " " : "";
    unsigned char hdr[5];
    int rc = read_full(fd, hdr, 1);
    if (rc != 1) {
        snprintf(out + used, outsz - used, "%s%s", sep, rc == 0 ? "close" : "timeout");
        return 0;
    }
    if (single_byte && (hdr[0] == 'N' || hdr[0] == 'S' || hdr[0] == 'G')) {
        snprintf(out + used, outsz - used, "%s%c", sep, hdr[0]);
        return (char)hdr[0];
    }
    rc = read_full(fd, hdr + 1, 4);
    if (rc != 1) {
        snprintf(out + used, outsz - used, "%s%c+close", sep, hdr[0]);
        return 0;
    }
    uint32_t len = get32(hdr + 1);
    if (hdr[0] == 'E' && len > (1u << 20)) {
        /* Protocol 2 ErrorResponse: 'E' and one NUL-terminated string. */
        char text[1024];
        size_t t = 4;
        memcpy(text, hdr + 1, 4);
        while (t < sizeof text - 1 && read_full(fd, text + t, 1) == 1 && text[t] != '\0')
            t++;
        text[t] = '\0';
        if (t > 0 && text[t - 1] == '\n')
            text[t - 1] = '\0';
        snprintf(out + used, outsz - used, "%sE(protocol 2) %s", sep, text);
        return 'E';
    }
    if (len < 4 || len > (1u << 20))
        IT_FAIL("message '%c' with implausible length %u", hdr[0], len);
    unsigned char *body = calloc(1, len - 4 + 1);
    if (!body || read_full(fd, body, len - 4) != 1)
        IT_FAIL("message '%c': body cut short", hdr[0]);
    char what[600] = "";
    if (hdr[0] == 'R' && len >= 8) {
        snprintf(what, sizeof what, "R%u", get32(body));
    } else if (hdr[0] == 'v' && len >= 12) {
        int n = snprintf(what, sizeof what, "v%u/%u", get32(body), get32(body + 4));
        const char *p = (const char *)body + 8, *end = (const char *)body + len - 4;
        while (p < end && *p && n < (int)sizeof what - 1) {
            n += snprintf(what + n, sizeof what - (size_t)n, ":%s", p);
            p += strlen(p) + 1;
        }
    } else if (hdr[0] == 'E' || hdr[0] == 'N') {
        const char *sev = "", *code = "", *msg = "";
        const char *p = (const char *)body, *end = (const char *)body + len - 4;
        while (p < end && *p) {
            char f = *p++;
            if (f == 'S') sev = p;
            if (f == 'C') code = p;
            if (f == 'M') msg = p;
            p += strlen(p) + 1;
        }
        snprintf(what, sizeof what, "%c %s %s %s", hdr[0], sev, code, msg);
    } else {
        snprintf(what, sizeof what, "%c", hdr[0]);
    }
    snprintf(out + used, outsz - used, "%s%s", sep, what);
    free(body);
    return (char)hdr[0];
}

static size_t startup_packet(unsigned char *buf, size_t cap, uint32_t proto, const char *const *kv)
{
    size_t n = 8;
    for (size_t i = 0; kv[i]; i++) {
        size_t l = strlen(kv[i]) + 1;
        if (n + l + 1 > cap)
            IT_FAIL("startup packet too long");
        memcpy(buf + n, kv[i], l);
        n += l;
    }
    buf[n++] = '\0';
    put32(buf, (uint32_t)n);
    put32(buf + 4, proto);
    return n;
}

static void send_msg(int fd, char type, const void *body, uint32_t len_word, size_t body_len)
{
    unsigned char m[256];
    m[0] = (unsigned char)type;
    put32(m + 1, len_word);
    memcpy(m + 5, body, body_len);
    send_bytes(fd, m, 5 + body_len);
}

static void report(const char *name, const char *what)
{
    printf("%s: %s\n", name, what);
}

/* Connect, send raw bytes, print what the server does once. */
static void probe_raw(const char *name, const void *bytes, size_t n)
{
    char out[1024] = "";
    int fd = tcp_connect(5);
    send_bytes(fd, bytes, n);
    next_reply(fd, false, out, sizeof out);
    close(fd);
    report(name, out);
}

/* Log in as user on db, then after the first authentication request send
 * one message; print every reply until the close. */
static void probe_auth(const char *name, const char *user, const char *db, char type,
                       const void *body, uint32_t len_word, size_t body_len)
{
    unsigned char pkt[512];
    const char *kv[] = {"user", user, "database", db, NULL};
    char out[1024] = "";
    int fd = tcp_connect(5);
    send_bytes(fd, pkt, startup_packet(pkt, sizeof pkt, PROTO_3_0, kv));
    if (next_reply(fd, false, out, sizeof out) == 'R') {
        send_msg(fd, type, body, len_word, body_len);
        while (next_reply(fd, false, out, sizeof out) != 0) {
        }
    }
    close(fd);
    report(name, out);
}

int cmd_startup_probe(int argc, char **argv)
{
    g_host = argv[0];
    g_port = argv[1];
    const char *db = argv[2];
    (void)argc;
    unsigned char pkt[16384];
    size_t n;

    put32(pkt, 3);
    probe_raw("length 3", pkt, 4);
    put32(pkt, 7);
    memset(pkt + 4, 0, 3);
    probe_raw("length 7", pkt, 7);
    put32(pkt, 10005);
    put32(pkt + 4, PROTO_3_0);
    probe_raw("length 10005", pkt, 8);
    put32(pkt, 0x7fffffffu);
    put32(pkt + 4, PROTO_3_0);
    probe_raw("length 2^31-1", pkt, 8);
    static const char http[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    probe_raw("HTTP request", http, sizeof http - 1);

    {
        const char *kv[] = {"user", "sw_trust", "database", db, NULL};
        n = startup_packet(pkt, sizeof pkt, (9u << 16) | 9u, kv);
        probe_raw("protocol 9.9", pkt, n);
        n = startup_packet(pkt, sizeof pkt, 2u << 16, kv);
        probe_raw("protocol 2.0", pkt, n);
        n = startup_packet(pkt, sizeof pkt, (1u << 16) | 7u, kv);
        probe_raw("protocol 1.7", pkt, n);
        n = startup_packet(pkt, sizeof pkt, 5u, kv);
        probe_raw("protocol 0.5", pkt, n);
        n = startup_packet(pkt, sizeof pkt, 0u, kv);
        probe_raw("protocol 0.0", pkt, n);
    }
    put32(pkt, 64);
    for (int i = 4; i < 64; i++)
        pkt[i] = (unsigned char)(i * 37 + 11);
    probe_raw("garbage body", pkt, 64);
    {
        static const char kv[] = "user\0sw_trust"; /* no final "\0\0" */
        n = 8 + sizeof kv - 1;
        put32(pkt, (uint32_t)n);
        put32(pkt + 4, PROTO_3_0);
        memcpy(pkt + 8, kv, sizeof kv - 1);
        probe_raw("unterminated parameters", pkt, n);
    }
    {
        const char *kv[] = {"database", db, NULL};
        n = startup_packet(pkt, sizeof pkt, PROTO_3_0, kv);
        probe_raw("no user", pkt, n);
    }
    {
        /* exactly PostgreSQL's largest startup packet: 10000 bytes after the length word */
        static char big[10000];
        const char *kv[] = {"user", "sw_trust", "database", db, "application_name", big, NULL};
        size_t fixed = 8 + strlen("user") + 1 + strlen("sw_trust") + 1 + strlen("database") + 1 +
                       strlen(db) + 1 + strlen("application_name") + 1 + 1 + 1;
        memset(big, 'a', 10004 - fixed);
        big[10004 - fixed] = '\0';
        n = startup_packet(pkt, sizeof pkt, PROTO_3_0, kv);
        if (n != 10004)
            IT_FAIL("built a startup packet of %zu bytes", n);
        probe_raw("startup of 10004 bytes", pkt, n);
    }

    unsigned char ssl[8];
    put32(ssl, 8);
    put32(ssl + 4, 80877103);
    {
        char out[1024] = "";
        int fd = tcp_connect(5);
        send_bytes(fd, ssl, 8);
        next_reply(fd, true, out, sizeof out);
        put32(pkt, 3);
        send_bytes(fd, pkt, 4);
        next_reply(fd, false, out, sizeof out);
        close(fd);
        report("SSLRequest, then length 3", out);
    }
    {
        char out[1024] = "";
        int fd = tcp_connect(5);
        send_bytes(fd, ssl, 8);
        next_reply(fd, true, out, sizeof out);
        send_bytes(fd, ssl, 8);
        next_reply(fd, false, out, sizeof out);
        close(fd);
        report("SSLRequest twice", out);
    }
    {
        char out[1024] = "";
        const char *kv[] = {"user", "sw_trust", "database", db, NULL};
        memcpy(pkt, ssl, 8);
        n = 8 + startup_packet(pkt + 8, sizeof pkt - 8, PROTO_3_0, kv);
        int fd = tcp_connect(5);
        send_bytes(fd, pkt, n);
        next_reply(fd, true, out, sizeof out);
        next_reply(fd, false, out, sizeof out);
        close(fd);
        report("SSLRequest with a startup packet behind it", out);
    }
    {
        unsigned char cancel[16];
        put32(cancel, 16);
        put32(cancel + 4, 80877102);
        put32(cancel + 8, 1);
        put32(cancel + 12, 2);
        probe_raw("CancelRequest for nothing", cancel, 16);
    }
    {
        const char *kv[] = {"user", "sw_trust", "database", db, "_pq_.sw_itest_option", "1", NULL};
        char out[1024] = "";
        n = startup_packet(pkt, sizeof pkt, PROTO_3_0 | 1u, kv);
        int fd = tcp_connect(5);
        send_bytes(fd, pkt, n);
        next_reply(fd, false, out, sizeof out);
        next_reply(fd, false, out, sizeof out);
        close(fd);
        report("protocol 3.1 with an option", out);
    }

    probe_auth("md5, then a Query", "sw_md5", db, 'Q', "SELECT 1", 13, 9);
    probe_auth("md5, then Terminate", "sw_md5", db, 'X', "", 4, 0);
    probe_auth("md5, then a password length of 2", "sw_md5", db, 'p', "abc", 2, 3);
    probe_auth("md5, then two strings", "sw_md5", db, 'p', "abc\0def", 12, 8);
    probe_auth("SCRAM, then a Query", "sw_scram", db, 'Q', "SELECT 1", 13, 9);
    return 0;
}

/* Closed by the server: EOF, a reset, or an ErrorResponse waiting to be read. */
static bool peer_closed(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0)
        return false;
    char b;
    ssize_t r = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return r <= 0 || b == 'E';
}

static int count_closed(const int *fds, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += peer_closed(fds[i]);
    return k;
}

int cmd_silent(int argc, char **argv)
{
    g_host = argv[0];
    g_port = argv[1];
    int n = atoi(argv[2]);
    const char *conninfo = argv[3];
    (void)argc;
    if (n < 1 || n > 5000)
        IT_FAIL("bad N '%s'", argv[2]);
    int *fds = calloc((size_t)n, sizeof *fds);
    for (int i = 0; i < n; i++)
        fds[i] = tcp_connect(5);
    /* Let the server accept them all (its backlog may hold some a moment). */
    it_sleep_ms(500);
    int before = count_closed(fds, n);
    double t0 = it_now();
    char err[2048];
    PGconn *conn = it_connect_try(conninfo, err, sizeof err);
    if (!conn)
        IT_FAIL("login with %d silent connections open failed: %s", n, it_one_line(err));
    it_expect_value(conn, "SELECT 1", "1");
    double ms = (it_now() - t0) * 1000;
    PQfinish(conn);
    it_sleep_ms(200);
    int after = count_closed(fds, n);
    printf("closed_before=%d login_ms=%.0f closed_after=%d\n", before, ms, after);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    return 0;
}

int cmd_slowlogin(int argc, char **argv)
{
    g_host = argv[0];
    g_port = argv[1];
    const char *user = argv[2], *db = argv[3], *mode = argv[4];
    (void)argc;
    bool drip = strcmp(mode, "drip") == 0;
    if (!drip && strcmp(mode, "stall") != 0)
        IT_FAIL("mode must be drip or stall, got '%s'", mode);
    unsigned char pkt[512];
    const char *kv[] = {"user", user, "database", db, NULL};
    size_t n = startup_packet(pkt, sizeof pkt, PROTO_3_0, kv);
    int fd = tcp_connect(30);
    double t0 = it_now();
    char out[1024] = "";
    if (drip) {
        for (size_t i = 0; i < n; i++) {
            send_bytes(fd, pkt + i, 1);
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, 200) > 0)
                break;
            if (it_now() - t0 > 30)
                IT_FAIL("the startup packet was dribbled for 30 s and never cut off");
        }
        if (next_reply(fd, false, out, sizeof out) != 0)
            IT_FAIL("the dribbled startup packet was answered: %s", out);
    } else {
        send_bytes(fd, pkt, n);
        char first[256] = "";
        if (next_reply(fd, false, first, sizeof first) != 'R')
            IT_FAIL("expected an authentication request first, got: %s", first);
        while (next_reply(fd, false, out, sizeof out) != 0) {
        }
        if (strstr(out, "timeout"))
            IT_FAIL("still open after 30 s: %s", out);
    }
    double took = it_now() - t0;
    /* out ends with "close"; anything before it was sent before closing */
    char *last = strrchr(out, ' ');
    if (last)
        *last = '\0';
    else
        out[0] = '\0';
    printf("closed after %.1f s, then sent: %s\n", took, out[0] ? out : "none");
    close(fd);
    return 0;
}
