/*
 * main.c - the shardwire process: command line, configuration load and live
 * reload (SIGHUP), the listener, the janitor timer, and shutdown (SIGTERM
 * drains running transactions within shutdown_timeout, SIGINT stops at once).
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "sw/log.h"
#include "sw/proxy.h"

sw_proxy sw_g;

#define JANITOR_MS 100

static void usage(FILE *f)
{
    fprintf(f,
            "shardwire %s - a sharding router proxy for PostgreSQL\n"
            "\n"
            "Usage: shardwire -c FILE [--check]\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE   configuration file (YAML)\n"
            "      --check         validate the configuration and exit\n"
            "  -h, --help          show this help and exit\n"
            "  -V, --version       show the version and exit\n"
            "\n"
            "Signals: SIGHUP reloads the configuration, SIGTERM shuts down after running\n"
            "transactions finish (bounded by listen.shutdown_timeout), SIGINT stops at once.\n",
            SW_VERSION);
}

/* Every client, every connection still logging in and every server
 * connection is a descriptor: take the whole hard limit, and say so when
 * even that cannot hold max_clients + max_startup (accept would start
 * failing before those limits are reached). */
static void raise_fd_limit(const sw_conf *conf)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    uint64_t want = (uint64_t)conf->max_clients + (uint64_t)conf->max_startup + 64;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
        sw_warn("open file limit %llu is below listen.max_clients + listen.max_startup + server "
                "connections (%llu or more): raise it (ulimit -n, LimitNOFILE=)",
                (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0) {
        sw_warn("accept failed: %s", uv_strerror(status));
        return;
    }
    sw_client_accept(server);
}

static void close_noop(uv_handle_t *h) { (void)h; }

/* Close every handle we own so that uv_run returns. */
static void proxy_stop(void)
{
    if (sw_g.listening) {
        uv_close((uv_handle_t *)&sw_g.listener, close_noop);
        sw_g.listening = false;
    }
    sw_client_close_all("57P01", "terminating connection due to administrator command");
    sw_pool_close_all();
    sw_recover_stop();
    if (!uv_is_closing((uv_handle_t *)&sw_g.janitor)) uv_close((uv_handle_t *)&sw_g.janitor, close_noop);
    if (!uv_is_closing((uv_handle_t *)&sw_g.sighup)) uv_close((uv_handle_t *)&sw_g.sighup, close_noop);
    if (!uv_is_closing((uv_handle_t *)&sw_g.sigterm)) uv_close((uv_handle_t *)&sw_g.sigterm, close_noop);
    if (!uv_is_closing((uv_handle_t *)&sw_g.sigint)) uv_close((uv_handle_t *)&sw_g.sigint, close_noop);
}

void sw_proxy_retire_unused(void);

static void janitor_cb(uv_timer_t *t)
{
    if (sw_g.n_retired) sw_proxy_retire_unused();
    (void)t;
    uint64_t now = sw_now_ms();
    sw_client_startup_janitor(now);
    sw_pool_janitor(now);
    int idle_ms = sw_g.conf->client_idle_timeout_ms;
    if (idle_ms > 0) {
        sw_client *next;
        for (sw_client *c = sw_g.clients; c; c = next) {
            next = c->next;
            if (c->state == SW_CLIENT_IDLE && now - c->last_active_ms >= (uint64_t)idle_ms) {
                sw_client_error(c, "FATAL", "57P05", "terminating connection due to idle-session timeout", NULL);
                sw_client_close(c, "client idle timeout");
            }
        }
    }
    if (sw_g.shutting_down) {
        if (sw_client_count() == 0) {
            sw_info("all clients gone, exiting");
            proxy_stop();
        } else if (now >= sw_g.shutdown_deadline_ms) {
            sw_warn("shutdown timeout reached with %d clients still connected", sw_client_count());
            proxy_stop();
        }
    }
}

/* Plans belong to the router that made them: drop them all before it goes. */
static void forget_plans(const sw_router *r)
{
    uint32_t pos = 0;
    sw_map_slot *sl;
    while ((sl = sw_map_next(&sw_g.stmt_registry, &pos))) {
        sw_stmt *st = sl->val;
        if (r && st->plan_router != r) continue;
        sw_plan_free(st->plan);
        st->plan = NULL;
        free(st->plan_error);
        st->plan_error = NULL;
        st->plan_router = NULL;
    }
}

int sw_proxy_reload(char *err, size_t errsz);
void sw_proxy_retire_unused(void);

/* Free replaced shard maps no client routes by any more. */
void sw_proxy_retire_unused(void)
{
    for (int i = 0; i < sw_g.n_retired;) {
        sw_router *r = sw_g.retired[i].router;
        bool used = false;
        for (sw_client *c = sw_g.clients; c && !used; c = c->next) {
            if (c->router != r) continue;
            if (c->n_links == 0 && c->txn_status == 'I') c->router = sw_g.router;
            else used = true;
        }
        if (used) { i++; continue; }
        forget_plans(r);
        sw_router_free(r);
        sw_conf_free(sw_g.retired[i].conf);
        sw_g.retired[i] = sw_g.retired[--sw_g.n_retired];
    }
}

/* Load the file again and switch to it; the running configuration stays
 * when the new one is invalid.  0 or -1 with the diagnostics in err. */
int sw_proxy_reload(char *err, size_t errsz)
{
    sw_conf *nc = NULL;
    if (sw_conf_load(sw_g.conf_path, &nc, err, errsz) != 0) {
        sw_error("reload failed, keeping the running configuration:\n%s", err);
        return -1;
    }
    sw_router *nr = sw_router_new(nc, err, errsz);
    if (!nr) {
        sw_error("reload failed, keeping the running configuration:\n%s", err);
        sw_conf_free(nc);
        return -1;
    }
    if (sw_g.n_retired == (int)(sizeof sw_g.retired / sizeof sw_g.retired[0])) {
        sw_error("reload refused: too many reloads while transactions still use old shard maps");
        snprintf(err, errsz, "too many reloads in progress; retry when running transactions end");
        sw_router_free(nr);
        sw_conf_free(nc);
        return -1;
    }
    if (strcmp(nc->listen_host, sw_g.conf->listen_host) != 0 || nc->listen_port != sw_g.conf->listen_port)
        sw_warn("listen address changes take effect after a restart");
    sw_pool_reconfigure(nc);
    /* Clients hold no pointers into the old config beyond conf_user, which
     * they re-resolve when conf_gen moves. */
    /* Transactions under way keep routing by the map they started with:
     * it retires, and is freed once no client uses it. */
    sw_g.retired[sw_g.n_retired].router = sw_g.router;
    sw_g.retired[sw_g.n_retired].conf = sw_g.conf;
    sw_g.n_retired++;
    sw_g.router = nr;
    sw_g.conf = nc;
    sw_g.conf_gen++;
    for (sw_client *c = sw_g.clients; c; c = c->next) c->conf_user = NULL;
    sw_proxy_retire_unused();
    sw_log_current = nc->log_level;
    sw_recover_reconfigure();
    sw_info("configuration reloaded from %s", sw_g.conf_path);
    return 0;
}

static void reload(void)
{
    char err[4096];
    sw_proxy_reload(err, sizeof err);
}

static void signal_cb(uv_signal_t *h, int signum)
{
    (void)h;
    if (signum == SIGHUP) {
        sw_info("SIGHUP: reloading configuration");
        reload();
    } else if (signum == SIGTERM) {
        if (sw_g.shutting_down) return;
        sw_info("SIGTERM: no new connections; waiting up to %d ms for running transactions",
                sw_g.conf->shutdown_timeout_ms);
        sw_g.shutting_down = true;
        sw_g.shutdown_deadline_ms = sw_now_ms() + (uint64_t)sw_g.conf->shutdown_timeout_ms;
        if (sw_g.listening) {
            uv_close((uv_handle_t *)&sw_g.listener, close_noop);
            sw_g.listening = false;
        }
        sw_client_drain_all();
    } else if (signum == SIGINT) {
        sw_info("SIGINT: fast shutdown");
        sw_g.shutting_down = true;
        proxy_stop();
    }
}

static int listen_start(void)
{
    const sw_conf *conf = sw_g.conf;
    struct sockaddr_storage addr;
    if (uv_ip4_addr(conf->listen_host, conf->listen_port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(conf->listen_host, conf->listen_port, (struct sockaddr_in6 *)&addr) != 0) {
        sw_error("listen.host \"%s\" is not a numeric IPv4 or IPv6 address", conf->listen_host);
        return -1;
    }
    uv_tcp_init(sw_g.loop, &sw_g.listener);
    int rc = uv_tcp_bind(&sw_g.listener, (struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&sw_g.listener, 1024, on_connection);
    if (rc < 0) {
        sw_error("cannot listen on %s:%d: %s", conf->listen_host, conf->listen_port, uv_strerror(rc));
        uv_close((uv_handle_t *)&sw_g.listener, close_noop);
        return -1;
    }
    sw_g.listening = true;
    sw_info("shardwire %s listening on %s:%d", SW_VERSION, conf->listen_host, conf->listen_port);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bool check = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 'k': check = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("shardwire %s\n", SW_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || !path) {
        usage(stderr);
        return 2;
    }
    char err[4096];
    if (sw_conf_load(path, &sw_g.conf, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    sw_g.router = sw_router_new(sw_g.conf, err, sizeof err);
    if (!sw_g.router) {
        fprintf(stderr, "%s\n", err);
        sw_conf_free(sw_g.conf);
        return 1;
    }
    if (check) {
        sw_router_free(sw_g.router);
        printf("%s: configuration is valid (%d nodes, %d databases, %d users)\n", path, sw_g.conf->n_nodes,
               sw_g.conf->n_databases, sw_g.conf->n_users);
        sw_conf_free(sw_g.conf);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    sw_log_current = sw_g.conf->log_level;
    raise_fd_limit(sw_g.conf);
    sw_g.conf_path = path;
    sw_g.conf_gen = 1;
    sw_g.loop = uv_default_loop();
    sw_map_init(&sw_g.cancel_keys);
    sw_map_init(&sw_g.stmt_registry);
    uint32_t seed;
    sw_random_bytes(&seed, sizeof seed);
    sw_g.next_pid = (int32_t)(seed % 1000000) + 1000;  /* looks like a pid, unique per process */

    if (listen_start() != 0) return 1;
    uv_timer_init(sw_g.loop, &sw_g.janitor);
    uv_timer_start(&sw_g.janitor, janitor_cb, JANITOR_MS, JANITOR_MS);
    sw_recover_init();
    uv_signal_init(sw_g.loop, &sw_g.sighup);
    uv_signal_start(&sw_g.sighup, signal_cb, SIGHUP);
    uv_signal_init(sw_g.loop, &sw_g.sigterm);
    uv_signal_start(&sw_g.sigterm, signal_cb, SIGTERM);
    uv_signal_init(sw_g.loop, &sw_g.sigint);
    uv_signal_start(&sw_g.sigint, signal_cb, SIGINT);

    uv_run(sw_g.loop, UV_RUN_DEFAULT);

    uv_loop_close(sw_g.loop);
    sw_map_free(&sw_g.cancel_keys);
    forget_plans(NULL);
    sw_map_free(&sw_g.stmt_registry);
    sw_router_free(sw_g.router);
    for (int i = 0; i < sw_g.n_retired; i++) {
        sw_router_free(sw_g.retired[i].router);
        sw_conf_free(sw_g.retired[i].conf);
    }
    sw_conf_free(sw_g.conf);
    sw_info("shardwire stopped");
    return 0;
}
