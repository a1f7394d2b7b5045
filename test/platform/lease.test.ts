/**
 * The tenant lease over HTTP: one holder at a time, handed over only from the holder the caller
 * names, released only by its holder, and every write to a leased tenant refused (fenced) unless
 * it comes from the holder.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpDirectory } from '../../activities/platform/directory';
import { HttpHosting } from '../../activities/platform/hosting';
import { PlatformHttpError } from '../../activities/platform/http-client';
import { actingFor } from '../../activities/platform/lease-scope';
import { HttpMailService } from '../../activities/platform/mail-service';
import { startTestEmulator, type TestEmulator } from '../support/emulator';
import { seed } from './fixtures';

const A = 'clone-acme-sandbox/run-a';
const B = 'clone-acme-sandbox/run-b';

describe('tenant lease and fencing against the platform emulator', () => {
  let emulator: TestEmulator;
  let directory: HttpDirectory;
  let hosting: HttpHosting;
  let mail: HttpMailService;

  before(async () => {
    emulator = await startTestEmulator({ operationDelayMs: 1 });
    directory = new HttpDirectory(emulator.url);
    hosting = new HttpHosting(emulator.url);
    mail = new HttpMailService(emulator.url);
  });
  after(() => emulator.close());
  beforeEach(async () => {
    await emulator.admin.reset();
    await emulator.admin.putTenant(seed('acme-sandbox', { kind: 'sandbox' }));
  });

  const fencedOut = (holder: string) => (err: unknown) =>
    err instanceof PlatformHttpError && err.status === 409 && err.code === 'lease_mismatch' && err.serverError.includes(`leased by ${holder}`);

  test('one holder at a time; taken over only from the named holder; released only by its holder', async () => {
    assert.equal(await directory.getLease('acme-sandbox'), null);
    assert.deepEqual(await directory.acquireLease('acme-sandbox', A), { acquired: true });
    assert.deepEqual(await directory.acquireLease('acme-sandbox', A), { acquired: true }, 'kept by its holder');
    assert.deepEqual(await directory.acquireLease('acme-sandbox', B), { acquired: false, holder: A });
    assert.deepEqual(await directory.acquireLease('acme-sandbox', B, 'clone-acme-sandbox/someone-else'), { acquired: false, holder: A });
    await directory.releaseLease('acme-sandbox', B);
    assert.equal(await directory.getLease('acme-sandbox'), A, 'only the holder releases');
    assert.deepEqual(await directory.acquireLease('acme-sandbox', B, A), { acquired: true }, 'handed over from the named holder');
    assert.equal(await directory.getLease('acme-sandbox'), B);
    await directory.releaseLease('acme-sandbox', B);
    await directory.releaseLease('acme-sandbox', B);
    assert.equal(await directory.getLease('acme-sandbox'), null);
    const events = (await emulator.admin.state('acme-sandbox')).events.filter((e) => e.action.startsWith('directory.lease')).map((e) => e.action);
    assert.deepEqual(events, ['directory.lease.acquired', 'directory.lease.acquired', 'directory.lease.released']);
  });

  test('a bad holder is refused naming the field', async () => {
    await assert.rejects(
      directory.acquireLease('acme-sandbox', 'has space'),
      (err: unknown) => err instanceof PlatformHttpError && err.status === 400 && /holder/.test(err.serverError),
    );
    await assert.rejects(directory.acquireLease('nosuch', A), (err: unknown) => err instanceof PlatformHttpError && err.status === 404);
  });

  test('while leased, writes from anyone but the holder are refused and change nothing', async () => {
    await directory.acquireLease('acme-sandbox', A);
    const before = await emulator.admin.state('acme-sandbox');
    await assert.rejects(hosting.setMode('acme-sandbox', 'maintenance'), fencedOut(A), 'no lease sent');
    await assert.rejects(
      actingFor(B, () => hosting.setMode('acme-sandbox', 'maintenance')),
      fencedOut(A),
      'another holder',
    );
    await assert.rejects(
      actingFor(B, () => directory.setState('acme-sandbox', 'InMigration')),
      fencedOut(A),
    );
    await assert.rejects(
      actingFor(B, () => mail.replaceMailboxes('acme-sandbox', 'x@mailinator.com')),
      fencedOut(A),
    );
    const after = await emulator.admin.state('acme-sandbox');
    assert.deepEqual(
      { hosting: after.hosting.mode, state: after.tenant.state, mailboxes: after.mailboxes },
      { hosting: before.hosting.mode, state: before.tenant.state, mailboxes: before.mailboxes },
    );
    // Reads are never fenced; the holder writes.
    assert.equal((await actingFor(B, () => directory.getTenant('acme-sandbox')))?.id, 'acme-sandbox');
    await actingFor(A, () => directory.setState('acme-sandbox', 'InMigration'));
    assert.equal((await directory.getTenant('acme-sandbox'))?.state, 'InMigration');
    // Unleased, anyone writes (clones started before leases existed).
    await directory.releaseLease('acme-sandbox', A);
    await directory.setState('acme-sandbox', 'Normal');
    assert.equal((await directory.getTenant('acme-sandbox'))?.state, 'Normal');
  });
});
