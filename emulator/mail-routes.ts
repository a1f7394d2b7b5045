/** The mail service part of the contract: inbound routes and mailboxes. */
import type { EmulatorContext } from './context';
import { withTransaction } from './database';
import { conflict, parseBody } from './http-io';
import type { Router } from './router';
import { recordEvent, requireTenant } from './tenant-store';
import { mailboxBody } from './validation';

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
      const owner = await db.query<{ tenant_id: string }>(
        'SELECT tenant_id FROM mailboxes WHERE lower(address) = lower($1) AND tenant_id <> $2',
        [address, target.id],
      );
      if (owner.rows[0]) throw conflict(`mailbox ${JSON.stringify(address)} belongs to tenant ${JSON.stringify(owner.rows[0].tenant_id)}`);
      const { rowCount } = await db.query('DELETE FROM mailboxes WHERE tenant_id = $1', [target.id]);
      await db.query('INSERT INTO mailboxes (tenant_id, address) VALUES ($1, $2)', [target.id, address]);
      await recordEvent(db, target.id, 'mail.mailboxes.replaced', { deleted: rowCount ?? 0, address });
      return { status: 204 };
    }),
  );
}
