/**
 * The fast tier (`npm run test:fast`): the workflow's saga paths on a real Temporal dev server,
 * the real workflow code, and step activities replaced by stubs that record what they were asked
 * and can fail or hold a step on demand. In seconds, it shows what the end-to-end suites show in
 * minutes: the order of compensations, what a cancel at each stage undoes, what skipping the
 * documents skips, and retention with its rollback.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { TenantCloneClient } from '../../client';
import { copyPlan } from '../../workflows/plans';
import { startStubWorld, stubActivities } from '../support/stub-activities';

const TASK_QUEUE = 'saga-fast';
const TARGET = 'acme-sandbox';
const stubs = stubActivities();

describe('the clone saga, activities stubbed (fast tier)', { timeout: 120_000 }, () => {
  let client: TenantCloneClient;
  let stop: () => Promise<void> = async () => undefined;

  before(async () => {
    ({ client, stop } = await startStubWorld(stubs, TASK_QUEUE, require.resolve('../../workflows')));
  });
  after(() => stop());
  beforeEach(() => {
    stubs.calls.length = 0;
    stubs.failAt = null;
    stubs.holdAt = null;
    stubs.finishOnCancel = false;
  });

  /** Hold the clone in `stepId` until it is cancelled; resolves once the step is reached. */
  const holdWhenAt = (stepId: string): Promise<void> => {
    stubs.holdAt = stepId;
    return new Promise((r) => (stubs.reached = () => r()));
  };
  const rollbackCalls = () => stubs.calls.filter((c) => c.startsWith('rollback:')).map((c) => c.slice('rollback:'.length));

  test('a clone with nothing in the way runs every step once, in plan order, and gives the lease back', async () => {
    await client.start({ source: 'acme', target: TARGET, documents: 'all' });
    assert.equal((await client.result(TARGET)).outcome, 'done');
    assert.deepEqual(stubs.calls, [...copyPlan.steps.map((st) => st.id), 'notify-requester', 'release-lease']);
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
      assert.ok(!stubs.calls.includes('enter-running-mode'));
      assert.deepEqual(stubs.calls.slice(-2), ['notify-requester', 'release-lease']);
    });
  }

  test('a cancel that lands as a step ends well starts no further step, and undoes the one that ended', async () => {
    const at = holdWhenAt('copy-database');
    stubs.finishOnCancel = true;
    await client.start({ source: 'acme', target: TARGET });
    await at;
    await client.cancel(TARGET, 'stop between steps');
    const end = await client.result(TARGET);
    assert.equal(end.outcome, 'cancelled');
    const p = await client.progress(TARGET);
    const status = (id: string) => p.steps.find((st) => st.id === id)?.status;
    assert.equal(status('copy-database'), 'compensated');
    // Not started, so neither failed nor undone: the next step stays pending.
    assert.equal(status('prepare-database'), 'pending');
    assert.ok(!stubs.calls.includes('prepare-database'));
    assert.deepEqual(rollbackCalls(), ['restoreOldDatabase', 'restoreMailRoutes', 'restoreClusters', 'restoreHostingMode']);
  });

  test('a failing step fails the clone and rolls back; no later step runs', async () => {
    stubs.failAt = 'notify-apps';
    await client.start({ source: 'acme', target: TARGET });
    const end = await client.result(TARGET);
    assert.equal(end.outcome, 'failed');
    assert.match(end.outcome === 'failed' ? end.message : '', /^notify-apps failed: notify-apps failed on purpose\. Rolled back: /);
    assert.ok(!stubs.calls.includes('enter-running-mode'));
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
    assert.ok(!stubs.calls.includes('clone-documents-soarc'));
    assert.ok(stubs.calls.includes('clone-attachments-azure'));
  });

  test('a retained clone keeps its old database until rollback, which undoes it', async () => {
    await client.start({ source: 'acme', target: TARGET, retainOldDatabaseFor: '1h' });
    for (;;) {
      const p = await client.progress(TARGET);
      if (p.retainedUntil) break;
      assert.equal(p.outcome, 'running');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(!stubs.calls.includes('drop-set-aside-database'));
    await client.rollback(TARGET, 'bad data');
    const end = await client.result(TARGET);
    assert.equal(end.outcome, 'cancelled');
    assert.deepEqual(rollbackCalls()[0], 'closeTarget');
    assert.ok(!stubs.calls.includes('drop-set-aside-database'));
  });

  test('a retention that runs out drops the old database and ends done', async () => {
    await client.start({ source: 'acme', target: TARGET, retainOldDatabaseFor: '2s' });
    assert.equal((await client.result(TARGET)).outcome, 'done');
    assert.ok(stubs.calls.includes('drop-set-aside-database'));
    assert.deepEqual(rollbackCalls(), []);
  });
});
