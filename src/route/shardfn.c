/*
 * shardfn.c - building and dispatching sharding functions (see sw/shard.h):
 * the part common to every kind, i.e. the target table, the accessors and
 * the dispatch by kind.  Each kind's table is built in its fn_<kind>.c file.
 *
 * Target names are borrowed from the configuration the function was built
 * from: a built function never outlives its sw_conf.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shardfn_int.h"

int fn_err(const sw_shardfn *fn, char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || errsz == 0) return -1;
    int n = snprintf(err, errsz, "function %s: ", fn->conf->name ? fn->conf->name : "?");
    if (n < 0 || (size_t)n >= errsz) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

void fn_why(char *why, size_t whysz, const char *fmt, ...)
{
    if (!why || whysz == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whysz, fmt, ap);
    va_end(ap);
}

int fn_value_dup(const sw_value *v, sw_value *out)
{
    *out = *v;
    if (v->type != SW_KEY_TEXT && v->type != SW_KEY_NUMERIC) return 0;
    char *s = malloc(v->len ? v->len : 1);
    if (!s) return -ENOMEM;
    if (v->len) memcpy(s, v->s, v->len);
    out->s = s;
    return 0;
}

void fn_value_release(sw_value *v)
{
    if (v->type == SW_KEY_TEXT || v->type == SW_KEY_NUMERIC) free((void *)v->s);
    v->s = NULL;
    v->len = 0;
}

int fn_value_parse(const sw_shardfn *fn, const char *txt, sw_value *out)
{
    char buf[SW_VALUE_BUF];
    sw_value v;
    if (sw_value_from_text(fn->type, txt, strlen(txt), &v, buf, sizeof buf)) return -1;
    return fn_value_dup(&v, out);
}

static const char *type_name(sw_key_type t)
{
    static const char *names[] = {"integer", "text", "numeric", "date", "timestamp"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

/* Target names and nodes: the function's own, the source's for embedded,
 * and every node for a directory whose configuration lists none. */
static int build_targets(sw_shardfn *fn, const sw_conf *conf, sw_shardfn *const *all, char *err,
                         size_t errsz)
{
    const sw_conf_function *c = fn->conf;
    const sw_shardfn *src = NULL;
    int n = c->n_targets;
    if (c->kind == SW_FN_EMBEDDED) {
        if (c->source < 0 || c->source >= conf->n_functions || !all || !all[c->source])
            return fn_err(fn, err, errsz, "source function %d is not built", c->source);
        src = all[c->source];
        n = src->n_targets;
    } else if (c->kind == SW_FN_DIRECTORY && n == 0) {
        n = conf->n_nodes;
    }
    if (n < 1 || n > SW_MAX_NODES)
        return fn_err(fn, err, errsz, "%d targets (1 to %d allowed)", n, SW_MAX_NODES);
    fn->n_targets = n;
    fn->tname = calloc((size_t)n, sizeof *fn->tname);
    fn->tnode = calloc((size_t)n, sizeof *fn->tnode);
    if (!fn->tname || !fn->tnode) return fn_err(fn, err, errsz, "out of memory");
    for (int t = 0; t < n; t++) {
        if (src) {
            fn->tname[t] = src->tname[t];
            fn->tnode[t] = src->tnode[t];
        } else if (c->n_targets == 0) {
            fn->tname[t] = conf->nodes[t].name;
            fn->tnode[t] = t;
        } else {
            fn->tname[t] = c->targets[t];
            if (!fn->tname[t]) return fn_err(fn, err, errsz, "target %d has no name", t);
            if (c->target_node) {
                fn->tnode[t] = c->target_node[t];
            } else {
                /* Hand-built configurations may leave the node indexes out. */
                fn->tnode[t] = -1;
                for (int k = 0; !c->table_targets && k < conf->n_nodes; k++)
                    if (conf->nodes[k].name && strcmp(conf->nodes[k].name, fn->tname[t]) == 0)
                        fn->tnode[t] = k;
            }
            if (!c->table_targets && (fn->tnode[t] < 0 || fn->tnode[t] >= conf->n_nodes))
                return fn_err(fn, err, errsz, "target %s is not a node", fn->tname[t]);
        }
    }
    return 0;
}

sw_shardfn *sw_shardfn_update(const sw_conf *conf, int index, sw_shardfn *const *all, char *err,
                              size_t errsz)
{
    if (err && errsz) err[0] = '\0';
    if (!conf || index < 0 || index >= conf->n_functions) {
        if (err && errsz) snprintf(err, errsz, "no function %d", index);
        return NULL;
    }
    sw_shardfn *fn = calloc(1, sizeof *fn);
    if (!fn) {
        if (err && errsz) snprintf(err, errsz, "out of memory");
        return NULL;
    }
    const sw_conf_function *c = &conf->functions[index];
    fn->conf = c;
    fn->kind = c->kind;
    fn->type = c->kind == SW_FN_EMBEDDED ? SW_KEY_INT : c->type;
    fn->default_target = -1;
    int rc;
    if ((unsigned)fn->type > SW_KEY_TIMESTAMP) {
        rc = fn_err(fn, err, errsz, "unknown key type %d", (int)fn->type);
    } else {
        rc = build_targets(fn, conf, all, err, errsz);
    }
    if (rc == 0 && (c->kind == SW_FN_RANGE || c->kind == SW_FN_LIST)) {
        if (c->default_target < -1 || c->default_target >= fn->n_targets)
            rc = fn_err(fn, err, errsz, "default target %d out of range", c->default_target);
        fn->default_target = c->default_target;
    }
    if (rc == 0) {
        switch (c->kind) {
        case SW_FN_HASH: rc = fn_hash_build(fn, err, errsz); break;
        case SW_FN_RANGE: rc = fn_range_build(fn, err, errsz); break;
        case SW_FN_LIST: rc = fn_list_build(fn, err, errsz); break;
        case SW_FN_RING: rc = fn_ring_build(fn, err, errsz); break;
        case SW_FN_DIRECTORY: rc = fn_dir_build(fn, err, errsz); break;
        case SW_FN_EMBEDDED: rc = fn_embedded_build(fn, all, index, err, errsz); break;
        default: rc = fn_err(fn, err, errsz, "unknown kind %d", (int)c->kind); break;
        }
    }
    if (rc) {
        sw_shardfn_free(fn);
        return NULL;
    }
    return fn;
}

void sw_shardfn_free(sw_shardfn *fn)
{
    if (!fn) return;
    fn_range_free(fn);
    fn_list_free(fn);
    fn_dir_free(fn);
    free(fn->points);
    free(fn->bucket_target);
    free(fn->tname);
    free(fn->tnode);
    free(fn);
}

const sw_conf_function *sw_shardfn_conf(const sw_shardfn *fn) { return fn->conf; }

int sw_shardfn_n_targets(const sw_shardfn *fn) { return fn->n_targets; }

int sw_shardfn_target_node(const sw_shardfn *fn, int t)
{
    return t >= 0 && t < fn->n_targets ? fn->tnode[t] : -1;
}

const char *sw_shardfn_target_name(const sw_shardfn *fn, int t)
{
    return t >= 0 && t < fn->n_targets ? fn->tname[t] : NULL;
}

int sw_shardfn_dispatch(const sw_shardfn *fn, const sw_value *v, uint64_t now_ms, char *why,
                        size_t whysz)
{
    if (v->type != fn->type) {
        fn_why(why, whysz, "key is not of type %s", type_name(fn->type));
        return SW_SHARD_NOMATCH;
    }
    switch (fn->kind) {
    case SW_FN_HASH: return fn_hash_dispatch(fn, v, why, whysz);
    case SW_FN_RANGE: return fn_range_dispatch(fn, v, why, whysz);
    case SW_FN_LIST: return fn_list_dispatch(fn, v, why, whysz);
    case SW_FN_RING: return fn_ring_dispatch(fn, v, why, whysz);
    case SW_FN_DIRECTORY: return fn_dir_dispatch(fn, v, now_ms, why, whysz);
    case SW_FN_EMBEDDED: return fn_embedded_dispatch(fn, v, why, whysz);
    }
    return SW_SHARD_NOMATCH;
}

uint64_t sw_shardfn_dispatch_range(const sw_shardfn *fn, const sw_value *lo, bool lo_incl,
                                   const sw_value *hi, bool hi_incl)
{
    if (fn->kind == SW_FN_RANGE) return fn_range_mask(fn, lo, lo_incl, hi, hi_incl);
    return fn->n_targets >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << fn->n_targets) - 1;
}

uint32_t sw_shardfn_bucket(const sw_shardfn *fn, const sw_value *v)
{
    if (fn->kind == SW_FN_HASH) return (uint32_t)(sw_value_hash(v) & (fn->buckets - 1));
    if (fn->kind == SW_FN_EMBEDDED) return fn_embedded_slot(fn, v->i);
    return 0;
}
