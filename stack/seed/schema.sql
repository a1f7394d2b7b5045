-- Demo CRM schema: one database per tenant. Column lengths are real limits the e-mail scrub
-- must respect; the sanitization profile profiles/default.yaml names the columns it touches.

CREATE TABLE company_info (
  id            integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  tenant_id     varchar(64)  NOT NULL,
  company_name  varchar(200) NOT NULL,
  serial        varchar(200) NOT NULL,
  license       varchar(200) NOT NULL,
  owner_company varchar(200) NOT NULL,
  base_url      varchar(300) NOT NULL,
  support_email varchar(80)
);

CREATE TABLE persons (
  id          bigint PRIMARY KEY,
  first_name  varchar(60) NOT NULL,
  last_name   varchar(60) NOT NULL,
  email       varchar(254),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contacts (
  id             bigint PRIMARY KEY,
  company_name   varchar(200) NOT NULL,
  email          varchar(100),
  -- several addresses, often near the limit
  invoice_emails varchar(60),
  phone          varchar(40)
);

CREATE TABLE email_addresses (
  id         bigint PRIMARY KEY,
  person_id  bigint NOT NULL REFERENCES persons(id),
  address    varchar(120),
  kind       varchar(20) NOT NULL DEFAULT 'work',
  is_primary boolean NOT NULL DEFAULT false
);
CREATE INDEX email_addresses_person ON email_addresses (person_id);

CREATE TABLE user_plans (
  code        varchar(40) PRIMARY KEY,
  name        varchar(100) NOT NULL,
  max_users   integer
);

CREATE TABLE users (
  id          serial PRIMARY KEY,
  login       varchar(100) NOT NULL UNIQUE,
  email       varchar(254),
  full_name   varchar(200),
  plan        varchar(40),
  enabled     boolean NOT NULL DEFAULT true,
  is_system   boolean NOT NULL DEFAULT false,
  is_admin    boolean NOT NULL DEFAULT false,
  password_hash varchar(200)
);

CREATE TABLE scheduled_tasks (
  id           serial PRIMARY KEY,
  name         varchar(200) NOT NULL,
  cron         varchar(60) NOT NULL,
  enabled      boolean NOT NULL DEFAULT true,
  notify_email varchar(100),
  callback_url varchar(300)
);

CREATE TABLE batch_jobs (
  id          serial PRIMARY KEY,
  name        varchar(200) NOT NULL,
  status      varchar(20) NOT NULL CHECK (status IN ('waiting', 'executing', 'withhold', 'ended', 'error')),
  owner_email varchar(254),
  next_run    timestamptz
);

CREATE TABLE mailboxes (
  id                    serial PRIMARY KEY,
  address               varchar(254) NOT NULL,
  display_name          varchar(200),
  imap_host             varchar(200),
  smtp_host             varchar(200),
  username              varchar(200),
  password              varchar(200),
  encrypted_credentials bytea
);

CREATE TABLE app_authorizations (
  id                serial PRIMARY KEY,
  app_id            varchar(100) NOT NULL UNIQUE,
  app_name          varchar(200) NOT NULL,
  system_user_login varchar(100) NOT NULL,
  authorized_at     timestamptz NOT NULL DEFAULT '2024-01-01T00:00:00Z'
);

CREATE TABLE webhooks (
  id      serial PRIMARY KEY,
  name    varchar(200) NOT NULL,
  url     varchar(500) NOT NULL,
  secret  varchar(200),
  events  varchar(500) NOT NULL,
  active  boolean NOT NULL DEFAULT true
);

CREATE TABLE tickets (
  id              bigint PRIMARY KEY,
  title           varchar(300) NOT NULL,
  status          varchar(10) NOT NULL CHECK (status IN ('open', 'closed')),
  requester_email varchar(254),
  cc_emails       varchar(200),
  created_at      timestamptz NOT NULL
);

-- Environment-specific rows: meaningless (and harmful) in another environment.
CREATE TABLE server_sessions (
  id         serial PRIMARY KEY,
  host       varchar(200) NOT NULL,
  user_login varchar(100),
  started_at timestamptz NOT NULL
);

CREATE TABLE batch_server_config (
  id        serial PRIMARY KEY,
  host      varchar(200) NOT NULL,
  max_jobs  integer NOT NULL
);

-- Print management of this environment's printers (seed 003 carries none of it over).
CREATE TABLE print_settings (
  id            serial PRIMARY KEY,
  document_type varchar(60)  NOT NULL,
  printer       varchar(200) NOT NULL,
  destination   varchar(300)
);

CREATE TABLE settings (
  key   varchar(100) PRIMARY KEY,
  value varchar(500)
);
