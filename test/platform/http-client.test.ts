import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpDirectory } from '../../activities/platform/directory';
import { HttpHosting } from '../../activities/platform/hosting';
import { JsonHttpClient, PlatformHttpError } from '../../activities/platform/http-client';
import { startTestEmulator, type TestEmulator } from '../support/emulator';
import { closedPort, rejection, seed } from './fixtures';

/**
 * A real HTTP server that misbehaves the ways a platform or a proxy in front of it can:
 * slow answers, HTML error pages, server faults, answers that break the contract.
 */
function misbehavingServer(): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const path = req.url ?? '';
    if (path.includes('/slow/')) {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 2_000).unref();
    } else if (path.includes('/html404/')) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>');
    } else if (path.includes('/fault/')) {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'hosting controller is restarting' }));
    } else if (path.includes('/broken/')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ mode: 'offline', clusters: [], runningTasks: -1 }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `unknown tenant "${path}"`, code: 'unknown_tenant' }));
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server })),
  );
}

describe('JsonHttpClient', () => {
  let odd: Awaited<ReturnType<typeof misbehavingServer>>;
  let emulator: TestEmulator;

  before(async () => {
    odd = await misbehavingServer();
    emulator = await startTestEmulator();
    await emulator.admin.putTenant(seed('acme'));
  });
  after(async () => {
    odd.server.closeAllConnections();
    await new Promise((resolve) => odd.server.close(resolve));
    await emulator.close();
  });

  test('a slow answer times out per request, naming method, URL and the timeout', async () => {
    const hosting = new HttpHosting(`${odd.url}/slow`, { timeoutMs: 200 });
    const started = Date.now();
    const err = await rejection(hosting.getState('acme'));
    assert.ok(Date.now() - started < 1_500, 'gave up near the timeout, not when the server answered');
    assert.ok(err instanceof PlatformHttpError);
    assert.equal(err.status, 0);
    assert.equal(err.retryable, true);
    assert.equal(err.message, `GET ${odd.url}/slow/hosting/tenants/acme timed out after 200 ms`);
  });

  test('no server at all is reported with the cause, as retryable', async () => {
    const port = await closedPort();
    const err = await rejection(new HttpDirectory(`http://127.0.0.1:${port}`).getTenant('acme'));
    assert.ok(err instanceof PlatformHttpError);
    assert.equal(err.retryable, true);
    assert.match(err.message, new RegExp(`^GET http://127\\.0\\.0\\.1:${port}/directory/tenants/acme failed: ECONNREFUSED`));
  });

  test("a server fault names method, URL, status and the server's error text", async () => {
    const err = await rejection(new HttpHosting(`${odd.url}/fault`).setMode('acme', 'maintenance'));
    assert.ok(err instanceof PlatformHttpError);
    assert.equal(err.status, 503);
    assert.equal(err.retryable, true);
    assert.equal(err.serverError, 'hosting controller is restarting');
    assert.equal(err.message, `PUT ${odd.url}/fault/hosting/tenants/acme/mode answered 503 Service Unavailable: hosting controller is restarting`);
  });

  test('only the contract\'s 404 means "unknown tenant": an HTML 404 or a wrong base path fails loudly', async () => {
    assert.equal(await new HttpDirectory(odd.url).getTenant('acme'), null);

    const html = await rejection(new HttpDirectory(`${odd.url}/html404`).getTenant('acme'));
    assert.match(html.message, /answered 404 Not Found: <html>/);

    const wrongBase = await rejection(new HttpDirectory(`${emulator.url}/v2`).getTenant('acme'));
    assert.ok(wrongBase instanceof PlatformHttpError);
    assert.equal(wrongBase.code, 'no_route');
    assert.match(wrongBase.message, /no route for GET \/v2\/directory\/tenants\/acme/);
    assert.equal((await new HttpDirectory(emulator.url).getTenant('acme'))?.id, 'acme');
  });

  test('an answer that breaks the contract is an error naming the bad fields', async () => {
    const err = await rejection(new HttpHosting(`${odd.url}/broken`).getState('acme'));
    assert.match(err.message, /breaks the contract/);
    assert.match(err.message, /field "mode"/);
    assert.match(err.message, /field "runningTasks"/);
    assert.match(err.message, /field "lastQueuedTask"/);
  });

  test('a base URL path prefix is kept and ids are percent-encoded as one segment', async () => {
    odd.requests.length = 0;
    await new HttpDirectory(`${odd.url}/platform/`).getTenant('a/b c');
    assert.deepEqual(odd.requests, ['GET /platform/directory/tenants/a%2Fb%20c']);
  });

  test('bad configuration and empty ids are refused before any request', () => {
    assert.throws(() => new JsonHttpClient('not a url'), /platform base URL "not a url" is not a valid URL/);
    assert.throws(() => new JsonHttpClient('ftp://x'), /must be http or https/);
    assert.throws(() => new JsonHttpClient('http://x', { timeoutMs: 0 }), /timeout 0 must be a positive/);
    return assert.rejects(new HttpDirectory(odd.url).setState('', 'Normal'), /tenant id must be a non-empty string, got ""/);
  });
});
