/*
 * md5.c - PostgreSQL's legacy md5 password scheme.  The stored form is
 * "md5" + hex(md5(password || user)); the wire response to an
 * AuthenticationMD5Password challenge hashes the stored hex digits with the
 * 4-byte salt, so either side can compute it from the stored form alone.
 */
#include "sw/auth.h"

#include <string.h>

#include <openssl/evp.h>

#define MD5_LEN 16

/* Lowercase hex digest of a||b into out as "md5" + 32 hex digits; out is ""
 * if the digest is unavailable (e.g. a FIPS-only provider), which callers
 * must treat as a failed check. */
static void md5_hex2(const void *a, size_t alen, const void *b, size_t blen, char out[36])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    int ok = 0;

    out[0] = '\0';
    /* Two updates instead of EVP_Digest on a joined copy: no allocation and
     * no length limit on user names or passwords. */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
        EVP_DigestUpdate(ctx, a, alen) == 1 && EVP_DigestUpdate(ctx, b, blen) == 1 &&
        EVP_DigestFinal_ex(ctx, d, &dlen) == 1 && dlen == MD5_LEN)
        ok = 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) return;

    memcpy(out, "md5", 3);
    for (int i = 0; i < MD5_LEN; i++) {
        out[3 + 2 * i] = hex[d[i] >> 4];
        out[4 + 2 * i] = hex[d[i] & 0xf];
    }
    out[35] = '\0';
}

/* Stored md5 form "md5" + hex(md5(password || user)); "" on digest failure. */
void sw_md5_stored(const char *user, const char *password, char out[36])
{
    if (!user || !password) {
        out[0] = '\0';
        return;
    }
    md5_hex2(password, strlen(password), user, strlen(user), out);
}

/* Wire response "md5" + hex(md5(stored[3..35) || salt)); "" if stored is not
 * a 35-char "md5..." string or the digest fails. */
void sw_md5_response(const char *stored, const uint8_t salt[4], char out[36])
{
    if (!stored || !salt || strlen(stored) != 35 || memcmp(stored, "md5", 3) != 0) {
        out[0] = '\0';
        return;
    }
    md5_hex2(stored + 3, 32, salt, 4, out);
}
