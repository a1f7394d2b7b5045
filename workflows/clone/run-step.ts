/** One plan step: its activity with its class's options, its progress, its facts. */
import { ActivityCancellationType, ApplicationFailure, CancellationScope, isCancellation, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { ActivityName } from '../activity-contracts';
import { VERIFICATION_FAILED } from '../messages';
import { stepWithRole } from '../plan-check';
import type { PlanStep } from '../plans';
import { CloneStep } from '../search-attributes';
import type { StepActivity, StepInput, StepOutput } from '../step-contract';
import type { CloneRun } from './clone-run';
import { rootCause } from './failures';
import { STEP_OPTIONS } from './options';

export async function runStep(run: CloneRun, step: PlanStep, extra: Partial<StepInput> = {}): Promise<void> {
  const { book } = run;
  const st = book.of(step);
  book.start(step);
  upsertSearchAttributes([{ key: CloneStep, value: step.id }]);
  book.show();
  const activity: StepActivity = proxyActivities<Record<ActivityName, StepActivity>>({
    ...STEP_OPTIONS[step.class],
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    summary: `${step.id}: ${step.title}`,
  })[step.activity];
  const input: StepInput = { stepId: step.id, request: run.request, facts: run.facts, ...extra };
  try {
    const out = step.optionalDocuments ? await runSkippable(run, () => activity(input)) : await activity(input);
    run.facts = { ...run.facts, ...out.facts };
    if (out.before) run.before = out.before;
    st.status = out.skipped ? 'skipped' : 'done';
    st.percent = out.skipped ? null : 100;
    st.detail = out.skipped ?? out.note ?? null;
  } catch (err) {
    st.status = 'failed';
    st.detail = isCancellation(err) ? 'cancelled while running' : rootCause(err).message;
    throw err;
  } finally {
    st.endedAt = new Date().toISOString();
    book.show();
  }
}

/** An optional document copy runs in its own scope, which `skipOptionalDocuments` cancels. */
async function runSkippable(run: CloneRun, call: () => Promise<StepOutput>): Promise<StepOutput> {
  const { control } = run;
  control.documentScope = new CancellationScope();
  try {
    return await control.documentScope.run(call);
  } catch (err) {
    if (isCancellation(err) && control.documentCopySkipped()) return { skipped: 'skipped by the skipOptionalDocuments signal while it ran' };
    throw err;
  } finally {
    control.documentScope = null;
  }
}

/**
 * Invariant 1 (SPEC §4), checked on the steps' recorded outcomes, not just their order: the
 * step that opens the target runs only once the scrub is done and the tasks are disabled (or
 * kept by request).
 */
export function assertSafeToOpen(run: CloneRun, step: PlanStep): void {
  const { book, plan, request } = run;
  const scrub = stepWithRole(plan, 'scrubs-addresses');
  const tasks = stepWithRole(plan, 'disables-tasks');
  const scrubStatus = scrub ? book.of(scrub).status : 'missing';
  const tasksStatus = tasks ? book.of(tasks).status : 'missing';
  const tasksOk = tasksStatus === 'done' || (tasksStatus === 'skipped' && request.keepScheduledTasks);
  if (scrubStatus !== 'done' || !tasksOk) {
    throw ApplicationFailure.create({
      type: VERIFICATION_FAILED,
      nonRetryable: true,
      message: `${step.id} refused: ${scrub?.id ?? 'the scrub'} is ${scrubStatus} and ${tasks?.id ?? 'the task disabling'} is ${tasksStatus}; the target stays offline`,
    });
  }
}
