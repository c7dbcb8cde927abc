/*
 * corpus.c - reading the query corpus of sw_oracle.
 *
 * Format (documented for writers at the top of oracle_corpus.sql): a
 * statement runs from its first non-comment line to the first line whose
 * last non-blank character is ';' (the ';' is dropped).  Before a statement,
 * lines starting with "--" are comments, and three of them are directives
 * for the next statement: "-- ordered", "-- error SQLSTATE" and
 * "-- name: label".  Inside a statement every line is SQL, but a directive
 * there means a ';' was forgotten above, so it is refused rather than
 * silently swallowed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

typedef struct pending {
    bool ordered;
    char error[6];
    char *name;
    int line;           /* line of the first directive, 0 when none */
} pending;

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* 1 directive applied, 0 not a directive, -1 malformed directive. */
static int directive(const char *t, pending *p, char *err, size_t errsz, const char *path, int line)
{
    if (strncmp(t, "--", 2) != 0)
        return 0;
    const char *d = t + 2;
    while (*d == ' ')
        d++;
    if (strcmp(d, "ordered") == 0) {
        p->ordered = true;
    } else if (strncmp(d, "error", 5) == 0 && (d[5] == ' ' || d[5] == '\0')) {
        const char *c = d + 5;
        while (*c == ' ')
            c++;
        bool ok = strlen(c) == 5;
        for (int k = 0; ok && k < 5; k++)
            ok = isdigit((unsigned char)c[k]) || isupper((unsigned char)c[k]);
        if (!ok) {
            snprintf(err, errsz, "%s:%d: \"-- error\" needs a 5-character SQLSTATE", path, line);
            return -1;
        }
        memcpy(p->error, c, 6);
    } else if (strncmp(d, "name:", 5) == 0) {
        free(p->name);
        char *v = or_xstrdup(d + 5);
        char *tv = trim(v);
        p->name = or_xstrdup(tv);
        free(v);
    } else {
        return 0;
    }
    if (!p->line)
        p->line = line;
    return 1;
}

static void push(or_corpus *c, int *cap, or_query *q)
{
    if (c->n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        or_query *nq = realloc(c->q, (size_t)*cap * sizeof *nq);
        if (!nq) {
            fputs("sw_oracle: out of memory\n", stderr);
            abort();
        }
        c->q = nq;
    }
    c->q[c->n++] = *q;
}

int or_corpus_load(const char *path, or_corpus *c, char *err, size_t errsz)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsz, "%s: cannot open", path);
        return -1;
    }
    memset(c, 0, sizeof *c);
    int cap = 0, lineno = 0, start = 0, rc = 0;
    pending p = {0};
    or_buf sql = {0};
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) >= 0) {
        lineno++;
        char *t = trim(line);
        if (!start) {
            if (*t == '\0')
                continue;
            int d = directive(t, &p, err, errsz, path, lineno);
            if (d < 0) {
                rc = -1;
                break;
            }
            if (strncmp(t, "--", 2) == 0)
                continue;
            start = lineno;
        } else {
            pending probe = {0};
            char perr[8];
            if (directive(t, &probe, perr, sizeof perr, path, lineno) != 0) {
                free(probe.name);
                snprintf(err, errsz, "%s:%d: directive inside the statement that starts at line %d (missing ';'?)",
                         path, lineno, start);
                rc = -1;
                break;
            }
        }
        size_t n = strlen(t);
        bool end = n > 0 && t[n - 1] == ';';
        if (end)
            t[--n] = '\0';
        if (sql.len)
            or_buf_add(&sql, "\n", 1);
        or_buf_add(&sql, t, n);
        if (!end)
            continue;
        or_query q = {.sql = or_xstrdup(trim(sql.s)), .name = p.name, .line = start, .ordered = p.ordered};
        memcpy(q.error, p.error, sizeof q.error);
        if (q.ordered && q.error[0]) {
            snprintf(err, errsz, "%s:%d: \"-- ordered\" and \"-- error\" on one statement", path, start);
            free(q.sql);
            free(q.name);
            p.name = NULL;
            rc = -1;
            break;
        }
        push(c, &cap, &q);
        memset(&p, 0, sizeof p);
        sql.len = 0;
        sql.s[0] = '\0';
        start = 0;
    }
    if (rc == 0 && start) {
        snprintf(err, errsz, "%s:%d: statement has no terminating ';'", path, start);
        rc = -1;
    } else if (rc == 0 && p.line) {
        snprintf(err, errsz, "%s:%d: directives not followed by a statement", path, p.line);
        rc = -1;
    }
    free(p.name);
    free(line);
    or_buf_free(&sql);
    fclose(f);
    if (rc < 0)
        or_corpus_free(c);
    return rc;
}

void or_corpus_free(or_corpus *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->q[i].sql);
        free(c->q[i].name);
    }
    free(c->q);
    c->q = NULL;
    c->n = 0;
}
