/*
 * test_conf.c - unit tests for the configuration loader (sw_conf).  A full
 * configuration is checked value by value, a minimal one for every default,
 * durations and sizes through every unit and bound, and password
 * classification for each auth method.  Each error case asserts the exact
 * diagnostic text - file, line, column, message and hint - because those
 * strings are the loader's user interface.  The shipped example files under
 * config/ must load, and every truncation of a full file must fail cleanly
 * (the sanitizer build turns any leak on an error path into a failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sw/conf.h"

/* Tail that makes a file valid, appended after the section under test so
 * that line numbers in expectations count from the top. */
#define TAIL                                                          \
    "nodes:\n"                                                        \
    "  - {name: shard0, host: db0, database: shop, user: postgres}\n" \
    "databases:\n"                                                    \
    "  - {name: shop, default_node: shard0}\n"                        \
    "users:\n"                                                        \
    "  - {name: app, auth: trust}\n"

#define SCRAM_OK                                    \
    "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$"  \
    "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=:" \
    "c3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3M="

#define MD5_OK "md5c0bb0377275f05208b4d07c33a830e44"

static char err[8192];

static sw_conf *load(const char *yaml)
{
    sw_conf *c = NULL;
    int rc = sw_conf_load_string("test.yaml", yaml, strlen(yaml), &c, err, sizeof err);
    if (rc != 0) fail_msg("unexpected error:\n%s", err);
    assert_non_null(c);
    return c;
}

static void expect_error(const char *yaml, const char *expected)
{
    sw_conf *c = (sw_conf *)0x1;
    memset(err, 'x', sizeof err);
    int rc = sw_conf_load_string("test.yaml", yaml, strlen(yaml), &c, err, sizeof err);
    assert_int_equal(rc, -1);
    assert_null(c);
    assert_string_equal(err, expected);
}

/* ------------------------------------------------------------ valid files */

static void test_full(void **state)
{
    (void)state;
    sw_conf *c = load("listen:\n"
                      "  host: 0.0.0.0\n"
                      "  port: 7432\n"
                      "  max_clients: 250\n"
                      "  shutdown_timeout: 1m\n"
                      "pool:\n"
                      "  mode: session\n"
                      "  size: 20\n"
                      "  connect_timeout: 1500ms\n"
                      "  idle_timeout: 1h\n"
                      "  query_wait_timeout: 45s\n"
                      "  client_idle_timeout: 2m\n"
                      "  reset_query: \"RESET ALL; DEALLOCATE ALL\"\n"
                      "  max_prepared_per_server: 50\n"
                      "limits:\n"
                      "  max_message_size: 512kB\n"
                      "log:\n"
                      "  level: debug\n"
                      "nodes:\n"
                      "  - name: shard0\n"
                      "    host: 10.0.0.1\n"
                      "    port: 5433\n"
                      "    database: shop_a\n"
                      "    user: sw\n"
                      "    password: s3cret\n"
                      "  - name: shard_1-b\n"
                      "    host: db1.internal\n"
                      "    database: shop_b\n"
                      "    user: sw2\n"
                      "databases:\n"
                      "  - name: shop\n"
                      "    default_node: shard_1-b\n"
                      "  - name: audit\n"
                      "    default_node: shard0\n"
                      "users:\n"
                      "  - name: app\n"
                      "    auth: scram-sha-256\n"
                      "    password: plain pass\n"
                      "    server_user: app_rw\n"
                      "    server_password: rw\n"
                      "    pool_size: 4\n"
                      "    pool_mode: transaction\n"
                      "  - name: legacy\n"
                      "    auth: md5\n"
                      "    password: " MD5_OK "\n"
                      "  - name: modern\n"
                      "    password: '" SCRAM_OK "'\n"
                      "  - name: ops\n"
                      "    auth: trust\n");

    assert_string_equal(c->path, "test.yaml");
    assert_string_equal(c->listen_host, "0.0.0.0");
    assert_int_equal(c->listen_port, 7432);
    assert_int_equal(c->max_clients, 250);
    assert_int_equal(c->shutdown_timeout_ms, 60000);

    assert_int_equal(c->pool_mode, SW_POOL_SESSION);
    assert_int_equal(c->pool_size, 20);
    assert_int_equal(c->connect_timeout_ms, 1500);
    assert_int_equal(c->idle_timeout_ms, 3600000);
    assert_int_equal(c->query_wait_timeout_ms, 45000);
    assert_int_equal(c->client_idle_timeout_ms, 120000);
    assert_string_equal(c->reset_query, "RESET ALL; DEALLOCATE ALL");
    assert_int_equal(c->max_prepared_per_server, 50);
    assert_int_equal(c->max_message_size, 512 * 1024);
    assert_int_equal(c->log_level, SW_LOG_DEBUG);

    assert_int_equal(c->n_nodes, 2);
    assert_string_equal(c->nodes[0].name, "shard0");
    assert_string_equal(c->nodes[0].host, "10.0.0.1");
    assert_int_equal(c->nodes[0].port, 5433);
    assert_string_equal(c->nodes[0].database, "shop_a");
    assert_string_equal(c->nodes[0].user, "sw");
    assert_string_equal(c->nodes[0].password, "s3cret");
    assert_int_equal(c->nodes[0].line, 20);
    assert_string_equal(c->nodes[1].name, "shard_1-b");
    assert_string_equal(c->nodes[1].host, "db1.internal");
    assert_int_equal(c->nodes[1].port, 5432);
    assert_string_equal(c->nodes[1].database, "shop_b");
    assert_string_equal(c->nodes[1].user, "sw2");
    assert_null(c->nodes[1].password);
    assert_int_equal(c->nodes[1].line, 26);

    assert_int_equal(c->n_databases, 2);
    assert_string_equal(c->databases[0].name, "shop");
    assert_int_equal(c->databases[0].default_node, 1);
    assert_string_equal(c->databases[1].name, "audit");
    assert_int_equal(c->databases[1].default_node, 0);

    assert_int_equal(c->n_users, 4);
    const sw_conf_user *u = &c->users[0];
    assert_string_equal(u->name, "app");
    assert_int_equal(u->auth, SW_AUTH_METHOD_SCRAM);
    assert_string_equal(u->password, "plain pass");
    assert_null(u->scram_secret);
    assert_null(u->md5_hash);
    assert_string_equal(u->server_user, "app_rw");
    assert_string_equal(u->server_password, "rw");
    assert_int_equal(u->pool_size, 4);
    assert_int_equal(u->pool_mode, SW_POOL_TRANSACTION);

    u = &c->users[1];
    assert_string_equal(u->name, "legacy");
    assert_int_equal(u->auth, SW_AUTH_METHOD_MD5);
    assert_null(u->password);
    assert_null(u->scram_secret);
    assert_string_equal(u->md5_hash, MD5_OK);
    assert_null(u->server_user);
    assert_null(u->server_password);
    assert_int_equal(u->pool_size, 0);
    assert_int_equal(u->pool_mode, -1);

    u = &c->users[2];
    assert_string_equal(u->name, "modern");
    assert_int_equal(u->auth, SW_AUTH_METHOD_SCRAM);
    assert_null(u->password);
    assert_string_equal(u->scram_secret, SCRAM_OK);
    assert_null(u->md5_hash);

    u = &c->users[3];
    assert_string_equal(u->name, "ops");
    assert_int_equal(u->auth, SW_AUTH_METHOD_TRUST);
    assert_null(u->password);
    assert_null(u->scram_secret);
    assert_null(u->md5_hash);
    sw_conf_free(c);
}

static void test_defaults(void **state)
{
    (void)state;
    sw_conf *c = load(TAIL);
    assert_string_equal(c->listen_host, "127.0.0.1");
    assert_int_equal(c->listen_port, 6432);
    assert_int_equal(c->max_clients, 1000);
    assert_int_equal(c->shutdown_timeout_ms, 30000);
    assert_int_equal(c->pool_mode, SW_POOL_TRANSACTION);
    assert_int_equal(c->pool_size, 8);
    assert_int_equal(c->connect_timeout_ms, 5000);
    assert_int_equal(c->idle_timeout_ms, 600000);
    assert_int_equal(c->query_wait_timeout_ms, 30000);
    assert_int_equal(c->client_idle_timeout_ms, 0);
    assert_string_equal(c->reset_query, "DISCARD ALL");
    assert_int_equal(c->max_prepared_per_server, 1000);
    assert_int_equal(c->max_message_size, 64u * 1024 * 1024);
    assert_int_equal(c->log_level, SW_LOG_INFO);
    assert_int_equal(c->nodes[0].port, 5432);
    assert_null(c->nodes[0].password);
    assert_int_equal(c->nodes[0].line, 2);
    assert_int_equal(c->users[0].pool_size, 0);
    assert_int_equal(c->users[0].pool_mode, -1);
    assert_null(c->users[0].server_user);
    assert_int_equal(c->max_startup, 1000);
    assert_int_equal(c->auth_timeout_ms, 60000);
    assert_int_equal(c->query_timeout_ms, 0);
    assert_true(c->tcp_keepalive);
    assert_int_equal(c->tcp_keepalive_idle_ms, 60000);
    assert_int_equal(c->tcp_keepalive_interval_ms, 10000);
    assert_int_equal(c->tcp_keepalive_count, 6);
    assert_int_equal(c->max_server_message_size, 256u * 1024 * 1024);
    assert_int_equal(c->nodes[0].query_timeout_ms, 0);
    assert_int_equal(c->nodes[0].connect_timeout_ms, 5000);
    assert_int_equal(c->n_admin_users, 0);
    assert_int_equal(c->n_stats_users, 0);
    assert_int_equal(sw_conf_console_access(c, "app"), SW_CONSOLE_NONE);
    sw_conf_free(c);

    /* The default auth method is SCRAM. */
    c = load("nodes: [{name: n, host: h, database: d, user: u}]\n"
             "databases: [{name: d, default_node: n}]\n"
             "users: [{name: app, password: pw}]\n");
    assert_int_equal(c->users[0].auth, SW_AUTH_METHOD_SCRAM);
    assert_string_equal(c->users[0].password, "pw");
    sw_conf_free(c);
}

/* Sections that are present but empty, or whose lines are all commented
 * out, leave every default in place. */
static void test_empty_sections(void **state)
{
    (void)state;
    sw_conf *c = load("listen:\n"
                      "pool: {}\n"
                      "limits: ~\n"
                      "log:\n"
                      "#  level: debug\n" TAIL);
    assert_int_equal(c->listen_port, 6432);
    assert_int_equal(c->pool_size, 8);
    assert_int_equal(c->max_message_size, 64u * 1024 * 1024);
    assert_int_equal(c->log_level, SW_LOG_INFO);
    sw_conf_free(c);

    /* reset_query may be emptied to run nothing; null reads as empty too. */
    c = load("pool:\n  reset_query: ''\n" TAIL);
    assert_string_equal(c->reset_query, "");
    sw_conf_free(c);
    c = load("pool:\n  reset_query:\n" TAIL);
    assert_string_equal(c->reset_query, "");
    sw_conf_free(c);
}

/* Startup bounds, server timeouts and keepalive, the server message cap and
 * console access: every key set, node timeouts inherited or overridden. */
static void test_bounds_keys(void **state)
{
    (void)state;
    sw_conf *c = load("listen:\n"
                      "  max_startup: 50\n"
                      "  auth_timeout: 5s\n"
                      "pool:\n"
                      "  connect_timeout: 3s\n"
                      "  query_timeout: 30s\n"
                      "  tcp_keepalive: false\n"
                      "  tcp_keepalive_idle: 2m\n"
                      "  tcp_keepalive_interval: 5s\n"
                      "  tcp_keepalive_count: 3\n"
                      "limits:\n"
                      "  max_server_message_size: 16MB\n"
                      "nodes:\n"
                      "  - {name: a, host: h, database: d, user: u}\n"
                      "  - {name: b, host: h, database: d, user: u, query_timeout: 0, "
                      "connect_timeout: 250ms}\n"
                      "  - {name: c, host: h, database: d, user: u, query_timeout: 2m}\n"
                      "databases: [{name: shop, default_node: a}]\n"
                      "users: [{name: app, auth: trust}, {name: ops, auth: trust}, "
                      "{name: mon, auth: trust}]\n"
                      "admin_users: [ops]\n"
                      "stats_users: [mon, ops]\n");
    assert_int_equal(c->max_startup, 50);
    assert_int_equal(c->auth_timeout_ms, 5000);
    assert_int_equal(c->connect_timeout_ms, 3000);
    assert_int_equal(c->query_timeout_ms, 30000);
    assert_false(c->tcp_keepalive);
    assert_int_equal(c->tcp_keepalive_idle_ms, 120000);
    assert_int_equal(c->tcp_keepalive_interval_ms, 5000);
    assert_int_equal(c->tcp_keepalive_count, 3);
    assert_int_equal(c->max_server_message_size, 16u * 1024 * 1024);
    /* a: both from the pool; b: both its own (0 switches the timeout off); c: one of each */
    assert_int_equal(c->nodes[0].query_timeout_ms, 30000);
    assert_int_equal(c->nodes[0].connect_timeout_ms, 3000);
    assert_int_equal(c->nodes[1].query_timeout_ms, 0);
    assert_int_equal(c->nodes[1].connect_timeout_ms, 250);
    assert_int_equal(c->nodes[2].query_timeout_ms, 120000);
    assert_int_equal(c->nodes[2].connect_timeout_ms, 3000);
    assert_int_equal(c->n_admin_users, 1);
    assert_string_equal(c->admin_users[0], "ops");
    assert_int_equal(c->n_stats_users, 2);
    assert_string_equal(c->stats_users[1], "ops");
    assert_int_equal(sw_conf_console_access(c, "ops"), SW_CONSOLE_ADMIN);
    assert_int_equal(sw_conf_console_access(c, "mon"), SW_CONSOLE_STATS);
    assert_int_equal(sw_conf_console_access(c, "app"), SW_CONSOLE_NONE);
    assert_int_equal(sw_conf_console_access(c, "nobody"), SW_CONSOLE_NONE);
    sw_conf_free(c);

    /* Empty lists, or lists with every entry commented out, grant nothing. */
    c = load(TAIL "admin_users: []\n"
                  "stats_users:\n"
                  "#  - app\n");
    assert_int_equal(c->n_admin_users, 0);
    assert_int_equal(c->n_stats_users, 0);
    assert_int_equal(sw_conf_console_access(c, "app"), SW_CONSOLE_NONE);
    sw_conf_free(c);
}

/* Sections may come in any order: databases can name nodes declared later. */
static void test_section_order(void **state)
{
    (void)state;
    sw_conf *c = load("users: [{name: app, auth: trust}]\n"
                      "databases: [{name: shop, default_node: b}]\n"
                      "nodes:\n"
                      "  - {name: a, host: h, database: d, user: u}\n"
                      "  - {name: b, host: h, database: d, user: u}\n"
                      "log: {level: error}\n");
    assert_int_equal(c->databases[0].default_node, 1);
    assert_int_equal(c->log_level, SW_LOG_ERROR);
    sw_conf_free(c);
}

static int load_duration(const char *text)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml, "pool:\n  idle_timeout: %s\n" TAIL, text);
    sw_conf *c = load(yaml);
    int ms = c->idle_timeout_ms;
    sw_conf_free(c);
    return ms;
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(load_duration("0"), 0);
    assert_int_equal(load_duration("250"), 250);
    assert_int_equal(load_duration("250ms"), 250);
    assert_int_equal(load_duration("5s"), 5000);
    assert_int_equal(load_duration("10m"), 600000);
    assert_int_equal(load_duration("1h"), 3600000);
    assert_int_equal(load_duration("2H"), 7200000);
    assert_int_equal(load_duration("7 s"), 7000);
    assert_int_equal(load_duration("'15s'"), 15000);
    assert_int_equal(load_duration("+3s"), 3000);
    assert_int_equal(load_duration("0s"), 0);
    assert_int_equal(load_duration("596h"), 596 * 3600000);
    assert_int_equal(load_duration("2145600000"), 2145600000);
}

static uint32_t load_size(const char *text)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml, "limits:\n  max_message_size: %s\n" TAIL, text);
    sw_conf *c = load(yaml);
    uint32_t v = c->max_message_size;
    sw_conf_free(c);
    return v;
}

static void test_sizes(void **state)
{
    (void)state;
    assert_int_equal(load_size("1024"), 1024);
    assert_int_equal(load_size("4096B"), 4096);
    assert_int_equal(load_size("1kB"), 1024);
    assert_int_equal(load_size("8KB"), 8192);
    assert_int_equal(load_size("8kb"), 8192);
    assert_int_equal(load_size("2MB"), 2 * 1024 * 1024);
    assert_int_equal(load_size("3mb"), 3 * 1024 * 1024);
    assert_int_equal(load_size("16MiB"), 16 * 1024 * 1024);
    assert_int_equal(load_size("1GB"), 1024u * 1024 * 1024);
    assert_int_equal(load_size("1 gb"), 1024u * 1024 * 1024);
}

/* "md5" followed by anything but 32 lowercase hex digits is a plaintext
 * password that happens to start with "md5". */
static void test_password_classes(void **state)
{
    (void)state;
    sw_conf *c =
        load("users:\n"
             "  - {name: a, auth: md5, password: md5C0BB0377275F05208B4D07C33A830E44}\n"
             "  - {name: b, auth: md5, password: md5c0bb0377275f05208b4d07c33a830e4}\n"
             "  - {name: c, auth: md5, password: " MD5_OK "}\n"
             "  - {name: d, auth: scram-sha-256, password: 'SCRAM-SHA-256$1:AAAA$AAAA:AAAA'}\n"
             "  - {name: e, auth: trust, password: " MD5_OK "}\n"
             "  - {name: f, auth: trust, password: '" SCRAM_OK "'}\n"
             "nodes: [{name: n, host: h, database: d, user: u}]\n"
             "databases: [{name: d, default_node: n}]\n");
    assert_string_equal(c->users[0].password, "md5C0BB0377275F05208B4D07C33A830E44");
    assert_null(c->users[0].md5_hash);
    assert_string_equal(c->users[1].password, "md5c0bb0377275f05208b4d07c33a830e4");
    assert_null(c->users[1].md5_hash);
    assert_null(c->users[2].password);
    assert_string_equal(c->users[2].md5_hash, MD5_OK);
    assert_string_equal(c->users[3].scram_secret, "SCRAM-SHA-256$1:AAAA$AAAA:AAAA");
    assert_string_equal(c->users[4].md5_hash, MD5_OK);
    assert_string_equal(c->users[5].scram_secret, SCRAM_OK);
    sw_conf_free(c);
}

static void test_lookups(void **state)
{
    (void)state;
    sw_conf *c = load("nodes:\n"
                      "  - {name: a, host: h, database: d, user: u}\n"
                      "  - {name: b, host: h, database: d, user: u}\n"
                      "databases: [{name: shop, default_node: b}, {name: crm, default_node: a}]\n"
                      "users: [{name: app, auth: trust}, {name: ops, auth: trust}]\n");
    assert_int_equal(sw_conf_node_index(c, "a"), 0);
    assert_int_equal(sw_conf_node_index(c, "b"), 1);
    assert_int_equal(sw_conf_node_index(c, "c"), -1);
    assert_ptr_equal(sw_conf_user_find(c, "ops"), &c->users[1]);
    assert_null(sw_conf_user_find(c, "OPS"));
    assert_ptr_equal(sw_conf_database_find(c, "crm"), &c->databases[1]);
    assert_null(sw_conf_database_find(c, "nope"));
    assert_string_equal(sw_pool_mode_name(SW_POOL_SESSION), "session");
    assert_string_equal(sw_pool_mode_name(SW_POOL_TRANSACTION), "transaction");
    assert_string_equal(sw_auth_method_name(SW_AUTH_METHOD_TRUST), "trust");
    assert_string_equal(sw_auth_method_name(SW_AUTH_METHOD_MD5), "md5");
    assert_string_equal(sw_auth_method_name(SW_AUTH_METHOD_SCRAM), "scram-sha-256");
    sw_conf_free(c);
    sw_conf_free(NULL);
}

/* ------------------------------------------------------------ files */

static void test_example_files(void **state)
{
    (void)state;
    sw_conf *c = NULL;
    int rc = sw_conf_load("../../config/shardwire.yaml", &c, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    assert_string_equal(c->path, "../../config/shardwire.yaml");
    assert_int_equal(c->listen_port, 6432);
    assert_int_equal(c->n_nodes, 2);
    assert_int_equal(c->n_databases, 1);
    assert_int_equal(c->n_users, 2);
    assert_string_equal(c->users[1].md5_hash, MD5_OK);
    /* The example documents the defaults, so it must agree with them. */
    sw_conf *d = load(TAIL);
    assert_string_equal(c->listen_host, d->listen_host);
    assert_int_equal(c->max_clients, d->max_clients);
    assert_int_equal(c->shutdown_timeout_ms, d->shutdown_timeout_ms);
    assert_int_equal(c->pool_mode, d->pool_mode);
    assert_int_equal(c->pool_size, d->pool_size);
    assert_int_equal(c->connect_timeout_ms, d->connect_timeout_ms);
    assert_int_equal(c->idle_timeout_ms, d->idle_timeout_ms);
    assert_int_equal(c->query_wait_timeout_ms, d->query_wait_timeout_ms);
    assert_int_equal(c->client_idle_timeout_ms, d->client_idle_timeout_ms);
    assert_string_equal(c->reset_query, d->reset_query);
    assert_int_equal(c->max_prepared_per_server, d->max_prepared_per_server);
    assert_int_equal(c->max_message_size, d->max_message_size);
    assert_int_equal(c->log_level, d->log_level);
    assert_int_equal(c->max_startup, d->max_startup);
    assert_int_equal(c->auth_timeout_ms, d->auth_timeout_ms);
    assert_int_equal(c->query_timeout_ms, d->query_timeout_ms);
    assert_int_equal(c->tcp_keepalive, d->tcp_keepalive);
    assert_int_equal(c->tcp_keepalive_idle_ms, d->tcp_keepalive_idle_ms);
    assert_int_equal(c->tcp_keepalive_interval_ms, d->tcp_keepalive_interval_ms);
    assert_int_equal(c->tcp_keepalive_count, d->tcp_keepalive_count);
    assert_int_equal(c->max_server_message_size, d->max_server_message_size);
    /* The example names its console users. */
    assert_int_equal(sw_conf_console_access(c, "app"), SW_CONSOLE_ADMIN);
    assert_int_equal(sw_conf_console_access(c, "report"), SW_CONSOLE_STATS);
    sw_conf_free(d);
    sw_conf_free(c);

    rc = sw_conf_load("../../config/test-minimal.yaml", &c, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    assert_int_equal(c->n_nodes, 1);
    assert_int_equal(c->users[0].auth, SW_AUTH_METHOD_TRUST);
    sw_conf_free(c);
}

static void test_file_errors(void **state)
{
    (void)state;
    sw_conf *c = (sw_conf *)0x1;
    assert_int_equal(sw_conf_load("conf/does-not-exist.yaml", &c, err, sizeof err), -1);
    assert_null(c);
    assert_string_equal(err,
                        "conf/does-not-exist.yaml: error: cannot open: No such file or directory");

    assert_int_equal(sw_conf_load("conf", &c, err, sizeof err), -1);
    assert_string_equal(err, "conf: error: cannot read: Is a directory");

    assert_int_equal(sw_conf_load("conf/bad_port.yaml", &c, err, sizeof err), -1);
    assert_null(c);
    assert_string_equal(
        err, "conf/bad_port.yaml:5:9: error: listen.port must be an integer between 1 and "
             "65535, got \"643200\"\n"
             "conf/bad_port.yaml:14:5: error: unknown key \"pasword\" in users[0]\n"
             "  hint: did you mean \"password\"?");
}

/* ------------------------------------------------------------ robustness */

/* A small buffer gets a truncated but terminated message. */
static void test_small_buffer(void **state)
{
    (void)state;
    char small[24];
    sw_conf *c = NULL;
    const char *yaml = "listen:\n  prot: 1\n" TAIL;
    assert_int_equal(sw_conf_load_string("test.yaml", yaml, strlen(yaml), &c, small, sizeof small),
                     -1);
    assert_string_equal(small, "test.yaml:2:3: error: u");
    assert_int_equal(sw_conf_load_string("test.yaml", yaml, strlen(yaml), &c, NULL, 0), -1);
    assert_null(c);
}

/* Every prefix of a full file either loads or fails with a diagnostic;
 * under ASan this also proves no error path leaks. */
static void test_truncations(void **state)
{
    (void)state;
    static const char full[] = "listen: {host: h, port: 1, max_clients: 2, shutdown_timeout: 3s}\n"
                               "pool:\n"
                               "  mode: session\n"
                               "  reset_query: \"DISCARD ALL\"\n"
                               "limits: {max_message_size: 2MB}\n"
                               "nodes:\n"
                               "  - name: n0\n"
                               "    host: h\n"
                               "    database: d\n"
                               "    user: u\n"
                               "    password: p\n"
                               "databases:\n"
                               "  - {name: d, default_node: n0}\n"
                               "users:\n"
                               "  - name: app\n"
                               "    auth: md5\n"
                               "    password: 'x'\n";
    int ok = 0;
    for (size_t n = 0; n <= sizeof full - 1; n++) {
        char *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, full, n);
        sw_conf *c = NULL;
        err[0] = '\0';
        if (sw_conf_load_string("t.yaml", copy, n, &c, err, sizeof err) == 0) {
            ok++;
            sw_conf_free(c);
        } else {
            assert_null(c);
            assert_true(strncmp(err, "t.yaml:", 7) == 0);
        }
        free(copy);
    }
    assert_true(ok >= 1);
}

/* Several independent mistakes are all reported, in file order. */
static void test_multiple_errors(void **state)
{
    (void)state;
    expect_error(
        "listen:\n"
        "  port: 0\n"
        "  hots: x\n"
        "pool:\n"
        "  mode: sesion\n"
        "nodes:\n"
        "  - {name: a, host: h, database: d, user: u}\n"
        "  - {name: a, host: h, database: d}\n"
        "databases:\n"
        "  - {name: shop, default_node: nowhere}\n"
        "users:\n"
        "  - {name: app, auth: trust}\n",
        "test.yaml:2:9: error: listen.port must be an integer between 1 and 65535, got \"0\"\n"
        "test.yaml:3:3: error: unknown key \"hots\" in listen\n"
        "  hint: did you mean \"host\"?\n"
        "test.yaml:5:9: error: pool.mode must be \"transaction\" or \"session\", got \"sesion\"\n"
        "  hint: did you mean \"session\"?\n"
        "test.yaml:8:5: error: node is missing required key \"user\"\n"
        "test.yaml:8:12: error: duplicate node name \"a\", first defined at line 7");
}

/* Past twenty errors the rest are counted but not shown. */
static void test_error_cap(void **state)
{
    (void)state;
    char yaml[4096] = "listen:\n";
    for (int i = 0; i < 30; i++) {
        char line[32];
        snprintf(line, sizeof line, "  k%d: 1\n", i);
        strcat(yaml, line);
    }
    strcat(yaml, TAIL);
    sw_conf *c = NULL;
    assert_int_equal(sw_conf_load_string("test.yaml", yaml, strlen(yaml), &c, err, sizeof err), -1);
    int lines = 0;
    for (const char *p = err; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 20);
    assert_non_null(strstr(err, "test.yaml:21:3: error: unknown key \"k19\" in listen\n"));
    assert_non_null(strstr(err, "\ntest.yaml: error: too many errors, not showing the rest"));
    assert_null(strstr(err, "k20"));
}

/* ------------------------------------------------------------ error cases */

typedef struct error_case {
    const char *name;
    const char *yaml;
    const char *expected;
} error_case;

static const error_case error_cases[] = {
    {"max_startup_zero",
     "listen:\n"
     "  max_startup: 0\n"
     TAIL,
     "test.yaml:2:16: error: listen.max_startup must be an integer between 1 and 1000000, got \"0\""},
    {"auth_timeout_too_short",
     "listen:\n"
     "  auth_timeout: 500ms\n"
     TAIL,
     "test.yaml:2:17: error: listen.auth_timeout must be a duration between 1s and 1h, got \"500ms\""},
    {"auth_timeout_zero",
     "listen:\n"
     "  auth_timeout: 0\n"
     TAIL,
     "test.yaml:2:17: error: listen.auth_timeout must be a duration between 1s and 1h, got \"0\""},
    {"query_timeout_negative",
     "pool:\n"
     "  query_timeout: -1s\n"
     TAIL,
     "test.yaml:2:18: error: pool.query_timeout must be a duration between 0 and 596h, got \"-1s\""},
    {"node_query_timeout_bad",
     "nodes:\n"
     "  - {name: n, host: h, database: d, user: u, query_timeout: soon}\n"
     "databases: [{name: shop, default_node: n}]\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:2:61: error: nodes[0].query_timeout must be a duration between 0 and 596h, got \"soon\"\n"
     "  hint: write milliseconds, or a number with a unit: 250ms, 5s, 10m, 1h"},
    {"node_connect_timeout_zero",
     "nodes:\n"
     "  - {name: n, host: h, database: d, user: u, connect_timeout: 0}\n"
     "databases: [{name: shop, default_node: n}]\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:2:63: error: nodes[0].connect_timeout must be a duration between 1ms and 596h, got \"0\""},
    {"node_timeout_typo",
     "nodes:\n"
     "  - {name: n, host: h, database: d, user: u, query_timout: 1s}\n"
     "databases: [{name: shop, default_node: n}]\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:2:46: error: unknown key \"query_timout\" in nodes[0]\n"
     "  hint: did you mean \"query_timeout\"?"},
    {"keepalive_not_bool",
     "pool:\n"
     "  tcp_keepalive: yes\n"
     TAIL,
     "test.yaml:2:18: error: pool.tcp_keepalive must be true or false, got \"yes\""},
    {"keepalive_idle_fraction",
     "pool:\n"
     "  tcp_keepalive_idle: 1500ms\n"
     TAIL,
     "test.yaml:2:23: error: pool.tcp_keepalive_idle must be a whole number of seconds, got \"1500ms\"\n"
     "  hint: TCP keepalive times are set in seconds: write 1s or 2s"},
    {"keepalive_interval_too_large",
     "pool:\n"
     "  tcp_keepalive_interval: 10h\n"
     TAIL,
     "test.yaml:2:27: error: pool.tcp_keepalive_interval must be a duration between 1s and 32767s, got \"10h\""},
    {"keepalive_idle_too_short",
     "pool:\n"
     "  tcp_keepalive_idle: 0\n"
     TAIL,
     "test.yaml:2:23: error: pool.tcp_keepalive_idle must be a duration between 1s and 32767s, got \"0\""},
    {"keepalive_count_too_large",
     "pool:\n"
     "  tcp_keepalive_count: 128\n"
     TAIL,
     "test.yaml:2:24: error: pool.tcp_keepalive_count must be an integer between 1 and 127, got \"128\""},
    {"server_message_size_too_small",
     "limits:\n"
     "  max_server_message_size: 512kB\n"
     TAIL,
     "test.yaml:2:28: error: limits.max_server_message_size must be a size between 1MB and 1GB, got \"512kB\""},
    {"server_message_size_too_large",
     "limits:\n"
     "  max_server_message_size: 2GB\n"
     TAIL,
     "test.yaml:2:28: error: limits.max_server_message_size must be a size between 1MB and 1GB, got \"2GB\""},
    {"admin_users_not_a_sequence",
     TAIL
     "admin_users: app\n",
     "test.yaml:7:14: error: admin_users must be a sequence of user names, got \"app\"\n"
     "  hint: write admin_users: [name, ...] with names from users"},
    {"admin_users_unknown_with_hint",
     TAIL
     "admin_users: [apq]\n",
     "test.yaml:7:15: error: admin_users[0] names unknown user \"apq\"\n"
     "  hint: did you mean \"app\"?"},
    {"stats_users_unknown",
     TAIL
     "stats_users:\n"
     "  - app\n"
     "  - monitoring\n",
     "test.yaml:9:5: error: stats_users[1] names unknown user \"monitoring\"\n"
     "  hint: known users: app"},
    {"admin_users_duplicate",
     TAIL
     "admin_users: [app, app]\n",
     "test.yaml:7:20: error: admin_users lists user \"app\" twice"},
    {"stats_users_item_not_string",
     TAIL
     "stats_users: [[app]]\n",
     "test.yaml:7:15: error: stats_users[0] must be a non-empty string, got a sequence"},
    {"unknown_key_with_hint",
     "listen:\n"
     "  host: 127.0.0.1\n"
     "  prot: 6432\n"
     TAIL,
     "test.yaml:3:3: error: unknown key \"prot\" in listen\n"
     "  hint: did you mean \"port\"?"},
    {"unknown_key_no_hint",
     "pool:\n"
     "  banana: 1\n"
     TAIL,
     "test.yaml:2:3: error: unknown key \"banana\" in pool"},
    {"unknown_top_level_key",
     TAIL
     "lisen:\n"
     "  port: 1\n",
     "test.yaml:7:1: error: unknown key \"lisen\" at top level\n"
     "  hint: did you mean \"listen\"?"},
    {"unknown_key_in_node",
     "nodes:\n"
     "  - name: shard0\n"
     "    hots: db0\n"
     "    host: db0\n"
     "    database: shop\n"
     "    user: postgres\n"
     "databases: [{name: shop, default_node: shard0}]\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:3:5: error: unknown key \"hots\" in nodes[0]\n"
     "  hint: did you mean \"host\"?"},
    {"port_not_integer",
     "listen:\n"
     "  port: abc\n"
     TAIL,
     "test.yaml:2:9: error: listen.port must be an integer between 1 and 65535, got \"abc\""},
    {"port_too_large",
     "listen:\n"
     "  port: 65536\n"
     TAIL,
     "test.yaml:2:9: error: listen.port must be an integer between 1 and 65535, got \"65536\""},
    {"port_is_a_sequence",
     "listen:\n"
     "  port: [1, 2]\n"
     TAIL,
     "test.yaml:2:9: error: listen.port must be an integer between 1 and 65535, got a sequence"},
    {"port_fractional",
     "listen:\n"
     "  port: 64.5\n"
     TAIL,
     "test.yaml:2:9: error: listen.port must be an integer between 1 and 65535, got \"64.5\""},
    {"node_port_zero",
     "nodes:\n"
     "  - {name: shard0, host: db0, port: 0, database: shop, user: postgres}\n"
     "databases: [{name: shop, default_node: shard0}]\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:2:37: error: nodes[0].port must be an integer between 1 and 65535, got \"0\""},
    {"max_clients_zero",
     "listen:\n"
     "  max_clients: 0\n"
     TAIL,
     "test.yaml:2:16: error: listen.max_clients must be an integer between 1 and 1000000, got \"0\""},
    {"pool_size_too_large",
     "pool:\n"
     "  size: 10001\n"
     TAIL,
     "test.yaml:2:9: error: pool.size must be an integer between 1 and 10000, got \"10001\""},
    {"bad_pool_mode",
     "pool:\n"
     "  mode: transacton\n"
     TAIL,
     "test.yaml:2:9: error: pool.mode must be \"transaction\" or \"session\", got \"transacton\"\n"
     "  hint: did you mean \"transaction\"?"},
    {"bad_pool_mode_far",
     "pool:\n"
     "  mode: statement\n"
     TAIL,
     "test.yaml:2:9: error: pool.mode must be \"transaction\" or \"session\", got \"statement\""},
    {"bad_log_level",
     "log:\n"
     "  level: verbose\n"
     TAIL,
     "test.yaml:2:10: error: log.level must be one of \"error\", \"warning\", \"info\", \"debug\", got \"verbose\""},
    {"bad_auth_method",
     TAIL
     "  - {name: x, auth: scram}\n",
     "test.yaml:7:21: error: users[1].auth must be one of \"trust\", \"md5\", \"scram-sha-256\", got \"scram\""},
    {"bad_duration_unit",
     "pool:\n"
     "  connect_timeout: 5 sec\n"
     TAIL,
     "test.yaml:2:20: error: pool.connect_timeout must be a duration between 1ms and 596h, got \"5 sec\"\n"
     "  hint: write milliseconds, or a number with a unit: 250ms, 5s, 10m, 1h"},
    {"bad_duration_fraction",
     "pool:\n"
     "  idle_timeout: 1.5h\n"
     TAIL,
     "test.yaml:2:17: error: pool.idle_timeout must be a duration between 0 and 596h, got \"1.5h\"\n"
     "  hint: write milliseconds, or a number with a unit: 250ms, 5s, 10m, 1h"},
    {"negative_duration",
     "listen:\n"
     "  shutdown_timeout: -5s\n"
     TAIL,
     "test.yaml:2:21: error: listen.shutdown_timeout must be a duration between 0 and 596h, got \"-5s\""},
    {"duration_overflow",
     "pool:\n"
     "  query_wait_timeout: 99999999999999999999s\n"
     TAIL,
     "test.yaml:2:23: error: pool.query_wait_timeout must be a duration between 1ms and 596h, got \"99999999999999999999s\""},
    {"duration_too_large",
     "pool:\n"
     "  client_idle_timeout: 597h\n"
     TAIL,
     "test.yaml:2:24: error: pool.client_idle_timeout must be a duration between 0 and 596h, got \"597h\""},
    {"zero_connect_timeout",
     "pool:\n"
     "  connect_timeout: 0s\n"
     TAIL,
     "test.yaml:2:20: error: pool.connect_timeout must be a duration between 1ms and 596h, got \"0s\""},
    {"size_too_small",
     "limits:\n"
     "  max_message_size: 1023\n"
     TAIL,
     "test.yaml:2:21: error: limits.max_message_size must be a size between 1kB and 1GB, got \"1023\""},
    {"size_too_large",
     "limits:\n"
     "  max_message_size: 2GB\n"
     TAIL,
     "test.yaml:2:21: error: limits.max_message_size must be a size between 1kB and 1GB, got \"2GB\""},
    {"size_bad_unit",
     "limits:\n"
     "  max_message_size: 64TB\n"
     TAIL,
     "test.yaml:2:21: error: limits.max_message_size must be a size between 1kB and 1GB, got \"64TB\"\n"
     "  hint: write bytes, or a number with a unit: 512kB, 64MB, 1GB"},
    {"duplicate_key",
     "listen:\n"
     "  port: 6432\n"
     "  host: h\n"
     "  port: 7432\n"
     TAIL,
     "test.yaml:4:3: error: duplicate key \"port\" in listen, first defined at line 2"},
    {"duplicate_section",
     "pool:\n"
     "  size: 2\n"
     TAIL
     "pool:\n"
     "  size: 3\n",
     "test.yaml:9:1: error: duplicate key \"pool\" at top level, first defined at line 1"},
    {"duplicate_node_name",
     "nodes:\n"
     "  - {name: shard0, host: a, database: d, user: u}\n"
     "  - {name: shard1, host: b, database: d, user: u}\n"
     "  - {name: shard0, host: c, database: d, user: u}\n"
     "databases: [{name: shop, default_node: shard0}]\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:4:12: error: duplicate node name \"shard0\", first defined at line 2"},
    {"duplicate_user_name",
     TAIL
     "  - name: app\n"
     "    auth: trust\n",
     "test.yaml:7:11: error: duplicate user name \"app\", first defined at line 6"},
    {"duplicate_database_name",
     TAIL
     "databases:\n"
     "  - {name: shop, default_node: shard0}\n",
     "test.yaml:7:1: error: duplicate key \"databases\" at top level, first defined at line 3"},
    {"duplicate_database_entry",
     "nodes: [{name: n, host: h, database: d, user: u}]\n"
     "databases:\n"
     "  - name: shop\n"
     "    default_node: n\n"
     "  - name: crm\n"
     "    default_node: n\n"
     "  - name: shop\n"
     "    default_node: n\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:7:11: error: duplicate database name \"shop\", first defined at line 3"},
    {"unknown_default_node",
     "nodes:\n"
     "  - {name: shard0, host: a, database: d, user: u}\n"
     "  - {name: shard1, host: b, database: d, user: u}\n"
     "databases:\n"
     "  - {name: shop, default_node: shard0}\n"
     "  - {name: crm, default_node: shard2}\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:6:31: error: databases[1].default_node names unknown node \"shard2\"\n"
     "  hint: known nodes: shard0, shard1"},
    {"node_missing_host",
     "nodes:\n"
     "  - name: shard0\n"
     "    database: shop\n"
     "    user: postgres\n"
     "databases: [{name: shop, default_node: shard0}]\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:2:5: error: node is missing required key \"host\""},
    {"database_missing_default_node",
     "nodes: [{name: n, host: h, database: d, user: u}]\n"
     "databases:\n"
     "  - name: shop\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:3:5: error: database is missing required key \"default_node\""},
    {"missing_users",
     "nodes: [{name: n, host: h, database: d, user: u}]\n"
     "databases: [{name: shop, default_node: n}]\n",
     "test.yaml:1:1: error: configuration is missing required key \"users\""},
    {"empty_nodes",
     "nodes: []\n"
     "databases: [{name: shop, default_node: n}]\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:1:8: error: nodes must not be empty\n"
     "  hint: declare at least one node"},
    {"nodes_not_a_sequence",
     "nodes:\n"
     "  name: shard0\n"
     "  host: h\n"
     "databases: [{name: shop, default_node: n}]\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:2:3: error: nodes must be a sequence of nodes, got a mapping\n"
     "  hint: start each node with \"- \" on its own line"},
    {"node_entry_not_a_mapping",
     "nodes:\n"
     "  - shard0\n"
     "databases: [{name: shop, default_node: n}]\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:2:5: error: nodes[0] must be a mapping, got \"shard0\""},
    {"bad_node_name",
     "nodes:\n"
     "  - {name: 0shard, host: h, database: d, user: u}\n"
     "databases: [{name: shop, default_node: n}]\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:2:12: error: nodes[0].name must be a name of letters, digits, '_' and '-', got \"0shard\"\n"
     "  hint: start with a letter or '_', like shard0 or eu_west-1"},
    {"empty_host",
     "listen:\n"
     "  host: \"\"\n"
     TAIL,
     "test.yaml:2:9: error: listen.host must be a non-empty string, got \"\""},
    {"null_node_user",
     "nodes:\n"
     "  - name: n\n"
     "    host: h\n"
     "    database: d\n"
     "    user:\n"
     "databases: [{name: shop, default_node: n}]\n"
     "users: [{name: app, auth: trust}]\n",
     "test.yaml:5:10: error: nodes[0].user must be a non-empty string, got an empty value"},
    {"section_not_a_mapping",
     "listen: 6432\n"
     TAIL,
     "test.yaml:1:9: error: listen must be a mapping, got \"6432\""},
    {"reset_query_mapping",
     "pool:\n"
     "  reset_query: {a: 1}\n"
     TAIL,
     "test.yaml:2:16: error: pool.reset_query must be a string, got a mapping"},
    {"md5_with_scram_secret",
     TAIL
     "  - name: legacy\n"
     "    auth: md5\n"
     "    password: '" SCRAM_OK "'\n",
     "test.yaml:9:15: error: user \"legacy\" has auth md5 but its password is a SCRAM-SHA-256 verifier\n"
     "  hint: md5 cannot use a SCRAM secret; store a plaintext or md5 password, or use auth: scram-sha-256"},
    {"scram_with_md5_hash",
     TAIL
     "  - name: modern\n"
     "    auth: scram-sha-256\n"
     "    password: " MD5_OK "\n",
     "test.yaml:9:15: error: user \"modern\" has auth scram-sha-256 but its password is an md5 hash\n"
     "  hint: SCRAM cannot use an md5 hash; store a plaintext password or a SCRAM-SHA-256 verifier, or use auth: md5"},
    {"md5_without_password",
     TAIL
     "  - name: legacy\n"
     "    auth: md5\n",
     "test.yaml:7:5: error: user \"legacy\" has auth md5 but no password\n"
     "  hint: add a plaintext or md5 password, or use auth: trust"},
    {"default_scram_without_password",
     TAIL
     "  - name: modern\n"
     "    pool_size: 2\n",
     "test.yaml:7:5: error: user \"modern\" has auth scram-sha-256 but no password\n"
     "  hint: add a plaintext password or a SCRAM-SHA-256 verifier, or use auth: trust"},
    {"malformed_scram_secret",
     TAIL
     "  - {name: m, password: 'SCRAM-SHA-256$4096:c2FsdA=$AAAA:AAAA'}\n",
     "test.yaml:7:25: error: users[1].password is not a well-formed SCRAM-SHA-256 verifier\n"
     "  hint: expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, as in pg_authid"},
    {"scram_secret_zero_iterations",
     TAIL
     "  - {name: m, password: 'SCRAM-SHA-256$0:AAAA$AAAA:AAAA'}\n",
     "test.yaml:7:25: error: users[1].password is not a well-formed SCRAM-SHA-256 verifier\n"
     "  hint: expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, as in pg_authid"},
    {"empty_user_password",
     TAIL
     "  - {name: m, password: ''}\n",
     "test.yaml:7:25: error: users[1].password must be a non-empty string, got \"\""},
    {"user_pool_overrides",
     TAIL
     "  - {name: m, auth: trust, pool_size: 0, pool_mode: sesion}\n",
     "test.yaml:7:39: error: users[1].pool_size must be an integer between 1 and 10000, got \"0\"\n"
     "test.yaml:7:53: error: users[1].pool_mode must be \"transaction\" or \"session\", got \"sesion\"\n"
     "  hint: did you mean \"session\"?"},
    {"yaml_unclosed_flow",
     "listen: [1, 2\n"
     "pool: {}\n",
     "test.yaml:2:5: error: did not find expected ',' or ']'\n"
     "  hint: while parsing a flow sequence that starts at line 1, column 9"},
    {"yaml_bad_indentation",
     "listen:\n"
     "  port: 1\n"
     " host: x\n"
     TAIL,
     "test.yaml:3:2: error: did not find expected key\n"
     "  hint: while parsing a block mapping that starts at line 1, column 1"},
    {"yaml_tab_indentation",
     "listen:\n"
     "\tport: 1\n"
     TAIL,
     "test.yaml:2:1: error: found character that cannot start any token\n"
     "  hint: YAML does not allow tabs for indentation; use spaces"},
    {"yaml_unterminated_quote",
     "listen:\n"
     "  host: 'x\n",
     "test.yaml:3:1: error: found unexpected end of stream\n"
     "  hint: while scanning a quoted scalar that starts at line 2, column 9"},
    {"yaml_invalid_utf8",
     "listen:\n"
     "  host: \xff\n",
     "test.yaml:2:9: error: invalid leading UTF-8 octet (byte 0xFF)\n"
     "  hint: the configuration must be UTF-8 text"},
    {"empty_file",
     "",
     "test.yaml:1:1: error: configuration is empty\n"
     "  hint: at least nodes, databases and users must be configured"},
    {"comments_only",
     "# nothing here\n"
     "\n"
     "   # at all\n",
     "test.yaml:1:1: error: configuration is empty\n"
     "  hint: at least nodes, databases and users must be configured"},
    {"empty_document",
     "---\n"
     "...\n",
     "test.yaml:1:1: error: configuration is empty\n"
     "  hint: at least nodes, databases and users must be configured"},
    {"top_level_sequence",
     "- listen\n"
     "- pool\n",
     "test.yaml:1:1: error: top level must be a mapping of sections, got a sequence"},
    {"top_level_scalar",
     "just some text\n",
     "test.yaml:1:1: error: top level must be a mapping of sections, got \"just some text\""},
    {"two_documents",
     TAIL
     "---\n"
     "listen: {}\n",
     "test.yaml:7:1: error: a configuration file must hold a single YAML document\n"
     "  hint: remove this \"---\" and everything after it"},
    {"alias",
     "nodes:\n"
     "  - &n0 {name: a, host: h, database: d, user: u}\n"
     "  - *n0\n",
     "test.yaml:3:5: error: YAML aliases are not supported (*n0)\n"
     "  hint: write the value out in full"},
    {"complex_key",
     "? [a, b]\n"
     ": 1\n",
     "test.yaml:1:3: error: mapping keys must be scalars, not a sequence"},
    {"escaped_key_is_quoted",
     "\"li\\tsten\": {}\n"
     TAIL,
     "test.yaml:1:1: error: unknown key \"li\\tsten\" at top level\n"
     "  hint: did you mean \"listen\"?"},
};

static void run_error_case(void **state)
{
    const error_case *ec = *state;
    expect_error(ec->yaml, ec->expected);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_sections),
        cmocka_unit_test(test_section_order),
        cmocka_unit_test(test_bounds_keys),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_password_classes),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_example_files),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_small_buffer),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_multiple_errors),
        cmocka_unit_test(test_error_cap),
    };
    enum {
        N_FIXED = sizeof fixed / sizeof fixed[0],
        N_CASES = sizeof error_cases / sizeof error_cases[0]
    };
    /* One cmocka test per error case, named after it, so a failure says
     * which diagnostic regressed. */
    static struct CMUnitTest tests[N_FIXED + N_CASES];
    memcpy(tests, fixed, sizeof fixed);
    for (size_t i = 0; i < N_CASES; i++) {
        tests[N_FIXED + i] = (struct CMUnitTest){
            .name = error_cases[i].name,
            .test_func = run_error_case,
            .initial_state = (void *)&error_cases[i],
        };
    }
    return _cmocka_run_group_tests("conf", tests, N_FIXED + N_CASES, NULL, NULL);
}
