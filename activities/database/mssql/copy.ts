/**
 * copyDatabase, backupDatabase and restoreDatabase.
 *
 * SQL Server: copy = BACKUP … COPY_ONLY to a file in the server's backup folder (dataDir, or
 * the instance default) + RESTORE … WITH MOVE, REPLACE into the target. Azure SQL (no BACKUP
 * TO DISK): CREATE DATABASE … AS COPY OF, polled in sys.dm_database_copies.
 *
 * backupDatabase(db, file): the port's `file` is a path on the worker. How it is used:
 * - without backupUrl: the server writes the backup itself TO DISK = file, so `file` must be a
 *   path the SQL Server process can write and the worker can read (same host, or one shared
 *   mount at the same path). The backup file *is* `file`; `bytes` is its size.
 * - with backupUrl: the server writes the backup striped over several block blobs in the
 *   container (TO URL = …); nothing of it passes through the worker. `file` then receives a
 *   small JSON manifest {format, database, urls, finishedAt} that restoreDatabase reads to
 *   find the stripes. `bytes` is the compressed backup size recorded in msdb, not the size of
 *   the manifest. The manifest holds no secret: the SAS token stays in the server credential.
 */
import { randomUUID } from 'node:crypto';
import { open, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CopyOptions, ProgressFn } from '../port';
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
  backupUrl?: { container: string; sasToken: string };
  dataDir?: string;
}

export async function serverInfo(conns: Connections): Promise<ServerInfo> {
  const [r] = await rows<{ edition: number; data_path: string | null; log_path: string | null; backup_path: string | null }>(await conns.master(), ta.serverInfo());
  return { azure: r.edition === 5, dataPath: r.data_path, logPath: r.log_path, backupPath: r.backup_path };
}

function joinServerPath(dir: string, name: string): string {
  const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
  return dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`;
}

async function requireDatabase(conns: Connections, db: string): Promise<void> {
  const r = await rows(await conns.master(), ta.databaseState(db));
  if (r.length === 0) throw new Error(`database "${db}" does not exist`);
}

async function tableCount(conns: Connections, db: string): Promise<number> {
  const [r] = await rows<{ n: number }>(await conns.db(db), ta.userTableCount());
  return r.n;
}

async function sizeOf(conns: Connections, db: string): Promise<number> {
  const [r] = await rows<{ bytes: string | number }>(await conns.db(db), ta.databaseSize());
  return Number(r.bytes);
}

/** MOVE every logical file of the backup to <data or log folder>/<target>_<n>_<logical>.<ext>. */
async function movesFor(conns: Connections, info: ServerInfo, source: tc.BackupTarget, target: string): Promise<tc.MoveFile[]> {
  const files = await rows<{ LogicalName: string; Type: string }>(await conns.master(), tc.restoreFileList(source));
  if (!info.dataPath || !info.logPath) throw new Error('the server reports no default data/log path (InstanceDefaultDataPath); cannot place restored files');
  return files.map((f, i) => {
    const safe = f.LogicalName.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60);
    const isLog = f.Type === 'L';
    const ext = isLog ? 'ldf' : i === 0 ? 'mdf' : 'ndf';
    return { logicalName: f.LogicalName, physicalPath: joinServerPath(isLog ? info.logPath! : info.dataPath!, `${target}_${i}_${safe}.${ext}`) };
  });
}

async function restoreInto(conns: Connections, info: ServerInfo, source: tc.BackupTarget, target: string, progress: MonotonicProgress, from: number, signal?: AbortSignal): Promise<void> {
  const moves = await movesFor(conns, info, source, target);
  await conns.release(target);
  await run(await conns.master(), tc.takeOffline(target));
  await runTracked(conns, tc.restoreDatabase(target, source, moves), { progress, from, to: 100, what: `restore of "${target}"`, signal });
  await run(await conns.master(), tc.multiUser(target));
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

export async function copyDatabase(conns: Connections, cfg: BackupConfig, source: string, target: string, opts: CopyOptions = {}): Promise<{ bytes: number; tables: number }> {
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
    await restoreInto(conns, info, device, target, progress, 50, opts.signal);
  }
  progress.report(100, `copied "${source}" to "${target}"`);
  return { bytes: await sizeOf(conns, target), tables: await tableCount(conns, target) };
}

function stripeUrls(container: string, db: string): string[] {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  const base = container.replace(/\/+$/, '');
  return Array.from({ length: URL_STRIPES }, (_, i) => `${base}/${db}-${stamp}-${randomUUID().slice(0, 8)}-${i + 1}of${URL_STRIPES}.bak`);
}

export async function backupDatabase(
  conns: Connections,
  cfg: BackupConfig,
  db: string,
  file: string,
  opts: { onProgress?: ProgressFn; signal?: AbortSignal } = {},
): Promise<{ bytes: number; format: string }> {
  checkIdentifier('database name', db);
  if (typeof file !== 'string' || !path.isAbsolute(file)) throw new Error(`invalid backup file ${JSON.stringify(file)}: must be an absolute path`);
  await requireDatabase(conns, db);
  const progress = new MonotonicProgress(opts.onProgress);
  if (cfg.backupUrl) {
    const urls = stripeUrls(cfg.backupUrl.container, db);
    await run(await conns.master(), tc.ensureUrlCredential(cfg.backupUrl.container.replace(/\/+$/, ''), cfg.backupUrl.sasToken));
    await runTracked(conns, tc.backupDatabase(db, { kind: 'url', urls }), { progress, from: 0, to: 100, what: `backup of "${db}"`, signal: opts.signal });
    const [last] = await rows<{ bytes: string | number }>(await conns.master(), tc.lastBackupSize(db));
    const manifest = JSON.stringify({ format: MANIFEST_FORMAT, database: db, urls, finishedAt: new Date().toISOString() }, null, 2);
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
async function backupSource(file: string): Promise<tc.BackupTarget> {
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
  const { readFile } = await import('node:fs/promises');
  const m = JSON.parse(await readFile(file, 'utf8')) as { format?: string; urls?: unknown };
  if (m.format !== MANIFEST_FORMAT || !Array.isArray(m.urls) || !m.urls.every((u) => typeof u === 'string')) {
    throw new Error(`invalid backup manifest ${file}: expected format ${MANIFEST_FORMAT} with a list of URLs`);
  }
  return { kind: 'url', urls: m.urls as string[] };
}

export async function restoreDatabase(conns: Connections, cfg: BackupConfig, file: string, target: string, opts: CopyOptions = {}): Promise<{ tables: number; bytes: number }> {
  checkIdentifier('database name', target);
  if (typeof file !== 'string' || !path.isAbsolute(file)) throw new Error(`invalid backup file ${JSON.stringify(file)}: must be an absolute path`);
  const source = await backupSource(file);
  if (source.kind === 'url' && cfg.backupUrl) {
    await run(await conns.master(), tc.ensureUrlCredential(cfg.backupUrl.container.replace(/\/+$/, ''), cfg.backupUrl.sasToken));
  }
  const info = await serverInfo(conns);
  if (info.azure) throw new Error('restoreDatabase: Azure SQL Database cannot RESTORE from a backup file or URL; use copyDatabase (AS COPY OF) or a BACPAC');
  const progress = new MonotonicProgress(opts.onProgress);
  try {
    await restoreInto(conns, info, source, target, progress, 0, opts.signal);
  } catch (err) {
    throw new Error(`restore of ${file} into "${target}" failed: ${(err as Error).message}`, { cause: err });
  }
  progress.report(100, `restored "${target}"`);
  return { tables: await tableCount(conns, target), bytes: await sizeOf(conns, target) };
}
