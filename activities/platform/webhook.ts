/**
 * Signed webhooks to partner apps (`notify-apps`). The signature covers the timestamp and the
 * exact body bytes, so a receiver can reject both tampering and replays of old deliveries:
 *   X-TenantClone-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_SIGNATURE_HEADER = 'X-TenantClone-Signature';
const DEFAULT_TOLERANCE_SECONDS = 300;
const DEFAULT_TIMEOUT_MS = 10_000;

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

function requireSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new Error('webhook signing secret must be a non-empty string');
  }
}

/** `timestamp` is in unix seconds (not milliseconds). */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  requireSecret(secret);
  if (!Number.isInteger(timestamp) || timestamp < 0) {
    throw new Error(`webhook timestamp ${timestamp} must be a whole number of unix seconds`);
  }
  // Date.now() passed by mistake would make every receiver reject the delivery as too far off.
  if (timestamp > 100_000_000_000) {
    throw new Error(`webhook timestamp ${timestamp} looks like milliseconds; pass unix seconds`);
  }
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

/**
 * True when `header` carries a v1 signature of `body` made with `secret` within
 * `toleranceSeconds` of now. Several v1 entries are allowed (secret rotation): any match wins.
 */
export function verifyWebhook(
  secret: string,
  header: string | null | undefined,
  body: string,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): boolean {
  requireSecret(secret);
  if (typeof header !== 'string' || header === '') return false;
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return false;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value)) return false;
      timestamp = Number(value);
    } else if (key === 'v1') {
      signatures.push(value);
    }
  }
  if (timestamp === null || signatures.length === 0) return false;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  return signatures.some((candidate) => {
    if (!/^[0-9a-f]{64}$/i.test(candidate)) return false;
    return timingSafeEqual(expected, Buffer.from(candidate, 'hex'));
  });
}

/** A webhook receiver answered with a non-2xx status. */
export class WebhookRejectedError extends Error {
  override name = 'WebhookRejectedError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }

  /** 4xx other than 408/429 will be answered again the same way: retrying does not help. */
  get permanent(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

/** POST `payload` as JSON with a fresh signature; a non-2xx answer is an error. */
export async function postSignedWebhook(url: string, payload: unknown, secret: string, options: { timeoutMs?: number } = {}): Promise<{ status: number }> {
  requireSecret(secret);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new Error(`webhook URL ${JSON.stringify(url)} is not a valid URL`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new Error(`webhook URL ${JSON.stringify(url)} must be http or https`);
  }
  const body = JSON.stringify(payload);
  if (body === undefined) throw new Error(`webhook payload for ${url} cannot be serialized to JSON`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signature = signWebhook(secret, body, Math.floor(Date.now() / 1000));
  let response: Response;
  try {
    response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [WEBHOOK_SIGNATURE_HEADER]: signature },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason = e.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : `failed: ${e.cause?.code ?? e.cause?.message ?? e.message}`;
    throw new Error(`webhook POST ${url} ${reason}`);
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    throw new WebhookRejectedError(
      `webhook POST ${url} answered ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 300)}` : ''}`,
      response.status,
    );
  }
  return { status: response.status };
}
