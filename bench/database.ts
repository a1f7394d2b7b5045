/**
 * Database benchmark (not a test): the engine's copy and e-mail scrub against the best plain
 * primitive measured in the same run on the same data:
 *   - copyDatabase vs pg_dump -Fd -j N followed by pg_restore -j N by hand;
 *   - scrubEmails (keyset batches, full rewrite rule) vs one single UPDATE with a simple concat.
 * Prints `name: X s vs baseline Y s, ratio Z` lines.
 *
 * Standalone: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres tsx bench/database.ts
 * BENCH_PERSONS (default 500000) sets the size: e-mail addresses are twice that.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { PostgresTenantDatabase } from '../activities/database/postgres/engine';
import { loadProfile, profileSchema } from '../activities/database/profile';
import { seedTenantDatabase } from '../stack/seed/tenant-data';

const SANDBOX = 'mailinator.com';

function dbUrl(adminUrl: string, db: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${db}`;
  return u.toString();
}

function pgEnv(adminUrl: string): NodeJS.ProcessEnv {
  const u = new URL(adminUrl);
  const env: NodeJS.ProcessEnv = { ...process.env, PGHOST: u.hostname, PGPORT: u.port || '5432', PGUSER: decodeURIComponent(u.username || 'postgres') };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  return env;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`))));
  });
}

async function sql(adminUrl: string, db: string, text: string): Promise<void> {
  const c = new Client({ connectionString: dbUrl(adminUrl, db) });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return [Number(process.hrtime.bigint() - start) / 1e9, result];
}

function ratioLine(name: string, x: number, y: number): string {
  return `${name}: ${x.toFixed(2)} s vs baseline ${y.toFixed(2)} s, ratio ${(x / y).toFixed(2)}`;
}

export async function benchDatabase(adminUrl: string, log: (line: string) => void): Promise<void> {
  const persons = Number(process.env.BENCH_PERSONS ?? 500_000);
  const jobs = Math.max(1, Math.min(4, os.cpus().length));
  const suffix = `${process.pid}`;
  const src = `bench_src_${suffix}`;
  const a = `bench_copy_${suffix}`;
  const b = `bench_base_${suffix}`;
  const engine = new PostgresTenantDatabase({ adminUrl, loginPassword: 'bench-login-password' });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-dump-'));
  try {
    const [seedS] = await timed(() =>
      seedTenantDatabase(adminUrl, src, { tenantId: 'bench', companyName: 'Bench AS', baseUrl: 'https://bench.example-crm.com', persons }),
    );
    log(`seed: ${persons} persons, ${2 * persons} email_addresses rows in ${seedS.toFixed(2)} s (size ${((await engine.sizeBytes(src)) / 1e6).toFixed(0)} MB)`);

    // Two rounds, baseline first in the first one, best of each: evens out cache warm-up.
    const env = pgEnv(adminUrl);
    const dump = path.join(dir, 'dump');
    const copyTimes: number[] = [];
    const baseTimes: number[] = [];
    let copied = { bytes: 0, tables: 0 };
    const baseline = async (): Promise<void> => {
      await rm(dump, { recursive: true, force: true });
      await engine.dropDatabase(b);
      await engine.createDatabase(b);
      await sql(adminUrl, 'postgres', 'CHECKPOINT');
      const [s] = await timed(async () => {
        await run('pg_dump', ['-Fd', `-j${jobs}`, '--no-owner', '--no-privileges', '-f', dump, src], env);
        await run('pg_restore', [`-j${jobs}`, '--no-owner', '--no-privileges', '-d', b, dump], env);
      });
      baseTimes.push(s);
    };
    const ours = async (): Promise<void> => {
      await engine.dropDatabase(a);
      await engine.createDatabase(a);
      await sql(adminUrl, 'postgres', 'CHECKPOINT');
      const [s, r] = await timed(() => engine.copyDatabase(src, a, { jobs }));
      copied = r;
      copyTimes.push(s);
    };
    await baseline();
    await ours();
    await ours();
    await baseline();
    const copyS = Math.min(...copyTimes);
    const baseS = Math.min(...baseTimes);
    log(ratioLine(`copyDatabase (${copied.tables} tables, ${(copied.bytes / 1e6).toFixed(0)} MB, ${jobs} jobs, best of 2)`, copyS, baseS));

    // Scrub of the big column alone, so both sides rewrite exactly the same rows.
    const one = profileSchema.parse({ ...loadProfile(), emails: { columns: [{ table: 'email_addresses', column: 'address', key: 'id' }], batchSize: 20_000 } });
    await sql(adminUrl, 'postgres', 'CHECKPOINT');
    const [scrubS, cp] = await timed(() => engine.scrubEmails(a, one, { sandboxDomain: SANDBOX }));
    await sql(adminUrl, 'postgres', 'CHECKPOINT');
    const [updS] = await timed(() =>
      sql(adminUrl, b, `UPDATE email_addresses SET address = left(replace(address, '@', '_') || '@${SANDBOX}', 120) WHERE address LIKE '%@%'`),
    );
    log(ratioLine(`scrubEmails (${cp.rewritten} values in ${cp.batches} batches)`, scrubS, updS));

    const [verifyS, v] = await timed(() => engine.verifyEmails(a, one, SANDBOX));
    log(`verifyEmails: ${verifyS.toFixed(2)} s over ${2 * persons} rows, ${v.total} foreign values left`);
    const [fullS, full] = await timed(() => engine.scrubEmails(a, loadProfile(), { sandboxDomain: SANDBOX }));
    log(`scrubEmails default profile (big column already done): ${fullS.toFixed(2)} s, ${full.rewritten} more values in ${full.batches} batches`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    for (const db of [src, a, b]) await engine.dropDatabase(db).catch(() => undefined);
    await engine.close();
  }
}

if (require.main === module) {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  benchDatabase(url, (line) => console.log(line)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
