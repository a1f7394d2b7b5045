/**
 * The tenant database port: every database operation a clone plan needs, independent of the
 * engine. The PostgreSQL and SQL Server / Azure SQL engines implement it and share one
 * contract suite. It is split by caller into small role interfaces (DatabaseServer,
 * DatabaseTransfer, DatabaseSanitizer, TenantRecords); TenantDatabase joins them. The tests'
 * DatabaseInspection is kept out of it.
 *
 * Database names are logical names chosen by the directory (e.g. `tenant_acme`); the engine
 * validates and quotes them. Secrets (the server's admin password, the tenant login's password)
 * come from the engine's configuration, never from callers, so nothing secret enters
 * workflow history.
 */
import type { DatabaseEngine } from '../../workflows/step-contract';
import type { SanitizationProfile } from './profile';

/** Progress of a long operation, reported as often as is cheap; the caller heartbeats it. */
export type ProgressFn = (p: { percent: number; detail: string }) => void;

export interface CopyOptions {
  /** Parallel jobs for the bulk copy (pg_dump/pg_restore -j). */
  jobs?: number;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  /**
   * Sanitize in flight: an engine that can rewrites every address token before the target
   * stores the row, and marks the target so `scrubEmails` of the same run only verifies. An
   * engine that cannot ignores it, and the scrub rewrites in place as before.
   */
  sanitize?: { profile: SanitizationProfile; sandboxDomain: string; runId: string };
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

/** Whether a database can be restored as it was at an instant, and from what (or why not). */
export type PointInTimeCoverage = { reachable: true; detail: string } | { reachable: false; reason: string };

export type ServerBackupType = 'full' | 'diff' | 'incr';

/** One backup of a whole tenant server in its continuous backup's repository. */
export interface ServerBackupRef {
  label: string;
  type: ServerBackupType;
  startedAt: string;
  stoppedAt: string;
  /** The server's size when it was taken, and what the backup takes in the repository. */
  sizeBytes: number;
  repositoryBytes: number;
}

/**
 * The continuous backup of the whole tenant server (PostgreSQL: pgBackRest, with the server
 * archiving its write-ahead log): the backups every point-in-time restore starts from. SQL
 * Server keeps its own backup history, taken by its own jobs, so its engine has none.
 */
export interface ContinuousBackup {
  /** The repository's name for the server (pgBackRest's stanza). */
  readonly name: string;
  /** Every backup in the repository, oldest first. */
  list(): Promise<ServerBackupRef[]>;
  /** Take a backup of the server, while its users go on working. */
  take(type: ServerBackupType, opts?: { onProgress?: ProgressFn; signal?: AbortSignal }): Promise<ServerBackupRef>;
}

export interface RestoreOptions extends CopyOptions {
  /** Read access to the container a server-written backup lives in (see ServerBlobTarget). */
  serverSource?: { containerUrl: string; sasToken: string };
}

/**
 * Checkpoint of the e-mail scrub, which walks every table the catalog lists, in a stable order.
 * It names the table it points at, so it is never applied to another one.
 */
export interface ScrubCheckpoint {
  /** Index of the table being scrubbed in the catalog order (= the number of tables when done). */
  table: number;
  /** That table's label (`table` or `schema.table`); null when done. */
  tableName: string | null;
  /** Where the last committed batch of that table ended (engine-specific text); null = its start. */
  after: string | null;
  /** Rows rewritten so far (all tables). */
  rewritten: number;
  /** Batches committed so far (all tables). */
  batches: number;
  /** The copy of this run rewrote the rows on their way in: the scrub had nothing to do. */
  inFlight?: boolean;
}

/** A database restored to a point in time into its target: what the step reports. */
export interface PointInTimeCopy {
  tables: number;
  bytes: number;
  /** What was restored (backups used, the point), for the step's note. */
  detail: string;
  /** Rows rewritten on their way in; null when the scrub rewrites in place afterwards. */
  rewrittenInFlight: number | null;
}

export interface ScrubOptions {
  sandboxDomain: string;
  /** Rows per batch, unless the profile gives the table its own. */
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

/** What the independent verification found in the whole database. */
export interface ScrubVerification {
  /**
   * Values still holding an address outside the sandbox domain (or an obfuscated one), per
   * column label (`table.column` or `schema.table.column`), outside the profile's `keep`.
   */
  remaining: Record<string, number>;
  total: number;
  /** One line per offending column: `table.column: N values, e.g. …@domain` (never a whole value). */
  findings: string[];
  /** Columns the profile keeps that hold addresses outside the sandbox domain, with their counts. */
  kept: Record<string, number>;
  /** What was read: every table and every column whose type can hold text. */
  scanned: { tables: number; columns: number };
  /** Tables whose rows live outside this database (foreign tables): not read, named here. */
  notScanned: string[];
  /** Large objects that hold an "at" but are not text in the database's encoding (images, PDFs…): not read, by oid. */
  largeObjectsNotRead?: number[];
  /** Per bytea column, values that hold an "at" but are not text in the database's encoding (images, PDFs…): not read. */
  bytesNotRead?: Record<string, number>;
  /** A run's gate: whether what changes after it is recorded, so the re-check can read less, or why not. */
  tracking?: { recorded: true } | { recorded: false; why: string };
  /** A re-check: the tables it read (written since the gate), or why it read everything. */
  recheck?: { read: string[]; unchanged: number } | { whole: string };
}

/** One column that holds e-mail addresses, as `profile check` reports it. */
export interface AddressColumn {
  column: string;
  type: string;
  /** Values holding an address outside the sandbox domain (or an obfuscated one). */
  values: number;
  /**
   * `rewritten`: the scrub rewrites it; `kept`: the profile exempts it (reported, not a failure);
   * `recomputed`: a generated column, recomputed from the columns it is made of;
   * `not-rewritable`: its type cannot be rewritten, so a clone of it fails the verification.
   */
  coverage: 'rewritten' | 'kept' | 'recomputed' | 'not-rewritable';
  /** Example, redacted to its domain: `…@realcustomer.com`. */
  example: string | null;
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

/**
 * Server administration: whether a database exists and how big it is, creating, renaming and
 * dropping it, and the tenant's login and query role. Called by the database steps (create,
 * set-aside, swap, logins) and by rollback.
 */
export interface DatabaseServer {
  readonly engine: DatabaseEngine;

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

  close(): Promise<void>;
}

/** Bulk transfer of a whole database. Called by the copy, restore and backup steps. */
export interface DatabaseTransfer {
  /**
   * Bulk copy `source` into the existing empty `target` without disconnecting `source`'s users
   * (a consistent snapshot of a live database). Re-running replaces a partial earlier copy.
   */
  copyDatabase(source: string, target: string, opts?: CopyOptions): Promise<{ bytes: number; tables: number; rewrittenInFlight: number | null }>;

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
  restoreToPointInTime(
    source: string,
    target: string,
    at: string,
    opts?: CopyOptions,
  ): Promise<{ tables: number; bytes: number; detail: string; rewrittenInFlight: number | null }>;

  /**
   * Whether restoreToPointInTime could restore `source` as it was at `at`, read without
   * touching anything: the preflight's answer, naming the backups it would use or why not.
   */
  pointInTimeCoverage(source: string, at: string): Promise<PointInTimeCoverage>;

  /** Stop and remove whatever an interrupted point-in-time restore into `target` left (a scratch server). */
  discardRestoreWork(target: string): Promise<void>;

  /** The server's continuous backup, or null when the engine or this worker has none. */
  readonly continuousBackup: ContinuousBackup | null;
}

/**
 * Sanitization of a copy and the checks around it. Called by the sanitization steps (prepare,
 * disable tasks, system users, scrub, verify), by check-request and by `profile check`.
 */
export interface DatabaseSanitizer {
  /** Rewrite the tenant's identity and apply the profile's clear/delete/close/rewrite rules. */
  prepareDatabase(db: string, identity: TenantIdentity, profile: SanitizationProfile, productionBaseUrl: string): Promise<Record<string, number>>;
  /** Disable scheduled tasks and withhold batch jobs per profile. Returns rows changed per table. */
  disableScheduledTasks(db: string, profile: SanitizationProfile): Promise<Record<string, number>>;
  /** Count of enabled scheduled tasks (a safety check before running mode). */
  countEnabledScheduledTasks(db: string, profile: SanitizationProfile): Promise<number>;
  /** Ensure the system users the profile lists exist and are enabled. */
  fixSystemUsers(db: string, profile: SanitizationProfile): Promise<string[]>;
  /**
   * Seed 003: disable every user but the profile's administrator (system users stay as they
   * are); the administrator is enabled, given `email` (the target's administrator, as the
   * directory records it; null: none) and has the profile's credential columns cleared.
   */
  /**
   * With `sandboxDomain`, an engine whose copies are sanitized in flight (so never scrubbed again)
   * writes the address as the rewrite rule gives it; the others leave that to the scrub.
   */
  restrictToAdministrator(
    db: string,
    profile: SanitizationProfile,
    email: string | null,
    sandboxDomain?: string,
  ): Promise<{ administrator: string; disabled: number }>;
  /**
   * Set-based, batched rewrite of every address in every text-like column of every table (the
   * profile's `keep` aside), resumable from a checkpoint.
   */
  scrubEmails(db: string, profile: SanitizationProfile, opts: ScrubOptions): Promise<ScrubCheckpoint>;
  /**
   * The independent gate: every column of every table whose type can hold text is read for
   * addresses outside the sandbox domain; it never calls the rewrite.
   */
  verifyEmails(db: string, profile: SanitizationProfile, sandboxDomain: string): Promise<ScrubVerification>;
  /**
   * The gate of a clone's run: verifyEmails, and an engine that can records from before it
   * reads what is written or changed in `db` after it, for recheckEmails.
   */
  gateEmails(db: string, profile: SanitizationProfile, sandboxDomain: string, runId: string): Promise<ScrubVerification>;
  /**
   * The gate again before users log in: over what changed since the run's gate passed where
   * the record proves the rest unchanged, otherwise over everything.
   */
  recheckEmails(db: string, profile: SanitizationProfile, sandboxDomain: string, runId: string): Promise<ScrubVerification>;
  /** Removes the gate's record and its triggers from `db` (nothing when there are none). */
  endGateTracking(db: string): Promise<void>;
  /** Values holding an address at exactly `domain`, per table label: a sandbox domain must have none in the source. */
  countAddressesAt(db: string, domain: string): Promise<Record<string, number>>;
  /** Every column holding addresses outside the sandbox domain, and whether the scrub covers it. */
  addressColumns(db: string, profile: SanitizationProfile, sandboxDomain: string): Promise<AddressColumn[]>;
  /** Tables and columns the profile names that `db` does not have, e.g. `column "persons.nickname"`. */
  missingProfileNames(db: string, profile: SanitizationProfile): Promise<string[]>;
}

/**
 * The tenant's records inside its database: mailboxes, company info, users and their plans,
 * app authorizations. Called by the tenant-identity, mail and user steps.
 */
export interface TenantRecords {
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
}

/** Every database operation a clone plan needs: what the worker's steps get. */
export interface TenantDatabase extends DatabaseServer, DatabaseTransfer, DatabaseSanitizer, TenantRecords {}

/** Reading a database's content back, for tests only; not part of TenantDatabase. */
export interface DatabaseInspection {
  /** Per-table row count and content checksum, for tests and rollback checks. */
  checksum(db: string): Promise<TableChecksum[]>;
}
