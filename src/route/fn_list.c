/*
 * fn_list.c - list functions: every configured value with its target in one
 * array sorted by value, found by binary search; unlisted values go to the
 * default target.  Lists are short enough that a sorted array beats a hash
 * table and keeps the comparison rules in one place (sw_value_cmp).
 */
#include <stdlib.h>

#include "shardfn_int.h"

static int item_order(const void *pa, const void *pb)
{
    const fn_item *a = pa, *b = pb;
    return sw_value_cmp(&a->v, &b->v);
}

int fn_list_build(sw_shardfn *fn, char *err, size_t errsz)
{
    const sw_conf_function *c = fn->conf;
    int n = 0;
    for (int i = 0; i < c->n_lists; i++) n += c->lists[i].n_values;
    fn->items = calloc((size_t)(n ? n : 1), sizeof *fn->items);
    if (!fn->items) return fn_err(fn, err, errsz, "out of memory");
    for (int i = 0; i < c->n_lists; i++) {
        const sw_conf_list *l = &c->lists[i];
        if (l->target < 0 || l->target >= fn->n_targets)
            return fn_err(fn, err, errsz, "list %d: target %d out of range", i, l->target);
        for (int k = 0; k < l->n_values; k++) {
            fn_item *it = &fn->items[fn->n_items];
            if (fn_value_parse(fn, l->values[k], &it->v))
                return fn_err(fn, err, errsz, "list %d: '%s' is not a valid value", i,
                              l->values[k]);
            it->target = l->target;
            fn->n_items++;
        }
    }
    qsort(fn->items, (size_t)fn->n_items, sizeof *fn->items, item_order);
    for (int i = 1; i < fn->n_items; i++) {
        if (sw_value_cmp(&fn->items[i - 1].v, &fn->items[i].v) == 0) {
            char buf[96];
            sw_value_format(&fn->items[i].v, buf, sizeof buf);
            return fn_err(fn, err, errsz, "value %s is listed twice", buf);
        }
    }
    return 0;
}

void fn_list_free(sw_shardfn *fn)
{
    for (int i = 0; i < fn->n_items; i++) fn_value_release(&fn->items[i].v);
    free(fn->items);
    fn->items = NULL;
    fn->n_items = 0;
}

int fn_list_dispatch(const sw_shardfn *fn, const sw_value *v, char *why, size_t whysz)
{
    fn_item key = {.v = *v};
    const fn_item *it =
        bsearch(&key, fn->items, (size_t)fn->n_items, sizeof *fn->items, item_order);
    if (it) {
        if (why && whysz) {
            char buf[96];
            sw_value_format(v, buf, sizeof buf);
            fn_why(why, whysz, "list value %s", buf);
        }
        return it->target;
    }
    if (fn->default_target >= 0) {
        fn_why(why, whysz, "list default");
        return fn->default_target;
    }
    fn_why(why, whysz, "not listed");
    return SW_SHARD_NOMATCH;
}
