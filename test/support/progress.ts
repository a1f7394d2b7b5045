/** Waiting on a running clone's `progress`, for tests that act at a given step. */
import { DEMO } from '../../stack/seed/demo-world';
import type { CloneProgress, StepStatus } from '../../workflows/messages';
import type { CloneStack } from './clone-stack';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolve once step `id` has one of `statuses`; fail if the clone ends or the step passes them by. */
export async function waitForStep(stack: CloneStack, id: string, statuses: StepStatus[] = ['running'], target: string = DEMO.target): Promise<CloneProgress> {
  const until = Date.now() + 120_000;
  for (;;) {
    const p = await stack.client.progress(target);
    const st = p.steps.find((s) => s.id === id);
    if (st && statuses.includes(st.status)) return p;
    if (p.outcome !== 'running' || (st && st.status !== 'pending' && st.status !== 'running')) {
      throw new Error(`${id} was not seen ${statuses.join('/')} (it is ${st?.status}; clone ${p.outcome})`);
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${id} to be ${statuses.join('/')}`);
    await sleep(25);
  }
}
