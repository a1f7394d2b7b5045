/**
 * The engine contract on PostgreSQL, plus what only PostgreSQL can show: the tenant login
 * really logs in with the configured password and can read/write, the query role can read but
 * not write, and the login keeps its rights on tables restored after it was created.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtemp, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { PostgresTenantDatabase, tenantDatabaseName } from '../../activities/database/postgres/engine';
import { seedTenantDatabase } from '../../stack/seed/tenant-data';
import { adminUrl, databaseUrl, dropDatabase, loginUrl, queryDb, uniqueDbName } from '../support/postgres';
import { engineContract } from './engine-contract';

const PASSWORD = 'contract-login-password';

engineContract('postgres', async () => ({
  engine: new PostgresTenantDatabase({ adminUrl: adminUrl(), loginPassword: PASSWORD }),
  adminUrl: adminUrl(),
  // Roles are server-wide: drop the ones this process's contract run created.
  cleanup: async () => {
    const roles = await queryDb<{ rolname: string }>(adminUrl(), 'postgres', `SELECT rolname FROM pg_roles WHERE rolname LIKE $1`, [
      `c\\_login\\_${process.pid}\\_%`,
    ]);
    for (const r of roles) await queryDb(adminUrl(), 'postgres', `DROP ROLE IF EXISTS "${r.rolname}"`);
  },
}));

describe('PostgreSQL specifics', () => {
  const admin = adminUrl();
  const engine = new PostgresTenantDatabase({ adminUrl: admin, loginPassword: PASSWORD, pgBinDir: '/usr/bin' });
  const source = uniqueDbName('pgspec_src');
  const target = uniqueDbName('pgspec_dst');
  const login = `${target}_login`;
  const queryRole = `${target}_query`;

  before(async () => {
    await seedTenantDatabase(admin, source, { tenantId: 'acme', companyName: 'Acme AS', baseUrl: 'https://acme.example-crm.com', persons: 50 });
  });

  after(async () => {
    await engine.close();
    await dropDatabase(admin, source);
    await dropDatabase(admin, target);
    await queryDb(admin, 'postgres', `DROP ROLE IF EXISTS "${login}"`).catch(() => undefined);
    await queryDb(admin, 'postgres', `DROP ROLE IF EXISTS "${queryRole}"`).catch(() => undefined);
  });

  test('tenantDatabaseName maps ids and refuses bad ones by name', () => {
    assert.equal(tenantDatabaseName('acme-sandbox'), 'tenant_acme_sandbox');
    assert.throws(() => tenantDatabaseName('Acme'), /"Acme"/);
    assert.throws(() => tenantDatabaseName('a'), /"a"/);
  });

  test('reserved role names are refused by name', async () => {
    await assert.rejects(engine.ensureLogin(source, 'pg_sneaky'), /"pg_sneaky".*reserved/);
  });

  test('point-in-time restore without a continuous backup is refused with the setting to make, bad names by name, and nothing is touched', async () => {
    const before = await engine.checksum(source);
    await assert.rejects(
      engine.restoreToPointInTime(source, target, '2026-11-21T00:00:00Z'),
      /no continuous backup of the PostgreSQL tenant server configured \(set PGBACKREST_STANZA/,
    );
    assert.deepEqual(await engine.pointInTimeCoverage(source, '2026-11-21T00:00:00Z'), {
      reachable: false,
      reason:
        'this worker has no continuous backup of the PostgreSQL tenant server configured (set PGBACKREST_STANZA, and PGBACKREST_CONFIG where its configuration file is not the default)',
    });
    assert.equal(engine.continuousBackup, null);
    await assert.rejects(engine.restoreToPointInTime('Bad;name', target, '2026-11-21T00:00:00Z'), /invalid database name "Bad;name"/);
    assert.deepEqual(await engine.checksum(source), before);
    assert.equal(await engine.exists(target), false);
  });

  test('a copy or backup behind an exclusive lock on the source fails within the lock wait, naming the table; it works once released', async () => {
    const impatient = new PostgresTenantDatabase({ adminUrl: admin, loginPassword: PASSWORD, lockWaitTimeoutMs: 300 });
    const blocked = uniqueDbName('pgspec_lock');
    const holder = new Client({ connectionString: databaseUrl(admin, source) });
    await holder.connect();
    try {
      await impatient.createDatabase(blocked);
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE persons IN ACCESS EXCLUSIVE MODE');
      const lockMessage = /pg_dump waited more than 300 ms for a share lock on public\.persons in ".*": another session holds a stronger lock/;
      await assert.rejects(impatient.copyDatabase(source, blocked, { jobs: 1 }), lockMessage);
      const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'pgspec-lock-')), 'dump');
      await assert.rejects(impatient.backupDatabase(source, file), lockMessage);
      await assert.rejects(stat(file), /ENOENT/);
      await holder.query('ROLLBACK');
      const copied = await impatient.copyDatabase(source, blocked, { jobs: 1 });
      assert.ok(copied.tables > 0);
      assert.deepEqual(await impatient.checksum(blocked), await impatient.checksum(source));
    } finally {
      await holder.end();
      await impatient.close();
      await dropDatabase(admin, blocked);
    }
    assert.throws(() => new PostgresTenantDatabase({ adminUrl: admin, loginPassword: PASSWORD, lockWaitTimeoutMs: 0 }), /invalid lock wait timeout 0 ms/);
  });

  test('the constructor refuses a bad URL or a short password', () => {
    assert.throws(() => new PostgresTenantDatabase({ adminUrl: 'mysql://x/y', loginPassword: PASSWORD }), /"mysql:"/);
    assert.throws(() => new PostgresTenantDatabase({ adminUrl: admin, loginPassword: 'short' }), /loginPassword/);
  });

  test('a login created before the copy logs in and reads/writes the copied tables; query role reads only', async () => {
    await engine.createDatabase(target);
    await engine.ensureLogin(target, login); // before the copy, as in the plans
    await engine.copyDatabase(source, target, { jobs: 2 });
    await engine.ensureLogin(target, login); // again: password re-set, grants unchanged
    await engine.grantQueryRole(target, queryRole);

    const asLogin = new Client({ connectionString: loginUrl(admin, target, login, PASSWORD) });
    await asLogin.connect();
    try {
      const r = await asLogin.query('SELECT count(*)::int AS n FROM persons');
      assert.equal(r.rows[0].n, 50);
      await asLogin.query(`INSERT INTO tickets (id, title, status, created_at) VALUES (100000, 'by login', 'open', now())`);
      await asLogin.query(`INSERT INTO users (login) VALUES ('created-by-login')`); // needs the sequence
    } finally {
      await asLogin.end();
    }

    const asQuery = new Client({ connectionString: databaseUrl(admin, target) });
    await asQuery.connect();
    try {
      await asQuery.query(`SET ROLE "${queryRole}"`);
      const r = await asQuery.query('SELECT count(*)::int AS n FROM email_addresses');
      assert.equal(r.rows[0].n, 100);
      await assert.rejects(asQuery.query(`UPDATE persons SET first_name = 'x'`), /permission denied/);
    } finally {
      await asQuery.end();
    }
  });
});
