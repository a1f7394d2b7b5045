/** SIGKILL for worker processes, as a fleet's out-of-memory killer or a lost node does it. */
import type { ChildProcess } from 'node:child_process';

export function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
