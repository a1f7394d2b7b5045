import type { Client } from '@temporalio/client';
import type { TenantDatabases } from '../database/engines';
import type { SanitizationProfiles } from '../database/profile';
import type { Mailer } from '../mail/port';
import type { Directory, Hosting, MailService, PartnerApps } from '../platform/port';
import type { RetentionDays } from './point-in-time-preflight';

/** Steps that span several outside systems get every port they use. */
export interface CrossSystemDeps {
  databases: TenantDatabases;
  /** By plan: see profileFor. */
  profiles: SanitizationProfiles;
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
  /** How far back a point-in-time clone may go (PITR_RETENTION_*_DAYS). */
  pointInTimeRetention: RetentionDays;
}
