/** PostgreSQL helpers for tests: the server's admin URL and uniquely named scratch databases. */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The superuser URL from DATABASE_URL; fails with a clear message when it is not set. */
export function adminUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error('DATABASE_URL is not set: run tests as DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx --test <file>');
  }
  return url;
}

/** A database name unique to this run: `<prefix>_<pid>_<random>`. */
export function uniqueDbName(prefix: string): string {
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(prefix)) throw new Error(`invalid database name prefix ${JSON.stringify(prefix)}`);
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export function databaseUrl(admin: string, db: string): string {
  const u = new URL(admin);
  u.pathname = `/${db}`;
  return u.toString();
}

/** `db` on the same server, connecting as `user` with `password` instead of the admin. */
export function loginUrl(admin: string, db: string, user: string, password: string): string {
  const u = new URL(databaseUrl(admin, db));
  u.username = user;
  u.password = password;
  return u.toString();
}

export async function dropDatabase(admin: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name ${JSON.stringify(name)}`);
  const c = new Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

/** Run one query on `db` with a short-lived connection. */
export async function queryDb<T extends Record<string, unknown> = Record<string, unknown>>(
  admin: string,
  db: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new Client({ connectionString: databaseUrl(admin, db) });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}
