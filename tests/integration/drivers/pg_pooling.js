// pg_pooling.js - what node-postgres programs do that transaction pooling
// must not change: named prepared statements (node-postgres parses a named
// query once per connection and only binds it afterwards), DEALLOCATE ALL
// behind the driver's back, temp tables and advisory locks of one
// connection, session settings.  Usage: node pg_pooling.js MODULE_DIR
// CONNINFO_URL.  Prints one line per step, to compare a run on a plain
// PostgreSQL server with one through shardwire; three connections
// interleave, more than the pool has servers.
'use strict';
const { Client } = require(process.argv[2]);

function out(label, value) {
    console.log(`${label}: ${value}`);
}

async function attempt(label, fn) {
    try {
        out(label, await fn());
    } catch (e) {
        out(label, `ERROR ${e.code} ${e.message}`);
    }
}

async function main() {
    const conns = [];
    for (let i = 0; i < 3; i++) {
        const c = new Client({ connectionString: process.argv[3] });
        await c.connect();
        conns.push(c);
    }
    const [a, b, c] = conns;
    const one = async (k, sql, values) => (await k.query(sql, values)).rows[0];

    // named statements, parsed once per connection, interleaved
    for (let i = 0; i < 4; i++) {
        for (let n = 0; n < 3; n++) {
            const r = await conns[n].query({ name: 'calc', text: 'SELECT $1::int * 10 + $2::int AS v', values: [i, n] });
            out(`named ${n} ${i}`, r.rows[0].v);
        }
    }
    // DEALLOCATE ALL behind the driver's back: its next bind of "calc"
    // finds no statement, as on one server
    await a.query('DEALLOCATE ALL');
    await attempt('after deallocate', async () =>
        (await a.query({ name: 'calc', text: 'SELECT $1::int * 10 + $2::int AS v', values: [1, 1] })).rows[0].v);
    await attempt('other connection', async () =>
        (await b.query({ name: 'calc', text: 'SELECT $1::int * 10 + $2::int AS v', values: [2, 2] })).rows[0].v);

    // temp tables and advisory locks belong to their connection
    await a.query('CREATE TEMP TABLE drv_tmp (x int)');
    await a.query('INSERT INTO drv_tmp VALUES (1), (2)');
    await attempt('temp from b', async () => (await one(b, 'SELECT count(*) AS n FROM drv_tmp')).n);
    await attempt('temp from a', async () => (await one(a, 'SELECT count(*) AS n FROM drv_tmp')).n);
    out('lock a', (await one(a, 'SELECT pg_try_advisory_lock(77) AS l')).l);
    out('lock c', (await one(c, 'SELECT pg_try_advisory_lock(77) AS l')).l);
    out('unlock a', (await one(a, 'SELECT pg_advisory_unlock_all() AS u')).u);
    out('lock c again', (await one(c, 'SELECT pg_try_advisory_lock(77) AS l')).l);
    await c.query('SELECT pg_advisory_unlock_all()');

    // settings stay with their connection
    await b.query("SET datestyle TO 'SQL, DMY'");
    for (const [k, n] of [[a, 'a'], [b, 'b'], [c, 'c'], [b, 'b']]) {
        out(`datestyle ${n}`, (await one(k, 'SHOW datestyle')).DateStyle);
        out(`date ${n}`, (await one(k, "SELECT '2024-05-06'::date::text AS d")).d);
    }
    await a.query('DISCARD ALL');
    await attempt('temp after discard', async () => (await one(a, 'SELECT count(*) AS n FROM drv_tmp')).n);
    for (const k of conns) await k.end();
    out('done', true);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
