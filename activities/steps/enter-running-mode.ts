/**
 * `enter-running-mode`: the last gate before real users log in. It re-checks the safety
 * invariants on the database itself (not on what earlier steps reported) and refuses, leaving
 * the target offline, if either does not hold.
 */
import { ApplicationFailure } from '@temporalio/common';
import { VERIFICATION_FAILED } from '../../workflows/messages';
import { profileFor } from '../database/profile';
import type { CrossSystemDeps } from './deps';
import type { ScrubVerification } from '../database/port';
import { StepReporter, defineSteps } from './support';

function recheckNote(recheck: ScrubVerification['recheck'], domain: string): string {
  if (!recheck) return `re-verified the whole database: no address outside @${domain}`;
  if ('whole' in recheck) return `re-verified the whole database (${recheck.whole}): no address outside @${domain}`;
  const read = recheck.read.length
    ? `the ${recheck.read.length} tables written since the gate (${recheck.read.join(', ')})`
    : 'no table: none was written since the gate';
  return `re-verified ${read}: no address outside @${domain}; ${recheck.unchanged} unchanged since scrub-emails verified them`;
}

export function enterRunningModeActivities({ databases, profiles, hosting, pollIntervalMs }: CrossSystemDeps) {
  return defineSteps(databases, {
    async enterRunningMode({ db, facts: { targetDatabase }, stepId, request }) {
      const { target, mailDomain, keepScheduledTasks } = request;
      const profile = profileFor(profiles, request.plan);
      const reporter = new StepReporter(stepId);
      const runId = reporter.runId;
      const emails = runId ? await db.recheckEmails(targetDatabase, profile, mailDomain, runId) : await db.verifyEmails(targetDatabase, profile, mailDomain);
      if (emails.total > 0) {
        throw ApplicationFailure.create({
          type: VERIFICATION_FAILED,
          nonRetryable: true,
          message: `${target} stays offline: ${emails.total} values hold addresses outside @${mailDomain}: ${emails.findings.join('; ')}`,
        });
      }
      const enabled = await db.countEnabledScheduledTasks(targetDatabase, profile);
      if (!keepScheduledTasks && enabled > 0) {
        throw ApplicationFailure.create({
          type: VERIFICATION_FAILED,
          nonRetryable: true,
          message: `${target} stays offline: ${enabled} scheduled tasks are enabled`,
        });
      }
      // Seed 003: the copy opens to its administrator alone, so it can clean up before anyone else logs in.
      const admin = profile.users.administrator?.login;
      if (admin) {
        const others = (await db.listUsers(targetDatabase)).filter((u) => u.enabled && !u.isSystem && u.login !== admin);
        if (others.length > 0) {
          throw ApplicationFailure.create({
            type: VERIFICATION_FAILED,
            nonRetryable: true,
            message: `${target} stays offline: ${others.length} users besides the administrator ${admin} are enabled, e.g. ${others[0].login}`,
          });
        }
      }
      await hosting.setMode(target, 'running');
      await reporter.waitFor(pollIntervalMs, async () => {
        const st = await hosting.getState(target);
        return st.mode === 'running' && st.pendingOperations === 0 ? { done: true } : { detail: 'waiting for the hosting layer to open the tenant' };
      });
      // Only after the wait: a retry of this step can still rely on the record.
      await db.endGateTracking(targetDatabase);
      const opened = admin ? `${target} is running: only ${admin} may log in` : `${target} is running: users may log in`;
      return { note: `${opened}; ${recheckNote(emails.recheck, mailDomain)}` };
    },
  });
}
