/**
 * The clone workflow's messages, defined once and imported by the workflow and the client.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PlanId } from './request';

export type StepStatus = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'compensated';

export interface StepProgress {
  id: string;
  title: string;
  status: StepStatus;
  startedAt: string | null;
  endedAt: string | null;
  /** Running step: its last heartbeated percent (0-100) and detail (the client fills them in); ended step: its outcome note. */
  percent: number | null;
  detail: string | null;
}

export type CloneOutcome = 'running' | 'done' | 'failed' | 'cancelled';

export interface CloneProgress {
  plan: PlanId;
  source: string;
  target: string;
  outcome: CloneOutcome;
  /** Why it failed or was cancelled, and in what state the target was left. */
  message: string | null;
  steps: StepProgress[];
  /**
   * While a finished clone keeps its old database: until when (ISO instant). `tenant-clone
   * rollback` can undo the clone until then. Null otherwise.
   */
  retainedUntil?: string | null;
}

export interface CloneResult {
  outcome: 'done';
  progress: CloneProgress;
}

/*
 * Signals carry `unknown`: anyone with namespace access can send any payload, and the handlers
 * read it through message-checks.ts, never trusting its shape. The updates below do the same
 * three things but answer their sender: a bad payload is refused by the validator.
 */
export const skipOptionalDocumentsSignal = defineSignal<[unknown?]>('skipOptionalDocuments');
export const cancelSignal = defineSignal<[unknown?]>('cancel');
/** Undo a finished clone while its old database is still retained. */
export const rollbackSignal = defineSignal<[unknown?]>('rollback');
/** Older workers reported progress with this signal; it is now ignored (progress is heartbeated). */
export const stepProgressSignal = defineSignal<[unknown?]>('stepProgress');

/** What an update reports back: whether it changed anything, and why not. */
export interface UpdateAnswer {
  accepted: boolean;
  message: string;
}
export const cancelUpdate = defineUpdate<UpdateAnswer, [unknown]>('cancelClone');
export const rollbackUpdate = defineUpdate<UpdateAnswer, [unknown]>('rollbackClone');
export const skipOptionalDocumentsUpdate = defineUpdate<UpdateAnswer, [unknown]>('skipOptionalDocumentsNow');
export const progressQuery = defineQuery<CloneProgress>('progress');

/** Failure types the workflow raises; the client maps them to exit codes. */
export const CLONE_REFUSED = 'CloneRefused';
export const CLONE_CANCELLED = 'CloneCancelled';
export const VERIFICATION_FAILED = 'VerificationFailed';
