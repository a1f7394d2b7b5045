/** Hosting changes are applied asynchronously: steps poll until none is pending. */
import type { Hosting, HostingState } from '../platform/port';
import { StepReporter } from './support';

export function hostingSettled(hosting: Hosting, pollIntervalMs: number) {
  return (stepId: string, tenant: string): Promise<HostingState> =>
    new StepReporter(stepId).waitFor(pollIntervalMs, async () => {
      const st = await hosting.getState(tenant);
      return st.pendingOperations === 0 ? { done: st } : { detail: `${st.pendingOperations} hosting operations pending` };
    });
}
