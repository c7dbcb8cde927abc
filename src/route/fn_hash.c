/*
 * fn_hash.c - hash functions and the shard-aware IDs built on them.
 *
 * A hash function maps XXH3-64 of the canonical key onto a power-of-two
 * number of virtual buckets, and buckets onto targets; moving a bucket is
 * a configuration change, never a rehash.  An embedded function's IDs carry
 * the bucket of their source key between the timestamp and the sequence
 * bits, so the ID alone finds the row's shard and rows keyed by the ID stay
 * with the rows keyed by the source key.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "shardfn_int.h"

int fn_hash_build(sw_shardfn *fn, char *err, size_t errsz)
{
    const sw_conf_function *c = fn->conf;
    if (c->buckets < 1 || c->buckets > 65536 || (c->buckets & (c->buckets - 1)))
        return fn_err(fn, err, errsz, "buckets %d is not a power of two in 1..65536", c->buckets);
    fn->buckets = (uint32_t)c->buckets;
    fn->bucket_target = malloc(fn->buckets * sizeof *fn->bucket_target);
    if (!fn->bucket_target) return fn_err(fn, err, errsz, "out of memory");
    for (uint32_t b = 0; b < fn->buckets; b++) {
        /* Without an explicit assignment buckets go evenly in target order. */
        int t = c->bucket_target ? c->bucket_target[b]
                                 : (int)((uint64_t)b * (uint64_t)fn->n_targets / fn->buckets);
        if (t < 0 || t >= fn->n_targets)
            return fn_err(fn, err, errsz, "bucket %u has no valid target (%d)", b, t);
        fn->bucket_target[b] = t;
    }
    return 0;
}

int fn_hash_dispatch(const sw_shardfn *fn, const sw_value *v, char *why, size_t whysz)
{
    uint32_t b = (uint32_t)(sw_value_hash(v) & (fn->buckets - 1));
    fn_why(why, whysz, "hash bucket %u", b);
    return fn->bucket_target[b];
}

int fn_embedded_build(sw_shardfn *fn, sw_shardfn *const *all, int index, char *err, size_t errsz)
{
    const sw_conf_function *c = fn->conf;
    /* build_targets has already checked that the source is built. */
    const sw_shardfn *src = all[c->source];
    if (c->source >= index) return fn_err(fn, err, errsz, "source must come before it");
    if (src->kind != SW_FN_HASH) return fn_err(fn, err, errsz, "source is not a hash function");
    if (c->seq_bits < 0 || c->seq_bits > 20)
        return fn_err(fn, err, errsz, "seq_bits %d is not in 0..20", c->seq_bits);
    fn->buckets = src->buckets;
    fn->slot_bits = 0;
    while ((UINT32_C(1) << fn->slot_bits) < fn->buckets) fn->slot_bits++;
    fn->seq_bits = c->seq_bits;
    fn->epoch_ms = c->epoch_ms;
    fn->src_type = src->type;
    fn->bucket_target = malloc(fn->buckets * sizeof *fn->bucket_target);
    if (!fn->bucket_target) return fn_err(fn, err, errsz, "out of memory");
    memcpy(fn->bucket_target, src->bucket_target, fn->buckets * sizeof *fn->bucket_target);
    return 0;
}

uint32_t fn_embedded_slot(const sw_shardfn *fn, int64_t id)
{
    return (uint32_t)(((uint64_t)id >> fn->seq_bits) & (fn->buckets - 1));
}

int fn_embedded_dispatch(const sw_shardfn *fn, const sw_value *v, char *why, size_t whysz)
{
    if (v->i < 0) {
        fn_why(why, whysz, "negative id %" PRId64, v->i);
        return SW_SHARD_NOMATCH;
    }
    uint32_t slot = fn_embedded_slot(fn, v->i);
    fn_why(why, whysz, "embedded bucket %u", slot);
    return fn->bucket_target[slot];
}

int64_t sw_shardfn_make_id(const sw_shardfn *fn, const sw_value *key, uint64_t now_ms, uint32_t seq)
{
    if (fn->kind != SW_FN_EMBEDDED || key->type != fn->src_type) return -1;
    if (fn->epoch_ms > 0 && now_ms < (uint64_t)fn->epoch_ms) return -1;
    uint64_t ts = now_ms - (uint64_t)fn->epoch_ms;
    int low = fn->slot_bits + fn->seq_bits;
    /* The ID stays a positive int64: the timestamp gets the top 63 - low bits. */
    if (ts >> (63 - low)) return -1;
    uint64_t bucket = sw_value_hash(key) & (fn->buckets - 1);
    uint64_t seqmask = (UINT64_C(1) << fn->seq_bits) - 1;
    return (int64_t)(ts << low | bucket << fn->seq_bits | (seq & seqmask));
}
