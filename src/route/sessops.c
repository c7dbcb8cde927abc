/*
 * sessops.c - find the SET / RESET / DISCARD ALL statements in a client's
 * simple-query string (see sw/session.h).
 *
 * Most queries contain none, so a keyword pre-scan looks at the first word of
 * the string and the first word after every ';'.  It may see a ';' inside a
 * string literal and say "maybe"; that only costs a parse.  When it says
 * maybe, libpg_query (the PostgreSQL grammar) decides.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "sw/session.h"

/* Skip blanks and SQL comments starting at p. */
static const char *skip_space(const char *p, const char *end)
{
    for (;;) {
        while (p < end && isspace((unsigned char)*p)) p++;
        if (p + 1 < end && p[0] == '-' && p[1] == '-') {
            while (p < end && *p != '\n') p++;
        } else if (p + 1 < end && p[0] == '/' && p[1] == '*') {
            /* Block comments nest in PostgreSQL. */
            int depth = 1;
            p += 2;
            while (p < end && depth > 0) {
                if (p + 1 < end && p[0] == '/' && p[1] == '*') { depth++; p += 2; }
                else if (p + 1 < end && p[0] == '*' && p[1] == '/') { depth--; p += 2; }
                else p++;
            }
        } else {
            return p;
        }
    }
}

static bool word_at(const char *p, const char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - p) < n || strncasecmp(p, w, n) != 0) return false;
    return p + n == end || !(isalnum((unsigned char)p[n]) || p[n] == '_');
}

static bool maybe_session_statement(const char *sql, size_t len)
{
    const char *end = sql + len;
    const char *p = sql;
    for (;;) {
        /* p may be inside a literal (a ';' in a string): what looks like a
         * comment from there must not hide the following ';'s, so the next
         * ';' is searched from p, not from past the skipped "comment". */
        const char *w = skip_space(p, end);
        if (word_at(w, end, "set") || word_at(w, end, "reset") || word_at(w, end, "discard"))
            return true;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi) return false;
        p = semi + 1;
    }
}

static int ops_push(sw_sessops *s, sw_sessop_kind kind, const char *name, const char *sql, size_t sqllen)
{
    if (s->n == s->cap) {
        int ncap = s->cap ? s->cap * 2 : 4;
        sw_sessop *no = realloc(s->ops, (size_t)ncap * sizeof *no);
        if (!no) return -ENOMEM;
        s->ops = no;
        s->cap = ncap;
    }
    sw_sessop *op = &s->ops[s->n];
    op->kind = kind;
    op->name = NULL;
    op->sql = NULL;
    if (name) {
        op->name = strdup(name);
        if (!op->name) return -ENOMEM;
        for (char *c = op->name; *c; c++) *c = (char)tolower((unsigned char)*c);
    }
    if (sql) {
        op->sql = strndup(sql, sqllen);
        if (!op->sql) { free(op->name); return -ENOMEM; }
    }
    s->n++;
    return 0;
}

/* Narrow stmt[*off, *off + *len) to the statement's first through last
 * token, leaving out blanks and comments around it: the text is replayed
 * later with ";" and more statements after it, which a trailing "-- ..."
 * comment would swallow.  Comment token starts are exact in libpg_query's
 * scanner (some literal token ends are not), so the end is taken as the start
 * of the trailing comments.  On any scanner trouble the text is kept whole. */
static int trim_statement(const char *stmt, size_t slen, size_t *off, size_t *len)
{
    *off = 0;
    *len = slen;
    char *copy = strndup(stmt, slen);
    if (!copy) return -ENOMEM;
    PgQueryScanResult sr = pg_query_scan(copy);
    free(copy);
    PgQuery__ScanResult *t = NULL;
    if (!sr.error)
        t = pg_query__scan_result__unpack(NULL, sr.pbuf.len, (const uint8_t *)sr.pbuf.data);
    if (t) {
        size_t b = 0, e = slen;
        bool any = false, tail = false;
        for (size_t i = 0; i < t->n_tokens; i++) {
            const PgQuery__ScanToken *tok = t->tokens[i];
            if (tok->start < 0 || (size_t)tok->start > slen) { any = false; break; }
            bool comment = tok->token == PG_QUERY__TOKEN__SQL_COMMENT || tok->token == PG_QUERY__TOKEN__C_COMMENT;
            if (!comment) {
                if (!any) b = (size_t)tok->start;
                any = true;
                tail = false;
                e = slen;
            } else if (any && !tail) {
                tail = true;
                e = (size_t)tok->start;
            }
        }
        if (any && b < e) {
            while (e > b && isspace((unsigned char)stmt[e - 1])) e--;
            *off = b;
            *len = e - b;
        }
        pg_query__scan_result__free_unpacked(t, NULL);
    }
    pg_query_free_scan_result(sr);
    return 0;
}

void sw_sessops_clear(sw_sessops *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->ops[i].name);
        free(s->ops[i].sql);
    }
    s->n = 0;
}

int sw_sessops_scan(const char *sql, size_t len, sw_sessops *out)
{
    if (!maybe_session_statement(sql, len)) return 0;
    PgQueryProtobufParseResult r = pg_query_parse_protobuf(sql);
    int added = 0;
    if (r.error) goto done;  /* the server will report the syntax error */
    PgQuery__ParseResult *tree =
        pg_query__parse_result__unpack(NULL, r.parse_tree.len, (const uint8_t *)r.parse_tree.data);
    if (!tree) goto done;
    for (size_t i = 0; i < tree->n_stmts; i++) {
        PgQuery__RawStmt *raw = tree->stmts[i];
        if (!raw->stmt) continue;
        size_t loc = (size_t)raw->stmt_location;
        size_t slen = raw->stmt_len ? (size_t)raw->stmt_len : len - loc;
        if (loc > len || slen > len - loc) continue;
        if (raw->stmt->node_case == PG_QUERY__NODE__NODE_VARIABLE_SET_STMT) {
            PgQuery__VariableSetStmt *v = raw->stmt->variable_set_stmt;
            if (v->is_local) continue;  /* ends with the transaction by itself */
            int rc = 0;
            switch (v->kind) {
            case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE:
            case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_CURRENT: {
                size_t off, n;
                rc = trim_statement(sql + loc, slen, &off, &n);
                if (rc == 0) rc = ops_push(out, SW_SESSOP_SET, v->name, sql + loc + off, n);
                break;
            }
            case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT:
            case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET:
                rc = ops_push(out, SW_SESSOP_RESET, v->name, NULL, 0);
                break;
            case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL:
                rc = ops_push(out, SW_SESSOP_RESET_ALL, NULL, NULL, 0);
                break;
            default:
                /* SET TRANSACTION ... is transaction scoped; SET SESSION
                 * CHARACTERISTICS is not tracked. */
                break;
            }
            if (rc == 0 && v->kind != PG_QUERY__VARIABLE_SET_KIND__VAR_SET_MULTI) added++;
        } else if (raw->stmt->node_case == PG_QUERY__NODE__NODE_DISCARD_STMT &&
                   raw->stmt->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL) {
            if (ops_push(out, SW_SESSOP_RESET_ALL, NULL, NULL, 0) == 0) added++;
        }
    }
    pg_query__parse_result__free_unpacked(tree, NULL);
done:
    pg_query_free_protobuf_parse_result(r);
    return added;
}
