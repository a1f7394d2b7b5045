/**
 * Metrics: a worker process with METRICS_ADDRESS serves Prometheus metrics; after a clone they
 * hold the SDK runtime's own and the clone's: the clone by plan and outcome, the duration of
 * its steps, the rows rewritten (by the in-flight copy) and its rate, the bytes copied into the target and the
 * blobs copied between archives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO } from '../../stack/seed/demo-world';
import { freePort } from '../../stack/services/process';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { killed } from '../support/kill';

/** Sum of a metric's samples whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? ([0-9.eE+-]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total = (total ?? 0) + Number(m[4]);
  }
  return total;
}

describe('metrics', { timeout: 10 * 60_000 }, () => {
  let stack: CloneStack;

  before(async () => {
    stack = await startCloneStack();
    await stack.stopWorker();
  });
  after(async () => {
    await stack?.stop();
  });

  test('after a clone, /metrics holds the SDK runtime metrics and the clone: by plan and outcome, step durations, rows, bytes and blobs moved, scrub rate', async (t) => {
    await stack.reseed({ taskDurationMs: 100 });
    const address = `127.0.0.1:${await freePort()}`;
    const worker = await stack.spawnWorker({ METRICS_ADDRESS: address });
    t.after(() => killed(worker));
    await stack.client.start({ source: DEMO.source, target: DEMO.target, documents: 'all' });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));

    const res = await fetch(`http://${address}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    // The SDK runtime's own.
    assert.ok((sample(text, 'temporal_workflow_completed_total', { workflow_type: 'cloneTenant' }) ?? 0) >= 1, 'temporal_workflow_completed_total');
    assert.ok((sample(text, 'temporal_activity_execution_latency_count', { activity_type: 'scrubEmails' }) ?? 0) >= 1, 'activity latency');
    // The clone's.
    assert.equal(sample(text, 'tenant_clone_clones_total', { plan: 'copy', outcome: 'done' }), 1);
    assert.ok((sample(text, 'tenant_clone_step_duration_count', { step: 'copy-database', outcome: 'completed' }) ?? 0) >= 1, 'step duration of copy-database');
    assert.ok((sample(text, 'tenant_clone_step_duration_sum', { step: 'scrub-emails' }) ?? 0) > 0, 'step duration of scrub-emails');
    // The copy rewrote the addresses on their way in: its step counts them.
    assert.ok((sample(text, 'tenant_clone_rows_rewritten_total', { step: 'copy-database' }) ?? 0) > 1000, 'rows rewritten');
    assert.ok((sample(text, 'tenant_clone_scrub_rate_count', { step: 'copy-database' }) ?? 0) >= 1, 'scrub rate');
    assert.ok((sample(text, 'tenant_clone_database_bytes_total', { step: 'copy-database' }) ?? 0) > 1_000_000, 'bytes copied');
    assert.ok((sample(text, 'tenant_clone_blobs_copied_total', { system: 'azure' }) ?? 0) > 10, 'blobs copied (azure)');
    assert.ok((sample(text, 'tenant_clone_blobs_copied_total', { system: 'soarc' }) ?? 0) > 10, 'blobs copied (soarc)');
    // Every sample carries the worker's service tag.
    assert.match(text, /tenant_clone_clones_total\{[^}]*service="tenant-clone-worker"/);
    await killed(worker);
  });
});
