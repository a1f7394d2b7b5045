/**
 * Seeds a demo CRM tenant database on SQL Server: the T-SQL counterpart of
 * stack/seed/tenant-data.ts for the contract suite and benchmarks. Rows are generated
 * set-based from a tally (no GENERATE_SERIES, so it runs on SQL Server 2019 and Azure SQL),
 * with the same messy e-mail values planted on purpose and the same fixed rows the contract
 * counts (4 webhooks, 12 server sessions, 3 mailboxes, 5 settings under the base URL, …).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sql from 'mssql';
import { Connections, parseAdminUrl, run } from '../../../activities/database/mssql/connections';
import { batch, int, str, type Batch } from '../../../activities/database/mssql/tsql/batch';
import * as ta from '../../../activities/database/mssql/tsql/admin';
import { checkIdentifier } from '../../../activities/database/mssql/tsql/identifiers';

export interface MssqlSeedOptions {
  tenantId: string;
  companyName: string;
  baseUrl: string;
  persons?: number;
  appAuthorizations?: { appId: string; appName: string; systemUserLogin: string }[];
}

export const MSSQL_SCHEMA_FILE = path.join(__dirname, 'demo-schema.sql');

const DEFAULT_APPS = [
  { appId: 'app-mailchimp-sync', appName: 'Newsletter Sync', systemUserLogin: 'sys-newsletter-sync' },
  { appId: 'app-erp-connector', appName: 'ERP Connector', systemUserLogin: 'sys-erp-connector' },
];

const TALLY = `WITH d(x) AS (SELECT v.x FROM (VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)) AS v(x)),
tally(i) AS (SELECT TOP (@n) CAST(ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS int) FROM d AS a, d AS b, d AS c, d AS e, d AS f, d AS g)`;
const FIRST = (e: string) =>
  `CHOOSE(1 + ${e} % 20, N'Anna',N'Jon',N'Maria',N'Lars',N'Jane',N'Ola',N'Kari',N'Peter',N'Eva',N'Nils',N'Sofia',N'Erik',N'Ingrid',N'Tom',N'Liv',N'Marco',N'Chen',N'Aisha',N'Pablo',N'Yuki')`;
const LAST = (e: string) =>
  `CHOOSE(1 + ${e} % 20, N'Hansen',N'Roe',N'Johansen',N'Olsen',N'Larsen',N'Andersen',N'Pedersen',N'Nilsen',N'Berg',N'Haugen',N'Smith',N'Garcia',N'Müller',N'Rossi',N'Dubois',N'Kowalski',N'Tanaka',N'Silva',N'Novak',N'Berg-Olsen')`;
const DOMAIN = (e: string) =>
  `CHOOSE(1 + ${e} % 10, N'gmail.com',N'outlook.com',N'yahoo.com',N'hotmail.com',N'acme-corp.com',N'nordic-trade.no',N'example.org',N'icloud.com',N'firma.de',N'company.co.uk')`;

export function seedBatches(opts: Required<Omit<MssqlSeedOptions, 'appAuthorizations'>>, host: string, baseUrl: string): Batch[] {
  const n = int(opts.persons);
  return [
    batch(
      'seed-company',
      `INSERT INTO dbo.company_info (tenant_id, company_name, serial, license, owner_company, base_url, support_email)
      VALUES (@t, @c, N'SN-' + UPPER(LEFT(CONVERT(varchar(32), HASHBYTES('MD5', CAST(@t AS varchar(64))), 2), 10)),
              N'Enterprise; 250 users; modules: Sales, Service, Marketing', @c, @u, N'support@' + @h)`,
      { t: str(opts.tenantId), c: str(opts.companyName), u: str(baseUrl), h: str(host) },
    ),
    batch(
      'seed-persons',
      `${TALLY}
      INSERT INTO dbo.persons (id, first_name, last_name, email, created_at)
      SELECT i, f, l, CASE WHEN i % 97 = 0 THEN NULL ELSE LOWER(f) + N'.' + LOWER(REPLACE(l, N'ü', N'u')) + CAST(i AS nvarchar(20)) + N'@' + dm END,
             DATEADD(day, i % 1500, CAST('2020-01-01T00:00:00Z' AS datetimeoffset))
      FROM (SELECT i, ${FIRST('i')} AS f, ${LAST('(i * 7)')} AS l, ${DOMAIN('(i * 3)')} AS dm FROM tally) AS s`,
      { n },
    ),
    batch(
      'seed-email-addresses',
      `${TALLY}
      INSERT INTO dbo.email_addresses (id, person_id, address, kind, is_primary)
      SELECT i, (i + 1) / 2,
        CASE i % 50
          WHEN 0 THEN UPPER(l2) + N'@' + UPPER(dm)
          WHEN 1 THEN N'"' + f + N' ' + l + N'" <' + l2 + N'@' + dm + N'>'
          WHEN 2 THEN l2 + N'@' + dm + N'; ' + LOWER(f) + CAST(i AS nvarchar(20)) + N'@' + d2
          WHEN 3 THEN NULL
          WHEN 4 THEN N''
          WHEN 5 THEN N'n/a'
          WHEN 6 THEN LOWER(f) + N'@home@' + dm
          WHEN 7 THEN l2 + N'@eu.mailinator.com'
          WHEN 8 THEN LEFT(l2 + N'.' + REPLICATE(N'x', 120), 118 - LEN(dm) - 1 - (i / 50) % 6) + N'@' + dm
          WHEN 9 THEN f + N' ' + l + N' <' + l2 + N'@' + dm + N'>'
          WHEN 10 THEN l2 + N'@' + dm + N', ' + LOWER(f) + N'@' + d2
          WHEN 11 THEN N'  ' + l2 + N'@' + dm + N' '
          WHEN 12 THEN UPPER(LEFT(l2, 1)) + SUBSTRING(l2, 2, 200) + N'@' + UPPER(LEFT(dm, 1)) + SUBSTRING(dm, 2, 200)
          ELSE l2 + N'@' + dm
        END,
        CASE WHEN i % 2 = 0 THEN N'home' ELSE N'work' END,
        CASE WHEN i % 2 = 1 THEN 1 ELSE 0 END
      FROM (SELECT i, ${FIRST('i')} AS f, ${LAST('(i * 7)')} AS l,
                   LOWER(${FIRST('i')}) + N'.' + LOWER(REPLACE(REPLACE(${LAST('(i * 7)')}, N'ü', N'u'), N'-', N'')) + CAST(i AS nvarchar(20)) AS l2,
                   ${DOMAIN('(i * 3)')} AS dm, ${DOMAIN('(i * 7 + 1)')} AS d2
            FROM tally WHERE i <= 2 * @persons) AS s`,
      { n: int(2 * opts.persons), persons: n },
    ),
    batch(
      'seed-contacts',
      `${TALLY}
      INSERT INTO dbo.contacts (id, company_name, email, invoice_emails, phone)
      SELECT i, c + N' ' + CHOOSE(1 + i % 6, N'AS', N'GmbH', N'Ltd', N'Inc', N'AB', N'SA'),
        CASE WHEN i % 41 = 0 THEN N'' ELSE N'post' + CAST(i AS nvarchar(20)) + N'@' + LOWER(REPLACE(c, N' ', N'-')) + N'.com' END,
        CASE i % 4
          WHEN 0 THEN LEFT(N'invoice' + CAST(i AS nvarchar(20)) + N'@' + LOWER(REPLACE(c, N' ', N'-')) + N'.com; ap' + CAST(i AS nvarchar(20)) + N'@' + dm, 60)
          WHEN 1 THEN LEFT(N'Accounts Payable <ap@' + LOWER(REPLACE(c, N' ', N'-')) + N'.com>', 60)
          WHEN 2 THEN LEFT(N'billing.department.' + REPLICATE(N'z', 60), 60 - LEN(dm) - 1 - i % 3) + N'@' + dm
          ELSE NULL
        END,
        N'+47 ' + RIGHT(N'00000000' + CAST((i * 7919) % 100000000 AS nvarchar(20)), 8)
      FROM (SELECT i, CHOOSE(1 + i % 8, N'Fjord Fisk', N'Nordlys', N'Alpha Trade', N'Berg Bygg', N'Kaffe Kompaniet', N'Sol Energi', N'Tech Nord', N'Havn Logistikk') AS c,
                   ${DOMAIN('(i * 5)')} AS dm FROM tally) AS s`,
      { n: int(Math.max(10, Math.floor(opts.persons / 2))) },
    ),
    batch(
      'seed-tickets',
      `${TALLY}
      INSERT INTO dbo.tickets (id, title, status, requester_email, cc_emails, created_at)
      SELECT t.i, N'Ticket ' + CAST(t.i AS nvarchar(20)) + N': ' + CHOOSE(1 + t.i % 5, N'Cannot log in', N'Invoice question', N'Import failed', N'Feature request', N'Mail not arriving'),
        CASE WHEN t.i % 3 = 0 THEN N'open' ELSE N'closed' END,
        CASE t.i % 7 WHEN 0 THEN NULL WHEN 1 THEN UPPER(p.email) ELSE p.email END,
        CASE WHEN t.i % 4 = 0 THEN N'team@acme-corp.com, ' + ISNULL(p.email, N'boss@firma.de') ELSE NULL END,
        DATEADD(day, t.i % 700, CAST('2023-01-01T00:00:00Z' AS datetimeoffset))
      FROM tally AS t JOIN dbo.persons AS p ON p.id = 1 + (t.i * 31) % @persons`,
      { n: int(Math.max(50, Math.floor(opts.persons / 5))), persons: n },
    ),
    batch(
      'seed-plans-users',
      `
      INSERT INTO dbo.user_plans (code, name, max_users) VALUES (N'crm-standard', N'CRM Standard', NULL), (N'crm-sales', N'CRM Sales Premium', 50), (N'crm-sandbox', N'CRM Sandbox', NULL);
      INSERT INTO dbo.users (login, email, full_name, [plan], enabled, is_system, is_admin, password_hash) VALUES
        (N'admin', N'it-admin@' + @hn, N'Administrator', N'crm-standard', 1, 0, 1, CONVERT(nvarchar(64), HASHBYTES('MD5', 'admin'), 2)),
        (N'system', NULL, N'System', NULL, 1, 1, 0, NULL),
        (N'batch-runner', NULL, N'Batch runner', NULL, 0, 1, 0, NULL);`,
      { hn: str(new URL(baseUrl).hostname) },
    ),
    batch(
      'seed-more-users',
      `${TALLY}
      INSERT INTO dbo.users (login, email, full_name, [plan], enabled, is_system, is_admin, password_hash)
      SELECT N'user' + RIGHT(N'0000' + CAST(t.i AS nvarchar(20)), 4), p.email, p.first_name + N' ' + p.last_name,
             CASE WHEN t.i % 5 = 0 THEN N'crm-sales' ELSE N'crm-standard' END, CASE WHEN t.i % 10 <> 0 THEN 1 ELSE 0 END, 0, 0,
             CONVERT(nvarchar(64), HASHBYTES('MD5', CONCAT('pw', t.i)), 2)
      FROM tally AS t JOIN dbo.persons AS p ON p.id = t.i`,
      { n: int(Math.min(2000, 20 + Math.floor(opts.persons / 100))) },
    ),
    batch(
      'seed-tasks',
      `${TALLY}
      INSERT INTO dbo.scheduled_tasks (name, cron, enabled, notify_email, callback_url)
      SELECT CHOOSE(1 + i % 5, N'Nightly export', N'Send reminders', N'Sync ERP', N'Newsletter', N'Cleanup') + N' #' + CAST(i AS nvarchar(20)),
             CONCAT(i % 60, N' ', i % 24, N' * * *'), CASE WHEN i % 6 <> 0 THEN 1 ELSE 0 END,
             CASE WHEN i % 3 = 0 THEN CONCAT(N'ops@acme-corp.com; owner', i, N'@gmail.com') ELSE CONCAT(N'owner', i, N'@gmail.com') END,
             CONCAT(@u, N'/api/tasks/', i, N'/run')
      FROM tally ORDER BY i`,
      { n: int(25), u: str(baseUrl) },
    ),
    batch(
      'seed-jobs',
      `${TALLY}
      INSERT INTO dbo.batch_jobs (name, status, owner_email, next_run)
      SELECT CONCAT(N'Job ', i), CHOOSE(1 + i % 5, N'waiting', N'executing', N'ended', N'error', N'waiting'), CONCAT(N'owner', i, N'@outlook.com'),
             DATEADD(hour, i, CAST('2025-01-01T00:00:00Z' AS datetimeoffset))
      FROM tally ORDER BY i`,
      { n: int(40) },
    ),
    batch(
      'seed-fixed-rows',
      `
      INSERT INTO dbo.mailboxes (address, display_name, imap_host, smtp_host, username, password, encrypted_credentials) VALUES
        (N'support@' + @h, N'Support', N'imap.' + @h, N'smtp.' + @h, N'support', N'S3cret-support!', HASHBYTES('MD5', 'support')),
        (N'sales@' + @h, N'Sales', N'imap.' + @h, N'smtp.' + @h, N'sales', N'S3cret-sales!', HASHBYTES('MD5', 'sales')),
        (N'noreply@' + @h, N'No reply', NULL, N'smtp.' + @h, N'noreply', N'S3cret-noreply!', HASHBYTES('MD5', 'noreply'));
      INSERT INTO dbo.webhooks (name, url, secret, events, active) VALUES
        (N'ERP order sync', N'https://erp.partner-example.com/hooks/crm', N'whsec_erp', N'sale.created,sale.updated', 1),
        (N'Newsletter', N'https://news.partner-example.net/webhook', N'whsec_news', N'person.created', 1),
        (N'Slack', N'https://hooks.slack-example.com/services/T000/B000', NULL, N'ticket.created', 1),
        (N'Old integration', N'https://legacy.partner-example.org/in', N'whsec_old', N'contact.updated', 0);
      INSERT INTO dbo.server_sessions (host, user_login, started_at)
      SELECT CONCAT(N'web-', v.i % 3, N'.prod.internal'), CONCAT(N'user', RIGHT(CONCAT(N'0000', v.i), 4)), DATEADD(minute, v.i, CAST('2025-01-01T00:00:00Z' AS datetimeoffset))
      FROM (VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10),(11),(12)) AS v(i);
      INSERT INTO dbo.batch_server_config (host, max_jobs) VALUES (N'batch-1.prod.internal', 8), (N'batch-2.prod.internal', 8);
      INSERT INTO dbo.print_settings (document_type, printer, destination) VALUES
        (N'invoice', N'\\\\print-01.prod.internal\\invoices', NULL), (N'delivery-note', N'\\\\print-02.prod.internal\\warehouse', NULL),
        (N'reminder', N'mail', N'accounts@' + @h);
      INSERT INTO dbo.settings ([key], value) VALUES
        (N'app.base_url', @u), (N'app.login_url', @u + N'/login'), (N'api.base_url', @u + N'/api/v1'),
        (N'mail.unsubscribe_url', @u + N'/newsletter/unsubscribe?list=all'), (N'portal.url', @u + N'/portal#start'),
        (N'help.url', N'https://help.example-crm.com/docs'), (N'smtp.relay', N'smtp.' + @h),
        (N'mail.sender', N'noreply@' + @h), (N'lookalike.url', @u + N'.evil-example.org/x');`,
      { h: str(host), u: str(baseUrl) },
    ),
  ];
}

export function appBatch(a: { appId: string; appName: string; systemUserLogin: string }): Batch {
  return batch(
    'seed-app',
    `
    INSERT INTO dbo.app_authorizations (app_id, app_name, system_user_login) VALUES (@id, @name, @login);
    INSERT INTO dbo.users (login, full_name, enabled, is_system) SELECT @login, @name, 1, 1 WHERE NOT EXISTS (SELECT 1 FROM dbo.users WHERE login = @login);`,
    { id: str(a.appId), name: str(a.appName), login: str(a.systemUserLogin) },
  );
}

/** (Re)creates `db` on the server of `adminUrl` and fills it with the demo tenant. */
export async function seedMssqlTenantDatabase(adminUrl: string, db: string, opts: MssqlSeedOptions): Promise<void> {
  checkIdentifier('database name', db);
  const persons = opts.persons ?? 1000;
  if (!Number.isInteger(persons) || persons < 10 || persons > 500_000)
    throw new Error(`invalid persons count ${JSON.stringify(opts.persons)}: an integer from 10 to 500,000 (the tally holds 1,000,000 rows)`);
  const base = new URL(opts.baseUrl);
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const conns = new Connections(parseAdminUrl(adminUrl));
  try {
    const master = await conns.master();
    await run(master, ta.dropDatabase(db, false));
    await run(master, ta.createDatabase(db));
    const pool = await conns.db(db);
    await pool.batch(readFileSync(MSSQL_SCHEMA_FILE, 'utf8'));
    const tx = new sql.Transaction(pool);
    await tx.begin();
    try {
      for (const b of seedBatches({ tenantId: opts.tenantId, companyName: opts.companyName, baseUrl, persons }, base.host, baseUrl)) await run(tx, b);
      for (const a of opts.appAuthorizations ?? DEFAULT_APPS) await run(tx, appBatch(a));
      await tx.commit();
    } catch (err) {
      await tx.rollback().catch(() => undefined);
      throw err;
    }
  } finally {
    await conns.closeAll();
  }
}
