/**
 * The demo world: production tenant `acme` with realistic data and archives, its existing
 * sandbox `acme-sandbox` (an older copy, with partner apps authorized on it), and a tenant of
 * another customer, so the refusals have something to refuse. Used by the demo and the tests.
 */
import { Client } from 'pg';
import type { Archives } from '../../activities/archive/port';
import { tenantDatabaseName } from '../../activities/database/postgres/identifiers';
import type { EmulatorAdmin, TenantSeed } from '../../emulator/admin-client';
import { seedArchives } from './archives';
import { DEFAULT_APP_AUTHORIZATIONS, seedTenantDatabase } from './tenant-data';

export interface DemoWorldOptions {
  adminUrl: string;
  admin: EmulatorAdmin;
  archives: Archives;
  /** Persons in acme's database (e-mail addresses are about twice as many). */
  persons?: number;
  /** How long the tenants' running tasks last, so the clone has something to wait for. */
  taskDurationMs?: number;
  /** Blobs per archive kind: small for tests, larger for the demo. */
  documents?: number;
  /** Directory fields to change per tenant (e.g. a target in another region), for tests of the refusals. */
  tenants?: Partial<Record<(typeof DEMO)[keyof typeof DEMO], Partial<Pick<TenantSeed, 'region' | 'appVersion' | 'capacityMb' | 'directoryTenant'>>>>;
}

const baseUrl = (id: string) => `https://${id}.example-crm.com`;

export function demoTenant(id: string, extra: Partial<TenantSeed> & Pick<TenantSeed, 'kind' | 'companyName' | 'serial' | 'license'>): TenantSeed {
  return {
    id,
    name: extra.companyName,
    region: 'westeurope',
    directoryTenant: 'acme.example',
    appVersion: '10.4.2',
    capacityMb: 20_000,
    database: { engine: 'postgres', name: tenantDatabaseName(id) },
    registeredDatabase: tenantDatabaseName(id),
    baseUrl: baseUrl(id),
    ...extra,
  };
}

export const DEMO = { source: 'acme', target: 'acme-sandbox', testTarget: 'acme-test', otherCustomer: 'globex' } as const;

/** Databases an earlier run may have left: the test environment's and any set-aside one. */
async function dropLeftovers(adminUrl: string): Promise<void> {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  try {
    for (const id of [DEMO.target, DEMO.testTarget]) {
      for (const name of [tenantDatabaseName(id), `${tenantDatabaseName(id)}__set_aside`]) {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }
    }
  } finally {
    await c.end();
  }
}

export async function seedDemoWorld(o: DemoWorldOptions): Promise<void> {
  const taskMs = o.taskDurationMs ?? 1500;
  const tenant = (id: (typeof DEMO)[keyof typeof DEMO], extra: Parameters<typeof demoTenant>[1]) => demoTenant(id, { ...extra, ...o.tenants?.[id] });
  await dropLeftovers(o.adminUrl);
  await o.admin.reset();
  for (const app of DEFAULT_APP_AUTHORIZATIONS) {
    await o.admin.putApp({ appId: app.appId, name: app.appName, webhookUrl: o.admin.sinkUrl(app.appId) });
  }

  await o.admin.putTenant(
    tenant(DEMO.source, {
      kind: 'production',
      companyName: 'Acme Corporation',
      serial: 'ACME-1029-4471',
      license: 'Enterprise, 250 users',
      hosting: { mode: 'running', clusters: ['weu-db-07', 'weu-app-03'], tasks: [{ durationMs: taskMs }] },
      routes: [
        { address: 'support@acme.example', destination: 'service-inbox' },
        { address: 'sales@acme.example', destination: 'sales-inbox' },
      ],
      mailboxes: ['support@acme.example', 'sales@acme.example'],
      users: [{ login: 'admin', email: 'it@acme.example', plan: 'enterprise', enabled: true }],
    }),
  );
  await o.admin.putTenant(
    tenant(DEMO.target, {
      kind: 'sandbox',
      companyName: 'Acme Corporation Sandbox',
      serial: 'ACME-SBX-0001',
      license: 'Sandbox, 25 users',
      hosting: { mode: 'running', clusters: ['weu-db-02', 'weu-app-01'], tasks: [{ durationMs: taskMs }, { durationMs: taskMs * 2 }] },
      routes: [{ address: 'support@acme-sandbox.example', destination: 'service-inbox' }],
      mailboxes: ['support@acme-sandbox.example', 'old-test@acme-sandbox.example'],
      // The sandbox's own administrator, as the directory records it (a point-in-time clone resets the copy's to it).
      users: [
        { login: 'admin', email: 'sandbox-admin@acme.example', plan: 'sandbox-user', enabled: true },
        { login: 'old-tester', email: 'tester@acme.example', plan: 'sandbox-user', enabled: true },
      ],
    }),
  );
  await o.admin.putTenant(
    tenant(DEMO.testTarget, {
      kind: 'test',
      companyName: 'Acme Corporation Test',
      serial: 'ACME-TST-0007',
      license: 'Test environment, 10 users',
      hosting: { mode: 'running', clusters: ['weu-db-03', 'weu-app-02'] },
      mailboxes: ['qa@acme-test.example'],
    }),
  );
  await o.admin.putTenant(
    tenant(DEMO.otherCustomer, {
      kind: 'production',
      directoryTenant: 'globex.example',
      companyName: 'Globex Inc.',
      serial: 'GLBX-7781-0042',
      license: 'Enterprise, 80 users',
      hosting: { mode: 'running', clusters: ['weu-db-05'] },
    }),
  );

  await seedTenantDatabase(o.adminUrl, tenantDatabaseName(DEMO.source), {
    tenantId: DEMO.source,
    companyName: 'Acme Corporation',
    baseUrl: baseUrl(DEMO.source),
    persons: o.persons ?? 1000,
    // Production has its own apps; the sandbox keeps the ones authorized on it (step 25).
    appAuthorizations: [],
  });
  await seedTenantDatabase(o.adminUrl, tenantDatabaseName(DEMO.target), {
    tenantId: DEMO.target,
    companyName: 'Acme Corporation Sandbox',
    baseUrl: baseUrl(DEMO.target),
    persons: 50,
    appAuthorizations: DEFAULT_APP_AUTHORIZATIONS,
  });

  const docs = o.documents ?? 40;
  await seedArchives(o.archives, DEMO.source, { documents: docs });
  // The old sandbox's archives: fewer and partly stale, so the copy has something to replace.
  await seedArchives(o.archives, DEMO.target, { templates: 4, documents: 5, attachmentsPerModule: 2 });
  await o.archives.put({ system: 'azure', tenant: DEMO.target, kind: 'templates' }, 'obsolete/old-letterhead.docx', 'stale template of the old sandbox');
}
