/**
 * Records the histories the replay test runs: one clone per way a clone can end, on real
 * services, written as a new set `histories/<set>/` beside the older ones, which stay: clones
 * started under every earlier workflow version must keep replaying. Run after a deliberate,
 * versioned workflow change (see the README):
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run record-histories -- <set>
 */
import { existsSync, mkdirSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { DEMO } from '../../stack/seed/demo-world';
import { DEFAULT_APP_AUTHORIZATIONS } from '../../stack/seed/tenant-data';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { waitForStep } from '../support/progress';
import { temporalCliPath } from '../support/temporal';

const DIR = path.join(__dirname, 'histories');

const scenarios: Record<string, (stack: CloneStack) => Promise<void>> = {
  'copy-done': async (stack) => {
    await stack.client.start({ source: DEMO.source, target: DEMO.target, documents: 'all', requestedBy: 'ops@acme.example' });
  },
  'copy-skip-documents': async (stack) => {
    await stack.reseed({ taskDurationMs: 1500 });
    await stack.client.start({ source: DEMO.source, target: DEMO.target, documents: 'all' });
    await stack.client.skipDocuments(DEMO.target);
  },
  'copy-cancelled-rolled-back': async (stack) => {
    await stack.client.start({ source: DEMO.source, target: DEMO.target, requestedBy: 'ops@acme.example' });
    await waitForStep(stack, 'set-aside-database', ['done']);
    await stack.client.cancel(DEMO.target, 'recorded for the replay test');
  },
  'copy-temporal-cancelled': async (stack) => {
    await stack.reseed({ taskDurationMs: 3000 });
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    await waitForStep(stack, 'enter-maintenance');
    await stack.client.handle(DEMO.target).cancel();
  },
  'copy-failed-rolled-back': async (stack) => {
    await stack.admin.failNextDeliveries(DEFAULT_APP_AUTHORIZATIONS[0].appId, 1, 400);
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
  },
  'restore-done': async (stack) => {
    await stack.client.start({ source: DEMO.source, target: DEMO.target, plan: 'restore', requestedBy: 'ops@acme.example' });
  },
  'copy-refused': async (stack) => {
    await stack.client.start({ source: DEMO.target, target: DEMO.source }).catch(() => undefined);
  },
  'point-in-time-done': async (stack) => {
    await stack.client.start({
      source: DEMO.source,
      target: DEMO.target,
      plan: 'point-in-time',
      pointInTime: await restorablePoint(stack),
      requestedBy: 'ops@acme.example',
    });
  },
  'point-in-time-refused': async (stack) => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await stack.client.start({ source: DEMO.source, target: DEMO.target, plan: 'point-in-time', pointInTime: future }).catch(() => undefined);
  },
  'point-in-time-failed-rolled-back': async (stack) => {
    const at = await restorablePoint(stack);
    await stack.admin.failNextDeliveries(DEFAULT_APP_AUTHORIZATIONS[0].appId, 1, 400);
    await stack.client.start({ source: DEMO.source, target: DEMO.target, plan: 'point-in-time', pointInTime: at });
  },
};

/** A server backup holding the freshly seeded databases, and a point a moment after it. */
async function restorablePoint(stack: CloneStack): Promise<string> {
  await (await stack.client.backupServer('diff')).result();
  await new Promise((r) => setTimeout(r, 1500));
  return new Date().toISOString();
}

async function main() {
  const set = process.argv[2];
  if (!set || !/^[a-z0-9][a-z0-9-]*$/.test(set))
    throw new Error(`give the new set a name (lower case, digits, dashes), e.g. 2026-12-plan-versions; got ${set ?? 'nothing'}`);
  const dir = path.join(DIR, set);
  if (existsSync(dir)) throw new Error(`history set ${set} exists already: recorded histories are never overwritten`);
  mkdirSync(dir);
  // The tenants live on a server with a continuous backup, so the point-in-time plan can run too.
  const stack = await startCloneStack({ continuousBackup: true });
  try {
    for (const [name, run] of Object.entries(scenarios)) {
      await stack.reseed({ taskDurationMs: 100 });
      await run(stack);
      const target = name === 'copy-refused' ? DEMO.source : DEMO.target;
      const end = await stack.client.result(target);
      // The CLI's JSON is the standard history format (what the Web UI downloads, too).
      const json = execFileSync(
        temporalCliPath(),
        ['workflow', 'show', '--workflow-id', `clone-${target}`, '--address', stack.env.address, '--output', 'json'],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      writeFileSync(path.join(dir, `${name}.json`), json);
      console.log(`${name}: ${end.outcome}, ${JSON.parse(json).events.length} events`);
    }
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
