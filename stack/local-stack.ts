/**
 * The local stack: everything a clone runs against on one machine, started in order, with a
 * worker built from configuration exactly as in production, and stopped in reverse order.
 *
 * Ports, each overridable by an environment variable:
 *   STACK_PG_PORT            5433   embedded PostgreSQL (unused when DATABASE_URL is set)
 *   STACK_TEMPORAL_PORT      7233   Temporal frontend (gRPC)
 *   STACK_TEMPORAL_UI_PORT   8233   Temporal Web UI
 *   STACK_AZURITE_PORT       10000  Azurite blob service
 *   STACK_SMTP_PORT          1025   maildev SMTP
 *   STACK_INBOX_PORT         1080   maildev web inbox and REST API
 *   STACK_EMULATOR_PORT      4010   platform emulator
 * Other variables:
 *   DATABASE_URL   superuser URL of a PostgreSQL server to use instead of the embedded one
 *   TASK_QUEUE     the worker's task queue (default tenant-clone)
 *   POLL_INTERVAL_MS, COPY_JOBS, ARCHIVE_COPY_CONCURRENCY, SANITIZATION_PROFILE(_POINT_IN_TIME), PG_BIN_DIR,
 *   PITR_RETENTION_PRODUCTION_DAYS, PITR_RETENTION_SANDBOX_DAYS
 *                  passed on to the worker's configuration when set
 *
 * The embedded PostgreSQL archives its WAL with pgBackRest (installed when missing and possible)
 * into a repository on an Azurite served over HTTPS, takes a first full backup, and a Temporal
 * Schedule backs it up nightly: point-in-time clones work as in production. Without pgBackRest
 * (or with DATABASE_URL), they are refused with the reason.
 *
 * State lives in .stack/: pg/ (embedded PostgreSQL and its backup settings, thrown away on stop), temporal.db,
 * azurite/, logs/ (one log per service; the previous run's as *.prev.log), env (for
 * `source .stack/env` in another terminal) and stack.pid while the stack runs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TenantCloneClient } from '../client';
import { AzureBlobArchives } from '../activities/archive/azure-blob';
import type { PostgresTenantDatabase } from '../activities/database/postgres/engine';
import { postgresEngine } from '../worker/postgres';
import { loadProfile, type SanitizationProfile } from '../activities/database/profile';
import { EmulatorAdmin } from '../emulator/admin-client';
import { ensureDatabase } from '../emulator/database';
import { startEmulator, type RunningEmulator } from '../emulator/server';
import { startWorker, type RunningWorker } from '../worker/build';
import { loadConfig, type Config } from '../worker/config';
import { fileLog, keepPreviousLogs } from './logs';
import { assertPortsFree, stackPorts, type StackPorts } from './ports';
import { seedDemo } from './seed/reseed-demo';
import { startStackAzurite } from './services/azurite';
import { startMaildev } from './services/maildev';
import { startArchivingPostgres } from './services/archiving-postgres';
import { ensurePgBackRest, type LocalContinuousBackup } from './services/continuous-backup';
import { startPostgres, type RunningPostgres } from './services/postgres';
import type { Child } from './services/process';
import { stopPostgres } from './services/stop-postgres';
import { startTemporalDev, temporalCliFound } from './services/temporal';
import { installWorkerRuntime } from './services/worker-runtime';
import { releaseSignalsFromEmbeddedPostgres } from './stop-signals';

// Imported from here by up.ts, demo.ts and anyone else who starts the stack.
export { stackPorts, type StackPorts } from './ports';
export { intFromEnv, StackError } from './settings';
export { onStopSignals } from './stop-signals';

export const REPO_ROOT = path.join(__dirname, '..');
const EMULATOR_DATABASE = 'tenant_clone_platform';

/** Worker settings a developer may tune from the shell; everything else the stack decides. */
const PASSED_TO_WORKER = [
  'POLL_INTERVAL_MS',
  'COPY_JOBS',
  'ARCHIVE_COPY_CONCURRENCY',
  'SANITIZATION_PROFILE',
  'SANITIZATION_PROFILE_POINT_IN_TIME',
  'PG_BIN_DIR',
  'QUERY_ROLE',
  'PITR_RETENTION_PRODUCTION_DAYS',
  'PITR_RETENTION_SANDBOX_DAYS',
] as const;

export interface LocalStackOptions {
  /** Where ports, DATABASE_URL and worker settings are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default <repo>/.stack. */
  stackDir?: string;
  /** Progress lines while starting and stopping; default console.log. */
  log?: (line: string) => void;
}

export interface LocalStack {
  ports: StackPorts;
  temporalAddress: string;
  taskQueue: string;
  webUiUrl: string;
  inboxUrl: string;
  emulatorUrl: string;
  /** Superuser URL of the PostgreSQL server holding the tenant databases. */
  adminUrl: string;
  embeddedPostgres: boolean;
  /** The tenant server archives its WAL into a pgBackRest repository: point-in-time clones work. */
  continuousBackup: boolean;
  /** The worker's configuration (holds the generated secrets: keep it in this process). */
  config: Config;
  profile: SanitizationProfile;
  client: TenantCloneClient;
  admin: EmulatorAdmin;
  archives: AzureBlobArchives;
  db: PostgresTenantDatabase;
  /** The file a second terminal sources: TEMPORAL_ADDRESS, TASK_QUEUE, TEMPORAL_NAMESPACE. */
  envFile: string;
  logDir: string;
  /** The Web UI page of a workflow. */
  workflowUrl(workflowId: string): string;
  /** (Re)seed the demo world over whatever the stack holds: the same world every time. */
  seedDemo(opts?: { persons?: number; documents?: number }): Promise<void>;
  /** Stop everything, in the reverse order of starting. Safe to call more than once. */
  stop(): Promise<void>;
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => console.log(line));
  const stackDir = opts.stackDir ?? path.join(REPO_ROOT, '.stack');
  const logDir = path.join(stackDir, 'logs');
  const pidFile = path.join(stackDir, 'stack.pid');
  const ports = stackPorts(env);
  const externalPg = env.DATABASE_URL || undefined;

  await assertPortsFree(ports, !externalPg, pidFile);
  mkdirSync(stackDir, { recursive: true });
  keepPreviousLogs(logDir);
  writeFileSync(pidFile, `${process.pid}\n`);
  releaseSignalsFromEmbeddedPostgres();

  // Everything started so far, stopped in reverse order by stop() or when a later start fails.
  const started: { name: string; stop: () => Promise<void> }[] = [];
  const children: Child[] = [];
  // A last resort if this process exits without stop(): the child services must not outlive it.
  const killChildren = () => children.forEach((c) => c.process.exitCode === null && c.process.kill('SIGTERM'));
  process.on('exit', killChildren);
  let stopping: Promise<void> | null = null;
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const s of started.reverse()) {
        try {
          await s.stop();
          log(`  stopped ${s.name}`);
        } catch (err) {
          log(`  stopping ${s.name} failed: ${(err as Error).message}`);
        }
      }
      process.off('exit', killChildren);
      rmSync(pidFile, { force: true });
    })());
  const child = (c: Child, name: string) => {
    children.push(c);
    started.push({ name, stop: () => c.stop() });
  };

  try {
    // 1. PostgreSQL
    const pgDir = path.join(stackDir, 'pg');
    if (externalPg) {
      log(`PostgreSQL: using DATABASE_URL (${redactUrl(externalPg)})`);
    } else {
      // The embedded server is thrown away on stop; a directory left here means a run was killed.
      if (existsSync(pgDir)) {
        log(`PostgreSQL: removing ${pgDir} left by a run that did not stop cleanly`);
        rmSync(pgDir, { recursive: true, force: true });
      }
      log(`PostgreSQL: starting the embedded server on port ${ports.postgres} (${pgDir})`);
    }
    let pgServer: RunningPostgres;
    let continuous: LocalContinuousBackup | null = null;
    const pgbackrest = externalPg ? null : await ensurePgBackRest(log);
    if (pgbackrest) {
      log('PostgreSQL: WAL archiving with pgBackRest into a repository on Azurite over HTTPS, and a first full backup');
      const archiving = await startArchivingPostgres({ dir: pgDir, port: ports.postgres, pgbackrest });
      pgServer = archiving.postgres;
      continuous = archiving.backup;
      started.push({
        name: 'PostgreSQL and its backup repository',
        stop: async () => {
          await stopPostgres(archiving.postgres, ports.postgres, archiving.dataDir);
          await archiving.backup.stop();
          rmSync(pgDir, { recursive: true, force: true });
        },
      });
    } else {
      if (!externalPg) log('PostgreSQL: pgbackrest is not installed, so point-in-time clones are refused (Debian: apt-get install pgbackrest)');
      pgServer = await startPostgres({ dataDir: pgDir, port: ports.postgres, url: externalPg });
      started.push({ name: 'PostgreSQL', stop: () => stopPostgres(pgServer, ports.postgres, pgDir) });
    }
    const adminUrl = pgServer.url;

    // 2. Temporal
    if (!temporalCliFound(env)) {
      log('Temporal: the CLI is not installed yet; temporal-dev.sh installs it now with `go install` (takes a few minutes, once)');
    }
    log(`Temporal: starting the dev server on port ${ports.temporal}, Web UI on ${ports.temporalUi}`);
    child(
      await startTemporalDev({ port: ports.temporal, uiPort: ports.temporalUi, dbFile: path.join(stackDir, 'temporal.db'), logDir }),
      'Temporal dev server',
    );

    // 3. Azurite
    log(`Azurite: starting the blob service on port ${ports.azurite} (${path.join(stackDir, 'azurite')})`);
    const azurite = await startStackAzurite({ port: ports.azurite, dataDir: path.join(stackDir, 'azurite'), logDir });
    child(azurite.child, 'Azurite');

    // 4. maildev
    log(`maildev: SMTP on port ${ports.smtp}, inbox on ${ports.inbox}`);
    child(await startMaildev({ smtpPort: ports.smtp, webPort: ports.inbox, logDir }), 'maildev');

    // 5. Platform emulator, in this process, on its own database of the same server.
    const emulatorDbUrl = databaseUrl(adminUrl, EMULATOR_DATABASE);
    await ensureDatabase(emulatorDbUrl);
    const webhookSecret = randomBytes(24).toString('base64url');
    const emulatorLog = fileLog(path.join(logDir, 'emulator.log'));
    let emulator: RunningEmulator;
    try {
      emulator = await startEmulator({ databaseUrl: emulatorDbUrl, port: ports.emulator, webhookSecret, log: emulatorLog.write });
    } catch (err) {
      emulatorLog.close();
      throw err;
    }
    started.push({ name: 'platform emulator', stop: () => emulator.close().finally(() => emulatorLog.close()) });
    log(`platform emulator: ${emulator.url} (database ${EMULATOR_DATABASE})`);

    // 6. Worker, in this process, configured from an environment like a deployed one.
    const temporalAddress = `127.0.0.1:${ports.temporal}`;
    // A Temporal profile (@temporalio/envconfig's TOML) for the stack, which the worker, the
    // command line and the temporal CLI all read.
    const temporalProfile = path.join(stackDir, 'temporal.toml');
    writeFileSync(temporalProfile, `# Written by the local stack.\n[profile.default]\naddress = "${temporalAddress}"\nnamespace = "default"\n`);
    const workerEnv: NodeJS.ProcessEnv = {
      // The local dev server, whatever Temporal profile the developer's own config file sets.
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_CONFIG_FILE: temporalProfile,
      TASK_QUEUE: env.TASK_QUEUE || 'tenant-clone',
      TENANT_DB_URL: adminUrl,
      TENANT_LOGIN_PASSWORD: randomBytes(18).toString('base64url'),
      PLATFORM_URL: emulator.url,
      WEBHOOK_SIGNING_SECRET: webhookSecret,
      ARCHIVE_AZURE_CONNECTION: azurite.connectionString,
      ARCHIVE_SOARC_CONNECTION: azurite.secondConnectionString,
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(ports.smtp),
      SMTP_FROM: 'tenant-clone@localhost',
      // The emulator answers at once: poll it briskly so the demo does not idle.
      POLL_INTERVAL_MS: '250',
      ...(continuous ? { ...continuous.workerSettings, PG_SCRATCH_DIR: path.join(stackDir, 'scratch') } : {}),
    };
    for (const key of PASSED_TO_WORKER) if (env[key]) workerEnv[key] = env[key];
    const config = loadConfig(workerEnv);
    const workerLog = installWorkerRuntime(path.join(logDir, 'worker.log'));
    const worker: RunningWorker = await startWorker(config);
    started.push({ name: 'worker', stop: () => withTimeout(worker.shutdown(), 20_000, 'worker shutdown').finally(() => workerLog?.close()) });
    log(`worker: serving task queue ${config.TASK_QUEUE} (log ${path.join(logDir, 'worker.log')})`);

    const client = await TenantCloneClient.connect({ env: workerEnv, taskQueue: config.TASK_QUEUE });
    started.push({ name: 'client connection', stop: () => client.close() });
    if (continuous) {
      const schedule = await client.scheduleServerBackups();
      log(`server backups: Temporal Schedule ${schedule}, every night at 01:00 UTC (full weekly, differential between)`);
    }
    const db = await postgresEngine(config);
    started.push({ name: 'database connections', stop: () => db.close() });
    const archives = new AzureBlobArchives({ azure: config.ARCHIVE_AZURE_CONNECTION, soarc: config.ARCHIVE_SOARC_CONNECTION });
    const admin = new EmulatorAdmin(emulator.url);

    const envFile = path.join(stackDir, 'env');
    writeFileSync(
      envFile,
      [
        '# Written by the local stack (stack/local-stack.ts): `source .stack/env`, then bin/tenant-clone.',
        `export TEMPORAL_ADDRESS=${temporalAddress}`,
        'export TEMPORAL_NAMESPACE=default',
        // The stack's own Temporal profile: the plaintext dev server, whatever profile the shell had.
        `export TEMPORAL_CONFIG_FILE=${temporalProfile}`,
        'unset TEMPORAL_PROFILE TEMPORAL_API_KEY TEMPORAL_TLS TEMPORAL_TLS_CLIENT_CERT_PATH TEMPORAL_TLS_CLIENT_KEY_PATH TEMPORAL_TLS_SERVER_CA_CERT_PATH TEMPORAL_TLS_SERVER_NAME',
        `export TASK_QUEUE=${config.TASK_QUEUE}`,
        '',
      ].join('\n'),
    );

    const webUiUrl = `http://127.0.0.1:${ports.temporalUi}`;
    return {
      ports,
      temporalAddress,
      taskQueue: config.TASK_QUEUE,
      webUiUrl,
      inboxUrl: `http://127.0.0.1:${ports.inbox}`,
      emulatorUrl: emulator.url,
      adminUrl,
      embeddedPostgres: pgServer.embedded,
      continuousBackup: continuous !== null,
      config,
      profile: loadProfile(config.SANITIZATION_PROFILE),
      client,
      admin,
      archives,
      db,
      envFile,
      logDir,
      workflowUrl: (workflowId) => `${webUiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`,
      seedDemo: async (o = {}) => {
        await seedDemo({ client, admin, archives, adminUrl, log, connections: [azurite.connectionString, azurite.secondConnectionString], ...o });
        if (!continuous) return;
        // The demo's databases are newer than the first backup: a backup that holds them lets a
        // point-in-time clone restore acme alone instead of the whole server.
        const handle = await client.backupServer('diff');
        log(`server backup: differential, after seeding (workflow ${handle.workflowId})`);
        await handle.result();
      },
      stop: stopAll,
    };
  } catch (err) {
    log(`start failed: ${(err as Error).message}`);
    await stopAll();
    throw err;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took more than ${ms / 1000}s`)), ms);
    }),
  ]);
}

function databaseUrl(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
