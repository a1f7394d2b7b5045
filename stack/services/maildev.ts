/** The demo's SMTP capture with a web inbox (maildev): every mail the clone sends lands there. */
import path from 'node:path';
import { startChild, waitForPort, type Child } from './process';

const BIN = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'maildev');

export async function startMaildev(opts: { smtpPort: number; webPort: number; logDir: string }): Promise<Child> {
  const child = startChild('maildev', BIN, ['--ip', '127.0.0.1', '--smtp', String(opts.smtpPort), '--web', String(opts.webPort), '--silent'], opts.logDir);
  await waitForPort(opts.smtpPort, child, 30_000);
  await waitForPort(opts.webPort, child, 30_000);
  return child;
}
