-- Demo CRM schema for SQL Server: the T-SQL twin of stack/seed/schema.sql (same tables,
-- columns and lengths; boolean -> bit, timestamptz -> datetimeoffset, bytea -> varbinary,
-- serial -> IDENTITY, text -> nvarchar). Used by the mssql contract suite's seed.

CREATE TABLE dbo.company_info (
  id            int NOT NULL CONSTRAINT pk_company_info PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  tenant_id     nvarchar(64)  NOT NULL,
  company_name  nvarchar(200) NOT NULL,
  serial        nvarchar(200) NOT NULL,
  license       nvarchar(200) NOT NULL,
  owner_company nvarchar(200) NOT NULL,
  base_url      nvarchar(300) NOT NULL,
  support_email nvarchar(80)
);

CREATE TABLE dbo.persons (
  id          bigint NOT NULL CONSTRAINT pk_persons PRIMARY KEY,
  first_name  nvarchar(60) NOT NULL,
  last_name   nvarchar(60) NOT NULL,
  email       nvarchar(254),
  created_at  datetimeoffset NOT NULL DEFAULT SYSDATETIMEOFFSET()
);

CREATE TABLE dbo.contacts (
  id             bigint NOT NULL CONSTRAINT pk_contacts PRIMARY KEY,
  company_name   nvarchar(200) NOT NULL,
  email          nvarchar(100),
  invoice_emails nvarchar(60),
  phone          nvarchar(40)
);

CREATE TABLE dbo.email_addresses (
  id         bigint NOT NULL CONSTRAINT pk_email_addresses PRIMARY KEY,
  person_id  bigint NOT NULL CONSTRAINT fk_email_addresses_person REFERENCES dbo.persons(id),
  address    nvarchar(120),
  kind       nvarchar(20) NOT NULL DEFAULT N'work',
  is_primary bit NOT NULL DEFAULT 0
);
CREATE INDEX email_addresses_person ON dbo.email_addresses (person_id);

CREATE TABLE dbo.user_plans (
  code        nvarchar(40) NOT NULL CONSTRAINT pk_user_plans PRIMARY KEY,
  name        nvarchar(100) NOT NULL,
  max_users   int
);

CREATE TABLE dbo.users (
  id            int IDENTITY(1, 1) NOT NULL CONSTRAINT pk_users PRIMARY KEY,
  login         nvarchar(100) NOT NULL CONSTRAINT uq_users_login UNIQUE,
  email         nvarchar(254),
  full_name     nvarchar(200),
  [plan]        nvarchar(40),
  enabled       bit NOT NULL DEFAULT 1,
  is_system     bit NOT NULL DEFAULT 0,
  is_admin      bit NOT NULL DEFAULT 0,
  password_hash nvarchar(200)
);

CREATE TABLE dbo.scheduled_tasks (
  id           int IDENTITY(1, 1) NOT NULL CONSTRAINT pk_scheduled_tasks PRIMARY KEY,
  name         nvarchar(200) NOT NULL,
  cron         nvarchar(60) NOT NULL,
  enabled      bit NOT NULL DEFAULT 1,
  notify_email nvarchar(100),
  callback_url nvarchar(300)
);

CREATE TABLE dbo.batch_jobs (
  id          int IDENTITY(1, 1) NOT NULL CONSTRAINT pk_batch_jobs PRIMARY KEY,
  name        nvarchar(200) NOT NULL,
  status      nvarchar(20) NOT NULL CHECK (status IN (N'waiting', N'executing', N'withhold', N'ended', N'error')),
  owner_email nvarchar(254),
  next_run    datetimeoffset
);

CREATE TABLE dbo.mailboxes (
  id                    int IDENTITY(1, 1) NOT NULL CONSTRAINT pk_mailboxes PRIMARY KEY,
  address               nvarchar(254) NOT NULL,
  display_name          nvarchar(200),
  imap_host             nvarchar(200),
  smtp_host             nvarchar(200),
  username              nvarchar(200),
  password              nvarchar(200),
  encrypted_credentials varbinary(max)
);

CREATE TABLE dbo.app_authorizations (
  id                int IDENTITY(1, 1) NOT NULL CONSTRAINT pk_app_authorizations PRIMARY KEY,
  app_id            nvarchar(100) NOT NULL CONSTRAINT uq_app_authorizations_app UNIQUE,
  app_name          nvarchar(200) NOT NULL,
  system_user_login nvarchar(100) NOT NULL,
  authorized_at     datetimeoffset NOT NULL DEFAULT '2024-01-01T00:00:00Z'
);

CREATE TABLE dbo.webhooks (
  id      int IDENTITY(1, 1) NOT NULL CONSTRAINT pk_webhooks PRIMARY KEY,
  name    nvarchar(200) NOT NULL,
  url     nvarchar(500) NOT NULL,
  secret  nvarchar(200),
  events  nvarchar(500) NOT NULL,
  active  bit NOT NULL DEFAULT 1
);

CREATE TABLE dbo.tickets (
  id              bigint NOT NULL CONSTRAINT pk_tickets PRIMARY KEY,
  title           nvarchar(300) NOT NULL,
  status          nvarchar(10) NOT NULL CHECK (status IN (N'open', N'closed')),
  requester_email nvarchar(254),
  cc_emails       nvarchar(200),
  created_at      datetimeoffset NOT NULL
);

CREATE TABLE dbo.server_sessions (
  id         int IDENTITY(1, 1) NOT NULL CONSTRAINT pk_server_sessions PRIMARY KEY,
  host       nvarchar(200) NOT NULL,
  user_login nvarchar(100),
  started_at datetimeoffset NOT NULL
);

CREATE TABLE dbo.batch_server_config (
  id        int IDENTITY(1, 1) NOT NULL CONSTRAINT pk_batch_server_config PRIMARY KEY,
  host      nvarchar(200) NOT NULL,
  max_jobs  int NOT NULL
);

CREATE TABLE dbo.print_settings (
  id            int IDENTITY(1, 1) NOT NULL CONSTRAINT pk_print_settings PRIMARY KEY,
  document_type nvarchar(60)  NOT NULL,
  printer       nvarchar(200) NOT NULL,
  destination   nvarchar(300)
);

CREATE TABLE dbo.settings (
  [key]  nvarchar(100) NOT NULL CONSTRAINT pk_settings PRIMARY KEY,
  value  nvarchar(500)
);
