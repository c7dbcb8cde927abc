/*
 * planbuf.c - a plan's storage: growing arrays of statements' table
 * occurrences, constraint nodes and INSERT rows, and a string pool, all
 * referenced by index so the arrays may move while a plan is built.
 */
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

static void *grow(sw_plan *p, void *v, int *cap, int n, size_t elem)
{
    if (n < *cap) return v;
    int ncap = *cap ? *cap * 2 : 8;
    void *nv = realloc(v, (size_t)ncap * elem);
    if (!nv) {
        p->oom = true;
        return NULL;
    }
    *cap = ncap;
    return nv;
}

int sw_plan_str(sw_plan *p, const char *s, size_t len)
{
    if (p->n_strs + len + 1 > p->cap_strs) {
        size_t ncap = p->cap_strs ? p->cap_strs * 2 : 256;
        while (ncap < p->n_strs + len + 1) ncap *= 2;
        char *ns = realloc(p->strs, ncap);
        if (!ns) {
            p->oom = true;
            return -1;
        }
        p->strs = ns;
        p->cap_strs = ncap;
    }
    int off = (int)p->n_strs;
    memcpy(p->strs + off, s, len);
    p->strs[off + len] = '\0';
    p->n_strs += len + 1;
    return off;
}

int sw_plan_cons(sw_plan *p, const sw_cons *c)
{
    sw_cons *v = grow(p, p->cons, &p->cap_cons, p->n_cons, sizeof *v);
    if (!v) return -1;
    p->cons = v;
    v[p->n_cons] = *c;
    return p->n_cons++;
}

int sw_plan_occ(sw_plan *p, const sw_occ *o)
{
    sw_occ *v = grow(p, p->occs, &p->cap_occs, p->n_occs, sizeof *v);
    if (!v) return -1;
    p->occs = v;
    v[p->n_occs] = *o;
    return p->n_occs++;
}

int sw_plan_row(sw_plan *p, const sw_prow *row)
{
    sw_prow *v = grow(p, p->rows, &p->cap_rows, p->n_rows, sizeof *v);
    if (!v) return -1;
    p->rows = v;
    v[p->n_rows] = *row;
    return p->n_rows++;
}

int sw_plan_idcall(sw_plan *p, const sw_idcall *c)
{
    sw_idcall *v = grow(p, p->idcalls, &p->cap_idcalls, p->n_idcalls, sizeof *v);
    if (!v) return -1;
    p->idcalls = v;
    v[p->n_idcalls] = *c;
    return p->n_idcalls++;
}

void sw_plan_destroy(sw_plan *p)
{
    if (!p) return;
    free(p->stmts);
    free(p->occs);
    free(p->cons);
    free(p->rows);
    free(p->idcalls);
    free(p->strs);
    free(p->text);
    free(p->items);
    free(p);
}
