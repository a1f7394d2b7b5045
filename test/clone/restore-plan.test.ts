/**
 * The `restore` plan (seeds 000/001) end to end, into a production sandbox and into a test
 * environment, and the backups it restores: `backupTenant` writes a dump and a catalogue
 * entry to the backup archive, and two clones from one source share one backup run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO } from '../../stack/seed/demo-world';
import type { CloneProgress } from '../../workflows/messages';
import type { BackupRef } from '../../workflows/step-contract';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { queryDb } from '../support/postgres';

const backupNote = (p: CloneProgress) => /backup (\S+) /.exec(p.steps.find((st) => st.id === 'backup-source')?.detail ?? '')?.[1];

describe('restore plan and backups', { timeout: 15 * 60_000 }, () => {
  let stack: CloneStack;

  before(async () => {
    stack = await startCloneStack();
  });
  after(async () => {
    await stack?.stop();
  });

  test('backupTenant dumps the database into the backup archive with a catalogue entry', async () => {
    await stack.reseed({ taskDurationMs: 100 });
    const handle = await stack.client.backup(DEMO.source);
    const ref: BackupRef = await handle.result();
    assert.equal(ref.tenant, DEMO.source);
    assert.equal(ref.engine, 'postgres');
    assert.ok(ref.sizeBytes > 0);
    const at = { system: 'azure' as const, tenant: DEMO.source, kind: 'backups' as const };
    const entry = JSON.parse((await stack.archives.getText(at, ref.catalogueBlob)) ?? 'null');
    assert.deepEqual({ ...entry, database: undefined }, { ...ref, database: undefined });
    assert.equal(entry.database, 'tenant_acme');
    const blobs = await stack.archives.list(at);
    assert.equal(blobs.find((b) => b.name === ref.dumpBlob)?.size, ref.sizeBytes);
    // Only a reference went through history, never the dump.
    const history = JSON.stringify(await handle.fetchHistory());
    assert.ok(history.length < 200_000, `history is ${history.length} bytes`);
  });

  for (const [target, kind, plan] of [
    [DEMO.target, 'sandbox', 'sandbox-user'],
    [DEMO.testTarget, 'test', 'test-environment-user'],
  ] as const) {
    test(`restores acme's backup into the ${kind} ${target}, sanitized, every seed step done`, async () => {
      await stack.reseed({ taskDurationMs: 100 });
      const sourceRows = await stack.db.checksum('tenant_acme');
      await stack.client.start({ source: DEMO.source, target, plan: 'restore', targetKind: kind, requestedBy: 'ops@acme.example' });
      const end = await stack.client.result(target);
      assert.equal(end.outcome, 'done', JSON.stringify(end));
      const p = await stack.client.progress(target);
      assert.equal(p.plan, 'restore');
      // A brand-new test environment had no database, so no partner apps to re-create.
      const mayBeSkipped = kind === 'test' ? ['create-partner-system-users'] : [];
      assert.deepEqual(
        p.steps.filter((st) => st.status !== 'done' && !(st.status === 'skipped' && mayBeSkipped.includes(st.id))).map((st) => `${st.id}: ${st.status}`),
        [],
      );
      assert.ok(backupNote(p), 'backup-source names its backup');

      const db = `tenant_${target.replace('-', '_')}`;
      const rows = await stack.db.checksum(db);
      for (const table of ['persons', 'email_addresses', 'contacts']) {
        assert.equal(rows.find((t) => t.table === table)?.rows, sourceRows.find((t) => t.table === table)?.rows, table);
      }
      assert.equal((await stack.db.verifyEmails(db, stack.profile, 'mailinator.com')).total, 0);
      const [{ enabled }] = await queryDb<{ enabled: string }>(stack.adminUrl, db, 'SELECT count(*) AS enabled FROM scheduled_tasks WHERE enabled');
      assert.equal(Number(enabled), 0);
      const plans = await queryDb<{ plan: string | null }>(stack.adminUrl, db, 'SELECT DISTINCT plan FROM users WHERE NOT is_system AND enabled');
      assert.deepEqual(
        plans.map((r) => r.plan),
        [plan],
      );
      assert.match((await stack.db.readCompanyInfo(db)).serial, /^Test Env - /);
      const state = await stack.admin.state(target);
      assert.equal(state.hosting.mode, 'running');
      assert.equal(state.tenant.state, 'Normal');
      assert.deepEqual(state.mailboxes, [`${target}@mailinator.com`]);
      assert.equal(await stack.db.exists(`${db}__set_aside`), false);
    });
  }

  test('two clones from one source started together share one backup run', async () => {
    await stack.reseed({ persons: 20_000, taskDurationMs: 100 });
    const since = new Date();
    await Promise.all([
      stack.client.start({ source: DEMO.source, target: DEMO.target, plan: 'restore' }),
      stack.client.start({ source: DEMO.source, target: DEMO.testTarget, plan: 'restore' }),
    ]);
    const ends = await Promise.all([stack.client.result(DEMO.target), stack.client.result(DEMO.testTarget)]);
    assert.deepEqual(
      ends.map((e) => e.outcome),
      ['done', 'done'],
      JSON.stringify(ends),
    );
    const ids = await Promise.all([DEMO.target, DEMO.testTarget].map(async (t) => backupNote(await stack.client.progress(t))));
    assert.ok(ids[0]);
    assert.equal(ids[0], ids[1]);
    const runs: string[] = [];
    for await (const wf of stack.client.client.workflow.list({ query: `WorkflowType = 'backupTenant' AND StartTime >= '${since.toISOString()}'` }))
      runs.push(wf.runId);
    assert.equal(runs.length, 1, `backup runs: ${runs.join(', ')}`);
  });
});
