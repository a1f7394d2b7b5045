/** Reading a clone's history the way the tests need it: by step, through each activity's summary. */
import type { WorkflowHandle } from '@temporalio/client';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** The ActivityTaskScheduled events of a step (its summary starts `<stepId>: `). */
export function scheduledFor(events: HistoryEvent[], stepId: string): HistoryEvent[] {
  return events.filter(
    (e) =>
      e.activityTaskScheduledEventAttributes &&
      e.userMetadata?.summary &&
      Buffer.from(e.userMetadata.summary.data ?? [])
        .toString()
        .includes(`${stepId}:`),
  );
}
