/** The stack's log files in .stack/logs: one per service, the previous run's kept as *.prev.log. */
import { createWriteStream, mkdirSync, readdirSync, renameSync, type WriteStream } from 'node:fs';
import path from 'node:path';

export function keepPreviousLogs(logDir: string): void {
  mkdirSync(logDir, { recursive: true });
  for (const f of readdirSync(logDir)) {
    if (f.endsWith('.log') && !f.endsWith('.prev.log')) renameSync(path.join(logDir, f), path.join(logDir, f.replace(/\.log$/, '.prev.log')));
  }
}

/** A timestamped line log appended to a file, for a service that runs inside this process. */
export function fileLog(file: string): { write: (line: string) => void; close(): void } {
  mkdirSync(path.dirname(file), { recursive: true });
  const out: WriteStream = createWriteStream(file, { flags: 'a' });
  return { write: (line) => out.write(`${new Date().toISOString()} ${line}\n`), close: () => out.end() };
}
