import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeRequest, RequestError } from '../../workflows/request';

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

  test('mail domain is lower-cased and trimmed', () => {
    assert.equal(normalizeRequest({ source: 'acme', target: 'b-sandbox', mailDomain: ' Example.ORG ' }).mailDomain, 'example.org');
  });
});
