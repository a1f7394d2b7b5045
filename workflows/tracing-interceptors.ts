/**
 * The workflow side of OpenTelemetry tracing: the run and each activity, timer and child it
 * starts become spans of the clone's trace. Bundled into the workflow code only when the worker
 * traces (worker/build.ts); the interceptors are deterministic and add headers, not commands,
 * so histories replay the same with or without them.
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new OpenTelemetryInboundInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
