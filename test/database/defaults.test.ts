/**
 * Defaults are part of the whole database: a column or domain default holding a real address
 * would give every row the sandbox inserts later a real address, though no row holds one at
 * clone time. The gate names such a default, `profile check` lists it, a sandbox domain one
 * uses is refused, the scrub rewrites it (rows inserted afterwards get the sandbox address),
 * and one set after a passed gate is found by the re-check. Checked with plain SQL over the
 * catalog and with inserts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PostgresTenantDatabase } from '../../activities/database/postgres/engine';
import { loadProfile, profileSchema } from '../../activities/database/profile';
import { seedTenantDatabase } from '../../stack/seed/tenant-data';
import { adminUrl, dropDatabase, queryDb, uniqueDbName } from '../support/postgres';
import { DEFAULTS_SQL, plantDefaults, SCRUBBED_DEFAULTS } from './default-cases';

const SANDBOX = 'mailinator.com';
const RUN = 'run-defaults';

describe('column and domain defaults (PostgreSQL)', () => {
  const admin = adminUrl();
  const db = uniqueDbName('defaults');
  const engine = new PostgresTenantDatabase({ adminUrl: admin, loginPassword: 'test-login-password' });
  const profile = loadProfile();
  const q = <T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: unknown[] = []) => queryDb<T>(admin, db, sql, params);

  before(async () => {
    await seedTenantDatabase(admin, db, { tenantId: 'acme', companyName: 'Acme AS', baseUrl: 'https://acme.example-crm.com', persons: 20 });
    await plantDefaults(q);
  });

  after(async () => {
    await engine.close();
    await dropDatabase(admin, db);
  });

  test('before the scrub, the gate names each default holding a foreign address, and no other', async () => {
    const v = await engine.verifyEmails(db, profile, SANDBOX);
    const defaults = Object.keys(v.remaining)
      .filter((k) => k.startsWith('default of'))
      .sort();
    assert.deepEqual(defaults, ['default of alerts.cfg', 'default of alerts.notify', 'default of crm.queues.reply_to', 'default of domain contact_email']);
    assert.ok(v.findings.includes('default of alerts.notify: …@realcustomer.com'), v.findings.join('\n'));
    assert.ok(v.findings.includes('default of domain contact_email: …@realcustomer.no'), v.findings.join('\n'));
    const listed = (await engine.addressColumns(db, profile, SANDBOX)).filter((c) => c.type === 'default');
    assert.equal(listed.length, 4);
    assert.ok(listed.every((c) => c.coverage === 'rewritten' && c.values === 1));
    // A sandbox domain a source default uses is refused like one its rows use.
    assert.equal((await engine.countAddressesAt(db, SANDBOX))['defaults'], 1);
    assert.equal((await engine.countAddressesAt(db, 'unused.example'))['defaults'], undefined);
  });

  test('the scrub rewrites the defaults: rows inserted afterwards get sandbox addresses, and the gate finds nothing', async () => {
    await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX });
    assert.deepEqual(await q(DEFAULTS_SQL), SCRUBBED_DEFAULTS);
    const [row] = await q<Record<string, unknown>>(`INSERT INTO alerts DEFAULT VALUES RETURNING notify, cfg, owner`);
    assert.deepEqual(row, {
      notify: 'alerts_realcustomer.com@mailinator.com',
      cfg: { n: 3, to: ['ops_realcustomer.com@mailinator.com'] },
      owner: 'per_realcustomer.no@mailinator.com',
    });
    const v = await engine.verifyEmails(db, profile, SANDBOX);
    assert.equal(v.total, 0, v.findings.join('\n'));
    // Again: nothing changes.
    await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX });
    assert.deepEqual(await q(DEFAULTS_SQL), SCRUBBED_DEFAULTS);
  });

  test('a default of a column the profile keeps is kept, and reported as kept', async () => {
    await q(`ALTER TABLE alerts ADD COLUMN escalate text DEFAULT 'oncall@realcustomer.com'`);
    const keep = profileSchema.parse({
      ...profile,
      emails: { ...profile.emails, keep: [{ table: 'alerts', column: 'escalate', why: 'a test address the app only compares' }] },
    });
    await engine.scrubEmails(db, keep, { sandboxDomain: SANDBOX });
    const [{ expression }] = await q<{ expression: string }>(
      `SELECT pg_get_expr(d.adbin, d.adrelid) AS expression FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        WHERE d.adrelid = 'alerts'::regclass AND a.attname = 'escalate'`,
    );
    assert.equal(expression, `'oncall@realcustomer.com'::text`);
    const v = await engine.verifyEmails(db, keep, SANDBOX);
    assert.equal(v.total, 0, v.findings.join('\n'));
    // The row inserted above took the default when the column was added: kept with it.
    assert.deepEqual(v.kept, { 'alerts.escalate': 1, 'default of alerts.escalate': 1 });
    const listed = (await engine.addressColumns(db, keep, SANDBOX)).find((c) => c.column === 'default of alerts.escalate');
    assert.equal(listed?.coverage, 'kept');
    // Without the keep, the same default fails the gate and the scrub rewrites it.
    assert.equal((await engine.verifyEmails(db, profile, SANDBOX)).remaining['default of alerts.escalate'], 1);
    await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX });
    await q(`ALTER TABLE alerts DROP COLUMN escalate`);
  });

  test('a default set after a passed gate is found by the re-check', async () => {
    const gate = await engine.gateEmails(db, profile, SANDBOX, RUN);
    assert.equal(gate.total, 0, gate.findings.join('\n'));
    await q(`ALTER TABLE alerts ALTER COLUMN plain SET DEFAULT 'leak@realcustomer.com'`);
    const v = await engine.recheckEmails(db, profile, SANDBOX, RUN);
    assert.equal(v.remaining['default of alerts.plain'], 1, JSON.stringify(v));
    await engine.endGateTracking(db);
  });
});
