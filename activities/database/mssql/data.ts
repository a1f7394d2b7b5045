/**
 * The profile's data rules, users, company record, mailboxes and app authorizations, each
 * operation in one transaction (SERIALIZABLE where it inserts after checking for a row).
 */
import type sql from 'mssql';
import type { AppAuthorization, CompanyInfo, DirectoryUser, TableChecksum, TenantIdentity } from '../port';
import type { SanitizationProfile } from '../profile';
import { columnInfo, requireTable, type ColumnInfo } from './columns';
import { inTransaction, rows, run, type Runner } from './connections';
import * as tk from './tsql/checksum';
import * as tsan from './tsql/sanitize';
import * as tu from './tsql/users';
import {
  checkAdministrator,
  checkAppAuthorizations,
  checkBaseUrl,
  checkCompanyInfo,
  checkIdentity,
  checkLogin,
  checkMailbox,
  checkPlan,
} from '../input-checks';

type Counts = Record<string, number>;

function add(counts: Counts, table: string, n: number): void {
  counts[table] = (counts[table] ?? 0) + n;
}

const affected = (r: sql.IResult<unknown>): number => r.rowsAffected.reduce((a, b) => a + b, 0);

async function checkColumns(on: sql.ConnectionPool, table: string, columns: string[]): Promise<void> {
  await requireTable(on, table);
  for (const c of columns) await columnInfo(on, table, c);
}

type SetEntry = SanitizationProfile['disable'][number];

async function applySet(pool: sql.ConnectionPool, tx: Runner, entry: SetEntry): Promise<number> {
  await checkColumns(pool, entry.table, [...Object.keys(entry.where), ...Object.keys(entry.set)]);
  const b = tsan.applySet(entry);
  return b ? affected(await run(tx, b)) : 0;
}

export async function prepareDatabase(
  pool: sql.ConnectionPool,
  identity: TenantIdentity,
  profile: SanitizationProfile,
  productionBaseUrl: string,
): Promise<Counts> {
  checkIdentity(identity);
  const from = checkBaseUrl('production base URL', productionBaseUrl);
  const to = checkBaseUrl('target base URL', identity.baseUrl);
  // Column checks read the catalog on the pool before the transaction starts writing.
  const urlInfos: ColumnInfo[] = [];
  for (const u of profile.urls) urlInfos.push(await columnInfo(pool, u.table, u.column));
  for (const e of profile.clear) await checkColumns(pool, e.table, e.columns);
  for (const e of profile.deleteRows) await checkColumns(pool, e.table, Object.keys(e.where));
  return inTransaction(pool, async (tx) => {
    const counts: Counts = {};
    add(counts, 'company_info', affected(await run(tx, tsan.setIdentity(identity, to))));
    if (from.toLowerCase() !== to.toLowerCase()) {
      for (const info of urlInfos)
        add(counts, info.table, affected(await run(tx, tsan.rewriteUrls(info.table, info.column, from, to, info.maxChars, info.nullable))));
    }
    for (const e of profile.clear) add(counts, e.table, affected(await run(tx, tsan.clearColumns(e.table, e.columns))));
    for (const e of profile.deleteRows) add(counts, e.table, affected(await run(tx, tsan.deleteRows(e.table, e.where))));
    for (const e of profile.update) add(counts, e.table, await applySet(pool, tx, e));
    return counts;
  });
}

export async function disableScheduledTasks(pool: sql.ConnectionPool, profile: SanitizationProfile): Promise<Counts> {
  return inTransaction(pool, async (tx) => {
    const counts: Counts = {};
    for (const e of profile.disable) add(counts, e.table, await applySet(pool, tx, e));
    return counts;
  });
}

export async function countEnabledScheduledTasks(pool: sql.ConnectionPool, profile: SanitizationProfile): Promise<number> {
  const { table, enabledColumn } = profile.scheduledTasks;
  const info = await columnInfo(pool, table, enabledColumn);
  if (info.typeName !== 'bit') throw new Error(`column "${table}.${enabledColumn}" is ${info.typeName}, expected bit`);
  const [r] = await rows<{ n: string | number }>(pool, tsan.countEnabled(table, enabledColumn));
  return Number(r.n);
}

async function checkUsersTable(pool: sql.ConnectionPool, profile: SanitizationProfile): Promise<void> {
  const u = profile.users;
  for (const col of [u.loginColumn, u.enabledColumn, u.systemColumn, u.planColumn]) await columnInfo(pool, u.table, col);
}

export async function fixSystemUsers(pool: sql.ConnectionPool, profile: SanitizationProfile): Promise<string[]> {
  const logins = profile.users.systemUsers.map((l) => checkLogin('system user login', l));
  await checkUsersTable(pool, profile);
  await inTransaction(
    pool,
    async (tx) => {
      for (const login of logins) await run(tx, tu.repairSystemUser(profile, login));
    },
    true,
  );
  return logins;
}

export async function restrictToAdministrator(
  pool: sql.ConnectionPool,
  profile: SanitizationProfile,
  email: string | null,
): Promise<{ administrator: string; disabled: number }> {
  const admin = checkAdministrator(profile, email);
  const login = admin.login;
  await checkUsersTable(pool, profile);
  for (const col of [admin.emailColumn, ...admin.clear]) await columnInfo(pool, profile.users.table, col);
  return inTransaction(
    pool,
    async (tx) => {
      const r = await run(tx, tu.restrictToAdministrator(profile, login, email));
      return { administrator: login, disabled: r.rowsAffected[0] ?? 0 };
    },
    true,
  );
}

export async function assignUserPlans(pool: sql.ConnectionPool, profile: SanitizationProfile, plan: string): Promise<string[]> {
  checkPlan(plan);
  await checkUsersTable(pool, profile);
  return inTransaction(pool, async (tx) => {
    const r = await run<{ login: string }>(tx, tu.assignPlans(profile, plan));
    return (r.recordset ?? []).map((row) => row.login);
  });
}

export async function listUsers(pool: sql.ConnectionPool): Promise<DirectoryUser[]> {
  const r = await rows<{ login: string; email: string | null; plan: string | null; enabled: boolean; is_system: boolean }>(pool, tu.listUsers());
  return r.map((u) => ({ login: u.login, email: u.email, plan: u.plan, enabled: u.enabled, isSystem: u.is_system }));
}

export async function readAppAuthorizations(pool: sql.ConnectionPool): Promise<AppAuthorization[]> {
  const r = await rows<{ app_id: string; app_name: string; system_user_login: string }>(pool, tu.readAppAuthorizations());
  return r.map((a) => ({ appId: a.app_id, appName: a.app_name, systemUserLogin: a.system_user_login }));
}

export async function restoreAppAuthorizations(pool: sql.ConnectionPool, auths: AppAuthorization[]): Promise<void> {
  checkAppAuthorizations(auths);
  await inTransaction(
    pool,
    async (tx) => {
      for (const a of auths) await run(tx, tu.upsertAppAuthorization(a));
    },
    true,
  );
}

export async function readCompanyInfo(pool: sql.ConnectionPool): Promise<CompanyInfo> {
  const [r] = await rows<CompanyInfo>(pool, tu.readCompanyInfo());
  if (!r) throw new Error('company_info holds no row');
  return { companyName: r.companyName, serial: r.serial, license: r.license, ownerCompany: r.ownerCompany };
}

export async function setCompanyInfo(pool: sql.ConnectionPool, info: CompanyInfo): Promise<void> {
  checkCompanyInfo(info);
  const n = affected(await run(pool, tu.setCompanyInfo(info)));
  if (n === 0) await readCompanyInfo(pool); // fails clearly when there is no row at all
}

export async function replaceMailboxes(pool: sql.ConnectionPool, testMailbox: string): Promise<void> {
  checkMailbox(testMailbox);
  await inTransaction(
    pool,
    async (tx) => {
      await run(tx, tu.replaceMailboxes(testMailbox));
    },
    true,
  );
}

export async function checksum(pool: sql.ConnectionPool): Promise<TableChecksum[]> {
  const out: TableChecksum[] = [];
  for (const { name } of await rows<{ name: string }>(pool, tk.listTables())) {
    const [r] = await rows<{ n: string | number; md5: string }>(pool, tk.tableChecksum(name));
    out.push({ table: name, rows: Number(r.n), md5: r.md5 });
  }
  return out;
}
