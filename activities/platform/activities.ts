/** Step activities that only talk to the platform services (directory, hosting, mail service). */
import type { StepInput, StepOutput } from '../../workflows/step-contract';
import { StepReporter, need } from '../step-support';
import type { Directory, Hosting, MailService } from './port';
import { hostingSettled } from './wait-for-hosting';

export interface PlatformDeps {
  directory: Directory;
  hosting: Hosting;
  mailService: MailService;
  pollIntervalMs: number;
}

export function platformActivities({ directory, hosting, mailService, pollIntervalMs }: PlatformDeps) {
  const waitForOperations = hostingSettled(hosting, pollIntervalMs);

  return {
    async enterMaintenance(input: StepInput): Promise<StepOutput> {
      const target = input.request.target;
      await new StepReporter(input.stepId).waitFor(pollIntervalMs, async () => {
        const st = await hosting.getState(target);
        return st.runningTasks === 0 ? { done: true } : { detail: `waiting for ${st.runningTasks} running tasks of ${target}` };
      });
      await hosting.setMode(target, 'maintenance');
      await waitForOperations(input);
      return { note: `${target} is offline in maintenance mode` };
    },

    async waitCustomerTasks(input: StepInput): Promise<StepOutput> {
      const target = input.request.target;
      const last = (await hosting.getState(target)).lastQueuedTask;
      await new StepReporter(input.stepId).waitFor(pollIntervalMs, async () => {
        const st = await hosting.getState(target);
        return st.lastFinishedTask >= last ? { done: true } : { detail: `waiting for task ${last} (last finished: ${st.lastFinishedTask})` };
      });
      return { note: last ? `task ${last} has finished` : 'no task was queued' };
    },

    async connectClusters(input: StepInput): Promise<StepOutput> {
      const { sourceClusters } = need(input, 'sourceClusters');
      await hosting.setClusters(input.request.target, sourceClusters);
      await waitForOperations(input);
      return { note: `served from ${sourceClusters.join(', ')}` };
    },

    async removeMailRoutes(input: StepInput): Promise<StepOutput> {
      const removed = await mailService.removeRoutes(input.request.target);
      return { note: `removed ${removed} inbound mail routes` };
    },

    async copyCustomerInfo(input: StepInput): Promise<StepOutput> {
      await directory.copyCustomerInfo(input.request.target, input.request.source);
      return { note: `customer record of ${input.request.source} copied to ${input.request.target}` };
    },

    async registerDirectory(input: StepInput): Promise<StepOutput> {
      const { targetDatabase } = need(input, 'targetDatabase');
      // The tenants' engine, as check-request found it (clones from before engines were facts are PostgreSQL).
      await directory.registerDatabase(input.request.target, { engine: input.facts.engine ?? 'postgres', name: targetDatabase });
      return { note: `${input.request.target} registered with database ${targetDatabase}` };
    },

    async replaceTestEnvironment(input: StepInput): Promise<StepOutput> {
      await directory.setTestEnvironmentOf(input.request.target, input.request.source);
      return { note: `${input.request.target} is the test environment of ${input.request.source}` };
    },

    async recycle(input: StepInput): Promise<StepOutput> {
      await hosting.recycle(input.request.target);
      const st = await waitForOperations(input);
      return { note: `recycled (${st.recycles} recycles so far)` };
    },

    async setDirectoryInMigration(input: StepInput): Promise<StepOutput> {
      await directory.setState(input.request.target, 'InMigration');
      return { note: 'directory state: InMigration' };
    },

    async setDirectoryNormal(input: StepInput): Promise<StepOutput> {
      await directory.setState(input.request.target, 'Normal');
      return { note: 'directory state: Normal' };
    },

    async waitHostingOperations(input: StepInput): Promise<StepOutput> {
      await waitForOperations(input);
      return { note: 'the hosting layer has applied every change' };
    },
  };
}
