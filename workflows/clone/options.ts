/** How long each class of step may take and how it is retried, and the same for compensations. */
import type { ActivityOptions } from '@temporalio/workflow';
import { CLONE_REFUSED, VERIFICATION_FAILED } from '../messages';
import type { StepClass } from '../plans';

const NON_RETRYABLE = [CLONE_REFUSED, VERIFICATION_FAILED];

/**
 * Every activity heartbeats every few seconds while it runs (activities/steps/support.ts), so a
 * lost worker is noticed at this timeout whatever the step, quick ones included, instead of at
 * the step's start-to-close timeout.
 */
const HEARTBEAT_TIMEOUT = '20s';

export const STEP_OPTIONS: Record<StepClass, ActivityOptions> = {
  quick: {
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
  },
  wait: {
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
  },
  long: {
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 20, nonRetryableErrorTypes: NON_RETRYABLE },
  },
};

/**
 * Compensations cannot be cancelled and must not give up easily: a target left half rolled
 * back is worse than a slow rollback.
 */
export const ROLLBACK_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 15 },
};
