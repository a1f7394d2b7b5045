/**
 * What each step activity needs from the clone's facts and what it adds to them. The table is
 * the one place an activity's data dependencies are written: plans are checked against it when
 * they are defined (plan-check.ts), and the activities are typed by it (activities/steps/
 * support.ts), so a step reading a fact no earlier step provides fails a unit test or the
 * compiler, not a clone halfway through.
 */
import type { CloneFacts } from './step-contract';

export type Fact = keyof CloneFacts;

export interface ActivityContract {
  readonly needs: readonly Fact[];
  readonly provides: readonly Fact[];
  /** Puts back part of the target as it was; it is given the before-state `check-request` read. */
  readonly compensation?: true;
}

const needs = <const N extends readonly Fact[]>(...facts: N) => ({ needs: facts, provides: [] as const });

/** Database steps name `engine` too: it picks the adapter the step runs on. */
const onDatabase = <const N extends readonly Fact[]>(...facts: N) => needs('engine', ...facts);

export const ACTIVITY_CONTRACTS = {
  checkRequest: {
    needs: [],
    provides: [
      'engine',
      'leaseHolder',
      'targetKind',
      'sourceDatabase',
      'targetDatabase',
      'setAsideDatabase',
      'targetHadDatabase',
      'sourceBaseUrl',
      'targetBaseUrl',
      'targetCompanyName',
      'targetSerial',
      'targetLicense',
      'sourceClusters',
      'testMailbox',
    ],
  },
  backupSource: { needs: [], provides: ['backup'] },
  restoreBackup: onDatabase('backup', 'targetDatabase'),
  copyCustomerInfo: needs(),
  enterMaintenance: needs(),
  waitCustomerTasks: needs(),
  connectClusters: needs('sourceClusters'),
  removeMailRoutes: needs(),
  setAsideDatabase: onDatabase('targetDatabase', 'setAsideDatabase'),
  createDatabase: onDatabase('targetDatabase'),
  createSqlLogin: onDatabase('targetDatabase'),
  copyDatabase: onDatabase('sourceDatabase', 'targetDatabase'),
  restorePointInTime: onDatabase('sourceDatabase', 'targetDatabase'),
  prepareDatabase: onDatabase('targetDatabase', 'targetCompanyName', 'targetSerial', 'targetBaseUrl', 'sourceBaseUrl'),
  disableScheduledTasks: onDatabase('targetDatabase'),
  fixSystemUsers: onDatabase('targetDatabase'),
  restrictToAdministrator: onDatabase('targetDatabase'),
  scrubEmails: onDatabase('targetDatabase'),
  registerDirectory: onDatabase('targetDatabase'),
  replaceTestEnvironment: needs(),
  cloneTemplates: needs(),
  provisionMail: onDatabase('targetDatabase', 'testMailbox'),
  setQueryPermissions: onDatabase('targetDatabase'),
  recycle: needs(),
  changeSerial: onDatabase('targetDatabase', 'targetCompanyName', 'targetSerial', 'targetLicense'),
  setDirectoryInMigration: needs(),
  assignUserPlans: onDatabase('targetDatabase', 'targetKind'),
  syncDirectoryUsers: onDatabase('targetDatabase'),
  setDirectoryNormal: needs(),
  createPartnerSystemUsers: onDatabase('targetDatabase', 'setAsideDatabase', 'targetHadDatabase'),
  updateCompanyInfo: onDatabase('targetDatabase'),
  cloneDocumentsAzure: needs(),
  cloneDocumentsSoarc: needs(),
  cloneAttachmentsAzure: needs(),
  cloneAttachmentsSoarc: needs(),
  notifyApps: onDatabase('targetDatabase'),
  enterRunningMode: onDatabase('targetDatabase'),
  waitHostingOperations: needs(),
  dropSetAsideDatabase: onDatabase('targetDatabase', 'setAsideDatabase'),
  // Runs however the clone ended, a refusal included: it may rely on no fact at all.
  notifyRequester: needs(),
  releaseLease: needs('leaseHolder'),

  closeTarget: { ...needs(), compensation: true },
  restoreOldDatabase: { ...onDatabase('targetDatabase', 'setAsideDatabase', 'targetHadDatabase'), compensation: true },
  restoreHostingMode: { ...needs(), compensation: true },
  restoreClusters: { ...needs(), compensation: true },
  restoreMailRoutes: { ...needs(), compensation: true },
  restoreMailboxes: { ...needs(), compensation: true },
  restoreDirectory: { ...onDatabase('targetDatabase'), compensation: true },
} as const satisfies Record<string, ActivityContract>;

type Contracts = typeof ACTIVITY_CONTRACTS;

/** Every activity a clone calls, named once. */
export type ActivityName = keyof Contracts;

/** The activities that undo part of a clone (rollback). */
export type CompensationName = { [A in ActivityName]: Contracts[A] extends { compensation: true } ? A : never }[ActivityName];

export type NeedsOf<A extends ActivityName> = Contracts[A]['needs'][number];
export type ProvidesOf<A extends ActivityName> = Contracts[A]['provides'][number];
