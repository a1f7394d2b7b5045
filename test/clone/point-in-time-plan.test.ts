/**
 * The `point-in-time` plan (seed 003) end to end, on real services: the tenants live on a
 * PostgreSQL server archiving its WAL with pgBackRest into Azurite over HTTPS, the server
 * backup runs as the `backupServer` workflow, and a clone restores acme as it was at a noted
 * second into its sandbox, sanitized, open to its administrator alone, with no blob copied.
 * Every preflight refusal leaves the databases, the platform and the backup repository as they
 * were; a worker killed during the scratch restore leaves nothing behind; a failure after the
 * set-aside rolls the target back, checksum for checksum.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { loadProfile, POINT_IN_TIME_PROFILE_PATH } from '../../activities/database/profile';
import { setAsideName } from '../../activities/steps/check-request';
import { DEMO, type DemoWorldOptions } from '../../stack/seed/demo-world';
import { DEFAULT_APP_AUTHORIZATIONS } from '../../stack/seed/tenant-data';
import { CloneRefusedError } from '../../client';
import { pointInTimePlan } from '../../workflows/plans';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { killed } from '../support/kill';
import { waitForStep } from '../support/progress';
import { queryDb } from '../support/postgres';

const SOURCE_DB = 'tenant_acme';
const TARGET_DB = 'tenant_acme_sandbox';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const profile = loadProfile(POINT_IN_TIME_PROFILE_PATH);

describe('point-in-time plan', { timeout: 20 * 60_000 }, () => {
  let stack: CloneStack;
  const sql = <T extends Record<string, unknown>>(db: string, text: string) => queryDb<T>(stack.adminUrl, db, text);

  /** The server's clock after a commit: the second a user would ask for. */
  const serverNow = async () => (await sql<{ now: Date }>('postgres', 'SELECT clock_timestamp() AS now'))[0].now.toISOString();

  /** A fresh demo world and a server backup that holds its databases (the backupServer workflow). */
  const reseedAndBackUp = async () => {
    await stack.reseed({ taskDurationMs: 100 });
    const backup = await (await stack.client.backupServer('diff')).result();
    assert.equal(backup.type, 'diff');
    // A point is restorable from a second after the backup's end.
    await sleep(1500);
  };

  /** What a refused or rolled-back clone must leave exactly as it was. */
  const untouched = async () => {
    const [source, target] = await Promise.all([stack.admin.state(DEMO.source), stack.admin.state(DEMO.target)]);
    return {
      sourceRows: await stack.db.checksum(SOURCE_DB),
      targetRows: await stack.db.checksum(TARGET_DB),
      source: { tenant: source.tenant, hosting: { mode: source.hosting.mode, clusters: source.hosting.clusters }, routes: source.routes, users: source.users },
      target: {
        tenant: target.tenant,
        hosting: { mode: target.hosting.mode, clusters: target.hosting.clusters },
        routes: target.routes,
        mailboxes: target.mailboxes,
        users: target.users,
      },
      scratch: await readdir(stack.archiving!.scratchDir).catch(() => []),
    };
  };

  before(async () => {
    stack = await startCloneStack({ continuousBackup: true });
  });
  after(async () => {
    await stack?.stop();
  });

  test('restores acme as it was at a noted second: exactly its rows, sanitized, only the administrator enabled, every batch job withheld, no blob copied', async () => {
    await reseedAndBackUp();
    await sql(
      SOURCE_DB,
      `INSERT INTO persons (id, first_name, last_name, email) SELECT i, 'Kept', 'Person ' || i, 'kept' || i || '@realcustomer.example' FROM generate_series(900001, 900050) i`,
    );
    await sleep(1100);
    const at = await serverNow();
    // What acme held at that second, read with plain SQL.
    const rowsAt = await sql<{ id: string; first_name: string; last_name: string }>(
      SOURCE_DB,
      'SELECT id::text, first_name, last_name FROM persons ORDER BY id',
    );
    await sleep(1100);
    await sql(SOURCE_DB, `INSERT INTO persons (id, first_name, last_name) SELECT i, 'Later', 'Person ' || i FROM generate_series(900051, 900080) i`);
    await sql(SOURCE_DB, `DELETE FROM persons WHERE id BETWEEN 900001 AND 900010`);
    await sql(SOURCE_DB, `UPDATE persons SET last_name = 'Renamed' WHERE id = 900020`);
    const archive = async () =>
      Object.fromEntries(
        await Promise.all(
          (['templates', 'documents', 'attachments'] as const).map(async (kind) => [
            kind,
            await stack.archives.list({ system: 'azure', tenant: DEMO.target, kind }),
          ]),
        ),
      );
    const archiveBefore = await archive();

    await stack.client.start({ source: DEMO.source, target: DEMO.target, plan: 'point-in-time', pointInTime: at, requestedBy: 'ops@acme.example' });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    const p = await stack.client.progress(DEMO.target);
    assert.equal(p.plan, 'point-in-time');
    assert.deepEqual(
      p.steps.map((st) => st.id),
      [...pointInTimePlan.steps, pointInTimePlan.finally].map((st) => st.id),
    );
    assert.deepEqual(
      p.steps.filter((st) => st.status !== 'done').map((st) => `${st.id}: ${st.status}`),
      [],
    );
    assert.match(p.steps[0].detail ?? '', new RegExp(`as of ${at.replace(/\./g, '\\.')} from diff backup set \\S+D`));

    // Exactly the rows of that second: the later inserts, deletes and update are not there.
    const rowsNow = await sql<{ id: string; first_name: string; last_name: string }>(
      TARGET_DB,
      'SELECT id::text, first_name, last_name FROM persons ORDER BY id',
    );
    assert.equal(rowsNow.length, rowsAt.length);
    assert.deepEqual(rowsNow, rowsAt);
    const [kept] = await sql<{ email: string }>(TARGET_DB, 'SELECT email FROM persons WHERE id = 900005');
    assert.equal(kept.email, 'kept900005_realcustomer.example@mailinator.com');

    // Sanitized by the point-in-time profile, checked over the whole database.
    assert.equal((await stack.db.verifyEmails(TARGET_DB, profile, 'mailinator.com')).total, 0);
    const enabled = await sql<{ login: string; email: string | null; password_hash: string | null }>(
      TARGET_DB,
      'SELECT login, email, password_hash FROM users WHERE enabled AND NOT is_system ORDER BY login',
    );
    assert.deepEqual(enabled, [{ login: 'admin', email: 'sandbox-admin_acme.example@mailinator.com', password_hash: null }]);
    assert.deepEqual(await sql(TARGET_DB, 'SELECT DISTINCT status FROM batch_jobs'), [{ status: 'withhold' }]);
    assert.deepEqual(await sql(TARGET_DB, 'SELECT count(*)::int AS n FROM scheduled_tasks WHERE enabled'), [{ n: 0 }]);
    for (const table of ['print_settings', 'webhooks', 'server_sessions', 'batch_server_config']) {
      assert.deepEqual(await sql(TARGET_DB, `SELECT count(*)::int AS n FROM ${table}`), [{ n: 0 }], table);
    }
    assert.deepEqual(await sql(TARGET_DB, `SELECT value FROM settings WHERE key = 'smtp.relay'`), [{ value: null }]);
    assert.deepEqual(await sql(TARGET_DB, 'SELECT count(*)::int AS n FROM mailboxes WHERE password IS NOT NULL OR encrypted_credentials IS NOT NULL'), [
      { n: 0 },
    ]);
    assert.match((await stack.db.readCompanyInfo(TARGET_DB)).serial, /^Test Env - /);

    // No blob archive was touched: the target keeps its own documents.
    assert.deepEqual(await archive(), archiveBefore);
    const state = await stack.admin.state(DEMO.target);
    assert.equal(state.hosting.mode, 'running');
    assert.equal(state.tenant.state, 'Normal');
    assert.deepEqual(
      state.users.filter((u) => u.enabled).map((u) => u.login),
      ['admin'],
    );
    assert.deepEqual(await readdir(stack.archiving!.scratchDir), [], 'no scratch server is left');
    const notice = await stack.smtp.waitFor((m) => m.to.includes('ops@acme.example'));
    assert.match(notice.subject, /done/);
  });

  test('each preflight refusal names its value, and the databases, the platform and the backup repository are as they were', async () => {
    /** The archiver's last success and failure, to see archive-push fail and recover. */
    const archiver = async () =>
      (await sql<{ ok: Date | null; failed: Date | null }>('postgres', 'SELECT last_archived_time AS ok, last_failed_time AS failed FROM pg_stat_archiver'))[0];
    const switchWal = () => sql('postgres', 'SELECT txid_current(), pg_switch_wal()');
    const until = async (what: string, done: () => Promise<boolean>) => {
      for (const end = Date.now() + 60_000; !(await done()); await sleep(200)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    };
    const cases: {
      name: string;
      tenants?: DemoWorldOptions['tenants'];
      at: () => string;
      message: RegExp;
      setUp?: () => Promise<void>;
      tearDown?: () => Promise<void>;
    }[] = [
      { name: 'in the future', at: () => new Date(Date.now() + 3_600_000).toISOString(), message: /point in time \S+ is in the future/ },
      {
        name: 'outside the retention window',
        at: () => new Date(Date.now() - 29 * 86_400_000).toISOString(),
        message: /outside the retention window: acme is a production tenant, whose backups are kept 28 days/,
      },
      {
        name: 'before the oldest restorable point',
        at: () => new Date(Date.now() - 3 * 3_600_000).toISOString(),
        message: /acme cannot be restored as of \S+: point in time \S+ is before the oldest restorable point, \S+ \(the end of backup set \S+F\)/,
      },
      {
        name: 'the WAL that would reach it is not archived (pgBackRest stopped on the server)',
        at: () => new Date(Date.now() - 1000).toISOString(),
        message: /acme cannot be restored as of \S+: the tenant server has failed to archive its write-ahead log since \S+ \(segment [0-9A-F]{24}\)/,
        setUp: async () => {
          await stack.archiving!.pgbackrest('stop');
          await switchWal();
          await until('a failed archive-push', async () => Boolean((await archiver()).failed));
        },
        tearDown: async () => {
          await stack.archiving!.pgbackrest('start');
          await switchWal();
          await until('archiving to work again', async () => {
            const a = await archiver();
            return Boolean(a.ok && a.failed && a.ok > a.failed);
          });
        },
      },
      {
        name: 'another region',
        tenants: { 'acme-sandbox': { region: 'northeurope' } },
        at: () => new Date(Date.now() - 1000).toISOString(),
        message: /source acme is in region westeurope and target acme-sandbox in region northeurope/,
      },
      {
        name: 'another directory tenant',
        tenants: { 'acme-sandbox': { directoryTenant: 'other.example' } },
        at: () => new Date(Date.now() - 1000).toISOString(),
        message: /directory tenant acme\.example\) and target acme-sandbox \(directory tenant other\.example\) belong to different customers/,
      },
      {
        name: 'an older application version on the target',
        tenants: { 'acme-sandbox': { appVersion: '10.3.9' } },
        at: () => new Date(Date.now() - 1000).toISOString(),
        message: /target acme-sandbox runs application version 10\.3\.9, older than acme's 10\.4\.2/,
      },
      {
        name: 'a source larger than the target capacity',
        tenants: { 'acme-sandbox': { capacityMb: 1 } },
        at: () => new Date(Date.now() - 1000).toISOString(),
        message: /more than the 1 MB capacity of acme-sandbox/,
      },
    ];
    for (const c of cases) {
      await stack.reseed({ taskDurationMs: 100, tenants: c.tenants });
      await c.setUp?.();
      const before = { ...(await untouched()), repository: await stack.archiving!.backupRepository() };
      await assert.rejects(
        stack.client.start({ source: DEMO.source, target: DEMO.target, plan: 'point-in-time', pointInTime: c.at() }),
        (err: unknown) => err instanceof CloneRefusedError && c.message.test(err.message),
        c.name,
      );
      assert.deepEqual({ ...(await untouched()), repository: await stack.archiving!.backupRepository() }, before, c.name);
      assert.equal(await stack.db.exists(setAsideName(TARGET_DB)), false, c.name);
      await c.tearDown?.();
    }
  });

  test('a worker SIGKILLed during the scratch restore: the clone completes and no scratch server or folder is left', async (t) => {
    await reseedAndBackUp();
    const at = await serverNow();
    const addressesAt = await sql(SOURCE_DB, 'SELECT count(*)::int AS n FROM email_addresses');
    await sleep(1100);
    await sql(SOURCE_DB, `DELETE FROM email_addresses WHERE person_id <= 20`);
    assert.notDeepEqual(await sql(SOURCE_DB, 'SELECT count(*)::int AS n FROM email_addresses'), addressesAt);
    await stack.stopWorker();
    const first = await stack.spawnWorker();
    t.after(() => killed(first));
    await stack.client.start({ source: DEMO.source, target: DEMO.target, plan: 'point-in-time', pointInTime: at });
    await waitForStep(stack, 'restore-point-in-time');
    // The scratch server's folder appears once pgBackRest starts restoring into it.
    for (const until = Date.now() + 60_000; (await readdir(stack.archiving!.scratchDir).catch(() => [])).length === 0;) {
      if (Date.now() > until) throw new Error('no scratch folder appeared');
      await sleep(50);
    }
    await killed(first);
    const left = await readdir(stack.archiving!.scratchDir);
    assert.ok(left.includes(TARGET_DB), `the kill left ${left.join(', ')}`);

    const second = await stack.spawnWorker();
    t.after(() => killed(second));
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    assert.deepEqual(await sql(TARGET_DB, 'SELECT count(*)::int AS n FROM email_addresses'), addressesAt);
    assert.deepEqual(await readdir(stack.archiving!.scratchDir), [], 'no scratch folder is left');
    assert.deepEqual(await scratchServers(stack.archiving!.scratchDir), [], 'no scratch server runs');
    await killed(second);
    await stack.restartWorker();
  });

  test('a failure after the set-aside rolls the target back, checksum for checksum, and removes the scratch server', async () => {
    await reseedAndBackUp();
    const at = await serverNow();
    const before = await untouched();
    await stack.admin.failNextDeliveries(DEFAULT_APP_AUTHORIZATIONS[0].appId, 1, 400);
    await stack.client.start({ source: DEMO.source, target: DEMO.target, plan: 'point-in-time', pointInTime: at });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'failed');
    assert.match(end.outcome === 'failed' ? end.message : '', /^notify-apps failed: .*Rolled back: .*renamed back to tenant_acme_sandbox/);
    const p = await stack.client.progress(DEMO.target);
    for (const id of ['restore-point-in-time', 'disable-users', 'scrub-emails', 'set-aside-database', 'enter-maintenance']) {
      assert.equal(p.steps.find((st) => st.id === id)?.status, 'compensated', id);
    }
    assert.deepEqual(await untouched(), before);
    assert.equal(await stack.db.exists(setAsideName(TARGET_DB)), false);
  });
});

/** Processes still running a server out of the scratch folder (read from /proc). */
async function scratchServers(scratchDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(scratchDir)) found.push(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
  }
  return found;
}
