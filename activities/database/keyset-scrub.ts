/**
 * The engine-neutral half of the e-mail scrub: the walk over the profile's columns in keyset
 * batches, the checkpoint after each batch and the progress. Each engine supplies one batch
 * (its SQL, in one transaction, with the checkpoint stored alongside when it keeps one).
 */
import type { ScrubCheckpoint, ScrubOptions } from './port';

export interface ScrubBatchResult {
  /** Keys in the batch (0 = the column is done). */
  n: number;
  /** Highest key of the batch, as text. */
  hi: string | null;
  /** Values the batch rewrote. */
  updated: number;
}

export interface KeysetScrub {
  columns: { table: string; column: string }[];
  /** Rows per column's table, for progress. */
  sizes: number[];
  start: ScrubCheckpoint;
  batchSize: number;
  opts: Pick<ScrubOptions, 'signal' | 'onBatch'>;
  /**
   * Run one batch of column `ci` after `lastKey`. `after` gives the checkpoint that holds once
   * this batch is committed, for an engine that stores it in the same transaction.
   */
  batch(ci: number, lastKey: string | null, after: (hi: string, updated: number) => ScrubCheckpoint): Promise<ScrubBatchResult>;
  aborted(signal: AbortSignal): Error;
}

/** The checkpoint to start from: validated, so a corrupt one fails before anything is rewritten. */
export function startingCheckpoint(candidate: ScrubCheckpoint | null | undefined, columns: number): ScrubCheckpoint {
  const cp = candidate ?? { column: 0, lastKey: null, rewritten: 0, batches: 0 };
  const ok =
    Number.isInteger(cp.column) && cp.column >= 0 && cp.column <= columns &&
    (cp.lastKey === null || typeof cp.lastKey === 'string') &&
    Number.isInteger(cp.rewritten) && cp.rewritten >= 0 && Number.isInteger(cp.batches) && cp.batches >= 0;
  if (!ok) throw new Error(`invalid scrub checkpoint ${JSON.stringify(cp)} for a profile with ${columns} e-mail columns`);
  return { ...cp };
}

/** Walk every column from the start checkpoint; returns the final (all columns done) checkpoint. */
export async function runKeysetScrub(s: KeysetScrub): Promise<ScrubCheckpoint> {
  const cp = { ...s.start };
  const totalRows = Math.max(1, s.sizes.reduce((a, b) => a + b, 0));
  for (let ci = cp.column; ci < s.columns.length; ci++) {
    const { table, column } = s.columns[ci];
    let lastKey = ci === cp.column ? cp.lastKey : null;
    let scannedHere = 0;
    const doneBefore = s.sizes.slice(0, ci).reduce((a, b) => a + b, 0);
    for (;;) {
      if (s.opts.signal?.aborted) throw s.aborted(s.opts.signal);
      const step = await s.batch(ci, lastKey, (hi, updated) => ({ column: ci, lastKey: hi, rewritten: cp.rewritten + updated, batches: cp.batches + 1 }));
      if (step.n === 0 || step.hi === null) break;
      lastKey = step.hi;
      scannedHere += step.n;
      cp.column = ci;
      cp.lastKey = lastKey;
      cp.rewritten += step.updated;
      cp.batches += 1;
      const percent = Math.min(99, Math.floor((100 * (doneBefore + Math.min(scannedHere, s.sizes[ci]))) / totalRows));
      s.opts.onBatch?.({ ...cp }, { percent, detail: `${table}.${column}: ${cp.rewritten} values rewritten in ${cp.batches} batches` });
      if (step.n < s.batchSize) break;
    }
  }
  return { column: s.columns.length, lastKey: null, rewritten: cp.rewritten, batches: cp.batches };
}
