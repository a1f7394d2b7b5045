/**
 * JSON over the global fetch, for the platform adapters. One request = one attempt: retrying is
 * Temporal's job (activity retry policy), so a retry here would only multiply the backoff and
 * hide failures from the Web UI.
 */
import type { z } from 'zod';
import { LEASE_HEADER, currentLeaseHolder } from './lease-scope';
import { describeIssues } from './schemas';

export interface HttpClientOptions {
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
  /** Extra headers on every request (e.g. an Authorization header from configuration). */
  headers?: Record<string, string>;
}

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

/** A platform call that got an answer other than 2xx, or no answer at all (status 0). */
export class PlatformHttpError extends Error {
  override readonly name = 'PlatformHttpError';
  constructor(
    readonly method: Method,
    readonly url: string,
    /** 0 when no HTTP answer arrived (connection refused, timeout). */
    readonly status: number,
    /** The server's `error` text, or the raw body when it was not the JSON error shape. */
    readonly serverError: string,
    message: string,
    /** The contract's machine-readable error code (e.g. `unknown_tenant`), when given. */
    readonly code: string | null = null,
    /** Whether the body had the contract's `{ error }` shape. */
    readonly contractShape = false,
  ) {
    super(message);
  }

  /**
   * Whether trying again can help: no answer, a server fault, or throttling. A 4xx is the
   * caller's mistake and would fail the same way again, so activities mark it non-retryable.
   */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

export class JsonHttpClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

  constructor(baseUrl: string, options: HttpClientOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(baseUrl);
    } catch {
      throw new Error(`platform base URL ${JSON.stringify(baseUrl)} is not a valid URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(`platform base URL ${JSON.stringify(baseUrl)} must be http or https`);
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new Error(`platform HTTP timeout ${timeoutMs} must be a positive number of milliseconds`);
    }
    // Keep any path prefix (a gateway may mount the platform under /platform).
    this.base = parsed.toString().replace(/\/+$/, '');
    this.timeoutMs = timeoutMs;
    this.headers = { ...(options.headers ?? {}) };
  }

  get baseUrl(): string {
    return this.base;
  }

  async get<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    return this.parse('GET', path, schema, await this.send('GET', path));
  }

  /**
   * GET where "not found" is an answer, not a failure. Only a 404 carrying the contract's
   * `{ error }` body counts: a 404 page from a wrong base URL or a proxy must not be mistaken
   * for "this tenant does not exist".
   */
  async getOrNull<T>(path: string, schema: z.ZodType<T>): Promise<T | null> {
    try {
      return this.parse('GET', path, schema, await this.send('GET', path));
    } catch (err) {
      if (err instanceof PlatformHttpError && err.status === 404 && isContractNotFound(err)) return null;
      throw err;
    }
  }

  async put<T = unknown>(path: string, body: unknown, schema?: z.ZodType<T>): Promise<T | undefined> {
    const answer = await this.send('PUT', path, body);
    return schema ? this.parse('PUT', path, schema, answer) : undefined;
  }

  async post<T = unknown>(path: string, body: unknown, schema?: z.ZodType<T>): Promise<T | undefined> {
    const answer = await this.send('POST', path, body);
    return schema ? this.parse('POST', path, schema, answer) : undefined;
  }

  async delete<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    return this.parse('DELETE', path, schema, await this.send('DELETE', path));
  }

  private url(path: string): string {
    return `${this.base}${path.startsWith('/') ? path : `/${path}`}`;
  }

  private async send(method: Method, path: string, body?: unknown): Promise<unknown> {
    const url = this.url(path);
    const headers: Record<string, string> = { accept: 'application/json', ...this.headers };
    const holder = currentLeaseHolder();
    if (holder) headers[LEASE_HEADER] = holder;
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const reason = e.name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : `failed: ${e.cause?.code ?? e.cause?.message ?? e.message}`;
      throw new PlatformHttpError(method, url, 0, reason, `${method} ${url} ${reason}`);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      const reason = `answered ${response.status} but the body could not be read: ${(err as Error).message}`;
      throw new PlatformHttpError(method, url, 0, reason, `${method} ${url} ${reason}`);
    }
    if (!response.ok) {
      const server = readServerError(text);
      throw new PlatformHttpError(
        method,
        url,
        response.status,
        server.text,
        `${method} ${url} answered ${response.status} ${response.statusText}: ${server.text || '(empty body)'}`,
        server.code,
        server.contractShape,
      );
    }
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new PlatformHttpError(
        method,
        url,
        response.status,
        text.slice(0, 200),
        `${method} ${url} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      );
    }
  }

  private parse<T>(method: Method, path: string, schema: z.ZodType<T>, value: unknown): T {
    const result = schema.safeParse(value);
    if (!result.success) {
      // The platform broke the contract; say where, instead of failing later on undefined.
      throw new Error(`${method} ${this.url(path)} answered a body that breaks the contract: ${describeIssues(result.error, value)}`);
    }
    return result.data;
  }
}

interface ServerError {
  text: string;
  /** The contract's `code`, when the body had the contract's `{ error, code? }` shape. */
  code: string | null;
  contractShape: boolean;
}

function readServerError(text: string): ServerError {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; code?: unknown } | null;
    if (parsed && typeof parsed === 'object' && typeof parsed.error === 'string') {
      return { text: parsed.error, code: typeof parsed.code === 'string' ? parsed.code : null, contractShape: true };
    }
  } catch {
    // Not JSON: report the raw text.
  }
  return { text: text.slice(0, 500), code: null, contractShape: false };
}

function isContractNotFound(err: PlatformHttpError): boolean {
  return err.contractShape && err.code !== 'no_route';
}

/** `/directory/tenants/a%2Fb`: ids are path segments, never path fragments. */
export function segment(name: string, value: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return encodeURIComponent(value);
}
