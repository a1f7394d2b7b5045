/**
 * `checkTenantProfile`: what a clone of a tenant would meet, read-only, for `tenant-clone
 * profile check`: every column holding addresses and whether the scrub covers it, the names the
 * profile uses that the database lacks, and the sandbox domain against the allowlist and the
 * tenant's own data. The same checks as `check-request` and the verification, said ahead.
 */
import { ApplicationFailure } from '@temporalio/common';
import { PROFILE_CHECK_REFUSED, type ProfileCheckActivities } from '../../workflows/profile-check';
import { isDomainName, sandboxDomainRefusal } from '../../workflows/sandbox-domains';
import { profileFor } from '../database/profile';
import type { CrossSystemDeps } from './deps';
import { domainInUse, reportDetail } from './support';

export function profileCheckActivities({ databases, directory, profiles, sandboxDomains }: CrossSystemDeps): ProfileCheckActivities {
  return {
    async checkTenantProfile({ tenant, mailDomain, plan }) {
      const profile = profileFor(profiles, plan);
      const refuse = (message: string) => ApplicationFailure.create({ type: PROFILE_CHECK_REFUSED, message, nonRetryable: true });
      const t = await directory.getTenant(tenant);
      if (!t) throw refuse(`tenant ${tenant} is unknown to the directory`);
      if (!databases.has(t.database.engine)) throw refuse(`${tenant} lives on ${t.database.engine}, which this worker has no server for`);
      const db = databases.for(t.database.engine);
      const name = t.database.name;
      if (!(await db.exists(name))) throw refuse(`database ${name} of ${tenant} does not exist`);
      const problems: string[] = [];
      const domainProblem = sandboxDomainRefusal(mailDomain, sandboxDomains);
      if (domainProblem) problems.push(domainProblem);
      // Columns are read against a well-formed domain even when this one is refused, so the report is whole.
      const scanDomain = isDomainName(mailDomain) ? mailDomain : 'mailinator.com';
      reportDetail('profile-check', `reading ${name} for addresses`);
      const [missing, columns, atDomain] = await Promise.all([
        db.missingProfileNames(name, profile),
        db.addressColumns(name, profile, scanDomain),
        db.countAddressesAt(name, scanDomain),
      ]);
      if (missing.length) problems.push(`the profile names what ${name} does not have: ${missing.join(', ')}`);
      const inUse = domainInUse(tenant, mailDomain, atDomain);
      if (inUse) problems.push(inUse);
      for (const c of columns.filter((x) => x.coverage === 'not-rewritable')) {
        problems.push(
          `${c.column} (${c.type}) holds ${c.values} values with addresses the scrub cannot rewrite, e.g. ${c.example}: the verification would fail the clone`,
        );
      }
      return { tenant, database: name, engine: t.database.engine, profile: profile.name, mailDomain, columns, missing, problems };
    },
  };
}
