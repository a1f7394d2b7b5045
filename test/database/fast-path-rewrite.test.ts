/**
 * The in-flight copy's fast paths in Node against the rule itself, tenant_clone.rewrite_emails
 * on a real PostgreSQL: every value of a seeded random corpus (plain addresses, lists, display
 * names, several "at", obfuscated forms, handles, upper case, non-ASCII, escapes, over-long
 * values) at several column lengths, nullable or not. Wherever Node answers, its answer must be
 * PostgreSQL's; where it cannot be sure, it must leave the value to PostgreSQL. And the COPY text
 * stream: escapes, NULLs and multi-byte characters come through unchanged or rewritten, one
 * byte at a time.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { Pool } from 'pg';
import type { CatalogColumn } from '../../activities/database/postgres/catalog';
import { CopyRewriteStream, decodeCopyText, encodeCopyText } from '../../activities/database/postgres/copy-rewrite-stream';
import { PostgresTenantDatabase } from '../../activities/database/postgres/engine';
import { fastPathRewrite } from '../../activities/database/postgres/fast-path-rewrite';
import { installRewriteFunctions, rewriteExpr } from '../../activities/database/postgres/scrub';
import { adminUrl, uniqueDbName } from '../support/postgres';
import { seededRandom } from '../support/random';
import { HARD_EMAILS, SANDBOX } from './hard-emails';

const LOCALS = ['john', 'John.Doe', 'a', 'x+tag', "o'brien", 'a.b-c_d', 'ab%cd', 'a&b', 'jöhn', 'İlker', 'user.name.with.a.very.long.local.part'];
const DOMAINS = [
  'x.com',
  'Company.COM',
  'mailinator.com',
  'MAILINATOR.COM',
  'mailinator.com.evil.org',
  'sub.mailinator.com',
  'ex.io',
  'exämple.com',
  'xn--80ak6aa92e.com',
  'İSTANBUL.COM.TR',
  'some-very-long-company-name-for-testing.example.org',
];
const SEPARATORS = ['; ', ', ', ',', ' ', '\t', '\n', ' ; '];

/** One value of the corpus, built from the pieces above by `rnd`. */
function sample(rnd: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const address = () => `${pick(LOCALS)}@${pick(DOMAINS)}`;
  switch (Math.floor(rnd() * 12)) {
    case 0:
    case 1:
    case 2:
      return address();
    case 3:
      return Array.from({ length: 2 + Math.floor(rnd() * 3) }, address).join(pick(SEPARATORS));
    case 4:
      return `"${pick(LOCALS)} ${pick(LOCALS)}" <${address()}>`;
    case 5:
      return `${pick(LOCALS)} ${pick(LOCALS)} <${address()}>${rnd() < 0.5 ? `, ${address()}` : ''}`;
    case 6:
      return `${pick(LOCALS)}@${pick(LOCALS)}@${pick(DOMAINS)}`;
    case 7:
      return pick(['%40', '＠', '&#64;', '&#x40;', '\\u0040', '@@']).replace(/^/, pick(LOCALS)) + pick(DOMAINS);
    case 8:
      return pick(['@media x', 'ping @acme', 'user@', '@x.com', ' bob@x.com ', '{bob@x.com}', 'a@x.com\\', 'back\\slash@x.com', '<a@x.com>']);
    case 9:
      return `${pick(['  ', '', '(', '[', '"'])}${address()}${pick(['', ' ', ')', ']', '"', '.'])}`;
    case 10:
      return `${address()}${pick(SEPARATORS)}${pick(['ok@mailinator.com', 'OK@Mailinator.com', 'x@b.c'])}`;
    default:
      return `${'x'.repeat(Math.floor(rnd() * 60))}@${pick(DOMAINS)}`;
  }
}

const LENGTHS = [null, 254, 60, 40, 30, 20, 16, 12, 5];

describe('the fast paths of the in-flight copy against the rule (PostgreSQL)', () => {
  const admin = adminUrl();
  const engine = new PostgresTenantDatabase({ adminUrl: admin, loginPassword: 'test-login-password' });
  const db = uniqueDbName('fastpath');
  let pool: Pool;

  before(async () => {
    await engine.createDatabase(db);
    const u = new URL(admin);
    u.pathname = `/${db}`;
    pool = new Pool({ connectionString: u.toString(), max: 2 });
    await installRewriteFunctions(pool);
  });
  after(async () => {
    await pool?.end();
    await engine.dropDatabase(db);
    await engine.close();
  });

  test('wherever Node rewrites a value, PostgreSQL rewrites it to the same; the rest is left to PostgreSQL', async () => {
    const rnd = seededRandom(20261207);
    const values = [
      ...HARD_EMAILS.map(([, v]) => v).filter((v): v is string => v !== null && v.length > 0),
      ...Array.from({ length: 4000 }, () => sample(rnd)),
    ];
    let answered = 0;
    let total = 0;
    for (const maxLength of LENGTHS) {
      for (const nullable of [true, false]) {
        const r = await pool.query<{ r: string | null }>(
          `SELECT tenant_clone.rewrite_emails(v, $2, $3, $4) AS r FROM unnest($1::text[]) WITH ORDINALITY AS x(v, o) ORDER BY o`,
          [values, SANDBOX, maxLength, nullable],
        );
        values.forEach((v, i) => {
          if (!v.includes('@')) return;
          total++;
          const node = fastPathRewrite(v, SANDBOX, { maxLength, nullable, asciiLower: true });
          if (node === undefined) return;
          answered++;
          assert.equal(node, r.rows[i].r, `${JSON.stringify(v)} in a column of ${maxLength ?? 'any'} characters${nullable ? '' : ', NOT NULL'}`);
        });
      }
    }
    // The check has teeth: many thousands of values went the fast way (the corpus is built to be
    // mostly hard, so most go to PostgreSQL).
    assert.ok(answered > 15_000, `Node rewrote only ${answered} of ${total} values`);
  });

  test('an upper-case domain is lowered in Node only where the collation lowers A–Z plainly', () => {
    const column = { maxLength: null, nullable: true };
    assert.equal(fastPathRewrite('Ali@EXAMPLE.COM', SANDBOX, { ...column, asciiLower: true }), 'Ali_example.com@mailinator.com');
    assert.equal(fastPathRewrite('Ali@EXAMPLE.COM', SANDBOX, { ...column, asciiLower: false }), undefined);
    assert.equal(fastPathRewrite('a@b@EXAMPLE.COM', SANDBOX, { ...column, asciiLower: false }), undefined);
    assert.equal(fastPathRewrite('ali@example.com', SANDBOX, { ...column, asciiLower: false }), 'ali_example.com@mailinator.com');
  });

  test('COPY text: escapes, NULLs and multi-byte characters, fed one byte at a time, come out as the rule says', async () => {
    const text: CatalogColumn = { name: 'v', type: 'text', rewrite: 'text', maxLength: null, nullable: true, generated: false, cannotHoldText: false };
    const short: CatalogColumn = { ...text, name: 's', type: 'character varying(20)', maxLength: 20 };
    const json: CatalogColumn = { ...text, name: 'j', type: 'jsonb', rewrite: 'jsonb' };
    const rows: [string | null, string | null, string | null][] = [
      ['bob@x.com', 'tab\there@x.com', '{"to": "ann@y.org", "n": 1}'],
      ['line\nbreak@x.com', null, null],
      ['back\\slash@x.com', 'søren@fjord.no', '["ß@straße.de"]'],
      [null, 'no address', '{"k": "\\\\u0040"}'],
      ['Ann <ann@Y.ORG>, cc: bo@z.io', 'averylongname@x.com', '{"a@b.c": true}'],
      ['ünïcödé only', 'x＠y.com', null],
    ];
    const line = (r: (string | null)[]) => `7\t${r.map(encodeCopyText).join('\t')}\n`;
    const input = Buffer.from(rows.map(line).join(''), 'utf8');
    const sqlCalls: string[] = [];
    const stream = new CopyRewriteStream(
      [
        { index: 1, column: text, fast: { maxLength: null, nullable: true, asciiLower: true }, collation: null },
        { index: 2, column: short, fast: { maxLength: 20, nullable: true, asciiLower: true }, collation: null },
        { index: 3, column: json, fast: null, collation: null },
      ],
      SANDBOX,
      async ({ column }, values) => {
        sqlCalls.push(column.name);
        const r = await pool.query<{ r: string | null }>(
          `SELECT (${rewriteExpr(column, `x.v::${column.type}`, '$2')})::text AS r FROM unnest($1::text[]) WITH ORDINALITY AS x(v, o) ORDER BY o`,
          [values, SANDBOX],
        );
        return r.rows.map((x) => x.r);
      },
    );
    const chunks: Buffer[] = [];
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < input.length; i++) yield input.subarray(i, i + 1);
        })(),
      ),
      stream,
      new Writable({
        write(chunk: Buffer, _e, done) {
          chunks.push(chunk);
          done();
        },
      }),
    );
    const got = Buffer.concat(chunks)
      .toString('utf8')
      .split('\n')
      .slice(0, -1)
      .map((l) => l.split('\t').map(decodeCopyText));

    // What the rule gives for each value, from PostgreSQL directly.
    const expected = async (column: CatalogColumn, v: string | null) =>
      v === null
        ? null
        : (await pool.query<{ r: string | null }>(`SELECT (${rewriteExpr(column, `$1::${column.type}`, '$2')})::text AS r`, [v, SANDBOX])).rows[0].r;
    for (const [i, [v, s, j]] of rows.entries()) {
      assert.deepEqual(got[i], ['7', await expected(text, v), await expected(short, s), await expected(json, j)], `row ${i + 1}`);
    }
    assert.equal(stream.rows, 6, 'rows holding an "at" in a rewritten column');
    assert.ok(sqlCalls.includes('j') && sqlCalls.includes('s'), 'values off the fast paths went to PostgreSQL');
  });
});
