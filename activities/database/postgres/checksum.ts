/**
 * Row count and content hash of every table in every schema (the tool's own helper schema
 * aside), ordered so the hash is stable. Tables outside `public` are named `schema.table`.
 */
import type { Pool } from 'pg';
import type { TableChecksum } from '../port';

export async function checksum(pool: Pool): Promise<TableChecksum[]> {
  const tables = await pool.query<{ name: string; quoted: string }>(
    `SELECT CASE WHEN schemaname = 'public' THEN tablename ELSE schemaname || '.' || tablename END AS name,
            format('%I.%I', schemaname, tablename) AS quoted
       FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'tenant_clone')
      ORDER BY schemaname COLLATE "C", tablename COLLATE "C"`,
  );
  const out: TableChecksum[] = [];
  for (const { name, quoted } of tables.rows) {
    const r = await pool.query<{ n: string; md5: string }>(
      `SELECT count(*)::text AS n, md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text COLLATE "C"), '')) AS md5 FROM ${quoted} r`,
    );
    out.push({ table: name, rows: Number(r.rows[0].n), md5: r.rows[0].md5 });
  }
  return out;
}
