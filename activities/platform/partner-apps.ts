/** The partner-app registry over the platform REST contract. */
import { JsonHttpClient, segment, type HttpClientOptions } from './http-client';
import type { PartnerApp, PartnerApps } from './port';
import { responseSchemas } from './schemas';

export class HttpPartnerApps implements PartnerApps {
  private readonly http: JsonHttpClient;

  constructor(baseUrl: string, options?: HttpClientOptions) {
    this.http = new JsonHttpClient(baseUrl, options);
  }

  getApp(appId: string): Promise<PartnerApp | null> {
    return this.http.getOrNull(`/apps/${segment('app id', appId)}`, responseSchemas.partnerApp);
  }
}
