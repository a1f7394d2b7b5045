/**
 * Seeds a demo CRM tenant database with realistic, deterministic data, generated set-based in
 * SQL (generate_series) so a million e-mail addresses take seconds. The messy values a real
 * CRM holds are planted on purpose: upper case, display names, several addresses in one
 * field, NULL, empty, no '@', several '@', look-alikes of the sandbox domain (eu.mailinator.com:
 * a production tenant never holds the sandbox domain itself, or a clone is refused), values
 * close to the column length.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { checkIdentifier, quoteIdent } from '../../activities/database/postgres/identifiers';

export interface SeedOptions {
  tenantId: string;
  companyName: string;
  /** Production base URL, e.g. https://acme.example-crm.com */
  baseUrl: string;
  /** Persons; e-mail addresses are twice as many. Default 1000. */
  persons?: number;
  appAuthorizations?: { appId: string; appName: string; systemUserLogin: string }[];
}

export const SCHEMA_FILE = path.join(__dirname, 'schema.sql');

export const DEFAULT_APP_AUTHORIZATIONS = [
  { appId: 'app-mailchimp-sync', appName: 'Newsletter Sync', systemUserLogin: 'sys-newsletter-sync' },
  { appId: 'app-erp-connector', appName: 'ERP Connector', systemUserLogin: 'sys-erp-connector' },
];

function urlFor(adminUrl: string, db: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${db}`;
  return u.toString();
}

// Shared SQL fragments: deterministic picks from small arrays, driven by the row number i.
const FIRST = `(ARRAY['Anna','Jon','Maria','Lars','Jane','Ola','Kari','Peter','Eva','Nils','Sofia','Erik','Ingrid','Tom','Liv','Marco','Chen','Aisha','Pablo','Yuki'])`;
const LAST = `(ARRAY['Hansen','Roe','Johansen','Olsen','Larsen','Andersen','Pedersen','Nilsen','Berg','Haugen','Smith','Garcia','Müller','Rossi','Dubois','Kowalski','Tanaka','Silva','Novak','Berg-Olsen'])`;
const DOMAINS = `(ARRAY['gmail.com','outlook.com','yahoo.com','hotmail.com','acme-corp.com','nordic-trade.no','example.org','icloud.com','firma.de','company.co.uk'])`;

function personSql(): string {
  return `
INSERT INTO persons (id, first_name, last_name, email, created_at)
SELECT i, f, l,
  CASE WHEN i % 97 = 0 THEN NULL ELSE lower(f) || '.' || lower(replace(l, 'ü', 'u')) || i || '@' || d END,
  timestamptz '2020-01-01' + (i % 1500) * interval '1 day'
FROM (SELECT i, ${FIRST}[1 + i % 20] AS f, ${LAST}[1 + (i * 7) % 20] AS l, ${DOMAINS}[1 + (i * 3) % 10] AS d
      FROM generate_series(1, $1::bigint) AS i) s`;
}

function emailAddressSql(): string {
  // l2 is a plain ASCII local part; d/d2 are domains.
  return `
INSERT INTO email_addresses (id, person_id, address, kind, is_primary)
SELECT i, (i + 1) / 2,
  CASE i % 50
    WHEN 0 THEN upper(l2) || '@' || upper(d)
    WHEN 1 THEN '"' || f || ' ' || l || '" <' || l2 || '@' || d || '>'
    WHEN 2 THEN l2 || '@' || d || '; ' || lower(f) || i || '@' || d2
    WHEN 3 THEN NULL
    WHEN 4 THEN ''
    WHEN 5 THEN 'n/a'
    WHEN 6 THEN lower(f) || '@home@' || d
    WHEN 7 THEN l2 || '@eu.mailinator.com'
    WHEN 8 THEN rpad(l2 || '.', (118 - length(d) - 1 - (i / 50) % 6)::int, 'x') || '@' || d
    WHEN 9 THEN f || ' ' || l || ' <' || l2 || '@' || d || '>'
    WHEN 10 THEN l2 || '@' || d || ', ' || lower(f) || '@' || d2
    WHEN 11 THEN '  ' || l2 || '@' || d || ' '
    WHEN 12 THEN initcap(l2) || '@' || initcap(d)
    ELSE l2 || '@' || d
  END,
  CASE WHEN i % 2 = 0 THEN 'home' ELSE 'work' END,
  i % 2 = 1
FROM (SELECT i, ${FIRST}[1 + i % 20] AS f, ${LAST}[1 + (i * 7) % 20] AS l,
             lower(${FIRST}[1 + i % 20]) || '.' || lower(translate(${LAST}[1 + (i * 7) % 20], 'ü-', 'u')) || i AS l2,
             ${DOMAINS}[1 + (i * 3) % 10] AS d, ${DOMAINS}[1 + (i * 7 + 1) % 10] AS d2
      FROM generate_series(1, 2 * $1::bigint) AS i) s`;
}

function contactsSql(): string {
  return `
INSERT INTO contacts (id, company_name, email, invoice_emails, phone)
SELECT i, c || ' ' || (ARRAY['AS','GmbH','Ltd','Inc','AB','SA'])[1 + i % 6],
  CASE WHEN i % 41 = 0 THEN '' ELSE 'post' || i || '@' || lower(replace(c, ' ', '-')) || '.com' END,
  CASE i % 4
    WHEN 0 THEN 'invoice' || i || '@' || lower(replace(c, ' ', '-')) || '.com; ap' || i || '@' || d
    WHEN 1 THEN 'Accounts Payable <ap@' || lower(replace(c, ' ', '-')) || '.com>'
    WHEN 2 THEN rpad('billing.department.', (60 - length(d) - 1 - i % 3)::int, 'z') || '@' || d
    ELSE NULL
  END,
  '+47 ' || lpad((i * 7919 % 100000000)::text, 8, '0')
FROM (SELECT i, (ARRAY['Fjord Fisk','Nordlys','Alpha Trade','Berg Bygg','Kaffe Kompaniet','Sol Energi','Tech Nord','Havn Logistikk'])[1 + i % 8] AS c,
             ${DOMAINS}[1 + (i * 5) % 10] AS d
      FROM generate_series(1, greatest(10, $1::bigint / 2)) AS i) s`;
}

function ticketsSql(): string {
  return `
INSERT INTO tickets (id, title, status, requester_email, cc_emails, created_at)
SELECT i, 'Ticket ' || i || ': ' || (ARRAY['Cannot log in','Invoice question','Import failed','Feature request','Mail not arriving'])[1 + i % 5],
  CASE WHEN i % 3 = 0 THEN 'open' ELSE 'closed' END,
  CASE i % 7 WHEN 0 THEN NULL WHEN 1 THEN upper(p.email) ELSE p.email END,
  CASE WHEN i % 4 = 0 THEN 'team@acme-corp.com, ' || coalesce(p.email, 'boss@firma.de') ELSE NULL END,
  timestamptz '2023-01-01' + (i % 700) * interval '1 day'
FROM generate_series(1, greatest(50, $1::bigint / 5)) AS i
JOIN persons p ON p.id = 1 + (i * 31) % $1::bigint`;
}

export async function seedTenantDatabase(adminUrl: string, db: string, opts: SeedOptions): Promise<void> {
  checkIdentifier('database name', db);
  const persons = opts.persons ?? 1000;
  if (!Number.isInteger(persons) || persons < 10 || persons > 50_000_000) {
    throw new Error(`invalid persons count ${JSON.stringify(opts.persons)}: an integer from 10 to 50,000,000`);
  }
  const base = new URL(opts.baseUrl);
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const host = base.host;
  const apps = opts.appAuthorizations ?? DEFAULT_APP_AUTHORIZATIONS;

  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent('database name', db)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quoteIdent('database name', db)}`);
  } finally {
    await admin.end();
  }

  const client = new Client({ connectionString: urlFor(adminUrl, db) });
  await client.connect();
  try {
    await client.query(readFileSync(SCHEMA_FILE, 'utf8'));
    await client.query('BEGIN');
    // Generated rows are consistent by construction: skip per-row foreign-key triggers (the
    // big cost of a million-row load) and durable commit waits.
    await client.query(`SET LOCAL session_replication_role = replica`);
    await client.query(`SET LOCAL synchronous_commit = off`);
    await client.query(
      `INSERT INTO company_info (tenant_id, company_name, serial, license, owner_company, base_url, support_email)
       VALUES ($1::text, $2::text, 'SN-' || upper(left(md5($1::text), 10)), 'Enterprise; 250 users; modules: Sales, Service, Marketing', $2::text, $3::text, 'support@' || $4::text)`,
      [opts.tenantId, opts.companyName, baseUrl, host],
    );
    await client.query(personSql(), [persons]);
    await client.query(emailAddressSql(), [persons]);
    await client.query(contactsSql(), [persons]);
    await client.query(ticketsSql(), [persons]);
    await client.query(`INSERT INTO user_plans (code, name, max_users) VALUES
      ('crm-standard', 'CRM Standard', NULL), ('crm-sales', 'CRM Sales Premium', 50), ('crm-sandbox', 'CRM Sandbox', NULL)`);
    await client.query(
      `INSERT INTO users (login, email, full_name, plan, enabled, is_system, is_admin, password_hash) VALUES
        ('admin', 'it-admin@' || $1, 'Administrator', 'crm-standard', true, false, true, md5('admin')),
        ('system', NULL, 'System', NULL, true, true, false, NULL),
        ('batch-runner', NULL, 'Batch runner', NULL, false, true, false, NULL)`,
      [base.hostname],
    );
    await client.query(
      `INSERT INTO users (login, email, full_name, plan, enabled, is_system, is_admin, password_hash)
       SELECT 'user' || lpad(i::text, 4, '0'), p.email, p.first_name || ' ' || p.last_name,
              CASE WHEN i % 5 = 0 THEN 'crm-sales' ELSE 'crm-standard' END, i % 10 <> 0, false, false, md5('pw' || i)
       FROM generate_series(1, least(2000, 20 + $1::bigint / 100)) AS i JOIN persons p ON p.id = i`,
      [persons],
    );
    for (const a of apps) {
      await client.query('INSERT INTO app_authorizations (app_id, app_name, system_user_login) VALUES ($1, $2, $3)', [a.appId, a.appName, a.systemUserLogin]);
      await client.query('INSERT INTO users (login, full_name, enabled, is_system) VALUES ($1, $2, true, true) ON CONFLICT (login) DO NOTHING', [
        a.systemUserLogin,
        a.appName,
      ]);
    }
    await client.query(
      `INSERT INTO scheduled_tasks (name, cron, enabled, notify_email, callback_url)
       SELECT (ARRAY['Nightly export','Send reminders','Sync ERP','Newsletter','Cleanup'])[1 + i % 5] || ' #' || i,
              (i % 60) || ' ' || (i % 24) || ' * * *', i % 6 <> 0,
              CASE WHEN i % 3 = 0 THEN 'ops@acme-corp.com; ' || 'owner' || i || '@gmail.com' ELSE 'owner' || i || '@gmail.com' END,
              $1 || '/api/tasks/' || i || '/run'
       FROM generate_series(1, 25) AS i`,
      [baseUrl],
    );
    await client.query(
      `INSERT INTO batch_jobs (name, status, owner_email, next_run)
       SELECT 'Job ' || i, (ARRAY['waiting','executing','ended','error','waiting'])[1 + i % 5], 'owner' || i || '@outlook.com',
              timestamptz '2025-01-01' + i * interval '1 hour'
       FROM generate_series(1, 40) AS i`,
    );
    await client.query(
      `INSERT INTO mailboxes (address, display_name, imap_host, smtp_host, username, password, encrypted_credentials) VALUES
        ('support@' || $1, 'Support', 'imap.' || $1, 'smtp.' || $1, 'support', 'S3cret-support!', decode(md5('support'), 'hex')),
        ('sales@' || $1, 'Sales', 'imap.' || $1, 'smtp.' || $1, 'sales', 'S3cret-sales!', decode(md5('sales'), 'hex')),
        ('noreply@' || $1, 'No reply', NULL, 'smtp.' || $1, 'noreply', 'S3cret-noreply!', decode(md5('noreply'), 'hex'))`,
      [host],
    );
    await client.query(
      `INSERT INTO webhooks (name, url, secret, events, active) VALUES
        ('ERP order sync', 'https://erp.partner-example.com/hooks/crm', 'whsec_' || md5('erp'), 'sale.created,sale.updated', true),
        ('Newsletter', 'https://news.partner-example.net/webhook', 'whsec_' || md5('news'), 'person.created', true),
        ('Slack', 'https://hooks.slack-example.com/services/T000/B000', NULL, 'ticket.created', true),
        ('Old integration', 'https://legacy.partner-example.org/in', 'whsec_' || md5('old'), 'contact.updated', false)`,
    );
    await client.query(
      `INSERT INTO server_sessions (host, user_login, started_at)
       SELECT 'web-' || (i % 3) || '.prod.internal', 'user' || lpad(i::text, 4, '0'), timestamptz '2025-01-01' + i * interval '1 minute'
       FROM generate_series(1, 12) AS i`,
    );
    await client.query(`INSERT INTO batch_server_config (host, max_jobs) VALUES ('batch-1.prod.internal', 8), ('batch-2.prod.internal', 8)`);
    await client.query(
      `INSERT INTO print_settings (document_type, printer, destination) VALUES
        ('invoice', '\\\\print-01.prod.internal\\invoices', NULL), ('delivery-note', '\\\\print-02.prod.internal\\warehouse', NULL),
        ('reminder', 'mail', 'accounts@' || $1)`,
      [host],
    );
    await client.query(
      `INSERT INTO settings (key, value) VALUES
        ('app.base_url', $1), ('app.login_url', $1 || '/login'), ('api.base_url', $1 || '/api/v1'),
        ('mail.unsubscribe_url', $1 || '/newsletter/unsubscribe?list=all'), ('portal.url', $1 || '/portal#start'),
        ('help.url', 'https://help.example-crm.com/docs'), ('smtp.relay', 'smtp.' || $2),
        ('mail.sender', 'noreply@' || $2), ('lookalike.url', $1 || '.evil-example.org/x')`,
      [baseUrl, host],
    );
    await client.query('COMMIT');
    // Vacuum too, so the tables are all-visible like a settled production database.
    await client.query('VACUUM (ANALYZE)');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
