/**
 * Step activities replaced by stubs for the fast tier: each records that it was asked, and can
 * fail or hold its step on demand. The workflow, the Temporal server and the saga are real.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { TenantCloneClient } from '../../client';
import { ACTIVITY_CONTRACTS, type ActivityName } from '../../workflows/activity-contracts';
import type { StepActivity, StepInput, StepOutput } from '../../workflows/step-contract';
import { sendSdkLogsToFile } from './logs';
import { startTemporal } from './temporal';

export interface StubSteps {
  /** The step ids asked for, in order (compensations as `rollback:<name>`). */
  calls: string[];
  /** The step id that fails, non-retryably. */
  failAt: string | null;
  /** The step id that is held, heartbeating, until a cancel reaches it. */
  holdAt: string | null;
  /** Whether the held step ends well when the cancel reaches it, as a step past its last cancellable point does. */
  finishOnCancel: boolean;
  /** Called when the held step is reached. */
  reached: (stepId: string) => void;
  activities: Record<ActivityName, StepActivity>;
}

export function stubActivities(): StubSteps {
  const stubs: StubSteps = {
    calls: [],
    failAt: null,
    holdAt: null,
    finishOnCancel: false,
    reached: () => undefined,
    activities: {} as Record<ActivityName, StepActivity>,
  };
  const stub =
    (name: ActivityName): StepActivity =>
    async (input: StepInput): Promise<StepOutput> => {
      stubs.calls.push(input.stepId);
      if (input.stepId === stubs.holdAt) {
        stubs.reached(input.stepId);
        // Held like a real long step, heartbeating until a cancel reaches it and ends it.
        const ctx = Context.current();
        for (;;) {
          ctx.heartbeat();
          try {
            await Promise.race([new Promise((r) => setTimeout(r, 100)), ctx.cancelled]);
          } catch (err) {
            if (stubs.finishOnCancel) return { note: `${name} finished despite the cancel` };
            throw err;
          }
        }
      }
      if (input.stepId === stubs.failAt) throw ApplicationFailure.nonRetryable(`${input.stepId} failed on purpose`, 'StubFailure');
      if (name === 'checkRequest') return { facts: STUB_FACTS, before: STUB_BEFORE };
      return { note: `${name} done` };
    };
  for (const name of Object.keys(ACTIVITY_CONTRACTS) as ActivityName[]) stubs.activities[name] = stub(name);
  return stubs;
}

const STUB_FACTS = {
  leaseHolder: 'clone-acme-sandbox/stub',
  engine: 'postgres',
  targetDatabase: 'tenant_acme_sandbox',
  setAsideDatabase: 'tenant_acme_sandbox__set_aside',
  targetHadDatabase: true,
} as const;

const STUB_BEFORE = {
  hostingMode: 'running',
  clusters: [],
  directoryState: 'Normal',
  routes: [],
  mailboxes: [],
  testEnvironmentOf: null,
  registeredDatabase: null,
  users: [],
  company: { companyName: 'x', serial: 'x', license: 'x' },
} as const satisfies StepOutput['before'];

/** A dev server and a worker running the workflows at `workflowsPath` on the stubs, with a client. */
export async function startStubWorld(
  stubs: StubSteps,
  taskQueue: string,
  workflowsPath: string,
): Promise<{ client: TenantCloneClient; stop: () => Promise<void> }> {
  sendSdkLogsToFile();
  const env = await startTemporal();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath,
    activities: stubs.activities,
    // A cancel reaches a held stub on its next heartbeat: flush them at once.
    maxHeartbeatThrottleInterval: '100ms',
  });
  const running = worker.run();
  const client = await TenantCloneClient.connect({ address: env.address, taskQueue });
  return {
    client,
    stop: async () => {
      worker.shutdown();
      await running;
      await client.close();
      await env.teardown();
    },
  };
}
