/*
 * session.h - session state a client builds up with SET/RESET, and the
 * detection of those statements in client SQL.  Pure: no I/O, no libuv, so
 * it is unit tested on its own.
 *
 * Under transaction pooling a client's settings must follow it from one
 * backend connection to the next and never leak to other clients: the proxy
 * keeps the settings each client wants and those each server has, and
 * replays the difference (sw_paramset_diff_sql) when it links them.
 */
#ifndef SW_SESSION_H
#define SW_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw/proto.h"

/* ------------------------------------------------------------------ session parameters */

/* One tracked setting: lower-case GUC name and the statement that
 * establishes it ("SET timezone TO 'UTC'"). */
typedef struct sw_param {
    char *name;
    char *sql;
} sw_param;

/* A set of settings, kept sorted by name; fp is a fingerprint of the whole
 * set so that "already in sync" is one integer compare on the hot path. */
typedef struct sw_paramset {
    sw_param *items;
    int n;
    int cap;
    uint64_t fp;
} sw_paramset;

void sw_paramset_init(sw_paramset *p);
void sw_paramset_free(sw_paramset *p);
int sw_paramset_copy(sw_paramset *dst, const sw_paramset *src);
/* Set name to sql (both copied); sql NULL removes the name. */
int sw_paramset_set(sw_paramset *p, const char *name, const char *sql);
const char *sw_paramset_get(const sw_paramset *p, const char *name);
/* A setting's name as SQL, each dotted part double-quoted ("some"."var"),
 * into out (NUL-terminated, truncated to outsz).  Returns its length. */
size_t sw_param_name_sql(char *out, size_t outsz, const char *name);
/* "SET <name> TO '<value>'" (name as sw_param_name_sql, quotes in the value
 * doubled) into out.  Returns the length it needs; when that does not fit
 * outsz, out is left empty. */
size_t sw_param_set_sql(char *out, size_t outsz, const char *name, const char *value);
/* Append to w the statements that turn `from` into `to`; returns how many. */
int sw_paramset_diff_sql(const sw_paramset *from, const sw_paramset *to, sw_wbuf *w);

/* ------------------------------------------------------------------ session operations */

/* State that lives in one server connection and cannot follow a client
 * to another: a client that creates it is pinned to its server(s) until
 * it is gone.  Bits of sw_sessop.pins and of a client's pins. */
enum {
    SW_PIN_TEMP = 1u << 0,          /* CREATE TEMP TABLE/VIEW/SEQUENCE */
    SW_PIN_PREPARE = 1u << 1,       /* SQL PREPARE */
    SW_PIN_ADVISORY = 1u << 2,      /* pg_advisory_lock and friends (session level) */
    SW_PIN_LISTEN = 1u << 3,        /* LISTEN */
    SW_PIN_HOLD_CURSOR = 1u << 4,   /* DECLARE ... WITH HOLD */
    SW_PIN_AUTHORIZATION = 1u << 5, /* SET SESSION AUTHORIZATION */
    SW_PIN_SET_CONFIG = 1u << 6,    /* set_config(..., false) */
    SW_PIN_BACKEND_PID = 1u << 7,   /* pg_backend_pid(): the client now knows its backend */
    SW_PIN_SEQUENCE = 1u << 8,      /* nextval/setval: currval and lastval of the session */
    SW_PIN_UNKNOWN = 1u << 9,       /* a statement could not be examined (out of memory) */
    SW_PIN_ALL = (1u << 10) - 1,
};

/* "temp tables, advisory locks" for the set bits of pins, into buf. */
void sw_pin_reasons(uint32_t pins, char *buf, size_t bufsz);

/* What a client statement does to session state. */
typedef enum sw_sessop_kind {
    SW_SESSOP_SET,        /* SET name ... (session level) */
    SW_SESSOP_RESET,      /* RESET name / SET name TO DEFAULT */
    SW_SESSOP_RESET_ALL,  /* RESET ALL, DISCARD ALL */
    SW_SESSOP_PIN,        /* creates the session state of pins */
    SW_SESSOP_UNPIN,      /* removes all of the session state of pins */
    SW_SESSOP_DEALLOCATE_ALL, /* DEALLOCATE ALL, DISCARD ALL: the server's prepared statements go */
} sw_sessop_kind;

typedef struct sw_sessop {
    sw_sessop_kind kind;
    char *name;           /* lower-case, NULL for RESET_ALL */
    char *sql;            /* statement text for SET */
    uint32_t pins;        /* PIN / UNPIN: SW_PIN_* */
} sw_sessop;

typedef struct sw_sessops {
    sw_sessop *ops;
    int n;
    int cap;
    bool oom;             /* a statement's operations could not all be recorded */
} sw_sessops;

/* Append the session operations found in a simple-query string to out.
 * Cheap when the text holds no SET/RESET/DISCARD statement (a keyword
 * pre-scan); otherwise parsed with libpg_query.  Returns how many were added. */
int sw_sessops_scan(const char *sql, size_t len, sw_sessops *out);
/* Whether sql[0..len) is exactly one "DEALLOCATE [PREPARE] name": then
 * the name into name (truncated to namesz).  Cheap when it starts with
 * another word. */
bool sw_sql_deallocate_name(const char *sql, size_t len, char *name, size_t namesz);
void sw_sessops_clear(sw_sessops *s);

#endif
