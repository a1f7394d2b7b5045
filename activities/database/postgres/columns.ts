/** Catalog look-ups for the profile's tables and columns, with errors naming what is missing. */
import type { Pool, PoolClient } from 'pg';
import { checkIdentifier } from './identifiers';

export interface ColumnInfo {
  table: string;
  column: string;
  dataType: string;
  /** Declared length of a character column; null when unlimited. */
  maxLength: number | null;
  nullable: boolean;
}

export async function columnInfo(db: Pool | PoolClient, table: string, column: string): Promise<ColumnInfo> {
  checkIdentifier('table name', table);
  checkIdentifier('column name', column);
  const r = await db.query<{ data_type: string; character_maximum_length: number | null; is_nullable: string }>(
    `SELECT data_type, character_maximum_length, is_nullable FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2`,
    [table, column],
  );
  if (r.rowCount === 0) {
    const t = await db.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $1`, [table]);
    if (t.rowCount === 0) throw new Error(`table "${table}" does not exist`);
    throw new Error(`column "${table}.${column}" does not exist`);
  }
  const row = r.rows[0];
  return { table, column, dataType: row.data_type, maxLength: row.character_maximum_length, nullable: row.is_nullable === 'YES' };
}

export async function requireTable(db: Pool | PoolClient, table: string): Promise<void> {
  checkIdentifier('table name', table);
  const t = await db.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $1`, [table]);
  if (t.rowCount === 0) throw new Error(`table "${table}" does not exist`);
}
