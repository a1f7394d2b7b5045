/**
 * The clone workflow: runs a plan's steps in order, keeps per-step progress for the `progress`
 * query and the Web UI, honours `skipOptionalDocuments` and `cancel`, and guards the safety
 * invariants. Deterministic code only: every effect is an activity.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import {
  CLONE_CANCELLED,
  CLONE_REFUSED,
  VERIFICATION_FAILED,
  cancelSignal,
  progressQuery,
  rollbackSignal,
  skipOptionalDocumentsSignal,
  skipOptionalDocumentsUpdate,
  stepProgressSignal,
  cancelUpdate,
  rollbackUpdate,
  type UpdateAnswer,
  type CloneOutcome,
  type CloneProgress,
  type CloneResult,
  type StepProgress,
} from './messages';
import { PLANS, checkPlanOrder, skipReason, type ActivityName, type CompensationName, type Plan, type PlanStep, type StepClass } from './plans';
import { RequestError, cloneWorkflowId, durationMs, normalizeRequest, type CloneRequest, type CloneRequestInput } from './request';
import { ClonePlan, CloneSource, CloneStep, CloneTarget } from './search-attributes';
import { badEmptyPayload, badReasonPayload, reasonFromSignal } from './message-checks';
import type { CloneFacts, StepActivity, StepInput, StepOutput, TargetBefore } from './step-contract';

const NON_RETRYABLE = [CLONE_REFUSED, VERIFICATION_FAILED];

/**
 * Every activity heartbeats every few seconds while it runs (activities/step-support.ts), so a
 * lost worker is noticed at this timeout whatever the step, quick ones included, instead of at
 * the step's start-to-close timeout.
 */
const HEARTBEAT_TIMEOUT = '20s';

/** Per-class timeouts and retries. */
const OPTIONS: Record<StepClass, ActivityOptions> = {
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
const ROLLBACK_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 15 },
};

function refused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: CLONE_REFUSED, message, nonRetryable: true });
}

/** The innermost application failure's type and message, through ActivityFailure wrappers. */
function rootCause(err: unknown): { type: string | null; message: string } {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return { type: e.type ?? null, message: e.message };
  return { type: null, message: e instanceof Error ? e.message : String(e) };
}

export async function cloneTenant(input: CloneRequestInput): Promise<CloneResult> {
  // Clones started before these checks replay without them.
  const checked = patched('strict-request-and-own-workflow-id');
  let request: CloneRequest;
  try {
    request = normalizeRequest(input, { strict: checked });
  } catch (err) {
    if (err instanceof RequestError) throw refused(err.message);
    throw err;
  }
  // One clone per target: the id is the lock, so a clone started under any other id (which
  // Temporal would let run beside the real one) is refused before it touches anything.
  const ownId = cloneWorkflowId(request.target);
  if (checked && workflowInfo().workflowId !== ownId) {
    throw refused(`a clone of ${request.target} must run as workflow ${ownId}, not ${workflowInfo().workflowId}: one clone per target at a time`);
  }
  const plan: Plan | undefined = PLANS[request.plan];
  if (!plan) throw refused(`plan ${request.plan} is not available in this version; use plan copy`);
  checkPlanOrder(plan);

  const all = [...plan.steps, plan.finally];
  const steps: StepProgress[] = all.map((st) => ({
    id: st.id,
    title: st.title,
    status: 'pending',
    startedAt: null,
    endedAt: null,
    percent: null,
    detail: null,
  }));
  const progressOf = (id: string) => steps.find((st) => st.id === id)!;
  let outcome: CloneOutcome = 'running';
  let message: string | null = null;
  let facts: Partial<CloneFacts> = {};
  let before: TargetBefore | null = null;
  let skipDocuments = false;
  /** Why the clone was stopped by a signal (`cancel` or `rollback`); null = not, or by Temporal. */
  let stopReason: string | null = null;
  let documentScope: CancellationScope | null = null;
  const mainScope = new CancellationScope();
  /** While a finished clone keeps its old database: until when (typed, for `rollback`). */
  let retainedUntil: string | null = null;

  const snapshot = (): CloneProgress => ({
    plan: plan.id,
    source: request.source,
    target: request.target,
    outcome,
    message,
    steps: steps.map((st) => ({ ...st })),
    retainedUntil,
  });

  const showDetails = () => {
    const running = steps.findIndex((st) => st.status === 'running');
    const done = steps.filter((st) => st.status === 'done' || st.status === 'skipped').length;
    const lines = [`**${request.source} → ${request.target}** (${plan.id}): ${done}/${steps.length} steps done`];
    if (running >= 0) {
      const st = steps[running];
      const pct = st.percent === null ? '' : ` — ${Math.round(st.percent)}%`;
      lines.push(`Step ${running + 1}/${steps.length} \`${st.id}\`: ${st.title}${pct}`);
      if (st.detail) lines.push(st.detail);
    } else if (outcome !== 'running') {
      lines.push(`Outcome: **${outcome}**${message ? ` — ${message}` : ''}`);
    }
    setCurrentDetails(lines.join('\n\n'));
  };

  setHandler(progressQuery, snapshot);

  // The three things a caller may ask of a running clone, each as a signal (the Web UI and old
  // callers) and as an update (which answers: a malformed payload is refused by its validator
  // and never reaches this state). No payload of any shape can make a workflow task fail.
  let retaining = false;
  const skip = (): UpdateAnswer => {
    if (outcome !== 'running') return { accepted: false, message: `the clone is ${outcome}` };
    skipDocuments = true;
    documentScope?.cancel();
    return { accepted: true, message: 'optional document copies skipped' };
  };
  const stop = (kind: 'cancel' | 'rollback', reason: string | null): UpdateAnswer => {
    if (stopReason !== null) return { accepted: false, message: `already stopping: ${stopReason}` };
    if (kind === 'cancel' && outcome !== 'running') return { accepted: false, message: `the clone is ${outcome}` };
    if (kind === 'rollback' && !retaining) {
      return {
        accepted: false,
        message: `nothing to roll back: the clone ${outcome === 'running' ? 'is still running (cancel it instead)' : `is ${outcome}`} and keeps no old database`,
      };
    }
    stopReason = `${kind === 'cancel' ? 'cancelled' : 'rolled back on request'}: ${reason ?? 'no reason given'}`;
    mainScope.cancel();
    return { accepted: true, message: stopReason };
  };
  const refuseBad = (what: string, why: string | null) => {
    if (why) throw new Error(`${what} refused: ${why}`);
  };
  setHandler(skipOptionalDocumentsSignal, () => void skip());
  setHandler(cancelSignal, (payload) => void stop('cancel', reasonFromSignal(payload)));
  // A finished clone keeping its old database can still be undone: like a cancel, it rolls back.
  setHandler(rollbackSignal, (payload) => void stop('rollback', reasonFromSignal(payload)));
  setHandler(skipOptionalDocumentsUpdate, () => skip(), { validator: (payload: unknown) => refuseBad('skipOptionalDocumentsNow', badEmptyPayload(payload)) });
  setHandler(cancelUpdate, (payload: unknown) => stop('cancel', reasonFromSignal(payload)), {
    validator: (payload: unknown) => refuseBad('cancelClone', badReasonPayload(payload)),
  });
  setHandler(rollbackUpdate, (payload: unknown) => stop('rollback', reasonFromSignal(payload)), {
    validator: (payload: unknown) => refuseBad('rollbackClone', badReasonPayload(payload)),
  });
  // Progress is read from the running step's heartbeat (the client's `describe()`), never from
  // a message: this signal came from workers before that, and is now accepted and ignored.
  setHandler(stepProgressSignal, () => undefined);

  upsertSearchAttributes([
    { key: CloneSource, value: request.source },
    { key: CloneTarget, value: request.target },
    { key: ClonePlan, value: plan.id },
  ]);

  const runStep = async (step: PlanStep, extra: Partial<StepInput> = {}): Promise<void> => {
    const st = progressOf(step.id);
    st.status = 'running';
    st.startedAt = new Date().toISOString();
    st.percent = null;
    st.detail = null;
    upsertSearchAttributes([{ key: CloneStep, value: step.id }]);
    showDetails();
    const activity: StepActivity = proxyActivities<Record<ActivityName, StepActivity>>({
      ...OPTIONS[step.class],
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      summary: `${step.id}: ${step.title}`,
    })[step.activity];
    const stepInput: StepInput = { stepId: step.id, request, facts, ...extra };
    try {
      let out: StepOutput;
      if (step.optionalDocuments) {
        documentScope = new CancellationScope();
        try {
          out = await documentScope.run(() => activity(stepInput));
        } catch (err) {
          if (isCancellation(err) && skipDocuments && stopReason === null && !mainScope.consideredCancelled) {
            out = { skipped: 'skipped by the skipOptionalDocuments signal while it ran' };
          } else throw err;
        } finally {
          documentScope = null;
        }
      } else {
        out = await activity(stepInput);
      }
      facts = { ...facts, ...out.facts };
      if (out.before) before = out.before;
      st.status = out.skipped ? 'skipped' : 'done';
      st.percent = out.skipped ? null : 100;
      st.detail = out.skipped ?? out.note ?? null;
    } catch (err) {
      st.status = 'failed';
      st.detail = isCancellation(err) ? 'cancelled while running' : rootCause(err).message;
      throw err;
    } finally {
      st.endedAt = new Date().toISOString();
      showDetails();
    }
  };

  // Invariant 1 (SPEC §4), checked on the steps' recorded outcomes, not just their order.
  const assertSafeToOpen = (step: PlanStep) => {
    const scrub = progressOf('scrub-emails');
    const tasks = progressOf('disable-scheduled-tasks');
    const tasksOk = tasks.status === 'done' || (tasks.status === 'skipped' && request.keepScheduledTasks);
    if (scrub.status !== 'done' || !tasksOk) {
      throw ApplicationFailure.create({
        type: VERIFICATION_FAILED,
        nonRetryable: true,
        message: `${step.id} refused: scrub-emails is ${scrub.status} and disable-scheduled-tasks is ${tasks.status}; the target stays offline`,
      });
    }
  };

  /**
   * Undo, in reverse order, every step that ran (the one that failed included: it may have
   * done part of its work). Steps sharing one compensation are undone by one call.
   */
  const rollback = async (): Promise<{ complete: boolean; report: string }> => {
    const touched = plan.steps.filter((step) => {
      const st = progressOf(step.id);
      return st.status === 'done' || (st.status === 'failed' && st.startedAt !== null);
    });
    const order: CompensationName[] = [];
    for (const step of [...touched].reverse()) if (step.undo && !order.includes(step.undo)) order.push(step.undo);
    if (before === null || order.length === 0) return { complete: true, report: 'Nothing was changed.' };
    const notes: string[] = [];
    for (const [i, undo] of order.entries()) {
      upsertSearchAttributes([{ key: CloneStep, value: `rollback:${undo}` }]);
      const compensate = proxyActivities<Record<CompensationName, StepActivity>>({ ...ROLLBACK_OPTIONS, summary: `rollback: ${undo}` })[undo];
      try {
        const out = await compensate({ stepId: `rollback:${undo}`, request, facts, before });
        notes.push(out.note ?? undo);
      } catch (err) {
        const left = order.slice(i).join(', ');
        return { complete: false, report: `Rollback incomplete: ${undo} failed (${rootCause(err).message}); not undone: ${left}. ${leftState(steps, facts)}` };
      }
      for (const step of touched) {
        const st = progressOf(step.id);
        if (step.undo === undo && st.status === 'done') {
          st.status = 'compensated';
          st.detail = `undone: ${notes[notes.length - 1]}`;
        }
      }
      showDetails();
    }
    return { complete: true, report: `Rolled back: ${notes.join('; ')}.` };
  };

  /** Keep the old database for the requested time; a rollback (or cancel) meanwhile undoes the clone. */
  const retain = async (step: PlanStep) => {
    const ms = durationMs(request.retainOldDatabaseFor!)!;
    const st = progressOf(step.id);
    const until = new Date(Date.now() + ms).toISOString();
    st.status = 'running';
    st.startedAt = new Date().toISOString();
    st.detail = `old database kept until ${until}: \`tenant-clone rollback ${request.target}\` undoes the clone until then`;
    upsertSearchAttributes([{ key: CloneStep, value: 'retaining' }]);
    retaining = true;
    retainedUntil = until;
    showDetails();
    await condition(() => false, ms);
    retaining = false;
    retainedUntil = null;
  };

  let failure: unknown = null;
  try {
    await mainScope.run(async () => {
      for (const step of plan.steps) {
        const reason = skipReason(step, request) ?? (step.optionalDocuments && skipDocuments ? 'skipped by the skipOptionalDocuments signal' : null);
        if (reason) {
          const st = progressOf(step.id);
          st.status = 'skipped';
          st.detail = reason;
          continue;
        }
        if (step.opensTarget) assertSafeToOpen(step);
        if (step.activity === 'dropSetAsideDatabase' && request.retainOldDatabaseFor) await retain(step);
        await runStep(step);
      }
    });
    outcome = 'done';
  } catch (err) {
    failure = err;
    const cause = rootCause(err);
    const why = isCancellation(err)
      ? (stopReason ?? 'cancelled from Temporal')
      : `${cause.type === CLONE_REFUSED ? 'refused' : `${steps.find((st) => st.status === 'failed')?.id ?? 'a step'} failed`}: ${cause.message}`;
    outcome = isCancellation(err) ? 'cancelled' : 'failed';
    message = why;
    // Only the retention wait can be left running here (steps close their own status).
    for (const st of steps.filter((x) => x.status === 'running')) {
      st.status = 'skipped';
      st.detail = 'the clone was rolled back while the old database was retained';
    }
    showDetails();
    const rolledBack = await CancellationScope.nonCancellable(() => rollback());
    message = `${why}. ${rolledBack.report}`;
    // A rollback that could not finish is a failure whatever started it: someone must look.
    if (!rolledBack.complete) outcome = 'failed';
  }

  // The requester is told however the clone ended, even when it was cancelled.
  await CancellationScope.nonCancellable(async () => {
    try {
      await runStep(plan.finally, {
        ending: { outcome, message, steps: steps.map((st) => ({ id: st.id, status: st.status })) },
      });
    } catch (err) {
      log.warn('could not notify the requester', { error: rootCause(err).message });
    }
  });
  // The target stays this run's through retention and rollback; it is given back last. A failed
  // release leaves a lease the next clone takes over, once it sees this run has ended.
  if (patched('target-lease') && facts.leaseHolder) {
    const { releaseLease } = proxyActivities<{ releaseLease: StepActivity }>({ ...OPTIONS.quick, summary: 'release-lease: give the target back' });
    await CancellationScope.nonCancellable(async () => {
      try {
        await releaseLease({ stepId: 'release-lease', request, facts });
      } catch (err) {
        log.warn('could not release the target lease', { error: rootCause(err).message });
      }
    });
  }
  upsertSearchAttributes([{ key: CloneStep, value: outcome }]);
  showDetails();

  if (outcome === 'done') return { outcome: 'done', progress: snapshot() };
  if (outcome === 'cancelled') {
    // Temporal's own cancellation must end as Canceled; a `cancel` signal ends as a failure
    // of type CloneCancelled, since a workflow cannot mark itself Canceled.
    if (stopReason === null) throw failure;
    throw ApplicationFailure.create({ type: CLONE_CANCELLED, message: message!, nonRetryable: true });
  }
  const cause = rootCause(failure);
  throw ApplicationFailure.create({ type: cause.type ?? 'CloneFailed', message: message!, nonRetryable: true });
}

/** What a clone whose rollback could not finish leaves behind, said plainly for the operator. */
function leftState(steps: StepProgress[], facts: Partial<CloneFacts>): string {
  const done = (id: string) => steps.find((st) => st.id === id)?.status === 'done';
  const parts: string[] = [];
  if (done('enter-running-mode')) parts.push('the target is in running mode');
  else if (done('enter-maintenance')) parts.push('the target is left offline in maintenance mode');
  if (done('set-aside-database') && !done('drop-set-aside-database') && facts.targetHadDatabase) {
    parts.push(`its old database is kept as ${facts.setAsideDatabase} (rename it back to ${facts.targetDatabase} to restore it)`);
  }
  return parts.length ? `State: ${parts.join('; ')}.` : '';
}
