/*
 * random.c - the one source of randomness for authentication: salts for new
 * verifiers, SCRAM nonces, mock-exchange salts.  Everything goes through
 * OpenSSL's CSPRNG so there is a single place to audit.
 */
#include "sw/auth.h"

#include <errno.h>
#include <limits.h>

#include <openssl/rand.h>

/* Fill buf with n cryptographically strong random bytes.  0, -EINVAL or -EIO. */
int sw_random_bytes(void *buf, size_t n)
{
    if (n == 0) return 0;
    if (!buf) return -EINVAL;
    unsigned char *p = buf;
    /* RAND_bytes takes an int length; feed oversized requests in chunks. */
    while (n > 0) {
        int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(p, chunk) != 1) return -EIO;
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}
