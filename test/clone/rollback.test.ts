/**
 * Rollback on real services: a clone cancelled at three points, and one failing late in the
 * plan, leave the target exactly as it was: every table's checksum, its directory record,
 * hosting mode and clusters, mail routes and mailboxes. The clone's result says cancelled or
 * failed and `progress` marks the undone steps `compensated`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_PROFILE_PATH } from '../../activities/database/profile';
import { setAsideName } from '../../activities/steps/check-request';
import { DEMO } from '../../stack/seed/demo-world';
import { DEFAULT_APP_AUTHORIZATIONS } from '../../stack/seed/tenant-data';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { waitForStep } from '../support/progress';

const TARGET_DB = 'tenant_acme_sandbox';

/** Everything a rollback must put back (recycles cannot be taken back and are left out). */
async function targetState(stack: CloneStack) {
  const s = await stack.admin.state(DEMO.target);
  return {
    tables: await stack.db.checksum(TARGET_DB),
    directory: s.tenant,
    hosting: { mode: s.hosting.mode, clusters: s.hosting.clusters },
    routes: s.routes,
    mailboxes: s.mailboxes,
    users: s.users,
  };
}

describe('rollback', { timeout: 15 * 60_000 }, () => {
  let stack: CloneStack;

  before(async () => {
    stack = await startCloneStack();
    // Small scrub batches make scrub-emails last long enough to be cancelled while it runs; it
    // rewrites in place (the path of restored backups) so there is something to cancel.
    const profile = readFileSync(DEFAULT_PROFILE_PATH, 'utf8').replace(/batchSize: \d+/, 'batchSize: 200');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tc-profile-')), 'slow-scrub.yaml');
    writeFileSync(file, profile);
    await stack.restartWorker({ SANITIZATION_PROFILE: file, SANITIZE_IN_FLIGHT: 'false' });
  });
  after(async () => {
    await stack?.stop();
  });

  const cancelAt = async (stepId: string) => {
    await stack.reseed({ persons: 20_000, taskDurationMs: 100 });
    const before = await targetState(stack);
    await stack.client.start({ source: DEMO.source, target: DEMO.target, requestedBy: 'ops@acme.example' });
    await waitForStep(stack, stepId);
    await stack.client.cancel(DEMO.target, `stop during ${stepId}`);
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'cancelled', JSON.stringify(end));
    const p = await stack.client.progress(DEMO.target);
    assert.deepEqual(await targetState(stack), before);
    assert.equal(await stack.db.exists(setAsideName(TARGET_DB)), false);
    return { p, message: end.outcome === 'cancelled' ? end.message : '' };
  };

  test('cancel before the old database is set aside: the target is as it was', async () => {
    const { p, message } = await cancelAt('connect-clusters');
    // The cancel reaches the workflow within a step or two: whatever ran is undone.
    assert.match(
      message,
      /^cancelled: stop during connect-clusters\. Rolled back: (1 mail routes restored; )?clusters back to weu-db-02, weu-app-01; hosting mode back to running\.$/,
    );
    assert.equal(p.steps.find((st) => st.id === 'enter-maintenance')?.status, 'compensated');
    assert.equal(p.steps.find((st) => st.id === 'set-aside-database')?.status, 'pending');
  });

  test('cancel during copy-database: the new database is dropped and the old one renamed back', async () => {
    const { p, message } = await cancelAt('copy-database');
    assert.match(message, /renamed back to tenant_acme_sandbox/);
    // Cancelled while it ran, or finished just before the cancel reached it: undone either way.
    assert.ok(['failed', 'compensated'].includes(p.steps.find((st) => st.id === 'copy-database')?.status ?? ''));
    for (const id of ['enter-maintenance', 'connect-clusters', 'remove-mail-routes', 'set-aside-database', 'create-database']) {
      assert.equal(p.steps.find((st) => st.id === id)?.status, 'compensated', id);
    }
    const notice = await stack.smtp.waitFor((m) => m.to.includes('ops@acme.example'));
    assert.match(notice.subject, /cancelled/);
    assert.match(notice.text, /compensated\s+set-aside-database/);
  });

  test('cancel during scrub-emails (Temporal cancellation): rolled back the same way', async () => {
    // Enough rows that the scrub is still running when the cancel reaches it (on its next heartbeat).
    await stack.reseed({ persons: 60_000, taskDurationMs: 100 });
    const before = await targetState(stack);
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    await waitForStep(stack, 'scrub-emails');
    await stack.client.handle(DEMO.target).cancel();
    const end = await stack.client.result(DEMO.target);
    assert.deepEqual(end, { outcome: 'cancelled', message: 'cancelled from Temporal' });
    assert.equal(await stack.client.workflowStatus(DEMO.target), 'CANCELLED');
    const p = await stack.client.progress(DEMO.target);
    assert.match(p.message ?? '', /^cancelled from Temporal\. Rolled back: .*renamed back/);
    assert.equal(p.steps.find((st) => st.id === 'scrub-emails')?.status, 'failed');
    assert.equal(p.steps.find((st) => st.id === 'copy-database')?.status, 'compensated');
    assert.deepEqual(await targetState(stack), before);
  });

  test('a non-retryable failure late in the plan (a partner app rejects its webhook) rolls everything back', async () => {
    await stack.reseed({ persons: 2_000, taskDurationMs: 100 });
    const before = await targetState(stack);
    await stack.admin.failNextDeliveries(DEFAULT_APP_AUTHORIZATIONS[0].appId, 1, 400);
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'failed');
    const message = end.outcome === 'failed' ? end.message : '';
    assert.match(message, /^notify-apps failed: .*rejected the BackupRestored notification.*Rolled back: /);
    const p = await stack.client.progress(DEMO.target);
    assert.equal(p.outcome, 'failed');
    assert.equal(p.steps.find((st) => st.id === 'notify-apps')?.status, 'failed');
    const compensated = p.steps.filter((st) => st.status === 'compensated').map((st) => st.id);
    for (const id of ['scrub-emails', 'provision-mail', 'directory-normal', 'update-company-info', 'enter-maintenance', 'remove-mail-routes']) {
      assert.ok(compensated.includes(id), `${id} compensated: ${compensated.join(', ')}`);
    }
    // Archive copies cannot be taken back: they stay done, and say so by not being compensated.
    assert.equal(p.steps.find((st) => st.id === 'clone-templates')?.status, 'done');
    assert.deepEqual(await targetState(stack), before);
    assert.equal(await stack.db.exists(setAsideName(TARGET_DB)), false);
  });

  test('a finished clone keeping its old database can be rolled back until the retention ends', async () => {
    await stack.reseed({ persons: 2_000, taskDurationMs: 100 });
    const before = await targetState(stack);
    await stack.client.start({ source: DEMO.source, target: DEMO.target, retainOldDatabaseFor: '1h' });
    const retained = await waitForStep(stack, 'drop-set-aside-database');
    assert.match(
      retained.steps.find((st) => st.id === 'drop-set-aside-database')?.detail ?? '',
      /old database kept until .*tenant-clone rollback acme-sandbox/,
    );
    assert.equal((await stack.admin.state(DEMO.target)).hosting.mode, 'running');
    assert.equal(await stack.db.exists(setAsideName(TARGET_DB)), true);

    await stack.client.rollback(DEMO.target, 'wrong source data');
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'cancelled');
    assert.match(
      end.outcome === 'cancelled' ? end.message : '',
      /^rolled back on request: wrong source data\. Rolled back: acme-sandbox offline for the rollback; /,
    );
    assert.deepEqual(await targetState(stack), before);
    assert.equal(await stack.db.exists(setAsideName(TARGET_DB)), false);
    const p = await stack.client.progress(DEMO.target);
    assert.equal(p.steps.find((st) => st.id === 'enter-running-mode')?.status, 'compensated');
    assert.equal(p.steps.find((st) => st.id === 'drop-set-aside-database')?.status, 'skipped');
  });

  test('when the retention ends the old database is dropped and there is nothing left to roll back', async () => {
    await stack.reseed({ persons: 500, taskDurationMs: 100 });
    await stack.client.start({ source: DEMO.source, target: DEMO.target, retainOldDatabaseFor: '3s' });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    assert.equal(await stack.db.exists(setAsideName(TARGET_DB)), false);
    await assert.rejects(stack.client.rollback(DEMO.target), /nothing to roll back: the clone of acme-sandbox is done/);
  });
});
