/**
 * The copy that writes the target once: every row is sanitized before the target stores it.
 *
 * One read-only, repeatable-read transaction on the source exports a snapshot and holds share
 * locks on the tables (as pg_dump does, so no DDL slips in); pg_dump takes the schema from that
 * snapshot; the target gets its pre-data section (tables without indexes, constraints or
 * triggers); each table then streams from the snapshot (`COPY … TO STDOUT`, several tables at
 * once, big ones in pieces) through Node, where the address tokens of every text-like column
 * are rewritten (copy-rewrite-stream.ts: the rule of the whole-database scrub), straight into
 * `COPY … FROM STDIN` on the target. The sequences are set, and the post-data section
 * (indexes, constraints, the tenant's own triggers) is restored in parallel. The source is
 * only read.
 *
 * A marker in the target (tenant_clone.in_flight) records the sandbox domain and the columns
 * the profile keeps, so the scrub step that follows knows the rewrite is done and runs only the
 * verification gate, which is unchanged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client, escapeIdentifier, escapeLiteral, type ClientConfig, type Pool } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { CopyOptions } from '../port';
import { keptColumns, type SanitizationProfile } from '../profile';
import { databaseSize } from './admin';
import { readCatalog, type CatalogColumn } from './catalog';
import { abortError, runTool } from './child-process';
import type { Connections } from './connections';
import { checkJobs, dumpArgs, explainDumpFailure, resetTarget, type CopyTools, type DumpSource, type ToolHooks } from './copy';
import { scrubDefaults } from './defaults';
import { checkMailDomain } from './identifiers';
import { CopyRewriteStream, type RewrittenField, type SqlRewrite } from './copy-rewrite-stream';
import { runFingerprint } from './run-fingerprint';
import { installRewriteFunctions, rewritableColumns, rewriteExpr } from './scrub';

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
  return row && row.fingerprint === runFingerprint(profile, sandboxDomain, runId) ? Number(row.rows) : null;
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

/** Plain text and varchar: their COPY text is the value itself, which the fast paths may take. */
const PLAIN_TEXT = /^(text|character varying(\(\d+\))?)$/;

const COLUMN_COLLATIONS = `
  SELECT format('%s.%s.%s', n.nspname, c.relname, a.attname) AS key, format('%I.%I', cn.nspname, co.collname) AS collation
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_collation co ON co.oid = a.attcollation JOIN pg_namespace cn ON cn.oid = co.collnamespace
   WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenant_clone') AND n.nspname NOT LIKE 'pg\\_%'`;

interface Collation {
  /** Quoted, ready for a COLLATE clause. */
  sql: string;
  /** lower() turns A–Z into a–z and nothing else (not a Turkish collation, say). */
  asciiLower: boolean;
}

/** The collation of every collatable column, by `schema.table.column`. */
async function columnCollations(pool: Pool): Promise<Map<string, Collation>> {
  const columns = (await pool.query<{ key: string; collation: string }>(COLUMN_COLLATIONS)).rows;
  const lowers = new Map<string, boolean>();
  for (const collation of new Set(['pg_catalog."default"', ...columns.map((c) => c.collation)])) {
    const r = await pool.query<{ l: string }>(`SELECT lower($1::text COLLATE ${collation}) AS l`, ['ABCDEFGHIJKLMNOPQRSTUVWXYZ']);
    lowers.set(collation, r.rows[0].l === 'abcdefghijklmnopqrstuvwxyz');
  }
  // The rule's functions may also lower with the database's default collation.
  const plainDefault = lowers.get('pg_catalog."default"') === true;
  return new Map(columns.map((c) => [c.key, { sql: c.collation, asciiLower: plainDefault && lowers.get(c.collation) === true }]));
}

/**
 * Where each column to rewrite sits in the COPY's column list of `t`, whether the fast paths
 * may take its values (they lower an upper-case ASCII domain only where the collation does it
 * plainly), and its collation for the SQL rule.
 */
function rewrittenFields(t: SourceTable, columns: CatalogColumn[], collations: Map<string, Collation>): RewrittenField[] {
  return columns.map((column) => {
    const index = t.columns.indexOf(column.name);
    if (index < 0) throw new Error(`column ${column.name} of ${t.sql} is missing from the source's column list`);
    const collation = collations.get(`${t.schema}.${t.name}.${column.name}`) ?? null;
    const plain = column.rewrite === 'text' && PLAIN_TEXT.test(column.type);
    const fast = plain ? { maxLength: column.maxLength, nullable: column.nullable, asciiLower: collation?.asciiLower === true } : null;
    return { index, column, fast, collation: collation?.sql ?? null };
  });
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
    // The defaults came with the schema: rewritten before the first row arrives.
    await scrubDefaults(targetPool, sandbox, kept);
    const catalog = new Map((await readCatalog(targetPool)).map((t) => [`${t.schema}.${t.name}`, t]));
    const rewrites = new Map<SourceTable, RewrittenField[]>();
    const collations = await columnCollations(targetPool);
    for (const t of tables) {
      const shape = catalog.get(`${t.schema}.${t.name}`);
      if (!shape) throw new Error(`table ${t.sql} of ${source} is missing from ${target} after its schema was restored`);
      rewrites.set(t, rewrittenFields(t, rewritableColumns(shape, kept), collations));
    }
    // The values the fast paths leave, through the rule's functions, as the column's own type
    // and collation would give them to the in-place scrub.
    const sql: SqlRewrite = async ({ column, collation }, values) => {
      const value = `x.v::${column.type}${collation ? ` COLLATE ${collation}` : ''}`;
      const r = await targetPool.query<{ r: string | null }>(
        `SELECT (${rewriteExpr(column, value, '$2')})::text AS r FROM unnest($1::text[]) WITH ORDINALITY AS x(v, o) ORDER BY o`,
        [values, sandbox],
      );
      return r.rows.map((row) => row.r);
    };

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
      for (let p = queue.shift(); p && !broken; p = queue.shift()) {
        if (signal?.aborted) throw abortError(signal, 'copy');
        const t = p.table;
        if (t.columns.length > 0) {
          const cols = t.columns.map(escapeIdentifier).join(', ');
          const fields = rewrites.get(t)!;
          const out = src.query(copyTo(copyOutSql(p, cols)));
          const into = dst.query(copyFrom(`COPY ${t.sql} (${cols}) FROM STDIN`));
          // Also for a table with nothing to rewrite: it gathers the rows into larger writes.
          const rewrite = new CopyRewriteStream(fields, sandbox, sql);
          await pipeline(out, rewrite, into);
          rewrittenRows += rewrite.rows;
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
      [runFingerprint(sanitize.profile, sandbox, sanitize.runId), rewrittenRows],
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
