/**
 * Worker and SDK logs of a test file go to `.test-logs/<test file>.log`, so the console keeps
 * only the reporter's lines; a failing test's story is in that file.
 */
import { createWriteStream, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';

const DIR = path.join(__dirname, '..', '..', '.test-logs');

/** This test file's log file. */
export function testLogFile(): string {
  mkdirSync(DIR, { recursive: true });
  return path.join(DIR, `${path.basename(process.argv[1] ?? 'tests', '.ts')}.log`);
}

/** A file descriptor appending to the log file, for a child process's stdout and stderr. */
export function logFd(): number {
  return openSync(testLogFile(), 'a');
}

let installed = false;

/** Route the SDK's logs (in-process workers, replays) to the log file; once per process. */
export function sendSdkLogsToFile(): void {
  if (installed) return;
  installed = true;
  const out = createWriteStream(testLogFile(), { flags: 'a' });
  const line = (e: LogEntry) => {
    const at = new Date(Number(e.timestampNanos / 1_000_000n)).toISOString();
    out.write(`${at} [${e.level}] ${e.message}${e.meta && Object.keys(e.meta).length ? ` ${JSON.stringify(e.meta)}` : ''}\n`);
  };
  try {
    // Core's own logs (a replay's nondeterminism warnings among them) are forwarded to the file too.
    Runtime.install({ logger: new DefaultLogger('INFO', line), telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } } });
  } catch {
    // The runtime already exists (something made a native connection first): its logs stay where they go.
  }
}
