/** Seeds and polling shared by the platform adapter tests. */
import { createServer } from 'node:net';
import type { TenantSeed } from '../../emulator/admin-client';

export function seed(id: string, overrides: Partial<TenantSeed> = {}): TenantSeed {
  return {
    id,
    name: `Tenant ${id}`,
    kind: 'production',
    region: 'eu-west',
    directoryTenant: 'dir-acme',
    appVersion: '10.3.1',
    capacityMb: 2048,
    companyName: `${id} Company AS`,
    serial: `SN-${id}`,
    license: `LIC-${id}`,
    database: { engine: 'postgres', name: `db_${id.replace(/-/g, '_')}` },
    baseUrl: `https://${id}.example.com`,
    ...overrides,
  };
}

/** Poll `probe` until it returns a value other than undefined, or fail after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { status?: number; code?: string | null }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { status?: number; code?: string | null };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** A local port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
