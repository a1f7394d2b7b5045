import { performance } from 'node:perf_hooks';
import { BlobServiceClient, ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { AzureBlobArchives } from '../activities/archive/azure-blob';
import type { ArchiveLocation } from '../activities/archive/port';
import { startAzurite } from '../stack/services/ephemeral-azurite';

const BLOBS = Number(process.env.BENCH_ARCHIVE_BLOBS ?? 2_000);
const CONCURRENCY = 8;
const ROUNDS = Number(process.env.BENCH_ARCHIVE_ROUNDS ?? 3);

/**
 * The best primitive for the same job: list the source, then server-side copy every blob with
 * `beginCopyFromURL` at the same concurrency, with no target listing, skipping or checkpoints.
 */
async function rawCopy(service: BlobServiceClient, source: string, target: string): Promise<number> {
  const src = service.getContainerClient(source);
  const dst = service.getContainerClient(target);
  await dst.createIfNotExists();
  const sas = generateBlobSASQueryParameters(
    { containerName: source, permissions: ContainerSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3_600_000) },
    service.credential as StorageSharedKeyCredential,
  ).toString();
  const names: string[] = [];
  for await (const b of src.listBlobsFlat()) names.push(b.name);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < names.length) {
        const name = names[next++];
        const poller = await dst.getBlobClient(name).beginCopyFromURL(`${src.getBlobClient(name).url}?${sas}`);
        await poller.pollUntilDone();
      }
    }),
  );
  return names.length;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}

export async function benchArchive(log: (line: string) => void): Promise<void> {
  const azurite = await startAzurite();
  try {
    const archives = new AzureBlobArchives({ azure: azurite.connectionString, soarc: azurite.secondConnectionString });
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const from: ArchiveLocation = { system: 'azure', tenant: 'bench', kind: 'documents' };

    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < BLOBS) {
          const i = next++;
          const name = `${2020 + (i % 5)}/${String((i % 12) + 1).padStart(2, '0')}/document-${String(i).padStart(6, '0')}.pdf`;
          await archives.put(from, name, `bench document ${i}\n`.repeat(20 + (i % 50)));
        }
      }),
    );
    log(`archive bench: ${BLOBS} blobs in the source, concurrency ${CONCURRENCY}, best of ${ROUNDS} rounds`);

    // The order alternates per round: Azurite slows down as it fills, so going second costs.
    let best = { sync: Infinity, raw: Infinity };
    for (let round = 0; round < ROUNDS; round++) {
      const runRaw = () => timed(() => rawCopy(service, 'bench-documents', `raw${round}-documents`));
      const runSync = () => timed(() => archives.sync(from, { system: 'azure', tenant: `sync${round}`, kind: 'documents' }, { concurrency: CONCURRENCY }));
      let raw: Awaited<ReturnType<typeof runRaw>>;
      let sync: Awaited<ReturnType<typeof runSync>>;
      if (round % 2 === 0) {
        raw = await runRaw();
        sync = await runSync();
      } else {
        sync = await runSync();
        raw = await runRaw();
      }
      // Emptying the server again keeps every round on the same amount of stored data.
      await service.getContainerClient(`raw${round}-documents`).delete();
      await service.getContainerClient(`sync${round}-documents`).delete();
      log(`  round ${round + 1}: sync ${sync.seconds.toFixed(2)} s, raw ${raw.seconds.toFixed(2)} s`);
      if (raw.value !== BLOBS || sync.value.copied !== BLOBS) {
        throw new Error(`archive bench: copied ${raw.value} (raw) and ${sync.value.copied} (sync), expected ${BLOBS}`);
      }
      best = { sync: Math.min(best.sync, sync.seconds), raw: Math.min(best.raw, raw.seconds) };
    }
    log(`archive sync: ${best.sync.toFixed(2)} s vs raw server-side copy ${best.raw.toFixed(2)} s, ` + `ratio ${(best.sync / best.raw).toFixed(2)}`);
  } finally {
    await azurite.close();
  }
}

if (require.main === module) {
  benchArchive((line) => console.log(line)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
