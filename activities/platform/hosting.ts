/**
 * Hosting (modes, clusters, recycles) over the platform REST contract. Changes are accepted
 * (202) and applied later by the hosting layer: callers poll `getState().pendingOperations`.
 */
import { JsonHttpClient, segment, type HttpClientOptions } from './http-client';
import type { Hosting, HostingMode, HostingState } from './port';
import { responseSchemas } from './schemas';

export class HttpHosting implements Hosting {
  private readonly http: JsonHttpClient;

  constructor(baseUrl: string, options?: HttpClientOptions) {
    this.http = new JsonHttpClient(baseUrl, options);
  }

  getState(tenant: string): Promise<HostingState> {
    return this.http.get(tenantPath(tenant), responseSchemas.hostingState);
  }

  async setMode(tenant: string, mode: HostingMode): Promise<void> {
    await this.http.put(tenantPath(tenant, 'mode'), { mode });
  }

  async setClusters(tenant: string, clusters: string[]): Promise<void> {
    await this.http.put(tenantPath(tenant, 'clusters'), { clusters });
  }

  async recycle(tenant: string): Promise<void> {
    await this.http.post(tenantPath(tenant, 'recycles'), {});
  }
}

function tenantPath(id: string, sub?: string): string {
  return `/hosting/tenants/${segment('tenant id', id)}${sub ? `/${sub}` : ''}`;
}
