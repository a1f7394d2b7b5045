/** A tenant server with a continuous backup (pgBackRest into Azurite over HTTPS), for the point-in-time tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findPgBackRest } from '../../stack/services/continuous-backup';
import { freePort } from '../../stack/services/process';
import { startArchivingPostgres, type ArchivingPostgres } from '../../stack/services/archiving-postgres';
import { runTool } from '../../activities/database/postgres/child-process';
import { serverAccount } from '../../activities/database/postgres/os-account';
import { PgBackRest, type StanzaInfo } from '../../activities/database/postgres/pgbackrest';
import { loadConfig, type Config } from '../../worker/config';

export interface TestArchivingServer extends ArchivingPostgres {
  /** Scratch servers of this suite's restores live here (checked empty after each restore). */
  scratchDir: string;
  /** Worker settings for this server and its repository. */
  settings: Record<string, string>;
  /** The worker's configuration for this server alone (platform settings are placeholders). */
  config(): Config;
  /** What the backup repository holds: its backup sets and the span of its archived WAL. */
  backupRepository(): Promise<Pick<StanzaInfo, 'sets' | 'archive'>>;
  /** `pgbackrest stop` makes every archive-push fail (as an operator's stop would); `start` undoes it. */
  pgbackrest(command: 'stop' | 'start'): Promise<void>;
}

export async function startTestArchivingServer(): Promise<TestArchivingServer> {
  const pgbackrest = await findPgBackRest();
  if (!pgbackrest)
    throw new Error(
      'pgbackrest is not installed: the point-in-time tests need it (Debian: apt-get install pgbackrest; `npm test` installs it when run as root)',
    );
  const dir = mkdtempSync(path.join(tmpdir(), 'tc-pitr-'));
  const server = await startArchivingPostgres({ dir, port: await freePort(), pgbackrest });
  const scratchDir = path.join(dir, 'scratch');
  const settings = { TENANT_DB_URL: server.url, PG_SCRATCH_DIR: scratchDir, ...server.backup.workerSettings };
  const account = await serverAccount(server.backup.workerSettings.PG_OS_USER ?? 'postgres');
  const repository = new PgBackRest({ stanza: server.backup.stanza, configFile: server.backup.configFile, account });
  return {
    ...server,
    scratchDir,
    settings,
    config: () =>
      loadConfig({
        ...settings,
        TENANT_LOGIN_PASSWORD: 'test-login-password-123',
        PLATFORM_URL: 'http://127.0.0.1:1',
        WEBHOOK_SIGNING_SECRET: 'unused-in-this-suite-0123',
        ARCHIVE_AZURE_CONNECTION: 'AccountName=unused;',
        ARCHIVE_SOARC_CONNECTION: 'AccountName=unused;',
      }),
    async pgbackrest(command) {
      await runTool(pgbackrest, [`--config=${server.backup.configFile}`, `--stanza=${server.backup.stanza}`, command], { env: process.env, account, cwd: '/' });
    },
    async backupRepository() {
      const { sets, archive } = await repository.info();
      return { sets, archive };
    },
  };
}
