/**
 * The e-mail rewrite rule on the hard values, checked value by value against the exact
 * expected output and the column's declared length, on a real PostgreSQL database.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PostgresTenantDatabase } from '../../activities/database/postgres/engine';
import { profileSchema, type SanitizationProfile } from '../../activities/database/profile';
import { adminUrl, dropDatabase, queryDb, uniqueDbName } from '../support/postgres';

const SANDBOX = 'mailinator.com';
const hex8 = (s: string): string => createHash('md5').update(s).digest('hex').slice(0, 8);

// [column, input, expected]
const CASES: [string, string | null, string | null][] = [
  ['e254', 'john.doe@company.com', 'john.doe_company.com@mailinator.com'],
  ['e254', null, null],
  ['e254', '', ''],
  ['e254', 'no address here', 'no address here'],
  ['e254', 'n/a', 'n/a'],
  ['e254', 'jane@mailinator.com', 'jane@mailinator.com'],
  ['e254', 'JANE@MailInator.COM', 'JANE@MailInator.COM'],
  ['e254', 'a@b@x.com', 'a_b_x.com@mailinator.com'],
  ['e254', 'John.DOE@Company.COM', 'John.DOE_company.com@mailinator.com'],
  ['e254', '"Jane Roe" <jane@x.com>', '"Jane Roe" <jane_x.com@mailinator.com>'],
  ['e254', 'Jane Roe <Jane@X.com>', 'Jane Roe <Jane_x.com@mailinator.com>'],
  ['e254', 'a@x.com; b@y.org', 'a_x.com@mailinator.com; b_y.org@mailinator.com'],
  ['e254', 'a@x.com,b@y.org', 'a_x.com@mailinator.com,b_y.org@mailinator.com'],
  ['e254', 'a@x.com; ok@mailinator.com', 'a_x.com@mailinator.com; ok@mailinator.com'],
  ['e254', '"Roe, Jane" <jane@x.com>, bob@y.org', '"Roe, Jane" <jane_x.com@mailinator.com>, bob_y.org@mailinator.com'],
  ['e254', 'x@mailinator.com.evil.org', 'x_mailinator.com.evil.org@mailinator.com'],
  ['e254', '  bob@x.com ', '  bob_x.com@mailinator.com '],
  ['e254', 'user@', 'user_@mailinator.com'],
  ['e254', '@x.com', '_x.com@mailinator.com'],
  ['txt', 'plain@text-column.com', 'plain_text-column.com@mailinator.com'],
  // Over-long results: stable short form <prefix>_<md5 hex>@sandbox that fits.
  ['e40', 'averyveryverylongname@some-company.com', `averyveryverylon_${hex8('averyveryverylongname@some-company.com')}@mailinator.com`],
  ['e40', 'a@x.com; b@y.org; c@z.net', `a_x.com_${hex8('a@x.com; b@y.org; c@z.net')}@mailinator.com`],
  ['e40', 'short@x.io', 'short_x.io@mailinator.com'],
  ['e20', 'bob@ex.com', `${hex8('bob@ex.com').slice(0, 5)}@mailinator.com`],
  ['tiny', 'ab@x.io', null],
  ['tiny_nn', 'ab@x.io', ''],
  ['tiny', 'none', 'none'],
];

const LENGTHS: Record<string, number | null> = { e254: 254, e40: 40, e20: 20, tiny: 12, tiny_nn: 12, txt: null };

function profileFor(columns: string[]): SanitizationProfile {
  return profileSchema.parse({
    name: 'rewrite-test',
    emails: { columns: columns.map((column) => ({ table: 'hard', column, key: 'id' })), batchSize: 100 },
    users: { table: 'hard', loginColumn: 'id', enabledColumn: 'id', systemColumn: 'id', planColumn: 'id' },
    scheduledTasks: { table: 'hard', enabledColumn: 'id' },
  });
}

describe('e-mail rewrite (PostgreSQL)', () => {
  const admin = adminUrl();
  const db = uniqueDbName('rewrite');
  const engine = new PostgresTenantDatabase({ adminUrl: admin, loginPassword: 'test-login-password' });
  const profile = profileFor(Object.keys(LENGTHS));

  before(async () => {
    await engine.createDatabase(db);
    await queryDb(admin, db, `CREATE TABLE hard (id integer PRIMARY KEY, e254 varchar(254), e40 varchar(40), e20 varchar(20),
      tiny varchar(12), tiny_nn varchar(12) NOT NULL DEFAULT 'x', txt text)`);
    // One row per case; the other columns of the row stay NULL (or 'x' for tiny_nn).
    for (const [i, [col, input]] of CASES.entries()) {
      if (col === 'tiny_nn') await queryDb(admin, db, `INSERT INTO hard (id, tiny_nn) VALUES ($1, $2)`, [i + 1, input]);
      else await queryDb(admin, db, `INSERT INTO hard (id, ${col}) VALUES ($1, $2)`, [i + 1, input]);
    }
  });

  after(async () => {
    await engine.close();
    await dropDatabase(admin, db);
  });

  test('verification counts the foreign addresses before the scrub', async () => {
    const v = await engine.verifyEmails(db, profile, SANDBOX);
    const expectedForeign = CASES.filter(([, input, out]) => input !== out && input !== null && input.includes('@')).length;
    assert.equal(v.total, expectedForeign);
    assert.ok(v.samples.length > 0 && v.samples.length <= 5);
  });

  test('every hard value is rewritten exactly as specified and fits its column', async () => {
    const cp = await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX, batchSize: 7 });
    assert.equal(cp.column, Object.keys(LENGTHS).length);
    for (const [i, [col, input, expected]] of CASES.entries()) {
      const [row] = await queryDb<{ v: string | null }>(admin, db, `SELECT ${col} AS v FROM hard WHERE id = $1`, [i + 1]);
      assert.equal(row.v, expected, `${col} ${JSON.stringify(input)}`);
      const max = LENGTHS[col];
      if (max !== null && row.v !== null) assert.ok(row.v.length <= max, `${JSON.stringify(row.v)} exceeds ${col} (${max})`);
    }
    const v = await engine.verifyEmails(db, profile, SANDBOX);
    assert.equal(v.total, 0, JSON.stringify(v));
  });

  test('a second scrub changes nothing', async () => {
    const before = await engine.checksum(db);
    const cp = await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX, batchSize: 5 });
    assert.equal(cp.rewritten, 0);
    assert.deepEqual(await engine.checksum(db), before);
  });

  test('the sandbox domain is validated', async () => {
    await assert.rejects(engine.scrubEmails(db, profile, { sandboxDomain: 'not a domain' }), /invalid sandbox mail domain "not a domain"/);
    await assert.rejects(engine.verifyEmails(db, profile, 'x@y'), /invalid sandbox mail domain "x@y"/);
  });

  test('an unknown column is refused by name before anything is rewritten', async () => {
    const bad = profileSchema.parse({ ...profile, emails: { columns: [{ table: 'hard', column: 'nope', key: 'id' }] } });
    await assert.rejects(engine.scrubEmails(db, bad, { sandboxDomain: SANDBOX }), /column "hard.nope" does not exist/);
  });
});
