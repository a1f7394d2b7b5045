/**
 * Runs pg_dump / pg_restore / pgbackrest as a process group, streaming stderr lines to a callback, so a
 * cancelled copy can kill the tool together with its parallel worker processes.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  /** The OS account to run as (a worker running as root runs server tools as the server's owner). */
  account?: OsAccount;
  cwd?: string;
  /** Told the process group's id once it runs, so a later attempt can stop a tool this one's crash left running. */
  onSpawn?: (pid: number) => void;
}

export interface OsAccount {
  uid: number;
  gid: number;
}

export function abortError(signal: AbortSignal | undefined, what: string): Error {
  const reason = signal?.reason instanceof Error ? `: ${signal.reason.message}` : '';
  const err = new Error(`${what} aborted${reason}`);
  err.name = 'AbortError';
  return err;
}

export function runTool(command: string, args: string[], opts: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(abortError(opts.signal, command));
    const child = spawn(command, args, { env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd, ...opts.account });
    if (child.pid) opts.onSpawn?.(child.pid);
    const tail: string[] = [];
    let stdout = '';
    let pending = '';
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        opts.onLine?.(line);
      }
    });
    child.on('error', (err) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.on('close', (code, sig) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (pending) {
        tail.push(pending);
        opts.onLine?.(pending);
      }
      if (aborted) return reject(abortError(opts.signal, command));
      if (code === 0) return resolve(stdout);
      const errors = tail.filter(
        (l) =>
          !/^\S+: (processing|launching|finished|creating|dumping|reading|identifying|last built-in|saving|implied|connecting|executing|entering|processing item|restoring)/.test(
            l,
          ),
      );
      reject(new Error(`${command} failed (${sig ?? `exit code ${code}`}): ${(errors.length ? errors : tail).slice(-5).join(' | ')}`));
    });
  });
}
