/**
 * Clone plans as data: the ordered steps, each naming its activity and its timeout / retry /
 * heartbeat class. Step ids are stable: they appear in the Web UI, in `status --json` and in
 * tests, so renaming one breaks running clones and users' scripts.
 */
import type { ActivityName, CompensationName } from './activity-contracts';
import { checkPlan } from './plan-check';
import type { CloneRequest, PlanId } from './request';

/** How long a step may take and how it is retried; see `activityOptionsFor` in the workflow. */
export type StepClass =
  /** A single call to a service or a database: seconds. */
  | 'quick'
  /** Polls until something outside happens (tasks finish, hosting applies a change). */
  | 'wait'
  /** Moves data: heartbeats with progress and resumes from its checkpoint. */
  | 'long';

/**
 * The parts a step plays in the safety invariants (SPEC §4) and the saga. The workflow finds
 * steps by role, never by id, so a plan may rename or move them and stay guarded.
 */
export type StepRole =
  /** The gate: refuses before anything is touched, and reads the before-state. First in every plan. */
  | 'checks-request'
  /** Takes the target offline for the clone. */
  | 'takes-target-offline'
  /** Moves the old target database out of the way; it is kept for rollback. */
  | 'sets-aside-database'
  /** Rewrites every address, and checks none is left. */
  | 'scrubs-addresses'
  /** Disables scheduled tasks and withholds batch jobs. */
  | 'disables-tasks'
  /** Opens the target to its users: only after the scrub and the task disabling are done. */
  | 'opens-target'
  /** Drops the set-aside database: where `--retain-old-database` waits. */
  | 'drops-set-aside-database';

/** Why a step may be left out for a given request. */
export type StepCondition = 'documents' | 'attachments' | 'scheduled-tasks' | 'running-mode';

export interface PlanStep {
  id: string;
  activity: ActivityName;
  /** The seed's wording, shown in the Web UI and the CLI. */
  title: string;
  class: StepClass;
  /** Optional document copies: skipped by request or by the `skipOptionalDocuments` signal. */
  optionalDocuments?: boolean;
  condition?: StepCondition;
  /** What the workflow and the plan check rely on this step for; see StepRole. */
  role?: StepRole;
  /**
   * The compensation that undoes this step's effect on a cancel or failure. Several steps
   * share one (every database step is undone by putting the old database back); steps whose
   * effect cannot be taken back (archive copies, sent webhooks) have none.
   */
  undo?: CompensationName;
}

export interface Plan {
  id: PlanId;
  /**
   * Which version of the plan: a clone keeps the version it started with to its end (see
   * plan-versions.ts), so a changed plan never changes the steps of a running clone.
   */
  version: number;
  steps: PlanStep[];
  /** Runs after the plan whatever its outcome (requester notice). */
  finally: PlanStep;
}

const s = (id: string, activity: ActivityName, title: string, cls: StepClass = 'quick', extra: Partial<PlanStep> = {}): PlanStep => ({
  id,
  activity,
  title,
  class: cls,
  ...extra,
});

/** A plan, checked as it is defined: a plan that breaks an invariant or a data dependency never loads. */
export function definePlan(plan: Plan): Plan {
  checkPlan(plan);
  return plan;
}

const DB: Partial<PlanStep> = { undo: 'restoreOldDatabase' };
const DIRECTORY: Partial<PlanStep> = { undo: 'restoreDirectory' };

/**
 * Every step, defined once: a plan is an ordered pick from here, so a step shared by several
 * plans is the same step (same activity, class, undo) in all of them.
 */
export const STEP = {
  // `wait`: it heartbeats while it reads the whole source for addresses at the sandbox domain.
  checkRequest: s('check-request', 'checkRequest', 'Check the request against the directory (nothing is touched before this passes)', 'wait', {
    role: 'checks-request',
  }),
  backupSource: s('backup-source', 'backupSource', "Wait for saga 'Backup Source Customer' to complete", 'long'),
  enterMaintenance: s('enter-maintenance', 'enterMaintenance', 'Wait for customer tasks to complete and enter offline maintenance mode', 'wait', {
    role: 'takes-target-offline',
    undo: 'restoreHostingMode',
  }),
  waitCustomerTasks: s('wait-customer-tasks', 'waitCustomerTasks', 'Wait for customer task to complete', 'wait'),
  connectClusters: s('connect-clusters', 'connectClusters', 'Connecting customer to old clusters', 'wait', { undo: 'restoreClusters' }),
  removeMailRoutes: s('remove-mail-routes', 'removeMailRoutes', 'Remove mail routes', 'quick', { undo: 'restoreMailRoutes' }),
  setAsideDatabase: s('set-aside-database', 'setAsideDatabase', 'Drop database (set aside for rollback; dropped only after success)', 'quick', {
    ...DB,
    role: 'sets-aside-database',
  }),
  createDatabase: s('create-database', 'createDatabase', 'Create customer database', 'quick', DB),
  createSqlLogin: s('create-sql-login', 'createSqlLogin', 'Create SQL login', 'quick', DB),
  copyDatabase: s('copy-database', 'copyDatabase', 'Copy customer database from source to target', 'long', DB),
  restoreBackup: s('restore-backup', 'restoreBackup', 'Restore customer backup from source', 'long', DB),
  restorePointInTime: s('restore-point-in-time', 'restorePointInTime', 'Restore customer database as it was at the point in time (seed 003)', 'long', DB),
  prepareDatabase: s('prepare-database', 'prepareDatabase', 'Prepare cloned database for target customer', 'quick', DB),
  copyCustomerInfo: s('copy-customer-info', 'copyCustomerInfo', 'Copy Customer Info', 'quick', DIRECTORY),
  // Seed 002 creates the login twice: the copy brings the source's grants, so the target's
  // login is made owner again after the database has been prepared.
  recreateSqlLogin: s('recreate-sql-login', 'createSqlLogin', 'Create SQL login (again, after the copy)', 'quick', DB),
  disableScheduledTasks: s('disable-scheduled-tasks', 'disableScheduledTasks', 'Disable scheduled tasks', 'quick', {
    ...DB,
    condition: 'scheduled-tasks',
    role: 'disables-tasks',
  }),
  fixSystemUsers: s('fix-system-users', 'fixSystemUsers', 'Fix system users', 'quick', DB),
  restrictToAdministrator: s(
    'disable-users',
    'restrictToAdministrator',
    "All users except the admin set to Disabled; the admin reset to the target environment's",
    'quick',
    DB,
  ),
  scrubEmails: s('scrub-emails', 'scrubEmails', "Replacing all personal email domains with '@mailinator.com'", 'long', { ...DB, role: 'scrubs-addresses' }),
  registerDirectory: s('register-directory', 'registerDirectory', 'Register customer in SuperID', 'quick', DIRECTORY),
  replaceTestEnvironment: s('replace-test-environment', 'replaceTestEnvironment', 'Replace test environment in SuperID', 'quick', DIRECTORY),
  cloneTemplates: s('clone-templates', 'cloneTemplates', 'Clone Azure templates from source', 'long'),
  provisionMail: s('provision-mail', 'provisionMail', 'Verify or provision mail service', 'quick', { undo: 'restoreMailboxes' }),
  setQueryPermissions: s('set-query-permissions', 'setQueryPermissions', 'Set database permissions for customer query', 'quick', DB),
  recycle: s('recycle', 'recycle', 'Recycle customer', 'wait'),
  changeSerial: s('change-serial', 'changeSerial', 'Change serial number to Test Env - COMPANY/SERIAL', 'quick', DB),
  directoryInMigration: s('directory-in-migration', 'setDirectoryInMigration', 'Set SuperID tenant state to In migration', 'quick', DIRECTORY),
  assignUserPlans: s('assign-user-plans', 'assignUserPlans', 'Assign user plans', 'quick', DB),
  syncDirectoryUsers: s('sync-directory-users', 'syncDirectoryUsers', 'Sync customer SuperID users', 'quick', DIRECTORY),
  directoryNormal: s('directory-normal', 'setDirectoryNormal', 'Set SuperID tenant state to Normal', 'quick', DIRECTORY),
  createPartnerSystemUsers: s('create-partner-system-users', 'createPartnerSystemUsers', 'Create partner system users from app authorizations', 'quick', DB),
  updateCompanyInfo: s('update-company-info', 'updateCompanyInfo', 'Update company info and license', 'quick', DIRECTORY),
  cloneDocumentsAzure: s('clone-documents-azure', 'cloneDocumentsAzure', 'Clone Azure documents (optional)', 'long', {
    optionalDocuments: true,
    condition: 'documents',
  }),
  cloneDocumentsSoarc: s('clone-documents-soarc', 'cloneDocumentsSoarc', 'Clone SoArc documents (optional)', 'long', {
    optionalDocuments: true,
    condition: 'documents',
  }),
  cloneAttachmentsAzure: s('clone-attachments-azure', 'cloneAttachmentsAzure', 'Clone all Azure attachments or EjPackages', 'long', {
    condition: 'attachments',
  }),
  cloneAttachmentsSoarc: s('clone-attachments-soarc', 'cloneAttachmentsSoarc', 'Clone SoArc attachments', 'long', { condition: 'attachments' }),
  notifyApps: s('notify-apps', 'notifyApps', 'Notify apps about changing state with BackupRestored'),
  enterRunningMode: s('enter-running-mode', 'enterRunningMode', 'Enter running mode', 'wait', {
    condition: 'running-mode',
    role: 'opens-target',
    undo: 'closeTarget',
  }),
  waitHostingOperations: s('wait-hosting-operations', 'waitHostingOperations', "Wait for customer's IIS ApplicationHost.config operations", 'wait'),
  dropSetAsideDatabase: s('drop-set-aside-database', 'dropSetAsideDatabase', 'Drop the old target database set aside at the start', 'quick', {
    role: 'drops-set-aside-database',
  }),
  notifyRequester: s('notify-requester', 'notifyRequester', 'Tell the requester how the clone ended'),
} satisfies Record<string, PlanStep>;

/** Seed 002 (version 10): the 33 steps of the copy-based clone, in their order. */
export const copyPlan: Plan = definePlan({
  id: 'copy',
  version: 1,
  steps: [
    STEP.checkRequest,
    STEP.enterMaintenance,
    STEP.waitCustomerTasks,
    STEP.connectClusters,
    STEP.removeMailRoutes,
    STEP.setAsideDatabase,
    STEP.createDatabase,
    STEP.createSqlLogin,
    STEP.copyDatabase,
    STEP.prepareDatabase,
    STEP.recreateSqlLogin,
    STEP.disableScheduledTasks,
    STEP.fixSystemUsers,
    STEP.scrubEmails,
    STEP.registerDirectory,
    STEP.replaceTestEnvironment,
    STEP.cloneTemplates,
    STEP.provisionMail,
    STEP.setQueryPermissions,
    STEP.recycle,
    STEP.changeSerial,
    STEP.directoryInMigration,
    STEP.assignUserPlans,
    STEP.syncDirectoryUsers,
    STEP.directoryNormal,
    STEP.createPartnerSystemUsers,
    STEP.updateCompanyInfo,
    STEP.cloneDocumentsAzure,
    STEP.cloneDocumentsSoarc,
    STEP.cloneAttachmentsAzure,
    STEP.cloneAttachmentsSoarc,
    STEP.notifyApps,
    STEP.enterRunningMode,
    STEP.waitHostingOperations,
    STEP.dropSetAsideDatabase,
  ],
  finally: STEP.notifyRequester,
});

/**
 * Seeds 000/001: the restore-based clone to a production sandbox or a test environment, in
 * their order. The tool adds `check-request` first and, around the restore,
 * `set-aside-database` / `create-database` (the old target is kept for rollback) and
 * `prepare-database` (the restored copy still holds the source's credentials, webhooks and
 * URLs, which must go before anything runs).
 */
export const restorePlan: Plan = definePlan({
  id: 'restore',
  version: 1,
  steps: [
    STEP.checkRequest,
    STEP.backupSource,
    STEP.enterMaintenance,
    STEP.waitCustomerTasks,
    STEP.connectClusters,
    STEP.setAsideDatabase,
    STEP.createDatabase,
    STEP.restoreBackup,
    STEP.prepareDatabase,
    STEP.copyCustomerInfo,
    STEP.createSqlLogin,
    STEP.fixSystemUsers,
    STEP.scrubEmails,
    STEP.registerDirectory,
    STEP.cloneTemplates,
    STEP.provisionMail,
    STEP.disableScheduledTasks,
    STEP.recycle,
    STEP.changeSerial,
    STEP.directoryInMigration,
    STEP.assignUserPlans,
    STEP.syncDirectoryUsers,
    STEP.directoryNormal,
    STEP.createPartnerSystemUsers,
    STEP.updateCompanyInfo,
    STEP.cloneAttachmentsSoarc,
    STEP.notifyApps,
    STEP.enterRunningMode,
    STEP.dropSetAsideDatabase,
  ],
  finally: STEP.notifyRequester,
});

/**
 * Seed 003: the point-in-time restore of a production (or sandbox) tenant into a sandbox. The
 * preflight is part of `check-request`; the restore reads the source's continuous backup
 * (`restore-point-in-time`); seed 003's data rules are the point-in-time profile's, and its
 * users rule is `disable-users`. No blob archive is copied: the target keeps its own documents.
 * Around the restore, as in the other plans, the old target database is set aside, and a
 * cancel or failure puts it and the platform state back.
 */
export const pointInTimePlan: Plan = definePlan({
  id: 'point-in-time',
  version: 1,
  steps: [
    STEP.checkRequest,
    STEP.enterMaintenance,
    STEP.waitCustomerTasks,
    STEP.connectClusters,
    STEP.setAsideDatabase,
    STEP.createDatabase,
    STEP.restorePointInTime,
    STEP.prepareDatabase,
    STEP.createSqlLogin,
    STEP.fixSystemUsers,
    STEP.disableScheduledTasks,
    STEP.restrictToAdministrator,
    STEP.scrubEmails,
    STEP.registerDirectory,
    STEP.provisionMail,
    STEP.setQueryPermissions,
    STEP.recycle,
    STEP.changeSerial,
    STEP.directoryInMigration,
    STEP.assignUserPlans,
    STEP.syncDirectoryUsers,
    STEP.directoryNormal,
    STEP.createPartnerSystemUsers,
    STEP.updateCompanyInfo,
    STEP.notifyApps,
    STEP.enterRunningMode,
    STEP.waitHostingOperations,
    STEP.dropSetAsideDatabase,
  ],
  finally: STEP.notifyRequester,
});

/**
 * Every version of every plan, oldest first. To change a plan, add a version here (never edit
 * one a clone may be running): plan-versions.ts picks the newest for a new clone and the one it
 * started with for a running one.
 */
export const PLANS: PlanCatalogue = { copy: [copyPlan], restore: [restorePlan], 'point-in-time': [pointInTimePlan] };

export type PlanCatalogue = Partial<Record<PlanId, readonly Plan[]>>;

/** Why `step` does not apply to `request`, or null when it runs. */
export function skipReason(step: PlanStep, request: CloneRequest): string | null {
  switch (step.condition) {
    case 'documents':
      return request.documents === 'none' ? 'documents: none was requested' : null;
    case 'attachments':
      return request.attachmentModules.length === 0 ? 'no attachment modules were chosen' : null;
    case 'scheduled-tasks':
      return request.keepScheduledTasks ? 'the request keeps scheduled tasks' : null;
    case 'running-mode':
      return request.enterRunningMode ? null : 'the request says stay offline';
    default:
      return null;
  }
}
