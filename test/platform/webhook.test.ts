import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpPartnerApps } from '../../activities/platform/partner-apps';
import { postSignedWebhook, signWebhook, verifyWebhook, WEBHOOK_SIGNATURE_HEADER } from '../../activities/platform/webhook';
import { startTestEmulator, type TestEmulator } from '../support/emulator';
import { closedPort, rejection } from './fixtures';

describe('signWebhook / verifyWebhook', () => {
  const secret = 'shh';
  const body = '{"event":"BackupRestored"}';

  test('the header carries the timestamp and a hex HMAC-SHA256 of "<t>.<body>"', async () => {
    const { createHmac } = await import('node:crypto');
    const header = signWebhook(secret, body, 1_700_000_000);
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    assert.equal(header, `t=1700000000,v1=${expected}`);
    assert.equal(verifyWebhook(secret, header, body, 300, 1_700_000_100), true);
  });

  test('a tampered body, another secret, a stale or garbled header do not verify', () => {
    const header = signWebhook(secret, body, 1_700_000_000);
    assert.equal(verifyWebhook(secret, header, body.replace('Restored', 'Deleted'), 300, 1_700_000_000), false);
    assert.equal(verifyWebhook('other', header, body, 300, 1_700_000_000), false);
    assert.equal(verifyWebhook(secret, header, body, 300, 1_700_000_301), false);
    assert.equal(verifyWebhook(secret, header.replace('t=1700000000', 't=1700000001'), body, 300, 1_700_000_000), false);
    assert.equal(verifyWebhook(secret, 'v1=abc', body), false);
    assert.equal(verifyWebhook(secret, undefined, body), false);
    assert.equal(verifyWebhook(secret, `${header.slice(0, -2)}zz`, body, 300, 1_700_000_000), false);
  });

  test('a timestamp in milliseconds or a missing secret is refused with a clear error', () => {
    assert.throws(() => signWebhook(secret, body, Date.now()), /looks like milliseconds/);
    assert.throws(() => signWebhook('', body, 1), /secret must be a non-empty string/);
  });
});

describe('partner apps and signed webhooks against the platform emulator', () => {
  let emulator: TestEmulator;
  let apps: HttpPartnerApps;

  before(async () => {
    emulator = await startTestEmulator();
    apps = new HttpPartnerApps(emulator.url);
  });
  after(() => emulator.close());

  beforeEach(async () => {
    await emulator.admin.reset();
    await emulator.admin.putApp({ appId: 'crm-sync', name: 'CRM Sync', webhookUrl: emulator.admin.sinkUrl('crm-sync') });
  });

  test('getApp returns the registered app, and null for an unknown one', async () => {
    assert.deepEqual(await apps.getApp('crm-sync'), { appId: 'crm-sync', name: 'CRM Sync', webhookUrl: `${emulator.url}/_emulator/sink/crm-sync` });
    assert.equal(await apps.getApp('ghost-app'), null);
  });

  test('postSignedWebhook to the sink verifies and the delivery is recorded as sent', async () => {
    const app = await apps.getApp('crm-sync');
    assert.ok(app);
    const payload = { event: 'BackupRestored', tenant: 'acme-sandbox', state: 'Changing' };
    const result = await postSignedWebhook(app.webhookUrl, payload, emulator.webhookSecret);
    assert.equal(result.status, 200);

    const [delivery, ...rest] = await emulator.admin.deliveries();
    assert.equal(rest.length, 0);
    assert.equal(delivery?.appId, 'crm-sync');
    assert.equal(delivery.verified, true);
    assert.equal(delivery.status, 200);
    assert.deepEqual(JSON.parse(delivery.body), payload);
    assert.equal(delivery.headers['content-type'], 'application/json');
    assert.match(delivery.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()] ?? '', /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhook(emulator.webhookSecret, delivery.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()], delivery.body), true);
  });

  test('a wrong secret is answered 401, the error names URL and status, and the delivery is recorded unverified', async () => {
    const url = emulator.admin.sinkUrl('crm-sync');
    const err = await rejection(postSignedWebhook(url, { event: 'BackupRestored' }, 'not-the-secret'));
    assert.match(err.message, new RegExp(`${url.replace(/[/.]/g, '\\$&')} answered 401`));
    const deliveries = await emulator.admin.deliveries('crm-sync');
    assert.equal(deliveries.length, 1);
    assert.equal(deliveries[0]?.verified, false);
    assert.equal(deliveries[0]?.status, 401);
  });

  test('a tampered body under a valid signature does not verify', async () => {
    const url = emulator.admin.sinkUrl('crm-sync');
    const signed = JSON.stringify({ event: 'BackupRestored', tenant: 'acme-sandbox' });
    const header = signWebhook(emulator.webhookSecret, signed, Math.floor(Date.now() / 1000));
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [WEBHOOK_SIGNATURE_HEADER]: header },
      body: signed.replace('acme-sandbox', 'acme'),
    });
    assert.equal(response.status, 401);
    const [delivery] = await emulator.admin.deliveries();
    assert.equal(delivery?.verified, false);
    assert.match(delivery?.body ?? '', /"tenant":"acme"/);
  });

  test('a rehearsed outage fails the next deliveries with the chosen status, then the sink recovers', async () => {
    await emulator.admin.failNextDeliveries('crm-sync', 1, 503);
    const url = emulator.admin.sinkUrl('crm-sync');
    const err = await rejection(postSignedWebhook(url, { n: 1 }, emulator.webhookSecret));
    assert.match(err.message, /answered 503/);
    assert.equal((await postSignedWebhook(url, { n: 2 }, emulator.webhookSecret)).status, 200);
    const deliveries = await emulator.admin.deliveries('crm-sync');
    assert.deepEqual(
      deliveries.map((d) => [JSON.parse(d.body).n, d.status, d.verified]),
      [
        [1, 503, true],
        [2, 200, true],
      ],
    );
  });

  test('an unreachable webhook URL fails with an error naming it', async () => {
    const port = await closedPort();
    const err = await rejection(postSignedWebhook(`http://127.0.0.1:${port}/hook`, {}, 'secret'));
    assert.match(err.message, new RegExp(`webhook POST http://127\\.0\\.0\\.1:${port}/hook failed: ECONNREFUSED`));
    await assert.rejects(postSignedWebhook('ftp://x/hook', {}, 'secret'), /must be http or https/);
  });
});
