/**
 * Plan versioning, live: a worker whose catalogue holds copy v1 and v2 starts new clones on v2,
 * and records that in the history (the `plan:copy:v2` marker) so they replay on v2 after any
 * later change. Old clones replaying on v1 are tested against the recorded histories
 * (test/replay/replay.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TenantCloneClient } from '../../client';
import { copyPlan } from '../../workflows/plans';
import { planPatchId } from '../../workflows/plan-versions';
import { startStubWorld, stubActivities } from '../support/stub-activities';
import { copyPlanV2, WAIT_AFTER_RECYCLE } from '../replay/plan-versions/next-copy-plan';

const TASK_QUEUE = 'plan-version-fast';
const TARGET = 'acme-sandbox';

let client: TenantCloneClient;
let stop: () => Promise<void> = async () => undefined;
const stubs = stubActivities();

before(async () => {
  ({ client, stop } = await startStubWorld(stubs, TASK_QUEUE, require.resolve('../replay/plan-versions/versioned')));
});
after(() => stop());

test('a new clone runs the newest plan version and records it in its history', async () => {
  await client.start({ source: 'acme', target: TARGET, documents: 'all' });
  assert.equal((await client.result(TARGET)).outcome, 'done');
  assert.deepEqual(stubs.calls, [...copyPlanV2.steps.map((st) => st.id), 'notify-requester', 'release-lease']);
  assert.equal(stubs.calls.indexOf(WAIT_AFTER_RECYCLE.id), stubs.calls.indexOf('recycle') + 1);
  assert.equal(copyPlanV2.steps.length, copyPlan.steps.length + 1);
  const progress = await client.progress(TARGET);
  assert.ok(progress.steps.some((st) => st.id === WAIT_AFTER_RECYCLE.id));

  const { events } = await client.client.workflow.getHandle(`clone-${TARGET}`).fetchHistory();
  const markers = (events ?? [])
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map((e) => Buffer.from(e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data ?? []).toString());
  assert.ok(
    markers.some((m) => m.includes(planPatchId('copy', 2))),
    `the history records ${planPatchId('copy', 2)}: ${markers.join(' | ')}`,
  );
});
