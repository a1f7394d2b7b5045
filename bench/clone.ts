/**
 * End-to-end benchmark (not a test) on the local stack of `npm run demo` (its own ports and
 * folder: a Temporal dev server, PostgreSQL, the platform emulator, Azurite, maildev, a worker
 * in this process), the demo world seeded at the bench size:
 *   - a whole `copy` clone of the bench tenant (every step, sanitization and gate included) vs
 *     a hand-run `pg_dump -Fd -j2` + `pg_restore -j2` of the same database in the same run;
 *   - ten clones of one source into ten sandboxes at once vs the same ten one after another;
 *   - the history length (events) of a clone, at the bench size and at a tenth of it: a
 *     workflow whose history grew with the rows would show it here.
 * BENCH_PERSONS sets the size (e-mail addresses are twice that); BENCH_FLEET_PERSONS the
 * size of the ten-clone source (default a tenth).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { tenantDatabaseName } from '../activities/database/postgres/identifiers';
import { startLocalStack, type LocalStack } from '../stack/local-stack';
import { DEMO, demoTenant } from '../stack/seed/demo-world';
import { startPostgres } from '../stack/services/postgres';
import { freePort, pgEnv, ratioLine, run, timed } from './measure';

const secondsOf = (from: string | null, to: string | null) => (from && to ? (Date.parse(to) - Date.parse(from)) / 1000 : NaN);

/** One clone of acme into `target`, to its end: its time, events, and the database steps' times. */
async function clone(stack: LocalStack, target: string) {
  const [s] = await timed(async () => {
    await stack.client.start({ source: DEMO.source, target }, { waitForAcceptance: false });
    const end = await stack.client.result(target);
    if (end.outcome !== 'done') throw new Error(`the clone into ${target} ended ${end.outcome}: ${end.message}`);
  });
  const history = await stack.client.handle(target).fetchHistory();
  const steps = (await stack.client.progress(target)).steps;
  // Where the time went, step by step (steps at the same time overlap).
  const seconds = new Map(steps.map((st) => [st.id, secondsOf(st.startedAt ?? null, st.endedAt ?? null)]));
  const breakdown = [...seconds]
    .filter(([, x]) => !Number.isNaN(x))
    .map(([id, x]) => `${id} ${x.toFixed(2)}`)
    .join(', ');
  return { seconds: s, events: history.events?.length ?? 0, copy: seconds.get('copy-database') ?? NaN, scrub: seconds.get('scrub-emails') ?? NaN, breakdown };
}

export async function benchClone(log: (line: string) => void): Promise<void> {
  const persons = Number(process.env.BENCH_PERSONS ?? 500_000);
  const fleetPersons = Number(process.env.BENCH_FLEET_PERSONS ?? Math.round(persons / 10));
  const stackDir = path.join(__dirname, '..', '.stack', 'bench-e2e');
  await rm(stackDir, { recursive: true, force: true });
  // A plain PostgreSQL: the demo's archiving one would add WAL shipping and its server backups
  // after each seeding, which are not what is measured here.
  const pg = await startPostgres({ dataDir: path.join(stackDir, 'pg'), port: await freePort() });
  // Ports of its own, so a demo left running elsewhere is no obstacle.
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: pg.url };
  for (const name of [
    'STACK_PG_PORT',
    'STACK_TEMPORAL_PORT',
    'STACK_TEMPORAL_UI_PORT',
    'STACK_AZURITE_PORT',
    'STACK_SMTP_PORT',
    'STACK_INBOX_PORT',
    'STACK_EMULATOR_PORT',
  ])
    env[name] = String(await freePort());
  const stack = await startLocalStack({ env, stackDir, log: () => undefined });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-e2e-'));
  const base = `bench_e2e_base_${process.pid}`;
  try {
    await stack.seedDemo({ persons, documents: 40 });
    const toolEnv = pgEnv(stack.adminUrl);
    const jobs = stack.config.COPY_JOBS;
    const primitive = async () => {
      await stack.db.dropDatabase(base);
      await stack.db.createDatabase(base);
      const dump = path.join(dir, 'dump');
      await rm(dump, { recursive: true, force: true });
      const [s] = await timed(async () => {
        await run('pg_dump', ['-Fd', `-j${jobs}`, '--no-owner', '--no-privileges', '-f', dump, tenantDatabaseName(DEMO.source)], toolEnv);
        await run('pg_restore', [`-j${jobs}`, '--no-owner', '--no-privileges', '-d', base, dump], toolEnv);
      });
      return s;
    };
    const prim = [await primitive()];
    const first = await clone(stack, DEMO.target);
    prim.push(await primitive());
    const second = await clone(stack, DEMO.target);
    const best = first.seconds <= second.seconds ? first : second;
    const primS = Math.min(...prim);
    log(
      ratioLine(`copy clone end to end (${persons} persons, ${jobs} jobs, every step, sanitized in flight, gate; best of 2)`, best.seconds, primS) +
        ` [baseline: pg_dump -Fd -j${jobs} + pg_restore -j${jobs} by hand; copy-database ${best.copy.toFixed(2)} s, scrub-emails (the gate) ${best.scrub.toFixed(2)} s; goal ≤ 1.5]`,
    );
    log(`steps of that clone (s): ${best.breakdown}`);
    log(`history of that clone: ${best.events} events`);

    // The same clone of a tenant a tenth the size: the history should not change with the rows.
    await stack.seedDemo({ persons: Math.max(1000, Math.round(persons / 10)), documents: 40 });
    const small = await clone(stack, DEMO.target);
    log(
      `history length: ${best.events} events at ${persons} persons vs ${small.events} at ${Math.round(persons / 10)}, ratio ${(best.events / small.events).toFixed(2)} (goal: 1.00)`,
    );

    // Ten sandboxes of one source: at once, then one after another.
    await stack.seedDemo({ persons: fleetPersons, documents: 40 });
    const fleet = Array.from({ length: 10 }, (_, i) => `acme-fleet-${i + 1}`);
    for (const [i, id] of fleet.entries()) {
      await stack.admin.putTenant(
        demoTenant(id, {
          kind: 'sandbox',
          companyName: `Acme Fleet ${i + 1}`,
          serial: `ACME-FLT-${String(i + 1).padStart(4, '0')}`,
          license: 'Sandbox, 25 users',
          hosting: { mode: 'running', clusters: ['weu-db-02'] },
          mailboxes: [`support@${id}.example`],
        }),
      );
    }
    const [together] = await timed(() => Promise.all(fleet.map((id) => clone(stack, id))));
    const [oneByOne] = await timed(async () => {
      for (const id of fleet) await clone(stack, id);
    });
    log(ratioLine(`ten clones at once (${fleetPersons} persons each)`, together, oneByOne) + ' [baseline: the same ten one after another]');
    for (const id of fleet) await stack.db.dropDatabase(tenantDatabaseName(id)).catch(() => undefined);
  } finally {
    await stack.db.dropDatabase(base).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await stack.stop();
    await pg.stop();
  }
}
