/** Heartbeat details are read as carefully as any payload: a namespace client can record heartbeats too. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressReport } from '../../workflows/message-checks';

test('a step heartbeat is read into percent and detail; anything else is not progress', () => {
  assert.deepEqual(progressReport({ stepId: 'scrub-emails', percent: 42.5, detail: 'persons: 3 of 8 batches', checkpoint: { after: 'x' } }), {
    stepId: 'scrub-emails',
    percent: 42.5,
    detail: 'persons: 3 of 8 batches',
  });
  assert.deepEqual(progressReport({ stepId: 'check-request', percent: null, detail: 'looking for addresses' }), {
    stepId: 'check-request',
    percent: null,
    detail: 'looking for addresses',
  });
  assert.equal(progressReport({ stepId: 'x', percent: 250, detail: '' })?.percent, 100);
  assert.equal(progressReport({ stepId: 'x', percent: 1, detail: 'd'.repeat(10_000) })?.detail.length, 500);
  for (const bad of [
    undefined,
    null,
    'text',
    7,
    [],
    {},
    { checkpoint: {} },
    { stepId: '', percent: 1, detail: 'x' },
    { stepId: 'x', percent: Number.NaN, detail: 'x' },
    { stepId: 'x', percent: '5', detail: 'x' },
    { stepId: 'x', percent: 5, detail: 5 },
    { stepId: 'x'.repeat(101), percent: 5, detail: 'x' },
  ]) {
    assert.equal(progressReport(bad), null, JSON.stringify(bad));
  }
});
