/**
 * The hosting layer's clock. Tasks run until their `finishes_at`; configuration changes wait
 * as pending operations until their `apply_at`. Both are settled lazily, on every read, with
 * the time each one was due: what a caller observes is the same as if a background applier
 * had run on time, without timers to stop on close.
 */
import type { PoolClient } from 'pg';
import type { HostingMode, HostingState } from '../activities/platform/port';
import { recordEvent } from './tenant-store';
import type { HostingOperation, HostingOperationKind, HostingTask } from './types';

interface OperationRow {
  id: string;
  kind: HostingOperationKind;
  value: HostingOperation['value'];
  requested_at: Date;
  apply_at: Date;
  applied_at: Date | null;
}

/** Apply every pending operation of the tenant that is due at `now`, oldest first. */
export async function settleOperations(db: PoolClient, tenantId: string, now: Date): Promise<void> {
  const { rows } = await db.query<OperationRow>(
    `SELECT id, kind, value, apply_at FROM hosting_operations
     WHERE tenant_id = $1 AND applied_at IS NULL AND apply_at <= $2 ORDER BY id FOR UPDATE`,
    [tenantId, now],
  );
  for (const op of rows) {
    if (op.kind === 'mode') {
      await db.query('UPDATE hosting SET mode = $2 WHERE tenant_id = $1', [tenantId, op.value]);
    } else if (op.kind === 'clusters') {
      await db.query('UPDATE hosting SET clusters = $2 WHERE tenant_id = $1', [tenantId, op.value]);
    } else {
      await db.query('UPDATE hosting SET recycles = recycles + 1 WHERE tenant_id = $1', [tenantId]);
    }
    await db.query('UPDATE hosting_operations SET applied_at = apply_at WHERE id = $1', [op.id]);
    await recordEvent(db, tenantId, `hosting.${op.kind}.applied`, { operation: Number(op.id), value: op.value }, op.apply_at);
  }
}

export async function readHostingState(db: PoolClient, tenantId: string, now: Date): Promise<HostingState> {
  await settleOperations(db, tenantId, now);
  const { rows } = await db.query<{
    mode: HostingMode;
    clusters: string[];
    recycles: number;
    running: number;
    last_queued: number;
    first_running: number | null;
    pending: number;
  }>(
    `SELECT h.mode, h.clusters, h.recycles,
       (SELECT count(*)::int FROM hosting_tasks t WHERE t.tenant_id = h.tenant_id AND t.finishes_at > $2) AS running,
       (SELECT coalesce(max(task_id), 0) FROM hosting_tasks t WHERE t.tenant_id = h.tenant_id) AS last_queued,
       (SELECT min(task_id) FROM hosting_tasks t WHERE t.tenant_id = h.tenant_id AND t.finishes_at > $2) AS first_running,
       (SELECT count(*)::int FROM hosting_operations o WHERE o.tenant_id = h.tenant_id AND o.applied_at IS NULL) AS pending
     FROM hosting h WHERE h.tenant_id = $1`,
    [tenantId, now],
  );
  const row = rows[0];
  if (!row) throw new Error(`tenant ${JSON.stringify(tenantId)} has no hosting row`);
  return {
    mode: row.mode,
    clusters: row.clusters,
    runningTasks: row.running,
    lastQueuedTask: row.last_queued,
    // A watermark, not a maximum: every task up to this id has finished, so "wait until my
    // last queued task is done" cannot be fooled by a later, shorter task finishing first.
    lastFinishedTask: row.first_running === null ? row.last_queued : row.first_running - 1,
    recycles: row.recycles,
    pendingOperations: row.pending,
  };
}

/**
 * Queue a configuration change. A mode or cluster change equal to what the tenant will have
 * once pending operations are applied queues nothing: PUT is idempotent.
 */
export async function requestOperation(
  db: PoolClient,
  tenantId: string,
  kind: HostingOperationKind,
  value: HostingMode | string[] | null,
  now: Date,
  delayMs: number,
): Promise<{ queued: boolean }> {
  await settleOperations(db, tenantId, now);
  if (kind !== 'recycle') {
    const effective = await effectiveValue(db, tenantId, kind);
    if (JSON.stringify(effective) === JSON.stringify(value)) return { queued: false };
  }
  const applyAt = new Date(now.getTime() + delayMs);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO hosting_operations (tenant_id, kind, value, requested_at, apply_at)
     VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [tenantId, kind, JSON.stringify(value), now, applyAt],
  );
  await recordEvent(db, tenantId, `hosting.${kind}.requested`, { operation: Number(rows[0]!.id), value }, now);
  return { queued: true };
}

async function effectiveValue(db: PoolClient, tenantId: string, kind: 'mode' | 'clusters'): Promise<unknown> {
  const pending = await db.query<{ value: unknown }>(
    `SELECT value FROM hosting_operations WHERE tenant_id = $1 AND kind = $2 AND applied_at IS NULL
     ORDER BY id DESC LIMIT 1`,
    [tenantId, kind],
  );
  if (pending.rows[0]) return pending.rows[0].value;
  const current = await db.query<{ mode: string; clusters: string[] }>('SELECT mode, clusters FROM hosting WHERE tenant_id = $1', [tenantId]);
  return kind === 'mode' ? current.rows[0]?.mode : current.rows[0]?.clusters;
}

export async function queueTask(db: PoolClient, tenantId: string, durationMs: number, now: Date): Promise<number> {
  const { rows } = await db.query<{ task_id: number }>(
    `INSERT INTO hosting_tasks (tenant_id, task_id, queued_at, finishes_at)
     SELECT $1, coalesce(max(task_id), 0) + 1, $2, $3 FROM hosting_tasks WHERE tenant_id = $1
     RETURNING task_id`,
    [tenantId, now, new Date(now.getTime() + durationMs)],
  );
  return rows[0]!.task_id;
}

export async function listOperations(db: PoolClient, tenantId: string): Promise<HostingOperation[]> {
  const { rows } = await db.query<OperationRow>(
    'SELECT id, kind, value, requested_at, apply_at, applied_at FROM hosting_operations WHERE tenant_id = $1 ORDER BY id',
    [tenantId],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    kind: r.kind,
    value: r.value,
    requestedAt: r.requested_at.toISOString(),
    applyAt: r.apply_at.toISOString(),
    appliedAt: r.applied_at ? r.applied_at.toISOString() : null,
  }));
}

export async function listTasks(db: PoolClient, tenantId: string): Promise<HostingTask[]> {
  const { rows } = await db.query<{ task_id: number; queued_at: Date; finishes_at: Date }>(
    'SELECT task_id, queued_at, finishes_at FROM hosting_tasks WHERE tenant_id = $1 ORDER BY task_id',
    [tenantId],
  );
  return rows.map((r) => ({ taskId: r.task_id, queuedAt: r.queued_at.toISOString(), finishesAt: r.finishes_at.toISOString() }));
}
