import type { Client } from '@temporalio/client';
import type { TenantDatabases } from '../database/engines';
import type { SanitizationProfile } from '../database/profile';
import type { Mailer } from '../mail/port';
import type { Directory, Hosting, MailService, PartnerApps } from '../platform/port';

/** Steps that span several outside systems get every port they use. */
export interface CrossSystemDeps {
  databases: TenantDatabases;
  profile: SanitizationProfile;
  directory: Directory;
  hosting: Hosting;
  mailService: MailService;
  partnerApps: PartnerApps;
  mailer: Mailer;
  /** Starts (or joins) the source's backup workflow from `backup-source`. */
  client: Client | null;
  webhookSecret: string;
  /** Domains a clone may rewrite addresses into (SANDBOX_MAIL_DOMAINS). */
  sandboxDomains: readonly string[];
  pollIntervalMs: number;
}
