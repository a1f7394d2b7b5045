/**
 * OpenTelemetry traces: with an OTLP endpoint set, a clone is one trace at a collector (an
 * OTLP/HTTP receiver here): the client's start, the workflow run, each step's activity
 * scheduled by the workflow and run by the worker, linked parent to child, under the client's
 * and the worker's service names. Bad endpoints are refused by name.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { TracingSettingsError, startTracing } from '../../client/tracing';
import { copyPlan } from '../../workflows/plans';
import { DEMO } from '../../stack/seed/demo-world';
import { startCloneStack, type CloneStack } from '../support/clone-stack';

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  service: string;
}

interface OtlpJson {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string }[] }[];
  }[];
}

/** A collector's OTLP/HTTP traces endpoint, keeping every span it is sent (JSON encoding). */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; server: Server }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJson;
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? []) spans.push({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, service });
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

describe('OpenTelemetry traces', { timeout: 10 * 60_000 }, () => {
  let stack: CloneStack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    // Export batches quickly: the test waits for them.
    process.env.OTEL_BSP_SCHEDULE_DELAY = '200';
    receiver = await startReceiver();
    stack = await startCloneStack({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
  });
  after(async () => {
    await stack?.stop();
    receiver?.server.close();
  });

  test('a clone is one trace: the start, the run, every step scheduled and run, parent to child', async () => {
    await stack.reseed({ taskDurationMs: 100 });
    // Every step runs (the optional document copies too).
    await stack.client.start({ source: DEMO.source, target: DEMO.target, documents: 'all' });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));

    const until = Date.now() + 30_000;
    const ran = () => receiver.spans.filter((s) => s.name.startsWith('RunActivity:'));
    // The run's own span ends with the run and may be exported after the last step's.
    const complete = () => ran().length >= copyPlan.steps.length + 1 && receiver.spans.some((s) => s.name === 'RunWorkflow:cloneTenant');
    while (!complete() && Date.now() < until) await new Promise((r) => setTimeout(r, 200));

    const start = receiver.spans.find((s) => s.name === 'StartWorkflow:cloneTenant');
    assert.ok(start, `no client span: ${[...new Set(receiver.spans.map((s) => s.name))].join(', ')}`);
    assert.equal(start.service, 'tenant-clone-client');
    const trace = receiver.spans.filter((s) => s.traceId === start.traceId);
    const run = trace.find((s) => s.name === 'RunWorkflow:cloneTenant');
    assert.ok(
      run,
      `the workflow run is not in the trace: ${receiver.spans
        .slice(0, 12)
        .map((x) => `${x.name} ${x.service} ${x.traceId}/${x.spanId}<-${x.parentSpanId}`)
        .join('; ')}`,
    );
    assert.equal(run.service, 'tenant-clone-worker');

    const byId = new Map(trace.map((s) => [s.spanId, s]));
    for (const step of [...copyPlan.steps, copyPlan.finally]) {
      const activity = trace.find((s) => s.name === `RunActivity:${step.activity}`);
      assert.ok(activity, `step ${step.id} (${step.activity}) has no span in the clone's trace`);
      assert.equal(activity.service, 'tenant-clone-worker');
      const scheduled = byId.get(activity.parentSpanId);
      assert.equal(scheduled?.name, `StartActivity:${step.activity}`, `${step.activity}'s parent`);
    }
    // Every span of the trace hangs from the client's start.
    for (const s of trace) {
      let at: ReceivedSpan | undefined = s;
      for (let hops = 0; at && at !== start && hops < 10; hops++) at = byId.get(at.parentSpanId);
      assert.equal(at, start, `${s.name} does not lead back to the start`);
    }
  });

  test('a bad endpoint is refused by name, and none means no tracing', () => {
    assert.throws(
      () => startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'x'),
      (e) => e instanceof TracingSettingsError && /collector:4318/.test(e.message),
    );
    assert.throws(() => startTracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' }, 'x'), /"not a url" is not a URL/);
    assert.equal(startTracing({}, 'x'), null);
  });
});
