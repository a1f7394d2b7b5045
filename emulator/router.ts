/**
 * A path-template router: `/directory/tenants/{tenantId}/state` matches one segment per
 * parameter, so an id containing `/` must arrive percent-encoded and cannot escape its slot.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError, type Reply } from './http-io';

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: string;
}

export type Handler = (ctx: RequestContext) => Promise<Reply>;

export interface Route {
  method: Method;
  template: string;
  handler: Handler;
}

export type Match = { kind: 'found'; route: Route; params: Record<string, string> } | { kind: 'wrong-method'; allowed: Method[] } | { kind: 'none' };

export class Router {
  private readonly routes: Route[] = [];

  add(method: Method, template: string, handler: Handler): this {
    this.routes.push({ method, template, handler });
    return this;
  }

  /** Wrap the handlers of the routes `which` picks (e.g. to fence every write to a tenant). */
  wrap(which: (route: Route) => boolean, wrapper: (handler: Handler) => Handler): this {
    for (const route of this.routes) if (which(route)) route.handler = wrapper(route.handler);
    return this;
  }

  list(): Array<{ method: Method; template: string }> {
    return this.routes.map(({ method, template }) => ({ method, template }));
  }

  match(method: string, pathname: string): Match {
    const segments = splitPath(pathname);
    const allowed: Method[] = [];
    for (const route of this.routes) {
      const params = matchTemplate(route.template, segments);
      if (!params) continue;
      if (route.method === method) return { kind: 'found', route, params };
      allowed.push(route.method);
    }
    return allowed.length ? { kind: 'wrong-method', allowed } : { kind: 'none' };
  }
}

function splitPath(pathname: string): string[] {
  const trimmed = pathname.replace(/\/+$/, '');
  return trimmed === '' ? [] : trimmed.slice(1).split('/');
}

function matchTemplate(template: string, segments: string[]): Record<string, string> | null {
  const parts = splitPath(template);
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const segment = segments[i]!;
    if (part.startsWith('{') && part.endsWith('}')) {
      let value: string;
      try {
        value = decodeURIComponent(segment);
      } catch {
        throw new HttpError(400, `path segment ${JSON.stringify(segment)} is not valid percent-encoding`, 'bad_request');
      }
      if (value === '') return null;
      params[part.slice(1, -1)] = value;
    } else if (part !== segment) {
      return null;
    }
  }
  return params;
}
