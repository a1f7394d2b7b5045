/** The mail service part of the contract: inbound routes and mailboxes. */
import type { EmulatorContext } from './context';
import { withTransaction } from './database';
import { conflict, parseBody } from './http-io';
import type { Router } from './router';
import { insertMailboxes, recordEvent, requireTenant } from './tenant-store';
import { mailboxBody, setMailboxesBody, setRoutesBody } from './validation';

const base = '/mail/tenants/{tenantId}';

export function addMailRoutes(router: Router, ctx: EmulatorContext): void {
  const tx = <T>(work: Parameters<typeof withTransaction<T>>[1]) => withTransaction(ctx.pool, work);

  router.add('GET', `${base}/routes`, ({ params }) =>
    tx(async (db) => {
      const target = await requireTenant(db, params.tenantId!);
      const { rows } = await db.query('SELECT address, destination FROM mail_routes WHERE tenant_id = $1 ORDER BY address', [target.id]);
      return { status: 200, body: { routes: rows } };
    }),
  );

  router.add('DELETE', `${base}/routes`, ({ params }) =>
    tx(async (db) => {
      const target = await requireTenant(db, params.tenantId!);
      const { rowCount } = await db.query('DELETE FROM mail_routes WHERE tenant_id = $1', [target.id]);
      const removed = rowCount ?? 0;
      await recordEvent(db, target.id, 'mail.routes.removed', { removed });
      return { status: 200, body: { removed } };
    }),
  );

  router.add('PUT', `${base}/routes`, ({ params, rawBody }) =>
    tx(async (db) => {
      const { routes } = parseBody(rawBody, setRoutesBody);
      const target = await requireTenant(db, params.tenantId!);
      const { rowCount } = await db.query('DELETE FROM mail_routes WHERE tenant_id = $1', [target.id]);
      await db.query(
        'INSERT INTO mail_routes (tenant_id, address, destination) SELECT $1, r.address, r.destination FROM unnest($2::text[], $3::text[]) AS r(address, destination)',
        [target.id, routes.map((r) => r.address), routes.map((r) => r.destination)],
      );
      await recordEvent(db, target.id, 'mail.routes.set', { removed: rowCount ?? 0, routes });
      return { status: 204 };
    }),
  );

  router.add('GET', `${base}/mailboxes`, ({ params }) =>
    tx(async (db) => {
      const target = await requireTenant(db, params.tenantId!);
      const { rows } = await db.query<{ address: string }>('SELECT address FROM mailboxes WHERE tenant_id = $1 ORDER BY address', [target.id]);
      return { status: 200, body: { mailboxes: rows.map((r) => r.address) } };
    }),
  );

  router.add('PUT', `${base}/mailboxes`, ({ params, rawBody }) =>
    tx(async (db) => {
      const { address } = parseBody(rawBody, mailboxBody);
      const target = await requireTenant(db, params.tenantId!);
      const owner = await db.query<{ tenant_id: string }>('SELECT tenant_id FROM mailboxes WHERE lower(address) = lower($1) AND tenant_id <> $2', [
        address,
        target.id,
      ]);
      if (owner.rows[0]) throw conflict(`mailbox ${JSON.stringify(address)} belongs to tenant ${JSON.stringify(owner.rows[0].tenant_id)}`);
      const { rowCount } = await db.query('DELETE FROM mailboxes WHERE tenant_id = $1', [target.id]);
      await insertMailboxes(db, target.id, [address]);
      await recordEvent(db, target.id, 'mail.mailboxes.replaced', { deleted: rowCount ?? 0, address });
      return { status: 204 };
    }),
  );

  router.add('PUT', `${base}/mailbox-set`, ({ params, rawBody }) =>
    tx(async (db) => {
      const { mailboxes } = parseBody(rawBody, setMailboxesBody);
      const target = await requireTenant(db, params.tenantId!);
      const owner = await db.query<{ address: string; tenant_id: string }>(
        'SELECT address, tenant_id FROM mailboxes WHERE lower(address) = ANY($1::text[]) AND tenant_id <> $2 ORDER BY lower(address) LIMIT 1',
        [mailboxes.map((a) => a.toLowerCase()), target.id],
      );
      const taken = owner.rows[0];
      if (taken) throw conflict(`mailbox ${JSON.stringify(taken.address)} belongs to tenant ${JSON.stringify(taken.tenant_id)}`);
      const { rowCount } = await db.query('DELETE FROM mailboxes WHERE tenant_id = $1', [target.id]);
      await insertMailboxes(db, target.id, mailboxes);
      await recordEvent(db, target.id, 'mail.mailboxes.set', { deleted: rowCount ?? 0, mailboxes });
      return { status: 204 };
    }),
  );
}
