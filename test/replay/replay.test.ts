/**
 * Recorded histories of every way a clone ends, replayed through the current workflow code:
 * a change that would break clones already running (a non-determinism error) fails here,
 * not in production. Refresh with `npm run record-histories`; version changes with patched().
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

test('every recorded clone history replays through the current workflow code', async () => {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  // A missing recording would let the test pass on nothing.
  assert.deepEqual(
    files.map((f) => f.replace(/\.json$/, '')),
    EXPECTED,
  );
  const histories = files.map((f) => ({
    workflowId: path.basename(f, '.json'),
    history: historyFromJSON(JSON.parse(readFileSync(path.join(DIR, f), 'utf8'))),
  }));
  const results = Worker.runReplayHistories({ workflowsPath: require.resolve('../../workflows') }, histories);
  const replayed: string[] = [];
  for await (const r of results) {
    assert.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message}`);
    replayed.push(r.workflowId);
  }
  assert.deepEqual(replayed.sort(), EXPECTED);
});
