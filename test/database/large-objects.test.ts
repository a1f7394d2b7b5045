/**
 * Large objects are part of the whole database: a dump carries them, so the scrub rewrites
 * those that are text, the gate reads them (the re-check before opening too, since the record
 * of writes sees tables only), `profile check` lists them, a sandbox domain they use is refused,
 * and one that is not text is named as not read. Checked with plain SQL over the objects' bytes, not with the product's functions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PostgresTenantDatabase } from '../../activities/database/postgres/engine';
import { loadProfile } from '../../activities/database/profile';
import { seedTenantDatabase } from '../../stack/seed/tenant-data';
import { adminUrl, dropDatabase, queryDb, uniqueDbName } from '../support/postgres';

const SANDBOX = 'mailinator.com';
const RUN = 'run-lo';
/** Any "at", plain or obfuscated, not followed by the sandbox domain. */
const FOREIGN = String.raw`(@|＠|%40|&#0*64;|&#x0*40;)(?!mailinator\.com)`;

describe('large objects (PostgreSQL)', () => {
  const admin = adminUrl();
  const db = uniqueDbName('largeobj');
  const engine = new PostgresTenantDatabase({ adminUrl: admin, loginPassword: 'test-login-password' });
  const profile = loadProfile();
  const q = <T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: unknown[] = []) => queryDb<T>(admin, db, sql, params);
  const text = async (oid: number) => (await q<{ t: string }>(`SELECT convert_from(lo_get($1::oid), 'UTF8') AS t`, [oid]))[0].t;
  const hex = async (oid: number) => (await q<{ h: string }>(`SELECT encode(lo_get($1::oid), 'hex') AS h`, [oid]))[0].h;
  const create = async (bytes: string) => Number((await q<{ oid: string }>(`SELECT lo_from_bytea(0, $1::bytea)::int8::text AS oid`, [bytes]))[0].oid);
  const utf8 = (s: string) => `\\x${Buffer.from(s).toString('hex')}`;

  const invoice = 'Invoice for Ola <ola.nordmann@realcustomer.com>; cc: accounts@acme-corp.com';
  const obfuscated = 'write to kari%40realcustomer.no or per＠realcustomer.no';
  const plain = 'no address in here';
  const sandboxed = 'already x_y.com@mailinator.com';
  // A PNG-like header with a NUL and bytes that are not UTF-8, around an "@".
  const binary = '\\x89504e470d0a1a0a00ff40726f6775652e636f6dfe';
  let oids: { invoice: number; obfuscated: number; plain: number; sandboxed: number; binary: number };

  before(async () => {
    await seedTenantDatabase(admin, db, { tenantId: 'acme', companyName: 'Acme AS', baseUrl: 'https://acme.example-crm.com', persons: 20 });
    oids = {
      invoice: await create(utf8(invoice)),
      obfuscated: await create(utf8(obfuscated)),
      plain: await create(utf8(plain)),
      sandboxed: await create(utf8(sandboxed)),
      binary: await create(binary),
    };
  });

  after(async () => {
    await engine.close();
    await dropDatabase(admin, db);
  });

  test('before the scrub, the gate counts the text objects with foreign addresses and names the one it cannot read', async () => {
    const v = await engine.verifyEmails(db, profile, SANDBOX);
    assert.equal(v.remaining['large objects'], 2, JSON.stringify(v.remaining));
    assert.ok(v.findings.includes(`large objects: 2 values, e.g. …@realcustomer.com (oid ${oids.invoice}, ${oids.obfuscated})`), v.findings.join('\n'));
    assert.deepEqual(v.largeObjectsNotRead, [oids.binary]);
    const columns = await engine.addressColumns(db, profile, SANDBOX);
    const lo = columns.find((c) => c.column === 'large objects');
    assert.deepEqual(lo, { column: 'large objects', type: 'large object', values: 2, coverage: 'rewritten', example: '…@realcustomer.com' });
    // A domain the source's own large objects use cannot be the sandbox domain.
    assert.equal((await engine.countAddressesAt(db, SANDBOX))['large objects'], 1);
    assert.equal((await engine.countAddressesAt(db, 'acme-corp.com'))['large objects'], 1);
    assert.equal((await engine.countAddressesAt(db, 'unused.example'))['large objects'], undefined);
  });

  test('the scrub rewrites the text objects in place and leaves the others byte for byte; then the gate finds nothing', async () => {
    const binaryBefore = await hex(oids.binary);
    await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX });
    assert.equal(await text(oids.invoice), 'Invoice for Ola <ola.nordmann_realcustomer.com@mailinator.com>; cc: accounts_acme-corp.com@mailinator.com');
    assert.equal(await text(oids.obfuscated), 'write to kari_realcustomer.no@mailinator.com or per_realcustomer.no@mailinator.com');
    assert.equal(await text(oids.plain), plain);
    assert.equal(await text(oids.sandboxed), sandboxed);
    assert.equal(await hex(oids.binary), binaryBefore);
    // Plain SQL over every object that is text: no foreign "at" left.
    for (const oid of [oids.invoice, oids.obfuscated, oids.plain, oids.sandboxed]) {
      const [{ bad }] = await q<{ bad: boolean }>(`SELECT convert_from(lo_get($1::oid), 'UTF8') ~* $2 AS bad`, [oid, FOREIGN]);
      assert.equal(bad, false, `large object ${oid} still holds a foreign address`);
    }
    const v = await engine.verifyEmails(db, profile, SANDBOX);
    assert.equal(v.total, 0, v.findings.join('\n'));
    assert.deepEqual(v.largeObjectsNotRead, [oids.binary]);
    // Running it again leaves the rewritten objects as they are.
    await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX });
    assert.equal(await text(oids.invoice), 'Invoice for Ola <ola.nordmann_realcustomer.com@mailinator.com>; cc: accounts_acme-corp.com@mailinator.com');
  });

  test('an address written into a large object after a passed gate is found by the re-check, which sees no table written', async () => {
    const gate = await engine.gateEmails(db, profile, SANDBOX, RUN);
    assert.equal(gate.total, 0, gate.findings.join('\n'));
    assert.deepEqual(gate.tracking, { recorded: true });
    await q(`SELECT lo_put($1::oid, 0, convert_to('leak@realcustomer.com ', 'UTF8'))`, [oids.plain]);
    const v = await engine.recheckEmails(db, profile, SANDBOX, RUN);
    assert.ok(v.recheck && 'read' in v.recheck, JSON.stringify(v.recheck));
    assert.equal(v.remaining['large objects'], 1, JSON.stringify(v));
    assert.ok(
      v.findings.some((f) => f.startsWith('large objects: 1 values, e.g. …@realcustomer.com')),
      v.findings.join('\n'),
    );
    await engine.endGateTracking(db);
  });
});
