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

function checkCheckpoint(cp: ScrubCheckpoint, columns: number): ScrubCheckpoint {
  const ok =
    Number.isInteger(cp.column) && cp.column >= 0 && cp.column <= columns &&
    (cp.lastKey === null || typeof cp.lastKey === 'string') &&
    Number.isInteger(cp.rewritten) && cp.rewritten >= 0 && Number.isInteger(cp.batches) && cp.batches >= 0;
  if (!ok) throw new Error(`invalid scrub checkpoint ${JSON.stringify(cp)} for a profile with ${columns} e-mail columns`);
  return { ...cp };
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
  const cp = checkCheckpoint(stored ?? opts.checkpoint ?? { column: 0, lastKey: null, rewritten: 0, batches: 0 }, columns.length);

  const sizes: number[] = [];
  for (const c of columns) sizes.push(Number((await rows<{ n: string | number }>(pool, ts.rowCount(c.table)))[0].n));
  const totalRows = Math.max(1, sizes.reduce((a, b) => a + b, 0));

  for (let ci = cp.column; ci < columns.length; ci++) {
    const { table, column, key } = columns[ci];
    const info = infos[ci];
    let lastKey = ci === cp.column ? cp.lastKey : null;
    let scannedHere = 0;
    const doneBefore = sizes.slice(0, ci).reduce((a, b) => a + b, 0);
    for (;;) {
      if (opts.signal?.aborted) throw abortError(opts.signal, 'e-mail scrub');
      const step = await inTransaction(pool, async (tx) => {
        const [bound] = await rows<{ hi: string | null; n: number }>(tx, ts.batchBound(table, key, batchSize, lastKey));
        if (bound.n === 0 || bound.hi === null) return { n: 0, hi: lastKey, updated: 0 };
        const upd = await run(tx, ts.scrubRange(table, column, key, { sandbox, maxChars: info.maxChars, nullable: info.nullable, lo: lastKey, hi: bound.hi }));
        const updated = upd.rowsAffected.reduce((a, b) => a + b, 0);
        if (opts.runId) {
          const next: ScrubCheckpoint = { column: ci, lastKey: bound.hi, rewritten: cp.rewritten + updated, batches: cp.batches + 1 };
          await run(tx, ts.saveCheckpoint(opts.runId, JSON.stringify(next)));
        }
        return { n: bound.n, hi: bound.hi, updated };
      });
      if (step.n === 0) break;
      lastKey = step.hi;
      scannedHere += step.n;
      cp.column = ci;
      cp.lastKey = lastKey;
      cp.rewritten += step.updated;
      cp.batches += 1;
      const percent = Math.min(99, Math.floor((100 * (doneBefore + Math.min(scannedHere, sizes[ci]))) / totalRows));
      opts.onBatch?.({ ...cp }, { percent, detail: `${table}.${column}: ${cp.rewritten} values rewritten in ${cp.batches} batches (batch size ${batchSize})` });
      if (step.n < batchSize) break;
    }
  }
  const done: ScrubCheckpoint = { column: columns.length, lastKey: null, rewritten: cp.rewritten, batches: cp.batches };
  if (opts.runId) await run(pool, ts.saveCheckpoint(opts.runId, JSON.stringify(done)));
  return done;
}

async function storedCheckpoint(pool: sql.ConnectionPool, runId: string): Promise<ScrubCheckpoint | null> {
  const [r] = await rows<{ checkpoint: string }>(pool, ts.loadCheckpoint(runId));
  return r ? (JSON.parse(r.checkpoint) as ScrubCheckpoint) : null;
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
