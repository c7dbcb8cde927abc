/*
 * route.c - where a statement goes.  For now every statement of a logical
 * database goes to that database's default node; the shard-key router
 * replaces this behind the same call.
 */
#include "sw/conf.h"

int sw_route_default_node(const sw_conf *conf, const char *database);

/* Index of the node serving database under conf, or -1 if unknown. */
int sw_route_default_node(const sw_conf *conf, const char *database)
{
    const sw_conf_database *d = sw_conf_database_find(conf, database);
    return d ? d->default_node : -1;
}
