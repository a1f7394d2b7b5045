/**
 * The typed client library for internal services (admin portal, self-service wizard) and the
 * command line: start, watch, skip documents, cancel and list clones.
 */
import {
  ActivityFailure,
  CancelledFailure,
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import {
  CLONE_CANCELLED,
  CLONE_REFUSED,
  cancelSignal,
  cancelUpdate,
  progressQuery,
  rollbackSignal,
  rollbackUpdate,
  skipOptionalDocumentsSignal,
  skipOptionalDocumentsUpdate,
  type CloneProgress,
  type UpdateAnswer,
} from '../workflows/messages';
import { RequestError, cloneWorkflowId, normalizeRequest, type CloneRequest, type CloneRequestInput, type PlanId } from '../workflows/request';
import { ClonePlan, CloneSource, CloneStep, CloneTarget } from '../workflows/search-attributes';
import { randomUUID } from 'node:crypto';
import { clientConnectionOptions, temporalTarget } from './connection';
import { dataConverterFrom } from './payload-codec';
import { startTracing, type Tracing } from './tracing';
import { withLiveProgress } from './live-progress';
import type { backupServer, backupTenant, checkProfile, cloneTenant } from '../workflows';
import { SERVER_BACKUP_SCHEDULE_ID, SERVER_BACKUP_TYPES, SERVER_BACKUP_WORKFLOW_ID, type ServerBackupChoice } from '../workflows/backup-server';
import {
  deleteSchedule,
  listSchedules,
  pauseSchedule,
  putSchedule,
  triggerSchedule,
  unpauseSchedule,
  type ScheduleRow,
  type ScheduleWhen,
  type ScheduledWork,
} from './schedules';
import { PROFILE_CHECK_REFUSED, type ProfileCheckReport } from '../workflows/profile-check';
import { backupWorkflowId } from '../workflows/backup-tenant';
import { checkTenantId } from '../workflows/request';
import type { BackupRef } from '../workflows/step-contract';

export { RequestError } from '../workflows/request';
export type { CloneProgress, StepProgress } from '../workflows/messages';
export type { ProfileCheckReport } from '../workflows/profile-check';

/** The clone was refused before anything was touched (bad input or a check against the directory). */
export class CloneRefusedError extends Error {
  override name = 'CloneRefusedError';
}
/** A clone of this target is already running: one at a time per target. */
export class CloneAlreadyRunningError extends Error {
  override name = 'CloneAlreadyRunningError';
}
export class CloneNotFoundError extends Error {
  override name = 'CloneNotFoundError';
}
export { TemporalSettingsError } from './connection';
export { PayloadKeyError } from './payload-codec';
export type { ScheduleRow, ScheduleWhen, ScheduledWork } from './schedules';

export class ServerUnreachableError extends Error {
  override name = 'ServerUnreachableError';
}

/** A request refused after the clone `progress` speaks of: it touched nothing. */
export interface Refusal {
  runId: string;
  at: string | null;
  message: string;
}

/** `progress` as `status` shows it: which run it is, and the refusals since. */
export interface CloneStatus extends CloneProgress {
  runId: string;
  laterRefusals: Refusal[];
}

/** How far back `status` looks for the clone before a series of refusals. */
const MAX_RUNS_LOOKED_AT = 50;

export type FinalOutcome = { outcome: 'done'; progress: CloneProgress } | { outcome: 'failed' | 'cancelled' | 'refused'; message: string };

export interface ConnectOptions {
  /** Override the Temporal profile's address and namespace, or pick another profile (see connection.ts). */
  address?: string;
  namespace?: string;
  profile?: string;
  /** Where the Temporal settings are read from; default process.env. */
  env?: Record<string, string | undefined>;
  taskQueue?: string;
}

export interface CloneSummary {
  target: string;
  source: string;
  plan: string;
  status: string;
  step: string | null;
  startTime: Date;
  closeTime: Date | null;
}

/** A workflow that does not exist: the SDK says so as an error class or as gRPC NOT_FOUND, depending on the call. */
const GRPC_NOT_FOUND = 5;
function isNotFound(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  const cause = (err as { cause?: unknown })?.cause;
  const grpc = isGrpcServiceError(err) ? err : isGrpcServiceError(cause) ? cause : null;
  return grpc?.code === GRPC_NOT_FOUND;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function staticSummary(r: CloneRequest): string {
  return `Clone ${r.source} → ${r.target} (${r.plan})`;
}

function staticDetails(r: CloneRequest): string {
  // The blank line matters: the Web UI's markdown runs a list straight after a line into it.
  return [
    `**${staticSummary(r)}**`,
    '',
    `- target kind: ${r.targetKind ?? 'as recorded in the directory'}`,
    `- mail domain: @${r.mailDomain}`,
    `- documents: ${r.documents}; attachment modules: ${r.attachmentModules.join(', ') || 'none'}`,
    `- scheduled tasks: ${r.keepScheduledTasks ? 'kept' : 'disabled'}; running mode at the end: ${r.enterRunningMode ? 'yes' : 'no (stays offline)'}`,
    r.pointInTime ? `- point in time: ${r.pointInTime}` : '',
    r.requestedBy ? `- requested by: ${r.requestedBy}` : '',
  ]
    .filter((line, i) => i === 1 || line !== '')
    .join('\n');
}

/** Map a closed workflow's failure to what the user needs to know. */
export function describeFailure(err: unknown): FinalOutcome {
  if (err instanceof WorkflowFailedError) {
    const cause = err.cause;
    if (cause instanceof CancelledFailure) return { outcome: 'cancelled', message: 'cancelled from Temporal' };
    if (cause instanceof ApplicationFailure) {
      const outcome = cause.type === CLONE_REFUSED ? 'refused' : cause.type === CLONE_CANCELLED ? 'cancelled' : 'failed';
      return { outcome, message: cause.message };
    }
    // An activity's own failure (a backup of an unknown tenant…) says what failed, not "Activity task failed".
    if (cause instanceof ActivityFailure && cause.cause) return { outcome: 'failed', message: cause.cause.message };
    return { outcome: 'failed', message: cause?.message ?? err.message };
  }
  throw err;
}

export class TenantCloneClient {
  private constructor(
    readonly client: Client,
    private readonly connection: Connection,
    readonly taskQueue: string,
    private readonly tracing: Tracing | null = null,
  ) {}

  static async connect(opts: ConnectOptions = {}): Promise<TenantCloneClient> {
    const env = opts.env ?? process.env;
    const target = temporalTarget({ env, address: opts.address, namespace: opts.namespace, profile: opts.profile });
    let connection: Connection;
    try {
      connection = await Connection.connect({ ...clientConnectionOptions(target), connectTimeout: '5s' });
    } catch (err) {
      throw new ServerUnreachableError(`cannot reach the Temporal server at ${target.summary}: ${(err as Error).message}`);
    }
    // With an OTLP exporter configured, a start opens the clone's trace (client/tracing.ts).
    const tracing = startTracing(env, 'tenant-clone-client');
    const client = new Client({
      connection,
      namespace: target.namespace,
      dataConverter: dataConverterFrom(env),
      interceptors: tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] } : undefined,
    });
    return new TenantCloneClient(client, connection, opts.taskQueue ?? env.TASK_QUEUE ?? 'tenant-clone', tracing);
  }

  async close(): Promise<void> {
    await this.tracing?.shutdown();
    await this.connection.close();
  }

  handle(target: string): WorkflowHandle<typeof cloneTenant> {
    return this.client.workflow.getHandle<typeof cloneTenant>(cloneWorkflowId(target));
  }

  /**
   * Start a clone. Bad input throws RequestError before anything is sent; a second clone of a
   * running target throws CloneAlreadyRunningError. With `waitForAcceptance` (default), returns
   * only once `check-request` has passed, and throws CloneRefusedError if it refused.
   */
  async start(input: CloneRequestInput, opts: { waitForAcceptance?: boolean } = {}): Promise<WorkflowHandle<typeof cloneTenant>> {
    const request = normalizeRequest(input);
    let handle: WorkflowHandle<typeof cloneTenant>;
    try {
      handle = await this.client.workflow.start<typeof cloneTenant>('cloneTenant', {
        args: [request],
        taskQueue: this.taskQueue,
        workflowId: cloneWorkflowId(request.target),
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        staticSummary: staticSummary(request),
        staticDetails: staticDetails(request),
        typedSearchAttributes: [
          { key: CloneSource, value: request.source },
          { key: CloneTarget, value: request.target },
          { key: ClonePlan, value: request.plan },
          { key: CloneStep, value: 'queued' },
        ],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new CloneAlreadyRunningError(
          `a clone of ${request.target} is already running (workflow ${cloneWorkflowId(request.target)}): watch it with \`tenant-clone watch ${request.target}\` or cancel it first`,
        );
      }
      throw err;
    }
    if (opts.waitForAcceptance !== false) await this.waitForAcceptance(handle);
    return handle;
  }

  private async waitForAcceptance(handle: WorkflowHandle<typeof cloneTenant>): Promise<void> {
    for (;;) {
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') {
        const end = await this.result(handle.workflowId.replace(/^clone-/, ''));
        if (end.outcome === 'refused') throw new CloneRefusedError(end.message);
        return;
      }
      const progress = await handle.query(progressQuery).catch(() => null);
      // Every plan's first step is the request check (workflows/plan-check.ts).
      const check = progress?.steps[0];
      if (check?.status === 'done') return;
      // Refused (or cancelled meanwhile): the clone is ending; its result says why.
      if (check?.status === 'failed') {
        const end = await this.result(handle.workflowId.replace(/^clone-/, ''));
        if (end.outcome === 'refused') throw new CloneRefusedError(end.message);
        return;
      }
      await sleep(250);
    }
  }

  /**
   * The clone's progress, the running step's percent and detail read from its heartbeat; works
   * on running and on closed clones (it needs a worker). It speaks of the newest run that was not
   * refused: a refusal touched nothing, so the clone before it still says what the target is.
   * Refusals since then are listed in `laterRefusals`.
   */
  async progress(target: string): Promise<CloneStatus> {
    const { handle, runId, laterRefusals, refused } = await this.currentRun(target);
    let progress: CloneProgress;
    try {
      progress = await handle.query(progressQuery);
    } catch (err) {
      // Refused before it had any progress to show (a malformed request sent around the client).
      if (refused) throw new CloneRefusedError(`no clone of ${target} has run since its last request was refused: ${refused.message}`);
      throw err;
    }
    return { ...(await withLiveProgress(this.client, handle, progress)), runId, laterRefusals };
  }

  /** The Temporal status of the run `progress` speaks of. */
  async workflowStatus(target: string): Promise<string> {
    const { handle } = await this.currentRun(target);
    return (await handle.describe()).status.name;
  }

  /** The newest run of the target's clone that was not refused, or the newest run if all were. */
  private async currentRun(
    target: string,
  ): Promise<{ handle: WorkflowHandle<typeof cloneTenant>; runId: string; laterRefusals: Refusal[]; refused: Refusal | null }> {
    const workflowId = cloneWorkflowId(target);
    let latest;
    try {
      latest = await this.handle(target).describe();
    } catch (err) {
      if (isNotFound(err)) throw new CloneNotFoundError(`no clone of ${target} was found`);
      throw err;
    }
    const at = (runId: string) => this.client.workflow.getHandle<typeof cloneTenant>(workflowId, runId);
    const refusal = async (runId: string, status: string, closeTime: Date | undefined): Promise<Refusal | null> => {
      if (status !== 'FAILED') return null;
      const end = await this.runResult(at(runId));
      return end.outcome === 'refused' ? { runId, at: closeTime?.toISOString() ?? null, message: end.message } : null;
    };
    const first = await refusal(latest.runId, latest.status.name, latest.closeTime);
    if (!first) return { handle: at(latest.runId), runId: latest.runId, laterRefusals: [], refused: null };
    const laterRefusals = [first];
    const earlier = [];
    for await (const wf of this.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      if (wf.runId !== latest.runId && wf.startTime < latest.startTime) earlier.push(wf);
      if (earlier.length >= MAX_RUNS_LOOKED_AT) break;
    }
    earlier.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
    for (const wf of earlier) {
      const r = await refusal(wf.runId, wf.status.name, wf.closeTime);
      if (!r) return { handle: at(wf.runId), runId: wf.runId, laterRefusals, refused: null };
      laterRefusals.push(r);
    }
    return { handle: at(latest.runId), runId: latest.runId, laterRefusals: laterRefusals.slice(1), refused: first };
  }

  /** Wait for the newest run of the target's clone to end (`runId`: that run instead). */
  async result(target: string, runId?: string): Promise<FinalOutcome> {
    try {
      return await this.runResult(this.client.workflow.getHandle<typeof cloneTenant>(cloneWorkflowId(target), runId));
    } catch (err) {
      if (isNotFound(err)) throw new CloneNotFoundError(`no clone of ${target} was found`);
      throw err;
    }
  }

  private async runResult(handle: WorkflowHandle<typeof cloneTenant>): Promise<FinalOutcome> {
    try {
      const r = await handle.result();
      return { outcome: 'done', progress: r.progress };
    } catch (err) {
      if (isNotFound(err)) throw err;
      return describeFailure(err);
    }
  }

  async skipDocuments(target: string): Promise<void> {
    await this.ask(
      target,
      (h) => h.executeUpdate(skipOptionalDocumentsUpdate, { args: [{}] }),
      (h) => h.signal(skipOptionalDocumentsSignal),
    );
  }

  async cancel(target: string, reason?: string): Promise<void> {
    await this.ask(
      target,
      (h) => h.executeUpdate(cancelUpdate, { args: [reason === undefined ? {} : { reason }] }),
      (h) => h.signal(cancelSignal, { reason }),
    );
  }

  /**
   * Undo a finished clone whose old database is still retained (`retainOldDatabaseFor`):
   * the old database comes back and the target's platform state is restored.
   */
  async rollback(target: string, reason?: string): Promise<void> {
    const p = await this.progress(target);
    if (p.outcome !== 'running' || !p.retainedUntil) {
      throw new CloneNotFoundError(
        `nothing to roll back: the clone of ${target} is ${p.outcome === 'running' ? 'still running (use cancel)' : p.outcome} and keeps no old database`,
      );
    }
    await this.ask(
      target,
      (h) => h.executeUpdate(rollbackUpdate, { args: [reason === undefined ? {} : { reason }] }),
      (h) => h.signal(rollbackSignal, { reason }),
    );
  }

  /**
   * Ask a running clone through its update, which answers (a refusal names why); a clone
   * started before the updates existed only has the signal, which is sent instead.
   */
  private async ask(
    target: string,
    update: (h: WorkflowHandle<typeof cloneTenant>) => Promise<UpdateAnswer>,
    signal: (h: WorkflowHandle<typeof cloneTenant>) => Promise<void>,
  ): Promise<void> {
    const status = await this.workflowStatus(target);
    if (status !== 'RUNNING') throw new CloneNotFoundError(`the clone of ${target} is not running (it is ${status.toLowerCase()})`);
    const h = this.handle(target);
    let answer: UpdateAnswer;
    try {
      answer = await update(h);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && /update type .* not found|unknown update|no handler/i.test(err.cause?.message ?? '')) return signal(h);
      if (err instanceof WorkflowUpdateFailedError) throw new RequestError(err.cause?.message ?? err.message);
      throw err;
    }
    if (!answer.accepted) throw new CloneNotFoundError(`the clone of ${target} did not take it: ${answer.message}`);
  }

  /**
   * Start the tenant's backup, or join the one already running (same workflow id), and
   * return its handle; `result()` gives the backup's catalogue reference.
   */
  async backup(tenant: string): Promise<WorkflowHandleWithFirstExecutionRunId<typeof backupTenant>> {
    checkTenantId('backup', tenant);
    return this.client.workflow.start<typeof backupTenant>('backupTenant', {
      args: [{ tenant }],
      taskQueue: this.taskQueue,
      workflowId: backupWorkflowId(tenant),
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `Backup of ${tenant}`,
    });
  }

  /**
   * Start a backup of the whole PostgreSQL tenant server into its continuous backup (the base of
   * every point-in-time clone), or join the one already running.
   */
  async backupServer(type: ServerBackupChoice = 'auto'): Promise<WorkflowHandleWithFirstExecutionRunId<typeof backupServer>> {
    if (!(SERVER_BACKUP_TYPES as readonly string[]).includes(type)) {
      throw new RequestError(`server backup type ${JSON.stringify(type)} is invalid: expected one of ${SERVER_BACKUP_TYPES.join(', ')}`);
    }
    return this.client.workflow.start<typeof backupServer>('backupServer', {
      args: [{ type }],
      taskQueue: this.taskQueue,
      workflowId: SERVER_BACKUP_WORKFLOW_ID,
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `${type} backup of the PostgreSQL tenant server`,
    });
  }

  /**
   * Create (or update) the Temporal Schedule that backs up the tenant server every night at
   * `hour:minute` UTC, type auto (full weekly, differential between). Returns the schedule id.
   */
  async scheduleServerBackups(at: { hour: number; minute: number } = { hour: 1, minute: 0 }): Promise<string> {
    return (await putSchedule(this.client, this.taskQueue, SERVER_BACKUP_SCHEDULE_ID, { kind: 'server-backup', type: 'auto' }, { at })).id;
  }

  /** Recurring refreshes and backups as Temporal Schedules (schedules.ts); bad input throws RequestError. */
  putSchedule(id: string, work: ScheduledWork, when: ScheduleWhen) {
    return putSchedule(this.client, this.taskQueue, id, work, when);
  }

  listSchedules(): Promise<ScheduleRow[]> {
    return listSchedules(this.client);
  }

  pauseSchedule(id: string, note?: string): Promise<void> {
    return pauseSchedule(this.client, id, note);
  }

  unpauseSchedule(id: string, note?: string): Promise<void> {
    return unpauseSchedule(this.client, id, note);
  }

  deleteSchedule(id: string): Promise<void> {
    return deleteSchedule(this.client, id);
  }

  triggerSchedule(id: string): Promise<void> {
    return triggerSchedule(this.client, id);
  }

  async backupResult(tenant: string): Promise<BackupRef> {
    return this.client.workflow.getHandle<typeof backupTenant>(backupWorkflowId(tenant)).result();
  }

  /**
   * What a clone of `tenant` would meet, read-only (`tenant-clone profile check`): every column
   * holding addresses with its count and whether the profile covers it, and every reason the
   * clone would be refused or fail (`problems`, empty when it would pass). The worker reads the
   * database: its credentials never leave it. An unknown tenant throws CloneRefusedError.
   */
  async checkProfile(tenant: string, opts: { mailDomain?: string; plan?: PlanId } = {}): Promise<ProfileCheckReport> {
    checkTenantId('checked', tenant);
    try {
      return await this.client.workflow.execute<typeof checkProfile>('checkProfile', {
        args: [{ tenant, mailDomain: opts.mailDomain ?? 'mailinator.com', ...(opts.plan ? { plan: opts.plan } : {}) }],
        taskQueue: this.taskQueue,
        workflowId: `profile-check-${tenant}-${randomUUID().slice(0, 8)}`,
        staticSummary: `Profile check of ${tenant}`,
      });
    } catch (err) {
      const cause = err instanceof WorkflowFailedError ? (err.cause instanceof ActivityFailure ? err.cause.cause : err.cause) : null;
      if (cause instanceof ApplicationFailure && cause.type === PROFILE_CHECK_REFUSED) throw new CloneRefusedError(cause.message);
      throw err;
    }
  }

  async list(limit = 50): Promise<CloneSummary[]> {
    const out: CloneSummary[] = [];
    for await (const wf of this.client.workflow.list({ query: `WorkflowType = 'cloneTenant'` })) {
      const attrs = wf.typedSearchAttributes;
      out.push({
        target: attrs.get(CloneTarget) ?? wf.workflowId.replace(/^clone-/, ''),
        source: attrs.get(CloneSource) ?? '?',
        plan: attrs.get(ClonePlan) ?? '?',
        status: wf.status.name,
        step: attrs.get(CloneStep) ?? null,
        startTime: wf.startTime,
        closeTime: wf.closeTime ?? null,
      });
      if (out.length >= limit) break;
    }
    return out;
  }
}
