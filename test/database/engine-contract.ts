/**
 * The contract every TenantDatabase engine must pass, against a real server. Each engine's
 * test file calls engineContract() with a factory; the suite seeds its own uniquely named
 * databases with the demo CRM data and drops them at the end.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DatabaseInspection, ScrubCheckpoint, TableChecksum, TenantDatabase } from '../../activities/database/port';
import { loadProfile, type SanitizationProfile } from '../../activities/database/profile';
import { seedTenantDatabase, type SeedOptions } from '../../stack/seed/tenant-data';
import { queryDb, uniqueDbName } from '../support/postgres';

export interface EngineUnderTest {
  engine: TenantDatabase & DatabaseInspection;
  adminUrl: string;
  cleanup: () => Promise<void>;
  /** Seeds a demo tenant database; defaults to the PostgreSQL seed. */
  seed?: (db: string, opts: SeedOptions) => Promise<void>;
  /** Runs SQL on a database for assertions; defaults to a pg connection. */
  query?: (db: string, sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;
  /** Drops a database whatever state it is in; defaults to engine.dropDatabase. */
  drop?: (db: string) => Promise<void>;
  /** Opens a separate session on a database (to hold it open or keep a transaction open); defaults to a pg client. */
  session?: (db: string) => Promise<HeldSession>;
}

export interface HeldSession {
  query: (sql: string) => Promise<unknown>;
  /** Also called on a session the engine already disconnected: must not throw then. */
  end: () => Promise<void>;
}

async function pgSession(adminUrl: string, db: string): Promise<HeldSession> {
  const { Client } = await import('pg');
  const url = new URL(adminUrl);
  url.pathname = `/${db}`;
  const client = new Client({ connectionString: url.toString() });
  client.on('error', () => undefined); // a session may be disconnected on purpose
  await client.connect();
  return { query: (sql) => client.query(sql), end: () => client.end().catch(() => undefined) };
}

const SANDBOX = 'mailinator.com';
const PROD_URL = 'https://acme.example-crm.com';
const SEED: SeedOptions = { tenantId: 'acme', companyName: 'Acme AS', baseUrl: PROD_URL, persons: 300 };

function byTable(sums: TableChecksum[]): Record<string, string> {
  return Object.fromEntries(sums.map((s) => [s.table, `${s.rows}:${s.md5}`]));
}

export function engineContract(name: string, make: () => Promise<EngineUnderTest>): void {
  describe(`TenantDatabase contract: ${name}`, () => {
    let t: EngineUnderTest;
    let engine: TenantDatabase & DatabaseInspection;
    let profile: SanitizationProfile;
    let backupDir: string;
    const created: string[] = [];
    const seed = async (prefix: string, opts: Partial<SeedOptions> = {}): Promise<string> => {
      const db = uniqueDbName(prefix);
      created.push(db);
      await (t.seed ?? ((d, o) => seedTenantDatabase(t.adminUrl, d, o)))(db, { ...SEED, ...opts });
      return db;
    };
    const fresh = (prefix: string): string => {
      const db = uniqueDbName(prefix);
      created.push(db);
      return db;
    };
    const session = (db: string) => (t.session ?? ((d) => pgSession(t.adminUrl, d)))(db);
    const q = (db: string, sql: string, params: unknown[] = []) => (t.query ?? ((d, s, p) => queryDb(t.adminUrl, d, s, p)))(db, sql, params);
    /** Runs `op` twice and asserts the second run leaves the same data. */
    const twiceSame = async (db: string, op: () => Promise<unknown>): Promise<void> => {
      await op();
      const first = byTable(await engine.checksum(db));
      await op();
      assert.deepEqual(byTable(await engine.checksum(db)), first);
    };

    before(async () => {
      t = await make();
      engine = t.engine;
      profile = loadProfile();
      backupDir = await mkdtemp(path.join(os.tmpdir(), 'contract-backups-'));
    });

    after(async () => {
      for (const db of created) await (t.drop ?? ((d) => engine.dropDatabase(d)))(db).catch(() => undefined);
      await engine.close();
      await t.cleanup();
      await rm(backupDir, { recursive: true, force: true });
    });

    test('create, exists, size and drop are idempotent', async () => {
      const db = fresh('c_create');
      assert.equal(await engine.exists(db), false);
      await engine.createDatabase(db);
      await engine.createDatabase(db);
      assert.equal(await engine.exists(db), true);
      assert.ok((await engine.sizeBytes(db)) > 0);
      await engine.dropDatabase(db);
      await engine.dropDatabase(db);
      assert.equal(await engine.exists(db), false);
      await assert.rejects(engine.sizeBytes(db), new RegExp(`"${db}" does not exist`));
    });

    test('create refuses a database that already holds tables', async () => {
      const db = await seed('c_full');
      await assert.rejects(engine.createDatabase(db), /already exists and holds \d+ tables/);
    });

    test('bad identifiers are refused with an error naming the value', async () => {
      await assert.rejects(engine.createDatabase('Bad;Name'), /"Bad;Name"/);
      await assert.rejects(engine.dropDatabase('x"; DROP DATABASE postgres; --'), /x\\"; DROP DATABASE postgres/);
      await assert.rejects(engine.renameDatabase('ok_name', '1nope'), /"1nope"/);
      await assert.rejects(engine.ensureLogin('ok_name', "Robert'); DROP"), /Robert/);
      await assert.rejects(engine.copyDatabase('ok_name', 'bad-name'), /"bad-name"/);
    });

    test('rename disconnects sessions of the source and is idempotent', async () => {
      const from = await seed('c_ren_a');
      const to = fresh('c_ren_b');
      const before = byTable(await engine.checksum(from));
      const held = await session(from); // it is expected to be disconnected
      await engine.renameDatabase(from, to);
      await held.end();
      await engine.renameDatabase(from, to); // already done: no-op
      assert.equal(await engine.exists(from), false);
      assert.deepEqual(byTable(await engine.checksum(to)), before);
      await assert.rejects(engine.renameDatabase(fresh('c_ren_none'), fresh('c_ren_none2')), /does not exist/);
      const other = await seed('c_ren_c', { persons: 10 });
      await assert.rejects(engine.renameDatabase(other, to), new RegExp(`"${to}" already exists`));
    });

    test('ensureLogin and grantQueryRole are idempotent', async () => {
      const db = await seed('c_login', { persons: 20 });
      const before = byTable(await engine.checksum(db));
      await engine.ensureLogin(db, `${db}_login`);
      await engine.ensureLogin(db, `${db}_login`);
      await engine.grantQueryRole(db, `${db}_query`);
      await engine.grantQueryRole(db, `${db}_query`);
      assert.deepEqual(byTable(await engine.checksum(db)), before);
      await assert.rejects(engine.ensureLogin(fresh('c_login_none'), 'some_login'), /does not exist/);
    });

    test('copy gives the source data, re-runs cleanly over a half-restored target, reports progress', async () => {
      const source = await seed('c_copy_src');
      const target = fresh('c_copy_dst');
      await engine.createDatabase(target);
      const progress: number[] = [];
      const r = await engine.copyDatabase(source, target, { jobs: 2, onProgress: (p) => progress.push(p.percent) });
      const sourceSums = byTable(await engine.checksum(source));
      assert.deepEqual(byTable(await engine.checksum(target)), sourceSums);
      assert.equal(r.tables, Object.keys(sourceSums).length);
      assert.ok(r.bytes > 0);
      assert.equal(progress.at(-1), 100);
      assert.ok(
        progress.every((p, i) => i === 0 || p >= progress[i - 1]),
        `progress not monotonic: ${progress.join(',')}`,
      );

      // Simulate an interrupted restore: some tables missing and partly filled, plus junk.
      await q(target, 'DROP TABLE email_addresses');
      await q(target, 'DELETE FROM tickets WHERE id > 10');
      await q(target, 'CREATE TABLE leftover_junk (id integer)');
      await engine.copyDatabase(source, target, { jobs: 2 });
      assert.deepEqual(byTable(await engine.checksum(target)), sourceSums);
    });

    test('copy of a live source: open sessions and an open transaction are not disturbed', async () => {
      const source = await seed('c_live_src');
      const target = fresh('c_live_dst');
      await engine.createDatabase(target);
      const committedBefore = byTable(await engine.checksum(source));
      const holder = await session(source);
      try {
        await holder.query('BEGIN');
        await holder.query(`INSERT INTO persons (id, first_name, last_name, email) VALUES (999999, 'Open', 'Transaction', 'open@tx.example')`);
        await holder.query(`UPDATE tickets SET title = 'changed in open transaction' WHERE id = 1`);
        await engine.copyDatabase(source, target, { jobs: 2 });
        // The copy is the committed snapshot; the open transaction goes on and commits.
        assert.deepEqual(byTable(await engine.checksum(target)), committedBefore);
        await holder.query('COMMIT');
      } finally {
        await holder.end();
      }
      const rows = await q(source, 'SELECT count(*)::int AS n FROM persons WHERE id = 999999');
      assert.equal(rows[0].n, 1);
    });

    test('copy honours an abort signal', async () => {
      const source = await seed('c_abort_src');
      const target = fresh('c_abort_dst');
      await engine.createDatabase(target);
      const ac = new AbortController();
      const copying = engine.copyDatabase(source, target, { jobs: 2, signal: ac.signal, onProgress: () => ac.abort(new Error('cancelled by test')) });
      await assert.rejects(copying, /aborted/);
      // A later full copy still succeeds on the interrupted target.
      await engine.copyDatabase(source, target, { jobs: 1 });
      assert.deepEqual(byTable(await engine.checksum(target)), byTable(await engine.checksum(source)));
    });

    test('backup of a live database (an open transaction elsewhere) restores to the committed data', async () => {
      const source = await seed('c_bak_src');
      const target = fresh('c_bak_dst');
      await engine.createDatabase(target);
      const file = path.join(backupDir, 'live.dump');
      const committedBefore = byTable(await engine.checksum(source));
      const holder = await session(source);
      const progress: number[] = [];
      try {
        await holder.query('BEGIN');
        await holder.query(`INSERT INTO persons (id, first_name, last_name, email) VALUES (999999, 'Open', 'Transaction', 'open@tx.example')`);
        await holder.query(`UPDATE tickets SET title = 'changed in open transaction' WHERE id = 1`);
        const backup = await engine.backupDatabase(source, file, { onProgress: (p) => progress.push(p.percent) });
        assert.equal(backup.bytes, (await stat(file)).size);
        assert.ok(backup.bytes > 0 && backup.format.length > 0, JSON.stringify(backup));
        await holder.query('COMMIT');
      } finally {
        await holder.end();
      }
      assert.equal(progress.at(-1), 100);
      assert.ok(progress.length > 2, `too little progress: ${progress.join(',')}`);
      assert.ok(
        progress.every((p, i) => i === 0 || p >= progress[i - 1]),
        `progress not monotonic: ${progress.join(',')}`,
      );
      assert.deepEqual(await readdir(backupDir), ['live.dump'], 'no temporary file is left beside the backup');
      assert.deepEqual(await q(source, 'SELECT count(*)::int AS n FROM persons WHERE id = 999999'), [{ n: 1 }]);

      const restoreProgress: number[] = [];
      const r = await engine.restoreDatabase(file, target, { jobs: 2, onProgress: (p) => restoreProgress.push(p.percent) });
      assert.deepEqual(byTable(await engine.checksum(target)), committedBefore);
      assert.equal(r.tables, Object.keys(committedBefore).length);
      assert.ok(r.bytes > 0);
      assert.equal(restoreProgress.at(-1), 100);
      assert.ok(
        restoreProgress.every((p, i) => i === 0 || p >= restoreProgress[i - 1]),
        `progress not monotonic: ${restoreProgress.join(',')}`,
      );
      // One step per table: a progress count far above the table count would mean double counting.
      assert.ok(restoreProgress.length <= r.tables + 2, `restore progress steps ${restoreProgress.length} for ${r.tables} tables`);
    });

    test('restore re-runs cleanly over a half-restored target and gives the same data each time', async () => {
      const source = await seed('c_rst_src', { persons: 100 });
      const target = fresh('c_rst_dst');
      await engine.createDatabase(target);
      const file = path.join(backupDir, 'rerun.dump');
      await engine.backupDatabase(source, file);
      const sourceSums = byTable(await engine.checksum(source));
      await engine.restoreDatabase(file, target, { jobs: 1 });
      assert.deepEqual(byTable(await engine.checksum(target)), sourceSums);

      // Simulate an interrupted restore: some tables missing and partly filled, plus junk.
      await q(target, 'DROP TABLE email_addresses');
      await q(target, 'DELETE FROM tickets WHERE id > 10');
      await q(target, 'CREATE TABLE leftover_junk (id integer)');
      await engine.restoreDatabase(file, target, { jobs: 2 });
      assert.deepEqual(byTable(await engine.checksum(target)), sourceSums);
      await engine.restoreDatabase(file, target, { jobs: 2 });
      assert.deepEqual(byTable(await engine.checksum(target)), sourceSums);
    });

    test('backup honours an abort signal and leaves no file behind', async () => {
      const source = await seed('c_bak_abort');
      const dir = await mkdtemp(path.join(backupDir, 'abort-'));
      const file = path.join(dir, 'aborted.dump');
      const ac = new AbortController();
      const dumping = engine.backupDatabase(source, file, { signal: ac.signal, onProgress: () => ac.abort(new Error('cancelled by test')) });
      await assert.rejects(dumping, /aborted/);
      assert.deepEqual(await readdir(dir), []);
      // The database is untouched and a later backup succeeds.
      const again = await engine.backupDatabase(source, file);
      assert.equal(again.bytes, (await stat(file)).size);
    });

    test('backup and restore refuse bad input with an error naming it', async () => {
      const target = fresh('c_rst_bad');
      await engine.createDatabase(target);
      const missing = path.join(backupDir, 'no-such-backup.dump');
      await assert.rejects(engine.restoreDatabase(missing, target), (err: Error) => err.message.includes(missing));
      const junk = path.join(backupDir, 'junk.dump');
      await writeFile(junk, 'this is not a database dump');
      await assert.rejects(engine.restoreDatabase(junk, target), (err: Error) => err.message.includes(junk));
      await assert.rejects(engine.restoreDatabase(junk, 'Bad-Target'), /"Bad-Target"/);
      await assert.rejects(engine.backupDatabase('Bad;Name', path.join(backupDir, 'x.dump')), /"Bad;Name"/);
      const noDir = path.join(backupDir, 'no-such-folder', 'x.dump');
      await assert.rejects(engine.backupDatabase(target, noDir), (err: Error) => err.message.includes(noDir));
      await assert.rejects(engine.backupDatabase(fresh('c_bak_none'), path.join(backupDir, 'none.dump')), /does not exist/);
    });

    test('prepareDatabase rewrites identity and URLs, clears, deletes and closes; a second run changes nothing', async () => {
      const db = await seed('c_prep');
      const identity = { tenantId: 'acme-sandbox', companyName: 'Acme AS (sandbox)', serial: 'TEST-1', baseUrl: 'https://acme-sandbox.example-crm.com' };
      const counts = await engine.prepareDatabase(db, identity, profile, PROD_URL);
      assert.equal(counts.company_info, 1);
      assert.equal(counts.webhooks, 4);
      assert.equal(counts.server_sessions, 12);
      assert.equal(counts.mailboxes, 3);
      assert.ok(counts.tickets > 0);
      assert.equal(counts.settings, 5);
      const settings = await q(db, 'SELECT key, value FROM settings ORDER BY key');
      const value = (k: string) => settings.find((s) => s.key === k)?.value;
      assert.equal(value('app.base_url'), 'https://acme-sandbox.example-crm.com');
      assert.equal(value('mail.unsubscribe_url'), 'https://acme-sandbox.example-crm.com/newsletter/unsubscribe?list=all');
      assert.equal(value('lookalike.url'), 'https://acme.example-crm.com.evil-example.org/x');
      assert.equal(value('help.url'), 'https://help.example-crm.com/docs');
      const [info] = await q(db, 'SELECT tenant_id, company_name, serial, base_url FROM company_info');
      assert.deepEqual(info, { tenant_id: 'acme-sandbox', company_name: 'Acme AS (sandbox)', serial: 'TEST-1', base_url: identity.baseUrl });
      assert.deepEqual(await q(db, `SELECT count(*)::int AS n FROM tickets WHERE status = 'open'`), [{ n: 0 }]);
      assert.deepEqual(await q(db, 'SELECT count(*)::int AS n FROM mailboxes WHERE password IS NOT NULL OR encrypted_credentials IS NOT NULL'), [{ n: 0 }]);
      assert.deepEqual(await q(db, 'SELECT count(*)::int AS n FROM webhooks'), [{ n: 0 }]);
      const tasks = await q(db, 'SELECT callback_url FROM scheduled_tasks ORDER BY id LIMIT 1');
      assert.equal(tasks[0].callback_url, 'https://acme-sandbox.example-crm.com/api/tasks/1/run');

      const sums = byTable(await engine.checksum(db));
      const again = await engine.prepareDatabase(db, identity, profile, PROD_URL);
      assert.ok(
        Object.values(again).every((n) => n === 0),
        JSON.stringify(again),
      );
      assert.deepEqual(byTable(await engine.checksum(db)), sums);
      await assert.rejects(engine.prepareDatabase(db, { ...identity, baseUrl: 'not a url' }, profile, PROD_URL), /"not a url"/);
    });

    test('disableScheduledTasks leaves no enabled task and withholds jobs; idempotent', async () => {
      const db = await seed('c_tasks', { persons: 20 });
      assert.ok((await engine.countEnabledScheduledTasks(db, profile)) > 0);
      const counts = await engine.disableScheduledTasks(db, profile);
      assert.ok(counts.scheduled_tasks > 0 && counts.batch_jobs > 0, JSON.stringify(counts));
      assert.equal(await engine.countEnabledScheduledTasks(db, profile), 0);
      assert.deepEqual(await q(db, `SELECT count(*)::int AS n FROM batch_jobs WHERE status IN ('waiting', 'executing')`), [{ n: 0 }]);
      await twiceSame(db, () => engine.disableScheduledTasks(db, profile));
    });

    test('fixSystemUsers creates and repairs the system users; idempotent', async () => {
      const db = await seed('c_sys', { persons: 20 });
      await q(db, `DELETE FROM users WHERE login = 'system'`);
      await q(db, `UPDATE users SET enabled = false, is_system = false WHERE login = 'batch-runner'`);
      const logins = await engine.fixSystemUsers(db, profile);
      assert.deepEqual(logins.sort(), [...profile.users.systemUsers].sort());
      const users = await engine.listUsers(db);
      for (const login of profile.users.systemUsers) {
        const u = users.find((x) => x.login === login);
        assert.ok(u && u.enabled && u.isSystem, `${login}: ${JSON.stringify(u)}`);
      }
      await twiceSame(db, () => engine.fixSystemUsers(db, profile));
    });

    test('assignUserPlans gives the plan to enabled non-system users only; idempotent', async () => {
      const db = await seed('c_plans', { persons: 20 });
      const allowed = await engine.assignUserPlans(db, profile, 'crm-sandbox');
      const users = await engine.listUsers(db);
      const expected = users
        .filter((u) => u.enabled && !u.isSystem)
        .map((u) => u.login)
        .sort();
      assert.deepEqual(allowed, expected);
      assert.ok(allowed.includes('admin'));
      for (const u of users.filter((x) => !x.isSystem)) assert.equal(u.plan, u.enabled ? 'crm-sandbox' : null, u.login);
      await twiceSame(db, () => engine.assignUserPlans(db, profile, 'crm-sandbox'));

      const onlyAdmin = { ...profile, users: { ...profile.users, allowedLogins: ['admin'] } };
      assert.deepEqual(await engine.assignUserPlans(db, onlyAdmin, 'crm-sandbox'), ['admin']);
      assert.deepEqual(
        (await engine.listUsers(db)).filter((u) => u.plan !== null).map((u) => u.login),
        ['admin'],
      );
      await assert.rejects(engine.assignUserPlans(db, profile, "x'; --"), /invalid user plan/);
    });

    test('replaceMailboxes leaves only the test mailbox without credentials; idempotent', async () => {
      const db = await seed('c_mail', { persons: 20 });
      await twiceSame(db, () => engine.replaceMailboxes(db, 'acme-sandbox@mail.example-crm.com'));
      const rows = await q(db, 'SELECT address, password, encrypted_credentials FROM mailboxes');
      assert.deepEqual(rows, [{ address: 'acme-sandbox@mail.example-crm.com', password: null, encrypted_credentials: null }]);
      await assert.rejects(engine.replaceMailboxes(db, 'not-an-address'), /"not-an-address"/);
    });

    test('setCompanyInfo and readCompanyInfo round-trip; idempotent', async () => {
      const db = await seed('c_company', { persons: 20 });
      const info = { companyName: 'Acme AS', serial: 'Test Env - ACME AS/SN-1', license: 'Sandbox license', ownerCompany: 'Acme Sandbox' };
      await twiceSame(db, () => engine.setCompanyInfo(db, info));
      assert.deepEqual(await engine.readCompanyInfo(db), info);
      await assert.rejects(engine.setCompanyInfo(db, { ...info, serial: '' }), /serial/);
    });

    test('app authorizations are read from one database and restored into another with their system users', async () => {
      const apps = [
        { appId: 'app-x', appName: 'App X', systemUserLogin: 'sys-app-x' },
        { appId: 'app-y', appName: 'App Y', systemUserLogin: 'sys-app-y' },
      ];
      const old = await seed('c_apps_old', { persons: 20, appAuthorizations: apps });
      const target = await seed('c_apps_new', { persons: 20, appAuthorizations: [] });
      const read = await engine.readAppAuthorizations(old);
      assert.deepEqual(read, apps);
      assert.deepEqual(await engine.readAppAuthorizations(fresh('c_apps_gone')), []);
      await twiceSame(target, () => engine.restoreAppAuthorizations(target, read));
      assert.deepEqual(await engine.readAppAuthorizations(target), apps);
      const users = await engine.listUsers(target);
      for (const a of apps)
        assert.ok(
          users.some((u) => u.login === a.systemUserLogin && u.isSystem && u.enabled),
          a.systemUserLogin,
        );
    });

    test('verification finds a planted foreign address; after the scrub it reports 0; the scrub is idempotent', async () => {
      const db = await seed('c_scrub');
      await q(db, `UPDATE email_addresses SET address = 'planted@real-person.example' WHERE id = 7`);
      await q(db, `UPDATE users SET email = '"Real" <real@person.example>; x@mailinator.com' WHERE login = 'admin'`);
      const beforeScrub = await engine.verifyEmails(db, profile, SANDBOX);
      assert.ok(beforeScrub.total > 0);
      assert.ok(beforeScrub.remaining['email_addresses.address'] > 0);
      assert.ok(
        beforeScrub.findings.some((f) => f.startsWith('email_addresses.address: ') && f.includes('…@')),
        beforeScrub.findings.join('\n'),
      );
      assert.ok(
        beforeScrub.findings.every((f) => !f.includes('planted')),
        'findings show domains, never local parts',
      );
      const progress: number[] = [];
      const cp = await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX, batchSize: 200, onBatch: (_c, p) => progress.push(p.percent) });
      assert.equal(cp.tableName, null, 'every table done');
      assert.ok(cp.table >= 8, `only ${cp.table} tables scrubbed`);
      assert.ok(cp.rewritten > 0 && cp.batches > 1);
      assert.ok(progress.length === cp.batches);
      const v = await engine.verifyEmails(db, profile, SANDBOX);
      assert.equal(v.total, 0, v.findings.join('\n'));
      assert.deepEqual(await q(db, 'SELECT address FROM email_addresses WHERE id = 7'), [{ address: 'planted_real-person.example@mailinator.com' }]);
      assert.deepEqual(await q(db, `SELECT email FROM users WHERE login = 'admin'`), [
        { email: '"Real" <real_person.example@mailinator.com>; x@mailinator.com' },
      ]);
      await twiceSame(db, () => engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX, batchSize: 200 }));
    });

    test('a scrub interrupted after two batches and resumed from its checkpoint equals an uninterrupted one', async () => {
      const a = await seed('c_resume_a');
      const b = await seed('c_resume_b');
      await engine.scrubEmails(a, profile, { sandboxDomain: SANDBOX, batchSize: 150 });

      let last: ScrubCheckpoint | undefined;
      let batches = 0;
      await assert.rejects(
        engine.scrubEmails(b, profile, {
          sandboxDomain: SANDBOX,
          batchSize: 150,
          onBatch: (cp) => {
            last = cp;
            if (++batches === 2) throw new Error('worker crashed');
          },
        }),
        /worker crashed/,
      );
      assert.ok(last && last.batches === 2 && (last.after !== null || last.table > 0));
      const done = await engine.scrubEmails(b, profile, { sandboxDomain: SANDBOX, batchSize: 150, checkpoint: last });
      assert.equal(done.tableName, null);
      assert.ok(done.batches > 2);
      assert.deepEqual(byTable(await engine.checksum(b)), byTable(await engine.checksum(a)));
      assert.equal((await engine.verifyEmails(b, profile, SANDBOX)).total, 0);
    });

    test('with a run id, a crashed scrub resumes after its last committed batch even without a heartbeat, and redoes none', async () => {
      const a = await seed('c_durable_a');
      const b = await seed('c_durable_b');
      const whole = await engine.scrubEmails(a, profile, { sandboxDomain: SANDBOX, batchSize: 150, runId: 'run-1' });

      let seen = 0;
      await assert.rejects(
        engine.scrubEmails(b, profile, {
          sandboxDomain: SANDBOX,
          batchSize: 150,
          runId: 'run-1',
          // The heartbeat of batch 3 never leaves the dying worker: only the database knows it.
          onBatch: () => {
            if (++seen === 3) throw new Error('worker killed');
          },
        }),
        /worker killed/,
      );
      let ranAfterResume = 0;
      const resumed = await engine.scrubEmails(b, profile, { sandboxDomain: SANDBOX, batchSize: 150, runId: 'run-1', onBatch: () => void ranAfterResume++ });
      assert.equal(ranAfterResume, whole.batches - 3, 'the resumed scrub ran only the batches not yet committed');
      assert.equal(resumed.batches, whole.batches);
      assert.equal(resumed.rewritten, whole.rewritten);
      assert.deepEqual(byTable(await engine.checksum(b)), byTable(await engine.checksum(a)));

      // Another run (e.g. a re-clone, or a copy of a database that was itself scrubbed) starts
      // over, and finds nothing left to change.
      const scrubbed = byTable(await engine.checksum(b));
      const other = await engine.scrubEmails(b, profile, { sandboxDomain: SANDBOX, batchSize: 150, runId: 'run-2' });
      assert.ok(other.batches > 3, `the other run walked every table again (${other.batches} batches)`);
      assert.deepEqual(byTable(await engine.checksum(b)), scrubbed);
    });

    test('checksum sees a one-value change', async () => {
      const db = await seed('c_sum', { persons: 20 });
      const before = byTable(await engine.checksum(db));
      await q(db, `UPDATE persons SET first_name = 'Changed' WHERE id = 3`);
      const after = byTable(await engine.checksum(db));
      assert.notEqual(after.persons, before.persons);
      assert.equal(after.contacts, before.contacts);
    });
  });
}
