/*
 * test_map.c - unit tests for the open-addressing uint64 -> pointer map
 * (sw/map.h, src/core/map.c).  Covers put/get/replace/del, the key 0 -> 1
 * aliasing, growth through many resizes (100k keys, load factor checked at
 * every resize), and the backward-shift deletion: clusters are built on
 * purpose from keys that share a home slot (k * cap + h, and keys that differ
 * only above bit 31), including clusters that wrap around the end of the
 * table, and every deletion order of them is tried while checking that every
 * remaining key stays reachable.  Iteration with sw_map_next must visit each
 * key exactly once.  Finally a 200k-operation randomized differential test
 * (fixed seed) compares the map with a plain reference array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sw/map.h"

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint32_t n) { return (uint32_t)(rng() % n); }

static void *V(uint64_t v) { return (void *)(uintptr_t)v; }

static void shuffle_u64(uint64_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below((uint32_t)i);
        uint64_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* Structural invariants: count matches the occupied slots, every occupied
 * slot is reachable from its home slot without crossing an empty slot, and
 * the load factor stays under 3/4. */
static void check_invariants(const sw_map *m)
{
    if (m->cap == 0) {
        assert_int_equal(m->count, 0);
        return;
    }
    assert_int_equal(m->cap & (m->cap - 1), 0);
    assert_true((uint64_t)m->count * 4 <= (uint64_t)m->cap * 3);
    uint32_t mask = m->cap - 1, used = 0;
    for (uint32_t j = 0; j < m->cap; j++) {
        if (!m->slots[j].key) {
            assert_null(m->slots[j].val);
            continue;
        }
        used++;
        for (uint32_t i = (uint32_t)m->slots[j].key & mask; i != j; i = (i + 1) & mask)
            assert_int_not_equal(m->slots[i].key, 0);
    }
    assert_int_equal(used, m->count);
}

/* ------------------------------------------------------------ basics */

static void test_empty(void **state)
{
    (void)state;
    sw_map m;
    sw_map_init(&m);
    assert_null(sw_map_get(&m, 42));
    assert_null(sw_map_get(&m, 0));
    assert_null(sw_map_del(&m, 42));
    uint32_t pos = 0;
    assert_null(sw_map_next(&m, &pos));
    assert_int_equal(m.count, 0);
    sw_map_free(&m);
    sw_map_free(&m); /* idempotent */
    assert_null(m.slots);
    assert_int_equal(m.cap, 0);
}

static void test_put_get_replace_del(void **state)
{
    (void)state;
    sw_map m;
    sw_map_init(&m);
    assert_int_equal(sw_map_put(&m, 10, V(100)), 0);
    assert_int_equal(sw_map_put(&m, 20, V(200)), 0);
    assert_int_equal(sw_map_put(&m, 0xFFFFFFFFFFFFFFFFull, V(300)), 0);
    assert_int_equal(m.count, 3);
    assert_ptr_equal(sw_map_get(&m, 10), V(100));
    assert_ptr_equal(sw_map_get(&m, 20), V(200));
    assert_ptr_equal(sw_map_get(&m, 0xFFFFFFFFFFFFFFFFull), V(300));
    assert_null(sw_map_get(&m, 30));

    /* Replace keeps the count. */
    assert_int_equal(sw_map_put(&m, 20, V(201)), 0);
    assert_int_equal(m.count, 3);
    assert_ptr_equal(sw_map_get(&m, 20), V(201));

    /* Delete returns the stored value; a second delete finds nothing. */
    assert_ptr_equal(sw_map_del(&m, 20), V(201));
    assert_int_equal(m.count, 2);
    assert_null(sw_map_get(&m, 20));
    assert_null(sw_map_del(&m, 20));
    assert_null(sw_map_del(&m, 12345));
    assert_int_equal(m.count, 2);
    assert_ptr_equal(sw_map_get(&m, 10), V(100));

    /* Re-insert after delete. */
    assert_int_equal(sw_map_put(&m, 20, V(202)), 0);
    assert_ptr_equal(sw_map_get(&m, 20), V(202));
    assert_int_equal(m.count, 3);

    /* A NULL value is storable (get cannot tell it from absent, but the
     * slot is occupied). */
    assert_int_equal(sw_map_put(&m, 77, NULL), 0);
    assert_int_equal(m.count, 4);
    check_invariants(&m);
    sw_map_free(&m);
    assert_int_equal(m.count, 0);
    assert_null(sw_map_get(&m, 10));
}

static void test_key_zero(void **state)
{
    (void)state;
    assert_int_equal(sw_map_key(0), 1);
    assert_int_equal(sw_map_key(1), 1);
    assert_int_equal(sw_map_key(5), 5);

    sw_map m;
    sw_map_init(&m);
    assert_int_equal(sw_map_put(&m, 0, V(7)), 0);
    assert_int_equal(m.count, 1);
    assert_ptr_equal(sw_map_get(&m, 0), V(7));
    assert_ptr_equal(sw_map_get(&m, 1), V(7)); /* 0 is stored as 1 */
    assert_int_equal(sw_map_put(&m, 1, V(8)), 0); /* same slot */
    assert_int_equal(m.count, 1);
    assert_ptr_equal(sw_map_get(&m, 0), V(8));
    uint32_t pos = 0;
    sw_map_slot *s = sw_map_next(&m, &pos);
    assert_non_null(s);
    assert_int_equal(s->key, 1);
    assert_null(sw_map_next(&m, &pos));
    assert_ptr_equal(sw_map_del(&m, 0), V(8));
    assert_int_equal(m.count, 0);
    assert_null(sw_map_get(&m, 1));
    assert_null(sw_map_get(&m, 0));
    /* Key 0 among colliding neighbours (home slot 1). */
    assert_int_equal(sw_map_put(&m, 17, V(17)), 0);
    assert_int_equal(sw_map_put(&m, 0, V(1)), 0);
    assert_int_equal(sw_map_put(&m, 33, V(33)), 0);
    assert_int_equal(m.cap, 16);
    assert_ptr_equal(sw_map_del(&m, 17), V(17));
    assert_ptr_equal(sw_map_get(&m, 0), V(1));
    assert_ptr_equal(sw_map_get(&m, 33), V(33));
    check_invariants(&m);
    sw_map_free(&m);
}

/* ------------------------------------------------------------ growth */

static void test_growth(void **state)
{
    (void)state;
    enum { N = 100000 };
    sw_map m;
    sw_map_init(&m);
    uint64_t *keys = malloc(N * sizeof *keys);
    assert_non_null(keys);
    rng_state = 12345;
    for (uint32_t i = 0; i < N; i++) {
        /* Mixed: sequential, random, and groups of ~10 keys that differ only
         * above bit 31 (one home slot per group at every capacity). */
        if (i % 3 == 0) keys[i] = (uint64_t)i + 2;
        else if (i % 3 == 1) keys[i] = rng() | 0x8000000000000000ull;
        else keys[i] = ((uint64_t)(i % 32 + 1) << 32) | (uint32_t)((i / 32 + 1) * 2654435761u);
    }
    uint32_t last_cap = 0, resizes = 0;
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(sw_map_put(&m, keys[i], V(i + 1)), 0);
        assert_int_equal(m.count, i + 1);
        assert_true((uint64_t)m.count * 4 <= (uint64_t)m.cap * 3); /* load factor < 3/4 */
        if (m.cap != last_cap) {
            /* Right after a resize: everything inserted so far is found. */
            assert_true(m.cap > last_cap);
            resizes++;
            last_cap = m.cap;
            check_invariants(&m);
            for (uint32_t j = 0; j <= i; j++) assert_ptr_equal(sw_map_get(&m, keys[j]), V(j + 1));
        }
    }
    assert_true(resizes >= 10);
    assert_true((uint64_t)m.count * 4 <= (uint64_t)m.cap * 3);
    check_invariants(&m);
    for (uint32_t j = 0; j < N; j++) assert_ptr_equal(sw_map_get(&m, keys[j]), V(j + 1));
    assert_null(sw_map_get(&m, 0x7FFFFFFFFFFFFFFFull));

    /* Delete half in random order, the rest must remain. */
    uint32_t *order = malloc(N * sizeof *order);
    assert_non_null(order);
    for (uint32_t i = 0; i < N; i++) order[i] = i;
    for (uint32_t i = N; i > 1; i--) {
        uint32_t j = rng_below(i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    char *gone = calloc(N, 1);
    assert_non_null(gone);
    for (uint32_t k = 0; k < N / 2; k++) {
        uint32_t i = order[k];
        assert_ptr_equal(sw_map_del(&m, keys[i]), V(i + 1));
        gone[i] = 1;
    }
    assert_int_equal(m.count, N - N / 2);
    check_invariants(&m);
    for (uint32_t j = 0; j < N; j++) {
        if (gone[j]) assert_null(sw_map_get(&m, keys[j]));
        else assert_ptr_equal(sw_map_get(&m, keys[j]), V(j + 1));
    }
    free(gone);
    free(order);
    free(keys);
    sw_map_free(&m);
}

/* ------------------------------------------------------------ backward shift */

/* Insert keys[0..n) into a fresh map, then delete them in the order given by
 * perm, checking after every deletion that the deleted key is gone and every
 * other remaining key is still found with its value. */
static void delete_in_order(const uint64_t *keys, int n, const int *perm, uint32_t want_cap)
{
    sw_map m;
    sw_map_init(&m);
    for (int i = 0; i < n; i++) assert_int_equal(sw_map_put(&m, keys[i], V((uint64_t)i + 1)), 0);
    assert_int_equal(m.cap, want_cap); /* the collisions are real at this capacity */
    assert_int_equal(m.count, n);
    char gone[64] = {0};
    for (int k = 0; k < n; k++) {
        int d = perm[k];
        assert_ptr_equal(sw_map_del(&m, keys[d]), V((uint64_t)d + 1));
        gone[d] = 1;
        assert_int_equal(m.count, n - k - 1);
        for (int i = 0; i < n; i++) {
            if (gone[i]) assert_null(sw_map_get(&m, keys[i]));
            else assert_ptr_equal(sw_map_get(&m, keys[i]), V((uint64_t)i + 1));
        }
        check_invariants(&m);
    }
    sw_map_free(&m);
}

static bool next_perm(int *a, int n)
{
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1]) i--;
    if (i < 0) return false;
    int j = n - 1;
    while (a[j] <= a[i]) j--;
    int t = a[i]; a[i] = a[j]; a[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--) { t = a[l]; a[l] = a[r]; a[r] = t; }
    return true;
}

/* Every deletion order of a small key set. */
static void all_orders(const uint64_t *keys, int n, uint32_t want_cap)
{
    int perm[16];
    for (int i = 0; i < n; i++) perm[i] = i;
    long count = 0;
    do {
        delete_in_order(keys, n, perm, want_cap);
        count++;
    } while (next_perm(perm, n));
    long fact = 1;
    for (int i = 2; i <= n; i++) fact *= i;
    assert_int_equal(count, fact);
}

static void test_backward_shift_same_home(void **state)
{
    (void)state;
    /* Capacity 16: seven keys k*16+1 all with home slot 1, so they form one
     * cluster in slots 1..7. */
    uint64_t keys[7];
    for (int k = 0; k < 7; k++) keys[k] = (uint64_t)k * 16 + 1 + 16;
    all_orders(keys, 7, 16);

    /* Same home slot through the high bits only. */
    for (int k = 0; k < 7; k++) keys[k] = ((uint64_t)(k + 1) << 32) | 5;
    all_orders(keys, 7, 16);
}

static void test_backward_shift_wraparound(void **state)
{
    (void)state;
    /* Capacity 16: homes 14, 14, 15, 0, 14, 1, 0 - the cluster runs from
     * slot 14 over the end of the table into slots 0..4, mixing members
     * whose home is before and after the wrap. */
    uint64_t keys[7] = {14, 30, 15, 16, 46, 17, 32};
    all_orders(keys, 7, 16);

    /* Interleaved homes in one run: 3, 3, 4, 3, 5, 4, 6, 3. */
    uint64_t keys2[8] = {3, 19, 4, 35, 5, 20, 6, 51};
    all_orders(keys2, 8, 16);
}

/* Larger capacities: keys k*cap+1 colliding on slot 1 plus neighbours at
 * slots 2 and 3, deleted from the middle of the cluster first, then in
 * several random orders. */
static void test_backward_shift_larger_caps(void **state)
{
    (void)state;
    rng_state = 99;
    for (uint32_t cap = 32; cap <= 1024; cap *= 2) {
        uint32_t n = cap * 3 / 4 - 1;   /* stays at this capacity */
        if (n > 60) n = 60;
        uint64_t keys[64];
        for (uint32_t k = 0; k < n; k++) {
            uint32_t home = (k % 3 == 2) ? 2 : (k % 5 == 4) ? 3 : 1;
            if (cap > 64) home = 1;
            keys[k] = (uint64_t)(k + 1) * cap + home;
        }
        int perm[64];
        for (int rep = 0; rep < 20; rep++) {
            for (uint32_t i = 0; i < n; i++) perm[i] = (int)i;
            if (rep == 0) {
                /* the middle of the cluster first, then the rest in order */
                perm[0] = (int)(n / 2);
                for (uint32_t i = 1; i <= n / 2; i++) perm[i] = (int)(i - 1);
            } else {
                for (uint32_t i = n; i > 1; i--) {
                    uint32_t j = rng_below(i);
                    int t = perm[i - 1]; perm[i - 1] = perm[j]; perm[j] = t;
                }
            }
            /* perm must be a permutation */
            char seen[64] = {0};
            for (uint32_t i = 0; i < n; i++) { assert_false(seen[perm[i]]); seen[perm[i]] = 1; }

            sw_map m;
            sw_map_init(&m);
            /* Force the capacity first with filler keys, then remove them. */
            uint32_t fill = cap * 3 / 4 - 1;
            for (uint32_t i = 0; i < fill; i++)
                assert_int_equal(sw_map_put(&m, ((uint64_t)0xABCD << 40) + i + cap / 2, V(1)), 0);
            assert_int_equal(m.cap, cap);
            for (uint32_t i = 0; i < fill; i++) sw_map_del(&m, ((uint64_t)0xABCD << 40) + i + cap / 2);
            assert_int_equal(m.count, 0);
            for (uint32_t i = 0; i < n; i++) assert_int_equal(sw_map_put(&m, keys[i], V(i + 1)), 0);
            assert_int_equal(m.cap, cap);
            char gone[64] = {0};
            for (uint32_t k = 0; k < n; k++) {
                int d = perm[k];
                assert_ptr_equal(sw_map_del(&m, keys[d]), V((uint64_t)d + 1));
                gone[d] = 1;
                for (uint32_t i = 0; i < n; i++) {
                    if (gone[i]) assert_null(sw_map_get(&m, keys[i]));
                    else assert_ptr_equal(sw_map_get(&m, keys[i]), V(i + 1));
                }
            }
            check_invariants(&m);
            assert_int_equal(m.count, 0);
            sw_map_free(&m);
        }
    }
}

/* Constant churn in one capacity: insert/delete colliding keys forever; with
 * tombstones or a broken shift, lookups would fail or the table would fill. */
static void test_churn(void **state)
{
    (void)state;
    sw_map m;
    sw_map_init(&m);
    rng_state = 7;
    uint64_t live[10];
    int nlive = 0;
    uint64_t next = 1;
    for (int step = 0; step < 20000; step++) {
        if (nlive < 10 && (nlive == 0 || rng_below(2))) {
            uint64_t k = (next++) * 16 + rng_below(3); /* homes 0..2 */
            assert_int_equal(sw_map_put(&m, k, V(k)), 0);
            live[nlive++] = k;
        } else {
            int i = (int)rng_below((uint32_t)nlive);
            assert_ptr_equal(sw_map_del(&m, live[i]), V(live[i]));
            assert_null(sw_map_get(&m, live[i]));
            live[i] = live[--nlive];
        }
        assert_int_equal(m.cap, 16);
        assert_int_equal(m.count, nlive);
        for (int i = 0; i < nlive; i++) assert_ptr_equal(sw_map_get(&m, live[i]), V(live[i]));
    }
    check_invariants(&m);
    sw_map_free(&m);
}

/* ------------------------------------------------------------ iteration */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Iterate m and check the visited keys are exactly want[0..n) (any order),
 * each once, with value V(key ^ 0x5A). */
static void check_iteration(const sw_map *m, uint64_t *want, size_t n)
{
    uint64_t *got = malloc((n + 1) * sizeof *got);
    assert_non_null(got);
    size_t ng = 0;
    uint32_t pos = 0;
    sw_map_slot *s;
    while ((s = sw_map_next(m, &pos))) {
        assert_true(ng < n);
        assert_ptr_equal(s->val, V(s->key ^ 0x5A));
        got[ng++] = s->key;
    }
    assert_int_equal(ng, n);
    assert_int_equal(pos, m->cap);
    assert_null(sw_map_next(m, &pos)); /* stays exhausted */
    qsort(got, ng, sizeof *got, cmp_u64);
    qsort(want, n, sizeof *want, cmp_u64);
    for (size_t i = 0; i < n; i++) {
        if (i) assert_true(got[i] != got[i - 1]);
        assert_int_equal(got[i], want[i]);
    }
    free(got);
}

static void test_iteration(void **state)
{
    (void)state;
    enum { N = 5000 };
    sw_map m;
    sw_map_init(&m);
    uint64_t *keys = malloc(N * sizeof *keys);
    assert_non_null(keys);
    rng_state = 2024;
    for (size_t i = 0; i < N; i++) {
        keys[i] = i % 2 ? rng() | 2 : ((uint64_t)i << 32) | 9; /* never 0 or 1 */
        assert_int_equal(sw_map_put(&m, keys[i], V(keys[i] ^ 0x5A)), 0);
    }
    /* Replacing does not add visits. */
    for (size_t i = 0; i < N; i += 7) assert_int_equal(sw_map_put(&m, keys[i], V(keys[i] ^ 0x5A)), 0);
    assert_int_equal(m.count, N);
    check_iteration(&m, keys, N);

    /* After deleting a random half. */
    shuffle_u64(keys, N);
    for (size_t i = 0; i < N / 2; i++) assert_non_null(sw_map_del(&m, keys[i]));
    uint64_t *rest = keys + N / 2;
    check_iteration(&m, rest, N - N / 2);

    /* Deleting while iterating is not supported by the API; values may be
     * modified in place through the slot. */
    uint32_t pos = 0;
    sw_map_slot *s;
    while ((s = sw_map_next(&m, &pos))) s->val = V(s->key);
    for (size_t i = N / 2; i < N; i++) assert_ptr_equal(sw_map_get(&m, keys[i]), V(keys[i]));
    free(keys);
    sw_map_free(&m);
}

/* ------------------------------------------------------------ differential */

typedef struct ref_entry {
    uint64_t key;     /* canonical (never 0) */
    uint64_t val;     /* 0 = absent */
} ref_entry;

static void test_differential(void **state)
{
    (void)state;
    enum { NKEYS = 3000, OPS = 200000 };
    rng_state = 0xC0FFEE;
    ref_entry *ref = calloc(NKEYS, sizeof *ref);
    assert_non_null(ref);
    /* The key universe: small integers (1 aliasing 0), keys colliding in the
     * low 32 bits, keys k*64+h, and random 64-bit keys. */
    for (uint32_t i = 0; i < NKEYS; i++) {
        uint64_t k;
        switch (i % 4) {
        case 0: k = i / 4 + 1; break;
        case 1: k = ((uint64_t)(i / 4 + 1) << 32) | (i % 16); break;
        case 2: k = (uint64_t)(i / 4) * 64 + 3; break;
        default: k = rng(); break;
        }
        k = sw_map_key(k);
        /* Keep the universe free of duplicates: replace a clash by a random key. */
        for (uint32_t j = 0; j < i; j++) {
            if (ref[j].key == k) {
                k = rng() | 2;
                j = (uint32_t)-1; /* recheck from the start */
            }
        }
        ref[i].key = k;
    }
    sw_map m;
    sw_map_init(&m);
    uint32_t live = 0;
    for (uint32_t op = 1; op <= OPS; op++) {
        /* Bias towards a working set that moves over time so the map both
         * grows and shrinks (in content). */
        uint32_t i = rng_below(NKEYS);
        uint64_t key = ref[i].key;
        if (key == 1 && rng_below(2)) key = 0; /* the alias */
        uint32_t r = rng_below(100);
        uint32_t put_pct = (op / 20000) % 2 ? 35 : 60;
        if (r < put_pct) {
            uint64_t v = ((uint64_t)op << 1) | 1;
            assert_int_equal(sw_map_put(&m, key, V(v)), 0);
            if (!ref[i].val) live++;
            ref[i].val = v;
        } else if (r < put_pct + 30) {
            void *got = sw_map_del(&m, key);
            assert_ptr_equal(got, V(ref[i].val)); /* NULL when absent */
            if (ref[i].val) live--;
            ref[i].val = 0;
        } else {
            assert_ptr_equal(sw_map_get(&m, key), V(ref[i].val));
        }
        assert_int_equal(m.count, live);
        if (op % 10000 == 0) {
            check_invariants(&m);
            for (uint32_t j = 0; j < NKEYS; j++) assert_ptr_equal(sw_map_get(&m, ref[j].key), V(ref[j].val));
            uint32_t pos = 0, seen = 0;
            sw_map_slot *s;
            while ((s = sw_map_next(&m, &pos))) {
                seen++;
                assert_non_null(s->val);
            }
            assert_int_equal(seen, live);
        }
    }
    free(ref);
    sw_map_free(&m);
}

int main(int argc, char **argv)
{
    if (argc > 1) cmocka_set_test_filter(argv[1]); /* e.g. test_map 'test_churn' */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_put_get_replace_del),
        cmocka_unit_test(test_key_zero),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_backward_shift_same_home),
        cmocka_unit_test(test_backward_shift_wraparound),
        cmocka_unit_test(test_backward_shift_larger_caps),
        cmocka_unit_test(test_churn),
        cmocka_unit_test(test_iteration),
        cmocka_unit_test(test_differential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
