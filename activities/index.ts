/**
 * Every step activity the worker registers, built from the ports. Typed against the plans'
 * activity names, so a plan naming an activity that does not exist fails to compile.
 */
import type { BackupActivities } from '../workflows/backup-tenant';
import type { ProfileCheckActivities } from '../workflows/profile-check';
import type { ActivityName } from '../workflows/plans';
import type { StepActivity } from '../workflows/step-contract';
import { archiveActivities } from './archive/activities';
import type { Archives } from './archive/port';
import { databaseActivities } from './database/activities';
import { platformActivities } from './platform/activities';
import { backupActivities } from './steps/backup';
import { checkRequestActivity } from './steps/check-request';
import type { CrossSystemDeps } from './steps/deps';
import { enterRunningModeActivity } from './steps/enter-running-mode';
import { mailAndAppActivities } from './steps/mail-and-apps';
import { profileCheckActivities } from './steps/profile-check';
import { rollbackActivities } from './steps/rollback';
import { tenantIdentityActivities } from './steps/tenant-identity';
import { keptAlive } from './step-support';
import { fenced, releaseLeaseActivity } from './steps/lease';

export interface ActivityDeps extends CrossSystemDeps {
  archives: Archives;
  taskQueue: string;
  queryRole: string;
  copyJobs: number;
  archiveConcurrency: number;
}

export function createActivities(deps: ActivityDeps): Record<ActivityName | 'releaseLease', StepActivity> & BackupActivities & ProfileCheckActivities {
  const activities = keptAlive({
    ...backupActivities(deps),
    ...profileCheckActivities(deps),
    checkRequest: checkRequestActivity(deps),
    enterRunningMode: enterRunningModeActivity(deps),
    ...databaseActivities(deps),
    ...platformActivities(deps),
    ...archiveActivities({ archives: deps.archives, concurrency: deps.archiveConcurrency }),
    ...tenantIdentityActivities(deps),
    ...mailAndAppActivities(deps),
    ...rollbackActivities(deps),
    releaseLease: releaseLeaseActivity(deps.directory),
  });
  // check-request takes the lease, releaseLease gives it back, and the requester is told however
  // the clone ended; every other step changes the target only while the lease is its own.
  return fenced(activities, deps.directory, ['checkRequest', 'releaseLease', 'notifyRequester']);
}
