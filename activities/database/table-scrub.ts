/**
 * The engine-neutral half of the e-mail scrub: the walk over every table found in the catalog,
 * batch after batch, the checkpoint after each batch and the progress. Each engine supplies one
 * batch (its SQL, in one transaction, with the checkpoint stored alongside) and says where a
 * batch ends as opaque text (PostgreSQL: a page; SQL Server: a key).
 */
import type { ScrubCheckpoint, ScrubOptions } from './port';

export interface ScrubBatchResult {
  /** Where the batch ended, as the engine resumes from it; null = the table is done. */
  after: string | null;
  /** Rows the batch rewrote. */
  updated: number;
  /** Share of the table done after this batch (0-1), for progress. */
  done: number;
}

export interface TableScrub {
  /** Every table to scrub, in a stable order; `weight` (e.g. its pages) drives progress. */
  tables: { label: string; weight: number }[];
  start: ScrubCheckpoint;
  opts: Pick<ScrubOptions, 'signal' | 'onBatch'>;
  /**
   * Run one batch of table `ti` after `after` (null = from the start). `next` gives the
   * checkpoint that holds once this batch is committed, for the engine to store in the same
   * transaction.
   */
  batch(ti: number, after: string | null, next: (after: string | null, updated: number) => ScrubCheckpoint): Promise<ScrubBatchResult>;
  aborted(signal: AbortSignal): Error;
}

export const FRESH_CHECKPOINT: ScrubCheckpoint = { table: 0, tableName: null, after: null, rewritten: 0, batches: 0 };

/**
 * The checkpoint to start from. One that does not fit this scrub (another table list, the
 * shape of an older release) is dropped and the scrub starts over: the rewrite is idempotent,
 * so starting over costs time, never correctness.
 */
export function startingCheckpoint(candidate: unknown, tables: { label: string }[]): ScrubCheckpoint {
  const cp = candidate as Partial<ScrubCheckpoint> | null | undefined;
  if (!cp || typeof cp !== 'object') return { ...FRESH_CHECKPOINT };
  const ok =
    Number.isInteger(cp.table) &&
    cp.table! >= 0 &&
    cp.table! <= tables.length &&
    (cp.table === tables.length ? true : cp.tableName === tables[cp.table!].label) &&
    (cp.after === null || typeof cp.after === 'string') &&
    Number.isInteger(cp.rewritten) &&
    cp.rewritten! >= 0 &&
    Number.isInteger(cp.batches) &&
    cp.batches! >= 0;
  return ok
    ? { table: cp.table!, tableName: cp.tableName ?? null, after: cp.after ?? null, rewritten: cp.rewritten!, batches: cp.batches! }
    : { ...FRESH_CHECKPOINT };
}

/** Walk every table from the start checkpoint; returns the final (every table done) checkpoint. */
export async function runTableScrub(s: TableScrub): Promise<ScrubCheckpoint> {
  const cp = { ...s.start };
  const total = Math.max(
    1,
    s.tables.reduce((a, t) => a + t.weight, 0),
  );
  // Where a committed batch leaves the scrub: a finished table moves the checkpoint to the next
  // one, so a crash right after a table's last batch does not start that table again.
  const position = (ti: number, after: string | null, rewritten: number, batches: number): ScrubCheckpoint =>
    after === null
      ? { table: ti + 1, tableName: s.tables[ti + 1]?.label ?? null, after: null, rewritten, batches }
      : { table: ti, tableName: s.tables[ti].label, after, rewritten, batches };
  for (let ti = cp.table; ti < s.tables.length; ti++) {
    const { label, weight } = s.tables[ti];
    let after = ti === cp.table ? cp.after : null;
    const before = s.tables.slice(0, ti).reduce((a, t) => a + t.weight, 0);
    for (;;) {
      if (s.opts.signal?.aborted) throw s.aborted(s.opts.signal);
      const step = await s.batch(ti, after, (next, updated) => position(ti, next, cp.rewritten + updated, cp.batches + 1));
      after = step.after;
      Object.assign(cp, position(ti, after, cp.rewritten + step.updated, cp.batches + 1));
      const percent = Math.min(99, Math.floor((100 * (before + weight * Math.min(1, step.done))) / total));
      s.opts.onBatch?.(
        { ...cp },
        { percent, detail: `${label}: ${cp.rewritten} rows rewritten in ${cp.batches} batches (table ${ti + 1} of ${s.tables.length})` },
      );
      if (after === null) break;
    }
  }
  return { table: s.tables.length, tableName: null, after: null, rewritten: cp.rewritten, batches: cp.batches };
}
