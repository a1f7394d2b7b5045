/**
 * Azurite's blob service for the local stack: a fixed port and state on disk, so the archives
 * seeded by one run are still there for the next and for `bin/tenant-clone` in another terminal.
 * It carries the same two accounts as the tests' Azurite, so cross-account copies are real.
 */
import { mkdirSync } from 'node:fs';
import { AZURITE_ACCOUNT, AZURITE_KEY, AZURITE_SECOND_ACCOUNT, AZURITE_SECOND_KEY, azuriteConnectionString } from './azurite-accounts';
import { startChild, waitForPort, type Child } from './process';

export interface StackAzurite {
  child: Child;
  port: number;
  /** Connection string of the well-known dev account (the `azure` archive system). */
  connectionString: string;
  /** Connection string of the second account (the `soarc` archive system). */
  secondConnectionString: string;
  stop(): Promise<void>;
}

export async function startStackAzurite(opts: { port: number; dataDir: string; logDir: string }): Promise<StackAzurite> {
  mkdirSync(opts.dataDir, { recursive: true });
  const main = require.resolve('azurite/dist/src/blob/main.js');
  const child = startChild(
    'azurite',
    process.execPath,
    [main, '--blobHost', '127.0.0.1', '--blobPort', String(opts.port), '--location', opts.dataDir, '--skipApiVersionCheck', '--loose', '--disableTelemetry'],
    opts.logDir,
    { ...process.env, AZURITE_ACCOUNTS: `${AZURITE_ACCOUNT}:${AZURITE_KEY};${AZURITE_SECOND_ACCOUNT}:${AZURITE_SECOND_KEY}` },
  );
  try {
    await waitForPort(opts.port, child, 30_000);
    await waitUntilServing(`http://127.0.0.1:${opts.port}/${AZURITE_ACCOUNT}`, child, 30_000);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return {
    child,
    port: opts.port,
    connectionString: azuriteConnectionString(opts.port, AZURITE_ACCOUNT, AZURITE_KEY),
    secondConnectionString: azuriteConnectionString(opts.port, AZURITE_SECOND_ACCOUNT, AZURITE_SECOND_KEY),
    stop: () => child.stop(),
  };
}

/** An open port is not yet a serving Azurite: wait for any HTTP answer (even 403 unsigned). */
async function waitUntilServing(url: string, child: Child, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null) throw new Error(`azurite exited with code ${child.process.exitCode}; see ${child.log}`);
    try {
      const res = await fetch(`${url}?comp=list`);
      await res.arrayBuffer();
      return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`Azurite at ${url} does not answer: ${(err as Error).message}; see ${child.log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
