/*
 * sessops.c - find what a client's simple-query string does to session
 * state (see sw/session.h): SET / RESET / DISCARD, and the state that pins
 * a client to its server connection under transaction pooling (TEMP
 * objects, SQL PREPARE, LISTEN, WITH HOLD cursors, SET SESSION
 * AUTHORIZATION, session advisory locks, set_config(..., false),
 * pg_backend_pid(), nextval/setval) and what removes it again.
 *
 * Most queries contain none, so a pre-scan looks at the first word of the
 * string and the first word after every ';', and at the name before every
 * '(' (a function call).  It may be fooled by a ';' or '(' inside a
 * literal and say "maybe"; that only costs a parse.  When it says maybe,
 * libpg_query (the PostgreSQL grammar) decides.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "route_int.h"
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

/* Functions whose call creates or removes pinning state. */
static const char *const pin_functions[] = {
    "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
    "pg_advisory_unlock_all", "set_config", "pg_backend_pid", "nextval", "setval", NULL};

/* Whether the identifier ending just before '(' at paren is one of them. */
static bool pin_call_at(const char *sql, const char *paren)
{
    const char *e = paren;
    while (e > sql && isspace((unsigned char)e[-1])) e--;
    const char *b = e;
    while (b > sql && (isalnum((unsigned char)b[-1]) || b[-1] == '_' || b[-1] == '"')) b--;
    size_t n = (size_t)(e - b);
    if (n && *b == '"') b++, n -= 2 * (n >= 2);
    for (int i = 0; pin_functions[i]; i++)
        if (strlen(pin_functions[i]) == n && strncasecmp(b, pin_functions[i], n) == 0) return true;
    return false;
}

static bool maybe_pin_call(const char *sql, size_t len)
{
    const char *end = sql + len;
    for (const char *p = memchr(sql, '(', len); p; p = memchr(p + 1, '(', (size_t)(end - p - 1)))
        if (pin_call_at(sql, p)) return true;
    return false;
}

static bool maybe_session_statement(const char *sql, size_t len)
{
    if (maybe_pin_call(sql, len)) return true;
    const char *end = sql + len;
    const char *p = sql;
    for (;;) {
        /* p may be inside a literal (a ';' in a string): what looks like a
         * comment from there must not hide the following ';'s, so the next
         * ';' is searched from p, not from past the skipped "comment". */
        const char *w = skip_space(p, end);
        if (word_at(w, end, "set") || word_at(w, end, "reset") || word_at(w, end, "discard") ||
            word_at(w, end, "create") || word_at(w, end, "prepare") || word_at(w, end, "listen") ||
            word_at(w, end, "unlisten") || word_at(w, end, "declare") || word_at(w, end, "deallocate") ||
            word_at(w, end, "close"))
            return true;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi) return false;
        p = semi + 1;
    }
}

static int ops_push(sw_sessops *s, sw_sessop_kind kind, const char *name, const char *sql, size_t sqllen);

static int pins_push(sw_sessops *s, sw_sessop_kind kind, uint32_t pins)
{
    int rc = ops_push(s, kind, NULL, NULL, 0);
    if (rc == 0) s->ops[s->n - 1].pins = pins;
    return rc;
}

/* ---- pins: function calls anywhere in a statement */

typedef struct pin_walk {
    uint32_t pins, unpins;
} pin_walk;

/* set_config's third argument, when it is the constant true: the setting
 * ends with the transaction. */
static bool set_config_local(const PgQuery__FuncCall *f)
{
    if (f->n_args != 3) return false;
    const PgQuery__Node *a = f->args[2];
    while (a && a->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) a = a->type_cast->arg;
    return a && a->node_case == PG_QUERY__NODE__NODE_A_CONST && a->a_const->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL &&
           a->a_const->boolval->boolval;
}

static int pin_child(void *ctx, const ProtobufCMessage *m)
{
    pin_walk *w = ctx;
    if (m->descriptor == &pg_query__func_call__descriptor) {
        const PgQuery__FuncCall *f = (const PgQuery__FuncCall *)m;
        const char *name = f->n_funcname ? sw_node_str(f->funcname[f->n_funcname - 1]) : NULL;
        if (name) {
            if (strcmp(name, "pg_advisory_lock") == 0 || strcmp(name, "pg_advisory_lock_shared") == 0 ||
                strcmp(name, "pg_try_advisory_lock") == 0 || strcmp(name, "pg_try_advisory_lock_shared") == 0)
                w->pins |= SW_PIN_ADVISORY;
            else if (strcmp(name, "pg_advisory_unlock_all") == 0)
                w->unpins |= SW_PIN_ADVISORY;
            else if (strcmp(name, "set_config") == 0 && !set_config_local(f))
                w->pins |= SW_PIN_SET_CONFIG;
            else if (strcmp(name, "pg_backend_pid") == 0)
                w->pins |= SW_PIN_BACKEND_PID;
            else if (strcmp(name, "nextval") == 0 || strcmp(name, "setval") == 0)
                w->pins |= SW_PIN_SEQUENCE;
        }
    }
    return sw_node_each_child(m, pin_child, ctx);
}

static bool temp_rel(const PgQuery__RangeVar *rv)
{
    return rv && rv->relpersistence && strcmp(rv->relpersistence, "t") == 0;
}

/* What statement n does to pinning state. */
static void stmt_pins(const PgQuery__Node *n, pin_walk *w)
{
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_CREATE_STMT:
        if (temp_rel(n->create_stmt->relation)) w->pins |= SW_PIN_TEMP;
        break;
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
        if (n->create_table_as_stmt->into && temp_rel(n->create_table_as_stmt->into->rel)) w->pins |= SW_PIN_TEMP;
        break;
    case PG_QUERY__NODE__NODE_VIEW_STMT:
        if (temp_rel(n->view_stmt->view)) w->pins |= SW_PIN_TEMP;
        break;
    case PG_QUERY__NODE__NODE_CREATE_SEQ_STMT:
        if (temp_rel(n->create_seq_stmt->sequence)) w->pins |= SW_PIN_TEMP;
        break;
    case PG_QUERY__NODE__NODE_PREPARE_STMT: w->pins |= SW_PIN_PREPARE; break;
    case PG_QUERY__NODE__NODE_DEALLOCATE_STMT:
        if (!n->deallocate_stmt->name || !n->deallocate_stmt->name[0]) w->unpins |= SW_PIN_PREPARE;
        break;
    case PG_QUERY__NODE__NODE_LISTEN_STMT: w->pins |= SW_PIN_LISTEN; break;
    case PG_QUERY__NODE__NODE_UNLISTEN_STMT:
        if (!n->unlisten_stmt->conditionname || !n->unlisten_stmt->conditionname[0]) w->unpins |= SW_PIN_LISTEN;
        break;
    case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT:
        if (n->declare_cursor_stmt->options & 0x0020 /* CURSOR_OPT_HOLD */) w->pins |= SW_PIN_HOLD_CURSOR;
        break;
    case PG_QUERY__NODE__NODE_CLOSE_PORTAL_STMT:
        if (!n->close_portal_stmt->portalname || !n->close_portal_stmt->portalname[0]) w->unpins |= SW_PIN_HOLD_CURSOR;
        break;
    case PG_QUERY__NODE__NODE_DISCARD_STMT:
        switch (n->discard_stmt->target) {
        case PG_QUERY__DISCARD_MODE__DISCARD_ALL: w->unpins |= SW_PIN_ALL; break;
        case PG_QUERY__DISCARD_MODE__DISCARD_TEMP: w->unpins |= SW_PIN_TEMP; break;
        case PG_QUERY__DISCARD_MODE__DISCARD_SEQUENCES: w->unpins |= SW_PIN_SEQUENCE; break;
        default: break;
        }
        break;
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT: {
        const PgQuery__VariableSetStmt *v = n->variable_set_stmt;
        if (!v->name || strcmp(v->name, "session_authorization") != 0 || v->is_local) break;
        if (v->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE) w->pins |= SW_PIN_AUTHORIZATION;
        else if (v->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT || v->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET)
            w->unpins |= SW_PIN_AUTHORIZATION;
        break;
    }
    default: break;
    }
    const ProtobufCMessage *m = sw_node_msg(n);
    if (m) pin_child(w, m);
}

void sw_pin_reasons(uint32_t pins, char *buf, size_t bufsz)
{
    static const char *const names[] = {"temp objects", "prepared statements (SQL PREPARE)", "advisory locks",
                                        "LISTEN", "WITH HOLD cursors", "SET SESSION AUTHORIZATION",
                                        "set_config(..., false)", "pg_backend_pid()", "sequence values (nextval)",
                                        "a statement not examined (out of memory)"};
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]) && o + 1 < bufsz; i++) {
        if (!(pins & (1u << i))) continue;
        int w = snprintf(buf + o, bufsz - o, "%s%s", o ? ", " : "", names[i]);
        if (w < 0) break;
        o += (size_t)w < bufsz - o ? (size_t)w : bufsz - o - 1;
    }
}

static int ops_push(sw_sessops *s, sw_sessop_kind kind, const char *name, const char *sql, size_t sqllen);

/* SET SESSION CHARACTERISTICS AS TRANSACTION modes: one SET of the
 * default_transaction_* setting for each mode. */
static int characteristics(sw_sessops *out, const PgQuery__VariableSetStmt *v, int *added)
{
    for (size_t i = 0; i < v->n_args; i++) {
        const PgQuery__Node *a = v->args[i];
        if (a->node_case != PG_QUERY__NODE__NODE_DEF_ELEM || !a->def_elem->defname || !a->def_elem->arg) continue;
        const PgQuery__DefElem *d = a->def_elem;
        const PgQuery__Node *arg = d->arg;
        if (arg->node_case != PG_QUERY__NODE__NODE_A_CONST) continue;
        const PgQuery__AConst *k = arg->a_const;
        char name[64], sql[160];
        if (strcmp(d->defname, "transaction_isolation") == 0 && k->val_case == PG_QUERY__A__CONST__VAL_SVAL) {
            snprintf(name, sizeof name, "default_transaction_isolation");
            snprintf(sql, sizeof sql, "SET default_transaction_isolation TO '%s'", k->sval->sval);
        } else if ((strcmp(d->defname, "transaction_read_only") == 0 || strcmp(d->defname, "transaction_deferrable") == 0) &&
                   k->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
            snprintf(name, sizeof name, "default_%s", d->defname);
            snprintf(sql, sizeof sql, "SET %s TO %s", name, k->ival->ival ? "on" : "off");
        } else {
            continue;
        }
        int rc = ops_push(out, SW_SESSOP_SET, name, sql, strlen(sql));
        if (rc) return rc;
        (*added)++;
    }
    return 0;
}

static int ops_push(sw_sessops *s, sw_sessop_kind kind, const char *name, const char *sql, size_t sqllen)
{
    if (s->n == s->cap) {
        int ncap = s->cap ? s->cap * 2 : 4;
        sw_sessop *no = realloc(s->ops, (size_t)ncap * sizeof *no);
        if (!no) {
            s->oom = true;
            return -ENOMEM;
        }
        s->ops = no;
        s->cap = ncap;
    }
    sw_sessop *op = &s->ops[s->n];
    op->kind = kind;
    op->name = NULL;
    op->sql = NULL;
    op->pins = 0;
    if (name) {
        op->name = strdup(name);
        if (!op->name) {
            s->oom = true;
            return -ENOMEM;
        }
        for (char *c = op->name; *c; c++) *c = (char)tolower((unsigned char)*c);
    }
    if (sql) {
        op->sql = strndup(sql, sqllen);
        if (!op->sql) {
            free(op->name);
            s->oom = true;
            return -ENOMEM;
        }
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
    if (r.error) {
        /* the server will report a syntax error; an allocation failure
         * leaves the statement's effect unknown */
        if (r.error->message && strstr(r.error->message, "out of memory")) out->oom = true;
        goto done;
    }
    PgQuery__ParseResult *tree =
        pg_query__parse_result__unpack(NULL, r.parse_tree.len, (const uint8_t *)r.parse_tree.data);
    if (!tree) {
        out->oom = true;
        goto done;
    }
    for (size_t i = 0; i < tree->n_stmts; i++) {
        PgQuery__RawStmt *raw = tree->stmts[i];
        if (!raw->stmt) continue;
        size_t loc = (size_t)raw->stmt_location;
        size_t slen = raw->stmt_len ? (size_t)raw->stmt_len : len - loc;
        if (loc > len || slen > len - loc) continue;
        pin_walk pw = {0, 0};
        stmt_pins(raw->stmt, &pw);
        if (pw.pins && pins_push(out, SW_SESSOP_PIN, pw.pins) == 0) added++;
        if (pw.unpins && pins_push(out, SW_SESSOP_UNPIN, pw.unpins) == 0) added++;
        if ((raw->stmt->node_case == PG_QUERY__NODE__NODE_DEALLOCATE_STMT && (pw.unpins & SW_PIN_PREPARE)) ||
            (raw->stmt->node_case == PG_QUERY__NODE__NODE_DISCARD_STMT &&
             raw->stmt->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL)) {
            if (pins_push(out, SW_SESSOP_DEALLOCATE_ALL, 0) == 0) added++;
        }
        if (raw->stmt->node_case == PG_QUERY__NODE__NODE_VARIABLE_SET_STMT) {
            PgQuery__VariableSetStmt *v = raw->stmt->variable_set_stmt;
            if (v->is_local) continue;  /* ends with the transaction by itself */
            if (v->name && strcmp(v->name, "session_authorization") == 0) continue;  /* pins instead */
            int rc = 0;
            switch (v->kind) {
            case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE:
            case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_CURRENT: {
                size_t off, n;
                rc = trim_statement(sql + loc, slen, &off, &n);
                if (rc) out->oom = true;
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
            case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_MULTI:
                /* SET SESSION CHARACTERISTICS AS TRANSACTION ...: the
                 * session's transaction defaults (SET TRANSACTION is
                 * transaction scoped) */
                if (v->name && strcmp(v->name, "SESSION CHARACTERISTICS") == 0) rc = characteristics(out, v, &added);
                break;
            default:
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

bool sw_sql_deallocate_name(const char *sql, size_t len, char *name, size_t namesz)
{
    const char *w = skip_space(sql, sql + len);
    if (!word_at(w, sql + len, "deallocate")) return false;
    PgQueryProtobufParseResult r = pg_query_parse_protobuf(sql);
    bool found = false;
    if (!r.error) {
        PgQuery__ParseResult *tree =
            pg_query__parse_result__unpack(NULL, r.parse_tree.len, (const uint8_t *)r.parse_tree.data);
        if (tree && tree->n_stmts == 1 && tree->stmts[0]->stmt &&
            tree->stmts[0]->stmt->node_case == PG_QUERY__NODE__NODE_DEALLOCATE_STMT) {
            const char *n = tree->stmts[0]->stmt->deallocate_stmt->name;
            if (n && n[0]) {
                snprintf(name, namesz, "%s", n);
                found = true;
            }
        }
        if (tree) pg_query__parse_result__free_unpacked(tree, NULL);
    }
    pg_query_free_protobuf_parse_result(r);
    return found;
}
