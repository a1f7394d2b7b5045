/**
 * `refreshSandbox`: what a recurring refresh's Temporal Schedule starts. A schedule names each
 * run it starts `<id>-<time>`, but a clone must run as `clone-<target>` (the id is the one-clone-
 * per-target lock), so the schedule starts this workflow, which starts the clone under its own
 * id as a child and waits for it. A clone of the target already running makes this run skip,
 * saying so; cancelling or terminating it cancels the clone, which rolls back.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure, ChildWorkflowCancellationType, ParentClosePolicy, executeChild, setCurrentDetails } from '@temporalio/workflow';
import type { CloneResult } from './messages';
import { RequestError, cloneWorkflowId, normalizeRequest, type CloneRequestInput } from './request';

export const REFRESH_REFUSED = 'RefreshRefused';

export type RefreshOutcome = { outcome: 'skipped'; reason: string } | { outcome: 'done'; clone: CloneResult };

export async function refreshSandbox(input: CloneRequestInput): Promise<RefreshOutcome> {
  let request;
  try {
    request = normalizeRequest(input);
  } catch (err) {
    if (err instanceof RequestError) throw ApplicationFailure.nonRetryable(err.message, REFRESH_REFUSED);
    throw err;
  }
  const workflowId = cloneWorkflowId(request.target);
  setCurrentDetails(`Refresh of **${request.target}** from **${request.source}** (${request.plan}): clone \`${workflowId}\``);
  try {
    const clone = await executeChild<(r: CloneRequestInput) => Promise<CloneResult>>('cloneTenant', {
      workflowId,
      args: [request],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      staticSummary: `Scheduled refresh: clone ${request.source} → ${request.target} (${request.plan})`,
    });
    return { outcome: 'done', clone };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const reason = `a clone of ${request.target} is already running (${workflowId}): this refresh is skipped`;
      setCurrentDetails(reason);
      return { outcome: 'skipped', reason };
    }
    throw err;
  }
}
