/**
 * The e-mail rewrite rule on the hard values, checked value by value against the exact
 * expected output and the column's declared length, on a real PostgreSQL database: in plain
 * text columns, and again inside every other type the scrub rewrites (json, jsonb, arrays,
 * xml), which must stay valid and keep every value that is not an address. Then a seeded random
 * search for a value the rewrite leaves with a foreign address, checked by plain SQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PostgresTenantDatabase } from '../../activities/database/postgres/engine';
import { adminUrl, dropDatabase, queryDb, uniqueDbName } from '../support/postgres';
import { FOREIGN_BEFORE, HARD_EMAILS, HARD_LENGTHS, SANDBOX, hardProfile } from './hard-emails';
import { seededRandom } from '../support/random';
import { INSTALL_SQL, foreignAddressPattern } from '../../activities/database/postgres/scrub-sql';

/**
 * Foreign addresses by plain SQL written here, not the product's pattern: an "at" form after a
 * character of a local part, not followed by the sandbox domain.
 */
const PLAIN_FOREIGN = String.raw`[[:alnum:]_.+-](@|＠|%40|&#0*64;|&#x0*40;|\\u0040)(?!mailinator\.com([^[:alnum:].%&_-]|&(lt|gt|quot|apos|amp);|$))`;

describe('e-mail rewrite (PostgreSQL)', () => {
  const admin = adminUrl();
  const db = uniqueDbName('rewrite');
  const engine = new PostgresTenantDatabase({ adminUrl: admin, loginPassword: 'test-login-password' });
  const profile = hardProfile();
  const q = <T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: unknown[] = []) => queryDb<T>(admin, db, sql, params);

  before(async () => {
    await engine.createDatabase(db);
    await q(`CREATE TABLE hard (id integer PRIMARY KEY, e254 varchar(254), e40 varchar(40), e20 varchar(20),
      tiny varchar(12), tiny_nn varchar(12) NOT NULL DEFAULT 'x', txt text)`);
    // One row per case; the other columns of the row stay NULL (or 'x' for tiny_nn).
    for (const [i, [col, input]] of HARD_EMAILS.entries()) {
      if (col === 'tiny_nn') await q(`INSERT INTO hard (id, tiny_nn) VALUES ($1, $2)`, [i + 1, input]);
      else await q(`INSERT INTO hard (id, ${col}) VALUES ($1, $2)`, [i + 1, input]);
    }
    // The unbounded cases again in every other type the scrub rewrites, next to values that are
    // not addresses (numbers, booleans, nested structure), which must come out unchanged.
    await q(`CREATE TABLE typed (id integer PRIMARY KEY, j jsonb, js json, arr text[], varr varchar(40)[], grid text[], x xml, ch char(60))`);
    const unbounded = HARD_EMAILS.filter(([col, input]) => (col === 'e254' || col === 'txt') && input !== null);
    for (const [i, [, input]] of unbounded.entries()) {
      await q(
        `INSERT INTO typed (id, j, js, arr, grid, x) VALUES ($1, jsonb_build_object('v', $2::text, 'n', 42, 'ok', true, 'nested', jsonb_build_array($2::text, 1.5)),
           json_build_object('v', $2::text, 'v', 'dup', 'n', 7), ARRAY[$2::text, 'keep me', NULL], ARRAY[ARRAY[$2::text, 'a'], ARRAY['b', $2::text]],
           xmlelement(name doc, xmlattributes('n' AS kind), $2::text))`,
        [i + 1, input],
      );
    }
    await q(`INSERT INTO typed (id, varr, ch) SELECT 1000 + row_number() OVER (), ARRAY[v], v FROM unnest($1::text[]) AS v`, [
      HARD_EMAILS.filter(([col]) => col === 'e40').map(([, input]) => input),
    ]);
  });

  after(async () => {
    await engine.close();
    await dropDatabase(admin, db);
  });

  test('verification counts the foreign addresses before the scrub, by column, with the domain only', async () => {
    const v = await engine.verifyEmails(db, profile, SANDBOX);
    const hard = Object.entries(v.remaining)
      .filter(([c]) => c.startsWith('hard.'))
      .reduce((a, [, n]) => a + n, 0);
    assert.equal(hard, FOREIGN_BEFORE);
    assert.ok(v.remaining['typed.j'] > 0 && v.remaining['typed.arr'] > 0 && v.remaining['typed.x'] > 0);
    assert.ok(
      v.findings.some((f) => /^hard\.e254: \d+ values, e\.g\. …@/.test(f)),
      v.findings.join('\n'),
    );
    for (const f of v.findings) assert.ok(!/john|jane|bob\b/i.test(f), `a finding shows a local part: ${f}`);
  });

  test('every hard value is rewritten exactly as specified and fits its column', async () => {
    const cp = await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX, batchSize: 7 });
    assert.equal(cp.table, 2, 'both tables were walked');
    for (const [i, [col, input, expected]] of HARD_EMAILS.entries()) {
      const [row] = await q<{ v: string | null }>(`SELECT ${col} AS v FROM hard WHERE id = $1`, [i + 1]);
      assert.equal(row.v, expected, `${col} ${JSON.stringify(input)}`);
      const max = HARD_LENGTHS[col];
      if (max !== null && row.v !== null) assert.ok(row.v.length <= max, `${JSON.stringify(row.v)} exceeds ${col} (${max})`);
    }
    const v = await engine.verifyEmails(db, profile, SANDBOX);
    assert.equal(v.total, 0, v.findings.join('\n'));
  });

  test('json, jsonb, arrays (one and two dimensions) and xml: the same rewrite, still valid, every other value kept', async () => {
    const unbounded = HARD_EMAILS.filter(([col, input]) => (col === 'e254' || col === 'txt') && input !== null);
    for (const [i, [, input, expected]] of unbounded.entries()) {
      const [r] = await q<{ j: Record<string, unknown>; js: string; arr: (string | null)[]; grid: string[][]; x: string; xvalid: boolean }>(
        `SELECT j, js::text AS js, arr, grid, x::text AS x, xml_is_well_formed_document(x::text) AS xvalid FROM typed WHERE id = $1`,
        [i + 1],
      );
      const what = JSON.stringify(input);
      assert.deepEqual(r.j, { v: expected, n: 42, ok: true, nested: [expected, 1.5] }, `jsonb ${what}`);
      // json keeps its key order and duplicate keys.
      const keys = [...r.js.matchAll(/"(v|n)"\s*:/g)].map((m) => m[1]);
      assert.deepEqual(keys, ['v', 'v', 'n'], `json ${what}: ${r.js}`);
      assert.equal(JSON.parse(r.js).n, 7);
      assert.ok(r.js.includes(JSON.stringify(expected)), `json ${what}: ${r.js}`);
      assert.deepEqual(r.arr, [expected, 'keep me', null], `text[] ${what}`);
      assert.deepEqual(
        r.grid,
        [
          [expected, 'a'],
          ['b', expected],
        ],
        `text[][] ${what}`,
      );
      assert.ok(r.xvalid, `xml ${what} is still well-formed: ${r.x}`);
      assert.match(r.x, /^<doc kind="n">/, `xml ${what}: ${r.x}`);
    }
    // Bounded element types and char(n) keep their lengths.
    const bounded = await q<{ varr: string[] | null; ch: string | null }>(`SELECT varr, ch FROM typed WHERE id > 1000 ORDER BY id`);
    const e40 = HARD_EMAILS.filter(([col]) => col === 'e40');
    for (const [i, [, input, expected]] of e40.entries()) {
      assert.deepEqual(bounded[i].varr, [expected], `varchar(40)[] ${JSON.stringify(input)}`);
      assert.ok((bounded[i].ch ?? '').trimEnd().length <= 60);
    }
    const plain = await q<{ row: string }>(`SELECT t::text AS row FROM typed t WHERE t::text ~* $1`, [PLAIN_FOREIGN]);
    assert.deepEqual(plain, [], 'no foreign address in any typed column (plain SQL over the row text)');
  });

  test('a second scrub changes nothing', async () => {
    const before = await engine.checksum(db);
    await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX, batchSize: 5 });
    assert.deepEqual(await engine.checksum(db), before);
  });

  test('the sandbox domain is validated', async () => {
    await assert.rejects(engine.scrubEmails(db, profile, { sandboxDomain: 'not a domain' }), /invalid sandbox mail domain "not a domain"/);
    await assert.rejects(engine.verifyEmails(db, profile, 'x@y'), /invalid sandbox mail domain "x@y"/);
  });

  test('seeded random values: the rewrite never leaves a foreign address and is idempotent, bounded or not', async () => {
    const seed = Number(process.env.REWRITE_SEED ?? 20261202);
    const rnd = seededRandom(seed);
    const pieces = [
      'a',
      'B',
      '.',
      '@',
      '@',
      '＠',
      '%40',
      '&#64;',
      '&#x40;',
      '\\u0040',
      '\\n',
      '\\',
      '\\"',
      'mailinator.com',
      'MAILINATOR.com',
      'gmail.com',
      ' ',
      ',',
      ';',
      '"',
      '<',
      '>',
      '(',
      ')',
      "'",
      '{',
      '}',
      '&amp;',
      '&lt;',
      '&gt;',
      '&quot;',
      '&lt',
      '&#46;',
      '-',
      '_',
      '/',
      '%',
      '&',
      '#',
      '\n',
      '．',
      'é',
      '0',
    ];
    const values: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let v = '';
      for (let k = 1 + Math.floor(rnd() * 9); k > 0; k--) v += pieces[Math.floor(rnd() * pieces.length)];
      values.push(v);
    }
    const bad = await q<{ v: string; out: string | null; maxlen: number | null }>(
      `SELECT v, out, maxlen FROM (
         SELECT v, m.maxlen, tenant_clone.rewrite_emails(v, 'mailinator.com', m.maxlen, true) AS out
           FROM unnest($1::text[]) AS v CROSS JOIN (VALUES (NULL::int), (20), (40)) AS m(maxlen)) s
        WHERE out ~* $2 OR out ~* $3 OR tenant_clone.rewrite_emails(out, 'mailinator.com', maxlen, true) IS DISTINCT FROM out OR (length(v) <= maxlen AND length(out) > maxlen)`,
      [values, PLAIN_FOREIGN, foreignAddressPattern(SANDBOX)],
    );
    assert.deepEqual(bad.slice(0, 5), [], `seed ${seed}: ${bad.length} values (rerun with REWRITE_SEED=${seed})`);
  });

  test('the fast paths give exactly what the general token loop gives (seeded random values, bounded or not)', async () => {
    // The loop alone: rewrite_field as installed, its one-regexp path for plain lists switched off.
    const fn = INSTALL_SQL.slice(
      INSTALL_SQL.indexOf('CREATE OR REPLACE FUNCTION tenant_clone.rewrite_field('),
      INSTALL_SQL.indexOf('-- Fast path for the common'),
    );
    const loopOnly = fn.replace('tenant_clone.rewrite_field(', 'tenant_clone.rewrite_field_loop(').replace("IF (val !~ '", "IF false AND (val !~ '");
    assert.ok(loopOnly.includes('IF false AND (val !~'), 'the plain-list path was found and switched off');
    await q(INSTALL_SQL);
    await q(loopOnly);
    const seed = Number(process.env.REWRITE_SEED ?? 20261202) + 1;
    const rnd = seededRandom(seed);
    const pieces = [
      'a',
      'b',
      'X',
      'É',
      '.',
      '@',
      '@',
      '@',
      '＠',
      '%40',
      '&#64;',
      'mailinator.com',
      'gmail.com',
      'Gmail.COM',
      ' ',
      ',',
      ';',
      '"',
      '<',
      '>',
      '(',
      ')',
      "'",
      '-',
      '_',
      '/',
      '&amp;',
      '&lt;',
      '\n',
      'é',
      '0',
      'x.io',
      '\\',
    ];
    const values: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let v = '';
      for (let k = 1 + Math.floor(rnd() * 10); k > 0; k--) v += pieces[Math.floor(rnd() * pieces.length)];
      values.push(v);
    }
    const differ = await q(
      `SELECT v, m, fast, slow FROM (
         SELECT v, m, tenant_clone.rewrite_emails(v, 'mailinator.com', m, true) AS fast, tenant_clone.rewrite_field_loop(v, 'mailinator.com', m, true) AS slow
           FROM unnest($1::text[]) AS v CROSS JOIN (VALUES (NULL::int), (25), (60)) AS x(m)) s
        WHERE fast IS DISTINCT FROM slow`,
      [values],
    );
    assert.deepEqual(differ.slice(0, 5), [], `seed ${seed}: ${differ.length} values differ`);
  });
});
