import type { CopyCheckpoint } from './port';

/**
 * Tracks which blobs of an ordered work list are finished, and turns that into a checkpoint that
 * only ever covers a contiguous done prefix: copies finish out of order under concurrency, and a
 * resume must never skip a blob that was still in flight when the checkpoint was taken.
 */
export class DonePrefix {
  private readonly finished: (null | { copied: boolean; bytes: number })[];
  private next = 0;
  private state: CopyCheckpoint;

  constructor(
    private readonly names: readonly string[],
    start: CopyCheckpoint,
  ) {
    this.finished = names.map(() => null);
    this.state = { ...start };
  }

  /** Marks item `index` finished; returns true when the done prefix advanced. */
  finish(index: number, outcome: { copied: boolean; bytes: number }): boolean {
    this.finished[index] = outcome;
    let advanced = false;
    while (this.next < this.names.length) {
      const done = this.finished[this.next];
      if (done === null) break;
      this.state = {
        after: this.names[this.next],
        copied: this.state.copied + (done.copied ? 1 : 0),
        bytes: this.state.bytes + (done.copied ? done.bytes : 0),
      };
      this.next += 1;
      advanced = true;
    }
    return advanced;
  }

  /** How many items of this run's list are inside the done prefix. */
  get doneInRun(): number {
    return this.next;
  }

  get checkpoint(): CopyCheckpoint {
    return { ...this.state };
  }
}
