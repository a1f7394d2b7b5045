/**
 * The target lease: at most one run (a clone, or a backup) owns a tenant at a time, and the
 * platform itself refuses a write to a leased tenant from anyone else (fencing). A run that
 * lost its lease, or never had it, cannot change the tenant's directory record, hosting or mail.
 */
import type { EmulatorContext } from './context';
import { withTransaction } from './database';
import { HttpError, parseBody } from './http-io';
import type { Handler, Router } from './router';
import { recordEvent, requireTenant } from './tenant-store';
import { leaseBody } from './validation';
import { LEASE_HEADER as LEASE_HEADER_NAME } from '../activities/platform/lease-scope';

const base = '/directory/tenants/{tenantId}/lease';
// Node lower-cases incoming header names.
const LEASE_HEADER = LEASE_HEADER_NAME.toLowerCase();

const leaseHeld = (tenant: string, holder: string) => new HttpError(409, `tenant ${JSON.stringify(tenant)} is leased by ${holder}`, 'lease_held');

export function addLeaseRoutes(router: Router, ctx: EmulatorContext): void {
  const tx = <T>(work: Parameters<typeof withTransaction<T>>[1]) => withTransaction(ctx.pool, work);

  router.add('GET', base, ({ params }) =>
    tx(async (db) => {
      const tenant = await requireTenant(db, params.tenantId!);
      const { rows } = await db.query<{ holder: string; acquired_at: Date }>('SELECT holder, acquired_at FROM leases WHERE tenant_id = $1', [tenant.id]);
      return { status: 200, body: rows[0] ? { holder: rows[0].holder, acquiredAt: rows[0].acquired_at.toISOString() } : { holder: null, acquiredAt: null } };
    }),
  );

  router.add('PUT', base, ({ params, rawBody }) =>
    tx(async (db) => {
      const { holder, replaces } = parseBody(rawBody, leaseBody);
      const tenant = await requireTenant(db, params.tenantId!);
      const { rows } = await db.query<{ holder: string; acquired_at: Date }>('SELECT holder, acquired_at FROM leases WHERE tenant_id = $1 FOR UPDATE', [
        tenant.id,
      ]);
      const current = rows[0];
      if (current?.holder === holder) return { status: 200, body: { holder, acquiredAt: current.acquired_at.toISOString() } };
      // Taken over only from the holder the caller names (compare-and-swap): two runs that both
      // saw the old holder gone cannot both get it.
      if (current && current.holder !== replaces) throw leaseHeld(tenant.id, current.holder);
      const now = new Date();
      await db.query(
        `INSERT INTO leases (tenant_id, holder, acquired_at) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at`,
        [tenant.id, holder, now],
      );
      await recordEvent(db, tenant.id, 'directory.lease.acquired', { holder, replaced: current?.holder ?? null });
      return { status: 200, body: { holder, acquiredAt: now.toISOString() } };
    }),
  );

  router.add('DELETE', base, ({ params, query }) =>
    tx(async (db) => {
      const holder = query.get('holder');
      if (!holder) throw new HttpError(400, 'query parameter "holder" is required: only the holder releases a lease', 'bad_request');
      const tenant = await requireTenant(db, params.tenantId!);
      const { rows } = await db.query<{ holder: string }>('SELECT holder FROM leases WHERE tenant_id = $1 FOR UPDATE', [tenant.id]);
      if (rows[0] && rows[0].holder !== holder) throw leaseHeld(tenant.id, rows[0].holder);
      if (rows[0]) {
        await db.query('DELETE FROM leases WHERE tenant_id = $1', [tenant.id]);
        await recordEvent(db, tenant.id, 'directory.lease.released', { holder });
      }
      return { status: 204 };
    }),
  );
}

/**
 * Every write to a tenant's directory record, hosting or mail must come from the lease's holder
 * (header `X-Lease-Holder`) while the tenant is leased; an unleased tenant takes writes from anyone.
 */
export function fenceTenantWrites(router: Router, ctx: EmulatorContext): void {
  const fenced = (template: string) => /^\/(directory|hosting|mail)\/tenants\/\{tenantId\}/.test(template) && !template.startsWith(base);
  router.wrap(
    (route) => route.method !== 'GET' && fenced(route.template),
    (handler: Handler): Handler =>
      async (req) => {
        const { rows } = await ctx.pool.query<{ holder: string }>('SELECT holder FROM leases WHERE tenant_id = $1', [req.params.tenantId]);
        const holder = rows[0]?.holder;
        const sent = req.headers[LEASE_HEADER];
        const caller = Array.isArray(sent) ? sent[0] : sent;
        if (holder !== undefined && caller !== holder) {
          throw new HttpError(
            409,
            `tenant ${JSON.stringify(req.params.tenantId)} is leased by ${holder}; this request ${caller ? `holds ${caller}` : 'holds no lease'}`,
            'lease_mismatch',
          );
        }
        return handler(req);
      },
  );
}
