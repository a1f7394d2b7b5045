/**
 * The one signature every step activity has. A uniform contract keeps plans pure data: the
 * workflow runs any list of steps without knowing what each does, and every fact a later step
 * needs travels in `facts` (small, never secret) rather than in ad-hoc arguments.
 */
import type { CloneOutcome, StepStatus } from './messages';
import type { CloneRequest, TargetKind } from './request';

/** The database engines a tenant can live on (a clone never crosses them). */
export type DatabaseEngine = 'postgres' | 'mssql';

/**
 * A backup in the backup archive: a reference only. The dump itself never passes through
 * workflow history; restores find it through the catalogue entry named here.
 */
export interface BackupRef {
  id: string;
  tenant: string;
  takenAt: string;
  engine: DatabaseEngine;
  format: string;
  sizeBytes: number;
  /** Archive location: container `<tenant>-backups`, blob `dumps/<id>.dump`, entry `catalogue/<id>.json`. */
  dumpBlob: string;
  catalogueBlob: string;
}

/** What the clone learned about its tenants; filled by `check-request` and later steps. */
export interface CloneFacts {
  targetKind: TargetKind;
  /** The database engine of both tenants (a clone never crosses engines). */
  engine: DatabaseEngine;
  sourceDatabase: string;
  targetDatabase: string;
  /** The old target database's name while it is set aside. */
  setAsideDatabase: string;
  /** Whether the old target database existed (a brand-new sandbox has none). */
  targetHadDatabase: boolean;
  sourceBaseUrl: string;
  targetBaseUrl: string;
  targetCompanyName: string;
  targetSerial: string;
  targetLicense: string;
  sourceClusters: string[];
  testMailbox: string;
  /** The backup the `restore` plan restores (set by `backup-source`). */
  backup: BackupRef;
  /** This run's hold on the target (`clone-<target>/<run id>`), taken by `check-request`. */
  leaseHolder: string;
}

/**
 * The target's platform state before the clone touched it: what a rollback puts back. Kept
 * out of `facts` so it does not travel with every step, only to the compensations.
 */
export interface TargetBefore {
  hostingMode: 'running' | 'maintenance';
  clusters: string[];
  directoryState: 'Normal' | 'InMigration';
  routes: { address: string; destination: string }[];
  mailboxes: string[];
  testEnvironmentOf: string | null;
  registeredDatabase: string | null;
  users: { login: string; email: string | null; plan: string | null; enabled: boolean }[];
  company: { companyName: string; serial: string; license: string };
}

export interface StepInput {
  stepId: string;
  request: CloneRequest;
  /** Empty for `check-request`, which computes it. */
  facts: Partial<CloneFacts>;
  /** Only for compensations: the state to return to. */
  before?: TargetBefore;
  /** Only for the step that runs after the plan: how it ended. */
  ending?: { outcome: CloneOutcome; message: string | null; steps: { id: string; status: StepStatus }[] };
}

export interface StepOutput {
  /** Facts to merge for later steps. */
  facts?: Partial<CloneFacts>;
  /** One line on what the step did, shown in `progress`. */
  note?: string;
  /** Set when the step found nothing to do for this request and did nothing. */
  skipped?: string;
  /** Only from `check-request`: the target's state before the clone. */
  before?: TargetBefore;
}

export type StepActivity = (input: StepInput) => Promise<StepOutput>;

/**
 * What a running step heartbeats besides its checkpoint, read back by the client with
 * `describe()` for `status` and `watch`. Null percent: the step cannot say how far it is.
 */
export interface StepHeartbeat {
  stepId: string;
  percent: number | null;
  detail: string;
}
