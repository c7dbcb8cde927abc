/*
 * test_session.c - unit tests for session state (sw/session.h).
 *
 * sw_paramset (src/core/paramset.c): set/get/remove keep the set sorted by
 * name; values are copies; the fingerprint is equal for equal sets whatever
 * the insertion order, changes when any name or value changes, and is 0 for
 * the empty set; sw_paramset_copy is a deep copy; sw_paramset_diff_sql emits
 * exactly the expected SQL text and count.
 *
 * sw_sessops_scan (src/route/sessops.c): a table of query strings with the
 * exact list of operations each must yield (kind, lower-cased name, statement
 * text from its first to its last token).  Covers SET/RESET/DISCARD ALL and
 * everything that must not count (SET LOCAL, SET TRANSACTION, DISCARD PLANS,
 * UPDATE ... SET, literals, identifiers containing "set", syntax errors),
 * comments around statements, several statements per string, and the
 * keyword pre-scan's corner cases.  The returned count must equal the number
 * of operations appended.  Inputs sit in exactly-sized heap blocks so the
 * sanitizer build catches over-reads.  pg_query_parse_protobuf is wrapped
 * (interposed, forwarding to libpg_query) to check that the pre-scan spares
 * the parse for text that cannot hold such a statement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <pg_query.h>

#include "sw/proto.h"
#include "sw/session.h"

/* ------------------------------------------------------------ paramset helpers */

static void check_sorted(const sw_paramset *p)
{
    assert_true(p->n >= 0 && p->n <= p->cap);
    for (int i = 1; i < p->n; i++) assert_true(strcmp(p->items[i - 1].name, p->items[i].name) < 0);
    if (p->n == 0) assert_int_equal(p->fp, 0);
    else assert_int_not_equal(p->fp, 0);
}

/* The set must hold exactly names[i] -> sqls[i], in this (sorted) order. */
static void check_items(const sw_paramset *p, const char *const *names, const char *const *sqls, int n)
{
    check_sorted(p);
    assert_int_equal(p->n, n);
    for (int i = 0; i < n; i++) {
        assert_string_equal(p->items[i].name, names[i]);
        assert_string_equal(p->items[i].sql, sqls[i]);
        assert_string_equal(sw_paramset_get(p, names[i]), sqls[i]);
    }
}

static void set_ok(sw_paramset *p, const char *name, const char *sql)
{
    assert_int_equal(sw_paramset_set(p, name, sql), 0);
    check_sorted(p);
}

/* diff_sql into a fresh buffer; returns a malloc'd NUL-terminated copy. */
static char *diff_text(const sw_paramset *from, const sw_paramset *to, int *count)
{
    sw_wbuf w;
    sw_wbuf_init(&w);
    *count = sw_paramset_diff_sql(from, to, &w);
    assert_false(w.oom);
    char *s = malloc(w.len + 1);
    assert_non_null(s);
    if (w.len) memcpy(s, w.data, w.len);
    s[w.len] = '\0';
    assert_int_equal(strlen(s), w.len); /* no NUL inside */
    sw_wbuf_free(&w);
    return s;
}

static void check_diff(const sw_paramset *from, const sw_paramset *to, const char *want, int want_count)
{
    int count = -1;
    char *got = diff_text(from, to, &count);
    assert_string_equal(got, want);
    assert_int_equal(count, want_count);
    free(got);
}

/* ------------------------------------------------------------ paramset tests */

static void test_paramset_set_get_remove(void **state)
{
    (void)state;
    sw_paramset p;
    sw_paramset_init(&p);
    check_sorted(&p);
    assert_null(sw_paramset_get(&p, "a"));
    /* Removing from an empty set is a no-op. */
    assert_int_equal(sw_paramset_set(&p, "a", NULL), 0);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.fp, 0);

    set_ok(&p, "timezone", "SET timezone TO 'UTC'");
    set_ok(&p, "application_name", "SET application_name TO 'x'");
    set_ok(&p, "work_mem", "SET work_mem TO '1MB'");
    set_ok(&p, "datestyle", "SET datestyle TO 'ISO'");
    set_ok(&p, "search_path", "SET search_path TO a");
    set_ok(&p, "a.b", "SET a.b TO '1'");     /* growth past the initial capacity */
    {
        const char *names[] = {"a.b", "application_name", "datestyle", "search_path", "timezone", "work_mem"};
        const char *sqls[] = {"SET a.b TO '1'", "SET application_name TO 'x'", "SET datestyle TO 'ISO'",
                              "SET search_path TO a", "SET timezone TO 'UTC'", "SET work_mem TO '1MB'"};
        check_items(&p, names, sqls, 6);
    }
    assert_null(sw_paramset_get(&p, "nope"));
    assert_null(sw_paramset_get(&p, "timezon"));
    assert_null(sw_paramset_get(&p, "timezonex"));

    /* Replace keeps the size and position. */
    set_ok(&p, "datestyle", "SET datestyle TO 'German'");
    assert_int_equal(p.n, 6);
    assert_string_equal(p.items[2].name, "datestyle");
    assert_string_equal(sw_paramset_get(&p, "datestyle"), "SET datestyle TO 'German'");

    /* Remove middle, first, last, and a missing name. */
    uint64_t fp = p.fp;
    set_ok(&p, "missing", NULL);
    assert_int_equal(p.n, 6);
    assert_int_equal(p.fp, fp);
    set_ok(&p, "datestyle", NULL);
    set_ok(&p, "a.b", NULL);
    set_ok(&p, "work_mem", NULL);
    {
        const char *names[] = {"application_name", "search_path", "timezone"};
        const char *sqls[] = {"SET application_name TO 'x'", "SET search_path TO a", "SET timezone TO 'UTC'"};
        check_items(&p, names, sqls, 3);
    }
    assert_null(sw_paramset_get(&p, "datestyle"));
    set_ok(&p, "application_name", NULL);
    set_ok(&p, "timezone", NULL);
    set_ok(&p, "search_path", NULL);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.fp, 0);
    /* Reusable after emptying. */
    set_ok(&p, "zz", "SET zz TO 1");
    assert_int_equal(p.n, 1);
    sw_paramset_free(&p);
    assert_int_equal(p.n, 0);
    assert_null(p.items);
    assert_int_equal(p.fp, 0);
    sw_paramset_free(&p); /* idempotent */
}

static void test_paramset_copies_strings(void **state)
{
    (void)state;
    sw_paramset p;
    sw_paramset_init(&p);
    char name[16], sql[32];
    strcpy(name, "x.y");
    strcpy(sql, "SET x.y TO 'v1'");
    set_ok(&p, name, sql);
    assert_ptr_not_equal(p.items[0].name, name);
    assert_ptr_not_equal(p.items[0].sql, sql);
    strcpy(name, "q.q");
    strcpy(sql, "garbage");
    assert_string_equal(p.items[0].name, "x.y");
    assert_string_equal(sw_paramset_get(&p, "x.y"), "SET x.y TO 'v1'");
    sw_paramset_free(&p);
}

static void test_paramset_sorted_random(void **state)
{
    (void)state;
    /* Random inserts/removes over a small name universe, checked against a
     * reference table after every step. */
    enum { NN = 40 };
    char names[NN][8];
    char ref[NN][32];
    bool have[NN] = {false};
    for (int i = 0; i < NN; i++) snprintf(names[i], sizeof names[i], "n%02d", (i * 17) % NN);
    sw_paramset p;
    sw_paramset_init(&p);
    uint32_t x = 1;
    for (int step = 0; step < 5000; step++) {
        x = x * 1103515245u + 12345u;
        int i = (int)((x >> 16) % NN);
        if ((x >> 8) % 3 == 0) {
            set_ok(&p, names[i], NULL);
            have[i] = false;
        } else {
            snprintf(ref[i], sizeof ref[i], "SET %s TO %d", names[i], step);
            set_ok(&p, names[i], ref[i]);
            have[i] = true;
        }
        int n = 0;
        for (int j = 0; j < NN; j++) {
            if (have[j]) {
                n++;
                assert_string_equal(sw_paramset_get(&p, names[j]), ref[j]);
            } else {
                assert_null(sw_paramset_get(&p, names[j]));
            }
        }
        assert_int_equal(p.n, n);
    }
    sw_paramset_free(&p);
}

static const char *const FP_NAMES[5] = {"application_name", "datestyle", "search_path", "timezone", "x.y"};
static const char *const FP_SQLS[5] = {"SET application_name TO 'app'", "SET datestyle TO 'ISO, MDY'",
                                       "SET search_path TO a, b", "SET timezone TO 'UTC'", "SET x.y TO '1'"};

static bool next_perm(int *a, int n)
{
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1]) i--;
    if (i < 0) return false;
    int j = n - 1;
    while (a[j] <= a[i]) j--;
    int t = a[i]; a[i] = a[j]; a[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--) { t = a[l]; a[l] = a[r]; a[r] = t; }
    return true;
}

static void test_paramset_fingerprint(void **state)
{
    (void)state;
    sw_paramset ref;
    sw_paramset_init(&ref);
    assert_int_equal(ref.fp, 0);
    for (int i = 0; i < 5; i++) set_ok(&ref, FP_NAMES[i], FP_SQLS[i]);
    assert_int_not_equal(ref.fp, 0);

    /* Every insertion order gives the same fingerprint. */
    int perm[5] = {0, 1, 2, 3, 4};
    int orders = 0;
    do {
        sw_paramset p;
        sw_paramset_init(&p);
        for (int i = 0; i < 5; i++) set_ok(&p, FP_NAMES[perm[i]], FP_SQLS[perm[i]]);
        assert_int_equal(p.fp, ref.fp);
        sw_paramset_free(&p);
        orders++;
    } while (next_perm(perm, 5));
    assert_int_equal(orders, 120);

    /* Built with detours (a replaced value, an added-then-removed name). */
    {
        sw_paramset p;
        sw_paramset_init(&p);
        set_ok(&p, "timezone", "SET timezone TO 'CET'");
        set_ok(&p, "zzz", "SET zzz TO 1");
        for (int i = 4; i >= 0; i--) set_ok(&p, FP_NAMES[i], FP_SQLS[i]);
        assert_int_not_equal(p.fp, ref.fp);
        set_ok(&p, "zzz", NULL);
        assert_int_equal(p.fp, ref.fp);
        sw_paramset_free(&p);
    }

    /* Any one value different -> different fingerprint; a removed name or an
     * extra name too.  All of them pairwise distinct. */
    uint64_t fps[16];
    int nfp = 0;
    fps[nfp++] = ref.fp;
    for (int k = 0; k < 5; k++) {
        sw_paramset p;
        sw_paramset_init(&p);
        assert_int_equal(sw_paramset_copy(&p, &ref), 0);
        char changed[64];
        snprintf(changed, sizeof changed, "%s ", FP_SQLS[k]); /* one byte more */
        set_ok(&p, FP_NAMES[k], changed);
        fps[nfp++] = p.fp;
        set_ok(&p, FP_NAMES[k], FP_SQLS[k]);
        assert_int_equal(p.fp, ref.fp);   /* back to equal */
        set_ok(&p, FP_NAMES[k], NULL);
        fps[nfp++] = p.fp;
        sw_paramset_free(&p);
    }
    {
        sw_paramset p;
        sw_paramset_init(&p);
        assert_int_equal(sw_paramset_copy(&p, &ref), 0);
        set_ok(&p, "zzz", "SET zzz TO 1");
        fps[nfp++] = p.fp;
        sw_paramset_free(&p);
    }
    for (int i = 0; i < nfp; i++)
        for (int j = i + 1; j < nfp; j++) assert_int_not_equal(fps[i], fps[j]);

    /* The name/value boundary matters: {"ab": "c"} != {"a": "bc"}, and a
     * value moved to another name differs. */
    {
        sw_paramset a, b;
        sw_paramset_init(&a);
        sw_paramset_init(&b);
        set_ok(&a, "ab", "c");
        set_ok(&b, "a", "bc");
        assert_int_not_equal(a.fp, b.fp);
        sw_paramset_free(&a);
        sw_paramset_free(&b);
        set_ok(&a, "p", "1");
        set_ok(&a, "q", "2");
        set_ok(&b, "p", "2");
        set_ok(&b, "q", "1");
        assert_int_not_equal(a.fp, b.fp);
        sw_paramset_free(&a);
        sw_paramset_free(&b);
    }
    sw_paramset_free(&ref);
}

static void test_paramset_copy(void **state)
{
    (void)state;
    sw_paramset src, dst;
    sw_paramset_init(&src);
    sw_paramset_init(&dst);
    for (int i = 4; i >= 0; i--) set_ok(&src, FP_NAMES[i], FP_SQLS[i]);

    /* dst starts with other content, which must be replaced (and freed). */
    set_ok(&dst, "old", "SET old TO 1");
    set_ok(&dst, "timezone", "SET timezone TO 'CET'");
    assert_int_equal(sw_paramset_copy(&dst, &src), 0);
    check_items(&dst, FP_NAMES, FP_SQLS, 5);
    assert_int_equal(dst.fp, src.fp);
    for (int i = 0; i < 5; i++) {
        assert_ptr_not_equal(dst.items[i].name, src.items[i].name);
        assert_ptr_not_equal(dst.items[i].sql, src.items[i].sql);
    }
    /* Independent afterwards. */
    set_ok(&src, "timezone", "SET timezone TO 'CET'");
    assert_string_equal(sw_paramset_get(&dst, "timezone"), "SET timezone TO 'UTC'");
    assert_int_not_equal(dst.fp, src.fp);
    set_ok(&dst, "x.y", NULL);
    assert_string_equal(sw_paramset_get(&src, "x.y"), "SET x.y TO '1'");

    /* Copying an empty set empties dst. */
    sw_paramset empty;
    sw_paramset_init(&empty);
    assert_int_equal(sw_paramset_copy(&dst, &empty), 0);
    assert_int_equal(dst.n, 0);
    assert_int_equal(dst.fp, 0);

    /* Copying again over an equal set is harmless (and frees the old copy). */
    assert_int_equal(sw_paramset_copy(&dst, &src), 0);
    assert_int_equal(sw_paramset_copy(&dst, &src), 0);
    assert_int_equal(dst.n, 5);
    assert_int_equal(dst.fp, src.fp);
    sw_paramset_free(&src);
    sw_paramset_free(&dst);
}

/* Setting names as SQL: every dotted part quoted, so a reserved word
 * ("some") replays. */
static void test_param_name_sql(void **state)
{
    (void)state;
    char b[64];
    assert_int_equal(sw_param_name_sql(b, sizeof b, "timezone"), 10);
    assert_string_equal(b, "\"timezone\"");
    sw_param_name_sql(b, sizeof b, "some.var");
    assert_string_equal(b, "\"some\".\"var\"");
    sw_param_name_sql(b, sizeof b, "a.b.c");
    assert_string_equal(b, "\"a\".\"b\".\"c\"");
    char small[5];
    sw_param_name_sql(small, sizeof small, "timezone");
    assert_int_equal(strlen(small), 4);
}

static void test_paramset_diff_sql(void **state)
{
    (void)state;
    sw_paramset from, to, empty;
    sw_paramset_init(&from);
    sw_paramset_init(&to);
    sw_paramset_init(&empty);

    set_ok(&from, "a", "SET a TO '1'");
    set_ok(&from, "c", "SET c TO '3'");
    set_ok(&to, "c", "SET c TO '4'");
    set_ok(&to, "b", "SET b TO '2'");
    check_diff(&from, &to, "RESET \"a\";SET b TO '2';SET c TO '4';", 3);
    /* The other way round. */
    check_diff(&to, &from, "SET a TO '1';RESET \"b\";SET c TO '3';", 3);

    /* Identical sets. */
    check_diff(&from, &from, "", 0);
    check_diff(&empty, &empty, "", 0);
    {
        sw_paramset cp;
        sw_paramset_init(&cp);
        assert_int_equal(sw_paramset_copy(&cp, &to), 0);
        check_diff(&to, &cp, "", 0);
        sw_paramset_free(&cp);
    }
    /* From and to empty. */
    check_diff(&empty, &to, "SET b TO '2';SET c TO '4';", 2);
    check_diff(&to, &empty, "RESET \"b\";RESET \"c\";", 2);

    /* Same value kept, only the differences emitted; names sorting before,
     * between and after the other set's names. */
    sw_paramset_free(&from);
    sw_paramset_free(&to);
    set_ok(&from, "b", "SET b TO 1");
    set_ok(&from, "d", "SET d TO 1");
    set_ok(&from, "f", "SET f TO 1");
    set_ok(&from, "g", "SET g TO 1");
    set_ok(&to, "a", "SET a TO 2");
    set_ok(&to, "d", "SET d TO 1");
    set_ok(&to, "e", "SET e TO 2");
    set_ok(&to, "g", "SET g TO 2");
    set_ok(&to, "h", "SET h TO 2");
    check_diff(&from, &to, "SET a TO 2;RESET \"b\";SET e TO 2;RESET \"f\";SET g TO 2;SET h TO 2;", 6);

    /* Appends after what the buffer already holds. */
    {
        sw_wbuf w;
        sw_wbuf_init(&w);
        sw_wbuf_put(&w, "X", 1);
        assert_int_equal(sw_paramset_diff_sql(&empty, &to, &w), 5);
        const char *want = "XSET a TO 2;SET d TO 1;SET e TO 2;SET g TO 2;SET h TO 2;";
        assert_int_equal(w.len, strlen(want));
        assert_memory_equal(w.data, want, w.len);
        sw_wbuf_free(&w);
    }
    sw_paramset_free(&from);
    sw_paramset_free(&to);
}

/* ------------------------------------------------------------ sessops */

typedef struct exp_op {
    sw_sessop_kind kind;
    const char *name;   /* NULL for RESET_ALL */
    const char *sql;    /* NULL unless SET */
    uint32_t pins;      /* PIN / UNPIN */
} exp_op;

typedef struct scan_case {
    const char *sql;
    int n;
    exp_op ops[6];
} scan_case;

#define SET_(name, sql) { SW_SESSOP_SET, name, sql, 0 }
#define RESET_(name) { SW_SESSOP_RESET, name, NULL, 0 }
#define RESET_ALL_ { SW_SESSOP_RESET_ALL, NULL, NULL, 0 }
#define PIN_(bits) { SW_SESSOP_PIN, NULL, NULL, bits }
#define UNPIN_(bits) { SW_SESSOP_UNPIN, NULL, NULL, bits }
#define DEALLOC_ { SW_SESSOP_DEALLOCATE_ALL, NULL, NULL, 0 }
/* DISCARD ALL: every pin goes, the server's prepared statements go, the
 * settings are reset */
#define DISCARD_ALL_ UNPIN_(SW_PIN_ALL), DEALLOC_, RESET_ALL_

static const scan_case CASES[] = {
    /* Plain SET forms. */
    {"SET search_path TO a, b", 1, {SET_("search_path", "SET search_path TO a, b")}},
    {"set TimeZone = 'UTC'", 1, {SET_("timezone", "set TimeZone = 'UTC'")}},
    {"SET SESSION statement_timeout = 5", 1, {SET_("statement_timeout", "SET SESSION statement_timeout = 5")}},
    {"SET x.y = 'v'", 1, {SET_("x.y", "SET x.y = 'v'")}},
    {"SET My.Var TO 'Keep Case In Value'", 1, {SET_("my.var", "SET My.Var TO 'Keep Case In Value'")}},
    {"SET search_path = \"$user\", public", 1, {SET_("search_path", "SET search_path = \"$user\", public")}},
    {"SET TIME ZONE 'Europe/Paris'", 1, {SET_("timezone", "SET TIME ZONE 'Europe/Paris'")}},
    {"SET NAMES 'UTF8'", 1, {SET_("client_encoding", "SET NAMES 'UTF8'")}},
    {"SET work_mem FROM CURRENT", 1, {SET_("work_mem", "SET work_mem FROM CURRENT")}},
    {"sEt SeSsIoN DateStyle To 'ISO'", 1, {SET_("datestyle", "sEt SeSsIoN DateStyle To 'ISO'")}},
    {"SET\n\tsearch_path\nTO\n  a", 1, {SET_("search_path", "SET\n\tsearch_path\nTO\n  a")}},
    {"SET application_name = 'caf\xc3\xa9'", 1, {SET_("application_name", "SET application_name = 'caf\xc3\xa9'")}},
    {"SET application_name = 'a;b--c/*d'", 1, {SET_("application_name", "SET application_name = 'a;b--c/*d'")}},
    /* Roles and session authorization: libpg_query names them "role" and
     * "session_authorization"; DEFAULT is a reset. */
    {"SET ROLE bob", 1, {SET_("role", "SET ROLE bob")}},
    {"SET ROLE NONE", 1, {SET_("role", "SET ROLE NONE")}},
    {"RESET ROLE", 1, {RESET_("role")}},
    {"SET SESSION AUTHORIZATION bob", 1, {PIN_(SW_PIN_AUTHORIZATION)}},
    {"SET SESSION AUTHORIZATION DEFAULT", 1, {UNPIN_(SW_PIN_AUTHORIZATION)}},
    {"RESET SESSION AUTHORIZATION", 1, {UNPIN_(SW_PIN_AUTHORIZATION)}},
    {"SET LOCAL SESSION AUTHORIZATION bob", 0, {{0}}},
    /* State that pins the client to its server, and what removes it. */
    {"CREATE TEMP TABLE x (a int)", 1, {PIN_(SW_PIN_TEMP)}},
    {"create temporary view v as select 1", 1, {PIN_(SW_PIN_TEMP)}},
    {"CREATE TEMP SEQUENCE s", 1, {PIN_(SW_PIN_TEMP)}},
    {"CREATE TEMP TABLE x AS SELECT 1", 1, {PIN_(SW_PIN_TEMP)}},
    {"CREATE TABLE x (a int)", 0, {{0}}},
    {"PREPARE p AS SELECT 1", 1, {PIN_(SW_PIN_PREPARE)}},
    {"DEALLOCATE p", 0, {{0}}},
    {"DEALLOCATE ALL", 2, {UNPIN_(SW_PIN_PREPARE), DEALLOC_}},
    {"LISTEN c", 1, {PIN_(SW_PIN_LISTEN)}},
    {"UNLISTEN c", 0, {{0}}},
    {"UNLISTEN *", 1, {UNPIN_(SW_PIN_LISTEN)}},
    {"DECLARE c CURSOR WITH HOLD FOR SELECT 1", 1, {PIN_(SW_PIN_HOLD_CURSOR)}},
    {"DECLARE c CURSOR FOR SELECT 1", 0, {{0}}},
    {"CLOSE ALL", 1, {UNPIN_(SW_PIN_HOLD_CURSOR)}},
    {"SELECT pg_advisory_lock(1)", 1, {PIN_(SW_PIN_ADVISORY)}},
    {"select PG_TRY_ADVISORY_LOCK_SHARED(1, 2)", 1, {PIN_(SW_PIN_ADVISORY)}},
    {"SELECT pg_advisory_xact_lock(1)", 0, {{0}}},
    {"SELECT pg_advisory_unlock_all()", 1, {UNPIN_(SW_PIN_ADVISORY)}},
    {"SELECT set_config('search_path', '', false)", 1, {PIN_(SW_PIN_SET_CONFIG)}},
    {"SELECT set_config('search_path', '', true)", 0, {{0}}},
    {"SELECT x FROM t WHERE pg_backend_pid() > 0", 1, {PIN_(SW_PIN_BACKEND_PID)}},
    {"INSERT INTO t VALUES (nextval('s'))", 1, {PIN_(SW_PIN_SEQUENCE)}},
    {"SELECT setval('s', 5), pg_advisory_lock(2)", 1, {PIN_(SW_PIN_SEQUENCE | SW_PIN_ADVISORY)}},
    {"SELECT (SELECT pg_advisory_lock(1)) FROM (SELECT nextval('s')) x", 1, {PIN_(SW_PIN_SEQUENCE | SW_PIN_ADVISORY)}},
    {"SELECT 'pg_advisory_lock(1)'", 0, {{0}}},
    {"CREATE TEMP TABLE a (x int); DISCARD TEMP", 2, {PIN_(SW_PIN_TEMP), UNPIN_(SW_PIN_TEMP)}},
    /* RESET forms. */
    {"RESET ALL", 1, {RESET_ALL_}},
    {"reset all", 1, {RESET_ALL_}},
    {"RESET DateStyle", 1, {RESET_("datestyle")}},
    {"SET x.y TO DEFAULT", 1, {RESET_("x.y")}},
    {"SET x.y = DEFAULT", 1, {RESET_("x.y")}},
    {"SET TIME ZONE LOCAL", 1, {RESET_("timezone")}},
    {"DISCARD ALL", 3, {DISCARD_ALL_}},
    {"Discard All;", 3, {DISCARD_ALL_}},
    /* Not tracked: transaction scoped or not a session setting. */
    {"SET LOCAL work_mem='1MB'", 0, {{0}}},
    {"SET LOCAL TIME ZONE 'UTC'", 0, {{0}}},
    {"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", 0, {{0}}},
    {"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", 1,
     {SET_("default_transaction_read_only", "SET default_transaction_read_only TO on")}},
    {"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ WRITE, DEFERRABLE", 3,
     {SET_("default_transaction_isolation", "SET default_transaction_isolation TO 'repeatable read'"),
      SET_("default_transaction_read_only", "SET default_transaction_read_only TO off"),
      SET_("default_transaction_deferrable", "SET default_transaction_deferrable TO on")}},
    {"DISCARD PLANS", 0, {{0}}},
    {"DISCARD TEMP", 1, {UNPIN_(SW_PIN_TEMP)}},
    {"DISCARD SEQUENCES", 1, {UNPIN_(SW_PIN_SEQUENCE)}},
    {"UPDATE t SET x = 1", 0, {{0}}},
    {"SELECT 'set x=1'", 0, {{0}}},
    {"select offset_set from t", 0, {{0}}},
    {"SELECT 1", 0, {{0}}},
    {"settings", 0, {{0}}},
    {"ALTER SYSTEM SET work_mem = '1MB'", 0, {{0}}},
    {"ALTER ROLE bob SET search_path = a", 0, {{0}}},
    {"CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path = a AS 'SELECT 1'", 0, {{0}}},
    {"DO $$BEGIN SET x.y = 1; END$$", 0, {{0}}},
    {"SELECT 1 -- ; SET a.b = 1", 0, {{0}}},
    {"SELECT 1 /* ; SET a.b = 1 */", 0, {{0}}},
    {"", 0, {{0}}},
    {"   \n\t ", 0, {{0}}},
    {"-- SET a.b = 1", 0, {{0}}},
    {";;;", 0, {{0}}},
    /* Syntax errors: no ops, no crash (the server reports the error). */
    {"SET x = = 1", 0, {{0}}},
    {"SET", 0, {{0}}},
    {"SET search_path TO 'a", 0, {{0}}},
    {"SET a.b = 1; SELEC 2", 0, {{0}}},
    {"RESET", 0, {{0}}},
    {"/* unterminated SET a.b = 1", 0, {{0}}},
    /* Several statements; the statement text excludes neighbours, ';' and
     * surrounding blanks and comments. */
    {"SELECT 1; SET a.b = 1; SELECT 2", 1, {SET_("a.b", "SET a.b = 1")}},
    {"SET a.x = 1; SET a.y = 2; RESET a.z", 3,
     {SET_("a.x", "SET a.x = 1"), SET_("a.y", "SET a.y = 2"), RESET_("a.z")}},
    {"set a.x=1;set a.x=2", 2, {SET_("a.x", "set a.x=1"), SET_("a.x", "set a.x=2")}},
    {"SET a.b = 1; SET LOCAL a.c = 2; DISCARD ALL; RESET a.b", 5,
     {SET_("a.b", "SET a.b = 1"), DISCARD_ALL_, RESET_("a.b")}},
    {"BEGIN; SET LOCAL a.b = 1; SET a.c = 2; COMMIT", 1, {SET_("a.c", "SET a.c = 2")}},
    {"SET TRANSACTION READ ONLY; SET a.b = 1; DISCARD PLANS", 1, {SET_("a.b", "SET a.b = 1")}},
    {"reset all; discard all", 4, {RESET_ALL_, DISCARD_ALL_}},
    {"SELECT 1;\n\nSET a.b = 1;\n", 1, {SET_("a.b", "SET a.b = 1")}},
    /* Comments before and after. */
    {"/* c */ SET a.b = 1", 1, {SET_("a.b", "SET a.b = 1")}},
    {"-- c\nSET a.b = 1", 1, {SET_("a.b", "SET a.b = 1")}},
    {"  -- c1\n /* c2 */\n\tSET a.b = 1", 1, {SET_("a.b", "SET a.b = 1")}},
    {"SET a.b = 1 -- c", 1, {SET_("a.b", "SET a.b = 1")}},
    {"SET a.b = 1 /* c */", 1, {SET_("a.b", "SET a.b = 1")}},
    {"SET a.b = 1 -- c\n; RESET a.c", 2, {SET_("a.b", "SET a.b = 1"), RESET_("a.c")}},
    {"SET a.b = /* inside */ 1", 1, {SET_("a.b", "SET a.b = /* inside */ 1")}},
    {"SET a.b = /* inside */ 1 -- c", 1, {SET_("a.b", "SET a.b = /* inside */ 1")}},
    {"SELECT 1; /* x; */ SET a.b = 1", 1, {SET_("a.b", "SET a.b = 1")}},
    {"SELECT 1 /* ; */ ; SET a.b = 1", 1, {SET_("a.b", "SET a.b = 1")}},
    {"SELECT 1 -- ;\n; RESET ALL", 1, {RESET_ALL_}},
    /* Literals that span lines or hold comment-like text keep their full
     * text; Unicode-escape literals too (libpg_query's scanner reports no
     * length for them). */
    {"SET a.b = 'x'\n'y' -- c", 1, {SET_("a.b", "SET a.b = 'x'\n'y'")}},
    {"SET a.b = $q$ ;-- $q$ -- c", 1, {SET_("a.b", "SET a.b = $q$ ;-- $q$")}},
    {"SET a.b = E'x\\'--' -- c", 1, {SET_("a.b", "SET a.b = E'x\\'--'")}},
    {"SET a.b = U&'d\\0061t' -- c", 1, {SET_("a.b", "SET a.b = U&'d\\0061t'")}},
    {"SET U&\"A\".b = 1 /* c */ ", 1, {SET_("a.b", "SET U&\"A\".b = 1")}},
    /* PostgreSQL block comments nest. */
    {"/* a /* nested */ b */ SET a.b = 1", 1, {SET_("a.b", "SET a.b = 1")}},
    {"SELECT 1; /* /* */ ; */ DISCARD ALL", 3, {DISCARD_ALL_}},
    /* A ';' inside a literal followed by what looks like a comment start must
     * not hide the statements after it from the pre-scan. */
    {"SELECT 'a;--'; SET a.b = 1", 1, {SET_("a.b", "SET a.b = 1")}},
    {"SELECT 'a;/*'; SET a.b = 1", 1, {SET_("a.b", "SET a.b = 1")}},
    {"SELECT 'x;set'; SELECT 2", 0, {{0}}},
};

/* Returns the number of mismatches, each reported. */
static int check_op(const sw_sessop *got, const exp_op *want, const char *sql, int idx)
{
    int bad = 0;
    if (got->kind != want->kind) {
        print_error("\"%s\" op %d: kind %d, want %d\n", sql, idx, got->kind, want->kind);
        bad++;
    }
    if ((want->name == NULL) != (got->name == NULL) || (want->name && strcmp(got->name, want->name) != 0)) {
        print_error("\"%s\" op %d: name \"%s\", want \"%s\"\n", sql, idx, got->name ? got->name : "(null)",
                    want->name ? want->name : "(null)");
        bad++;
    }
    if ((want->sql == NULL) != (got->sql == NULL) || (want->sql && strcmp(got->sql, want->sql) != 0)) {
        print_error("\"%s\" op %d: sql \"%s\", want \"%s\"\n", sql, idx, got->sql ? got->sql : "(null)",
                    want->sql ? want->sql : "(null)");
        bad++;
    }
    if (got->pins != want->pins) {
        print_error("\"%s\" op %d: pins %#x, want %#x\n", sql, idx, got->pins, want->pins);
        bad++;
    }
    return bad;
}

/* Scan c->sql (in an exactly-sized heap copy) into out, which already holds
 * `pre` operations, and check what was appended.  Returns the number of
 * mismatches, each reported. */
static int run_case(const scan_case *c, sw_sessops *out, int pre)
{
    size_t len = strlen(c->sql);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    memcpy(buf, c->sql, len + 1);
    assert_int_equal(out->n, pre);
    int got = sw_sessops_scan(buf, len, out);
    free(buf);
    int bad = 0;
    if (got != c->n) {
        print_error("\"%s\": returned %d, want %d\n", c->sql, got, c->n);
        bad++;
    }
    if (out->n != pre + c->n) {
        print_error("\"%s\": appended %d ops, want %d\n", c->sql, out->n - pre, c->n);
        return bad + 1;
    }
    for (int i = 0; i < c->n; i++) bad += check_op(&out->ops[pre + i], &c->ops[i], c->sql, i);
    return bad;
}

static void test_sessops_cases(void **state)
{
    (void)state;
    size_t ncases = sizeof CASES / sizeof CASES[0];
    assert_true(ncases >= 30);
    int bad = 0;
    for (size_t i = 0; i < ncases; i++) {
        sw_sessops out = {0};
        bad += run_case(&CASES[i], &out, 0);
        sw_sessops_clear(&out);
        assert_int_equal(out.n, 0);
        free(out.ops);
    }
    assert_int_equal(bad, 0);
}

/* Scanning appends: run every case into one accumulating list, and check the
 * earlier ops are untouched. */
static void test_sessops_append(void **state)
{
    (void)state;
    size_t ncases = sizeof CASES / sizeof CASES[0];
    sw_sessops out = {0};
    int total = 0;
    int bad = 0;
    for (size_t i = 0; i < ncases; i++) {
        bad += run_case(&CASES[i], &out, out.n);
        total += CASES[i].n;
    }
    assert_int_equal(out.n, total);
    assert_true(out.cap >= out.n);
    int k = 0;
    for (size_t i = 0; i < ncases; i++)
        for (int j = 0; j < CASES[i].n && k < out.n; j++) bad += check_op(&out.ops[k++], &CASES[i].ops[j], CASES[i].sql, j);
    assert_int_equal(bad, 0);
    sw_sessops_clear(&out);
    assert_int_equal(out.n, 0);
    /* Reusable after clear. */
    const scan_case again = {"SET a.b = 3", 1, {SET_("a.b", "SET a.b = 3")}};
    assert_int_equal(run_case(&again, &out, 0), 0);
    sw_sessops_clear(&out);
    assert_int_equal(out.n, 0);
    free(out.ops);
}

/* Counts calls, then forwards to libpg_query's own definition.  Defined in
 * the executable, it takes the place of the shared library's symbol for the
 * calls made from sessops.c. */
static int parse_calls;

PgQueryProtobufParseResult pg_query_parse_protobuf(const char *input)
{
    static PgQueryProtobufParseResult (*real)(const char *);
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "pg_query_parse_protobuf");
        if (!sym) {
            fprintf(stderr, "test_session: libpg_query's pg_query_parse_protobuf not found\n");
            abort();
        }
        memcpy(&real, &sym, sizeof real);
    }
    parse_calls++;
    return real(input);
}

/* The keyword pre-scan: text that cannot hold SET/RESET/DISCARD as the first
 * word of a statement is not parsed; text that may, is. */
static void test_sessops_prescan(void **state)
{
    (void)state;
    static const char *const no_parse[] = {
        "SELECT 1", "UPDATE t SET x = 1", "select offset_set from t", "SELECT 'set x=1'", "settings",
        "resetting", "discarded", "set_config", "SELECT my_set_config('a.b')", "SELECT nextval_x FROM t",
        "created", "closer",
        "-- SET a.b = 1\nSELECT 1", "/* SET a.b = 1 */ SELECT 1", "/* a /* SET */ b */ SELECT 1",
        "INSERT INTO t VALUES ('x') ON CONFLICT (a) DO UPDATE SET b = 1", "", "  ", "-- c",
    };
    static const char *const parse[] = {
        "SET a.b = 1", "reset all", "DISCARD PLANS", "SELECT 1; SET a.b = 1", "SELECT 'x;set'",
        "/* c */ set x", "-- c\nRESET x", "SELECT 1;discard all", "SET(", "SELECT 'a;--'; SET a.b = 1",
        "/* a /* b */ c */ SET a.b = 1", "SELECT set_config('a.b', '1', false)", "SELECT pg_advisory_lock (1)",
        "CREATE TEMP TABLE x (a int)", "select NEXTVAL('s')", "LISTEN c", "SELECT \"pg_backend_pid\"()",
    };
    sw_sessops out = {0};
    for (size_t i = 0; i < sizeof no_parse / sizeof no_parse[0]; i++) {
        int before = parse_calls;
        assert_int_equal(sw_sessops_scan(no_parse[i], strlen(no_parse[i]), &out), 0);
        if (parse_calls != before) fail_msg("\"%s\" was parsed", no_parse[i]);
    }
    for (size_t i = 0; i < sizeof parse / sizeof parse[0]; i++) {
        int before = parse_calls;
        sw_sessops_scan(parse[i], strlen(parse[i]), &out);
        if (parse_calls != before + 1) fail_msg("\"%s\" was not parsed", parse[i]);
    }
    sw_sessops_clear(&out);
    free(out.ops);
}

/* Many statements in one string: the op array grows, order is kept. */
static void test_sessops_many(void **state)
{
    (void)state;
    sw_sessops out = {0};
    const char *sql = "SELECT 1";
    assert_int_equal(sw_sessops_scan(sql, strlen(sql), &out), 0);
    assert_int_equal(out.n, 0);
    /* Many statements, forcing the op array to grow. */
    char big[4096];
    size_t off = 0;
    for (int i = 0; i < 50; i++)
        off += (size_t)snprintf(big + off, sizeof big - off, "SET s.v%d = %d; SELECT %d; ", i, i, i);
    assert_int_equal(sw_sessops_scan(big, off, &out), 50);
    assert_int_equal(out.n, 50);
    for (int i = 0; i < 50; i++) {
        char name[16], want[32];
        snprintf(name, sizeof name, "s.v%d", i);
        snprintf(want, sizeof want, "SET s.v%d = %d", i, i);
        assert_int_equal(out.ops[i].kind, SW_SESSOP_SET);
        assert_string_equal(out.ops[i].name, name);
        assert_string_equal(out.ops[i].sql, want);
    }
    sw_sessops_clear(&out);
    assert_int_equal(out.n, 0);
    free(out.ops);
}

/* A scanned SET replays correctly through a paramset diff: the statement
 * text must not swallow what diff_sql appends after it. */
static void test_sessops_replay(void **state)
{
    (void)state;
    const char *sql = "SET a.x = 'v' -- set by the app";
    sw_sessops out = {0};
    assert_int_equal(sw_sessops_scan(sql, strlen(sql), &out), 1);
    sw_paramset from, to;
    sw_paramset_init(&from);
    sw_paramset_init(&to);
    set_ok(&to, out.ops[0].name, out.ops[0].sql);
    set_ok(&to, "b.y", "SET b.y TO '2'");
    check_diff(&from, &to, "SET a.x = 'v';SET b.y TO '2';", 2);
    sw_paramset_free(&from);
    sw_paramset_free(&to);
    sw_sessops_clear(&out);
    free(out.ops);
}

int main(int argc, char **argv)
{
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_name_sql),
        cmocka_unit_test(test_paramset_set_get_remove),
        cmocka_unit_test(test_paramset_copies_strings),
        cmocka_unit_test(test_paramset_sorted_random),
        cmocka_unit_test(test_paramset_fingerprint),
        cmocka_unit_test(test_paramset_copy),
        cmocka_unit_test(test_paramset_diff_sql),
        cmocka_unit_test(test_sessops_cases),
        cmocka_unit_test(test_sessops_append),
        cmocka_unit_test(test_sessops_prescan),
        cmocka_unit_test(test_sessops_many),
        cmocka_unit_test(test_sessops_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
