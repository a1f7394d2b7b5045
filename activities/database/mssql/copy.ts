/**
 * copyDatabase, backupDatabase and restoreDatabase.
 *
 * SQL Server: copy = BACKUP … COPY_ONLY to a file in the server's backup folder (dataDir, or
 * the instance default) + RESTORE … WITH MOVE, REPLACE into the target. Azure SQL (no BACKUP
 * TO DISK): CREATE DATABASE … AS COPY OF, polled in sys.dm_database_copies.
 *
 * backupDatabase(db, file): the port's `file` is a path on the worker. How it is used:
 * - with a serverTarget (the backup archive's container and a SAS, given by the backup
 *   activity) and backups to the archive (the default): the server writes the backup striped
 *   over several block blobs under the target's prefix (TO URL = …); nothing of it passes
 *   through the worker. `file` then receives a small JSON manifest {format, database,
 *   container, urls, finishedAt} that restoreDatabase reads to find the stripes. `bytes` is the
 *   compressed backup size recorded in msdb. The manifest holds no secret: the SAS token stays
 *   in the server's credential.
 * - otherwise (backups to disk, for a server that cannot reach the archive): the server writes
 *   the backup itself TO DISK = file, so `file` must be a path the SQL Server process can write
 *   and the worker can read (same host, or one shared mount at the same path). The backup file
 *   *is* `file`; `bytes` is its size.
 */
import { randomUUID } from 'node:crypto';
import { open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BackupOptions, CopyOptions, RestoreOptions, ServerBlobTarget } from '../port';
import { rows, run, type Connections } from './connections';
import { MonotonicProgress, abortError, runTracked } from './progress';
import * as tc from './tsql/copy';
import * as ta from './tsql/admin';
import { checkIdentifier } from './tsql/identifiers';

export const URL_STRIPES = 4;
const MANIFEST_FORMAT = 'mssql-backup-url-v1';

export interface ServerInfo {
  azure: boolean;
  dataPath: string | null;
  logPath: string | null;
  backupPath: string | null;
}

export interface BackupConfig {
  /** Where backupDatabase writes: the archive's container when a serverTarget is given, or disk. */
  backupsTo: 'archive' | 'disk';
  dataDir?: string;
}

export async function serverInfo(conns: Connections): Promise<ServerInfo> {
  const [r] = await rows<{ edition: number; data_path: string | null; log_path: string | null; backup_path: string | null }>(
    await conns.master(),
    ta.serverInfo(),
  );
  return { azure: r.edition === 5, dataPath: r.data_path, logPath: r.log_path, backupPath: r.backup_path };
}

function joinServerPath(dir: string, name: string): string {
  const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
  return dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`;
}

export async function requireDatabase(conns: Connections, db: string): Promise<void> {
  const r = await rows(await conns.master(), ta.databaseState(db));
  if (r.length === 0) throw new Error(`database "${db}" does not exist`);
}

export async function tableCount(conns: Connections, db: string): Promise<number> {
  const [r] = await rows<{ n: number }>(await conns.db(db), ta.userTableCount());
  return r.n;
}

export async function sizeOf(conns: Connections, db: string): Promise<number> {
  const [r] = await rows<{ bytes: string | number }>(await conns.db(db), ta.databaseSize());
  return Number(r.bytes);
}

/** MOVE every logical file of the backup to <data or log folder>/<target>_<n>_<logical>.<ext>. */
async function movesFor(conns: Connections, info: ServerInfo, source: tc.BackupTarget, target: string, position: number): Promise<tc.MoveFile[]> {
  const files = await rows<{ LogicalName: string; Type: string }>(await conns.master(), tc.restoreFileList(source, position));
  if (!info.dataPath || !info.logPath) throw new Error('the server reports no default data/log path (InstanceDefaultDataPath); cannot place restored files');
  return files.map((f, i) => {
    const safe = f.LogicalName.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60);
    const isLog = f.Type === 'L';
    const ext = isLog ? 'ldf' : i === 0 ? 'mdf' : 'ndf';
    return { logicalName: f.LogicalName, physicalPath: joinServerPath(isLog ? info.logPath! : info.dataPath!, `${target}_${i}_${safe}.${ext}`) };
  });
}

export interface RestoreStep {
  progress: MonotonicProgress;
  from: number;
  to: number;
  signal?: AbortSignal;
  /** FILE = n within the media (default 1). */
  position?: number;
  /** false leaves the target RESTORING for log backups (default true). */
  recovery?: boolean;
}

export async function restoreInto(conns: Connections, info: ServerInfo, source: tc.BackupTarget, target: string, step: RestoreStep): Promise<void> {
  const { progress, from, to, signal, position = 1, recovery = true } = step;
  const moves = await movesFor(conns, info, source, target, position);
  await conns.release(target);
  await run(await conns.master(), tc.takeOffline(target));
  await runTracked(conns, tc.restoreDatabase(target, source, moves, { position, recovery }), { progress, from, to, what: `restore of "${target}"`, signal });
  if (recovery) await run(await conns.master(), tc.multiUser(target));
}

async function azureCopy(conns: Connections, source: string, target: string, progress: MonotonicProgress, signal?: AbortSignal): Promise<void> {
  const master = await conns.master();
  await conns.release(target);
  // AS COPY OF creates the target itself: an empty or half-copied target is dropped first.
  await run(master, ta.dropDatabase(target, true));
  await run(master, tc.azureCopyStart(source, target));
  progress.report(0, `copy of "${source}" started`);
  for (;;) {
    if (signal?.aborted) {
      await run(master, ta.dropDatabase(target, true)).catch(() => undefined);
      throw abortError(signal, `copy of "${source}"`);
    }
    const [r] = await rows<{ state: string; percent: number | null; error: string | null }>(master, tc.azureCopyProgress(target));
    if (!r) throw new Error(`copy of "${source}" to "${target}" failed: the target disappeared`);
    if (r.error) throw new Error(`copy of "${source}" to "${target}" failed: ${r.error}`);
    if (r.state === 'ONLINE' && r.percent === null) break;
    if (r.state !== 'COPYING' && r.state !== 'ONLINE') throw new Error(`copy of "${source}" to "${target}" failed: target is ${r.state}`);
    if (typeof r.percent === 'number') progress.report(Math.min(99, r.percent), `copy of "${source}": ${r.percent.toFixed(1)}%`);
    await new Promise((res) => setTimeout(res, 2000));
  }
}

export async function copyDatabase(
  conns: Connections,
  cfg: BackupConfig,
  source: string,
  target: string,
  opts: CopyOptions = {},
): Promise<{ bytes: number; tables: number }> {
  checkIdentifier('database name', source);
  checkIdentifier('database name', target);
  if (source === target) throw new Error(`cannot copy "${source}" onto itself`);
  await requireDatabase(conns, source);
  const info = await serverInfo(conns);
  const progress = new MonotonicProgress(opts.onProgress);
  if (info.azure) {
    await azureCopy(conns, source, target, progress, opts.signal);
  } else {
    const dir = cfg.dataDir ?? info.backupPath;
    if (!dir) throw new Error('no server backup folder: set dataDir (the server reports no InstanceDefaultBackupPath)');
    // One file per target: a re-run overwrites it (INIT, FORMAT); it stays on the server's disk.
    const device: tc.BackupTarget = { kind: 'disk', path: joinServerPath(dir, `tenant_clone_copy_${target}.bak`) };
    await runTracked(conns, tc.backupDatabase(source, device), { progress, from: 0, to: 50, what: `backup of "${source}"`, signal: opts.signal });
    await restoreInto(conns, info, device, target, { progress, from: 50, to: 100, signal: opts.signal });
  }
  progress.report(100, `copied "${source}" to "${target}"`);
  return { bytes: await sizeOf(conns, target), tables: await tableCount(conns, target) };
}

const BLOB_PREFIX = /^(?:[A-Za-z0-9_.-]+\/)*$/;

function containerUrlOf(url: string, what: string): string {
  const base = typeof url === 'string' ? url.replace(/\/+$/, '') : '';
  if (!/^https:\/\/[^\s'"?]+$/.test(base)) {
    throw new Error(`${what} ${JSON.stringify(url)} cannot be used by SQL Server: BACKUP/RESTORE TO URL needs an https:// container URL without a query`);
  }
  return base;
}

/** Stripe names: unique per run, so a retried backup never meets a half-written blob. */
export function stripeUrls(target: ServerBlobTarget, db: string, stamp: string, nonce: string): string[] {
  const base = containerUrlOf(target.containerUrl, 'backup container');
  if (typeof target.prefix !== 'string' || !BLOB_PREFIX.test(target.prefix) || target.prefix.split('/').some((p) => p === '.' || p === '..')) {
    throw new Error(`invalid backup blob prefix ${JSON.stringify(target.prefix)}: folder names of letters, digits, _ . - each ending in /`);
  }
  return Array.from({ length: URL_STRIPES }, (_, i) => `${base}/${target.prefix}${db}-${stamp}-${nonce}-${i + 1}of${URL_STRIPES}.bak`);
}

export async function backupDatabase(
  conns: Connections,
  cfg: BackupConfig,
  db: string,
  file: string,
  opts: BackupOptions = {},
): Promise<{ bytes: number; format: string }> {
  checkIdentifier('database name', db);
  if (typeof file !== 'string' || !path.isAbsolute(file)) throw new Error(`invalid backup file ${JSON.stringify(file)}: must be an absolute path`);
  await requireDatabase(conns, db);
  if ((await serverInfo(conns)).azure) {
    throw new Error(
      `Azure SQL Database has no BACKUP statement: "${db}" is backed up by Azure itself (restore it to a point in time through Azure Resource Manager) or copied with copyDatabase`,
    );
  }
  const progress = new MonotonicProgress(opts.onProgress);
  const target = cfg.backupsTo === 'archive' ? opts.serverTarget : undefined;
  if (target) {
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    const urls = stripeUrls(target, db, stamp, randomUUID().slice(0, 8));
    const container = containerUrlOf(target.containerUrl, 'backup container');
    await run(await conns.master(), tc.ensureUrlCredential(container, target.sasToken));
    await runTracked(conns, tc.backupDatabase(db, { kind: 'url', urls }), { progress, from: 0, to: 100, what: `backup of "${db}"`, signal: opts.signal });
    const [last] = await rows<{ bytes: string | number }>(await conns.master(), tc.lastBackupSize(db));
    const manifest = JSON.stringify({ format: MANIFEST_FORMAT, database: db, container, urls, finishedAt: new Date().toISOString() }, null, 2);
    // Written beside the target and renamed, so a crash never leaves a half manifest at `file`.
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, manifest);
    await rename(tmp, file);
    progress.report(100, `backup of "${db}" done (${urls.length} stripes)`);
    return { bytes: Number(last?.bytes ?? 0), format: 'mssql-backup-url' };
  }
  try {
    await runTracked(conns, tc.backupDatabase(db, { kind: 'disk', path: file }), { progress, from: 0, to: 99, what: `backup of "${db}"`, signal: opts.signal });
  } catch (err) {
    throw new Error(`backup of "${db}" to ${file} failed: ${(err as Error).message}`, { cause: err });
  }
  // A real last step, reported so a backup faster than one poll still shows where it is.
  progress.report(99, `backup of "${db}" written; reading its size`);
  let bytes: number;
  try {
    bytes = (await stat(file)).size;
  } catch {
    throw new Error(`backup of "${db}" finished on the server, but ${file} is not visible to this worker: the server and the worker must share that path`);
  }
  progress.report(100, `backup of "${db}" done`);
  return { bytes, format: 'mssql-backup-disk' };
}

/** A manifest (to-URL backup) starts with '{'; a native backup file starts with its MTF header. */
async function backupSource(file: string): Promise<tc.BackupTarget & { container?: string }> {
  let head = '';
  try {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(1);
      await fh.read(buf, 0, 1, 0);
      head = buf.toString('latin1');
    } finally {
      await fh.close();
    }
  } catch {
    // Not visible here: still a valid server-side path for RESTORE FROM DISK.
    return { kind: 'disk', path: file };
  }
  if (head !== '{') return { kind: 'disk', path: file };
  let m: { format?: string; urls?: unknown; container?: unknown };
  try {
    m = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`invalid backup manifest ${file}: ${(err as Error).message}`);
  }
  if (
    m.format !== MANIFEST_FORMAT ||
    typeof m.container !== 'string' ||
    !Array.isArray(m.urls) ||
    !m.urls.every((u) => typeof u === 'string' && u.startsWith(`${m.container}/`))
  ) {
    throw new Error(`invalid backup manifest ${file}: expected format ${MANIFEST_FORMAT} with a container and the URLs of its stripes in it`);
  }
  return { kind: 'url', urls: m.urls as string[], container: m.container };
}

export async function restoreDatabase(conns: Connections, file: string, target: string, opts: RestoreOptions = {}): Promise<{ tables: number; bytes: number }> {
  checkIdentifier('database name', target);
  if (typeof file !== 'string' || !path.isAbsolute(file)) throw new Error(`invalid backup file ${JSON.stringify(file)}: must be an absolute path`);
  const source = await backupSource(file);
  if (source.kind === 'url') {
    const access = opts.serverSource;
    if (!access) throw new Error(`${file} is a backup in blob storage (${source.container}): restoring it needs read access to that container (serverSource)`);
    const container = containerUrlOf(access.containerUrl, 'backup container');
    if (container !== source.container) throw new Error(`the backup's stripes are in ${source.container}, but access was given to ${container}`);
    await run(await conns.master(), tc.ensureUrlCredential(container, access.sasToken));
  }
  const info = await serverInfo(conns);
  if (info.azure) throw new Error('restoreDatabase: Azure SQL Database cannot RESTORE from a backup file or URL; use copyDatabase (AS COPY OF) or a BACPAC');
  const progress = new MonotonicProgress(opts.onProgress);
  try {
    await restoreInto(conns, info, source, target, { progress, from: 0, to: 100, signal: opts.signal });
  } catch (err) {
    throw new Error(`restore of ${file} into "${target}" failed: ${(err as Error).message}`, { cause: err });
  }
  progress.report(100, `restored "${target}"`);
  return { tables: await tableCount(conns, target), bytes: await sizeOf(conns, target) };
}
