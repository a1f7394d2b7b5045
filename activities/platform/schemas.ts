/**
 * Runtime schemas for the platform port types, shared by both ends of the REST contract
 * (openapi.yaml). The emulator parses request bodies strictly, so a misspelt field is named in
 * a 400 instead of being silently dropped; the HTTP adapters read responses tolerantly, so a
 * platform that adds a field does not break a running clone, while a missing or mistyped one
 * still fails loudly instead of leaking `undefined` into a workflow.
 */
import { z } from 'zod';
import type { DirectoryState, DirectoryUserRecord, HostingMode, HostingState, MailRoute, PartnerApp, Tenant, TenantKind } from './port';

export const TENANT_KINDS = ['production', 'sandbox', 'test'] as const satisfies readonly TenantKind[];
export const DIRECTORY_STATES = ['Normal', 'InMigration'] as const satisfies readonly DirectoryState[];
export const HOSTING_MODES = ['running', 'maintenance'] as const satisfies readonly HostingMode[];
export const DATABASE_ENGINES = ['postgres', 'mssql'] as const;

/** Deliberately loose: a mailbox or route address only needs to look like local@domain.tld. */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Cluster names end up in host configuration, so keep them to a safe alphabet. */
export const CLUSTER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const text = z.string().min(1, 'must be a non-empty string').max(400, 'must be at most 400 characters');
const email = z.string().max(254, 'must be at most 254 characters').regex(EMAIL_PATTERN, 'must be an e-mail address');

export function platformSchemas(strict: boolean) {
  // One builder for both readers; only unknown-key handling differs.
  const object = strict ? z.strictObject : z.object;

  const database = object({
    engine: z.enum(DATABASE_ENGINES),
    name: text,
  });

  const tenant = object({
    id: text,
    name: text,
    kind: z.enum(TENANT_KINDS),
    region: text,
    directoryTenant: text,
    appVersion: text,
    capacityMb: z.number().int().min(0),
    companyName: z.string().max(400),
    serial: z.string().max(400),
    license: z.string().max(400),
    database,
    baseUrl: z.url({ protocol: /^https?$/ }),
    state: z.enum(DIRECTORY_STATES),
    testEnvironmentOf: text.nullable(),
    registeredDatabase: text.nullable(),
  });

  const directoryUser = object({
    login: text,
    email: z.string().max(400).nullable(),
    plan: z.string().max(400).nullable(),
    enabled: z.boolean(),
  });

  const company = object({
    companyName: z.string().max(400),
    serial: z.string().max(400),
    license: z.string().max(400),
  });

  const hostingState = object({
    mode: z.enum(HOSTING_MODES),
    clusters: z.array(z.string()),
    runningTasks: z.number().int().min(0),
    lastQueuedTask: z.number().int().min(0),
    lastFinishedTask: z.number().int().min(0),
    recycles: z.number().int().min(0),
    pendingOperations: z.number().int().min(0),
  });

  const mailRoute = object({ address: email, destination: text });

  const partnerApp = object({
    appId: text,
    name: text,
    webhookUrl: z.url({ protocol: /^https?$/ }),
  });

  return {
    database,
    tenant,
    directoryUser,
    company,
    hostingState,
    mailRoute,
    partnerApp,
    clusters: z.array(z.string().regex(CLUSTER_PATTERN, 'must be a cluster name (letters, digits, . _ -)')).min(1, 'must name at least one cluster'),
    email,
    text,
  };
}

export const responseSchemas = platformSchemas(false);

// Compile-time proof that the schemas produce exactly the port's types.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const proofs: [
  Same<z.infer<typeof responseSchemas.tenant>, Tenant>,
  Same<z.infer<typeof responseSchemas.directoryUser>, DirectoryUserRecord>,
  Same<z.infer<typeof responseSchemas.hostingState>, HostingState>,
  Same<z.infer<typeof responseSchemas.mailRoute>, MailRoute>,
  Same<z.infer<typeof responseSchemas.partnerApp>, PartnerApp>,
] = [true, true, true, true, true];
void proofs;

/**
 * `field "users[2].login": must be … (got 42)` for each issue, so a 400 names the bad field
 * and, when `input` is given, the bad value.
 */
export function describeIssues(error: z.ZodError, input?: unknown): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const where = issue.path.length ? `${formatPath(issue.path)}.` : '';
        return issue.keys.map((k) => `field "${where}${k}": is not part of the contract`).join('; ');
      }
      const got = input === undefined ? undefined : valueAt(input, issue.path);
      if (input !== undefined && got === undefined && issue.code === 'invalid_type' && issue.path.length > 0) {
        return `field "${formatPath(issue.path)}": is required (expected ${issue.expected})`;
      }
      if (input !== undefined && got === undefined && issue.code === 'invalid_value' && issue.path.length > 0) {
        return `field "${formatPath(issue.path)}": is required (one of ${issue.values.map((v) => JSON.stringify(v)).join('|')})`;
      }
      const shown = got === undefined ? '' : ` (got ${preview(got)})`;
      return `field "${formatPath(issue.path) || '(body)'}": ${issue.message}${shown}`;
    })
    .join('; ');
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function preview(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function formatPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}
