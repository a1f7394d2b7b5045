/**
 * Step activities that copy archives. Each heartbeats its checkpoint, so a retry (or a new
 * worker after a crash) continues after the last blob known done instead of starting over.
 */
import type { StepInput, StepOutput } from '../../workflows/step-contract';
import { StepReporter } from '../step-support';
import type { ArchiveKind, ArchiveSystem, Archives, CopyCheckpoint } from './port';

export interface ArchiveDeps {
  archives: Archives;
  concurrency: number;
}

/** Attachments are copied one module after another; the checkpoint says which and how far. */
interface ModulesCheckpoint {
  module: number;
  within?: CopyCheckpoint;
  copied: number;
}

export function archiveActivities({ archives, concurrency }: ArchiveDeps) {
  const syncAll = async (input: StepInput, system: ArchiveSystem, kind: ArchiveKind): Promise<StepOutput> => {
    const { source, target } = input.request;
    const reporter = new StepReporter<CopyCheckpoint>(input.stepId);
    const r = await archives.sync(
      { system, tenant: source, kind },
      { system, tenant: target, kind },
      {
        concurrency,
        checkpoint: reporter.resumeFrom(),
        signal: reporter.signal,
        onProgress: (checkpoint, p) => reporter.report(p.percent, p.detail, checkpoint),
      },
    );
    return { note: `${system} ${kind}: ${r.total} blobs in source, ${r.copied} copied, ${r.removed} stale removed` };
  };

  const syncModules = async (input: StepInput, system: ArchiveSystem): Promise<StepOutput> => {
    const { source, target, attachmentModules } = input.request;
    const reporter = new StepReporter<ModulesCheckpoint>(input.stepId);
    const start = reporter.resumeFrom() ?? { module: 0, copied: 0 };
    let copied = start.copied;
    for (let i = start.module; i < attachmentModules.length; i++) {
      const module = attachmentModules[i];
      const base = copied;
      const r = await archives.sync(
        { system, tenant: source, kind: 'attachments', prefix: `${module}/` },
        { system, tenant: target, kind: 'attachments', prefix: `${module}/` },
        {
          concurrency,
          checkpoint: i === start.module ? start.within : undefined,
          signal: reporter.signal,
          onProgress: (within, p) =>
            reporter.report(((i + p.percent / 100) / attachmentModules.length) * 100, `${module}: ${p.detail}`, {
              module: i,
              within,
              copied: base + within.copied,
            }),
        },
      );
      copied = base + r.copied;
      reporter.report(((i + 1) / attachmentModules.length) * 100, `${module} done`, { module: i + 1, copied });
    }
    return { note: `${system} attachments of ${attachmentModules.join(', ')}: ${copied} blobs copied` };
  };

  return {
    cloneTemplates: (input: StepInput) => syncAll(input, 'azure', 'templates'),
    cloneDocumentsAzure: (input: StepInput) => syncAll(input, 'azure', 'documents'),
    cloneDocumentsSoarc: (input: StepInput) => syncAll(input, 'soarc', 'documents'),
    cloneAttachmentsAzure: (input: StepInput) => syncModules(input, 'azure'),
    cloneAttachmentsSoarc: (input: StepInput) => syncModules(input, 'soarc'),
  };
}
