/**
 * What changed in a target after its gate passed, so the re-check before users log in
 * (`enter-running-mode`) reads only that instead of the whole database a second time.
 *
 * Before the gate reads anything, every table (partitioned parents and inheritance parents
 * included) gets an `ENABLE ALWAYS` statement trigger that records the table on INSERT or
 * UPDATE (COPY, MERGE, ON CONFLICT and foreign-key cascades fire it too; `ALWAYS` fires under
 * `session_replication_role = replica`), and one event trigger records any schema change other
 * than grants and comments. A schema change can alter stored text without writing a row
 * (`ADD COLUMN … DEFAULT`, an enum's `RENAME VALUE`, `REFRESH MATERIALIZED VIEW`, a dropped
 * trigger), so after one the re-check reads everything again. It does too when the record is
 * missing, belongs to another run, domain or profile, or any trigger or function of it is not
 * exactly as installed. Installing takes each table's trigger lock, so a write in flight
 * either finishes before the gate's scan or is recorded.
 *
 * The tracking is removed once the tenant opens (or the clone ends offline): it must not slow
 * or surprise the sandbox's users.
 */
import { escapeIdentifier, type Pool } from 'pg';
import type { CatalogTable } from './catalog';

/**
 * The record's own tables, in the tool's schema. They are dropped and created anew before each
 * gate, hold only a fingerprint and oids, and are left out of the catalog (the record of
 * writes cannot record itself).
 */
export const RECORD_TABLES = ['gate', 'gate_writes'];

const TRIGGER = 'tenant_clone_gate_writes';
const EVENT_TRIGGER = 'tenant_clone_gate_schema';
const NOTE_WRITE = 'tenant_clone.note_gate_write()';
const NOTE_SCHEMA = 'tenant_clone.note_gate_schema_change()';

/** `'a', 'b'`: a list of SQL string literals (of constants written here). */
const sqlList = (items: string[]) => items.map((c) => `'${c}'`).join(', ');

/** Schema changes that cannot change what a table's rows hold. */
const HARMLESS_COMMANDS = ['GRANT', 'REVOKE', 'ALTER DEFAULT PRIVILEGES', 'COMMENT'];

// The bodies are compared with the catalog's at re-check time, so they are constants.
const NOTE_WRITE_BODY = `
BEGIN
  INSERT INTO tenant_clone.gate_writes (rel) VALUES (TG_RELID) ON CONFLICT DO NOTHING;
  RETURN NULL;
END`;
const NOTE_SCHEMA_BODY = `
BEGIN
  IF TG_TAG NOT IN (${sqlList(HARMLESS_COMMANDS)}) THEN
    UPDATE tenant_clone.gate SET schema_changed = true WHERE id = 1 AND NOT schema_changed;
  END IF;
END`;

/** pg_trigger.tgtype of an AFTER … FOR EACH STATEMENT trigger on INSERT and UPDATE (trigger.h). */
const AFTER_INSERT_OR_UPDATE_PER_STATEMENT = 4 | 16;

/** Tables and partitioned or inheritance parents outside the system schemas, the record's own aside. */
const TRACKED_RELATIONS = `
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
     AND NOT (n.nspname = 'tenant_clone' AND c.relname IN (${sqlList(RECORD_TABLES)}))`;

/**
 * Starts recording writes and schema changes in `pool`'s database for the gate `fingerprint`,
 * forgetting any earlier record. Returns why it could not (e.g. no right to create an event
 * trigger); the re-check then reads the whole database, as it would without tracking.
 */
export async function startGateTracking(pool: Pool, fingerprint: string): Promise<string | null> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Nothing else should hold these tables during the scrub step; waiting long means something does.
    await client.query(`SET LOCAL lock_timeout = '15s'`);
    await client.query(`DROP EVENT TRIGGER IF EXISTS ${EVENT_TRIGGER}`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS tenant_clone`);
    // Anew, so they are exactly what the catalog may leave out, whatever a source brought.
    await client.query(`DROP TABLE IF EXISTS tenant_clone.gate, tenant_clone.gate_writes`);
    await client.query(`CREATE TABLE tenant_clone.gate (
      id int PRIMARY KEY CHECK (id = 1), fingerprint text NOT NULL, passed boolean NOT NULL, schema_changed boolean NOT NULL)`);
    await client.query(`CREATE TABLE tenant_clone.gate_writes (rel oid PRIMARY KEY)`);
    await client.query(`CREATE OR REPLACE FUNCTION ${NOTE_WRITE} RETURNS trigger LANGUAGE plpgsql
      SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$${NOTE_WRITE_BODY}$body$`);
    await client.query(`CREATE OR REPLACE FUNCTION ${NOTE_SCHEMA} RETURNS event_trigger LANGUAGE plpgsql
      SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$${NOTE_SCHEMA_BODY}$body$`);
    const rels = await client.query<{ name: string }>(`SELECT c.oid::regclass::text AS name FROM (${TRACKED_RELATIONS}) c`);
    const trigger = escapeIdentifier(TRIGGER);
    const statements = rels.rows.map(
      ({ name }) =>
        `DROP TRIGGER IF EXISTS ${trigger} ON ${name};
         CREATE TRIGGER ${trigger} AFTER INSERT OR UPDATE ON ${name} FOR EACH STATEMENT EXECUTE FUNCTION ${NOTE_WRITE};
         ALTER TABLE ${name} ENABLE ALWAYS TRIGGER ${trigger};`,
    );
    // regclass text is already quoted; one round trip per few hundred tables.
    for (let i = 0; i < statements.length; i += 200) await client.query(statements.slice(i, i + 200).join('\n'));
    await client.query(`CREATE EVENT TRIGGER ${EVENT_TRIGGER} ON ddl_command_end EXECUTE FUNCTION ${NOTE_SCHEMA}`);
    await client.query(`ALTER EVENT TRIGGER ${EVENT_TRIGGER} ENABLE ALWAYS`);
    await client.query(`INSERT INTO tenant_clone.gate (id, fingerprint, passed, schema_changed) VALUES (1, $1, false, false)`, [fingerprint]);
    await client.query('COMMIT');
    return null;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    return (err as Error).message;
  } finally {
    client.release();
  }
}

/** The gate `fingerprint` read the whole database and found nothing. */
export async function markGatePassed(pool: Pool, fingerprint: string): Promise<void> {
  await pool.query(`UPDATE tenant_clone.gate SET passed = true WHERE id = 1 AND fingerprint = $1`, [fingerprint]);
}

/**
 * Since the gate: the tables that provably have not changed (a key per table, see tableKey),
 * or why everything must be read again.
 */
export type ChangedSinceGate = { unchanged: Set<string> } | { whole: string };

const tableKey = (schema: string, name: string) => JSON.stringify([schema, name]);

const missingObject = (err: { code?: string }) => ['42P01', '3F000', '42883', '42704'].includes(err.code ?? '');

export async function changedSinceGate(pool: Pool, fingerprint: string): Promise<ChangedSinceGate> {
  const client = await pool.connect();
  try {
    // One snapshot for the record, the triggers and the writes.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const state = await client
      .query<{ fingerprint: string; passed: boolean; schema_changed: boolean; event_ok: boolean | null; functions_ok: boolean }>(
        `SELECT g.fingerprint, g.passed, g.schema_changed,
                (SELECT e.evtenabled = 'A' AND e.evtevent = 'ddl_command_end' AND e.evttags IS NULL AND e.evtfoid = '${NOTE_SCHEMA}'::regprocedure
                   FROM pg_event_trigger e WHERE e.evtname = $1) AS event_ok,
                (SELECT count(*) = 2 FROM pg_proc p
                  WHERE p.prosecdef AND ((p.oid = '${NOTE_WRITE}'::regprocedure AND p.prosrc = $2)
                                      OR (p.oid = '${NOTE_SCHEMA}'::regprocedure AND p.prosrc = $3))) AS functions_ok
           FROM tenant_clone.gate g WHERE g.id = 1`,
        [EVENT_TRIGGER, NOTE_WRITE_BODY, NOTE_SCHEMA_BODY],
      )
      .catch((err: { code?: string }) => {
        if (missingObject(err)) return null;
        throw err;
      });
    const g = state?.rows[0];
    if (!g) return { whole: 'no record of writes since the gate' };
    if (g.fingerprint !== fingerprint) return { whole: 'the record of writes belongs to another run, sandbox domain or profile' };
    if (!g.passed) return { whole: 'the gate that started the record did not pass' };
    if (g.schema_changed) return { whole: 'the schema changed after the gate' };
    if (!g.event_ok || !g.functions_ok) return { whole: 'the record of schema changes was altered or disabled' };
    const rels = await client.query<{ schema: string; name: string; tracked: boolean; written: boolean }>(
      `WITH RECURSIVE up(rel, anc) AS (
         SELECT oid, oid FROM (${TRACKED_RELATIONS}) t
         UNION SELECT up.rel, i.inhparent FROM up JOIN pg_inherits i ON i.inhrelid = up.anc)
       SELECT n.nspname AS schema, c.relname AS name,
              bool_and(EXISTS (SELECT 1 FROM pg_trigger t
                                WHERE t.tgrelid = up.anc AND t.tgname = $1 AND t.tgenabled = 'A' AND t.tgtype = $2
                                  AND t.tgqual IS NULL AND t.tgnargs = 0 AND cardinality(t.tgattr::int2[]) = 0
                                  AND t.tgfoid = '${NOTE_WRITE}'::regprocedure)) AS tracked,
              bool_or(EXISTS (SELECT 1 FROM tenant_clone.gate_writes w WHERE w.rel = up.anc)) AS written
         FROM up JOIN pg_class c ON c.oid = up.rel JOIN pg_namespace n ON n.oid = c.relnamespace
        GROUP BY n.nspname, c.relname`,
      [TRIGGER, AFTER_INSERT_OR_UPDATE_PER_STATEMENT],
    );
    // A table whose trigger (or an ancestor's) is missing or altered is read again, like a written one.
    return { unchanged: new Set(rels.rows.filter((r) => r.tracked && !r.written).map((r) => tableKey(r.schema, r.name))) };
  } catch (err) {
    if (missingObject(err as { code?: string })) return { whole: 'the record of writes is incomplete' };
    throw err;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}

/**
 * Whether the re-check reads `t`: every table not proven unchanged. A materialized view changes
 * only when refreshed, which is a schema change.
 */
export const readAgain = (changed: { unchanged: Set<string> }, t: CatalogTable): boolean =>
  t.kind !== 'materialized view' && !changed.unchanged.has(tableKey(t.schema, t.name));

/** Removes the triggers, the event trigger and the record; true when there was any. */
export async function endGateTracking(pool: Pool): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const found = await client.query(`SELECT 1 FROM pg_event_trigger WHERE evtname = $1`, [EVENT_TRIGGER]);
    await client.query(`DROP EVENT TRIGGER IF EXISTS ${EVENT_TRIGGER}`);
    const rels = await client.query<{ name: string }>(`SELECT t.tgrelid::regclass::text AS name FROM pg_trigger t WHERE t.tgname = $1 AND NOT t.tgisinternal`, [
      TRIGGER,
    ]);
    const trigger = escapeIdentifier(TRIGGER);
    for (let i = 0; i < rels.rows.length; i += 200) {
      await client.query(
        rels.rows
          .slice(i, i + 200)
          .map(({ name }) => `DROP TRIGGER IF EXISTS ${trigger} ON ${name};`)
          .join('\n'),
      );
    }
    await client.query(`DROP FUNCTION IF EXISTS ${NOTE_WRITE}, ${NOTE_SCHEMA}`);
    await client.query(`DROP TABLE IF EXISTS tenant_clone.gate, tenant_clone.gate_writes`);
    await client.query('COMMIT');
    return found.rows.length > 0 || rels.rows.length > 0;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
