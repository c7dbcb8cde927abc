/*
 * spread.c - serial, bigserial and identity columns of sharded tables that
 * never give the same value on two nodes.
 *
 * Every node of a sharded table has its own copy of the table's sequences,
 * so left alone each one counts 1, 2, 3...  Spreading gives node k (its
 * place in `nodes:`) every value congruent to k + 1 modulo SW_SPREAD_STRIDE:
 * INCREMENT BY the stride, restarted at the first such value above
 * anything the sequence has given.  The values are PostgreSQL's own: a
 * default is evaluated on the node that stores the row, exactly as on one
 * server, only with gaps.  For a table-suffix table the slot is the
 * physical table's place among the function's targets, since its parts
 * share one node.
 *
 * The work is PostgreSQL's: recovery (recover.c) installs, on every node, a
 * table shardwire.sequence_spread naming the node's sharded tables and
 * their slot, a function that spreads the sequences a table's columns use,
 * and an event trigger that calls it at the end of every CREATE TABLE and
 * ALTER TABLE, inside the DDL's own transaction, so a table is spread
 * before its first INSERT whoever creates it.  Each recovery run brings the
 * list in line with the configuration and spreads existing tables (those
 * created before shardwire was in front, or by a user who may not create
 * event triggers).  A sequence already incremented by the stride is left
 * alone, and so is one an operator changes afterwards with ALTER SEQUENCE.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw/shard.h"

#include "relay_int.h"

#define SW_SPREAD_STRIDE SW_MAX_NODES

/* Objects made once per process and node; OR REPLACE keeps them current. */
static const char spread_ddl[] =
    "CREATE SCHEMA IF NOT EXISTS shardwire;"
    "CREATE TABLE IF NOT EXISTS shardwire.sequence_spread ("
    " schema_name text, table_name text NOT NULL, slot int NOT NULL, stride int NOT NULL);"
    "GRANT USAGE ON SCHEMA shardwire TO PUBLIC;"
    "GRANT SELECT ON shardwire.sequence_spread TO PUBLIC;"
    /* the sequences that columns of rel draw from: serial and identity
     * (owned, deptype a / i) and any nextval() default */
    "CREATE OR REPLACE FUNCTION shardwire.spread_table(rel oid) RETURNS int"
    " LANGUAGE plpgsql SET search_path = pg_catalog AS $f$\n"
    "DECLARE want record; s record; last bigint; nxt bigint; n int := 0;\n"
    "BEGIN\n"
    "  SELECT sp.slot, sp.stride INTO want FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace\n"
    "    JOIN shardwire.sequence_spread sp ON sp.table_name = c.relname\n"
    "     AND (sp.schema_name IS NULL OR sp.schema_name = ns.nspname)\n"
    "   WHERE c.oid = rel ORDER BY sp.schema_name NULLS LAST LIMIT 1;\n"
    "  IF NOT FOUND THEN RETURN 0; END IF;\n"
    "  FOR s IN SELECT q.seqrelid, q.seqincrement FROM pg_depend d JOIN pg_sequence q ON q.seqrelid = d.objid\n"
    "            WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass\n"
    "              AND d.refobjid = rel AND d.deptype IN ('a', 'i')\n"
    "           UNION\n"
    "           SELECT q.seqrelid, q.seqincrement FROM pg_attrdef ad\n"
    "             JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid\n"
    "             JOIN pg_sequence q ON q.seqrelid = d.refobjid AND d.refclassid = 'pg_class'::regclass\n"
    "            WHERE ad.adrelid = rel\n"
    "  LOOP\n"
    "    IF s.seqincrement = want.stride THEN CONTINUE; END IF;\n"
    "    EXECUTE format('SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM %s',\n"
    "                   s.seqrelid::regclass) INTO last;\n"
    "    last := greatest(last, 0);\n"
    "    nxt := last - last % want.stride + want.slot + 1;\n"
    "    IF nxt <= last THEN nxt := nxt + want.stride; END IF;\n"
    "    EXECUTE format('ALTER SEQUENCE %s INCREMENT BY %s MINVALUE 1 START WITH %s RESTART WITH %s',\n"
    "                   s.seqrelid::regclass, want.stride, want.slot + 1, nxt);\n"
    "    n := n + 1;\n"
    "  END LOOP;\n"
    "  RETURN n;\n"
    "END\n$f$;"
    "CREATE OR REPLACE FUNCTION shardwire.spread_ddl() RETURNS event_trigger"
    " LANGUAGE plpgsql SET search_path = pg_catalog AS $f$\n"
    "DECLARE c record;\n"
    "BEGIN\n"
    "  FOR c IN SELECT DISTINCT objid FROM pg_event_trigger_ddl_commands()\n"
    "            WHERE classid = 'pg_class'::regclass AND object_type IN ('table', 'table column')\n"
    "  LOOP\n"
    "    BEGIN PERFORM shardwire.spread_table(c.objid);\n"
    "    EXCEPTION WHEN OTHERS THEN RAISE WARNING 'shardwire could not spread the sequences of %: %',\n"
    "                                 c.objid::regclass, SQLERRM;\n"
    "    END;\n"
    "  END LOOP;\n"
    "END\n$f$;"
    /* the whole list, replaced when it differs; then every listed table */
    "CREATE OR REPLACE FUNCTION shardwire.spread_parse(want text) RETURNS SETOF shardwire.sequence_spread"
    " LANGUAGE sql IMMUTABLE AS $f$\n"
    "  SELECT nullif(split_part(l, E'\\t', 1), ''), split_part(l, E'\\t', 2),\n"
    "         split_part(l, E'\\t', 3)::int, split_part(l, E'\\t', 4)::int\n"
    "    FROM unnest(string_to_array(want, E'\\n')) l WHERE l <> ''\n"
    "$f$;"
    "CREATE OR REPLACE FUNCTION shardwire.spread_sync(want text) RETURNS int"
    " LANGUAGE plpgsql SET search_path = pg_catalog AS $f$\n"
    "DECLARE c record; n int := 0;\n"
    "BEGIN\n"
    "  IF EXISTS (SELECT * FROM shardwire.spread_parse(want) EXCEPT SELECT * FROM shardwire.sequence_spread)\n"
    "     OR EXISTS (SELECT * FROM shardwire.sequence_spread EXCEPT SELECT * FROM shardwire.spread_parse(want)) THEN\n"
    "    LOCK TABLE shardwire.sequence_spread IN EXCLUSIVE MODE;\n"
    "    DELETE FROM shardwire.sequence_spread;\n"
    "    INSERT INTO shardwire.sequence_spread SELECT * FROM shardwire.spread_parse(want);\n"
    "  END IF;\n"
    "  FOR c IN SELECT DISTINCT cl.oid FROM pg_class cl JOIN pg_namespace ns ON ns.oid = cl.relnamespace\n"
    "            JOIN shardwire.sequence_spread sp ON sp.table_name = cl.relname\n"
    "             AND (sp.schema_name IS NULL OR sp.schema_name = ns.nspname)\n"
    "           WHERE cl.relkind IN ('r', 'p') AND NOT ns.nspname LIKE 'pg_temp%'\n"
    "  LOOP\n"
    "    n := n + shardwire.spread_table(c.oid);\n"
    "  END LOOP;\n"
    "  RETURN n;\n"
    "END\n$f$;";

/* Made only by a superuser; without it spreading waits for the next run. */
static const char trigger_ddl[] =
    "DO $d$ BEGIN"
    " IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = 'shardwire_spread_sequences') THEN"
    "  CREATE EVENT TRIGGER shardwire_spread_sequences ON ddl_command_end"
    "   WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION shardwire.spread_ddl();"
    " END IF; END $d$";

static size_t add_line(char *buf, size_t bufsz, size_t o, const char *schema, const char *name, int slot)
{
    if (o >= bufsz) return o;
    int w = snprintf(buf + o, bufsz - o, "%s\t%s\t%d\t%d\n", schema ? schema : "", name, slot, SW_SPREAD_STRIDE);
    return w < 0 ? bufsz : o + (size_t)w;
}

/* The nodes holding rows of a function's table: its targets', or for a
 * shard-aware ID function, those of the hash function it draws on. */
static uint64_t fn_nodes(const sw_conf *conf, int fi)
{
    if (fi < 0 || fi >= conf->n_functions) return 0;
    const sw_conf_function *f = &conf->functions[fi];
    if (f->kind == SW_FN_EMBEDDED && f->source != fi) return fn_nodes(conf, f->source);
    uint64_t m = 0;
    if (f->n_targets == 0)  /* no list: every node, in order */
        return conf->n_nodes >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << conf->n_nodes) - 1;
    for (int x = 0; x < f->n_targets; x++)
        if (f->target_node && f->target_node[x] >= 0 && f->target_node[x] < SW_MAX_NODES)
            m |= UINT64_C(1) << f->target_node[x];
    return m;
}

bool sw_spread_want(const sw_conf *conf, int node, char *buf, size_t bufsz)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int d = 0; d < conf->n_databases; d++) {
        const sw_conf_database *db = &conf->databases[d];
        for (int ti = 0; ti < db->n_tables; ti++) {
            const sw_conf_table *t = &db->tables[ti];
            if (t->kind != SW_TABLE_SHARDED || t->function < 0 || t->function >= conf->n_functions) continue;
            const sw_conf_function *f = &conf->functions[t->function];
            if (f->table_targets) {
                /* a physical table lives on its entry's node or the table's */
                for (int x = 0; x < f->n_targets && x < SW_SPREAD_STRIDE; x++) {
                    int on = f->target_node && f->target_node[x] >= 0 ? f->target_node[x] : t->node;
                    if (on == node) o = add_line(buf, bufsz, o, t->schema, f->targets[x], x);
                }
            } else if (fn_nodes(conf, t->function) >> node & 1) {
                o = add_line(buf, bufsz, o, t->schema, t->name, node);
            }
        }
    }
    return o < bufsz;
}

int sw_spread_node(PGconn *pc, bool install, const char *want, char *msg, size_t msgsz)
{
    msg[0] = '\0';
    if (!want[0]) {
        /* nothing sharded here: only empty a list an earlier configuration left */
        PGresult *r = PQexec(pc, "SELECT shardwire.spread_sync('') WHERE to_regprocedure('shardwire.spread_sync(text)') IS NOT NULL");
        PQclear(r);
        return 0;
    }
    if (install) {
        PGresult *r = PQexec(pc, spread_ddl);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) snprintf(msg, msgsz, "cannot install shardwire.spread_sync: %s", PQresultErrorMessage(r));
        PQclear(r);
        if (!ok) return -1;
        r = PQexec(pc, trigger_ddl);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            snprintf(msg, msgsz,
                     "cannot create event trigger shardwire_spread_sequences (%s): a sharded table created "
                     "on this node gets its sequences spread only at the next recovery run",
                     PQresultErrorMessage(r));
        PQclear(r);
    }
    const char *params[1] = {want};
    PGresult *r = PQexecParams(pc, "SELECT shardwire.spread_sync($1)", 1, NULL, params, NULL, NULL, 0);
    int n = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) n = atoi(PQgetvalue(r, 0, 0));
    else if (!msg[0]) snprintf(msg, msgsz, "spreading sequences failed: %s", PQresultErrorMessage(r));
    PQclear(r);
    return n;
}
