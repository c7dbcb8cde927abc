/*
 * diag.c - compiler-style diagnostics for the configuration loader.  Every
 * problem becomes "file:line:col: error: message", optionally followed by
 * "  hint: ...", appended to the caller's buffer so that shardwire can print
 * all of them at startup or return them to an admin-console RELOAD.  Also the
 * small helpers messages need: a typo distance for "did you mean" hints and a
 * quoting routine so a bad value is shown exactly as it was read.
 */
#include "conf_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sw_diag_init(sw_diag *d, const char *file, char *buf, size_t size)
{
    d->file = file;
    d->buf = size ? buf : NULL;
    d->size = d->buf ? size : 0;
    d->len = 0;
    d->n_errors = 0;
    d->last_shown = false;
    if (d->buf) d->buf[0] = '\0';
}

/* Append formatted text, truncating silently: a cut-off message is still
 * more useful than none, and the caller chose the buffer size. */
static void diag_vappend(sw_diag *d, const char *fmt, va_list ap)
{
    if (!d->buf || d->len + 1 >= d->size) return;
    int n = vsnprintf(d->buf + d->len, d->size - d->len, fmt, ap);
    if (n < 0) {
        d->buf[d->len] = '\0';
        return;
    }
    d->len += (size_t)n;
    if (d->len >= d->size) d->len = d->size - 1;
}

static void diag_append(sw_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diag_append(sw_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vappend(d, fmt, ap);
    va_end(ap);
}

void sw_diag_error(sw_diag *d, int line, int col, const char *fmt, ...)
{
    d->n_errors++;
    d->last_shown = false;
    if (d->n_errors > SW_DIAG_MAX_SHOWN + 1) return;
    if (d->len > 0) diag_append(d, "\n");
    if (d->n_errors == SW_DIAG_MAX_SHOWN + 1) {
        diag_append(d, "%s: error: too many errors, not showing the rest", d->file);
        return;
    }
    if (line > 0)
        diag_append(d, "%s:%d:%d: error: ", d->file, line, col);
    else
        diag_append(d, "%s: error: ", d->file);
    va_list ap;
    va_start(ap, fmt);
    diag_vappend(d, fmt, ap);
    va_end(ap);
    d->last_shown = true;
}

void sw_diag_hint(sw_diag *d, const char *fmt, ...)
{
    if (!d->last_shown) return;
    diag_append(d, "\n  hint: ");
    va_list ap;
    va_start(ap, fmt);
    diag_vappend(d, fmt, ap);
    va_end(ap);
}

int sw_diag_distance(const char *a, const char *b)
{
    /* Keys and enum values are short; anything longer than this is not a
     * typo of one of them, so report "far" instead of allocating. */
    enum { MAXLEN = 64 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAXLEN || lb >= MAXLEN) return MAXLEN;
    int dist[MAXLEN + 1][MAXLEN + 1];
    for (size_t i = 0; i <= la; i++) dist[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) dist[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int cost = ca != cb;
            int best = dist[i - 1][j] + 1;
            if (dist[i][j - 1] + 1 < best) best = dist[i][j - 1] + 1;
            if (dist[i - 1][j - 1] + cost < best) best = dist[i - 1][j - 1] + cost;
            /* "prot" for "port" is one slip of the fingers, not two. */
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && dist[i - 2][j - 2] + 1 < best)
                best = dist[i - 2][j - 2] + 1;
            dist[i][j] = best;
        }
    }
    return dist[la][lb];
}

void sw_diag_quote(char *out, size_t outsz, const char *s, size_t len)
{
    /* Long enough for any sensible value, short enough that a pasted blob
     * does not swamp the message. */
    enum { SHOWN = 48 };
    size_t o = 0;
    if (outsz < 8) {
        if (outsz) out[0] = '\0';
        return;
    }
    out[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else if (c == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (c == '\t')
            snprintf(esc, sizeof esc, "\\t");
        else if (c < 0x20 || c == 0x7f)
            snprintf(esc, sizeof esc, "\\x%02x", c);
        else
            snprintf(esc, sizeof esc, "%c", c);
        size_t el = strlen(esc);
        if (i >= SHOWN || o + el + 5 > outsz) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, esc, el);
        o += el;
    }
    out[o++] = '"';
    out[o] = '\0';
}
