/**
 * The profile's data rules (clear, delete, update, disable, URL rewrite) and the tenant
 * identity, applied as one transaction per step. Every UPDATE only touches rows whose values
 * differ from the wanted ones, so a second run changes nothing and reports zero rows.
 */
import { checkBaseUrl } from '../input-checks';
import type { Pool, PoolClient } from 'pg';
import type { TenantIdentity } from '../port';
import type { SanitizationProfile } from '../profile';
import { columnInfo, requireTable } from './columns';
import { inTransaction } from './connections';
import { quoteIdent, checkIdentifier } from './identifiers';

type Scalar = string | number | boolean | null;
type Counts = Record<string, number>;

function add(counts: Counts, table: string, n: number | null): void {
  counts[table] = (counts[table] ?? 0) + (n ?? 0);
}

function whereClause(where: Record<string, Scalar>, params: unknown[]): string {
  const parts = Object.entries(where).map(([col, value]) => {
    params.push(value);
    return `${quoteIdent('column name', col)} = $${params.length}`;
  });
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

async function checkColumns(c: PoolClient, table: string, columns: string[]): Promise<void> {
  await requireTable(c, table);
  for (const col of columns) await columnInfo(c, table, col);
}

/** UPDATE table SET … WHERE conditions, only rows that would change. */
export async function applySet(c: PoolClient, entry: { table: string; where: Record<string, Scalar>; set: Record<string, Scalar> }): Promise<number> {
  const sets = Object.entries(entry.set);
  if (sets.length === 0) return 0;
  await checkColumns(c, entry.table, [...Object.keys(entry.where), ...Object.keys(entry.set)]);
  const params: unknown[] = [];
  const assignments: string[] = [];
  const differs: string[] = [];
  for (const [col, value] of sets) {
    params.push(value);
    const q = quoteIdent('column name', col);
    assignments.push(`${q} = $${params.length}`);
    differs.push(`${q} IS DISTINCT FROM $${params.length}`);
  }
  const where = whereClause(entry.where, params);
  const r = await c.query(
    `UPDATE ${quoteIdent('table name', entry.table)} SET ${assignments.join(', ')} WHERE (${where}) AND (${differs.join(' OR ')})`,
    params,
  );
  return r.rowCount ?? 0;
}

/**
 * Rewrite values that start with the production base URL (case-insensitive, followed by the
 * end, '/', '?' or '#') to the target's base URL. A result too long for the column becomes
 * NULL (or is cut for a NOT NULL column): a broken link is harmless, a production one is not.
 */
async function rewriteUrls(c: PoolClient, table: string, column: string, from: string, to: string): Promise<number> {
  const info = await columnInfo(c, table, column);
  const t = quoteIdent('table name', table);
  const col = quoteIdent('column name', column);
  const rewritten = `$2 || substr(${col}, $3 + 1)`;
  const fitted =
    info.maxLength === null
      ? rewritten
      : `CASE WHEN length(${rewritten}) <= ${info.maxLength} THEN ${rewritten} ELSE ${info.nullable ? 'NULL' : `left(${rewritten}, ${info.maxLength})`} END`;
  const r = await c.query(
    `UPDATE ${t} SET ${col} = ${fitted}
     WHERE lower(left(${col}, $3)) = lower($1) AND (length(${col}) = $3 OR substr(${col}, $3 + 1, 1) IN ('/', '?', '#'))`,
    [from, to, from.length],
  );
  return r.rowCount ?? 0;
}

function checkIdentity(identity: TenantIdentity): void {
  if (!/^[a-z][a-z0-9-]{1,40}$/.test(identity.tenantId ?? '')) throw new Error(`invalid tenant id ${JSON.stringify(identity.tenantId)}`);
  if (!identity.companyName?.trim()) throw new Error(`invalid company name ${JSON.stringify(identity.companyName)}: must not be empty`);
  if (!identity.serial?.trim()) throw new Error(`invalid serial ${JSON.stringify(identity.serial)}: must not be empty`);
  checkBaseUrl('target base URL', identity.baseUrl);
}

export async function prepareDatabase(pool: Pool, identity: TenantIdentity, profile: SanitizationProfile, productionBaseUrl: string): Promise<Counts> {
  checkIdentity(identity);
  const from = checkBaseUrl('production base URL', productionBaseUrl);
  const to = checkBaseUrl('target base URL', identity.baseUrl);
  return inTransaction(pool, async (c) => {
    const counts: Counts = {};
    const r = await c.query(
      `UPDATE company_info SET tenant_id = $1::text, company_name = $2::text, serial = $3::text, base_url = $4::text
       WHERE (tenant_id, company_name, serial, base_url) IS DISTINCT FROM ($1::text, $2::text, $3::text, $4::text)`,
      [identity.tenantId, identity.companyName, identity.serial, to],
    );
    add(counts, 'company_info', r.rowCount);
    if (from.toLowerCase() !== to.toLowerCase()) {
      for (const u of profile.urls) add(counts, u.table, await rewriteUrls(c, u.table, u.column, from, to));
    }
    for (const entry of profile.clear) {
      await checkColumns(c, entry.table, entry.columns);
      const cols = entry.columns.map((col) => quoteIdent('column name', col));
      const res = await c.query(
        `UPDATE ${quoteIdent('table name', entry.table)} SET ${cols.map((q) => `${q} = NULL`).join(', ')} WHERE ${cols.map((q) => `${q} IS NOT NULL`).join(' OR ')}`,
      );
      add(counts, entry.table, res.rowCount);
    }
    for (const entry of profile.deleteRows) {
      await checkColumns(c, entry.table, Object.keys(entry.where));
      const params: unknown[] = [];
      const res = await c.query(`DELETE FROM ${quoteIdent('table name', entry.table)} WHERE ${whereClause(entry.where, params)}`, params);
      add(counts, entry.table, res.rowCount);
    }
    for (const entry of profile.update) add(counts, entry.table, await applySet(c, entry));
    return counts;
  });
}

export async function disableScheduledTasks(pool: Pool, profile: SanitizationProfile): Promise<Counts> {
  return inTransaction(pool, async (c) => {
    const counts: Counts = {};
    for (const entry of profile.disable) add(counts, entry.table, await applySet(c, entry));
    return counts;
  });
}

export async function countEnabledScheduledTasks(pool: Pool, profile: SanitizationProfile): Promise<number> {
  const { table, enabledColumn } = profile.scheduledTasks;
  const info = await columnInfo(pool, checkIdentifier('table name', table), enabledColumn);
  if (info.dataType !== 'boolean') throw new Error(`column "${table}.${enabledColumn}" is ${info.dataType}, expected boolean`);
  const r = await pool.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${quoteIdent('table name', table)} WHERE ${quoteIdent('column name', enabledColumn)} IS TRUE`,
  );
  return Number(r.rows[0].n);
}
