/**
 * Which backups a SQL Server point-in-time restore uses, decided from msdb history rows as the
 * server returns them (local times, time_zone in 15-minute steps, LSNs as text). Pure: no
 * server is needed to check the chain rules; mssql-engine.test.ts runs a real restore.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pointAlreadyReached } from '../../activities/database/mssql/point-in-time';
import { planRestoreChain, toLocalIso, type BackupHistoryRow } from '../../activities/database/mssql/restore-chain';

const GUID = '6f9619ff-8b86-d011-b42d-00c04fc964ff';
const NOW = Date.parse('2026-11-22T12:00:00Z');

let nextId = 1;
/** A backup set on one disk file; times are UTC here and turned into the server's local text. */
function set(
  type: 'D' | 'L',
  firstLsn: bigint,
  lastLsn: bigint,
  startUtc: string,
  finishUtc: string,
  extra: Partial<BackupHistoryRow> & { tzSteps?: number } = {},
): BackupHistoryRow[] {
  const tz = extra.tzSteps ?? 4; // UTC+1
  const local = (iso: string) => toLocalIso(Date.parse(iso), tz * 15);
  const id = nextId++;
  return [
    {
      backup_set_id: id,
      type,
      is_copy_only: false,
      position: 1,
      first_lsn: firstLsn.toString(),
      last_lsn: lastLsn.toString(),
      database_guid: GUID,
      started_local: local(startUtc),
      finished_local: local(finishUtc),
      time_zone: tz,
      recovery_model: 'FULL',
      media_family_count: 1,
      family_sequence_number: 1,
      device_type: 2,
      physical_device_name: `/var/opt/mssql/backup/${type}-${id}.bak`,
      ...extra,
    },
  ];
}

const req = (at: string) => ({ database: 'tenant_acme', at, nowMs: NOW, serverOffsetMin: 60 });

// LSNs bigger than 2^53, as real ones are: a JS number would merge neighbours.
const L = (n: number) => 38000000123450000000n + BigInt(n);

function history(): BackupHistoryRow[] {
  return [
    ...set('D', L(0), L(100), '2026-11-20T00:00:00Z', '2026-11-20T00:10:00Z'),
    ...set('L', L(50), L(200), '2026-11-20T01:00:00Z', '2026-11-20T01:00:05Z'),
    ...set('L', L(200), L(300), '2026-11-20T02:00:00Z', '2026-11-20T02:00:05Z'),
    ...set('D', L(300), L(400), '2026-11-21T00:00:00Z', '2026-11-21T00:10:00Z'),
    ...set('L', L(300), L(500), '2026-11-21T01:00:00Z', '2026-11-21T01:00:05Z'),
    ...set('L', L(500), L(600), '2026-11-21T02:00:00Z', '2026-11-21T02:00:05Z'),
    ...set('L', L(600), L(700), '2026-11-21T03:00:00Z', '2026-11-21T03:00:05Z'),
  ];
}

describe('point-in-time restore chain from msdb history', () => {
  test('the last full backup before the point, then the log chain up to the first log started after it', () => {
    const rows = history();
    const chain = planRestoreChain(rows, req('2026-11-21T01:30:00Z'));
    assert.equal(chain.full.finishedAt, '2026-11-21T00:10:00.000Z');
    assert.deepEqual(
      chain.logs.map((l) => l.startedAt),
      ['2026-11-21T01:00:00.000Z', '2026-11-21T02:00:00.000Z'],
    );
    assert.deepEqual(chain.full.source, { kind: 'disk', path: rows[3].physical_device_name });
    // STOPAT is the server's local time (UTC+1 here), without an offset.
    assert.equal(chain.stopAtLocal, '2026-11-21T02:30:00.000');
    assert.equal(chain.at, '2026-11-21T01:30:00.000Z');
  });

  test('a point before the newer full backup uses the older one and its own chain', () => {
    const chain = planRestoreChain(history(), req('2026-11-20T01:59:00+00:00'));
    assert.equal(chain.full.finishedAt, '2026-11-20T00:10:00.000Z');
    assert.equal(chain.logs.length, 2);
  });

  test('the offset of each backup is its own: a DST change between backups moves STOPAT, not the choice', () => {
    const rows = [
      ...set('D', L(0), L(100), '2026-03-28T00:00:00Z', '2026-03-28T00:10:00Z', { tzSteps: 4 }),
      ...set('L', L(100), L(200), '2026-03-29T06:00:00Z', '2026-03-29T06:00:05Z', { tzSteps: 8 }),
    ];
    const chain = planRestoreChain(rows, { ...req('2026-03-29T05:00:00Z'), nowMs: Date.parse('2026-04-01T00:00:00Z') });
    assert.equal(chain.full.finishedAt, '2026-03-28T00:10:00.000Z');
    assert.equal(chain.stopAtLocal, '2026-03-29T07:00:00.000');
  });

  test('copy-only log backups and logs of another database lineage are left out', () => {
    const rows = [
      ...set('D', L(0), L(100), '2026-11-21T00:00:00Z', '2026-11-21T00:10:00Z'),
      ...set('L', L(100), L(150), '2026-11-21T00:30:00Z', '2026-11-21T00:30:01Z', { is_copy_only: true }),
      ...set('L', L(100), L(160), '2026-11-21T00:40:00Z', '2026-11-21T00:40:01Z', { database_guid: '00000000-0000-0000-0000-000000000001' }),
      ...set('L', L(100), L(200), '2026-11-21T01:00:00Z', '2026-11-21T01:00:05Z'),
    ];
    const chain = planRestoreChain(rows, req('2026-11-21T00:45:00Z'));
    assert.deepEqual(
      chain.logs.map((l) => l.backupSetId),
      [rows[3].backup_set_id],
    );
  });

  test('a copy-only full backup is a valid base for the regular log chain', () => {
    const rows = [
      ...set('D', L(0), L(100), '2026-11-21T00:00:00Z', '2026-11-21T00:10:00Z', { is_copy_only: true }),
      ...set('L', L(50), L(200), '2026-11-21T01:00:00Z', '2026-11-21T01:00:05Z'),
    ];
    assert.equal(planRestoreChain(rows, req('2026-11-21T00:30:00Z')).full.backupSetId, rows[0].backup_set_id);
  });

  test('a striped URL backup becomes one URL list in family order; LSNs beyond 2^53 keep their digits', () => {
    const base = set('D', L(0), L(100), '2026-11-21T00:00:00Z', '2026-11-21T00:10:00Z', { device_type: 9, media_family_count: 2 })[0];
    const rows: BackupHistoryRow[] = [
      { ...base, family_sequence_number: 2, physical_device_name: 'https://a.blob.core.windows.net/b/x-2of2.bak' },
      { ...base, family_sequence_number: 1, physical_device_name: 'https://a.blob.core.windows.net/b/x-1of2.bak' },
      // Ends one LSN after the full backup: it must still be found as the first log.
      ...set('L', L(100), L(101), '2026-11-21T01:00:00Z', '2026-11-21T01:00:05Z'),
    ];
    const chain = planRestoreChain(rows, req('2026-11-21T00:20:00Z'));
    assert.deepEqual(chain.full.source, {
      kind: 'url',
      urls: ['https://a.blob.core.windows.net/b/x-1of2.bak', 'https://a.blob.core.windows.net/b/x-2of2.bak'],
    });
  });

  test('a permanent disk backup device (type 102) is restored from its physical path', () => {
    const rows = [
      ...set('D', L(0), L(100), '2026-11-21T00:00:00Z', '2026-11-21T00:10:00Z', {
        device_type: 102,
        physical_device_name: 'D:\\Backups\\acme_full.bak',
        position: 7,
      }),
      ...set('L', L(100), L(200), '2026-11-21T01:00:00Z', '2026-11-21T01:00:05Z'),
    ];
    const chain = planRestoreChain(rows, req('2026-11-21T00:30:00Z'));
    assert.deepEqual(chain.full.source, { kind: 'disk', path: 'D:\\Backups\\acme_full.bak' });
    assert.equal(chain.full.position, 7);
  });

  test('an unknown time_zone (127) falls back to the server offset', () => {
    const rows = [
      ...set('D', L(0), L(100), '2026-11-21T00:00:00Z', '2026-11-21T00:10:00Z', { tzSteps: 4 }),
      ...set('L', L(100), L(200), '2026-11-21T01:00:00Z', '2026-11-21T01:00:05Z', { tzSteps: 4 }),
    ];
    rows[1].time_zone = 127;
    assert.equal(planRestoreChain(rows, req('2026-11-21T00:30:00Z')).stopAtLocal, '2026-11-21T01:30:00.000');
  });

  describe('refusals name what is missing', () => {
    const cases: [string, () => BackupHistoryRow[], string, RegExp][] = [
      ['no history at all', () => [], '2026-11-21T00:30:00Z', /"tenant_acme" has no full backup/],
      [
        'a point before every full backup',
        history,
        '2026-11-19T12:00:00Z',
        /no full backup of "tenant_acme" finished before 2026-11-19T12:00:00.000Z: the oldest one .* finished 2026-11-20T00:10:00.000Z/,
      ],
      ['a point in the future', history, '2026-11-23T00:00:00Z', /2026-11-23T00:00:00.000Z is in the future/],
      ['not an instant', history, 'yesterday', /invalid point in time "yesterday"/],
      [
        'a point after the newest log backup',
        history,
        '2026-11-21T03:30:00Z',
        /newest log backup of "tenant_acme" started 2026-11-21T03:00:00.000Z, before 2026-11-21T03:30:00.000Z: take a log backup now/,
      ],
      [
        'SIMPLE recovery: no logs',
        () => set('D', L(0), L(100), '2026-11-21T00:00:00Z', '2026-11-21T00:10:00Z', { recovery_model: 'SIMPLE' }),
        '2026-11-21T00:30:00Z',
        /no log backup after its full backup finished 2026-11-21T00:10:00.000Z \(it was in SIMPLE recovery/,
      ],
      [
        'a gap in the log chain',
        () => [
          ...set('D', L(0), L(100), '2026-11-21T00:00:00Z', '2026-11-21T00:10:00Z'),
          ...set('L', L(100), L(200), '2026-11-21T01:00:00Z', '2026-11-21T01:00:05Z'),
          ...set('L', L(250), L(300), '2026-11-21T02:00:00Z', '2026-11-21T02:00:05Z'),
        ],
        '2026-11-21T01:30:00Z',
        /breaks after the log backup started 2026-11-21T01:00:00.000Z: it ends at LSN 38000000123450000200, and the next one starts at LSN 38000000123450000250/,
      ],
      [
        'logs that do not reach back to the full backup',
        () => [
          ...set('D', L(0), L(100), '2026-11-21T00:00:00Z', '2026-11-21T00:10:00Z'),
          ...set('L', L(150), L(200), '2026-11-21T01:00:00Z', '2026-11-21T01:00:05Z'),
        ],
        '2026-11-21T00:30:00Z',
        /does not reach back to its full backup .* \(LSN 38000000123450000100; the oldest later log backup starts at LSN 38000000123450000150\)/,
      ],
      [
        'a backup on a virtual device (third-party tool)',
        () => [
          ...set('D', L(0), L(100), '2026-11-21T00:00:00Z', '2026-11-21T00:10:00Z', { device_type: 7, physical_device_name: '{A1B2}' }),
          ...set('L', L(100), L(200), '2026-11-21T01:00:00Z', '2026-11-21T01:00:05Z'),
        ],
        '2026-11-21T00:30:00Z',
        /device type 7 \("\{A1B2\}"\): only disk and URL backups/,
      ],
      [
        'a striped backup with a family missing from msdb',
        () =>
          set('D', L(0), L(100), '2026-11-21T00:00:00Z', '2026-11-21T00:10:00Z', {
            media_family_count: 3,
            device_type: 9,
            physical_device_name: 'https://a/b/x.bak',
          }).concat(set('L', L(100), L(200), '2026-11-21T01:00:00Z', '2026-11-21T01:00:05Z')),
        '2026-11-21T00:30:00Z',
        /has 3 media families, but msdb lists 1/,
      ],
    ];
    for (const [name, rows, at, expected] of cases) {
      test(name, () => assert.throws(() => planRestoreChain(rows(), req(at)), expected));
    }
  });

  test('an extra last log refused as "too early" (4338, before mssql\'s final 3013) is recognised; other failures are not', () => {
    const wrapped = (cause: unknown) => Object.assign(new Error('restore-log-disk: RESTORE LOG is terminating abnormally.'), { cause });
    const tooEarly = { number: 4338, message: 'The STOPAT clause specifies a point too early to allow this backup set to be restored.' };
    assert.equal(pointAlreadyReached(wrapped({ number: 3013, message: 'RESTORE LOG is terminating abnormally.', precedingErrors: [tooEarly] })), true);
    assert.equal(pointAlreadyReached(wrapped(tooEarly)), true);
    assert.equal(
      pointAlreadyReached(
        wrapped({
          number: 3013,
          message: 'RESTORE LOG is terminating abnormally.',
          precedingErrors: [{ number: 4305, message: 'The log in this backup set begins at LSN 1, which is too late to apply to the database.' }],
        }),
      ),
      false,
    );
    assert.equal(pointAlreadyReached(new Error('network down')), false);
  });
});
