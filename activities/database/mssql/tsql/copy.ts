/**
 * Backup, restore and copy batches. BACKUP and RESTORE accept variables for the database
 * name, the devices and the MOVE targets, so these batches need no dynamic SQL at all: every
 * name and path is a parameter. Only CREATE DATABASE … AS COPY OF (Azure SQL) takes names,
 * and those go through QUOTENAME inside sp_executesql.
 */
import { batch, int, str, type Batch, type Param } from './batch';
import { checkIdentifier } from './identifiers';

/** Microsoft's recommendation for backup to URL (block blobs): large transfers, 64 KB blocks. */
export const URL_MAXTRANSFERSIZE = 4194304;
export const URL_BLOCKSIZE = 65536;
export const STATS_PERCENT = 5;

export type BackupTarget = { kind: 'disk'; path: string } | { kind: 'url'; urls: string[] };

function devices(target: BackupTarget, params: Record<string, Param>): string {
  if (target.kind === 'disk') {
    if (typeof target.path !== 'string' || !target.path) throw new Error(`invalid backup file ${JSON.stringify(target.path)}`);
    params.dev0 = str(target.path);
    return 'DISK = @dev0';
  }
  if (!Array.isArray(target.urls) || target.urls.length < 1 || target.urls.length > 64) {
    throw new Error(`invalid backup URL list: 1-64 URLs, got ${JSON.stringify(target.urls)}`);
  }
  return target.urls
    .map((u, i) => {
      if (!/^https:\/\/[^\s'"]+$/.test(u)) throw new Error(`invalid backup URL ${JSON.stringify(u)}: must be https://`);
      params[`dev${i}`] = str(u);
      return `URL = @dev${i}`;
    })
    .join(', ');
}

/**
 * COPY_ONLY: the backup does not disturb the source's backup chain (a clone must not break
 * production's differential/log backups). BACKUP reads a consistent image of a live database
 * without disconnecting anyone. INIT/FORMAT on disk overwrite a partial file of a failed run.
 */
export function backupDatabase(db: string, target: BackupTarget): Batch {
  checkIdentifier('database name', db);
  const params: Record<string, Param> = { db: str(db) };
  const to = devices(target, params);
  const withs = ['COPY_ONLY', 'COMPRESSION', 'CHECKSUM', `STATS = ${STATS_PERCENT}`];
  if (target.kind === 'disk') withs.push('INIT', 'FORMAT');
  else withs.push(`MAXTRANSFERSIZE = ${URL_MAXTRANSFERSIZE}`, `BLOCKSIZE = ${URL_BLOCKSIZE}`);
  return batch(`backup-database-${target.kind}`, `BACKUP DATABASE @db TO ${to} WITH ${withs.join(', ')};`, params);
}

/** The logical files inside a backup (the backup set at FILE = position, default the first). */
export function restoreFileList(source: BackupTarget, position = 1): Batch {
  const params: Record<string, Param> = { pos: int(checkPosition(position)) };
  return batch(`restore-filelistonly-${source.kind}`, `RESTORE FILELISTONLY FROM ${devices(source, params)} WITH FILE = @pos;`, params);
}

function checkPosition(position: number): number {
  if (!Number.isInteger(position) || position < 1 || position > 32767)
    throw new Error(`invalid backup set position ${JSON.stringify(position)}: FILE = 1..32767`);
  return position;
}

export interface MoveFile {
  logicalName: string;
  physicalPath: string;
}

export interface RestoreOptions {
  /** FILE = n: which backup set of the media (default 1). */
  position?: number;
  /** false leaves the database RESTORING, for log backups to follow (default true). */
  recovery?: boolean;
}

/** REPLACE: a partial earlier restore (or the empty target) is overwritten. */
export function restoreDatabase(target: string, source: BackupTarget, moves: MoveFile[], opts: RestoreOptions = {}): Batch {
  checkIdentifier('database name', target);
  if (moves.length === 0) throw new Error('restore needs at least one MOVE (the backup lists no files)');
  const recovery = opts.recovery ?? true;
  const params: Record<string, Param> = { db: str(target), pos: int(checkPosition(opts.position ?? 1)) };
  const from = devices(source, params);
  const moveClauses = moves.map((m, i) => {
    params[`lf${i}`] = str(m.logicalName);
    params[`pf${i}`] = str(m.physicalPath);
    return `MOVE @lf${i} TO @pf${i}`;
  });
  const withs = ['FILE = @pos', ...moveClauses, 'REPLACE', 'CHECKSUM', recovery ? 'RECOVERY' : 'NORECOVERY', `STATS = ${STATS_PERCENT}`];
  if (source.kind === 'url') withs.push(`MAXTRANSFERSIZE = ${URL_MAXTRANSFERSIZE}`);
  return batch(`restore-database-${source.kind}${recovery ? '' : '-norecovery'}`, `RESTORE DATABASE @db FROM ${from} WITH ${withs.join(', ')};`, params);
}

/**
 * One log backup of a point-in-time chain. Every log gets the same STOPAT (server local time,
 * ISO 8601) and NORECOVERY, as Microsoft's restore sequence does: a log that ends before the
 * point is applied whole, the one holding the point stops there; recoverDatabase then opens it.
 */
export function restoreLog(target: string, source: BackupTarget, position: number, stopAtLocal: string): Batch {
  checkIdentifier('database name', target);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?$/.test(stopAtLocal))
    throw new Error(`invalid STOPAT ${JSON.stringify(stopAtLocal)}: local ISO 8601 time without offset`);
  const params: Record<string, Param> = { db: str(target), pos: int(checkPosition(position)), stopat: str(stopAtLocal) };
  const from = devices(source, params);
  const withs = ['FILE = @pos', 'CHECKSUM', 'NORECOVERY', 'STOPAT = @stopat', `STATS = ${STATS_PERCENT}`];
  if (source.kind === 'url') withs.push(`MAXTRANSFERSIZE = ${URL_MAXTRANSFERSIZE}`);
  return batch(`restore-log-${source.kind}`, `RESTORE LOG @db FROM ${from} WITH ${withs.join(', ')};`, params);
}

/** Ends a restore sequence: rolls back what was uncommitted at the stop point and opens the database. */
export function recoverDatabase(target: string): Batch {
  checkIdentifier('database name', target);
  return batch('restore-with-recovery', `RESTORE DATABASE @db WITH RECOVERY;`, { db: str(target) });
}

/**
 * Before a restore over an existing target: its sessions are cut (ROLLBACK IMMEDIATE) so the
 * restore can take it exclusively. A target left RESTORING by an interrupted run is not
 * ONLINE and needs nothing.
 */
export function takeOffline(db: string): Batch {
  checkIdentifier('database name', db);
  return batch(
    'single-user-before-restore',
    `
IF EXISTS (SELECT 1 FROM sys.databases WHERE name = @db AND state_desc = N'ONLINE')
BEGIN
  DECLARE @sql nvarchar(max) = N'ALTER DATABASE ' + QUOTENAME(@db) + N' SET SINGLE_USER WITH ROLLBACK IMMEDIATE;';
  EXEC sys.sp_executesql @sql;
END`,
    { db: str(db) },
  );
}

/** A restored database keeps the user access of its backup; make sure it is MULTI_USER. */
export function multiUser(db: string): Batch {
  checkIdentifier('database name', db);
  return batch(
    'multi-user-after-restore',
    `
IF EXISTS (SELECT 1 FROM sys.databases WHERE name = @db AND user_access_desc <> N'MULTI_USER')
BEGIN
  DECLARE @sql nvarchar(max) = N'ALTER DATABASE ' + QUOTENAME(@db) + N' SET MULTI_USER;';
  EXEC sys.sp_executesql @sql;
END`,
    { db: str(db) },
  );
}

/** Progress of the BACKUP/RESTORE running on session @spid (SQL Server). */
export function requestProgress(spid: number): Batch {
  return batch('request-progress', `SELECT r.percent_complete AS [percent], r.command AS command FROM sys.dm_exec_requests AS r WHERE r.session_id = @spid`, {
    spid: int(spid),
  });
}

export function currentSession(): Batch {
  return batch('current-session', `SELECT @@SPID AS spid`);
}

/** The size of the last backup of @db finished on this server (for to-URL backups). */
export function lastBackupSize(db: string): Batch {
  checkIdentifier('database name', db);
  return batch(
    'last-backup-size',
    `
SELECT TOP (1) b.compressed_backup_size AS bytes, b.backup_size AS raw_bytes
FROM msdb.dbo.backupset AS b WHERE b.database_name = @db AND b.is_copy_only = 1 ORDER BY b.backup_finish_date DESC`,
    { db: str(db) },
  );
}

/**
 * Azure SQL: the server copies the database asynchronously (transactionally consistent as of
 * the copy's end); the target must not exist yet.
 */
export function azureCopyStart(source: string, target: string): Batch {
  checkIdentifier('database name', source);
  checkIdentifier('database name', target);
  return batch(
    'azure-copy-start',
    `
DECLARE @sql nvarchar(max) = N'CREATE DATABASE ' + QUOTENAME(@target) + N' AS COPY OF ' + QUOTENAME(@source) + N';';
EXEC sys.sp_executesql @sql;`,
    { source: str(source), target: str(target) },
  );
}

/** Azure SQL, in master: copy progress and the target's state; no copy row = finished or failed. */
export function azureCopyProgress(target: string): Batch {
  checkIdentifier('database name', target);
  return batch(
    'azure-copy-progress',
    `
SELECT d.state_desc AS state, c.percent_complete AS [percent], c.error_desc AS error
FROM sys.databases AS d LEFT JOIN sys.dm_database_copies AS c ON c.database_id = d.database_id
WHERE d.name = @target`,
    { target: str(target) },
  );
}

/**
 * Azure SQL, in master: a credential named after the container URL that holds the SAS token,
 * which BACKUP TO URL looks up by that name. QUOTENAME is not usable here: both the URL and a
 * SAS token exceed its 128-character input limit (it would return NULL), so the same quoting
 * is done with REPLACE — still server-side, still from parameters.
 */
export function ensureUrlCredential(containerUrl: string, sasToken: string): Batch {
  if (!/^https:\/\/[^\s'"?]+$/.test(containerUrl)) throw new Error(`invalid backup container URL ${JSON.stringify(containerUrl)}: https:// without a query`);
  if (typeof sasToken !== 'string' || !sasToken || sasToken.startsWith('?')) throw new Error('invalid SAS token: non-empty, without the leading "?"');
  return batch(
    'ensure-url-credential',
    `
DECLARE @name nvarchar(max) = N'[' + REPLACE(@url, N']', N']]') + N']';
DECLARE @secret nvarchar(max) = N'''' + REPLACE(@sas, N'''', N'''''') + N'''';
DECLARE @sql nvarchar(max);
IF EXISTS (SELECT 1 FROM sys.credentials WHERE name = @url)
  SET @sql = N'ALTER CREDENTIAL ' + @name + N' WITH IDENTITY = ''SHARED ACCESS SIGNATURE'', SECRET = ' + @secret + N';';
ELSE
  SET @sql = N'CREATE CREDENTIAL ' + @name + N' WITH IDENTITY = ''SHARED ACCESS SIGNATURE'', SECRET = ' + @secret + N';';
EXEC sys.sp_executesql @sql;`,
    { url: str(containerUrl), sas: str(sasToken) },
  );
}
