/** The failures a clone raises, and the cause it reports for the ones it catches. */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { CLONE_REFUSED } from '../messages';

export function refused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: CLONE_REFUSED, message, nonRetryable: true });
}

/** The innermost application failure's type and message, through ActivityFailure wrappers. */
export function rootCause(err: unknown): { type: string | null; message: string } {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return { type: e.type ?? null, message: e.message };
  return { type: null, message: e instanceof Error ? e.message : String(e) };
}
