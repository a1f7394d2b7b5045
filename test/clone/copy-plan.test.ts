/**
 * The whole `copy` clone on real services: Temporal dev server, PostgreSQL, Azurite, an SMTP
 * server and the platform emulator over HTTP. Assertions are on what a user would see:
 * rows in the target database, blobs in its containers, mails received, platform state and
 * the workflow's history.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { loginFor } from '../../activities/steps/database';
import { HttpDirectory } from '../../activities/platform/directory';
import { setAsideName } from '../../activities/steps/check-request';
import { testSerial } from '../../activities/steps/tenant-identity';
import { DEMO } from '../../stack/seed/demo-world';
import { DEFAULT_APP_AUTHORIZATIONS } from '../../stack/seed/tenant-data';
import { CloneStep } from '../../workflows/search-attributes';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { queryDb } from '../support/postgres';

const SOURCE_DB = 'tenant_acme';
const TARGET_DB = 'tenant_acme_sandbox';

describe('copy plan, end to end', { timeout: 10 * 60_000 }, () => {
  let stack: CloneStack;

  before(async () => {
    stack = await startCloneStack();
    await stack.reseed();
  });
  after(async () => {
    await stack?.stop();
  });

  test('clones acme into acme-sandbox: data, sanitization, archives, platform, mail, webhooks, history', async () => {
    const sourceBefore = await stack.db.checksum(SOURCE_DB);
    const sourceDocs = await stack.archives.list({ system: 'azure', tenant: DEMO.source, kind: 'documents' });

    await stack.client.start({ source: DEMO.source, target: DEMO.target, documents: 'all', requestedBy: 'ops@acme.example' });
    // What `status` shows of running steps while the clone runs (read from their heartbeats).
    const live = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const p = await stack.client.progress(DEMO.target).catch(() => null);
        for (const st of p?.steps ?? []) if (st.status === 'running' && st.detail) live.add(`${st.id}: ${st.detail}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const end = await stack.client.result(DEMO.target);
    sampling = false;
    await sampler;
    assert.equal(end.outcome, 'done', JSON.stringify(end));

    // Every step of the plan ran; none was skipped for this request.
    const progress = await stack.client.progress(DEMO.target);
    const notDone = progress.steps.filter((st) => st.status !== 'done');
    assert.deepEqual(notDone, []);
    assert.equal(progress.outcome, 'done');
    assert.ok(progress.steps.every((st) => st.startedAt && st.endedAt));
    // The copy wrote the target once, sanitized on the way in; the scrub step only verified.
    const note = (id: string) => progress.steps.find((st) => st.id === id)?.detail ?? '';
    assert.match(note('copy-database'), /every address rewritten to @mailinator\.com on the way in \(\d+ rows/);
    assert.match(note('scrub-emails'), /^nothing left to rewrite: the copy rewrote \d+ rows on their way in; verified: 0 addresses outside @mailinator\.com/);
    // The re-check before opening read only the tables later steps wrote, then left no trigger behind.
    const recheck =
      /re-verified the (\d+) tables written since the gate \(([^)]*)\): no address outside @mailinator\.com; (\d+) unchanged since scrub-emails verified them$/.exec(
        note('enter-running-mode'),
      );
    assert.ok(recheck, note('enter-running-mode'));
    assert.ok(!recheck[2].split(', ').includes('email_addresses') && Number(recheck[3]) > 0, note('enter-running-mode'));
    const [{ leftovers }] = await queryDb<{ leftovers: string }>(
      stack.adminUrl,
      TARGET_DB,
      `SELECT ((SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'tenant_clone%') + (SELECT count(*) FROM pg_event_trigger))::text AS leftovers`,
    );
    assert.equal(leftovers, '0');

    // The target database holds the source's rows…
    const target = await stack.db.checksum(TARGET_DB);
    const rows = (cs: typeof target, table: string) => cs.find((t) => t.table === table)?.rows;
    for (const table of ['persons', 'contacts', 'email_addresses', 'scheduled_tasks', 'tickets']) {
      assert.equal(rows(target, table), rows(sourceBefore, table), `rows of ${table}`);
    }
    // …with no address outside the sandbox domain (checked here with plain SQL, not the engine)…
    const [{ outside }] = await queryDb<{ outside: string }>(
      stack.adminUrl,
      TARGET_DB,
      // Any '@' not followed by exactly the sandbox domain (display names and lists included).
      `SELECT count(*) AS outside FROM email_addresses WHERE address ~* '@(?!mailinator\\.com([^a-z0-9.-]|$))'`,
    );
    assert.equal(Number(outside), 0);
    assert.equal((await stack.db.verifyEmails(TARGET_DB, stack.profile, 'mailinator.com')).total, 0);
    // Seed 000's rule on a plain address: john.doe@company.com -> john.doe_company.com@mailinator.com.
    const [plain] = await queryDb<{ id: number; address: string }>(
      stack.adminUrl,
      SOURCE_DB,
      `SELECT id, address FROM email_addresses WHERE address ~ '^[a-z0-9.]+@[a-z0-9.-]+$' AND address NOT LIKE '%@mailinator.com' AND length(address) < 60 ORDER BY id LIMIT 1`,
    );
    const [copied] = await queryDb<{ address: string }>(stack.adminUrl, TARGET_DB, 'SELECT address FROM email_addresses WHERE id = $1', [plain.id]);
    assert.equal(copied.address, `${plain.address.replace('@', '_')}@mailinator.com`);
    // …every scheduled task disabled, the test serial, the test mailbox, no webhooks left.
    const [{ enabled }] = await queryDb<{ enabled: string }>(stack.adminUrl, TARGET_DB, 'SELECT count(*) AS enabled FROM scheduled_tasks WHERE enabled');
    assert.equal(Number(enabled), 0);
    const company = await stack.db.readCompanyInfo(TARGET_DB);
    assert.equal(company.serial, testSerial('Acme Corporation Sandbox', 'ACME-SBX-0001'));
    assert.equal(company.ownerCompany, 'Acme Corporation Sandbox');
    const mailboxes = await queryDb<{ address: string; password: string | null }>(stack.adminUrl, TARGET_DB, 'SELECT address, password FROM mailboxes');
    assert.deepEqual(mailboxes, [{ address: 'acme-sandbox@mailinator.com', password: null }]);
    assert.equal(rows(target, 'webhooks'), 0);
    // The partner apps authorized on the old sandbox are there again, with their system users.
    const auths = await stack.db.readAppAuthorizations(TARGET_DB);
    assert.deepEqual(auths.map((a) => a.appId).sort(), DEFAULT_APP_AUTHORIZATIONS.map((a) => a.appId).sort());
    const users = await stack.db.listUsers(TARGET_DB);
    for (const a of DEFAULT_APP_AUTHORIZATIONS)
      assert.ok(
        users.some((u) => u.login === a.systemUserLogin && u.isSystem),
        a.systemUserLogin,
      );
    // The tenant's login may connect and read and write the copied tables; the old database,
    // set aside during the clone, is gone.
    const [grants] = await queryDb<{ connect: boolean; rw: boolean }>(
      stack.adminUrl,
      TARGET_DB,
      `SELECT has_database_privilege($1, current_database(), 'CONNECT') AS connect, has_table_privilege($1, 'persons', 'SELECT,INSERT,UPDATE,DELETE') AS rw`,
      [loginFor(TARGET_DB)],
    );
    assert.deepEqual(grants, { connect: true, rw: true });
    assert.equal(await stack.db.exists(setAsideName(TARGET_DB)), false);
    // The source is untouched.
    assert.deepEqual(await stack.db.checksum(SOURCE_DB), sourceBefore);

    // Archives: templates and documents equal the source's (stale blobs gone); attachments of
    // the chosen modules equal the source's; Service attachments (not chosen) are untouched.
    for (const system of ['azure', 'soarc'] as const) {
      for (const kind of ['documents', 'templates'] as const) {
        if (system === 'soarc' && kind === 'templates') continue;
        const want = await stack.archives.list({ system, tenant: DEMO.source, kind });
        const got = await stack.archives.list({ system, tenant: DEMO.target, kind });
        assert.deepEqual(got, want, `${system} ${kind}`);
      }
      for (const module of ['crm', 'sale', 'project']) {
        const at = (tenant: string) => ({ system, tenant, kind: 'attachments' as const, prefix: `${module}/` });
        assert.deepEqual(await stack.archives.list(at(DEMO.target)), await stack.archives.list(at(DEMO.source)), `${system} ${module}`);
      }
      const service = await stack.archives.list({ system, tenant: DEMO.target, kind: 'attachments', prefix: 'service/' });
      const sourceService = await stack.archives.list({ system, tenant: DEMO.source, kind: 'attachments', prefix: 'service/' });
      assert.notDeepEqual(service, sourceService, 'service attachments are not copied by default');
    }
    assert.ok(sourceDocs.length > 0);

    // Mail: the test mailbox's welcome mail and the requester's notice.
    const welcome = await stack.smtp.waitFor((m) => m.to.includes('acme-sandbox@mailinator.com'));
    assert.match(welcome.subject, /Welcome to acme-sandbox/);
    const notice = await stack.smtp.waitFor((m) => m.to.includes('ops@acme.example'));
    assert.match(notice.subject, /acme → acme-sandbox: done/);
    assert.match(notice.text, /done\s+scrub-emails/);

    // Platform state as the seeds describe it.
    const state = await stack.admin.state(DEMO.target);
    const sourceState = await stack.admin.state(DEMO.source);
    assert.equal(state.hosting.mode, 'running');
    assert.equal(state.hosting.pendingOperations, 0);
    assert.deepEqual(state.hosting.clusters, sourceState.hosting.clusters);
    assert.ok(state.hosting.recycles >= 1);
    assert.equal(state.tenant.state, 'Normal');
    assert.equal(state.tenant.registeredDatabase, TARGET_DB);
    assert.equal(state.tenant.testEnvironmentOf, DEMO.source);
    assert.equal(state.tenant.serial, company.serial);
    assert.deepEqual(state.routes, []);
    assert.deepEqual(state.mailboxes, ['acme-sandbox@mailinator.com']);
    const dbUsers = users
      .filter((u) => !u.isSystem)
      .map((u) => u.login)
      .sort();
    assert.deepEqual(state.users.map((u) => u.login).sort(), dbUsers);
    assert.ok(state.users.every((u) => !u.email || u.email.toLowerCase().endsWith('@mailinator.com')));
    // The directory went through InMigration and back, in that order.
    const stateChanges = state.events.filter((e) => e.action.toLowerCase().includes('state')).map((e) => JSON.stringify(e.detail));
    assert.ok(
      stateChanges.some((d) => d.includes('InMigration')),
      JSON.stringify(state.events.map((e) => e.action)),
    );
    // Source platform state untouched.
    assert.equal(sourceState.hosting.mode, 'running');
    assert.equal(sourceState.routes.length, 2);

    // Signed BackupRestored webhooks reached each app authorized on the target.
    const deliveries = await stack.admin.deliveries();
    assert.deepEqual(deliveries.map((d) => d.appId).sort(), DEFAULT_APP_AUTHORIZATIONS.map((a) => a.appId).sort());
    for (const d of deliveries) {
      assert.equal(d.verified, true);
      assert.equal(JSON.parse(d.body).event, 'BackupRestored');
      assert.equal(JSON.parse(d.body).tenant, DEMO.target);
    }

    // Web UI: summary, search attributes, activity summaries naming the step; no secret in history.
    const handle = stack.client.handle(DEMO.target);
    const desc = await handle.describe();
    assert.equal(await desc.staticSummary(), 'Clone acme → acme-sandbox (copy)');
    assert.deepEqual(desc.typedSearchAttributes.get(CloneStep), 'done');
    // Current details (the Web UI's "Current Details"), read through Temporal's built-in metadata query.
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.match(metadata.currentDetails ?? '', /Outcome: \*\*done\*\*/);
    const history = await handle.fetchHistory();
    const summaries = (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => (e.userMetadata?.summary ? defaultPayloadConverter.fromPayload<string>(e.userMetadata.summary) : ''));
    assert.ok(summaries.includes("scrub-emails: Replacing all personal email domains with '@mailinator.com'"), summaries.join('\n'));
    // One activity per step, and the lease given back last.
    assert.equal(summaries.length, progress.steps.length + 1);
    assert.equal(summaries.at(-1), 'release-lease: give the target back');
    assert.equal(await new HttpDirectory(stack.emulator.url).getLease(DEMO.target), null);
    // Running steps showed what they were doing, from their own heartbeats: no message carries
    // progress into the workflow (anyone could send one).
    assert.ok(
      [...live].some((line) => /^[a-z-]+: (waiting for |\d+ hosting operations pending)/.test(line)),
      [...live].join('\n'),
    );
    assert.equal((history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length, 0);
    const raw = JSON.stringify(history);
    for (const secret of [stack.config.TENANT_LOGIN_PASSWORD, stack.config.WEBHOOK_SIGNING_SECRET]) {
      assert.equal(raw.includes(secret), false, 'a secret leaked into workflow history');
      assert.equal(raw.includes(Buffer.from(secret).toString('base64')), false, 'a secret leaked into workflow history (base64)');
    }
  });

  test('cloning again gives the same target (every step is idempotent end to end)', async () => {
    const first = await stack.db.checksum(TARGET_DB);
    const firstBlobs = await stack.archives.list({ system: 'azure', tenant: DEMO.target, kind: 'templates' });
    await stack.client.start({ source: DEMO.source, target: DEMO.target, documents: 'all' });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    assert.deepEqual(await stack.db.checksum(TARGET_DB), first);
    assert.deepEqual(await stack.archives.list({ system: 'azure', tenant: DEMO.target, kind: 'templates' }), firstBlobs);
  });
});
