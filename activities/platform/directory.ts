/** The identity directory ("SuperID") over the platform REST contract (openapi.yaml). */
import { z } from 'zod';
import { JsonHttpClient, segment, type HttpClientOptions } from './http-client';
import type { Directory, DirectoryState, DirectoryUserRecord, Tenant } from './port';
import { responseSchemas } from './schemas';

const usersBody = z.object({ users: z.array(responseSchemas.directoryUser) });

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

  async registerDatabase(target: string, database: { engine: 'postgres' | 'mssql'; name: string }): Promise<void> {
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
