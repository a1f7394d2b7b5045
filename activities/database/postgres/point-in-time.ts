/**
 * Point-in-time restore of one tenant database on PostgreSQL. The write-ahead log is per
 * server, so the server's continuous backup (pgBackRest) is restored with `--db-include` into
 * a scratch server, which recovers to the requested instant; that one database is then copied
 * into the target with the same parallel copy as the `copy` plan, and the scratch server is
 * always stopped and removed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { PointInTimeUnreachable } from '../engines';
import type { CopyOptions, PointInTimeCopy, PointInTimeCoverage } from '../port';
import { databaseExists, databaseSize, userTableCount } from './admin';
import { abortError } from './child-process';
import type { Connections } from './connections';
import { copyInto, type CopyTools } from './copy';
import { checkIdentifier } from './identifiers';
import { chooseBackupSet, restorableFromMs, type PgBackRest, type StanzaInfo } from './pgbackrest';
import { ScratchServer, type ScratchSettings } from './scratch-server';

export interface PointInTimeSettings {
  backups: PgBackRest;
  scratch: ScratchSettings;
  /** pgBackRest's parallel processes for a restore. */
  processMax: number;
  /** How long the scratch server may take to recover to its target. */
  recoveryTimeoutMs: number;
  /** How long archiving the last WAL segment may take before the restore gives up. */
  archiveTimeoutMs: number;
}

/** pgBackRest restores these whatever --db-include names. */
const ALWAYS_RESTORED = new Set(['postgres', 'template0', 'template1']);

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * The backup set `at` is restored from, and whether it holds `source` (restored alone, with
 * --db-include) or not (a database created after that backup: the whole server is restored,
 * and the WAL recreates it); or why `at` cannot be restored.
 */
async function reach(
  conns: Connections,
  pitr: PointInTimeSettings | null,
  source: string,
  at: string,
): Promise<{ set: string; inSet: boolean; excludedOids: number[]; info: StanzaInfo; detail: string }> {
  const refuse = (why: string): never => {
    throw new PointInTimeUnreachable(why);
  };
  if (!pitr) {
    return refuse(
      'this worker has no continuous backup of the PostgreSQL tenant server configured (set PGBACKREST_STANZA, and PGBACKREST_CONFIG where its configuration file is not the default)',
    );
  }
  const atMs = Date.parse(at);
  if (Number.isNaN(atMs)) refuse(`point in time ${JSON.stringify(at)} is not an instant`);
  const { backups } = pitr;
  const info = await backups.info();
  if (info.status.code !== 0 && info.sets.length === 0) refuse(`the backup repository of stanza ${info.stanza} cannot be used: ${info.status.message}`);

  const admin = conns.admin();
  const server = await admin.query<{
    system_id: string;
    archive_mode: string;
    last_archived: Date | null;
    last_failed: Date | null;
    failed_wal: string | null;
  }>(
    `SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system_id, current_setting('archive_mode') AS archive_mode,
            last_archived_time AS last_archived, last_failed_time AS last_failed, last_failed_wal AS failed_wal
     FROM pg_stat_archiver`,
  );
  const s = server.rows[0];
  if (info.systemId && s.system_id !== info.systemId) {
    refuse(`stanza ${info.stanza} backs up another PostgreSQL server (system id ${info.systemId}), not the tenant server (system id ${s.system_id})`);
  }
  if (s.archive_mode === 'off')
    refuse(`the tenant server does not archive its write-ahead log (archive_mode is off), so no point after its last backup can be reached`);
  if (s.last_failed && (!s.last_archived || s.last_failed > s.last_archived)) {
    refuse(
      `the tenant server has failed to archive its write-ahead log since ${s.last_failed.toISOString()} (segment ${s.failed_wal}): recent points cannot be reached until archiving works again`,
    );
  }
  if (info.sets.length === 0) refuse(`stanza ${info.stanza} holds no backup yet: a point in time is restored from a backup taken before it`);
  const oldest = info.sets[0];
  if (atMs < restorableFromMs(oldest)) {
    refuse(`point in time ${at} is before the oldest restorable point, ${iso(restorableFromMs(oldest))} (the end of backup set ${oldest.label})`);
  }
  const set = chooseBackupSet(info.sets, atMs)!;
  const databases = await backups.databasesIn(set.label);
  const inSet = databases.some((d) => d.name === source);
  // What a restore of `source` alone leaves as zeroed files: every other tenant's database.
  const excludedOids = inSet ? databases.filter((d) => !ALWAYS_RESTORED.has(d.name) && d.name !== source).map((d) => d.oid) : [];
  const from = `from ${set.type} backup set ${set.label} (ended ${iso(set.stoppedMs)}) and the archived write-ahead log`;
  return {
    set: set.label,
    inSet,
    excludedOids,
    info,
    detail: inSet ? from : `${from}; ${source} is newer than that backup, so the whole server is restored for it`,
  };
}

export async function pointInTimeCoverage(conns: Connections, pitr: PointInTimeSettings | null, source: string, at: string): Promise<PointInTimeCoverage> {
  checkIdentifier('database name', source);
  try {
    const { detail } = await reach(conns, pitr, source, at);
    return { reachable: true, detail };
  } catch (err) {
    if (err instanceof PointInTimeUnreachable) return { reachable: false, reason: err.message };
    throw err;
  }
}

/**
 * Make every transaction up to now restorable: a commit after the point in time (recovery
 * stops only when it sees one; a quiet server would have none) and a WAL switch, then wait
 * until the archiver has pushed that segment into the repository.
 */
async function sealWal(conns: Connections, pitr: PointInTimeSettings, signal?: AbortSignal): Promise<string> {
  const admin = conns.admin();
  await admin.query('SELECT txid_current()');
  const r = await admin.query<{ wal: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS wal');
  const wal = r.rows[0].wal;
  const until = Date.now() + pitr.archiveTimeoutMs;
  for (;;) {
    if (signal?.aborted) throw abortError(signal, 'waiting for the WAL archive');
    const a = await admin.query<{ last: string | null; failed: string | null }>(
      'SELECT last_archived_wal AS last, last_failed_wal AS failed FROM pg_stat_archiver',
    );
    // Segment names sort in WAL order (timeline, then position).
    if (a.rows[0].last && a.rows[0].last >= wal) return wal;
    if (Date.now() > until) {
      throw new Error(
        `the tenant server did not archive WAL segment ${wal} within ${pitr.archiveTimeoutMs / 1000} s (last archived ${a.rows[0].last ?? 'none'}${a.rows[0].failed ? `, last failed ${a.rows[0].failed}` : ''}): check its archive_command`,
      );
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Process groups of the tools a restore runs, recorded so a retry stops those a crash left running. */
class ToolGroups {
  private readonly dir: string;

  constructor(scratch: ScratchServer) {
    this.dir = path.join(path.dirname(scratch.dir), `${scratch.name}.tools`);
  }

  /** Synchronous, so the record exists before the tool has done anything a crash could leave. */
  readonly record = (pid: number) => {
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(path.join(this.dir, String(pid)), '');
    } catch {
      /* best effort: the scratch server's removal still stops the copy's reads */
    }
  };

  /** Stop every recorded tool still running (pgbackrest, pg_dump, pg_restore of an earlier attempt). */
  async stopAll(): Promise<void> {
    const pids = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of pids) {
      const pid = Number(name);
      if (Number.isInteger(pid) && pid > 0 && (await isTool(pid))) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Whether `pid` still runs one of the tools a restore starts (not some process that reused its number). */
async function isTool(pid: number): Promise<boolean> {
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  if (cmd === null) return false;
  return /pgbackrest|pg_dump|pg_restore/.test(cmd);
}

/** Run one read on a database of the scratch server, over a pool of one that is closed after. */
async function onScratch<T>(scratch: ScratchServer, db: string, read: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ ...scratch.connection(db), max: 1 });
  try {
    return await read(pool);
  } finally {
    await pool.end();
  }
}

export async function restoreToPointInTime(
  conns: Connections,
  tools: CopyTools,
  pitr: PointInTimeSettings | null,
  source: string,
  target: string,
  at: string,
  opts: CopyOptions = {},
): Promise<PointInTimeCopy> {
  checkIdentifier('database name', source);
  checkIdentifier('target database name', target);
  if (source === target) throw new Error(`cannot restore "${source}" to a point in time onto itself`);
  const { set, inSet, excludedOids, info, detail } = await reach(conns, pitr, source, at);
  if (!(await databaseExists(conns.admin(), target))) throw new Error(`target database "${target}" does not exist (create it first)`);
  const settings = pitr!;
  const progress = opts.onProgress ?? (() => undefined);
  const signal = opts.signal;

  const scratch = new ScratchServer(settings.scratch, target);
  const major = await scratch.programMajorVersion();
  if (info.pgVersion && major !== info.pgVersion) {
    throw new PointInTimeUnreachable(
      `the scratch server's postgres is version ${major}, but stanza ${info.stanza} holds PostgreSQL ${info.pgVersion} backups (set PG_SERVER_BIN_DIR)`,
    );
  }
  const toolGroups = new ToolGroups(scratch);
  await toolGroups.stopAll();

  progress({ percent: 0, detail: `making ${at} restorable: archiving the tenant server's current WAL segment` });
  const wal = await sealWal(conns, settings, signal);

  try {
    const marker = await scratch.marker();
    const same = marker && marker.source === source && marker.at === at && marker.set === set;
    const what = inSet ? `${source} only` : 'the whole server';
    if (same && marker.phase === 'restored') {
      progress({ percent: 40, detail: `reusing the scratch server an earlier attempt restored from ${set}` });
    } else {
      await scratch.prepareEmpty();
      await scratch.mark({ source, at, set, phase: 'restoring' });
      progress({ percent: 1, detail: `restoring ${what} from backup set ${set} into a scratch server` });
      await settings.backups.restore({
        pgPath: scratch.dataDir,
        database: inSet ? source : null,
        at,
        set,
        lockPath: path.join(scratch.dir, 'lock'),
        processMax: settings.processMax,
        signal,
        onSpawn: toolGroups.record,
        onProgress: (pct, files) => progress({ percent: Math.min(39, Math.floor(0.39 * pct) + 1), detail: `${files} (backup set ${set}, ${what})` }),
      });
      // Written only now: a folder an attempt left while restoring is never reused.
      await scratch.mark({ source, at, set, phase: 'restored' });
    }

    await scratch.start({ oneDatabase: inSet });
    await scratch.waitUntilOpen({
      signal,
      timeoutMs: settings.recoveryTimeoutMs,
      onProgress: (what) => progress({ percent: 40, detail: `${what} (WAL archived up to ${wal})` }),
    });
    // Pages the WAL referenced that were not there are expected only in the zeroed databases of
    // other tenants; one anywhere else means the restored database cannot be trusted.
    const skipped = await scratch.invalidPages();
    const foreign = skipped.filter((p) => p.databaseOid === null || !excludedOids.includes(p.databaseOid));
    if (foreign.length) {
      // Not a passing fault: the same backup would replay the same way, so no retry is made.
      throw new PointInTimeUnreachable(
        `the write-ahead log referenced missing pages of ${foreign.map((p) => p.relation).join(', ')}, outside the other tenants' databases: the restore of ${source} cannot be trusted; see the backup repository`,
      );
    }

    if (!(await onScratch(scratch, 'postgres', (c) => databaseExists(c, source)))) {
      throw new PointInTimeUnreachable(`database ${source} did not exist at ${at}: it was created after that point`);
    }
    const tables = await onScratch(scratch, source, userTableCount);
    const copied = await copyInto(conns, tools, { database: source, env: scratch.childEnv(source), tables }, target, {
      jobs: opts.jobs,
      signal,
      sanitize: opts.sanitize,
      onSpawn: toolGroups.record,
      onProgress: (p) => progress({ percent: 45 + Math.floor(p.percent * 0.55), detail: `${p.detail} (as of ${at})` }),
    });
    progress({ percent: 100, detail: `restored ${source} as of ${at} into ${target}` });
    const others = skipped.length ? `; the replay passed over ${skipped.length} relations of other tenants' databases, which are not restored` : '';
    return {
      tables: copied.tables,
      bytes: await databaseSize(conns.admin(), target),
      detail: `${source} as of ${at}, ${detail}${others}`,
      rewrittenInFlight: copied.rewrittenInFlight,
    };
  } finally {
    await toolGroups.stopAll();
    await scratch.discard();
  }
}

/** Stop and remove whatever a point-in-time restore into `target` left behind (a rollback calls it). */
export async function discardRestoreWork(pitr: PointInTimeSettings | null, target: string): Promise<void> {
  if (!pitr) return;
  checkIdentifier('target database name', target);
  const scratch = new ScratchServer(pitr.scratch, target);
  await new ToolGroups(scratch).stopAll();
  await scratch.discard();
}
