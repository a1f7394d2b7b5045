/**
 * What a caller may ask of a running clone: skip the optional document copies, cancel it, or
 * roll back a finished clone that keeps its old database. Each is a signal (the Web UI and old
 * callers) and an update (which answers: a malformed payload is refused by its validator and
 * never reaches this state), so no payload of any shape can make a workflow task fail.
 */
import { CancellationScope, setHandler } from '@temporalio/workflow';
import { badEmptyPayload, badReasonPayload, reasonFromSignal } from '../message-checks';
import {
  cancelSignal,
  cancelUpdate,
  rollbackSignal,
  rollbackUpdate,
  skipOptionalDocumentsSignal,
  skipOptionalDocumentsUpdate,
  stepProgressSignal,
  type UpdateAnswer,
} from '../messages';
import type { ProgressBook } from './progress-book';

export class StopControl {
  /** The scope every plan step runs in: a cancel or rollback cancels it. */
  readonly mainScope = new CancellationScope();
  /** Why the clone was stopped by a signal (`cancel` or `rollback`); null = not, or by Temporal. */
  stopReason: string | null = null;
  skipDocuments = false;
  /** While an optional document copy runs: the scope a skip cancels. */
  documentScope: CancellationScope | null = null;
  /** While a finished clone keeps its old database, when `rollback` is allowed. */
  retaining = false;

  constructor(private readonly book: ProgressBook) {}

  /** Register the signal and update handlers. */
  listen(): void {
    setHandler(skipOptionalDocumentsSignal, () => void this.skip());
    setHandler(cancelSignal, (payload) => void this.stop('cancel', reasonFromSignal(payload)));
    // A finished clone keeping its old database can still be undone: like a cancel, it rolls back.
    setHandler(rollbackSignal, (payload) => void this.stop('rollback', reasonFromSignal(payload)));
    setHandler(skipOptionalDocumentsUpdate, () => this.skip(), {
      validator: (payload: unknown) => refuseBad('skipOptionalDocumentsNow', badEmptyPayload(payload)),
    });
    setHandler(cancelUpdate, (payload: unknown) => this.stop('cancel', reasonFromSignal(payload)), {
      validator: (payload: unknown) => refuseBad('cancelClone', badReasonPayload(payload)),
    });
    setHandler(rollbackUpdate, (payload: unknown) => this.stop('rollback', reasonFromSignal(payload)), {
      validator: (payload: unknown) => refuseBad('rollbackClone', badReasonPayload(payload)),
    });
    // Progress is read from the running step's heartbeat (the client's `describe()`), never from
    // a message: this signal came from workers before that, and is now accepted and ignored.
    setHandler(stepProgressSignal, () => undefined);
  }

  /** Whether a skip cancelled the document copy now ending, and nothing else stopped the clone. */
  documentCopySkipped(): boolean {
    return this.skipDocuments && this.stopReason === null && !this.mainScope.consideredCancelled;
  }

  private skip(): UpdateAnswer {
    const outcome = this.book.outcome;
    if (outcome !== 'running') return { accepted: false, message: `the clone is ${outcome}` };
    this.skipDocuments = true;
    this.documentScope?.cancel();
    return { accepted: true, message: 'optional document copies skipped' };
  }

  private stop(kind: 'cancel' | 'rollback', reason: string | null): UpdateAnswer {
    const outcome = this.book.outcome;
    if (this.stopReason !== null) return { accepted: false, message: `already stopping: ${this.stopReason}` };
    if (kind === 'cancel' && outcome !== 'running') return { accepted: false, message: `the clone is ${outcome}` };
    if (kind === 'rollback' && !this.retaining) {
      return {
        accepted: false,
        message: `nothing to roll back: the clone ${outcome === 'running' ? 'is still running (cancel it instead)' : `is ${outcome}`} and keeps no old database`,
      };
    }
    this.stopReason = `${kind === 'cancel' ? 'cancelled' : 'rolled back on request'}: ${reason ?? 'no reason given'}`;
    this.mainScope.cancel();
    return { accepted: true, message: this.stopReason };
  }
}

function refuseBad(what: string, why: string | null): void {
  if (why) throw new Error(`${what} refused: ${why}`);
}
