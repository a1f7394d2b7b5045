/**
 * Emulator-only endpoints under /_emulator (documented as such in openapi.yaml): seed and read
 * whole tenants for tests, register partner apps, and a webhook sink standing in for the apps.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { verifyWebhook, WEBHOOK_SIGNATURE_HEADER } from '../activities/platform/webhook';
import type { EmulatorContext } from './context';
import { ALL_TABLES, withTransaction } from './database';
import { badRequest, conflict, parseBody, unknownTenant } from './http-io';
import { listOperations, listTasks, queueTask, readHostingState } from './hosting-store';
import type { Router } from './router';
import { findTenant, insertMailboxes, insertTenant, listUsers, recordEvent, requireTenant, writeUsers } from './tenant-store';
import type { TenantEvent, TenantFullState, WebhookDelivery } from './types';
import { partnerAppBody, sinkFailuresBody, taskBody, tenantSeedBody } from './validation';

export function addAdminRoutes(router: Router, ctx: EmulatorContext): void {
  const tx = <T>(work: Parameters<typeof withTransaction<T>>[1]) => withTransaction(ctx.pool, work);

  router.add('POST', '/_emulator/reset', () =>
    tx(async (db) => {
      await db.query(`TRUNCATE ${ALL_TABLES.join(', ')} RESTART IDENTITY CASCADE`);
      return { status: 204 };
    }),
  );

  router.add('PUT', '/_emulator/tenants/{tenantId}', ({ params, rawBody }) =>
    tx(async (db) => {
      const seed = parseBody(rawBody, tenantSeedBody);
      if (seed.id !== params.tenantId) {
        throw badRequest(`field "id": must equal the tenant id in the path ${JSON.stringify(params.tenantId)} (got ${JSON.stringify(seed.id)})`);
      }
      // Replace the tenant wholly: its hosting, tasks, operations, mail and users go with it.
      await db.query('DELETE FROM tenants WHERE id = $1', [seed.id]);
      const { hosting, routes, mailboxes, users, ...tenant } = seed;
      await insertTenant(db, tenant);
      await db.query('INSERT INTO hosting (tenant_id, mode, clusters, recycles) VALUES ($1, $2, $3, $4)', [
        seed.id,
        hosting.mode,
        hosting.clusters,
        hosting.recycles,
      ]);
      const now = new Date();
      for (const task of hosting.tasks) await queueTask(db, seed.id, task.durationMs ?? ctx.taskDurationMs, now);
      for (const route of routes) {
        await db.query('INSERT INTO mail_routes (tenant_id, address, destination) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
          seed.id,
          route.address,
          route.destination,
        ]);
      }
      for (const address of new Set(mailboxes)) {
        const owner = await db.query<{ tenant_id: string }>('SELECT tenant_id FROM mailboxes WHERE lower(address) = lower($1)', [address]);
        if (owner.rows[0]) throw conflict(`mailbox ${JSON.stringify(address)} belongs to tenant ${JSON.stringify(owner.rows[0].tenant_id)}`);
        await insertMailboxes(db, seed.id, [address]);
      }
      await writeUsers(db, seed.id, users);
      return { status: 204 };
    }),
  );

  router.add('GET', '/_emulator/tenants/{tenantId}', ({ params }) =>
    tx(async (db) => {
      const tenant = await findTenant(db, params.tenantId!, true);
      if (!tenant) throw unknownTenant(params.tenantId!);
      const hosting = await readHostingState(db, tenant.id, new Date());
      const routes = await db.query('SELECT address, destination FROM mail_routes WHERE tenant_id = $1 ORDER BY address', [tenant.id]);
      const mailboxes = await db.query<{ address: string }>('SELECT address FROM mailboxes WHERE tenant_id = $1 ORDER BY address', [tenant.id]);
      const events = await db.query<{ id: string; at: Date; action: string; detail: Record<string, unknown> }>(
        'SELECT id, at, action, detail FROM events WHERE tenant_id = $1 ORDER BY at, id',
        [tenant.id],
      );
      const state: TenantFullState = {
        tenant,
        hosting,
        operations: await listOperations(db, tenant.id),
        tasks: await listTasks(db, tenant.id),
        routes: routes.rows,
        mailboxes: mailboxes.rows.map((r) => r.address),
        users: await listUsers(db, tenant.id),
        events: events.rows.map((e): TenantEvent => ({ id: Number(e.id), at: e.at.toISOString(), action: e.action, detail: e.detail })),
      };
      return { status: 200, body: state };
    }),
  );

  router.add('POST', '/_emulator/tenants/{tenantId}/tasks', ({ params, rawBody }) =>
    tx(async (db) => {
      const { durationMs } = parseBody(rawBody, taskBody, {});
      const tenant = await requireTenant(db, params.tenantId!);
      const duration = durationMs ?? ctx.taskDurationMs;
      const taskId = await queueTask(db, tenant.id, duration, new Date());
      await recordEvent(db, tenant.id, 'hosting.task.queued', { taskId, durationMs: duration });
      return { status: 201, body: { taskId } };
    }),
  );

  router.add('PUT', '/_emulator/apps/{appId}', async ({ params, rawBody }) => {
    const app = parseBody(rawBody, partnerAppBody);
    if (app.appId !== params.appId) {
      throw badRequest(`field "appId": must equal the app id in the path ${JSON.stringify(params.appId)} (got ${JSON.stringify(app.appId)})`);
    }
    await ctx.pool.query(
      `INSERT INTO partner_apps (app_id, name, webhook_url) VALUES ($1, $2, $3)
       ON CONFLICT (app_id) DO UPDATE SET name = excluded.name, webhook_url = excluded.webhook_url`,
      [app.appId, app.name, app.webhookUrl],
    );
    return { status: 204 };
  });

  router.add('POST', '/_emulator/sink/{appId}', ({ params, headers, rawBody }) =>
    tx(async (db) => {
      const signature = headerValue(headers, WEBHOOK_SIGNATURE_HEADER.toLowerCase());
      const verified = verifyWebhook(ctx.webhookSecret, signature, rawBody);
      // A rehearsed outage (PUT …/failures) wins over everything, to exercise the sender's retries.
      const failure = await db.query<{ status: number }>(
        'UPDATE sink_failures SET remaining = remaining - 1 WHERE app_id = $1 AND remaining > 0 RETURNING status',
        [params.appId],
      );
      const status = failure.rows[0]?.status ?? (verified ? 200 : 401);
      await db.query('INSERT INTO webhook_deliveries (app_id, received_at, headers, body, verified, status) VALUES ($1, $2, $3, $4, $5, $6)', [
        params.appId,
        new Date(),
        JSON.stringify(flattenHeaders(headers)),
        rawBody,
        verified,
        status,
      ]);
      if (status === 200) return { status, body: { received: true, verified } };
      const error = failure.rows[0]
        ? `sink for app ${JSON.stringify(params.appId)} is failing on purpose with ${status}`
        : `signature in ${WEBHOOK_SIGNATURE_HEADER} does not verify`;
      return { status, body: { error, code: failure.rows[0] ? 'rehearsed_failure' : 'bad_signature' } };
    }),
  );

  router.add('GET', '/_emulator/sink', async ({ query }) => {
    const appId = query.get('appId');
    const { rows } = await ctx.pool.query<{
      id: string;
      app_id: string;
      received_at: Date;
      headers: Record<string, string>;
      body: string;
      verified: boolean;
      status: number;
    }>(
      `SELECT id, app_id, received_at, headers, body, verified, status FROM webhook_deliveries
       WHERE $1::text IS NULL OR app_id = $1 ORDER BY id`,
      [appId],
    );
    const deliveries = rows.map((r): WebhookDelivery => ({
      id: Number(r.id),
      appId: r.app_id,
      receivedAt: r.received_at.toISOString(),
      headers: r.headers,
      body: r.body,
      verified: r.verified,
      status: r.status,
    }));
    return { status: 200, body: { deliveries } };
  });

  router.add('PUT', '/_emulator/sink/{appId}/failures', async ({ params, rawBody }) => {
    const { count, status } = parseBody(rawBody, sinkFailuresBody);
    await ctx.pool.query(
      `INSERT INTO sink_failures (app_id, remaining, status) VALUES ($1, $2, $3)
       ON CONFLICT (app_id) DO UPDATE SET remaining = excluded.remaining, status = excluded.status`,
      [params.appId, count, status],
    );
    return { status: 204 };
  });
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
