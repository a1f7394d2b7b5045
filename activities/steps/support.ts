/**
 * What every step activity shares: its contract (the facts it needs and provides, from
 * workflows/activity-contracts.ts, checked here at run time and by the compiler), progress
 * reports, heartbeated checkpoints and polling.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  ACTIVITY_CONTRACTS,
  type ActivityContract,
  type ActivityName,
  type CompensationName,
  type NeedsOf,
  type ProvidesOf,
} from '../../workflows/activity-contracts';
import type { CloneRequest } from '../../workflows/request';
import type { CloneFacts, DatabaseEngine, StepActivity, StepHeartbeat, StepInput, StepOutput, TargetBefore } from '../../workflows/step-contract';
import { EngineNotConfigured, type TenantDatabases } from '../database/engines';
import type { TenantDatabase } from '../database/port';
import { recordStepDuration } from './metrics';

/** What a step activity is given: the facts its contract names, typed, and its tenants' database. */
export interface StepCall<A extends ActivityName> {
  stepId: string;
  request: CloneRequest;
  facts: Pick<CloneFacts, NeedsOf<A>>;
  /** For a compensation: the target as `check-request` found it. */
  before: A extends CompensationName ? TargetBefore : undefined;
  /** For the step that runs after the plan: how the clone ended. */
  ending: StepInput['ending'];
  /** The tenants' database on their engine, resolved when first used. */
  readonly db: TenantDatabase;
}

/** What a step activity returns: only the facts its contract says it provides. */
export type StepResult<A extends ActivityName> = Omit<StepOutput, 'facts'> & {
  facts?: Pick<CloneFacts, ProvidesOf<A>> & { [F in Exclude<keyof CloneFacts, ProvidesOf<A>>]?: never };
};

export type StepRun<A extends ActivityName> = (call: StepCall<A>) => Promise<StepResult<A>>;

const planError = (message: string) => ApplicationFailure.nonRetryable(message, 'PlanError');

/** The adapter for `engine`; a tenant on an engine this worker has no server for is not retried. */
export function databaseOn(databases: TenantDatabases, engine: DatabaseEngine): TenantDatabase {
  try {
    return databases.for(engine);
  } catch (err) {
    if (err instanceof EngineNotConfigured) throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw err;
  }
}

/**
 * Step activities from their implementations, each held to its contract: a fact it needs that
 * the clone lacks, or one it provides outside its contract, is a bug in the plan, which no retry
 * fixes. The plan check (workflows/plan-check.ts) keeps a defined plan from ever getting there.
 */
export function defineSteps<N extends ActivityName>(databases: TenantDatabases | null, runs: { [A in N]: StepRun<A> }): Record<N, StepActivity> {
  const out = {} as Record<N, StepActivity>;
  for (const name of Object.keys(runs) as N[]) out[name] = held(name, runs[name] as StepRun<N>, databases);
  return out;
}

function held<A extends ActivityName>(name: A, run: StepRun<A>, databases: TenantDatabases | null): StepActivity {
  const contract: ActivityContract = ACTIVITY_CONTRACTS[name];
  return async (input: StepInput): Promise<StepOutput> => {
    // Clones started before the engine was a fact are PostgreSQL ones.
    const facts: Partial<CloneFacts> = { engine: 'postgres', ...input.facts };
    const missing = contract.needs.filter((f) => facts[f] === undefined);
    if (missing.length) throw planError(`step ${input.stepId} needs ${missing.join(', ')}, which no earlier step provided`);
    if (contract.compensation && !input.before) throw planError(`compensation ${input.stepId} was given no before-state`);
    let db: TenantDatabase | undefined;
    const call = {
      stepId: input.stepId,
      request: input.request,
      facts: facts as Pick<CloneFacts, NeedsOf<A>>,
      before: input.before as StepCall<A>['before'],
      ending: input.ending,
      get db(): TenantDatabase {
        if (!databases) throw planError(`step ${input.stepId} has no database to work on`);
        return (db ??= databaseOn(databases, facts.engine!));
      },
    };
    const result = await run(call);
    const stray = Object.keys(result.facts ?? {}).filter((f) => !(contract.provides as readonly string[]).includes(f));
    if (stray.length) throw planError(`step ${input.stepId} provided ${stray.join(', ')}, which its contract does not list`);
    return result as StepOutput;
  };
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
      const started = Date.now();
      const step = (args[0] as { stepId?: unknown } | undefined)?.stepId;
      const record = (outcome: 'completed' | 'failed') => recordStepDuration(name, typeof step === 'string' ? step : name, Date.now() - started, outcome);
      try {
        const result = await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        record('completed');
        return result;
      } catch (err) {
        record('failed');
        throw err;
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
