/*
 * main.c - sw_itest entry point: dispatches to one subcommand per check.
 * The scripts in tests/integration run these against shardwire (or, with
 * SW_DIRECT=1, straight against PostgreSQL to prove the checks themselves
 * right).
 */
#include <stdio.h>
#include <string.h>

#include "itest.h"

typedef struct it_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    int min_args;
    int watchdog_s; /* 0 = long-running interactive command, no watchdog */
    const char *usage;
} it_command;

static const it_command commands[] = {
    {"cancel", cmd_cancel, 1, 60, "CONNINFO [OTHER_CONNINFO]"},
    {"pipeline", cmd_pipeline, 1, 60, "CONNINFO"},
    {"pipeline-many", cmd_pipeline_many, 4, 60, "CONNINFO TABLE FIRST N [txn|dup]"},
    {"prepared", cmd_prepared, 1, 120, "CONNINFO [ITERATIONS]"},
    {"copy", cmd_copy, 1, 120, "CONNINFO [ROWS]"},
    {"malformed", cmd_malformed, 2, 120, "HOST PORT [USER DB]"},
    {"oversized", cmd_oversized, 6, 60, "HOST PORT USER PASSWORD DB SIZE [--allow-close]"},
    {"notify", cmd_notify, 1, 60, "CONNINFO [--no-cross]"},
    {"params", cmd_params, 1, 60, "CONNINFO [SETTING=EXPECTED ...]"},
    {"params2", cmd_params2, 2, 120, "CONNINFO_A CONNINFO_B [TZ_A [DEFAULT_TZ]]"},
    {"sql", cmd_sql, 1, 0, "CONNINFO   (queries on stdin, one per line)"},
    {"connect", cmd_connect, 1, 60, "CONNINFO [EXPECTED_SQLSTATE [MESSAGE_PART]]"},
    {"startup-probe", cmd_startup_probe, 3, 120, "HOST PORT DB"},
    {"silent", cmd_silent, 4, 60, "HOST PORT N CONNINFO"},
    {"slowlogin", cmd_slowlogin, 5, 60, "HOST PORT USER DB drip|stall"},
    {"wire", cmd_wire, 4, 0, "HOST PORT USER DB [PASSWORD]   (commands on stdin, one per line)"},
    {"fnmix", cmd_fnmix, 4, 120, "HOST PORT USER DB [ROUNDS]"},
    {"script", cmd_script, 3, 300, "CONNINFO FILE SECONDS [strict]"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sw_itest COMMAND ARGS...\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  sw_itest %-10s %s\n", commands[i].name, commands[i].usage);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const it_command *c = &commands[i];
        if (strcmp(argv[1], c->name) != 0)
            continue;
        it_cmd = c->name;
        if (argc - 2 < c->min_args) {
            fprintf(stderr, "usage: sw_itest %s %s\n", c->name, c->usage);
            return 2;
        }
        if (c->watchdog_s > 0)
            it_watchdog(c->watchdog_s);
        /* Line-buffered progress so interleaved script output stays readable. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        return c->fn(argc - 2, argv + 2);
    }
    fprintf(stderr, "sw_itest: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
