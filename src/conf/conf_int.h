/*
 * conf_int.h - pieces shared by the configuration loader's files, private to
 * src/conf: compiler-style diagnostics (diag.c), the YAML node tree with
 * line/column marks (yaml_tree.c), duration and size parsing (units.c), the
 * schema table types that conf.c is built from, and what the sharding
 * sections (sharding.c, keyval.c) share with it.  The table types live here
 * rather than in conf.c so a section can be described in its own file and
 * hooked into the top-level table.
 */
#ifndef SW_CONF_INT_H
#define SW_CONF_INT_H

#include "sw/conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- diagnostics (diag.c) ---------------------------------------------- */

/* Errors past this many are counted but not written: a broken file should
 * not bury its first, usually most telling, error under hundreds more. */
#define SW_DIAG_MAX_SHOWN 20

typedef struct sw_diag {
    const char *file; /* name printed at the start of every line */
    char *buf;        /* caller's buffer, always NUL-terminated */
    size_t size;
    size_t len;
    int n_errors;    /* every error, shown or not */
    bool last_shown; /* whether a hint may follow the last error */
} sw_diag;

/* Start collecting diagnostics for file into buf (which may be NULL/0). */
void sw_diag_init(sw_diag *d, const char *file, char *buf, size_t size);

/* Append "file:line:col: error: message" ("file: error: ..." when line is 0). */
void sw_diag_error(sw_diag *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Append "  hint: ..." under the error just reported. */
void sw_diag_hint(sw_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Typo distance between a and b: case-insensitive edit distance that counts
 * a swap of two neighbouring letters as one edit. */
int sw_diag_distance(const char *a, const char *b);

/* Render s[0..len) as a double-quoted, escaped, length-capped literal. */
void sw_diag_quote(char *out, size_t outsz, const char *s, size_t len);

/* ---- YAML tree (yaml_tree.c) ------------------------------------------- */

typedef enum sw_ynode_kind { SW_YNODE_SCALAR, SW_YNODE_MAP, SW_YNODE_SEQ } sw_ynode_kind;

typedef struct sw_ynode {
    sw_ynode_kind kind;
    int line, col; /* 1-based start of the node in the file */
    /* SCALAR */
    char *str; /* NUL-terminated; may hold earlier NULs (len) */
    size_t len;
    bool plain; /* unquoted, so "~" or "" mean null */
    /* MAP: items[2i] is a scalar key, items[2i+1] its value.  SEQ: items. */
    struct sw_ynode **items;
    size_t n_items;
    size_t cap;
} sw_ynode;

/* Parse buf into a tree.  Returns 0 with *root (NULL when the stream holds no
 * document), or -1 after reporting the problem to d. */
int sw_ytree_parse(sw_diag *d, const char *buf, size_t len, sw_ynode **root);

/* Free a tree built by sw_ytree_parse (NULL is fine). */
void sw_ynode_free(sw_ynode *n);

/* True for an absent value: a plain "", "~" or "null". */
bool sw_ynode_is_null(const sw_ynode *n);

/* Number of key/value pairs in a mapping. */
static inline size_t sw_ynode_map_size(const sw_ynode *m)
{
    return m->n_items / 2;
}
static inline const sw_ynode *sw_ynode_map_key(const sw_ynode *m, size_t i)
{
    return m->items[2 * i];
}
static inline const sw_ynode *sw_ynode_map_value(const sw_ynode *m, size_t i)
{
    return m->items[2 * i + 1];
}

/* The value of the first pair whose key is key, or NULL. */
const sw_ynode *sw_ynode_map_get(const sw_ynode *m, const char *key);

/* ---- units (units.c) --------------------------------------------------- */

typedef enum sw_unit_status {
    SW_UNIT_OK = 0,
    SW_UNIT_SYNTAX, /* not a number with a known unit */
    SW_UNIT_RANGE,  /* well-formed but does not fit in 64 bits */
} sw_unit_status;

/* Decimal integer with optional sign. */
sw_unit_status sw_int_parse(const char *s, int64_t *out);

/* Milliseconds from "250", "250ms", "5s", "10m", "1h". */
sw_unit_status sw_duration_parse(const char *s, int64_t *ms);

/* Bytes from "512", "512B", "64kB", "64MB", "1GB" (1024-based, any case). */
sw_unit_status sw_size_parse(const char *s, int64_t *bytes);

/* Shortest exact spelling of ms in the largest unit that divides it. */
void sw_duration_format(int64_t ms, char *buf, size_t size);

/* Same for bytes, in B/kB/MB/GB. */
void sw_size_format(int64_t bytes, char *buf, size_t size);

/* ---- schema tables (conf.c) -------------------------------------------- */

typedef enum sw_conf_kind {
    SW_CONF_STR,      /* char *, owned */
    SW_CONF_IDENT,    /* char *, owned, [A-Za-z_][A-Za-z0-9_-]* */
    SW_CONF_INT,      /* int in [min, max] */
    SW_CONF_BOOL,     /* bool, YAML true/false */
    SW_CONF_ENUM,     /* int, one of names; without a default it is -1 */
    SW_CONF_DURATION, /* int milliseconds in [min, max] */
    SW_CONF_SIZE,     /* uint32_t bytes in [min, max] */
    SW_CONF_SECTION,  /* nested mapping whose keys live in the same object */
    SW_CONF_LIST,     /* sequence of mappings: array at offset, int count */
    SW_CONF_CUSTOM,   /* parsed by set() */
} sw_conf_kind;

enum {
    SW_CONF_REQUIRED = 1u << 0, /* key must be present; a LIST must be non-empty */
    SW_CONF_EMPTY_OK = 1u << 1, /* STR may be "" (or null, read as "") */
    SW_CONF_UNIQUE = 1u << 2,   /* STR/IDENT in a LIST element: no two elements share it */
};

typedef struct sw_conf_ctx {
    sw_diag diag;
    sw_conf *conf; /* the object being filled */
} sw_conf_ctx;

typedef struct sw_conf_field sw_conf_field;
typedef struct sw_conf_section sw_conf_section;

/* Parse v (the value of f, named path in messages) into obj; 0 or -1. */
typedef int (*sw_conf_set_fn)(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                              const char *path, void *obj);
/* Cross-field validation of one mapping, run only when it parsed cleanly. */
typedef int (*sw_conf_check_fn)(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj);

typedef struct sw_conf_enum {
    const char *name;
    int value;
} sw_conf_enum;

struct sw_conf_field {
    const char *key; /* NULL ends a table */
    sw_conf_kind kind;
    unsigned flags;
    size_t offset;                  /* where the value lives in the object */
    const char *def;                /* default, in file syntax; NULL = zero */
    int64_t min, max;               /* INT, DURATION, SIZE; LIST: max entries (0 = any) */
    const sw_conf_enum *names;      /* ENUM, ended by a NULL name */
    const sw_conf_section *section; /* SECTION, LIST */
    size_t count_offset;            /* LIST: int element count */
    sw_conf_set_fn set;             /* CUSTOM */
};

struct sw_conf_section {
    const char *noun;            /* "node": "node is missing required key ..." */
    const sw_conf_field *fields; /* at most 64 */
    size_t size;                 /* LIST element size */
    int line_offset;             /* int field for the declaring line, or -1 */
    sw_conf_check_fn check;
    void (*cleanup)(void *obj); /* frees what CUSTOM setters allocated */
};

/* Timeouts are stored as int milliseconds; 596h is the largest whole number
 * of hours that fits, and a friendlier bound to print than 2147483647ms. */
#define SW_MAX_DURATION_MS (596LL * 60 * 60 * 1000)

/* One row of a field table: key, kind, flags and where the value goes. */
#define KEY(k, kd, fl, type, member) \
    .key = (k), .kind = (kd), .flags = (fl), .offset = offsetof(type, member)

/* ---- walker pieces other section files use (conf.c) --------------------- */

/* What was found, for "..., got X": "a mapping", "an empty value", "\"x\"". */
void sw_conf_describe(const sw_ynode *v, char *buf, size_t size);

/* The text of a string value (f's flags say whether "" is allowed); *out
 * points into the tree.  Reports and returns -1 for anything else. */
int sw_conf_get_string(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v,
                       const char *path, const char **out);

/* Parse v as field f into obj, exactly as the walker does for a key. */
int sw_conf_value(sw_conf_ctx *ctx, const sw_conf_field *f, const sw_ynode *v, const char *path,
                  void *obj);

/* ---- sharding sections (sharding.c) ------------------------------------- */

/* Elements of the top-level `functions:` and of a database's `tables:`. */
extern const sw_conf_section sw_conf_function_section;
extern const sw_conf_section sw_conf_table_section;

/* A database's check: no two tables that the same reference could mean. */
int sw_conf_database_check(sw_conf_ctx *ctx, const sw_ynode *map, const char *path, void *obj);

/* From the top-level check, once every section is in: resolve the node and
 * function names functions use, then fill the targets of directory and
 * embedded functions.  root is the whole file's mapping. */
int sw_conf_functions_resolve(sw_conf_ctx *ctx, const sw_ynode *root);

/* Same for every database's tables; run after sw_conf_functions_resolve. */
int sw_conf_tables_resolve(sw_conf_ctx *ctx, const sw_ynode *root);

/* ---- key values as configured (keyval.c) -------------------------------- */

/* A range bound or list value read as its function's key type.  Points
 * into the spelling it was read from. */
typedef struct sw_conf_key {
    sw_key_type type;
    int64_t i;             /* INT; DATE days and TIMESTAMP microseconds since 1970 UTC */
    const char *s;         /* TEXT bytes */
    size_t len;
    bool neg;              /* NUMERIC: sign, integer digits without leading zeros, */
    const char *ip, *fp;   /* fraction digits without trailing zeros */
    size_t il, fl;
} sw_conf_key;

/* Read s[0..len) as a value of type t: integers as sw_int_parse, numerics
 * [+-]digits[.digits], dates YYYY-MM-DD, timestamps a date optionally
 * followed by [ T]HH:MM[:SS[.ffffff]] and a zone Z or +-HH[[:]MM] (none:
 * UTC), text as is.  Returns 0, or -1 when s is not a value of the type. */
int sw_conf_key_parse(sw_key_type t, const char *s, size_t len, sw_conf_key *k);

/* Order of two keys of one type (<0, 0, >0); text is byte order. */
int sw_conf_key_cmp(const sw_conf_key *a, const sw_conf_key *b);

/* A date or timestamp (as above) as milliseconds since 1970 UTC; 0 or -1. */
int sw_conf_epoch_parse(const char *s, int64_t *ms);

#endif
