/** Stopping the stack's PostgreSQL, including when a terminal's Ctrl-C already stopped it. */
import { rmSync } from 'node:fs';
import net from 'node:net';
import type { RunningPostgres } from './postgres';

/**
 * The embedded server's stop() waits for an exit event; if a terminal's Ctrl-C already stopped
 * PostgreSQL, that event has passed and stop() would wait forever. Once the port is closed, give
 * it a moment, then finish its job (the embedded data directory is thrown away).
 */
export async function stopPostgres(pg: RunningPostgres, port: number, dataDir: string): Promise<void> {
  if (!pg.embedded) return pg.stop();
  let done = false;
  const stopped = pg.stop().finally(() => (done = true));
  const until = Date.now() + 30_000;
  while (!done && Date.now() < until) {
    if (!(await portOpen(port))) {
      await Promise.race([stopped, sleep(1500)]);
      break;
    }
    await sleep(200);
  }
  if (!done) rmSync(dataDir, { recursive: true, force: true });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
