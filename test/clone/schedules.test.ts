/**
 * Recurring refreshes and backups as Temporal Schedules, through the command line: created,
 * listed, run (a refresh starts the clone under its own id, and skips while a clone of the
 * target runs), paused, unpaused and deleted; bad input refused by name, nothing created.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RequestError } from '../../client';
import type { ScheduleRow } from '../../client/schedules';
import { DEMO } from '../../stack/seed/demo-world';
import type { RefreshOutcome } from '../../workflows/refresh-sandbox';
import { cliFor } from '../support/cli';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { waitForStep } from '../support/progress';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('schedules', { timeout: 10 * 60_000 }, () => {
  let stack: CloneStack;
  const cli = cliFor(() => stack);
  const list = async () => JSON.parse((await cli('schedule', 'list', '--json')).stdout) as ScheduleRow[];

  /** The refresh run the schedule started last, once it has ended. */
  const lastRefresh = async (id: string): Promise<RefreshOutcome> => {
    for (const until = Date.now() + 60_000; ; await sleep(200)) {
      const [row] = (await list()).filter((r) => r.id === id);
      const run = row?.recent.at(-1);
      if (run) return stack.client.client.workflow.getHandle(run.workflowId).result() as Promise<RefreshOutcome>;
      if (Date.now() > until) throw new Error(`schedule ${id} started no run`);
    }
  };

  before(async () => {
    stack = await startCloneStack();
  });
  after(async () => {
    await stack?.stop();
  });

  test('a nightly refresh: created, listed, run now (the clone runs as clone-<target>), paused, unpaused, deleted', async () => {
    await stack.reseed({ taskDurationMs: 100 });
    const created = await cli(
      'schedule',
      'create',
      'nightly-acme-sandbox',
      '--refresh',
      `${DEMO.source}:${DEMO.target}`,
      '--at',
      '02:30',
      '--requested-by',
      'ops@acme.example',
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^schedule nightly-acme-sandbox created: refresh acme-sandbox from acme \(copy\), every day at 02:30 UTC/);
    let [row] = (await list()).filter((r) => r.id === 'nightly-acme-sandbox');
    assert.equal(row.paused, false);
    assert.equal(new Date(row.nextRuns[0]).toISOString().slice(11, 16), '02:30');

    assert.equal((await cli('schedule', 'trigger', 'nightly-acme-sandbox')).code, 0);
    const refresh = await lastRefresh('nightly-acme-sandbox');
    assert.equal(refresh.outcome, 'done');
    const p = await stack.client.progress(DEMO.target);
    assert.equal(p.outcome, 'done');
    assert.equal((await stack.client.handle(DEMO.target).describe()).workflowId, `clone-${DEMO.target}`);

    assert.equal((await cli('schedule', 'pause', 'nightly-acme-sandbox', '--reason', 'quarter close')).code, 0);
    [row] = (await list()).filter((r) => r.id === 'nightly-acme-sandbox');
    assert.deepEqual([row.paused, row.note], [true, 'quarter close']);
    assert.match(
      (await cli('schedule', 'list')).stdout,
      /nightly-acme-sandbox\s+refresh acme-sandbox from acme \(copy\); every day at 02:30 UTC; paused \(quarter close\)/,
    );
    assert.equal((await cli('schedule', 'unpause', 'nightly-acme-sandbox')).code, 0);
    [row] = (await list()).filter((r) => r.id === 'nightly-acme-sandbox');
    assert.equal(row.paused, false);

    assert.equal((await cli('schedule', 'delete', 'nightly-acme-sandbox')).code, 0);
    assert.deepEqual(
      (await list()).filter((r) => r.id === 'nightly-acme-sandbox'),
      [],
    );
    const again = await cli('schedule', 'delete', 'nightly-acme-sandbox');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /there is no schedule nightly-acme-sandbox/);
  });

  test('a refresh due while a clone of the target runs skips, saying so, and leaves that clone alone', async () => {
    await stack.reseed({ taskDurationMs: 4000 });
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    await waitForStep(stack, 'enter-maintenance');
    assert.equal((await cli('schedule', 'create', 'busy-refresh', '--refresh', `${DEMO.source}:${DEMO.target}`, '--cron', '0 3 * * 1')).code, 0);
    assert.equal((await cli('schedule', 'trigger', 'busy-refresh')).code, 0);
    const refresh = await lastRefresh('busy-refresh');
    assert.deepEqual(refresh, { outcome: 'skipped', reason: `a clone of ${DEMO.target} is already running (clone-${DEMO.target}): this refresh is skipped` });
    assert.equal((await stack.client.result(DEMO.target)).outcome, 'done');
    await cli('schedule', 'delete', 'busy-refresh');
  });

  test('backups on a schedule, and bad input refused by name with nothing created', async () => {
    const backup = await cli('schedule', 'create', 'acme-backup', '--backup', DEMO.source, '--cron', '15 1 * * *');
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /backup of acme into its backup archive, cron 15 1 \* \* \* \(UTC\)/);
    const server = await cli('schedule', 'create', 'server-backup', '--server-backup', '--at', '01:00');
    assert.match(server.stdout, /auto backup of the PostgreSQL tenant server, every day at 01:00 UTC/);
    const before = (await list()).map((r) => r.id);

    for (const [args, message] of [
      [['create', 'x', '--refresh', 'acme:acme', '--at', '02:00'], /source and target are the same tenant/],
      [['create', 'Bad_Name', '--backup', 'acme', '--at', '02:00'], /schedule name "Bad_Name" is invalid/],
      [['create', 'x', '--backup', 'acme', '--cron', 'every night'], /cron expression "every night" is invalid/],
      [['create', 'x', '--backup', 'acme', '--at', '25:00'], /time "25:00" is invalid/],
      [['create', 'x', '--backup', 'acme'], /exactly one of --at hh:mm or --cron/],
      [['create', 'x', '--backup', 'acme', '--server-backup', '--at', '02:00'], /exactly one of --refresh/],
      [['pause', 'nosuch'], /there is no schedule nosuch/],
    ] as const) {
      const r = await cli('schedule', ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    await assert.rejects(
      stack.client.putSchedule(
        'pitr',
        { kind: 'refresh', request: { source: 'acme', target: 'acme-sandbox', plan: 'point-in-time', pointInTime: '2026-12-01T00:00:00Z' } },
        { at: { hour: 1, minute: 0 } },
      ),
      (err: unknown) => err instanceof RequestError && /cannot recur/.test(err.message),
    );
    assert.deepEqual(
      (await list()).map((r) => r.id),
      before,
    );
  });
});
