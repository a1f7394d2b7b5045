/**
 * The clone workflow: checks the request, runs its plan's steps in order, rolls back on a cancel
 * or a failure, tells the requester, and gives the target back. Deterministic code only: every
 * effect is an activity. The pieces it is made of are in `clone/`.
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  log,
  metricMeter,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { CLONE_CANCELLED, CLONE_REFUSED, progressQuery, type CloneResult } from './messages';
import { PLANS, skipReason, type PlanCatalogue } from './plans';
import { planToRun } from './plan-versions';
import { RequestError, cloneWorkflowId, normalizeRequest, type CloneRequest, type CloneRequestInput } from './request';
import { ClonePlan, CloneSource, CloneStep, CloneTarget } from './search-attributes';
import type { StepActivity } from './step-contract';
import type { CloneRun } from './clone/clone-run';
import { refused, rootCause } from './clone/failures';
import { STEP_OPTIONS } from './clone/options';
import { ProgressBook } from './clone/progress-book';
import { retainOldDatabase } from './clone/retention';
import { assertSafeToOpen, runStep } from './clone/run-step';
import { rollback } from './clone/saga';
import { StopControl } from './clone/stop-control';

/** The clone workflow over a plan catalogue; tests build it over a catalogue with a newer plan version. */
export function cloneWorkflow(catalogue: PlanCatalogue) {
  return async function cloneTenant(input: CloneRequestInput): Promise<CloneResult> {
    const run = admit(input, catalogue);
    const { request, plan, book, control } = run;
    setHandler(progressQuery, () => book.snapshot());
    control.listen();
    upsertSearchAttributes([
      { key: CloneSource, value: request.source },
      { key: CloneTarget, value: request.target },
      { key: ClonePlan, value: plan.id },
    ]);

    const failure = await runPlanOrRollBack(run);
    await tellRequester(run);
    await releaseTarget(run);
    upsertSearchAttributes([{ key: CloneStep, value: book.outcome }]);
    book.show();
    countClone(plan.id, failure && rootCause(failure).type === CLONE_REFUSED ? 'refused' : book.outcome);
    return ending(run, failure);
  };
}

export const cloneTenant = cloneWorkflow(PLANS);

/** Clones ended, by plan and outcome: a metric, which a replay does not emit again. */
function countClone(plan: string, outcome: string): void {
  metricMeter.createCounter('tenant_clone_clones', 'clones', 'Clones ended, by plan and outcome').add(1, { plan, outcome });
}

/** Refusals that need no activity: a malformed request, a clone under another id, an unknown plan. */
function admit(input: CloneRequestInput, catalogue: PlanCatalogue): CloneRun {
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
  const plan = planToRun(catalogue, request.plan);
  if (!plan) throw refused(`plan ${request.plan} is not available in this version; use plan copy`);
  const book = new ProgressBook(plan, request.source, request.target);
  return { request, plan, book, control: new StopControl(book), facts: {}, before: null };
}

/** The plan's steps in order; on a cancel or failure, the rollback. Returns what stopped it, or null. */
async function runPlanOrRollBack(run: CloneRun): Promise<unknown> {
  const { request, plan, book, control } = run;
  try {
    await control.mainScope.run(async () => {
      for (const step of plan.steps) {
        // A cancel that landed as the last step ended well starts no further step (which would
        // only fail at once and be undone). Clones from before this replay as they ran.
        if (control.mainScope.consideredCancelled && patched('stop-before-next-step')) throw new CancelledFailure(control.stopReason ?? 'cancelled');
        const reason = skipReason(step, request) ?? (step.optionalDocuments && control.skipDocuments ? 'skipped by the skipOptionalDocuments signal' : null);
        if (reason) {
          book.skip(step, reason);
          continue;
        }
        if (step.role === 'opens-target') assertSafeToOpen(run, step);
        if (step.role === 'drops-set-aside-database' && request.retainOldDatabaseFor) await retainOldDatabase(run, step, request.retainOldDatabaseFor);
        await runStep(run, step);
      }
    });
    book.outcome = 'done';
    return null;
  } catch (err) {
    const cause = rootCause(err);
    const why = isCancellation(err)
      ? (control.stopReason ?? 'cancelled from Temporal')
      : `${cause.type === CLONE_REFUSED ? 'refused' : `${book.steps.find((st) => st.status === 'failed')?.id ?? 'a step'} failed`}: ${cause.message}`;
    book.outcome = isCancellation(err) ? 'cancelled' : 'failed';
    book.message = why;
    // Only the retention wait can be left running here (steps close their own status).
    for (const st of book.steps.filter((x) => x.status === 'running')) {
      st.status = 'skipped';
      st.detail = 'the clone was rolled back while the old database was retained';
    }
    book.show();
    const rolledBack = await CancellationScope.nonCancellable(() => rollback(run));
    book.message = `${why}. ${rolledBack.report}`;
    // A rollback that could not finish is a failure whatever started it: someone must look.
    if (!rolledBack.complete) book.outcome = 'failed';
    return err;
  }
}

/** The requester is told however the clone ended, even when it was cancelled. */
async function tellRequester(run: CloneRun): Promise<void> {
  const { book, plan } = run;
  await CancellationScope.nonCancellable(async () => {
    try {
      await runStep(run, plan.finally, {
        ending: { outcome: book.outcome, message: book.message, steps: book.steps.map((st) => ({ id: st.id, status: st.status })) },
      });
    } catch (err) {
      log.warn('could not notify the requester', { error: rootCause(err).message });
    }
  });
}

/**
 * The target stays this run's through retention and rollback; it is given back last. A failed
 * release leaves a lease the next clone takes over, once it sees this run has ended.
 */
async function releaseTarget(run: CloneRun): Promise<void> {
  if (!patched('target-lease') || !run.facts.leaseHolder) return;
  const { releaseLease } = proxyActivities<{ releaseLease: StepActivity }>({ ...STEP_OPTIONS.quick, summary: 'release-lease: give the target back' });
  await CancellationScope.nonCancellable(async () => {
    try {
      await releaseLease({ stepId: 'release-lease', request: run.request, facts: run.facts });
    } catch (err) {
      log.warn('could not release the target lease', { error: rootCause(err).message });
    }
  });
}

function ending({ book, control }: CloneRun, failure: unknown): CloneResult {
  if (book.outcome === 'done') return { outcome: 'done', progress: book.snapshot() };
  if (book.outcome === 'cancelled') {
    // Temporal's own cancellation must end as Canceled; a `cancel` signal ends as a failure
    // of type CloneCancelled, since a workflow cannot mark itself Canceled.
    if (control.stopReason === null) throw failure;
    throw ApplicationFailure.create({ type: CLONE_CANCELLED, message: book.message!, nonRetryable: true });
  }
  const cause = rootCause(failure);
  throw ApplicationFailure.create({ type: cause.type ?? 'CloneFailed', message: book.message!, nonRetryable: true });
}
