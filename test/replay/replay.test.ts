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

function recorded() {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  // A missing recording would let the test pass on nothing.
  assert.deepEqual(
    files.map((f) => f.replace(/\.json$/, '')),
    EXPECTED,
  );
  return files.map((f) => ({
    workflowId: path.basename(f, '.json'),
    history: historyFromJSON(JSON.parse(readFileSync(path.join(DIR, f), 'utf8'))),
  }));
}

/** Each recorded history replayed through the workflows at `workflowsPath`: its error, if any. */
async function replay(workflowsPath: string): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for await (const r of Worker.runReplayHistories({ workflowsPath }, recorded())) out[r.workflowId] = r.error ? `${r.error.name}: ${r.error.message}` : null;
  return out;
}

const clean = Object.fromEntries(EXPECTED.map((id) => [id, null]));

test('every recorded clone history replays through the current workflow code', async () => {
  assert.deepEqual(await replay(require.resolve('../../workflows')), clean);
});

test('a new version of the copy plan beside the old one keeps every recorded clone replayable', async () => {
  assert.deepEqual(await replay(require.resolve('./plan-versions/versioned')), clean);
});

test('the same change made in place breaks the recorded clones that ran past it', async () => {
  const errors = await replay(require.resolve('./plan-versions/edited-in-place'));
  // The inserted step comes after `recycle`: clones that got there no longer replay; the others do.
  for (const id of ['copy-done', 'copy-skip-documents', 'copy-failed-rolled-back']) assert.match(errors[id] ?? 'replayed', /Determinism|nondetermin/i, id);
  for (const id of ['copy-refused', 'copy-cancelled-rolled-back', 'copy-temporal-cancelled', 'restore-done']) assert.equal(errors[id], null, id);
});
