/**
 * The running step's percent and detail, read from its heartbeat with `describe()`. The
 * workflow's `progress` query knows which step runs, not how far it is: only the worker running
 * the step writes that, so nobody can show a clone's users a progress the clone did not make.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
// The SDK's own decoder, so a payload codec configured on the client (issue 12) applies too.
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { progressReport } from '../workflows/message-checks';
import type { CloneProgress } from '../workflows/messages';

const MAX_FAILURE = 300;

export async function withLiveProgress(client: Client, handle: WorkflowHandle, progress: CloneProgress): Promise<CloneProgress> {
  const running = progress.steps.filter((st) => st.status === 'running');
  if (progress.outcome !== 'running' || running.length === 0) return progress;
  let pending;
  try {
    pending = (await handle.describe()).raw.pendingActivities ?? [];
  } catch {
    // Progress is advisory: without it, `status` still shows which step runs.
    return progress;
  }
  for (const activity of pending) {
    let report: ReturnType<typeof progressReport> = null;
    try {
      report = progressReport(await decodeFromPayloadsAtIndex(client.options.loadedDataConverter, 0, activity.heartbeatDetails?.payloads));
    } catch {
      report = null;
    }
    // A beat names its step; a quick step that never reported is the one step running.
    const step = report ? running.find((st) => st.id === report.stepId) : running.length === 1 && pending.length === 1 ? running[0] : undefined;
    if (!step) continue;
    if (report) {
      step.percent = report.percent;
      step.detail = report.detail;
    }
    // A step being retried says so: a user watching a stuck clone needs the reason most.
    const attempt = activity.attempt ?? 1;
    if (attempt > 1) {
      const failure = activity.lastFailure?.message ? `; last try failed: ${activity.lastFailure.message.slice(0, MAX_FAILURE)}` : '';
      step.detail = `${step.detail ? `${step.detail} ` : ''}(attempt ${attempt}${failure})`;
    }
  }
  return progress;
}
