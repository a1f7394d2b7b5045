import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeRequest, RequestError, resolvePointInTime } from '../../workflows/request';

describe('clone request', () => {
  test('defaults follow SPEC §4', () => {
    const r = normalizeRequest({ source: 'acme', target: 'acme-sandbox' });
    assert.deepEqual(r, {
      source: 'acme',
      target: 'acme-sandbox',
      plan: 'copy',
      targetKind: null,
      mailDomain: 'mailinator.com',
      documents: 'none',
      attachmentModules: ['crm', 'project', 'sale'],
      keepScheduledTasks: false,
      enterRunningMode: true,
      pointInTime: null,
      requestedBy: null,
      retainOldDatabaseFor: null,
    });
  });

  const refused: [string, Parameters<typeof normalizeRequest>[0], RegExp][] = [
    ['source = target', { source: 'acme', target: 'acme' }, /same tenant \("acme"\)/],
    ['bad tenant id', { source: 'Acme!', target: 'acme-sandbox' }, /source tenant id "Acme!" is invalid/],
    ['bad target id', { source: 'acme', target: '' }, /target tenant id "" is invalid/],
    ['mail domain with @', { source: 'acme', target: 'b-sandbox', mailDomain: 'user@mailinator.com' }, /mail domain "user@mailinator.com" is invalid/],
    ['mail domain without dot', { source: 'acme', target: 'b-sandbox', mailDomain: 'localhost' }, /mail domain "localhost"/],
    [
      'a public mail provider',
      { source: 'acme', target: 'b-sandbox', mailDomain: 'gmail.com' },
      /mail domain "gmail\.com" is refused: gmail\.com is a public mail provider.*b-sandbox\.invalid/,
    ],
    [
      'a public provider abroad',
      { source: 'acme', target: 'b-sandbox', mailDomain: 'Yahoo.co.UK' },
      /mail domain "yahoo\.co\.uk" is refused: yahoo\.co\.uk is a public mail provider/,
    ],
    ['a provider subdomain', { source: 'acme', target: 'b-sandbox', mailDomain: 'eu.outlook.com' }, /outlook\.com is a public mail provider/],
    ['unknown plan', { source: 'acme', target: 'b-sandbox', plan: 'magic' as never }, /plan "magic" is invalid/],
    ['unknown module', { source: 'acme', target: 'b-sandbox', attachmentModules: ['hr' as never] }, /attachment module "hr"/],
    ['point in time on copy', { source: 'acme', target: 'b-sandbox', pointInTime: '2026-01-01T00:00:00Z' }, /only the point-in-time plan/],
    ['point-in-time without instant', { source: 'acme', target: 'b-sandbox', plan: 'point-in-time' }, /point in time undefined/],
    [
      'a point in time without its offset',
      { source: 'acme', target: 'b-sandbox', plan: 'point-in-time', pointInTime: '2026-12-01T09:30:00' },
      /point in time "2026-12-01T09:30:00" is invalid: .*with its offset/,
    ],
    [
      'a point in time that is not a time',
      { source: 'acme', target: 'b-sandbox', plan: 'point-in-time', pointInTime: 'yesterday' },
      /point in time "yesterday"/,
    ],
    [
      'kept scheduled tasks on the point-in-time plan',
      { source: 'acme', target: 'b-sandbox', plan: 'point-in-time', pointInTime: '2026-12-01T09:30:00Z', keepScheduledTasks: true },
      /point-in-time plan withholds every batch job/,
    ],
    [
      'documents on the point-in-time plan',
      { source: 'acme', target: 'b-sandbox', plan: 'point-in-time', pointInTime: '2026-12-01T09:30:00Z', documents: 'all' },
      /documents "all" was asked for, but the point-in-time plan copies nothing from blob storage/,
    ],
    [
      'attachments on the point-in-time plan',
      { source: 'acme', target: 'b-sandbox', plan: 'point-in-time', pointInTime: '2026-12-01T09:30:00Z', attachmentModules: ['service'] },
      /attachment modules service were asked for/,
    ],
    ['bad requester', { source: 'acme', target: 'b-sandbox', requestedBy: 'not-an-address' }, /requested-by "not-an-address"/],
    ['bad retention', { source: 'acme', target: 'b-sandbox', retainOldDatabaseFor: '2 weeks' }, /retention "2 weeks" is invalid/],
    ['retention over 30 days', { source: 'acme', target: 'b-sandbox', retainOldDatabaseFor: '31d' }, /retention "31d" is invalid/],
  ];
  for (const [name, input, message] of refused) {
    test(`refuses ${name}, naming the value`, () => {
      assert.throws(
        () => normalizeRequest(input),
        (err: unknown) => err instanceof RequestError && message.test(err.message),
      );
    });
  }

  test('a point in time is kept as a UTC instant, and the point-in-time plan copies no attachments', () => {
    const r = normalizeRequest({ source: 'acme', target: 'b-sandbox', plan: 'point-in-time', pointInTime: '2026-12-01T10:30:00.250+01:00' });
    assert.equal(r.pointInTime, '2026-12-01T09:30:00.250Z');
    assert.deepEqual(r.attachmentModules, []);
  });

  test('the command line resolves "2h ago" against its own clock, and refuses what it cannot read by name', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    assert.equal(resolvePointInTime('2h ago', now), '2026-12-07T10:00:00.000Z');
    assert.equal(resolvePointInTime('90m ago', now), '2026-12-07T10:30:00.000Z');
    assert.equal(resolvePointInTime('2026-12-01T09:30:00+01:00', now), '2026-12-01T08:30:00.000Z');
    assert.throws(() => resolvePointInTime('two hours ago', now), /point in time "two hours ago" is invalid/);
    assert.throws(() => resolvePointInTime('40d ago', now), /at most 30d/);
  });

  test('mail domain is lower-cased and trimmed', () => {
    assert.equal(normalizeRequest({ source: 'acme', target: 'b-sandbox', mailDomain: ' Example.ORG ' }).mailDomain, 'example.org');
  });
});
