/**
 * Worker configuration: environment variables, optionally preceded by a JSON file named by
 * TENANT_CLONE_CONFIG (the environment wins). Validated at start so a bad value stops the
 * worker with a message naming it, instead of failing a clone halfway.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TEMPORAL_ENV_VARS } from '../client/connection';
import { payloadCodecFrom } from '../client/payload-codec';
import { DEFAULT_SANDBOX_DOMAINS, badSandboxPattern } from '../workflows/sandbox-domains';

/** A comma-separated list of sandbox domains (`*.x` for every name under x); public providers are refused. */
const sandboxDomains = z
  .string()
  .transform((text, ctx) => {
    const list = text
      .split(',')
      .map((d) => d.trim().toLowerCase())
      .filter(Boolean);
    if (list.length === 0) ctx.addIssue({ code: 'custom', message: 'SANDBOX_MAIL_DOMAINS must name at least one domain' });
    for (const d of list) {
      const why = badSandboxPattern(d);
      if (why) ctx.addIssue({ code: 'custom', message: `SANDBOX_MAIL_DOMAINS entry ${JSON.stringify(d)} is refused: ${why}` });
    }
    return list;
  })
  .default(DEFAULT_SANDBOX_DOMAINS);

/** Temporal's own connection variables (TEMPORAL_API_KEY is a secret), checked by envconfig when the worker connects. */
const temporalSettings = Object.fromEntries(TEMPORAL_ENV_VARS.map((k) => [k, z.string().optional()])) as Record<
  (typeof TEMPORAL_ENV_VARS)[number],
  z.ZodOptional<z.ZodString>
>;

const url = (what: string) => z.string({ error: `${what} is required` }).url(`${what} must be a URL`);

export const configSchema = z.object({
  /**
   * How to reach Temporal: read by @temporalio/envconfig (client/connection.ts), a profile of a
   * TOML file overridden by these; unset, the plaintext local dev server.
   */
  ...temporalSettings,
  TASK_QUEUE: z.string().default('tenant-clone'),
  /** Where the worker serves Prometheus metrics (host:port), e.g. 0.0.0.0:9464; unset: none. */
  METRICS_ADDRESS: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'METRICS_ADDRESS must be host:port, e.g. 0.0.0.0:9464')
    .optional(),
  /** Payload encryption (client/payload-codec.ts): `id:base64 key,…` (secret) and the id that encrypts. */
  PAYLOAD_ENCRYPTION_KEYS: z.string().optional(),
  PAYLOAD_ENCRYPTION_KEY_ID: z.string().optional(),
  /** OpenTelemetry traces over OTLP/HTTP (client/tracing.ts): the collector's traces URL, or its root; unset: no traces. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().optional(),

  /** Admin URL of the tenant database server (PostgreSQL). Secret: stays in the worker. */
  TENANT_DB_URL: url('TENANT_DB_URL'),
  /** Password given to tenant logins. Secret. */
  TENANT_LOGIN_PASSWORD: z.string({ error: 'TENANT_LOGIN_PASSWORD is required' }).min(12, 'TENANT_LOGIN_PASSWORD must have at least 12 characters'),
  PG_BIN_DIR: z.string().optional(),
  /** How long pg_dump waits for a lock on a source table before the copy or backup fails and retries. */
  PG_LOCK_WAIT_TIMEOUT_MS: z.coerce.number().int().min(1).max(86_400_000).default(60_000),
  /** Admin URL of a SQL Server / Azure SQL server for tenants the directory records on mssql. Secret. */
  TENANT_MSSQL_URL: z.string().optional(),
  /** Where the SQL Server writes tenant backups: into the backup archive (TO URL) or to a folder it shares with the worker. */
  TENANT_MSSQL_BACKUPS: z.enum(['archive', 'disk'], { error: 'TENANT_MSSQL_BACKUPS must be "archive" or "disk"' }).default('archive'),
  /** The profile of the copy and restore plans; default profiles/default.yaml. */
  SANITIZATION_PROFILE: z.string().optional(),
  /** The profile of the point-in-time plan (seed 003's rules); default profiles/point-in-time.yaml. */
  SANITIZATION_PROFILE_POINT_IN_TIME: z.string().optional(),

  /**
   * The tenant server's continuous backup (pgBackRest): its stanza, and its configuration file
   * where that is not pgBackRest's default. Unset: point-in-time clones on PostgreSQL are refused.
   */
  PGBACKREST_STANZA: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'PGBACKREST_STANZA must be 1-64 letters, digits, _ . or -')
    .optional(),
  PGBACKREST_CONFIG: z.string().optional(),
  /** Folder holding `postgres` of the tenant server's major version, for scratch servers; default: PATH. */
  PG_SERVER_BIN_DIR: z.string().optional(),
  /** Where scratch servers of point-in-time restores live (one folder per target, removed after each). */
  PG_SCRATCH_DIR: z
    .string()
    .refine((p) => p.startsWith('/'), 'PG_SCRATCH_DIR must be an absolute path')
    .optional(),
  /** A worker running as root runs PostgreSQL's programs and pgBackRest as this account. */
  PG_OS_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'PG_OS_USER must be an OS account name')
    .default('postgres'),
  /** How long a scratch server may take to recover to the requested point. */
  PG_RECOVERY_TIMEOUT_MS: z.coerce.number().int().min(10_000).max(86_400_000).default(7_200_000),
  /** How far back a point-in-time clone may go, by the source's kind (seed 003: 28 and 7 days). */
  PITR_RETENTION_PRODUCTION_DAYS: z.coerce.number().int().min(1).max(3650).default(28),
  PITR_RETENTION_SANDBOX_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  /** A scheduled server backup (type auto) is a full one when the newest full one is older than this. */
  SERVER_BACKUP_FULL_EVERY_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  /** Domains a request may rewrite addresses into; anything else is refused before a clone touches anything. */
  SANDBOX_MAIL_DOMAINS: sandboxDomains,
  QUERY_ROLE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'QUERY_ROLE must be a lower-case SQL identifier')
    .default('customer_query'),
  COPY_JOBS: z.coerce.number().int().min(1).max(32).default(2),
  /**
   * PostgreSQL copies rewrite every address on the way in, so the target is written once and
   * never holds production addresses (the default); `false`: the dump copy and the in-place
   * scrub, as restored backups and SQL Server always get.
   */
  SANITIZE_IN_FLIGHT: z
    .enum(['true', 'false'], { error: 'SANITIZE_IN_FLIGHT must be "true" or "false"' })
    .default('true')
    .transform((v) => v === 'true'),

  PLATFORM_URL: url('PLATFORM_URL'),
  /** HMAC key of the webhooks sent to partner apps. Secret. */
  WEBHOOK_SIGNING_SECRET: z.string({ error: 'WEBHOOK_SIGNING_SECRET is required' }).min(16, 'WEBHOOK_SIGNING_SECRET must have at least 16 characters'),

  ARCHIVE_AZURE_CONNECTION: z
    .string({ error: 'ARCHIVE_AZURE_CONNECTION is required' })
    .includes('AccountName=', { message: 'ARCHIVE_AZURE_CONNECTION must be an Azure Storage connection string' }),
  ARCHIVE_SOARC_CONNECTION: z
    .string({ error: 'ARCHIVE_SOARC_CONNECTION is required' })
    .includes('AccountName=', { message: 'ARCHIVE_SOARC_CONNECTION must be an Azure Storage connection string' }),
  ARCHIVE_COPY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),

  SMTP_HOST: z.string().default('127.0.0.1'),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(25),
  SMTP_FROM: z.string().default('tenant-clone@localhost'),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),

  /** How often waiting steps poll the platform. */
  POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let fromFile: Record<string, unknown> = {};
  if (env.TENANT_CLONE_CONFIG) {
    try {
      fromFile = JSON.parse(readFileSync(env.TENANT_CLONE_CONFIG, 'utf8'));
    } catch (err) {
      throw new ConfigError(`TENANT_CLONE_CONFIG ${env.TENANT_CLONE_CONFIG}: ${(err as Error).message}`);
    }
  }
  const merged: Record<string, unknown> = { ...fromFile };
  for (const key of Object.keys(configSchema.shape)) if (env[key] !== undefined && env[key] !== '') merged[key] = env[key];
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  try {
    payloadCodecFrom(result.data);
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`);
  }
  return result.data;
}

/** The Temporal connection variables of a configuration, as envconfig reads them (plus HOME, for its default file). */
export function temporalEnv(config: Config): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
  for (const k of TEMPORAL_ENV_VARS) env[k] = config[k];
  return env;
}
