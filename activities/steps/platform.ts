/** The steps that work on the platform services alone (directory, hosting, mail service). */
import type { Directory, Hosting, MailService } from '../platform/port';
import { StepReporter, defineSteps } from './support';
import { hostingSettled } from './wait-for-hosting';

export interface PlatformDeps {
  directory: Directory;
  hosting: Hosting;
  mailService: MailService;
  pollIntervalMs: number;
}

export function platformActivities({ directory, hosting, mailService, pollIntervalMs }: PlatformDeps) {
  const waitForOperations = hostingSettled(hosting, pollIntervalMs);

  return defineSteps(null, {
    async enterMaintenance({ stepId, request }) {
      const target = request.target;
      await new StepReporter(stepId).waitFor(pollIntervalMs, async () => {
        const st = await hosting.getState(target);
        return st.runningTasks === 0 ? { done: true } : { detail: `waiting for ${st.runningTasks} running tasks of ${target}` };
      });
      await hosting.setMode(target, 'maintenance');
      await waitForOperations(stepId, request.target);
      return { note: `${target} is offline in maintenance mode` };
    },

    async waitCustomerTasks({ stepId, request }) {
      const target = request.target;
      const last = (await hosting.getState(target)).lastQueuedTask;
      await new StepReporter(stepId).waitFor(pollIntervalMs, async () => {
        const st = await hosting.getState(target);
        return st.lastFinishedTask >= last ? { done: true } : { detail: `waiting for task ${last} (last finished: ${st.lastFinishedTask})` };
      });
      return { note: last ? `task ${last} has finished` : 'no task was queued' };
    },

    async connectClusters({ facts: { sourceClusters }, stepId, request }) {
      await hosting.setClusters(request.target, sourceClusters);
      await waitForOperations(stepId, request.target);
      return { note: `served from ${sourceClusters.join(', ')}` };
    },

    async removeMailRoutes({ request }) {
      const removed = await mailService.removeRoutes(request.target);
      return { note: `removed ${removed} inbound mail routes` };
    },

    async copyCustomerInfo({ request }) {
      await directory.copyCustomerInfo(request.target, request.source);
      return { note: `customer record of ${request.source} copied to ${request.target}` };
    },

    async registerDirectory({ facts: { engine, targetDatabase }, request }) {
      await directory.registerDatabase(request.target, { engine, name: targetDatabase });
      return { note: `${request.target} registered with database ${targetDatabase}` };
    },

    async replaceTestEnvironment({ request }) {
      await directory.setTestEnvironmentOf(request.target, request.source);
      return { note: `${request.target} is the test environment of ${request.source}` };
    },

    async recycle({ stepId, request }) {
      await hosting.recycle(request.target);
      const st = await waitForOperations(stepId, request.target);
      return { note: `recycled (${st.recycles} recycles so far)` };
    },

    async setDirectoryInMigration({ request }) {
      await directory.setState(request.target, 'InMigration');
      return { note: 'directory state: InMigration' };
    },

    async setDirectoryNormal({ request }) {
      await directory.setState(request.target, 'Normal');
      return { note: 'directory state: Normal' };
    },

    async waitHostingOperations({ stepId, request }) {
      await waitForOperations(stepId, request.target);
      return { note: 'the hosting layer has applied every change' };
    },
  });
}
