/**
 * Connection pools per database, built from the admin URL (mssql://user:pass@host:port with
 * optional ?encrypt=&trustServerCertificate=, or an ADO-style connection string), and the one
 * place where a Batch is bound and executed.
 */
import sql from 'mssql';
import type { Batch, ParamType } from './tsql/batch';

const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export function parseAdminUrl(adminUrl: string): sql.config {
  if (typeof adminUrl !== 'string' || !adminUrl.trim()) throw new Error('MssqlTenantDatabase: adminUrl is required');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(adminUrl)) {
    let u: URL;
    try {
      u = new URL(adminUrl);
    } catch {
      throw new Error('MssqlTenantDatabase: adminUrl is not a valid URL');
    }
    if (u.protocol !== 'mssql:' && u.protocol !== 'sqlserver:')
      throw new Error(`MssqlTenantDatabase: unsupported adminUrl scheme ${JSON.stringify(u.protocol)}: use mssql://`);
    const flag = (name: string, dflt: boolean): boolean => {
      const v = u.searchParams.get(name);
      return v === null ? dflt : v === 'true' || v === '1';
    };
    return {
      server: u.hostname,
      port: u.port ? Number(u.port) : 1433,
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : 'master',
      requestTimeout: DEFAULT_REQUEST_TIMEOUT_MS,
      // A local test server has a self-signed certificate; production URLs set these explicitly.
      options: { encrypt: flag('encrypt', true), trustServerCertificate: flag('trustServerCertificate', true) },
    };
  }
  const parsed = sql.ConnectionPool.parseConnectionString(adminUrl);
  return { ...parsed, requestTimeout: parsed.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS };
}

const TYPES: Record<ParamType, () => sql.ISqlType> = {
  nvarchar: () => sql.NVarChar(sql.MAX),
  int: () => sql.Int(),
  bigint: () => sql.BigInt(),
  bit: () => sql.Bit(),
  float: () => sql.Float(),
};

export type Runner = sql.ConnectionPool | sql.Transaction;

/** Bind every parameter with its declared type and execute; returns all result sets. */
export function request(on: Runner, b: Batch): sql.Request {
  const req = new sql.Request(on as sql.ConnectionPool);
  for (const [name, p] of Object.entries(b.params)) req.input(name, TYPES[p.type](), p.value);
  return req;
}

export async function run<T = Record<string, unknown>>(on: Runner, b: Batch): Promise<sql.IResult<T>> {
  try {
    return await request(on, b).query<T>(b.text);
  } catch (err) {
    const e = err as Error;
    throw Object.assign(new Error(`${b.name}: ${e.message}`), { cause: err });
  }
}

export async function rows<T = Record<string, unknown>>(on: Runner, b: Batch): Promise<T[]> {
  return (await run<T>(on, b)).recordset ?? [];
}

export class Connections {
  private readonly pools = new Map<string, Promise<sql.ConnectionPool>>();

  constructor(readonly config: sql.config) {}

  /** Pool on `db` (master for server-level work). */
  db(db: string): Promise<sql.ConnectionPool> {
    let p = this.pools.get(db);
    if (!p) {
      p = new sql.ConnectionPool({ ...this.config, database: db }).connect();
      p.catch(() => this.pools.delete(db));
      this.pools.set(db, p);
    }
    return p;
  }

  master(): Promise<sql.ConnectionPool> {
    return this.db('master');
  }

  /** A fresh single-connection pool, so its session id is known and stable for progress polling. */
  async dedicated(db = 'master', requestTimeout = 0): Promise<sql.ConnectionPool> {
    return new sql.ConnectionPool({ ...this.config, database: db, requestTimeout, pool: { min: 0, max: 1 } }).connect();
  }

  /** Close our own pool on `db` (before a rename/drop/restore that needs it exclusively). */
  async release(db: string): Promise<void> {
    const p = this.pools.get(db);
    if (!p) return;
    this.pools.delete(db);
    await p.then((pool) => pool.close()).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const all = [...this.pools.keys()];
    await Promise.all(all.map((db) => this.release(db)));
  }
}

/** Run `fn` in a transaction (SERIALIZABLE when asked); rolls back on error. */
export async function inTransaction<T>(pool: sql.ConnectionPool, fn: (tx: sql.Transaction) => Promise<T>, serializable = false): Promise<T> {
  const tx = new sql.Transaction(pool);
  await tx.begin(serializable ? sql.ISOLATION_LEVEL.SERIALIZABLE : sql.ISOLATION_LEVEL.READ_COMMITTED);
  try {
    const out = await fn(tx);
    await tx.commit();
    return out;
  } catch (err) {
    await tx.rollback().catch(() => undefined);
    throw err;
  }
}
