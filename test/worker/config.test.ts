// A bad configuration or profile stops the worker at start with a message naming every bad value.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { DEFAULT_PROFILE_PATH, POINT_IN_TIME_PROFILE_PATH, ProfileError, loadProfile, loadProfiles } from '../../activities/database/profile';
import { DEFAULT_SANDBOX_DOMAINS } from '../../workflows/sandbox-domains';
import { temporalTarget } from '../../client/connection';
import { ConfigError, loadConfig, temporalEnv } from '../../worker/config';

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
    // With no Temporal setting at all: the plaintext local dev server (client/connection.ts).
    assert.equal(temporalTarget({ env: temporalEnv(c) }).summary, '127.0.0.1:7233, namespace default (plaintext)');
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

  test('the point-in-time settings: defaults, and bad values named', () => {
    const c = loadConfig(good);
    assert.equal(c.PGBACKREST_STANZA, undefined);
    assert.deepEqual([c.PITR_RETENTION_PRODUCTION_DAYS, c.PITR_RETENTION_SANDBOX_DAYS, c.SERVER_BACKUP_FULL_EVERY_DAYS, c.PG_OS_USER], [28, 7, 7, 'postgres']);
    assert.throws(
      () => loadConfig({ ...good, PGBACKREST_STANZA: 'main; rm -rf /', PG_SCRATCH_DIR: 'scratch', PITR_RETENTION_SANDBOX_DAYS: '0' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /PGBACKREST_STANZA: PGBACKREST_STANZA must be 1-64 letters/.test(err.message) &&
        /PG_SCRATCH_DIR: PG_SCRATCH_DIR must be an absolute path/.test(err.message) &&
        /PITR_RETENTION_SANDBOX_DAYS/.test(err.message),
    );
  });

  test('the point-in-time profile ships valid, and one without users.administrator is refused', () => {
    const profiles = loadProfiles();
    assert.equal(profiles.pointInTime.name, 'point-in-time');
    assert.equal(profiles.pointInTime.users.administrator?.login, 'admin');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tc-profile-')), 'no-admin.yaml');
    writeFileSync(file, readFileSync(POINT_IN_TIME_PROFILE_PATH, 'utf8').replace(/\n  administrator: .*\n/, '\n'));
    assert.throws(
      () => loadProfiles({ pointInTime: file }),
      (err: unknown) =>
        err instanceof ProfileError && /no-admin\.yaml is invalid for the point-in-time plan: users\.administrator is required/.test(err.message),
    );
  });

  test('a config file is read under the environment, which wins', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tc-config-')), 'config.json');
    writeFileSync(file, JSON.stringify({ ...good, TASK_QUEUE: 'from-file', POLL_INTERVAL_MS: 500 }));
    const c = loadConfig({ TENANT_CLONE_CONFIG: file, POLL_INTERVAL_MS: '250' });
    assert.equal(c.TASK_QUEUE, 'from-file');
    assert.equal(c.POLL_INTERVAL_MS, 250);
  });

  test('the default sanitization profile is valid; a bad one is refused in one line naming every bad field', () => {
    assert.equal(loadProfile().name, 'default');
    const dir = mkdtempSync(path.join(tmpdir(), 'tc-profile-'));
    const file = path.join(dir, 'bad.yaml');
    const good = readFileSync(DEFAULT_PROFILE_PATH, 'utf8');
    writeFileSync(
      file,
      good
        .replace('systemUsers: [system, batch-runner]', 'systemUsers: [system, "batch runner; DROP"]')
        .replace('  keep: []', '  kepp: []\n  keep: [{ table: "crm.leads", column: "hash" }]')
        .replace('{ table: settings, column: value, key: key }', '{ table: "Persons; DROP", column: email }'),
    );
    assert.throws(
      () => loadProfile(file),
      (err: unknown) =>
        err instanceof ProfileError &&
        !err.message.includes('\n') &&
        err.message.includes(file) &&
        /emails\.columns\.\d+\.table: must be a table name/.test(err.message) &&
        /emails: Unrecognized key: "kepp"/.test(err.message) &&
        /emails\.keep\.0\.why: /.test(err.message) &&
        /users\.systemUsers\.1: must be a login/.test(err.message),
    );
  });

  test('the worker refuses a bad profile or setting at start: one line naming it, exit 2, no stack trace', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tc-profile-')), 'bad.yaml');
    writeFileSync(file, 'name: bad\nemails: { batchSize: 5 }\n');
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'worker/main.ts'], { env: { ...process.env, ...good, ...env }, encoding: 'utf8', timeout: 60_000 });
    for (const [env, message] of [
      [{ SANITIZATION_PROFILE: file }, /^tenant-clone worker: sanitization profile .*bad\.yaml is invalid: emails\.batchSize: /],
      [{ SANDBOX_MAIL_DOMAINS: 'mailinator.com, gmail.com' }, /SANDBOX_MAIL_DOMAINS entry "gmail\.com" is refused: gmail\.com is a public mail provider/],
    ] as const) {
      const r = run(env);
      assert.equal(r.status, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], message);
      assert.ok(!/\bat .*\.ts:\d+/.test(r.stderr), 'no stack trace');
    }
  });

  test('sandbox domains: the reserved names by default; public providers and public suffixes can never be configured', () => {
    assert.deepEqual(loadConfig(good).SANDBOX_MAIL_DOMAINS, DEFAULT_SANDBOX_DOMAINS);
    assert.deepEqual(loadConfig({ ...good, SANDBOX_MAIL_DOMAINS: 'Sandbox.Acme.Example, *.qa.acme-corp.com' }).SANDBOX_MAIL_DOMAINS, [
      'sandbox.acme.example',
      '*.qa.acme-corp.com',
    ]);
    for (const [value, message] of [
      ['gmail.com', /"gmail\.com" is refused: gmail\.com is a public mail provider/],
      ['*.yahoo.co.uk', /"\*\.yahoo\.co\.uk" is refused: yahoo\.co\.uk is a public mail provider/],
      ['mail.outlook.com', /outlook\.com is a public mail provider/],
      ['*.com', /"\*\.com" is refused: \*\.com would allow every domain under a public top-level name/],
      ['*.co.uk', /public suffix co\.uk/],
      ['not a domain', /"not a domain" is refused: not a domain name/],
      [' , ', /must name at least one domain/],
    ] as const) {
      assert.throws(
        () => loadConfig({ ...good, SANDBOX_MAIL_DOMAINS: value }),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
        value,
      );
    }
  });
});
