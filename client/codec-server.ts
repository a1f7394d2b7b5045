/**
 * The codec server: Temporal's remote codec protocol (POST /encode and /decode, payloads as
 * proto JSON) over the payload codec, so the Web UI and `temporal --codec-endpoint` show clear
 * text to whoever may call it. Browsers reach it across origins, so it answers CORS for the Web
 * UI origins it is given, and nothing else; with a token, a request must carry it as a bearer
 * token (the Web UI and the CLI can send one).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Web UI origins allowed to call it from a browser, e.g. http://localhost:8233. */
  origins: string[];
  /** When set, `Authorization: Bearer <token>` is required. */
  token?: string;
  host?: string;
  port?: number;
}

export interface RunningCodecServer {
  url: string;
  close(): Promise<void>;
}

interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

const MAX_BODY = 16 * 1024 * 1024;

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

function sameToken(given: string | undefined, token: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(`Bearer ${token}`);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function body(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw Object.assign(new Error(`request body over ${MAX_BODY} bytes`), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startCodecServer(o: CodecServerOptions): Promise<RunningCodecServer> {
  const origins = new Set(o.origins.map((x) => x.replace(/\/+$/, '')));
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    if (origin && origins.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, X-Namespace');
      res.setHeader('Vary', 'Origin');
    }
    const reply = (status: number, payload?: unknown) => {
      res.writeHead(status, payload === undefined ? {} : { 'Content-Type': 'application/json' });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    if (req.method === 'OPTIONS') return reply(204);
    const path = new URL(req.url ?? '/', 'http://codec').pathname.replace(/\/+$/, '');
    if (req.method !== 'POST' || (path !== '/encode' && path !== '/decode')) return reply(404, { message: 'POST /encode or /decode' });
    if (o.token && !sameToken(req.headers.authorization, o.token)) return reply(401, { message: 'a bearer token is required' });
    let parsed: { payloads?: JsonPayload[] };
    try {
      parsed = JSON.parse(await body(req)) as { payloads?: JsonPayload[] };
    } catch (err) {
      return reply((err as { status?: number }).status ?? 400, { message: `the body is not JSON: ${(err as Error).message}` });
    }
    if (!Array.isArray(parsed?.payloads)) return reply(400, { message: 'the body must be {"payloads": [...]}' });
    try {
      const payloads = parsed.payloads.map(fromJson);
      const out = path === '/encode' ? await o.codec.encode(payloads) : await o.codec.decode(payloads);
      return reply(200, { payloads: out.map(toJson) });
    } catch (err) {
      return reply(400, { message: (err as Error).message });
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: (err as Error).message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
