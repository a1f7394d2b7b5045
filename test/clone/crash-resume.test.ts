/**
 * Clones survive what a real fleet does to them: a worker process SIGKILLed in the middle of
 * the in-flight copy, of the in-place e-mail scrub (SANITIZE_IN_FLIGHT=false: the path of
 * restored backups and SQL Server) or of an archive copy, and the Temporal server restarted
 * mid-clone. The clone completes correctly, and the step's own accounting shows how little was
 * done twice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_PROFILE_PATH } from '../../activities/database/profile';
import { DEMO } from '../../stack/seed/demo-world';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { scheduledFor } from '../support/history';
import { killed } from '../support/kill';
import { queryDb } from '../support/postgres';
import { waitForStep } from '../support/progress';

const TARGET_DB = 'tenant_acme_sandbox';
const BATCH = 1000;
const IN_FLIGHT_PERSONS = 500_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until the running step has reported at least `percent`. */
async function waitForPercent(stack: CloneStack, stepId: string, percent: number): Promise<void> {
  const until = Date.now() + 120_000;
  for (;;) {
    const p = await stack.client.progress(DEMO.target);
    const st = p.steps.find((s) => s.id === stepId)!;
    if (st.status === 'running' && (st.percent ?? 0) >= percent) return;
    if (st.status !== 'running' && st.status !== 'pending') throw new Error(`${stepId} ended (${st.status}) before reaching ${percent}%`);
    if (Date.now() > until) throw new Error(`timed out waiting for ${stepId} to reach ${percent}%`);
    await sleep(20);
  }
}

/** Attempts the server started for the activity of a step (by its summary). */
async function attemptsOf(stack: CloneStack, stepId: string): Promise<number> {
  const history = await stack.client.handle(DEMO.target).fetchHistory();
  const events = history.events ?? [];
  const scheduled = scheduledFor(events, stepId);
  const ids = new Set(scheduled.map((e) => Number(e.eventId)));
  const started = events.filter((e) => e.activityTaskStartedEventAttributes && ids.has(Number(e.activityTaskStartedEventAttributes.scheduledEventId)));
  return Math.max(0, ...started.map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0));
}

describe('crash and resume', { timeout: 20 * 60_000 }, () => {
  let stack: CloneStack;
  let profileFile: string;

  before(async () => {
    stack = await startCloneStack({ persistentTemporal: true });
    await stack.stopWorker();
    // Small batches: the scrub of the big table takes long enough to be killed in its middle.
    profileFile = path.join(mkdtempSync(path.join(tmpdir(), 'tc-profile-')), 'small-batches.yaml');
    writeFileSync(profileFile, readFileSync(DEFAULT_PROFILE_PATH, 'utf8').replace(/batchSize: \d+/, `batchSize: ${BATCH}`));
  });
  after(async () => {
    await stack?.stop();
  });

  test('a worker SIGKILLed during the in-flight copy: the next attempt copies again into an emptied target, and the gate passes', async (t) => {
    // Big enough that the copy streams for seconds (progress arrives at least every 2 s).
    await stack.reseed({ persons: IN_FLIGHT_PERSONS, taskDurationMs: 100 });
    const first = await stack.spawnWorker({ COPY_JOBS: '1' });
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    await waitForPercent(stack, 'copy-database', 2);
    await killed(first);
    const second = await stack.spawnWorker();
    t.after(() => killed(second));
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    assert.ok((await attemptsOf(stack, 'copy-database')) >= 2, 'the copy ran again on the new worker');
    const steps = (await stack.client.progress(DEMO.target)).steps;
    assert.match(steps.find((st) => st.id === 'scrub-emails')!.detail ?? '', /^nothing left to rewrite: the copy rewrote \d+ rows/);
    assert.equal((await stack.db.verifyEmails(TARGET_DB, stack.profile, 'mailinator.com')).total, 0);
    const [{ n }] = await queryDb<{ n: string }>(stack.adminUrl, TARGET_DB, `SELECT count(*)::text AS n FROM persons`);
    assert.equal(Number(n), IN_FLIGHT_PERSONS, 'every row once, none twice');
    await killed(second);
  });

  test('a worker SIGKILLed during scrub-emails (in place): a new worker resumes after the last committed batch', async (t) => {
    const batchesOf = async () =>
      Number(/in (\d+) batches/.exec((await stack.client.progress(DEMO.target)).steps.find((st) => st.id === 'scrub-emails')!.detail ?? '')?.[1]);
    // The same clone of the same (deterministic) seed, uninterrupted: how many batches one pass takes.
    await stack.reseed({ persons: 60_000, taskDurationMs: 100 });
    const reference = await stack.spawnWorker({ SANITIZATION_PROFILE: profileFile, SANITIZE_IN_FLIGHT: 'false' });
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    assert.equal((await stack.client.result(DEMO.target)).outcome, 'done');
    const onePass = await batchesOf();
    await killed(reference);

    await stack.reseed({ persons: 60_000, taskDurationMs: 100 });
    const first = await stack.spawnWorker({ SANITIZATION_PROFILE: profileFile, SANITIZE_IN_FLIGHT: 'false' });
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    await waitForPercent(stack, 'scrub-emails', 20);
    await killed(first);
    const second = await stack.spawnWorker({ SANITIZATION_PROFILE: profileFile, SANITIZE_IN_FLIGHT: 'false' });
    // The second worker also answers the `progress` queries below, so it stops at the end.
    t.after(() => killed(second));
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    assert.ok((await attemptsOf(stack, 'scrub-emails')) >= 2, 'the scrub ran again on the new worker');

    // Every batch ran exactly once: the batch count is what one uninterrupted pass takes, so no
    // committed batch was repeated after the crash.
    const note = (await stack.client.progress(DEMO.target)).steps.find((st) => st.id === 'scrub-emails')!.detail ?? '';
    assert.match(note, /resumed after \d+ batches/);
    assert.ok(onePass > 20, `one pass takes ${onePass} batches`);
    assert.equal(await batchesOf(), onePass, note);
    assert.equal((await stack.db.verifyEmails(TARGET_DB, stack.profile, 'mailinator.com')).total, 0);
    await killed(second);
  });

  test('a worker SIGKILLed during an archive copy: the new worker copies again at most the blobs in flight', async (t) => {
    await stack.reseed({ persons: 500, documents: 1500, taskDurationMs: 100 });
    const first = await stack.spawnWorker({ ARCHIVE_COPY_CONCURRENCY: '4' });
    await stack.client.start({ source: DEMO.source, target: DEMO.target, documents: 'all' });
    await waitForPercent(stack, 'clone-documents-azure', 25);
    await killed(first);
    const second = await stack.spawnWorker({ ARCHIVE_COPY_CONCURRENCY: '4' });
    t.after(() => killed(second));
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    assert.ok((await attemptsOf(stack, 'clone-documents-azure')) >= 2);
    const at = (tenant: string) => stack.archives.list({ system: 'azure', tenant, kind: 'documents' });
    const source = await at(DEMO.source);
    assert.deepEqual(await at(DEMO.target), source);
    const note = (await stack.client.progress(DEMO.target)).steps.find((st) => st.id === 'clone-documents-azure')!.detail ?? '';
    const copied = Number(/(\d+) copied/.exec(note)?.[1]);
    // `copied` adds the copies the checkpoint records to those of the resumed attempt, which
    // skips the checkpointed prefix and any blob already equal by MD5: beyond the source's
    // count, only blobs in flight at the kill (4 at most) can have been copied twice.
    assert.ok(copied > 0 && copied <= source.length + 4, `copied ${copied} of ${source.length}: ${note}`);
    await killed(second);
  });

  test('the Temporal server restarted in the middle of a clone: the clone completes', async (t) => {
    await stack.reseed({ persons: 20_000, taskDurationMs: 100 });
    const worker = await stack.spawnWorker();
    t.after(() => killed(worker));
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    await waitForStep(stack, 'copy-database', ['running', 'done']);
    await stack.env.restart();
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    assert.equal((await stack.client.progress(DEMO.target)).outcome, 'done');
    assert.equal((await stack.db.verifyEmails(TARGET_DB, stack.profile, 'mailinator.com')).total, 0);
    assert.equal((await stack.admin.state(DEMO.target)).hosting.mode, 'running');
    await killed(worker);
  });
});
