/**
 * The clone's own metrics, beside the SDK's: recorded through the activity's metric meter, so
 * they reach whatever the worker's runtime exports (Prometheus at METRICS_ADDRESS). Names carry
 * the `tenant_clone_` prefix; tags are the step and, where it tells something, the system.
 */
import { Context } from '@temporalio/activity';

const meter = () => Context.current().metricMeter;

/** How long one attempt of a step's activity took, and how it ended. */
export function recordStepDuration(activity: string, step: string, ms: number, outcome: 'completed' | 'failed'): void {
  meter()
    .createHistogram('tenant_clone_step_duration', 'int', 'ms', 'Duration of one attempt of a clone step')
    .record(Math.round(ms), { activity, step, outcome });
}

/** Rows the scrub rewrote, and at what rate. */
export function recordScrub(step: string, rows: number, seconds: number): void {
  meter()
    .createCounter(
      'tenant_clone_rows_rewritten',
      'rows',
      'Rows holding an "at" that the scrub or the in-flight copy rewrote (one already at the sandbox domain comes out the same)',
    )
    .add(rows, { step });
  if (seconds > 0)
    meter()
      .createHistogram('tenant_clone_scrub_rate', 'float', 'rows/s', 'Rows rewritten per second by one scrub')
      .record(rows / seconds, { step });
}

/** Bytes a copy or restore wrote into the target database. */
export function recordBytesMoved(step: string, bytes: number): void {
  meter().createCounter('tenant_clone_database_bytes', 'bytes', 'Bytes copied or restored into target databases').add(bytes, { step });
}

/** Blobs an archive step copied. */
export function recordBlobsCopied(step: string, system: string, blobs: number): void {
  meter().createCounter('tenant_clone_blobs_copied', 'blobs', 'Blobs copied between archives').add(blobs, { step, system });
}
