/**
 * The copy that writes the target once: every row is sanitized before the target stores it.
 *
 * One read-only, repeatable-read transaction on the source exports a snapshot and holds share
 * locks on the tables (as pg_dump does, so no DDL slips in); pg_dump takes the schema from that
 * snapshot; the target gets its pre-data section (tables without indexes, constraints or
 * triggers); each table then streams from the snapshot (`COPY … TO STDOUT`, several tables at
 * once) straight into `COPY … FROM STDIN` on the target, where a BEFORE INSERT trigger of the
 * tool's own rewrites the address tokens of every text-like column (the rule and the SQL
 * functions of the whole-database scrub, so there is one rule), before the row reaches a page.
 * The triggers go, the sequences are set, and the post-data section (indexes, constraints, the
 * tenant's own triggers, materialized views) is restored in parallel. The source is only read.
 *
 * A marker in the target (tenant_clone.in_flight) records the sandbox domain and the columns
 * the profile keeps, so the scrub step that follows knows the rewrite is done and runs only the
 * verification gate, which is unchanged.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client, escapeIdentifier, escapeLiteral, type ClientConfig, type Pool } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { CopyOptions } from '../port';
import { keptColumns, type SanitizationProfile } from '../profile';
import { databaseSize } from './admin';
import { readCatalog, type CatalogTable } from './catalog';
import { abortError, runTool } from './child-process';
import type { Connections } from './connections';
import { checkJobs, dumpArgs, explainDumpFailure, resetTarget, type CopyTools, type DumpSource, type ToolHooks } from './copy';
import { checkMailDomain } from './identifiers';
import { installRewriteFunctions, rewritableColumns, rewriteExpr } from './scrub';
import { ANY_AT_PATTERN } from './scrub-sql';

export interface InFlightSanitization {
  profile: SanitizationProfile;
  sandboxDomain: string;
  /** The clone's run: only its own scrub step trusts the marker. */
  runId: string;
}

/** The source holds what the in-flight copy cannot rewrite; nothing was touched yet. */
export class InFlightUnsupported extends Error {
  override name = 'InFlightUnsupported';
}

export interface InFlightResult {
  bytes: number;
  tables: number;
  /** Rows that held an "at" in a rewritable column, rewritten on their way in. */
  rewrittenRows: number;
}

/** What the scrub compares with: the run, the domain and the kept columns the copy rewrote for. */
export function inFlightFingerprint(profile: SanitizationProfile, sandboxDomain: string, runId: string): string {
  const kept = [...keptColumns(profile, 'public')].sort();
  return createHash('sha256').update(JSON.stringify({ runId, sandboxDomain, kept })).digest('hex');
}

/**
 * Whether `pool`'s database was written by an in-flight copy for this domain and profile; the
 * rows it rewrote when it was.
 */
export async function rewrittenInFlight(pool: Pool, profile: SanitizationProfile, sandboxDomain: string, runId: string): Promise<number | null> {
  const r = await pool
    .query<{ fingerprint: string; rows: string }>(`SELECT fingerprint, rewritten_rows::text AS rows FROM tenant_clone.in_flight WHERE id = 1`)
    .catch((err: { code?: string }) => {
      // No marker table, or no helper schema at all: not written by an in-flight copy.
      if (err.code === '42P01' || err.code === '3F000') return { rows: [] as { fingerprint: string; rows: string }[] };
      throw err;
    });
  const row = r.rows[0];
  return row && row.fingerprint === inFlightFingerprint(profile, sandboxDomain, runId) ? Number(row.rows) : null;
}

/** pg's connection settings from the PG* variables of a dump source (a socket directory works as host). */
function clientConfig(env: NodeJS.ProcessEnv, database: string): ClientConfig {
  return {
    host: env.PGHOST,
    port: env.PGPORT ? Number(env.PGPORT) : undefined,
    user: env.PGUSER,
    password: env.PGPASSWORD,
    database,
    application_name: 'tenant-clone',
    ssl:
      env.PGSSLMODE && env.PGSSLMODE !== 'disable' && env.PGSSLMODE !== 'allow' && env.PGSSLMODE !== 'prefer'
        ? { rejectUnauthorized: env.PGSSLMODE === 'verify-full' }
        : undefined,
  };
}

interface SourceTable {
  schema: string;
  name: string;
  sql: string;
  bytes: number;
  pages: number;
  columns: string[];
}

/** What one COPY moves: a whole table, or a range of its pages (a big table is cut so every job can work on it). */
interface Piece {
  table: SourceTable;
  /** First page, and the page it stops before (null: to the end; the last piece takes pages added since). */
  from: number | null;
  to: number | null;
  bytes: number;
}

/** Tables larger than this are copied in pieces of about this size, several at once. */
const PIECE_BYTES = 8 * 1024 * 1024;

function piecesOf(t: SourceTable): Piece[] {
  if (t.bytes <= PIECE_BYTES || t.pages < 2) return [{ table: t, from: null, to: null, bytes: t.bytes }];
  const count = Math.min(t.pages, Math.ceil(t.bytes / PIECE_BYTES));
  const size = Math.ceil(t.pages / count);
  const pieces: Piece[] = [];
  for (let from = 0; from < t.pages; from += size) {
    const to = from + size >= t.pages ? null : from + size;
    pieces.push({ table: t, from, to, bytes: Math.round((t.bytes * ((to ?? t.pages) - from)) / t.pages) });
  }
  return pieces;
}

/** The COPY that reads a piece from the snapshot (a TID range scan for a range of pages). */
function copyOutSql(p: Piece, cols: string): string {
  if (p.from === null) return `COPY ${p.table.sql} (${cols}) TO STDOUT`;
  const range = [`ctid >= '(${p.from},0)'::tid`, ...(p.to === null ? [] : [`ctid < '(${p.to},0)'::tid`])].join(' AND ');
  return `COPY (SELECT ${cols} FROM ONLY ${p.table.sql} WHERE ${range}) TO STDOUT`;
}

/** Tables whose rows pg_dump would dump: ordinary tables and partitions, not an extension's. */
const SOURCE_TABLES = `
  SELECT n.nspname AS schema, c.relname AS name, pg_relation_size(c.oid)::text AS bytes,
         (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::text AS pages,
         (SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'r' AND c.relpersistence <> 't'
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenant_clone') AND n.nspname NOT LIKE 'pg\\_%'
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
   ORDER BY pg_relation_size(c.oid) DESC, n.nspname, c.relname`;

const SOURCE_SEQUENCES = `
  SELECT format('%I.%I', n.nspname, c.relname) AS sql
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`;

const POPULATED_VIEWS = `
  SELECT format('%I.%I', n.nspname, c.relname) AS sql FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'm' AND c.relispopulated AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenant_clone')`;

/**
 * The BEFORE INSERT trigger of one table: each rewritable column holding an "at" gets its
 * rewrite; the WHEN clause keeps rows without any from calling PL/pgSQL at all.
 */
function rewriteTriggerSql(t: CatalogTable, n: number, kept: Set<string>, sandbox: string): string[] {
  const columns = rewritableColumns(t, kept);
  if (columns.length === 0) return [];
  const fn = `tenant_clone.in_flight_${n}`;
  const has = (col: string) => `(strpos(${col}::text, '@') > 0 OR ${col}::text ~ ${escapeLiteral(ANY_AT_PATTERN)})`;
  const sets = columns.map((c) => {
    const col = `NEW.${escapeIdentifier(c.name)}`;
    return `  IF ${has(col)} THEN ${col} := ${rewriteExpr(c, col, escapeLiteral(sandbox))}; END IF;`;
  });
  return [
    `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
${sets.join('\n')}
  PERFORM set_config('tenant_clone.rewritten', (coalesce(nullif(current_setting('tenant_clone.rewritten', true), ''), '0')::bigint + 1)::text, false);
  RETURN NEW;
END
$fn$`,
    `CREATE TRIGGER tenant_clone_in_flight BEFORE INSERT ON ${t.sql} FOR EACH ROW
       WHEN (${columns.map((c) => has(`NEW.${escapeIdentifier(c.name)}`)).join(' OR ')}) EXECUTE FUNCTION ${fn}()`,
  ];
}

export async function copyInFlight(
  conns: Connections,
  tools: CopyTools,
  from: DumpSource,
  target: string,
  sanitize: InFlightSanitization,
  opts: CopyOptions & ToolHooks = {},
): Promise<InFlightResult> {
  const source = from.database;
  const sandbox = checkMailDomain(sanitize.sandboxDomain);
  const jobs = checkJobs('copy', opts.jobs);
  const progress = opts.onProgress ?? (() => undefined);
  const signal = opts.signal;
  const clients: Client[] = [];
  const connect = async (config: ClientConfig) => {
    const c = new Client(config);
    c.on('error', () => undefined);
    clients.push(c);
    await c.connect();
    return c;
  };
  // Whatever is running stops when the step is cancelled: its sessions are closed under it.
  const stop = () => clients.forEach((c) => void c.end().catch(() => undefined));
  signal?.addEventListener('abort', stop, { once: true });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tenant-clone-schema-'));
  const schemaFile = path.join(dir, 'schema.dump');
  try {
    const sourceConfig = clientConfig(from.env, source);
    const holder = await connect(sourceConfig);
    await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await holder.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0].id;
    const largeObjects = await holder.query('SELECT 1 FROM pg_largeobject_metadata LIMIT 1');
    if (largeObjects.rowCount) throw new InFlightUnsupported(`${source} holds large objects, which a copy cannot rewrite on the way`);
    const tables = (await holder.query<{ schema: string; name: string; bytes: string; pages: string; columns: string[] | null }>(SOURCE_TABLES)).rows.map(
      (t): SourceTable => ({
        schema: t.schema,
        name: t.name,
        sql: `${escapeIdentifier(t.schema)}.${escapeIdentifier(t.name)}`,
        bytes: Number(t.bytes),
        pages: Number(t.pages),
        columns: t.columns ?? [],
      }),
    );
    if (tables.length) {
      await holder.query(`SET lock_timeout = ${tools.lockWaitTimeoutMs}`);
      await holder
        .query(`LOCK TABLE ${tables.map((t) => `ONLY ${t.sql}`).join(', ')} IN ACCESS SHARE MODE`)
        .catch((err: { code?: string; message?: string }) => {
          if (err.code !== '55P03') throw err;
          throw new Error(
            `waited more than ${tools.lockWaitTimeoutMs} ms for share locks on the tables of "${source}": another session holds a stronger lock (a migration, VACUUM FULL, LOCK TABLE); retry once it is released`,
          );
        });
    }
    const populatedViews = new Set((await holder.query<{ sql: string }>(POPULATED_VIEWS)).rows.map((v) => v.sql));
    const sequences = (await holder.query<{ sql: string }>(SOURCE_SEQUENCES)).rows;
    const sequenceValues: { sql: string; last: string; called: boolean }[] = [];
    for (const s of sequences) {
      const v = await holder.query<{ last: string; called: boolean }>(`SELECT last_value::text AS last, is_called AS called FROM ${s.sql}`);
      sequenceValues.push({ sql: s.sql, ...v.rows[0] });
    }

    progress({ percent: 0, detail: `reading the schema of ${source} (${tables.length} tables)` });
    await runTool(
      tools.pgDump,
      [...dumpArgs(tools), '--schema-only', '--format=custom', `--snapshot=${snapshot}`, '--no-owner', '--no-privileges', `--file=${schemaFile}`, source],
      { env: from.env, signal, onSpawn: opts.onSpawn },
    ).catch((err: unknown) => {
      throw explainDumpFailure(err, tools, source);
    });
    const targetPool = conns.db(target);
    await resetTarget(targetPool);
    const restoreArgs = ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${target}`];
    await runTool(tools.pgRestore, ['--section=pre-data', ...restoreArgs, schemaFile], { env: conns.childEnv(target), signal, onSpawn: opts.onSpawn });

    await installRewriteFunctions(targetPool);
    const kept = keptColumns(sanitize.profile, 'public');
    const catalog = new Map((await readCatalog(targetPool)).map((t) => [`${t.schema}.${t.name}`, t]));
    const triggers: string[] = [];
    tables.forEach((t, i) => {
      const shape = catalog.get(`${t.schema}.${t.name}`);
      if (!shape) throw new Error(`table ${t.sql} of ${source} is missing from ${target} after its schema was restored`);
      triggers.push(...rewriteTriggerSql(shape, i, kept, sandbox));
    });
    for (const sql of triggers) await targetPool.query(sql);

    // Largest tables first (in pieces, so every job works on them), so the last to finish is a small one.
    const total = Math.max(
      1,
      tables.reduce((a, t) => a + t.bytes, 0),
    );
    let moved = 0;
    let rewrittenRows = 0;
    const queue = tables.flatMap(piecesOf);
    const piecesLeft = new Map(tables.map((t) => [t, queue.filter((p) => p.table === t).length]));
    let copied = 0;
    let broken = false;
    const targetConfig: ClientConfig = { connectionString: conns.urlFor(target), application_name: 'tenant-clone' };
    const worker = () =>
      copyTables().catch((err: unknown) => {
        broken = true;
        throw err;
      });
    const copyTables = async () => {
      const src = await connect(sourceConfig);
      await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await src.query(`SET TRANSACTION SNAPSHOT ${escapeLiteral(snapshot)}`);
      const dst = await connect(targetConfig);
      // The rewrite is the point: nothing may switch its triggers off for this session.
      await dst.query(`SET session_replication_role = origin`);
      for (let p = queue.shift(); p && !broken; p = queue.shift()) {
        if (signal?.aborted) throw abortError(signal, 'copy');
        const t = p.table;
        if (t.columns.length > 0) {
          const cols = t.columns.map(escapeIdentifier).join(', ');
          await dst.query(`SELECT set_config('tenant_clone.rewritten', '0', false)`);
          await pipeline(src.query(copyTo(copyOutSql(p, cols))), dst.query(copyFrom(`COPY ${t.sql} (${cols}) FROM STDIN`)));
          const n = await dst.query<{ n: string }>(`SELECT coalesce(nullif(current_setting('tenant_clone.rewritten', true), ''), '0') AS n`);
          rewrittenRows += Number(n.rows[0].n);
        }
        moved += p.bytes;
        const left = piecesLeft.get(t)! - 1;
        piecesLeft.set(t, left);
        if (left === 0) copied++;
        progress({
          percent: Math.min(90, Math.round((90 * moved) / total)),
          detail: `copied ${copied}/${tables.length} tables of ${source} into ${target}, sanitized on the way (${rewrittenRows} rows with addresses)`,
        });
      }
      await src.query('COMMIT');
    };
    progress({ percent: 1, detail: `copying ${tables.length} tables of ${source} into ${target} (${jobs} at once), sanitized on the way` });
    const results = await Promise.allSettled(Array.from({ length: Math.min(jobs, Math.max(1, queue.length)) }, worker));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw signal?.aborted ? abortError(signal, 'copy') : failed.reason;
    await holder.query('COMMIT');

    await targetPool.query(
      `DO $do$ DECLARE r record; BEGIN
         FOR r IN SELECT tgrelid::regclass AS rel FROM pg_trigger WHERE tgname = 'tenant_clone_in_flight' LOOP
           EXECUTE format('DROP TRIGGER tenant_clone_in_flight ON %s', r.rel);
         END LOOP;
         FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p WHERE p.pronamespace = 'tenant_clone'::regnamespace AND p.proname LIKE 'in\\_flight\\_%' LOOP
           EXECUTE format('DROP FUNCTION %s', r.fn);
         END LOOP;
       END $do$`,
    );
    for (const s of sequenceValues) await targetPool.query(`SELECT setval(${escapeLiteral(s.sql)}::regclass, $1::bigint, $2)`, [s.last, s.called]);

    progress({ percent: 90, detail: `building the indexes and constraints of ${target} (${jobs} jobs)` });
    await runTool(tools.pgRestore, ['--section=post-data', `--jobs=${jobs}`, ...restoreArgs, schemaFile], {
      env: conns.childEnv(target),
      signal,
      onSpawn: opts.onSpawn,
    });
    // A materialized view's rows are dump data, not schema: computed again, from the sanitized
    // tables, in the order the schema restore created them (dependencies first).
    const views = await targetPool.query<{ sql: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS sql FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' ORDER BY c.oid`,
    );
    for (const v of views.rows) if (populatedViews.has(v.sql)) await targetPool.query(`REFRESH MATERIALIZED VIEW ${v.sql}`);
    await targetPool.query(
      `CREATE TABLE IF NOT EXISTS tenant_clone.in_flight (
         id integer PRIMARY KEY CHECK (id = 1), fingerprint text NOT NULL, rewritten_rows bigint NOT NULL, copied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await targetPool.query(
      `INSERT INTO tenant_clone.in_flight (id, fingerprint, rewritten_rows) VALUES (1, $1, $2)
       ON CONFLICT (id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, rewritten_rows = EXCLUDED.rewritten_rows, copied_at = now()`,
      [inFlightFingerprint(sanitize.profile, sandbox, sanitize.runId), rewrittenRows],
    );
    if (signal?.aborted) throw abortError(signal, 'copy');
    const bytes = await databaseSize(conns.admin(), target);
    progress({
      percent: 100,
      detail: `copied ${tables.length} tables (${bytes} bytes) from ${source} to ${target}, ${rewrittenRows} rows sanitized on the way`,
    });
    return { bytes, tables: tables.length, rewrittenRows };
  } finally {
    signal?.removeEventListener('abort', stop);
    stop();
    await rm(dir, { recursive: true, force: true });
  }
}
