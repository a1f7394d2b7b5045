/** The `tenant-clone` command line run as a user runs it, against a test stack's Temporal server. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CloneStack } from './clone-stack';

const CLI = path.join(__dirname, '..', '..', 'bin', 'tenant-clone');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function cliFor(stack: () => CloneStack): (...args: string[]) => Promise<CliRun> {
  return async (...args) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(CLI, args, {
        env: { ...process.env, TEMPORAL_ADDRESS: stack().env.address, TASK_QUEUE: stack().config.TASK_QUEUE },
        maxBuffer: 16 * 1024 * 1024,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
}
