/** Request/response plumbing for the emulator's node:http server (no framework on purpose). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { describeIssues } from '../activities/platform/schemas';

const MAX_BODY_BYTES = 1024 * 1024;

/** An answer other than 2xx, in the contract's `{ error, code }` shape. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export const unknownTenant = (id: string) => new HttpError(404, `unknown tenant ${JSON.stringify(id)}`, 'unknown_tenant');
export const badRequest = (message: string) => new HttpError(400, message, 'bad_request');
export const conflict = (message: string) => new HttpError(409, message, 'conflict');

export interface Reply {
  status: number;
  body?: unknown;
}

export async function readRawBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`, 'too_large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** JSON-parse then validate; both failures are a 400 naming what is wrong. */
export function parseBody<T>(raw: string, schema: z.ZodType<T>, emptyAs?: unknown): T {
  let value: unknown;
  if (raw.trim() === '') {
    if (emptyAs === undefined) throw badRequest('request body is empty; expected a JSON object');
    value = emptyAs;
  } else {
    try {
      value = JSON.parse(raw) as unknown;
    } catch (err) {
      throw badRequest(`request body is not valid JSON: ${(err as Error).message}`);
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(`invalid request body: ${describeIssues(result.error, value)}`);
  return result.data;
}

export function sendJson(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}
