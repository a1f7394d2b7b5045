/**
 * restoreToPointInTime on SQL Server: restore a database as it was at a given instant from the
 * server's own backup history — the last full backup before it WITH NORECOVERY, then the log
 * chain with STOPAT, then RECOVERY — into another database. restore-chain.ts decides which
 * backups; this file only runs them. Azure SQL Database is refused: its point-in-time restore
 * is an Azure Resource Manager operation (createMode PointInTimeRestore), not T-SQL.
 */
import type { CopyOptions, PointInTimeCopy, PointInTimeCoverage } from '../port';
import { rows, run, type Connections } from './connections';
import { requireDatabase, restoreInto, serverInfo, sizeOf, tableCount } from './copy';
import { MonotonicProgress, runTracked } from './progress';
import { RestoreChainError, planRestoreChain, type BackupHistoryRow } from './restore-chain';
import * as tc from './tsql/copy';
import { backupHistory, serverClock } from './tsql/history';
import { checkIdentifier } from './tsql/identifiers';

/**
 * A STOPAT already passed inside the previous log backup: the last log of the chain was only
 * needed when the point lies after the previous one's end, which msdb's times cannot tell to
 * the second. SQL Server refuses it with error 4338 ("The STOPAT clause specifies a point too
 * early to allow this backup set to be restored"); the sequence is complete and recovers.
 */
export function pointAlreadyReached(err: unknown): boolean {
  // mssql reports the last server error (3013, "RESTORE LOG is terminating abnormally") and
  // keeps the ones before it in precedingErrors.
  const cause = (err as { cause?: ServerError }).cause;
  const errors: ServerError[] = cause ? [cause, ...(cause.precedingErrors ?? [])] : [];
  return errors.some((e) => e.number === 4338 || /STOPAT clause specifies a point too early/i.test(e.message ?? ''));
}

interface ServerError {
  number?: number;
  message?: string;
  precedingErrors?: ServerError[];
}

const AZURE_REFUSAL =
  'Azure SQL Database restores to a point in time through Azure Resource Manager (createMode PointInTimeRestore), not T-SQL; this engine does not call it';

/** The restore chain `at` needs, chosen from msdb as restoreToPointInTime would, without restoring anything. */
export async function pointInTimeCoverage(conns: Connections, source: string, at: string): Promise<PointInTimeCoverage> {
  checkIdentifier('database name', source);
  if ((await serverInfo(conns)).azure) return { reachable: false, reason: AZURE_REFUSAL };
  await requireDatabase(conns, source);
  const master = await conns.master();
  const [clock] = await rows<{ utc_now: string; offset_min: number }>(master, serverClock());
  const history = await rows<BackupHistoryRow>(master, backupHistory(source));
  try {
    const chain = planRestoreChain(history, { database: source, at, nowMs: Date.parse(`${clock.utc_now}Z`), serverOffsetMin: clock.offset_min });
    return { reachable: true, detail: `from the full backup finished ${chain.full.finishedAt} and ${chain.logs.length} log backup(s)` };
  } catch (err) {
    if (err instanceof RestoreChainError) return { reachable: false, reason: err.message };
    throw err;
  }
}

export async function restoreToPointInTime(conns: Connections, source: string, target: string, at: string, opts: CopyOptions = {}): Promise<PointInTimeCopy> {
  checkIdentifier('database name', source);
  checkIdentifier('database name', target);
  if (source === target) throw new Error(`cannot restore "${source}" to a point in time onto itself`);
  const info = await serverInfo(conns);
  if (info.azure) throw new Error(AZURE_REFUSAL);
  await requireDatabase(conns, source);
  const master = await conns.master();
  const [clock] = await rows<{ utc_now: string; offset_min: number }>(master, serverClock());
  const history = await rows<BackupHistoryRow>(master, backupHistory(source));
  const chain = planRestoreChain(history, { database: source, at, nowMs: Date.parse(`${clock.utc_now}Z`), serverOffsetMin: clock.offset_min });

  // Backups the server wrote to URL are read with the credential it wrote them with.
  const progress = new MonotonicProgress(opts.onProgress);
  await restoreInto(conns, info, chain.full.source, target, { progress, from: 0, to: 60, signal: opts.signal, position: chain.full.position, recovery: false });
  const slice = 39 / chain.logs.length;
  for (const [i, log] of chain.logs.entries()) {
    const what = `log backup ${i + 1} of ${chain.logs.length} (started ${log.startedAt})`;
    try {
      await runTracked(conns, tc.restoreLog(target, log.source, log.position, chain.stopAtLocal), {
        progress,
        from: 60 + i * slice,
        to: 60 + (i + 1) * slice,
        what,
        signal: opts.signal,
      });
    } catch (err) {
      if (i === chain.logs.length - 1 && i > 0 && !opts.signal?.aborted && pointAlreadyReached(err)) break;
      throw new Error(`point-in-time restore of "${source}" into "${target}" failed at ${what}: ${(err as Error).message}`, { cause: err });
    }
  }
  await run(master, tc.recoverDatabase(target));
  await run(master, tc.multiUser(target));
  progress.report(100, `restored "${source}" as of ${chain.at} into "${target}"`);
  return {
    tables: await tableCount(conns, target),
    bytes: await sizeOf(conns, target),
    detail: `full backup finished ${chain.full.finishedAt} + ${chain.logs.length} log backup(s), STOPAT ${chain.stopAtLocal} server time (${chain.at})`,
    rewrittenInFlight: null,
  };
}
