/** The Temporal dev server of the local stack, through temporal-dev.sh (which installs the CLI if needed). */
import path from 'node:path';
import { startChild, waitForPort, type Child } from './process';

const ROOT = path.join(__dirname, '..', '..');

export async function startTemporalDev(opts: { port: number; uiPort: number; dbFile: string; logDir: string }): Promise<Child> {
  const child = startChild(
    'temporal',
    'bash',
    [path.join(ROOT, 'temporal-dev.sh'), '--port', String(opts.port), '--ui-port', String(opts.uiPort), '--db-filename', opts.dbFile],
    opts.logDir,
  );
  // The first run may build the CLI with `go install`: allow for it.
  await waitForPort(opts.port, child, 15 * 60_000);
  await waitForPort(opts.uiPort, child, 60_000);
  return child;
}
