/*
 * numeric.c - PostgreSQL's numeric type on GMP: an exact integer scaled by
 * a power of ten, with the display scale PostgreSQL would attach.  Merged
 * sums, averages and variances must print exactly what one server prints,
 * so every operation copies the result scale and rounding rule of the
 * PostgreSQL 15 routine it stands for (add_var, mul_var, select_div_scale,
 * div_var with round = true, sqrt_var, round_var: half away from zero).
 * Base-10000 digits only appear at the edges: the binary wire format and
 * the choice of a division's scale, which looks at them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "numeric.h"

#define NUM_POS 0x0000
#define NUM_NEG 0x4000
#define NUM_NAN 0xC000
#define NUM_PINF 0xD000
#define NUM_NINF 0xF000

/* numeric_in refuses exponents beyond this (NUMERIC_MAX_PRECISION). */
#define MAX_EXPONENT 1000

void sw_num_init(sw_num *n)
{
    mpz_init(n->v);
    n->dscale = 0;
    n->kind = SW_NUM_FINITE;
}

void sw_num_clear(sw_num *n)
{
    mpz_clear(n->v);
}

void sw_num_copy(sw_num *dst, const sw_num *src)
{
    if (dst == src) return;
    mpz_set(dst->v, src->v);
    dst->dscale = src->dscale;
    dst->kind = src->kind;
}

void sw_num_set_int64(sw_num *n, int64_t v)
{
    /* mpz_set_si takes a long, which is 64 bits on every platform built. */
    mpz_set_si(n->v, (long)v);
    n->dscale = 0;
    n->kind = SW_NUM_FINITE;
}

void sw_num_set_zero(sw_num *n, int dscale)
{
    mpz_set_ui(n->v, 0);
    n->dscale = dscale;
    n->kind = SW_NUM_FINITE;
}

static void set_special(sw_num *n, int kind)
{
    mpz_set_ui(n->v, 0);
    n->dscale = 0;
    n->kind = kind;
}

/* z *= 10^k (k >= 0). */
static void mul_pow10(mpz_t z, int k)
{
    if (k <= 0) return;
    mpz_t p;
    mpz_init(p);
    mpz_ui_pow_ui(p, 10, (unsigned long)k);
    mpz_mul(z, z, p);
    mpz_clear(p);
}

/* ---------------------------------------------------------------- input */

static bool prefix_ci(const char *s, size_t n, const char *word)
{
    size_t w = strlen(word);
    return n >= w && strncasecmp(s, word, w) == 0;
}

int sw_num_parse(sw_num *n, const char *s, size_t len)
{
    size_t i = 0, end = len;
    while (i < end && isspace((unsigned char)s[i])) i++;
    while (end > i && isspace((unsigned char)s[end - 1])) end--;
    if (i >= end) return -1;
    const char *p = s + i;
    size_t m = end - i;
    if (m == 3 && prefix_ci(p, m, "nan")) {
        set_special(n, SW_NUM_NAN);
        return 0;
    }
    bool neg = false;
    size_t k = 0;
    if (p[k] == '+' || p[k] == '-') {
        neg = p[k] == '-';
        k++;
    }
    if ((m - k == 8 && prefix_ci(p + k, m - k, "infinity")) || (m - k == 3 && prefix_ci(p + k, m - k, "inf"))) {
        set_special(n, neg ? SW_NUM_NINF : SW_NUM_PINF);
        return 0;
    }
    /* Collect the digits (without the point) into a string for GMP. */
    char small[128];
    char *dig = m < sizeof small ? small : malloc(m + 1);
    if (!dig) return -1;
    size_t nd = 0;
    long frac = 0;
    bool point = false, any = false;
    for (; k < m; k++) {
        char c = p[k];
        if (c >= '0' && c <= '9') {
            dig[nd++] = c;
            any = true;
            if (point) frac++;
        } else if (c == '.' && !point) {
            point = true;
        } else {
            break;
        }
    }
    long exp = 0;
    if (any && k < m && (p[k] == 'e' || p[k] == 'E')) {
        k++;
        bool eneg = false;
        if (k < m && (p[k] == '+' || p[k] == '-')) {
            eneg = p[k] == '-';
            k++;
        }
        if (k >= m) any = false;
        for (; k < m && any; k++) {
            if (p[k] < '0' || p[k] > '9') break;
            exp = exp * 10 + (p[k] - '0');
            if (exp > MAX_EXPONENT) any = false;
        }
        if (eneg) exp = -exp;
    }
    if (!any || k != m) {
        if (dig != small) free(dig);
        return -1;
    }
    dig[nd] = '\0';
    mpz_set_str(n->v, dig, 10);
    if (dig != small) free(dig);
    long scale = frac - exp; /* value = digits * 10^-scale */
    if (scale >= 0) {
        n->dscale = (int)scale;
    } else {
        mul_pow10(n->v, (int)-scale);
        n->dscale = 0;
    }
    if (neg) mpz_neg(n->v, n->v);
    n->kind = SW_NUM_FINITE;
    return 0;
}

static int rd16(const uint8_t *p)
{
    return (int16_t)(uint16_t)((p[0] << 8) | p[1]);
}

int sw_num_from_bin(sw_num *n, const uint8_t *p, size_t len)
{
    if (len < 8) return -1;
    int nd = rd16(p), weight = rd16(p + 2), dscale = rd16(p + 6);
    unsigned sign = (unsigned)((p[4] << 8) | p[5]);
    if (nd < 0 || dscale < 0 || len != 8 + 2 * (size_t)nd) return -1;
    if (sign == NUM_NAN || sign == NUM_PINF || sign == NUM_NINF) {
        set_special(n, sign == NUM_NAN ? SW_NUM_NAN : sign == NUM_PINF ? SW_NUM_PINF : SW_NUM_NINF);
        return 0;
    }
    if (sign != NUM_POS && sign != NUM_NEG) return -1;
    mpz_set_ui(n->v, 0);
    for (int i = 0; i < nd; i++) {
        int d = rd16(p + 8 + 2 * i);
        if (d < 0 || d > 9999) return -1;
        mpz_mul_ui(n->v, n->v, 10000);
        mpz_add_ui(n->v, n->v, (unsigned long)d);
    }
    /* The last digit's decimal scale; the value is exact at it. */
    long s = 4L * (nd - weight - 1);
    if (nd == 0) s = 0;
    if (dscale >= s) {
        mul_pow10(n->v, (int)(dscale - s));
        n->dscale = dscale;
    } else {
        /* Digits past dscale: drop them only when they are zeros. */
        n->dscale = (int)s;
        while (n->dscale > dscale && mpz_divisible_ui_p(n->v, 10)) {
            mpz_divexact_ui(n->v, n->v, 10);
            n->dscale--;
        }
    }
    if (sign == NUM_NEG) mpz_neg(n->v, n->v);
    n->kind = SW_NUM_FINITE;
    return 0;
}

int sw_num_decode(sw_num *n, int fmt, const uint8_t *p, size_t len)
{
    return fmt == 1 ? sw_num_from_bin(n, p, len) : sw_num_parse(n, (const char *)p, len);
}

/* --------------------------------------------------------------- output */

char *sw_num_to_text(const sw_num *n, size_t *len)
{
    const char *sp = n->kind == SW_NUM_NAN ? "NaN" : n->kind == SW_NUM_PINF ? "Infinity"
                                                   : n->kind == SW_NUM_NINF ? "-Infinity" : NULL;
    if (sp) {
        char *r = strdup(sp);
        if (r) *len = strlen(r);
        return r;
    }
    char *digits = mpz_get_str(NULL, 10, n->v);
    if (!digits) return NULL;
    bool neg = digits[0] == '-';
    const char *d = digits + neg;
    size_t nd = strlen(d);
    size_t ds = (size_t)n->dscale;
    /* At least one digit before the point. */
    size_t lead = nd > ds ? 0 : ds + 1 - nd;
    size_t total = neg + lead + nd + (ds ? 1 : 0);
    char *r = malloc(total + 1);
    if (!r) {
        free(digits);
        return NULL;
    }
    size_t o = 0;
    if (neg) r[o++] = '-';
    size_t all = lead + nd; /* digits once padded */
    for (size_t i = 0; i < all; i++) {
        if (ds && i == all - ds) r[o++] = '.';
        r[o++] = i < lead ? '0' : d[i - lead];
    }
    r[o] = '\0';
    free(digits);
    *len = o;
    return r;
}

static void wr16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

uint8_t *sw_num_to_bin(const sw_num *n, size_t *len)
{
    if (n->kind != SW_NUM_FINITE) {
        uint8_t *r = calloc(1, 8);
        if (!r) return NULL;
        wr16(r + 4, n->kind == SW_NUM_NAN ? NUM_NAN : n->kind == SW_NUM_PINF ? NUM_PINF : NUM_NINF);
        /* numeric_send reads the display scale out of a special value's
         * header bits: 32 for the infinities, 0 for NaN. */
        wr16(r + 6, n->kind == SW_NUM_NAN ? 0 : 32);
        *len = 8;
        return r;
    }
    /* Align the decimal point on a base-10000 boundary. */
    int s4 = (n->dscale + 3) / 4;
    mpz_t x;
    mpz_init(x);
    mpz_abs(x, n->v);
    mul_pow10(x, s4 * 4 - n->dscale);
    size_t cap = mpz_sizeinbase(x, 10) / 4 + 2;
    uint16_t *dg = malloc(cap * sizeof *dg); /* least significant first */
    if (!dg) {
        mpz_clear(x);
        return NULL;
    }
    size_t nd = 0;
    while (mpz_sgn(x) != 0) dg[nd++] = (uint16_t)mpz_fdiv_q_ui(x, x, 10000);
    mpz_clear(x);
    /* Strip trailing zero digits, as make_result does. */
    size_t lo = 0;
    while (lo < nd && dg[lo] == 0) lo++;
    int weight = nd ? (int)nd - 1 - s4 : 0;
    size_t cnt = nd - lo;
    uint8_t *r = malloc(8 + 2 * cnt);
    if (!r) {
        free(dg);
        return NULL;
    }
    wr16(r, (unsigned)cnt);
    wr16(r + 2, (unsigned)(uint16_t)(int16_t)(cnt ? weight : 0));
    wr16(r + 4, mpz_sgn(n->v) < 0 ? NUM_NEG : NUM_POS);
    wr16(r + 6, (unsigned)n->dscale);
    for (size_t i = 0; i < cnt; i++) wr16(r + 8 + 2 * i, dg[nd - 1 - i]);
    free(dg);
    *len = 8 + 2 * cnt;
    return r;
}

/* ----------------------------------------------------------- arithmetic */

/* x and y as integers at one common scale. */
static void align(mpz_t x, mpz_t y, const sw_num *a, const sw_num *b)
{
    mpz_set(x, a->v);
    mpz_set(y, b->v);
    if (a->dscale < b->dscale)
        mul_pow10(x, b->dscale - a->dscale);
    else
        mul_pow10(y, a->dscale - b->dscale);
}

int sw_num_cmp(const sw_num *a, const sw_num *b)
{
    /* Rank: -Inf 0, finite 1, +Inf 2, NaN 3. */
    static const int rank[] = {[SW_NUM_FINITE] = 1, [SW_NUM_NAN] = 3, [SW_NUM_PINF] = 2, [SW_NUM_NINF] = 0};
    int ra = rank[a->kind], rb = rank[b->kind];
    if (ra != rb || ra != 1) return (ra > rb) - (ra < rb);
    mpz_t x, y;
    mpz_inits(x, y, NULL);
    align(x, y, a, b);
    int c = mpz_cmp(x, y);
    mpz_clears(x, y, NULL);
    return (c > 0) - (c < 0);
}

int sw_num_sign(const sw_num *n)
{
    if (n->kind == SW_NUM_PINF) return 1;
    if (n->kind == SW_NUM_NINF) return -1;
    return mpz_sgn(n->v);
}

void sw_num_add(sw_num *r, const sw_num *a, const sw_num *b)
{
    if (a->kind != SW_NUM_FINITE || b->kind != SW_NUM_FINITE) {
        int k;
        if (a->kind == SW_NUM_NAN || b->kind == SW_NUM_NAN)
            k = SW_NUM_NAN;
        else if (a->kind == SW_NUM_FINITE)
            k = b->kind;
        else if (b->kind == SW_NUM_FINITE || a->kind == b->kind)
            k = a->kind;
        else
            k = SW_NUM_NAN; /* Inf + -Inf */
        set_special(r, k);
        return;
    }
    mpz_t x, y;
    mpz_inits(x, y, NULL);
    align(x, y, a, b);
    int ds = a->dscale > b->dscale ? a->dscale : b->dscale;
    mpz_add(r->v, x, y);
    r->dscale = ds;
    r->kind = SW_NUM_FINITE;
    mpz_clears(x, y, NULL);
}

void sw_num_sub(sw_num *r, const sw_num *a, const sw_num *b)
{
    sw_num nb;
    sw_num_init(&nb);
    sw_num_copy(&nb, b);
    mpz_neg(nb.v, nb.v);
    if (b->kind == SW_NUM_PINF) nb.kind = SW_NUM_NINF;
    if (b->kind == SW_NUM_NINF) nb.kind = SW_NUM_PINF;
    sw_num_add(r, a, &nb);
    sw_num_clear(&nb);
}

/* z = z / 10^k rounded half away from zero. */
static void div_pow10_round(mpz_t z, int k)
{
    if (k <= 0) return;
    mpz_t p, rem;
    mpz_inits(p, rem, NULL);
    mpz_ui_pow_ui(p, 10, (unsigned long)k);
    int neg = mpz_sgn(z) < 0;
    mpz_abs(z, z);
    mpz_tdiv_qr(z, rem, z, p);
    mpz_mul_2exp(rem, rem, 1);
    if (mpz_cmp(rem, p) >= 0) mpz_add_ui(z, z, 1);
    if (neg) mpz_neg(z, z);
    mpz_clears(p, rem, NULL);
}

void sw_num_round(sw_num *n, int s)
{
    if (n->kind != SW_NUM_FINITE) return;
    if (s >= n->dscale)
        mul_pow10(n->v, s - n->dscale);
    else
        div_pow10_round(n->v, n->dscale - s);
    n->dscale = s;
}

void sw_num_mul(sw_num *r, const sw_num *a, const sw_num *b, int rscale)
{
    if (a->kind != SW_NUM_FINITE || b->kind != SW_NUM_FINITE) {
        int sa = sw_num_sign(a), sb = sw_num_sign(b);
        if (a->kind == SW_NUM_NAN || b->kind == SW_NUM_NAN || sa == 0 || sb == 0)
            set_special(r, SW_NUM_NAN);
        else
            set_special(r, sa * sb > 0 ? SW_NUM_PINF : SW_NUM_NINF);
        return;
    }
    int exact = a->dscale + b->dscale;
    mpz_mul(r->v, a->v, b->v);
    r->dscale = exact;
    r->kind = SW_NUM_FINITE;
    sw_num_round(r, rscale);
}

/* Weight and leading digit of n in base 10000 (0, 0 for zero), as
 * select_div_scale reads them. */
static void nbase_lead(const sw_num *n, int *weight, unsigned long *first)
{
    *weight = 0;
    *first = 0;
    if (mpz_sgn(n->v) == 0) return;
    mpz_t a, p;
    mpz_inits(a, p, NULL);
    mpz_abs(a, n->v);
    /* Exact count of decimal digits (sizeinbase may say one too many). */
    long nd = (long)mpz_sizeinbase(a, 10);
    mpz_ui_pow_ui(p, 10, (unsigned long)(nd - 1));
    if (mpz_cmp(a, p) < 0) nd--;
    long e10 = nd - 1 - n->dscale; /* decimal exponent of the leading digit */
    long w = e10 >= 0 ? e10 / 4 : -((-e10 + 3) / 4);
    long t = 4 * w + n->dscale;
    if (t >= 0) {
        mpz_ui_pow_ui(p, 10, (unsigned long)t);
        mpz_tdiv_q(a, a, p);
    } else {
        mul_pow10(a, (int)-t);
    }
    *weight = (int)w;
    *first = mpz_get_ui(a);
    mpz_clears(a, p, NULL);
}

int sw_num_div_scale(const sw_num *a, const sw_num *b)
{
    int w1, w2;
    unsigned long f1, f2;
    nbase_lead(a, &w1, &f1);
    nbase_lead(b, &w2, &f2);
    /* Quotient weight estimate; equal leading digits count as a < b. */
    int qweight = w1 - w2;
    if (f1 <= f2) qweight--;
    int rscale = SW_NUM_MIN_SIG_DIGITS - qweight * 4;
    if (rscale < a->dscale) rscale = a->dscale;
    if (rscale < b->dscale) rscale = b->dscale;
    if (rscale < 0) rscale = 0;
    if (rscale > SW_NUM_MAX_DISPLAY_SCALE) rscale = SW_NUM_MAX_DISPLAY_SCALE;
    return rscale;
}

int sw_num_div(sw_num *r, const sw_num *a, const sw_num *b, int rscale)
{
    if (mpz_sgn(b->v) == 0) return -1;
    /* a/b * 10^rscale = A * 10^(db + rscale) / (B * 10^da) */
    mpz_t num, den, rem;
    mpz_inits(num, den, rem, NULL);
    mpz_set(num, a->v);
    mpz_set(den, b->v);
    mul_pow10(num, b->dscale + rscale);
    mul_pow10(den, a->dscale);
    int neg = (mpz_sgn(num) < 0) != (mpz_sgn(den) < 0);
    mpz_abs(num, num);
    mpz_abs(den, den);
    mpz_tdiv_qr(r->v, rem, num, den);
    mpz_mul_2exp(rem, rem, 1);
    if (mpz_cmp(rem, den) >= 0) mpz_add_ui(r->v, r->v, 1);
    if (neg) mpz_neg(r->v, r->v);
    r->dscale = rscale;
    r->kind = SW_NUM_FINITE;
    mpz_clears(num, den, rem, NULL);
    return 0;
}

int sw_num_sqrt(sw_num *r, const sw_num *a, int rscale)
{
    if (mpz_sgn(a->v) < 0) return -1;
    /* sqrt_var works on F = (rscale + 4) / 4 base-10000 fractional digits
     * of the result, i.e. 8F decimal fractional digits of the argument
     * (anything further is ignored), takes the exact integer square root
     * and rounds it at rscale. */
    int f = 4 * ((rscale + 4) / 4);
    mpz_t x, p;
    mpz_inits(x, p, NULL);
    mpz_set(x, a->v);
    if (2 * f >= a->dscale) {
        mul_pow10(x, 2 * f - a->dscale);
    } else {
        mpz_ui_pow_ui(p, 10, (unsigned long)(a->dscale - 2 * f));
        mpz_tdiv_q(x, x, p);
    }
    mpz_sqrt(r->v, x);
    r->dscale = f;
    r->kind = SW_NUM_FINITE;
    sw_num_round(r, rscale);
    mpz_clears(x, p, NULL);
    return 0;
}

double sw_num_to_double(const sw_num *n)
{
    switch (n->kind) {
    case SW_NUM_NAN: return __builtin_nan("");
    case SW_NUM_PINF: return __builtin_inf();
    case SW_NUM_NINF: return -__builtin_inf();
    default: break;
    }
    /* strtod rounds the exact decimal correctly. */
    size_t need = mpz_sizeinbase(n->v, 10) + 24;
    char *s = malloc(need);
    if (!s) return 0.0;
    mpz_get_str(s, 10, n->v);
    size_t l = strlen(s);
    snprintf(s + l, need - l, "e-%d", n->dscale);
    double d = strtod(s, NULL);
    free(s);
    return d;
}

size_t sw_num_canon(const sw_num *n, uint8_t *buf, size_t cap)
{
    char small[64];
    char *s = small;
    size_t len;
    if (n->kind != SW_NUM_FINITE) {
        const char *t = n->kind == SW_NUM_NAN ? "NaN" : n->kind == SW_NUM_PINF ? "+Inf" : "-Inf";
        len = strlen(t);
        memcpy(small, t, len);
    } else {
        /* Trailing fractional zeros removed: 1.0 and 1.00 become "1:0". */
        mpz_t v;
        mpz_init_set(v, n->v);
        int ds = n->dscale;
        while (ds > 0 && mpz_divisible_ui_p(v, 10)) {
            mpz_divexact_ui(v, v, 10);
            ds--;
        }
        if (mpz_sgn(v) == 0) ds = 0;
        size_t need = mpz_sizeinbase(v, 10) + 16;
        if (need > sizeof small) s = malloc(need);
        if (!s) {
            mpz_clear(v);
            return 0;
        }
        mpz_get_str(s, 10, v);
        len = strlen(s);
        len += (size_t)snprintf(s + len, need - len, ":%d", ds);
        mpz_clear(v);
    }
    if (cap) memcpy(buf, s, len < cap ? len : cap);
    if (s != small) free(s);
    return len;
}
