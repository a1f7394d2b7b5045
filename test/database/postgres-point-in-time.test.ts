/**
 * Point-in-time restore on PostgreSQL, for real: a tenant server archiving its WAL with
 * pgBackRest into Azurite over HTTPS. One database is restored as it was at a noted second
 * into another, through a scratch server that is always removed; what the backups cannot reach
 * is refused by name, with nothing touched.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { PostgresTenantDatabase } from '../../activities/database/postgres/engine';
import { postgresEngine } from '../../worker/postgres';
import { startTestArchivingServer, type TestArchivingServer } from '../support/archiving-postgres';
import { queryDb } from '../support/postgres';

const SOURCE = 'pitr_source';
const TARGET = 'pitr_target';
const OTHER = 'pitr_other_tenant';

/** The server's clock, after a commit: what a user would note as "now". */
async function serverNow(server: TestArchivingServer): Promise<string> {
  const [{ now }] = await queryDb<{ now: Date }>(server.url, 'postgres', 'SELECT clock_timestamp() AS now');
  return now.toISOString();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rows(server: TestArchivingServer, db: string) {
  return queryDb<{ n: string; ids: string }>(server.url, db, `SELECT count(*)::text AS n, coalesce(string_agg(id::text, ',' ORDER BY id), '') AS ids FROM t`);
}

describe('point-in-time restore on PostgreSQL (pgBackRest)', { timeout: 10 * 60_000 }, () => {
  let server: TestArchivingServer;
  let engine: PostgresTenantDatabase;
  /** Before the source database existed, and once it held its first rows: both after the first full backup. */
  let beforeSource: string;
  let firstRows: string;

  before(async () => {
    server = await startTestArchivingServer();
    engine = await postgresEngine(server.config());
    await queryDb(server.url, 'postgres', `CREATE DATABASE ${TARGET}`);
    // The first full backup ended moments ago: a point a second after its end is restorable.
    await sleep(1500);
    beforeSource = await serverNow(server);
    await sleep(1100);
    await queryDb(server.url, 'postgres', `CREATE DATABASE ${SOURCE}`);
    await queryDb(server.url, SOURCE, 'CREATE TABLE t (id int PRIMARY KEY, note text)');
    await queryDb(server.url, SOURCE, `INSERT INTO t SELECT i, 'seed ' || i FROM generate_series(-5, -1) i`);
    await sleep(1100);
    firstRows = await serverNow(server);
    await sleep(1100);
  });
  after(async () => {
    await engine?.close();
    await server?.stop();
  });

  test('a point before the oldest restorable point is refused by name, and nothing is touched', async () => {
    const early = await engine.pointInTimeCoverage(SOURCE, '2020-01-01T00:00:00Z');
    assert.match(
      early.reachable ? '' : early.reason,
      /point in time 2020-01-01T00:00:00Z is before the oldest restorable point, \S+ \(the end of backup set \S+F\)/,
    );
    const sets = await engine.continuousBackup!.list();
    await assert.rejects(engine.restoreToPointInTime(SOURCE, TARGET, '2020-01-01T00:00:00Z'), /before the oldest restorable point/);
    assert.deepEqual(await engine.continuousBackup!.list(), sets);
    assert.deepEqual(await queryDb(server.url, TARGET, `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace`), [{ n: 0 }]);
  });

  test('a database newer than its backup set is restored from the whole server; a point before it existed fails by name', async () => {
    const coverage = await engine.pointInTimeCoverage(SOURCE, firstRows);
    assert.match(
      coverage.reachable ? coverage.detail : coverage.reason,
      new RegExp(`from full backup set \\S+F .*; ${SOURCE} is newer than that backup, so the whole server is restored for it`),
    );
    const r = await engine.restoreToPointInTime(SOURCE, TARGET, firstRows, { jobs: 2 });
    assert.match(r.detail, /the whole server is restored/);
    assert.deepEqual(await rows(server, TARGET), [{ n: '5', ids: '-5,-4,-3,-2,-1' }]);
    await assert.rejects(
      engine.restoreToPointInTime(SOURCE, TARGET, beforeSource),
      new RegExp(`database ${SOURCE} did not exist at ${beforeSource}: it was created after that point`),
    );
    assert.deepEqual(await readdir(server.scratchDir), [], 'no scratch server or folder is left');
  });

  test('restores exactly the rows of a noted second, from a differential backup and the archived WAL; the source is untouched and no scratch server is left', async () => {
    // Another tenant's table, vacuumed only after the backup: its all-visible marks are logged
    // without page images, so WAL replay meets that tenant's pages, which a restore of SOURCE
    // alone leaves zeroed.
    await queryDb(server.url, 'postgres', `CREATE DATABASE ${OTHER}`);
    await queryDb(server.url, OTHER, `CREATE TABLE o (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = off)`);
    await queryDb(server.url, OTHER, `INSERT INTO o SELECT i, repeat('x', 100) FROM generate_series(1, 5000) i`);
    const diff = await engine.continuousBackup!.take('diff');
    assert.equal(diff.type, 'diff');
    await queryDb(server.url, OTHER, 'VACUUM o');
    await queryDb(server.url, SOURCE, `DELETE FROM t`);
    await queryDb(server.url, SOURCE, `INSERT INTO t SELECT i, 'first ' || i FROM generate_series(1, 100) i`);
    await sleep(1100);
    const at = await serverNow(server);
    await sleep(1100);
    await queryDb(server.url, SOURCE, `INSERT INTO t SELECT i, 'later ' || i FROM generate_series(101, 150) i`);
    await queryDb(server.url, SOURCE, `DELETE FROM t WHERE id <= 10`);
    await queryDb(server.url, SOURCE, `UPDATE t SET note = 'changed' WHERE id = 50`);
    const sourceBefore = await rows(server, SOURCE);

    const coverage = await engine.pointInTimeCoverage(SOURCE, at);
    assert.deepEqual(coverage, {
      reachable: true,
      detail: `from diff backup set ${diff.label} (ended ${diff.stoppedAt.replace('.000Z', 'Z')}) and the archived write-ahead log`,
    });
    const progress: number[] = [];
    const r = await engine.restoreToPointInTime(SOURCE, TARGET, at, { jobs: 2, onProgress: (p) => progress.push(p.percent) });
    assert.match(r.detail, new RegExp(`^${SOURCE} as of ${at}, from diff backup set ${diff.label}`));
    assert.match(r.detail, /the replay passed over [1-9]\d* relations of other tenants' databases, which are not restored$/);
    assert.equal(r.tables, 1);

    const restored = await queryDb<{ n: string; min: number; max: number; notes: string }>(
      server.url,
      TARGET,
      `SELECT count(*)::text AS n, min(id) AS min, max(id) AS max, count(*) FILTER (WHERE note = 'first ' || id)::text AS notes FROM t`,
    );
    assert.deepEqual(restored, [{ n: '100', min: 1, max: 100, notes: '100' }]);
    assert.deepEqual(await rows(server, SOURCE), sourceBefore, 'the source is as it was');
    assert.equal(sourceBefore[0].n, '140');
    assert.ok(progress.length > 3 && progress.at(-1) === 100, `progress ${progress.join(',')}`);
    assert.deepEqual(await readdir(server.scratchDir), [], 'no scratch server or folder is left');
  });

  test('a point in time again, into a target that already holds a restore: replaced, not merged', async () => {
    await sleep(1100);
    const at = await serverNow(server);
    await engine.restoreToPointInTime(SOURCE, TARGET, at, { jobs: 2 });
    assert.deepEqual(await rows(server, TARGET), await rows(server, SOURCE));
    assert.deepEqual(await readdir(server.scratchDir), []);
  });
});
