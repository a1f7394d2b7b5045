/**
 * `checkProfile` (workflow id `profile-check-<tenant>-…`): what a clone of a tenant would find
 * before anything is touched. Only the worker can read the tenant's database (its credentials
 * never leave it), so the command line and the client library ask through this workflow; it
 * runs one read-only activity.
 */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { AddressColumn } from '../activities/database/port';
import { PLAN_IDS, RequestError, checkTenantId, type PlanId } from './request';

export interface ProfileCheckRequest {
  tenant: string;
  /** The sandbox domain a clone would rewrite into (default mailinator.com). */
  mailDomain?: string;
  /** The plan whose profile is checked (default copy; point-in-time has its own). */
  plan?: PlanId;
}

export interface ProfileCheckReport {
  tenant: string;
  database: string;
  engine: string;
  profile: string;
  mailDomain: string;
  /** Every column holding an address outside the sandbox domain, with its coverage. */
  columns: AddressColumn[];
  /** Tables and columns the profile names that the database lacks. */
  missing: string[];
  /** Why a clone of this tenant would be refused or would fail; empty when it would pass. */
  problems: string[];
}

export interface ProfileCheckActivities {
  checkTenantProfile(request: Required<ProfileCheckRequest>): Promise<ProfileCheckReport>;
}

export const PROFILE_CHECK_REFUSED = 'ProfileCheckRefused';

export async function checkProfile(request: ProfileCheckRequest): Promise<ProfileCheckReport> {
  let tenant: string;
  const plan = request?.plan ?? 'copy';
  try {
    tenant = checkTenantId('checked', request?.tenant);
    if (!PLAN_IDS.includes(plan)) throw new RequestError(`plan ${JSON.stringify(plan)} is invalid: expected one of ${PLAN_IDS.join(', ')}`);
  } catch (err) {
    if (err instanceof RequestError) throw ApplicationFailure.nonRetryable(err.message, PROFILE_CHECK_REFUSED);
    throw err;
  }
  const mailDomain = typeof request.mailDomain === 'string' ? request.mailDomain.trim().toLowerCase() : 'mailinator.com';
  const { checkTenantProfile } = proxyActivities<ProfileCheckActivities>({
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '30s',
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: [PROFILE_CHECK_REFUSED] },
    summary: `profile check of ${tenant}`,
  });
  return checkTenantProfile({ tenant, mailDomain, plan });
}
