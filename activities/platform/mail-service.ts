/** The mail service (inbound routes, mailboxes) over the platform REST contract. */
import { z } from 'zod';
import { JsonHttpClient, segment, type HttpClientOptions } from './http-client';
import type { MailRoute, MailService } from './port';
import { responseSchemas } from './schemas';

const routesBody = z.object({ routes: z.array(responseSchemas.mailRoute) });
const removedBody = z.object({ removed: z.number().int().min(0) });
const mailboxesBody = z.object({ mailboxes: z.array(z.string()) });

export class HttpMailService implements MailService {
  private readonly http: JsonHttpClient;

  constructor(baseUrl: string, options?: HttpClientOptions) {
    this.http = new JsonHttpClient(baseUrl, options);
  }

  async listRoutes(tenant: string): Promise<MailRoute[]> {
    return (await this.http.get(tenantPath(tenant, 'routes'), routesBody)).routes;
  }

  async removeRoutes(tenant: string): Promise<number> {
    return (await this.http.delete(tenantPath(tenant, 'routes'), removedBody)).removed;
  }

  async listMailboxes(tenant: string): Promise<string[]> {
    return (await this.http.get(tenantPath(tenant, 'mailboxes'), mailboxesBody)).mailboxes;
  }

  async replaceMailboxes(tenant: string, address: string): Promise<void> {
    await this.http.put(tenantPath(tenant, 'mailboxes'), { address });
  }
}

function tenantPath(id: string, sub: string): string {
  return `/mail/tenants/${segment('tenant id', id)}/${sub}`;
}
