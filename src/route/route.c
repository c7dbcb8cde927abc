/*
 * route.c - the small parts of the routing interface (see sw/route.h):
 * the default node of a logical database, statement kind names, and
 * releasing a routing result.  The router itself: router.c (build),
 * tokens.c + shape.c (shape cache), analyze.c + walk.c + dml.c + quals.c +
 * planbuf.c (plans), literal.c + eval.c (key values), plan.c + targets.c +
 * rewrite.c + multi.c (routing a plan), local.c (what shardwire answers
 * itself), prepare.c (extended protocol).
 */
#include <stdlib.h>
#include <string.h>

#include "sw/route.h"

/* Index of the node serving database under conf, or -1 if unknown. */
int sw_route_default_node(const sw_conf *conf, const char *database)
{
    const sw_conf_database *d = sw_conf_database_find(conf, database);
    return d ? d->default_node : -1;
}

const char *sw_stmt_kind_name(sw_stmt_kind k)
{
    static const char *const names[] = {
        [SW_SK_EMPTY] = "EMPTY",       [SW_SK_SELECT] = "SELECT",     [SW_SK_INSERT] = "INSERT",
        [SW_SK_UPDATE] = "UPDATE",     [SW_SK_DELETE] = "DELETE",     [SW_SK_COPY] = "COPY",
        [SW_SK_DDL] = "DDL",           [SW_SK_BEGIN] = "BEGIN",       [SW_SK_COMMIT] = "COMMIT",
        [SW_SK_ROLLBACK] = "ROLLBACK", [SW_SK_TXN_OTHER] = "TRANSACTION", [SW_SK_SET] = "SET",
        [SW_SK_SHOW] = "SHOW",         [SW_SK_UTILITY] = "UTILITY",
    };
    return (unsigned)k < sizeof names / sizeof *names && names[k] ? names[k] : "?";
}

void sw_route_out_clear(sw_route_out *out)
{
    for (int i = 0; i < out->n_targets; i++) free(out->targets[i].sql);
    if (out->targets != out->inline_targets) free(out->targets);
    free(out->local_value);
    free(out->any_sql);
    free(out->row_part);
    memset(out, 0, sizeof *out);
}
