/*
 * floatfmt.c - float4/float8 text in and out as PostgreSQL 15 does it.
 *
 * With the default extra_float_digits = 1, float8out and float4out print
 * the shortest digits that read back to the same value, chosen by the Ryu
 * algorithm as PostgreSQL builds it: without STRICTLY_SHORTEST, so both
 * ends of the rounding interval are excluded (1e23 prints as
 * 9.999999999999999e+22).  The choice of digits here follows Ryu step by
 * step, including the places where it looks only at a bounded power of 5
 * or 2 to detect exact values; its three 64-bit quotients, which Ryu gets
 * from tables and which are exact floors, are computed with GMP instead.
 * Layout: fixed notation for decimal exponents -4 .. 14 (float4: -4 .. 5),
 * otherwise d.ddde+XX.
 */
#include <errno.h>
#include <gmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "numeric.h"

typedef struct ryu_params {
    int mbits, ebits, bias;
    bool dbl;           /* d2s (float8) rather than f2s (float4) */
} ryu_params;

static const ryu_params P_DOUBLE = {52, 11, 1023, true};
static const ryu_params P_FLOAT = {23, 8, 127, false};

/* floor(m * 2^e2 / 10^e10), which Ryu proves fits in 64 bits. */
static uint64_t floor_scaled(uint64_t m, int e2, int e10)
{
    mpz_t num, den, p;
    mpz_inits(num, den, p, NULL);
    mpz_set_ui(num, (unsigned long)m);
    mpz_set_ui(den, 1);
    if (e2 > 0)
        mpz_mul_2exp(num, num, (unsigned long)e2);
    else
        mpz_mul_2exp(den, den, (unsigned long)-e2);
    if (e10 > 0) {
        mpz_ui_pow_ui(p, 10, (unsigned long)e10);
        mpz_mul(den, den, p);
    } else if (e10 < 0) {
        mpz_ui_pow_ui(p, 10, (unsigned long)-e10);
        mpz_mul(num, num, p);
    }
    mpz_fdiv_q(num, num, den);
    uint64_t r = (uint64_t)mpz_get_ui(num);
    mpz_clears(num, den, p, NULL);
    return r;
}

static bool multiple_of_pow5(uint64_t v, uint32_t p)
{
    uint32_t c = 0;
    while (v != 0 && v % 5 == 0) {
        v /= 5;
        c++;
    }
    return c >= p;
}

static bool multiple_of_pow2(uint64_t v, uint32_t p)
{
    return (v & ((UINT64_C(1) << p) - 1)) == 0;
}

/* Ryu's floor(e * log10(2)) and floor(e * log10(5)). */
static uint32_t log10_pow2(int32_t e) { return ((uint32_t)e * 78913) >> 18; }
static uint32_t log10_pow5(int32_t e) { return ((uint32_t)e * 732923) >> 20; }

/* The shortest decimal mant * 10^exp for a finite nonzero value. */
static void shortest(const ryu_params *P, uint64_t ieee_m, uint32_t ieee_e, uint64_t *mant, int32_t *exp)
{
    /* Ryu's shortcut: an integer below 2^(mbits+1) is its own shortest
     * form (trailing zeros are dropped later, in exponent form only). */
    int32_t e2i = (int32_t)ieee_e - P->bias - P->mbits;
    if (e2i >= -P->mbits && e2i <= 0 && (ieee_m & ((UINT64_C(1) << -e2i) - 1)) == 0) {
        *mant = ((UINT64_C(1) << P->mbits) | ieee_m) >> -e2i;
        *exp = 0;
        return;
    }
    int32_t e2;
    uint64_t m2;
    if (ieee_e == 0) {
        e2 = 1 - P->bias - P->mbits - 2;
        m2 = ieee_m;
    } else {
        e2 = (int32_t)ieee_e - P->bias - P->mbits - 2;
        m2 = (UINT64_C(1) << P->mbits) | ieee_m;
    }
    uint64_t mv = 4 * m2, mp = mv + 2;
    uint32_t mm_shift = ieee_m != 0 || ieee_e <= 1;
    uint64_t mm = mv - 1 - mm_shift;
    uint64_t vr, vp, vm;
    int32_t e10;
    bool vr_tz = false;
    unsigned last = 0;
    if (e2 >= 0) {
        uint32_t q = log10_pow2(e2) - (P->dbl && e2 > 3);
        e10 = (int32_t)q;
    } else {
        uint32_t q = log10_pow5(-e2) - (P->dbl && -e2 > 1);
        e10 = (int32_t)q + e2;
    }
    vr = floor_scaled(mv, e2, e10);
    vp = floor_scaled(mp, e2, e10);
    vm = floor_scaled(mm, e2, e10);
    uint32_t q = (uint32_t)(e2 >= 0 ? e10 : e10 - e2);
    /* f2s computes one removed digit up front (d2s starts a digit lower). */
    if (!P->dbl && q != 0 && (vp - 1) / 10 <= vm / 10) last = (unsigned)(floor_scaled(mv, e2, e10 - 1) % 10);
    if (e2 >= 0) {
        if (q <= (P->dbl ? 21u : 9u)) {
            if (mv % 5 == 0)
                vr_tz = multiple_of_pow5(mv, q);
            else
                vp -= multiple_of_pow5(mp, q); /* the upper bound is excluded */
        }
    } else {
        if (q <= 1) {
            vr_tz = true;
            --vp;
        } else if (q < (P->dbl ? 63u : 31u)) {
            vr_tz = multiple_of_pow2(mv, q - 1);
        }
    }
    int32_t removed = 0;
    while (vp / 10 > vm / 10) {
        vr_tz &= last == 0;
        last = (unsigned)(vr % 10);
        vr /= 10;
        vp /= 10;
        vm /= 10;
        removed++;
    }
    /* An exact ...50..0 rounds to even. */
    if (vr_tz && last == 5 && vr % 2 == 0) last = 4;
    *mant = vr + (vr == vm || last >= 5);
    *exp = e10 + removed;
}

static int ndigits(uint64_t v)
{
    int n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static int format(const ryu_params *P, uint64_t bits, char *out)
{
    int total = 1 + P->ebits + P->mbits;
    bool sign = (bits >> (total - 1)) & 1;
    uint64_t m = bits & ((UINT64_C(1) << P->mbits) - 1);
    uint32_t e = (uint32_t)((bits >> P->mbits) & ((1u << P->ebits) - 1));
    if (e == (1u << P->ebits) - 1) {
        strcpy(out, m ? "NaN" : sign ? "-Infinity" : "Infinity");
        return (int)strlen(out);
    }
    if (e == 0 && m == 0) {
        strcpy(out, sign ? "-0" : "0");
        return (int)strlen(out);
    }
    uint64_t mant;
    int32_t exp;
    shortest(P, m, e, &mant, &exp);
    char dg[24];
    int olen = ndigits(mant);
    for (int i = olen - 1; i >= 0; i--, mant /= 10) dg[i] = (char)('0' + mant % 10);
    int dexp = exp + olen - 1; /* exponent of the first digit */
    int o = 0;
    if (sign) out[o++] = '-';
    if (dexp >= -4 && dexp < (P->dbl ? 15 : 6)) {
        int nexp = exp + olen; /* digits before the point */
        if (nexp <= 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = 0; i < -nexp; i++) out[o++] = '0';
            memcpy(out + o, dg, (size_t)olen);
            o += olen;
        } else if (exp < 0) {
            memcpy(out + o, dg, (size_t)nexp);
            o += nexp;
            out[o++] = '.';
            memcpy(out + o, dg + nexp, (size_t)(olen - nexp));
            o += olen - nexp;
        } else {
            memcpy(out + o, dg, (size_t)olen);
            o += olen;
            for (int i = 0; i < exp; i++) out[o++] = '0';
        }
        out[o] = '\0';
        return o;
    }
    /* A small integer may still carry trailing zeros into this form. */
    while (olen > 1 && dg[olen - 1] == '0') olen--;
    out[o++] = dg[0];
    if (olen > 1) {
        out[o++] = '.';
        memcpy(out + o, dg + 1, (size_t)(olen - 1));
        o += olen - 1;
    }
    out[o++] = 'e';
    int x = dexp;
    if (x < 0) {
        out[o++] = '-';
        x = -x;
    } else {
        out[o++] = '+';
    }
    if (x >= 100) out[o++] = (char)('0' + x / 100);
    out[o++] = (char)('0' + x / 10 % 10);
    out[o++] = (char)('0' + x % 10);
    out[o] = '\0';
    return o;
}

int sw_float8_out(double v, char *buf)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return format(&P_DOUBLE, bits, buf);
}

int sw_float4_out(float v, char *buf)
{
    uint32_t b32;
    memcpy(&b32, &v, sizeof b32);
    return format(&P_FLOAT, b32, buf);
}

/* The text between blanks, NUL-terminated for strtod: in tmp, or in *heap
 * when longer (a long run of digits is still valid input).  NULL when
 * empty. */
static char *trimmed(const char *s, size_t len, char *tmp, size_t tmpsz, char **heap)
{
    size_t i = 0;
    while (i < len && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) i++;
    while (len > i && (s[len - 1] == ' ' || (s[len - 1] >= '\t' && s[len - 1] <= '\r'))) len--;
    if (i == len) return NULL;
    size_t n = len - i;
    char *d = tmp;
    if (n + 1 > tmpsz) {
        d = *heap = malloc(n + 1);
        if (!d) return NULL;
    }
    memcpy(d, s + i, n);
    d[n] = '\0';
    return d;
}

/* PostgreSQL's own spellings, for C libraries that differ. */
static int special(const char *t, double *out)
{
    const char *u = t;
    double sign = 1.0;
    if (*u == '+' || *u == '-') {
        sign = *u == '-' ? -1.0 : 1.0;
        u++;
    }
    if (strcasecmp(t, "nan") == 0) {
        *out = NAN;
        return 0;
    }
    if (strcasecmp(u, "infinity") == 0 || strcasecmp(u, "inf") == 0) {
        *out = sign * INFINITY;
        return 0;
    }
    return -1;
}

int sw_float8_in(const char *s, size_t len, double *out)
{
    char tmp[128], *heap = NULL;
    char *t = trimmed(s, len, tmp, sizeof tmp, &heap);
    if (!t) return -1;
    int rc = -1;
    if (special(t, out) == 0) {
        rc = 0;
    } else {
        char *end;
        errno = 0;
        double v = strtod(t, &end);
        /* Subnormal results are fine; overflow and total underflow are not. */
        if (end != t && *end == '\0' && !(errno == ERANGE && (v == 0.0 || isinf(v)))) {
            *out = v;
            rc = 0;
        }
    }
    free(heap);
    return rc;
}

int sw_float4_in(const char *s, size_t len, float *out)
{
    char tmp[128], *heap = NULL;
    char *t = trimmed(s, len, tmp, sizeof tmp, &heap);
    if (!t) return -1;
    int rc = -1;
    double d;
    if (special(t, &d) == 0) {
        *out = (float)d;
        rc = 0;
    } else {
        char *end;
        errno = 0;
        float v = strtof(t, &end);
        if (end != t && *end == '\0' && !(errno == ERANGE && (v == 0.0f || isinf(v)))) {
            *out = v;
            rc = 0;
        }
    }
    free(heap);
    return rc;
}
