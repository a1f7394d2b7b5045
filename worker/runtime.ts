/**
 * The SDK runtime of the worker process: with METRICS_ADDRESS, it serves Prometheus metrics
 * there, the SDK's own (workflow and activity task latencies, polls, failures) and the clone's
 * (tenant_clone_*: clones by plan and outcome, step durations, rows, bytes and blobs moved, scrub
 * rate). Installed once, before the worker's first connection.
 */
import { Runtime } from '@temporalio/worker';
import type { Config } from './config';

export function installRuntime(config: Pick<Config, 'METRICS_ADDRESS'>): void {
  if (!config.METRICS_ADDRESS) return;
  Runtime.install({
    telemetryOptions: {
      metrics: {
        prometheus: { bindAddress: config.METRICS_ADDRESS, countersTotalSuffix: true, useSecondsForDurations: true },
        globalTags: { service: 'tenant-clone-worker' },
      },
    },
  });
}
