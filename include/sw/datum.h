/*
 * datum.h - values of PostgreSQL result columns as shardwire merges them:
 * compared, made canonical for grouping, and aggregated the way one
 * PostgreSQL server would.  Pure (no I/O); exact numeric arithmetic uses GMP.
 *
 * A value is the bytes of one DataRow field in the column's format: 0 text
 * (the server's output function; DateStyle ISO assumed), 1 binary (the
 * type's send function).  NULL is never passed here: callers order NULLs
 * themselves (NULLS FIRST/LAST) and skip them in aggregates.
 *
 * Ordering is PostgreSQL's default btree order for the type: text-like types
 * compare as bytes (the C collation; under any other collation a single
 * server would sort differently, which is why merged ORDER BY on text
 * expects C or C.UTF-8 nodes); numeric and float put NaN above everything
 * and -0 = 0; timestamptz compares instants, whatever offset each value
 * carries.  Types not listed in sw_dtype cannot be compared or aggregated:
 * SW_DT_UNSUPPORTED, and the caller refuses the query (0A000).
 */
#ifndef SW_DATUM_H
#define SW_DATUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sw_dtype {
    SW_DT_UNSUPPORTED = 0,
    SW_DT_BOOL,        /* 16 */
    SW_DT_INT2,        /* 21 */
    SW_DT_INT4,        /* 23 */
    SW_DT_INT8,        /* 20 */
    SW_DT_OID,         /* 26: unsigned 32-bit */
    SW_DT_NUMERIC,     /* 1700 */
    SW_DT_FLOAT4,      /* 700 */
    SW_DT_FLOAT8,      /* 701 */
    SW_DT_TEXT,        /* 25 text, 1043 varchar, 19 name, 18 "char", 705 unknown */
    SW_DT_DATE,        /* 1082 */
    SW_DT_TIME,        /* 1083 */
    SW_DT_TIMESTAMP,   /* 1114 */
    SW_DT_TIMESTAMPTZ, /* 1184 */
    SW_DT_UUID,        /* 2950 */
    SW_DT_BPCHAR,      /* 1042 character(n): text whose trailing spaces do not count */
} sw_dtype;

/* The type class of a column's type OID (SW_DT_UNSUPPORTED for others). */
sw_dtype sw_dtype_of(uint32_t oid);
/* "numeric", "timestamptz"... for messages. */
const char *sw_dtype_name(sw_dtype t);

/* Compare two non-NULL values of one type and format.  <0, 0, >0.  A value
 * that does not decode sets *bad (and the result is a byte comparison). */
int sw_datum_cmp(sw_dtype t, int fmt, const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen,
                 bool *bad);

/* Compare a non-NULL value with a constant written in SQL text form
 * ('1000', '2024-01-01', 't', '12.50').  *bad when either does not decode
 * as type t.  An integer column against a non-integer constant compares
 * numerically; a timestamptz constant without an offset is taken as UTC. */
int sw_datum_cmp_text(sw_dtype t, int fmt, const uint8_t *v, uint32_t len, const char *konst, bool *bad);

/* Canonical bytes for grouping and DISTINCT: two values are equal for
 * PostgreSQL exactly when their canonical bytes are equal (numeric 1.0 and
 * 1.00 give the same bytes; float -0 and 0 too).  Writes at most cap bytes
 * to buf and returns the length (which may exceed cap: call again with a
 * bigger buffer), or -1 when v does not decode. */
int sw_datum_canon(sw_dtype t, int fmt, const uint8_t *v, uint32_t len, uint8_t *buf, size_t cap);

/* ------------------------------------------------------------ aggregates */

/* Combining per-shard partial aggregates into the final value. */
typedef enum sw_agg_kind {
    SW_AGG_COUNT = 1,   /* in: partial count (int8)                      out: int8 */
    SW_AGG_SUM,         /* in: partial sum (out's type)                  out: int8, numeric, float4 or float8
                         * (sum of int2/int4 is int8, of int8 numeric) */
    SW_AGG_MIN,         /* in/out: any comparable type                                   */
    SW_AGG_MAX,
    SW_AGG_BOOL_AND,    /* in/out: bool */
    SW_AGG_BOOL_OR,
    SW_AGG_AVG,         /* in[0]: partial count(x) int8, in[1]: partial sum(x)
                         * (int8, numeric, float4 or float8), in[2]: partial avg(x)
                         * (the out type).  out numeric: exact, numeric_div's
                         * scale; out float8: sum/count in double. */
    SW_AGG_VAR_SAMP,    /* in[0]: count(x) int8, in[1]: sum(x::numeric),
                         * in[2]: sum(x::numeric * x::numeric); out numeric
                         * (exact, as numeric_var_samp/numeric_stddev_internal)
                         * or float8 (computed from the exact sums) */
    SW_AGG_VAR_POP,
    SW_AGG_STDDEV_SAMP,
    SW_AGG_STDDEV_POP,
} sw_agg_kind;

typedef struct sw_agg_col {
    sw_dtype type;      /* sw_dtype_of the column's type OID */
    int fmt;            /* 0 text, 1 binary */
} sw_agg_col;

/* Accumulator of one aggregate in one group. */
typedef struct sw_agg sw_agg;

/* New accumulator.  out: the final column (its type and the format the
 * client asked for; for COUNT/SUM/MIN/MAX/BOOL_* the partial values come in
 * the same type and format).  in[0..2] as listed for the kind (unused
 * entries ignored).  NULL when kind and types do not fit (e.g. SUM of
 * text, AVG with out type interval): the caller refuses the query. */
sw_agg *sw_agg_new(sw_agg_kind kind, sw_agg_col out, const sw_agg_col in[3]);
void sw_agg_free(sw_agg *a);

/* Add one shard's partials: v[i]/len[i] for the kind's inputs, len -1 =
 * NULL (v ignored).  0, or -1 when a value does not decode or overflows
 * (message in err). */
int sw_agg_add(sw_agg *a, const uint8_t *const v[3], const int32_t len[3], char *err, size_t errsz);

/* The final value in out's type and format, written to buf (at most cap
 * bytes).  Returns its length (which may exceed cap: call again with a
 * bigger buffer), -1 for NULL, or -2 on error (message in err, e.g. bigint
 * out of range). */
int sw_agg_final(sw_agg *a, uint8_t *buf, size_t cap, char *err, size_t errsz);

/* Bytes the accumulator holds (for the per-query memory cap). */
size_t sw_agg_size(const sw_agg *a);

#endif
