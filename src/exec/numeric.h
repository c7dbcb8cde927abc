/*
 * numeric.h - internal to src/exec: PostgreSQL's numeric as an exact decimal
 * (a GMP integer and a display scale), with the arithmetic the merger needs
 * done the way PostgreSQL 15's numeric.c does it (same result scales, same
 * rounding), and float4/float8 text conversion matching float4out/float8out.
 */
#ifndef SW_EXEC_NUMERIC_H
#define SW_EXEC_NUMERIC_H

#include <gmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sw_num_kind {
    SW_NUM_FINITE = 0,
    SW_NUM_NAN,
    SW_NUM_PINF,
    SW_NUM_NINF,
} sw_num_kind;

/* value = v / 10^dscale when kind is SW_NUM_FINITE; dscale >= 0. */
typedef struct sw_num {
    mpz_t v;
    int dscale;
    int kind;
} sw_num;

/* PostgreSQL's limits on a computed result's scale (numeric.c). */
#define SW_NUM_MIN_SIG_DIGITS 16
#define SW_NUM_MAX_DISPLAY_SCALE 1000

void sw_num_init(sw_num *n);
void sw_num_clear(sw_num *n);
void sw_num_copy(sw_num *dst, const sw_num *src);
void sw_num_set_int64(sw_num *n, int64_t v);
void sw_num_set_zero(sw_num *n, int dscale);

/* numeric_in syntax: blanks, sign, digits with one '.', exponent, NaN and
 * [+-]Infinity / inf (any case).  0, or -1 when s is not a number. */
int sw_num_parse(sw_num *n, const char *s, size_t len);
/* numeric_send's format.  0, or -1 when malformed. */
int sw_num_from_bin(sw_num *n, const uint8_t *p, size_t len);
/* A DataRow field of a numeric column in format fmt. */
int sw_num_decode(sw_num *n, int fmt, const uint8_t *p, size_t len);

/* numeric_out text ("-12.3400", "NaN", "Infinity"), malloc'd; *len set. */
char *sw_num_to_text(const sw_num *n, size_t *len);
/* numeric_send bytes (digits stripped as make_result does), malloc'd. */
uint8_t *sw_num_to_bin(const sw_num *n, size_t *len);

/* cmp_numerics: by value, -Inf < finite < +Inf < NaN, NaN = NaN. */
int sw_num_cmp(const sw_num *a, const sw_num *b);
/* r = a + b; exact, scale max(a, b); NaN and infinities as numeric_add.
 * r may alias a or b. */
void sw_num_add(sw_num *r, const sw_num *a, const sw_num *b);
/* r = a - b, likewise. */
void sw_num_sub(sw_num *r, const sw_num *a, const sw_num *b);
/* r = a * b rounded (half away from zero) to rscale, as mul_var.  Finite
 * operands only.  r may alias. */
void sw_num_mul(sw_num *r, const sw_num *a, const sw_num *b, int rscale);
/* select_div_scale: the scale numeric_div gives a / b. */
int sw_num_div_scale(const sw_num *a, const sw_num *b);
/* r = a / b rounded half away from zero at rscale (div_var, round=true).
 * Finite operands; -1 when b is zero.  r may alias. */
int sw_num_div(sw_num *r, const sw_num *a, const sw_num *b, int rscale);
/* r = sqrt(a) at rscale as sqrt_var (a >= 0, finite).  -1 when a < 0. */
int sw_num_sqrt(sw_num *r, const sw_num *a, int rscale);
/* Round (half away from zero) or extend a finite n to scale s. */
void sw_num_round(sw_num *n, int s);
/* Is a finite n zero / negative? */
int sw_num_sign(const sw_num *n);
/* Nearest double (correctly rounded); NaN and infinities map across. */
double sw_num_to_double(const sw_num *n);
/* Canonical bytes: equal exactly when the values are equal (1.0 = 1.00).
 * Writes up to cap bytes, returns the full length. */
size_t sw_num_canon(const sw_num *n, uint8_t *buf, size_t cap);

/* ---------------------------------------------------------------- floats */

/* Longest float8out/float4out text plus NUL. */
#define SW_FLOAT_TEXT_MAX 32

/* float8out with extra_float_digits = 1 (PostgreSQL 15's default): Ryu's
 * shortest digits, "1e+16", "0.0001", "1e-05", "NaN", "-Infinity", "-0".
 * buf holds SW_FLOAT_TEXT_MAX bytes; returns the length (NUL-terminated). */
int sw_float8_out(double v, char *buf);
/* float4out likewise (exponent form from 1e+06 on). */
int sw_float4_out(float v, char *buf);
/* float8in / float4in: strtod/strtof plus PostgreSQL's spellings of NaN and
 * infinity, blanks around.  0, or -1 when s is not a float or out of
 * range. */
int sw_float8_in(const char *s, size_t len, double *out);
int sw_float4_in(const char *s, size_t len, float *out);

#endif
