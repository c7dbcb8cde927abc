/*
 * fuzz_startup.c - libFuzzer target for the startup and authentication
 * phase: the startup-packet codec (src/proto/codec.c) and the SCRAM-SHA-256
 * server exchange and verifiers (src/auth).  The state machine that joins
 * them lives in src/net/client.c behind libuv, so this target drives the
 * same pure functions in the same order client.c does.
 *
 * Feeds, by the first byte (mod 4):
 *  0. a client's byte stream before login: startup-phase packets framed by
 *     sw_startup_peek (SSLRequest and GSSENCRequest refused once each,
 *     CancelRequest, StartupMessage), then typed 'p' messages framed by
 *     sw_msg_peek: the SASLInitialResponse (mechanism, length, client-first)
 *     and the SASLResponse (client-final) for SCRAM users - a known role,
 *     or an unknown one in mock mode - or the md5 response for an md5 role.
 *     Bytes that follow a refused SSLRequest are read as if the client had
 *     waited for the answer.
 *  1. a whole honest exchange: sw_scram_client against sw_scram_server with
 *     fuzzed salt, iteration count, passwords and nonces, and optionally
 *     one byte of the client-final flipped.
 *  2. a stored verifier ("SCRAM-SHA-256$...") to parse and format.
 *  3. the other direction, shardwire logging in to a server: a fuzzed
 *     server-first and server-final for sw_scram_client.  The iteration
 *     count is the server's to choose and costs PBKDF2 rounds in the
 *     caller, so counts above 64 are only parsed here (mode 2), not run.
 *
 * Asserts (abort() on violation):
 *  - framing: reported lengths are the length word, within 8..limit;
 *  - a decoded startup packet agrees with its bytes: cancel keys, parameter
 *    strings inside the packet, at most 64 of them, and the packet rebuilt
 *    by sw_build_startup is the one decoded; sw_startup_get finds the first
 *    value of each key; a refused packet reports no parameters;
 *  - server-first answers "r=<client nonce><server nonce>,s=...,i=..." with
 *    the client-first-bare kept verbatim; every failure ends the exchange;
 *    mock mode and the md5 check never let a wrong answer in;
 *  - the honest exchange always succeeds with the right password (and the
 *    client accepts the server's signature), always fails with -EACCES with
 *    a wrong one, and a flipped byte is only ever accepted when it lies in
 *    the proof and decodes to the same proof;
 *  - parse(format(parse(v))) == parse(v) for every verifier that parses;
 *  - whatever server-first the client accepts, its proof verifies on a
 *    server holding that salt and count, that server's signature verifies
 *    on the client, and a fuzzed server-final is accepted only when it
 *    carries that same signature.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scram_int.h"
#include "sw/auth.h"
#include "sw/proto.h"

/* client.c's bounds: startup packets and authentication messages. */
#define STARTUP_MAX (10000 + 4)
#define AUTH_MSG_MAX (65535 + 1)

#define SERVER_NONCE "fuzzServerNonce0123456789"

static void check(int ok)
{
    if (!ok) abort();
}

/* ------------------------------------------------------------ mode 0: stream */

static sw_scram_secret alice_secret;   /* the known SCRAM role */
static char bob_md5[36];               /* the md5 role's stored hash */

/* Verifiers are costly (4096 PBKDF2 rounds): computed once per process. */
static void setup_roles(void)
{
    static int done;
    if (done) return;
    static const uint8_t salt[16] = "fuzz-salt-16byte";
    if (sw_scram_secret_from_password("wonderland", salt, sizeof salt, 4096, &alice_secret) != 0)
        abort();
    sw_md5_stored("bob", "builder", bob_md5);
    done = 1;
}

typedef enum { ST_STARTUP, ST_SCRAM, ST_MD5, ST_END } stream_state;

typedef struct stream {
    stream_state state;
    int ssl_done, gss_done;
    int mock;
    sw_scram_server srv;
    uint8_t md5_salt[4];
} stream;

/* A v3 packet as decoded must come back byte for byte from the builder. */
static void check_startup_rebuild(const uint8_t *pkt, size_t len, const sw_startup *st)
{
    const char *kv[2 * SW_STARTUP_MAX_PARAMS + 1];
    for (int i = 0; i < st->nparams; i++) {
        kv[2 * i] = st->keys[i];
        kv[2 * i + 1] = st->vals[i];
    }
    kv[2 * st->nparams] = NULL;
    sw_wbuf w;
    sw_wbuf_init(&w);
    sw_build_startup(&w, kv);
    /* The builder always writes 3.0; any 3.x minor shares the layout. */
    check(!w.oom && w.len == len);
    check(memcmp(w.data, pkt, 4) == 0 && memcmp(w.data + 8, pkt + 8, len - 8) == 0);
    sw_wbuf_free(&w);
}

/* Invariants of one decoded startup packet; returns the decode's rc. */
static int decode_startup(const uint8_t *pkt, size_t len, sw_startup *st)
{
    int rc = sw_startup_decode(pkt, len, st);
    check(rc == 0 || rc == -EBADMSG);
    if (rc != 0) {
        check(st->nparams == 0);
        return rc;
    }
    check(st->code == (int32_t)sw_be32(pkt + 4));
    check(st->nparams >= 0 && st->nparams <= SW_STARTUP_MAX_PARAMS);
    switch (st->code) {
    case SW_CODE_CANCEL:
        check(len == 16 && st->cancel_pid == (int32_t)sw_be32(pkt + 8) &&
              st->cancel_key == (int32_t)sw_be32(pkt + 12));
        return rc;
    case SW_CODE_SSL:
    case SW_CODE_GSSENC:
        check(len == 8 && st->nparams == 0);
        return rc;
    default:
        break;
    }
    if ((uint32_t)st->code >> 16 != 3) {
        check(st->nparams == 0);
        return rc;
    }
    for (int i = 0; i < st->nparams; i++) {
        const uint8_t *k = (const uint8_t *)st->keys[i], *v = (const uint8_t *)st->vals[i];
        check(k >= pkt + 8 && k < pkt + len && v > k && v < pkt + len);
        check(st->keys[i][0] != 0);
        check(memchr(v, 0, (size_t)(pkt + len - v)) != NULL);
        /* The first occurrence of a key is the one looked up. */
        int j = 0;
        while (strcmp(st->keys[j], st->keys[i]) != 0) j++;
        check(sw_startup_get(st, st->keys[i]) == st->vals[j]);
    }
    check(pkt[len - 1] == 0);
    check_startup_rebuild(pkt, len, st);
    return rc;
}

/* One startup-phase packet; the state it leads to. */
static stream_state on_startup(stream *s, const uint8_t *pkt, size_t len)
{
    uint32_t code = sw_be32(pkt + 4);
    sw_startup st;
    int rc = decode_startup(pkt, len, &st);
    if ((code == SW_CODE_SSL && !s->ssl_done) || (code == SW_CODE_GSSENC && !s->gss_done)) {
        if (code == SW_CODE_SSL) s->ssl_done = 1; else s->gss_done = 1;
        return ST_STARTUP;  /* refused with 'N'; the client goes on in plain text */
    }
    if (code == SW_CODE_CANCEL || code >> 16 != 3 || rc != 0) return ST_END;
    const char *user = sw_startup_get(&st, "user");
    if (!user || !*user) return ST_END;
    if (strcmp(user, "bob") == 0) {
        memcpy(s->md5_salt, "salt", 4);
        return ST_MD5;
    }
    s->mock = strcmp(user, "alice") != 0;
    sw_scram_server_init(&s->srv, s->mock ? NULL : &alice_secret);
    return ST_SCRAM;
}

/* PasswordMessage for md5: one string filling the body, compared whole. */
static stream_state on_md5(stream *s, const uint8_t *body, size_t len)
{
    sw_rd r;
    sw_rd_init(&r, body, len);
    size_t rlen = 0;
    const char *resp = sw_rd_cstr(&r, &rlen);
    if (r.err || rlen + 1 != len) return ST_END;
    char expect[36];
    sw_md5_response(bob_md5, s->md5_salt, expect);
    /* What the client must match: "md5" and 32 lower-case hex digits. */
    check(strlen(expect) == 35 && strncmp(expect, "md5", 3) == 0);
    for (int i = 3; i < 35; i++) check(strchr("0123456789abcdef", expect[i]) != NULL);
    check(strcmp(resp, expect) != 0 || rlen == 35);
    return ST_END;
}

/* SASLInitialResponse: mechanism, int32 length (-1 = none), client-first. */
static stream_state on_sasl_initial(stream *s, const uint8_t *body, size_t len)
{
    sw_rd r;
    sw_rd_init(&r, body, len);
    const char *mech = sw_rd_cstr(&r, NULL);
    int32_t dlen = sw_rd_i32(&r);
    const uint8_t *data = dlen >= 0 ? sw_rd_bytes(&r, (size_t)dlen) : NULL;
    if (r.err || !data || strcmp(mech, "SCRAM-SHA-256") != 0) return ST_END;

    char out[SW_SCRAM_MSG_MAX];
    size_t outlen = 77;
    int rc = sw_scram_server_first(&s->srv, (const char *)data, (size_t)dlen, SERVER_NONCE, out,
                                   sizeof out, &outlen);
    check(rc == 0 || rc == -EBADMSG || rc == -ENOSPC || rc == -EIO);
    if (rc != 0) {
        check(s->srv.state == 2 && outlen == 0);
        return ST_END;
    }
    check(s->srv.state == 1 && outlen == strlen(out) && outlen < sizeof out);
    /* r= the client's nonce then ours, then the salt and count. */
    size_t nlen = strlen(s->srv.nonce), slen = strlen(SERVER_NONCE);
    check(nlen > slen && strcmp(s->srv.nonce + nlen - slen, SERVER_NONCE) == 0);
    check(strncmp(out, "r=", 2) == 0 && strncmp(out + 2, s->srv.nonce, nlen) == 0);
    check(strncmp(out + 2 + nlen, ",s=", 3) == 0 && strstr(out, ",i=") != NULL);
    check(strcmp(out, s->srv.server_first) == 0);
    /* The bare part is the client-first after its gs2 header "n,," / "y,,". */
    check((size_t)dlen >= 3 && strlen(s->srv.client_first_bare) == (size_t)dlen - 3 &&
          memcmp(s->srv.client_first_bare, data + 3, (size_t)dlen - 3) == 0);
    check(s->srv.cbind_flag == (char)data[0]);
    /* The client's nonce as the client sent it. */
    char want[SW_SCRAM_MSG_MAX + 4];
    snprintf(want, sizeof want, "r=%.*s", (int)(nlen - slen), s->srv.nonce);
    check(strstr(s->srv.client_first_bare, want) != NULL);
    return ST_SCRAM;
}

/* SASLResponse: the client-final; only the true proof passes, never in mock. */
static stream_state on_sasl_final(stream *s, const uint8_t *body, size_t len)
{
    char out[SW_SCRAM_MSG_MAX];
    size_t outlen = 77;
    int rc = sw_scram_server_final(&s->srv, (const char *)body, len, out, sizeof out, &outlen);
    check(rc == 0 || rc == -EBADMSG || rc == -EACCES || rc == -ENOSPC || rc == -EIO);
    check(s->srv.state == 2);
    if (s->mock) check(rc != 0);
    if (rc == 0) check(outlen == strlen(out) && strncmp(out, "v=", 2) == 0);
    else check(outlen == 0);
    return ST_END;
}

/* One 'p' message in the authentication phase. */
static stream_state on_password(stream *s, const uint8_t *body, size_t len)
{
    if (s->state == ST_MD5) return on_md5(s, body, len);
    if (s->srv.state == 0) return on_sasl_initial(s, body, len);
    return on_sasl_final(s, body, len);
}

/* Frame the next packet at p; 1 with *h, else the stream stops here. */
static int frame(const stream *s, const uint8_t *p, size_t avail, sw_msg_hdr *h)
{
    int rc;
    if (s->state == ST_STARTUP) {
        rc = sw_startup_peek(p, avail, STARTUP_MAX, h);
        if (rc == 1) check(h->type == 0 && h->total == sw_be32(p) && h->total >= 8 && h->total <= STARTUP_MAX);
        if (avail < 4) check(rc == 0);
    } else {
        rc = sw_msg_peek(p, avail, AUTH_MSG_MAX, h);
        if (rc == 1) check(h->type == p[0] && h->total == sw_be32(p + 1) + 1 && h->total >= 5 && h->total <= AUTH_MSG_MAX);
        if (avail < 5) check(rc == 0);
    }
    check(rc == 1 || rc == 0 || rc == -EBADMSG || rc == -EMSGSIZE);
    return rc == 1 && h->total <= avail;
}

static void fuzz_stream(const uint8_t *data, size_t size)
{
    setup_roles();
    stream s;
    memset(&s, 0, sizeof s);
    s.state = ST_STARTUP;
    size_t off = 0;
    sw_msg_hdr h;
    while (s.state != ST_END && frame(&s, data + off, size - off, &h)) {
        /* An exact-size copy: ASan sees any read past the packet. */
        uint8_t *pkt = malloc(h.total);
        if (!pkt) abort();
        memcpy(pkt, data + off, h.total);
        off += h.total;
        if (s.state == ST_STARTUP) s.state = on_startup(&s, pkt, h.total);
        else if (h.type != SW_FE_PASSWORD) s.state = ST_END;  /* client.c: 08P01 */
        else s.state = on_password(&s, pkt + SW_HDR_LEN, h.total - SW_HDR_LEN);
        free(pkt);
    }
}

/* ------------------------------------------------------------ mode 1: exchange */

/* Reads bytes off the input, zeros once it runs out. */
typedef struct cursor {
    const uint8_t *p, *end;
} cursor;

static uint8_t take(cursor *c)
{
    return c->p < c->end ? *c->p++ : 0;
}

/* n bytes as a SCRAM printable string (0x21..0x7e without ','). */
static void take_printable(cursor *c, char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = (char)(0x21 + take(c) % 94);
        out[i] = ch == ',' ? '.' : ch;
    }
    out[n] = 0;
}

/* n bytes without NULs (a password is a C string). */
static void take_text(cursor *c, char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = take(c);
        out[i] = (char)(b ? b : 'x');
    }
    out[n] = 0;
}

/* The proof a client-final carries, decoded. */
static int final_proof(const char *msg, size_t len, uint8_t proof[SW_SCRAM_KEY_LEN], size_t *at)
{
    const char *p = NULL;
    for (size_t i = 0; i + 3 <= len; i++)
        if (memcmp(msg + i, ",p=", 3) == 0) p = msg + i;
    if (!p) return -1;
    *at = (size_t)(p + 3 - msg);
    return sw_b64_decode(p + 3, len - *at, proof, SW_SCRAM_KEY_LEN) == SW_SCRAM_KEY_LEN ? 0 : -1;
}

static void fuzz_exchange(const uint8_t *data, size_t size)
{
    cursor c = {data, data + size};
    uint8_t flags = take(&c);
    int iterations = 1 + take(&c) % 4;  /* few rounds: speed, not strength */
    uint8_t salt[SW_SCRAM_MAX_SALT];
    int salt_len = 1 + take(&c) % SW_SCRAM_MAX_SALT;
    for (int i = 0; i < salt_len; i++) salt[i] = take(&c);
    char password[33], wrong[34], cnonce[41], snonce[41];
    take_text(&c, password, take(&c) % 33);
    take_printable(&c, cnonce, 1 + take(&c) % 40);
    take_printable(&c, snonce, 1 + take(&c) % 40);
    int use_wrong = flags & 1, mutate = flags & 2;
    snprintf(wrong, sizeof wrong, "%s!", password);

    sw_scram_secret secret;
    check(sw_scram_secret_from_password(password, salt, salt_len, iterations, &secret) == 0);
    sw_scram_server srv;
    sw_scram_client cli;
    sw_scram_server_init(&srv, &secret);
    char cf[SW_SCRAM_MSG_MAX], sf[SW_SCRAM_MSG_MAX], cfin[SW_SCRAM_MSG_MAX], sfin[SW_SCRAM_MSG_MAX];
    size_t cf_len, sf_len, cfin_len, sfin_len;
    check(sw_scram_client_first(&cli, use_wrong ? wrong : password, cnonce, cf, sizeof cf, &cf_len) == 0);
    check(sw_scram_server_first(&srv, cf, cf_len, snonce, sf, sizeof sf, &sf_len) == 0);
    check(sw_scram_client_final(&cli, sf, sf_len, cfin, sizeof cfin, &cfin_len) == 0);

    char orig[SW_SCRAM_MSG_MAX];
    memcpy(orig, cfin, cfin_len + 1);
    size_t pos = 0;
    if (mutate) {
        pos = ((size_t)take(&c) << 8 | take(&c)) % cfin_len;
        uint8_t x = take(&c);
        cfin[pos] = (char)(cfin[pos] ^ (x ? x : 1));
    }
    int rc = sw_scram_server_final(&srv, cfin, cfin_len, sfin, sizeof sfin, &sfin_len);
    if (!mutate) {
        check(rc == (use_wrong ? -EACCES : 0));
        if (rc == 0) check(sw_scram_client_verify(&cli, sfin, sfin_len) == 0);
        return;
    }
    if (rc != 0) return;
    /* Accepted despite the flip: it must have changed nothing the server
     * reads, i.e. only slack bits of the proof's last base64 digit. */
    uint8_t a[SW_SCRAM_KEY_LEN], b[SW_SCRAM_KEY_LEN];
    size_t at_a = 0, at_b = 0;
    check(!use_wrong);
    check(final_proof(orig, cfin_len, a, &at_a) == 0 && final_proof(cfin, cfin_len, b, &at_b) == 0);
    check(at_a == at_b && pos >= at_a && memcmp(a, b, sizeof a) == 0);
}

/* ------------------------------------------------------------ mode 2: verifier */

static void fuzz_verifier(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = 0;
    sw_scram_secret a, b;
    memset(&a, 0x5a, sizeof a);
    sw_scram_secret untouched = a;
    if (sw_scram_secret_parse(text, &a) != 0) {
        check(memcmp(&a, &untouched, sizeof a) == 0);  /* out is untouched on failure */
        free(text);
        return;
    }
    check(a.iterations >= 1 && a.salt_len >= 1 && a.salt_len <= SW_SCRAM_MAX_SALT);
    char buf[512], again[512];
    check(sw_scram_secret_format(&a, buf, sizeof buf) == 0);
    check(sw_scram_secret_parse(buf, &b) == 0);
    check(a.iterations == b.iterations && a.salt_len == b.salt_len &&
          memcmp(a.salt, b.salt, (size_t)a.salt_len) == 0 &&
          memcmp(a.stored_key, b.stored_key, sizeof a.stored_key) == 0 &&
          memcmp(a.server_key, b.server_key, sizeof a.server_key) == 0);
    check(sw_scram_secret_format(&b, again, sizeof again) == 0 && strcmp(buf, again) == 0);
    free(text);
}

/* ------------------------------------------------------------ mode 3: client side */

#define CLIENT_NONCE "fuzzClientNonce"
#define CLIENT_PASSWORD "hunter2"

/* Salt and iteration count of a server-first the client accepted. */
static void server_first_params(const char *sf, size_t len, uint8_t *salt, int *salt_len, int *iterations)
{
    const char *p = sf, *end = sf + len, *v;
    size_t vl;
    check(sw_scram_attr_read(&p, end, 'r', NULL, &v, &vl) == 0);
    check(sw_scram_attr_read(&p, end, 's', NULL, &v, &vl) == 0);
    *salt_len = sw_b64_decode(v, vl, salt, SW_SCRAM_MAX_SALT);
    check(*salt_len >= 1);
    check(sw_scram_attr_read(&p, end, 'i', NULL, &v, &vl) == 0);
    check(sw_scram_iterations_parse(v, vl, iterations) == 0);
}

/* The count a server-first asks for, or 0 when there is none to read. */
static long asked_iterations(const char *sf, size_t len)
{
    for (size_t i = 0; i + 3 <= len; i++) {
        if (memcmp(sf + i, ",i=", 3) != 0) continue;
        long v = 0;
        for (size_t k = i + 3; k < len && sf[k] >= '0' && sf[k] <= '9' && v < 1000000; k++)
            v = v * 10 + (sf[k] - '0');
        return v;
    }
    return 0;
}

/* A server shardwire cannot tell from PostgreSQL: it accepts the proof. */
static void check_with_server(const sw_scram_client *cli, const char *sf, size_t sf_len,
                              const char *cfin, size_t cfin_len, char *sfin, size_t *sfin_len)
{
    uint8_t salt[SW_SCRAM_MAX_SALT];
    int salt_len, iterations;
    server_first_params(sf, sf_len, salt, &salt_len, &iterations);
    sw_scram_secret secret;
    check(sw_scram_secret_from_password(CLIENT_PASSWORD, salt, salt_len, iterations, &secret) == 0);
    sw_scram_server srv;
    sw_scram_server_init(&srv, &secret);
    /* As if this server had answered the client's first message with sf. */
    srv.state = 1;
    srv.cbind_flag = 'n';
    snprintf(srv.client_first_bare, sizeof srv.client_first_bare, "%s", cli->client_first_bare);
    check(sf_len < sizeof srv.server_first);
    memcpy(srv.server_first, sf, sf_len);
    srv.server_first[sf_len] = 0;
    const char *r = cfin + strlen("c=biws,r="), *comma = strchr(r, ',');
    check(comma && (size_t)(comma - r) < sizeof srv.nonce);
    memcpy(srv.nonce, r, (size_t)(comma - r));
    srv.nonce[comma - r] = 0;
    check(sw_scram_server_final(&srv, cfin, cfin_len, sfin, SW_SCRAM_MSG_MAX, sfin_len) == 0);
}

static void fuzz_client(const uint8_t *data, size_t size)
{
    if (size == 0) return;
    size_t sf_len = data[0] < size - 1 ? data[0] : size - 1;
    const char *sf = (const char *)data + 1;
    if (asked_iterations(sf, sf_len) > 64) return;
    char *sf_copy = malloc(sf_len ? sf_len : 1);  /* exact size, for ASan */
    if (!sf_copy) abort();
    memcpy(sf_copy, sf, sf_len);

    sw_scram_client cli;
    char cf[SW_SCRAM_MSG_MAX], cfin[SW_SCRAM_MSG_MAX], sfin[SW_SCRAM_MSG_MAX];
    size_t cf_len, cfin_len = 77, sfin_len;
    check(sw_scram_client_first(&cli, CLIENT_PASSWORD, CLIENT_NONCE, cf, sizeof cf, &cf_len) == 0);
    int rc = sw_scram_client_final(&cli, sf_copy, sf_len, cfin, sizeof cfin, &cfin_len);
    check(rc == 0 || rc == -EBADMSG || rc == -ENOSPC || rc == -EIO);
    check(cli.password[0] == 0);  /* wiped whatever happened */
    if (rc != 0) {
        check(cfin_len == 0 && cli.state == 3);
        free(sf_copy);
        return;
    }
    check(cli.state == 2 && cfin_len == strlen(cfin));
    check(strncmp(cfin, "c=biws,r=" CLIENT_NONCE, strlen("c=biws,r=" CLIENT_NONCE)) == 0);
    const char *proof = strstr(cfin, ",p=");
    check(proof && strlen(proof + 3) == 44);
    check_with_server(&cli, sf_copy, sf_len, cfin, cfin_len, sfin, &sfin_len);

    /* The real server-final verifies; a fuzzed one only with the same v=. */
    sw_scram_client again = cli;
    check(sw_scram_client_verify(&again, sfin, sfin_len) == 0);
    size_t rest = size - 1 - sf_len;
    char *fin = malloc(rest ? rest : 1);
    if (!fin) abort();
    memcpy(fin, data + 1 + sf_len, rest);
    if (sw_scram_client_verify(&cli, fin, rest) == 0) {
        uint8_t a[SW_SCRAM_KEY_LEN], b[SW_SCRAM_KEY_LEN];
        const char *v = memchr(fin, ',', rest);
        size_t vlen = v ? (size_t)(v - fin) - 2 : rest - 2;
        check(sw_b64_decode(fin + 2, vlen, a, sizeof a) == SW_SCRAM_KEY_LEN);
        check(sw_b64_decode(sfin + 2, sfin_len - 2, b, sizeof b) == SW_SCRAM_KEY_LEN);
        check(memcmp(a, b, sizeof a) == 0);
    }
    free(fin);
    free(sf_copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    switch (data[0] % 4) {
    case 0: fuzz_stream(data + 1, size - 1); break;
    case 1: fuzz_exchange(data + 1, size - 1); break;
    case 2: fuzz_verifier(data + 1, size - 1); break;
    default: fuzz_client(data + 1, size - 1); break;
    }
    return 0;
}
