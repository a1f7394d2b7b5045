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

  async setRoutes(tenant: string, routes: MailRoute[]): Promise<void> {
    // Only the contract's fields: a caller's object with extras would be a 400, not a silent copy.
    const body = routes.map(({ address, destination }) => ({ address, destination }));
    await this.http.put(tenantPath(tenant, 'routes'), { routes: body });
  }

  async setMailboxes(tenant: string, addresses: string[]): Promise<void> {
    await this.http.put(tenantPath(tenant, 'mailbox-set'), { mailboxes: addresses });
  }
}

function tenantPath(id: string, sub: string): string {
  return `/mail/tenants/${segment('tenant id', id)}/${sub}`;
}
