/*
 * merge_tree.c - parse-tree helpers of the merge planner: structural
 * equality and deep copy over protobuf-c's descriptors (so no case per node
 * type is needed; the walk itself is the router's sw_node_each_child),
 * node builders for the rewrite, and telling aggregate calls from other
 * functions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge_int.h"

/* ------------------------------------------------------------ equality */

static bool msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM: return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

static bool value_equal(ProtobufCType t, const void *a, const void *b)
{
    switch (t) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *x = *(const char *const *)a, *y = *(const char *const *)b;
        return strcmp(x ? x : "", y ? y : "") == 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *x = a, *y = b;
        return x->len == y->len && (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return msg_equal(*(const ProtobufCMessage *const *)a, *(const ProtobufCMessage *const *)b);
    case PROTOBUF_C_TYPE_FLOAT: return *(const float *)a == *(const float *)b;
    case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)a == *(const double *)b;
    default: return memcmp(a, b, elem_size(t)) == 0;
    }
}

static bool msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    if (a == b) return true;
    if (!a || !b || a->descriptor != b->descriptor) return false;
    const ProtobufCMessageDescriptor *d = a->descriptor;
    const char *pa = (const char *)a, *pb = (const char *)b;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        /* where a node was written is not what it means */
        if (strcmp(f->name, "location") == 0) continue;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t ca = *(const uint32_t *)(pa + f->quantifier_offset);
            uint32_t cb = *(const uint32_t *)(pb + f->quantifier_offset);
            if (ca != cb) return false;
            if (ca != f->id) continue;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t na = *(const size_t *)(pa + f->quantifier_offset);
            size_t nb = *(const size_t *)(pb + f->quantifier_offset);
            if (na != nb) return false;
            const char *va = *(const char *const *)(pa + f->offset);
            const char *vb = *(const char *const *)(pb + f->offset);
            size_t sz = elem_size(f->type);
            for (size_t k = 0; k < na; k++)
                if (!value_equal(f->type, va + k * sz, vb + k * sz)) return false;
        } else if (!value_equal(f->type, pa + f->offset, pb + f->offset)) {
            return false;
        }
    }
    return true;
}

bool sw_mp_equal(const PgQuery__Node *a, const PgQuery__Node *b)
{
    return msg_equal(a ? &a->base : NULL, b ? &b->base : NULL);
}

PgQuery__Node *sw_mp_copy(sw_mp *m, const PgQuery__Node *n)
{
    if (!n) return NULL;
    /* packing and unpacking again is protobuf-c's own deep copy */
    size_t len = protobuf_c_message_get_packed_size(&n->base);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        sw_mp_oom(m);
        return NULL;
    }
    protobuf_c_message_pack(&n->base, buf);
    ProtobufCMessage *c = protobuf_c_message_unpack(&pg_query__node__descriptor, NULL, len, buf);
    free(buf);
    if (!c) sw_mp_oom(m);
    return (PgQuery__Node *)c;
}

/* ------------------------------------------------------------ builders */

static void free_msg(void *msg)
{
    if (msg) protobuf_c_message_free_unpacked(msg, NULL);
}

PgQuery__Node *sw_mp_wrap(sw_mp *m, PgQuery__Node__NodeCase c, void *msg)
{
    if (!msg) return NULL;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&pg_query__node__descriptor, (unsigned)c);
    PgQuery__Node *n = f ? malloc(sizeof *n) : NULL;
    if (!n) {
        free_msg(msg);
        sw_mp_oom(m);
        return NULL;
    }
    pg_query__node__init(n);
    n->node_case = c;
    *(void **)((char *)n + f->offset) = msg;
    return n;
}

PgQuery__Node *sw_mp_string(sw_mp *m, const char *s)
{
    PgQuery__String *str = malloc(sizeof *str);
    if (!str) {
        sw_mp_oom(m);
        return NULL;
    }
    pg_query__string__init(str);
    str->sval = strdup(s);
    if (!str->sval) {
        free(str);
        sw_mp_oom(m);
        return NULL;
    }
    return sw_mp_wrap(m, PG_QUERY__NODE__NODE_STRING, str);
}

PgQuery__Node *sw_mp_int(sw_mp *m, int64_t v)
{
    PgQuery__AConst *c = malloc(sizeof *c);
    if (!c) {
        sw_mp_oom(m);
        return NULL;
    }
    pg_query__a__const__init(c);
    c->location = -1;
    if (v >= INT32_MIN && v <= INT32_MAX) {
        PgQuery__Integer *i = malloc(sizeof *i);
        if (!i) goto oom;
        pg_query__integer__init(i);
        i->ival = (int32_t)v;
        c->ival = i;
        c->val_case = PG_QUERY__A__CONST__VAL_IVAL;
    } else {
        /* beyond int4 the grammar makes a numeric literal, as here */
        PgQuery__Float *fl = malloc(sizeof *fl);
        if (!fl) goto oom;
        pg_query__float__init(fl);
        char txt[24];
        snprintf(txt, sizeof txt, "%lld", (long long)v);
        fl->fval = strdup(txt);
        if (!fl->fval) {
            free(fl);
            goto oom;
        }
        c->fval = fl;
        c->val_case = PG_QUERY__A__CONST__VAL_FVAL;
    }
    return sw_mp_wrap(m, PG_QUERY__NODE__NODE_A_CONST, c);
oom:
    free(c);
    sw_mp_oom(m);
    return NULL;
}

PgQuery__Node *sw_mp_param(sw_mp *m, int number)
{
    PgQuery__ParamRef *p = malloc(sizeof *p);
    if (!p) {
        sw_mp_oom(m);
        return NULL;
    }
    pg_query__param_ref__init(p);
    p->number = number;
    p->location = -1;
    return sw_mp_wrap(m, PG_QUERY__NODE__NODE_PARAM_REF, p);
}

int sw_mp_push(sw_mp *m, PgQuery__Node ***v, size_t *n, PgQuery__Node *x)
{
    if (!x) return -1;
    PgQuery__Node **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv) {
        free_msg(x);
        return sw_mp_oom(m);
    }
    nv[(*n)++] = x;
    *v = nv;
    return 0;
}

PgQuery__Node *sw_mp_cast(sw_mp *m, PgQuery__Node *arg, const char *type)
{
    if (!arg) return NULL;
    PgQuery__TypeCast *tc = malloc(sizeof *tc);
    PgQuery__TypeName *tn = malloc(sizeof *tn);
    if (!tc || !tn) {
        free(tc);
        free(tn);
        free_msg(arg);
        sw_mp_oom(m);
        return NULL;
    }
    pg_query__type_cast__init(tc);
    pg_query__type_name__init(tn);
    tn->typemod = -1;
    tn->location = -1;
    tc->type_name = tn;
    tc->arg = arg;
    tc->location = -1;
    if (sw_mp_push(m, &tn->names, &tn->n_names, sw_mp_string(m, "pg_catalog")) < 0 ||
        sw_mp_push(m, &tn->names, &tn->n_names, sw_mp_string(m, type)) < 0) {
        free_msg(tc);
        sw_mp_oom(m);
        return NULL;
    }
    return sw_mp_wrap(m, PG_QUERY__NODE__NODE_TYPE_CAST, tc);
}

PgQuery__Node *sw_mp_binop(sw_mp *m, const char *op, PgQuery__Node *l, PgQuery__Node *r)
{
    PgQuery__AExpr *e = l && r ? malloc(sizeof *e) : NULL;
    if (!e) {
        free_msg(l);
        free_msg(r);
        sw_mp_oom(m);
        return NULL;
    }
    pg_query__a__expr__init(e);
    e->kind = PG_QUERY__A__EXPR__KIND__AEXPR_OP;
    e->lexpr = l;
    e->rexpr = r;
    e->location = -1;
    if (sw_mp_push(m, &e->name, &e->n_name, sw_mp_string(m, op)) < 0) {
        free_msg(e);
        return NULL;
    }
    return sw_mp_wrap(m, PG_QUERY__NODE__NODE_A_EXPR, e);
}

int sw_mp_add_hidden(sw_mp *m, PgQuery__Node *val)
{
    if (!val) return -1;
    PgQuery__SelectStmt *s = m->s;
    if (s->n_target_list + 1 > SW_MP_MAX_COLS) {
        free_msg(val);
        return sw_mp_fail(m, "54011", "target lists can have at most %d entries", SW_MP_MAX_COLS);
    }
    PgQuery__ResTarget *rt = malloc(sizeof *rt);
    char name[32];
    snprintf(name, sizeof name, "__sw_h%d", m->n_hidden + 1);
    char *dup = rt ? strdup(name) : NULL;
    if (!dup) {
        free(rt);
        free_msg(val);
        return sw_mp_oom(m);
    }
    pg_query__res_target__init(rt);
    rt->name = dup;
    rt->val = val;
    rt->location = -1;
    if (sw_mp_push(m, &s->target_list, &s->n_target_list, sw_mp_wrap(m, PG_QUERY__NODE__NODE_RES_TARGET, rt)) < 0)
        return -1;
    m->n_hidden++;
    return (int)s->n_target_list - 1;
}

const PgQuery__Node *sw_mp_target(const sw_mp *m, int i)
{
    const PgQuery__Node *t = m->s->target_list[i];
    return t->node_case == PG_QUERY__NODE__NODE_RES_TARGET ? t->res_target->val : NULL;
}

static const char *figure_name(const PgQuery__Node *v)
{
    if (!v) return NULL;
    switch (v->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF: {
        const PgQuery__ColumnRef *c = v->column_ref;
        return c->n_fields ? sw_mp_str(c->fields[c->n_fields - 1]) : NULL;
    }
    case PG_QUERY__NODE__NODE_FUNC_CALL: return sw_mp_func_name(v->func_call);
    case PG_QUERY__NODE__NODE_TYPE_CAST: {
        const char *s = figure_name(v->type_cast->arg);
        const PgQuery__TypeName *tn = v->type_cast->type_name;
        if (!s && tn && tn->n_names) s = sw_mp_str(tn->names[tn->n_names - 1]);
        return s;
    }
    default: return NULL;
    }
}

const char *sw_mp_target_name(const PgQuery__ResTarget *rt)
{
    if (rt->name && *rt->name) return rt->name;
    return figure_name(rt->val);
}

/* ------------------------------------------------------------ aggregates */

const char *sw_mp_func_name(const PgQuery__FuncCall *f)
{
    return f->n_funcname ? sw_mp_str(f->funcname[f->n_funcname - 1]) : NULL;
}

int sw_mp_agg_kind(const PgQuery__FuncCall *f)
{
    static const struct {
        const char *name;
        int kind;
    } aggs[] = {
        {"count", SW_AGG_COUNT},         {"sum", SW_AGG_SUM},
        {"min", SW_AGG_MIN},             {"max", SW_AGG_MAX},
        {"avg", SW_AGG_AVG},             {"bool_and", SW_AGG_BOOL_AND},
        {"every", SW_AGG_BOOL_AND},      {"bool_or", SW_AGG_BOOL_OR},
        {"stddev", SW_AGG_STDDEV_SAMP},  {"stddev_samp", SW_AGG_STDDEV_SAMP},
        {"stddev_pop", SW_AGG_STDDEV_POP}, {"variance", SW_AGG_VAR_SAMP},
        {"var_samp", SW_AGG_VAR_SAMP},   {"var_pop", SW_AGG_VAR_POP},
    };
    if (f->over || f->agg_within_group) return 0;
    const char *name = sw_mp_func_name(f);
    if (!name) return 0;
    for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++)
        if (strcmp(name, aggs[i].name) == 0) return aggs[i].kind;
    return 0;
}

/* Built-in aggregates whose per-shard results do not combine. */
static bool other_agg_name(const char *s)
{
    static const char *const names[] = {
        "string_agg", "array_agg", "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg",
        "xmlagg", "percentile_cont", "percentile_disc", "mode", "corr", "covar_pop", "covar_samp",
        "bit_and", "bit_or", "bit_xor", "range_agg", "range_intersect_agg", "any_value", NULL};
    if (strncmp(s, "regr_", 5) == 0) return true;
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) return true;
    return false;
}

bool sw_mp_is_agg(const PgQuery__FuncCall *f)
{
    if (f->over) return false;
    if (f->agg_star || f->agg_distinct || f->agg_filter || f->n_agg_order || f->agg_within_group) return true;
    const char *name = sw_mp_func_name(f);
    return name && (sw_mp_agg_kind(f) || other_agg_name(name));
}

static int find_agg_child(void *ctx, const ProtobufCMessage *c)
{
    /* a subquery's aggregates belong to the subquery */
    if (c->descriptor == &pg_query__select_stmt__descriptor) return 0;
    if (c->descriptor == &pg_query__func_call__descriptor && sw_mp_is_agg((const PgQuery__FuncCall *)c)) {
        *(const PgQuery__FuncCall **)ctx = (const PgQuery__FuncCall *)c;
        return 1;
    }
    return sw_node_each_child(c, find_agg_child, ctx);
}

const PgQuery__FuncCall *sw_mp_find_agg(const PgQuery__Node *n)
{
    const PgQuery__FuncCall *f = NULL;
    if (n) find_agg_child(&f, &n->base);
    return f;
}

bool sw_mp_list_has_agg(PgQuery__Node *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sw_mp_find_agg(v[i])) return true;
    return false;
}

static int sublink_param_child(void *ctx, const ProtobufCMessage *c)
{
    if (c->descriptor == &pg_query__sub_link__descriptor || c->descriptor == &pg_query__param_ref__descriptor ||
        c->descriptor == &pg_query__select_stmt__descriptor)
        return 1;
    return sw_node_each_child(c, sublink_param_child, ctx);
}

bool sw_mp_has_sublink_or_param(const PgQuery__Node *n)
{
    return n && sublink_param_child(NULL, &n->base);
}

static int uses_column_child(void *ctx, const ProtobufCMessage *c)
{
    if (c->descriptor == &pg_query__select_stmt__descriptor) return 0;
    if (c->descriptor == &pg_query__column_ref__descriptor) {
        const PgQuery__ColumnRef *cr = (const PgQuery__ColumnRef *)c;
        const char *last = cr->n_fields ? sw_mp_str(cr->fields[cr->n_fields - 1]) : NULL;
        return last && strcmp(last, (const char *)ctx) == 0;
    }
    return sw_node_each_child(c, uses_column_child, ctx);
}

bool sw_mp_uses_column(const PgQuery__Node *n, const char *name)
{
    return n && uses_column_child((void *)name, &n->base);
}
