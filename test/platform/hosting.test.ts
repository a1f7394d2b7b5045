import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpHosting } from '../../activities/platform/hosting';
import { PlatformHttpError } from '../../activities/platform/http-client';
import { startTestEmulator, type TestEmulator } from '../support/emulator';
import { rejection, seed, waitFor } from './fixtures';

// Long enough that "still pending right after the call" holds on a loaded 2-core machine.
const OPERATION_DELAY_MS = 800;

describe('HttpHosting against the platform emulator', () => {
  let emulator: TestEmulator;
  let hosting: HttpHosting;

  before(async () => {
    emulator = await startTestEmulator({ operationDelayMs: OPERATION_DELAY_MS, taskDurationMs: 700 });
    hosting = new HttpHosting(emulator.url);
  });
  after(() => emulator.close());

  beforeEach(async () => {
    await emulator.admin.reset();
    await emulator.admin.putTenant(seed('acme', { hosting: { mode: 'running', clusters: ['eu-a', 'eu-b'], recycles: 2 } }));
  });

  const settled = (tenant: string) =>
    waitFor(`hosting operations of ${tenant} to be applied`, async () => {
      const state = await hosting.getState(tenant);
      return state.pendingOperations === 0 ? state : undefined;
    });

  test('getState reports the seeded state', async () => {
    assert.deepEqual(await hosting.getState('acme'), {
      mode: 'running',
      clusters: ['eu-a', 'eu-b'],
      runningTasks: 0,
      lastQueuedTask: 0,
      lastFinishedTask: 0,
      recycles: 2,
      pendingOperations: 0,
    });
  });

  test('running tasks finish over time and the finished-task watermark advances', async () => {
    // Task 2 is short, task 1 long: lastFinishedTask must not jump past the still-running task 1.
    await emulator.admin.putTenant(seed('busy', { hosting: { tasks: [{ durationMs: 0 }, { durationMs: 1500 }, { durationMs: 100 }] } }));
    const start = await hosting.getState('busy');
    assert.equal(start.lastQueuedTask, 3);
    assert.equal(start.lastFinishedTask, 1);
    assert.ok(start.runningTasks >= 1 && start.runningTasks <= 2, `runningTasks ${start.runningTasks}`);

    const afterShort = await waitFor('task 3 to finish', async () => {
      const s = await hosting.getState('busy');
      return s.runningTasks === 1 ? s : undefined;
    });
    assert.equal(afterShort.lastFinishedTask, 1, 'task 2 still runs, so only task 1 counts as finished');

    const done = await waitFor('every task to finish', async () => {
      const s = await hosting.getState('busy');
      return s.runningTasks === 0 ? s : undefined;
    });
    assert.equal(done.lastFinishedTask, 3);
    assert.equal(done.lastQueuedTask, 3);

    const next = await emulator.admin.queueTask('busy', 200);
    assert.equal(next, 4);
    const queued = await hosting.getState('busy');
    assert.equal(queued.lastQueuedTask, 4);
    assert.equal(queued.lastFinishedTask, 3);
    await waitFor('task 4 to finish', async () => ((await hosting.getState('busy')).lastFinishedTask === 4 ? true : undefined));
  });

  test('setMode is pending for a moment, then applied; it is accepted while tasks run', async () => {
    await emulator.admin.queueTask('acme', 5_000);
    await hosting.setMode('acme', 'maintenance');
    const right = await hosting.getState('acme');
    assert.equal(right.mode, 'running', 'not applied yet');
    assert.equal(right.pendingOperations, 1);
    assert.equal(right.runningTasks, 1);

    const applied = await settled('acme');
    assert.equal(applied.mode, 'maintenance');
    const [op] = (await emulator.admin.state('acme')).operations;
    assert.ok(op?.appliedAt);
    assert.ok(Date.parse(op.appliedAt) - Date.parse(op.requestedAt) >= OPERATION_DELAY_MS);

    await hosting.setMode('acme', 'running');
    assert.equal((await settled('acme')).mode, 'running');
  });

  test('setMode to the mode the tenant already has (or will have) queues nothing', async () => {
    await hosting.setMode('acme', 'running');
    assert.equal((await hosting.getState('acme')).pendingOperations, 0);
    await hosting.setMode('acme', 'maintenance');
    await hosting.setMode('acme', 'maintenance');
    assert.equal((await hosting.getState('acme')).pendingOperations, 1);
    assert.equal((await settled('acme')).mode, 'maintenance');
    assert.equal((await emulator.admin.state('acme')).operations.length, 1);
  });

  test('setClusters routes the tenant once applied; bad cluster names are a 400 naming the entry', async () => {
    await hosting.setClusters('acme', ['old-1']);
    assert.deepEqual((await hosting.getState('acme')).clusters, ['eu-a', 'eu-b']);
    assert.deepEqual((await settled('acme')).clusters, ['old-1']);
    await hosting.setClusters('acme', ['old-1']);
    assert.equal((await hosting.getState('acme')).pendingOperations, 0);

    const bad = await rejection(hosting.setClusters('acme', ['ok', 'not a cluster']));
    assert.equal((bad as PlatformHttpError).status, 400);
    assert.match(bad.message, /field "clusters\[1\]"/);
    assert.match(bad.message, /"not a cluster"/);
    const empty = await rejection(hosting.setClusters('acme', []));
    assert.match(empty.message, /field "clusters": must name at least one cluster/);
  });

  test('recycle counts one restart per call, applied after the delay', async () => {
    await hosting.recycle('acme');
    await hosting.recycle('acme');
    const pending = await hosting.getState('acme');
    assert.equal(pending.recycles, 2);
    assert.equal(pending.pendingOperations, 2);
    assert.equal((await settled('acme')).recycles, 4);
  });

  test('operations apply in order and each leaves an event at its apply time', async () => {
    await hosting.setMode('acme', 'maintenance');
    await hosting.setClusters('acme', ['c9']);
    await hosting.setMode('acme', 'running');
    const final = await settled('acme');
    assert.equal(final.mode, 'running');
    assert.deepEqual(final.clusters, ['c9']);
    const applied = (await emulator.admin.state('acme')).events
      .filter((e) => e.action.endsWith('.applied'))
      .map((e) => `${e.action}:${JSON.stringify(e.detail.value)}`);
    assert.deepEqual(applied, ['hosting.mode.applied:"maintenance"', 'hosting.clusters.applied:["c9"]', 'hosting.mode.applied:"running"']);
  });

  test('a bad mode is a 400 naming the field; an unknown tenant is a 404 naming it', async () => {
    const bad = await rejection(hosting.setMode('acme', 'offline' as 'running'));
    assert.equal((bad as PlatformHttpError).status, 400);
    assert.match(bad.message, /field "mode".*"offline"/);

    for (const call of [
      () => hosting.getState('ghost'),
      () => hosting.setMode('ghost', 'maintenance'),
      () => hosting.setClusters('ghost', ['a']),
      () => hosting.recycle('ghost'),
    ]) {
      const err = await rejection(call());
      assert.equal((err as PlatformHttpError).status, 404);
      assert.match(err.message, /unknown tenant "ghost"/);
    }
  });
});
