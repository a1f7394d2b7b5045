/**
 * The re-check before a tenant opens reads only what changed since the run's gate, and every
 * way of changing stored text after the gate either names its table or makes the re-check read
 * the whole database. Each case writes a foreign address after a passed gate and asserts the
 * re-check finds it (and that a full gate agrees), on a database with partitions, inheritance,
 * an enum, a materialized view and a foreign-key cascade, written as a non-superuser login.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Client } from 'pg';
import { PostgresTenantDatabase } from '../../activities/database/postgres/engine';
import { loadProfile } from '../../activities/database/profile';
import type { ScrubVerification } from '../../activities/database/port';
import { seedTenantDatabase } from '../../stack/seed/tenant-data';
import { plantSchemaDrift } from './schema-drift';
import { adminUrl, dropDatabase, loginUrl, queryDb, uniqueDbName } from '../support/postgres';

const SANDBOX = 'mailinator.com';
const RUN = 'run-1';

describe('the re-check reads what changed since the gate (PostgreSQL)', () => {
  const admin = adminUrl();
  const db = uniqueDbName('gatetrack');
  const writer = `gate_writer_${randomBytes(3).toString('hex')}`;
  // Servers that ask logins for a password (the embedded one does) get one.
  const writerPassword = randomBytes(12).toString('hex');
  const engine = new PostgresTenantDatabase({ adminUrl: admin, loginPassword: 'test-login-password' });
  const profile = loadProfile();
  const q = <T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: unknown[] = []) => queryDb<T>(admin, db, sql, params);

  /** As the tenant's own login would: not a superuser, owning nothing. */
  async function asWriter(...sql: string[]): Promise<void> {
    const c = new Client({ connectionString: loginUrl(admin, db, writer, writerPassword) });
    await c.connect();
    try {
      for (const s of sql) await c.query(s);
    } finally {
      await c.end();
    }
  }

  const read = (v: ScrubVerification) => (v.recheck && 'read' in v.recheck ? v.recheck.read : null);
  const whole = (v: ScrubVerification) => (v.recheck && 'whole' in v.recheck ? v.recheck.whole : null);

  /** The re-check finds `column`, and so does the full gate. */
  async function recheckFinds(column: string): Promise<ScrubVerification> {
    const v = await engine.recheckEmails(db, profile, SANDBOX, RUN);
    assert.ok(v.remaining[column] > 0, `the re-check missed ${column}: ${JSON.stringify(v)}`);
    const full = await engine.verifyEmails(db, profile, SANDBOX);
    assert.ok(full.remaining[column] > 0, `the full gate disagrees on ${column}`);
    return v;
  }

  before(async () => {
    await seedTenantDatabase(admin, db, { tenantId: 'acme', companyName: 'Acme AS', baseUrl: 'https://acme.example-crm.com', persons: 100 });
    await plantSchemaDrift(q);
    await q(`CREATE TYPE mood AS ENUM ('calm', 'busy'); CREATE TABLE moods (id int PRIMARY KEY, m mood); INSERT INTO moods VALUES (1, 'calm')`);
    await q(`CREATE TABLE base_notes (id int, body text); CREATE TABLE child_notes () INHERITS (base_notes); INSERT INTO child_notes VALUES (1, 'x')`);
    await q(`CREATE TABLE owners (login text PRIMARY KEY);
             CREATE TABLE owned (id int PRIMARY KEY, login text REFERENCES owners ON UPDATE CASCADE);
             INSERT INTO owners VALUES ('plain-login'); INSERT INTO owned VALUES (1, 'plain-login')`);
    await q(`CREATE ROLE ${writer} LOGIN PASSWORD '${writerPassword}'`);
    await q(`GRANT USAGE ON SCHEMA public, crm TO ${writer}`);
    await q(`GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public, crm TO ${writer}`);
    await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX });
    await q(`REFRESH MATERIALIZED VIEW person_mails`);
  });

  beforeEach(async () => {
    // Every case starts from a clean, freshly gated database, whatever the case before it left.
    await q(`UPDATE persons SET notes = NULL WHERE notes LIKE '%@realcustomer.com%';
             UPDATE tickets SET title = 'clean' WHERE title LIKE '%@realcustomer.com';
             DELETE FROM newsletter_subscribers WHERE email = 'new@realcustomer.com'; DELETE FROM crm.leads WHERE id = 999; DELETE FROM cards WHERE id = 77;
             UPDATE "Odd Table" SET "E-Mail" = 'odd@mailinator.com' WHERE "E-Mail" LIKE '%@realcustomer.com';
             DELETE FROM events WHERE id = 5; UPDATE base_notes SET body = 'x'; UPDATE owners SET login = 'plain-login';
             ALTER TABLE settings DROP COLUMN IF EXISTS fallback; ALTER TABLE tickets ENABLE TRIGGER ALL`);
    const [{ renamed }] = await q<{ renamed: boolean }>(`SELECT 'calm@realcustomer.com' = ANY (enum_range(NULL::mood)::text[]) AS renamed`);
    if (renamed) await q(`ALTER TYPE mood RENAME VALUE 'calm@realcustomer.com' TO 'calm'`);
    const v = await engine.gateEmails(db, profile, SANDBOX, RUN);
    assert.equal(v.total, 0, v.findings.join('; '));
    assert.deepEqual(v.tracking, { recorded: true });
  });

  after(async () => {
    await engine.close();
    await dropDatabase(admin, db);
    await queryDb(admin, 'postgres', `DROP ROLE IF EXISTS ${writer}`);
  });

  test('nothing written: the re-check reads no table and passes', async () => {
    const v = await engine.recheckEmails(db, profile, SANDBOX, RUN);
    assert.equal(v.total, 0);
    assert.deepEqual(read(v), []);
    assert.ok(v.recheck && 'unchanged' in v.recheck && v.recheck.unchanged >= 20, JSON.stringify(v.recheck));
  });

  test('grants after the gate change no data: still only what was written is read', async () => {
    await q(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${writer}; COMMENT ON TABLE persons IS 'people'`);
    await asWriter(`UPDATE tickets SET title = 'see ann@realcustomer.com' WHERE id = (SELECT min(id) FROM tickets)`);
    const v = await recheckFinds('tickets.title');
    assert.deepEqual(read(v), ['tickets']);
  });

  test('an INSERT, an UPDATE, an ON CONFLICT and a COPY by the tenant login are read again', async () => {
    await asWriter(
      `INSERT INTO newsletter_subscribers VALUES ('new@realcustomer.com')`,
      `UPDATE "Odd Table" SET "E-Mail" = 'odd@realcustomer.com'`,
      `INSERT INTO crm.leads (id, contact) VALUES (999, 'x') ON CONFLICT (id) DO NOTHING`,
      `INSERT INTO crm.leads (id, contact) VALUES (999, 'lead@realcustomer.com') ON CONFLICT (id) DO UPDATE SET contact = excluded.contact`,
    );
    await q(`COPY cards (id, words) FROM PROGRAM $$printf '77\tcopy@realcustomer.com\n'$$`);
    const v = await recheckFinds('newsletter_subscribers.email');
    for (const c of ['Odd Table.E-Mail', 'crm.leads.contact', 'cards.words']) assert.ok(v.remaining[c] > 0, `${c}: ${JSON.stringify(v.remaining)}`);
    assert.deepEqual(read(v)?.sort(), ['Odd Table', 'cards', 'crm.leads', 'newsletter_subscribers']);
  });

  test('rows written through a partitioned parent or an inheritance parent: the partitions and children are read', async () => {
    await asWriter(
      `INSERT INTO events VALUES (5, '2026-03-01', 'ev@realcustomer.com')`,
      `UPDATE base_notes SET body = 'inh@realcustomer.com'`, // the row lives in child_notes
    );
    const v = await recheckFinds('events_2026.who');
    assert.ok(v.remaining['child_notes.body'] > 0, JSON.stringify(v.remaining));
  });

  test('a foreign-key cascade writes the referencing table: it is read', async () => {
    await q(`UPDATE owners SET login = 'owner@realcustomer.com'`);
    const v = await recheckFinds('owned.login');
    assert.ok(read(v)?.includes('owned'), JSON.stringify(v.recheck));
  });

  test('a superuser writing with session_replication_role = replica is still recorded', async () => {
    await q(`SET session_replication_role = replica; UPDATE persons SET notes = 'repl@realcustomer.com' WHERE id = (SELECT min(id) FROM persons)`);
    await recheckFinds('persons.notes');
  });

  test('schema changes that alter stored text without writing a row make the re-check read everything', async () => {
    await q(`ALTER TABLE settings ADD COLUMN fallback text DEFAULT 'default@realcustomer.com'`);
    let v = await recheckFinds('settings.fallback');
    assert.equal(whole(v), 'the schema changed after the gate');

    await q(`ALTER TABLE settings DROP COLUMN fallback`);
    await engine.gateEmails(db, profile, SANDBOX, RUN);
    await q(`ALTER TYPE mood RENAME VALUE 'calm' TO 'calm@realcustomer.com'`);
    v = await recheckFinds('moods.m');
    assert.equal(whole(v), 'the schema changed after the gate');
  });

  test('a disabled or dropped trigger is a schema change; a disabled event trigger is noticed', async () => {
    await q(`ALTER TABLE tickets DISABLE TRIGGER ALL`);
    await q(`UPDATE tickets SET title = 'dis@realcustomer.com' WHERE id = (SELECT min(id) FROM tickets)`);
    await q(`ALTER TABLE tickets ENABLE TRIGGER ALL`);
    let v = await recheckFinds('tickets.title');
    assert.equal(whole(v), 'the schema changed after the gate');
    await q(`UPDATE tickets SET title = 'clean' WHERE title LIKE '%@realcustomer.com'`);

    await engine.gateEmails(db, profile, SANDBOX, RUN);
    await q(`ALTER EVENT TRIGGER tenant_clone_gate_schema DISABLE`);
    await q(`DROP TRIGGER tenant_clone_gate_writes ON tickets`);
    await q(`UPDATE tickets SET title = 'gone@realcustomer.com' WHERE id = (SELECT min(id) FROM tickets)`);
    await q(`ALTER EVENT TRIGGER tenant_clone_gate_schema ENABLE ALWAYS`);
    v = await recheckFinds('tickets.title');
    assert.ok(read(v)?.includes('tickets'), `a table without its trigger is read: ${JSON.stringify(v.recheck)}`);

    await q(`UPDATE tickets SET title = 'clean' WHERE title LIKE '%@realcustomer.com'`);
    await engine.gateEmails(db, profile, SANDBOX, RUN);
    await q(`ALTER EVENT TRIGGER tenant_clone_gate_schema DISABLE`);
    v = await engine.recheckEmails(db, profile, SANDBOX, RUN);
    assert.equal(whole(v), 'the record of schema changes was altered or disabled');
  });

  test('a record from another run, domain or a gate that failed is not trusted', async () => {
    assert.equal(
      whole(await engine.recheckEmails(db, profile, SANDBOX, 'another-run')),
      'the record of writes belongs to another run, sandbox domain or profile',
    );
    assert.equal(
      whole(await engine.recheckEmails(db, profile, 'example-sandbox.test', RUN)),
      'the record of writes belongs to another run, sandbox domain or profile',
    );
    await q(`UPDATE persons SET notes = 'fail@realcustomer.com' WHERE id = (SELECT min(id) FROM persons)`);
    const failed = await engine.gateEmails(db, profile, SANDBOX, RUN);
    assert.ok(failed.total > 0);
    await q(`UPDATE persons SET notes = NULL WHERE notes LIKE '%@realcustomer.com%'`);
    assert.equal(whole(await engine.recheckEmails(db, profile, SANDBOX, RUN)), 'the gate that started the record did not pass');
  });

  test('ending the tracking leaves no trigger, event trigger or record behind', async () => {
    await engine.endGateTracking(db);
    const left = await q<{ n: string }>(
      `SELECT ((SELECT count(*) FROM pg_trigger WHERE tgname = 'tenant_clone_gate_writes') + (SELECT count(*) FROM pg_event_trigger)
             + (SELECT count(*) FROM pg_class WHERE relname IN ('gate', 'gate_writes') AND relnamespace = 'tenant_clone'::regnamespace))::text AS n`,
    );
    assert.equal(left[0].n, '0');
    await engine.endGateTracking(db); // idempotent
    assert.equal(whole(await engine.recheckEmails(db, profile, SANDBOX, RUN)), 'no record of writes since the gate');
  });
});
