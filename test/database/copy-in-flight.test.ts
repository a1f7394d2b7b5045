/**
 * The copy that writes the target once (PostgreSQL): on a source with schema drift and the hard
 * cases, the in-flight copy leaves exactly what the dump, restore and in-place scrub leave, row
 * for row in every table (one big enough to be copied in pieces of pages, several at once); no
 * row of the target was ever updated (each was written once, sanitized); indexes, constraints,
 * triggers, sequences and materialized views come across; the source is never written and keeps
 * taking writes during the copy; defaults are rewritten before the rows arrive; bytea that is text is rewritten on the way and any other bytea
 * arrives byte for byte; the scrub trusts only its own run's marker; a source with large
 * objects falls back to the dump and the in-place scrub.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PostgresTenantDatabase } from '../../activities/database/postgres/engine';
import { loadProfile } from '../../activities/database/profile';
import { seedTenantDatabase } from '../../stack/seed/tenant-data';
import { adminUrl, queryDb, uniqueDbName } from '../support/postgres';
import { BYTEA_CASES, loadByteaCases, PARTS_AS_HEX, PARTS_EXPECTED, SCAN_EXPECTED } from './bytea-cases';
import { DEFAULTS_SQL, plantDefaults, SCRUBBED_DEFAULTS } from './default-cases';
import { HARD_EMAILS, HARD_LENGTHS, SANDBOX } from './hard-emails';
import { plantSchemaDrift } from './schema-drift';

/** Every row of every table and materialized view, as text, by table (the tool's own schema aside). */
async function contents(admin: string, db: string): Promise<Record<string, string>> {
  const tables = await queryDb<{ t: string }>(
    admin,
    db,
    `SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'tenant_clone')
     UNION ALL SELECT format('%I.%I', schemaname, matviewname) FROM pg_matviews ORDER BY 1`,
  );
  const out: Record<string, string> = {};
  for (const { t } of tables) {
    const [{ rows }] = await queryDb<{ rows: string | null }>(admin, db, `SELECT string_agg(r::text, E'\\n' ORDER BY r::text) AS rows FROM ${t} r`);
    out[t] = rows ?? '';
  }
  return out;
}

/**
 * What a copy must bring besides rows: indexes, constraints (by name: a dump prints a CHECK's
 * text differently), the tenant's triggers, sequences.
 */
async function shape(admin: string, db: string) {
  const one = async (sql: string) => (await queryDb<{ v: string }>(admin, db, sql)).map((r) => r.v);
  return {
    indexes: await one(`SELECT indexdef AS v FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'tenant_clone') ORDER BY 1`),
    constraints: await one(
      `SELECT conrelid::regclass::text || ' ' || conname || ' ' || contype::text AS v FROM pg_constraint WHERE connamespace::regnamespace::text NOT IN ('pg_catalog', 'tenant_clone') AND conrelid <> 0 ORDER BY 1`,
    ),
    triggers: await one(`SELECT tgrelid::regclass::text || ' ' || tgname AS v FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`),
    sequences: await one(`SELECT schemaname || '.' || sequencename || ' ' || coalesce(last_value::text, 'unset') AS v FROM pg_sequences ORDER BY 1`),
  };
}

describe('the copy that writes the target once (PostgreSQL)', { timeout: 10 * 60_000 }, () => {
  const admin = adminUrl();
  const engine = new PostgresTenantDatabase({ adminUrl: admin, loginPassword: 'test-login-password' });
  const profile = loadProfile();
  const source = uniqueDbName('inflight_src');
  const made: string[] = [source];
  const q =
    (db: string) =>
    (sql: string, params: unknown[] = []) =>
      queryDb(admin, db, sql, params);
  const newTarget = async (prefix: string) => {
    const db = uniqueDbName(prefix);
    made.push(db);
    await engine.createDatabase(db);
    return db;
  };
  const sanitize = (runId: string) => ({ profile, sandboxDomain: SANDBOX, runId });

  before(async () => {
    await seedTenantDatabase(admin, source, { tenantId: 'acme', companyName: 'Acme AS', baseUrl: 'https://acme.example-crm.com', persons: 3000 });
    await plantSchemaDrift(q(source));
    const cols = Object.entries(HARD_LENGTHS).map(([c, n]) => `${c} ${n === null ? 'text' : `varchar(${n})`}${c === 'tiny_nn' ? ` NOT NULL DEFAULT ''` : ''}`);
    await q(source)(`CREATE TABLE hard (id serial PRIMARY KEY, ${cols.join(', ')})`);
    for (const [col, input] of HARD_EMAILS) await q(source)(`INSERT INTO hard (${col}) VALUES ($1)`, [col === 'tiny_nn' ? (input ?? '') : input]);
    await q(source)(`INSERT INTO cards VALUES (1, ROW('Olga', 'olga@realcustomer.com'), to_tsvector('simple', 'olga@realcustomer.com'))`);
    // In a Turkish collation lower('I') is 'ı': the copy lowers domains as the column's collation does.
    await q(source)(`CREATE TABLE turkish (id integer PRIMARY KEY, email varchar(100) COLLATE "tr-x-icu", note text COLLATE "tr-x-icu")`);
    await q(source)(`INSERT INTO turkish VALUES (1, 'ALI@ISTANBUL.COM', 'Ali <ALI@ISTANBUL.COM>, x@B@ISTANBUL.COM'), (2, 'ali@istanbul.com', NULL)`);
    // A table over the size the copy cuts into pieces of pages (several COPYs of one table at once).
    await q(source)(
      `CREATE TABLE mail_log AS SELECT g AS id, 'user' || g || '@realcustomer.com' AS sent_to, repeat('x', 200) AS body FROM generate_series(1, 60000) g`,
    );
    await loadByteaCases(q(source));
    await plantDefaults(q(source));
    await q(source)(`ANALYZE`);
  });
  after(async () => {
    for (const db of made) await engine.dropDatabase(db).catch(() => undefined);
    await engine.close();
  });

  test('row for row what the dump, restore and in-place scrub give; each target row written once; schema, sequences and views across; the source untouched', async () => {
    const sourceBefore = await engine.checksum(source);
    const inPlace = await newTarget('inflight_a');
    const copied = await engine.copyDatabase(source, inPlace, { jobs: 2 });
    assert.equal(copied.rewrittenInFlight, null);
    const scrubbed = await engine.scrubEmails(inPlace, profile, { sandboxDomain: SANDBOX, runId: 'run-a' });
    assert.ok(!scrubbed.inFlight && scrubbed.rewritten > 0);

    const once = await newTarget('inflight_b');
    const progress: number[] = [];
    const r = await engine.copyDatabase(source, once, { jobs: 2, sanitize: sanitize('run-b'), onProgress: (p) => progress.push(p.percent) });
    assert.ok(r.rewrittenInFlight !== null && r.rewrittenInFlight > 3000, `rows rewritten on the way: ${r.rewrittenInFlight}`);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      'progress only goes forward',
    );
    assert.equal(progress.at(-1), 100);

    assert.deepEqual(await contents(admin, once), await contents(admin, inPlace));
    // The hard cases, exactly as the rule says (the in-place scrub's own tests hold it to the same list).
    const hard = await queryDb<Record<string, string | null>>(admin, once, `SELECT * FROM hard ORDER BY id`);
    HARD_EMAILS.forEach(([col, input, expected], i) => assert.equal(hard[i][col], col === 'tiny_nn' && input === null ? '' : expected, `${col}: ${input}`));
    assert.deepEqual(await queryDb(admin, once, `SELECT email, note FROM turkish ORDER BY id`), [
      { email: 'ALI_ıstanbul.com@mailinator.com', note: 'Ali <ALI_ıstanbul.com@mailinator.com>, x_B_ıstanbul.com@mailinator.com' },
      { email: 'ali_istanbul.com@mailinator.com', note: null },
    ]);
    // bytea that is text is rewritten on the way as in place; anything else arrives byte for byte.
    assert.deepEqual(
      await queryDb(admin, once, `SELECT encode(body, 'hex') AS body, encode(scan, 'hex') AS scan, ${PARTS_AS_HEX} AS parts FROM documents ORDER BY id`),
      BYTEA_CASES.map((c, i) => ({ body: c.expected, scan: i === 0 ? SCAN_EXPECTED : null, parts: i === 0 ? PARTS_EXPECTED : null })),
    );
    // Defaults are rewritten before the first row arrives: the schema carries no real address either.
    assert.deepEqual(await queryDb(admin, once, DEFAULTS_SQL), SCRUBBED_DEFAULTS);
    assert.deepEqual(await queryDb(admin, inPlace, DEFAULTS_SQL), SCRUBBED_DEFAULTS);
    assert.deepEqual(await shape(admin, once), await shape(admin, inPlace));
    assert.deepEqual(await shape(admin, once), await shape(admin, source));

    // Written once: the in-place path updated rows after loading them, this one never did.
    // (Closing the engine's sessions makes their servers flush their statistics.)
    await engine.close();
    const updated = async (db: string) =>
      Number(
        (
          await queryDb<{ n: string }>(
            admin,
            db,
            `SELECT coalesce(sum(n_tup_upd + n_tup_hot_upd), 0)::text AS n FROM pg_stat_user_tables WHERE schemaname <> 'tenant_clone'`,
          )
        )[0].n,
      );
    assert.equal(await updated(once), 0, 'a row of the in-flight target was updated');
    assert.ok((await updated(inPlace)) > 0, 'the in-place scrub updates rows (the check can tell)');
    assert.deepEqual(await queryDb(admin, once, `SELECT count(*)::int AS n FROM audit_log`), [{ n: 0 }], "the tenant's audit trigger did not fire");

    // The scrub of the same run only verifies; the gate reads the whole database as always.
    const scrub = await engine.scrubEmails(once, profile, { sandboxDomain: SANDBOX, runId: 'run-b' });
    assert.equal(scrub.inFlight, true);
    assert.equal(scrub.rewritten, r.rewrittenInFlight);
    const gate = await engine.verifyEmails(once, profile, SANDBOX);
    assert.deepEqual(Object.keys(gate.remaining).sort(), ['cards.card', 'cards.words'], 'only what no path can rewrite');
    assert.equal(gate.total, (await engine.verifyEmails(inPlace, profile, SANDBOX)).total);

    assert.deepEqual(await engine.checksum(source), sourceBefore, 'the source is untouched');
  });

  test("the scrub rewrites in place when the marker is another run's", async () => {
    const target = await newTarget('inflight_c');
    await engine.copyDatabase(source, target, { jobs: 1, sanitize: sanitize('run-1') });
    const scrub = await engine.scrubEmails(target, profile, { sandboxDomain: SANDBOX, runId: 'run-2' });
    assert.ok(!scrub.inFlight);
    const other = await engine.scrubEmails(target, profile, { sandboxDomain: 'sandbox.example.org', runId: 'run-1' });
    assert.ok(!other.inFlight, 'nor when the domain differs');
  });

  test('the source keeps taking writes during the copy, and the target holds the snapshot', async () => {
    const [{ n: before }] = await queryDb<{ n: number }>(admin, source, `SELECT count(*)::int AS n FROM persons`);
    const target = await newTarget('inflight_d');
    let writes = 0;
    let firstWrite = Infinity;
    let writing: Promise<void> | null = null;
    await engine.copyDatabase(source, target, {
      jobs: 2,
      sanitize: sanitize('run-d'),
      onProgress: (p) => {
        // Once the tables are streaming, the tenant's users go on writing, committed at once.
        if (writing || p.percent < 1 || !/copying|copied/.test(p.detail)) return;
        writing = (async () => {
          for (let i = 0; i < 20; i++) {
            await queryDb(admin, source, `INSERT INTO persons (id, first_name, last_name, email) VALUES ($1, 'Late', 'Writer', $2)`, [
              1_000_000 + i,
              `late${i}@realcustomer.com`,
            ]);
            writes++;
            firstWrite = Math.min(firstWrite, Date.now());
          }
        })();
      },
    });
    const copyEnded = Date.now();
    await writing;
    assert.equal(writes, 20);
    assert.ok(firstWrite < copyEnded, 'a write committed on the source while the copy ran');
    const [{ n: after }] = await queryDb<{ n: number }>(admin, source, `SELECT count(*)::int AS n FROM persons`);
    assert.equal(after, before + 20);
    const [{ n: copied }] = await queryDb<{ n: number }>(admin, target, `SELECT count(*)::int AS n FROM persons`);
    assert.equal(copied, before, 'rows committed after the snapshot are not in the copy');
    await queryDb(admin, source, `DELETE FROM persons WHERE id >= 1000000`);
  });

  test('a bad sandbox domain is refused by name before the target is touched; a cancelled copy can be run again', async () => {
    const target = await newTarget('inflight_e');
    await q(target)(`CREATE TABLE keep_me (id int)`);
    await assert.rejects(engine.copyDatabase(source, target, { sanitize: { profile, sandboxDomain: 'not a domain', runId: 'x' } }), /not a domain/);
    assert.deepEqual(await queryDb(admin, target, `SELECT to_regclass('keep_me')::text AS t`), [{ t: 'keep_me' }]);
    const ac = new AbortController();
    await assert.rejects(
      engine.copyDatabase(source, target, {
        jobs: 2,
        sanitize: sanitize('run-e'),
        signal: ac.signal,
        onProgress: (p) => {
          if (/copied 1\//.test(p.detail)) ac.abort(new Error('cancelled by test'));
        },
      }),
    );
    const again = await engine.copyDatabase(source, target, { jobs: 2, sanitize: sanitize('run-e') });
    assert.ok(again.rewrittenInFlight !== null);
    assert.equal((await engine.verifyEmails(target, profile, SANDBOX)).total, 2, 'only the two values no path can rewrite');
  });

  test('large objects: the copy falls back to the dump, and the scrub rewrites in place', async () => {
    const src = uniqueDbName('inflight_lo');
    made.push(src);
    await seedTenantDatabase(admin, src, { tenantId: 'acme', companyName: 'Acme AS', baseUrl: 'https://acme.example-crm.com', persons: 50 });
    await q(src)(`SELECT lo_from_bytea(0, convert_to('a large object for ola@realcustomer.com', 'UTF8'))`);
    const target = await newTarget('inflight_lo_t');
    const r = await engine.copyDatabase(src, target, { sanitize: sanitize('run-lo') });
    assert.equal(r.rewrittenInFlight, null);
    assert.deepEqual(await queryDb(admin, target, `SELECT count(*)::int AS n FROM pg_largeobject_metadata`), [{ n: 1 }]);
    const scrub = await engine.scrubEmails(target, profile, { sandboxDomain: SANDBOX, runId: 'run-lo' });
    assert.ok(!scrub.inFlight && scrub.rewritten > 0);
    assert.deepEqual(await queryDb(admin, target, `SELECT convert_from(lo_get(oid), 'UTF8') AS t FROM pg_largeobject_metadata`), [
      { t: 'a large object for ola_realcustomer.com@mailinator.com' },
    ]);
    assert.equal((await engine.verifyEmails(target, profile, SANDBOX)).total, 0);
  });
});
