/*
 * fuzz_conf.c - libFuzzer target for the YAML configuration loader
 * (src/conf: libyaml into a node tree, the schema walk, the sharding
 * sections, diagnostics).
 *
 * Feeds: the input bytes as the contents of a configuration file, through
 * sw_conf_load_string, which is what sw_conf_load calls once it has read
 * the file (so the target needs no temporary files).
 *
 * Asserts (abort() on violation):
 *  - the result is either a configuration and no diagnostic, or -1, no
 *    configuration and a diagnostic naming the file and saying "error:";
 *  - loading is deterministic: the same bytes give the same answer and the
 *    same diagnostic, and a tiny error buffer gets a NUL-terminated prefix
 *    of it;
 *  - a loaded configuration is internally consistent: every index it holds
 *    (default node, table function and nodes, function targets, buckets,
 *    ranges, lists, directory node, embedded source, id function) is in
 *    range, and every name finds its own entry through the lookups.
 * LeakSanitizer checks that every error path frees what it built.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sw/conf.h"

#define NAME "fuzz.yaml"

static void check(int ok)
{
    if (!ok) abort();
}

static int in_range(int i, int n) { return i >= 0 && i < n; }

static void check_function(const sw_conf *c, const sw_conf_function *fn)
{
    check(fn->name != NULL && fn->n_targets >= 0);
    for (int t = 0; t < fn->n_targets; t++) {
        check(fn->targets[t] != NULL);
        check(fn->target_node[t] == -1 || in_range(fn->target_node[t], c->n_nodes));
        if (!fn->table_targets) check(in_range(fn->target_node[t], c->n_nodes));
    }
    switch (fn->kind) {
    case SW_FN_HASH:
        check(fn->buckets >= 1 && fn->buckets <= 65536 && (fn->buckets & (fn->buckets - 1)) == 0);
        for (int b = 0; b < fn->buckets; b++) check(in_range(fn->bucket_target[b], fn->n_targets));
        break;
    case SW_FN_RANGE:
        for (int r = 0; r < fn->n_ranges; r++) check(in_range(fn->ranges[r].target, fn->n_targets));
        check(fn->default_target == -1 || in_range(fn->default_target, fn->n_targets));
        break;
    case SW_FN_LIST:
        for (int r = 0; r < fn->n_lists; r++) {
            check(in_range(fn->lists[r].target, fn->n_targets));
            for (int v = 0; v < fn->lists[r].n_values; v++) check(fn->lists[r].values[v] != NULL);
        }
        check(fn->default_target == -1 || in_range(fn->default_target, fn->n_targets));
        break;
    case SW_FN_RING:
        for (int t = 0; t < fn->n_targets; t++) check(fn->weights[t] >= 1);
        break;
    case SW_FN_DIRECTORY:
        check(in_range(fn->dir_node, c->n_nodes) && fn->dir_query != NULL);
        break;
    case SW_FN_EMBEDDED:
        check(in_range(fn->source, c->n_functions) && c->functions[fn->source].kind == SW_FN_HASH);
        break;
    default:
        check(0);
    }
}

static void check_table(const sw_conf *c, const sw_conf_table *t)
{
    check(t->name != NULL);
    switch (t->kind) {
    case SW_TABLE_SHARDED:
        check(t->key != NULL && in_range(t->function, c->n_functions));
        check(t->node == -1 || in_range(t->node, c->n_nodes));
        break;
    case SW_TABLE_REFERENCE:
        for (int i = 0; i < t->n_nodes; i++) check(in_range(t->nodes[i], c->n_nodes));
        break;
    case SW_TABLE_PINNED:
        check(in_range(t->node, c->n_nodes));
        break;
    default:
        check(0);
    }
    if (t->id_function != -1) {
        check(in_range(t->id_function, c->n_functions) && t->id_column != NULL);
        check(c->functions[t->id_function].kind == SW_FN_EMBEDDED);
    }
}

/* A configuration the loader accepted holds no dangling index. */
static void check_conf(const sw_conf *c)
{
    check(c->path && strcmp(c->path, NAME) == 0);
    for (int i = 0; i < c->n_nodes; i++) {
        check(c->nodes[i].name && c->nodes[i].host);
        check(sw_conf_node_index(c, c->nodes[i].name) == i);
    }
    for (int i = 0; i < c->n_users; i++) {
        check(c->users[i].name != NULL);
        check(sw_conf_user_find(c, c->users[i].name) == &c->users[i]);
    }
    for (int i = 0; i < c->n_functions; i++) {
        check_function(c, &c->functions[i]);
        check(sw_conf_function_index(c, c->functions[i].name) == i);
    }
    for (int i = 0; i < c->n_databases; i++) {
        const sw_conf_database *d = &c->databases[i];
        check(d->name && in_range(d->default_node, c->n_nodes));
        check(sw_conf_database_find(c, d->name) == d);
        for (int t = 0; t < d->n_tables; t++) check_table(c, &d->tables[t]);
    }
    for (int i = 0; i < c->n_admin_users; i++) check(c->admin_users[i] != NULL);
    for (int i = 0; i < c->n_stats_users; i++) check(c->stats_users[i] != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char err[8192], again[8192];
    char tiny[12];
    sw_conf *c = (sw_conf *)1, *c2 = (sw_conf *)1, *c3 = (sw_conf *)1;

    int rc = sw_conf_load_string(NAME, (const char *)data, size, &c, err, sizeof err);
    check(rc == 0 || rc == -1);
    check(memchr(err, 0, sizeof err) != NULL);
    if (rc == 0) {
        check(c != NULL && err[0] == 0);
        check_conf(c);
    } else {
        check(c == NULL);
        check(strncmp(err, NAME ":", sizeof NAME) == 0 && strstr(err, "error: ") != NULL);
    }

    /* Same bytes, same verdict, same words. */
    int rc2 = sw_conf_load_string(NAME, (const char *)data, size, &c2, again, sizeof again);
    check(rc2 == rc && strcmp(err, again) == 0 && (c2 != NULL) == (rc == 0));

    /* A buffer too small for the message still ends in a NUL, and holds the
     * start of the message. */
    memset(tiny, 'x', sizeof tiny);
    int rc3 = sw_conf_load_string(NAME, (const char *)data, size, &c3, tiny, sizeof tiny);
    check(rc3 == rc && memchr(tiny, 0, sizeof tiny) != NULL);
    check(strncmp(tiny, err, strlen(tiny)) == 0);

    sw_conf_free(c);
    sw_conf_free(c2);
    sw_conf_free(c3);
    return 0;
}
