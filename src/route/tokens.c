/*
 * tokens.c - a statement text as items, and its shape: pg_query_scan's
 * tokens, with each '-' that directly precedes a numeric constant merged
 * into it, hashed (XXH3-64) with constants blanked to their kind.
 *
 * This is the shape cache's hot path, so the scan result is unpacked into a
 * stack arena (protobuf-c takes a custom allocator) and items live in the
 * caller's struct: the only heap blocks are the ones libpg_query makes.
 * Keywords are hashed by token kind (case does not matter), identifiers,
 * operators, parameters and comments by their text (a comment can carry a
 * routing hint, and "Foo" is not foo).
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "route_int.h"

/* ---- a bump allocator for protobuf-c, backed by the stack ---- */

typedef struct arena_chunk {
    struct arena_chunk *next;
} arena_chunk;

typedef struct arena {
    char *buf;
    size_t used, size;
    arena_chunk *chunks; /* heap blocks for what did not fit */
} arena;

static void *arena_alloc(void *data, size_t size)
{
    arena *a = data;
    size = (size + 15) & ~(size_t)15;
    if (size <= a->size - a->used) {
        void *p = a->buf + a->used;
        a->used += size;
        return p;
    }
    arena_chunk *c = malloc(sizeof(arena_chunk) + 16 + size);
    if (!c) return NULL;
    c->next = a->chunks;
    a->chunks = c;
    return (char *)c + 16; /* malloc's alignment, past the link */
}

static void arena_free(void *data, void *p)
{
    (void)data;
    (void)p; /* released all at once by arena_release */
}

static void arena_release(arena *a)
{
    while (a->chunks) {
        arena_chunk *n = a->chunks->next;
        free(a->chunks);
        a->chunks = n;
    }
}

/* ---- shape hashing through a small staging buffer ---- */

typedef struct hasher {
    XXH3_state_t st;
    unsigned char buf[512];
    size_t n;
} hasher;

static void hash_add(hasher *h, const void *p, size_t n)
{
    if (h->n + n > sizeof h->buf) {
        XXH3_64bits_update(&h->st, h->buf, h->n);
        h->n = 0;
        if (n > sizeof h->buf) {
            XXH3_64bits_update(&h->st, p, n);
            return;
        }
    }
    memcpy(h->buf + h->n, p, n);
    h->n += n;
}

static bool is_const_tok(int t)
{
    return t == PG_QUERY__TOKEN__ICONST || t == PG_QUERY__TOKEN__FCONST ||
           t == PG_QUERY__TOKEN__SCONST || t == PG_QUERY__TOKEN__BCONST ||
           t == PG_QUERY__TOKEN__XCONST;
}

static bool text_matters(int t)
{
    return t == PG_QUERY__TOKEN__IDENT || t == PG_QUERY__TOKEN__UIDENT ||
           t == PG_QUERY__TOKEN__Op || t == PG_QUERY__TOKEN__PARAM ||
           t == PG_QUERY__TOKEN__SQL_COMMENT || t == PG_QUERY__TOKEN__C_COMMENT ||
           t == PG_QUERY__TOKEN__USCONST;
}

static int items_push(sw_items *it, const sw_item *x)
{
    if (it->n == it->cap) {
        int ncap = it->cap * 2;
        sw_item *nv;
        if (it->v == it->inline_v) {
            nv = malloc((size_t)ncap * sizeof *nv);
            if (nv) memcpy(nv, it->v, (size_t)it->n * sizeof *nv);
        } else {
            nv = realloc(it->v, (size_t)ncap * sizeof *nv);
        }
        if (!nv) return -1;
        it->v = nv;
        it->cap = ncap;
    }
    it->v[it->n++] = *x;
    return 0;
}

void sw_items_free(sw_items *it)
{
    if (it->v && it->v != it->inline_v) free(it->v);
    it->v = it->inline_v;
    it->n = 0;
    it->cap = SW_ITEMS_INLINE;
}

int sw_items_scan(const char *text, size_t len, sw_items *it, uint64_t seed, uint64_t *shape)
{
    it->v = it->inline_v;
    it->n = 0;
    it->cap = SW_ITEMS_INLINE;
    it->uncacheable = false;
    it->has_param = false;

    PgQueryScanResult sr = pg_query_scan(text);
    if (sr.error) {
        pg_query_free_scan_result(sr);
        return -1;
    }
    _Alignas(16) char abuf[16384];
    arena a = {abuf, 0, sizeof abuf, NULL};
    ProtobufCAllocator alloc = {arena_alloc, arena_free, &a};
    PgQuery__ScanResult *t =
        pg_query__scan_result__unpack(&alloc, sr.pbuf.len, (const uint8_t *)sr.pbuf.data);
    int rc = -1;
    if (!t) goto out;

    hasher h;
    XXH3_64bits_reset_withSeed(&h.st, seed);
    h.n = 0;
    for (size_t i = 0; i < t->n_tokens; i++) {
        const PgQuery__ScanToken *k = t->tokens[i];
        if (k->start < 0 || (size_t)k->start > len) goto out;
        sw_item x = {(uint32_t)k->start, (uint32_t)k->end, (int32_t)k->token, 0};
        if (k->end < k->start || (size_t)k->end > len) {
            x.end = x.start;
            it->uncacheable = true;
        }
        if (k->token == PG_QUERY__TOKEN__ASCII_45 && i + 1 < t->n_tokens &&
            (t->tokens[i + 1]->token == PG_QUERY__TOKEN__ICONST ||
             t->tokens[i + 1]->token == PG_QUERY__TOKEN__FCONST) &&
            (size_t)t->tokens[i + 1]->end <= len) {
            i++;
            x.end = (uint32_t)t->tokens[i]->end;
            x.tok = (int32_t)t->tokens[i]->token;
            x.flags = SW_ITEM_CONST | SW_ITEM_NEG;
        } else if (is_const_tok(k->token)) {
            x.flags = SW_ITEM_CONST;
        } else if (k->token == PG_QUERY__TOKEN__SQL_COMMENT || k->token == PG_QUERY__TOKEN__C_COMMENT) {
            x.flags = SW_ITEM_COMMENT;
        }
        /* U&'...' and U&"..." come back with unreliable byte ranges. */
        if (k->token == PG_QUERY__TOKEN__USCONST || k->token == PG_QUERY__TOKEN__UIDENT)
            it->uncacheable = true;
        if (k->token == PG_QUERY__TOKEN__PARAM) it->has_param = true;
        if (items_push(it, &x)) goto out;
        int32_t tag = x.tok | ((x.flags & SW_ITEM_CONST) ? 0x10000 : 0);
        hash_add(&h, &tag, sizeof tag);
        if (!(x.flags & SW_ITEM_CONST) && text_matters(x.tok)) {
            uint32_t n = x.end - x.start;
            hash_add(&h, &n, sizeof n);
            hash_add(&h, text + x.start, n);
        }
    }
    if (h.n) XXH3_64bits_update(&h.st, h.buf, h.n);
    *shape = XXH3_64bits_digest(&h.st);
    rc = 0;
out:
    /* everything unpacked lives in the arena: no free_unpacked walk */
    arena_release(&a);
    pg_query_free_scan_result(sr);
    if (rc) sw_items_free(it);
    return rc;
}

int sw_items_at(const sw_item *v, int n, uint32_t loc)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid].start == loc) return mid;
        if (v[mid].start < loc) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}
