/** The worker process: `npm run worker`. Configuration: see worker/config.ts and the README. */
import { ConfigError, loadConfig } from './config';
import { startWorker } from './build';
import { installRuntime } from './runtime';
import { ProfileError } from '../activities/database/profile';
import { TemporalSettingsError } from '../client/connection';

async function main() {
  const config = loadConfig();
  installRuntime(config);
  const running = await startWorker(config);
  console.log(
    `tenant-clone worker on task queue ${config.TASK_QUEUE} at ${running.temporal}${config.METRICS_ADDRESS ? `; metrics at http://${config.METRICS_ADDRESS}/metrics` : ''}`,
  );
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void running.shutdown());
  await running.done;
}

main().catch((err) => {
  // A bad setting or profile is the operator's to fix: one line naming it, no stack trace.
  const bad = err instanceof ConfigError || err instanceof ProfileError || err instanceof TemporalSettingsError;
  console.error(bad ? `tenant-clone worker: ${err.message}` : err);
  process.exit(bad ? 2 : 1);
});
