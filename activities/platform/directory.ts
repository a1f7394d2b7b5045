/** The identity directory ("SuperID") over the platform REST contract (openapi.yaml). */
import type { DatabaseEngine } from '../../workflows/step-contract';
import { z } from 'zod';
import { JsonHttpClient, PlatformHttpError, segment, type HttpClientOptions } from './http-client';
import type { Directory, DirectoryState, DirectoryUserRecord, Tenant } from './port';
import { responseSchemas } from './schemas';

const usersBody = z.object({ users: z.array(responseSchemas.directoryUser) });
const leaseBody = z.object({ holder: z.string().nullable() });

export class HttpDirectory implements Directory {
  private readonly http: JsonHttpClient;

  constructor(baseUrl: string, options?: HttpClientOptions) {
    this.http = new JsonHttpClient(baseUrl, options);
  }

  getTenant(id: string): Promise<Tenant | null> {
    return this.http.getOrNull(tenantPath(id), responseSchemas.tenant);
  }

  async copyCustomerInfo(target: string, source: string): Promise<void> {
    await this.http.put(tenantPath(target, 'customer-info'), { source });
  }

  async registerDatabase(target: string, database: { engine: DatabaseEngine; name: string }): Promise<void> {
    await this.http.put(tenantPath(target, 'database'), { engine: database.engine, name: database.name });
  }

  async setTestEnvironmentOf(target: string, source: string | null): Promise<void> {
    await this.http.put(tenantPath(target, 'test-environment-of'), { source });
  }

  async setState(target: string, state: DirectoryState): Promise<void> {
    await this.http.put(tenantPath(target, 'state'), { state });
  }

  async replaceUsers(target: string, users: DirectoryUserRecord[]): Promise<void> {
    await this.http.put(tenantPath(target, 'users'), { users });
  }

  async listUsers(target: string): Promise<DirectoryUserRecord[]> {
    return (await this.http.get(tenantPath(target, 'users'), usersBody)).users;
  }

  async getLease(tenant: string): Promise<string | null> {
    return (await this.http.get(tenantPath(tenant, 'lease'), leaseBody)).holder;
  }

  async acquireLease(tenant: string, holder: string, replaces: string | null = null): Promise<{ acquired: true } | { acquired: false; holder: string }> {
    try {
      await this.http.put(tenantPath(tenant, 'lease'), { holder, replaces }, leaseBody);
      return { acquired: true };
    } catch (err) {
      if (err instanceof PlatformHttpError && err.code === 'lease_held')
        return { acquired: false, holder: (await this.getLease(tenant)) ?? 'an unknown holder' };
      throw err;
    }
  }

  async releaseLease(tenant: string, holder: string): Promise<void> {
    try {
      await this.http.delete(`${tenantPath(tenant, 'lease')}?holder=${encodeURIComponent(holder)}`, z.unknown());
    } catch (err) {
      // Someone else holds it now: there is nothing of ours to give back.
      if (err instanceof PlatformHttpError && err.code === 'lease_held') return;
      throw err;
    }
  }

  async updateCompany(target: string, company: { companyName: string; serial: string; license: string }): Promise<void> {
    await this.http.put(tenantPath(target, 'company'), {
      companyName: company.companyName,
      serial: company.serial,
      license: company.license,
    });
  }
}

function tenantPath(id: string, sub?: string): string {
  return `/directory/tenants/${segment('tenant id', id)}${sub ? `/${sub}` : ''}`;
}
