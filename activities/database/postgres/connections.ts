/**
 * One pg pool per database, all derived from the configured superuser URL by swapping the
 * database name. Pools of a database are closed before that database is renamed or dropped,
 * because PostgreSQL refuses both while sessions are connected.
 */
import { Pool, type PoolClient } from 'pg';
import { checkIdentifier } from './identifiers';

export class Connections {
  private readonly pools = new Map<string, Pool>();
  private readonly base: URL;
  readonly adminDatabase: string;

  constructor(readonly adminUrl: string) {
    let parsed: URL;
    try {
      parsed = new URL(adminUrl);
    } catch {
      throw new Error('invalid adminUrl: not a URL (expected postgres://user:password@host:port/database)');
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      throw new Error(`invalid adminUrl protocol ${JSON.stringify(parsed.protocol)}: expected postgres:`);
    }
    this.base = parsed;
    this.adminDatabase = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
  }

  /** The server URL with `db` as its database. */
  urlFor(db: string): string {
    const url = new URL(this.base.toString());
    url.pathname = `/${encodeURIComponent(db)}`;
    return url.toString();
  }

  admin(): Pool {
    return this.poolFor(this.adminDatabase, true);
  }

  /** Pool for a tenant database (validated name). */
  db(db: string): Pool {
    checkIdentifier('database name', db);
    return this.poolFor(db, false);
  }

  private poolFor(db: string, isAdmin: boolean): Pool {
    let pool = this.pools.get(db);
    if (!pool) {
      pool = new Pool({ connectionString: this.urlFor(db), max: isAdmin ? 4 : 3, idleTimeoutMillis: 10_000 });
      // Idle clients are killed when a database is dropped or renamed elsewhere; without a
      // listener that error would crash the process.
      pool.on('error', () => undefined);
      this.pools.set(db, pool);
    }
    return pool;
  }

  /** Close our own sessions on `db` (before rename/drop). */
  async release(db: string): Promise<void> {
    const pool = this.pools.get(db);
    if (pool) {
      this.pools.delete(db);
      await pool.end().catch(() => undefined);
    }
  }

  async closeAll(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  }

  /**
   * Environment for pg_dump / pg_restore: the connection travels in PG* variables so the
   * password never shows on a command line (visible to every local user via ps).
   */
  childEnv(db: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGSERVICE', 'PGSSLMODE']) delete env[k];
    const host = this.base.hostname.replace(/^\[(.*)\]$/, '$1');
    if (host) env.PGHOST = decodeURIComponent(host);
    if (this.base.port) env.PGPORT = this.base.port;
    if (this.base.username) env.PGUSER = decodeURIComponent(this.base.username);
    if (this.base.password) env.PGPASSWORD = decodeURIComponent(this.base.password);
    const sslmode = this.base.searchParams.get('sslmode');
    if (sslmode) env.PGSSLMODE = sslmode;
    env.PGDATABASE = db;
    env.PGAPPNAME = 'tenant-clone';
    return env;
  }
}

/** Run `fn` inside one transaction on a client of `pool`. */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
