/**
 * Per-table row count and content hash. Choice: MD5 (HASHBYTES) over the rows rendered as JSON
 * and ordered bytewise, not CHECKSUM_AGG(BINARY_CHECKSUM(*)): the latter is a 32-bit,
 * order-insensitive combination in which swapped or compensating changes can cancel out and
 * which skips some column types, so it can miss exactly the one-value change a rollback check
 * must see. The hash is SQL Server's own and is not comparable with the PostgreSQL engine's.
 */
import { batch, type Batch } from './batch';
import { bracket } from './identifiers';

export function listTables(): Batch {
  return batch(
    'list-tables',
    `SELECT t.name AS name FROM sys.tables AS t WHERE t.schema_id = SCHEMA_ID(N'dbo') AND t.is_ms_shipped = 0 ORDER BY t.name COLLATE Latin1_General_BIN2`,
  );
}

/** `table` comes from sys.tables; it is bracket-quoted (] doubled) like QUOTENAME would. */
export function tableChecksum(table: string): Batch {
  return batch(
    'table-checksum',
    `
SELECT COUNT_BIG(*) AS n,
       LOWER(CONVERT(varchar(64), HASHBYTES('MD5', ISNULL(STRING_AGG(r.j, NCHAR(10)) WITHIN GROUP (ORDER BY r.j COLLATE Latin1_General_BIN2), N'')), 2)) AS md5
FROM (SELECT CAST((SELECT t.* FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES) AS nvarchar(max)) AS j FROM [dbo].${bracket(table)} AS t) AS r`,
  );
}
