/** Child processes of the local stack: started with their output in a log file, stopped together. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface Child {
  name: string;
  process: ChildProcess;
  log: string;
  stop(): Promise<void>;
}

export function startChild(name: string, command: string, args: string[], logDir: string, env: NodeJS.ProcessEnv = process.env): Child {
  mkdirSync(logDir, { recursive: true });
  const log = path.join(logDir, `${name}.log`);
  const out = createWriteStream(log, { flags: 'a' });
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return {
    name,
    process: child,
    log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Resolve once something accepts TCP connections on the port; fail with the log's name if the child dies. */
export async function waitForPort(port: number, child: Child | null, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.process.exitCode !== null) throw new Error(`${child.name} exited with code ${child.process.exitCode}; see ${child.log}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until)
      throw new Error(`${child?.name ?? 'service'} did not open port ${port} within ${timeoutMs / 1000}s${child ? `; see ${child.log}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', () => reject(new Error(`port ${port} (${what}) is already in use: stop what holds it, or set a different port`)));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

/** A port nothing listens on now, chosen by the OS (for services of tests and benchmarks). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
