/**
 * Backups: the dump activity of the `backupTenant` workflow, and the two clone steps of the
 * `restore` plan that use it (start or join the source's backup; restore it as the target).
 * A PostgreSQL dump goes through a local temporary file, so the restore can run in parallel.
 * A SQL Server writes its backup into the archive itself (BACKUP TO URL, with a SAS made
 * here that never leaves the activity) and leaves only a manifest in that file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { backupWorkflowId, type BackupInput, type backupTenant } from '../../workflows/backup-tenant';
import type { BackupRef } from '../../workflows/step-contract';
import type { ArchiveLocation, Archives } from '../archive/port';
import type { ServerBackupRef, ServerBackupType, TenantDatabase } from '../database/port';
import { SERVER_BACKUP_REFUSED, type ServerBackupChoice, type ServerBackupInput } from '../../workflows/backup-server';
import type { Tenant } from '../platform/port';
import { runLeaseHolder, takeLease } from './lease';
import type { CrossSystemDeps } from './deps';
import { StepReporter, databaseOn, defineSteps } from './support';

export interface BackupDeps extends CrossSystemDeps {
  archives: Archives;
  /** The task queue backups run on (the worker's own). */
  taskQueue: string;
  copyJobs: number;
  /** A server backup of type `auto` is full when the newest full one is older than this. */
  fullBackupEveryDays: number;
}

const DAY_MS = 86_400_000;

/** `auto`: a full backup when there is none, or the newest is `everyDays` old; a differential one otherwise. */
export function chooseServerBackupType(type: ServerBackupChoice, sets: ServerBackupRef[], everyDays: number, nowMs: number): ServerBackupType {
  if (type !== 'auto') return type;
  const newestFull = sets.filter((b) => b.type === 'full').at(-1);
  return !newestFull || nowMs - Date.parse(newestFull.stoppedAt) >= everyDays * DAY_MS ? 'full' : 'diff';
}

const backupsOf = (tenant: string): ArchiveLocation => ({ system: 'azure', tenant, kind: 'backups' });

/**
 * How long a database server may use the backup archive for one backup or restore (SQL Server
 * writes and reads its stripes there itself). Generous: a large backup takes hours.
 */
const SERVER_ACCESS_MS = 24 * 3600_000;

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tenant-clone-backup-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function backupActivities({ databases, directory, archives, client, taskQueue, copyJobs, fullBackupEveryDays }: BackupDeps) {
  /** Dump the tenant's database into its backup archive; the catalogue entry comes last. */
  const writeBackup = async (input: BackupInput, tenant: Tenant, db: TenantDatabase): Promise<BackupRef> => {
    const reporter = new StepReporter(input.stepId);
    const at = backupsOf(input.tenant);
    const ref: BackupRef = {
      id: input.backupId,
      tenant: input.tenant,
      takenAt: input.takenAt,
      engine: db.engine,
      format: '',
      sizeBytes: 0,
      dumpBlob: `dumps/${input.backupId}.dump`,
      catalogueBlob: `catalogue/${input.backupId}.json`,
    };
    return withTempDir(async (dir) => {
      const file = path.join(dir, 'dump');
      const dump = await db.backupDatabase(tenant.database.name, file, {
        serverTarget: { ...(await archives.serverAccess(at, SERVER_ACCESS_MS)), prefix: `dumps/${input.backupId}/` },
        signal: reporter.signal,
        onProgress: (p) => reporter.report(p.percent * 0.6, `dumping ${tenant.database.name}: ${p.detail}`),
      });
      await archives.uploadFile(at, ref.dumpBlob, file, {
        signal: reporter.signal,
        onProgress: (bytes) =>
          reporter.report(60 + (40 * bytes) / Math.max(1, dump.bytes), `uploading ${(bytes / 1048576).toFixed(1)} of ${(dump.bytes / 1048576).toFixed(1)} MiB`),
      });
      const entry: BackupRef = { ...ref, format: dump.format, sizeBytes: dump.bytes };
      // The catalogue entry is written last: a backup is listed only once its dump is whole.
      await archives.put(at, entry.catalogueBlob, JSON.stringify({ ...entry, database: tenant.database.name }, null, 2));
      return entry;
    });
  };

  const steps = defineSteps(databases, {
    async backupSource({ stepId, request }) {
      if (!client) throw new Error('backup-source needs a Temporal client');
      const source = request.source;
      // USE_EXISTING joins the source's running backup; a finished one is not reused (a clone
      // wants data as of now), so a new run starts then.
      const handle = await client.workflow.start<typeof backupTenant>('backupTenant', {
        taskQueue,
        workflowId: backupWorkflowId(source),
        args: [{ tenant: source }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        staticSummary: `Backup of ${source}`,
      });
      const reporter = new StepReporter(stepId);
      const result = handle.result();
      for (;;) {
        const done = await Promise.race([result.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 2000))]);
        if (done) break;
        // Heartbeats keep the step alive (and cancellable) while the backup runs.
        reporter.report(0, `waiting for workflow ${handle.workflowId} (run ${handle.firstExecutionRunId})`);
        if (Context.current().cancellationSignal.aborted) throw Context.current().cancellationSignal.reason;
      }
      const backup = await result;
      return { facts: { backup }, note: `backup ${backup.id} (${(backup.sizeBytes / 1048576).toFixed(1)} MiB) by workflow ${handle.workflowId}` };
    },

    async restoreBackup({ db, facts: { backup, targetDatabase }, stepId }) {
      const at = backupsOf(backup.tenant);
      const entry = await archives.getText(at, backup.catalogueBlob);
      if (entry === null) throw ApplicationFailure.nonRetryable(`backup ${backup.id} is not in the catalogue of ${backup.tenant}`, 'BackupMissing');
      const { dumpBlob } = JSON.parse(entry) as BackupRef;
      const reporter = new StepReporter(stepId);
      return withTempDir(async (dir) => {
        const file = path.join(dir, 'dump');
        await archives.downloadFile(at, dumpBlob, file, {
          signal: reporter.signal,
          onProgress: (bytes, total) =>
            reporter.report((30 * bytes) / Math.max(1, total), `downloading ${(bytes / 1048576).toFixed(1)} of ${(total / 1048576).toFixed(1)} MiB`),
        });
        const r = await db.restoreDatabase(file, targetDatabase, {
          serverSource: await archives.serverAccess(at, SERVER_ACCESS_MS),
          jobs: copyJobs,
          signal: reporter.signal,
          onProgress: (p) => reporter.report(30 + p.percent * 0.7, p.detail),
        });
        return { note: `restored backup ${backup.id} into ${targetDatabase}: ${r.tables} tables, ${(r.bytes / 1048576).toFixed(1)} MiB` };
      });
    },
  });

  return {
    async takeServerBackup(input: ServerBackupInput): Promise<ServerBackupRef & { chosen: ServerBackupType }> {
      const continuous = databases.has('postgres') ? databases.for('postgres').continuousBackup : null;
      if (!continuous) {
        throw ApplicationFailure.nonRetryable(
          'this worker has no continuous backup of the PostgreSQL tenant server configured (set PGBACKREST_STANZA, and PGBACKREST_CONFIG where its configuration file is not the default)',
          SERVER_BACKUP_REFUSED,
        );
      }
      const chosen = chooseServerBackupType(input.type, await continuous.list(), fullBackupEveryDays, Date.now());
      const reporter = new StepReporter(input.stepId);
      reporter.report(0, `${chosen} backup of stanza ${continuous.name}`);
      const ref = await continuous.take(chosen, { signal: reporter.signal, onProgress: (p) => reporter.report(p.percent, p.detail) });
      return { ...ref, chosen };
    },

    async dumpTenantDatabase(input: BackupInput): Promise<BackupRef> {
      const tenant = await directory.getTenant(input.tenant);
      if (!tenant) throw ApplicationFailure.nonRetryable(`tenant ${input.tenant} is unknown to the directory`, 'BackupRefused');
      if (!databases.has(tenant.database.engine))
        throw ApplicationFailure.nonRetryable(`${input.tenant} lives on ${tenant.database.engine}, which this worker has no server for`, 'BackupRefused');
      const db = databaseOn(databases, tenant.database.engine);
      // A dump of a database a clone is replacing would be neither the old tenant nor the new:
      // the backup owns its tenant while it runs, like a clone owns its target.
      const holder = runLeaseHolder();
      const owned = await takeLease(directory, client, input.tenant, holder);
      if (owned) throw ApplicationFailure.nonRetryable(`backup of ${input.tenant} refused: ${owned}`, 'BackupRefused');
      try {
        return await writeBackup(input, tenant, db);
      } finally {
        await directory.releaseLease(input.tenant, holder).catch(() => undefined);
      }
    },

    ...steps,
  };
}
