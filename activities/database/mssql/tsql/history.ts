/**
 * The server's backup history (msdb) and clock, read for a point-in-time restore. Times are
 * returned as ISO text in the server's local time (CONVERT style 126) with msdb's own time_zone,
 * and LSNs as decimal text, so neither the driver's UTC assumption for datetime nor a JS
 * number's 53 bits changes them on the way.
 */
import { batch, str, type Batch } from './batch';
import { checkIdentifier } from './identifiers';

/** Full and log backup sets of @db, one row per media family (mirror 0). */
export function backupHistory(db: string): Batch {
  checkIdentifier('database name', db);
  return batch(
    'backup-history',
    `
SELECT b.backup_set_id, b.type, b.is_copy_only, b.position,
       CONVERT(varchar(40), b.first_lsn) AS first_lsn, CONVERT(varchar(40), b.last_lsn) AS last_lsn,
       CONVERT(char(36), b.database_guid) AS database_guid,
       CONVERT(varchar(27), b.backup_start_date, 126) AS started_local,
       CONVERT(varchar(27), b.backup_finish_date, 126) AS finished_local,
       CAST(b.time_zone AS int) AS time_zone, b.recovery_model,
       CAST(m.media_family_count AS int) AS media_family_count,
       CAST(f.family_sequence_number AS int) AS family_sequence_number,
       CAST(f.device_type AS int) AS device_type, f.physical_device_name
FROM msdb.dbo.backupset AS b
JOIN msdb.dbo.backupmediaset AS m ON m.media_set_id = b.media_set_id
JOIN msdb.dbo.backupmediafamily AS f ON f.media_set_id = b.media_set_id AND f.mirror = 0
WHERE b.database_name = @db AND b.type IN ('D', 'L') AND b.is_snapshot = 0 AND b.backup_finish_date IS NOT NULL
ORDER BY b.backup_set_id, f.family_sequence_number`,
    { db: str(db) },
  );
}

/** The server's clock: now in UTC and its current offset from UTC in minutes. */
export function serverClock(): Batch {
  return batch(
    'server-clock',
    `
SELECT CONVERT(varchar(27), SYSUTCDATETIME(), 126) AS utc_now,
       DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS offset_min`,
  );
}
