/**
 * The e-mail scrub in T-SQL, with the same rule as the PostgreSQL engine (see
 * postgres/scrub-sql.ts): an address token is a run of characters other than whitespace
 * , ; < > " ( ) holding an '@'; its domain (after the last '@') is lower-cased and moved into
 * the local part (earlier '@' become '_'), and the sandbox domain is appended. Tokens already
 * in the sandbox domain stay. A result longer than the column becomes
 * <prefix of the first rewritten local part>_<8 hex of md5(original)>@<sandbox>, then
 * <hex>@<sandbox>, then NULL ('' for NOT NULL).
 *
 * Every "at" form (../../address-rule.ts) is first written as a plain @ (plainAt); a token
 * that starts with its only @ and holds no dot is a handle (@media) and stays, and so does a
 * token whose only @ is followed by exactly the sandbox domain.
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
import { SEPARATOR_CHARS } from '../../address-rule';
import { batch, bit, int, str, type Batch, type Param } from './batch';
import { bracket, checkIdentifier, checkMailDomain } from './identifiers';

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

/** Code points that end an address token: \t \n \v \f \r space " ' ( ) , ; < > { } \ (../../address-rule.ts) */
export const SEPARATOR_CODES = SEPARATOR_CHARS.map((c) => c.charCodeAt(0));

/**
 * The "at" forms written as a plain @ before anything else looks at a value: %40, &#64; and
 * &#x40; (with up to two leading zeros), \u0040 and the full-width ＠. Matched without regard to
 * case (&#X40;, \U0040). Both the rewrite and the verification start from this text.
 */
export function plainAt(expr: string): string {
  const forms = ['&#x0040;', '&#x040;', '&#x40;', '&#0064;', '&#064;', '&#64;', '%40', '\\u0040'];
  let out = `CAST(${expr} AS nvarchar(max)) COLLATE Latin1_General_100_CI_AS`;
  for (const f of forms) out = `REPLACE(${out}, N'${f}', N'@')`;
  return `REPLACE(${out}, NCHAR(65312), N'@')`;
}

/** Serialises concurrent installs (CREATE OR ALTER of one function can deadlock with itself). */
export function installLock(): Batch {
  return batch(
    'install-lock',
    `EXEC sys.sp_getapplock @Resource = N'tenant_clone.install', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 60000;`,
  );
}

export function installSchema(): Batch {
  return batch(
    'install-schema',
    `
IF SCHEMA_ID(N'tenant_clone') IS NULL EXEC sys.sp_executesql N'CREATE SCHEMA tenant_clone;';
IF OBJECT_ID(N'tenant_clone.scrub_checkpoint', N'U') IS NULL
  CREATE TABLE tenant_clone.scrub_checkpoint (
    id         int NOT NULL CONSTRAINT pk_scrub_checkpoint PRIMARY KEY CONSTRAINT ck_scrub_checkpoint_one CHECK (id = 1),
    run_id     nvarchar(200) NOT NULL,
    state_json nvarchar(4000) NOT NULL CONSTRAINT ck_scrub_checkpoint_json CHECK (ISJSON(state_json) = 1),
    updated_at datetime2 NOT NULL CONSTRAINT df_scrub_checkpoint_at DEFAULT SYSUTCDATETIME()
  );`,
  );
}

/**
 * The rewrite on a value whose "at" forms are already plain (@val) — @orig is the value as
 * stored, returned when nothing is rewritten and hashed for the short form. CREATE OR ALTER
 * FUNCTION must start its own batch, hence a batch of its own.
 */
export function installPlainRewriteFunction(): Batch {
  const seps = SEPARATOR_CODES.join(', ');
  return batch(
    'install-plain-rewrite-function',
    `
CREATE OR ALTER FUNCTION tenant_clone.rewrite_plain(@val nvarchar(max), @orig nvarchar(max), @sandbox nvarchar(253), @maxlen int, @nullable bit)
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
kinds(n, kind, run, last_at) AS (
  SELECT r.n,
    CASE
      WHEN r.is_addr = 0 THEN 0
      WHEN LEFT(r.run, 1) = N'@' AND CHARINDEX(N'@', r.run, 2) = 0 AND r.run NOT LIKE N'%[.%&${'\uFF0E\u3002\uFF61'}]%' THEN 1
      WHEN DATALENGTH(r.run) / 2 - DATALENGTH(REPLACE(r.run COLLATE Latin1_General_BIN2, N'@', N'')) / 2 = 1
       AND LOWER(SUBSTRING(r.run, a.last_at + 1, DATALENGTH(r.run) / 2)) COLLATE Latin1_General_BIN2 = @sandbox THEN 2
      ELSE 3
    END,
    r.run, a.last_at
  FROM runs AS r
  CROSS APPLY (SELECT DATALENGTH(r.run) / 2 - CHARINDEX(N'@', REVERSE(r.run)) + 1 AS last_at) AS a
),
parts(n, kind, piece) AS (
  SELECT k.n, k.kind,
    CASE
      WHEN k.kind < 3 THEN k.run
      ELSE REPLACE(LEFT(k.run, k.last_at - 1), N'@', N'_') + N'_' + LOWER(SUBSTRING(k.run, k.last_at + 1, DATALENGTH(k.run) / 2)) + N'@' + @sandbox
    END
  FROM kinds AS k
),
joined(result, rewritten) AS (
  SELECT STRING_AGG(CAST(p.piece AS nvarchar(max)), N'') WITHIN GROUP (ORDER BY p.n), MAX(CASE WHEN p.kind = 3 THEN 1 ELSE 0 END) FROM parts AS p
),
first_local(local_part) AS (
  SELECT TOP (1) LEFT(p.piece, DATALENGTH(p.piece) / 2 - CHARINDEX(N'@', REVERSE(p.piece))) FROM parts AS p WHERE p.kind >= 2 ORDER BY p.n
),
fit(tail, hex) AS (
  SELECT N'@' + @sandbox,
         LOWER(LEFT(CONVERT(varchar(64), HASHBYTES('MD5', CAST(@orig COLLATE Latin1_General_100_BIN2_UTF8 AS varchar(max))), 2), 8))
)
SELECT CASE
  WHEN @val IS NULL OR CHARINDEX(N'@', @val) = 0 OR DATALENGTH(@val) / 2 > 1000000 OR ISNULL(j.rewritten, 0) = 0 THEN @orig
  WHEN @maxlen IS NULL OR DATALENGTH(j.result) / 2 <= @maxlen THEN j.result
  WHEN @maxlen - DATALENGTH(f.tail) / 2 - 1 - 8 >= 1
    THEN LEFT(ISNULL((SELECT l.local_part FROM first_local AS l), N''), @maxlen - DATALENGTH(f.tail) / 2 - 1 - 8) + N'_' + f.hex + f.tail
  WHEN @maxlen - DATALENGTH(f.tail) / 2 >= 1 THEN LEFT(f.hex, @maxlen - DATALENGTH(f.tail) / 2) + f.tail
  WHEN @nullable = 1 THEN NULL
  ELSE N''
END AS value
FROM joined AS j CROSS JOIN fit AS f;`,
  );
}

/** The rewrite the scrub calls: every "at" form made plain, then rewrite_plain. */
export function installRewriteFunction(): Batch {
  return batch(
    'install-rewrite-function',
    `
CREATE OR ALTER FUNCTION tenant_clone.rewrite_emails(@val nvarchar(max), @sandbox nvarchar(253), @maxlen int, @nullable bit)
RETURNS TABLE
AS RETURN
SELECT p.value AS value FROM tenant_clone.rewrite_plain(${plainAt('@val')}, @val, @sandbox, @maxlen, @nullable) AS p;`,
  );
}

/** Type, character length and nullability of dbo.table.column (COL_LENGTH is bytes; this is characters). */
export function columnInfo(table: string, column: string): Batch {
  checkIdentifier('table name', table);
  checkIdentifier('column name', column);
  return batch(
    'column-info',
    `
SELECT ty.name AS type_name,
       CASE WHEN c.max_length = -1 THEN NULL WHEN ty.name IN (N'nvarchar', N'nchar') THEN c.max_length / 2 ELSE c.max_length END AS max_chars,
       c.is_nullable AS nullable,
       CASE WHEN OBJECT_ID(QUOTENAME(N'dbo') + N'.' + QUOTENAME(@table), N'U') IS NULL THEN 0 ELSE 1 END AS table_exists
FROM (SELECT 1 AS one) AS x
LEFT JOIN sys.columns AS c ON c.object_id = OBJECT_ID(QUOTENAME(N'dbo') + N'.' + QUOTENAME(@table), N'U') AND c.name = @column
LEFT JOIN sys.types AS ty ON ty.user_type_id = c.user_type_id`,
    { table: str(table), column: str(column) },
  );
}

/** Upsert of the single checkpoint row, run in the batch's own transaction. */
export function saveCheckpoint(runId: string, checkpointJson: string): Batch {
  if (typeof runId !== 'string' || !runId || runId.length > 200) throw new Error(`invalid scrub run id ${JSON.stringify(runId)}: 1-200 characters`);
  return batch(
    'save-checkpoint',
    `
UPDATE tenant_clone.scrub_checkpoint SET run_id = @run, state_json = @cp, updated_at = SYSUTCDATETIME() WHERE id = 1;
INSERT INTO tenant_clone.scrub_checkpoint (id, run_id, state_json, updated_at)
SELECT 1, @run, @cp, SYSUTCDATETIME() WHERE NOT EXISTS (SELECT 1 FROM tenant_clone.scrub_checkpoint WHERE id = 1);`,
    { run: str(runId), cp: str(checkpointJson) },
  );
}

export function loadCheckpoint(runId: string): Batch {
  return batch('load-checkpoint', `SELECT c.state_json AS state_json FROM tenant_clone.scrub_checkpoint AS c WHERE c.id = 1 AND c.run_id = @run`, {
    run: str(runId),
  });
}

/** A table as the catalog names it, bracket-quoted. */
export interface TableRef {
  schema: string;
  name: string;
}

export const tableSql = (t: TableRef) => `${bracket(t.schema)}.${bracket(t.name)}`;

/**
 * Every column of every user table outside the tool's schema, with its base type (alias types
 * resolved), length, whether it is computed, the table's rows, whether the table is a
 * system-versioned history table (which cannot be updated), and the first column of its
 * primary key or, failing one, of its clustered index: the keyset key.
 */
export function catalogColumns(): Batch {
  return batch(
    'catalog-columns',
    `
SELECT s.name AS schema_name, t.name AS table_name, c.name AS column_name, c.column_id AS column_id, bt.name AS base_type,
       CASE WHEN c.max_length = -1 THEN NULL WHEN bt.name IN (N'nvarchar', N'nchar') THEN c.max_length / 2 ELSE c.max_length END AS max_chars,
       c.is_nullable AS nullable, c.is_computed AS computed, t.temporal_type AS temporal_type,
       (SELECT SUM(p.rows) FROM sys.partitions AS p WHERE p.object_id = t.object_id AND p.index_id IN (0, 1)) AS table_rows,
       (SELECT TOP (1) kc.name FROM sys.indexes AS i
          JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.key_ordinal = 1
          JOIN sys.columns AS kc ON kc.object_id = ic.object_id AND kc.column_id = ic.column_id
         WHERE i.object_id = t.object_id AND (i.is_primary_key = 1 OR i.index_id = 1)
         ORDER BY i.is_primary_key DESC) AS key_column,
       (SELECT TOP (1) kt.name FROM sys.indexes AS i
          JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.key_ordinal = 1
          JOIN sys.columns AS kc ON kc.object_id = ic.object_id AND kc.column_id = ic.column_id
          JOIN sys.types AS kt ON kt.user_type_id = kc.system_type_id
         WHERE i.object_id = t.object_id AND (i.is_primary_key = 1 OR i.index_id = 1)
         ORDER BY i.is_primary_key DESC) AS key_type
FROM sys.tables AS t
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
JOIN sys.columns AS c ON c.object_id = t.object_id
JOIN sys.types AS bt ON bt.user_type_id = c.system_type_id
WHERE t.is_ms_shipped = 0 AND s.name <> N'tenant_clone'
ORDER BY s.name, t.name, c.column_id`,
  );
}

/** Enabled DML triggers of user tables: disabled while their table is scrubbed. */
export function enabledTriggers(): Batch {
  return batch(
    'enabled-triggers',
    `
SELECT s.name AS schema_name, t.name AS table_name, tr.name AS trigger_name
FROM sys.triggers AS tr
JOIN sys.tables AS t ON t.object_id = tr.parent_id
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
WHERE tr.parent_class = 1 AND tr.is_disabled = 0`,
  );
}

/** Every column of every user table, for checking the names a profile uses. */
export function allColumns(): Batch {
  return batch(
    'all-columns',
    `
SELECT s.name AS schema_name, t.name AS table_name, c.name AS column_name
FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id JOIN sys.columns AS c ON c.object_id = t.object_id`,
  );
}

/** A column the scrub rewrites: its name, and how its values are read and written back. */
export interface ScrubColumn {
  name: string;
  baseType: string;
  maxChars: number | null;
  nullable: boolean;
}

const TEXT_TYPES = new Set(['nvarchar', 'varchar', 'nchar', 'char', 'text', 'ntext', 'xml']);
export const isRewritableType = (baseType: string) => TEXT_TYPES.has(baseType);
/** Types whose values can hold text: every text type and sql_variant (which may hold one). */
export const canHoldText = (baseType: string) => TEXT_TYPES.has(baseType) || baseType === 'sql_variant';

/**
 * Keys the scrub walks in ranges: their text form (CONVERT to nvarchar) sorts and converts back
 * exactly. Other keys (dates, floats…) or none: the table is rewritten in one statement.
 */
export const RANGE_KEY_TYPES = new Set(['int', 'bigint', 'smallint', 'tinyint', 'nvarchar', 'varchar', 'nchar', 'char']);

/**
 * The batch's key range: the largest key among the next @n keys after @lo (keys need not be
 * unique: the range takes every row of its keys). Keys travel as text; SQL Server converts @lo
 * to the key's type (a type of higher precedence) for the seek.
 */
export function tableBatchBound(t: TableRef, key: string, batchSize: number, lastKey: string | null): Batch {
  const k = bracket(key);
  const params: Record<string, Param> = { n: int(clampBatchSize(batchSize)) };
  let where = ` WHERE ${k} IS NOT NULL`;
  if (lastKey !== null) {
    params.lo = str(lastKey);
    where = ` WHERE ${k} > @lo`;
  }
  return batch(
    lastKey === null ? 'scrub-bound-first' : 'scrub-bound-next',
    `
SELECT CONVERT(nvarchar(4000), MAX(s.k)) AS hi, COUNT(*) AS n
FROM (SELECT TOP (@n) ${k} AS k FROM ${tableSql(t)}${where} ORDER BY ${k}) AS s`,
    params,
  );
}

/** Where a batch of `tableScrub` applies: a key range, the rows whose key is NULL, or the whole table. */
export type ScrubRange = { kind: 'range'; key: string; lo: string | null; hi: string } | { kind: 'null-key'; key: string } | { kind: 'all' };

/**
 * One batch over a table: every rewritable column through the rewrite function, on the rows of
 * the range where some column holds an "at" and the rewrite changes it (compared bytewise, so a
 * case-only change counts). An xml value whose rewrite is not well-formed is left for the
 * verification to name. The table's enabled triggers are disabled around the UPDATE, in the
 * batch's transaction: an audit trigger would copy the real addresses elsewhere.
 */
export function tableScrub(t: TableRef, columns: ScrubColumn[], sandbox: string, range: ScrubRange, triggers: string[] = []): Batch {
  if (columns.length === 0) throw new Error(`table ${t.schema}.${t.name}: no column to scrub`);
  const params: Record<string, Param> = { sandbox: str(checkMailDomain(sandbox)) };
  const applies: string[] = [];
  const sets: string[] = [];
  const changed: string[] = [];
  columns.forEach((c, i) => {
    const col = `t.${bracket(c.name)}`;
    params[`maxlen${i}`] = int(c.maxChars);
    params[`nullable${i}`] = bit(c.nullable);
    applies.push(`CROSS APPLY tenant_clone.rewrite_emails(CAST(${col} AS nvarchar(max)), @sandbox, @maxlen${i}, @nullable${i}) AS r${i}`);
    const value = c.baseType === 'xml' ? `COALESCE(TRY_CAST(r${i}.value AS xml), ${col})` : `r${i}.value`;
    sets.push(`${bracket(c.name)} = ${value}`);
    changed.push(
      `(${col} IS NOT NULL AND (r${i}.value IS NULL OR CAST(r${i}.value AS varbinary(max)) <> CAST(CAST(${col} AS nvarchar(max)) AS varbinary(max))))`,
    );
  });
  let where = '1 = 1';
  if (range.kind === 'range') {
    params.hi = str(range.hi);
    where = `t.${bracket(range.key)} <= @hi`;
    if (range.lo !== null) {
      params.lo = str(range.lo);
      where = `t.${bracket(range.key)} > @lo AND ${where}`;
    }
  } else if (range.kind === 'null-key') {
    where = `t.${bracket(range.key)} IS NULL`;
  }
  const off = triggers.map((tr) => `DISABLE TRIGGER ${bracket(tr)} ON ${tableSql(t)};\n`).join('');
  const on = triggers.map((tr) => `\nENABLE TRIGGER ${bracket(tr)} ON ${tableSql(t)};`).join('');
  return batch(
    `scrub-table-${range.kind}${range.kind === 'range' && range.lo === null ? '-first' : ''}${triggers.length ? '-triggers' : ''}`,
    `
${off}UPDATE t SET ${sets.join(', ')}
FROM ${tableSql(t)} AS t
${applies.join('\n')}
WHERE ${where}
  AND (${changed.join(' OR ')});${on}`,
    params,
  );
}

/**
 * Independent verification of one column: its text with every "at" form made plain is cut into
 * tokens on the separators (TRANSLATE to spaces, STRING_SPLIT); a token holding an @ fails
 * unless it is a handle or its only @ is followed by exactly the sandbox domain. It never calls
 * the rewrite function, so a bug there cannot hide itself.
 */
export function foreignTokens(colExpr: string): string {
  return `SELECT s.value AS value FROM STRING_SPLIT(TRANSLATE(${plainAt(colExpr)}, @seps, @spaces), N' ') AS s
    WHERE CHARINDEX(N'@', s.value) > 0
      AND NOT (LEFT(s.value, 1) = N'@' AND CHARINDEX(N'@', s.value, 2) = 0 AND s.value NOT LIKE N'%[.%&${'\uFF0E\u3002\uFF61'}]%')
      AND NOT (DATALENGTH(s.value) / 2 - DATALENGTH(REPLACE(s.value COLLATE Latin1_General_BIN2, N'@', N'')) / 2 = 1
               AND LOWER(RIGHT(s.value, CHARINDEX(N'@', REVERSE(s.value)) - 1)) COLLATE Latin1_General_BIN2 = @sandbox)`;
}

/** Cheap test for any "at" form, before the tokens are cut. */
const anyAt = (col: string) =>
  `(${col} LIKE N'%@%' OR ${col} LIKE N'%[%]40%' OR ${col} LIKE N'%&#%' OR ${col} LIKE N'%\\u0040%' OR ${col} LIKE N'%' + NCHAR(65312) + N'%')`;

function tokenParams(sandbox: string): Record<string, Param> {
  const seps = SEPARATOR_CODES.map((c) => String.fromCharCode(c)).join('');
  return { sandbox: str(checkMailDomain(sandbox)), seps: str(seps), spaces: str(' '.repeat(seps.length)) };
}

const castText = (column: string) => `CAST(t.${bracket(column)} AS nvarchar(max))`;

export function verifyColumn(t: TableRef, column: string, sandbox: string): Batch {
  const v = castText(column);
  return batch(
    'verify-column',
    `
SELECT COUNT_BIG(*) AS n,
       (SELECT TOP (1) x.value FROM ${tableSql(t)} AS t CROSS APPLY (${foreignTokens(v)}) AS x WHERE ${anyAt(v)}) AS example
FROM ${tableSql(t)} AS t
WHERE ${anyAt(v)} AND EXISTS (${foreignTokens(v)})`,
    tokenParams(sandbox),
  );
}

/** Values holding an address (with a local part) at exactly @domain. */
export function countAtDomain(t: TableRef, column: string, domain: string): Batch {
  const v = castText(column);
  return batch(
    'count-at-domain',
    `
SELECT COUNT_BIG(*) AS n FROM ${tableSql(t)} AS t
WHERE ${anyAt(v)} AND EXISTS (
  SELECT 1 FROM STRING_SPLIT(TRANSLATE(${plainAt(v)}, @seps, @spaces), N' ') AS s
  WHERE CHARINDEX(N'@', s.value) > 1 AND LOWER(RIGHT(s.value, CHARINDEX(N'@', REVERSE(s.value)) - 1)) COLLATE Latin1_General_BIN2 = @sandbox)`,
    tokenParams(domain),
  );
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
