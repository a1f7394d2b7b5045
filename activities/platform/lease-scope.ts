/**
 * The lease a running step acts under. Every platform request made inside `actingFor` carries
 * it (header `X-Lease-Holder`), so the platform refuses the writes of a run that no longer owns
 * the tenant, without each adapter method taking the holder as an argument.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export const LEASE_HEADER = 'X-Lease-Holder';

const scope = new AsyncLocalStorage<string>();

export function actingFor<T>(holder: string, work: () => Promise<T>): Promise<T> {
  return scope.run(holder, work);
}

export function currentLeaseHolder(): string | undefined {
  return scope.getStore();
}
