/** The Temporal runtime of the worker the stack runs in its own process. */
import { createWriteStream } from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';

/** The worker's SDK logs go to a file, so the terminal shows only the stack and the clone. */
export function installWorkerRuntime(file: string): { close(): void } | null {
  const out = createWriteStream(file, { flags: 'a' });
  try {
    Runtime.install({
      logger: new DefaultLogger('INFO', (e) => {
        const meta = e.meta && Object.keys(e.meta).length ? ` ${safeJson(e.meta)}` : '';
        out.write(`${new Date(Number(e.timestampNanos / 1_000_000n)).toISOString()} ${e.level} ${e.message}${meta}\n`);
      }),
      telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'WARN' } } },
      // The stack's own signal handling stops the worker, in order with the rest.
      shutdownSignals: [],
    });
  } catch {
    // A runtime is already installed in this process (a second stack): keep using it.
    out.end();
    return null;
  }
  return { close: () => out.end() };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
  } catch {
    return '';
  }
}
