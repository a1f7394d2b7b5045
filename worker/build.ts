/** Builds the adapters from configuration and the worker that serves the clone task queue. */
import { Client, Connection } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { AzureBlobArchives } from '../activities/archive/azure-blob';
import { TenantDatabases } from '../activities/database/engines';
import { MssqlTenantDatabase } from '../activities/database/mssql';
import { loadProfiles } from '../activities/database/profile';
import { SmtpMailer } from '../activities/mail/smtp';
import { createPlatform } from '../activities/platform';
import { clientConnectionOptions, temporalTarget } from '../client/connection';
import { dataConverterFrom } from '../client/payload-codec';
import { startTracing } from '../client/tracing';
import { temporalEnv, type Config } from './config';
import { postgresEngine } from './postgres';

export interface RunningWorker {
  worker: Worker;
  /** Where it polls: address, namespace and how it connects (no secret). */
  temporal: string;
  /** Resolves when the worker has shut down. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(config: Config, extra: Partial<WorkerOptions> = {}): Promise<RunningWorker> {
  const profiles = loadProfiles({ default: config.SANITIZATION_PROFILE, pointInTime: config.SANITIZATION_PROFILE_POINT_IN_TIME });
  // Each tenant's engine comes from the directory; a worker serves the engines it has a server for.
  const databases = new TenantDatabases({
    postgres: await postgresEngine(config),
    mssql: config.TENANT_MSSQL_URL
      ? new MssqlTenantDatabase({ adminUrl: config.TENANT_MSSQL_URL, loginPassword: config.TENANT_LOGIN_PASSWORD, backupsTo: config.TENANT_MSSQL_BACKUPS })
      : undefined,
  });
  const archives = new AzureBlobArchives({ azure: config.ARCHIVE_AZURE_CONNECTION, soarc: config.ARCHIVE_SOARC_CONNECTION });
  const mailer = new SmtpMailer({
    host: config.SMTP_HOST,
    port: config.SMTP_PORT,
    from: config.SMTP_FROM,
    user: config.SMTP_USER,
    password: config.SMTP_PASSWORD,
  });
  const platform = createPlatform(config.PLATFORM_URL);

  const target = temporalTarget({ env: temporalEnv(config) });
  // With keys set, every payload is sealed before it leaves the worker (client/payload-codec.ts).
  const dataConverter = dataConverterFrom(config);
  const nativeConnection = await NativeConnection.connect(target.connection);
  // Activities use a client of their own (backup-source starts the source's backup workflow).
  const clientConnection = await Connection.connect(clientConnectionOptions(target));
  const client = new Client({ connection: clientConnection, namespace: target.namespace, dataConverter });

  // With an OTLP exporter configured, workflows and activities join the trace the client began.
  const tracing = startTracing(config, 'tenant-clone-worker');
  const traced: Partial<WorkerOptions> = tracing
    ? {
        interceptors: {
          workflowModules: [require.resolve('../workflows/tracing-interceptors')],
          activity: [
            (ctx) => ({
              inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer }),
              outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
            }),
          ],
        },
        sinks: { exporter: makeWorkflowExporter(tracing.processor, tracing.resource) },
      }
    : {};

  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: target.namespace,
    taskQueue: config.TASK_QUEUE,
    dataConverter,
    workflowsPath: require.resolve('../workflows'),
    ...traced,
    // Heartbeats carry cancellation to a running step: send them often enough that a cancel
    // (or a skipped document copy) takes effect in seconds, not at the heartbeat timeout.
    maxHeartbeatThrottleInterval: '2 seconds',
    activities: createActivities({
      databases,
      profiles,
      archives,
      mailer,
      ...platform,
      client,
      webhookSecret: config.WEBHOOK_SIGNING_SECRET,
      sandboxDomains: config.SANDBOX_MAIL_DOMAINS,
      taskQueue: config.TASK_QUEUE,
      pollIntervalMs: config.POLL_INTERVAL_MS,
      pointInTimeRetention: { production: config.PITR_RETENTION_PRODUCTION_DAYS, sandbox: config.PITR_RETENTION_SANDBOX_DAYS },
      queryRole: config.QUERY_ROLE,
      copyJobs: config.COPY_JOBS,
      sanitizeInFlight: config.SANITIZE_IN_FLIGHT,
      archiveConcurrency: config.ARCHIVE_COPY_CONCURRENCY,
      fullBackupEveryDays: config.SERVER_BACKUP_FULL_EVERY_DAYS,
    }),
    ...extra,
  });

  const done = worker.run().finally(async () => {
    await tracing?.shutdown().catch(() => undefined);
    mailer.close();
    await databases.close();
    await clientConnection.close();
    await nativeConnection.close();
  });
  return {
    worker,
    temporal: target.summary,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
