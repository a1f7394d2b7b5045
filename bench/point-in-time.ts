/**
 * Point-in-time benchmark (not a test): restoreToPointInTime of the bench tenant against the
 * same work run by hand in the same run, on the same server, backup set and point:
 * `pgbackrest restore --db-include --type=time`, a PostgreSQL started on it by hand (with the
 * same throwaway settings as ours: the best primitive), `pg_dump -Fd -jN` from it and
 * `pg_restore -jN` into the target. Two rounds each, alternating, best of each.
 *
 * Standalone: tsx bench/point-in-time.ts  (BENCH_PERSONS, default 500000)
 */
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { runTool, type OsAccount } from '../activities/database/postgres/child-process';
import { serverAccount } from '../activities/database/postgres/os-account';
import { chooseBackupSet, pgBackRestTime } from '../activities/database/postgres/pgbackrest';
import { startArchivingPostgres } from '../stack/services/archiving-postgres';
import { embeddedServerBinDir, ensurePgBackRest } from '../stack/services/continuous-backup';
import { seedTenantDatabase } from '../stack/seed/tenant-data';
import { loadConfig } from '../worker/config';
import { pointInTimeSettings, postgresEngine } from '../worker/postgres';
import { freePort, ratioLine, timed } from './measure';

async function sql(url: string, db: string, text: string): Promise<void> {
  const u = new URL(url);
  u.pathname = `/${db}`;
  const c = new Client({ connectionString: u.toString() });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

export async function benchPointInTime(log: (line: string) => void): Promise<void> {
  const pgbackrest = await ensurePgBackRest(log);
  if (!pgbackrest) {
    log('point-in-time: not measured, pgbackrest is not installed (Debian: apt-get install pgbackrest)');
    return;
  }
  const persons = Number(process.env.BENCH_PERSONS ?? 500_000);
  const jobs = Math.max(1, Math.min(4, os.cpus().length));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-pitr-'));
  const server = await startArchivingPostgres({ dir, port: await freePort(), pgbackrest });
  const config = loadConfig({
    ...server.backup.workerSettings,
    TENANT_DB_URL: server.url,
    PG_SCRATCH_DIR: path.join(dir, 'scratch'),
    COPY_JOBS: String(jobs),
    TENANT_LOGIN_PASSWORD: 'bench-login-password',
    PLATFORM_URL: 'http://127.0.0.1:1',
    WEBHOOK_SIGNING_SECRET: 'unused-in-the-benchmark',
    ARCHIVE_AZURE_CONNECTION: 'AccountName=unused;',
    ARCHIVE_SOARC_CONNECTION: 'AccountName=unused;',
  });
  const engine = await postgresEngine(config);
  const settings = (await pointInTimeSettings(config))!;
  const account = await serverAccount(config.PG_OS_USER);
  try {
    const src = 'bench_pitr_src';
    const [seedS] = await timed(() =>
      seedTenantDatabase(server.url, src, { tenantId: 'bench', companyName: 'Bench AS', baseUrl: 'https://bench.example-crm.com', persons }),
    );
    const [backupS, set] = await timed(() => engine.continuousBackup!.take('full'));
    log(
      `point-in-time: seeded ${persons} persons in ${seedS.toFixed(1)} s (${((await engine.sizeBytes(src)) / 1e6).toFixed(0)} MB); full backup ${set.label} in ${backupS.toFixed(1)} s`,
    );
    await new Promise((r) => setTimeout(r, 1500));
    await sql(server.url, src, `UPDATE persons SET last_name = last_name || ' (kept)' WHERE id <= 1000`);
    const at = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1100));
    await sql(server.url, src, `UPDATE persons SET last_name = 'later' WHERE id <= 1000`);

    const ourTimes: number[] = [];
    const handTimes: number[] = [];
    const ours = async () => {
      await engine.dropDatabase('bench_pitr_ours');
      await engine.createDatabase('bench_pitr_ours');
      const [s] = await timed(() => engine.restoreToPointInTime(src, 'bench_pitr_ours', at, { jobs }));
      ourTimes.push(s);
    };
    const byHand = async () => {
      await engine.dropDatabase('bench_pitr_hand');
      await engine.createDatabase('bench_pitr_hand');
      const label = chooseBackupSet((await settings.backups.info()).sets, Date.parse(at))!.label;
      const [s] = await timed(() =>
        restoreByHand({
          pgbackrest,
          configFile: server.backup.configFile,
          stanza: server.backup.stanza,
          label,
          src,
          at,
          jobs,
          account,
          serverUrl: server.url,
          dir,
        }),
      );
      handTimes.push(s);
    };
    // The WAL up to the point is archived by our first restore; the hand-run ones then find it there.
    await ours();
    await byHand();
    await byHand();
    await ours();
    log(
      ratioLine(
        `restoreToPointInTime (${(set.sizeBytes / 1e6).toFixed(0)} MB server, ${jobs} jobs, best of 2)`,
        Math.min(...ourTimes),
        Math.min(...handTimes),
      ) + ` [baseline: pgbackrest restore --db-include --type=time + postgres started by hand + pg_dump -Fd -j${jobs} + pg_restore -j${jobs}]`,
    );
  } finally {
    await engine.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The primitive: the same restore, server, dump and load, as an operator would type them. */
async function restoreByHand(o: {
  pgbackrest: string;
  configFile: string;
  stanza: string;
  label: string;
  src: string;
  at: string;
  jobs: number;
  account: OsAccount | undefined;
  serverUrl: string;
  dir: string;
}): Promise<void> {
  const work = path.join(o.dir, 'by-hand');
  const data = path.join(work, 'data');
  const dump = path.join(o.dir, 'by-hand-dump');
  await rm(work, { recursive: true, force: true });
  await rm(dump, { recursive: true, force: true });
  const asServer = { env: process.env, account: o.account, cwd: '/' };
  for (const d of [work, data, path.join(work, 'lock')]) {
    await mkdir(d, { mode: 0o700 });
    if (o.account) await chown(d, o.account.uid, o.account.gid);
  }
  await runTool(
    o.pgbackrest,
    [
      `--config=${o.configFile}`,
      `--stanza=${o.stanza}`,
      `--pg1-path=${data}`,
      `--db-include=${o.src}`,
      '--type=time',
      `--target=${pgBackRestTime(o.at)}`,
      '--target-action=promote',
      `--set=${o.label}`,
      '--archive-mode=off',
      `--process-max=${o.jobs}`,
      `--lock-path=${path.join(work, 'lock')}`,
      '--log-level-file=off',
      'restore',
    ],
    asServer,
  );
  const conf = path.join(work, 'postgresql.conf');
  await writeFile(
    conf,
    [
      "listen_addresses = ''",
      `unix_socket_directories = '${work}'`,
      'port = 5432',
      `hba_file = '${path.join(work, 'pg_hba.conf')}'`,
      'hot_standby = off',
      'ignore_invalid_pages = on',
      'fsync = off',
      'full_page_writes = off',
      'synchronous_commit = off',
      'autovacuum = off',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(work, 'pg_hba.conf'), 'local all all trust\n');
  const pgCtl = path.join(embeddedServerBinDir(), 'pg_ctl');
  await runTool(pgCtl, ['-D', data, '-o', `-c config_file=${conf}`, '-l', path.join(work, 'server.log'), '-w', '-t', '3600', 'start'], asServer);
  try {
    // pg_ctl -w returns once the server runs; without hot standby it accepts connections only
    // when recovery has reached the point and promoted it.
    for (;;) {
      const c = new Client({ host: work, port: 5432, user: 'postgres', database: 'postgres' });
      const open = await c.connect().then(
        () => true,
        () => false,
      );
      await c.end().catch(() => undefined);
      if (open) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const env = { ...process.env, PGHOST: work, PGPORT: '5432', PGUSER: 'postgres' };
    await runTool('pg_dump', ['-Fd', `-j${o.jobs}`, '--no-owner', '--no-privileges', '-f', dump, o.src], { env });
    const target = new URL(o.serverUrl);
    const targetEnv = {
      ...process.env,
      PGHOST: target.hostname,
      PGPORT: target.port,
      PGUSER: decodeURIComponent(target.username),
      PGPASSWORD: decodeURIComponent(target.password),
    };
    await runTool('pg_restore', [`-j${o.jobs}`, '--no-owner', '--no-privileges', '-d', 'bench_pitr_hand', dump], { env: targetEnv });
  } finally {
    await runTool(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop'], asServer).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
    await rm(dump, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchPointInTime((line) => console.log(line)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
