/** The Temporal dev server of the local stack, through temporal-dev.sh (which installs the CLI if needed). */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startChild, waitForPort, type Child } from './process';

const ROOT = path.join(__dirname, '..', '..');

export async function startTemporalDev(opts: { port: number; uiPort: number; dbFile: string; logDir: string; uiCodecEndpoint?: string }): Promise<Child> {
  const child = startChild(
    'temporal',
    'bash',
    [
      path.join(ROOT, 'temporal-dev.sh'),
      '--port',
      String(opts.port),
      '--ui-port',
      String(opts.uiPort),
      '--db-filename',
      opts.dbFile,
      ...(opts.uiCodecEndpoint ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : []),
    ],
    opts.logDir,
  );
  // The first run may build the CLI with `go install`: allow for it.
  await waitForPort(opts.port, child, 15 * 60_000);
  await waitForPort(opts.uiPort, child, 60_000);
  return child;
}

/** Same search as temporal-dev.sh, so the stack can warn before a long first install. */
export function temporalCliFound(env: NodeJS.ProcessEnv): boolean {
  if (env.TEMPORAL_CLI) return true;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) if (dir && existsSync(path.join(dir, 'temporal'))) return true;
  const cache = env.TENANT_CLONE_CACHE || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tenant-clone');
  return existsSync(path.join(cache, 'bin', 'temporal'));
}
