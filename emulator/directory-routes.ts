/** The identity directory ("SuperID") part of the contract. */
import { withTransaction } from './database';
import type { EmulatorContext } from './context';
import { conflict, badRequest, parseBody, unknownTenant } from './http-io';
import type { Router } from './router';
import { findTenant, listUsers, recordEvent, requireTenant, writeUsers } from './tenant-store';
import { companyBody, copyCustomerInfoBody, registerDatabaseBody, stateBody, testEnvironmentBody, usersBody } from './validation';

const base = '/directory/tenants/{tenantId}';

export function addDirectoryRoutes(router: Router, ctx: EmulatorContext): void {
  const tx = <T>(work: Parameters<typeof withTransaction<T>>[1]) => withTransaction(ctx.pool, work);

  router.add('GET', base, ({ params }) =>
    tx(async (db) => {
      const tenant = await findTenant(db, params.tenantId!);
      if (!tenant) throw unknownTenant(params.tenantId!);
      return { status: 200, body: tenant };
    }),
  );

  router.add('PUT', `${base}/customer-info`, ({ params, rawBody }) =>
    tx(async (db) => {
      const { source } = parseBody(rawBody, copyCustomerInfoBody);
      const target = await requireTenant(db, params.tenantId!);
      const from = await findTenant(db, source);
      if (!from) throw unknownTenant(source);
      await db.query('UPDATE tenants SET company_name = $2, serial = $3, license = $4 WHERE id = $1', [target.id, from.companyName, from.serial, from.license]);
      await recordEvent(db, target.id, 'directory.customerInfo.copied', { source });
      return { status: 204 };
    }),
  );

  router.add('PUT', `${base}/database`, ({ params, rawBody }) =>
    tx(async (db) => {
      const database = parseBody(rawBody, registerDatabaseBody);
      const target = await requireTenant(db, params.tenantId!);
      // Pointing a sandbox at another tenant's database (production's, above all) would let
      // the copy write into it: refuse, like the directory's uniqueness rule does.
      const owner = await db.query<{ id: string }>(
        `SELECT id FROM tenants WHERE id <> $1 AND db_engine = $2 AND (db_name = $3 OR registered_database = $3) LIMIT 1`,
        [target.id, database.engine, database.name],
      );
      if (owner.rows[0]) {
        throw conflict(`database ${JSON.stringify(database.name)} (${database.engine}) belongs to tenant ${JSON.stringify(owner.rows[0].id)}`);
      }
      await db.query('UPDATE tenants SET db_engine = $2, db_name = $3, registered_database = $3 WHERE id = $1', [target.id, database.engine, database.name]);
      await recordEvent(db, target.id, 'directory.database.registered', { ...database });
      return { status: 204 };
    }),
  );

  router.add('PUT', `${base}/test-environment-of`, ({ params, rawBody }) =>
    tx(async (db) => {
      const { source } = parseBody(rawBody, testEnvironmentBody);
      const target = await requireTenant(db, params.tenantId!);
      if (source !== null) {
        if (source === target.id) throw badRequest(`field "source": a tenant cannot be its own test environment (got ${JSON.stringify(source)})`);
        if (target.kind === 'production') {
          throw conflict(`tenant ${JSON.stringify(target.id)} is a production tenant and cannot be the test environment of ${JSON.stringify(source)}`);
        }
        if (!(await findTenant(db, source))) throw unknownTenant(source);
      }
      await db.query('UPDATE tenants SET test_environment_of = $2 WHERE id = $1', [target.id, source]);
      await recordEvent(db, target.id, 'directory.testEnvironmentOf.set', { source });
      return { status: 204 };
    }),
  );

  router.add('PUT', `${base}/state`, ({ params, rawBody }) =>
    tx(async (db) => {
      const { state } = parseBody(rawBody, stateBody);
      const target = await requireTenant(db, params.tenantId!);
      if (target.state !== state) {
        await db.query('UPDATE tenants SET state = $2 WHERE id = $1', [target.id, state]);
        await recordEvent(db, target.id, 'directory.state.set', { from: target.state, to: state });
      }
      return { status: 204 };
    }),
  );

  router.add('GET', `${base}/users`, ({ params }) =>
    tx(async (db) => {
      const target = await requireTenant(db, params.tenantId!);
      return { status: 200, body: { users: await listUsers(db, target.id) } };
    }),
  );

  router.add('PUT', `${base}/users`, ({ params, rawBody }) =>
    tx(async (db) => {
      const { users } = parseBody(rawBody, usersBody);
      const target = await requireTenant(db, params.tenantId!);
      await writeUsers(db, target.id, users);
      await recordEvent(db, target.id, 'directory.users.replaced', { count: users.length });
      return { status: 204 };
    }),
  );

  router.add('PUT', `${base}/company`, ({ params, rawBody }) =>
    tx(async (db) => {
      const company = parseBody(rawBody, companyBody);
      const target = await requireTenant(db, params.tenantId!);
      await db.query('UPDATE tenants SET company_name = $2, serial = $3, license = $4 WHERE id = $1', [
        target.id,
        company.companyName,
        company.serial,
        company.license,
      ]);
      await recordEvent(db, target.id, 'directory.company.updated', { ...company });
      return { status: 204 };
    }),
  );
}
