/*
 * map.h - an open-addressing hash map from 64-bit keys to pointers.
 *
 * Used for the prepared-statement registry, per-client statement names,
 * per-server statement sets and the cancel-key table.  Keys are already
 * well-mixed hashes (XXH3) or random numbers, so no further mixing is done.
 * Key 0 is reserved as "empty"; callers map a 0 key to 1.  Linear probing
 * with backward-shift deletion: no tombstones, lookups stay short.
 */
#ifndef SW_MAP_H
#define SW_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sw_map_slot {
    uint64_t key;
    void *val;
} sw_map_slot;

typedef struct sw_map {
    sw_map_slot *slots;
    uint32_t cap;     /* power of two, or 0 before the first insert */
    uint32_t count;
} sw_map;

static inline uint64_t sw_map_key(uint64_t k) { return k ? k : 1; }

void sw_map_init(sw_map *m);
void sw_map_free(sw_map *m);
/* The value stored under key, or NULL. */
void *sw_map_get(const sw_map *m, uint64_t key);
/* Insert or replace.  0, or -ENOMEM (map unchanged). */
int sw_map_put(sw_map *m, uint64_t key, void *val);
/* Remove key; returns the value that was stored, or NULL. */
void *sw_map_del(sw_map *m, uint64_t key);
/* Iterate: *pos starts at 0; returns the next occupied slot or NULL. */
sw_map_slot *sw_map_next(const sw_map *m, uint32_t *pos);

#endif
