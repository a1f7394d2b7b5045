/**
 * Keyset-batched, set-based e-mail scrub and its independent verification. Each batch is one
 * transaction: find the batch's upper key, one UPDATE over the key range through the inline
 * rewrite function, and (with a runId) the checkpoint row, all committed together.
 */
import type sql from 'mssql';
import type { ScrubCheckpoint, ScrubOptions, ScrubVerification } from '../port';
import type { SanitizationProfile } from '../profile';
import { columnInfo, requireTextColumn, type ColumnInfo } from './columns';
import { inTransaction, rows, run } from './connections';
import { abortError } from './progress';
import * as ts from './tsql/scrub';
import { runKeysetScrub, startingCheckpoint } from '../keyset-scrub';
import { checkMailDomain } from './tsql/identifiers';

const MAX_SAMPLES = 5;

/** Schema, checkpoint table and rewrite function, serialised so concurrent installs do not clash. */
export async function installRewrite(pool: sql.ConnectionPool): Promise<void> {
  await inTransaction(pool, async (tx) => {
    await run(tx, ts.installLock());
    await run(tx, ts.installSchema());
    await run(tx, ts.installRewriteFunction());
  });
}

export async function scrubEmails(pool: sql.ConnectionPool, profile: SanitizationProfile, opts: ScrubOptions): Promise<ScrubCheckpoint> {
  const sandbox = checkMailDomain(opts.sandboxDomain);
  const columns = profile.emails.columns;
  // The profile's size is tuned for PostgreSQL; here it is clamped below lock escalation.
  const batchSize = ts.clampBatchSize(opts.batchSize ?? profile.emails.batchSize);

  const infos: ColumnInfo[] = [];
  for (const c of columns) {
    const info = await columnInfo(pool, c.table, c.column);
    requireTextColumn(info);
    const key = await columnInfo(pool, c.table, c.key);
    if (key.nullable && (await rows(pool, ts.keyNulls(c.table, c.key))).length > 0) {
      throw new Error(`key column "${c.table}.${c.key}" holds NULLs: it cannot drive a keyset scrub`);
    }
    infos.push(info);
  }
  await installRewrite(pool);
  const stored = opts.runId ? await storedCheckpoint(pool, opts.runId) : null;
  const start = startingCheckpoint(stored ?? opts.checkpoint, columns.length);

  const sizes: number[] = [];
  for (const c of columns) sizes.push(Number((await rows<{ n: string | number }>(pool, ts.rowCount(c.table)))[0].n));
  const done = await runKeysetScrub({
    columns,
    sizes,
    start,
    batchSize,
    opts,
    aborted: (signal) => abortError(signal, 'e-mail scrub'),
    batch: (ci, lastKey, after) => {
      const { table, column, key } = columns[ci];
      const info = infos[ci];
      return inTransaction(pool, async (tx) => {
        const [bound] = await rows<{ hi: string | null; n: number }>(tx, ts.batchBound(table, key, batchSize, lastKey));
        if (bound.n === 0 || bound.hi === null) return { n: 0, hi: lastKey, updated: 0 };
        const upd = await run(tx, ts.scrubRange(table, column, key, { sandbox, maxChars: info.maxChars, nullable: info.nullable, lo: lastKey, hi: bound.hi }));
        const updated = upd.rowsAffected.reduce((x, y) => x + y, 0);
        if (opts.runId) await run(tx, ts.saveCheckpoint(opts.runId, JSON.stringify(after(bound.hi, updated))));
        return { n: bound.n, hi: bound.hi, updated };
      });
    },
  });
  if (opts.runId) await run(pool, ts.saveCheckpoint(opts.runId, JSON.stringify(done)));
  return done;
}

async function storedCheckpoint(pool: sql.ConnectionPool, runId: string): Promise<ScrubCheckpoint | null> {
  const [r] = await rows<{ state_json: string }>(pool, ts.loadCheckpoint(runId));
  return r ? (JSON.parse(r.state_json) as ScrubCheckpoint) : null;
}

export async function verifyEmails(pool: sql.ConnectionPool, profile: SanitizationProfile, sandboxDomain: string): Promise<ScrubVerification> {
  const sandbox = checkMailDomain(sandboxDomain);
  const remaining: Record<string, number> = {};
  const samples: string[] = [];
  let total = 0;
  for (const c of profile.emails.columns) {
    requireTextColumn(await columnInfo(pool, c.table, c.column));
    const [r] = await rows<{ n: string | number }>(pool, ts.verifyCount(c.table, c.column, sandbox));
    const n = Number(r.n);
    remaining[`${c.table}.${c.column}`] = n;
    total += n;
    if (n > 0 && samples.length < MAX_SAMPLES) {
      for (const s of await rows<{ v: string }>(pool, ts.verifySamples(c.table, c.column, sandbox, MAX_SAMPLES))) {
        if (samples.length < MAX_SAMPLES) samples.push(`${c.table}.${c.column}: ${s.v}`);
      }
    }
  }
  return { remaining, total, samples };
}
