/**
 * The tenant database engines this worker can reach, chosen per tenant: the directory records
 * each tenant's engine, and `check-request` carries it in the clone's facts.
 */
import type { TenantDatabase } from './port';

export type Engine = TenantDatabase['engine'];

/** A tenant on an engine this worker has no server for: no retry helps (the steps make it non-retryable). */
export class EngineNotConfigured extends Error {
  override name = 'EngineNotConfigured';
}

/** A point in time the backups cannot reach (restoreToPointInTime): no retry helps either. */
export class PointInTimeUnreachable extends Error {
  override name = 'PointInTimeUnreachable';
}

export class TenantDatabases {
  constructor(private readonly byEngine: Partial<Record<Engine, TenantDatabase>>) {}

  has(engine: Engine): boolean {
    return this.byEngine[engine] !== undefined;
  }

  /** The engine's adapter; a tenant on an engine this worker has no server for is refused. */
  for(engine: Engine): TenantDatabase {
    const db = this.byEngine[engine];
    if (!db) throw new EngineNotConfigured(`this worker has no ${engine} server configured (${engine === 'mssql' ? 'TENANT_MSSQL_URL' : 'TENANT_DB_URL'})`);
    return db;
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.byEngine).map((db) => db?.close()));
  }
}
