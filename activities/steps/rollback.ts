/**
 * Compensations: each puts back one part of the target as `check-request` found it. The
 * workflow runs them in reverse order after a cancel or a failure, shielded from cancellation.
 * Each is idempotent, so a retry after a crash (or a second rollback) changes nothing more.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { CrossSystemDeps } from './deps';
import { defineSteps } from './support';
import { hostingSettled } from './wait-for-hosting';

export function rollbackActivities({ databases, directory, hosting, mailService, pollIntervalMs }: CrossSystemDeps) {
  const settle = hostingSettled(hosting, pollIntervalMs);

  return defineSteps(databases, {
    /** Drop the new database and rename the old one back (or just drop it, if there was none). */
    async restoreOldDatabase({ db, facts: { targetDatabase, setAsideDatabase, targetHadDatabase } }) {
      // A point-in-time restore stopped by a crash may have left its scratch server running.
      await db.discardRestoreWork(targetDatabase);
      if (!targetHadDatabase) {
        await db.dropDatabase(targetDatabase);
        return { note: `dropped ${targetDatabase}; the target had no database before` };
      }
      if (await db.exists(setAsideDatabase)) {
        await db.dropDatabase(targetDatabase);
        await db.renameDatabase(setAsideDatabase, targetDatabase);
        return { note: `${setAsideDatabase} renamed back to ${targetDatabase}` };
      }
      if (await db.exists(targetDatabase)) return { note: `${targetDatabase} was already restored` };
      throw ApplicationFailure.nonRetryable(`neither ${targetDatabase} nor ${setAsideDatabase} exists: the old database cannot be restored`, 'RollbackFailed');
    },

    /** Take an opened target offline first, so users never see the databases being swapped. */
    async closeTarget({ stepId, request }) {
      await hosting.setMode(request.target, 'maintenance');
      await settle(stepId, request.target);
      return { note: `${request.target} offline for the rollback` };
    },

    async restoreHostingMode({ stepId, request, before: { hostingMode } }) {
      await hosting.setMode(request.target, hostingMode);
      await settle(stepId, request.target);
      return { note: `hosting mode back to ${hostingMode}` };
    },

    async restoreClusters({ stepId, request, before: { clusters } }) {
      await hosting.setClusters(request.target, clusters);
      await settle(stepId, request.target);
      return { note: `clusters back to ${clusters.join(', ') || 'none'}` };
    },

    async restoreMailRoutes({ request, before: { routes } }) {
      await mailService.setRoutes(request.target, routes);
      return { note: `${routes.length} mail routes restored` };
    },

    async restoreMailboxes({ request, before: { mailboxes } }) {
      await mailService.setMailboxes(request.target, mailboxes);
      return { note: `${mailboxes.length} mailboxes restored` };
    },

    async restoreDirectory({ db, facts: { targetDatabase }, request, before }) {
      const target = request.target;
      await directory.setTestEnvironmentOf(target, before.testEnvironmentOf);
      if (before.registeredDatabase) {
        if (before.registeredDatabase !== targetDatabase) await directory.registerDatabase(target, { engine: db.engine, name: before.registeredDatabase });
      }
      await directory.replaceUsers(target, before.users);
      await directory.updateCompany(target, before.company);
      await directory.setState(target, before.directoryState);
      return { note: `directory record of ${target} as before (state ${before.directoryState}, ${before.users.length} users)` };
    },
  });
}
