/**
 * Server-level operations: databases and roles. Each is idempotent so a retried activity
 * converges on the same state instead of failing on "already exists".
 */
import type { Pool } from 'pg';
import { Connections } from './connections';
import { checkIdentifier, quoteIdent } from './identifiers';

export async function databaseExists(admin: Pool, db: string): Promise<boolean> {
  checkIdentifier('database name', db);
  const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
  return (r.rowCount ?? 0) > 0;
}

export async function databaseSize(admin: Pool, db: string): Promise<number> {
  if (!(await databaseExists(admin, db))) throw new Error(`database "${db}" does not exist`);
  const r = await admin.query<{ size: string }>('SELECT pg_database_size($1)::text AS size', [db]);
  return Number(r.rows[0].size);
}

/** Number of tables outside the system schemas. */
export async function userTableCount(pool: Pool): Promise<number> {
  const r = await pool.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
  );
  return Number(r.rows[0].n);
}

export async function createDatabase(conns: Connections, db: string): Promise<void> {
  const name = quoteIdent('database name', db);
  const admin = conns.admin();
  if (await databaseExists(admin, db)) {
    const tables = await userTableCount(conns.db(db));
    if (tables > 0) throw new Error(`cannot create database "${db}": it already exists and holds ${tables} tables`);
    return;
  }
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (err) {
    // A concurrent attempt created it between our check and CREATE: same outcome.
    if ((err as { code?: string }).code !== '42P04') throw err;
  }
}

async function terminateSessions(admin: Pool, db: string): Promise<void> {
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db]);
}

export async function renameDatabase(conns: Connections, from: string, to: string): Promise<void> {
  const fromName = quoteIdent('database name', from);
  const toName = quoteIdent('database name', to);
  if (from === conns.adminDatabase || to === conns.adminDatabase) {
    throw new Error(`cannot rename "${from}" to "${to}": the admin database "${conns.adminDatabase}" is not a tenant database`);
  }
  const admin = conns.admin();
  const [fromExists, toExists] = [await databaseExists(admin, from), await databaseExists(admin, to)];
  if (!fromExists && toExists) return; // already renamed by an earlier attempt
  if (!fromExists) throw new Error(`cannot rename database "${from}": it does not exist (nor does "${to}")`);
  if (toExists) throw new Error(`cannot rename database "${from}" to "${to}": "${to}" already exists`);
  await conns.release(from);
  // A client may reconnect between terminate and ALTER; retry a few times on "being accessed".
  for (let attempt = 1; ; attempt++) {
    await terminateSessions(admin, from);
    try {
      await admin.query(`ALTER DATABASE ${fromName} RENAME TO ${toName}`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '55006' || attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

export async function dropDatabase(conns: Connections, db: string): Promise<void> {
  const name = quoteIdent('database name', db);
  if (db === conns.adminDatabase) throw new Error(`refusing to drop the admin database "${db}"`);
  await conns.release(db);
  await conns.admin().query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** PostgreSQL reserves role names starting with pg_. */
function checkRoleName(kind: string, role: string): void {
  checkIdentifier(kind, role);
  if (role.startsWith('pg_')) throw new Error(`invalid ${kind} ${JSON.stringify(role)}: role names starting with pg_ are reserved`);
}

async function roleExists(admin: Pool, role: string): Promise<boolean> {
  const r = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  return (r.rowCount ?? 0) > 0;
}

async function requireDatabase(admin: Pool, db: string): Promise<void> {
  if (!(await databaseExists(admin, db))) throw new Error(`database "${db}" does not exist`);
}

/**
 * Create or update the tenant login with the configured password and give it read/write use
 * of the tenant's tables, including tables restored later (database-wide default privileges,
 * which survive the public schema being recreated by a re-run copy).
 */
export async function ensureLogin(conns: Connections, db: string, login: string, password: string): Promise<void> {
  const dbName = quoteIdent('database name', db);
  checkRoleName('login', login);
  const role = quoteIdent('login', login);
  const admin = conns.admin();
  await requireDatabase(admin, db);
  const client = await admin.connect();
  try {
    // The password is a literal (utility statements take no parameters), escaped by pg itself.
    const secret = client.escapeLiteral(password);
    if (!(await roleExists(admin, login))) {
      try {
        await client.query(`CREATE ROLE ${role} LOGIN PASSWORD ${secret}`);
      } catch (err) {
        if ((err as { code?: string }).code !== '42710') throw err;
      }
    }
    await client.query(`ALTER ROLE ${role} WITH LOGIN PASSWORD ${secret}`);
    await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${dbName} TO ${role}`);
  } finally {
    client.release();
  }
  const pool = conns.db(db);
  await pool.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${role}`);
  await pool.query(`GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES ON ALL TABLES IN SCHEMA public TO ${role}`);
  await pool.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
  await pool.query(`ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES ON TABLES TO ${role}`);
  await pool.query(`ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${role}`);
}

/** A NOLOGIN role that can read every table of `db` and nothing else. */
export async function grantQueryRole(conns: Connections, db: string, roleName: string): Promise<void> {
  const dbName = quoteIdent('database name', db);
  checkRoleName('query role', roleName);
  const role = quoteIdent('query role', roleName);
  const admin = conns.admin();
  await requireDatabase(admin, db);
  if (!(await roleExists(admin, roleName))) {
    try {
      await admin.query(`CREATE ROLE ${role} NOLOGIN`);
    } catch (err) {
      if ((err as { code?: string }).code !== '42710') throw err;
    }
  }
  await admin.query(`GRANT CONNECT ON DATABASE ${dbName} TO ${role}`);
  const pool = conns.db(db);
  await pool.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
  await pool.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
  await pool.query(`ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO ${role}`);
}
