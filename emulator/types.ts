/** Shapes of the emulator-only admin API (`/_emulator`), shared by the server and its client. */
import type { DirectoryUserRecord, HostingMode, HostingState, MailRoute, Tenant } from '../activities/platform/port';

export interface HostingSeed {
  mode?: HostingMode;
  clusters?: string[];
  recycles?: number;
  /**
   * Tasks queued for the tenant, in order; each runs for `durationMs` from the moment the
   * seed is put (default: the emulator's taskDurationMs). 0 = already finished.
   */
  tasks?: Array<{ durationMs?: number }>;
}

/** A whole tenant: its directory record and everything the platform holds for it. */
export type TenantSeed = Omit<Tenant, 'state' | 'testEnvironmentOf' | 'registeredDatabase'> &
  Partial<Pick<Tenant, 'state' | 'testEnvironmentOf' | 'registeredDatabase'>> & {
    hosting?: HostingSeed;
    routes?: MailRoute[];
    mailboxes?: string[];
    users?: DirectoryUserRecord[];
  };

export type HostingOperationKind = 'mode' | 'clusters' | 'recycle';

export interface HostingOperation {
  id: number;
  kind: HostingOperationKind;
  /** The requested mode, the requested clusters, or null for a recycle. */
  value: HostingMode | string[] | null;
  requestedAt: string;
  applyAt: string;
  appliedAt: string | null;
}

export interface HostingTask {
  taskId: number;
  queuedAt: string;
  finishesAt: string;
}

/** One change made to a tenant through the platform API, in the order it took effect. */
export interface TenantEvent {
  id: number;
  at: string;
  action: string;
  detail: Record<string, unknown>;
}

export interface TenantFullState {
  tenant: Tenant;
  hosting: HostingState;
  operations: HostingOperation[];
  tasks: HostingTask[];
  routes: MailRoute[];
  mailboxes: string[];
  users: DirectoryUserRecord[];
  events: TenantEvent[];
}

export interface WebhookDelivery {
  id: number;
  appId: string;
  receivedAt: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The body exactly as received. */
  body: string;
  /** Whether the signature header verified with the emulator's webhook secret. */
  verified: boolean;
  /** The status the sink answered. */
  status: number;
}
