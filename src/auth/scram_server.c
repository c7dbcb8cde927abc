/*
 * scram_server.c - the server side of SCRAM-SHA-256: shardwire checking a
 * client's password without ever seeing it.  Parsing follows what a
 * PostgreSQL server accepts, so any libpq-based client that logs in to
 * PostgreSQL logs in here too: gs2 flag "n" or "y" (no -PLUS mechanism is
 * offered, so "p" is refused), no authzid, the "n=" user name ignored
 * (the startup packet names the role), optional extensions skipped.
 *
 * An unknown role runs in mock mode: a random verifier, a normal-looking
 * exchange and a final -EACCES, so a client cannot tell "no such role" from
 * "wrong password".
 */
#include "scram_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

enum { SRV_INIT = 0, SRV_SENT_FIRST = 1, SRV_DONE = 2 };

/* Arm the exchange with a verifier, or mock mode for secret NULL. */
void sw_scram_server_init(sw_scram_server *s, const sw_scram_secret *secret)
{
    if (!s) return;
    memset(s, 0, sizeof *s);
    s->state = SRV_INIT;
    if (secret)
        s->secret = *secret;
    else
        s->mock = true; /* the random verifier is drawn in server_first, which can report -EIO */
}

/* Parse client-first; on success fill s->client_first_bare, s->cbind_flag and
 * the client nonce span.  0 or -EBADMSG. */
static int parse_client_first(sw_scram_server *s, const char *msg, size_t len,
                              const char **cnonce, size_t *cnonce_len)
{
    const char *p = msg, *end = msg + len;

    /* gs2-cbind-flag: "n" (no binding) or "y" (client could bind but thinks
     * we cannot); "p=..." asks for binding we never advertised. */
    if (p >= end || (*p != 'n' && *p != 'y')) return -EBADMSG;
    char flag = *p++;
    if (p >= end || *p++ != ',') return -EBADMSG;
    /* Authorization identities are not supported, as in PostgreSQL. */
    if (p >= end || *p != ',') return -EBADMSG;
    p++;

    const char *bare = p;
    size_t bare_len = (size_t)(end - p);
    if (bare_len >= sizeof s->client_first_bare) return -EBADMSG;
    /* "m=" marks a mandatory extension; none is supported. */
    if (p < end && *p == 'm') return -EBADMSG;

    const char *v;
    size_t vl;
    if (sw_scram_attr_read(&p, end, 'n', NULL, &v, &vl) < 0) return -EBADMSG;
    if (sw_scram_attr_read(&p, end, 'r', NULL, &v, &vl) < 0) return -EBADMSG;
    if (!sw_scram_printable(v, vl)) return -EBADMSG;
    *cnonce = v;
    *cnonce_len = vl;
    while (p < end) {
        const char *ev;
        size_t el;
        char a;
        if (sw_scram_attr_read(&p, end, 0, &a, &ev, &el) < 0) return -EBADMSG;
    }

    memcpy(s->client_first_bare, bare, bare_len);
    s->client_first_bare[bare_len] = '\0';
    s->cbind_flag = flag;
    return 0;
}

/* Read client-first, answer with server-first.  0, -EBADMSG, -EINVAL
 * (bad server_nonce / unusable secret / wrong state), -ENOSPC or -EIO. */
int sw_scram_server_first(sw_scram_server *s, const char *client_first, size_t len,
                          const char *server_nonce, char *out, size_t outsz, size_t *outlen)
{
    if (!s || !client_first || !out || s->state != SRV_INIT) return -EINVAL;
    if (server_nonce && !sw_scram_printable(server_nonce, strlen(server_nonce))) return -EINVAL;
    if (!s->mock && (s->secret.iterations < 1 || s->secret.salt_len < 1 ||
                     s->secret.salt_len > SW_SCRAM_MAX_SALT))
        return -EINVAL;
    /* One attempt per exchange: whatever happens below, no second call. */
    s->state = SRV_DONE;
    if (outlen) *outlen = 0;

    /* The SASL payload must be one C string, as PostgreSQL also insists. */
    if (len == 0 || memchr(client_first, '\0', len)) return -EBADMSG;
    const char *cnonce;
    size_t cnonce_len;
    int rc = parse_client_first(s, client_first, len, &cnonce, &cnonce_len);
    if (rc < 0) return rc;

    if (s->mock) {
        s->secret.iterations = SW_SCRAM_DEFAULT_ITERATIONS;
        s->secret.salt_len = SW_SCRAM_DEFAULT_SALT_LEN;
        if (sw_random_bytes(s->secret.salt, SW_SCRAM_DEFAULT_SALT_LEN) < 0 ||
            sw_random_bytes(s->secret.stored_key, SW_SCRAM_KEY_LEN) < 0 ||
            sw_random_bytes(s->secret.server_key, SW_SCRAM_KEY_LEN) < 0)
            return -EIO;
    }

    char snonce_buf[(SW_SCRAM_RAW_NONCE_LEN + 2) / 3 * 4 + 1];
    if (!server_nonce) {
        uint8_t raw[SW_SCRAM_RAW_NONCE_LEN];
        if (sw_random_bytes(raw, sizeof raw) < 0) return -EIO;
        if (sw_b64_encode(raw, sizeof raw, snonce_buf, sizeof snonce_buf) < 0) return -EIO;
        server_nonce = snonce_buf;
    }
    size_t snonce_len = strlen(server_nonce);

    size_t pos = 0;
    if (sw_scram_append(s->nonce, sizeof s->nonce, &pos, cnonce, cnonce_len) < 0 ||
        sw_scram_append(s->nonce, sizeof s->nonce, &pos, server_nonce, snonce_len) < 0)
        return -EBADMSG; /* only an oversized client nonce can get here */

    char salt64[(SW_SCRAM_MAX_SALT + 2) / 3 * 4 + 1];
    if (sw_b64_encode(s->secret.salt, (size_t)s->secret.salt_len, salt64, sizeof salt64) < 0)
        return -EINVAL;
    int n = snprintf(s->server_first, sizeof s->server_first, "r=%s,s=%s,i=%d", s->nonce, salt64,
                     s->secret.iterations);
    if (n < 0 || (size_t)n >= sizeof s->server_first) return -EBADMSG;
    if ((size_t)n + 1 > outsz) return -ENOSPC;
    memcpy(out, s->server_first, (size_t)n + 1);
    if (outlen) *outlen = (size_t)n;
    s->state = SRV_SENT_FIRST;
    return 0;
}

/* Read client-final, check binding, nonce and proof, answer with server-final.
 * 0, -EACCES (wrong password, mock), -EBADMSG, -EINVAL (wrong state),
 * -ENOSPC or -EIO. */
int sw_scram_server_final(sw_scram_server *s, const char *client_final, size_t len, char *out,
                          size_t outsz, size_t *outlen)
{
    if (!s || !client_final || !out || s->state != SRV_SENT_FIRST) return -EINVAL;
    s->state = SRV_DONE;
    if (outlen) *outlen = 0;
    if (len == 0 || memchr(client_final, '\0', len)) return -EBADMSG;

    const char *p = client_final, *end = client_final + len;
    const char *cb, *nonce, *v, *proof_attr;
    size_t cb_len, nonce_len, vl;
    char a;

    /* Without channel binding c= is just the gs2 header echoed back, and it
     * must be the one this client sent: "n,," or "y,,". */
    if (sw_scram_attr_read(&p, end, 'c', NULL, &cb, &cb_len) < 0) return -EBADMSG;
    const char *want_cb = s->cbind_flag == 'y' ? "eSws" : "biws";
    if (cb_len != 4 || memcmp(cb, want_cb, 4) != 0) return -EBADMSG;
    if (sw_scram_attr_read(&p, end, 'r', NULL, &nonce, &nonce_len) < 0) return -EBADMSG;
    /* Skip extensions up to the proof, which must come last. */
    do {
        proof_attr = p;
        if (sw_scram_attr_read(&p, end, 0, &a, &v, &vl) < 0) return -EBADMSG;
    } while (a != 'p');
    uint8_t proof[SW_SCRAM_KEY_LEN];
    if (sw_b64_decode(v, vl, proof, sizeof proof) != SW_SCRAM_KEY_LEN) return -EBADMSG;
    if (p != end) return -EBADMSG;
    /* client-final-without-proof stops before the ',' that precedes "p=". */
    size_t wo_proof_len = (size_t)(proof_attr - 1 - client_final);

    size_t full_len = strlen(s->nonce);
    if (nonce_len != full_len || CRYPTO_memcmp(nonce, s->nonce, full_len) != 0) return -EBADMSG;

    /* ClientKey = proof XOR HMAC(StoredKey, AuthMessage); it is right iff
     * H(ClientKey) == StoredKey.  Mock mode runs the same arithmetic so both
     * paths cost the same. */
    uint8_t sig[SW_SCRAM_KEY_LEN], ck[SW_SCRAM_KEY_LEN], h[SW_SCRAM_KEY_LEN];
    const char *bare = s->client_first_bare;
    int rc = sw_scram_auth_sign(s->secret.stored_key, bare, strlen(bare), s->server_first,
                                strlen(s->server_first), client_final, wo_proof_len, sig);
    if (rc == 0) {
        for (int i = 0; i < SW_SCRAM_KEY_LEN; i++) ck[i] = proof[i] ^ sig[i];
        rc = sw_scram_hash(ck, sizeof ck, h);
    }
    if (rc == 0 && (CRYPTO_memcmp(h, s->secret.stored_key, SW_SCRAM_KEY_LEN) != 0 || s->mock))
        rc = -EACCES;
    if (rc == 0)
        rc = sw_scram_auth_sign(s->secret.server_key, bare, strlen(bare), s->server_first,
                                strlen(s->server_first), client_final, wo_proof_len, sig);
    OPENSSL_cleanse(ck, sizeof ck);
    if (rc < 0) return rc;

    char sig64[(SW_SCRAM_KEY_LEN + 2) / 3 * 4 + 1];
    if (sw_b64_encode(sig, sizeof sig, sig64, sizeof sig64) < 0) return -EIO;
    int n = snprintf(out, outsz, "v=%s", sig64);
    if (n < 0 || (size_t)n >= outsz) {
        if (outsz > 0) out[0] = '\0';
        return -ENOSPC;
    }
    if (outlen) *outlen = (size_t)n;
    return 0;
}
