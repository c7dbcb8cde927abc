/*
 * copy_stmt.c - what a COPY statement asks for (sw/copysplit.h).
 *
 * libpg_query parses the statement; the old spellings (WITH CSV HEADER,
 * DELIMITER ',', NULL 'x', BINARY, FORCE NOT NULL a) come out of the
 * grammar as the same option list as the parenthesised form.  The options
 * are then read and checked in the order PostgreSQL 15's
 * ProcessCopyOptions does, with its messages, so a statement the server
 * would refuse is refused before any row is split; defaults are filled in
 * the same way.  Checks that need the table (column names without a column
 * list, FREEZE rules, encoding names) are left to the server.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "sw/copysplit.h"

static int fail(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errsz, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* An option's argument as PostgreSQL's defGetString sees it; NULL when the
 * option has none or a kind no COPY option takes.  tmp holds numbers. */
static const char *def_string(const PgQuery__DefElem *d, char *tmp, size_t tmpsz)
{
    const PgQuery__Node *a = d->arg;
    if (!a) return NULL;
    switch (a->node_case) {
    case PG_QUERY__NODE__NODE_STRING: return a->string->sval;
    case PG_QUERY__NODE__NODE_INTEGER:
        snprintf(tmp, tmpsz, "%d", (int)a->integer->ival);
        return tmp;
    case PG_QUERY__NODE__NODE_FLOAT: return a->float_->fval;
    case PG_QUERY__NODE__NODE_BOOLEAN: return a->boolean->boolval ? "true" : "false";
    case PG_QUERY__NODE__NODE_A_STAR: return "*";
    default: return NULL;
    }
}

/* 1 true, 0 false, -1 not a Boolean (defGetBoolean; no argument is true). */
static int def_bool(const PgQuery__DefElem *d)
{
    if (!d->arg) return 1;
    if (d->arg->node_case == PG_QUERY__NODE__NODE_INTEGER) {
        if (d->arg->integer->ival == 0) return 0;
        if (d->arg->integer->ival == 1) return 1;
        return -1;
    }
    char tmp[16];
    const char *v = def_string(d, tmp, sizeof tmp);
    if (!v) return -1;
    if (!strcasecmp(v, "true") || !strcasecmp(v, "on")) return 1;
    if (!strcasecmp(v, "false") || !strcasecmp(v, "off")) return 0;
    return -1;
}

/* A FORCE_* argument: a list of column names. */
static int name_list(const PgQuery__DefElem *d, char ***out, int *n, char *err, size_t errsz)
{
    if (!d->arg || d->arg->node_case != PG_QUERY__NODE__NODE_LIST)
        return fail(err, errsz, "argument to option \"%s\" must be a list of column names", d->defname);
    const PgQuery__List *l = d->arg->list;
    char **v = calloc(l->n_items ? l->n_items : 1, sizeof *v);
    if (!v) return fail(err, errsz, "out of memory");
    *out = v;
    for (size_t i = 0; i < l->n_items; i++) {
        const PgQuery__Node *it = l->items[i];
        if (it->node_case != PG_QUERY__NODE__NODE_STRING)
            return fail(err, errsz, "argument to option \"%s\" must be a list of column names", d->defname);
        if (!(v[i] = strdup(it->string->sval))) return fail(err, errsz, "out of memory");
        *n = (int)i + 1;
    }
    return 0;
}

static bool in_list(char *const *v, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], name) == 0) return true;
    return false;
}

/* The options as given, before defaults (NULL: not given; copies). */
typedef struct copy_opts {
    bool format_set, freeze_set, header_set, force_quote;
    char *delim, *null_print, *quote, *escape;
} copy_opts;

static void opts_free(copy_opts *o)
{
    free(o->delim);
    free(o->null_print);
    free(o->quote);
    free(o->escape);
}

/* A string option given once: *slot = a copy of v. */
static int string_option(const char *name, const char *v, char **slot, char *err, size_t errsz)
{
    if (*slot) return fail(err, errsz, "conflicting or redundant options");
    if (!v) return fail(err, errsz, "%s requires a parameter", name);
    if (!(*slot = strdup(v))) return fail(err, errsz, "out of memory");
    return 0;
}

static int read_option(const PgQuery__DefElem *d, sw_copy_stmt *s, copy_opts *o, char *err, size_t errsz)
{
    char tmp[32];
    const char *name = d->defname;
    const char *v = def_string(d, tmp, sizeof tmp);
    if (strcmp(name, "delimiter") == 0) return string_option(name, v, &o->delim, err, errsz);
    if (strcmp(name, "null") == 0) return string_option(name, v, &o->null_print, err, errsz);
    if (strcmp(name, "quote") == 0) return string_option(name, v, &o->quote, err, errsz);
    if (strcmp(name, "escape") == 0) return string_option(name, v, &o->escape, err, errsz);
    if (strcmp(name, "format") == 0) {
        if (o->format_set) return fail(err, errsz, "conflicting or redundant options");
        if (!v) return fail(err, errsz, "%s requires a parameter", name);
        o->format_set = true;
        if (strcmp(v, "text") == 0) s->format = SW_COPY_TEXT;
        else if (strcmp(v, "csv") == 0) s->format = SW_COPY_CSV;
        else if (strcmp(v, "binary") == 0) s->format = SW_COPY_BINARY;
        else return fail(err, errsz, "COPY format \"%s\" not recognized", v);
        return 0;
    }
    if (strcmp(name, "freeze") == 0) {
        if (o->freeze_set) return fail(err, errsz, "conflicting or redundant options");
        o->freeze_set = true;
        int b = def_bool(d);
        if (b < 0) return fail(err, errsz, "%s requires a Boolean value", name);
        s->freeze = b;
        return 0;
    }
    if (strcmp(name, "header") == 0) {
        if (o->header_set) return fail(err, errsz, "conflicting or redundant options");
        o->header_set = true;
        if (v && d->arg->node_case != PG_QUERY__NODE__NODE_INTEGER && strcasecmp(v, "match") == 0) {
            if (!s->from) return fail(err, errsz, "cannot use \"%s\" with HEADER in COPY TO", v);
            s->header = s->header_match = true;
            return 0;
        }
        int b = def_bool(d);
        if (b < 0) return fail(err, errsz, "%s requires a Boolean value or \"match\"", name);
        s->header = b;
        return 0;
    }
    if (strcmp(name, "force_quote") == 0) {
        if (o->force_quote) return fail(err, errsz, "conflicting or redundant options");
        if (!d->arg || (d->arg->node_case != PG_QUERY__NODE__NODE_A_STAR &&
                        d->arg->node_case != PG_QUERY__NODE__NODE_LIST))
            return fail(err, errsz, "argument to option \"%s\" must be a list of column names", name);
        o->force_quote = true;
        return 0;
    }
    if (strcmp(name, "force_not_null") == 0) {
        if (s->force_not_null) return fail(err, errsz, "conflicting or redundant options");
        return name_list(d, &s->force_not_null, &s->n_force_not_null, err, errsz);
    }
    if (strcmp(name, "force_null") == 0) {
        if (s->force_null) return fail(err, errsz, "conflicting or redundant options");
        return name_list(d, &s->force_null, &s->n_force_null, err, errsz);
    }
    if (strcmp(name, "encoding") == 0) {
        if (s->encoding) return fail(err, errsz, "conflicting or redundant options");
        if (!v || !*v) return fail(err, errsz, "argument to option \"%s\" must be a valid encoding name", name);
        if (!(s->encoding = strdup(v))) return fail(err, errsz, "out of memory");
        return 0;
    }
    return fail(err, errsz, "option \"%s\" not recognized", name);
}

/* ProcessCopyOptions' checks and defaults, in its order. */
static int finish_options(sw_copy_stmt *s, const copy_opts *o, char *err, size_t errsz)
{
    bool csv = s->format == SW_COPY_CSV, binary = s->format == SW_COPY_BINARY;
    if (binary && o->delim) return fail(err, errsz, "cannot specify DELIMITER in BINARY mode");
    if (binary && o->null_print) return fail(err, errsz, "cannot specify NULL in BINARY mode");
    const char *delim = o->delim ? o->delim : csv ? "," : "\t";
    const char *null_print = o->null_print ? o->null_print : csv ? "" : "\\N";
    const char *quote = o->quote, *escape = o->escape;
    if (csv) {
        if (!quote) quote = "\"";
        if (!escape) escape = quote;
    }
    if (strlen(delim) != 1) return fail(err, errsz, "COPY delimiter must be a single one-byte character");
    if (delim[0] == '\r' || delim[0] == '\n')
        return fail(err, errsz, "COPY delimiter cannot be newline or carriage return");
    if (strchr(null_print, '\r') || strchr(null_print, '\n'))
        return fail(err, errsz, "COPY null representation cannot use newline or carriage return");
    /* Outside CSV a backslash-escaped delimiter must stay a literal one. */
    if (!csv && strchr("\\.abcdefghijklmnopqrstuvwxyz0123456789", delim[0]))
        return fail(err, errsz, "COPY delimiter cannot be \"%s\"", delim);
    if (binary && s->header) return fail(err, errsz, "cannot specify HEADER in BINARY mode");
    if (!csv && o->quote) return fail(err, errsz, "COPY quote available only in CSV mode");
    if (csv && strlen(quote) != 1) return fail(err, errsz, "COPY quote must be a single one-byte character");
    if (csv && delim[0] == quote[0]) return fail(err, errsz, "COPY delimiter and quote must be different");
    if (!csv && o->escape) return fail(err, errsz, "COPY escape available only in CSV mode");
    if (csv && strlen(escape) != 1) return fail(err, errsz, "COPY escape must be a single one-byte character");
    if (!csv && o->force_quote) return fail(err, errsz, "COPY force quote available only in CSV mode");
    if (o->force_quote && s->from) return fail(err, errsz, "COPY force quote only available using COPY TO");
    if (!csv && s->force_not_null) return fail(err, errsz, "COPY force not null available only in CSV mode");
    if (s->force_not_null && !s->from)
        return fail(err, errsz, "COPY force not null only available using COPY FROM");
    if (!csv && s->force_null) return fail(err, errsz, "COPY force null available only in CSV mode");
    if (s->force_null && !s->from) return fail(err, errsz, "COPY force null only available using COPY FROM");
    if (strchr(null_print, delim[0]))
        return fail(err, errsz, "COPY delimiter must not appear in the NULL specification");
    if (csv && strchr(null_print, quote[0]))
        return fail(err, errsz, "CSV quote character must not appear in the NULL specification");
    s->delim = delim[0];
    s->quote = csv ? quote[0] : '"';
    s->escape = csv ? escape[0] : '"';
    if (!(s->null_marker = strdup(null_print))) return fail(err, errsz, "out of memory");
    return 0;
}

/* The checks PostgreSQL makes against the column list (when there is one;
 * without it they need the table). */
static int check_columns(const sw_copy_stmt *s, char *err, size_t errsz)
{
    for (int i = 0; i < s->n_columns; i++)
        if (in_list(s->columns, i, s->columns[i]))
            return fail(err, errsz, "column \"%s\" specified more than once", s->columns[i]);
    if (!s->columns) return 0;
    for (int i = 0; i < s->n_force_not_null; i++)
        if (!in_list(s->columns, s->n_columns, s->force_not_null[i]))
            return fail(err, errsz, "FORCE_NOT_NULL column \"%s\" not referenced by COPY", s->force_not_null[i]);
    for (int i = 0; i < s->n_force_null; i++)
        if (!in_list(s->columns, s->n_columns, s->force_null[i]))
            return fail(err, errsz, "FORCE_NULL column \"%s\" not referenced by COPY", s->force_null[i]);
    return 0;
}

static int read_stmt(const PgQuery__CopyStmt *c, sw_copy_stmt *s, char *err, size_t errsz)
{
    s->from = c->is_from;
    /* protobuf spells an absent filename as "" */
    s->stdio = !c->is_program && (!c->filename || !c->filename[0]);
    s->query = c->query != NULL;
    s->has_where = c->where_clause != NULL;
    if (c->relation) {
        if (c->relation->schemaname && c->relation->schemaname[0] &&
            !(s->schema = strdup(c->relation->schemaname)))
            return fail(err, errsz, "out of memory");
        if (!(s->relname = strdup(c->relation->relname))) return fail(err, errsz, "out of memory");
    }
    if (c->n_attlist) {
        if (!(s->columns = calloc(c->n_attlist, sizeof *s->columns))) return fail(err, errsz, "out of memory");
        for (size_t i = 0; i < c->n_attlist; i++) {
            const PgQuery__Node *a = c->attlist[i];
            if (a->node_case != PG_QUERY__NODE__NODE_STRING) return fail(err, errsz, "unexpected column list");
            if (!(s->columns[i] = strdup(a->string->sval))) return fail(err, errsz, "out of memory");
            s->n_columns = (int)i + 1;
        }
    }
    copy_opts o = {0};
    int rc = 0;
    for (size_t i = 0; i < c->n_options && rc == 0; i++) {
        const PgQuery__Node *n = c->options[i];
        if (n->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) rc = fail(err, errsz, "unexpected COPY option");
        else rc = read_option(n->def_elem, s, &o, err, errsz);
    }
    if (rc == 0) rc = finish_options(s, &o, err, errsz);
    opts_free(&o);
    return rc < 0 ? -1 : check_columns(s, err, errsz);
}

int sw_copy_stmt_parse(const char *sql, sw_copy_stmt *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    PgQueryProtobufParseResult pr = pg_query_parse_protobuf(sql);
    if (pr.error) {
        fail(err, errsz, "%s", pr.error->message ? pr.error->message : "syntax error");
        pg_query_free_protobuf_parse_result(pr);
        return -1;
    }
    PgQuery__ParseResult *tree =
        pg_query__parse_result__unpack(NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
    int rc;
    if (!tree) {
        rc = fail(err, errsz, "out of memory");
    } else if (tree->n_stmts != 1 || !tree->stmts[0]->stmt) {
        rc = fail(err, errsz, "expected exactly one COPY statement");
    } else if (tree->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_COPY_STMT) {
        rc = fail(err, errsz, "not a COPY statement");
    } else {
        rc = read_stmt(tree->stmts[0]->stmt->copy_stmt, out, err, errsz);
    }
    if (tree) pg_query__parse_result__free_unpacked(tree, NULL);
    pg_query_free_protobuf_parse_result(pr);
    if (rc < 0) sw_copy_stmt_clear(out);
    return rc;
}

static void free_names(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

void sw_copy_stmt_clear(sw_copy_stmt *s)
{
    if (!s) return;
    free(s->schema);
    free(s->relname);
    free_names(s->columns, s->n_columns);
    free(s->null_marker);
    free(s->encoding);
    free_names(s->force_not_null, s->n_force_not_null);
    free_names(s->force_null, s->n_force_null);
    memset(s, 0, sizeof *s);
}
