/** Hosting changes are applied asynchronously: callers poll until none is pending. */
import type { StepInput } from '../../workflows/step-contract';
import { StepReporter } from '../step-support';
import type { Hosting, HostingState } from './port';

export function hostingSettled(hosting: Hosting, pollIntervalMs: number) {
  return (input: StepInput): Promise<HostingState> =>
    new StepReporter(input.stepId).waitFor(pollIntervalMs, async () => {
      const st = await hosting.getState(input.request.target);
      return st.pendingOperations === 0 ? { done: st } : { detail: `${st.pendingOperations} hosting operations pending` };
    });
}
