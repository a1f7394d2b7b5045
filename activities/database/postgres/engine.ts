/**
 * PostgreSQL implementation of the TenantDatabase port. The operations live in small modules;
 * this class holds the configuration (admin URL, the tenant login's password, tool paths) and
 * the connection pools.
 */
import type { SanitizationProfile } from '../profile';
import type {
  AppAuthorization,
  AddressColumn,
  CompanyInfo,
  ContinuousBackup,
  CopyOptions,
  DatabaseInspection,
  DirectoryUser,
  PointInTimeCopy,
  PointInTimeCoverage,
  ProgressFn,
  ScrubCheckpoint,
  ScrubOptions,
  ScrubVerification,
  TableChecksum,
  TenantDatabase,
  TenantIdentity,
} from '../port';
import * as admin from './admin';
import { backupDatabase, restoreDatabase } from './backup';
import { checksum } from './checksum';
import { PgBackRestContinuousBackup } from './continuous-backup';
import * as company from './company';
import { Connections } from './connections';
import { copyDatabase, copyTools, type CopyResult, type CopyTools } from './copy';
import * as sanitize from './sanitize';
import { scrubEmails } from './scrub';
import * as users from './users';
import { endGateTracking } from './gate-tracking';
import { addressColumns, countAddressesAt, gateEmails, recheckEmails, verifyEmails } from './verify';
import { missingProfileNames } from './profile-names';
import { discardRestoreWork, pointInTimeCoverage, restoreToPointInTime, type PointInTimeSettings } from './point-in-time';

export interface PostgresTenantDatabaseOptions {
  /** Superuser URL of the server (any database, e.g. /postgres). */
  adminUrl: string;
  /** Password given to tenant logins by ensureLogin. */
  loginPassword: string;
  /** Folder holding pg_dump / pg_restore; default: found on PATH. */
  pgBinDir?: string;
  /** How long a copy or backup waits for a lock on the source's tables before failing (default 60 s). */
  lockWaitTimeoutMs?: number;
  /** The server's continuous backup and where its point-in-time restores run; none: such restores are refused. */
  pointInTime?: PointInTimeSettings;
}

export class PostgresTenantDatabase implements TenantDatabase, DatabaseInspection {
  readonly engine = 'postgres' as const;
  private readonly conns: Connections;
  private readonly tools: CopyTools;
  private readonly loginPassword: string;
  private readonly pointInTime: PointInTimeSettings | null;
  readonly continuousBackup: ContinuousBackup | null;

  constructor(opts: PostgresTenantDatabaseOptions) {
    if (!opts || typeof opts.adminUrl !== 'string') throw new Error('PostgresTenantDatabase: adminUrl is required');
    if (typeof opts.loginPassword !== 'string' || opts.loginPassword.length < 8) {
      throw new Error('PostgresTenantDatabase: loginPassword must be at least 8 characters');
    }
    this.conns = new Connections(opts.adminUrl);
    this.tools = copyTools(opts.pgBinDir, opts.lockWaitTimeoutMs);
    this.loginPassword = opts.loginPassword;
    this.pointInTime = opts.pointInTime ?? null;
    this.continuousBackup = opts.pointInTime ? new PgBackRestContinuousBackup(opts.pointInTime.backups, opts.pointInTime.processMax) : null;
  }

  exists(db: string): Promise<boolean> {
    return admin.databaseExists(this.conns.admin(), db);
  }

  sizeBytes(db: string): Promise<number> {
    return admin.databaseSize(this.conns.admin(), db);
  }

  createDatabase(db: string): Promise<void> {
    return admin.createDatabase(this.conns, db);
  }

  renameDatabase(from: string, to: string): Promise<void> {
    return admin.renameDatabase(this.conns, from, to);
  }

  dropDatabase(db: string): Promise<void> {
    return admin.dropDatabase(this.conns, db);
  }

  ensureLogin(db: string, login: string): Promise<void> {
    return admin.ensureLogin(this.conns, db, login, this.loginPassword);
  }

  grantQueryRole(db: string, role: string): Promise<void> {
    return admin.grantQueryRole(this.conns, db, role);
  }

  /** With `opts.sanitize`, the rows are rewritten on their way in (copy-in-flight.ts). */
  copyDatabase(source: string, target: string, opts?: CopyOptions): Promise<CopyResult> {
    return copyDatabase(this.conns, this.tools, source, target, opts);
  }

  /** pg_dump custom format (`format: 'pg_dump-custom'`); `bytes` is the file's size. */
  backupDatabase(db: string, file: string, opts?: { onProgress?: ProgressFn; signal?: AbortSignal }): Promise<{ bytes: number; format: string }> {
    return backupDatabase(this.conns, this.tools, db, file, opts);
  }

  /** pg_restore --jobs into `target` (emptied first); `bytes` is the restored database's size. */
  restoreDatabase(file: string, target: string, opts?: CopyOptions): Promise<{ tables: number; bytes: number }> {
    return restoreDatabase(this.conns, this.tools, file, target, opts);
  }

  /**
   * The write-ahead log is per server, so the server's continuous backup (pgBackRest) is
   * restored with only `source` into a scratch server that recovers to `at`, and `source` is
   * copied from there into `target` (point-in-time.ts).
   */
  restoreToPointInTime(source: string, target: string, at: string, opts?: CopyOptions): Promise<PointInTimeCopy> {
    return restoreToPointInTime(this.conns, this.tools, this.pointInTime, source, target, at, opts);
  }

  pointInTimeCoverage(source: string, at: string): Promise<PointInTimeCoverage> {
    return pointInTimeCoverage(this.conns, this.pointInTime, source, at);
  }

  discardRestoreWork(target: string): Promise<void> {
    return discardRestoreWork(this.pointInTime, target);
  }

  prepareDatabase(db: string, identity: TenantIdentity, profile: SanitizationProfile, productionBaseUrl: string): Promise<Record<string, number>> {
    return sanitize.prepareDatabase(this.conns.db(db), identity, profile, productionBaseUrl);
  }

  disableScheduledTasks(db: string, profile: SanitizationProfile): Promise<Record<string, number>> {
    return sanitize.disableScheduledTasks(this.conns.db(db), profile);
  }

  fixSystemUsers(db: string, profile: SanitizationProfile): Promise<string[]> {
    return users.fixSystemUsers(this.conns.db(db), profile);
  }

  restrictToAdministrator(
    db: string,
    profile: SanitizationProfile,
    email: string | null,
    sandboxDomain?: string,
  ): Promise<{ administrator: string; disabled: number }> {
    return users.restrictToAdministrator(this.conns.db(db), profile, email, sandboxDomain);
  }

  scrubEmails(db: string, profile: SanitizationProfile, opts: ScrubOptions): Promise<ScrubCheckpoint> {
    return scrubEmails(this.conns.db(db), profile, opts);
  }

  verifyEmails(db: string, profile: SanitizationProfile, sandboxDomain: string): Promise<ScrubVerification> {
    return verifyEmails(this.conns.db(db), profile, sandboxDomain);
  }

  gateEmails(db: string, profile: SanitizationProfile, sandboxDomain: string, runId: string): Promise<ScrubVerification> {
    return gateEmails(this.conns.db(db), profile, sandboxDomain, runId);
  }

  recheckEmails(db: string, profile: SanitizationProfile, sandboxDomain: string, runId: string): Promise<ScrubVerification> {
    return recheckEmails(this.conns.db(db), profile, sandboxDomain, runId);
  }

  async endGateTracking(db: string): Promise<void> {
    await endGateTracking(this.conns.db(db));
  }

  countAddressesAt(db: string, domain: string): Promise<Record<string, number>> {
    return countAddressesAt(this.conns.db(db), domain);
  }

  addressColumns(db: string, profile: SanitizationProfile, sandboxDomain: string): Promise<AddressColumn[]> {
    return addressColumns(this.conns.db(db), profile, sandboxDomain);
  }

  missingProfileNames(db: string, profile: SanitizationProfile): Promise<string[]> {
    return missingProfileNames(this.conns.db(db), profile);
  }

  replaceMailboxes(db: string, testMailbox: string): Promise<void> {
    return company.replaceMailboxes(this.conns.db(db), testMailbox);
  }

  setCompanyInfo(db: string, info: CompanyInfo): Promise<void> {
    return company.setCompanyInfo(this.conns.db(db), info);
  }

  readCompanyInfo(db: string): Promise<CompanyInfo> {
    return company.readCompanyInfo(this.conns.db(db));
  }

  assignUserPlans(db: string, profile: SanitizationProfile, plan: string): Promise<string[]> {
    return users.assignUserPlans(this.conns.db(db), profile, plan);
  }

  listUsers(db: string): Promise<DirectoryUser[]> {
    return users.listUsers(this.conns.db(db));
  }

  /** A database that no longer exists (nothing was set aside) has no authorizations. */
  async readAppAuthorizations(db: string): Promise<AppAuthorization[]> {
    if (!(await this.exists(db))) return [];
    return users.readAppAuthorizations(this.conns.db(db));
  }

  restoreAppAuthorizations(db: string, auths: AppAuthorization[]): Promise<void> {
    return users.restoreAppAuthorizations(this.conns.db(db), auths);
  }

  countEnabledScheduledTasks(db: string, profile: SanitizationProfile): Promise<number> {
    return sanitize.countEnabledScheduledTasks(this.conns.db(db), profile);
  }

  checksum(db: string): Promise<TableChecksum[]> {
    return checksum(this.conns.db(db));
  }

  close(): Promise<void> {
    return this.conns.closeAll();
  }
}
export { tenantDatabaseName } from './identifiers';
