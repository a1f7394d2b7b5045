/**
 * A platform emulator for one test suite: its own uniquely named database on DATABASE_URL's
 * server and a free port, both gone after close().
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { EmulatorAdmin } from '../../emulator/admin-client';
import { quoteIdent } from '../../emulator/database';
import { startEmulator } from '../../emulator/server';

export interface TestEmulator {
  url: string;
  admin: EmulatorAdmin;
  /** The secret the emulator's webhook sink verifies deliveries with. */
  webhookSecret: string;
  databaseUrl: string;
  close(): Promise<void>;
}

export interface TestEmulatorOptions {
  webhookSecret?: string;
  taskDurationMs?: number;
  operationDelayMs?: number;
}

export function adminDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set; e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres');
  return url;
}

export async function startTestEmulator(options: TestEmulatorOptions = {}): Promise<TestEmulator> {
  const serverUrl = adminDatabaseUrl();
  const name = `emulator_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withAdmin(serverUrl, (db) => db.query(`CREATE DATABASE ${quoteIdent(name)}`));
  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${name}`;
  const webhookSecret = options.webhookSecret ?? `test-secret-${randomBytes(8).toString('hex')}`;

  let emulator;
  try {
    emulator = await startEmulator({
      databaseUrl: dbUrl.toString(),
      port: 0,
      webhookSecret,
      taskDurationMs: options.taskDurationMs ?? 500,
      operationDelayMs: options.operationDelayMs ?? 300,
    });
  } catch (err) {
    await dropDatabase(serverUrl, name);
    throw err;
  }
  const running = emulator;
  return {
    url: running.url,
    admin: new EmulatorAdmin(running.url),
    webhookSecret,
    databaseUrl: dbUrl.toString(),
    async close() {
      try {
        await running.close();
      } finally {
        await dropDatabase(serverUrl, name);
      }
    },
  };
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withAdmin(serverUrl, (db) => db.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

async function withAdmin<T>(serverUrl: string, work: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: serverUrl });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}
