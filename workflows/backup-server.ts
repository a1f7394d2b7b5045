/**
 * `backupServer` (workflow id `backup-server-postgres`): a full or differential backup of the
 * whole PostgreSQL tenant server into its continuous backup's repository (pgBackRest), which,
 * with the WAL the server archives, is what every point-in-time clone restores from. A Temporal
 * Schedule runs it nightly (type `auto`: a full backup once a week, differential ones between);
 * one run at a time, since the workflow id is the lock.
 */
import { ApplicationFailure, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { ServerBackupRef, ServerBackupType } from '../activities/database/port';

export const SERVER_BACKUP_TYPES = ['auto', 'full', 'diff', 'incr'] as const;
export type ServerBackupChoice = (typeof SERVER_BACKUP_TYPES)[number];

export interface ServerBackupRequest {
  /** `auto`: full when the newest full backup is older than the worker's SERVER_BACKUP_FULL_EVERY_DAYS, else differential. */
  type?: ServerBackupChoice;
}

export interface ServerBackupInput {
  stepId: string;
  type: ServerBackupChoice;
}

export interface ServerBackupActivities {
  takeServerBackup(input: ServerBackupInput): Promise<ServerBackupRef & { chosen: ServerBackupType }>;
}

export const SERVER_BACKUP_REFUSED = 'ServerBackupRefused';
export const SERVER_BACKUP_WORKFLOW_ID = 'backup-server-postgres';
export const SERVER_BACKUP_SCHEDULE_ID = 'backup-server-postgres-nightly';

export async function backupServer(request: ServerBackupRequest = {}): Promise<ServerBackupRef> {
  const type = request?.type ?? 'auto';
  if (!(SERVER_BACKUP_TYPES as readonly string[]).includes(type)) {
    throw ApplicationFailure.nonRetryable(
      `server backup type ${JSON.stringify(type)} is invalid: expected one of ${SERVER_BACKUP_TYPES.join(', ')}`,
      SERVER_BACKUP_REFUSED,
    );
  }
  setCurrentDetails(`Backing up the PostgreSQL tenant server (**${type}**)`);
  const { takeServerBackup } = proxyActivities<ServerBackupActivities>({
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: '20s',
    retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 10, nonRetryableErrorTypes: [SERVER_BACKUP_REFUSED] },
    summary: `${type} backup of the PostgreSQL tenant server`,
  });
  const ref = await takeServerBackup({ stepId: 'server-backup', type });
  setCurrentDetails(`Backup set \`${ref.label}\` (${ref.chosen}): ${(ref.repositoryBytes / 1048576).toFixed(1)} MiB in the repository`);
  return ref;
}
