/**
 * The platform services a clone talks to, one interface per service. The HTTP adapters in
 * this folder implement them against the REST contract in `openapi.yaml`; the platform
 * emulator (`emulator/`) serves that contract for local runs and tests.
 */
import type { DatabaseEngine } from '../../workflows/step-contract';

export type TenantKind = 'production' | 'sandbox' | 'test';
export type DirectoryState = 'Normal' | 'InMigration';

export interface Tenant {
  id: string;
  name: string;
  kind: TenantKind;
  region: string;
  /** The identity-directory tenant (the admins' domain); a clone never crosses it. */
  directoryTenant: string;
  appVersion: string;
  /** Maximum database size the tenant's plan allows, in MB. */
  capacityMb: number;
  companyName: string;
  serial: string;
  license: string;
  /** Database engine and logical database name. */
  database: { engine: DatabaseEngine; name: string };
  /** Base URL users reach the tenant at. */
  baseUrl: string;
  state: DirectoryState;
  /** For a sandbox/test tenant: the production tenant it is the test environment of. */
  testEnvironmentOf: string | null;
  registeredDatabase: string | null;
}

export interface DirectoryUserRecord {
  login: string;
  email: string | null;
  plan: string | null;
  enabled: boolean;
}

export interface Directory {
  /** null when the tenant is unknown. */
  getTenant(id: string): Promise<Tenant | null>;
  /** Copy the source's customer record (company, license fields) onto the target. */
  copyCustomerInfo(target: string, source: string): Promise<void>;
  registerDatabase(target: string, database: { engine: DatabaseEngine; name: string }): Promise<void>;
  setTestEnvironmentOf(target: string, source: string | null): Promise<void>;
  setState(target: string, state: DirectoryState): Promise<void>;
  replaceUsers(target: string, users: DirectoryUserRecord[]): Promise<void>;
  listUsers(target: string): Promise<DirectoryUserRecord[]>;
  updateCompany(target: string, company: { companyName: string; serial: string; license: string }): Promise<void>;
  /** Who owns the tenant now (a clone or backup run), or null. */
  getLease(tenant: string): Promise<string | null>;
  /**
   * Take the tenant's lease for `holder` (kept if it already holds it), or over from `replaces`
   * only. Returns the holder that keeps it when that is someone else.
   */
  acquireLease(tenant: string, holder: string, replaces?: string | null): Promise<{ acquired: true } | { acquired: false; holder: string }>;
  /** Give the lease back; a no-op when `holder` does not hold it any more. */
  releaseLease(tenant: string, holder: string): Promise<void>;
}

export type HostingMode = 'running' | 'maintenance';

export interface HostingState {
  mode: HostingMode;
  clusters: string[];
  /** Tasks (jobs, imports) currently running for the tenant. */
  runningTasks: number;
  /** Id of the last task queued for the tenant, and of the last one finished. */
  lastQueuedTask: number;
  lastFinishedTask: number;
  recycles: number;
  /** Hosting operations (application host config changes) not yet applied. */
  pendingOperations: number;
}

export interface Hosting {
  getState(tenant: string): Promise<HostingState>;
  setMode(tenant: string, mode: HostingMode): Promise<void>;
  setClusters(tenant: string, clusters: string[]): Promise<void>;
  recycle(tenant: string): Promise<void>;
}

export interface MailRoute {
  address: string;
  destination: string;
}

export interface MailService {
  listRoutes(tenant: string): Promise<MailRoute[]>;
  removeRoutes(tenant: string): Promise<number>;
  listMailboxes(tenant: string): Promise<string[]>;
  /** Delete every mailbox of the tenant and create exactly `address`. Idempotent. */
  replaceMailboxes(tenant: string, address: string): Promise<void>;
  /** Make the tenant's inbound routes exactly `routes` (used to roll a clone back). Idempotent. */
  setRoutes(tenant: string, routes: MailRoute[]): Promise<void>;
  /** Make the tenant's mailboxes exactly `addresses` (used to roll a clone back). Idempotent. */
  setMailboxes(tenant: string, addresses: string[]): Promise<void>;
}

export interface PartnerApp {
  appId: string;
  name: string;
  webhookUrl: string;
}

export interface PartnerApps {
  getApp(appId: string): Promise<PartnerApp | null>;
}
