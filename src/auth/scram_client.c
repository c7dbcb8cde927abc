/*
 * scram_client.c - the client side of SCRAM-SHA-256: shardwire logging in to
 * a PostgreSQL backend with a configured password.  It behaves like libpq:
 * client-first "n,,n=,r=<nonce>" (no channel binding, empty user name since
 * the startup packet carries the role), then the proof, then a check of the
 * server's signature so a backend that does not know the password cannot
 * impersonate one that does.
 *
 * The password is wiped from the state as soon as the proof is computed; only
 * the expected ServerSignature is kept for the last step.
 */
#include "scram_int.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

enum { CLI_INIT = 0, CLI_SENT_FIRST = 1, CLI_SENT_FINAL = 2, CLI_DONE = 3 };

/* Append user to buf as a SCRAM saslname (',' -> "=2C", '=' -> "=3D"). */
static int append_saslname(char *buf, size_t bufsz, size_t *pos, const char *user)
{
    for (const char *u = user; *u; u++) {
        int rc;
        if (*u == ',')
            rc = sw_scram_append(buf, bufsz, pos, "=2C", 3);
        else if (*u == '=')
            rc = sw_scram_append(buf, bufsz, pos, "=3D", 3);
        else
            rc = sw_scram_append(buf, bufsz, pos, u, 1);
        if (rc < 0) return rc;
    }
    return 0;
}

/* Start an exchange with "n=<user>": 0, -EINVAL (password, user or nonce
 * unusable), -ENOSPC or -EIO. */
int sw_scram_client_first_user(sw_scram_client *c, const char *user, const char *password,
                               const char *nonce, char *out, size_t outsz, size_t *outlen)
{
    if (!c || !user || !password || !out) return -EINVAL;
    memset(c, 0, sizeof *c);
    if (outlen) *outlen = 0;
    size_t pwlen = strlen(password);
    if (pwlen >= sizeof c->password) return -EINVAL;

    if (nonce) {
        size_t nl = strlen(nonce);
        if (!sw_scram_printable(nonce, nl) || nl >= sizeof c->client_nonce) return -EINVAL;
        memcpy(c->client_nonce, nonce, nl + 1);
    } else {
        uint8_t raw[SW_SCRAM_RAW_NONCE_LEN];
        if (sw_random_bytes(raw, sizeof raw) < 0) return -EIO;
        if (sw_b64_encode(raw, sizeof raw, c->client_nonce, sizeof c->client_nonce) < 0)
            return -EIO;
    }

    size_t pos = 0;
    char *bare = c->client_first_bare;
    size_t bsz = sizeof c->client_first_bare;
    if (sw_scram_append(bare, bsz, &pos, "n=", 2) < 0 || append_saslname(bare, bsz, &pos, user) < 0 ||
        sw_scram_append(bare, bsz, &pos, ",r=", 3) < 0 ||
        sw_scram_append(bare, bsz, &pos, c->client_nonce, strlen(c->client_nonce)) < 0) {
        memset(c, 0, sizeof *c);
        return -EINVAL;
    }

    size_t opos = 0;
    if (sw_scram_append(out, outsz, &opos, "n,,", 3) < 0 ||
        sw_scram_append(out, outsz, &opos, bare, pos) < 0) {
        if (outsz > 0) out[0] = '\0';
        memset(c, 0, sizeof *c);
        return -ENOSPC;
    }
    memcpy(c->password, password, pwlen + 1);
    if (outlen) *outlen = opos;
    c->state = CLI_SENT_FIRST;
    return 0;
}

/* Start an exchange the way libpq does, with an empty user name. */
int sw_scram_client_first(sw_scram_client *c, const char *password, const char *nonce, char *out,
                          size_t outsz, size_t *outlen)
{
    return sw_scram_client_first_user(c, "", password, nonce, out, outsz, outlen);
}

/* Parse server-first into nonce span, salt and iterations.  0 or -EBADMSG. */
static int parse_server_first(const sw_scram_client *c, const char *msg, size_t len,
                              const char **nonce, size_t *nonce_len, uint8_t *salt, int *salt_len,
                              int *iterations)
{
    const char *p = msg, *end = msg + len;
    const char *v;
    size_t vl;

    /* The combined nonce must extend ours with a non-empty server part. */
    if (sw_scram_attr_read(&p, end, 'r', NULL, &v, &vl) < 0) return -EBADMSG;
    size_t cl = strlen(c->client_nonce);
    if (vl <= cl || memcmp(v, c->client_nonce, cl) != 0 || !sw_scram_printable(v, vl))
        return -EBADMSG;
    *nonce = v;
    *nonce_len = vl;

    if (sw_scram_attr_read(&p, end, 's', NULL, &v, &vl) < 0) return -EBADMSG;
    int n = sw_b64_decode(v, vl, salt, SW_SCRAM_MAX_SALT);
    if (n < 1) return -EBADMSG;
    *salt_len = n;

    if (sw_scram_attr_read(&p, end, 'i', NULL, &v, &vl) < 0) return -EBADMSG;
    if (sw_scram_iterations_parse(v, vl, iterations) < 0) return -EBADMSG;
    /* libpq rejects anything after the iteration count; so do we. */
    if (p != end) return -EBADMSG;
    return 0;
}

/* Read server-first, write client-final with the proof.  0, -EBADMSG,
 * -EINVAL (wrong state), -ENOSPC or -EIO. */
int sw_scram_client_final(sw_scram_client *c, const char *server_first, size_t len, char *out,
                          size_t outsz, size_t *outlen)
{
    if (!c || !server_first || !out || c->state != CLI_SENT_FIRST) return -EINVAL;
    c->state = CLI_DONE;
    if (outlen) *outlen = 0;

    int rc;
    const char *nonce;
    size_t nonce_len;
    uint8_t salt[SW_SCRAM_MAX_SALT];
    int salt_len, iterations;
    uint8_t salted[SW_SCRAM_KEY_LEN], ck[SW_SCRAM_KEY_LEN], stored[SW_SCRAM_KEY_LEN],
        server_key[SW_SCRAM_KEY_LEN], sig[SW_SCRAM_KEY_LEN], proof[SW_SCRAM_KEY_LEN];
    char msg[SW_SCRAM_MSG_MAX], proof64[(SW_SCRAM_KEY_LEN + 2) / 3 * 4 + 1];
    const char *bare = c->client_first_bare;
    size_t pos = 0;

    if (len == 0 || memchr(server_first, '\0', len)) {
        rc = -EBADMSG;
        goto done;
    }
    rc = parse_server_first(c, server_first, len, &nonce, &nonce_len, salt, &salt_len, &iterations);
    if (rc < 0) goto done;

    /* client-final-without-proof; "biws" is base64("n,,"), the header we sent. */
    if (sw_scram_append(msg, sizeof msg, &pos, "c=biws,r=", 9) < 0 ||
        sw_scram_append(msg, sizeof msg, &pos, nonce, nonce_len) < 0) {
        rc = -EBADMSG; /* a server nonce too long to echo */
        goto done;
    }

    rc = sw_scram_salted_password(c->password, salt, salt_len, iterations, salted);
    if (rc == 0) rc = sw_scram_keys_derive(salted, ck, stored, server_key);
    if (rc == 0)
        rc = sw_scram_auth_sign(stored, bare, strlen(bare), server_first, len, msg, pos, sig);
    if (rc < 0) goto done;
    for (int i = 0; i < SW_SCRAM_KEY_LEN; i++) proof[i] = ck[i] ^ sig[i];
    rc = sw_scram_auth_sign(server_key, bare, strlen(bare), server_first, len, msg, pos,
                            c->server_signature);
    if (rc < 0) goto done;

    if (sw_b64_encode(proof, sizeof proof, proof64, sizeof proof64) < 0) {
        rc = -EIO;
        goto done;
    }
    size_t opos = 0;
    if (sw_scram_append(out, outsz, &opos, msg, pos) < 0 ||
        sw_scram_append(out, outsz, &opos, ",p=", 3) < 0 ||
        sw_scram_append(out, outsz, &opos, proof64, strlen(proof64)) < 0) {
        if (outsz > 0) out[0] = '\0';
        rc = -ENOSPC;
        goto done;
    }
    if (outlen) *outlen = opos;
    c->state = CLI_SENT_FINAL;
done:
    OPENSSL_cleanse(c->password, sizeof c->password);
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(ck, sizeof ck);
    OPENSSL_cleanse(stored, sizeof stored);
    OPENSSL_cleanse(server_key, sizeof server_key);
    return rc;
}

/* Check server-final: 0 when the signature matches, -EACCES for "e=..." or a
 * wrong signature, -EBADMSG when malformed, -EINVAL in the wrong state. */
int sw_scram_client_verify(sw_scram_client *c, const char *server_final, size_t len)
{
    if (!c || !server_final || c->state != CLI_SENT_FINAL) return -EINVAL;
    c->state = CLI_DONE;
    if (len == 0 || memchr(server_final, '\0', len)) return -EBADMSG;

    const char *p = server_final, *end = server_final + len;
    const char *v;
    size_t vl;
    char a;
    /* A server-error ("e=invalid-proof", ...) means the server refused us. */
    if (*p == 'e') return sw_scram_attr_read(&p, end, 'e', NULL, &v, &vl) < 0 ? -EBADMSG : -EACCES;

    if (sw_scram_attr_read(&p, end, 'v', NULL, &v, &vl) < 0) return -EBADMSG;
    uint8_t sig[SW_SCRAM_KEY_LEN];
    if (sw_b64_decode(v, vl, sig, sizeof sig) != SW_SCRAM_KEY_LEN) return -EBADMSG;
    /* RFC 5802 allows extensions after the verifier; they carry nothing for us. */
    while (p < end)
        if (sw_scram_attr_read(&p, end, 0, &a, &v, &vl) < 0) return -EBADMSG;

    int ok = CRYPTO_memcmp(sig, c->server_signature, SW_SCRAM_KEY_LEN) == 0;
    OPENSSL_cleanse(c->server_signature, sizeof c->server_signature);
    return ok ? 0 : -EACCES;
}
