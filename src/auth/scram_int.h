/*
 * scram_int.h - helpers shared by the SCRAM files of the auth module (verifier,
 * server side, client side): strict base64, the SCRAM key schedule and a
 * bounded "attr=value" reader.  Internal to src/auth; not part of the API.
 */
#ifndef SW_AUTH_SCRAM_INT_H
#define SW_AUTH_SCRAM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw/auth.h"

/* Raw bytes behind a generated nonce; PostgreSQL uses 18 too (24 base64 chars). */
#define SW_SCRAM_RAW_NONCE_LEN 18
/* Salt length PostgreSQL uses for new verifiers and mock exchanges. */
#define SW_SCRAM_DEFAULT_SALT_LEN 16

/* Base64-encode n bytes into out (NUL-terminated).  Length or -ENOSPC. */
int sw_b64_encode(const uint8_t *in, size_t n, char *out, size_t outsz);
/* Strictly decode base64 (padded, no whitespace).  Decoded length, -EBADMSG
 * for malformed input, -ENOSPC when it does not fit in outsz. */
int sw_b64_decode(const char *in, size_t n, uint8_t *out, size_t outsz);

/* HMAC-SHA-256 over the concatenation of nparts buffers.  0 or -EIO. */
int sw_scram_hmac(const uint8_t *key, size_t keylen, const void *const *parts,
                  const size_t *lens, size_t nparts, uint8_t out[SW_SCRAM_KEY_LEN]);
/* H() = SHA-256.  0 or -EIO. */
int sw_scram_hash(const uint8_t *in, size_t n, uint8_t out[SW_SCRAM_KEY_LEN]);
/* SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations).  0 or -EIO. */
int sw_scram_salted_password(const char *password, const uint8_t *salt, int salt_len,
                             int iterations, uint8_t out[SW_SCRAM_KEY_LEN]);
/* ClientKey, StoredKey and ServerKey from a SaltedPassword; client_key may be
 * NULL.  0 or -EIO. */
int sw_scram_keys_derive(const uint8_t salted[SW_SCRAM_KEY_LEN], uint8_t *client_key,
                         uint8_t stored_key[SW_SCRAM_KEY_LEN], uint8_t server_key[SW_SCRAM_KEY_LEN]);
/* HMAC(key, AuthMessage) where AuthMessage = first_bare "," server_first ","
 * final_without_proof.  0 or -EIO. */
int sw_scram_auth_sign(const uint8_t key[SW_SCRAM_KEY_LEN], const char *first_bare,
                       size_t first_bare_len, const char *server_first, size_t server_first_len,
                       const char *final_wo_proof, size_t final_wo_proof_len,
                       uint8_t out[SW_SCRAM_KEY_LEN]);

/* True when [s, s+n) is a non-empty SCRAM "printable" run (0x21-0x7E, no ','). */
bool sw_scram_printable(const char *s, size_t n);

/* Parse an iteration count: plain decimal digits, 1..INT_MAX.  0 or -EBADMSG. */
int sw_scram_iterations_parse(const char *s, size_t n, int *out);

/* Read "<attr>=<value>" at *p (bounded by end) and step past the value and a
 * following ','.  want = 0 accepts any ASCII letter and reports it in *got.
 * 0 or -EBADMSG. */
int sw_scram_attr_read(const char **p, const char *end, char want, char *got,
                       const char **val, size_t *vlen);

/* Append n bytes to buf at *pos, keeping it NUL-terminated.  0 or -ENOSPC. */
int sw_scram_append(char *buf, size_t bufsz, size_t *pos, const char *s, size_t n);

#endif
