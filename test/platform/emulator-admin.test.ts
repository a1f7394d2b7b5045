import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPlatform } from '../../activities/platform';
import { startTestEmulator, type TestEmulator } from '../support/emulator';
import { rejection, seed, waitFor } from './fixtures';

describe('emulator admin endpoints', () => {
  let emulator: TestEmulator;

  before(async () => {
    // Long enough that the three calls below land before the mode change is applied.
    emulator = await startTestEmulator({ operationDelayMs: 1500 });
  });
  after(() => emulator.close());

  test('putTenant replaces a tenant wholly; reset forgets everything', async () => {
    await emulator.admin.putTenant(seed('acme', { mailboxes: ['a@acme.com', 'b@acme.com'], hosting: { tasks: [{ durationMs: 60_000 }] } }));
    await emulator.admin.putTenant(seed('acme', { mailboxes: ['c@acme.com'], state: 'InMigration' }));
    const state = await emulator.admin.state('acme');
    assert.deepEqual(state.mailboxes, ['c@acme.com']);
    assert.equal(state.tenant.state, 'InMigration');
    assert.equal(state.hosting.lastQueuedTask, 0, "the first seed's task went with it");

    await emulator.admin.putApp({ appId: 'a1', name: 'A', webhookUrl: 'https://a.example.com/h' });
    await emulator.admin.reset();
    const platform = createPlatform(emulator.url);
    assert.equal(await platform.directory.getTenant('acme'), null);
    assert.equal(await platform.partnerApps.getApp('a1'), null);
    assert.deepEqual(await emulator.admin.deliveries(), []);
  });

  test('a bad seed is a 400 naming the field; a taken mailbox is a 409', async () => {
    const bad = await rejection(emulator.admin.putTenant({ ...seed('acme'), capacityMb: -1 }));
    assert.match(bad.message, /field "capacityMb"/);
    const missing = await rejection(emulator.admin.putTenant({ ...seed('acme'), region: undefined as unknown as string }));
    assert.match(missing.message, /field "region": is required/);
    const unknown = await rejection(
      emulator.admin.putTenant({ ...seed('acme'), hosting: { mode: 'running', tasks: [{ duration: 5 } as unknown as { durationMs: number }] } }),
    );
    assert.match(unknown.message, /field "hosting.tasks\[0\].duration": is not part of the contract/);

    await emulator.admin.putTenant(seed('one', { mailboxes: ['shared@x.com'] }));
    const taken = await rejection(emulator.admin.putTenant(seed('two', { mailboxes: ['Shared@x.com'] })));
    assert.match(taken.message, /409.*belongs to tenant "one"/);
    assert.equal(await createPlatform(emulator.url).directory.getTenant('two'), null, 'nothing of the refused seed was kept');
  });

  test('the event log orders changes across services as they took effect', async () => {
    await emulator.admin.reset();
    await emulator.admin.putTenant(seed('sbx', { kind: 'sandbox', routes: [{ address: 'r@sbx.com', destination: 'q' }] }));
    const platform = createPlatform(emulator.url);
    await platform.hosting.setMode('sbx', 'maintenance');
    await platform.mailService.removeRoutes('sbx');
    await platform.directory.setState('sbx', 'InMigration');
    await waitFor('the mode change to apply', async () => ((await platform.hosting.getState('sbx')).pendingOperations === 0 ? true : undefined));
    const actions = (await emulator.admin.state('sbx')).events.map((e) => e.action);
    assert.deepEqual(actions, ['hosting.mode.requested', 'mail.routes.removed', 'directory.state.set', 'hosting.mode.applied']);
  });
});
