// A bad configuration or profile stops the worker at start with a message naming every bad value.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadProfile } from '../../activities/database/profile';
import { ConfigError, loadConfig } from '../../worker/config';

const good = {
  TENANT_DB_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  TENANT_LOGIN_PASSWORD: 'a-long-enough-password',
  PLATFORM_URL: 'http://127.0.0.1:4010',
  WEBHOOK_SIGNING_SECRET: 'sixteen-chars-at-least',
  ARCHIVE_AZURE_CONNECTION: 'AccountName=a;AccountKey=b',
  ARCHIVE_SOARC_CONNECTION: 'AccountName=c;AccountKey=d',
};

describe('worker configuration', () => {
  test('a complete configuration gets its defaults', () => {
    const c = loadConfig(good);
    assert.equal(c.TEMPORAL_ADDRESS, '127.0.0.1:7233');
    assert.equal(c.TASK_QUEUE, 'tenant-clone');
    assert.equal(c.SMTP_PORT, 25);
    assert.equal(c.TENANT_MSSQL_BACKUPS, 'archive');
  });

  test('every missing or bad value is named in one message', () => {
    assert.throws(
      () => loadConfig({ ...good, TENANT_DB_URL: undefined, SMTP_PORT: 'seventy', WEBHOOK_SIGNING_SECRET: 'short' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /TENANT_DB_URL: TENANT_DB_URL is required/.test(err.message) &&
        /SMTP_PORT/.test(err.message) &&
        /WEBHOOK_SIGNING_SECRET must have at least 16 characters/.test(err.message),
    );
    assert.throws(() => loadConfig({ ...good, TENANT_MSSQL_BACKUPS: 'tape' }), /TENANT_MSSQL_BACKUPS: TENANT_MSSQL_BACKUPS must be "archive" or "disk"/);
  });

  test('a config file is read under the environment, which wins', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tc-config-')), 'config.json');
    writeFileSync(file, JSON.stringify({ ...good, TASK_QUEUE: 'from-file', POLL_INTERVAL_MS: 500 }));
    const c = loadConfig({ TENANT_CLONE_CONFIG: file, POLL_INTERVAL_MS: '250' });
    assert.equal(c.TASK_QUEUE, 'from-file');
    assert.equal(c.POLL_INTERVAL_MS, 250);
  });

  test('the default sanitization profile is valid; a bad one is refused naming the field', () => {
    assert.equal(loadProfile().name, 'default');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tc-profile-')), 'bad.yaml');
    writeFileSync(file, 'name: bad\nemails:\n  columns:\n    - { table: "Persons; DROP", column: email }\n');
    assert.throws(() => loadProfile(file), /emails\.columns\.0\.table: must be a lower-case SQL identifier/);
  });
});
