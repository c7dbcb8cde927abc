/*
 * result.c - how the admin console writes its answers: text cells built
 * up piece by piece, and result sets of text columns (RowDescription,
 * DataRows, CommandComplete "SHOW") in the shape psql expects from a
 * server.  The protocol codec has no row builders because the proxy
 * otherwise only forwards rows; the console is their one producer.
 */
#include "admin_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sw_astr_init(sw_astr *a) { memset(a, 0, sizeof *a); }

void sw_astr_free(sw_astr *a)
{
    free(a->s);
    memset(a, 0, sizeof *a);
}

static bool astr_reserve(sw_astr *a, size_t extra)
{
    if (a->oom) return false;
    if (a->len + extra + 1 <= a->cap) return true;
    size_t cap = a->cap ? a->cap : 64;
    while (cap < a->len + extra + 1) cap *= 2;
    char *s = realloc(a->s, cap);
    if (!s) {
        a->oom = true;
        return false;
    }
    a->s = s;
    a->cap = cap;
    return true;
}

void sw_astr_addn(sw_astr *a, const char *s, size_t n)
{
    if (!astr_reserve(a, n)) return;
    memcpy(a->s + a->len, s, n);
    a->len += n;
    a->s[a->len] = '\0';
}

void sw_astr_add(sw_astr *a, const char *s) { sw_astr_addn(a, s, strlen(s)); }

void sw_astr_addf(sw_astr *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !astr_reserve(a, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(a->s + a->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    a->len += (size_t)n;
}

void sw_astr_sep(sw_astr *a, const char *sep)
{
    if (a->len > 0) sw_astr_add(a, sep);
}

void sw_admin_oom_check(sw_wbuf *out, const sw_astr *a)
{
    if (a->oom) out->oom = true;
}

void sw_admin_rs_begin(sw_admin_rs *rs, sw_wbuf *out, const char *const *cols, int ncols)
{
    rs->out = out;
    rs->ncols = ncols;
    sw_msg_begin(out, SW_BE_ROW_DESC);
    sw_wbuf_i16(out, (int16_t)ncols);
    for (int i = 0; i < ncols; i++) {
        sw_wbuf_cstr(out, cols[i]);
        sw_wbuf_i32(out, 0);                 /* not a table column */
        sw_wbuf_i16(out, 0);
        sw_wbuf_i32(out, SW_ADMIN_TEXT_OID);
        sw_wbuf_i16(out, -1);                /* variable length */
        sw_wbuf_i32(out, -1);                /* no type modifier */
        sw_wbuf_i16(out, 0);                 /* text format */
    }
    sw_msg_end(out);
}

void sw_admin_rs_row(sw_admin_rs *rs, const char *const *vals)
{
    sw_msg_begin(rs->out, SW_BE_DATA_ROW);
    sw_wbuf_i16(rs->out, (int16_t)rs->ncols);
    for (int i = 0; i < rs->ncols; i++) {
        if (!vals[i]) {
            sw_wbuf_i32(rs->out, -1);
            continue;
        }
        size_t n = strlen(vals[i]);
        sw_wbuf_i32(rs->out, (int32_t)n);
        sw_wbuf_put(rs->out, vals[i], n);
    }
    sw_msg_end(rs->out);
}

void sw_admin_rs_end(sw_admin_rs *rs) { sw_build_command_complete(rs->out, "SHOW"); }

void sw_admin_error(sw_wbuf *out, const char *sqlstate, const char *message, const char *hint)
{
    sw_build_error(out, SW_BE_ERROR, "ERROR", sqlstate, message, NULL, hint);
}

const char *sw_admin_fn_kind_name(sw_fn_kind k)
{
    switch (k) {
    case SW_FN_HASH: return "hash";
    case SW_FN_RANGE: return "range";
    case SW_FN_LIST: return "list";
    case SW_FN_RING: return "ring";
    case SW_FN_DIRECTORY: return "directory";
    case SW_FN_EMBEDDED: return "embedded";
    }
    return "?";
}

const char *sw_admin_key_type_name(sw_key_type t)
{
    switch (t) {
    case SW_KEY_INT: return "integer";
    case SW_KEY_TEXT: return "text";
    case SW_KEY_NUMERIC: return "numeric";
    case SW_KEY_DATE: return "date";
    case SW_KEY_TIMESTAMP: return "timestamp";
    }
    return "?";
}

const char *sw_admin_table_kind_name(sw_table_kind k)
{
    switch (k) {
    case SW_TABLE_SHARDED: return "sharded";
    case SW_TABLE_REFERENCE: return "reference";
    case SW_TABLE_PINNED: return "pinned";
    }
    return "?";
}
