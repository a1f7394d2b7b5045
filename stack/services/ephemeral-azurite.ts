/**
 * An Azurite blob service on a free port, in memory, gone after close(): for tests and
 * benchmarks, and (over HTTPS) for the continuous backup's repository.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AZURITE_ACCOUNT, AZURITE_KEY, AZURITE_SECOND_ACCOUNT, AZURITE_SECOND_KEY, azuriteConnectionString } from './azurite-accounts';

export interface AzuriteHandle {
  /** Connection string of the well-known dev account. */
  connectionString: string;
  /** Connection string of the second account on the same instance. */
  secondConnectionString: string;
  /** Blob endpoint of the dev account, e.g. http://127.0.0.1:12345/devstoreaccount1 */
  blobUrl: string;
  port: number;
  close(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 20_000;

export interface AzuriteOptions {
  /** Serve HTTPS with this certificate and key (PEM files) instead of HTTP. */
  tls?: { cert: string; key: string };
  /** Default 0: a free port. */
  port?: number;
}

/** Starts Azurite's blob service in a child process on a free port, in memory only. */
export async function startAzurite(opts: AzuriteOptions = {}): Promise<AzuriteHandle> {
  const main = require.resolve('azurite/dist/src/blob/main.js');
  // In-memory mode refuses --location, so the process runs in a scratch cwd in case it writes anything.
  const workdir = mkdtempSync(path.join(tmpdir(), 'azurite-'));
  const child = spawn(
    process.execPath,
    [
      main,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(opts.port ?? 0),
      ...(opts.tls ? ['--cert', opts.tls.cert, '--key', opts.tls.key] : []),
      '--inMemoryPersistence',
      '--extentMemoryLimit',
      '512',
      '--skipApiVersionCheck',
      '--loose',
      '--silent',
      '--disableTelemetry',
    ],
    {
      cwd: workdir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        AZURITE_ACCOUNTS: `${AZURITE_ACCOUNT}:${AZURITE_KEY};${AZURITE_SECOND_ACCOUNT}:${AZURITE_SECOND_KEY}`,
      },
    },
  );

  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within ${STARTUP_TIMEOUT_MS} ms: ${output}`)), STARTUP_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // Port 0 lets the OS choose; Azurite prints the address it actually bound.
      const m = /successfully listens on https?:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    const onExit = (code: number | null) => fail(new Error(`Azurite exited with code ${code} before starting: ${output}`));
    function fail(err: Error) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    }
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', fail);
  }).catch((err) => {
    rmSync(workdir, { recursive: true, force: true });
    throw err;
  });
  child.removeAllListeners('exit');
  // From here on its output is only drained, so a chatty server can never block on a full pipe.
  child.stdout!.removeAllListeners('data').resume();
  child.stderr!.removeAllListeners('data').resume();
  // If the test process dies without calling close(), the server must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const blobUrl = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  // A certificate this process does not trust fails fetch(); Azurite opens its port only once it serves.
  if (!opts.tls) await waitUntilAnswering(blobUrl);

  return {
    connectionString: azuriteConnectionString(port, AZURITE_ACCOUNT, AZURITE_KEY),
    secondConnectionString: azuriteConnectionString(port, AZURITE_SECOND_ACCOUNT, AZURITE_SECOND_KEY),
    blobUrl,
    port,
    close: async () => {
      process.off('exit', killOnExit);
      await stop(child, workdir);
    },
  };
}

async function waitUntilAnswering(blobUrl: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    try {
      // Any HTTP answer (even 403 for an unsigned request) means the service is serving.
      const res = await fetch(`${blobUrl}?comp=list`);
      await res.arrayBuffer();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Azurite at ${blobUrl} does not answer: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function stop(child: ChildProcess, workdir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(workdir, { recursive: true, force: true });
}
