import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { PlatformHttpError } from '../../activities/platform/http-client';
import { HttpMailService } from '../../activities/platform/mail-service';
import type { MailRoute } from '../../activities/platform/port';
import { startTestEmulator, type TestEmulator } from '../support/emulator';
import { rejection, seed } from './fixtures';

describe('HttpMailService against the platform emulator', () => {
  let emulator: TestEmulator;
  let mail: HttpMailService;

  before(async () => {
    emulator = await startTestEmulator();
    mail = new HttpMailService(emulator.url);
  });
  after(() => emulator.close());

  beforeEach(async () => {
    await emulator.admin.reset();
    await emulator.admin.putTenant(
      seed('acme-sandbox', {
        kind: 'sandbox',
        routes: [
          { address: 'support@acme.com', destination: 'queue:support' },
          { address: 'sales@acme.com', destination: 'queue:sales' },
        ],
        mailboxes: ['support@acme.com', 'sales@acme.com', 'invoices@acme.com'],
      }),
    );
    await emulator.admin.putTenant(seed('other', { mailboxes: ['taken@other.com'], routes: [{ address: 'in@other.com', destination: 'queue:in' }] }));
  });

  test("listRoutes lists the tenant's routes by address", async () => {
    assert.deepEqual(await mail.listRoutes('acme-sandbox'), [
      { address: 'sales@acme.com', destination: 'queue:sales' },
      { address: 'support@acme.com', destination: 'queue:support' },
    ]);
  });

  test("removeRoutes removes only this tenant's routes and reports how many, 0 when repeated", async () => {
    assert.equal(await mail.removeRoutes('acme-sandbox'), 2);
    assert.deepEqual(await mail.listRoutes('acme-sandbox'), []);
    assert.equal(await mail.removeRoutes('acme-sandbox'), 0);
    assert.deepEqual(await mail.listRoutes('other'), [{ address: 'in@other.com', destination: 'queue:in' }]);
  });

  test('replaceMailboxes deletes every mailbox and creates exactly one, idempotently', async () => {
    assert.deepEqual(await mail.listMailboxes('acme-sandbox'), ['invoices@acme.com', 'sales@acme.com', 'support@acme.com']);
    await mail.replaceMailboxes('acme-sandbox', 'test-acme-sandbox@mailinator.com');
    assert.deepEqual(await mail.listMailboxes('acme-sandbox'), ['test-acme-sandbox@mailinator.com']);
    await mail.replaceMailboxes('acme-sandbox', 'test-acme-sandbox@mailinator.com');
    assert.deepEqual(await mail.listMailboxes('acme-sandbox'), ['test-acme-sandbox@mailinator.com']);
    const state = await emulator.admin.state('acme-sandbox');
    assert.deepEqual(state.mailboxes, ['test-acme-sandbox@mailinator.com']);
    assert.deepEqual(await mail.listMailboxes('other'), ['taken@other.com']);
  });

  test("another tenant's mailbox is a 409 and changes nothing", async () => {
    const err = await rejection(mail.replaceMailboxes('acme-sandbox', 'TAKEN@other.com'));
    assert.equal((err as PlatformHttpError).status, 409);
    assert.match(err.message, /belongs to tenant "other"/);
    assert.equal((await mail.listMailboxes('acme-sandbox')).length, 3);
  });

  test('a mailbox claimed by another tenant between the check and the insert is a 409, not a 500', async () => {
    // Another tenant's claim, not yet committed: the request's ownership check cannot see it,
    // so its insert waits on the unique index until this transaction commits.
    const other = new Client({ connectionString: emulator.databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`INSERT INTO mailboxes (tenant_id, address) VALUES ('other', 'race@acme.com')`);
      const reply = fetch(`${emulator.url}/mail/tenants/acme-sandbox/mailboxes`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ address: 'race@acme.com' }),
      });
      for (let i = 0; ; i++) {
        // Statistics views keep one snapshot per transaction: drop it to see the request now.
        await other.query('SELECT pg_stat_clear_snapshot()');
        const waiting = await other.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO mailboxes%'`,
        );
        if (waiting.rowCount) break;
        assert.ok(i < 200, 'the request never waited on the claim');
        await new Promise((r) => setTimeout(r, 25));
      }
      await other.query('COMMIT');
      const res = await reply;
      const body = (await res.json()) as { error?: { message?: string }; message?: string };
      assert.equal(res.status, 409);
      assert.match(JSON.stringify(body), /mailbox \\"race@acme.com\\" was just claimed by another tenant/);
    } finally {
      await other.end();
    }
    assert.equal((await mail.listMailboxes('acme-sandbox')).length, 3);
    assert.deepEqual(await mail.listMailboxes('other'), ['race@acme.com', 'taken@other.com']);
  });

  test('a malformed address is a 400 naming the field and value', async () => {
    const err = await rejection(mail.replaceMailboxes('acme-sandbox', 'not-an-address'));
    assert.equal((err as PlatformHttpError).status, 400);
    assert.match(err.message, /field "address": must be an e-mail address \(got "not-an-address"\)/);
    assert.equal((await mail.listMailboxes('acme-sandbox')).length, 3);
  });

  test('setRoutes makes the routes exactly the given list, idempotently, and logs the change', async () => {
    const saved = await mail.listRoutes('acme-sandbox');
    await mail.removeRoutes('acme-sandbox');
    const wanted = [
      { address: 'support@acme.com', destination: 'queue:support-v2' },
      { address: 'Billing@acme.com', destination: 'queue:billing' },
    ];
    await mail.setRoutes('acme-sandbox', wanted);
    const expected = [
      { address: 'Billing@acme.com', destination: 'queue:billing' },
      { address: 'support@acme.com', destination: 'queue:support-v2' },
    ];
    assert.deepEqual(await mail.listRoutes('acme-sandbox'), expected);
    await mail.setRoutes('acme-sandbox', wanted);
    assert.deepEqual(await mail.listRoutes('acme-sandbox'), expected);

    // The rollback round trip: what listRoutes answered goes back unchanged.
    await mail.setRoutes('acme-sandbox', saved);
    assert.deepEqual(await mail.listRoutes('acme-sandbox'), saved);
    assert.deepEqual(await mail.listRoutes('other'), [{ address: 'in@other.com', destination: 'queue:in' }]);

    const events = (await emulator.admin.state('acme-sandbox')).events.filter((e) => e.action === 'mail.routes.set');
    assert.equal(events.length, 3);
    assert.deepEqual(events[2]!.detail, { removed: 2, routes: saved });
  });

  test('setRoutes with an empty list removes every route', async () => {
    await mail.setRoutes('acme-sandbox', []);
    assert.deepEqual(await mail.listRoutes('acme-sandbox'), []);
    await mail.setRoutes('acme-sandbox', []);
    assert.deepEqual(await mail.listRoutes('acme-sandbox'), []);
  });

  test('setRoutes rejects a bad route with a 400 naming the field, and changes nothing', async () => {
    const before = await mail.listRoutes('acme-sandbox');
    const cases: Array<[unknown[], RegExp]> = [
      [[{ address: 'nope', destination: 'q' }], /field "routes\[0\]\.address": must be an e-mail address \(got "nope"\)/],
      [[{ address: 'a@acme.com', destination: 'q' }, { address: 'b@acme.com' }], /field "routes\[1\]\.destination": is required/],
      [
        [
          { address: 'a@acme.com', destination: 'q1' },
          { address: 'a@acme.com', destination: 'q2' },
        ],
        /field "routes\[1\]\.address": duplicates the address of entry \[0\]/,
      ],
    ];
    for (const [routes, message] of cases) {
      const err = await rejection(mail.setRoutes('acme-sandbox', routes as MailRoute[]));
      assert.equal((err as PlatformHttpError).status, 400, err.message);
      assert.match(err.message, message);
    }
    assert.deepEqual(await mail.listRoutes('acme-sandbox'), before);
  });

  test('setMailboxes makes the mailboxes exactly the given list, idempotently, and logs the change', async () => {
    const saved = await mail.listMailboxes('acme-sandbox');
    await mail.replaceMailboxes('acme-sandbox', 'test-acme-sandbox@mailinator.com');
    await mail.setMailboxes('acme-sandbox', ['zeta@acme.com', 'alpha@acme.com']);
    assert.deepEqual(await mail.listMailboxes('acme-sandbox'), ['alpha@acme.com', 'zeta@acme.com']);
    await mail.setMailboxes('acme-sandbox', ['zeta@acme.com', 'alpha@acme.com']);
    assert.deepEqual(await mail.listMailboxes('acme-sandbox'), ['alpha@acme.com', 'zeta@acme.com']);

    await mail.setMailboxes('acme-sandbox', saved);
    assert.deepEqual(await mail.listMailboxes('acme-sandbox'), saved);
    assert.deepEqual(await mail.listMailboxes('other'), ['taken@other.com']);

    const events = (await emulator.admin.state('acme-sandbox')).events.filter((e) => e.action === 'mail.mailboxes.set');
    assert.equal(events.length, 3);
    assert.deepEqual(events[2]!.detail, { deleted: 2, mailboxes: saved });
  });

  test('setMailboxes with an empty list removes every mailbox, and frees the addresses', async () => {
    await mail.setMailboxes('acme-sandbox', []);
    assert.deepEqual(await mail.listMailboxes('acme-sandbox'), []);
    await mail.setMailboxes('acme-sandbox', []);
    assert.deepEqual(await mail.listMailboxes('acme-sandbox'), []);
    await mail.setMailboxes('other', ['taken@other.com', 'support@acme.com']);
    assert.deepEqual(await mail.listMailboxes('other'), ['support@acme.com', 'taken@other.com']);
  });

  test("setMailboxes with another tenant's mailbox is a 409 naming it, and changes nothing", async () => {
    const err = await rejection(mail.setMailboxes('acme-sandbox', ['new@acme.com', 'Taken@Other.com']));
    assert.equal((err as PlatformHttpError).status, 409);
    assert.match(err.message, /mailbox "taken@other\.com" belongs to tenant "other"/);
    assert.deepEqual(await mail.listMailboxes('acme-sandbox'), ['invoices@acme.com', 'sales@acme.com', 'support@acme.com']);
    assert.deepEqual(await mail.listMailboxes('other'), ['taken@other.com']);
  });

  test('setMailboxes rejects a bad list with a 400 naming the field, and changes nothing', async () => {
    const cases: Array<[unknown[], RegExp]> = [
      [['ok@acme.com', 'not-an-address'], /field "mailboxes\[1\]": must be an e-mail address \(got "not-an-address"\)/],
      [['a@acme.com', 42], /field "mailboxes\[1\]": .*\(got 42\)/],
      [['a@acme.com', 'b@acme.com', 'A@ACME.com'], /field "mailboxes\[2\]": duplicates \(case-insensitively\) entry \[0\]/],
    ];
    for (const [addresses, message] of cases) {
      const err = await rejection(mail.setMailboxes('acme-sandbox', addresses as string[]));
      assert.equal((err as PlatformHttpError).status, 400, err.message);
      assert.match(err.message, message);
    }
    assert.equal((await mail.listMailboxes('acme-sandbox')).length, 3);
  });

  test('the set bodies are strict: a missing or unknown field is a 400 naming it', async () => {
    const put = (sub: string, body: unknown) =>
      fetch(`${emulator.url}/mail/tenants/acme-sandbox/${sub}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const cases: Array<[string, unknown, RegExp]> = [
      ['routes', {}, /field "routes": is required/],
      ['routes', { routes: [], extra: 1 }, /field "extra": is not part of the contract/],
      ['routes', { routes: [{ address: 'a@acme.com', destination: 'q', note: 'x' }] }, /field "routes\[0\]\.note": is not part of the contract/],
      ['mailbox-set', { addresses: ['a@acme.com'] }, /field "mailboxes": is required/],
      ['mailbox-set', { mailboxes: 'a@acme.com' }, /field "mailboxes": .*\(got "a@acme\.com"\)/],
    ];
    for (const [sub, body, message] of cases) {
      const response = await put(sub, body);
      const answer = (await response.json()) as { error: string; code: string };
      assert.equal(response.status, 400, `${sub} ${JSON.stringify(body)}`);
      assert.equal(answer.code, 'bad_request');
      assert.match(answer.error, message);
    }
    assert.equal((await mail.listRoutes('acme-sandbox')).length, 2);
    assert.equal((await mail.listMailboxes('acme-sandbox')).length, 3);
  });

  test('every method on an unknown tenant is a 404 naming it', async () => {
    for (const call of [
      () => mail.listRoutes('ghost'),
      () => mail.removeRoutes('ghost'),
      () => mail.listMailboxes('ghost'),
      () => mail.replaceMailboxes('ghost', 'x@mailinator.com'),
      () => mail.setRoutes('ghost', [{ address: 'x@mailinator.com', destination: 'q' }]),
      () => mail.setRoutes('ghost', []),
      () => mail.setMailboxes('ghost', ['x@mailinator.com']),
      () => mail.setMailboxes('ghost', []),
    ]) {
      const err = await rejection(call());
      assert.equal((err as PlatformHttpError).status, 404);
      assert.match(err.message, /unknown tenant "ghost"/);
    }
  });
});
