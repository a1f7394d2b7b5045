/**
 * An embedded PostgreSQL that archives its write-ahead log into a pgBackRest repository (see
 * continuous-backup.ts), with its stanza created and a first full backup taken: a tenant server
 * whose tenants can be restored to any second since it started. The stack, the tests of the
 * point-in-time plan and its benchmark run their tenants on one.
 */
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { prepareContinuousBackup, type LocalContinuousBackup } from './continuous-backup';
import { startPostgres, type RunningPostgres } from './postgres';

export interface ArchivingPostgres {
  /** Superuser URL of the server's `postgres` database. */
  url: string;
  postgres: RunningPostgres;
  /** Its data directory. */
  dataDir: string;
  backup: LocalContinuousBackup;
  /** Stop the server, then its repository. */
  stop(): Promise<void>;
}

export async function startArchivingPostgres(o: { dir: string; port: number; pgbackrest: string }): Promise<ArchivingPostgres> {
  await mkdir(o.dir, { recursive: true });
  // The server's account (as root: another one) must be able to reach its folders inside.
  await chmod(o.dir, 0o755);
  const dataDir = path.join(o.dir, 'data');
  const backup = await prepareContinuousBackup({ dir: path.join(o.dir, 'backup'), dataDir, pgPort: o.port, pgbackrest: o.pgbackrest });
  let pg: RunningPostgres | null = null;
  try {
    pg = await startPostgres({
      dataDir,
      port: o.port,
      initdbFlags: backup.initdbFlags,
      postgresFlags: backup.postgresFlags,
      beforeStart: () => backup.ownFolders(),
    });
    await backup.activate();
  } catch (err) {
    await pg?.stop().catch(() => undefined);
    await backup.stop();
    throw err;
  }
  const server = pg;
  return {
    url: server.url,
    postgres: server,
    dataDir,
    backup,
    async stop() {
      await server.stop();
      await backup.stop();
    },
  };
}
