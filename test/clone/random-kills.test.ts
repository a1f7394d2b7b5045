/**
 * kill -9 of the worker at random moments of one whole `copy` clone, a new worker started a few
 * seconds later each time, as a fleet that loses nodes does it. The moments come from a seeded
 * generator: a failing run names its seed, and `KILL_SEED=<seed> npm test
 * test/clone/random-kills.test.ts` replays it. The clone must end done with the same target as
 * an uninterrupted clone: per-table checksums, blob sets, one welcome mail and one requester
 * notice (one Message-ID each, README "Side effects and crashes"), one eventId per partner app.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { ArchiveKind, ArchiveSystem } from '../../activities/archive/port';
import { DEMO } from '../../stack/seed/demo-world';
import { DEFAULT_APP_AUTHORIZATIONS } from '../../stack/seed/tenant-data';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { killed } from '../support/kill';
import { seededRandom } from '../support/random';
import { CloneStep } from '../../workflows/search-attributes';

const SEED = Number(process.env.KILL_SEED ?? 20261202);
const KILLS = Number(process.env.KILLS ?? 20);
const TARGET_DB = 'tenant_acme_sandbox';
const WELCOME = 'acme-sandbox@mailinator.com';
const REQUESTER = 'ops@acme.example';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('random worker kills', { timeout: 30 * 60_000 }, () => {
  let stack: CloneStack;
  let worker: ChildProcess | null = null;

  before(async () => {
    stack = await startCloneStack();
    await stack.stopWorker();
  });
  after(async () => {
    if (worker) await killed(worker);
    await stack?.stop();
  });

  /** Everything of the target a clone writes that must not depend on how often it was interrupted. */
  const targetState = async () => {
    const blobs: Record<string, unknown> = {};
    for (const system of ['azure', 'soarc'] as ArchiveSystem[]) {
      for (const kind of ['templates', 'documents', 'attachments'] as ArchiveKind[]) {
        blobs[`${system}/${kind}`] = await stack.archives.list({ system, tenant: DEMO.target, kind }).catch((err: Error) => `unreadable: ${err.message}`);
      }
    }
    const platform = await stack.admin.state(DEMO.target);
    return {
      tables: await stack.db.checksum(TARGET_DB),
      blobs,
      hosting: { mode: platform.hosting.mode, clusters: platform.hosting.clusters },
      directory: { state: platform.tenant.state, serial: platform.tenant.serial, registeredDatabase: platform.tenant.registeredDatabase },
      mailboxes: platform.mailboxes,
      routes: platform.routes,
    };
  };

  const clone = () => stack.client.start({ source: DEMO.source, target: DEMO.target, documents: 'all', requestedBy: REQUESTER });
  const seed = () => stack.reseed({ persons: 3_000, documents: 40, taskDurationMs: 100 });

  /** What an interrupted clone must end with: done, and the reference clone's target. */
  const assertLikeReference = async (n: number, reference: Awaited<ReturnType<typeof targetState>>) => {
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', `clone ${n}: ${JSON.stringify(end)}`);
    assert.deepEqual(await targetState(), reference, `clone ${n}`);
    assert.equal((await stack.db.verifyEmails(TARGET_DB, stack.profile, 'mailinator.com')).total, 0);
    for (const to of [WELCOME, REQUESTER]) {
      const mails = stack.smtp.messages.filter((m) => m.to.includes(to));
      assert.ok(mails.length >= 1, `clone ${n}: no mail to ${to}`);
      assert.equal(new Set(mails.map((m) => m.messageId)).size, 1, `clone ${n}, ${to}: ${mails.map((m) => m.messageId).join(', ')}`);
    }
    const deliveries = await stack.admin.deliveries();
    for (const { appId } of DEFAULT_APP_AUTHORIZATIONS) {
      const mine = deliveries.filter((d) => d.appId === appId);
      assert.ok(
        mine.some((d) => d.status === 200),
        `clone ${n}: ${appId} was never told`,
      );
      assert.equal(new Set(mine.map((d) => JSON.parse(d.body).eventId)).size, 1, `clone ${n}, ${appId}: several eventIds`);
    }
  };

  test(`${KILLS} kill -9 of the worker at random moments of copy clones (seed ${SEED}) leave the target as an uninterrupted clone does`, async () => {
    await seed();
    worker = await stack.spawnWorker();
    await clone();
    assert.equal((await stack.client.result(DEMO.target)).outcome, 'done');
    const reference = await targetState();
    const ran = (await stack.client.progress(DEMO.target)).steps.filter((st) => st.status === 'done').map((st) => st.id);
    await killed(worker);

    // The moments: a random step of the clone each (so they spread over all of it), a random
    // delay into it, and how long the fleet takes to bring a worker back. Steps are followed
    // through the CloneStep search attribute, which needs no worker to answer.
    const random = seededRandom(SEED);
    const moments = Array.from({ length: KILLS }, () => ({
      step: Math.floor(random() * ran.length),
      delayMs: Math.floor(random() * 1500),
      downMs: 2000 + Math.floor(random() * 3000),
    }));
    const stepNow = async () => {
      const d = await stack.client.handle(DEMO.target).describe();
      return { running: d.status.name === 'RUNNING', step: d.typedSearchAttributes.get(CloneStep) ?? '' };
    };
    const log: string[][] = [];
    const startClone = async () => {
      await seed();
      await clone();
      log.push([]);
    };
    worker = await stack.spawnWorker();
    await startClone();
    const started = Date.now();
    // In step order within a clone; a moment the clone has already passed starts the next clone
    // (so all KILLS happen, spread over as many clones as it takes), each checked in turn.
    let pending = [...moments];
    while (pending.length) {
      let now = await stepNow();
      const next = pending.filter((m) => m.step >= Math.max(0, ran.indexOf(now.step))).sort((a, b) => a.step - b.step)[0];
      if (!next || !now.running) {
        await assertLikeReference(log.length, reference);
        await startClone();
        pending.sort((a, b) => a.step - b.step);
        continue;
      }
      while (now.running && ran.indexOf(now.step) < next.step) {
        await sleep(50);
        now = await stepNow();
      }
      if (!now.running) continue;
      await sleep(next.delayMs);
      await killed(worker);
      pending = pending.filter((m) => m !== next);
      log.at(-1)!.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${now.step}+${next.delayMs}ms`);
      await sleep(next.downMs);
      worker = await stack.spawnWorker();
    }
    await assertLikeReference(log.length, reference);
    const told = log.map((kills, i) => `clone ${i + 1}: ${kills.length} kills (${kills.join('; ')})`).join('\n# ');
    console.log(`# seed ${SEED}, ${KILLS} kills in ${log.length} clones over ${((Date.now() - started) / 1000).toFixed(0)} s:\n# ${told}`);
    assert.equal(log.flat().length, KILLS);
  });
});
