/**
 * The emulator's own PostgreSQL database: its tables (created idempotently at start) and a
 * transaction helper. Every platform change happens in one transaction, so a request that
 * fails with 4xx leaves nothing half-done, like the platform it stands in for.
 */
import { Client, Pool, type PoolClient } from 'pg';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tenants (
  id text PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL,
  region text NOT NULL,
  directory_tenant text NOT NULL,
  app_version text NOT NULL,
  capacity_mb integer NOT NULL,
  company_name text NOT NULL,
  serial text NOT NULL,
  license text NOT NULL,
  db_engine text NOT NULL,
  db_name text NOT NULL,
  base_url text NOT NULL,
  state text NOT NULL,
  test_environment_of text,
  registered_database text
);
CREATE TABLE IF NOT EXISTS leases (
  tenant_id text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  holder text NOT NULL,
  acquired_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS directory_users (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  login text NOT NULL,
  position integer NOT NULL,
  email text,
  plan text,
  enabled boolean NOT NULL,
  PRIMARY KEY (tenant_id, login)
);
CREATE TABLE IF NOT EXISTS hosting (
  tenant_id text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  mode text NOT NULL,
  clusters text[] NOT NULL,
  recycles integer NOT NULL
);
CREATE TABLE IF NOT EXISTS hosting_tasks (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  task_id integer NOT NULL,
  queued_at timestamptz NOT NULL,
  finishes_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, task_id)
);
CREATE TABLE IF NOT EXISTS hosting_operations (
  id bigserial PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kind text NOT NULL,
  value jsonb NOT NULL,
  requested_at timestamptz NOT NULL,
  apply_at timestamptz NOT NULL,
  applied_at timestamptz
);
CREATE INDEX IF NOT EXISTS hosting_operations_pending ON hosting_operations (tenant_id, id) WHERE applied_at IS NULL;
CREATE TABLE IF NOT EXISTS mail_routes (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  address text NOT NULL,
  destination text NOT NULL,
  PRIMARY KEY (tenant_id, address)
);
CREATE TABLE IF NOT EXISTS mailboxes (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  address text NOT NULL,
  PRIMARY KEY (tenant_id, address)
);
CREATE UNIQUE INDEX IF NOT EXISTS mailboxes_address_unique ON mailboxes (lower(address));
CREATE TABLE IF NOT EXISTS events (
  id bigserial PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  at timestamptz NOT NULL,
  action text NOT NULL,
  detail jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS partner_apps (
  app_id text PRIMARY KEY,
  name text NOT NULL,
  webhook_url text NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id bigserial PRIMARY KEY,
  app_id text NOT NULL,
  received_at timestamptz NOT NULL,
  headers jsonb NOT NULL,
  body text NOT NULL,
  verified boolean NOT NULL,
  status integer NOT NULL
);
CREATE TABLE IF NOT EXISTS sink_failures (
  app_id text PRIMARY KEY,
  remaining integer NOT NULL,
  status integer NOT NULL
);
`;

export const ALL_TABLES = [
  'events',
  'leases',
  'directory_users',
  'hosting_operations',
  'hosting_tasks',
  'hosting',
  'mail_routes',
  'mailboxes',
  'tenants',
  'partner_apps',
  'webhook_deliveries',
  'sink_failures',
];

/** Two emulators starting on one database must not race on CREATE TABLE IF NOT EXISTS. */
const SCHEMA_LOCK_KEY = 7_301_955;

export async function ensureSchema(pool: Pool): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
    await client.query(SCHEMA);
  });
}

export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Create the database named in `databaseUrl` when it does not exist yet, by connecting to the
 * server's `postgres` database. For the standalone emulator, whose database is its own.
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`emulator database URL ${redact(databaseUrl)} names no database`);
  const probe = new Client({ connectionString: databaseUrl });
  try {
    await probe.connect();
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err;
  } finally {
    await probe.end().catch(() => undefined);
  }
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
  } catch (err) {
    // Another process created it between our probe and now: that is the wanted outcome.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await admin.end();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function redact(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}
