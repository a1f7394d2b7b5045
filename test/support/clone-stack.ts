/**
 * Everything a clone runs against, for one test suite: a real Temporal dev server, PostgreSQL
 * (DATABASE_URL), Azurite, an SMTP server, the platform emulator over HTTP, the demo world
 * seeded into them, and a worker built from configuration exactly as in production.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../stack/services/process';
import { startTemporalDev } from '../../stack/services/temporal';
import { TenantCloneClient } from '../../client';
import { AzureBlobArchives } from '../../activities/archive/azure-blob';
import { PostgresTenantDatabase } from '../../activities/database/postgres/engine';
import { loadProfile, type SanitizationProfile } from '../../activities/database/profile';
import type { EmulatorAdmin } from '../../emulator/admin-client';
import { seedDemoWorld, type DemoWorldOptions } from '../../stack/seed/demo-world';
import { startWorker, type RunningWorker } from '../../worker/build';
import { loadConfig, type Config } from '../../worker/config';
import { startAzurite, type AzuriteHandle } from '../../stack/services/ephemeral-azurite';
import { startTestEmulator, type TestEmulator } from './emulator';
import { adminUrl } from './postgres';
import { startTestArchivingServer, type TestArchivingServer } from './archiving-postgres';
import { startSmtpCapture, type SmtpCapture } from './smtp';
import { logFd, sendSdkLogsToFile } from './logs';
import { startTemporal } from './temporal';

/** The Temporal server of a stack: ephemeral, or persisted to a file so it can be restarted. */
export interface TemporalServer {
  address: string;
  /** Its Web UI (persistent servers only). */
  uiUrl: string | null;
  teardown(): Promise<void>;
  /** Stop the server and start it again on the same port and state file (persistent only). */
  restart(): Promise<void>;
}

export interface CloneStackOptions {
  /** A dev server persisting to a file (temporal-dev.sh), so a test can restart it; it has a Web UI. */
  persistentTemporal?: boolean;
  /** The persistent server's Web UI: on this port, decoding payloads at this codec server. */
  webUi?: { port: number; codecEndpoint?: string };
  /**
   * The tenants live on a server of their own that archives its WAL with pgBackRest (the
   * point-in-time plan's continuous backup), instead of on DATABASE_URL's.
   */
  continuousBackup?: boolean;
  /** More settings for the worker and the stack's client (e.g. PAYLOAD_ENCRYPTION_KEYS). */
  env?: Record<string, string>;
}

export interface CloneStack {
  env: TemporalServer;
  client: TenantCloneClient;
  admin: EmulatorAdmin;
  archives: AzureBlobArchives;
  /** The engine, for assertions on the databases. */
  db: PostgresTenantDatabase;
  profile: SanitizationProfile;
  smtp: SmtpCapture;
  emulator: TestEmulator;
  /** The tenants' archiving server, with `continuousBackup`. */
  archiving: TestArchivingServer | null;
  azurite: AzuriteHandle;
  config: Config;
  adminUrl: string;
  worker: RunningWorker;
  /** Seed the demo world again (a fresh acme and acme-sandbox). */
  reseed(opts?: { persons?: number; documents?: number; taskDurationMs?: number; tenants?: DemoWorldOptions['tenants'] }): Promise<void>;
  /** Stop the worker and start another (e.g. with other configuration). */
  restartWorker(overrides?: Partial<Record<keyof Config, string>>): Promise<void>;
  /** Stop the in-process worker (e.g. to run workers as separate processes instead). */
  stopWorker(): Promise<void>;
  /** A worker as its own process (`worker/main.ts`), configured like the in-process one; it can be SIGKILLed. */
  spawnWorker(overrides?: Partial<Record<keyof Config, string>>): Promise<ChildProcess>;
  stop(): Promise<void>;
}

async function startTemporalServer(persistent: boolean, webUi?: CloneStackOptions['webUi']): Promise<TemporalServer> {
  if (!persistent) {
    const env = await startTemporal();
    return {
      address: env.address,
      uiUrl: null,
      teardown: () => env.teardown(),
      restart: () => Promise.reject(new Error('the ephemeral test server cannot be restarted: use persistentTemporal')),
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'tc-temporal-'));
  const opts = {
    port: await freePort(),
    uiPort: webUi?.port ?? (await freePort()),
    dbFile: path.join(dir, 'temporal.db'),
    logDir: dir,
    uiCodecEndpoint: webUi?.codecEndpoint,
  };
  let child = await startTemporalDev(opts);
  return {
    address: `127.0.0.1:${opts.port}`,
    uiUrl: `http://127.0.0.1:${opts.uiPort}`,
    teardown: () => child.stop(),
    async restart() {
      await child.stop();
      child = await startTemporalDev(opts);
    },
  };
}

export async function startCloneStack(options: CloneStackOptions = {}): Promise<CloneStack> {
  sendSdkLogsToFile();
  const started = await Promise.allSettled([
    startTemporalServer(options.persistentTemporal ?? options.webUi !== undefined, options.webUi),
    startAzurite(),
    startSmtpCapture(),
    startTestEmulator({ operationDelayMs: 150 }),
    options.continuousBackup ? startTestArchivingServer() : Promise.resolve(null),
  ] as const);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    // Stop what did start, so a failed start leaves no server or database behind.
    await Promise.allSettled(
      started.map((r) =>
        r.status === 'fulfilled' && r.value ? ('teardown' in r.value ? r.value.teardown() : 'close' in r.value ? r.value.close() : r.value.stop()) : undefined,
      ),
    );
    throw (failed as PromiseRejectedResult).reason;
  }
  const [env, azurite, smtp, emulator, archiving] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    TemporalServer,
    AzuriteHandle,
    SmtpCapture,
    TestEmulator,
    TestArchivingServer | null,
  ];
  const pgUrl = archiving?.url ?? adminUrl();
  const baseEnv = {
    ...archiving?.settings,
    TEMPORAL_ADDRESS: env.address,
    TASK_QUEUE: 'tenant-clone-test',
    TENANT_DB_URL: pgUrl,
    TENANT_LOGIN_PASSWORD: 'test-login-password-123',
    PLATFORM_URL: emulator.url,
    WEBHOOK_SIGNING_SECRET: emulator.webhookSecret,
    ARCHIVE_AZURE_CONNECTION: azurite.connectionString,
    ARCHIVE_SOARC_CONNECTION: azurite.secondConnectionString,
    SMTP_HOST: smtp.host,
    SMTP_PORT: String(smtp.port),
    POLL_INTERVAL_MS: '100',
    ...options.env,
  };
  let config = loadConfig(baseEnv);
  const profile = loadProfile(config.SANITIZATION_PROFILE);
  const archives = new AzureBlobArchives({ azure: config.ARCHIVE_AZURE_CONNECTION, soarc: config.ARCHIVE_SOARC_CONNECTION });
  const db = new PostgresTenantDatabase({ adminUrl: pgUrl, loginPassword: config.TENANT_LOGIN_PASSWORD });
  const client = await TenantCloneClient.connect({ env: baseEnv, taskQueue: config.TASK_QUEUE });
  let worker = await startWorker(config);
  const children: ChildProcess[] = [];

  const stack: CloneStack = {
    env,
    client,
    admin: emulator.admin,
    archives,
    db,
    profile,
    smtp,
    emulator,
    azurite,
    archiving,
    config,
    adminUrl: pgUrl,
    worker,
    async reseed(opts = {}) {
      // A test that failed mid-clone must not take the next ones down with it.
      await endLeftoverClones(client);
      await seedDemoWorld({
        adminUrl: pgUrl,
        admin: emulator.admin,
        archives,
        persons: opts.persons ?? 300,
        documents: opts.documents ?? 12,
        taskDurationMs: opts.taskDurationMs ?? 400,
        tenants: opts.tenants,
      });
      smtp.messages.length = 0;
    },
    async restartWorker(overrides = {}) {
      await worker.shutdown();
      config = loadConfig({ ...baseEnv, ...overrides });
      worker = await startWorker(config);
      stack.worker = worker;
      stack.config = config;
    },
    async stopWorker() {
      await worker.shutdown();
    },
    async spawnWorker(overrides = {}) {
      const root = path.join(__dirname, '..', '..');
      const log = logFd();
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'worker', 'main.ts')], {
        cwd: root,
        env: { ...process.env, ...baseEnv, ...overrides },
        stdio: ['ignore', log, log],
      });
      closeSync(log);
      children.push(child);
      return child;
    },
    async stop() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await worker.shutdown().catch(() => undefined);
      await client.close();
      await db.close();
      await Promise.allSettled([env.teardown(), azurite.close(), smtp.close(), emulator.close(), archiving?.stop()]);
    },
  };
  return stack;
}

/** Terminate clones still running from an earlier test (one that failed before its clone ended). */
async function endLeftoverClones(client: TenantCloneClient): Promise<void> {
  for await (const wf of client.client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
    if (wf.type !== 'cloneTenant' && wf.type !== 'backupTenant') continue;
    await client.client.workflow
      .getHandle(wf.workflowId, wf.runId)
      .terminate('left running by an earlier test')
      .catch(() => undefined);
  }
}
