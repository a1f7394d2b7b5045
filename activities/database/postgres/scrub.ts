/**
 * Keyset-batched, set-based e-mail scrub. Each batch is one transaction: find the batch's upper
 * key, then one UPDATE over the key range that rewrites only values holding a foreign address.
 * The checkpoint after each commit lets a retried activity resume where the last one stopped.
 */
import type { Pool, PoolClient } from 'pg';
import type { ScrubCheckpoint, ScrubOptions } from '../port';
import type { SanitizationProfile } from '../profile';
import { abortError } from './child-process';
import { columnInfo, requireTextColumn, type ColumnInfo } from './columns';
import { inTransaction } from './connections';
import { checkMailDomain, domainRegex, quoteIdent } from './identifiers';
import { INSTALL_SQL, needsRewritePattern } from './scrub-sql';
import { runKeysetScrub, startingCheckpoint } from '../keyset-scrub';

export async function installRewriteFunctions(pool: Pool): Promise<void> {
  // Serialised with an advisory lock: concurrent CREATE OR REPLACE of one function can fail.
  await inTransaction(pool, async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('tenant_clone.install'))`);
    await c.query(INSTALL_SQL);
  });
}

export async function scrubEmails(pool: Pool, profile: SanitizationProfile, opts: ScrubOptions): Promise<ScrubCheckpoint> {
  const sandbox = checkMailDomain(opts.sandboxDomain);
  const columns = profile.emails.columns;
  const batchSize = opts.batchSize ?? profile.emails.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`invalid scrub batch size ${JSON.stringify(opts.batchSize)}: must be a positive integer`);
  await installRewriteFunctions(pool);
  // A checkpoint committed with a batch is never behind the heartbeated one, so it wins; one
  // left by another run (e.g. copied along from a source that was itself a clone) is ignored.
  const stored = opts.runId ? await storedCheckpoint(pool, opts.runId) : null;
  const start = startingCheckpoint(stored ?? opts.checkpoint, columns.length);

  // Validate every column up front so a typo fails before anything is rewritten.
  const infos: ColumnInfo[] = [];
  for (const c of columns) {
    const info = await columnInfo(pool, c.table, c.column);
    requireTextColumn(info);
    const key = await columnInfo(pool, c.table, c.key);
    if (key.nullable) {
      const nulls = await pool.query(`SELECT 1 FROM ${quoteIdent('table name', c.table)} WHERE ${quoteIdent('key column', c.key)} IS NULL LIMIT 1`);
      if ((nulls.rowCount ?? 0) > 0) throw new Error(`key column "${c.table}.${c.key}" holds NULLs: it cannot drive a keyset scrub`);
    }
    infos.push(info);
  }

  // Progress is by rows scanned against the tables' sizes (cheap and good enough to heartbeat).
  const sizes: number[] = [];
  for (const c of columns) {
    const r = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdent('table name', c.table)}`);
    sizes.push(Number(r.rows[0].n));
  }
  const pattern = needsRewritePattern(domainRegex(sandbox));

  const done = await runKeysetScrub({
    columns,
    sizes,
    start,
    batchSize,
    opts,
    aborted: (signal) => abortError(signal, 'e-mail scrub'),
    batch: (ci, lastKey, after) => {
      const { table, column, key } = columns[ci];
      const t = quoteIdent('table name', table);
      const col = quoteIdent('column name', column);
      const k = quoteIdent('key column', key);
      const info = infos[ci];
      return inTransaction(pool, async (c) => {
        const bound = lastKey === null
          ? await c.query<{ hi: string | null; n: string }>(`SELECT max(k)::text AS hi, count(*)::text AS n FROM (SELECT ${k} AS k FROM ${t} ORDER BY ${k} LIMIT $1) s`, [batchSize])
          : await c.query<{ hi: string | null; n: string }>(`SELECT max(k)::text AS hi, count(*)::text AS n FROM (SELECT ${k} AS k FROM ${t} WHERE ${k} > $1 ORDER BY ${k} LIMIT $2) s`, [lastKey, batchSize]);
        const n = Number(bound.rows[0].n);
        const hi = bound.rows[0].hi;
        if (n === 0 || hi === null) return { n: 0, hi: lastKey, updated: 0 };
        const range = lastKey === null ? `${k} <= $4` : `${k} > $5 AND ${k} <= $4`;
        const params: unknown[] = [sandbox, info.maxLength, info.nullable, hi, ...(lastKey === null ? [] : [lastKey]), pattern];
        const pat = `$${params.length}`;
        const upd = await c.query(
          `UPDATE ${t} SET ${col} = tenant_clone.rewrite_emails(${col}::text, $1, $2, $3) WHERE ${range} AND ${col} ~* ${pat}`,
          params,
        );
        const updated = upd.rowCount ?? 0;
        if (opts.runId) await saveCheckpoint(c, opts.runId, after(hi, updated));
        return { n, hi, updated };
      });
    },
  });
  if (opts.runId) await saveCheckpoint(pool, opts.runId, done);
  return done;
}

async function storedCheckpoint(pool: Pool, runId: string): Promise<ScrubCheckpoint | null> {
  const r = await pool.query<{ checkpoint: ScrubCheckpoint }>('SELECT checkpoint FROM tenant_clone.scrub_checkpoint WHERE id = 1 AND run_id = $1', [runId]);
  return r.rows[0]?.checkpoint ?? null;
}

async function saveCheckpoint(c: Pick<PoolClient, 'query'>, runId: string, cp: ScrubCheckpoint): Promise<void> {
  await c.query(
    `INSERT INTO tenant_clone.scrub_checkpoint (id, run_id, checkpoint, updated_at) VALUES (1, $1, $2, now())
     ON CONFLICT (id) DO UPDATE SET run_id = EXCLUDED.run_id, checkpoint = EXCLUDED.checkpoint, updated_at = now()`,
    [runId, JSON.stringify(cp)],
  );
}
