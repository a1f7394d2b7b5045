/**
 * The scrub and its verification cover the whole database, found from the catalog: columns and
 * tables no profile lists, a second schema, quoted names, tables without a key, partitions,
 * domains, generated columns, materialized views, triggers. Checked with plain SQL written here
 * over the text of every row of every table, not with the product's functions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PostgresTenantDatabase } from '../../activities/database/postgres/engine';
import { loadProfile, profileSchema } from '../../activities/database/profile';
import { seedTenantDatabase } from '../../stack/seed/tenant-data';
import { plantSchemaDrift } from './schema-drift';
import { adminUrl, dropDatabase, queryDb, uniqueDbName } from '../support/postgres';

const SANDBOX = 'mailinator.com';

/** The issue's own check, plus the obfuscated forms: any "at" not followed by the sandbox domain. */
const PLAIN = String.raw`(@|＠|%40|&#0*64;|&#x0*40;)(?!mailinator\.com)`;

/** The rows of every table of every schema whose text holds a foreign address, by plain SQL. */
async function leftovers(admin: string, db: string, except: string[] = []): Promise<string[]> {
  const tables = await queryDb<{ t: string }>(
    admin,
    db,
    `SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
     UNION ALL SELECT format('%I.%I', schemaname, matviewname) FROM pg_matviews`,
  );
  const found: string[] = [];
  for (const { t } of tables) {
    if (except.includes(t)) continue;
    const rows = await queryDb<{ r: string }>(admin, db, `SELECT r::text AS r FROM ${t} r WHERE r::text ~* $1 LIMIT 3`, [PLAIN]);
    for (const { r } of rows) found.push(`${t}: ${r}`);
  }
  return found;
}

describe('whole-database scrub and verification (PostgreSQL)', () => {
  const admin = adminUrl();
  const db = uniqueDbName('whole');
  const engine = new PostgresTenantDatabase({ adminUrl: admin, loginPassword: 'test-login-password' });
  const profile = loadProfile();
  const q = <T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: unknown[] = []) => queryDb<T>(admin, db, sql, params);

  before(async () => {
    await seedTenantDatabase(admin, db, { tenantId: 'acme', companyName: 'Acme AS', baseUrl: 'https://acme.example-crm.com', persons: 200 });
    await plantSchemaDrift(q);
    await q(`ANALYZE`);
  });

  after(async () => {
    await engine.close();
    await dropDatabase(admin, db);
  });

  test('before the scrub, the verification names every planted column, with the domain only', async () => {
    const v = await engine.verifyEmails(db, profile, SANDBOX);
    for (const col of [
      'persons.notes',
      'persons.prefs',
      'persons.aliases',
      'tickets.title',
      'newsletter_subscribers.email',
      'crm.leads.contact',
      'crm.leads.doc',
      'Odd Table.E-Mail',
      'contacts_extra.primary_mail',
      'events_2025.who',
      'events_2026.who',
      'person_mails.email',
    ]) {
      assert.ok(v.remaining[col] > 0, `${col} not found: ${Object.keys(v.remaining).join(', ')}`);
    }
    assert.equal(v.remaining['newsletter_subscribers.email'], 4, 'the obfuscated forms count');
    assert.ok(v.findings.includes('persons.notes: 3 values, e.g. …@realcustomer.com'), v.findings.join('\n'));
    assert.ok(v.scanned.tables >= 20 && v.scanned.columns >= 60, JSON.stringify(v.scanned));
  });

  test('profile check: every column holding addresses, counted, with its coverage', async () => {
    const cols = await engine.addressColumns(db, profile, SANDBOX);
    const by = Object.fromEntries(cols.map((c) => [c.column, c]));
    assert.equal(by['persons.notes'].coverage, 'rewritten');
    assert.equal(by['persons.notes'].values, 3);
    assert.equal(by['persons.notes'].example, '…@realcustomer.com');
    assert.equal(by['crm.leads.doc'].type, 'xml');
    assert.equal(by['users.email_domain'], undefined, 'a domain alone is no address');
    assert.deepEqual(await engine.missingProfileNames(db, profile), []);
    const typo = profileSchema.parse({
      ...profile,
      emails: { ...profile.emails, keep: [{ table: 'crm.leads', column: 'nope', why: 'test' }] },
      clear: [{ table: 'mailbox', columns: ['password'] }],
    });
    assert.deepEqual(await engine.missingProfileNames(db, typo), ['column "crm.leads.nope"', 'table "mailbox"']);
  });

  test('the scrub rewrites every one of them; plain SQL over every row of every table finds no foreign address', async () => {
    const auditBefore = await q<{ n: string }>(`SELECT count(*)::text AS n FROM audit_log`);
    const cp = await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX, batchSize: 100 });
    assert.ok(cp.rewritten > 0);
    assert.deepEqual(await q(`SELECT count(*)::text AS n FROM audit_log`), auditBefore, 'the audit trigger did not fire');
    assert.deepEqual(await leftovers(admin, db), []);
    assert.deepEqual(await q(`SELECT notes, prefs, aliases FROM persons WHERE id = 1`), [
      {
        notes: 'call bob_realcustomer.com@mailinator.com',
        prefs: { cc: 'alice_realcustomer.com@mailinator.com', n: 3 },
        aliases: ['carol_realcustomer.com@mailinator.com', 'x'],
      },
    ]);
    assert.deepEqual(
      (await q<{ email: string }>(`SELECT email FROM newsletter_subscribers ORDER BY email`)).map((r) => r.email),
      [
        'erin_realcustomer.com@mailinator.com',
        'frank_realcustomer.com@mailinator.com',
        'gina_realcustomer.com@mailinator.com',
        'hank_realcustomer.com@mailinator.com',
      ],
    );
    assert.deepEqual(await q(`SELECT doc::text AS doc FROM crm.leads WHERE id = 1`), [
      { doc: '<lead><mail>jill_realcustomer.com@mailinator.com</mail></lead>' },
    ]);
    const [gen] = await q<{ d: string }>(`SELECT email_domain AS d FROM users WHERE login = 'admin'`);
    assert.equal(gen.d, SANDBOX, 'the generated column is recomputed from the rewritten one');
    const [mv] = await q<{ n: string }>(`SELECT count(*)::text AS n FROM person_mails WHERE email !~* '@mailinator\\.com$'`);
    assert.equal(mv.n, '0', 'the materialized view is refreshed from the rewritten table');
    const v = await engine.verifyEmails(db, profile, SANDBOX);
    assert.equal(v.total, 0, v.findings.join('\n'));
  });

  test('an address in a type the scrub cannot rewrite is named by the verification, and kept columns are reported', async () => {
    await q(`INSERT INTO cards VALUES (1, ROW('Olga', 'olga@realcustomer.com'), to_tsvector('simple', 'olga@realcustomer.com'))`);
    await q(`ALTER TABLE persons ADD COLUMN hash text; UPDATE persons SET hash = 'pete@realcustomer.com' WHERE id = 1`);
    const keep = profileSchema.parse({
      ...profile,
      emails: { ...profile.emails, keep: [{ table: 'persons', column: 'hash', why: 'a digest the app compares' }] },
    });
    await engine.scrubEmails(db, keep, { sandboxDomain: SANDBOX });
    const v = await engine.verifyEmails(db, keep, SANDBOX);
    assert.deepEqual(Object.keys(v.remaining).sort(), ['cards.card', 'cards.words']);
    assert.ok(v.findings.includes('cards.card: 1 values, e.g. …@realcustomer.com'), v.findings.join('\n'));
    assert.deepEqual(v.kept, { 'persons.hash': 1 });
    const cols = Object.fromEntries((await engine.addressColumns(db, keep, SANDBOX)).map((c) => [c.column, c.coverage]));
    assert.deepEqual(cols, { 'cards.card': 'not-rewritable', 'cards.words': 'not-rewritable', 'persons.hash': 'kept' });
  });

  test("a source's own schema named like the tool's (an earlier sandbox's dump) is scrubbed and verified like any other", async () => {
    const src = uniqueDbName('whole_tc_src');
    const dst = uniqueDbName('whole_tc_dst');
    const qs = (d: string, sql: string) => queryDb<Record<string, unknown>>(admin, d, sql);
    try {
      await engine.createDatabase(src);
      await qs(src, `CREATE SCHEMA tenant_clone; CREATE TABLE tenant_clone.stash (v text); INSERT INTO tenant_clone.stash VALUES ('leak@realcustomer.com')`);
      await qs(
        src,
        `CREATE TYPE pair AS (a text, b text); CREATE TABLE tenant_clone.pairs (p pair); INSERT INTO tenant_clone.pairs VALUES (ROW('x', 'y@realcustomer.com'))`,
      );
      await engine.createDatabase(dst);
      await engine.copyDatabase(src, dst, { jobs: 1 }); // the dump path, as restored backups take
      const before = await engine.verifyEmails(dst, profile, SANDBOX);
      assert.deepEqual(Object.keys(before.remaining).sort(), ['tenant_clone.pairs.p', 'tenant_clone.stash.v']);
      await engine.scrubEmails(dst, profile, { sandboxDomain: SANDBOX });
      assert.deepEqual(await qs(dst, `SELECT v FROM tenant_clone.stash`), [{ v: 'leak_realcustomer.com@mailinator.com' }]);
      assert.deepEqual(
        Object.keys((await engine.verifyEmails(dst, profile, SANDBOX)).remaining),
        ['tenant_clone.pairs.p'],
        'a composite cannot be rewritten: named',
      );
    } finally {
      await engine.dropDatabase(dst);
      await engine.dropDatabase(src);
    }
  });

  test('the source-data check finds a sandbox domain used by real addresses, per table', async () => {
    const src = uniqueDbName('whole_src');
    try {
      await seedTenantDatabase(admin, src, { tenantId: 'acme', companyName: 'Acme AS', baseUrl: 'https://acme.example-crm.com', persons: 100 });
      const gmail = await engine.countAddressesAt(src, 'gmail.com');
      assert.ok(gmail.persons > 0 && gmail.email_addresses > 0, JSON.stringify(gmail));
      assert.deepEqual(await engine.countAddressesAt(src, 'mailinator.com'), {}, 'eu.mailinator.com is not mailinator.com');
      assert.ok((await engine.countAddressesAt(src, 'eu.mailinator.com')).email_addresses > 0);
    } finally {
      await engine.dropDatabase(src);
    }
  });
});
