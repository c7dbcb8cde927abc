/*
 * local.c - what shardwire answers or decides itself: routing comments
 * (a block or line comment holding "shard: NAME" or "sharding_key: VALUE"),
 * SET / RESET / SHOW of shardwire.shard and shardwire.sharding_key, and
 * shardwire_next_id(table, key), which makes a shard-aware ID with the
 * table's embedded function.
 *
 * Comments are part of the shape, so what they say is decided when the
 * plan is built; SET values and next_id arguments are constants like any
 * other and are read when the plan is evaluated.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "route_int.h"

void sw_local_node_list(const sw_router *r, char *buf, size_t bufsz)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < r->conf->n_nodes && o + 1 < bufsz; i++) {
        int w = snprintf(buf + o, bufsz - o, "%s%s", i ? ", " : "", r->conf->nodes[i].name);
        if (w < 0) break;
        o += (size_t)w;
    }
}

/* ------------------------------------------------------------ comments */

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1])) (*n)--;
}

static void one_comment(sw_plan *p, const sw_router *r, const char *s, size_t n)
{
    if (n >= 4 && s[0] == '/' && s[1] == '*') {
        s += 2;
        n -= 2;
        if (n >= 2 && s[n - 2] == '*' && s[n - 1] == '/') n -= 2;
    } else if (n >= 2 && s[0] == '-' && s[1] == '-') {
        s += 2;
        n -= 2;
    } else {
        return;
    }
    trim(&s, &n);
    size_t w = 0;
    while (w < n && (isalnum((unsigned char)s[w]) || s[w] == '_')) w++;
    const char *word = s;
    size_t wl = w;
    s += w;
    n -= w;
    trim(&s, &n);
    if (!n || (*s != ':' && *s != '=')) return;
    s++, n--;
    trim(&s, &n);
    if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0]) s++, n -= 2;
    if (n == 0) return;
    if (wl == 5 && strncasecmp(word, "shard", 5) == 0) {
        if (p->hint_node >= 0 || p->hint_err >= 0) return;
        char name[128];
        if (n >= sizeof name) n = sizeof name - 1;
        memcpy(name, s, n);
        name[n] = '\0';
        int node = sw_conf_node_index(r->conf, name);
        if (node >= 0) {
            p->hint_node = node;
            return;
        }
        char known[256], msg[512];
        sw_local_node_list(r, known, sizeof known);
        snprintf(msg, sizeof msg, "unknown node \"%s\" in routing comment (nodes: %s)", name, known);
        memcpy(p->hint_sqlstate, "22023", 6);
        p->hint_err = sw_plan_str(p, msg, strlen(msg));
    } else if (wl == 12 && strncasecmp(word, "sharding_key", 12) == 0) {
        if (p->hint_key < 0) p->hint_key = sw_plan_str(p, s, n);
    }
}

void sw_local_comments(sw_plan *p, sw_router *r, const char *text, const sw_item *items, int n)
{
    for (int i = 0; i < n; i++)
        if (items[i].flags & SW_ITEM_COMMENT)
            one_comment(p, r, text + items[i].start, items[i].end - items[i].start);
}

/* ------------------------------------------------------------ analysis */

static bool next_id_call(sw_actx *a, const PgQuery__SelectStmt *s)
{
    if ((s->op != PG_QUERY__SET_OPERATION__SETOP_NONE && s->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED) ||
        s->n_from_clause || s->where_clause || s->n_target_list != 1 || s->n_group_clause ||
        s->n_values_lists || s->with_clause)
        return false;
    const PgQuery__Node *t = s->target_list[0];
    if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET || !t->res_target->val ||
        t->res_target->val->node_case != PG_QUERY__NODE__NODE_FUNC_CALL)
        return false;
    const PgQuery__FuncCall *f = t->res_target->val->func_call;
    const char *name = f->n_funcname ? sw_node_str(f->funcname[f->n_funcname - 1]) : NULL;
    if (!name || strcmp(name, "shardwire_next_id") != 0 || f->n_funcname > 2) return false;
    a->st->local = SW_LOCAL_NEXT_ID;
    if (f->n_args != 2 || !sw_quals_value(a, f->args[0], &a->st->local_val) ||
        !sw_quals_value(a, f->args[1], &a->st->local_key))
        sw_st_error(a, "22023", "shardwire_next_id(table, key) takes a table name and a key constant or parameter");
    return true;
}

bool sw_local_analyze(sw_actx *a, const PgQuery__Node *node)
{
    sw_pstmt *st = a->st;
    switch (node->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT: return next_id_call(a, node->select_stmt);
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT: {
        const PgQuery__VariableSetStmt *v = node->variable_set_stmt;
        if (!v->name || strncmp(v->name, "shardwire.", 10) != 0) return false;
        if (strcmp(v->name, "shardwire.shard") == 0) st->local = SW_LOCAL_SET_SHARD;
        else if (strcmp(v->name, "shardwire.sharding_key") == 0) st->local = SW_LOCAL_SET_KEY;
        else {
            sw_st_error(a, "42704", "unrecognized configuration parameter \"%s\"", v->name);
            return true;
        }
        st->set_local = v->is_local;
        st->local_val.kind = SW_VR_NONE;
        switch (v->kind) {
        case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE:
            if (v->n_args != 1 || !sw_quals_value(a, v->args[0], &st->local_val)) {
                sw_st_error(a, "22023", "SET %s takes one value", v->name);
            }
            break;
        case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT:
        case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET: break;
        default:
            sw_st_error(a, "0A000", "this form of SET is not supported for %s", v->name);
        }
        return true;
    }
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT: {
        const char *name = node->variable_show_stmt->name;
        if (!name || strncmp(name, "shardwire.", 10) != 0) return false;
        st->local = SW_LOCAL_SHOW_SETTING;
        if (strcmp(name, "shardwire.shard") != 0 && strcmp(name, "shardwire.sharding_key") != 0) {
            sw_st_error(a, "42704", "unrecognized configuration parameter \"%s\"", name);
            return true;
        }
        st->local_name = sw_plan_str(a->p, name, strlen(name));
        return true;
    }
    default: return false;
    }
}

/* ------------------------------------------------------------ evaluation */

static int set_value(sw_eval *e, const char *s)
{
    e->out->local_value = strdup(s);
    return e->out->local_value ? SW_ROUTE_OK : sw_eval_error(e, "53200", "out of memory");
}

const sw_conf_table *sw_local_id_table(const sw_eval *e, const char *tname, sw_key_type *key_type)
{
    const sw_router *r = e->r;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", tname);
    char *dot = strchr(buf, '.');
    if (dot) *dot = '\0';
    int ti = sw_router_table(r, e->p->db, dot ? buf : NULL, dot ? dot + 1 : buf);
    const sw_conf_table *t = ti >= 0 ? &e->db->tables[ti] : NULL;
    if (!t || t->id_function < 0 || t->id_function >= r->n_fns) return NULL;
    const sw_conf_function *idf = &r->conf->functions[t->id_function];
    *key_type = idf->source >= 0 ? r->conf->functions[idf->source].type : SW_KEY_INT;
    return t;
}

int sw_local_make_id(sw_eval *e, sw_vref table, sw_vref key, int64_t *id, sw_key_type *key_type)
{
    sw_router *r = e->r;
    char tname[128];
    if (sw_lit_text(e, table, tname, sizeof tname) != SW_LIT_OK)
        return sw_eval_error(e, "22023", "shardwire_next_id: the table name must be a text constant or parameter");
    sw_key_type kt;
    const sw_conf_table *t = sw_local_id_table(e, tname, &kt);
    if (!t)
        return sw_eval_error(e, "22023", "shardwire_next_id: table \"%s\" has no id column with an embedded function",
                             tname);
    const sw_conf_function *idf = &r->conf->functions[t->id_function];
    if (key_type) *key_type = kt;
    sw_litbuf b;
    b.heap = NULL;
    sw_value v;
    int rc = SW_ROUTE_OK;
    switch (sw_lit_read(e, key, kt, &v, &b)) {
    case SW_LIT_OK: {
        *id = sw_shardfn_make_id(r->fns[t->id_function], &v, e->in->now_ms, r->id_seq++);
        char vs[96];
        sw_value_format(&v, vs, sizeof vs);
        if (*id < 0) {
            rc = sw_eval_error(e, "22023", "shardwire_next_id: cannot make an id of %s for key %s", idf->name, vs);
            break;
        }
        sw_eval_reason(e, "shardwire_next_id('%s', %s) -> %s id %" PRId64, tname, vs, idf->name, *id);
        break;
    }
    case SW_LIT_INVALID:
        rc = sw_eval_error(e, "22P02", "invalid value \"%s\" for shard key %s of table %s", b.raw,
                           t->key ? t->key : "?", t->name);
        break;
    default:
        rc = sw_eval_error(e, "22023", "shardwire_next_id: the key of table %s must be a non-null constant or parameter",
                           t->name);
    }
    sw_litbuf_release(&b);
    return rc;
}

int sw_local_eval(sw_eval *e, const sw_pstmt *st)
{
    sw_route_out *out = e->out;
    out->local = st->local;
    out->set_local = st->set_local;
    char val[SW_VALUE_BUF];
    switch (st->local) {
    case SW_LOCAL_SET_SHARD:
    case SW_LOCAL_SET_KEY: {
        const char *name = st->local == SW_LOCAL_SET_SHARD ? "shardwire.shard" : "shardwire.sharding_key";
        if (st->local_val.kind == SW_VR_NONE) {
            sw_eval_reason(e, "RESET %s (answered by shardwire)", name);
            return SW_ROUTE_OK;
        }
        if (sw_lit_text(e, st->local_val, val, sizeof val) != SW_LIT_OK)
            return sw_eval_error(e, "22023", "invalid value for %s", name);
        if (st->local == SW_LOCAL_SET_SHARD && sw_conf_node_index(e->r->conf, val) < 0) {
            char known[256];
            sw_local_node_list(e->r, known, sizeof known);
            return sw_eval_error(e, "22023", "unknown node \"%s\" for shardwire.shard (nodes: %s)", val, known);
        }
        sw_eval_reason(e, "SET %s%s = '%s' (answered by shardwire)", st->set_local ? "LOCAL " : "", name, val);
        return set_value(e, val);
    }
    case SW_LOCAL_SHOW_SETTING:
        sw_eval_reason(e, "SHOW %s (answered by shardwire)", sw_plan_s(e->p, st->local_name));
        return set_value(e, sw_plan_s(e->p, st->local_name));
    case SW_LOCAL_NEXT_ID: return sw_local_make_id(e, st->local_val, st->local_key, &out->local_id, NULL);
    default: return SW_ROUTE_OK;
    }
}
