/*
 * b64.c - strict base64 for SCRAM attributes and verifiers, on top of
 * OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock.  EVP_DecodeBlock alone is too
 * lenient for peer input: it treats '=' as a zero digit anywhere and reports
 * lengths that include the padding, so the structure (length a multiple of
 * 4, '=' only as one or two trailing pad characters, alphabet only) is
 * checked here first and the real length derived from the pad count.
 */
#include "scram_int.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

static bool b64_digit(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

int sw_b64_encode(const uint8_t *in, size_t n, char *out, size_t outsz)
{
    if (n > (size_t)INT_MAX / 4 * 3 - 3) return -ENOSPC;
    size_t need = (n + 2) / 3 * 4;
    if (!out || outsz < need + 1) return -ENOSPC;
    int w = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    if (w < 0 || (size_t)w != need) return -ENOSPC;
    return w;
}

int sw_b64_decode(const char *in, size_t n, uint8_t *out, size_t outsz)
{
    if (n % 4 != 0 || n > (size_t)INT_MAX) return -EBADMSG;
    if (n == 0) return 0;

    size_t pad = 0;
    if (in[n - 1] == '=') {
        pad = 1;
        if (in[n - 2] == '=') pad = 2;
    }
    for (size_t i = 0; i < n - pad; i++)
        if (!b64_digit((unsigned char)in[i])) return -EBADMSG;

    size_t len = n / 4 * 3 - pad;
    if (len > outsz) return -ENOSPC;

    /* All groups but the last decode to exactly 3 bytes and fit in out; the
     * last goes through a scratch buffer since its padding decodes to extra
     * zero bytes. */
    size_t head = n - 4;
    if (head > 0 && EVP_DecodeBlock(out, (const unsigned char *)in, (int)head) != (int)(head / 4 * 3))
        return -EBADMSG;
    unsigned char last[3];
    if (EVP_DecodeBlock(last, (const unsigned char *)in + head, 4) != 3) return -EBADMSG;
    memcpy(out + head / 4 * 3, last, 3 - pad);
    return (int)len;
}
