/**
 * Where a measurement's CPU went, on Linux: this process (the worker's code runs in it), the
 * tools it started (pg_dump, pg_restore), and the PostgreSQL server (its postmaster and every
 * backend, live or ended). On two shared cores a copy is bound by the sum, so the split says
 * which part to make cheaper. Empty where /proc or the server's data directory cannot be read
 * (a remote server, another OS): the benchmark then prints no split.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';

export interface CpuSeconds {
  worker: number;
  tools: number;
  server: number;
}

/** The fields of /proc/<pid>/stat after the command name: [state, ppid, …]. */
function statFields(pid: number | 'self'): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

// Indexes into statFields: utime, stime, cutime, cstime (fields 14–17 of proc(5)).
const UTIME = 11;

function ticksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
}

/** The server's CPU so far in clock ticks: its postmaster, what it reaped, and its live children. */
function serverTicks(postmaster: number): number {
  const own = statFields(postmaster);
  if (!own) throw new Error(`postmaster ${postmaster} is gone`);
  let ticks = Number(own[UTIME]) + Number(own[UTIME + 1]) + Number(own[UTIME + 2]) + Number(own[UTIME + 3]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f && Number(f[1]) === postmaster) ticks += Number(f[UTIME]) + Number(f[UTIME + 1]);
  }
  return ticks;
}

/** Starts a meter on the server of `adminUrl`; null where its CPU cannot be read from here. */
export async function cpuMeter(adminUrl: string): Promise<{ stop(): CpuSeconds } | null> {
  if (!statFields('self')) return null;
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  let postmaster: number;
  try {
    const dir = (await c.query<{ data_directory: string }>('SHOW data_directory')).rows[0].data_directory;
    postmaster = Number(readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!statFields(postmaster)) return null;
  } catch {
    return null;
  } finally {
    await c.end();
  }
  const hz = ticksPerSecond();
  const children = () => {
    const f = statFields('self')!;
    return Number(f[UTIME + 2]) + Number(f[UTIME + 3]);
  };
  const worker0 = process.cpuUsage();
  const tools0 = children();
  const server0 = serverTicks(postmaster);
  return {
    stop: () => {
      const w = process.cpuUsage(worker0);
      return { worker: (w.user + w.system) / 1e6, tools: (children() - tools0) / hz, server: (serverTicks(postmaster) - server0) / hz };
    },
  };
}

export function cpuLine(cpu: CpuSeconds): string {
  return `${(cpu.worker + cpu.tools + cpu.server).toFixed(1)} s (worker ${cpu.worker.toFixed(1)}, pg_dump/pg_restore ${cpu.tools.toFixed(1)}, database server ${cpu.server.toFixed(1)})`;
}
