/*
 * merge_spec.c - freeing a merge spec (the planner in src/route builds it,
 * the merger reads it; both link this).
 */
#include <stdlib.h>

#include "sw/merge.h"

void sw_merge_spec_free(sw_merge_spec *s)
{
    if (!s) return;
    free(s->cols);
    for (int i = 0; i < s->n_having; i++) free(s->having[i].text);
    free(s->having);
    free(s->distinct_on);
    free(s->sort);
    free(s);
}
