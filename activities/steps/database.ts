/**
 * The steps that work on the tenant database alone. Each is idempotent: a retry after a
 * crash finds the work done (or half done) and ends in the same state.
 */
import { ApplicationFailure } from '@temporalio/common';
import { VERIFICATION_FAILED } from '../../workflows/messages';
import type { CloneRequest } from '../../workflows/request';
import { oidList } from '../database/address-findings';
import { PointInTimeUnreachable, type TenantDatabases } from '../database/engines';
import type { ScrubCheckpoint, ScrubVerification } from '../database/port';
import { profileFor, type SanitizationProfiles } from '../database/profile';
import { recordBytesMoved, recordScrub } from './metrics';
import { StepReporter, defineSteps } from './support';

export interface DatabaseDeps {
  databases: TenantDatabases;
  profiles: SanitizationProfiles;
  queryRole: string;
  copyJobs: number;
  sanitizeInFlight: boolean;
}

/** The tenant's database login: one per tenant database. */
export const loginFor = (database: string) => `${database}_login`;

const count = (changes: Record<string, number>) =>
  Object.entries(changes)
    .map(([table, n]) => `${table} ${n}`)
    .join(', ') || 'nothing to change';

/** The verification's outcome in one line: what was read, and every kept column that holds real addresses. */
export function verifiedNote(check: ScrubVerification, domain: string): string {
  const parts = [`verified: 0 addresses outside @${domain} in ${check.scanned.columns} columns of ${check.scanned.tables} tables`];
  const kept = Object.entries(check.kept);
  if (kept.length) parts.push(`kept by the profile, still holding addresses outside @${domain}: ${kept.map(([c, n]) => `${c}: ${n} values`).join(', ')}`);
  if (check.notScanned.length) parts.push(`foreign tables not read (their rows live elsewhere): ${check.notScanned.join(', ')}`);
  const objects = check.largeObjectsNotRead ?? [];
  if (objects.length) parts.push(`${objects.length} large objects hold an "at" but are not text, so were neither rewritten nor read (${oidList(objects)})`);
  const bytes = Object.entries(check.bytesNotRead ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (bytes.length)
    parts.push(`bytea values that hold an "at" but are not text, so were neither rewritten nor read: ${bytes.map(([c, n]) => `${c}: ${n} values`).join(', ')}`);
  if (check.tracking && !check.tracking.recorded)
    parts.push(`writes after it are not recorded (${check.tracking.why}), so the tenant is read whole again before it opens`);
  return parts.join('; ');
}

const inFlightNote = (rows: number | null, domain: string) =>
  rows === null ? '' : `, every address rewritten to @${domain} on the way in (${rows} rows; the scrub step verifies)`;

export function databaseActivities({ databases, profiles, queryRole, copyJobs, sanitizeInFlight }: DatabaseDeps) {
  // Only a clone's run can hand its scrub step the in-flight rewrite; a copy without one is sanitized in place.
  const inFlight = (reporter: StepReporter, request: CloneRequest) =>
    sanitizeInFlight && reporter.runId ? { profile: profileFor(profiles, request.plan), sandboxDomain: request.mailDomain, runId: reporter.runId } : undefined;
  return defineSteps(databases, {
    async setAsideDatabase({ db, facts: { targetDatabase, setAsideDatabase } }) {
      if (await db.exists(targetDatabase)) {
        await db.renameDatabase(targetDatabase, setAsideDatabase);
        return { note: `old database kept as ${setAsideDatabase} until the clone succeeds` };
      }
      if (await db.exists(setAsideDatabase)) return { note: `old database already set aside as ${setAsideDatabase}` };
      return { note: 'the target had no database' };
    },

    async createDatabase({ db, facts: { targetDatabase } }) {
      await db.createDatabase(targetDatabase);
      return { note: `created ${targetDatabase}` };
    },

    async createSqlLogin({ db, facts: { targetDatabase } }) {
      await db.ensureLogin(targetDatabase, loginFor(targetDatabase));
      return { note: `login ${loginFor(targetDatabase)} owns ${targetDatabase}` };
    },

    async copyDatabase({ db, facts: { sourceDatabase, targetDatabase }, stepId, request }) {
      const reporter = new StepReporter(stepId);
      reporter.report(0, `copying ${sourceDatabase} to ${targetDatabase}`);
      const started = Date.now();
      const r = await db.copyDatabase(sourceDatabase, targetDatabase, {
        jobs: copyJobs,
        signal: reporter.signal,
        onProgress: ({ percent, detail }) => reporter.report(percent, detail),
        sanitize: inFlight(reporter, request),
      });
      recordBytesMoved(stepId, r.bytes);
      if (r.rewrittenInFlight !== null) recordScrub(stepId, r.rewrittenInFlight, (Date.now() - started) / 1000);
      return { note: `copied ${r.tables} tables, ${(r.bytes / 1048576).toFixed(1)} MiB${inFlightNote(r.rewrittenInFlight, request.mailDomain)}` };
    },

    async restorePointInTime({ db, facts: { sourceDatabase, targetDatabase }, stepId, request }) {
      const at = request.pointInTime;
      if (!at) throw ApplicationFailure.nonRetryable(`step ${stepId} restores to a point in time, but the request names none`, 'PlanError');
      const reporter = new StepReporter(stepId);
      reporter.report(0, `restoring ${sourceDatabase} as of ${at} into ${targetDatabase}`);
      try {
        const started = Date.now();
        const r = await db.restoreToPointInTime(sourceDatabase, targetDatabase, at, {
          jobs: copyJobs,
          signal: reporter.signal,
          onProgress: ({ percent, detail }) => reporter.report(percent, detail),
          sanitize: inFlight(reporter, request),
        });
        recordBytesMoved(stepId, r.bytes);
        if (r.rewrittenInFlight !== null) recordScrub(stepId, r.rewrittenInFlight, (Date.now() - started) / 1000);
        return {
          note: `restored ${r.detail}: ${r.tables} tables, ${(r.bytes / 1048576).toFixed(1)} MiB${inFlightNote(r.rewrittenInFlight, request.mailDomain)}`,
        };
      } catch (err) {
        if (err instanceof PointInTimeUnreachable) throw ApplicationFailure.nonRetryable(err.message, err.name);
        throw err;
      }
    },

    async prepareDatabase({ db, facts: f, request }) {
      const changes = await db.prepareDatabase(
        f.targetDatabase,
        { tenantId: request.target, companyName: f.targetCompanyName, serial: f.targetSerial, baseUrl: f.targetBaseUrl },
        profileFor(profiles, request.plan),
        f.sourceBaseUrl,
      );
      return { note: count(changes) };
    },

    async disableScheduledTasks({ db, facts: { targetDatabase }, request }) {
      const profile = profileFor(profiles, request.plan);
      const changes = await db.disableScheduledTasks(targetDatabase, profile);
      const left = await db.countEnabledScheduledTasks(targetDatabase, profile);
      if (left > 0) throw new Error(`${left} scheduled tasks are still enabled in ${targetDatabase} after disabling`);
      return { note: `disabled: ${count(changes)}` };
    },

    async fixSystemUsers({ db, facts: { targetDatabase }, request }) {
      const users = await db.fixSystemUsers(targetDatabase, profileFor(profiles, request.plan));
      return { note: `system users: ${users.join(', ') || 'none configured'}` };
    },

    async scrubEmails({ db, facts: { targetDatabase }, stepId, request }) {
      const domain = request.mailDomain;
      const profile = profileFor(profiles, request.plan);
      const reporter = new StepReporter<ScrubCheckpoint>(stepId);
      const from = reporter.resumeFrom();
      const scrubStarted = Date.now();
      const done = await db.scrubEmails(targetDatabase, profile, {
        sandboxDomain: domain,
        batchSize: profile.emails.batchSize,
        checkpoint: from,
        runId: reporter.runId,
        signal: reporter.signal,
        onBatch: (checkpoint, p) => reporter.report(p.percent, p.detail, checkpoint),
      });
      // This attempt's share: a resumed scrub counts only what it rewrote itself (the copy
      // counted what it rewrote in flight).
      if (!done.inFlight) recordScrub(stepId, done.rewritten - (from?.rewritten ?? 0), (Date.now() - scrubStarted) / 1000);
      reporter.report(99, 'verifying that no address outside the sandbox domain remains anywhere in the database', done);
      // The run's gate records what changes after it, so enter-running-mode re-reads only that.
      const runId = reporter.runId;
      const check = runId ? await db.gateEmails(targetDatabase, profile, domain, runId) : await db.verifyEmails(targetDatabase, profile, domain);
      if (check.total > 0) {
        throw ApplicationFailure.create({
          type: VERIFICATION_FAILED,
          nonRetryable: true,
          message: `${check.total} values still hold addresses outside @${domain}: ${check.findings.join('; ')}`,
        });
      }
      if (done.inFlight) return { note: `nothing left to rewrite: the copy rewrote ${done.rewritten} rows on their way in; ${verifiedNote(check, domain)}` };
      const resumed = from ? ` (resumed after ${from.batches} batches)` : '';
      // The count is of rows written because they hold an "at": one whose addresses were already at the sandbox comes out the same.
      return { note: `rewrote ${done.rewritten} rows holding an "at" in ${done.batches} batches${resumed}; ${verifiedNote(check, domain)}` };
    },

    async setQueryPermissions({ db, facts: { targetDatabase } }) {
      await db.grantQueryRole(targetDatabase, queryRole);
      return { note: `${queryRole} may read ${targetDatabase}` };
    },

    async assignUserPlans({ db, facts: { targetDatabase, targetKind }, request }) {
      const logins = await db.assignUserPlans(
        targetDatabase,
        profileFor(profiles, request.plan),
        targetKind === 'test' ? 'test-environment-user' : 'sandbox-user',
      );
      return { note: `${logins.length} users may log in` };
    },

    async createPartnerSystemUsers({ db, facts: { targetDatabase, setAsideDatabase, targetHadDatabase } }) {
      if (!targetHadDatabase) return { skipped: 'the target had no database, so no app authorizations to keep' };
      const auths = await db.readAppAuthorizations(setAsideDatabase);
      await db.restoreAppAuthorizations(targetDatabase, auths);
      return { note: auths.length ? `re-created system users for ${auths.map((a) => a.appName).join(', ')}` : 'no apps were authorized on the old target' };
    },

    async dropSetAsideDatabase({ db, facts: { setAsideDatabase, targetDatabase } }) {
      // A clone that stays offline never reaches enter-running-mode, which removes the gate's triggers.
      await db.endGateTracking(targetDatabase);
      await db.dropDatabase(setAsideDatabase);
      return { note: `dropped ${setAsideDatabase}` };
    },
  });
}
