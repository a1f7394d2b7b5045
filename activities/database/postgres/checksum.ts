/** Row count and content hash of every table in `public`, ordered so the hash is stable. */
import type { Pool } from 'pg';
import type { TableChecksum } from '../port';

export async function checksum(pool: Pool): Promise<TableChecksum[]> {
  const tables = await pool.query<{ name: string; quoted: string }>(`SELECT tablename AS name, quote_ident(tablename) AS quoted FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename COLLATE "C"`);
  const out: TableChecksum[] = [];
  for (const { name, quoted } of tables.rows) {
    const r = await pool.query<{ n: string; md5: string }>(
      `SELECT count(*)::text AS n, md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text COLLATE "C"), '')) AS md5 FROM public.${quoted} r`,
    );
    out.push({ table: name, rows: Number(r.rows[0].n), md5: r.rows[0].md5 });
  }
  return out;
}
