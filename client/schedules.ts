/**
 * Recurring work as Temporal Schedules (`tenant-clone schedule …`): a sandbox refreshed from its
 * source every night, a tenant's backup, the tenant server's backup. Each is visible and
 * controllable in the Web UI's Schedules page too. A run still going when the next is due makes
 * that one skip (overlap policy skip); a refresh of a target whose clone is running skips too.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import { SERVER_BACKUP_TYPES, SERVER_BACKUP_WORKFLOW_ID, type ServerBackupChoice } from '../workflows/backup-server';
import { backupWorkflowId } from '../workflows/backup-tenant';
import { RequestError, checkTenantId, normalizeRequest, type CloneRequestInput } from '../workflows/request';

export type ScheduledWork =
  { kind: 'refresh'; request: CloneRequestInput } | { kind: 'tenant-backup'; tenant: string } | { kind: 'server-backup'; type?: ServerBackupChoice };

/** Every day at a UTC time, or a cron expression (five fields, UTC). */
export type ScheduleWhen = { at: { hour: number; minute: number } } | { cron: string };

export interface ScheduleRow {
  id: string;
  /** What it does, in words (kept in the schedule's memo). */
  what: string;
  when: string;
  paused: boolean;
  note: string | null;
  nextRuns: Date[];
  /** Its latest runs: workflow id and when each started. */
  recent: { workflowId: string; startedAt: Date }[];
}

const SCHEDULE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

function checkId(id: string): string {
  if (typeof id !== 'string' || !SCHEDULE_ID.test(id)) {
    throw new RequestError(`schedule name ${JSON.stringify(id)} is invalid: 1-63 lower-case letters, digits and '-', starting with a letter or digit`);
  }
  return id;
}

function spec(when: ScheduleWhen): { calendars?: { hour: number; minute: number }[]; cronExpressions?: string[]; text: string } {
  if ('at' in when) {
    const { hour, minute } = when.at;
    if (!Number.isInteger(hour) || hour < 0 || hour > 23 || !Number.isInteger(minute) || minute < 0 || minute > 59) {
      throw new RequestError(`time ${JSON.stringify(when.at)} is invalid: an hour 0-23 and a minute 0-59 (UTC)`);
    }
    return { calendars: [{ hour, minute }], text: `every day at ${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')} UTC` };
  }
  const cron = when.cron.trim();
  if (!/^(\S+\s+){4}\S+$/.test(cron) || !/^[\d*/,\-\sA-Za-z?]+$/.test(cron)) {
    throw new RequestError(`cron expression ${JSON.stringify(when.cron)} is invalid: five fields (minute hour day month weekday), UTC`);
  }
  return { cronExpressions: [cron], text: `cron ${cron} (UTC)` };
}

/** The workflow a schedule starts for `work`, with a line saying what it does. */
function action(work: ScheduledWork, taskQueue: string): { action: ScheduleOptionsStartWorkflowAction<never>; what: string } {
  const start = (workflowType: string, args: unknown[], workflowId: string, what: string) => ({
    action: { type: 'startWorkflow', workflowType, args, taskQueue, workflowId, staticSummary: what } as unknown as ScheduleOptionsStartWorkflowAction<never>,
    what,
  });
  switch (work.kind) {
    case 'refresh': {
      const request = normalizeRequest(work.request);
      if (request.plan === 'point-in-time') {
        throw new RequestError('a point-in-time clone restores one fixed instant, so it cannot recur: schedule a copy or restore refresh instead');
      }
      // Sent as the caller gave it, so each run applies the defaults of the workflow that runs it.
      return start('refreshSandbox', [work.request], `refresh-${request.target}`, `refresh ${request.target} from ${request.source} (${request.plan})`);
    }
    case 'tenant-backup': {
      const tenant = checkTenantId('backup', work.tenant);
      return start('backupTenant', [{ tenant }], backupWorkflowId(tenant), `backup of ${tenant} into its backup archive`);
    }
    case 'server-backup': {
      const type = work.type ?? 'auto';
      if (!(SERVER_BACKUP_TYPES as readonly string[]).includes(type)) {
        throw new RequestError(`server backup type ${JSON.stringify(type)} is invalid: expected one of ${SERVER_BACKUP_TYPES.join(', ')}`);
      }
      return start('backupServer', [{ type }], SERVER_BACKUP_WORKFLOW_ID, `${type} backup of the PostgreSQL tenant server`);
    }
  }
}

/** Create the schedule, or update the one of that name. Bad input throws RequestError before anything is sent. */
export async function putSchedule(
  client: Client,
  taskQueue: string,
  id: string,
  work: ScheduledWork,
  when: ScheduleWhen,
): Promise<{ id: string; what: string; when: string; created: boolean }> {
  checkId(id);
  const { action: act, what } = action(work, taskQueue);
  const { text, ...timing } = spec(when);
  const options = { spec: timing, action: act, policies: { overlap: 'SKIP' as const, catchupWindow: '1 hour' as const }, memo: { what, when: text } };
  try {
    await client.schedule.create({ scheduleId: id, ...options });
    return { id, what, when: text, created: true };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(id).update((prev) => ({ ...prev, spec: timing, action: act, policies: { ...prev.policies, ...options.policies } }));
    return { id, what, when: text, created: false };
  }
}

export async function listSchedules(client: Client): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for await (const s of client.schedule.list()) {
    const memo = (s.memo ?? {}) as { what?: string; when?: string };
    const act = s.action as { workflowType?: string } | undefined;
    rows.push({
      id: s.scheduleId,
      what: memo.what ?? `starts ${act?.workflowType ?? 'a workflow'}`,
      when: memo.when ?? '',
      paused: s.state.paused,
      note: s.state.note ?? null,
      nextRuns: s.info.nextActionTimes,
      recent: s.info.recentActions.map((r) => ({
        workflowId: (r.action as { workflow?: { workflowId?: string } }).workflow?.workflowId ?? '',
        startedAt: r.takenAt,
      })),
    });
  }
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}

async function existing(client: Client, id: string) {
  checkId(id);
  const handle = client.schedule.getHandle(id);
  try {
    await handle.describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new RequestError(`there is no schedule ${id} (tenant-clone schedule list shows them)`);
    throw err;
  }
  return handle;
}

export async function pauseSchedule(client: Client, id: string, note = 'paused with tenant-clone'): Promise<void> {
  await (await existing(client, id)).pause(note);
}

export async function unpauseSchedule(client: Client, id: string, note = 'unpaused with tenant-clone'): Promise<void> {
  await (await existing(client, id)).unpause(note);
}

export async function deleteSchedule(client: Client, id: string): Promise<void> {
  await (await existing(client, id)).delete();
}

/** Run it once now, whatever its timing (a paused schedule too). */
export async function triggerSchedule(client: Client, id: string): Promise<void> {
  await (await existing(client, id)).trigger();
}
