/*
 * copysplit.h - COPY ... FROM STDIN into a sharded table: what the COPY
 * statement asks for, and its data stream cut into rows with each row's
 * shard key field.  Pure (libpg_query for the statement, no I/O).
 *
 * The client's CopyData messages cut the stream anywhere (mid-row, mid-
 * field, mid-quote); the splitter keeps the unfinished row and reports each
 * complete row exactly as it must be forwarded (its bytes, line ending
 * included), so a shard receives a well-formed stream of whole rows.
 *
 * Formats, as PostgreSQL 15's COPY reads them:
 *  - text: rows end at an unescaped newline (\n, \r\n or \r), fields split
 *    on the delimiter (default tab), backslash escapes (\N-style NULL
 *    marker by default, \t, \n, \\, \ooo octal, \xhh hex); a line "\." ends
 *    the data;
 *  - csv: delimiter (default ','), quote (default '"'), escape (default the
 *    quote), NULL marker (default the empty unquoted string), quoted fields
 *    may hold delimiters and newlines (one row spans several lines: line
 *    numbers count lines, as PostgreSQL's messages do), "\." alone on a line
 *    ends the data;
 *  - binary: the 19-byte-plus-extension header, then tuples (int16 field
 *    count, per field int32 length (-1 NULL) and bytes), then -1.
 * HEADER (text/csv): the first line is reported as the header (forward it to
 * every shard; their COPY has HEADER too).
 */
#ifndef SW_COPYSPLIT_H
#define SW_COPYSPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sw_copy_format { SW_COPY_TEXT = 0, SW_COPY_CSV, SW_COPY_BINARY } sw_copy_format;

/* What a COPY statement says. */
typedef struct sw_copy_stmt {
    bool from;              /* COPY ... FROM (else TO) */
    bool stdio;             /* FROM STDIN / TO STDOUT (not a file or program) */
    bool query;             /* COPY (SELECT ...) TO */
    char *schema;           /* NULL when unqualified */
    char *relname;
    char **columns;         /* the column list, NULL when absent */
    int n_columns;
    sw_copy_format format;
    char delim;             /* default '\t' (text) or ',' (csv) */
    char quote;             /* csv; default '"' */
    char escape;            /* csv; default the quote */
    char *null_marker;      /* default "\\N" (text) or "" (csv) */
    bool header;            /* HEADER true or MATCH */
    bool header_match;      /* HEADER MATCH */
    char *encoding;         /* ENCODING option, or NULL */
    bool has_where;         /* COPY FROM ... WHERE */
    bool freeze;            /* FREEZE */
    char **force_not_null;  /* csv FROM: FORCE_NOT_NULL columns, NULL when absent */
    int n_force_not_null;
    char **force_null;      /* csv FROM: FORCE_NULL columns, NULL when absent */
    int n_force_null;
} sw_copy_stmt;

/* Read a COPY statement (sql, one statement, NUL-terminated).  0, or -1
 * with a message in err (not a COPY, or an option PostgreSQL would reject
 * such as a two-byte delimiter).  Free with sw_copy_stmt_clear. */
int sw_copy_stmt_parse(const char *sql, sw_copy_stmt *out, char *err, size_t errsz);
void sw_copy_stmt_clear(sw_copy_stmt *s);

/* One complete row. */
typedef struct sw_copy_row {
    const uint8_t *data;    /* the row's bytes as received, line ending included */
    size_t len;
    uint64_t line;          /* 1-based line number of its first line in the stream */
    bool header;            /* the HEADER line or the binary header: for every shard */
    /* the key field: de-escaped/unquoted bytes (text/csv), raw bytes (binary) */
    const uint8_t *key;
    size_t key_len;
    bool key_null;
} sw_copy_row;

typedef struct sw_copy_split sw_copy_split;

/* A splitter for stmt's format and options; key_field is the 0-based index
 * of the shard key among the row's fields (negative: rows carry no key).
 * With a column list in stmt, rows must have exactly that many fields and
 * FORCE_NOT_NULL/FORCE_NULL on the key column apply.  NULL on bad
 * arguments or no memory.  stmt is not kept. */
sw_copy_split *sw_copy_split_new(const sw_copy_stmt *stmt, int key_field);
void sw_copy_split_free(sw_copy_split *s);

/* The columns the rows' fields fill, in order, for a COPY without a column
 * list (the table's columns): rows must have exactly n fields (PostgreSQL's
 * "extra data after last expected column", "missing data for column",
 * "row field count is"), and stmt's FORCE_NOT_NULL/FORCE_NULL naming the
 * key column apply to the key.  names may be NULL (then only the count is
 * checked).  0, or -1 (key_field >= n, no memory). */
int sw_copy_split_columns(sw_copy_split *s, const sw_copy_stmt *stmt, int n, const char *const *names);
/* The stream's encoding when the statement has no ENCODING option (the
 * client's client_encoding).  Only encodings whose multibyte characters may
 * hold ASCII bytes (SJIS, BIG5, GBK, UHC, GB18030, JOHAB, SHIFT_JIS_2004)
 * change how rows are cut; a name PostgreSQL spells differently is matched
 * as it does (case and punctuation ignored). */
void sw_copy_split_encoding(sw_copy_split *s, const char *name);

/* Called for each complete row; return 0 to go on, nonzero to stop (that
 * value is returned by sw_copy_split_feed, and the rest of that piece is
 * not read).  The row's pointers are valid during the call only.  Header
 * rows carry no key (key NULL, key_null true). */
typedef int (*sw_copy_row_cb)(void *ctx, const sw_copy_row *row);

/* Feed the next piece of the stream.  0, the callback's nonzero value, or
 * -1 on malformed data (sw_copy_split_error: message and line). */
int sw_copy_split_feed(sw_copy_split *s, const uint8_t *data, size_t len, sw_copy_row_cb cb, void *ctx);
/* End of the stream (CopyDone): a last row without a line ending is
 * reported; an unfinished quoted field or binary tuple is an error. */
int sw_copy_split_finish(sw_copy_split *s, sw_copy_row_cb cb, void *ctx);
/* The error of the last -1: message (PostgreSQL-like, e.g. "unterminated
 * CSV quoted field", "row field count is 3, expected 4"), with its line. */
const char *sw_copy_split_error(const sw_copy_split *s, uint64_t *line);
/* The end-of-data marker was seen ("\." in text/csv: later data is
 * ignored; the binary trailer: later data is an error, as in PostgreSQL). */
bool sw_copy_split_ended(const sw_copy_split *s);

#endif
