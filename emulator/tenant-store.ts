/** Reading and writing the directory's tenant rows, plus the per-tenant event log. */
import type { PoolClient } from 'pg';
import type { DirectoryUserRecord, Tenant } from '../activities/platform/port';
import { conflict, unknownTenant } from './http-io';

const TENANT_COLUMNS = `id, name, kind, region, directory_tenant, app_version, capacity_mb, company_name, serial,
  license, db_engine, db_name, base_url, state, test_environment_of, registered_database`;

interface TenantRow {
  id: string;
  name: string;
  kind: Tenant['kind'];
  region: string;
  directory_tenant: string;
  app_version: string;
  capacity_mb: number;
  company_name: string;
  serial: string;
  license: string;
  db_engine: Tenant['database']['engine'];
  db_name: string;
  base_url: string;
  state: Tenant['state'];
  test_environment_of: string | null;
  registered_database: string | null;
}

function toTenant(row: TenantRow): Tenant {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    region: row.region,
    directoryTenant: row.directory_tenant,
    appVersion: row.app_version,
    capacityMb: row.capacity_mb,
    companyName: row.company_name,
    serial: row.serial,
    license: row.license,
    database: { engine: row.db_engine, name: row.db_name },
    baseUrl: row.base_url,
    state: row.state,
    testEnvironmentOf: row.test_environment_of,
    registeredDatabase: row.registered_database,
  };
}

export async function findTenant(db: PoolClient, id: string, lock = false): Promise<Tenant | null> {
  const { rows } = await db.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ? toTenant(rows[0]) : null;
}

/** The tenant, locked for the rest of the transaction so concurrent changes serialize. */
export async function requireTenant(db: PoolClient, id: string): Promise<Tenant> {
  const tenant = await findTenant(db, id, true);
  if (!tenant) throw unknownTenant(id);
  return tenant;
}

export async function insertTenant(db: PoolClient, t: Tenant): Promise<void> {
  await db.query(`INSERT INTO tenants (${TENANT_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`, [
    t.id,
    t.name,
    t.kind,
    t.region,
    t.directoryTenant,
    t.appVersion,
    t.capacityMb,
    t.companyName,
    t.serial,
    t.license,
    t.database.engine,
    t.database.name,
    t.baseUrl,
    t.state,
    t.testEnvironmentOf,
    t.registeredDatabase,
  ]);
}

export async function listUsers(db: PoolClient, tenantId: string): Promise<DirectoryUserRecord[]> {
  const { rows } = await db.query<DirectoryUserRecord>('SELECT login, email, plan, enabled FROM directory_users WHERE tenant_id = $1 ORDER BY position', [
    tenantId,
  ]);
  return rows;
}

export async function writeUsers(db: PoolClient, tenantId: string, users: DirectoryUserRecord[]): Promise<void> {
  await db.query('DELETE FROM directory_users WHERE tenant_id = $1', [tenantId]);
  if (users.length === 0) return;
  // One statement for the whole list: a directory sync can carry thousands of users.
  await db.query(
    `INSERT INTO directory_users (tenant_id, login, position, email, plan, enabled)
     SELECT $1, u.login, u.ord - 1, u.email, u.plan, u.enabled
     FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[]) WITH ORDINALITY AS u(login, email, plan, enabled, ord)`,
    [tenantId, users.map((u) => u.login), users.map((u) => u.email), users.map((u) => u.plan), users.map((u) => u.enabled)],
  );
}

export async function recordEvent(db: PoolClient, tenantId: string, action: string, detail: Record<string, unknown>, at: Date = new Date()): Promise<void> {
  await db.query('INSERT INTO events (tenant_id, at, action, detail) VALUES ($1, $2, $3, $4)', [tenantId, at, action, JSON.stringify(detail)]);
}

/**
 * Insert mailboxes for a tenant. The caller checked that no other tenant owns them, but a
 * concurrent claim can commit between that check and this insert; the unique index then
 * decides, and the loser gets the same 409 the check gives, not a 500.
 */
export async function insertMailboxes(db: PoolClient, tenantId: string, addresses: string[]): Promise<void> {
  try {
    await db.query('INSERT INTO mailboxes (tenant_id, address) SELECT $1, unnest($2::text[])', [tenantId, addresses]);
  } catch (err) {
    const e = err as { code?: string; constraint?: string };
    if (e.code === '23505' && e.constraint === 'mailboxes_address_unique') {
      throw conflict(`mailbox ${addresses.length === 1 ? JSON.stringify(addresses[0]) : `in ${JSON.stringify(addresses)}`} was just claimed by another tenant`);
    }
    throw err;
  }
}
