/**
 * `npm run codec-server`: the codec server for the Web UI and `temporal --codec-endpoint`.
 *   PAYLOAD_ENCRYPTION_KEYS, PAYLOAD_ENCRYPTION_KEY_ID   the worker's keys (see payload-codec.ts)
 *   CODEC_SERVER_HOST (127.0.0.1), CODEC_SERVER_PORT (8081)
 *   CODEC_SERVER_ORIGINS   Web UI origins (http://localhost:8233,http://127.0.0.1:8233)
 *   CODEC_SERVER_TOKEN     when set, callers must send it as a bearer token
 */
import { startCodecServer } from './codec-server';
import { PayloadKeyError, payloadCodecFrom } from './payload-codec';

async function main() {
  const codec = payloadCodecFrom({
    PAYLOAD_ENCRYPTION_KEYS: process.env.PAYLOAD_ENCRYPTION_KEYS,
    PAYLOAD_ENCRYPTION_KEY_ID: process.env.PAYLOAD_ENCRYPTION_KEY_ID,
  });
  if (!codec) throw new PayloadKeyError('PAYLOAD_ENCRYPTION_KEYS is not set: there is nothing to decode with');
  const port = Number(process.env.CODEC_SERVER_PORT ?? 8081);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new PayloadKeyError(`CODEC_SERVER_PORT ${JSON.stringify(process.env.CODEC_SERVER_PORT)} is not a port`);
  const origins = (process.env.CODEC_SERVER_ORIGINS ?? 'http://localhost:8233,http://127.0.0.1:8233')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const server = await startCodecServer({
    codec,
    origins,
    token: process.env.CODEC_SERVER_TOKEN || undefined,
    host: process.env.CODEC_SERVER_HOST ?? '127.0.0.1',
    port,
  });
  console.log(
    `codec server on ${server.url} (key ${codec.currentKeyId} encrypts; CORS for ${origins.join(', ')}${process.env.CODEC_SERVER_TOKEN ? '; bearer token required' : ''})`,
  );
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void server.close().then(() => process.exit(0)));
}

main().catch((err: Error) => {
  console.error(`codec server: ${err.message}`);
  process.exit(err instanceof PayloadKeyError ? 2 : 1);
});
