/*
 * map.c - open-addressing hash map (see sw/map.h).  Load factor is kept
 * under 3/4; deletion shifts the following cluster back so that no
 * tombstones accumulate under constant insert/delete churn (statement names
 * and cancel keys come and go with every client).
 */
#include "sw/map.h"

#include <errno.h>
#include <stdlib.h>

void sw_map_init(sw_map *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void sw_map_free(sw_map *m)
{
    free(m->slots);
    sw_map_init(m);
}

void *sw_map_get(const sw_map *m, uint64_t key)
{
    if (m->cap == 0) return NULL;
    key = sw_map_key(key);
    uint32_t mask = m->cap - 1;
    for (uint32_t i = (uint32_t)key & mask;; i = (i + 1) & mask) {
        if (m->slots[i].key == key) return m->slots[i].val;
        if (m->slots[i].key == 0) return NULL;
    }
}

static int map_grow(sw_map *m)
{
    uint32_t ncap = m->cap ? m->cap * 2 : 16;
    sw_map_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -ENOMEM;
    for (uint32_t j = 0; j < m->cap; j++) {
        if (!m->slots[j].key) continue;
        uint32_t i = (uint32_t)m->slots[j].key & (ncap - 1);
        while (ns[i].key) i = (i + 1) & (ncap - 1);
        ns[i] = m->slots[j];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

int sw_map_put(sw_map *m, uint64_t key, void *val)
{
    key = sw_map_key(key);
    if ((m->count + 1) * 4 > m->cap * 3) {
        int rc = map_grow(m);
        if (rc) return rc;
    }
    uint32_t mask = m->cap - 1;
    uint32_t i = (uint32_t)key & mask;
    while (m->slots[i].key && m->slots[i].key != key) i = (i + 1) & mask;
    if (!m->slots[i].key) m->count++;
    m->slots[i].key = key;
    m->slots[i].val = val;
    return 0;
}

void *sw_map_del(sw_map *m, uint64_t key)
{
    if (m->cap == 0) return NULL;
    key = sw_map_key(key);
    uint32_t mask = m->cap - 1;
    uint32_t i = (uint32_t)key & mask;
    while (m->slots[i].key != key) {
        if (!m->slots[i].key) return NULL;
        i = (i + 1) & mask;
    }
    void *val = m->slots[i].val;
    m->count--;
    /* Backward-shift: move later members of the cluster into the hole when
     * their home slot is at or before it. */
    uint32_t hole = i;
    for (uint32_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        uint32_t home = (uint32_t)m->slots[j].key & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].key = 0;
    m->slots[hole].val = NULL;
    return val;
}

sw_map_slot *sw_map_next(const sw_map *m, uint32_t *pos)
{
    while (*pos < m->cap) {
        sw_map_slot *s = &m->slots[(*pos)++];
        if (s->key) return s;
    }
    return NULL;
}
