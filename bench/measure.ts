/** Timing and the one line every benchmark prints: ours against the best primitive of the same run; running the primitives. */
import { spawn } from 'node:child_process';
export { freePort } from '../stack/services/process';

export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return [Number(process.hrtime.bigint() - start) / 1e9, result];
}

export function ratioLine(name: string, x: number, y: number): string {
  return `${name}: ${x.toFixed(2)} s vs baseline ${y.toFixed(2)} s, ratio ${(x / y).toFixed(2)}`;
}

/** PG* variables for the hand-run tools, from a server URL. */
export function pgEnv(adminUrl: string): NodeJS.ProcessEnv {
  const u = new URL(adminUrl);
  const env: NodeJS.ProcessEnv = { ...process.env, PGHOST: u.hostname, PGPORT: u.port || '5432', PGUSER: decodeURIComponent(u.username || 'postgres') };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  return env;
}

/** Run a tool to its end; its stderr tail is the error. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`))));
  });
}
