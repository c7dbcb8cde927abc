/*
 * admin_int.h - shared by the admin console's files: a growable text cell,
 * the result-set writer every SHOW uses, and the command handlers.
 */
#ifndef SW_ADMIN_INT_H
#define SW_ADMIN_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "sw/admin.h"

/* PostgreSQL's `text` type: every console column has it. */
#define SW_ADMIN_TEXT_OID 25

/* A growable NUL-terminated string.  On allocation failure oom is set and
 * further appends are ignored; the writer turns that into out->oom. */
typedef struct sw_astr {
    char *s;
    size_t len;
    size_t cap;
    bool oom;
} sw_astr;

void sw_astr_init(sw_astr *a);
void sw_astr_free(sw_astr *a);
static inline void sw_astr_reset(sw_astr *a) { a->len = 0; if (a->s) a->s[0] = '\0'; }
void sw_astr_add(sw_astr *a, const char *s);
void sw_astr_addn(sw_astr *a, const char *s, size_t n);
void sw_astr_addf(sw_astr *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Separator before every item but the first (len > 0). */
void sw_astr_sep(sw_astr *a, const char *sep);
/* The text so far ("" when nothing was added). */
static inline const char *sw_astr_str(const sw_astr *a) { return a->s ? a->s : ""; }

/* One result set in progress. */
typedef struct sw_admin_rs {
    sw_wbuf *out;
    int ncols;
} sw_admin_rs;

/* RowDescription of ncols text columns named cols[]. */
void sw_admin_rs_begin(sw_admin_rs *rs, sw_wbuf *out, const char *const *cols, int ncols);
/* DataRow of vals[ncols]; a NULL entry is SQL NULL. */
void sw_admin_rs_row(sw_admin_rs *rs, const char *const *vals);
/* CommandComplete "SHOW". */
void sw_admin_rs_end(sw_admin_rs *rs);
/* Mark out as failed when any cell ran out of memory. */
void sw_admin_oom_check(sw_wbuf *out, const sw_astr *a);

/* Spellings used in several results. */
const char *sw_admin_fn_kind_name(sw_fn_kind k);
const char *sw_admin_key_type_name(sw_key_type t);
const char *sw_admin_table_kind_name(sw_table_kind k);

/* ErrorResponse (severity ERROR) without detail. */
void sw_admin_error(sw_wbuf *out, const char *sqlstate, const char *message, const char *hint);

/* Command handlers; each appends a whole answer to out. */
void sw_admin_show_shards(const sw_admin_env *env, sw_wbuf *out);
void sw_admin_show_tables(const sw_admin_env *env, sw_wbuf *out);
void sw_admin_show_functions(const sw_admin_env *env, sw_wbuf *out);
/* database: NULL = the first configured database; sql[0..len) the statement. */
void sw_admin_show_route(const sw_admin_env *env, const char *database, const char *sql, size_t len,
                         sw_wbuf *out);

#endif
