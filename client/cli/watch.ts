/** Live progress in the terminal: one line per step change, the running step's percent as it moves. */
import type { CloneStatus, FinalOutcome, TenantCloneClient } from '..';
import { renderProgress, renderStep } from './render';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function watchClone(c: TenantCloneClient, target: string, out: (line: string) => void = console.log): Promise<FinalOutcome> {
  const seen = new Map<string, string>();
  let last: CloneStatus | null = null;
  for (;;) {
    const status = await c.workflowStatus(target);
    const p = await c.progress(target).catch(() => last);
    if (p) {
      last = p;
      p.steps.forEach((st, i) => {
        // Print a step when its status changes, and the running one when its percent or detail moves.
        const key = `${st.status}|${st.status === 'running' ? `${Math.round(st.percent ?? -1)}|${st.detail}` : ''}`;
        if (st.status !== 'pending' && seen.get(st.id) !== key) {
          seen.set(st.id, key);
          out(renderStep(st, i, p.steps.length));
        }
      });
    }
    if (status !== 'RUNNING') break;
    await sleep(500);
  }
  // The run watched, not a refusal that may have come since.
  const end = await c.result(target, last?.runId);
  const final = await c.progress(target).catch(() => last);
  if (final) out(`\n${renderProgress(final)}`);
  else if (end.outcome !== 'done') out(end.message);
  return end;
}
