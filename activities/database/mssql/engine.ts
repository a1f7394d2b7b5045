/**
 * SQL Server / Azure SQL implementation of the TenantDatabase port. Every T-SQL batch comes
 * from the pure builders in ./tsql (unit-tested without a server); this class holds the
 * configuration (admin URL, the tenant login's password, backup target) and the pools.
 */
import type { SanitizationProfile } from '../profile';
import type {
  AddressColumn,
  AppAuthorization,
  CompanyInfo,
  CopyOptions,
  DatabaseInspection,
  DirectoryUser,
  BackupOptions,
  PointInTimeCopy,
  PointInTimeCoverage,
  RestoreOptions,
  ScrubCheckpoint,
  ScrubOptions,
  ScrubVerification,
  TableChecksum,
  TenantDatabase,
  TenantIdentity,
} from '../port';
import * as admin from './admin';
import { Connections, parseAdminUrl } from './connections';
import * as copy from './copy';
import * as data from './data';
import { pointInTimeCoverage, restoreToPointInTime } from './point-in-time';
import * as scrub from './scrub';

export interface MssqlTenantDatabaseOptions {
  /** Server admin: mssql://user:pass@host:port[?encrypt=&trustServerCertificate=] or a connection string. */
  adminUrl: string;
  /** Password given to tenant logins by ensureLogin (8-128 characters: QUOTENAME's input limit). */
  loginPassword: string;
  /**
   * Where backups go: `archive` (default) has the server write them TO URL into the backup
   * archive's container the backup activity gives; `disk` has it write TO DISK at the worker's
   * path, for a server that cannot reach the archive but shares a folder with the worker.
   */
  backupsTo?: 'archive' | 'disk';
  /** Server-side folder for copyDatabase's intermediate backup; default: the instance's backup folder. */
  dataDir?: string;
}

/** Why a SQL Server re-check before opening reads everything. */
const NO_WRITE_RECORD = 'SQL Server keeps no record of writes after the gate';

export class MssqlTenantDatabase implements TenantDatabase, DatabaseInspection {
  readonly engine = 'mssql' as const;
  private readonly conns: Connections;
  private readonly loginPassword: string;
  private readonly backup: copy.BackupConfig;
  private azure: Promise<boolean> | undefined;

  constructor(opts: MssqlTenantDatabaseOptions) {
    if (!opts || typeof opts.adminUrl !== 'string') throw new Error('MssqlTenantDatabase: adminUrl is required');
    if (typeof opts.loginPassword !== 'string' || opts.loginPassword.length < 8 || opts.loginPassword.length > 128) {
      throw new Error('MssqlTenantDatabase: loginPassword must be 8 to 128 characters');
    }
    const backupsTo = opts.backupsTo ?? 'archive';
    if (backupsTo !== 'archive' && backupsTo !== 'disk')
      throw new Error(`MssqlTenantDatabase: backupsTo ${JSON.stringify(opts.backupsTo)} must be "archive" or "disk"`);
    this.conns = new Connections(parseAdminUrl(opts.adminUrl));
    this.loginPassword = opts.loginPassword;
    this.backup = { backupsTo, dataDir: opts.dataDir };
  }

  /** Azure SQL Database (EngineEdition 5) has no SINGLE_USER, BACKUP TO DISK or RESTORE. */
  private isAzure(): Promise<boolean> {
    this.azure ??= copy.serverInfo(this.conns).then((i) => i.azure);
    this.azure.catch(() => (this.azure = undefined));
    return this.azure;
  }

  private db(db: string) {
    return this.conns.db(db);
  }

  exists(db: string): Promise<boolean> {
    return admin.databaseExists(this.conns, db);
  }

  sizeBytes(db: string): Promise<number> {
    return admin.databaseSize(this.conns, db);
  }

  createDatabase(db: string): Promise<void> {
    return admin.createDatabase(this.conns, db);
  }

  async renameDatabase(from: string, to: string): Promise<void> {
    admin.checkDatabaseName(from);
    admin.checkDatabaseName(to);
    return admin.renameDatabase(this.conns, from, to, await this.isAzure());
  }

  async dropDatabase(db: string): Promise<void> {
    // Validate before asking the server anything, so a bad name fails without a connection.
    admin.checkDatabaseName(db);
    return admin.dropDatabase(this.conns, db, await this.isAzure());
  }

  async ensureLogin(db: string, login: string): Promise<void> {
    admin.checkDatabaseName(db);
    admin.checkLoginName(login);
    return admin.ensureLogin(this.conns, db, login, this.loginPassword, await this.isAzure());
  }

  grantQueryRole(db: string, role: string): Promise<void> {
    return admin.grantQueryRole(this.conns, db, role);
  }

  /**
   * SQL Server: BACKUP COPY_ONLY + RESTORE WITH MOVE; Azure SQL: CREATE DATABASE … AS COPY OF. The
   * server copies the pages, so rows cannot be rewritten on the way: `sanitize` is left to the scrub.
   */
  async copyDatabase(source: string, target: string, opts?: CopyOptions): Promise<{ bytes: number; tables: number; rewrittenInFlight: null }> {
    return { ...(await copy.copyDatabase(this.conns, this.backup, source, target, opts)), rewrittenInFlight: null };
  }

  /** See copy.ts for how `file` is used (the backup itself on disk, or a manifest of blob URLs). */
  backupDatabase(db: string, file: string, opts?: BackupOptions): Promise<{ bytes: number; format: string }> {
    return copy.backupDatabase(this.conns, this.backup, db, file, opts);
  }

  restoreDatabase(file: string, target: string, opts?: RestoreOptions): Promise<{ tables: number; bytes: number }> {
    return copy.restoreDatabase(this.conns, file, target, opts);
  }

  /** From msdb's history: full backup WITH NORECOVERY, log chain WITH STOPAT, RECOVERY. */
  restoreToPointInTime(source: string, target: string, at: string, opts?: CopyOptions): Promise<PointInTimeCopy> {
    return restoreToPointInTime(this.conns, source, target, at, opts);
  }

  pointInTimeCoverage(source: string, at: string): Promise<PointInTimeCoverage> {
    return pointInTimeCoverage(this.conns, source, at);
  }

  /** A restore into `target` runs on the server itself and leaves nothing elsewhere. */
  async discardRestoreWork(): Promise<void> {}

  /** SQL Server's backups are taken by its own jobs; restores read them from msdb's history. */
  readonly continuousBackup = null;

  async prepareDatabase(db: string, identity: TenantIdentity, profile: SanitizationProfile, productionBaseUrl: string): Promise<Record<string, number>> {
    return data.prepareDatabase(await this.db(db), identity, profile, productionBaseUrl);
  }

  async disableScheduledTasks(db: string, profile: SanitizationProfile): Promise<Record<string, number>> {
    return data.disableScheduledTasks(await this.db(db), profile);
  }

  async fixSystemUsers(db: string, profile: SanitizationProfile): Promise<string[]> {
    return data.fixSystemUsers(await this.db(db), profile);
  }

  async scrubEmails(db: string, profile: SanitizationProfile, opts: ScrubOptions): Promise<ScrubCheckpoint> {
    return scrub.scrubEmails(await this.db(db), profile, opts);
  }

  async verifyEmails(db: string, profile: SanitizationProfile, sandboxDomain: string): Promise<ScrubVerification> {
    return scrub.verifyEmails(await this.db(db), profile, sandboxDomain);
  }

  /**
   * SQL Server keeps no record of writes after the gate (PostgreSQL's is gate-tracking.ts), so
   * the gate says so in its note and the re-check reads the whole database again: the safe
   * answer, only slower.
   */
  async gateEmails(db: string, profile: SanitizationProfile, sandboxDomain: string): Promise<ScrubVerification> {
    return { ...(await this.verifyEmails(db, profile, sandboxDomain)), tracking: { recorded: false, why: NO_WRITE_RECORD } };
  }

  async recheckEmails(db: string, profile: SanitizationProfile, sandboxDomain: string): Promise<ScrubVerification> {
    return { ...(await this.verifyEmails(db, profile, sandboxDomain)), recheck: { whole: NO_WRITE_RECORD } };
  }

  async endGateTracking(): Promise<void> {}

  async countAddressesAt(db: string, domain: string): Promise<Record<string, number>> {
    return scrub.countAddressesAt(await this.db(db), domain);
  }

  async addressColumns(db: string, profile: SanitizationProfile, sandboxDomain: string): Promise<AddressColumn[]> {
    return scrub.addressColumns(await this.db(db), profile, sandboxDomain);
  }

  async missingProfileNames(db: string, profile: SanitizationProfile): Promise<string[]> {
    return scrub.missingProfileNames(await this.db(db), profile);
  }

  async replaceMailboxes(db: string, testMailbox: string): Promise<void> {
    return data.replaceMailboxes(await this.db(db), testMailbox);
  }

  async setCompanyInfo(db: string, info: CompanyInfo): Promise<void> {
    return data.setCompanyInfo(await this.db(db), info);
  }

  async readCompanyInfo(db: string): Promise<CompanyInfo> {
    return data.readCompanyInfo(await this.db(db));
  }

  /** The copy is scrubbed in place afterwards, which rewrites the address: `sandboxDomain` is not needed here. */
  async restrictToAdministrator(db: string, profile: SanitizationProfile, email: string | null): Promise<{ administrator: string; disabled: number }> {
    return data.restrictToAdministrator(await this.db(db), profile, email);
  }

  async assignUserPlans(db: string, profile: SanitizationProfile, plan: string): Promise<string[]> {
    return data.assignUserPlans(await this.db(db), profile, plan);
  }

  async listUsers(db: string): Promise<DirectoryUser[]> {
    return data.listUsers(await this.db(db));
  }

  /** A database that no longer exists (nothing was set aside) has no authorizations. */
  async readAppAuthorizations(db: string): Promise<AppAuthorization[]> {
    if (!(await this.exists(db))) return [];
    return data.readAppAuthorizations(await this.db(db));
  }

  async restoreAppAuthorizations(db: string, auths: AppAuthorization[]): Promise<void> {
    return data.restoreAppAuthorizations(await this.db(db), auths);
  }

  async countEnabledScheduledTasks(db: string, profile: SanitizationProfile): Promise<number> {
    return data.countEnabledScheduledTasks(await this.db(db), profile);
  }

  async checksum(db: string): Promise<TableChecksum[]> {
    return data.checksum(await this.db(db));
  }

  close(): Promise<void> {
    return this.conns.closeAll();
  }
}
