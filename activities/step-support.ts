/**
 * What every step activity shares: the facts it needs (a missing one is a bug in the plan,
 * not something a retry fixes), progress reports, heartbeated checkpoints and polling.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TenantDatabases } from './database/engines';
import type { TenantDatabase } from './database/port';
import type { CloneFacts, StepHeartbeat, StepInput } from '../workflows/step-contract';

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

/**
 * What a running step heartbeats. `percent` and `detail` are what `status`, `watch` and the Web
 * UI's pending-activity panel show: the client reads them with `describe()`, so only the worker
 * running the step writes them (progress is not a signal anyone could send).
 */
export interface Beat<C = unknown> extends StepHeartbeat {
  checkpoint?: C;
}

/** The last beat of each running activity, resent by `keptAlive` while the step is quiet. */
const lastBeat = new WeakMap<Context, unknown>();

function beat(details: unknown): void {
  const ctx = Context.current();
  lastBeat.set(ctx, details);
  ctx.heartbeat(details);
}

/** How often a step heartbeats while it has nothing new to say; well inside HEARTBEAT_TIMEOUT. */
const KEEP_ALIVE_MS = 3000;

/**
 * Every activity heartbeats while it runs, quick ones too, so a worker lost mid-step is noticed
 * at the heartbeat timeout (seconds) rather than at the step's start-to-close timeout (minutes).
 * The beat resent is the step's last one, or on a retry the previous attempt's, so a checkpoint
 * is never overwritten by a keep-alive.
 */
export function keptAlive<T extends object>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    if (typeof fn !== 'function') continue;
    wrapped[name] = async (...args: unknown[]) => {
      const ctx = Context.current();
      const tick = () => ctx.heartbeat(lastBeat.has(ctx) ? lastBeat.get(ctx) : ctx.info.heartbeatDetails);
      // No beat at once: the SDK sends a step's first heartbeat immediately and throttles the
      // next, so the first one is left to the step's own report, which `status` then shows at once.
      const timer = setInterval(tick, KEEP_ALIVE_MS);
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } finally {
        clearInterval(timer);
      }
    };
  }
  return wrapped as T;
}

export class StepReporter<C = unknown> {
  private readonly ctx = Context.current();

  constructor(private readonly stepId: string) {}

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
    beat({ stepId: this.stepId, percent, detail, checkpoint } satisfies Beat<C>);
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

/** Says what a step without percentages is doing (a whole-database scan), for `status`. */
export function reportDetail(stepId: string, detail: string): void {
  beat({ stepId, percent: null, detail } satisfies Beat);
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
