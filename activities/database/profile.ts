/**
 * The sanitization profile (SPEC §5): what to rewrite, disable, clear, delete or preserve in a
 * tenant database, as data. Loaded from YAML and validated at worker start, so a bad profile
 * stops the worker with a message naming the bad field instead of failing a clone midway.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { PlanId } from '../../workflows/request';

const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (letters, digits, _)');

/** A name the catalog is searched for (never spliced into SQL): `table` (default schema) or `schema.table`. */
const catalogName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,127}$/, 'must be a table or column name (letters, digits, _ and $)');
const qualifiedTable = z
  .string()
  .regex(/^([A-Za-z_][A-Za-z0-9_$]{0,127}\.)?[A-Za-z_][A-Za-z0-9_$]{0,127}$/, 'must be a table name, optionally schema-qualified (schema.table)');

const column = z.strictObject({ table: identifier, column: identifier, key: identifier.default('id') });

/** A login as the tenant's users table stores it (checked again where it is used). */
const login = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/, 'must be a login: 1-100 letters, digits and . _ @ + -');

const setColumns = z.strictObject({
  table: identifier,
  /** Only rows matching all of these column = value pairs; empty = every row. */
  where: z.record(identifier, z.union([z.string(), z.number(), z.boolean()])).default({}),
  set: z.record(identifier, z.union([z.string(), z.number(), z.boolean(), z.null()])),
});

export const profileSchema = z.strictObject({
  name: z.string().min(1),
  emails: z.strictObject({
    /**
     * Per-column details only (a batch size, SQL Server's keyset key for a table without a
     * primary key): every text-like column of every table is scrubbed whether listed or not.
     */
    columns: z
      .array(
        z.strictObject({
          table: qualifiedTable,
          column: catalogName,
          key: catalogName.optional(),
          batchSize: z.number().int().min(100).max(1_000_000).optional(),
        }),
      )
      .default([]),
    batchSize: z.number().int().min(100).max(1_000_000).default(20_000),
    /**
     * Columns the scrub leaves as they are, each with the reason (e.g. a hash). One holding an
     * address outside the sandbox domain is reported by name and count, never silently.
     */
    keep: z.array(z.strictObject({ table: qualifiedTable, column: catalogName, why: z.string().trim().min(3, 'must say why the column is kept') })).default([]),
  }),
  /** Scheduled tasks and batch jobs: set these columns (e.g. enabled = false). */
  disable: z.array(setColumns).default([]),
  /** Rows whose credential / encrypted columns are cleared (set NULL). */
  clear: z.array(z.strictObject({ table: identifier, columns: z.array(identifier).min(1) })).default([]),
  /** Tables whose rows are deleted (webhooks, environment-specific rows). */
  deleteRows: z
    .array(z.strictObject({ table: identifier, where: z.record(identifier, z.union([z.string(), z.number(), z.boolean()])).default({}) }))
    .default([]),
  /** Open tickets to close, users to disable, … : set columns where conditions hold. */
  update: z.array(setColumns).default([]),
  /** Columns holding URLs; the production host is rewritten to the target's. */
  urls: z.array(column).default([]),
  users: z.strictObject({
    table: identifier,
    loginColumn: identifier,
    enabledColumn: identifier,
    systemColumn: identifier,
    planColumn: identifier,
    /** Logins that may log in to the copy (get a plan); `*` = every non-system user. */
    allowedLogins: z.array(z.union([z.literal('*'), login])).default(['*']),
    /** System users that must exist in the copy. */
    systemUsers: z.array(login).default([]),
    /**
     * Seed 003: every user but this one is disabled, and this one is reset to the target's
     * administrator as the directory records it (its address; its production credentials cleared).
     */
    administrator: z
      .strictObject({
        login,
        /** Where the target administrator's address goes. */
        emailColumn: identifier,
        /** Columns cleared on the administrator, e.g. the production password's hash. */
        clear: z.array(identifier).default([]),
      })
      .optional(),
  }),
  scheduledTasks: z.strictObject({ table: identifier, enabledColumn: identifier }),
  /** Rows kept from the old target across the clone (e.g. partner app authorizations). */
  preserve: z.array(z.strictObject({ table: identifier, key: identifier })).default([]),
});

export type SanitizationProfile = z.infer<typeof profileSchema>;

export const DEFAULT_PROFILE_PATH = path.join(__dirname, '..', '..', 'profiles', 'default.yaml');
/** The point-in-time plan's profile: seed 003's rules. */
export const POINT_IN_TIME_PROFILE_PATH = path.join(__dirname, '..', '..', 'profiles', 'point-in-time.yaml');

/** A profile that cannot be used; its message is one line naming the file and every bad field. */
export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

/** Parse and validate; the error names the file and every bad field, on one line. */
export function loadProfile(file: string = DEFAULT_PROFILE_PATH): SanitizationProfile {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ProfileError(`sanitization profile ${file}: cannot read: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = profileSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ProfileError(`sanitization profile ${file} is invalid: ${issues.join('; ')}`);
  }
  return result.data;
}

/** The profile each plan sanitizes with: point-in-time has seed 003's own, the other plans share one. */
export interface SanitizationProfiles {
  default: SanitizationProfile;
  pointInTime: SanitizationProfile;
}

export function profileFor(profiles: SanitizationProfiles, plan: PlanId): SanitizationProfile {
  return plan === 'point-in-time' ? profiles.pointInTime : profiles.default;
}

export function loadProfiles(files: { default?: string; pointInTime?: string } = {}): SanitizationProfiles {
  const pointInTimeFile = files.pointInTime ?? POINT_IN_TIME_PROFILE_PATH;
  const pointInTime = loadProfile(pointInTimeFile);
  // Seed 003 opens the copy to its administrator alone: that profile must say who it is.
  if (!pointInTime.users.administrator)
    throw new ProfileError(`sanitization profile ${pointInTimeFile} is invalid for the point-in-time plan: users.administrator is required (seed 003)`);
  return { default: loadProfile(files.default ?? DEFAULT_PROFILE_PATH), pointInTime };
}

/** `schema.table.column` for a profile's table and column, with the engine's default schema applied. */
export function qualifiedColumn(table: string, column: string, defaultSchema: string): string {
  const { schema, table: name } = splitTableName(table, defaultSchema);
  return `${schema}.${name}.${column}`;
}

/** The profile's `emails.keep` columns as `schema.table.column`, for matching against a catalog. */
export function keptColumns(profile: SanitizationProfile, defaultSchema: string): Set<string> {
  return new Set(profile.emails.keep.map((k) => qualifiedColumn(k.table, k.column, defaultSchema)));
}

/** The schema and table a profile name designates; a bare name is in the engine's default schema. */
export function splitTableName(name: string, defaultSchema: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  return dot < 0 ? { schema: defaultSchema, table: name } : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}

/** Every (table, columns) the profile names; bare tables are in the engine's default schema. */
export function profileNames(profile: SanitizationProfile): { table: string; columns: string[] }[] {
  const names: { table: string; columns: string[] }[] = [];
  const add = (table: string, ...columns: string[]) => names.push({ table, columns });
  for (const c of profile.emails.columns) add(c.table, c.column, ...(c.key ? [c.key] : []));
  for (const k of profile.emails.keep) add(k.table, k.column);
  for (const d of [...profile.disable, ...profile.update]) add(d.table, ...Object.keys(d.where), ...Object.keys(d.set));
  for (const c of profile.clear) add(c.table, ...c.columns);
  for (const d of profile.deleteRows) add(d.table, ...Object.keys(d.where));
  for (const u of profile.urls) add(u.table, u.column, u.key);
  const u = profile.users;
  add(u.table, u.loginColumn, u.enabledColumn, u.systemColumn, u.planColumn);
  if (u.administrator) add(u.table, u.administrator.emailColumn, ...u.administrator.clear);
  add(profile.scheduledTasks.table, profile.scheduledTasks.enabledColumn);
  for (const p of profile.preserve) add(p.table, p.key);
  return names;
}
