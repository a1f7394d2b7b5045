/** Request-body schemas of the contract, strict so a 400 names a misspelt or unknown field. */
import { z } from 'zod';
import { CLUSTER_PATTERN, HOSTING_MODES, DIRECTORY_STATES, platformSchemas } from '../activities/platform/schemas';

const s = platformSchemas(true);

const MAX_USERS = 100_000;
const MAX_TASK_MS = 24 * 3600 * 1000;
const MAX_MAIL_ENTRIES = 10_000;

const LEASE_HOLDER = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
/** `replaces`: take the lease over from this holder (whose run has ended), and only from it. */
export const leaseBody = z.strictObject({ holder: LEASE_HOLDER, replaces: LEASE_HOLDER.nullable().optional() });

export const copyCustomerInfoBody = z.strictObject({ source: s.text });
export const registerDatabaseBody = s.database;
export const testEnvironmentBody = z.strictObject({ source: s.text.nullable() });
export const stateBody = z.strictObject({ state: z.enum(DIRECTORY_STATES) });
export const usersBody = z.strictObject({ users: uniqueLogins(z.array(s.directoryUser).max(MAX_USERS)) });
export const companyBody = s.company;

export const modeBody = z.strictObject({ mode: z.enum(HOSTING_MODES) });
export const clustersBody = z.strictObject({ clusters: s.clusters });
export const recycleBody = z.strictObject({});

export const mailboxBody = z.strictObject({ address: s.email });
// Route addresses are unique per tenant exactly as stored, so what listRoutes returns can always
// be sent back; mailbox addresses are unique case-insensitively across all tenants.
export const setRoutesBody = z.strictObject({
  routes: uniqueBy(z.array(s.mailRoute).max(MAX_MAIL_ENTRIES), (r) => r.address, ['address'], 'duplicates the address of entry'),
});
export const setMailboxesBody = z.strictObject({
  mailboxes: uniqueBy(z.array(s.email).max(MAX_MAIL_ENTRIES), (a) => a.toLowerCase(), [], 'duplicates (case-insensitively) entry'),
});

export const partnerAppBody = s.partnerApp;
export const taskBody = z.strictObject({ durationMs: z.number().int().min(0).max(MAX_TASK_MS).optional() });
export const sinkFailuresBody = z.strictObject({
  count: z.number().int().min(0).max(1000),
  status: z.number().int().min(400).max(599).default(503),
});

const tenantFields = s.tenant.shape;
export const tenantSeedBody = z.strictObject({
  ...tenantFields,
  state: tenantFields.state.default('Normal'),
  testEnvironmentOf: tenantFields.testEnvironmentOf.default(null),
  registeredDatabase: tenantFields.registeredDatabase.default(null),
  hosting: z
    .strictObject({
      mode: z.enum(HOSTING_MODES).default('running'),
      clusters: z.array(z.string().regex(CLUSTER_PATTERN, 'must be a cluster name (letters, digits, . _ -)')).default([]),
      recycles: z.number().int().min(0).default(0),
      tasks: z
        .array(z.strictObject({ durationMs: z.number().int().min(0).max(MAX_TASK_MS).optional() }))
        .max(1000)
        .default([]),
    })
    .default({ mode: 'running', clusters: [], recycles: 0, tasks: [] }),
  routes: z.array(s.mailRoute).default([]),
  mailboxes: z.array(s.email).default([]),
  users: uniqueLogins(z.array(s.directoryUser).max(MAX_USERS)).default([]),
});
export type ParsedTenantSeed = z.infer<typeof tenantSeedBody>;

function uniqueLogins<T extends { login: string }>(schema: z.ZodType<T[]>) {
  return uniqueBy(schema, (user) => user.login.toLowerCase(), ['login'], 'duplicates the login of entry');
}

/** Reject an entry whose `key` repeats an earlier one, naming both positions. */
function uniqueBy<T>(schema: z.ZodType<T[]>, key: (entry: T) => string, field: string[], message: string) {
  return schema.superRefine((entries, ctx) => {
    const seen = new Map<string, number>();
    entries.forEach((entry, i) => {
      const k = key(entry);
      const first = seen.get(k);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: [i, ...field], message: `${message} [${first}]` });
      } else {
        seen.set(k, i);
      }
    });
  });
}
