/**
 * A caller with plain access to the Temporal namespace, trying what the `temporal` CLI allows:
 * a second clone of a target under another workflow id, extra request fields, malformed
 * payloads to every message handler, and a forged progress report during retention. None of it
 * may run beside the real clone, wedge it, or keep it from rolling back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { HttpDirectory } from '../../activities/platform/directory';
import { DEMO } from '../../stack/seed/demo-world';
import { CLONE_REFUSED } from '../../workflows/messages';
import { badReasonPayload } from '../../workflows/message-checks';
import { cliFor } from '../support/cli';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { waitForStep } from '../support/progress';

const TARGET_DB = 'tenant_acme_sandbox';
const HUGE = 'x'.repeat(200_000);

/** At least 30 payloads no handler expects. */
const MALFORMED: unknown[] = [
  null,
  0,
  42,
  -1,
  3.5,
  Number.MAX_SAFE_INTEGER,
  true,
  false,
  '',
  'text',
  HUGE,
  [],
  [1, 2],
  [null],
  ['reason'],
  {},
  { reason: 42 },
  { reason: null },
  { reason: {} },
  { reason: ['a'] },
  { reason: HUGE },
  { reason: true },
  { stepId: 42, percent: 'x', detail: null },
  { stepId: 'scrub-emails' },
  { stepId: 'scrub-emails', percent: Number.NaN, detail: 'x' },
  { stepId: HUGE, percent: 50, detail: 'x' },
  { __proto__: { reason: 'polluted' } },
  JSON.parse('{"__proto__":{"reason":"x"},"constructor":{"prototype":{"x":1}}}'),
  { toString: 'not a function' },
  { reason: 'ok', extra: 'field' },
  { nested: { deep: { deeper: [1, { a: null }] } } },
];

describe('hostile callers', { timeout: 15 * 60_000 }, () => {
  let stack: CloneStack;
  const cli = cliFor(() => stack);

  before(async () => {
    stack = await startCloneStack();
  });
  after(async () => {
    await stack?.stop();
  });

  const refusedWith = (message: RegExp) => (err: unknown) => {
    const cause = (err as WorkflowFailedError).cause;
    return cause instanceof ApplicationFailure && cause.type === CLONE_REFUSED && message.test(cause.message);
  };

  test('a second clone of the same target under another workflow id is refused, forged progress shows nowhere; the first is untouched', async () => {
    await stack.reseed({ persons: 2_000, taskDurationMs: 100 });
    // Hold the first clone where the target is still as it was: enter-maintenance waits for
    // this task, so the target's database, hosting mode and scheduled tasks are stable meanwhile.
    await stack.admin.queueTask(DEMO.target, 20_000);
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    for (;;) {
      const st = (await waitForStep(stack, 'enter-maintenance', ['running'])).steps.find((x) => x.id === 'enter-maintenance');
      if (st?.detail?.startsWith('waiting for')) break;
    }
    const sample = async () => ({ db: await stack.db.checksum(TARGET_DB), mode: (await stack.admin.state(DEMO.target)).hosting.mode });
    const before = await sample();
    for (const input of [
      { source: 'acme', target: 'acme-sandbox' },
      { source: 'acme', target: 'acme-sandbox', evil: 'x' },
    ]) {
      const second = await stack.client.client.workflow.start('cloneTenant', {
        args: [input],
        taskQueue: stack.config.TASK_QUEUE,
        workflowId: `clone-x-${Object.keys(input).length}`,
      });
      await assert.rejects(second.result(), refusedWith(/must run as workflow clone-acme-sandbox|unknown field "evil"/));
      // The refusal came before anything: its history shows no activity at all, and the target
      // is as it was.
      const history = await second.fetchHistory();
      assert.equal((history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length, 0);
      assert.deepEqual(await sample(), before);
    }
    // Progress comes from the running step's heartbeat: a forged report shows nowhere.
    const status = async () => {
      const r = await cli('status', DEMO.target, '--json');
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const shown = await status();
    const h = stack.client.handle(DEMO.target);
    for (const stepId of ['enter-maintenance', 'drop-set-aside-database', 'scrub-emails']) {
      await h.signal('stepProgress', { stepId, percent: 99, detail: `FORGED ${stepId}: kept until 2999-01-01` });
    }
    assert.deepEqual(await status(), shown);
    assert.equal((await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails?.includes('FORGED'), false);
    // The samples prove something only if the first clone was still held while they were taken.
    const held = await stack.client.progress(DEMO.target);
    assert.equal(held.steps.find((st) => st.id === 'enter-maintenance')?.status, 'running', 'the hold ended before the samples were taken');
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
  });

  test('after a refused request, status still shows the last clone that ran, and names the refusals', async () => {
    await stack.reseed({ taskDurationMs: 100 });
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    assert.equal((await stack.client.result(DEMO.target)).outcome, 'done');
    const last = await stack.client.progress(DEMO.target);
    // Refused by check-request (the source is unknown) and, sent around the client, by the workflow itself.
    const refused = await cli('start', 'nosuch', DEMO.target);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    const raw = await stack.client.client.workflow.start('cloneTenant', {
      args: [{ source: 'acme', target: 'acme-sandbox', evil: 1 }],
      taskQueue: stack.config.TASK_QUEUE,
      workflowId: 'clone-acme-sandbox',
    });
    await assert.rejects(raw.result(), refusedWith(/unknown field "evil"/));
    const r = await cli('status', DEMO.target, '--json');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const shown = JSON.parse(r.stdout) as { runId: string; outcome: string; laterRefusals: { message: string }[] };
    assert.equal(shown.runId, last.runId);
    assert.equal(shown.outcome, 'done');
    assert.deepEqual(
      shown.laterRefusals.map((x) => x.message.match(/nosuch|unknown field "evil"/)?.[0]),
      ['unknown field "evil"', 'nosuch'],
    );
    const text = await cli('status', DEMO.target);
    assert.match(text.stdout, /refused later .*nothing touched: .*unknown field "evil"/);
    // `list` shows all three runs of clone-acme-sandbox.
    const list = await cli('list', '--json');
    const runs = (JSON.parse(list.stdout) as { target: string; status: string }[]).filter((x) => x.target === DEMO.target);
    assert.ok(runs.filter((x) => x.status === 'FAILED').length >= 2 && runs.some((x) => x.status === 'COMPLETED'), list.stdout);
  });

  /** Start a clone held at enter-maintenance (a platform task it waits for): the target is still as it was. */
  const heldClone = async (holdMs: number) => {
    await stack.reseed({ persons: 1_000, taskDurationMs: 100 });
    await stack.admin.queueTask(DEMO.target, holdMs);
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    for (;;) {
      const st = (await waitForStep(stack, 'enter-maintenance', ['running'])).steps.find((x) => x.id === 'enter-maintenance');
      if (st?.detail?.startsWith('waiting for')) return;
    }
  };

  test('a clone whose lease is taken from it changes nothing more of the target, its rollback included', async () => {
    await heldClone(8_000);
    const directory = new HttpDirectory(stack.emulator.url);
    const holder = await directory.getLease(DEMO.target);
    assert.match(holder ?? '', /^clone-acme-sandbox\/[0-9a-f-]+$/);
    const before = { db: await stack.db.checksum(TARGET_DB), mode: (await stack.admin.state(DEMO.target)).hosting.mode };
    assert.deepEqual(await directory.acquireLease(DEMO.target, 'intruder/run-1', holder), { acquired: true });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'failed', JSON.stringify(end));
    assert.match(
      end.outcome === 'failed' ? end.message : '',
      /enter-maintenance failed: acme-sandbox is no longer owned by this run .* but by intruder\/run-1.*Rollback incomplete/,
    );
    assert.deepEqual({ db: await stack.db.checksum(TARGET_DB), mode: (await stack.admin.state(DEMO.target)).hosting.mode }, before);
    assert.equal(await directory.getLease(DEMO.target), 'intruder/run-1', 'the clone did not release what is not its own');
  });

  test('a backup of a tenant being cloned into is refused, naming the clone; a lease left by a terminated clone is taken over', async () => {
    await heldClone(20_000);
    const directory = new HttpDirectory(stack.emulator.url);
    const first = await directory.getLease(DEMO.target);
    const r = await cli('backup', DEMO.target, '--wait');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /backup of acme-sandbox refused: acme-sandbox is owned by clone-acme-sandbox\/\S+, which is still running/);
    await stack.client.handle(DEMO.target).terminate('test: leave the lease behind');
    assert.equal(await directory.getLease(DEMO.target), first);
    // The terminated run's activity may still be running: once the new clone owns the target,
    // the platform refuses whatever it still tries.
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    const leases = (await stack.admin.state(DEMO.target)).events.filter((e) => e.action.startsWith('directory.lease'));
    assert.deepEqual(
      leases.map((e) => [e.action, e.detail.replaced ?? null]),
      [
        ['directory.lease.acquired', null],
        ['directory.lease.acquired', first],
        ['directory.lease.released', null],
      ],
    );
    assert.equal(await directory.getLease(DEMO.target), null, 'released at the end');
  });

  test('the client refuses unknown request fields by name', async () => {
    await assert.rejects(
      stack.client.start({ source: 'acme', target: 'acme-sandbox', mail_domain: 'x.invalid' } as never),
      /the clone request has unknown field "mail_domain"; the fields are source, target, plan/,
    );
  });

  test(`${MALFORMED.length} malformed payloads to every handler: refused or ignored, and the clone finishes normally`, async () => {
    assert.ok(MALFORMED.length >= 30);
    await stack.reseed({ persons: 2_000, taskDurationMs: 2500 });
    await stack.client.start({ source: DEMO.source, target: DEMO.target, documents: 'all' });
    const h = stack.client.handle(DEMO.target);
    await waitForStep(stack, 'enter-maintenance', ['running']);
    for (const payload of MALFORMED) {
      // Updates answer their sender: every malformed one is refused by its validator.
      for (const name of ['cancelClone', 'rollbackClone']) {
        // What arrives is the payload's JSON; a well-formed cancel would cancel, so only the malformed are sent.
        if (badReasonPayload(JSON.parse(JSON.stringify(payload) ?? 'null')) === null) continue;
        await assert.rejects(
          h.executeUpdate(name, { args: [payload] }),
          (err: unknown) => err instanceof WorkflowUpdateFailedError && new RegExp(`${name} refused: `).test(err.cause?.message ?? ''),
          `${name} ${JSON.stringify(payload)?.slice(0, 60)}`,
        );
      }
      // Signals cannot answer: a payload that is not a progress report is ignored; a rollback
      // of a clone that keeps no old database does nothing.
      await h.signal('stepProgress', payload);
      await h.signal('rollback', payload);
    }
    await assert.rejects(
      h.executeUpdate('skipOptionalDocumentsNow', { args: [{ please: true }] }),
      (err: unknown) =>
        err instanceof WorkflowUpdateFailedError &&
        /skipOptionalDocumentsNow refused: this update takes no payload, got an object/.test(err.cause?.message ?? ''),
    );
    // Still answering, still running, then done, with the documents copied (nothing skipped them).
    const p = await stack.client.progress(DEMO.target);
    assert.equal(p.outcome, 'running');
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    assert.equal((await stack.client.progress(DEMO.target)).steps.find((st) => st.id === 'clone-documents-azure')?.status, 'done');
    // No workflow task failed along the way.
    const history = await h.fetchHistory();
    assert.equal((history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length, 0);
  });

  test('a cancel signal with a null payload (as `temporal workflow signal` sends one) cancels and rolls back', async () => {
    await stack.reseed({ persons: 2_000, taskDurationMs: 2500 });
    const before = await stack.db.checksum(TARGET_DB);
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    await waitForStep(stack, 'enter-maintenance', ['running']);
    await stack.client.handle(DEMO.target).signal('cancel', null);
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'cancelled', JSON.stringify(end));
    assert.match(end.outcome === 'cancelled' ? end.message : '', /^cancelled: no reason given\. Rolled back: hosting mode back to running\./);
    assert.deepEqual(await stack.db.checksum(TARGET_DB), before);
  });

  test('a forged progress report during retention cannot hide the retained database: rollback still works', async () => {
    await stack.reseed({ persons: 1_000, taskDurationMs: 100 });
    await stack.client.start({ source: DEMO.source, target: DEMO.target, retainOldDatabaseFor: '1h' });
    await waitForStep(stack, 'drop-set-aside-database');
    const h = stack.client.handle(DEMO.target);
    await h.signal('stepProgress', { stepId: 'drop-set-aside-database', percent: 100, detail: 'nothing here' });
    assert.doesNotMatch(JSON.stringify(await stack.client.progress(DEMO.target)), /nothing here/);
    const p = await stack.client.progress(DEMO.target);
    assert.ok(p.retainedUntil && Date.parse(p.retainedUntil) > Date.now(), `retainedUntil ${p.retainedUntil}`);
    const rollback = await cli('rollback', DEMO.target, '--reason', 'forged progress', '--wait');
    assert.equal(rollback.code, 0, rollback.stdout + rollback.stderr);
    assert.match(rollback.stdout, /rolled back on request: forged progress\. Rolled back: /);
    assert.equal(await stack.db.exists(`${TARGET_DB}__set_aside`), false);
  });

  test('a failing backup says what failed, not "Activity task failed"', async () => {
    const r = await cli('backup', 'nosuch', '--wait');
    assert.equal(r.code, 1);
    assert.ok(!/Activity task failed/.test(r.stderr), r.stderr);
    assert.match(r.stderr, /backup of nosuch failed: .*nosuch/);
  });
});
