/**
 * Worker, client library and command line take their connection the Temporal way
 * (@temporalio/envconfig): here a dev server behind TLS that requires a client certificate,
 * with a certificate authority the test makes. Over it the worker runs a workflow and its
 * activity for the client; without a client certificate, or with one of another authority,
 * nothing connects; the command line reaches it through a profile of a TOML file; bad settings
 * are refused by name before anything connects.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ServerUnreachableError, TemporalSettingsError, TenantCloneClient } from '../../client';
import { temporalTarget } from '../../client/connection';
import { AZURITE_ACCOUNT, AZURITE_KEY, azuriteConnectionString } from '../../stack/services/azurite-accounts';
import { makeCertificateAuthority, type LocalCertificate } from '../../stack/services/tls-certificate';
import { startWorker, type RunningWorker } from '../../worker/build';
import { loadConfig } from '../../worker/config';
import { SERVER_BACKUP_REFUSED } from '../../workflows/backup-server';
import { sendSdkLogsToFile } from '../support/logs';
import { adminUrl } from '../support/postgres';
import { startTemporal } from '../support/temporal';
import { startTlsFront, type TlsFront } from '../support/tls-front';

const TASK_QUEUE = 'tenant-clone-tls';
const CLI = path.join(__dirname, '..', '..', 'bin', 'tenant-clone');

describe('the connection to Temporal (envconfig): TLS with a client certificate', { timeout: 5 * 60_000 }, () => {
  let server: TestWorkflowEnvironment;
  let front: TlsFront;
  let dir: string;
  let ca: string;
  let client: LocalCertificate;
  let stranger: LocalCertificate;
  let worker: RunningWorker;

  const tlsEnv = (cert?: LocalCertificate) => ({
    TEMPORAL_ADDRESS: front.address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
    ...(cert ? { TEMPORAL_TLS_CLIENT_CERT_PATH: cert.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: cert.key } : { TEMPORAL_TLS: 'true' }),
  });

  before(async () => {
    sendSdkLogsToFile();
    dir = mkdtempSync(path.join(tmpdir(), 'tc-tls-'));
    const authority = await makeCertificateAuthority(dir, 'tenant-clone test CA');
    const other = await makeCertificateAuthority(dir, 'another CA');
    ca = authority.cert;
    const serverCert = await authority.issue('temporal-frontend', 'server');
    client = await authority.issue('tenant-clone-worker', 'client');
    stranger = await other.issue('stranger', 'client');
    server = await startTemporal();
    front = await startTlsFront({ upstream: server.connection.options.address, server: serverCert, clientCa: ca });
    const archive = azuriteConnectionString(1, AZURITE_ACCOUNT, AZURITE_KEY);
    const config = loadConfig({
      ...tlsEnv(client),
      TASK_QUEUE,
      TENANT_DB_URL: adminUrl(),
      TENANT_LOGIN_PASSWORD: 'test-login-password-123',
      PLATFORM_URL: 'http://127.0.0.1:1',
      WEBHOOK_SIGNING_SECRET: 'not-used-in-this-suite',
      ARCHIVE_AZURE_CONNECTION: archive,
      ARCHIVE_SOARC_CONNECTION: archive,
    });
    worker = await startWorker(config);
  });
  after(async () => {
    await worker?.shutdown();
    await front?.close();
    await server?.teardown();
  });

  test('the worker polls over TLS with its client certificate, and runs a workflow and its activity for a client that connects the same way', async () => {
    assert.match(worker.temporal, /^localhost:\d+, namespace default \(TLS with a client certificate\)$/);
    const c = await TenantCloneClient.connect({ env: tlsEnv(client), taskQueue: TASK_QUEUE });
    try {
      // No stanza is configured, so the backup activity refuses: a refusal only the worker's activity can make.
      const run = c.client.workflow.execute('backupServer', { args: [{ type: 'full' }], taskQueue: TASK_QUEUE, workflowId: 'backup-server-postgres' });
      await assert.rejects(run, (err: unknown) => {
        const cause = (err as WorkflowFailedError).cause?.cause;
        return (
          err instanceof WorkflowFailedError &&
          cause instanceof ApplicationFailure &&
          cause.type === SERVER_BACKUP_REFUSED &&
          /PGBACKREST_STANZA/.test(cause.message)
        );
      });
    } finally {
      await c.close();
    }
  });

  test('without a client certificate, or with one another authority signed, nothing connects', async () => {
    const refusedBefore = front.refused;
    await assert.rejects(TenantCloneClient.connect({ env: tlsEnv() }), ServerUnreachableError);
    await assert.rejects(TenantCloneClient.connect({ env: tlsEnv(stranger) }), ServerUnreachableError);
    // Plaintext to a TLS port does not get through either.
    await assert.rejects(TenantCloneClient.connect({ env: { TEMPORAL_ADDRESS: front.address } }), ServerUnreachableError);
    assert.ok(front.refused >= refusedBefore + 2, `the front refused ${front.refused - refusedBefore} handshakes`);
  });

  test('the command line reaches it through a profile of a TOML file', async () => {
    const toml = path.join(dir, 'temporal.toml');
    writeFileSync(
      toml,
      [
        '[profile.secure]',
        `address = "${front.address}"`,
        '[profile.secure.tls]',
        `client_cert_path = "${client.cert}"`,
        `client_key_path = "${client.key}"`,
        `server_ca_cert_path = "${ca}"`,
        '',
      ].join('\n'),
    );
    const run = (...args: string[]) =>
      promisify(execFile)(CLI, args, { env: { PATH: process.env.PATH, HOME: dir, TEMPORAL_CONFIG_FILE: toml, TASK_QUEUE } }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const ok = await run('--profile', 'secure', 'list');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /no clones yet/);
    const unknown = await run('--profile', 'staging', 'list');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^tenant-clone: Temporal connection settings \(config file .*temporal\.toml\): Profile 'staging' not found/);
  });

  test('bad settings are named before anything connects', () => {
    assert.throws(
      () => temporalTarget({ env: { TEMPORAL_CONFIG_FILE: path.join(dir, 'missing.toml') } }),
      (err: unknown) => err instanceof TemporalSettingsError && /missing\.toml does not exist/.test(err.message),
    );
    assert.throws(
      () => temporalTarget({ env: { TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'none.crt'), TEMPORAL_TLS_CLIENT_KEY_PATH: client.key } }),
      (err: unknown) => err instanceof TemporalSettingsError && /none\.crt/.test(err.message),
    );
    assert.deepEqual(temporalTarget({ env: {} }).summary, '127.0.0.1:7233, namespace default (plaintext)');
    assert.equal(
      temporalTarget({ env: { TEMPORAL_ADDRESS: 'x.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'x.abc12', TEMPORAL_API_KEY: 'secret-key' } }).summary,
      'x.tmprl.cloud:7233, namespace x.abc12 (TLS, API key)',
    );
  });
});
