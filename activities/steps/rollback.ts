/**
 * Compensations: each puts back one part of the target as `check-request` found it. The
 * workflow runs them in reverse order after a cancel or a failure, shielded from cancellation.
 * Each is idempotent, so a retry after a crash (or a second rollback) changes nothing more.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { StepInput, StepOutput, TargetBefore } from '../../workflows/step-contract';
import { hostingSettled } from '../platform/wait-for-hosting';
import { dbFor, need } from '../step-support';
import type { CrossSystemDeps } from './deps';

function beforeOf(input: StepInput): TargetBefore {
  if (!input.before) throw ApplicationFailure.nonRetryable(`compensation of ${input.stepId} was given no before-state`, 'PlanError');
  return input.before;
}

export function rollbackActivities({ databases, directory, hosting, mailService, pollIntervalMs }: CrossSystemDeps) {
  const settle = hostingSettled(hosting, pollIntervalMs);

  return {
    /** Drop the new database and rename the old one back (or just drop it, if there was none). */
    async restoreOldDatabase(input: StepInput): Promise<StepOutput> {
      const db = dbFor(databases, input);
      const { targetDatabase, setAsideDatabase, targetHadDatabase } = need(input, 'targetDatabase', 'setAsideDatabase', 'targetHadDatabase');
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
    async closeTarget(input: StepInput): Promise<StepOutput> {
      await hosting.setMode(input.request.target, 'maintenance');
      await settle(input);
      return { note: `${input.request.target} offline for the rollback` };
    },

    async restoreHostingMode(input: StepInput): Promise<StepOutput> {
      const { hostingMode } = beforeOf(input);
      await hosting.setMode(input.request.target, hostingMode);
      await settle(input);
      return { note: `hosting mode back to ${hostingMode}` };
    },

    async restoreClusters(input: StepInput): Promise<StepOutput> {
      const { clusters } = beforeOf(input);
      await hosting.setClusters(input.request.target, clusters);
      await settle(input);
      return { note: `clusters back to ${clusters.join(', ') || 'none'}` };
    },

    async restoreMailRoutes(input: StepInput): Promise<StepOutput> {
      const { routes } = beforeOf(input);
      await mailService.setRoutes(input.request.target, routes);
      return { note: `${routes.length} mail routes restored` };
    },

    async restoreMailboxes(input: StepInput): Promise<StepOutput> {
      const { mailboxes } = beforeOf(input);
      await mailService.setMailboxes(input.request.target, mailboxes);
      return { note: `${mailboxes.length} mailboxes restored` };
    },

    async restoreDirectory(input: StepInput): Promise<StepOutput> {
      const db = dbFor(databases, input);
      const before = beforeOf(input);
      const target = input.request.target;
      await directory.setTestEnvironmentOf(target, before.testEnvironmentOf);
      if (before.registeredDatabase) {
        const { targetDatabase } = need(input, 'targetDatabase');
        if (before.registeredDatabase !== targetDatabase) await directory.registerDatabase(target, { engine: db.engine, name: before.registeredDatabase });
      }
      await directory.replaceUsers(target, before.users);
      await directory.updateCompany(target, before.company);
      await directory.setState(target, before.directoryState);
      return { note: `directory record of ${target} as before (state ${before.directoryState}, ${before.users.length} users)` };
    },
  };
}
