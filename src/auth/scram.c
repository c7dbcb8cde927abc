/*
 * scram.c - the SCRAM-SHA-256 key schedule and the stored verifier.
 *
 * A verifier is kept exactly as PostgreSQL stores it in
 * pg_authid.rolpassword, "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>",
 * so secrets can be copied between PostgreSQL and shardwire unchanged.  The
 * primitives here (PBKDF2, HMAC, H, the AuthMessage signature, the attribute
 * reader) are shared by scram_server.c and scram_client.c.
 */
#include "scram_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

static const char verifier_prefix[] = "SCRAM-SHA-256$";

/* ---- primitives ---- */

int sw_scram_hmac(const uint8_t *key, size_t keylen, const void *const *parts,
                  const size_t *lens, size_t nparts, uint8_t out[SW_SCRAM_KEY_LEN])
{
    /* EVP_MAC rather than one-shot HMAC(): the AuthMessage is three pieces and
     * feeding them separately avoids a joined copy with a length cap. */
    int rc = -EIO;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t outl = 0;
    if (!ctx || EVP_MAC_init(ctx, key, keylen, params) != 1) goto done;
    for (size_t i = 0; i < nparts; i++)
        if (EVP_MAC_update(ctx, parts[i], lens[i]) != 1) goto done;
    if (EVP_MAC_final(ctx, out, &outl, SW_SCRAM_KEY_LEN) != 1 || outl != SW_SCRAM_KEY_LEN)
        goto done;
    rc = 0;
done:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

int sw_scram_hash(const uint8_t *in, size_t n, uint8_t out[SW_SCRAM_KEY_LEN])
{
    unsigned int len = 0;
    if (EVP_Digest(in, n, out, &len, EVP_sha256(), NULL) != 1 || len != SW_SCRAM_KEY_LEN)
        return -EIO;
    return 0;
}

int sw_scram_salted_password(const char *password, const uint8_t *salt, int salt_len,
                             int iterations, uint8_t out[SW_SCRAM_KEY_LEN])
{
    size_t pwlen = strlen(password);
    if (pwlen > (size_t)INT_MAX || salt_len < 1 || iterations < 1) return -EINVAL;
    /* The password is used as raw bytes.  PostgreSQL first applies SASLprep,
     * which leaves every ASCII password (and any already-normalized UTF-8
     * one) unchanged. */
    if (PKCS5_PBKDF2_HMAC(password, (int)pwlen, salt, salt_len, iterations, EVP_sha256(),
                          SW_SCRAM_KEY_LEN, out) != 1)
        return -EIO;
    return 0;
}

int sw_scram_keys_derive(const uint8_t salted[SW_SCRAM_KEY_LEN], uint8_t *client_key,
                         uint8_t stored_key[SW_SCRAM_KEY_LEN], uint8_t server_key[SW_SCRAM_KEY_LEN])
{
    static const char ck_label[] = "Client Key", sk_label[] = "Server Key";
    uint8_t ck[SW_SCRAM_KEY_LEN];
    const void *p[1];
    size_t l[1];
    int rc;

    p[0] = ck_label;
    l[0] = sizeof ck_label - 1;
    if ((rc = sw_scram_hmac(salted, SW_SCRAM_KEY_LEN, p, l, 1, ck)) < 0) goto done;
    if ((rc = sw_scram_hash(ck, sizeof ck, stored_key)) < 0) goto done;
    p[0] = sk_label;
    l[0] = sizeof sk_label - 1;
    if ((rc = sw_scram_hmac(salted, SW_SCRAM_KEY_LEN, p, l, 1, server_key)) < 0) goto done;
    if (client_key) memcpy(client_key, ck, sizeof ck);
done:
    OPENSSL_cleanse(ck, sizeof ck);
    return rc;
}

int sw_scram_auth_sign(const uint8_t key[SW_SCRAM_KEY_LEN], const char *first_bare,
                       size_t first_bare_len, const char *server_first, size_t server_first_len,
                       const char *final_wo_proof, size_t final_wo_proof_len,
                       uint8_t out[SW_SCRAM_KEY_LEN])
{
    const void *p[5] = {first_bare, ",", server_first, ",", final_wo_proof};
    size_t l[5] = {first_bare_len, 1, server_first_len, 1, final_wo_proof_len};
    return sw_scram_hmac(key, SW_SCRAM_KEY_LEN, p, l, 5, out);
}

bool sw_scram_printable(const char *s, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || c == ',') return false;
    }
    return true;
}

int sw_scram_iterations_parse(const char *s, size_t n, int *out)
{
    /* Digits only: no sign, no spaces, no hex, unlike a bare strtol(). */
    if (n == 0) return -EBADMSG;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -EBADMSG;
        v = v * 10 + (s[i] - '0');
        if (v > INT_MAX) return -EBADMSG;
    }
    if (v < 1) return -EBADMSG;
    *out = (int)v;
    return 0;
}

int sw_scram_attr_read(const char **p, const char *end, char want, char *got,
                       const char **val, size_t *vlen)
{
    const char *s = *p;
    if (s >= end) return -EBADMSG;
    char a = *s;
    if (want) {
        if (a != want) return -EBADMSG;
    } else if (!((a >= 'A' && a <= 'Z') || (a >= 'a' && a <= 'z'))) {
        return -EBADMSG;
    }
    if (end - s < 2 || s[1] != '=') return -EBADMSG;
    s += 2;
    const char *v = s;
    while (s < end && *s != ',') s++;
    *val = v;
    *vlen = (size_t)(s - v);
    if (got) *got = a;
    /* Like PostgreSQL, a separator is consumed even when nothing follows it. */
    if (s < end) s++;
    *p = s;
    return 0;
}

int sw_scram_append(char *buf, size_t bufsz, size_t *pos, const char *s, size_t n)
{
    if (*pos + n + 1 > bufsz) return -ENOSPC;
    memcpy(buf + *pos, s, n);
    *pos += n;
    buf[*pos] = '\0';
    return 0;
}

/* ---- verifier ---- */

/* Parse "SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>".  0 or -EINVAL;
 * out is untouched on failure. */
int sw_scram_secret_parse(const char *text, sw_scram_secret *out)
{
    if (!text || !out) return -EINVAL;
    size_t plen = sizeof verifier_prefix - 1;
    if (strncmp(text, verifier_prefix, plen) != 0) return -EINVAL;

    /* Base64 never contains ':' or '$', so the delimiters split unambiguously. */
    const char *iter = text + plen;
    const char *salt = strchr(iter, ':');
    if (!salt) return -EINVAL;
    salt++;
    const char *stored = strchr(salt, '$');
    if (!stored) return -EINVAL;
    stored++;
    const char *server = strchr(stored, ':');
    if (!server) return -EINVAL;
    server++;
    const char *end = server + strlen(server);

    sw_scram_secret s;
    memset(&s, 0, sizeof s);
    if (sw_scram_iterations_parse(iter, (size_t)(salt - 1 - iter), &s.iterations) < 0)
        return -EINVAL;
    int n = sw_b64_decode(salt, (size_t)(stored - 1 - salt), s.salt, sizeof s.salt);
    if (n < 1) return -EINVAL;
    s.salt_len = n;
    if (sw_b64_decode(stored, (size_t)(server - 1 - stored), s.stored_key, SW_SCRAM_KEY_LEN) !=
            SW_SCRAM_KEY_LEN ||
        sw_b64_decode(server, (size_t)(end - server), s.server_key, SW_SCRAM_KEY_LEN) !=
            SW_SCRAM_KEY_LEN)
        return -EINVAL;
    *out = s;
    return 0;
}

/* Derive a verifier from a password: 0, -EINVAL (bad salt length, iterations
 * < 1) or -EIO.  salt NULL draws SW_SCRAM_DEFAULT_SALT_LEN random bytes. */
int sw_scram_secret_from_password(const char *password, const uint8_t *salt, int salt_len,
                                  int iterations, sw_scram_secret *out)
{
    if (!password || !out || iterations < 1) return -EINVAL;
    sw_scram_secret s;
    memset(&s, 0, sizeof s);
    if (salt) {
        if (salt_len < 1 || salt_len > SW_SCRAM_MAX_SALT) return -EINVAL;
        memcpy(s.salt, salt, (size_t)salt_len);
        s.salt_len = salt_len;
    } else {
        if (sw_random_bytes(s.salt, SW_SCRAM_DEFAULT_SALT_LEN) < 0) return -EIO;
        s.salt_len = SW_SCRAM_DEFAULT_SALT_LEN;
    }
    s.iterations = iterations;

    uint8_t salted[SW_SCRAM_KEY_LEN];
    int rc = sw_scram_salted_password(password, s.salt, s.salt_len, iterations, salted);
    if (rc == 0) rc = sw_scram_keys_derive(salted, NULL, s.stored_key, s.server_key);
    OPENSSL_cleanse(salted, sizeof salted);
    if (rc == 0) *out = s;
    OPENSSL_cleanse(&s, sizeof s);
    return rc;
}

/* Format a verifier the way PostgreSQL stores it.  0, -EINVAL or -ENOSPC. */
int sw_scram_secret_format(const sw_scram_secret *s, char *buf, size_t bufsz)
{
    if (!s || !buf || s->iterations < 1 || s->salt_len < 1 || s->salt_len > SW_SCRAM_MAX_SALT)
        return -EINVAL;
    char salt64[(SW_SCRAM_MAX_SALT + 2) / 3 * 4 + 1];
    char stored64[(SW_SCRAM_KEY_LEN + 2) / 3 * 4 + 1];
    char server64[sizeof stored64];
    if (sw_b64_encode(s->salt, (size_t)s->salt_len, salt64, sizeof salt64) < 0 ||
        sw_b64_encode(s->stored_key, SW_SCRAM_KEY_LEN, stored64, sizeof stored64) < 0 ||
        sw_b64_encode(s->server_key, SW_SCRAM_KEY_LEN, server64, sizeof server64) < 0)
        return -EINVAL;
    int n = snprintf(buf, bufsz, "%s%d:%s$%s:%s", verifier_prefix, s->iterations, salt64,
                     stored64, server64);
    if (n < 0 || (size_t)n >= bufsz) {
        if (bufsz > 0) buf[0] = '\0';
        return -ENOSPC;
    }
    return 0;
}
