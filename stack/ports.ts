/** The local stack's ports: read from the environment, checked free before anything starts. */
import { readFileSync } from 'node:fs';
import { assertPortFree } from './services/process';
import { StackError } from './settings';

export interface StackPorts {
  postgres: number;
  temporal: number;
  temporalUi: number;
  azurite: number;
  smtp: number;
  inbox: number;
  emulator: number;
}

const PORTS: { key: keyof StackPorts; env: string; fallback: number; what: string }[] = [
  { key: 'postgres', env: 'STACK_PG_PORT', fallback: 5433, what: 'embedded PostgreSQL' },
  { key: 'temporal', env: 'STACK_TEMPORAL_PORT', fallback: 7233, what: 'Temporal gRPC' },
  { key: 'temporalUi', env: 'STACK_TEMPORAL_UI_PORT', fallback: 8233, what: 'Temporal Web UI' },
  { key: 'azurite', env: 'STACK_AZURITE_PORT', fallback: 10000, what: 'Azurite blob service' },
  { key: 'smtp', env: 'STACK_SMTP_PORT', fallback: 1025, what: 'maildev SMTP' },
  { key: 'inbox', env: 'STACK_INBOX_PORT', fallback: 1080, what: 'maildev web inbox' },
  { key: 'emulator', env: 'STACK_EMULATOR_PORT', fallback: 4010, what: 'platform emulator' },
];

export function stackPorts(env: NodeJS.ProcessEnv = process.env): StackPorts {
  const ports = {} as StackPorts;
  for (const p of PORTS) {
    const raw = env[p.env];
    if (raw === undefined || raw === '') {
      ports[p.key] = p.fallback;
      continue;
    }
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > 65535) throw new StackError(`${p.env}=${JSON.stringify(raw)} must be a port number from 1 to 65535`);
    ports[p.key] = n;
  }
  const seen = new Map<number, string>();
  for (const p of PORTS) {
    if (p.key === 'postgres' && env.DATABASE_URL) continue;
    const other = seen.get(ports[p.key]);
    if (other) throw new StackError(`${p.env} and ${other} both name port ${ports[p.key]}`);
    seen.set(ports[p.key], p.env);
  }
  return ports;
}

export async function assertPortsFree(ports: StackPorts, embeddedPg: boolean, pidFile: string): Promise<void> {
  const busy: string[] = [];
  for (const p of PORTS) {
    if (p.key === 'postgres' && !embeddedPg) continue;
    await assertPortFree(ports[p.key], p.what).catch(() => busy.push(`${ports[p.key]} (${p.what}, ${p.env})`));
  }
  if (busy.length === 0) return;
  const previous = runningStackPid(pidFile);
  const hint = previous
    ? `a previous stack (\`npm run stack\` or \`npm run demo\`, pid ${previous}) is still running: stop it with Ctrl-C in its terminal (or \`kill -INT ${previous}\`)`
    : 'stop what holds them, or choose other ports with the variables named';
  throw new StackError(`cannot start the local stack: port${busy.length > 1 ? 's' : ''} already in use: ${busy.join(', ')}; ${hint}`);
}

function runningStackPid(pidFile: string): number | null {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}
