/**
 * The e-mail rewrite rule on the hard values, checked value by value against the exact
 * expected output and the column's declared length, on a real PostgreSQL database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PostgresTenantDatabase } from '../../activities/database/postgres/engine';
import { profileSchema } from '../../activities/database/profile';
import { adminUrl, dropDatabase, queryDb, uniqueDbName } from '../support/postgres';
import { FOREIGN_BEFORE, HARD_EMAILS, HARD_LENGTHS, SANDBOX, hardProfile } from './hard-emails';

const CASES = HARD_EMAILS;
const LENGTHS = HARD_LENGTHS;

describe('e-mail rewrite (PostgreSQL)', () => {
  const admin = adminUrl();
  const db = uniqueDbName('rewrite');
  const engine = new PostgresTenantDatabase({ adminUrl: admin, loginPassword: 'test-login-password' });
  const profile = hardProfile();

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
    assert.equal(v.total, FOREIGN_BEFORE);
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
