import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformHttpError } from '../../activities/platform/http-client';
import { HttpMailService } from '../../activities/platform/mail-service';
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

  test('listRoutes lists the tenant\'s routes by address', async () => {
    assert.deepEqual(await mail.listRoutes('acme-sandbox'), [
      { address: 'sales@acme.com', destination: 'queue:sales' },
      { address: 'support@acme.com', destination: 'queue:support' },
    ]);
  });

  test('removeRoutes removes only this tenant\'s routes and reports how many, 0 when repeated', async () => {
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

  test('another tenant\'s mailbox is a 409 and changes nothing', async () => {
    const err = await rejection(mail.replaceMailboxes('acme-sandbox', 'TAKEN@other.com'));
    assert.equal((err as PlatformHttpError).status, 409);
    assert.match(err.message, /belongs to tenant "other"/);
    assert.equal((await mail.listMailboxes('acme-sandbox')).length, 3);
  });

  test('a malformed address is a 400 naming the field and value', async () => {
    const err = await rejection(mail.replaceMailboxes('acme-sandbox', 'not-an-address'));
    assert.equal((err as PlatformHttpError).status, 400);
    assert.match(err.message, /field "address": must be an e-mail address \(got "not-an-address"\)/);
    assert.equal((await mail.listMailboxes('acme-sandbox')).length, 3);
  });

  test('every method on an unknown tenant is a 404 naming it', async () => {
    for (const call of [
      () => mail.listRoutes('ghost'),
      () => mail.removeRoutes('ghost'),
      () => mail.listMailboxes('ghost'),
      () => mail.replaceMailboxes('ghost', 'x@mailinator.com'),
    ]) {
      const err = await rejection(call());
      assert.equal((err as PlatformHttpError).status, 404);
      assert.match(err.message, /unknown tenant "ghost"/);
    }
  });
});
