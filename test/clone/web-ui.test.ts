/**
 * The Temporal Web UI, in Debian's Chromium: an operator opening a running clone sees its
 * static summary, the current details with the running step, the running activity's percent
 * (its heartbeat), the clone's search attributes and, through the codec server, its input in
 * clear, although every payload in the history is encrypted.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startCodecServer, type RunningCodecServer } from '../../client/codec-server';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, newPayloadKey } from '../../client/payload-codec';
import { DEMO } from '../../stack/seed/demo-world';
import { freePort } from '../../stack/services/process';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { waitForStep } from '../support/progress';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const KEY = newPayloadKey('ui');
// Where a failing run leaves its screenshots, for whoever reads the CI log.
const SHOTS = path.join(__dirname, '..', '..', '.stack', 'web-ui-test');

/** The visible text of the page and of its frames (the UI renders markdown in frames). */
async function visibleText(page: Page): Promise<string> {
  const texts = await Promise.all(
    page.frames().map((f) =>
      f
        .locator('body')
        .innerText()
        .catch(() => ''),
    ),
  );
  return texts.join('\n');
}

/** Open a tab of the run and wait until it shows every one of `wanted` (the UI loads in pieces). */
async function tabShowing(page: Page, url: string, wanted: (string | RegExp)[]): Promise<string> {
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  const tab = url.slice(url.lastIndexOf('/') + 1);
  const until = Date.now() + 30_000;
  for (;;) {
    const text = await visibleText(page);
    const missing = wanted.filter((w) => (typeof w === 'string' ? !text.includes(w) : !w.test(text)));
    if (missing.length === 0) return text;
    if (Date.now() > until) {
      mkdirSync(SHOTS, { recursive: true });
      const shot = path.join(SHOTS, `${tab}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      assert.fail(`${tab}: the page never showed ${missing.map(String).join(', ')} (screenshot ${shot}); it showed:\n${text.slice(0, 6000)}`);
    }
    await page.waitForTimeout(250);
  }
}

describe('the Web UI, in Chromium', { timeout: 10 * 60_000 }, () => {
  let stack: CloneStack;
  let codecServer: RunningCodecServer;
  let browser: Browser;
  let ui: string;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium (test/run.sh does it as root), or set CHROMIUM_PATH`);
    const uiPort = await freePort();
    ui = `http://127.0.0.1:${uiPort}`;
    codecServer = await startCodecServer({ codec: AesGcmPayloadCodec.fromSettings(KEY), origins: [ui] });
    stack = await startCloneStack({
      webUi: { port: uiPort, codecEndpoint: codecServer.url },
      // One blob at a time: the document copy runs long enough to be looked at.
      env: { PAYLOAD_ENCRYPTION_KEYS: KEY, ARCHIVE_COPY_CONCURRENCY: '1' },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Root in a container has no user namespace for Chromium's sandbox; nothing here is untrusted.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    await codecServer?.close();
  });

  test('a running clone: static summary, current details with the running step, its percent, search attributes and decoded input', async () => {
    await stack.reseed({ documents: 1500, taskDurationMs: 100 });
    await stack.client.start({ source: DEMO.source, target: DEMO.target, requestedBy: 'ops@acme.example', documents: 'all' });
    await waitForStep(stack, 'clone-documents-azure');
    // Every payload is sealed: what the page shows in clear comes through the codec server.
    const started = (await stack.client.handle(DEMO.target).fetchHistory()).events![0].workflowExecutionStartedEventAttributes!;
    assert.equal(Buffer.from(started.input!.payloads![0].metadata!.encoding!).toString(), ENCRYPTED_ENCODING);

    const page = await browser.newPage({ viewport: { width: 1400, height: 2000 } });
    try {
      const { runId } = await stack.client.handle(DEMO.target).describe();
      const run = `${ui}/namespaces/default/workflows/clone-${DEMO.target}/${runId}`;

      const history = await tabShowing(page, `${run}/history`, ['Running', 'cloneTenant', '"requestedBy": "ops@acme.example"']);
      assert.match(history, /"target": "acme-sandbox",\s*"plan": "copy"/, 'the decoded input');

      const metadata = await tabShowing(page, `${run}/user-metadata`, [
        'Clone acme → acme-sandbox (copy)',
        /mail domain: @mailinator\.com\n/,
        /acme → acme-sandbox \(copy\): \d+\s*\S\s*36 steps done/,
        /Step \d+\s*\S\s*36\s+clone-documents-azure: Clone Azure documents \(optional\)/,
      ]);
      assert.match(metadata, /requested by: ops@acme\.example/);

      const pending = await tabShowing(page, `${run}/pending-activities`, ['cloneDocumentsAzure', '"stepId": "clone-documents-azure"', /"percent": \d+/]);
      const percent = Number(/"percent": (\d+)/.exec(pending)![1]);
      assert.ok(percent >= 0 && percent < 100, `percent ${percent}`);
      assert.match(pending, /"detail": "\d+\/1500 blobs done/);

      await tabShowing(page, `${run}/search-attributes`, [
        '"ClonePlan": "copy"',
        '"CloneSource": "acme"',
        '"CloneTarget": "acme-sandbox"',
        '"CloneStep": "clone-documents-azure"',
      ]);
    } finally {
      await page.close();
    }
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
  });
});
