/**
 * The e-mail scrub in T-SQL, with the same rule as the PostgreSQL engine (see
 * postgres/scrub-sql.ts): an address token is a run of characters other than whitespace
 * , ; < > " ( ) holding an '@'; its domain (after the last '@') is lower-cased and moved into
 * the local part (earlier '@' become '_'), and the sandbox domain is appended. Tokens already
 * in the sandbox domain stay. A result longer than the column becomes
 * <prefix of the first rewritten local part>_<8 hex of md5(original)>@<sandbox>, then
 * <hex>@<sandbox>, then NULL ('' for NOT NULL).
 *
 * The rewrite is an inline table-valued function, so the planner folds it into the batch's
 * UPDATE and the scrub stays set-based: a tally splits the value into runs of separator /
 * non-separator characters, each address run is rewritten, and STRING_AGG … WITHIN GROUP
 * (ORDER BY position) glues the runs back together. Requirements: SQL Server 2019+ / Azure SQL
 * (STRING_AGG, and the _UTF8 collation that makes the md5 input the UTF-8 bytes PostgreSQL
 * hashes). Values longer than 1,000,000 characters exceed the tally and are left unchanged;
 * the verification pass then reports them instead of a truncated value being written.
 * Lengths are in UTF-16 code units (characters outside the BMP count twice).
 */
import { batch, bit, int, str, type Batch, type Param } from './batch';
import { bracket, checkIdentifier, checkMailDomain, dboTable, quoteIdent } from './identifiers';

export const HELPER_SCHEMA = 'tenant_clone';

/**
 * SQL Server escalates row locks to a table lock at about 5,000 locks held by one statement;
 * a batch above that would lock the whole table against the tenant's other work. The profile's
 * batchSize (tuned for PostgreSQL, default 20,000) is therefore clamped to this.
 */
export const MAX_BATCH_ROWS = 4000;

export function clampBatchSize(requested: number): number {
  if (!Number.isInteger(requested) || requested < 1) throw new Error(`invalid scrub batch size ${JSON.stringify(requested)}: must be a positive integer`);
  return Math.min(requested, MAX_BATCH_ROWS);
}

/** Code points that end an address token: \t \n \v \f \r space " ( ) , ; < > */
export const SEPARATOR_CODES = [9, 10, 11, 12, 13, 32, 34, 40, 41, 44, 59, 60, 62];

/** Serialises concurrent installs (CREATE OR ALTER of one function can deadlock with itself). */
export function installLock(): Batch {
  return batch('install-lock', `EXEC sys.sp_getapplock @Resource = N'tenant_clone.install', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 60000;`);
}

export function installSchema(): Batch {
  return batch('install-schema', `
IF SCHEMA_ID(N'tenant_clone') IS NULL EXEC sys.sp_executesql N'CREATE SCHEMA tenant_clone;';
IF OBJECT_ID(N'tenant_clone.scrub_checkpoint', N'U') IS NULL
  CREATE TABLE tenant_clone.scrub_checkpoint (
    id         int NOT NULL CONSTRAINT pk_scrub_checkpoint PRIMARY KEY CONSTRAINT ck_scrub_checkpoint_one CHECK (id = 1),
    run_id     nvarchar(200) NOT NULL,
    state_json nvarchar(4000) NOT NULL CONSTRAINT ck_scrub_checkpoint_json CHECK (ISJSON(state_json) = 1),
    updated_at datetime2 NOT NULL CONSTRAINT df_scrub_checkpoint_at DEFAULT SYSUTCDATETIME()
  );`);
}

/** CREATE OR ALTER FUNCTION must start its own batch, hence a batch of its own. */
export function installRewriteFunction(): Batch {
  const seps = SEPARATOR_CODES.join(', ');
  return batch('install-rewrite-function', `
CREATE OR ALTER FUNCTION tenant_clone.rewrite_emails(@val nvarchar(max), @sandbox nvarchar(253), @maxlen int, @nullable bit)
RETURNS TABLE
AS RETURN
WITH digits(d) AS (
  SELECT v.d FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) AS v(d)
),
tally(n) AS (
  SELECT TOP (CASE WHEN CHARINDEX(N'@', @val) > 0 AND DATALENGTH(@val) / 2 <= 1000000 THEN DATALENGTH(@val) / 2 ELSE 0 END)
         CAST(ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS int)
  FROM digits AS a CROSS JOIN digits AS b CROSS JOIN digits AS c CROSS JOIN digits AS d CROSS JOIN digits AS e CROSS JOIN digits AS f
),
chars(n, sep) AS (
  SELECT t.n, CASE WHEN UNICODE(SUBSTRING(@val, t.n, 1)) IN (${seps}) THEN 1 ELSE 0 END FROM tally AS t
),
starts(n, sep) AS (
  SELECT x.n, x.sep FROM (SELECT c.n, c.sep, LAG(c.sep) OVER (ORDER BY c.n) AS prev FROM chars AS c) AS x
  WHERE x.prev IS NULL OR x.prev <> x.sep
),
runs(n, is_addr, run) AS (
  SELECT r.n, CASE WHEN r.sep = 0 AND CHARINDEX(N'@', r.run) > 0 THEN 1 ELSE 0 END, r.run
  FROM (SELECT s.n, s.sep, SUBSTRING(@val, s.n, ISNULL(LEAD(s.n) OVER (ORDER BY s.n), DATALENGTH(@val) / 2 + 1) - s.n) AS run FROM starts AS s) AS r
),
parts(n, is_addr, piece) AS (
  SELECT r.n, r.is_addr,
    CASE
      WHEN r.is_addr = 0 THEN r.run
      WHEN LOWER(SUBSTRING(r.run, a.last_at + 1, DATALENGTH(r.run) / 2)) COLLATE Latin1_General_BIN2 = @sandbox THEN r.run
      ELSE REPLACE(LEFT(r.run, a.last_at - 1), N'@', N'_') + N'_' + LOWER(SUBSTRING(r.run, a.last_at + 1, DATALENGTH(r.run) / 2)) + N'@' + @sandbox
    END
  FROM runs AS r
  CROSS APPLY (SELECT DATALENGTH(r.run) / 2 - CHARINDEX(N'@', REVERSE(r.run)) + 1 AS last_at) AS a
),
joined(result) AS (
  SELECT STRING_AGG(CAST(p.piece AS nvarchar(max)), N'') WITHIN GROUP (ORDER BY p.n) FROM parts AS p
),
first_local(local_part) AS (
  SELECT TOP (1) LEFT(p.piece, DATALENGTH(p.piece) / 2 - CHARINDEX(N'@', REVERSE(p.piece))) FROM parts AS p WHERE p.is_addr = 1 ORDER BY p.n
),
fit(tail, hex) AS (
  SELECT N'@' + @sandbox,
         LOWER(LEFT(CONVERT(varchar(64), HASHBYTES('MD5', CAST(@val COLLATE Latin1_General_100_BIN2_UTF8 AS varchar(max))), 2), 8))
)
SELECT CASE
  WHEN @val IS NULL OR CHARINDEX(N'@', @val) = 0 OR DATALENGTH(@val) / 2 > 1000000 THEN @val
  WHEN @maxlen IS NULL OR DATALENGTH(j.result) / 2 <= @maxlen THEN j.result
  WHEN @maxlen - DATALENGTH(f.tail) / 2 - 1 - 8 >= 1
    THEN LEFT(ISNULL((SELECT l.local_part FROM first_local AS l), N''), @maxlen - DATALENGTH(f.tail) / 2 - 1 - 8) + N'_' + f.hex + f.tail
  WHEN @maxlen - DATALENGTH(f.tail) / 2 >= 1 THEN LEFT(f.hex, @maxlen - DATALENGTH(f.tail) / 2) + f.tail
  WHEN @nullable = 1 THEN NULL
  ELSE N''
END AS value
FROM joined AS j CROSS JOIN fit AS f;`);
}

/** Type, character length and nullability of dbo.table.column (COL_LENGTH is bytes; this is characters). */
export function columnInfo(table: string, column: string): Batch {
  checkIdentifier('table name', table);
  checkIdentifier('column name', column);
  return batch('column-info', `
SELECT ty.name AS type_name,
       CASE WHEN c.max_length = -1 THEN NULL WHEN ty.name IN (N'nvarchar', N'nchar') THEN c.max_length / 2 ELSE c.max_length END AS max_chars,
       c.is_nullable AS nullable,
       CASE WHEN OBJECT_ID(QUOTENAME(N'dbo') + N'.' + QUOTENAME(@table), N'U') IS NULL THEN 0 ELSE 1 END AS table_exists
FROM (SELECT 1 AS one) AS x
LEFT JOIN sys.columns AS c ON c.object_id = OBJECT_ID(QUOTENAME(N'dbo') + N'.' + QUOTENAME(@table), N'U') AND c.name = @column
LEFT JOIN sys.types AS ty ON ty.user_type_id = c.user_type_id`, { table: str(table), column: str(column) });
}

export function rowCount(table: string): Batch {
  return batch('row-count', `SELECT COUNT_BIG(*) AS n FROM ${dboTable(table)}`);
}

export function keyNulls(table: string, key: string): Batch {
  return batch('key-nulls', `SELECT TOP (1) 1 AS found FROM ${dboTable(table)} WHERE ${quoteIdent('key column', key)} IS NULL`);
}

/**
 * The batch's key range: the largest key among the next @n keys after @lo. Keys travel as
 * text; SQL Server converts @lo to the key's type (a type of higher precedence) for the seek.
 */
export function batchBound(table: string, key: string, batchSize: number, lastKey: string | null): Batch {
  const k = quoteIdent('key column', key);
  const params: Record<string, Param> = { n: int(clampBatchSize(batchSize)) };
  let where = '';
  if (lastKey !== null) {
    params.lo = str(lastKey);
    where = ` WHERE ${k} > @lo`;
  }
  return batch(lastKey === null ? 'scrub-bound-first' : 'scrub-bound-next', `
SELECT CONVERT(nvarchar(4000), MAX(s.k)) AS hi, COUNT(*) AS n
FROM (SELECT TOP (@n) ${k} AS k FROM ${dboTable(table)}${where} ORDER BY ${k}) AS s`, params);
}

/**
 * One keyset batch: rewrite the range (lo, hi] where the value holds an '@' and the rewrite
 * changes it (compared bytewise, so a case-only change counts). The rewrite function is the
 * only expression producing the new value; no value is inlined.
 */
export function scrubRange(table: string, column: string, key: string, opts: { sandbox: string; maxChars: number | null; nullable: boolean; lo: string | null; hi: string }): Batch {
  const col = quoteIdent('column name', column);
  const k = quoteIdent('key column', key);
  const params: Record<string, Param> = {
    sandbox: str(checkMailDomain(opts.sandbox)),
    maxlen: int(opts.maxChars),
    nullable: bit(opts.nullable),
    hi: str(opts.hi),
  };
  let range = `t.${k} <= @hi`;
  if (opts.lo !== null) {
    params.lo = str(opts.lo);
    range = `t.${k} > @lo AND ${range}`;
  }
  return batch(opts.lo === null ? 'scrub-range-first' : 'scrub-range-next', `
UPDATE t SET ${col} = r.value
FROM ${dboTable(table)} AS t
CROSS APPLY tenant_clone.rewrite_emails(t.${col}, @sandbox, @maxlen, @nullable) AS r
WHERE ${range} AND t.${col} LIKE N'%@%'
  AND (r.value IS NULL OR CAST(r.value AS varbinary(max)) <> CAST(CAST(t.${col} AS nvarchar(max)) AS varbinary(max)))`, params);
}

/** Upsert of the single checkpoint row, run in the batch's own transaction. */
export function saveCheckpoint(runId: string, checkpointJson: string): Batch {
  if (typeof runId !== 'string' || !runId || runId.length > 200) throw new Error(`invalid scrub run id ${JSON.stringify(runId)}: 1-200 characters`);
  return batch('save-checkpoint', `
UPDATE tenant_clone.scrub_checkpoint SET run_id = @run, state_json = @cp, updated_at = SYSUTCDATETIME() WHERE id = 1;
INSERT INTO tenant_clone.scrub_checkpoint (id, run_id, state_json, updated_at)
SELECT 1, @run, @cp, SYSUTCDATETIME() WHERE NOT EXISTS (SELECT 1 FROM tenant_clone.scrub_checkpoint WHERE id = 1);`, { run: str(runId), cp: str(checkpointJson) });
}

export function loadCheckpoint(runId: string): Batch {
  return batch('load-checkpoint', `SELECT c.state_json AS state_json FROM tenant_clone.scrub_checkpoint AS c WHERE c.id = 1 AND c.run_id = @run`, { run: str(runId) });
}

/**
 * Independent verification: separators are mapped to spaces with TRANSLATE, STRING_SPLIT
 * cuts on spaces, and the domain after each token's last '@' is compared bytewise with the
 * sandbox. It never calls the rewrite function, so a bug there cannot hide itself.
 */
export function foreignCondition(col: string): string {
  return `t.${col} LIKE N'%@%' AND EXISTS (
    SELECT 1 FROM STRING_SPLIT(TRANSLATE(CAST(t.${col} AS nvarchar(max)), @seps, @spaces), N' ') AS s
    WHERE CHARINDEX(N'@', s.value) > 0
      AND LOWER(RIGHT(s.value, CHARINDEX(N'@', REVERSE(s.value)) - 1)) COLLATE Latin1_General_BIN2 <> @sandbox)`;
}

function verifyParams(sandbox: string): Record<string, Param> {
  const seps = SEPARATOR_CODES.map((c) => String.fromCharCode(c)).join('');
  return { sandbox: str(checkMailDomain(sandbox)), seps: str(seps), spaces: str(' '.repeat(seps.length)) };
}

export function verifyCount(table: string, column: string, sandbox: string): Batch {
  const col = quoteIdent('column name', column);
  return batch('verify-count', `SELECT COUNT_BIG(*) AS n FROM ${dboTable(table)} AS t WHERE ${foreignCondition(col)}`, verifyParams(sandbox));
}

export function verifySamples(table: string, column: string, sandbox: string, limit: number): Batch {
  const col = quoteIdent('column name', column);
  return batch('verify-samples', `SELECT TOP (@limit) CAST(t.${col} AS nvarchar(max)) AS v FROM ${dboTable(table)} AS t WHERE ${foreignCondition(col)}`, {
    ...verifyParams(sandbox),
    limit: int(limit),
  });
}

/** Evaluate the rewrite on one value (tests and diagnostics). */
export function rewriteValue(value: string | null, sandbox: string, maxChars: number | null, nullable: boolean): Batch {
  return batch('rewrite-value', `SELECT r.value AS value FROM tenant_clone.rewrite_emails(@v, @sandbox, @maxlen, @nullable) AS r`, {
    v: str(value),
    sandbox: str(checkMailDomain(sandbox)),
    maxlen: int(maxChars),
    nullable: bit(nullable),
  });
}

export { bracket };
