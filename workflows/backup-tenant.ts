/**
 * `backupTenant` (workflow id `backup-<tenant>`): dump a tenant's database into its backup
 * archive and write the catalogue entry. Clones of the same source join a running backup
 * instead of starting another (the id is the join point).
 */
import { ApplicationFailure, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import { stepProgressSignal } from './messages';
import { RequestError, checkTenantId } from './request';
import type { BackupRef } from './step-contract';

export interface BackupRequest {
  tenant: string;
}

export interface BackupInput {
  stepId: string;
  tenant: string;
  backupId: string;
  takenAt: string;
}

/** The activity's own contract (it is not a clone step: it has its own input). */
export interface BackupActivities {
  dumpTenantDatabase(input: BackupInput): Promise<BackupRef>;
}

export function backupWorkflowId(tenant: string): string {
  return `backup-${tenant}`;
}

export async function backupTenant(request: BackupRequest): Promise<BackupRef> {
  let tenant: string;
  try {
    tenant = checkTenantId('backup', request?.tenant);
  } catch (err) {
    if (err instanceof RequestError) throw ApplicationFailure.nonRetryable(err.message, 'BackupRefused');
    throw err;
  }
  // Workflow time: deterministic, so a replay names the same backup.
  const takenAt = new Date().toISOString();
  const backupId = `${tenant}-${takenAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${workflowInfo().runId.slice(0, 8)}`;
  setCurrentDetails(`Backing up **${tenant}** as \`${backupId}\``);
  // Progress is the dump activity's heartbeat; the signal older workers sent is ignored.
  setHandler(stepProgressSignal, () => undefined);

  const { dumpTenantDatabase } = proxyActivities<BackupActivities>({
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: '20s',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 10, nonRetryableErrorTypes: ['BackupRefused'] },
    summary: `dump ${tenant} into its backup archive`,
  });
  const ref = await dumpTenantDatabase({ stepId: 'dump', tenant, backupId, takenAt });
  setCurrentDetails(`Backup \`${ref.id}\` of **${tenant}**: ${(ref.sizeBytes / 1048576).toFixed(1)} MiB, ${ref.format}`);
  return ref;
}
