/**
 * OpenTelemetry traces, on when an OTLP exporter is configured the standard way
 * (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT; OTEL_SERVICE_NAME,
 * OTEL_EXPORTER_OTLP_HEADERS and OTEL_BSP_* are read by the SDK itself). The client's start of a
 * clone, the workflow run and every step's activity then form one trace, carried in Temporal
 * headers by @temporalio/interceptors-opentelemetry. Nothing is installed when none is set.
 */
import * as otel from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface TracingEnv {
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_SERVICE_NAME?: string;
}

export interface Tracing {
  tracer: otel.Tracer;
  resource: Resource;
  processor: SpanProcessor;
  /** Export what is pending (a command line exits right after its call). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Bad OTLP settings, named before anything starts. */
export class TracingSettingsError extends Error {
  override name = 'TracingSettingsError';
}

let contextManager: AsyncLocalStorageContextManager | null = null;

/**
 * Tracing for one component (the worker, a client) under its own service name; null when no
 * exporter is configured. Its tracer is handed to the interceptors rather than registered
 * globally, so a worker and a client in one process keep their names; the W3C propagator that
 * carries the trace in Temporal headers, and the context manager, are the process's.
 */
export function startTracing(env: TracingEnv, defaultService: string): Tracing | null {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return null;
  for (const [name, value] of [
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', env.OTEL_EXPORTER_OTLP_ENDPOINT],
  ] as const) {
    if (!value) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new TracingSettingsError(`${name} ${JSON.stringify(value)} is not a URL (e.g. http://127.0.0.1:4318)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TracingSettingsError(`${name} ${JSON.stringify(value)}: OTLP over HTTP needs http: or https:`);
  }
  // The interceptors hand the span on through the active context: without a context manager
  // nothing would be injected into the headers or found in them.
  if (!contextManager) {
    contextManager = new AsyncLocalStorageContextManager().enable();
    otel.context.setGlobalContextManager(contextManager);
  }
  otel.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const service = env.OTEL_SERVICE_NAME || defaultService;
  const resource = new Resource({ 'service.name': service });
  // The generic endpoint is the collector's root (the spec appends the signal's path); headers,
  // timeout and batching come from the process's OTEL_* variables, read by the SDK.
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || `${env.OTEL_EXPORTER_OTLP_ENDPOINT!.replace(/\/+$/, '')}/v1/traces`;
  const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  return {
    tracer: provider.getTracer(service),
    resource,
    processor,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
