/**
 * The fast tier (`npm run test:fast`): the workflow's saga paths on a real Temporal dev server,
 * the real workflow code, and step activities replaced by stubs that record what they were asked
 * and can fail or hold a step on demand. In seconds, it shows what the end-to-end suites show in
 * minutes: the order of compensations, what a cancel at each stage undoes, what skipping the
 * documents skips, and retention with its rollback.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { TenantCloneClient } from '../../client';
import { copyPlan, restorePlan, type CompensationName } from '../../workflows/plans';
import type { StepActivity, StepInput, StepOutput } from '../../workflows/step-contract';
import { sendSdkLogsToFile } from '../support/logs';
import { startTemporal } from '../support/temporal';

const TASK_QUEUE = 'saga-fast';
const TARGET = 'acme-sandbox';
const COMPENSATIONS: Record<CompensationName, true> = {
  closeTarget: true,
  restoreOldDatabase: true,
  restoreHostingMode: true,
  restoreClusters: true,
  restoreMailRoutes: true,
  restoreMailboxes: true,
  restoreDirectory: true,
};

/** What the stubs were asked, and what they are told to do. */
const calls: string[] = [];
let failAt: string | null = null;
let holdAt: string | null = null;
let reached: (stepId: string) => void = () => undefined;

function stub(name: string): StepActivity {
  return async (input: StepInput): Promise<StepOutput> => {
    calls.push(input.stepId);
    if (input.stepId === holdAt) {
      reached(input.stepId);
      // Held like a real long step, heartbeating until a cancel reaches it and ends it.
      const ctx = Context.current();
      for (;;) {
        ctx.heartbeat();
        await Promise.race([new Promise((r) => setTimeout(r, 100)), ctx.cancelled]);
      }
    }
    if (input.stepId === failAt) throw ApplicationFailure.nonRetryable(`${input.stepId} failed on purpose`, 'StubFailure');
    if (name === 'checkRequest') {
      return {
        facts: {
          leaseHolder: 'clone-acme-sandbox/stub',
          engine: 'postgres',
          targetDatabase: 'tenant_acme_sandbox',
          setAsideDatabase: 'tenant_acme_sandbox__set_aside',
          targetHadDatabase: true,
        },
        before: {
          hostingMode: 'running',
          clusters: [],
          directoryState: 'Normal',
          routes: [],
          mailboxes: [],
          testEnvironmentOf: null,
          registeredDatabase: null,
          users: [],
          company: { companyName: 'x', serial: 'x', license: 'x' },
        },
      };
    }
    return { note: `${name} done` };
  };
}

describe('the clone saga, activities stubbed (fast tier)', { timeout: 120_000 }, () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let client: TenantCloneClient;

  before(async () => {
    sendSdkLogsToFile();
    env = await startTemporal();
    const names = new Set<string>([...copyPlan.steps, ...restorePlan.steps, copyPlan.finally].map((st) => st.activity));
    for (const c of Object.keys(COMPENSATIONS)) names.add(c);
    names.add('releaseLease');
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('../../workflows'),
      activities: Object.fromEntries([...names].map((n) => [n, stub(n)])),
      // A cancel reaches a held stub on its next heartbeat: flush them at once.
      maxHeartbeatThrottleInterval: '100ms',
    });
    running = worker.run();
    client = await TenantCloneClient.connect({ address: env.address, taskQueue: TASK_QUEUE });
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await client?.close();
    await env?.teardown();
  });
  beforeEach(() => {
    calls.length = 0;
    failAt = null;
    holdAt = null;
  });

  /** Hold the clone in `stepId` until it is cancelled; resolves once the step is reached. */
  const holdWhenAt = (stepId: string): Promise<void> => {
    holdAt = stepId;
    return new Promise((r) => (reached = () => r()));
  };
  const rollbackCalls = () => calls.filter((c) => c.startsWith('rollback:')).map((c) => c.slice('rollback:'.length));

  test('a clone with nothing in the way runs every step once, in plan order, and gives the lease back', async () => {
    await client.start({ source: 'acme', target: TARGET, documents: 'all' });
    assert.equal((await client.result(TARGET)).outcome, 'done');
    assert.deepEqual(calls, [...copyPlan.steps.map((st) => st.id), 'notify-requester', 'release-lease']);
  });

  for (const [stage, expected] of [
    ['enter-maintenance', ['restoreHostingMode']],
    ['copy-database', ['restoreOldDatabase', 'restoreMailRoutes', 'restoreClusters', 'restoreHostingMode']],
    ['provision-mail', ['restoreMailboxes', 'restoreDirectory', 'restoreOldDatabase', 'restoreMailRoutes', 'restoreClusters', 'restoreHostingMode']],
  ] as const) {
    test(`a cancel during ${stage} undoes, in reverse order, what had been done`, async () => {
      const at = holdWhenAt(stage);
      await client.start({ source: 'acme', target: TARGET });
      await at;
      await client.cancel(TARGET, `stop at ${stage}`);
      const end = await client.result(TARGET);
      assert.equal(end.outcome, 'cancelled');
      assert.match(end.outcome === 'cancelled' ? end.message : '', new RegExp(`^cancelled: stop at ${stage}\\. Rolled back: `));
      assert.deepEqual(rollbackCalls(), expected);
      assert.ok(!calls.includes('enter-running-mode'));
      assert.deepEqual(calls.slice(-2), ['notify-requester', 'release-lease']);
    });
  }

  test('a failing step fails the clone and rolls back; no later step runs', async () => {
    failAt = 'notify-apps';
    await client.start({ source: 'acme', target: TARGET });
    const end = await client.result(TARGET);
    assert.equal(end.outcome, 'failed');
    assert.match(end.outcome === 'failed' ? end.message : '', /^notify-apps failed: notify-apps failed on purpose\. Rolled back: /);
    assert.ok(!calls.includes('enter-running-mode'));
    assert.deepEqual(rollbackCalls(), [
      'restoreDirectory',
      'restoreOldDatabase',
      'restoreMailboxes',
      'restoreMailRoutes',
      'restoreClusters',
      'restoreHostingMode',
    ]);
    const p = await client.progress(TARGET);
    assert.equal(p.steps.find((st) => st.id === 'scrub-emails')?.status, 'compensated');
    assert.equal(p.steps.find((st) => st.id === 'notify-apps')?.status, 'failed');
  });

  test('skipping the documents while one copies skips both document steps and nothing else', async () => {
    const at = holdWhenAt('clone-documents-azure');
    await client.start({ source: 'acme', target: TARGET, documents: 'all' });
    await at;
    await client.skipDocuments(TARGET);
    assert.equal((await client.result(TARGET)).outcome, 'done');
    const p = await client.progress(TARGET);
    assert.deepEqual(
      p.steps.filter((st) => st.status === 'skipped').map((st) => st.id),
      ['clone-documents-azure', 'clone-documents-soarc'],
    );
    assert.ok(!calls.includes('clone-documents-soarc'));
    assert.ok(calls.includes('clone-attachments-azure'));
  });

  test('a retained clone keeps its old database until rollback, which undoes it', async () => {
    await client.start({ source: 'acme', target: TARGET, retainOldDatabaseFor: '1h' });
    for (;;) {
      const p = await client.progress(TARGET);
      if (p.retainedUntil) break;
      assert.equal(p.outcome, 'running');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(!calls.includes('drop-set-aside-database'));
    await client.rollback(TARGET, 'bad data');
    const end = await client.result(TARGET);
    assert.equal(end.outcome, 'cancelled');
    assert.deepEqual(rollbackCalls()[0], 'closeTarget');
    assert.ok(!calls.includes('drop-set-aside-database'));
  });

  test('a retention that runs out drops the old database and ends done', async () => {
    await client.start({ source: 'acme', target: TARGET, retainOldDatabaseFor: '2s' });
    assert.equal((await client.result(TARGET)).outcome, 'done');
    assert.ok(calls.includes('drop-set-aside-database'));
    assert.deepEqual(rollbackCalls(), []);
  });
});
