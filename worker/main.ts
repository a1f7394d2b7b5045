/** The worker process: `npm run worker`. Configuration: see worker/config.ts and the README. */
import { ConfigError, loadConfig } from './config';
import { startWorker } from './build';

async function main() {
  const config = loadConfig();
  const running = await startWorker(config);
  console.log(`tenant-clone worker on task queue ${config.TASK_QUEUE} at ${config.TEMPORAL_ADDRESS}`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void running.shutdown());
  await running.done;
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
