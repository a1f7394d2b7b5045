/**
 * Users of the tenant database: system users the copy needs, who may log in (plans), and the
 * partner apps' system users carried over from the old target.
 */
import type { Pool } from 'pg';
import type { AppAuthorization, DirectoryUser } from '../port';
import type { SanitizationProfile } from '../profile';
import { columnInfo } from './columns';
import { inTransaction } from './connections';
import { checkAdministrator, checkAppAuthorizations, checkLogin } from '../input-checks';
import { checkMailDomain, quoteIdent } from './identifiers';
import { installRewriteFunctions } from './scrub';

function usersColumns(profile: SanitizationProfile) {
  const u = profile.users;
  return {
    table: quoteIdent('users table', u.table),
    login: quoteIdent('login column', u.loginColumn),
    enabled: quoteIdent('enabled column', u.enabledColumn),
    system: quoteIdent('system column', u.systemColumn),
    plan: quoteIdent('plan column', u.planColumn),
  };
}

async function checkUsersTable(pool: Pool, profile: SanitizationProfile): Promise<void> {
  const u = profile.users;
  for (const col of [u.loginColumn, u.enabledColumn, u.systemColumn, u.planColumn]) await columnInfo(pool, u.table, col);
}

/** Create missing system users, re-enable and re-flag existing ones; returns the logins ensured. */
export async function fixSystemUsers(pool: Pool, profile: SanitizationProfile): Promise<string[]> {
  const logins = profile.users.systemUsers.map((l) => checkLogin('system user login', l));
  await checkUsersTable(pool, profile);
  const q = usersColumns(profile);
  await inTransaction(pool, async (c) => {
    await c.query(`LOCK TABLE ${q.table} IN SHARE ROW EXCLUSIVE MODE`);
    for (const login of logins) {
      await c.query(
        `UPDATE ${q.table} SET ${q.enabled} = true, ${q.system} = true WHERE ${q.login} = $1 AND (${q.enabled} IS NOT TRUE OR ${q.system} IS NOT TRUE)`,
        [login],
      );
      await c.query(
        `INSERT INTO ${q.table} (${q.login}, ${q.enabled}, ${q.system}) SELECT $1::text, true, true
         WHERE NOT EXISTS (SELECT 1 FROM ${q.table} WHERE ${q.login} = $1)`,
        [login],
      );
    }
  });
  return logins;
}

export async function restrictToAdministrator(
  pool: Pool,
  profile: SanitizationProfile,
  email: string | null,
  sandboxDomain?: string,
): Promise<{ administrator: string; disabled: number }> {
  const admin = checkAdministrator(profile, email);
  await checkUsersTable(pool, profile);
  for (const col of [admin.emailColumn, ...admin.clear]) await columnInfo(pool, profile.users.table, col);
  // After a copy sanitized in flight nothing rewrites the target again: the address goes in as
  // the rule gives it (the same SQL function, so the same value the scrub would have made).
  if (email !== null && sandboxDomain !== undefined) {
    const sandbox = checkMailDomain(sandboxDomain);
    const col = await columnInfo(pool, profile.users.table, admin.emailColumn);
    await installRewriteFunctions(pool);
    const r = await pool.query<{ v: string | null }>('SELECT tenant_clone.rewrite_emails($1::text, $2, $3, $4) AS v', [
      email,
      sandbox,
      col.maxLength,
      col.nullable,
    ]);
    email = r.rows[0].v;
  }
  const q = usersColumns(profile);
  const emailCol = quoteIdent('administrator e-mail column', admin.emailColumn);
  const cleared = admin.clear.map((c) => `, ${quoteIdent('administrator column', c)} = NULL`).join('');
  return inTransaction(pool, async (c) => {
    await c.query(`LOCK TABLE ${q.table} IN SHARE ROW EXCLUSIVE MODE`);
    const off = await c.query(`UPDATE ${q.table} SET ${q.enabled} = false WHERE ${q.system} IS NOT TRUE AND ${q.login} <> $1 AND ${q.enabled} IS NOT FALSE`, [
      admin.login,
    ]);
    const reset = await c.query(`UPDATE ${q.table} SET ${q.enabled} = true, ${emailCol} = $2${cleared} WHERE ${q.login} = $1`, [admin.login, email]);
    if ((reset.rowCount ?? 0) === 0) {
      await c.query(`INSERT INTO ${q.table} (${q.login}, ${emailCol}, ${q.enabled}, ${q.system}) VALUES ($1, $2, true, false)`, [admin.login, email]);
    }
    return { administrator: admin.login, disabled: off.rowCount ?? 0 };
  });
}

/**
 * Enabled non-system users matching allowedLogins (`*` = all) get `plan`; every other
 * non-system user gets no plan. System users are left alone. Returns the logins given the plan.
 */
export async function assignUserPlans(pool: Pool, profile: SanitizationProfile, plan: string): Promise<string[]> {
  if (typeof plan !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$/.test(plan)) {
    throw new Error(`invalid user plan ${JSON.stringify(plan)}: 1-40 characters of letters, digits, space . _ -`);
  }
  await checkUsersTable(pool, profile);
  const q = usersColumns(profile);
  const allowAll = profile.users.allowedLogins.includes('*');
  const named = profile.users.allowedLogins.filter((l) => l !== '*');
  const allowed = `(${q.enabled} IS TRUE AND ($3::boolean OR ${q.login} = ANY($2::text[])))`;
  const wanted = `CASE WHEN ${allowed} THEN $1::text ELSE NULL END`;
  return inTransaction(pool, async (c) => {
    await c.query(`UPDATE ${q.table} SET ${q.plan} = ${wanted} WHERE ${q.system} IS NOT TRUE AND ${q.plan} IS DISTINCT FROM ${wanted}`, [
      plan,
      named,
      allowAll,
    ]);
    const r = await c.query<{ login: string }>(
      `SELECT ${q.login} AS login FROM ${q.table} WHERE ${q.system} IS NOT TRUE AND ${allowed} AND ${q.plan} = $1 ORDER BY 1`,
      [plan, named, allowAll],
    );
    return r.rows.map((row) => row.login);
  });
}

export async function listUsers(pool: Pool): Promise<DirectoryUser[]> {
  const r = await pool.query<{ login: string; email: string | null; plan: string | null; enabled: boolean; is_system: boolean }>(
    'SELECT login, email, plan, enabled, is_system FROM users ORDER BY login',
  );
  return r.rows.map((u) => ({ login: u.login, email: u.email, plan: u.plan, enabled: u.enabled, isSystem: u.is_system }));
}

export async function readAppAuthorizations(pool: Pool): Promise<AppAuthorization[]> {
  const r = await pool.query<{ app_id: string; app_name: string; system_user_login: string }>(
    'SELECT app_id, app_name, system_user_login FROM app_authorizations ORDER BY app_id',
  );
  return r.rows.map((a) => ({ appId: a.app_id, appName: a.app_name, systemUserLogin: a.system_user_login }));
}

export async function restoreAppAuthorizations(pool: Pool, auths: AppAuthorization[]): Promise<void> {
  checkAppAuthorizations(auths);
  await inTransaction(pool, async (c) => {
    for (const a of auths) {
      await c.query(
        `INSERT INTO app_authorizations (app_id, app_name, system_user_login) VALUES ($1, $2, $3)
         ON CONFLICT (app_id) DO UPDATE SET app_name = EXCLUDED.app_name, system_user_login = EXCLUDED.system_user_login
         WHERE (app_authorizations.app_name, app_authorizations.system_user_login) IS DISTINCT FROM (EXCLUDED.app_name, EXCLUDED.system_user_login)`,
        [a.appId, a.appName, a.systemUserLogin],
      );
      await c.query(
        `INSERT INTO users (login, enabled, is_system) VALUES ($1, true, true)
         ON CONFLICT (login) DO UPDATE SET enabled = true, is_system = true WHERE users.enabled IS NOT TRUE OR users.is_system IS NOT TRUE`,
        [a.systemUserLogin],
      );
    }
  });
}
