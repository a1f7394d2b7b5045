/**
 * The tenant database port: every database operation a clone plan needs, independent of the
 * engine. The PostgreSQL and SQL Server / Azure SQL engines implement it and share one
 * contract suite.
 *
 * Database names are logical names chosen by the directory (e.g. `tenant_acme`); the engine
 * validates and quotes them. Secrets (the server's admin password, the tenant login's password)
 * come from the engine's configuration, never from callers, so nothing secret enters
 * workflow history.
 */
import type { SanitizationProfile } from './profile';

/** Progress of a long operation, reported as often as is cheap; the caller heartbeats it. */
export type ProgressFn = (p: { percent: number; detail: string }) => void;

export interface CopyOptions {
  /** Parallel jobs for the bulk copy (pg_dump/pg_restore -j). */
  jobs?: number;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
}

/**
 * A blob container a database server writes its own backups to (SQL Server's BACKUP TO URL):
 * the backup archive's container, a SAS for it, and the name prefix for this backup's blobs.
 * Engines that dump through the worker (PostgreSQL) ignore it. The token is a secret.
 */
export interface ServerBlobTarget {
  containerUrl: string;
  sasToken: string;
  prefix: string;
}

export interface BackupOptions {
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  serverTarget?: ServerBlobTarget;
}

export interface RestoreOptions extends CopyOptions {
  /** Read access to the container a server-written backup lives in (see ServerBlobTarget). */
  serverSource?: { containerUrl: string; sasToken: string };
}

/** Checkpoint of the e-mail scrub: which (table, column) it is in and the last key done. */
export interface ScrubCheckpoint {
  /** Index into profile.emails.columns of the column being scrubbed. */
  column: number;
  /** Last primary key value (as text) of the last committed batch in that column; null = start. */
  lastKey: string | null;
  /** Rows rewritten so far (all columns). */
  rewritten: number;
  /** Batches committed so far (all columns). */
  batches: number;
}

export interface ScrubOptions {
  sandboxDomain: string;
  batchSize?: number;
  /** Resume point from a previous attempt's heartbeat. */
  checkpoint?: ScrubCheckpoint;
  /**
   * Identifies this scrub (the clone's run). With it, the engine also commits the checkpoint
   * with each batch, and a resumed scrub of the same run starts exactly after the last
   * committed batch: no batch is done twice.
   */
  runId?: string;
  /** Called after each committed batch with the new checkpoint; the caller heartbeats it. */
  onBatch?: (checkpoint: ScrubCheckpoint, p: { percent: number; detail: string }) => void;
  signal?: AbortSignal;
}

export interface ScrubVerification {
  /** Values still holding an address outside the sandbox domain, per `table.column`. */
  remaining: Record<string, number>;
  total: number;
  /** Up to a few offending values, for the error message. */
  samples: string[];
}

export interface TenantIdentity {
  tenantId: string;
  companyName: string;
  serial: string;
  /** Base URL the tenant is served at; production URLs in the copy are rewritten to it. */
  baseUrl: string;
}

export interface AppAuthorization {
  appId: string;
  appName: string;
  systemUserLogin: string;
}

export interface DirectoryUser {
  login: string;
  email: string | null;
  plan: string | null;
  enabled: boolean;
  isSystem: boolean;
}

export interface CompanyInfo {
  companyName: string;
  serial: string;
  license: string;
  ownerCompany: string;
}

export interface TableChecksum {
  table: string;
  rows: number;
  /** md5 of the ordered rows' text. */
  md5: string;
}

export interface TenantDatabase {
  readonly engine: 'postgres' | 'mssql';

  exists(db: string): Promise<boolean>;
  /** Approximate size in bytes. */
  sizeBytes(db: string): Promise<number>;
  /** Create an empty database; no-op when it exists and is empty of tables. */
  createDatabase(db: string): Promise<void>;
  /** Rename, disconnecting other sessions of `from` first. No-op when `from` is gone and `to` exists. */
  renameDatabase(from: string, to: string): Promise<void>;
  /** Drop if it exists. */
  dropDatabase(db: string): Promise<void>;

  /** Create or update the tenant's login and make it owner/user of `db`. Idempotent. */
  ensureLogin(db: string, login: string): Promise<void>;
  /** Grant the read-only query role on `db` to `role` (created if missing). Idempotent. */
  grantQueryRole(db: string, role: string): Promise<void>;

  /**
   * Bulk copy `source` into the existing empty `target` without disconnecting `source`'s users
   * (a consistent snapshot of a live database). Re-running replaces a partial earlier copy.
   */
  copyDatabase(source: string, target: string, opts?: CopyOptions): Promise<{ bytes: number; tables: number }>;

  /**
   * Dump `db` to `file` in a format that restores in parallel (PostgreSQL: custom format),
   * from one consistent snapshot without disconnecting its users. An engine whose server writes
   * the backup itself to `opts.serverTarget` leaves in `file` a manifest that restoreDatabase
   * reads instead (SQL Server), so `file` is always what the backup archive keeps.
   */
  backupDatabase(db: string, file: string, opts?: BackupOptions): Promise<{ bytes: number; format: string }>;
  /**
   * Restore a dump made by backupDatabase into the existing `target`, in parallel where the
   * format allows. Re-running replaces a partial earlier restore.
   */
  restoreDatabase(file: string, target: string, opts?: RestoreOptions): Promise<{ tables: number; bytes: number }>;

  /**
   * Restore `source` as it was at `at` (an ISO 8601 instant) into the existing `target`, from
   * the server's own backup history: the last full backup before `at`, then the log chain up to
   * it. An engine or server that keeps no per-database log chain refuses with an error saying
   * so, before `target` is touched.
   */
  restoreToPointInTime(source: string, target: string, at: string, opts?: CopyOptions): Promise<{ tables: number; bytes: number; detail: string }>;

  /** Rewrite the tenant's identity and apply the profile's clear/delete/close/rewrite rules. */
  prepareDatabase(db: string, identity: TenantIdentity, profile: SanitizationProfile, productionBaseUrl: string): Promise<Record<string, number>>;
  /** Disable scheduled tasks and withhold batch jobs per profile. Returns rows changed per table. */
  disableScheduledTasks(db: string, profile: SanitizationProfile): Promise<Record<string, number>>;
  /** Ensure the system users the profile lists exist and are enabled. */
  fixSystemUsers(db: string, profile: SanitizationProfile): Promise<string[]>;
  /** Set-based, keyset-batched e-mail rewrite, resumable from a checkpoint. */
  scrubEmails(db: string, profile: SanitizationProfile, opts: ScrubOptions): Promise<ScrubCheckpoint>;
  /** Count values that still hold an address outside the sandbox domain. */
  verifyEmails(db: string, profile: SanitizationProfile, sandboxDomain: string): Promise<ScrubVerification>;

  /** Replace the tenant's mailboxes with the single test mailbox (credentials not copied). */
  replaceMailboxes(db: string, testMailbox: string): Promise<void>;
  /** Set serial number, license and owner company to the test tenant's. */
  setCompanyInfo(db: string, info: CompanyInfo): Promise<void>;
  readCompanyInfo(db: string): Promise<CompanyInfo>;
  /** Give `plan` to the users allowed to log in (profile decides who); returns their logins. */
  assignUserPlans(db: string, profile: SanitizationProfile, plan: string): Promise<string[]>;
  listUsers(db: string): Promise<DirectoryUser[]>;

  /** App authorizations recorded in `db` (the old, set-aside target). */
  readAppAuthorizations(db: string): Promise<AppAuthorization[]>;
  /** Insert the authorizations (idempotent) and create their system users. */
  restoreAppAuthorizations(db: string, auths: AppAuthorization[]): Promise<void>;

  /** Count of enabled scheduled tasks (a safety check before running mode). */
  countEnabledScheduledTasks(db: string, profile: SanitizationProfile): Promise<number>;
  /** Per-table row count and content checksum, for tests and rollback checks. */
  checksum(db: string): Promise<TableChecksum[]>;

  close(): Promise<void>;
}
