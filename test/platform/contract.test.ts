/**
 * openapi.yaml, the adapters and the emulator must tell the same story: every port method has
 * a documented operation, every documented operation is served, and the documented schemas
 * have exactly the fields the emulator answers with.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { parse } from 'yaml';
import { HttpDirectory } from '../../activities/platform/directory';
import { HttpHosting } from '../../activities/platform/hosting';
import { HttpMailService } from '../../activities/platform/mail-service';
import { HttpPartnerApps } from '../../activities/platform/partner-apps';
import { DIRECTORY_STATES, HOSTING_MODES, TENANT_KINDS } from '../../activities/platform/schemas';
import { buildRouter } from '../../emulator/server';
import { startTestEmulator, type TestEmulator } from '../support/emulator';
import { seed } from './fixtures';

interface Operation {
  operationId: string;
  tags: string[];
}
interface OpenApi {
  paths: Record<string, Record<string, Operation | unknown>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[]; enum?: string[] }> };
}

const spec = parse(readFileSync(path.join(__dirname, '..', '..', 'activities', 'platform', 'openapi.yaml'), 'utf8')) as OpenApi;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function operations(): Array<{ method: string; path: string; op: Operation }> {
  const out: Array<{ method: string; path: string; op: Operation }> = [];
  for (const [p, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (METHODS.includes(method)) out.push({ method: method.toUpperCase(), path: p, op: op as Operation });
    }
  }
  return out;
}

function adapterMethods(cls: { prototype: object }): string[] {
  return Object.getOwnPropertyNames(cls.prototype).filter((n) => n !== 'constructor');
}

describe('platform REST contract', () => {
  let emulator: TestEmulator;

  before(async () => {
    emulator = await startTestEmulator();
    await emulator.admin.putTenant(
      seed('acme', { routes: [{ address: 'in@acme.com', destination: 'q' }], users: [{ login: 'u', email: null, plan: null, enabled: true }] }),
    );
    await emulator.admin.putApp({ appId: 'app1', name: 'App', webhookUrl: 'https://app.example.com/hook' });
  });
  after(() => emulator.close());

  test('every adapter (port) method has a documented operation of the same name', () => {
    const ids = new Set(operations().map((o) => o.op.operationId));
    const expected = [
      ...adapterMethods(HttpDirectory),
      ...adapterMethods(HttpHosting).map((m) => (m === 'getState' ? 'getHostingState' : m)),
      ...adapterMethods(HttpMailService),
      ...adapterMethods(HttpPartnerApps),
    ];
    assert.equal(expected.length, 22, 'Directory 11 + Hosting 4 + MailService 6 + PartnerApps 1');
    for (const name of expected) assert.ok(ids.has(name), `openapi.yaml has no operation ${name}`);
  });

  test('the emulator serves exactly the documented operations', async () => {
    const pool = new Pool({ connectionString: emulator.databaseUrl });
    try {
      const router = buildRouter({ pool, webhookSecret: 'x', taskDurationMs: 1, operationDelayMs: 1 });
      const served = router
        .list()
        .map((r) => `${r.method} ${r.template}`)
        .sort();
      const documented = operations()
        .map((o) => `${o.method} ${o.path}`)
        .sort();
      assert.deepEqual(served, documented);
    } finally {
      await pool.end();
    }
  });

  test('emulator-only operations live under /_emulator and are tagged as such', () => {
    for (const { path: p, op } of operations()) {
      assert.equal(p.startsWith('/_emulator/'), op.tags.includes('emulator-admin'), `${p} ${op.operationId}`);
    }
  });

  test('each platform operation answers over HTTP (404 for an unknown tenant, never "no route")', async () => {
    for (const { method, path: p, op } of operations()) {
      if (p.startsWith('/_emulator')) continue;
      const url = emulator.url + p.replace('{tenantId}', 'contract-ghost').replace('{appId}', 'ghost-app');
      const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
      const response = await fetch(url, { method, body, headers: body ? { 'content-type': 'application/json' } : {} });
      const answer = (await response.json()) as { error?: string; code?: string };
      assert.ok([400, 404].includes(response.status), `${op.operationId}: ${response.status}`);
      assert.notEqual(answer.code, 'no_route', op.operationId);
      assert.equal(typeof answer.error, 'string', op.operationId);
    }
  });

  test('documented schemas have exactly the fields the emulator answers with', async () => {
    const schemas = spec.components.schemas;
    const keys = (name: string) => Object.keys(schemas[name]?.properties ?? {}).sort();
    const get = async (p: string) => (await (await fetch(emulator.url + p)).json()) as Record<string, unknown>;

    const tenant = await get('/directory/tenants/acme');
    assert.deepEqual(Object.keys(tenant).sort(), keys('Tenant'));
    assert.deepEqual([...(schemas.Tenant?.required ?? [])].sort(), keys('Tenant'));
    assert.deepEqual(Object.keys(tenant.database as object).sort(), keys('Database'));
    const hosting = await get('/hosting/tenants/acme');
    assert.deepEqual(Object.keys(hosting).sort(), keys('HostingState'));
    const users = (await get('/directory/tenants/acme/users')).users as object[];
    assert.deepEqual(Object.keys(users[0]!).sort(), keys('DirectoryUserRecord'));
    const routes = (await get('/mail/tenants/acme/routes')).routes as object[];
    assert.deepEqual(Object.keys(routes[0]!).sort(), keys('MailRoute'));
    assert.deepEqual(Object.keys(await get('/apps/app1')).sort(), keys('PartnerApp'));
    assert.deepEqual(Object.keys(await get('/directory/tenants/acme/lease')).sort(), keys('Lease'));
    const full = await get('/_emulator/tenants/acme');
    assert.deepEqual(Object.keys(full).sort(), keys('TenantFullState'));

    assert.deepEqual(schemas.TenantKind?.enum, [...TENANT_KINDS]);
    assert.deepEqual(schemas.DirectoryState?.enum, [...DIRECTORY_STATES]);
    assert.deepEqual(schemas.HostingMode?.enum, [...HOSTING_MODES]);
  });

  test('a wrong method on a known path is a 405 listing the allowed ones', async () => {
    const response = await fetch(`${emulator.url}/directory/tenants/acme/state`, { method: 'GET' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'PUT');
  });
});
