/**
 * The profile's data rules (disable, clear, delete, update, URL rewrite) and the tenant
 * identity. Every UPDATE touches only rows whose values differ from the wanted ones, so a
 * second run changes nothing and reports zero rows. String comparisons use a binary collation:
 * PostgreSQL compares case-sensitively, and so must this engine, whatever the database's
 * collation. Values are always parameters; only a NULL to set is written as the NULL keyword
 * (an nvarchar NULL parameter cannot be converted implicitly to every column type).
 */
import type { TenantIdentity } from '../../port';
import { batch, int, bit, scalar, str, type Batch, type Param } from './batch';
import { dboTable, quoteIdent } from './identifiers';

type Scalar = string | number | boolean | null;

function equals(col: string, p: string, value: Scalar): string {
  return typeof value === 'string' ? `${col} = ${p} COLLATE Latin1_General_BIN2` : `${col} = ${p}`;
}

function whereClause(where: Record<string, Scalar>, params: Record<string, Param>): string {
  const parts = Object.entries(where).map(([column, value], i) => {
    const col = quoteIdent('column name', column);
    if (value === null) return `${col} IS NULL`;
    params[`w${i}`] = scalar(value);
    return equals(col, `@w${i}`, value);
  });
  return parts.length ? parts.join(' AND ') : '1 = 1';
}

/** UPDATE table SET … WHERE conditions AND (some column differs). */
export function applySet(entry: { table: string; where: Record<string, Scalar>; set: Record<string, Scalar> }, name = 'apply-set'): Batch | null {
  const sets = Object.entries(entry.set);
  if (sets.length === 0) return null;
  const params: Record<string, Param> = {};
  const assignments: string[] = [];
  const differs: string[] = [];
  sets.forEach(([column, value], i) => {
    const col = quoteIdent('column name', column);
    if (value === null) {
      assignments.push(`${col} = NULL`);
      differs.push(`${col} IS NOT NULL`);
      return;
    }
    params[`s${i}`] = scalar(value);
    assignments.push(`${col} = @s${i}`);
    differs.push(`${col} IS NULL OR NOT (${equals(col, `@s${i}`, value)})`);
  });
  const where = whereClause(entry.where, params);
  return batch(
    name,
    `UPDATE ${dboTable(entry.table)} SET ${assignments.join(', ')} WHERE (${where}) AND (${differs.map((d) => `(${d})`).join(' OR ')})`,
    params,
  );
}

export function clearColumns(table: string, columns: string[]): Batch {
  const cols = columns.map((c) => quoteIdent('column name', c));
  return batch(
    'clear-columns',
    `UPDATE ${dboTable(table)} SET ${cols.map((c) => `${c} = NULL`).join(', ')} WHERE ${cols.map((c) => `${c} IS NOT NULL`).join(' OR ')}`,
  );
}

export function deleteRows(table: string, where: Record<string, Scalar>): Batch {
  const params: Record<string, Param> = {};
  return batch('delete-rows', `DELETE FROM ${dboTable(table)} WHERE ${whereClause(where, params)}`, params);
}

/** Character length that counts trailing spaces (LEN does not). */
export function charLen(expr: string): string {
  return `(LEN(${expr} + N'x') - 1)`;
}

/**
 * Values starting with the production base URL (case-insensitive, then end, '/', '?' or '#')
 * get the target's base URL. Too long for the column: NULL, or cut for a NOT NULL column —
 * a broken link is harmless, a production one is not.
 */
export function rewriteUrls(table: string, column: string, from: string, to: string, maxChars: number | null, nullable: boolean): Batch {
  const col = quoteIdent('column name', column);
  const value = `CAST(${col} AS nvarchar(max))`;
  const rewritten = `(@to + SUBSTRING(${value}, @n + 1, ${charLen(value)}))`;
  const fitted = `CASE WHEN @maxlen IS NULL OR ${charLen(rewritten)} <= @maxlen THEN ${rewritten} WHEN @nullable = 1 THEN NULL ELSE LEFT(${rewritten}, @maxlen) END`;
  return batch(
    'rewrite-urls',
    `
UPDATE ${dboTable(table)} SET ${col} = ${fitted}
WHERE LOWER(LEFT(${value}, @n)) COLLATE Latin1_General_BIN2 = LOWER(@from) COLLATE Latin1_General_BIN2
  AND (${charLen(value)} = @n OR SUBSTRING(${value}, @n + 1, 1) IN (N'/', N'?', N'#'))`,
    {
      from: str(from),
      to: str(to),
      n: int(from.length),
      maxlen: int(maxChars),
      nullable: bit(nullable),
    },
  );
}

export function setIdentity(identity: TenantIdentity, baseUrl: string): Batch {
  const cols: [string, string][] = [
    ['tenant_id', 't'],
    ['company_name', 'c'],
    ['serial', 's'],
    ['base_url', 'u'],
  ];
  return batch(
    'set-identity',
    `
UPDATE [dbo].[company_info] SET ${cols.map(([c, p]) => `[${c}] = @${p}`).join(', ')}
WHERE ${cols.map(([c, p]) => `([${c}] IS NULL OR NOT ([${c}] = @${p} COLLATE Latin1_General_BIN2))`).join(' OR ')}`,
    {
      t: str(identity.tenantId),
      c: str(identity.companyName),
      s: str(identity.serial),
      u: str(baseUrl),
    },
  );
}

export function countEnabled(table: string, enabledColumn: string): Batch {
  return batch('count-enabled-tasks', `SELECT COUNT_BIG(*) AS n FROM ${dboTable(table)} WHERE ${quoteIdent('column name', enabledColumn)} = 1`);
}
