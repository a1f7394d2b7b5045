/**
 * The clone request (SPEC §4): its shape, its defaults and its syntactic checks. Pure code,
 * shared by the workflow (which re-checks what it is given) and the client (which refuses bad
 * input before anything is started).
 */

export const PLAN_IDS = ['copy', 'restore', 'point-in-time'] as const;
export type PlanId = (typeof PLAN_IDS)[number];

export const TARGET_KINDS = ['sandbox', 'test'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const ATTACHMENT_MODULES = ['crm', 'sale', 'project', 'service'] as const;
export type AttachmentModule = (typeof ATTACHMENT_MODULES)[number];
/** Service attachments are large and rarely needed in a sandbox: opt-in only (seed 000, step 22). */
export const DEFAULT_ATTACHMENT_MODULES: AttachmentModule[] = ['crm', 'sale', 'project'];

export type DocumentsChoice = 'none' | 'all';

export interface CloneRequest {
  source: string;
  target: string;
  plan: PlanId;
  /** null: take the kind the directory records for the target. */
  targetKind: TargetKind | null;
  mailDomain: string;
  documents: DocumentsChoice;
  attachmentModules: AttachmentModule[];
  keepScheduledTasks: boolean;
  enterRunningMode: boolean;
  /** ISO-8601 instant, only for the `point-in-time` plan. */
  pointInTime: string | null;
  /** E-mail address told when the clone ends. */
  requestedBy: string | null;
  /**
   * How long the old target database is kept after success (e.g. `24h`), during which
   * `tenant-clone rollback` can still undo the clone; null = dropped at once.
   */
  retainOldDatabaseFor: string | null;
}

/** What a caller may send: the two tenant ids, everything else defaulted. */
export type CloneRequestInput = Pick<CloneRequest, 'source' | 'target'> & Partial<Omit<CloneRequest, 'source' | 'target'>>;

import { isDomainName, publicProviderOf } from './sandbox-domains';

export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

const TENANT_ID = /^[a-z][a-z0-9-]{1,40}$/;
const EMAIL = /^[^\s@<>",;]+@([a-z0-9-]+\.)+[a-z]{2,63}$/i;

export function checkTenantId(what: string, value: unknown): string {
  if (typeof value !== 'string' || !TENANT_ID.test(value)) {
    throw new RequestError(`${what} tenant id ${JSON.stringify(value)} is invalid: use 2-41 lower-case letters, digits and '-', starting with a letter`);
  }
  return value;
}

function oneOf<T extends string>(what: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new RequestError(`${what} ${JSON.stringify(value)} is invalid: expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function flag(what: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new RequestError(`${what} ${JSON.stringify(value)} is invalid: expected true or false`);
  return value;
}

const FIELDS: readonly (keyof CloneRequest)[] = [
  'source',
  'target',
  'plan',
  'targetKind',
  'mailDomain',
  'documents',
  'attachmentModules',
  'keepScheduledTasks',
  'enterRunningMode',
  'pointInTime',
  'requestedBy',
  'retainOldDatabaseFor',
];

/**
 * Apply defaults and check every field; the error names the bad value. `strict` (the default)
 * also refuses fields the request does not have, naming them: a misspelt option must not be
 * dropped silently. (Clones started before that check existed replay without it.)
 */
export function normalizeRequest(input: CloneRequestInput, opts: { strict?: boolean } = {}): CloneRequest {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new RequestError('the clone request must be an object');
  if (opts.strict !== false) {
    const unknown = Object.keys(input).filter((k) => !(FIELDS as readonly string[]).includes(k));
    if (unknown.length) {
      throw new RequestError(
        `the clone request has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}; the fields are ${FIELDS.join(', ')}`,
      );
    }
  }
  const source = checkTenantId('source', input.source);
  const target = checkTenantId('target', input.target);
  if (source === target) throw new RequestError(`source and target are the same tenant (${JSON.stringify(source)}): a tenant cannot be cloned onto itself`);

  const plan = oneOf('plan', input.plan ?? 'copy', PLAN_IDS);
  const targetKind = input.targetKind == null ? null : oneOf('target kind', input.targetKind, TARGET_KINDS);

  const mailDomain = typeof input.mailDomain === 'string' ? input.mailDomain.trim().toLowerCase() : (input.mailDomain ?? 'mailinator.com');
  if (typeof mailDomain !== 'string' || !isDomainName(mailDomain)) {
    throw new RequestError(`mail domain ${JSON.stringify(input.mailDomain)} is invalid: expected a domain name such as mailinator.com`);
  }
  const provider = publicProviderOf(mailDomain);
  if (provider) {
    throw new RequestError(
      `mail domain ${JSON.stringify(mailDomain)} is refused: ${provider} is a public mail provider, so its addresses belong to real people; use mailinator.com or a reserved name such as ${target}.invalid`,
    );
  }

  const documents = oneOf('documents', input.documents ?? 'none', ['none', 'all'] as const);

  const modules = input.attachmentModules ?? DEFAULT_ATTACHMENT_MODULES;
  if (!Array.isArray(modules)) throw new RequestError(`attachment modules ${JSON.stringify(modules)} is invalid: expected a list`);
  const attachmentModules = [...new Set(modules.map((m) => oneOf('attachment module', m, ATTACHMENT_MODULES)))].sort();

  let pointInTime: string | null = null;
  let attachments = attachmentModules;
  if (plan === 'point-in-time') {
    pointInTime = checkPointInTime(input.pointInTime);
    // Seed 003: every batch job is withheld and no file in blob storage is copied.
    if (input.keepScheduledTasks === true) {
      throw new RequestError(
        'keep scheduled tasks was asked for, but the point-in-time plan withholds every batch job and disables every scheduled task (seed 003)',
      );
    }
    const noBlobs = 'the point-in-time plan copies nothing from blob storage: the target keeps its own documents and attachments (seed 003)';
    if (documents !== 'none') throw new RequestError(`documents ${JSON.stringify(documents)} was asked for, but ${noBlobs}`);
    if (input.attachmentModules != null && attachmentModules.length > 0) {
      throw new RequestError(`attachment modules ${attachmentModules.join(', ')} were asked for, but ${noBlobs}`);
    }
    attachments = [];
  } else if (input.pointInTime != null) {
    throw new RequestError(`point in time ${JSON.stringify(input.pointInTime)} was given, but only the point-in-time plan uses one (plan is ${plan})`);
  }

  let requestedBy: string | null = null;
  if (input.requestedBy != null) {
    if (typeof input.requestedBy !== 'string' || !EMAIL.test(input.requestedBy)) {
      throw new RequestError(`requested-by ${JSON.stringify(input.requestedBy)} is invalid: expected one e-mail address`);
    }
    requestedBy = input.requestedBy;
  }

  let retainOldDatabaseFor: string | null = null;
  if (input.retainOldDatabaseFor != null) {
    if (typeof input.retainOldDatabaseFor !== 'string' || durationMs(input.retainOldDatabaseFor) === null) {
      throw new RequestError(
        `retention ${JSON.stringify(input.retainOldDatabaseFor)} is invalid: expected a duration such as 90s, 30m, 24h or 7d, at most 30d`,
      );
    }
    retainOldDatabaseFor = input.retainOldDatabaseFor;
  }

  return {
    source,
    target,
    plan,
    targetKind,
    mailDomain,
    documents,
    attachmentModules: attachments,
    keepScheduledTasks: flag('keep scheduled tasks', input.keepScheduledTasks, false),
    enterRunningMode: flag('enter running mode', input.enterRunningMode, true),
    pointInTime,
    requestedBy,
    retainOldDatabaseFor,
  };
}

/** An ISO-8601 instant with its offset: a time without one would mean a different second on each machine. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** The point in time as a UTC ISO string (milliseconds); the error names the bad value. */
export function checkPointInTime(value: unknown): string {
  if (typeof value !== 'string' || !INSTANT.test(value.trim()) || Number.isNaN(Date.parse(value.trim()))) {
    throw new RequestError(
      `point in time ${JSON.stringify(value)} is invalid: the point-in-time plan needs an ISO-8601 instant with its offset, e.g. 2026-12-01T09:30:00Z or 2026-12-01T10:30:00+01:00`,
    );
  }
  return new Date(Date.parse(value.trim())).toISOString();
}

/**
 * A point in time as a user types it: an ISO-8601 instant with its offset, or a duration before
 * `nowMs` such as `2h ago` or `90m ago` (any duration durationMs takes). For the command line:
 * "ago" means the caller's now, so it is resolved before the request is sent.
 */
export function resolvePointInTime(text: string, nowMs: number): string {
  const ago = /^\s*(\S+)\s+ago\s*$/i.exec(text);
  if (ago) {
    const ms = durationMs(ago[1]);
    if (ms === null)
      throw new RequestError(`point in time ${JSON.stringify(text)} is invalid: expected e.g. 2h ago, 90m ago or 3d ago (at most 30d), or an ISO-8601 instant`);
    return new Date(nowMs - ms).toISOString();
  }
  return checkPointInTime(text);
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `24h`, `7d` in milliseconds; null when malformed, zero or over 30 days. */
export function durationMs(text: string): number | null {
  const m = /^(\d{1,6})([smhd])$/.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  return ms > 0 && ms <= 30 * UNIT_MS.d ? ms : null;
}

export function cloneWorkflowId(target: string): string {
  return `clone-${target}`;
}
