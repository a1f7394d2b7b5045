/**
 * The platform emulator: the REST contract of activities/platform/openapi.yaml served by
 * node:http over the emulator's own PostgreSQL database, for local runs and tests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { addAdminRoutes } from './admin-routes';
import { addAppRoutes } from './apps-routes';
import type { EmulatorContext } from './context';
import { ensureSchema, redact } from './database';
import { addDirectoryRoutes } from './directory-routes';
import { addLeaseRoutes, fenceTenantWrites } from './lease-routes';
import { addHostingRoutes } from './hosting-routes';
import { HttpError, readRawBody, sendJson } from './http-io';
import { addMailRoutes } from './mail-routes';
import { Router } from './router';

export interface EmulatorOptions {
  databaseUrl: string;
  /** 0 (the default) = any free port. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** The secret partner apps share with tenant-clone; the sink verifies deliveries with it. */
  webhookSecret: string;
  /** Default duration of a seeded task without its own; default 2000 ms. */
  taskDurationMs?: number;
  /** How long a hosting operation stays pending; default 300 ms. */
  operationDelayMs?: number;
  /** Called with one line per request; silent by default. */
  log?: (line: string) => void;
}

export interface RunningEmulator {
  url: string;
  close(): Promise<void>;
}

export function buildRouter(ctx: EmulatorContext): Router {
  const router = new Router();
  addDirectoryRoutes(router, ctx);
  addHostingRoutes(router, ctx);
  addMailRoutes(router, ctx);
  addAppRoutes(router, ctx);
  addAdminRoutes(router, ctx);
  addLeaseRoutes(router, ctx);
  fenceTenantWrites(router, ctx);
  return router;
}

export async function startEmulator(opts: EmulatorOptions): Promise<RunningEmulator> {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`emulator port ${opts.port} must be an integer 0-65535`);
  if (typeof opts.webhookSecret !== 'string' || opts.webhookSecret.length === 0) {
    throw new Error('emulator webhookSecret must be a non-empty string');
  }
  const taskDurationMs = nonNegative('taskDurationMs', opts.taskDurationMs ?? 2000);
  const operationDelayMs = nonNegative('operationDelayMs', opts.operationDelayMs ?? 300);

  const pool = new Pool({ connectionString: opts.databaseUrl, max: 8 });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', (err) => opts.log?.(`emulator database pool error: ${err.message}`));
  try {
    await ensureSchema(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`emulator cannot prepare its database ${redact(opts.databaseUrl)}: ${(err as Error).message}`);
  }

  const ctx: EmulatorContext = { pool, webhookSecret: opts.webhookSecret, taskDurationMs, operationDelayMs };
  const router = buildRouter(ctx);
  const server = createServer((req, res) => {
    void handle(router, req, res, opts.log);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: Error) => {
    await pool.end().catch(() => undefined);
    throw new Error(`emulator cannot listen on port ${port}: ${err.message}`);
  });

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive connections from fetch would otherwise hold close() open.
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 2000).unref();
        });
        await pool.end();
      })();
      return closing;
    },
  };
}

async function handle(router: Router, req: IncomingMessage, res: ServerResponse, log?: (line: string) => void): Promise<void> {
  const started = Date.now();
  const method = req.method ?? 'GET';
  let status = 500;
  try {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const match = router.match(method, url.pathname);
    if (match.kind === 'none') throw new HttpError(404, `no route for ${method} ${url.pathname}`, 'no_route');
    if (match.kind === 'wrong-method') {
      status = 405;
      sendJson(
        res,
        405,
        { error: `${method} is not allowed on ${url.pathname}; allowed: ${match.allowed.join(', ')}`, code: 'method_not_allowed' },
        { allow: match.allowed.join(', ') },
      );
      return;
    }
    const rawBody = await readRawBody(req);
    const reply = await match.route.handler({ params: match.params, query: url.searchParams, headers: req.headers, rawBody });
    status = reply.status;
    sendJson(res, reply.status, reply.body);
  } catch (err) {
    if (err instanceof HttpError) {
      status = err.status;
      sendJson(res, err.status, { error: err.message, code: err.code });
    } else {
      status = 500;
      const message = (err as Error).message ?? String(err);
      log?.(`emulator internal error on ${method} ${req.url}: ${(err as Error).stack ?? message}`);
      if (!res.headersSent) sendJson(res, 500, { error: `emulator internal error: ${message}`, code: 'internal' });
      else res.destroy();
    }
  } finally {
    log?.(`${method} ${req.url} ${status} ${Date.now() - started}ms`);
  }
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`emulator ${name} ${value} must be a non-negative number of milliseconds`);
  return value;
}
