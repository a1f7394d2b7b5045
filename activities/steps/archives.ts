/**
 * The steps that copy archives. Each heartbeats its checkpoint, so a retry (or a new
 * worker after a crash) continues after the last blob known done instead of starting over.
 */
import type { CloneRequest } from '../../workflows/request';
import type { ArchiveKind, ArchiveSystem, Archives, CopyCheckpoint } from '../archive/port';
import { StepReporter, defineSteps } from './support';
import { recordBlobsCopied } from './metrics';

export interface ArchiveDeps {
  archives: Archives;
  concurrency: number;
}

type Step = { stepId: string; request: CloneRequest };

/** Attachments are copied one module after another; the checkpoint says which and how far. */
interface ModulesCheckpoint {
  module: number;
  within?: CopyCheckpoint;
  copied: number;
}

export function archiveActivities({ archives, concurrency }: ArchiveDeps) {
  const syncAll = async ({ stepId, request }: Step, system: ArchiveSystem, kind: ArchiveKind): Promise<{ note: string }> => {
    const { source, target } = request;
    const reporter = new StepReporter<CopyCheckpoint>(stepId);
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
    recordBlobsCopied(stepId, system, r.copied);
    return { note: `${system} ${kind}: ${r.total} blobs in source, ${r.copied} copied, ${r.removed} stale removed` };
  };

  const syncModules = async ({ stepId, request }: Step, system: ArchiveSystem): Promise<{ note: string }> => {
    const { source, target, attachmentModules } = request;
    const reporter = new StepReporter<ModulesCheckpoint>(stepId);
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
    recordBlobsCopied(stepId, system, copied - start.copied);
    return { note: `${system} attachments of ${attachmentModules.join(', ')}: ${copied} blobs copied` };
  };

  return defineSteps(null, {
    cloneTemplates: (step) => syncAll(step, 'azure', 'templates'),
    cloneDocumentsAzure: (step) => syncAll(step, 'azure', 'documents'),
    cloneDocumentsSoarc: (step) => syncAll(step, 'soarc', 'documents'),
    cloneAttachmentsAzure: (step) => syncModules(step, 'azure'),
    cloneAttachmentsSoarc: (step) => syncModules(step, 'soarc'),
  });
}
