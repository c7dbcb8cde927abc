/*
 * shardfn_int.h - the built sharding function, private to src/route: the
 * common part (targets) lives in shardfn.c, each kind's table and dispatch
 * in its own fn_<kind>.c file.
 */
#ifndef SW_SHARDFN_INT_H
#define SW_SHARDFN_INT_H

#include <stdarg.h>

#include "sw/shard.h"

typedef struct fn_range {
    bool has_lo, has_hi; /* false = open end */
    sw_value lo, hi;     /* owned copies (fn_value_parse) */
    int target;
} fn_range;

typedef struct fn_item {
    sw_value v; /* owned copy */
    int target;
} fn_item;

typedef struct fn_point {
    uint64_t point;
    int target;
} fn_point;

typedef struct fn_dir fn_dir;

struct sw_shardfn {
    const sw_conf_function *conf;
    sw_fn_kind kind;
    sw_key_type type;
    int n_targets;
    const char **tname; /* [n_targets], strings owned by the configuration */
    int *tnode;         /* [n_targets] */
    int default_target; /* range, list */
    /* hash, embedded */
    uint32_t buckets;
    int *bucket_target;
    /* embedded */
    sw_key_type src_type;
    int seq_bits, slot_bits;
    int64_t epoch_ms;
    /* range: sorted by lower bound, disjoint */
    fn_range *ranges;
    int n_ranges;
    /* list: sorted by value, distinct */
    fn_item *items;
    int n_items;
    /* ring: sorted by (point, target) */
    fn_point *points;
    size_t n_points;
    /* directory: the one mutable part, reached through a pointer */
    fn_dir *dir;
};

/* "function NAME: ..." into err; always returns -1. */
int fn_err(const sw_shardfn *fn, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Parse a configured spelling as the function's type into an owned value. */
int fn_value_parse(const sw_shardfn *fn, const char *txt, sw_value *out);
/* Own a copy of v's bytes (TEXT, NUMERIC); fn_value_release frees them. */
int fn_value_dup(const sw_value *v, sw_value *out);
void fn_value_release(sw_value *v);
/* snprintf into why when it is wanted. */
void fn_why(char *why, size_t whysz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Per-kind builders (0 or -1 with err), dispatchers and destructors. */
int fn_hash_build(sw_shardfn *fn, char *err, size_t errsz);
int fn_hash_dispatch(const sw_shardfn *fn, const sw_value *v, char *why, size_t whysz);
int fn_embedded_build(sw_shardfn *fn, sw_shardfn *const *all, int index, char *err, size_t errsz);
int fn_embedded_dispatch(const sw_shardfn *fn, const sw_value *v, char *why, size_t whysz);
uint32_t fn_embedded_slot(const sw_shardfn *fn, int64_t id);

int fn_range_build(sw_shardfn *fn, char *err, size_t errsz);
int fn_range_dispatch(const sw_shardfn *fn, const sw_value *v, char *why, size_t whysz);
uint64_t fn_range_mask(const sw_shardfn *fn, const sw_value *lo, bool lo_incl, const sw_value *hi,
                       bool hi_incl);
void fn_range_free(sw_shardfn *fn);

int fn_list_build(sw_shardfn *fn, char *err, size_t errsz);
int fn_list_dispatch(const sw_shardfn *fn, const sw_value *v, char *why, size_t whysz);
void fn_list_free(sw_shardfn *fn);

int fn_ring_build(sw_shardfn *fn, char *err, size_t errsz);
int fn_ring_dispatch(const sw_shardfn *fn, const sw_value *v, char *why, size_t whysz);

int fn_dir_build(sw_shardfn *fn, char *err, size_t errsz);
int fn_dir_dispatch(const sw_shardfn *fn, const sw_value *v, uint64_t now_ms, char *why,
                    size_t whysz);
void fn_dir_free(sw_shardfn *fn);

#endif
