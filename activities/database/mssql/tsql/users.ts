/**
 * Users, plans, partner app authorizations, the company record and mailboxes. Each batch is
 * idempotent on its own (UPDATE only what differs, INSERT … WHERE NOT EXISTS); the engine runs
 * the multi-batch operations in one SERIALIZABLE transaction so two runs cannot both insert.
 */
import type { AppAuthorization, CompanyInfo } from '../../port';
import type { SanitizationProfile } from '../../profile';
import { batch, bit, str, type Batch } from './batch';
import { dboTable, quoteIdent } from './identifiers';

function usersColumns(profile: SanitizationProfile) {
  const u = profile.users;
  return {
    table: dboTable(u.table),
    login: quoteIdent('login column', u.loginColumn),
    enabled: quoteIdent('enabled column', u.enabledColumn),
    system: quoteIdent('system column', u.systemColumn),
    plan: quoteIdent('plan column', u.planColumn),
  };
}

export function repairSystemUser(profile: SanitizationProfile, login: string): Batch {
  const q = usersColumns(profile);
  return batch(
    'repair-system-user',
    `
UPDATE ${q.table} SET ${q.enabled} = 1, ${q.system} = 1
WHERE ${q.login} = @login COLLATE Latin1_General_BIN2 AND (${q.enabled} IS NULL OR ${q.enabled} = 0 OR ${q.system} IS NULL OR ${q.system} = 0);
INSERT INTO ${q.table} (${q.login}, ${q.enabled}, ${q.system})
SELECT @login, 1, 1 WHERE NOT EXISTS (SELECT 1 FROM ${q.table} WHERE ${q.login} = @login COLLATE Latin1_General_BIN2);`,
    { login: str(login) },
  );
}

/**
 * Seed 003: every non-system user but @login disabled (the first statement's row count says how
 * many); @login enabled, given @email and the profile's credential columns cleared (inserted
 * when the copy has no such user).
 */
export function restrictToAdministrator(profile: SanitizationProfile, login: string, email: string | null): Batch {
  const q = usersColumns(profile);
  const admin = profile.users.administrator!;
  const emailCol = quoteIdent('administrator e-mail column', admin.emailColumn);
  const cleared = admin.clear.map((c) => `, ${quoteIdent('administrator column', c)} = NULL`).join('');
  return batch(
    'restrict-to-administrator',
    `
UPDATE ${q.table} SET ${q.enabled} = 0
WHERE (${q.system} IS NULL OR ${q.system} = 0) AND ${q.login} <> @login COLLATE Latin1_General_BIN2 AND (${q.enabled} IS NULL OR ${q.enabled} = 1);
UPDATE ${q.table} SET ${q.enabled} = 1, ${emailCol} = @email${cleared} WHERE ${q.login} = @login COLLATE Latin1_General_BIN2;
INSERT INTO ${q.table} (${q.login}, ${emailCol}, ${q.enabled}, ${q.system})
SELECT @login, @email, 1, 0 WHERE NOT EXISTS (SELECT 1 FROM ${q.table} WHERE ${q.login} = @login COLLATE Latin1_General_BIN2);`,
    { login: str(login), email: str(email) },
  );
}

/**
 * Enabled non-system users allowed by the profile get @plan, every other non-system user no
 * plan. The allowed logins travel as one JSON array parameter read with OPENJSON, so their
 * number never changes the text.
 */
export function assignPlans(profile: SanitizationProfile, plan: string): Batch {
  const q = usersColumns(profile);
  const allowAll = profile.users.allowedLogins.includes('*');
  const named = profile.users.allowedLogins.filter((l) => l !== '*');
  const allowed = `(${q.enabled} = 1 AND (@all = 1 OR ${q.login} COLLATE Latin1_General_BIN2 IN (SELECT j.value COLLATE Latin1_General_BIN2 FROM OPENJSON(@named) AS j)))`;
  const wanted = `CASE WHEN ${allowed} THEN @plan ELSE NULL END`;
  return batch(
    'assign-plans',
    `
UPDATE ${q.table} SET ${q.plan} = ${wanted}
WHERE (${q.system} IS NULL OR ${q.system} = 0)
  AND ((${q.plan} IS NULL AND ${wanted} IS NOT NULL) OR (${q.plan} IS NOT NULL AND ${wanted} IS NULL) OR ${q.plan} <> ${wanted} COLLATE Latin1_General_BIN2);
SELECT ${q.login} AS login FROM ${q.table}
WHERE (${q.system} IS NULL OR ${q.system} = 0) AND ${allowed} AND ${q.plan} = @plan COLLATE Latin1_General_BIN2
ORDER BY ${q.login} COLLATE Latin1_General_BIN2;`,
    { plan: str(plan), named: str(JSON.stringify(named)), all: bit(allowAll) },
  );
}

export function listUsers(): Batch {
  return batch('list-users', `SELECT [login], [email], [plan], [enabled], [is_system] FROM [dbo].[users] ORDER BY [login] COLLATE Latin1_General_BIN2`);
}

export function readAppAuthorizations(): Batch {
  return batch(
    'read-app-authorizations',
    `SELECT [app_id], [app_name], [system_user_login] FROM [dbo].[app_authorizations] ORDER BY [app_id] COLLATE Latin1_General_BIN2`,
  );
}

export function upsertAppAuthorization(a: AppAuthorization): Batch {
  return batch(
    'upsert-app-authorization',
    `
UPDATE [dbo].[app_authorizations] SET [app_name] = @name, [system_user_login] = @login
WHERE [app_id] = @id COLLATE Latin1_General_BIN2
  AND NOT ([app_name] = @name COLLATE Latin1_General_BIN2 AND [system_user_login] = @login COLLATE Latin1_General_BIN2);
INSERT INTO [dbo].[app_authorizations] ([app_id], [app_name], [system_user_login])
SELECT @id, @name, @login WHERE NOT EXISTS (SELECT 1 FROM [dbo].[app_authorizations] WHERE [app_id] = @id COLLATE Latin1_General_BIN2);
UPDATE [dbo].[users] SET [enabled] = 1, [is_system] = 1
WHERE [login] = @login COLLATE Latin1_General_BIN2 AND ([enabled] = 0 OR [is_system] = 0);
INSERT INTO [dbo].[users] ([login], [enabled], [is_system])
SELECT @login, 1, 1 WHERE NOT EXISTS (SELECT 1 FROM [dbo].[users] WHERE [login] = @login COLLATE Latin1_General_BIN2);`,
    {
      id: str(a.appId),
      name: str(a.appName),
      login: str(a.systemUserLogin),
    },
  );
}

export function readCompanyInfo(): Batch {
  return batch(
    'read-company-info',
    `SELECT TOP (1) [company_name] AS companyName, [serial], [license], [owner_company] AS ownerCompany FROM [dbo].[company_info] ORDER BY [id]`,
  );
}

export function setCompanyInfo(info: CompanyInfo): Batch {
  const cols: [string, string][] = [
    ['company_name', 'c'],
    ['serial', 's'],
    ['license', 'l'],
    ['owner_company', 'o'],
  ];
  return batch(
    'set-company-info',
    `
UPDATE [dbo].[company_info] SET ${cols.map(([c, p]) => `[${c}] = @${p}`).join(', ')}
WHERE ${cols.map(([c, p]) => `NOT ([${c}] = @${p} COLLATE Latin1_General_BIN2)`).join(' OR ')}`,
    {
      c: str(info.companyName),
      s: str(info.serial),
      l: str(info.license),
      o: str(info.ownerCompany),
    },
  );
}

/** Keep exactly one mailbox, the test one without credentials (same row kept when it matches). */
export function replaceMailboxes(address: string): Batch {
  return batch(
    'replace-mailboxes',
    `
DELETE FROM [dbo].[mailboxes]
WHERE NOT ([address] = @a COLLATE Latin1_General_BIN2) OR [address] IS NULL OR [password] IS NOT NULL OR [encrypted_credentials] IS NOT NULL
   OR [id] <> (SELECT MIN(m.[id]) FROM [dbo].[mailboxes] AS m WHERE m.[address] = @a COLLATE Latin1_General_BIN2);
INSERT INTO [dbo].[mailboxes] ([address], [display_name], [password], [encrypted_credentials])
SELECT @a, N'Test mailbox', NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM [dbo].[mailboxes] WHERE [address] = @a COLLATE Latin1_General_BIN2);`,
    { a: str(address) },
  );
}
