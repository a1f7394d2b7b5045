/**
 * Encrypted payloads: every payload the worker and the clients write to Temporal (workflow and
 * activity inputs and results, signals, queries, heartbeats, failures' details) is sealed with
 * AES-256-GCM before it leaves the process, so tenant names, database names and directory users
 * never sit in clear text in the server's history. The key id travels in the payload's metadata:
 * a key is rotated by adding a new one and making it current; payloads sealed with an older key
 * stay readable as long as that key is listed.
 *
 *   PAYLOAD_ENCRYPTION_KEYS    id:base64 32-byte key, comma-separated (secret)
 *   PAYLOAD_ENCRYPTION_KEY_ID  the id that encrypts new payloads (default: the first listed)
 *
 * Unset, payloads stay as they are (the local default). The codec server (codec-server.ts)
 * decodes for the Web UI and `temporal --codec-endpoint`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A bad key list or key id: named, never with the key's value. */
export class PayloadKeyError extends Error {
  override name = 'PayloadKeyError';
}

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

export class AesGcmPayloadCodec implements PayloadCodec {
  private constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    /** The key new payloads are sealed with. */
    readonly currentKeyId: string,
  ) {}

  /** From `id:base64key,…` and the current id (default: the first); errors name the entry, never the key. */
  static fromSettings(list: string, currentId?: string): AesGcmPayloadCodec {
    const keys = new Map<string, Buffer>();
    for (const [i, entry] of list
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
      .entries()) {
      const colon = entry.indexOf(':');
      const id = colon > 0 ? entry.slice(0, colon) : '';
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(id))
        throw new PayloadKeyError(`PAYLOAD_ENCRYPTION_KEYS entry ${i + 1} has no valid key id before ':' (1-64 letters, digits, . _ -)`);
      const key = Buffer.from(entry.slice(colon + 1), 'base64');
      if (key.length !== 32)
        throw new PayloadKeyError(`PAYLOAD_ENCRYPTION_KEYS key ${id} is not 32 bytes of base64 (AES-256): it decodes to ${key.length} bytes`);
      if (keys.has(id)) throw new PayloadKeyError(`PAYLOAD_ENCRYPTION_KEYS lists key ${id} twice`);
      keys.set(id, key);
    }
    if (keys.size === 0) throw new PayloadKeyError('PAYLOAD_ENCRYPTION_KEYS lists no key');
    const current = currentId ?? [...keys.keys()][0];
    if (!keys.has(current))
      throw new PayloadKeyError(`PAYLOAD_ENCRYPTION_KEY_ID ${current} is not among the keys of PAYLOAD_ENCRYPTION_KEYS (${[...keys.keys()].join(', ')})`);
    return new AesGcmPayloadCodec(keys, current);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.currentKeyId)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      // The key id is authenticated too: a payload cannot be passed off under another key.
      cipher.setAAD(Buffer.from(this.currentKeyId));
      const sealed = Buffer.concat([cipher.update(temporal.api.common.v1.Payload.encode(payload).finish()), cipher.final()]);
      return {
        metadata: { encoding: text(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: text(this.currentKeyId) },
        data: Buffer.concat([iv, sealed, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Payloads written before encryption was turned on stay readable.
      if (str(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
      const id = str(payload.metadata?.[KEY_ID_METADATA]) ?? '';
      const key = this.keys.get(id);
      if (!key) throw new PayloadKeyError(`a payload is sealed with key ${JSON.stringify(id)}, which PAYLOAD_ENCRYPTION_KEYS does not list`);
      const data = Buffer.from(payload.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadKeyError(`a payload sealed with key ${id} is truncated`);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const opened = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(opened);
    });
  }
}

export interface PayloadKeySettings {
  PAYLOAD_ENCRYPTION_KEYS?: string;
  PAYLOAD_ENCRYPTION_KEY_ID?: string;
}

/** The codec the settings ask for, or null when no key is set (payloads stay as they are). */
export function payloadCodecFrom(env: PayloadKeySettings): AesGcmPayloadCodec | null {
  const list = env.PAYLOAD_ENCRYPTION_KEYS;
  if (!list) {
    if (env.PAYLOAD_ENCRYPTION_KEY_ID) throw new PayloadKeyError('PAYLOAD_ENCRYPTION_KEY_ID is set, but PAYLOAD_ENCRYPTION_KEYS lists no key');
    return null;
  }
  return AesGcmPayloadCodec.fromSettings(list, env.PAYLOAD_ENCRYPTION_KEY_ID || undefined);
}

/**
 * The data converter of a worker or client with these settings: the codec, and failures whose
 * text is encoded too; undefined (the SDK's default) without keys.
 */
export function dataConverterFrom(env: PayloadKeySettings): DataConverter | undefined {
  const codec = payloadCodecFrom(env);
  return codec ? { payloadCodecs: [codec], failureConverterPath: require.resolve('./failure-converter') } : undefined;
}

/** A new random key in the form PAYLOAD_ENCRYPTION_KEYS takes: `id:base64`. */
export function newPayloadKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
