/*
 * paramset.c - sorted name -> statement sets for session settings (see
 * sw/session.h).  Sets are tiny (a handful of names), so a sorted array with
 * linear scans beats any hash; the fingerprint makes the common "client and
 * server already agree" check a single compare.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "sw/session.h"

void sw_paramset_init(sw_paramset *p)
{
    p->items = NULL;
    p->n = p->cap = 0;
    p->fp = 0;
}

void sw_paramset_free(sw_paramset *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->items[i].name);
        free(p->items[i].sql);
    }
    free(p->items);
    sw_paramset_init(p);
}

static void paramset_fingerprint(sw_paramset *p)
{
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    for (int i = 0; i < p->n; i++) {
        XXH3_64bits_update(&st, p->items[i].name, strlen(p->items[i].name) + 1);
        XXH3_64bits_update(&st, p->items[i].sql, strlen(p->items[i].sql) + 1);
    }
    p->fp = p->n ? XXH3_64bits_digest(&st) : 0;
}

int sw_paramset_copy(sw_paramset *dst, const sw_paramset *src)
{
    sw_paramset_free(dst);
    for (int i = 0; i < src->n; i++)
        if (sw_paramset_set(dst, src->items[i].name, src->items[i].sql)) return -ENOMEM;
    return 0;
}

const char *sw_paramset_get(const sw_paramset *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->items[i].name, name) == 0) return p->items[i].sql;
    return NULL;
}

int sw_paramset_set(sw_paramset *p, const char *name, const char *sql)
{
    int i = 0;
    while (i < p->n && strcmp(p->items[i].name, name) < 0) i++;
    bool found = i < p->n && strcmp(p->items[i].name, name) == 0;
    if (!sql) {
        if (!found) return 0;
        free(p->items[i].name);
        free(p->items[i].sql);
        memmove(&p->items[i], &p->items[i + 1], (size_t)(p->n - i - 1) * sizeof *p->items);
        p->n--;
        paramset_fingerprint(p);
        return 0;
    }
    char *nsql = strdup(sql);
    if (!nsql) return -ENOMEM;
    if (found) {
        free(p->items[i].sql);
        p->items[i].sql = nsql;
        paramset_fingerprint(p);
        return 0;
    }
    if (p->n == p->cap) {
        int ncap = p->cap ? p->cap * 2 : 4;
        sw_param *ni = realloc(p->items, (size_t)ncap * sizeof *ni);
        if (!ni) { free(nsql); return -ENOMEM; }
        p->items = ni;
        p->cap = ncap;
    }
    char *nname = strdup(name);
    if (!nname) { free(nsql); return -ENOMEM; }
    memmove(&p->items[i + 1], &p->items[i], (size_t)(p->n - i) * sizeof *p->items);
    p->items[i].name = nname;
    p->items[i].sql = nsql;
    p->n++;
    paramset_fingerprint(p);
    return 0;
}

size_t sw_param_name_sql(char *out, size_t outsz, const char *name)
{
    /* every dotted part double-quoted: a part may be a reserved word
     * ("some.var"), and the name is already lower-case */
    size_t o = 0;
    if (outsz == 0) return 0;
    bool open = false;
    for (const char *p = name;; p++) {
        if (!open && o + 1 < outsz) { out[o++] = '"'; open = true; }
        if (*p == '.' || *p == '\0') {
            if (o + 1 < outsz) out[o++] = '"';
            open = false;
            if (*p == '\0') break;
            if (o + 1 < outsz) out[o++] = '.';
            continue;
        }
        if (*p == '"' && o + 1 < outsz) out[o++] = '"';
        if (o + 1 < outsz) out[o++] = *p;
    }
    out[o] = '\0';
    return o;
}

size_t sw_param_set_sql(char *out, size_t outsz, const char *name, const char *value)
{
    char qn[300];
    size_t need = 4 + sw_param_name_sql(qn, sizeof qn, name) + 5;  /* SET name TO ' */
    for (const char *v = value; *v; v++) need += *v == '\'' ? 2 : 1;
    need += 1;                                                     /* ' */
    if (need + 1 > outsz) {
        if (outsz) out[0] = '\0';
        return need;
    }
    size_t o = (size_t)snprintf(out, outsz, "SET %s TO '", qn);
    for (const char *v = value; *v; v++) {
        if (*v == '\'') out[o++] = '\'';
        out[o++] = *v;
    }
    out[o++] = '\'';
    out[o] = '\0';
    return o;
}

int sw_paramset_diff_sql(const sw_paramset *from, const sw_paramset *to, sw_wbuf *w)
{
    int count = 0;
    /* Both sorted: a merge walk. */
    int i = 0, j = 0;
    while (i < from->n || j < to->n) {
        int cmp = i >= from->n ? 1 : j >= to->n ? -1 : strcmp(from->items[i].name, to->items[j].name);
        if (cmp < 0) {
            char qn[300];
            sw_wbuf_put(w, "RESET ", 6);
            sw_wbuf_put(w, qn, sw_param_name_sql(qn, sizeof qn, from->items[i].name));
            sw_wbuf_put(w, ";", 1);
            i++;
            count++;
        } else if (cmp > 0 || strcmp(from->items[i].sql, to->items[j].sql) != 0) {
            sw_wbuf_put(w, to->items[j].sql, strlen(to->items[j].sql));
            sw_wbuf_put(w, ";", 1);
            if (cmp == 0) i++;
            j++;
            count++;
        } else {
            i++;
            j++;
        }
    }
    return count;
}
