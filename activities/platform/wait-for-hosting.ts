/** Hosting changes are applied asynchronously: callers poll until none is pending. */
import type { Client } from '@temporalio/client';
import type { StepInput } from '../../workflows/step-contract';
import { StepReporter } from '../step-support';
import type { Hosting, HostingState } from './port';

export function hostingSettled(hosting: Hosting, client: Client | null, pollIntervalMs: number) {
  return (input: StepInput): Promise<HostingState> =>
    new StepReporter(client, input.stepId).waitFor(pollIntervalMs, async () => {
      const st = await hosting.getState(input.request.target);
      return st.pendingOperations === 0 ? { done: st } : { detail: `${st.pendingOperations} hosting operations pending` };
    });
}
