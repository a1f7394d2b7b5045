/**
 * One owner per tenant, enforced where the tenant lives: `check-request` takes the target's
 * lease on its directory record for this clone run (a backup takes its tenant's), every later
 * step checks it before it starts and sends it with every platform write (which the platform
 * refuses from anyone else), and the clone gives it back when it ends. A run that lost the lease,
 * or never had it, changes nothing more.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { StepInput } from '../../workflows/step-contract';
import { PlatformHttpError } from '../platform/http-client';
import { actingFor } from '../platform/lease-scope';
import type { Directory } from '../platform/port';
import { defineSteps } from './support';

export const LEASE_LOST = 'LeaseLost';
const GRPC_NOT_FOUND = 5;

/** This activity's workflow run, as a lease holder: `clone-acme-sandbox/<run id>`. */
export function runLeaseHolder(): string {
  const run = Context.current().info.workflowExecution;
  if (!run) throw new Error('a lease is held by a workflow run: this activity runs outside one');
  return `${run.workflowId}/${run.runId}`;
}

/**
 * Take `tenant`'s lease for `holder`. A lease left by a run that has ended (terminated, or a
 * worker bug before its release) is taken over; one held by a run still open is not: the
 * answer is why, or null once `holder` has it.
 */
export async function takeLease(directory: Directory, client: Client | null, tenant: string, holder: string): Promise<string | null> {
  let replaces: string | null = null;
  for (let tries = 0; tries < 3; tries++) {
    const got = await directory.acquireLease(tenant, holder, replaces);
    if (got.acquired) return null;
    if (!(await hasEnded(client, got.holder))) return `${tenant} is owned by ${got.holder}, which is still running: one clone or backup of a tenant at a time`;
    replaces = got.holder;
  }
  return `${tenant}'s lease keeps changing hands; try again`;
}

async function hasEnded(client: Client | null, holder: string): Promise<boolean> {
  const cut = holder.lastIndexOf('/');
  if (!client || cut <= 0) return false;
  try {
    const d = await client.workflow.getHandle(holder.slice(0, cut), holder.slice(cut + 1)).describe();
    return d.status.name !== 'RUNNING';
  } catch (err) {
    // A run Temporal does not know (its history was deleted after retention) has ended.
    if (err instanceof WorkflowNotFoundError || (err as { code?: number }).code === GRPC_NOT_FOUND) return true;
    throw err;
  }
}

/**
 * Fence every step activity whose clone took a lease (facts.leaseHolder): it checks that the
 * lease is still its own before it starts, and acts under it so the platform refuses its
 * writes once it is not. Clones started before leases existed have no holder and run unfenced.
 */
export function fenced<T extends object>(activities: T, directory: Directory, exempt: readonly string[]): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    if (typeof fn !== 'function' || exempt.includes(name)) {
      wrapped[name] = fn;
      continue;
    }
    wrapped[name] = async (input: StepInput, ...rest: unknown[]) => {
      const holder = input?.facts?.leaseHolder;
      const call = () => (fn as (...a: unknown[]) => Promise<unknown>)(input, ...rest);
      if (typeof holder !== 'string') return call();
      const target = input.request.target;
      const now = await directory.getLease(target);
      if (now !== holder) throw leaseLost(target, holder, now);
      try {
        return await actingFor(holder, call);
      } catch (err) {
        if (err instanceof PlatformHttpError && err.code === 'lease_mismatch')
          throw leaseLost(target, holder, await directory.getLease(target).catch(() => null));
        throw err;
      }
    };
  }
  return wrapped as T;
}

function leaseLost(target: string, holder: string, now: string | null): ApplicationFailure {
  return ApplicationFailure.create({
    type: LEASE_LOST,
    nonRetryable: true,
    message: `${target} is no longer owned by this run (${holder}) but by ${now ?? 'nobody'}: this run changes nothing more of it`,
  });
}

/** The clone's last act: give the target's lease back (kept through retention, for rollback). */
export function releaseLeaseActivities(directory: Directory) {
  return defineSteps(null, {
    async releaseLease({ facts: { leaseHolder }, request }) {
      await directory.releaseLease(request.target, leaseHolder);
      return { note: `${request.target} released by ${leaseHolder}` };
    },
  });
}
