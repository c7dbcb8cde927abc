/*
 * copy_split.c - a COPY FROM STDIN stream cut into rows, each with its
 * shard key field (sw/copysplit.h).
 *
 * Each piece is scanned once for row ends by a small resumable state
 * machine (PostgreSQL 15's CopyReadLineText rules: backslash escapes, the
 * newline style fixed by the first line, CSV quote/escape toggling, "\.",
 * multibyte characters of encodings that may hide ASCII bytes); plain bytes
 * are skipped through a byte-class table.  A row lying wholly in the piece
 * is reported in place; the unfinished tail of a piece is appended to one
 * growing buffer, the next piece's bytes up to the row end join it there,
 * and the row is reported from the buffer.  Only a complete row is split
 * into fields (CopyReadAttributesText/CSV rules), and only as far as the
 * key field unless the field count is checked; a key needing de-escaping
 * is decoded into a reusable buffer.  Binary tuples are walked field by
 * field, with the 2- and 4-byte integers gathered across pieces.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/copysplit.h"

enum { EOL_UNKNOWN, EOL_NL, EOL_CR, EOL_CRNL };

/* Byte classes (bits). */
enum {
    B_NL = 1,     /* \n */
    B_CR = 2,     /* \r */
    B_BS = 4,     /* backslash (text) */
    B_QUOTE = 8,  /* csv quote */
    B_ESC = 16,   /* csv escape, when it is not the quote */
    B_MB = 32,    /* first byte of a multibyte character that may hide ASCII */
    B_DELIM = 64,
};

/* Text/csv scan states between bytes. */
enum {
    S_NORMAL,
    S_CR,      /* a row-ending \r, waiting to see whether \n follows */
    S_ESC,     /* text: after an escaping backslash */
    S_DOT,     /* text: after "\." */
    S_DOT_CR,  /* text: after "\.\r" in a \r\n stream */
    S_MB,      /* inside a multibyte character: mb_left bytes to skip */
};

/* Binary scan states. */
enum { BS_SIG, BS_FLAGS, BS_EXTLEN, BS_EXT, BS_COUNT, BS_FLEN, BS_FDATA, BS_DONE };

static const uint8_t bin_sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0377, '\r', '\n', '\0'};

struct sw_copy_split {
    sw_copy_format fmt;
    uint8_t delim, quote, escape;
    bool has_escape;            /* csv escape differs from the quote */
    char *null_marker;
    size_t null_len;
    int key_field;
    int n_fields;               /* expected field count, 0 when unknown */
    char **names;               /* the fields' column names, for messages */
    int n_names;
    bool force_not_null, force_null;
    bool enc_from_stmt;
    uint8_t cls[256];           /* B_* bits */
    uint8_t mb_extra[256];      /* bytes following a B_MB lead byte */
    uint8_t scan_mask;          /* classes that stop the row-end scan */
    uint8_t field_mask;         /* classes that stop the field split */

    /* the unfinished row */
    uint8_t *buf;
    size_t blen, bcap;
    uint8_t *key_buf;
    size_t key_cap;

    /* text/csv row state */
    int st;
    int eol;
    int mb_left;
    bool in_quote, last_was_esc;
    bool eod;                   /* this row ends the data ("\.") */
    size_t content_end;         /* row offset where the line ending starts */
    size_t mark;                /* text: row offset of the "\." backslash */
    size_t q_cr;                /* csv: row offset + 1 of the last quoted \r (0 none) */
    uint64_t q_lines;           /* csv: line breaks inside quotes in this row */
    bool header_pending;
    bool header_match;          /* HEADER MATCH: the header is split into fields */

    /* binary row state */
    int bst;
    uint32_t acc;
    int acc_n;
    uint64_t left;              /* bytes of the extension or field still to skip */
    int n_fld, fld;
    size_t key_off;
    int32_t key_len_bin;

    uint64_t line;              /* line (tuple) number of the current row */
    bool ended, failed;
    char err[256];
    uint64_t err_line;
};

static int set_error(sw_copy_split *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_error(sw_copy_split *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    s->err_line = s->line;
    s->failed = true;
    return -1;
}

static int buf_reserve(uint8_t **b, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t ncap = *cap ? *cap : 4096;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return -1;
        ncap *= 2;
    }
    uint8_t *nb = realloc(*b, ncap);
    if (!nb) return -1;
    *b = nb;
    *cap = ncap;
    return 0;
}

static int buf_append(sw_copy_split *s, const uint8_t *p, size_t n)
{
    if (!n) return 0;
    if (n > SIZE_MAX - s->blen || buf_reserve(&s->buf, &s->bcap, s->blen + n) < 0)
        return set_error(s, "out of memory");
    memcpy(s->buf + s->blen, p, n);
    s->blen += n;
    return 0;
}

/* ------------------------------------------------------------ encodings */

/* PostgreSQL's clean_encoding_name: lower case, letters and digits only. */
static void clean_name(const char *in, char *out, size_t outsz)
{
    size_t k = 0;
    for (; *in && k + 1 < outsz; in++) {
        char c = *in;
        if (c >= 'A' && c <= 'Z') out[k++] = (char)(c - 'A' + 'a');
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out[k++] = c;
    }
    out[k] = '\0';
}

/* The client-only encodings (their multibyte characters may contain bytes
 * below 0x80, such as a backslash); PostgreSQL skips whole characters while
 * it looks for row ends, and the first byte gives the length. */
static void set_encoding(sw_copy_split *s, const char *name)
{
    enum { ENC_SAFE, ENC_SJIS, ENC_TWO, ENC_JOHAB } kind = ENC_SAFE;
    char n[64];
    clean_name(name ? name : "", n, sizeof n);
    static const char *const sjis[] = {"sjis", "shiftjis", "mskanji", "win932", "windows932", "shiftjis2004", NULL};
    static const char *const two[] = {"big5", "win950", "windows950", "gbk", "win936", "windows936",
                                      "uhc", "win949", "windows949", "gb18030", NULL};
    for (int i = 0; sjis[i]; i++)
        if (!strcmp(n, sjis[i])) kind = ENC_SJIS;
    for (int i = 0; two[i]; i++)
        if (!strcmp(n, two[i])) kind = ENC_TWO;
    if (!strcmp(n, "johab")) kind = ENC_JOHAB;
    for (int c = 0x80; c < 256; c++) {
        int extra = 0;
        switch (kind) {
        case ENC_SAFE: break;
        case ENC_SJIS: extra = (c >= 0xa1 && c <= 0xdf) ? 0 : 1; break;
        case ENC_TWO: extra = 1; break;  /* GB18030's 4-byte form: 2nd and 4th bytes are digits */
        case ENC_JOHAB: extra = c == 0x8f ? 2 : 1; break;
        }
        s->mb_extra[c] = (uint8_t)extra;
        if (extra) s->cls[c] |= B_MB;
        else s->cls[c] &= (uint8_t)~B_MB;
    }
}

void sw_copy_split_encoding(sw_copy_split *s, const char *name)
{
    if (s && !s->enc_from_stmt) set_encoding(s, name);
}

/* ------------------------------------------------------------ setup */

static void reset_row(sw_copy_split *s)
{
    s->blen = 0;
    s->st = S_NORMAL;
    s->in_quote = s->last_was_esc = false;
    s->eod = false;
    s->q_cr = 0;
    s->q_lines = 0;
    s->bst = s->bst == BS_DONE ? BS_DONE : BS_COUNT;
    s->acc = 0;
    s->acc_n = 0;
    s->fld = 0;
    s->key_len_bin = -1;
}

static bool name_in(char *const *v, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i], name)) return true;
    return false;
}

int sw_copy_split_columns(sw_copy_split *s, const sw_copy_stmt *stmt, int n, const char *const *names)
{
    if (!s || n < 0 || (n > 0 && s->key_field >= n)) return -1;
    char **v = NULL;
    if (names && n > 0) {
        v = calloc((size_t)n, sizeof *v);
        if (!v) return -1;
        for (int i = 0; i < n; i++) {
            if (!(v[i] = strdup(names[i] ? names[i] : ""))) {
                for (int k = 0; k < i; k++) free(v[k]);
                free(v);
                return -1;
            }
        }
    }
    for (int i = 0; i < s->n_names; i++) free(s->names[i]);
    free(s->names);
    s->names = v;
    s->n_names = v ? n : 0;
    s->n_fields = n;
    s->force_not_null = s->force_null = false;
    if (v && stmt && s->key_field >= 0 && s->fmt == SW_COPY_CSV) {
        s->force_not_null = name_in(stmt->force_not_null, stmt->n_force_not_null, v[s->key_field]);
        s->force_null = name_in(stmt->force_null, stmt->n_force_null, v[s->key_field]);
    }
    return 0;
}

sw_copy_split *sw_copy_split_new(const sw_copy_stmt *stmt, int key_field)
{
    if (!stmt || stmt->format > SW_COPY_BINARY) return NULL;
    sw_copy_split *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->fmt = stmt->format;
    s->delim = (uint8_t)stmt->delim;
    s->quote = (uint8_t)stmt->quote;
    s->escape = (uint8_t)stmt->escape;
    s->has_escape = s->fmt == SW_COPY_CSV && s->escape != s->quote;
    s->null_marker = strdup(stmt->null_marker ? stmt->null_marker : s->fmt == SW_COPY_CSV ? "" : "\\N");
    if (!s->null_marker) goto fail;
    s->null_len = strlen(s->null_marker);
    s->key_field = key_field < 0 ? -1 : key_field;
    s->header_pending = stmt->header && s->fmt != SW_COPY_BINARY;
    s->header_match = stmt->header_match;
    s->line = s->fmt == SW_COPY_BINARY ? 0 : 1;  /* binary: tuple numbers, 0 for the header */
    s->bst = BS_SIG;
    s->key_len_bin = -1;
    s->cls['\n'] |= B_NL;
    s->cls['\r'] |= B_CR;
    if (s->fmt == SW_COPY_TEXT) {
        s->cls['\\'] |= B_BS;
        s->scan_mask = B_NL | B_CR | B_BS | B_MB;
        s->field_mask = B_DELIM | B_BS | B_MB;
    } else {
        s->cls[s->quote] |= B_QUOTE;
        if (s->has_escape) s->cls[s->escape] |= B_ESC;
        s->scan_mask = B_NL | B_CR | B_QUOTE | B_ESC | B_MB;
        s->field_mask = B_DELIM | B_QUOTE | B_ESC | B_MB;
    }
    s->cls[s->delim] |= B_DELIM;
    if (stmt->encoding) {
        set_encoding(s, stmt->encoding);
        s->enc_from_stmt = true;
    }
    if (stmt->columns && sw_copy_split_columns(s, stmt, stmt->n_columns, (const char *const *)stmt->columns) < 0)
        goto fail;
    return s;
fail:
    sw_copy_split_free(s);
    return NULL;
}

void sw_copy_split_free(sw_copy_split *s)
{
    if (!s) return;
    for (int i = 0; i < s->n_names; i++) free(s->names[i]);
    free(s->names);
    free(s->null_marker);
    free(s->buf);
    free(s->key_buf);
    free(s);
}

const char *sw_copy_split_error(const sw_copy_split *s, uint64_t *line)
{
    if (!s || !s->failed) return NULL;
    if (line) *line = s->err_line;
    return s->err;
}

bool sw_copy_split_ended(const sw_copy_split *s)
{
    return s && s->ended;
}

/* ------------------------------------------------------------ row ends */

/* Scan p[*pos..n) for the end of the current row, which began at p[start]
 * or, when the buffer holds its first blen bytes, in an earlier piece.
 * 1: the row ends at *pos; 0: the piece ended first; -1: malformed. */

/* Offset in the current row of p[k]. */
#define ROWOFF(k) (s->blen + (k) - start)

static int scan_text(sw_copy_split *s, const uint8_t *p, size_t n, size_t *pos, size_t start)
{
    const uint8_t *cls = s->cls;
    const uint8_t mask = s->scan_mask;
    size_t i = *pos;
    while (i < n) {
        uint8_t c;
        switch (s->st) {
        case S_NORMAL:
            while (i + 4 <= n && !(cls[p[i]] & mask) && !(cls[p[i + 1]] & mask) && !(cls[p[i + 2]] & mask) &&
                   !(cls[p[i + 3]] & mask))
                i += 4;
            while (i < n && !(cls[p[i]] & mask)) i++;
            if (i == n) break;
            c = p[i];
            if (c == '\n') {
                if (s->eol == EOL_CR || s->eol == EOL_CRNL) return set_error(s, "literal newline found in data");
                s->eol = EOL_NL;
                s->content_end = ROWOFF(i);
                *pos = i + 1;
                return 1;
            }
            if (c == '\r') {
                if (s->eol == EOL_NL) return set_error(s, "literal carriage return found in data");
                s->content_end = ROWOFF(i);
                i++;
                if (s->eol == EOL_CR) {
                    *pos = i;
                    return 1;
                }
                s->st = S_CR;
                break;
            }
            if (c == '\\') {
                s->mark = ROWOFF(i);
                s->st = S_ESC;
                i++;
                break;
            }
            s->mb_left = s->mb_extra[c];
            s->st = S_MB;
            i++;
            break;
        case S_CR:
            s->st = S_NORMAL;
            if (p[i] == '\n') {
                s->eol = EOL_CRNL;
                *pos = i + 1;
                return 1;
            }
            if (s->eol == EOL_CRNL) return set_error(s, "literal carriage return found in data");
            s->eol = EOL_CR;
            *pos = i;
            return 1;
        case S_ESC:
            /* Whatever follows a backslash is data, even a line ending. */
            s->st = p[i] == '.' ? S_DOT : S_NORMAL;
            i++;
            break;
        case S_DOT:
            c = p[i];
            if (s->eol == EOL_CRNL) {
                if (c == '\r') {
                    s->st = S_DOT_CR;
                    i++;
                    break;
                }
                return set_error(s, c == '\n' ? "end-of-copy marker does not match previous newline style"
                                              : "end-of-copy marker corrupt");
            }
            if (c != '\r' && c != '\n') return set_error(s, "end-of-copy marker corrupt");
            if ((s->eol == EOL_NL && c != '\n') || (s->eol == EOL_CR && c != '\r'))
                return set_error(s, "end-of-copy marker does not match previous newline style");
            s->st = S_NORMAL;
            s->eod = true;
            *pos = i + 1;
            return 1;
        case S_DOT_CR:
            c = p[i];
            if (c == '\r') return set_error(s, "end-of-copy marker does not match previous newline style");
            if (c != '\n') return set_error(s, "end-of-copy marker corrupt");
            s->st = S_NORMAL;
            s->eod = true;
            *pos = i + 1;
            return 1;
        case S_MB:
            while (s->mb_left > 0 && i < n) {
                s->mb_left--;
                i++;
            }
            if (s->mb_left == 0) s->st = S_NORMAL;
            break;
        }
    }
    *pos = n;
    return 0;
}

static int scan_csv(sw_copy_split *s, const uint8_t *p, size_t n, size_t *pos, size_t start)
{
    const uint8_t *cls = s->cls;
    const uint8_t mask = s->scan_mask;
    size_t i = *pos;
    while (i < n) {
        uint8_t c;
        switch (s->st) {
        case S_NORMAL: {
            size_t i0 = i;
            while (i + 4 <= n && !(cls[p[i]] & mask) && !(cls[p[i + 1]] & mask) && !(cls[p[i + 2]] & mask) &&
                   !(cls[p[i + 3]] & mask))
                i += 4;
            while (i < n && !(cls[p[i]] & mask)) i++;
            /* Any byte but the escape ends an escape-escape pair. */
            if (i != i0) s->last_was_esc = false;
            if (i == n) break;
            c = p[i];
            uint8_t k = cls[c];
            if ((k & B_ESC) && s->in_quote) s->last_was_esc = !s->last_was_esc;
            if ((k & B_QUOTE) && !s->last_was_esc) s->in_quote = !s->in_quote;
            if (!(k & B_ESC)) s->last_was_esc = false;
            if (k & B_MB) {
                s->mb_left = s->mb_extra[c];
                s->st = S_MB;
                i++;
                break;
            }
            if (c == '\n' || c == '\r') {
                if (s->in_quote) {
                    /* a quoted line break: \r\n counts once */
                    size_t off = ROWOFF(i);
                    if (c == '\r') {
                        s->q_lines++;
                        s->q_cr = off + 1;
                    } else if (s->q_cr != off) {
                        s->q_lines++;
                    }
                    i++;
                    break;
                }
                if (c == '\n') {
                    if (s->eol == EOL_CR || s->eol == EOL_CRNL) return set_error(s, "unquoted newline found in data");
                    s->eol = EOL_NL;
                    s->content_end = ROWOFF(i);
                    *pos = i + 1;
                    return 1;
                }
                if (s->eol == EOL_NL) return set_error(s, "unquoted carriage return found in data");
                s->content_end = ROWOFF(i);
                i++;
                if (s->eol == EOL_CR) {
                    *pos = i;
                    return 1;
                }
                s->st = S_CR;
                break;
            }
            i++;
            break;
        }
        case S_CR:
            s->st = S_NORMAL;
            if (p[i] == '\n') {
                s->eol = EOL_CRNL;
                *pos = i + 1;
                return 1;
            }
            if (s->eol == EOL_CRNL) return set_error(s, "unquoted carriage return found in data");
            s->eol = EOL_CR;
            *pos = i;
            return 1;
        case S_MB:
            while (s->mb_left > 0 && i < n) {
                s->mb_left--;
                i++;
            }
            if (s->mb_left == 0) s->st = S_NORMAL;
            s->last_was_esc = false;
            break;
        default:
            return set_error(s, "internal error: bad scan state");
        }
    }
#undef ROWOFF
    *pos = n;
    return 0;
}

/* ------------------------------------------------------------ fields */

static int missing(sw_copy_split *s, int have)
{
    if (have < s->n_names && s->names[have][0])
        return set_error(s, "missing data for column \"%s\"", s->names[have]);
    return set_error(s, "missing data for column %d", have + 1);
}

static uint8_t *key_space(sw_copy_split *s, size_t n)
{
    if (buf_reserve(&s->key_buf, &s->key_cap, n ? n : 1) < 0) {
        set_error(s, "out of memory");
        return NULL;
    }
    return s->key_buf;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Skip a multibyte character's trailing bytes (bounded by end). */
static const uint8_t *mb_skip(const sw_copy_split *s, const uint8_t *q, const uint8_t *end)
{
    size_t k = s->mb_extra[*q];
    return (size_t)(end - q) > k ? q + 1 + k : end;
}

/* CopyReadAttributesText's de-escaping of one raw field (a multibyte
 * character is copied whole: the server de-escapes after converting to its
 * own encoding, where no trailing byte looks like a backslash). */
static size_t text_unescape(const sw_copy_split *s, const uint8_t *p, const uint8_t *end, uint8_t *out)
{
    uint8_t *o = out;
    while (p < end) {
        uint8_t c = *p;
        if (c != '\\') {
            const uint8_t *b = (s->cls[c] & B_MB) ? mb_skip(s, p, end) : p + 1;
            while (p < b) *o++ = *p++;
            continue;
        }
        p++;
        if (p >= end) break;  /* a backslash ending the line is dropped */
        c = *p++;
        switch (c) {
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
            int v = c - '0';
            if (p < end && *p >= '0' && *p <= '7') {
                v = (v << 3) + (*p++ - '0');
                if (p < end && *p >= '0' && *p <= '7') v = (v << 3) + (*p++ - '0');
            }
            c = (uint8_t)(v & 0377);
            break;
        }
        case 'x':
            if (p < end && hexval(*p) >= 0) {
                int v = hexval(*p++);
                if (p < end && hexval(*p) >= 0) v = (v << 4) + hexval(*p++);
                c = (uint8_t)(v & 0xff);
            }
            break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'v': c = '\v'; break;
        default: break;  /* any other byte stands for itself */
        }
        *o++ = c;
    }
    return (size_t)(o - out);
}

/* One text field from p: its end (at the delimiter or end); *bs when it
 * holds a backslash. */
static const uint8_t *text_field(const sw_copy_split *s, const uint8_t *p, const uint8_t *end, bool *bs)
{
    const uint8_t *cls = s->cls;
    const uint8_t mask = s->field_mask;
    for (;;) {
        while (p < end && !(cls[*p] & mask)) p++;
        if (p >= end || *p == s->delim) return p;
        if (*p == '\\') {
            *bs = true;
            p = end - p > 2 ? p + 2 : end;
        } else {
            p = mb_skip(s, p, end);
        }
    }
}

static int text_row(sw_copy_split *s, const uint8_t *row, size_t clen, sw_copy_row *r)
{
    const uint8_t *p = row, *end = row + clen;
    int f = 0;
    int want = s->n_fields > 0 ? s->n_fields : s->key_field + 1;
    for (;;) {
        bool bs = false;
        const uint8_t *fe = text_field(s, p, end, &bs);
        if (f == s->key_field) {
            size_t raw = (size_t)(fe - p);
            if (raw == s->null_len && memcmp(p, s->null_marker, raw) == 0) {
                r->key_null = true;
            } else if (!bs) {
                r->key = p;
                r->key_len = raw;
            } else {
                uint8_t *o = key_space(s, raw);
                if (!o) return -1;
                r->key = o;
                r->key_len = text_unescape(s, p, fe, o);
            }
        }
        f++;
        if (fe >= end) break;
        if (f >= want) {
            if (s->n_fields > 0) return set_error(s, "extra data after last expected column");
            return 0;  /* the rest is the server's business */
        }
        p = fe + 1;
    }
    return f < want ? missing(s, f) : 0;
}

/* One CSV field from p (CopyReadAttributesCSV); *quoted when a quote was
 * seen, *plain when its value is its raw bytes (no quoting at all). */
static const uint8_t *csv_field(const sw_copy_split *s, const uint8_t *p, const uint8_t *end, bool *quoted,
                                uint8_t *out, size_t *outlen)
{
    const uint8_t *cls = s->cls;
    const uint8_t mask = s->field_mask;
    const uint8_t q = s->quote, e = s->escape;
    size_t o = 0;
    for (;;) {
        /* outside quotes */
        for (;;) {
            const uint8_t *a = p;
            while (p < end && !(cls[*p] & mask)) p++;
            if (out) {
                memcpy(out + o, a, (size_t)(p - a));
                o += (size_t)(p - a);
            }
            if (p >= end || *p == s->delim) goto done;
            if (*p == q) {
                *quoted = true;
                p++;
                break;
            }
            /* the escape outside quotes, or a multibyte character: data */
            const uint8_t *b = (cls[*p] & B_MB) ? mb_skip(s, p, end) : p + 1;
            if (out) {
                memcpy(out + o, p, (size_t)(b - p));
                o += (size_t)(b - p);
            }
            p = b;
        }
        /* inside quotes: the row scan guarantees a closing quote */
        for (;;) {
            if (p >= end) goto done;
            uint8_t c = *p;
            if (c == e && p + 1 < end && (p[1] == e || p[1] == q)) {
                if (out) out[o++] = p[1];
                p += 2;
                continue;
            }
            if (c == q) {
                p++;
                break;
            }
            const uint8_t *b = (cls[c] & B_MB) ? mb_skip(s, p, end) : p + 1;
            if (out) {
                memcpy(out + o, p, (size_t)(b - p));
                o += (size_t)(b - p);
            }
            p = b;
        }
    }
done:
    if (outlen) *outlen = o;
    return p;
}

static int csv_row(sw_copy_split *s, const uint8_t *row, size_t clen, sw_copy_row *r)
{
    const uint8_t *p = row, *end = row + clen;
    int f = 0;
    int want = s->n_fields > 0 ? s->n_fields : s->key_field + 1;
    for (;;) {
        bool quoted = false;
        const uint8_t *fe;
        if (f == s->key_field) {
            /* decoded in the same pass; the value is never longer than
             * what is left of the line */
            uint8_t *o = key_space(s, (size_t)(end - p));
            if (!o) return -1;
            size_t olen = 0;
            fe = csv_field(s, p, end, &quoted, o, &olen);
            size_t raw = (size_t)(fe - p);
            if (!quoted) {
                r->key = p;
                r->key_len = raw;
                if (raw == s->null_len && memcmp(p, s->null_marker, raw) == 0) r->key_null = true;
            } else {
                r->key = o;
                r->key_len = olen;
            }
            if (r->key_null && s->force_not_null) {
                /* FORCE_NOT_NULL reads the marker as a string */
                r->key_null = false;
                r->key = (const uint8_t *)s->null_marker;
                r->key_len = s->null_len;
            } else if (!r->key_null && s->force_null && r->key_len == s->null_len &&
                       memcmp(r->key, s->null_marker, s->null_len) == 0) {
                r->key_null = true;
            }
            if (r->key_null) {
                r->key = NULL;
                r->key_len = 0;
            }
        } else {
            fe = csv_field(s, p, end, &quoted, NULL, NULL);
        }
        f++;
        if (fe >= end) break;
        if (f >= want) {
            if (s->n_fields > 0) return set_error(s, "extra data after last expected column");
            return 0;
        }
        p = fe + 1;
    }
    return f < want ? missing(s, f) : 0;
}

/* ------------------------------------------------------------ reporting */

/* A complete text/csv row: row[0..len), its line ending from content_end. */
static int emit_line(sw_copy_split *s, const uint8_t *row, size_t len, sw_copy_row_cb cb, void *ctx)
{
    size_t clen = s->content_end <= len ? s->content_end : len;
    sw_copy_row r = {.data = row, .len = len, .line = s->line};
    if (s->fmt == SW_COPY_TEXT && s->eod) {
        /* "\." ends the data; what precedes it on its line is a last row */
        s->ended = true;
        clen = len = s->mark;
        r.len = len;
        if (!len) return 0;
    } else if (s->fmt == SW_COPY_CSV && clen == 2 && len > 2 && row[0] == '\\' && row[1] == '.') {
        s->ended = true;
        return 0;
    }
    if (s->header_pending) {
        s->header_pending = false;
        r.header = true;
        r.key_null = true;
    } else if (s->key_field >= 0 || s->n_fields > 0) {
        int rc = s->fmt == SW_COPY_TEXT ? text_row(s, row, clen, &r) : csv_row(s, row, clen, &r);
        if (rc < 0) return -1;
        if (s->key_field < 0) r.key_null = true;
    } else {
        r.key_null = true;
    }
    int rc = cb ? cb(ctx, &r) : 0;
    s->line += 1 + s->q_lines;
    return rc;
}

/* ------------------------------------------------------------ binary */

/* Gather a big-endian integer of need bytes; true once complete. */
static bool take_int(sw_copy_split *s, const uint8_t *p, size_t n, size_t *i, int need)
{
    while (s->acc_n < need && *i < n) {
        s->acc = (s->acc << 8) | p[(*i)++];
        s->acc_n++;
    }
    return s->acc_n == need;
}

static int scan_binary(sw_copy_split *s, const uint8_t *p, size_t n, size_t *pos, size_t start)
{
    size_t i = *pos;
    /* Zero-length steps (an empty extension, a NULL or empty last field)
     * complete at once, so a row never waits for bytes it does not need. */
    for (;;) {
        switch (s->bst) {
        case BS_SIG:
            while (s->acc_n < (int)sizeof bin_sig && i < n) {
                if (p[i] != bin_sig[s->acc_n]) return set_error(s, "COPY file signature not recognized");
                s->acc_n++;
                i++;
            }
            if (s->acc_n < (int)sizeof bin_sig) goto more;
            s->acc_n = 0;
            s->acc = 0;
            s->bst = BS_FLAGS;
            break;
        case BS_FLAGS:
            if (!take_int(s, p, n, &i, 4)) goto more;
            if (s->acc & (1u << 16)) return set_error(s, "invalid COPY file header (WITH OIDS)");
            if ((s->acc & ~(1u << 16)) >> 16) return set_error(s, "unrecognized critical flags in COPY file header");
            s->acc = 0;
            s->acc_n = 0;
            s->bst = BS_EXTLEN;
            break;
        case BS_EXTLEN:
            if (!take_int(s, p, n, &i, 4)) goto more;
            if ((int32_t)s->acc < 0) return set_error(s, "invalid COPY file header (missing length)");
            s->left = s->acc;
            s->acc = 0;
            s->acc_n = 0;
            s->bst = BS_EXT;
            break;
        case BS_EXT: {
            size_t k = (size_t)(n - i) < s->left ? (size_t)(n - i) : (size_t)s->left;
            i += k;
            s->left -= k;
            if (s->left) goto more;
            s->bst = BS_COUNT;
            *pos = i;
            return 2;  /* the header */
        }
        case BS_COUNT: {
            if (!take_int(s, p, n, &i, 2)) goto more;
            int16_t cnt = (int16_t)(uint16_t)s->acc;
            s->acc = 0;
            s->acc_n = 0;
            if (cnt == -1) {
                s->bst = BS_DONE;
                s->eod = true;
                *pos = i;
                return 1;
            }
            int want = s->n_fields > 0 ? s->n_fields : s->key_field + 1;
            if (s->n_fields > 0 ? cnt != want : cnt < want)
                return set_error(s, "row field count is %d, expected %s%d", cnt, s->n_fields > 0 ? "" : "at least ",
                                 want);
            s->n_fld = cnt;
            s->fld = 0;
            if (cnt == 0) {
                *pos = i;
                return 1;
            }
            s->bst = BS_FLEN;
            break;
        }
        case BS_FLEN: {
            if (!take_int(s, p, n, &i, 4)) goto more;
            int32_t flen = (int32_t)s->acc;
            s->acc = 0;
            s->acc_n = 0;
            if (flen < -1) return set_error(s, "invalid field size");
            if (s->fld == s->key_field) {
                s->key_off = s->blen + i - start;
                s->key_len_bin = flen;
            }
            s->left = flen < 0 ? 0 : (uint64_t)flen;
            s->bst = BS_FDATA;
            break;
        }
        case BS_FDATA: {
            size_t k = (size_t)(n - i) < s->left ? (size_t)(n - i) : (size_t)s->left;
            i += k;
            s->left -= k;
            if (s->left) goto more;
            if (++s->fld == s->n_fld) {
                s->bst = BS_COUNT;
                *pos = i;
                return 1;
            }
            s->bst = BS_FLEN;
            break;
        }
        default:
            return set_error(s, "received copy data after EOF marker");
        }
    }
more:
    *pos = n;
    return 0;
}

static int emit_binary(sw_copy_split *s, int kind, const uint8_t *row, size_t len, sw_copy_row_cb cb, void *ctx)
{
    if (s->eod) {
        s->ended = true;
        return 0;
    }
    sw_copy_row r = {.data = row, .len = len};
    if (kind == 2) {
        r.header = true;
        r.key_null = true;
        r.line = 0;
        s->line = 1;
        return cb ? cb(ctx, &r) : 0;
    }
    r.line = s->line;
    if (s->key_field < 0 || s->key_len_bin < 0) {
        r.key_null = true;
    } else {
        r.key = row + s->key_off;
        r.key_len = (size_t)s->key_len_bin;
    }
    int rc = cb ? cb(ctx, &r) : 0;
    s->line++;
    return rc;
}

/* ------------------------------------------------------------ feeding */

static int scan(sw_copy_split *s, const uint8_t *p, size_t n, size_t *pos, size_t start)
{
    switch (s->fmt) {
    case SW_COPY_TEXT: return scan_text(s, p, n, pos, start);
    case SW_COPY_CSV: return scan_csv(s, p, n, pos, start);
    default: return scan_binary(s, p, n, pos, start);
    }
}

static int emit(sw_copy_split *s, int kind, const uint8_t *row, size_t len, sw_copy_row_cb cb, void *ctx)
{
    if (s->fmt == SW_COPY_BINARY) return emit_binary(s, kind, row, len, cb, ctx);
    return emit_line(s, row, len, cb, ctx);
}

int sw_copy_split_feed(sw_copy_split *s, const uint8_t *data, size_t len, sw_copy_row_cb cb, void *ctx)
{
    if (!s) return -1;
    if (s->failed) return -1;
    size_t pos = 0;
    while (pos < len) {
        if (s->ended) {
            if (s->fmt == SW_COPY_BINARY) return set_error(s, "received copy data after EOF marker");
            return 0;
        }
        size_t start = pos;
        int kind = scan(s, data, len, &pos, start);
        if (kind < 0) return -1;
        if (kind == 0) return buf_append(s, data + start, len - start);
        const uint8_t *row = data + start;
        size_t rlen = pos - start;
        if (s->blen) {
            if (buf_append(s, row, rlen) < 0) return -1;
            row = s->buf;
            rlen = s->blen;
        }
        int rc = emit(s, kind, row, rlen, cb, ctx);
        if (s->failed) return -1;
        reset_row(s);
        if (rc) return rc;
    }
    return 0;
}

int sw_copy_split_finish(sw_copy_split *s, sw_copy_row_cb cb, void *ctx)
{
    if (!s) return -1;
    if (s->failed) return -1;
    if (s->ended) return 0;
    int rc = 0;
    if (s->fmt == SW_COPY_BINARY) {
        switch (s->bst) {
        case BS_SIG: return set_error(s, "COPY file signature not recognized");
        case BS_FLAGS: return set_error(s, "invalid COPY file header (missing flags)");
        case BS_EXTLEN: return set_error(s, "invalid COPY file header (missing length)");
        case BS_EXT: return set_error(s, "invalid COPY file header (wrong length)");
        case BS_COUNT:
            if (s->acc_n == 0) return 0;  /* EOF between tuples, as PostgreSQL allows */
            return set_error(s, "unexpected EOF in COPY data");
        case BS_DONE: return 0;
        default: return set_error(s, "unexpected EOF in COPY data");
        }
    }
    switch (s->st) {
    case S_CR:
        if (s->eol == EOL_CRNL)
            return set_error(s, s->fmt == SW_COPY_TEXT ? "literal carriage return found in data"
                                                       : "unquoted carriage return found in data");
        s->eol = EOL_CR;
        break;
    case S_DOT:
    case S_DOT_CR: return set_error(s, "end-of-copy marker corrupt");
    default:
        if (!s->blen) return 0;
        /* PostgreSQL finds an open quote when it splits the line into
         * fields, which it does not do for a plain HEADER line */
        if (s->fmt == SW_COPY_CSV && s->in_quote && (!s->header_pending || s->header_match))
            return set_error(s, "unterminated CSV quoted field");
        s->content_end = s->blen;  /* a last line without its line ending */
        break;
    }
    rc = emit_line(s, s->buf, s->blen, cb, ctx);
    if (s->failed) return -1;
    reset_row(s);
    return rc;
}
