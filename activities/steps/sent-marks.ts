/**
 * What a clone has sent to people and partner apps, recorded durably right after each send, so
 * a step retried after a crash (or after a failure further on) resends only what has no mark.
 *
 * The marks live in the tool's own archive container, `tenant-clone-outbox`, keyed by clone run,
 * step and recipient: not in the target database, which a rollback replaces (and which may not
 * exist) when the requester is told how the clone ended, and not in a container of the target,
 * which a refused request must not create. A marks blob is tiny; a lifecycle rule may expire them
 * once no clone that wrote them can still be retried.
 *
 * A send and its mark cannot be one atomic act: a worker lost between the receiver's "accepted"
 * and the mark makes the retry send again. Each send therefore carries an id that is the same on
 * every attempt (Message-ID for mail, eventId for webhooks), on which receivers deduplicate.
 */
import { createHash } from 'node:crypto';
import { Context, log } from '@temporalio/activity';
import type { ArchiveLocation, Archives } from '../archive/port';

const OUTBOX: ArchiveLocation = { system: 'azure', tenant: 'tenant-clone', kind: 'outbox' };

interface Mark {
  id: string;
  sentAt: string;
}

export class SentMarks {
  private readonly at: ArchiveLocation;
  private readonly run: { workflowId: string; runId: string };

  constructor(
    private readonly archives: Archives,
    private readonly stepId: string,
  ) {
    this.at = OUTBOX;
    const info = Context.current().info.workflowExecution;
    this.run = { workflowId: info?.workflowId ?? 'outside-a-workflow', runId: info?.runId ?? 'none' };
  }

  /** The id every attempt of this run's step gives the send to `key`. */
  private idFor(key: string): string {
    const digest = createHash('sha256').update(`${this.run.workflowId}/${this.run.runId}/${this.stepId}/${key}`).digest('hex').slice(0, 24);
    return `${this.stepId}.${digest}@tenant-clone`;
  }

  /**
   * Send to `key` unless an earlier attempt of this step already did. `send` gets the stable
   * id. Returns whether it was sent now (false: sent earlier, nothing done).
   */
  async once(key: string, send: (id: string) => Promise<void>): Promise<boolean> {
    const blob = this.blobName(key);
    // Unreadable marks fail the attempt (it is retried) rather than risk a blind resend.
    if ((await this.archives.getText(this.at, blob)) !== null) return false;
    const id = this.idFor(key);
    await send(id);
    try {
      await this.archives.put(this.at, blob, JSON.stringify({ id, sentAt: new Date().toISOString() } satisfies Mark));
    } catch (err) {
      // The send happened: failing the step now would only make a retry send it again.
      log.warn('could not record a send; a retry of this step would repeat it', { key, error: (err as Error).message });
    }
    return true;
  }

  private blobName(key: string): string {
    return `${this.run.workflowId}/${this.run.runId}/${this.stepId}/${encodeURIComponent(key)}.json`;
  }
}
