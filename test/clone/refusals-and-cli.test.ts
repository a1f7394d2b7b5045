/**
 * Bad input is refused with a message naming it, and nothing is touched; the `tenant-clone`
 * command line drives a real clone and answers with the documented exit codes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { CloneRefusedError, RequestError } from '../../client';
import { DEMO } from '../../stack/seed/demo-world';
import { CLONE_REFUSED } from '../../workflows/messages';
import { cliFor } from '../support/cli';
import { startCloneStack, type CloneStack } from '../support/clone-stack';

describe('refusals and the command line', { timeout: 10 * 60_000 }, () => {
  let stack: CloneStack;

  const cli = cliFor(() => stack);

  /** Everything a refused clone must leave alone: both databases, platform state, archives. */
  const snapshot = async () => ({
    source: await stack.db.checksum('tenant_acme'),
    target: await stack.db.checksum('tenant_acme_sandbox'),
    platform: await Promise.all(
      [DEMO.source, DEMO.target, DEMO.otherCustomer].map(async (t) => {
        const s = await stack.admin.state(t);
        return { tenant: s.tenant, hosting: s.hosting, routes: s.routes, mailboxes: s.mailboxes, users: s.users, events: s.events.length };
      }),
    ),
    templates: await stack.archives.list({ system: 'azure', tenant: DEMO.target, kind: 'templates' }),
  });

  before(async () => {
    stack = await startCloneStack();
    await stack.reseed({ taskDurationMs: 100 });
  });
  after(async () => {
    await stack?.stop();
  });

  test('bad input is refused with a message naming it, and nothing is touched', async () => {
    // Tenants on SQL Server, which this worker has no server for.
    for (const [id, kind] of [
      ['legacy', 'production'],
      ['legacy-sandbox', 'sandbox'],
      ['acme-mssql-sandbox', 'sandbox'],
    ] as const) {
      await stack.admin.putTenant({
        id,
        name: id,
        kind,
        region: 'westeurope',
        directoryTenant: id === 'acme-mssql-sandbox' ? 'acme.example' : 'legacy.example',
        appVersion: '10.4.2',
        capacityMb: 20_000,
        companyName: id,
        serial: 'S-1',
        license: 'L',
        database: { engine: 'mssql', name: id.replace(/-/g, '_') },
        baseUrl: `https://${id}.example-crm.com`,
      });
    }
    const before = await snapshot();
    const cases: [Parameters<CloneStack['client']['start']>[0], new (...a: never[]) => Error, RegExp][] = [
      [{ source: 'acme', target: 'acme' }, RequestError, /same tenant \("acme"\)/],
      [{ source: 'acme', target: 'acme-sandbox', mailDomain: 'not a domain' }, RequestError, /mail domain "not a domain" is invalid/],
      [{ source: 'ACME', target: 'acme-sandbox' }, RequestError, /source tenant id "ACME" is invalid/],
      [{ source: 'nosuch', target: 'acme-sandbox' }, CloneRefusedError, /source tenant nosuch is unknown to the directory/],
      [{ source: 'acme', target: 'nosuch-sandbox' }, CloneRefusedError, /target tenant nosuch-sandbox is unknown/],
      [{ source: 'acme-sandbox', target: 'acme' }, CloneRefusedError, /target acme is a production tenant/],
      [{ source: 'globex', target: 'acme-sandbox' }, CloneRefusedError, /belong to different customers/],
      [{ source: 'acme', target: 'acme-sandbox', targetKind: 'test' }, CloneRefusedError, /acme-sandbox is a sandbox tenant, but the request says test/],
      [
        { source: 'acme', target: 'acme-mssql-sandbox' },
        CloneRefusedError,
        /source acme lives on postgres and target acme-mssql-sandbox on mssql: a clone cannot cross database engines/,
      ],
      [{ source: 'legacy', target: 'legacy-sandbox' }, CloneRefusedError, /live on mssql, which this worker has no server for/],
    ];
    for (const [input, type, message] of cases) {
      await assert.rejects(stack.client.start(input), (err: unknown) => err instanceof type && message.test((err as Error).message), JSON.stringify(input));
    }
    // The workflow checks its input itself too, for callers that bypass the client library.
    const raw = await stack.client.client.workflow.start('cloneTenant', {
      args: [{ source: 'acme', target: 'acme-sandbox', mailDomain: 'user@mailinator.com' }],
      taskQueue: stack.config.TASK_QUEUE,
      workflowId: 'clone-acme-sandbox',
    });
    await assert.rejects(raw.result(), (err: unknown) => {
      const cause = (err as WorkflowFailedError).cause;
      return cause instanceof ApplicationFailure && cause.type === CLONE_REFUSED && /mail domain "user@mailinator.com"/.test(cause.message);
    });
    assert.deepEqual(await snapshot(), before);
  });

  test('the command line: start --wait, status, list, and exit codes 0 / 1 / 2', async () => {
    const bad = await cli('start', 'acme', 'acme');
    assert.equal(bad.code, 2, JSON.stringify(bad));
    assert.match(bad.stderr, /^tenant-clone: source and target are the same tenant/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);

    const refused = await cli('start', 'acme-sandbox', 'acme');
    assert.equal(refused.code, 2, JSON.stringify(refused));
    assert.match(refused.stderr, /production tenant/);

    const unreachable = await cli('--address', '127.0.0.1:1', 'list');
    assert.equal(unreachable.code, 2);
    assert.match(unreachable.stderr, /cannot reach the Temporal server at 127\.0\.0\.1:1/);

    const unknownModule = await cli('start', 'acme', 'acme-sandbox', '--attachments', 'crm,hr');
    assert.equal(unknownModule.code, 2);
    assert.match(unknownModule.stderr, /unknown module "hr"/);

    const run = await cli('start', 'acme', 'acme-sandbox', '--documents', 'all', '--attachments', 'crm,service', '--wait');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /✔ .*scrub-emails/);
    assert.match(run.stdout, /Clone acme → acme-sandbox \(copy\): done/);
    const service = (tenant: string) => stack.archives.list({ system: 'soarc', tenant, kind: 'attachments', prefix: 'service/' });
    assert.deepEqual(await service(DEMO.target), await service(DEMO.source));

    const status = await cli('status', 'acme-sandbox', '--json');
    assert.equal(status.code, 0);
    const progress = JSON.parse(status.stdout);
    assert.equal(progress.outcome, 'done');
    assert.equal(progress.steps.find((s: { id: string }) => s.id === 'clone-documents-azure').status, 'done');

    const list = await cli('list', '--json');
    assert.equal(list.code, 0);
    const rows = JSON.parse(list.stdout) as { target: string; status: string; step: string }[];
    assert.ok(
      rows.some((r) => r.target === 'acme-sandbox' && r.status === 'COMPLETED' && r.step === 'done'),
      list.stdout,
    );

    const notRunning = await cli('cancel', 'acme-sandbox');
    assert.equal(notRunning.code, 2);
    assert.match(notRunning.stderr, /is not running \(it is completed\)/);

    const missing = await cli('status', 'never-cloned');
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /no clone of never-cloned/);

    // A clone that ends cancelled: watch and status exit 1.
    await stack.reseed({ taskDurationMs: 3000 });
    const started = await cli('start', 'acme', 'acme-sandbox');
    assert.equal(started.code, 0, started.stderr);
    const watch = cli('watch', 'acme-sandbox');
    const cancel = await cli('cancel', 'acme-sandbox', '--reason', 'wrong source');
    assert.equal(cancel.code, 0, cancel.stderr);
    const watched = await watch;
    assert.equal(watched.code, 1);
    assert.match(watched.stderr, /clone cancelled: cancelled: wrong source/);
    assert.equal((await cli('status', 'acme-sandbox')).code, 1);
  });
});
