/**
 * Recorded histories of every way a clone ends, replayed through the current workflow code:
 * a change that would break clones already running (a non-determinism error) fails here,
 * not in production. A plan is changed by adding a version (workflows/plan-versions.ts); the
 * tests below show that doing so keeps every recorded clone replayable, and editing in place does not.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { sendSdkLogsToFile } from '../support/logs';

sendSdkLogsToFile();

const DIR = path.join(__dirname, 'histories');
const EXPECTED = [
  'copy-cancelled-rolled-back',
  'copy-done',
  'copy-failed-rolled-back',
  'copy-refused',
  'copy-skip-documents',
  'copy-temporal-cancelled',
  'restore-done',
];

/** Sets recorded once the point-in-time plan existed hold its clones too. */
const POINT_IN_TIME = ['point-in-time-done', 'point-in-time-failed-rolled-back', 'point-in-time-refused'];
const POINT_IN_TIME_SINCE = '2026-12-point-in-time';
const expectedIn = (set: string) => (set !== '.' && set >= POINT_IN_TIME_SINCE ? [...EXPECTED, ...POINT_IN_TIME].sort() : EXPECTED);

const SETS = [
  '.',
  ...readdirSync(DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name),
];

/**
 * Every recorded set: the first one (the files at the top, from before the lease and the plan
 * versions) and each later one in its own folder. Each holds one history per way a clone ends.
 */
function recorded() {
  return SETS.flatMap((set) => {
    const files = readdirSync(path.join(DIR, set))
      .filter((f) => f.endsWith('.json'))
      .sort();
    // A missing recording would let the test pass on nothing.
    assert.deepEqual(
      files.map((f) => f.replace(/\.json$/, '')),
      expectedIn(set),
      `history set ${set}`,
    );
    return files.map((f) => {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(DIR, set, f), 'utf8')));
      // Replayed under the id it ran as: the workflow checks that it runs as clone-<target>.
      const ranAs = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId;
      return { name: path.join(set, path.basename(f, '.json')), workflowId: ranAs || 'clone-acme-sandbox', history };
    });
  });
}

/** Each recorded history replayed through the workflows at `workflowsPath`: its error, if any. */
async function replay(workflowsPath: string): Promise<Record<string, string | null>> {
  const histories = recorded();
  const out: Record<string, string | null> = {};
  // Results come back in the order the histories went in (their workflow ids repeat across sets).
  let i = 0;
  for await (const r of Worker.runReplayHistories({ workflowsPath }, histories)) {
    const { name, workflowId } = histories[i++];
    assert.equal(r.workflowId, workflowId, name);
    out[name] = r.error ? `${r.error.name}: ${r.error.message}` : null;
  }
  assert.equal(i, histories.length);
  return out;
}

const clean = Object.fromEntries(SETS.flatMap((set) => expectedIn(set).map((id) => [path.join(set, id), null])));

test('the point-in-time plan has recorded clones', () => {
  assert.ok(
    SETS.some((set) => expectedIn(set).includes('point-in-time-done')),
    `no set from ${POINT_IN_TIME_SINCE} on: record one`,
  );
});

test('every recorded clone history replays through the current workflow code', async () => {
  assert.deepEqual(await replay(require.resolve('../../workflows')), clean);
});

test('a new version of the copy plan beside the old one keeps every recorded clone replayable', async () => {
  assert.deepEqual(await replay(require.resolve('./plan-versions/versioned')), clean);
});

test('the same change made in place breaks the recorded clones that ran past it', async () => {
  const errors = await replay(require.resolve('./plan-versions/edited-in-place'));
  // The inserted step comes after `recycle`: clones that got there no longer replay; the others do.
  for (const set of SETS) {
    for (const id of ['copy-done', 'copy-skip-documents', 'copy-failed-rolled-back'].map((n) => path.join(set, n))) {
      assert.match(errors[id] ?? 'replayed', /Determinism|nondetermin/i, id);
    }
    const untouched = [
      'copy-refused',
      'copy-cancelled-rolled-back',
      'copy-temporal-cancelled',
      'restore-done',
      ...expectedIn(set).filter((n) => n.startsWith('point-in-time')),
    ];
    for (const id of untouched.map((n) => path.join(set, n))) {
      assert.equal(errors[id], null, id);
    }
  }
});
