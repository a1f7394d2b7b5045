/** Builds the four platform adapters against one base URL (the platform or its emulator). */
import { HttpDirectory } from './directory';
import { HttpHosting } from './hosting';
import type { HttpClientOptions } from './http-client';
import { HttpMailService } from './mail-service';
import { HttpPartnerApps } from './partner-apps';
import type { Directory, Hosting, MailService, PartnerApps } from './port';

export interface Platform {
  directory: Directory;
  hosting: Hosting;
  mailService: MailService;
  partnerApps: PartnerApps;
}

export function createPlatform(baseUrl: string, options?: HttpClientOptions): Platform {
  return {
    directory: new HttpDirectory(baseUrl, options),
    hosting: new HttpHosting(baseUrl, options),
    mailService: new HttpMailService(baseUrl, options),
    partnerApps: new HttpPartnerApps(baseUrl, options),
  };
}

export { HttpDirectory, HttpHosting, HttpMailService, HttpPartnerApps };
export { JsonHttpClient, PlatformHttpError, type HttpClientOptions } from './http-client';
export { signWebhook, verifyWebhook, postSignedWebhook, WEBHOOK_SIGNATURE_HEADER } from './webhook';
