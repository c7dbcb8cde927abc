"""psycopg_pooling.py - what psycopg 3 programs do that transaction pooling
must not change: automatic server-side prepared statements (prepared after
prepare_threshold executions, under psycopg's own names), DEALLOCATE ALL
and DISCARD ALL (psycopg then forgets its statements), temp tables and
advisory locks of one connection, session settings, and a statement
prepared again after its table changed.

Run with a conninfo: it prints one line per step, so that the same run on
a plain PostgreSQL server and through shardwire can be compared line by
line.  Three connections interleave, more than the pool has servers.
"""
import sys

import psycopg


def out(label, value):
    print(f"{label}: {value}", flush=True)


def attempt(label, fn):
    try:
        out(label, fn())
    except psycopg.Error as e:
        out(label, f"ERROR {e.sqlstate} {e.diag.message_primary}")


def main():
    dsn = sys.argv[1]
    conns = [psycopg.connect(dsn, autocommit=True) for _ in range(3)]
    a, b, c = conns
    for k in conns:
        k.prepare_threshold = 2

    # automatic prepared statements, interleaved on three connections
    for i in range(6):
        for n, k in enumerate(conns):
            r = k.execute("SELECT %s::int * 10 + %s::int", (i, n)).fetchone()[0]
            out(f"prepared {n} {i}", r)
    names = [getattr(getattr(k, "_prepared", None), "_names", None) for k in conns]
    out("psycopg prepared some", all(n is None or len(n) > 0 for n in names))

    # DEALLOCATE ALL / DISCARD ALL: psycopg forgets its names and prepares again
    a.execute("DEALLOCATE ALL")
    for i in range(4):
        out(f"after deallocate {i}", a.execute("SELECT %s::int + 100", (i,)).fetchone()[0])
    b.execute("DISCARD ALL")
    for i in range(4):
        out(f"after discard {i}", b.execute("SELECT %s::int + 200", (i,)).fetchone()[0])

    # a temp table and an advisory lock belong to their connection
    a.execute("CREATE TEMP TABLE drv_tmp (x int)")
    a.execute("INSERT INTO drv_tmp VALUES (1), (2), (3)")
    attempt("temp from b", lambda: b.execute("SELECT count(*) FROM drv_tmp").fetchone()[0])
    attempt("temp from a", lambda: a.execute("SELECT count(*) FROM drv_tmp").fetchone()[0])
    out("lock a", a.execute("SELECT pg_try_advisory_lock(99)").fetchone()[0])
    out("lock c", c.execute("SELECT pg_try_advisory_lock(99)").fetchone()[0])
    out("unlock a", a.execute("SELECT pg_advisory_unlock_all()").fetchone()[0])
    out("lock c again", c.execute("SELECT pg_try_advisory_lock(99)").fetchone()[0])
    c.execute("SELECT pg_advisory_unlock_all()")

    # settings stay with their connection
    b.execute("SET datestyle TO 'German'")
    for k, n in ((a, "a"), (b, "b"), (c, "c"), (b, "b")):
        out(f"datestyle {n}", k.execute("SHOW datestyle").fetchone()[0])
        out(f"date {n}", k.execute("SELECT '2024-05-06'::date::text").fetchone()[0])

    # transactions across the pool
    with c.transaction():
        c.execute("CREATE TEMP TABLE IF NOT EXISTS drv_tx (x int) ON COMMIT DROP")
        c.execute("INSERT INTO drv_tx VALUES (7)")
        out("in transaction", c.execute("SELECT sum(x) FROM drv_tx").fetchone()[0])
    a.execute("DISCARD ALL")
    attempt("temp after discard", lambda: a.execute("SELECT count(*) FROM drv_tmp").fetchone()[0])
    for k in conns:
        k.close()
    out("done", True)


if __name__ == "__main__":
    main()
