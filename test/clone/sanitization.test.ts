/**
 * No real address survives a clone, wherever it sits in the database: the issue's planted-leak
 * scenario end to end, a kept column reported, an address the rewrite cannot handle failing the
 * clone before running mode (and rolling it back), the sandbox-domain refusals, and
 * `tenant-clone profile check`. Checked on real services, with plain SQL written here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { CloneRefusedError, RequestError } from '../../client';
import { DEFAULT_PROFILE_PATH } from '../../activities/database/profile';
import { setAsideName } from '../../activities/steps/check-request';
import { DEMO } from '../../stack/seed/demo-world';
import { CLONE_REFUSED } from '../../workflows/messages';
import { cliFor } from '../support/cli';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { queryDb } from '../support/postgres';

const SOURCE_DB = 'tenant_acme';
const TARGET_DB = 'tenant_acme_sandbox';

/** The 16 rows the issue planted: columns, a table and a schema no profile lists. */
const PLANT = [
  `ALTER TABLE persons ADD COLUMN notes text, ADD COLUMN prefs jsonb, ADD COLUMN aliases text[]`,
  `UPDATE persons SET notes = 'call bob@realcustomer.com' WHERE id IN (1, 2, 3)`,
  `UPDATE persons SET prefs = '{"cc":"alice@realcustomer.com"}' WHERE id IN (4, 5, 6)`,
  `UPDATE persons SET aliases = ARRAY['carol@realcustomer.com', 'no address'] WHERE id IN (7, 8)`,
  `UPDATE tickets SET title = title || ' dave@realcustomer.com' WHERE id IN (1, 2)`,
  `CREATE TABLE newsletter_subscribers (email text)`,
  `INSERT INTO newsletter_subscribers VALUES ('erin@realcustomer.com'), ('john%40realcustomer.com'), ('john＠realcustomer.com'), ('john&#64;realcustomer.com')`,
  `CREATE SCHEMA crm`,
  `CREATE TABLE crm.leads (id int PRIMARY KEY, contact text)`,
  `INSERT INTO crm.leads VALUES (1, 'frank@realcustomer.com'), (2, 'gina@realcustomer.com')`,
];

/** Every row of every table of every schema whose text holds @realcustomer.com in any form (plain SQL). */
async function planted(admin: string, db: string): Promise<string[]> {
  const tables = await queryDb<{ t: string }>(
    admin,
    db,
    `SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'tenant_clone')`,
  );
  const rows: string[] = [];
  for (const { t } of tables) {
    const found = await queryDb<{ r: string }>(admin, db, `SELECT r::text AS r FROM ${t} r WHERE r::text ~* '(@|＠|%40|&#64;)realcustomer\\.com'`);
    rows.push(...found.map(({ r }) => `${t}: ${r}`));
  }
  return rows;
}

function profileFile(edit: (yaml: string) => string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tc-profile-')), 'profile.yaml');
  writeFileSync(file, edit(readFileSync(DEFAULT_PROFILE_PATH, 'utf8')));
  return file;
}

describe('no real address survives a clone', { timeout: 15 * 60_000 }, () => {
  let stack: CloneStack;

  const cli = cliFor(() => stack);
  const plant = async (db: string, statements: string[]) => {
    for (const sql of statements) await queryDb(stack.adminUrl, db, sql);
  };
  /** Both databases and the target's platform state: what a refusal or a rollback must leave as it was. */
  const snapshot = async () => {
    const s = await stack.admin.state(DEMO.target);
    return {
      source: await stack.db.checksum(SOURCE_DB),
      target: await stack.db.checksum(TARGET_DB),
      directory: s.tenant,
      hosting: { mode: s.hosting.mode, clusters: s.hosting.clusters },
      routes: s.routes,
      mailboxes: s.mailboxes,
      users: s.users,
      events: (await stack.admin.state(DEMO.source)).events.length,
    };
  };

  /** A clone of acme into acme-sandbox that fails with `message` and leaves everything as it was. */
  const failsAndRollsBack = async (message: RegExp) => {
    const before = await snapshot();
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'failed', JSON.stringify(end));
    const text = end.outcome === 'failed' ? end.message : '';
    assert.match(text, message);
    assert.deepEqual(await snapshot(), before);
    assert.equal(await stack.db.exists(setAsideName(TARGET_DB)), false);
    return { message: text, progress: await stack.client.progress(DEMO.target) };
  };

  before(async () => {
    stack = await startCloneStack();
  });
  after(async () => {
    await stack?.stop();
  });

  test('the planted leaks: the clone succeeds and none of the 16 planted addresses is left in the sandbox', async () => {
    await stack.reseed({ persons: 2_000, taskDurationMs: 100 });
    await plant(SOURCE_DB, PLANT);
    assert.equal((await planted(stack.adminUrl, SOURCE_DB)).length, 16, 'the 16 planted rows are in the source');
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    assert.deepEqual(await planted(stack.adminUrl, TARGET_DB), []);
    // The same rows are there, rewritten (nothing was dropped to pass the check).
    assert.deepEqual(await queryDb(stack.adminUrl, TARGET_DB, `SELECT contact FROM crm.leads ORDER BY id`), [
      { contact: 'frank_realcustomer.com@mailinator.com' },
      { contact: 'gina_realcustomer.com@mailinator.com' },
    ]);
    assert.deepEqual(await queryDb(stack.adminUrl, TARGET_DB, `SELECT prefs FROM persons WHERE id = 4`), [
      { prefs: { cc: 'alice_realcustomer.com@mailinator.com' } },
    ]);
    const scrub = (await stack.client.progress(DEMO.target)).steps.find((st) => st.id === 'scrub-emails');
    assert.match(scrub?.detail ?? '', /verified: 0 addresses outside @mailinator\.com in \d+ columns of \d+ tables/);
    // And the issue's own check, over every table of every schema.
    const tables = await queryDb<{ t: string }>(
      stack.adminUrl,
      TARGET_DB,
      `SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'tenant_clone')`,
    );
    for (const { t } of tables) {
      const [{ n }] = await queryDb<{ n: string }>(
        stack.adminUrl,
        TARGET_DB,
        `SELECT count(*)::text AS n FROM ${t} r WHERE r::text ~* '@(?!mailinator\\.com)'`,
      );
      assert.equal(n, '0', t);
    }
  });

  test('profile check on the demo tenant, with and without the planted columns', async () => {
    // acme still holds the planted columns from the test before.
    const withPlants = await cli('profile', 'check', 'acme', '--json');
    assert.equal(withPlants.code, 0, withPlants.stderr);
    const report = JSON.parse(withPlants.stdout) as { columns: { column: string; values: number; coverage: string; example: string }[]; problems: string[] };
    const by = Object.fromEntries(report.columns.map((c) => [c.column, c]));
    assert.deepEqual(
      ['persons.notes', 'persons.prefs', 'persons.aliases', 'newsletter_subscribers.email', 'crm.leads.contact'].map((c) => [
        c,
        by[c]?.values,
        by[c]?.coverage,
      ]),
      [
        ['persons.notes', 3, 'rewritten'],
        ['persons.prefs', 3, 'rewritten'],
        ['persons.aliases', 2, 'rewritten'],
        ['newsletter_subscribers.email', 4, 'rewritten'],
        ['crm.leads.contact', 2, 'rewritten'],
      ],
    );
    assert.equal(by['persons.notes'].example, '…@realcustomer.com');
    assert.ok(by['email_addresses.address'].values > 1000);
    assert.deepEqual(report.problems, []);

    // A column the scrub cannot rewrite: the check says the clone would fail, and exits 1.
    await plant(SOURCE_DB, [
      `CREATE TYPE card AS (name text, mail text)`,
      `CREATE TABLE cards (id int PRIMARY KEY, c card)`,
      `INSERT INTO cards VALUES (1, ROW('Olga', 'olga@realcustomer.com'))`,
    ]);
    const failing = await cli('profile', 'check', 'acme');
    assert.equal(failing.code, 1, failing.stderr);
    assert.match(failing.stdout, /cards\.c\s+card\s+1\s+NOT REWRITABLE: a clone fails\s+e\.g\. …@realcustomer\.com/);
    assert.match(failing.stdout, /A clone of this tenant would fail:\n\s+✘ cards\.c \(card\) holds 1 values with addresses the scrub cannot rewrite/);

    // The demo tenant as seeded: every column covered.
    await stack.reseed({ persons: 300, taskDurationMs: 100 });
    const clean = await cli('profile', 'check', 'acme');
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /✔ a clone of this tenant would pass the verification/);
    assert.match(clean.stdout, /email_addresses\.address\s+character varying\(120\)\s+\d+\s+rewritten by the scrub/);
    const domainUsed = await cli('profile', 'check', 'acme', '--mail-domain', 'example.org', '--json');
    assert.equal(domainUsed.code, 1);
    assert.match(JSON.parse(domainUsed.stdout).problems.join('\n'), /mail domain example\.org already occurs in acme's data as the domain of \d+ values/);
    const unknown = await cli('profile', 'check', 'nosuch');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^tenant-clone: tenant nosuch is unknown to the directory/);
  });

  test('an address the rewrite cannot handle fails the clone before running mode, names the column, and rolls back', async () => {
    await stack.reseed({ persons: 500, taskDurationMs: 100 });
    await plant(SOURCE_DB, [
      `CREATE TYPE card AS (name text, mail text)`,
      `CREATE TABLE cards (id int PRIMARY KEY, c card)`,
      `INSERT INTO cards VALUES (1, ROW('Olga', 'olga@realcustomer.com'))`,
    ]);
    const { message, progress: p } = await failsAndRollsBack(
      /^scrub-emails failed: 1 values still hold addresses outside @mailinator\.com: cards\.c: 1 values, e\.g\. …@realcustomer\.com\. Rolled back: /,
    );
    assert.ok(!message.includes('olga'), 'the message never shows a local part');
    assert.equal(p.steps.find((st) => st.id === 'enter-running-mode')?.status, 'pending', 'running mode never entered');
  });

  test('an address written after the gate (an app authorization kept from the old sandbox) keeps the target offline and rolls back', async () => {
    await stack.reseed({ persons: 500, taskDurationMs: 100 });
    // create-partner-system-users copies the old sandbox's authorizations in after scrub-emails' gate.
    await plant(TARGET_DB, [
      `UPDATE app_authorizations SET app_name = app_name || ' (support: help@realpartner.com)' WHERE app_id = (SELECT min(app_id) FROM app_authorizations)`,
    ]);
    const { progress: p } = await failsAndRollsBack(
      /^enter-running-mode failed: acme-sandbox stays offline: 1 values hold addresses outside @mailinator\.com: app_authorizations\.app_name: 1 values, e\.g\. …@realpartner\.com\. Rolled back: /,
    );
    // scrub-emails' gate passed (the address was not there yet); the re-check is what caught it.
    assert.deepEqual(
      ['scrub-emails', 'create-partner-system-users', 'enter-running-mode'].map((id) => p.steps.find((st) => st.id === id)?.status),
      ['compensated', 'compensated', 'failed'],
    );
  });

  test('a kept column holding a real address: the clone succeeds, and the step and status --json name it with its count', async () => {
    await stack.reseed({ persons: 500, taskDurationMs: 100 });
    await plant(SOURCE_DB, [
      `ALTER TABLE users ADD COLUMN sso_subject text`,
      `UPDATE users SET sso_subject = 'it-admin@acme.example-crm.com' WHERE login = 'admin'`,
    ]);
    const keep = profileFile((y) =>
      y.replace('  keep: []', '  keep:\n    - { table: users, column: sso_subject, why: "the identity provider\'s subject, compared as is" }'),
    );
    await stack.restartWorker({ SANITIZATION_PROFILE: keep });
    try {
      const run = await cli('start', 'acme', 'acme-sandbox', '--wait');
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const status = await cli('status', 'acme-sandbox', '--json');
      const scrub = (JSON.parse(status.stdout) as { steps: { id: string; detail: string }[] }).steps.find((st) => st.id === 'scrub-emails');
      assert.match(scrub?.detail ?? '', /kept by the profile, still holding addresses outside @mailinator\.com: users\.sso_subject: 1 values/);
      assert.deepEqual(await queryDb(stack.adminUrl, TARGET_DB, `SELECT sso_subject FROM users WHERE login = 'admin'`), [
        { sso_subject: 'it-admin@acme.example-crm.com' },
      ]);
      const report = JSON.parse((await cli('profile', 'check', 'acme', '--json')).stdout) as { columns: { column: string; coverage: string }[] };
      assert.equal(report.columns.find((c) => c.column === 'users.sso_subject')?.coverage, 'kept');
    } finally {
      await stack.restartWorker();
    }
  });

  test('sandbox domain refusals: a public provider, one outside the allowlist, one the source already uses; nothing is touched', async () => {
    await stack.reseed({ persons: 300, taskDurationMs: 100 });
    // acme-corp.com is allowed here on purpose: the source's own data must still refuse it.
    await stack.restartWorker({ SANDBOX_MAIL_DOMAINS: 'mailinator.com,*.invalid,acme-corp.com' });
    try {
      const before = await snapshot();
      await assert.rejects(
        stack.client.start({ source: 'acme', target: 'acme-sandbox', mailDomain: 'gmail.com' }),
        (err: unknown) =>
          err instanceof RequestError && /mail domain "gmail\.com" is refused: gmail\.com is a public mail provider/.test((err as Error).message),
      );
      // A caller bypassing the client library is refused by the workflow itself.
      const raw = await stack.client.client.workflow.start('cloneTenant', {
        args: [{ source: 'acme', target: 'acme-sandbox', mailDomain: 'gmail.com' }],
        taskQueue: stack.config.TASK_QUEUE,
        workflowId: 'clone-acme-sandbox',
      });
      await assert.rejects(raw.result(), (err: unknown) => {
        const cause = (err as WorkflowFailedError).cause;
        return cause instanceof ApplicationFailure && cause.type === CLONE_REFUSED && /gmail\.com is a public mail provider/.test(cause.message);
      });
      await assert.rejects(
        stack.client.start({ source: 'acme', target: 'acme-sandbox', mailDomain: 'sandbox.acme-test.net' }),
        (err: unknown) =>
          err instanceof CloneRefusedError &&
          /mail domain sandbox\.acme-test\.net is not an allowed sandbox domain \(SANDBOX_MAIL_DOMAINS allows mailinator\.com, \*\.invalid, acme-corp\.com\)/.test(
            (err as Error).message,
          ),
      );
      await assert.rejects(
        stack.client.start({ source: 'acme', target: 'acme-sandbox', mailDomain: 'acme-corp.com' }),
        (err: unknown) =>
          err instanceof CloneRefusedError &&
          /mail domain acme-corp\.com already occurs in acme's data as the domain of \d+ values \(.*email_addresses: \d+.*\): the copy could not tell rewritten addresses from real ones; choose another sandbox domain, e\.g\. acme-sandbox\.invalid/.test(
            (err as Error).message,
          ),
      );
      assert.deepEqual(await snapshot(), before);
      // The suggested domain works.
      await stack.client.start({ source: 'acme', target: 'acme-sandbox', mailDomain: 'acme-sandbox.invalid' });
      const end = await stack.client.result(DEMO.target);
      assert.equal(end.outcome, 'done', JSON.stringify(end));
      const [{ n }] = await queryDb<{ n: string }>(
        stack.adminUrl,
        TARGET_DB,
        `SELECT count(*)::text AS n FROM email_addresses WHERE address ~* '@(?!acme-sandbox\\.invalid)'`,
      );
      assert.equal(n, '0');
    } finally {
      await stack.restartWorker();
    }
  });
});
