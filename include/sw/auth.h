/*
 * auth.h - password authentication for both sides of the proxy.
 *
 * SCRAM-SHA-256 (RFC 5802 / RFC 7677) as PostgreSQL speaks it, server side
 * (clients logging in to shardwire) and client side (shardwire logging in to
 * PostgreSQL), plus the md5 scheme.  All crypto comes from OpenSSL
 * (PKCS5_PBKDF2_HMAC, HMAC, SHA256, EVP_Digest MD5, RAND_bytes, EVP base64).
 * Pure: no I/O, no allocation beyond the fixed-size structs below.
 *
 * Return convention: 0 on success, -EBADMSG for a malformed peer message,
 * -EACCES for a wrong password / failed proof, -EINVAL for bad arguments,
 * -ENOSPC when an output buffer is too small.
 */
#ifndef SW_AUTH_H
#define SW_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SW_SCRAM_KEY_LEN 32
#define SW_SCRAM_MAX_SALT 64
#define SW_SCRAM_DEFAULT_ITERATIONS 4096
#define SW_SCRAM_MSG_MAX 512       /* upper bound for any SCRAM message we produce or keep */

/* A stored SCRAM verifier as in pg_authid.rolpassword:
 * "SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>" */
typedef struct sw_scram_secret {
    int iterations;
    uint8_t salt[SW_SCRAM_MAX_SALT];
    int salt_len;
    uint8_t stored_key[SW_SCRAM_KEY_LEN];
    uint8_t server_key[SW_SCRAM_KEY_LEN];
} sw_scram_secret;

/* Parse a verifier string.  0 or -EINVAL. */
int sw_scram_secret_parse(const char *text, sw_scram_secret *out);
/* Derive a verifier from a plaintext password (salt NULL = 16 random bytes). */
int sw_scram_secret_from_password(const char *password, const uint8_t *salt, int salt_len,
                                  int iterations, sw_scram_secret *out);
/* Format a verifier as text.  0 or -ENOSPC. */
int sw_scram_secret_format(const sw_scram_secret *s, char *buf, size_t bufsz);

/* ---- server side: shardwire verifies a connecting client ---- */

typedef struct sw_scram_server {
    sw_scram_secret secret;
    bool mock;                            /* unknown user: run the exchange, always fail */
    int state;                            /* 0 init, 1 sent server-first, 2 done */
    char client_first_bare[SW_SCRAM_MSG_MAX];
    char server_first[SW_SCRAM_MSG_MAX];
    char nonce[SW_SCRAM_MSG_MAX];         /* client nonce + server nonce */
    char cbind_flag;                      /* gs2 flag from client-first ('n'/'y'), echoed in c= */
} sw_scram_server;

/* secret NULL means mock mode (a random salt; the proof never verifies),
 * which is how PostgreSQL hides whether a role exists. */
void sw_scram_server_init(sw_scram_server *s, const sw_scram_secret *secret);

/* Consume the client-first-message (the SASLInitialResponse data, e.g.
 * "n,,n=,r=<nonce>"), write the server-first-message to out.  server_nonce
 * NULL = 18 random bytes base64.  Channel binding "p=" is refused (-EBADMSG);
 * "n" and "y" are accepted since shardwire offers no -PLUS mechanism. */
int sw_scram_server_first(sw_scram_server *s, const char *client_first, size_t len,
                          const char *server_nonce, char *out, size_t outsz, size_t *outlen);

/* Consume the client-final-message, verify channel binding, nonce and proof;
 * on success write the server-final-message ("v=...") to out.
 * Returns 0, -EACCES (wrong password or mock) or -EBADMSG. */
int sw_scram_server_final(sw_scram_server *s, const char *client_final, size_t len,
                          char *out, size_t outsz, size_t *outlen);

/* ---- client side: shardwire logs in to PostgreSQL ---- */

typedef struct sw_scram_client {
    int state;
    char password[256];
    char client_nonce[64];
    char client_first_bare[SW_SCRAM_MSG_MAX];
    uint8_t server_signature[SW_SCRAM_KEY_LEN];
} sw_scram_client;

/* Start: write the client-first-message ("n,,n=,r=<nonce>") to out.
 * nonce NULL = 18 random bytes base64. */
int sw_scram_client_first(sw_scram_client *c, const char *password, const char *nonce,
                          char *out, size_t outsz, size_t *outlen);
/* Same, with a user name in "n=" (',' and '=' escaped as =2C / =3D).  PostgreSQL
 * ignores it, so libpq sends it empty; this exists for non-PostgreSQL peers and
 * for pinning the RFC 7677 test vector, whose client-first carries "n=user". */
int sw_scram_client_first_user(sw_scram_client *c, const char *user, const char *password,
                               const char *nonce, char *out, size_t outsz, size_t *outlen);
/* Consume server-first, write client-final (with proof) to out. */
int sw_scram_client_final(sw_scram_client *c, const char *server_first, size_t len,
                          char *out, size_t outsz, size_t *outlen);
/* Check the server-final-message signature.  0 or -EACCES / -EBADMSG. */
int sw_scram_client_verify(sw_scram_client *c, const char *server_final, size_t len);

/* ---- md5 ---- */

/* "md5" + hex(md5(password + user)): the stored form (as in pg_authid). */
void sw_md5_stored(const char *user, const char *password, char out[36]);
/* The wire response to AuthenticationMD5Password: "md5" + hex(md5(stored_hex + salt)).
 * stored is the 35-char "md5..." form; out gets 35 chars + NUL. */
void sw_md5_response(const char *stored, const uint8_t salt[4], char out[36]);

/* Random bytes from OpenSSL.  0 or -EIO. */
int sw_random_bytes(void *buf, size_t n);

#endif
