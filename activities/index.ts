/**
 * Every step activity the worker registers, built from the ports. Typed against the plans'
 * activity names, so a plan naming an activity that does not exist fails to compile.
 */
import type { BackupActivities } from '../workflows/backup-tenant';
import type { ServerBackupActivities } from '../workflows/backup-server';
import type { ProfileCheckActivities } from '../workflows/profile-check';
import type { ActivityName } from '../workflows/activity-contracts';
import type { StepActivity } from '../workflows/step-contract';
import type { Archives } from './archive/port';
import { archiveActivities } from './steps/archives';
import { backupActivities } from './steps/backup';
import { checkRequestActivities } from './steps/check-request';
import { databaseActivities } from './steps/database';
import type { CrossSystemDeps } from './steps/deps';
import { enterRunningModeActivities } from './steps/enter-running-mode';
import { fenced, releaseLeaseActivities } from './steps/lease';
import { mailAndAppActivities } from './steps/mail-and-apps';
import { platformActivities } from './steps/platform';
import { profileCheckActivities } from './steps/profile-check';
import { rollbackActivities } from './steps/rollback';
import { keptAlive } from './steps/support';
import { tenantIdentityActivities } from './steps/tenant-identity';

export interface ActivityDeps extends CrossSystemDeps {
  archives: Archives;
  taskQueue: string;
  queryRole: string;
  copyJobs: number;
  /** Sanitize PostgreSQL copies in flight (worker setting SANITIZE_IN_FLIGHT). */
  sanitizeInFlight: boolean;
  archiveConcurrency: number;
  fullBackupEveryDays: number;
}

export function createActivities(deps: ActivityDeps): Record<ActivityName, StepActivity> & BackupActivities & ServerBackupActivities & ProfileCheckActivities {
  const activities = keptAlive({
    ...backupActivities(deps),
    ...profileCheckActivities(deps),
    ...checkRequestActivities(deps),
    ...enterRunningModeActivities(deps),
    ...databaseActivities(deps),
    ...platformActivities(deps),
    ...archiveActivities({ archives: deps.archives, concurrency: deps.archiveConcurrency }),
    ...tenantIdentityActivities(deps),
    ...mailAndAppActivities(deps),
    ...rollbackActivities(deps),
    ...releaseLeaseActivities(deps.directory),
  });
  // check-request takes the lease, releaseLease gives it back, and the requester is told however
  // the clone ended; every other step changes the target only while the lease is its own.
  return fenced(activities, deps.directory, ['checkRequest', 'releaseLease', 'notifyRequester']);
}
