/** The PostgreSQL engine as configured: its server, tools and, when set up, its continuous backup. */
import os from 'node:os';
import path from 'node:path';
import { PostgresTenantDatabase } from '../activities/database/postgres/engine';
import { serverAccount } from '../activities/database/postgres/os-account';
import { PgBackRest } from '../activities/database/postgres/pgbackrest';
import type { PointInTimeSettings } from '../activities/database/postgres/point-in-time';
import type { Config } from './config';

type PostgresSettings = Pick<
  Config,
  | 'TENANT_DB_URL'
  | 'TENANT_LOGIN_PASSWORD'
  | 'PG_BIN_DIR'
  | 'PG_LOCK_WAIT_TIMEOUT_MS'
  | 'PGBACKREST_STANZA'
  | 'PGBACKREST_CONFIG'
  | 'PG_SERVER_BIN_DIR'
  | 'PG_SCRATCH_DIR'
  | 'PG_OS_USER'
  | 'PG_RECOVERY_TIMEOUT_MS'
  | 'COPY_JOBS'
>;

/** Where a point-in-time restore reads from and runs its scratch servers; null without a stanza. */
export async function pointInTimeSettings(config: PostgresSettings): Promise<PointInTimeSettings | null> {
  if (!config.PGBACKREST_STANZA) return null;
  // pgBackRest writes its lock and log files as the server's owner; scratch servers refuse root.
  const account = await serverAccount(config.PG_OS_USER);
  return {
    backups: new PgBackRest({ stanza: config.PGBACKREST_STANZA, configFile: config.PGBACKREST_CONFIG, account }),
    scratch: {
      root: config.PG_SCRATCH_DIR ?? path.join(os.tmpdir(), 'tenant-clone-scratch'),
      binDir: config.PG_SERVER_BIN_DIR,
      account,
      user: decodeURIComponent(new URL(config.TENANT_DB_URL).username) || 'postgres',
    },
    processMax: config.COPY_JOBS,
    recoveryTimeoutMs: config.PG_RECOVERY_TIMEOUT_MS,
    archiveTimeoutMs: 120_000,
  };
}

export async function postgresEngine(config: PostgresSettings): Promise<PostgresTenantDatabase> {
  return new PostgresTenantDatabase({
    adminUrl: config.TENANT_DB_URL,
    loginPassword: config.TENANT_LOGIN_PASSWORD,
    pgBinDir: config.PG_BIN_DIR,
    lockWaitTimeoutMs: config.PG_LOCK_WAIT_TIMEOUT_MS,
    pointInTime: (await pointInTimeSettings(config)) ?? undefined,
  });
}
