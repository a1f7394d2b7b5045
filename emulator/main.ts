/**
 * The platform emulator as its own process (`npm run emulator`). Configuration from env:
 *   EMULATOR_DATABASE_URL     its own PostgreSQL database (created when missing)
 *   EMULATOR_PORT             default 4010 (0 = any free port)
 *   WEBHOOK_SIGNING_SECRET    the secret the webhook sink verifies deliveries with
 *   EMULATOR_TASK_DURATION_MS, EMULATOR_OPERATION_DELAY_MS   optional timing overrides
 *   EMULATOR_LOG_REQUESTS=1   log one line per request
 */
import { ensureDatabase, redact } from './database';
import { startEmulator } from './server';

function fail(message: string): never {
  console.error(`platform emulator: ${message}`);
  process.exit(1);
}

function intFromEnv(name: string, fallback: number | undefined, max: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > max) fail(`${name}=${JSON.stringify(raw)} must be a whole number from 0 to ${max}`);
  return Number(raw);
}

async function main(): Promise<void> {
  const databaseUrl = process.env.EMULATOR_DATABASE_URL;
  if (!databaseUrl) fail('EMULATOR_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/platform_emulator)');
  try {
    new URL(databaseUrl);
  } catch {
    fail(`EMULATOR_DATABASE_URL=${JSON.stringify(databaseUrl)} is not a valid URL`);
  }
  const webhookSecret = process.env.WEBHOOK_SIGNING_SECRET;
  if (!webhookSecret) fail('WEBHOOK_SIGNING_SECRET is not set');
  const port = intFromEnv('EMULATOR_PORT', 4010, 65535);
  const taskDurationMs = intFromEnv('EMULATOR_TASK_DURATION_MS', undefined, 86_400_000);
  const operationDelayMs = intFromEnv('EMULATOR_OPERATION_DELAY_MS', undefined, 86_400_000);

  await ensureDatabase(databaseUrl);
  const emulator = await startEmulator({
    databaseUrl,
    port,
    webhookSecret,
    taskDurationMs,
    operationDelayMs,
    log:
      process.env.EMULATOR_LOG_REQUESTS === '1'
        ? (line) => console.log(line)
        : (line) => {
            if (line.startsWith('emulator')) console.error(line);
          },
  });
  console.log(`platform emulator listening on ${emulator.url} (database ${redact(databaseUrl)})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`platform emulator: ${signal}, closing`);
    emulator.close().then(
      () => process.exit(0),
      (err: Error) => fail(`close failed: ${err.message}`),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: Error) => fail(err.message));
