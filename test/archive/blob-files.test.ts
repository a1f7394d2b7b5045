/**
 * Whole-file transfers (database backups) through AzureBlobArchives on a real Azurite: block
 * uploads streamed from a file, streamed downloads checked against the blob's MD5, text reads.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { AzureBlobArchives } from '../../activities/archive/azure-blob';
import type { ArchiveLocation } from '../../activities/archive/port';
import { startAzurite, type AzuriteHandle } from '../../stack/services/ephemeral-azurite';

const BLOCK = 1024 * 1024;
const backups = (tenant: string, system: 'azure' | 'soarc' = 'azure'): ArchiveLocation => ({ system, tenant, kind: 'backups' });

/** Deterministic, incompressible-looking content of `size` bytes. */
function content(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('base64');
const increasing = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x >= xs[i - 1]);

describe('AzureBlobArchives file transfers on Azurite', () => {
  let azurite: AzuriteHandle;
  let archives: AzureBlobArchives;
  let dir: string;

  before(async () => {
    azurite = await startAzurite();
    archives = new AzureBlobArchives({ azure: azurite.connectionString, soarc: azurite.secondConnectionString, blockSize: BLOCK });
    dir = await mkdtemp(path.join(os.tmpdir(), 'blob-files-'));
  });
  after(async () => {
    await azurite?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a multi-MB file goes up in blocks and comes back byte-identical, with progress both ways', async () => {
    const size = 5 * BLOCK + 12345;
    const original = content(size, 'backup-1');
    const file = path.join(dir, 'tenant.dump');
    await writeFile(file, original);

    const up: number[] = [];
    const uploaded = await archives.uploadFile(backups('acme'), 'acme/2024-01-01.dump', file, { onProgress: (b) => up.push(b) });
    assert.deepEqual(uploaded, { bytes: size });
    assert.equal(up.at(-1), size);
    assert.ok(up.length > 2 && increasing(up), `upload progress: ${up.join(',')}`);

    // The service holds it as committed blocks of the configured size, with the whole-file MD5.
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('acme-backups').getBlockBlobClient('acme/2024-01-01.dump');
    const blocks = await blob.getBlockList('committed');
    assert.equal(blocks.committedBlocks?.length, 6);
    assert.deepEqual(await archives.list(backups('acme')), [{ name: 'acme/2024-01-01.dump', size, md5: md5(original) }]);

    const down: [number, number][] = [];
    const target = path.join(dir, 'restored.dump');
    const downloaded = await archives.downloadFile(backups('acme'), 'acme/2024-01-01.dump', target, { onProgress: (b, t) => down.push([b, t]) });
    assert.deepEqual(downloaded, { bytes: size });
    assert.ok((await readFile(target)).equals(original), 'downloaded bytes differ from the uploaded file');
    assert.deepEqual(down.at(-1), [size, size]);
    assert.ok(down.length > 1 && increasing(down.map((d) => d[0])));

    // Overwrite with a small file (one request), into the other account; the download replaces the local file.
    const small = content(1000, 'backup-2');
    await writeFile(file, small);
    await archives.uploadFile(backups('acme'), 'acme/2024-01-01.dump', file);
    await archives.uploadFile(backups('acme', 'soarc'), 'acme/2024-01-01.dump', file);
    await archives.downloadFile(backups('acme'), 'acme/2024-01-01.dump', target);
    assert.ok((await readFile(target)).equals(small));
    assert.deepEqual(await archives.list(backups('acme', 'soarc')), [{ name: 'acme/2024-01-01.dump', size: 1000, md5: md5(small) }]);

    // An empty file round-trips too.
    await writeFile(file, '');
    assert.deepEqual(await archives.uploadFile(backups('acme'), 'acme/empty.dump', file), { bytes: 0 });
    assert.deepEqual(await archives.downloadFile(backups('acme'), 'acme/empty.dump', target), { bytes: 0 });
    assert.equal((await readFile(target)).length, 0);
  });

  test('getText returns the text of a blob and null for a missing blob or container', async () => {
    await archives.put(backups('texts'), 'acme/latest.json', '{"file":"acme/2024-01-01.dump","bytes":42}');
    assert.equal(await archives.getText(backups('texts'), 'acme/latest.json'), '{"file":"acme/2024-01-01.dump","bytes":42}');
    assert.equal(await archives.getText(backups('texts'), 'acme/missing.json'), null);
    assert.equal(await archives.getText(backups('no-container'), 'acme/latest.json'), null);
    assert.equal(await archives.getText({ system: 'soarc', tenant: 'texts', kind: 'documents' }, 'acme/latest.json'), null);
  });

  test('a download is checked against the blob MD5: a corrupt blob leaves no file', async () => {
    // A blob whose recorded MD5 no longer matches its bytes (as after a bad write).
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('corrupt-backups');
    await container.createIfNotExists();
    const blob = container.getBlockBlobClient('x.dump');
    await blob.uploadData(Buffer.from('the stored bytes'));
    await blob.setHTTPHeaders({ blobContentMD5: createHash('md5').update('other bytes').digest() });
    const sub = await mkdtemp(path.join(dir, 'corrupt-'));
    await assert.rejects(archives.downloadFile(backups('corrupt'), 'x.dump', path.join(sub, 'x.dump')), /corrupt: MD5/);
    assert.deepEqual(await readdir(sub), []);
  });

  test('an aborted upload commits nothing; an aborted download leaves no file', async () => {
    const file = path.join(dir, 'abort.dump');
    await writeFile(file, content(4 * BLOCK, 'abort'));
    const ac = new AbortController();
    await assert.rejects(
      archives.uploadFile(backups('aborts'), 'a.dump', file, { signal: ac.signal, onProgress: (b) => b > 0 && ac.abort(new Error('cancelled by test')) }),
      { name: 'AbortError' },
    );
    assert.equal(await archives.getText(backups('aborts'), 'a.dump'), null);

    await archives.uploadFile(backups('aborts'), 'a.dump', file);
    const sub = await mkdtemp(path.join(dir, 'abort-down-'));
    const ac2 = new AbortController();
    await assert.rejects(
      archives.downloadFile(backups('aborts'), 'a.dump', path.join(sub, 'a.dump'), {
        signal: ac2.signal,
        onProgress: (b) => b > 0 && ac2.abort(new Error('cancelled by test')),
      }),
      { name: 'AbortError' },
    );
    assert.deepEqual(await readdir(sub), []);
    await assert.rejects(archives.uploadFile(backups('aborts'), 'b.dump', file, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  });

  test('bad input is refused with an error naming the bad value', async () => {
    const file = path.join(dir, 'small.dump');
    await writeFile(file, 'x');
    await assert.rejects(archives.uploadFile(backups('Bad_Tenant'), 'a.dump', file), /'Bad_Tenant-backups'/);
    await assert.rejects(archives.downloadFile(backups('acme--x'), 'a.dump', path.join(dir, 'y')), /'acme--x-backups'/);
    await assert.rejects(archives.getText(backups('-bad'), 'a.json'), /'-bad-backups'/);
    await assert.rejects(archives.getText({ system: 'azure', tenant: 'acme', kind: 'dumps' as 'backups' }, 'a.json'), /'dumps'/);
    await assert.rejects(archives.uploadFile(backups('acme'), '/abs.dump', file), /'\/abs\.dump'/);
    const missing = path.join(dir, 'no-such-file.dump');
    await assert.rejects(archives.uploadFile(backups('acme'), 'a.dump', missing), (err: Error) => err.message.includes(missing));
    const target = path.join(dir, 'never.dump');
    await assert.rejects(archives.downloadFile(backups('acme'), 'no-such-blob.dump', target), /'no-such-blob\.dump'.*no such blob/);
    await assert.rejects(readFile(target), { code: 'ENOENT' });
    const noDir = path.join(dir, 'no-such-folder', 'x.dump');
    await assert.rejects(archives.downloadFile(backups('acme'), 'acme/2024-01-01.dump', noDir), (err: Error) => err.message.includes(noDir));
    assert.throws(() => new AzureBlobArchives({ azure: azurite.connectionString, soarc: azurite.secondConnectionString, blockSize: 10 }), /block size 10/);
  });
});
