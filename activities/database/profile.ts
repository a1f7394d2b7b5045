/**
 * The sanitization profile (SPEC §5): what to rewrite, disable, clear, delete or preserve in a
 * tenant database, as data. Loaded from YAML and validated at worker start, so a bad profile
 * stops the worker with a message naming the bad field instead of failing a clone midway.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (letters, digits, _)');

const column = z.object({ table: identifier, column: identifier, key: identifier.default('id') });

const setColumns = z.object({
  table: identifier,
  /** Only rows matching all of these column = value pairs; empty = every row. */
  where: z.record(identifier, z.union([z.string(), z.number(), z.boolean()])).default({}),
  set: z.record(identifier, z.union([z.string(), z.number(), z.boolean(), z.null()])),
});

export const profileSchema = z.object({
  name: z.string().min(1),
  emails: z.object({
    columns: z.array(column).min(1),
    batchSize: z.number().int().min(100).max(1_000_000).default(20_000),
  }),
  /** Scheduled tasks and batch jobs: set these columns (e.g. enabled = false). */
  disable: z.array(setColumns).default([]),
  /** Rows whose credential / encrypted columns are cleared (set NULL). */
  clear: z.array(z.object({ table: identifier, columns: z.array(identifier).min(1) })).default([]),
  /** Tables whose rows are deleted (webhooks, environment-specific rows). */
  deleteRows: z.array(z.object({ table: identifier, where: z.record(identifier, z.union([z.string(), z.number(), z.boolean()])).default({}) })).default([]),
  /** Open tickets to close, users to disable, … : set columns where conditions hold. */
  update: z.array(setColumns).default([]),
  /** Columns holding URLs; the production host is rewritten to the target's. */
  urls: z.array(column).default([]),
  users: z.object({
    table: identifier,
    loginColumn: identifier,
    enabledColumn: identifier,
    systemColumn: identifier,
    planColumn: identifier,
    /** Logins that may log in to the copy (get a plan); `*` = every non-system user. */
    allowedLogins: z.array(z.string()).default(['*']),
    /** System users that must exist in the copy. */
    systemUsers: z.array(z.string()).default([]),
  }),
  scheduledTasks: z.object({ table: identifier, enabledColumn: identifier }),
  /** Rows kept from the old target across the clone (e.g. partner app authorizations). */
  preserve: z.array(z.object({ table: identifier, key: identifier })).default([]),
});

export type SanitizationProfile = z.infer<typeof profileSchema>;

export const DEFAULT_PROFILE_PATH = path.join(__dirname, '..', '..', 'profiles', 'default.yaml');

/** Parse and validate; the error names the file and every bad field. */
export function loadProfile(file: string = DEFAULT_PROFILE_PATH): SanitizationProfile {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`sanitization profile ${file}: cannot read: ${(err as Error).message}`);
  }
  const result = profileSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`sanitization profile ${file} is invalid:\n  ${issues.join('\n  ')}`);
  }
  return result.data;
}
