/**
 * `npm run stack`: the local stack alone, with the demo world seeded, until Ctrl-C. Clones are
 * started from another terminal with bin/tenant-clone (see what it prints).
 *
 *   DEMO_PERSONS=20000   persons in acme's database
 */
import path from 'node:path';
import { intFromEnv, onStopSignals, REPO_ROOT, startLocalStack, StackError, type LocalStack } from './local-stack';
import { DEMO } from './seed/demo-world';

let stack: LocalStack | null = null;
let stopRequested = false;

async function shutdown(code: number): Promise<never> {
  if (stack) {
    console.log('Stopping the stack…');
    await stack.stop();
    console.log('Stopped.');
  }
  process.exit(code);
}

async function main(): Promise<void> {
  const persons = intFromEnv(process.env, 'DEMO_PERSONS', 20_000);
  onStopSignals((signal) => {
    stopRequested = true;
    console.log(`\n${signal}: stopping…`);
    if (stack) void shutdown(0);
  });

  console.log('Starting the local stack…');
  stack = await startLocalStack();
  if (stopRequested) await shutdown(130);
  const s = stack;

  console.log(`\nSeeding the demo world: ${DEMO.source} with ${persons} persons, its sandbox ${DEMO.target}, and ${DEMO.otherCustomer}…`);
  await s.seedDemo({ persons });
  if (stopRequested) return;

  const envFile = path.relative(REPO_ROOT, s.envFile);
  console.log(
    [
      '',
      'The local stack is up.',
      `  Temporal Web UI:    ${s.webUiUrl}`,
      `  mail inbox:         ${s.inboxUrl}`,
      `  platform emulator:  ${s.emulatorUrl}  (e.g. ${s.emulatorUrl}/_emulator/tenants/${DEMO.target})`,
      `  Temporal frontend:  ${s.temporalAddress}, task queue ${s.taskQueue}`,
      `  logs:               ${path.relative(REPO_ROOT, s.logDir)}/`,
      '',
      'From another terminal, in the repository:',
      `  source ${envFile}`,
      '  bin/tenant-clone list',
      `  bin/tenant-clone start ${DEMO.source} ${DEMO.target} --wait`,
      `  bin/tenant-clone status ${DEMO.target}`,
      '',
      'Press Ctrl-C to stop everything.',
    ].join('\n'),
  );
}

main().catch(async (err: Error) => {
  // Failures caused by services stopping under a Ctrl-C are not news.
  if (stopRequested) return;
  console.error(err instanceof StackError ? `stack: ${err.message}` : `stack failed: ${err.stack ?? err.message}`);
  await shutdown(1);
});
