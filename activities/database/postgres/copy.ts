/**
 * Bulk copy with the server's own tools: pg_dump takes one consistent snapshot (the source's
 * users stay connected), both sides run in parallel, and no row passes through Node.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import type { CopyOptions } from '../port';
import { databaseExists, databaseSize, userTableCount } from './admin';
import { abortError, runTool } from './child-process';
import { Connections } from './connections';
import { copyInFlight, InFlightUnsupported } from './copy-in-flight';
import { checkIdentifier } from './identifiers';
import { isTableDumped, isTableRestored, tableDataItems } from './tool-progress';

export interface CopyTools {
  pgDump: string;
  pgRestore: string;
  /**
   * How long pg_dump waits for its shared locks on the source's tables. Without a limit it
   * would wait silently behind any exclusive lock (a migration, a VACUUM FULL) while the step
   * kept heartbeating; with one it fails, the step retries, and the failure says why.
   */
  lockWaitTimeoutMs: number;
}

export const DEFAULT_LOCK_WAIT_TIMEOUT_MS = 60_000;

export function copyTools(pgBinDir?: string, lockWaitTimeoutMs = DEFAULT_LOCK_WAIT_TIMEOUT_MS): CopyTools {
  if (!Number.isInteger(lockWaitTimeoutMs) || lockWaitTimeoutMs < 1 || lockWaitTimeoutMs > 24 * 3600_000) {
    throw new Error(`invalid lock wait timeout ${JSON.stringify(lockWaitTimeoutMs)} ms: an integer from 1 ms to 24 h`);
  }
  return {
    pgDump: pgBinDir ? path.join(pgBinDir, 'pg_dump') : 'pg_dump',
    pgRestore: pgBinDir ? path.join(pgBinDir, 'pg_restore') : 'pg_restore',
    lockWaitTimeoutMs,
  };
}

/** pg_dump's own arguments for a dump of a live source. */
export function dumpArgs(tools: CopyTools): string[] {
  return [`--lock-wait-timeout=${tools.lockWaitTimeoutMs}`];
}

/** pg_dump's lock timeout, said in words that name the table and what to do; other errors as they are. */
export function explainDumpFailure(err: unknown, tools: CopyTools, db: string): unknown {
  const message = err instanceof Error ? err.message : '';
  const table = /statement timeout[\s\S]*LOCK TABLE (\S+) IN ACCESS SHARE MODE/.exec(message)?.[1];
  if (!table) return err;
  return new Error(
    `pg_dump waited more than ${tools.lockWaitTimeoutMs} ms for a share lock on ${table} in "${db}": another session holds a stronger lock on it (a migration, VACUUM FULL, LOCK TABLE); retry once it is released`,
    { cause: err },
  );
}

export function defaultJobs(): number {
  return Math.max(1, Math.min(4, os.cpus().length));
}

/** The parallel jobs of a copy or restore: the default when unset, else an integer 1..32. */
export function checkJobs(what: string, jobs: number | undefined): number {
  const n = jobs ?? defaultJobs();
  if (!Number.isInteger(n) || n < 1 || n > 32) throw new Error(`invalid ${what} jobs ${JSON.stringify(jobs)}: must be an integer 1..32`);
  return n;
}

/**
 * Empty the target so a re-run over a half-restored copy starts clean: drop every user schema
 * and recreate `public` with the owner and grants it had (a login's privileges survive).
 */
export async function resetTarget(pool: Pool): Promise<void> {
  const objects = await pool.query<{ n: string }>(
    `SELECT ((SELECT count(*) FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%')
           + (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace)
           + (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace)
           + (SELECT count(*) FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype <> 'b'))::text AS n`,
  );
  if (Number(objects.rows[0].n) === 0) return;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const owner = await client.query<{ owner: string }>(`SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = 'public'`);
    const grants = await client.query<{ grantee: string; privilege: string }>(
      `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee, a.privilege_type AS privilege
       FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'public'`,
    );
    const schemas = await client.query<{ name: string }>(
      `SELECT quote_ident(nspname) AS name FROM pg_namespace WHERE nspname NOT IN ('information_schema') AND nspname NOT LIKE 'pg\\_%'`,
    );
    for (const s of schemas.rows) await client.query(`DROP SCHEMA ${s.name} CASCADE`);
    await client.query('CREATE SCHEMA public');
    // Owner and grantee names come from the catalog (regrole output is already quoted).
    if (owner.rows[0]) await client.query(`ALTER SCHEMA public OWNER TO ${owner.rows[0].owner}`);
    for (const g of grants.rows) await client.query(`GRANT ${g.privilege} ON SCHEMA public TO ${g.grantee}`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) total += (await stat(path.join(dir, f))).size;
  return total;
}

/**
 * Where a copy reads from: a database of the tenant server, or of a point-in-time restore's
 * scratch server. The copy reads nothing but what pg_dump reads through `env`.
 */
export interface DumpSource {
  /** The database's name, as pg_dump connects to it. */
  database: string;
  /** pg_dump's connection (PG* variables, no password on the command line). */
  env: NodeJS.ProcessEnv;
  /** Its user tables, for progress. */
  tables: number;
}

/** Tool hooks a copy passes on to pg_dump / pg_restore (see runTool's onSpawn). */
export interface ToolHooks {
  onSpawn?: (pid: number) => void;
}

export async function copyDatabase(conns: Connections, tools: CopyTools, source: string, target: string, opts: CopyOptions = {}): Promise<CopyResult> {
  checkIdentifier('source database name', source);
  checkIdentifier('target database name', target);
  if (source === target) throw new Error(`cannot copy database "${source}" onto itself`);
  const admin = conns.admin();
  if (!(await databaseExists(admin, source))) throw new Error(`source database "${source}" does not exist`);
  if (!(await databaseExists(admin, target))) throw new Error(`target database "${target}" does not exist (create it first)`);
  const tables = await userTableCount(conns.db(source));
  await conns.release(source);
  return copyInto(conns, tools, { database: source, env: conns.childEnv(source), tables }, target, opts);
}

export interface CopyResult {
  bytes: number;
  tables: number;
  /** Rows rewritten on their way in; null when the copy was not sanitized in flight. */
  rewrittenInFlight: number | null;
}

/**
 * Copy `from` into the existing `target` of the tenant server, emptied first. With
 * `opts.sanitize`, sanitized in flight (copy-in-flight.ts) unless the source holds what that
 * cannot rewrite; otherwise pg_dump in directory format and pg_restore, both with `opts.jobs`
 * parallel jobs, and the scrub rewrites in place afterwards.
 */
export async function copyInto(
  conns: Connections,
  tools: CopyTools,
  from: DumpSource,
  target: string,
  opts: CopyOptions & ToolHooks = {},
): Promise<CopyResult> {
  if (opts.sanitize) {
    try {
      const r = await copyInFlight(conns, tools, from, target, opts.sanitize, opts);
      return { bytes: r.bytes, tables: r.tables, rewrittenInFlight: r.rewrittenRows };
    } catch (err) {
      if (!(err instanceof InFlightUnsupported)) throw err;
      opts.onProgress?.({ percent: 0, detail: `${err.message}: copying with pg_dump, the scrub rewrites in place` });
    }
  }
  const { bytes, tables } = await dumpAndRestore(conns, tools, from, target, opts);
  return { bytes, tables, rewrittenInFlight: null };
}

/** pg_dump in directory format and pg_restore, both with `opts.jobs` parallel jobs. */
async function dumpAndRestore(
  conns: Connections,
  tools: CopyTools,
  from: DumpSource,
  target: string,
  opts: CopyOptions & ToolHooks,
): Promise<{ bytes: number; tables: number; dumpBytes: number }> {
  const source = from.database;
  const jobs = checkJobs('copy', opts.jobs);
  const progress = opts.onProgress ?? (() => undefined);
  const signal = opts.signal;
  const admin = conns.admin();

  await resetTarget(conns.db(target));
  const sourceTables = Math.max(1, from.tables);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'tenant-clone-dump-'));
  const dumpDir = path.join(dir, 'dump');
  try {
    // Dump: 0..45 %, by tables whose data has been written.
    let dumped = 0;
    progress({ percent: 0, detail: `dumping ${source} (${sourceTables} tables, ${jobs} jobs)` });
    await runTool(
      tools.pgDump,
      [...dumpArgs(tools), '--format=directory', `--jobs=${jobs}`, '--no-owner', '--no-privileges', '--verbose', `--file=${dumpDir}`, source],
      {
        env: from.env,
        signal,
        onSpawn: opts.onSpawn,
        onLine: (line) => {
          if (isTableDumped(line, jobs)) {
            dumped++;
            progress({ percent: Math.min(45, Math.round((45 * dumped) / sourceTables)), detail: `dumped ${dumped}/${sourceTables} tables of ${source}` });
          }
        },
      },
    ).catch((err: unknown) => {
      throw explainDumpFailure(err, tools, source);
    });
    const dumpBytes = await dirBytes(dumpDir);
    const toc = await runTool(tools.pgRestore, ['--list', dumpDir], { env: conns.childEnv(target), signal });
    const tables = tableDataItems(toc);

    // Restore: 45..100 %, by table-data items finished.
    let restored = 0;
    const total = Math.max(1, tables);
    progress({ percent: 45, detail: `restoring into ${target} (${tables} tables, ${jobs} jobs)` });
    await runTool(tools.pgRestore, [`--jobs=${jobs}`, '--no-owner', '--no-privileges', '--exit-on-error', '--verbose', `--dbname=${target}`, dumpDir], {
      env: conns.childEnv(target),
      signal,
      onSpawn: opts.onSpawn,
      onLine: (line) => {
        if (isTableRestored(line, jobs)) {
          restored++;
          progress({ percent: Math.min(99, 45 + Math.round((54 * restored) / total)), detail: `restored ${restored}/${tables} tables into ${target}` });
        }
      },
    });
    if (signal?.aborted) throw abortError(signal, 'copy');
    const bytes = await databaseSize(admin, target);
    progress({ percent: 100, detail: `copied ${tables} tables (${bytes} bytes) from ${source} to ${target}` });
    return { bytes, tables, dumpBytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
