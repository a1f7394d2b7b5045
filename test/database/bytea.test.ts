/**
 * bytea columns are part of the whole database: a value that is text in the database's
 * encoding (alone, in a domain over bytea or in an array) holds addresses like a text column, so the scrub rewrites it, the gate and the
 * re-check read it, `profile check` lists its column and a sandbox domain it uses is refused; a
 * value that is not text (an image, Latin-1 in a UTF-8 database, a NUL) stays byte for byte and
 * is counted as not read. Results are checked with plain SQL over the bytes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { isTextSql } from '../../activities/database/postgres/bytea-text';
import { PostgresTenantDatabase } from '../../activities/database/postgres/engine';
import { loadProfile } from '../../activities/database/profile';
import { verifiedNote } from '../../activities/steps/database';
import { seedTenantDatabase } from '../../stack/seed/tenant-data';
import { adminUrl, databaseUrl, dropDatabase, queryDb, uniqueDbName } from '../support/postgres';
import { BYTEA_CASES, loadByteaCases, PARTS_AS_HEX, PARTS_EXPECTED, SCAN_EXPECTED } from './bytea-cases';

const SANDBOX = 'mailinator.com';
const RUN = 'run-bytea';
/** Any "at", plain or obfuscated, not followed by the sandbox domain. */
const FOREIGN = String.raw`(@|＠|%40|&#0*64;|&#x0*40;)(?!mailinator\.com)`;

describe('bytea columns (PostgreSQL)', () => {
  const admin = adminUrl();
  const db = uniqueDbName('bytea');
  const engine = new PostgresTenantDatabase({ adminUrl: admin, loginPassword: 'test-login-password' });
  const profile = loadProfile();
  const q = <T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: unknown[] = []) => queryDb<T>(admin, db, sql, params);
  const bodies = async () => (await q<{ h: string | null }>(`SELECT encode(body, 'hex') AS h FROM documents ORDER BY id`)).map((r) => r.h);
  const foreignCount = BYTEA_CASES.filter((c) => c.foreign).length;
  const notTextCount = BYTEA_CASES.filter((c) => c.notText).length;

  before(async () => {
    await seedTenantDatabase(admin, db, { tenantId: 'acme', companyName: 'Acme AS', baseUrl: 'https://acme.example-crm.com', persons: 20 });
    await loadByteaCases(q);
  });

  after(async () => {
    await engine.close();
    await dropDatabase(admin, db);
  });

  test("text is told from bytes exactly as PostgreSQL's convert_from tells it, on 40,000 seeded byte strings", async () => {
    // Lead and continuation bytes at every boundary of UTF-8's rules, and the escape's own characters.
    const edges = [
      0x00, 0x30, 0x33, 0x40, 0x5c, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xcf, 0xd0, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0,
      0xf1, 0xf3, 0xf4, 0xf5, 0xff,
    ];
    let seed = 12345;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const samples = Array.from({ length: 40_000 }, () =>
      Buffer.from(Array.from({ length: 1 + next(6) }, () => (next(3) === 0 ? next(256) : edges[next(edges.length)]))),
    );
    const c = new Client({ connectionString: databaseUrl(admin, db) });
    await c.connect();
    try {
      await c.query(
        `CREATE FUNCTION pg_temp.decodes(b bytea) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM convert_from(b, 'UTF8'); RETURN true; EXCEPTION WHEN character_not_in_repertoire THEN RETURN false; END $$`,
      );
      const r = await c.query<{ ours: boolean; pg: boolean; h: string }>(
        `SELECT ${isTextSql('b')} AS ours, pg_temp.decodes(b) AS pg, encode(b, 'hex') AS h FROM unnest($1::bytea[]) AS b`,
        [samples],
      );
      const differ = r.rows.filter((row) => row.ours !== row.pg);
      assert.deepEqual(differ.slice(0, 5), [], `${differ.length} byte strings judged otherwise than convert_from`);
      const valid = r.rows.filter((row) => row.pg).length;
      assert.ok(valid > 2000 && valid < 38_000, `the corpus holds both kinds: ${valid} valid`);
    } finally {
      await c.end();
    }
  });

  test('before the scrub, the gate counts the text values with foreign addresses and the ones it cannot read', async () => {
    const v = await engine.verifyEmails(db, profile, SANDBOX);
    assert.equal(v.remaining['documents.body'], foreignCount, JSON.stringify(v.remaining));
    assert.equal(v.remaining['documents.scan'], 1, JSON.stringify(v.remaining));
    assert.equal(v.remaining['documents.parts'], 1, JSON.stringify(v.remaining));
    assert.ok(v.findings.includes(`documents.body: ${foreignCount} values, e.g. …@realcustomer.com`), v.findings.join('\n'));
    // The seed's encrypted credentials are random bytes: some hold an 0x40 and are not text either.
    assert.equal(v.bytesNotRead?.['documents.body'], notTextCount, JSON.stringify(v.bytesNotRead));
    assert.equal(v.bytesNotRead?.['documents.parts'], 1, JSON.stringify(v.bytesNotRead));
    const columns = await engine.addressColumns(db, profile, SANDBOX);
    assert.deepEqual(
      columns.find((c) => c.column === 'documents.body'),
      { column: 'documents.body', type: 'bytea', values: foreignCount, coverage: 'rewritten', example: '…@realcustomer.com' },
    );
    assert.equal(columns.find((c) => c.column === 'documents.scan')?.type, 'blob');
    // A domain the source's bytea text uses cannot be the sandbox domain; its Latin-1 value is not read.
    assert.equal((await engine.countAddressesAt(db, SANDBOX))['documents'], 1);
    assert.equal((await engine.countAddressesAt(db, 'acme-corp.com'))['documents'], 1);
    assert.equal((await engine.countAddressesAt(db, 'realcustomer.dk'))['documents'], undefined);
  });

  test('the scrub rewrites the text values and leaves every other byte for byte; then the gate finds nothing', async () => {
    await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX });
    assert.deepEqual(
      await bodies(),
      BYTEA_CASES.map((c) => c.expected),
    );
    assert.deepEqual(await q(`SELECT encode(scan, 'hex') AS h, ${PARTS_AS_HEX} AS parts FROM documents WHERE id = 1`), [
      { h: SCAN_EXPECTED, parts: PARTS_EXPECTED },
    ]);
    // Plain SQL over every value that is UTF-8: no foreign "at" left.
    const [{ bad }] = await q<{ bad: string }>(
      `SELECT count(*)::text AS bad FROM documents WHERE CASE WHEN encode(body, 'hex') = ANY($1) THEN convert_from(body, 'UTF8') ~* $2 ELSE false END`,
      [BYTEA_CASES.filter((c) => !c.notText && c.input && c.name !== 'no at').map((c) => c.expected), FOREIGN],
    );
    assert.equal(bad, '0');
    const v = await engine.verifyEmails(db, profile, SANDBOX);
    assert.equal(v.total, 0, v.findings.join('\n'));
    assert.equal(v.bytesNotRead?.['documents.body'], notTextCount, JSON.stringify(v.bytesNotRead));
    assert.match(
      verifiedNote(v, SANDBOX),
      /bytea values that hold an "at" but are not text, so were neither rewritten nor read: documents\.body: 3 values, documents\.parts: 1 values, mailboxes\.encrypted_credentials: \d+ values/,
    );
    // Running it again changes nothing.
    await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX });
    assert.deepEqual(
      await bodies(),
      BYTEA_CASES.map((c) => c.expected),
    );
  });

  test('an address written into a bytea after a passed gate is found by the re-check', async () => {
    const gate = await engine.gateEmails(db, profile, SANDBOX, RUN);
    assert.equal(gate.total, 0, gate.findings.join('\n'));
    assert.deepEqual(gate.tracking, { recorded: true });
    const plain = BYTEA_CASES.findIndex((c) => c.name === 'plain') + 1;
    await q(`UPDATE documents SET body = convert_to('leak@realcustomer.com', 'UTF8') WHERE id = $1`, [plain]);
    const v = await engine.recheckEmails(db, profile, SANDBOX, RUN);
    assert.ok(v.recheck && 'read' in v.recheck && v.recheck.read.includes('documents'), JSON.stringify(v.recheck));
    assert.equal(v.remaining['documents.body'], 1, JSON.stringify(v));
    await engine.endGateTracking(db);
  });
});
