/** Which backup a scheduled server backup (type auto) takes: full once a week, differential between. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerBackupRef } from '../../activities/database/port';
import { chooseServerBackupType } from '../../activities/steps/backup';

const DAY = 86_400_000;
const now = Date.parse('2026-12-07T01:00:00Z');
const set = (type: ServerBackupRef['type'], daysAgo: number): ServerBackupRef => ({
  label: `${type}-${daysAgo}`,
  type,
  startedAt: new Date(now - daysAgo * DAY - 60_000).toISOString(),
  stoppedAt: new Date(now - daysAgo * DAY).toISOString(),
  sizeBytes: 1,
  repositoryBytes: 1,
});

test('auto takes a full backup when there is none, or the newest full one is a week old; a differential one otherwise', () => {
  assert.equal(chooseServerBackupType('auto', [], 7, now), 'full');
  assert.equal(chooseServerBackupType('auto', [set('full', 6), set('diff', 1)], 7, now), 'diff');
  assert.equal(chooseServerBackupType('auto', [set('full', 7), set('diff', 1)], 7, now), 'full');
  assert.equal(chooseServerBackupType('auto', [set('full', 20), set('full', 2)], 7, now), 'diff');
  assert.equal(chooseServerBackupType('auto', [set('diff', 1)], 7, now), 'full');
});

test('an explicit type is taken as it is', () => {
  assert.equal(chooseServerBackupType('full', [set('full', 0)], 7, now), 'full');
  assert.equal(chooseServerBackupType('incr', [], 7, now), 'incr');
});
