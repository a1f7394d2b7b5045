/**
 * Encrypted payloads on real services: a clone run by a worker and a client with keys leaves no
 * clear-text payload in the server's history (read raw, without the codec); the codec server
 * lets the real `temporal` CLI show it decoded, answers CORS for the Web UI's origin only, and
 * can require a bearer token; a key rotated in the middle of a clone leaves it readable to
 * clients that list both keys and to no one else.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { temporal } from '@temporalio/proto';
import { PayloadKeyError, TenantCloneClient } from '../../client';
import { startCodecServer, type RunningCodecServer } from '../../client/codec-server';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, newPayloadKey } from '../../client/payload-codec';
import { DEMO } from '../../stack/seed/demo-world';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { waitForStep } from '../support/progress';
import { temporalCliPath } from '../support/temporal';

const K1 = newPayloadKey('k1');
const K2 = newPayloadKey('k2');
const WEB_UI = 'http://localhost:8233';
const TOKEN = 'codec-test-token';

interface FoundPayload {
  path: string;
  encoding: string;
  keyId: string | null;
  data: Buffer;
}

/** Every payload in a raw history, wherever it sits, with where it was found. */
function payloadsOf(history: temporal.api.history.v1.IHistory): FoundPayload[] {
  const found: FoundPayload[] = [];
  const walk = (node: unknown, path: string) => {
    if (!node || typeof node !== 'object' || node instanceof Uint8Array) return;
    const o = node as Record<string, unknown>;
    const metadata = o.metadata as Record<string, Uint8Array> | undefined;
    if (metadata && typeof metadata === 'object' && metadata.encoding instanceof Uint8Array) {
      const text = (b?: Uint8Array) => (b ? Buffer.from(b).toString('utf8') : null);
      found.push({ path, encoding: text(metadata.encoding)!, keyId: text(metadata[KEY_ID_METADATA]), data: Buffer.from((o.data as Uint8Array) ?? []) });
      return;
    }
    for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`);
  };
  (history.events ?? []).forEach((e, i) => walk(e, `event ${i + 1}`));
  return found;
}

describe('encrypted payloads', { timeout: 15 * 60_000 }, () => {
  let stack: CloneStack;
  let codecServer: RunningCodecServer;

  before(async () => {
    // The client lists both keys from the start (k1 encrypts): a rotation adds a key everywhere
    // before anyone encrypts with it.
    stack = await startCloneStack({ env: { PAYLOAD_ENCRYPTION_KEYS: `${K1},${K2}`, PAYLOAD_ENCRYPTION_KEY_ID: 'k1' } });
    codecServer = await startCodecServer({ codec: AesGcmPayloadCodec.fromSettings(`${K1},${K2}`), origins: [WEB_UI], token: TOKEN });
  });
  after(async () => {
    await codecServer?.close();
    await stack?.stop();
  });

  test('a clone leaves no clear-text payload in the history; the temporal CLI shows it decoded through the codec server', async () => {
    await stack.reseed({ taskDurationMs: 100 });
    await stack.client.start({ source: DEMO.source, target: DEMO.target, requestedBy: 'ops@acme.example' });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));

    const raw = await stack.client.handle(DEMO.target).fetchHistory();
    const payloads = payloadsOf(raw);
    // Search attributes stay in clear by design: the Web UI and `list` filter on them. So do the
    // SDK core's own patch markers, which hold only the name of a patch() in the workflow code.
    const patchMarkers = payloads.filter((p) => p.path.endsWith('details.patch-data.payloads.0'));
    for (const m of patchMarkers) assert.match(m.data.toString(), /^\{"id":"[a-z0-9:-]+","deprecated":(true|false)\}$/, m.path);
    const sealed = payloads.filter((p) => !p.path.includes('searchAttributes') && !patchMarkers.includes(p));
    assert.ok(sealed.length > 100, `${sealed.length} payloads found`);
    const clear = sealed.filter((p) => p.encoding !== ENCRYPTED_ENCODING || p.keyId !== 'k1');
    assert.deepEqual(
      clear.map((p) => `${p.path}: ${p.encoding}`),
      [],
    );
    for (const word of ['acme-sandbox', 'tenant_acme', 'ops@acme.example', 'Acme Corporation']) {
      assert.ok(!sealed.some((p) => p.data.includes(word)), `${word} in clear in a payload`);
    }
    // Failure texts are encoded too (a refusal names tenants): none reads in clear.
    assert.ok(!JSON.stringify(raw).includes('acme-sandbox is offline'), 'a step note in clear');

    const cli = (...args: string[]) =>
      promisify(execFile)(
        temporalCliPath(),
        ['workflow', 'show', '--workflow-id', `clone-${DEMO.target}`, '--address', stack.env.address, '--output', 'json', ...args],
        {
          maxBuffer: 64 * 1024 * 1024,
        },
      );
    // The CLI prints proto JSON: metadata and data in base64.
    const input = async (...args: string[]) => {
      const shown = JSON.parse((await cli(...args)).stdout) as {
        events: { workflowExecutionStartedEventAttributes: { input: { payloads: { metadata: { encoding: string }; data: string }[] } } }[];
      };
      const [payload] = shown.events[0].workflowExecutionStartedEventAttributes.input.payloads;
      return { encoding: Buffer.from(payload.metadata.encoding, 'base64').toString(), data: Buffer.from(payload.data, 'base64').toString() };
    };
    const decoded = await input('--codec-endpoint', codecServer.url, '--codec-auth', `Bearer ${TOKEN}`);
    assert.equal(decoded.encoding, 'json/plain');
    assert.equal((JSON.parse(decoded.data) as { target: string }).target, 'acme-sandbox');
    const sealedView = await input();
    assert.equal(sealedView.encoding, ENCRYPTED_ENCODING);
    assert.ok(!sealedView.data.includes('acme-sandbox'));
  });

  test('the codec server answers CORS for the Web UI origin only, and wants its token', async () => {
    const [payload] = await AesGcmPayloadCodec.fromSettings(K1).encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"acme"') }]);
    const body = JSON.stringify({
      payloads: [
        {
          metadata: { encoding: Buffer.from(payload.metadata!.encoding!).toString('base64'), [KEY_ID_METADATA]: Buffer.from('k1').toString('base64') },
          data: Buffer.from(payload.data!).toString('base64'),
        },
      ],
    });
    const preflight = await fetch(`${codecServer.url}/decode`, { method: 'OPTIONS', headers: { Origin: WEB_UI, 'Access-Control-Request-Method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), WEB_UI);
    const foreign = await fetch(`${codecServer.url}/decode`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    const anonymous = await fetch(`${codecServer.url}/decode`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(anonymous.status, 401);
    const ok = await fetch(`${codecServer.url}/decode`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}`, Origin: WEB_UI },
    });
    assert.equal(ok.status, 200);
    const out = (await ok.json()) as { payloads: { data: string }[] };
    assert.equal(Buffer.from(out.payloads[0].data, 'base64').toString(), '"acme"');
  });

  test('a key rotated in the middle of a clone: it completes, its history holds both keys, and a client without the new key cannot read it', async () => {
    await stack.reseed({ persons: 5000, taskDurationMs: 1500 });
    await stack.client.start({ source: DEMO.source, target: DEMO.target });
    await waitForStep(stack, 'enter-maintenance');
    await stack.restartWorker({ PAYLOAD_ENCRYPTION_KEY_ID: 'k2' });
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    const keys = new Set(
      payloadsOf(await stack.client.handle(DEMO.target).fetchHistory())
        .map((p) => p.keyId)
        .filter(Boolean),
    );
    assert.deepEqual([...keys].sort(), ['k1', 'k2']);

    const behind = await TenantCloneClient.connect({
      env: { TEMPORAL_ADDRESS: stack.env.address, PAYLOAD_ENCRYPTION_KEYS: K1 },
      taskQueue: stack.config.TASK_QUEUE,
    });
    try {
      await assert.rejects(behind.result(DEMO.target), (err: unknown) =>
        /sealed with key "k2", which PAYLOAD_ENCRYPTION_KEYS does not list/.test(
          String((err as Error)?.message ?? err) + String((err as { cause?: Error }).cause?.message),
        ),
      );
    } finally {
      await behind.close();
    }
    // Back to the first key for whatever runs next in this process.
    await stack.restartWorker();
  });

  test('bad keys are refused by name, never with their value', () => {
    assert.throws(
      () => AesGcmPayloadCodec.fromSettings('k1:c2hvcnQ='),
      (err: unknown) => err instanceof PayloadKeyError && /key k1 is not 32 bytes/.test(err.message) && !err.message.includes('c2hvcnQ'),
    );
    assert.throws(() => AesGcmPayloadCodec.fromSettings(K1, 'k9'), /PAYLOAD_ENCRYPTION_KEY_ID k9 is not among the keys of PAYLOAD_ENCRYPTION_KEYS \(k1\)/);
    assert.throws(() => AesGcmPayloadCodec.fromSettings(`${K1},${K1}`), /lists key k1 twice/);
  });
});
