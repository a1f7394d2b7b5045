/**
 * What every step activity shares: the facts it needs (a missing one is a bug in the plan,
 * not something a retry fixes), progress reports, heartbeated checkpoints and polling.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { stepProgressSignal } from '../workflows/messages';
import type { TenantDatabases } from './database/engines';
import type { TenantDatabase } from './database/port';
import type { CloneFacts, StepInput } from '../workflows/step-contract';

/** The engine of this clone's tenants (clones started before engines were facts are PostgreSQL). */
export function dbFor(databases: TenantDatabases, input: StepInput): TenantDatabase {
  return databases.for(input.facts.engine ?? 'postgres');
}

export function need<K extends keyof CloneFacts>(input: StepInput, ...keys: K[]): Pick<CloneFacts, K> {
  for (const key of keys) {
    if (input.facts[key] === undefined) {
      throw ApplicationFailure.nonRetryable(`step ${input.stepId} needs fact ${String(key)}, which no earlier step provided`, 'PlanError');
    }
  }
  return input.facts as Pick<CloneFacts, K>;
}

interface Beat<C> {
  percent: number;
  detail: string;
  checkpoint?: C;
}

/** Minimum time between progress signals, so a fast loop does not flood workflow history. */
const SIGNAL_EVERY_MS = 2000;

export class StepReporter<C = unknown> {
  private lastSignal = 0;
  private readonly ctx = Context.current();

  constructor(
    private readonly client: Client | null,
    private readonly stepId: string,
  ) {}

  /** The checkpoint the previous attempt heartbeated, if this is a retry. */
  resumeFrom(): C | undefined {
    const details = this.ctx.info.heartbeatDetails as Beat<C> | undefined;
    return details?.checkpoint;
  }

  /** The clone's workflow run: scopes checkpoints kept outside Temporal to this clone. */
  get runId(): string | undefined {
    return this.ctx.info.workflowExecution?.runId;
  }

  get signal(): AbortSignal {
    return this.ctx.cancellationSignal;
  }

  report(percent: number, detail: string, checkpoint?: C): void {
    this.ctx.heartbeat({ percent, detail, checkpoint } satisfies Beat<C>);
    const now = Date.now();
    const workflowId = this.ctx.info.workflowExecution?.workflowId;
    if (!this.client || !workflowId || (now - this.lastSignal < SIGNAL_EVERY_MS && percent < 100)) return;
    this.lastSignal = now;
    const handle = this.client.workflow.getHandle(workflowId);
    // Progress is advisory: a lost report must never fail the step.
    handle.signal(stepProgressSignal, { stepId: this.stepId, percent, detail }).catch(() => undefined);
  }

  /** Poll `check` until it returns a value, heartbeating `detail` meanwhile; cancellable. */
  async waitFor<T>(intervalMs: number, check: () => Promise<{ done: T; detail?: never } | { done?: never; detail: string }>): Promise<T> {
    for (;;) {
      const r = await check();
      if (r.detail === undefined) return r.done as T;
      this.report(0, r.detail);
      await this.ctx.sleep(intervalMs);
    }
  }
}

/** Runs `work`, heartbeating meanwhile: a scan of a whole database outlasts any quiet timeout. */
export async function heartbeating<T>(detail: string, work: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat({ detail });
  const timer = setInterval(() => ctx.heartbeat({ detail }), 5000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * Why `domain` cannot be the sandbox domain of a copy of `tenant`, given the values found at it
 * per table (countAddressesAt), or null: real addresses there would look rewritten.
 */
export function domainInUse(tenant: string, domain: string, counts: Record<string, number>): string | null {
  const found = Object.values(counts).reduce((a, b) => a + b, 0);
  if (found === 0) return null;
  const where = Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([table, n]) => `${table}: ${n}`)
    .join(', ');
  return `mail domain ${domain} already occurs in ${tenant}'s data as the domain of ${found} values (${where})`;
}
