/**
 * Signals and cancellation on a running clone, on real services: `skipOptionalDocuments`
 * skips the document copies and nothing else; a second clone of a running target is refused;
 * `cancel` and Temporal's own cancellation stop the clone (rollback itself: rollback.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { CloneAlreadyRunningError } from '../../client';
import { DEMO } from '../../stack/seed/demo-world';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { waitForStep } from '../support/progress';

const TARGET_DB = 'tenant_acme_sandbox';

describe('signals and cancellation', { timeout: 10 * 60_000 }, () => {
  let stack: CloneStack;

  before(async () => {
    stack = await startCloneStack();
  });
  after(async () => {
    await stack?.stop();
  });

  test('skipOptionalDocuments sent while the clone runs skips the document steps and nothing else', async () => {
    // Long-running tasks keep the clone waiting in enter-maintenance while the signal arrives.
    await stack.reseed({ taskDurationMs: 2500 });
    const oldDocs = await stack.archives.list({ system: 'azure', tenant: DEMO.target, kind: 'documents' });
    await stack.client.start({ source: DEMO.source, target: DEMO.target, documents: 'all', requestedBy: 'ops@acme.example' });
    const running = await stack.client.progress(DEMO.target);
    assert.equal(running.outcome, 'running');
    await stack.client.skipDocuments(DEMO.target);

    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    const p = await stack.client.progress(DEMO.target);
    const skipped = p.steps.filter((st) => st.status === 'skipped');
    assert.deepEqual(
      skipped.map((st) => st.id),
      ['clone-documents-azure', 'clone-documents-soarc'],
    );
    assert.ok(skipped.every((st) => /skipOptionalDocuments/.test(st.detail ?? '')));
    assert.deepEqual(
      p.steps.filter((st) => st.status !== 'done' && st.status !== 'skipped'),
      [],
    );
    // The target's documents were not replaced; its attachments were.
    assert.deepEqual(await stack.archives.list({ system: 'azure', tenant: DEMO.target, kind: 'documents' }), oldDocs);
    const crm = (tenant: string) => stack.archives.list({ system: 'azure', tenant, kind: 'attachments', prefix: 'crm/' });
    assert.deepEqual(await crm(DEMO.target), await crm(DEMO.source));
  });

  test('a second clone of a running target is refused; cancel before any change leaves the target as it was', async () => {
    await stack.reseed({ taskDurationMs: 4000 });
    const before = await stack.db.checksum(TARGET_DB);
    await stack.client.start({ source: DEMO.source, target: DEMO.target, requestedBy: 'ops@acme.example' });

    await assert.rejects(
      stack.client.start({ source: DEMO.source, target: DEMO.target }),
      (err: unknown) => err instanceof CloneAlreadyRunningError && /already running \(workflow clone-acme-sandbox\)/.test(err.message),
    );

    await waitForStep(stack, 'enter-maintenance', ['running']);
    await stack.client.cancel(DEMO.target, 'requested by the test');
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'cancelled');
    // The step was waiting for tasks when it was cancelled; its undo puts the mode back regardless.
    assert.equal(end.outcome === 'cancelled' ? end.message : '', 'cancelled: requested by the test. Rolled back: hosting mode back to running.');

    const p = await stack.client.progress(DEMO.target);
    assert.equal(p.outcome, 'cancelled');
    assert.equal(p.steps.find((st) => st.id === 'enter-maintenance')?.status, 'failed');
    assert.ok(
      p.steps.filter((st) => st.id !== 'check-request' && st.id !== 'enter-maintenance' && st.id !== 'notify-requester').every((st) => st.status === 'pending'),
    );
    assert.deepEqual(await stack.db.checksum(TARGET_DB), before);
    assert.equal((await stack.admin.state(DEMO.target)).hosting.mode, 'running');
    const notice = await stack.smtp.waitFor((m) => m.to.includes('ops@acme.example'));
    assert.match(notice.subject, /cancelled/);
  });

  test("Temporal's own cancellation (the Web UI's Cancel) stops the clone like cancel", async () => {
    await stack.reseed({ taskDurationMs: 4000 });
    await stack.client.start({ source: DEMO.source, target: DEMO.target, requestedBy: 'ops@acme.example' });
    await waitForStep(stack, 'enter-maintenance', ['running']);
    await stack.client.handle(DEMO.target).cancel();
    const end = await stack.client.result(DEMO.target);
    assert.deepEqual(end, { outcome: 'cancelled', message: 'cancelled from Temporal' });
    assert.equal(await stack.client.workflowStatus(DEMO.target), 'CANCELLED');
    const p = await stack.client.progress(DEMO.target);
    assert.equal(p.message, 'cancelled from Temporal. Rolled back: hosting mode back to running.');
    assert.equal(p.steps.find((st) => st.id === 'notify-requester')?.status, 'done');
    await assert.rejects(stack.client.handle(DEMO.target).result(), WorkflowFailedError);
  });
});
