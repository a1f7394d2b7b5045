import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { AzureBlobArchives } from '../../activities/archive/azure-blob';
import type { ArchiveLocation, CopyCheckpoint } from '../../activities/archive/port';
import { seedArchives } from '../../stack/seed/archives';
import { startAzurite, type AzuriteHandle } from '../../stack/services/ephemeral-azurite';

let azurite: AzuriteHandle;
let archives: AzureBlobArchives;

const loc = (system: 'azure' | 'soarc', tenant: string, kind: ArchiveLocation['kind'], prefix?: string): ArchiveLocation =>
  prefix === undefined ? { system, tenant, kind } : { system, tenant, kind, prefix };

/** Target etags, read straight from the service: an unchanged etag proves a blob was not rewritten. */
async function etags(connectionString: string, container: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const client = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container);
  for await (const b of client.listBlobsFlat()) out.set(b.name, b.properties.etag ?? '');
  return out;
}

async function putMany(at: ArchiveLocation, count: number, tag: string): Promise<void> {
  const names = Array.from({ length: count }, (_, i) => `batch/${String(i).padStart(4, '0')}-${tag}.pdf`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < names.length) {
        const name = names[next++];
        await archives.put(at, name, `${tag} ${name} `.repeat(1 + (name.length % 7)));
      }
    }),
  );
}

describe('AzureBlobArchives on Azurite', () => {
  before(async () => {
    azurite = await startAzurite();
    archives = new AzureBlobArchives({ azure: azurite.connectionString, soarc: azurite.secondConnectionString });
    await seedArchives(archives, 'acme', { templates: 12, documents: 20, attachmentsPerModule: 5 });
  });
  after(async () => {
    await azurite?.close();
  });

  test('put and list: sorted names, sizes and base64 MD5s', async () => {
    const at = loc('azure', 'putlist', 'documents');
    await archives.put(at, 'b/second.txt', 'second body');
    await archives.put(at, 'a/first.txt', Buffer.from('first body'));
    const listed = await archives.list(at);
    assert.deepEqual(listed, [
      { name: 'a/first.txt', size: 10, md5: createHash('md5').update('first body').digest('base64') },
      { name: 'b/second.txt', size: 11, md5: createHash('md5').update('second body').digest('base64') },
    ]);
    assert.deepEqual(await archives.list(loc('azure', 'putlist', 'documents', 'b/')), [listed[1]]);
    assert.deepEqual(await archives.list(loc('azure', 'nothing-here', 'documents')), []);
    await assert.rejects(archives.put(loc('azure', 'putlist', 'attachments', 'service/'), 'crm/x.pdf', 'x'), /crm\/x\.pdf/);
  });

  test('sync copies exactly the source: same names and MD5s', async () => {
    const from = loc('azure', 'acme', 'templates');
    const to = loc('azure', 'acme-sandbox', 'templates');
    const source = await archives.list(from);
    assert.equal(source.length, 12);
    const progress: number[] = [];
    const result = await archives.sync(from, to, { onProgress: (_cp, p) => progress.push(p.percent) });
    assert.deepEqual(await archives.list(to), source);
    assert.equal(result.total, 12);
    assert.equal(result.copied, 12);
    assert.equal(
      result.bytes,
      source.reduce((s, b) => s + b.size, 0),
    );
    assert.equal(result.after, source[source.length - 1].name);
    assert.equal(result.removed, 0);
    assert.equal(progress[progress.length - 1], 100);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
    );
  });

  test('sync removes stale target blobs and repairs changed ones', async () => {
    const from = loc('azure', 'acme', 'documents');
    const to = loc('azure', 'acme-stale', 'documents');
    const source = await archives.list(from);
    await archives.sync(from, to);
    await archives.put(to, 'zz-old/obsolete.pdf', 'not in the source');
    await archives.put(to, '0000-leftover.txt', 'not in the source either');
    await archives.put(to, source[3].name, 'locally edited copy');

    const result = await archives.sync(from, to);
    assert.equal(result.removed, 2);
    assert.equal(result.copied, 1);
    assert.deepEqual(await archives.list(to), source);
  });

  test('sync respects a prefix: only service/ is copied and cleaned', async () => {
    const from = loc('azure', 'acme', 'attachments', 'service/');
    const to = loc('azure', 'acme-prefix', 'attachments', 'service/');
    const crmBlob = 'crm/crm-9999/keep-me.pdf';
    await archives.put(loc('azure', 'acme-prefix', 'attachments'), crmBlob, 'outside the prefix');
    await archives.put(loc('azure', 'acme-prefix', 'attachments'), 'service/service-0001/stale.txt', 'stale');

    const result = await archives.sync(from, to);
    const sourceService = await archives.list(from);
    assert.equal(sourceService.length, 5);
    assert.ok(sourceService.every((b) => b.name.startsWith('service/')));
    assert.equal(result.total, 5);
    assert.equal(result.removed, 1);

    const all = await archives.list(loc('azure', 'acme-prefix', 'attachments'));
    assert.deepEqual(
      all.filter((b) => b.name.startsWith('service/')),
      sourceService,
    );
    assert.deepEqual(
      all.filter((b) => !b.name.startsWith('service/')).map((b) => b.name),
      [crmBlob],
    );
  });

  test('sync works across the two accounts (azure -> soarc)', async () => {
    const from = loc('azure', 'acme', 'documents');
    const to = loc('soarc', 'acme-cross', 'documents');
    const result = await archives.sync(from, to);
    assert.equal(result.copied, 20);
    assert.deepEqual(await archives.list(to), await archives.list(from));
    // The copy landed in the second account, not in the first.
    assert.deepEqual(await archives.list(loc('azure', 'acme-cross', 'documents')), []);
    const direct = await etags(azurite.secondConnectionString, 'acme-cross-documents');
    assert.equal(direct.size, 20);
  });

  test('sync is idempotent: a second run copies nothing and changes nothing', async () => {
    const from = loc('soarc', 'acme', 'attachments');
    const to = loc('azure', 'acme-twice', 'attachments');
    const first = await archives.sync(from, to);
    assert.equal(first.copied, 20);
    const listed = await archives.list(to);
    const tagsBefore = await etags(azurite.connectionString, 'acme-twice-attachments');

    const second = await archives.sync(from, to);
    assert.deepEqual(
      { copied: second.copied, bytes: second.bytes, removed: second.removed, total: second.total },
      { copied: 0, bytes: 0, removed: 0, total: 20 },
    );
    assert.deepEqual(await archives.list(to), listed);
    assert.deepEqual(await etags(azurite.connectionString, 'acme-twice-attachments'), tagsBefore);
  });

  test('sync resumes after a progress callback stopped it: the done prefix is not copied again', async () => {
    const from = loc('azure', 'bulk', 'documents');
    const to = loc('azure', 'bulk-resume', 'documents');
    await putMany(from, 80, 'resume');
    const concurrency = 4;

    let saved: CopyCheckpoint | null = null;
    const stop = new Error('worker lost');
    await assert.rejects(
      archives.sync(from, to, {
        concurrency,
        onProgress: (cp) => {
          saved = cp;
          if (cp.copied >= 25) throw stop;
        },
      }),
      (err) => err === stop,
    );
    const checkpoint = saved as unknown as CopyCheckpoint;
    assert.ok(checkpoint.copied >= 25 && checkpoint.copied < 80, `checkpoint ${JSON.stringify(checkpoint)}`);
    const source = await archives.list(from);
    const doneAtCheckpoint = source.filter((b) => b.name <= checkpoint.after!).length;
    assert.equal(doneAtCheckpoint, checkpoint.copied);

    const afterStop = await etags(azurite.connectionString, 'bulk-resume-documents');
    // Beyond the checkpoint only the blobs in flight when it stopped may exist.
    assert.ok(afterStop.size >= doneAtCheckpoint && afterStop.size <= doneAtCheckpoint + concurrency);

    // The checkpoint is trusted: a blob inside the done prefix is not even looked at on resume,
    // so removing one behind the adapter's back shows whether the resumed run touched it.
    const trusted = source[0].name;
    await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('bulk-resume-documents').deleteBlob(trusted);
    afterStop.delete(trusted);

    const resumed = await archives.sync(from, to, { concurrency, checkpoint });
    assert.equal(resumed.copied - checkpoint.copied, 80 - 1 - afterStop.size);
    assert.equal(resumed.total, 80);
    assert.deepEqual(
      await archives.list(to),
      source.filter((b) => b.name !== trusted),
    );
    const afterResume = await etags(azurite.connectionString, 'bulk-resume-documents');
    for (const [name, etag] of afterStop) assert.equal(afterResume.get(name), etag, `${name} was copied again`);

    // A fresh run (no checkpoint) compares everything and repairs it.
    const fresh = await archives.sync(from, to, { concurrency });
    assert.equal(fresh.copied, 1);
    assert.deepEqual(await archives.list(to), source);
  });

  test('sync stops on an aborted signal and resumes from the error checkpoint', async () => {
    const from = loc('azure', 'bulk', 'documents');
    const to = loc('soarc', 'bulk-abort', 'documents');
    const controller = new AbortController();
    let calls = 0;
    const err = await archives
      .sync(from, to, {
        concurrency: 3,
        signal: controller.signal,
        onProgress: () => {
          if (++calls === 10) controller.abort(new Error('cancelled by test'));
        },
      })
      .then(
        () => assert.fail('sync should have been aborted'),
        (e: unknown) => e as Error & { checkpoint: CopyCheckpoint },
      );
    assert.equal(err.name, 'AbortError');
    assert.ok(err.checkpoint.copied >= 10 && err.checkpoint.copied < 80, JSON.stringify(err.checkpoint));
    const partial = await archives.list(to);
    assert.ok(partial.length < 80, `aborted run still copied ${partial.length}`);

    const resumed = await archives.sync(from, to, { concurrency: 3, checkpoint: err.checkpoint });
    assert.equal(resumed.copied - err.checkpoint.copied, 80 - partial.length);
    assert.deepEqual(await archives.list(to), await archives.list(from));

    // An already-aborted signal touches nothing.
    await assert.rejects(archives.sync(from, loc('azure', 'never-made', 'documents'), { signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.deepEqual(await archives.list(loc('azure', 'never-made', 'documents')), []);
  });

  test('serverAccess: a container SAS that lets a server write, list, read and delete there, and nowhere else', async () => {
    const at = loc('azure', 'srvaccess', 'backups');
    const { containerUrl, sasToken } = await archives.serverAccess(at, 60 * 60_000);
    assert.match(containerUrl, /\/srvaccess-backups$/);
    assert.ok(!containerUrl.includes('?') && !sasToken.startsWith('?'));
    // What SQL Server's BACKUP TO URL does with it: plain HTTP calls carrying only the token.
    const asServer = new BlobServiceClient(`${containerUrl.replace(/\/srvaccess-backups$/, '')}?${sasToken}`).getContainerClient('srvaccess-backups');
    await asServer.getBlockBlobClient('dumps/b-1/stripe-1of4.bak').uploadData(Buffer.from('stripe one'));
    const names: string[] = [];
    for await (const b of asServer.listBlobsFlat()) names.push(b.name);
    assert.deepEqual(names, ['dumps/b-1/stripe-1of4.bak']);
    assert.equal(await archives.getText(at, 'dumps/b-1/stripe-1of4.bak'), 'stripe one');
    await asServer.getBlobClient('dumps/b-1/stripe-1of4.bak').delete();
    assert.deepEqual(await archives.list(at), []);
    // The token is for that container only.
    const other = new BlobServiceClient(`${containerUrl.replace(/\/srvaccess-backups$/, '')}?${sasToken}`).getContainerClient('acme-documents');
    await assert.rejects(other.getBlockBlobClient('x.txt').uploadData(Buffer.from('x')), (err: { statusCode?: number }) => err.statusCode === 403);
    await assert.rejects(archives.serverAccess(at, 1000), /invalid SAS lifetime 1000 ms/);
    await assert.rejects(archives.serverAccess(loc('azure', 'Bad_Tenant', 'backups'), 60_000), /Bad_Tenant/);
  });

  test('a missing source container means an empty source', async () => {
    const to = loc('azure', 'acme-emptied', 'templates');
    await archives.put(to, 'letters/old.docx', 'old');
    const result = await archives.sync(loc('azure', 'ghost', 'templates'), to);
    assert.deepEqual({ total: result.total, copied: result.copied, removed: result.removed }, { total: 0, copied: 0, removed: 1 });
    assert.deepEqual(await archives.list(to), []);
  });

  test('bad input is refused naming the bad value, before anything is touched', async () => {
    await assert.rejects(archives.list(loc('azure', 'Acme_Prod', 'documents')), /'Acme_Prod-documents'/);
    await assert.rejects(archives.put(loc('soarc', 'acme--x', 'templates'), 'a.txt', 'x'), /'acme--x-templates'/);
    const long = 'a'.repeat(60);
    await assert.rejects(archives.list(loc('azure', long, 'attachments')), new RegExp(`'${long}-attachments'`));
    await assert.rejects(archives.sync(loc('azure', 'acme', 'templates'), loc('azure', '-bad', 'templates')), /'-bad-templates'/);
    await assert.rejects(archives.sync(loc('azure', 'acme', 'templates'), { system: 'gcs' as 'azure', tenant: 'acme-x', kind: 'templates' }), /'gcs'/);
    await assert.rejects(archives.sync(loc('azure', 'acme', 'templates'), loc('azure', 'acme-conc', 'templates'), { concurrency: 0 }), /concurrency 0/);
    await assert.rejects(archives.sync(loc('azure', 'acme', 'templates'), loc('azure', 'acme', 'templates')), /overlapping/);
    assert.deepEqual(await archives.list(loc('azure', 'acme-conc', 'templates')), []);
    assert.throws(() => new AzureBlobArchives({ azure: azurite.connectionString, soarc: '' }), /soarc/);
    assert.throws(() => new AzureBlobArchives({ azure: 'UseDevelopmentStorage=false;AccountName=x', soarc: azurite.connectionString }), /'azure'/);
  });
});
