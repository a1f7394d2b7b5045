/**
 * The tables and columns a sanitization profile names, checked against a tenant database
 * before a clone touches anything: a profile written for another schema version is refused by
 * name in `check-request` instead of failing halfway through the clone.
 */
import type { Pool } from 'pg';
import { missingNames } from '../address-findings';
import type { SanitizationProfile } from '../profile';

export async function missingProfileNames(pool: Pool, profile: SanitizationProfile): Promise<string[]> {
  const r = await pool.query<{ schema: string; table: string; column: string }>(
    `SELECT table_schema AS schema, table_name AS table, column_name AS column FROM information_schema.columns`,
  );
  return missingNames(profile, r.rows, 'public');
}
