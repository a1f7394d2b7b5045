/**
 * Independent check after the scrub: split each value into tokens and look at the domain after
 * the last '@' of every token. It deliberately does not call the rewrite functions, so a bug in
 * the rewrite cannot hide itself.
 */
import type { Pool } from 'pg';
import type { ScrubVerification } from '../port';
import type { SanitizationProfile } from '../profile';
import { columnInfo, requireTextColumn } from './columns';
import { checkMailDomain, quoteIdent } from './identifiers';
import { SPLIT_PATTERN } from './scrub-sql';

const MAX_SAMPLES = 5;

export async function verifyEmails(pool: Pool, profile: SanitizationProfile, sandboxDomain: string): Promise<ScrubVerification> {
  const sandbox = checkMailDomain(sandboxDomain);
  const remaining: Record<string, number> = {};
  const samples: string[] = [];
  let total = 0;
  for (const c of profile.emails.columns) {
    requireTextColumn(await columnInfo(pool, c.table, c.column));
    const t = quoteIdent('table name', c.table);
    const col = quoteIdent('column name', c.column);
    const foreign = `strpos(${col}::text, '@') > 0 AND EXISTS (
        SELECT 1 FROM regexp_split_to_table(${col}::text, $2) AS tok
        WHERE strpos(tok, '@') > 0 AND lower(regexp_replace(tok, '^.*@', '')) <> $1)`;
    const r = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${t} WHERE ${foreign}`, [sandbox, SPLIT_PATTERN]);
    const n = Number(r.rows[0].n);
    remaining[`${c.table}.${c.column}`] = n;
    total += n;
    if (n > 0 && samples.length < MAX_SAMPLES) {
      const s = await pool.query<{ v: string }>(`SELECT ${col}::text AS v FROM ${t} WHERE ${foreign} LIMIT ${MAX_SAMPLES}`, [sandbox, SPLIT_PATTERN]);
      for (const row of s.rows) if (samples.length < MAX_SAMPLES) samples.push(`${c.table}.${c.column}: ${row.v}`);
    }
  }
  return { remaining, total, samples };
}
