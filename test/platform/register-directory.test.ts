/**
 * `register-directory` records the tenants' own engine: it once wrote `postgres` for every
 * tenant, so a SQL Server sandbox was registered on a database engine it does not live on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { platformActivities } from '../../activities/steps/platform';
import { HttpDirectory } from '../../activities/platform/directory';
import { HttpHosting } from '../../activities/platform/hosting';
import { HttpMailService } from '../../activities/platform/mail-service';
import { normalizeRequest } from '../../workflows/request';
import { startTestEmulator, type TestEmulator } from '../support/emulator';
import { seed } from './fixtures';

describe('register-directory against the platform emulator', () => {
  let emulator: TestEmulator;
  before(async () => {
    emulator = await startTestEmulator();
  });
  after(() => emulator.close());

  for (const engine of ['mssql', 'postgres'] as const) {
    test(`a ${engine} tenant is registered on ${engine}`, async () => {
      await emulator.admin.putTenant(seed('acme-sandbox', { kind: 'sandbox', database: { engine, name: 'old_db' } }));
      const steps = platformActivities({
        directory: new HttpDirectory(emulator.url),
        hosting: new HttpHosting(emulator.url),
        mailService: new HttpMailService(emulator.url),
        pollIntervalMs: 10,
      });
      const request = normalizeRequest({ source: 'acme', target: 'acme-sandbox' });
      await steps.registerDirectory({ stepId: 'register-directory', request, facts: { engine, targetDatabase: 'tenant_acme_sandbox' } });
      const tenant = (await emulator.admin.state('acme-sandbox')).tenant;
      assert.deepEqual(
        { database: tenant.database, registered: tenant.registeredDatabase },
        { database: { engine, name: 'tenant_acme_sandbox' }, registered: 'tenant_acme_sandbox' },
      );
    });
  }
});
