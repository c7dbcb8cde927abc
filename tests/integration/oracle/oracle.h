/*
 * oracle.h - sw_oracle, the differential test of cross-shard merging: every
 * query of a corpus runs on shardwire (the "proxy") and on one plain
 * PostgreSQL server holding the same data (the "oracle"), in text and binary
 * result formats, and the two answers must agree column by column and row
 * by row.  This header is what the harness's files share: the corpus, the
 * growable string, result comparison and the order_facts data generator.
 */
#ifndef SW_ORACLE_H
#define SW_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* ------------------------------------------------------------ strings */

/* A growable NUL-terminated string; allocation failure aborts (a test tool). */
typedef struct or_buf {
    char *s;
    size_t len, cap;
} or_buf;

/* Append formatted text. */
void or_buf_printf(or_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append n bytes. */
void or_buf_add(or_buf *b, const char *s, size_t n);
/* The text so far ("" when empty); stays owned by b. */
const char *or_buf_str(const or_buf *b);
void or_buf_free(or_buf *b);

/* malloc that aborts on failure. */
void *or_xmalloc(size_t n);
char *or_xstrdup(const char *s);

/* ------------------------------------------------------------ corpus */

typedef struct or_query {
    char *sql;          /* the statement, without its final ';' */
    char *name;         /* "-- name:" label, or NULL */
    int line;           /* corpus line where the statement starts */
    bool ordered;       /* "-- ordered": rows compare in order */
    char error[6];      /* "-- error SQLSTATE": the proxy must fail so; "" otherwise */
} or_query;

typedef struct or_corpus {
    or_query *q;
    int n;
} or_corpus;

/* Read a corpus file (format: see oracle_corpus.sql); -1 with err filled
 * on a malformed file. */
int or_corpus_load(const char *path, or_corpus *c, char *err, size_t errsz);
void or_corpus_free(or_corpus *c);

/* ------------------------------------------------------------ comparing */

/* Relative tolerance for float4/float8 values. */
#define OR_FLOAT_TOLERANCE 1e-12

/* Compare two successful results; true when they agree.  ordered: rows in
 * the order received, else both sides sorted first.  binary: the values
 * are in binary format.  On a difference, what differs goes to diff. */
bool or_compare(const PGresult *proxy, const PGresult *oracle, bool ordered, bool binary, or_buf *diff);

/* Append up to max_rows rows of r (sorted unless ordered) as "  side #i (..)"
 * lines, for --verbose. */
void or_dump_rows(const PGresult *r, bool ordered, bool binary, const char *side, int max_rows, or_buf *out);

/* Append one value as the report shows it: NULL, a bare word or number,
 * or a double-quoted escaped string; binary values decoded by type. */
void or_render_value(const PGresult *r, int row, int col, bool binary, or_buf *out);

/* A short name for the common type OIDs ("numeric"), else NULL. */
const char *or_type_name(unsigned oid);

/* ------------------------------------------------------------ data */

/* Print `rows` rows of order_facts (oracle_extra.sql creates the table) as
 * multi-row INSERTs of `batch` rows with explicit column lists; the same
 * (rows, seed) always gives the same bytes. */
void or_gen_facts(long rows, uint64_t seed, long batch);

#endif
