/** The hosting part of the contract: changes are accepted now and applied later (202). */
import type { HostingMode } from '../activities/platform/port';
import type { EmulatorContext } from './context';
import { withTransaction } from './database';
import { parseBody, type Reply } from './http-io';
import { readHostingState, requestOperation } from './hosting-store';
import type { Router } from './router';
import { requireTenant } from './tenant-store';
import type { HostingOperationKind } from './types';
import { clustersBody, modeBody, recycleBody } from './validation';

const base = '/hosting/tenants/{tenantId}';

export function addHostingRoutes(router: Router, ctx: EmulatorContext): void {
  const change = (tenantId: string, kind: HostingOperationKind, value: HostingMode | string[] | null): Promise<Reply> =>
    withTransaction(ctx.pool, async (db) => {
      const target = await requireTenant(db, tenantId);
      const now = new Date();
      await requestOperation(db, target.id, kind, value, now, ctx.operationDelayMs);
      const { pendingOperations } = await readHostingState(db, target.id, now);
      return { status: 202, body: { pendingOperations } };
    });

  router.add('GET', base, ({ params }) =>
    withTransaction(ctx.pool, async (db) => {
      const target = await requireTenant(db, params.tenantId!);
      return { status: 200, body: await readHostingState(db, target.id, new Date()) };
    }),
  );

  router.add('PUT', `${base}/mode`, async ({ params, rawBody }) => {
    const { mode } = parseBody(rawBody, modeBody);
    return change(params.tenantId!, 'mode', mode);
  });

  router.add('PUT', `${base}/clusters`, async ({ params, rawBody }) => {
    const { clusters } = parseBody(rawBody, clustersBody);
    return change(params.tenantId!, 'clusters', clusters);
  });

  router.add('POST', `${base}/recycles`, async ({ params, rawBody }) => {
    parseBody(rawBody, recycleBody, {});
    return change(params.tenantId!, 'recycle', null);
  });
}
