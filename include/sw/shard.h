/*
 * shard.h - key values and sharding functions.  Pure: no I/O, no libuv.
 *
 * A shard key value arrives in many spellings (a literal in SQL text, a
 * text or binary Bind parameter); sw_value_from_* turns each into one
 * canonical form for the function's key type, so 42, '42', 42::bigint and
 * the 8 binary bytes of 42 all hash and compare alike.
 *
 * Each sharding function is built once from its configuration into an
 * immutable table (sw_shardfn_update, twemproxy's *_update) and answers
 * with a pure dispatch (sw_shardfn_dispatch).  The one exception is the
 * directory function, whose lookups fill a bounded TTL cache that lives
 * with the table and is only touched from the proxy's loop thread.
 */
#ifndef SW_SHARD_H
#define SW_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw/conf.h"

/* Nodes are numbered by their position in the config; a node set is a bit
 * mask, so a configuration holds at most 64 nodes. */
#define SW_MAX_NODES 64
typedef uint64_t sw_nodeset;

/* Canonical key value.  INT, DATE and TIMESTAMP use i; TEXT and NUMERIC
 * use s/len (NUMERIC: normalised decimal "-123.45": no '+', no leading
 * zeros, no trailing fraction zeros, "0" for zero).  s points either into
 * the input or into the caller's buffer given to sw_value_from_*. */
typedef struct sw_value {
    sw_key_type type;
    int64_t i;
    const char *s;
    uint32_t len;
} sw_value;

/* Longest canonical NUMERIC/TEXT that needs the caller's buffer. */
#define SW_VALUE_BUF 160

/* Read a text-format value (a SQL literal's contents, a text Bind value)
 * as type t.  Integers accept surrounding blanks and a sign; dates
 * YYYY-MM-DD; timestamps "YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]".
 * Returns 0, or -1 when txt is not a valid value of the type. */
int sw_value_from_text(sw_key_type t, const char *txt, size_t len, sw_value *v, char *buf,
                       size_t bufsz);

/* Read a binary-format Bind value as type t: int2/int4/int8 by length,
 * text bytes, numeric's base-10000 form, date (int32 days), timestamp
 * (int64 microseconds).  Returns 0 or -1. */
int sw_value_from_binary(sw_key_type t, const uint8_t *p, size_t len, sw_value *v, char *buf,
                         size_t bufsz);

/* Order of two values of the same type (<0, 0, >0); TEXT is byte order. */
int sw_value_cmp(const sw_value *a, const sw_value *b);

/* XXH3-64 of the canonical bytes: INT/DATE/TIMESTAMP the 8 little-endian
 * bytes of i, TEXT and NUMERIC their bytes.  Stable across versions: the
 * tests pin it. */
uint64_t sw_value_hash(const sw_value *v);

/* Render v for messages ("42", "'APJ'", "2024-01-31"). */
void sw_value_format(const sw_value *v, char *out, size_t outsz);

/* ------------------------------------------------------------------ functions */

typedef struct sw_shardfn sw_shardfn;

/* Results of a dispatch besides a target index. */
#define SW_SHARD_NOMATCH (-1) /* no range or list entry and no default */
#define SW_SHARD_LOOKUP (-2)  /* directory: not cached, ask the mapping table */

/* Build the table for conf->functions[index] (which refers to other
 * functions, e.g. an embedded function's source, by index: `all` is the
 * array being built, earlier entries already filled).  Returns NULL with a
 * message in err when the function cannot be built. */
sw_shardfn *sw_shardfn_update(const sw_conf *conf, int index, sw_shardfn *const *all, char *err,
                              size_t errsz);
void sw_shardfn_free(sw_shardfn *fn);

const sw_conf_function *sw_shardfn_conf(const sw_shardfn *fn);
int sw_shardfn_n_targets(const sw_shardfn *fn);
/* Node of target t, or -1 for a table-suffix target. */
int sw_shardfn_target_node(const sw_shardfn *fn, int t);
/* Node or physical table name of target t. */
const char *sw_shardfn_target_name(const sw_shardfn *fn, int t);

/* Target for v (>= 0), SW_SHARD_NOMATCH or SW_SHARD_LOOKUP.  now_ms only
 * matters to the directory cache's TTL.  If why is not NULL a short
 * explanation is written there ("hash bucket 317", "range [10, 101)"). */
int sw_shardfn_dispatch(const sw_shardfn *fn, const sw_value *v, uint64_t now_ms, char *why,
                        size_t whysz);

/* Targets that may hold keys between lo and hi (either NULL = unbounded)
 * as a bit mask of target indexes.  Exact for RANGE (only the overlapping
 * ranges, plus the default target when part of the interval is uncovered);
 * every target for the other kinds. */
uint64_t sw_shardfn_dispatch_range(const sw_shardfn *fn, const sw_value *lo, bool lo_incl,
                                   const sw_value *hi, bool hi_incl);

/* Hash functions: the bucket of v (the seeds' 32x32 scheme generalised). */
uint32_t sw_shardfn_bucket(const sw_shardfn *fn, const sw_value *v);

/* Embedded functions: a new ID for a row whose source key is key:
 * (now_ms - epoch) << (slot_bits + seq_bits) | bucket << seq_bits | seq.
 * Dispatching the ID gives the same target as dispatching key with the
 * source function.  Returns -1 when key is not a valid source value. */
int64_t sw_shardfn_make_id(const sw_shardfn *fn, const sw_value *key, uint64_t now_ms, uint32_t seq);

/* Directory functions: remember that v maps to node name `node` (as the
 * mapping table answered) until now_ms + TTL; the cache is bounded by the
 * configured size (least recently used entries go first).  Returns the
 * target, or SW_SHARD_NOMATCH when node names no target. */
int sw_shardfn_directory_store(sw_shardfn *fn, const sw_value *v, const char *node, uint64_t now_ms);
/* Entries currently cached (for tests and SHOW SHARDS). */
size_t sw_shardfn_directory_size(const sw_shardfn *fn);

#endif
