/**
 * Backup to, and restore from, one pg_dump custom-format file: compressed, taken from a single
 * consistent snapshot while the database's users stay connected, and restorable in parallel
 * (pg_restore --jobs needs a seekable archive, which a custom-format file is and a pipe is not).
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BackupOptions, CopyOptions } from '../port';
import { databaseExists, databaseSize, userTableCount } from './admin';
import { abortError, runTool } from './child-process';
import { Connections } from './connections';
import { checkJobs, dumpArgs, explainDumpFailure, resetTarget, type CopyTools } from './copy';
import { checkIdentifier } from './identifiers';
import { isTableDumped, isTableRestored, tableDataItems } from './tool-progress';

/** What backupDatabase reports as `format`; restoreDatabase reads only this. */
export const BACKUP_FORMAT = 'pg_dump-custom';

/**
 * An absolute path, so the tools never read a file name as an option (a relative name could
 * start with '-').
 */
function checkFilePath(kind: string, file: string): string {
  if (typeof file !== 'string' || file.trim() === '' || file.includes('\0')) {
    throw new Error(`invalid ${kind} ${JSON.stringify(file)}: must be a non-empty file path`);
  }
  return path.resolve(file);
}

function tableName(line: string): string {
  return /table "([^"]+)"/.exec(line)?.[1] ?? '';
}

/**
 * Dump `db` into `file` (overwritten). The dump goes to a temporary name beside `file` and is
 * renamed only when pg_dump succeeded, so a file at `file` is always a complete dump.
 */
export async function backupDatabase(
  conns: Connections,
  tools: CopyTools,
  db: string,
  file: string,
  opts: BackupOptions = {},
): Promise<{ bytes: number; format: string }> {
  checkIdentifier('database name', db);
  const target = checkFilePath('backup file', file);
  const dir = path.dirname(target);
  const dirStat = await stat(dir).catch(() => null);
  if (!dirStat?.isDirectory()) throw new Error(`cannot write backup file "${file}": folder "${dir}" does not exist`);
  if (!(await databaseExists(conns.admin(), db))) throw new Error(`database "${db}" does not exist`);
  const progress = opts.onProgress ?? (() => undefined);
  const tables = Math.max(1, await userTableCount(conns.db(db)));
  await conns.release(db);

  const partial = `${target}.partial-${randomBytes(4).toString('hex')}`;
  try {
    let started = 0;
    progress({ percent: 0, detail: `backing up ${db} (${tables} tables) to ${target}` });
    await runTool(tools.pgDump, [...dumpArgs(tools), '--format=custom', '--verbose', `--file=${partial}`, db], {
      env: conns.childEnv(db),
      signal: opts.signal,
      onLine: (line) => {
        // pg_dump writes a custom archive serially and announces each table as it starts it.
        if (!isTableDumped(line, 1)) return;
        started++;
        progress({
          percent: Math.min(99, Math.floor((99 * (started - 1)) / tables)),
          detail: `dumping table ${started}/${tables} of ${db}: ${tableName(line)}`,
        });
      },
    }).catch((err: unknown) => {
      throw explainDumpFailure(err, tools, db);
    });
    if (opts.signal?.aborted) throw abortError(opts.signal, 'backup');
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  const bytes = (await stat(target)).size;
  progress({ percent: 100, detail: `backed up ${db} to ${target} (${bytes} bytes)` });
  return { bytes, format: BACKUP_FORMAT };
}

/**
 * Restore a backupDatabase file into the existing `target`. The archive is read (and so
 * checked) before the target is touched; the target is then emptied, so a re-run over a
 * half-finished restore starts clean.
 */
export async function restoreDatabase(
  conns: Connections,
  tools: CopyTools,
  file: string,
  target: string,
  opts: CopyOptions = {},
): Promise<{ tables: number; bytes: number }> {
  const source = checkFilePath('backup file', file);
  checkIdentifier('target database name', target);
  const jobs = checkJobs('restore', opts.jobs);
  const fileStat = await stat(source).catch(() => null);
  if (!fileStat) throw new Error(`backup file "${file}" does not exist`);
  if (!fileStat.isFile()) throw new Error(`backup file "${file}" is not a regular file`);
  const admin = conns.admin();
  if (!(await databaseExists(admin, target))) throw new Error(`target database "${target}" does not exist (create it first)`);
  const progress = opts.onProgress ?? (() => undefined);
  const signal = opts.signal;
  const env = conns.childEnv(target);

  let toc: string;
  try {
    toc = await runTool(tools.pgRestore, ['--list', source], { env, signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new Error(`backup file "${file}" is not a readable pg_dump archive: ${(err as Error).message}`, { cause: err });
  }
  const tables = tableDataItems(toc);
  const total = Math.max(1, tables);

  await resetTarget(conns.db(target));
  let restored = 0;
  progress({ percent: 0, detail: `restoring ${source} into ${target} (${tables} tables, ${jobs} jobs)` });
  await runTool(tools.pgRestore, [`--jobs=${jobs}`, '--no-owner', '--no-privileges', '--exit-on-error', '--verbose', `--dbname=${target}`, source], {
    env,
    signal,
    onLine: (line) => {
      if (!isTableRestored(line, jobs)) return;
      restored++;
      progress({ percent: Math.min(99, Math.floor((99 * restored) / total)), detail: `restored ${restored}/${tables} tables into ${target}` });
    },
  });
  if (signal?.aborted) throw abortError(signal, 'restore');
  const bytes = await databaseSize(admin, target);
  progress({ percent: 100, detail: `restored ${tables} tables (${bytes} bytes) into ${target}` });
  return { tables, bytes };
}
