/**
 * `enter-running-mode`: the last gate before real users log in. It re-checks the safety
 * invariants on the database itself (not on what earlier steps reported) and refuses, leaving
 * the target offline, if either does not hold.
 */
import { ApplicationFailure } from '@temporalio/common';
import { VERIFICATION_FAILED } from '../../workflows/messages';
import { profileFor } from '../database/profile';
import type { CrossSystemDeps } from './deps';
import { StepReporter, defineSteps } from './support';

export function enterRunningModeActivities({ databases, profiles, hosting, pollIntervalMs }: CrossSystemDeps) {
  return defineSteps(databases, {
    async enterRunningMode({ db, facts: { targetDatabase }, stepId, request }) {
      const { target, mailDomain, keepScheduledTasks } = request;
      const profile = profileFor(profiles, request.plan);
      const emails = await db.verifyEmails(targetDatabase, profile, mailDomain);
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
      await new StepReporter(stepId).waitFor(pollIntervalMs, async () => {
        const st = await hosting.getState(target);
        return st.mode === 'running' && st.pendingOperations === 0 ? { done: true } : { detail: 'waiting for the hosting layer to open the tenant' };
      });
      return { note: admin ? `${target} is running: only ${admin} may log in` : `${target} is running: users may log in` };
    },
  });
}
