/** What one clone run carries from step to step. */
import type { Plan } from '../plans';
import type { CloneRequest } from '../request';
import type { CloneFacts, TargetBefore } from '../step-contract';
import type { ProgressBook } from './progress-book';
import type { StopControl } from './stop-control';

export interface CloneRun {
  readonly request: CloneRequest;
  readonly plan: Plan;
  readonly book: ProgressBook;
  readonly control: StopControl;
  /** What the steps so far have provided (activity-contracts.ts says who provides what). */
  facts: Partial<CloneFacts>;
  /** The target as `check-request` found it; null until it passed. */
  before: TargetBefore | null;
}
