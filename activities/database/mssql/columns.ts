/** Column facts from sys.columns, with errors that name the missing table or column. */
import type sql from 'mssql';
import { rows } from './connections';
import { columnInfo as columnInfoBatch } from './tsql/scrub';

export interface ColumnInfo {
  table: string;
  column: string;
  typeName: string;
  /** Declared length in characters; null = (max) or not a length-limited type. */
  maxChars: number | null;
  nullable: boolean;
}

const TEXT_TYPES = new Set(['nvarchar', 'varchar', 'nchar', 'char']);

export async function columnInfo(pool: sql.ConnectionPool, table: string, column: string): Promise<ColumnInfo> {
  const [r] = await rows<{ type_name: string | null; max_chars: number | null; nullable: boolean | null; table_exists: number }>(
    pool,
    columnInfoBatch(table, column),
  );
  if (!r || r.table_exists === 0) throw new Error(`table "${table}" does not exist`);
  if (r.type_name === null) throw new Error(`column "${table}.${column}" does not exist`);
  const lengthLimited = TEXT_TYPES.has(r.type_name);
  return { table, column, typeName: r.type_name, maxChars: lengthLimited ? r.max_chars : null, nullable: r.nullable === true };
}

/** The row of the column query carries table_exists whatever column is asked for. */
export async function requireTable(pool: sql.ConnectionPool, table: string): Promise<void> {
  const [r] = await rows<{ table_exists: number }>(pool, columnInfoBatch(table, 'id'));
  if (!r || r.table_exists === 0) throw new Error(`table "${table}" does not exist`);
}
