/** Re-seeding the demo world over whatever a running stack holds: the same world every time. */
import { BlobServiceClient } from '@azure/storage-blob';
import { CloneNotFoundError, type TenantCloneClient } from '../../client';
import type { AzureBlobArchives } from '../../activities/archive/azure-blob';
import type { EmulatorAdmin } from '../../emulator/admin-client';
import { DEMO, seedDemoWorld } from './demo-world';

export async function seedDemo(o: {
  client: TenantCloneClient;
  admin: EmulatorAdmin;
  archives: AzureBlobArchives;
  adminUrl: string;
  connections: string[];
  log: (line: string) => void;
  persons?: number;
  documents?: number;
}): Promise<void> {
  // A clone left running by an interrupted run would work on a world re-seeded under its feet.
  try {
    if ((await o.client.workflowStatus(DEMO.target)) === 'RUNNING') {
      await o.client.handle(DEMO.target).terminate('the local stack re-seeded the demo world');
      o.log(`terminated the clone of ${DEMO.target} left running by a previous run`);
    }
  } catch (err) {
    if (!(err instanceof CloneNotFoundError)) throw err;
  }
  // Azurite keeps its blobs across runs: start each world from empty archives.
  await emptyBlobAccounts(o.connections);
  await seedDemoWorld({ adminUrl: o.adminUrl, admin: o.admin, archives: o.archives, persons: o.persons, documents: o.documents });
}

async function emptyBlobAccounts(connectionStrings: string[]): Promise<void> {
  for (const cs of connectionStrings) {
    const service = BlobServiceClient.fromConnectionString(cs);
    for await (const c of service.listContainers()) {
      const container = service.getContainerClient(c.name);
      const names: string[] = [];
      for await (const b of container.listBlobsFlat()) names.push(b.name);
      for (let i = 0; i < names.length; i += 16) {
        await Promise.all(names.slice(i, i + 16).map((n) => container.deleteBlob(n, { deleteSnapshots: 'include' })));
      }
    }
  }
}
