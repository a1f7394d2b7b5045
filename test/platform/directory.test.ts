import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpDirectory } from '../../activities/platform/directory';
import { PlatformHttpError } from '../../activities/platform/http-client';
import { startTestEmulator, type TestEmulator } from '../support/emulator';
import { rejection, seed } from './fixtures';

describe('HttpDirectory against the platform emulator', () => {
  let emulator: TestEmulator;
  let directory: HttpDirectory;

  before(async () => {
    emulator = await startTestEmulator();
    directory = new HttpDirectory(emulator.url);
  });
  after(() => emulator.close());

  beforeEach(async () => {
    await emulator.admin.reset();
    await emulator.admin.putTenant(
      seed('acme', {
        users: [
          { login: 'admin', email: 'admin@acme.com', plan: 'full', enabled: true },
          { login: 'jane', email: 'jane@acme.com', plan: null, enabled: false },
        ],
      }),
    );
    await emulator.admin.putTenant(
      seed('acme-sandbox', {
        kind: 'sandbox',
        companyName: 'Old Co',
        serial: 'OLD',
        license: 'OLD-LIC',
        database: { engine: 'postgres', name: 'db_acme_sandbox' },
      }),
    );
  });

  test('getTenant returns the directory record, and null for an unknown tenant', async () => {
    const tenant = await directory.getTenant('acme');
    assert.deepEqual(tenant, {
      id: 'acme',
      name: 'Tenant acme',
      kind: 'production',
      region: 'eu-west',
      directoryTenant: 'dir-acme',
      appVersion: '10.3.1',
      capacityMb: 2048,
      companyName: 'acme Company AS',
      serial: 'SN-acme',
      license: 'LIC-acme',
      database: { engine: 'postgres', name: 'db_acme' },
      baseUrl: 'https://acme.example.com',
      state: 'Normal',
      testEnvironmentOf: null,
      registeredDatabase: null,
    });
    assert.equal(await directory.getTenant('no-such-tenant'), null);
  });

  test('an id with a slash stays one path segment', async () => {
    await emulator.admin.putTenant(seed('team/one', { database: { engine: 'postgres', name: 'db_team_one' } }));
    assert.equal((await directory.getTenant('team/one'))?.id, 'team/one');
    assert.equal(await directory.getTenant('team'), null);
  });

  test('copyCustomerInfo copies company, serial and license from the source only', async () => {
    await directory.copyCustomerInfo('acme-sandbox', 'acme');
    await directory.copyCustomerInfo('acme-sandbox', 'acme');
    const target = (await emulator.admin.state('acme-sandbox')).tenant;
    assert.equal(target.companyName, 'acme Company AS');
    assert.equal(target.serial, 'SN-acme');
    assert.equal(target.license, 'LIC-acme');
    assert.equal(target.name, 'Tenant acme-sandbox');
    assert.equal(target.kind, 'sandbox');
    const err = await rejection(directory.copyCustomerInfo('acme-sandbox', 'ghost'));
    assert.match(err.message, /404/);
    assert.match(err.message, /unknown tenant "ghost"/);
  });

  test("registerDatabase records the database, and refuses another tenant's database with 409", async () => {
    await directory.registerDatabase('acme-sandbox', { engine: 'postgres', name: 'db_acme_sandbox_2' });
    await directory.registerDatabase('acme-sandbox', { engine: 'postgres', name: 'db_acme_sandbox_2' });
    const tenant = await directory.getTenant('acme-sandbox');
    assert.equal(tenant?.registeredDatabase, 'db_acme_sandbox_2');
    assert.deepEqual(tenant?.database, { engine: 'postgres', name: 'db_acme_sandbox_2' });

    const err = await rejection(directory.registerDatabase('acme-sandbox', { engine: 'postgres', name: 'db_acme' }));
    assert.ok(err instanceof PlatformHttpError);
    assert.equal(err.status, 409);
    assert.match(err.message, /db_acme.*belongs to tenant "acme"/);
    assert.equal((await directory.getTenant('acme-sandbox'))?.registeredDatabase, 'db_acme_sandbox_2');

    const bad = await rejection(directory.registerDatabase('acme-sandbox', { engine: 'oracle' as 'postgres', name: 'x' }));
    assert.equal((bad as PlatformHttpError).status, 400);
    assert.match(bad.message, /field "engine"/);
    assert.match(bad.message, /"oracle"/);
  });

  test('setTestEnvironmentOf links and unlinks; a production target is a 409, itself a 400', async () => {
    await directory.setTestEnvironmentOf('acme-sandbox', 'acme');
    assert.equal((await directory.getTenant('acme-sandbox'))?.testEnvironmentOf, 'acme');
    await directory.setTestEnvironmentOf('acme-sandbox', null);
    assert.equal((await directory.getTenant('acme-sandbox'))?.testEnvironmentOf, null);

    const prod = await rejection(directory.setTestEnvironmentOf('acme', 'acme-sandbox'));
    assert.equal((prod as PlatformHttpError).status, 409);
    assert.match(prod.message, /"acme" is a production tenant/);
    const self = await rejection(directory.setTestEnvironmentOf('acme-sandbox', 'acme-sandbox'));
    assert.equal((self as PlatformHttpError).status, 400);
    assert.match(self.message, /field "source"/);
    const ghost = await rejection(directory.setTestEnvironmentOf('acme-sandbox', 'ghost'));
    assert.equal((ghost as PlatformHttpError).status, 404);
    assert.match(ghost.message, /"ghost"/);
  });

  test('setState moves Normal -> InMigration -> Normal, idempotently, and rejects other states naming the field', async () => {
    await directory.setState('acme-sandbox', 'InMigration');
    await directory.setState('acme-sandbox', 'InMigration');
    assert.equal((await directory.getTenant('acme-sandbox'))?.state, 'InMigration');
    await directory.setState('acme-sandbox', 'Normal');
    assert.equal((await directory.getTenant('acme-sandbox'))?.state, 'Normal');
    const transitions = (await emulator.admin.state('acme-sandbox')).events
      .filter((e) => e.action === 'directory.state.set')
      .map((e) => `${e.detail.from}->${e.detail.to}`);
    assert.deepEqual(transitions, ['Normal->InMigration', 'InMigration->Normal']);

    const err = await rejection(directory.setState('acme-sandbox', 'Migrating' as 'Normal'));
    assert.equal((err as PlatformHttpError).status, 400);
    assert.match(err.message, /field "state"/);
    assert.match(err.message, /"Migrating"/);
  });

  test('replaceUsers replaces the whole list in order; listUsers reads it back', async () => {
    assert.deepEqual(
      (await directory.listUsers('acme')).map((u) => u.login),
      ['admin', 'jane'],
    );
    const users = [
      { login: 'zoe', email: 'zoe_acme.com@mailinator.com', plan: 'full', enabled: true },
      { login: 'admin', email: null, plan: null, enabled: true },
    ];
    await directory.replaceUsers('acme-sandbox', users);
    await directory.replaceUsers('acme-sandbox', users);
    assert.deepEqual(await directory.listUsers('acme-sandbox'), users);
    await directory.replaceUsers('acme-sandbox', []);
    assert.deepEqual(await directory.listUsers('acme-sandbox'), []);

    const dup = await rejection(
      directory.replaceUsers('acme-sandbox', [
        { login: 'a', email: null, plan: null, enabled: true },
        { login: 'A', email: null, plan: null, enabled: false },
      ]),
    );
    assert.equal((dup as PlatformHttpError).status, 400);
    assert.match(dup.message, /field "users\[1\]\.login"/);
    const bad = await rejection(directory.replaceUsers('acme-sandbox', [{ login: 'a', email: null, plan: null, enabled: 'yes' as unknown as boolean }]));
    assert.match(bad.message, /field "users\[0\]\.enabled"/);
  });

  test('updateCompany sets company name, serial and license', async () => {
    const company = { companyName: 'Test Env - acme Company AS', serial: 'Test Env - SN-acme', license: 'LIC-TEST' };
    await directory.updateCompany('acme-sandbox', company);
    const tenant = await directory.getTenant('acme-sandbox');
    assert.deepEqual({ companyName: tenant?.companyName, serial: tenant?.serial, license: tenant?.license }, company);
  });

  test('every method on an unknown tenant fails with a 404 naming the id', async () => {
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['copyCustomerInfo', () => directory.copyCustomerInfo('ghost', 'acme')],
      ['registerDatabase', () => directory.registerDatabase('ghost', { engine: 'postgres', name: 'db_ghost' })],
      ['setTestEnvironmentOf', () => directory.setTestEnvironmentOf('ghost', 'acme')],
      ['setState', () => directory.setState('ghost', 'Normal')],
      ['replaceUsers', () => directory.replaceUsers('ghost', [])],
      ['listUsers', () => directory.listUsers('ghost')],
      ['updateCompany', () => directory.updateCompany('ghost', { companyName: 'x', serial: 'y', license: 'z' })],
    ];
    for (const [name, call] of calls) {
      const err = await rejection(call());
      assert.ok(err instanceof PlatformHttpError, name);
      assert.equal(err.status, 404, name);
      assert.equal(err.code, 'unknown_tenant', name);
      assert.match(err.message, /unknown tenant "ghost"/, name);
      assert.match(err.message, new RegExp(`${emulator.url}/directory/tenants/ghost`), name);
      assert.equal(err.retryable, false, name);
    }
  });
});
