/** Steps that make the copy the target's own: license, company and users, in database and directory. */
import { ApplicationFailure } from '@temporalio/common';
import { profileFor } from '../database/profile';
import type { CrossSystemDeps } from './deps';
import { defineSteps } from './support';

const TEST_SERIAL_PREFIX = 'Test Env - ';

/**
 * Seed 000 step 15: "Test Env - COMPANYNAME/SERIALNUMBER", from the target's own record. After
 * a first clone the directory already holds that form; it is kept, so a re-clone does not
 * stack prefixes.
 */
export const testSerial = (companyName: string, serial: string) =>
  serial.startsWith(TEST_SERIAL_PREFIX) ? serial : `${TEST_SERIAL_PREFIX}${companyName}/${serial}`;

export function tenantIdentityActivities({ databases, directory, profiles }: CrossSystemDeps) {
  return defineSteps(databases, {
    /**
     * Seed 003: every user but the administrator disabled, and the administrator reset to the
     * target's own, as the directory records it, so it alone can clean up before anyone else logs in.
     */
    async restrictToAdministrator({ db, facts: { targetDatabase }, request }) {
      const profile = profileFor(profiles, request.plan);
      const login = profile.users.administrator?.login;
      if (!login) throw ApplicationFailure.nonRetryable(`the sanitization profile ${profile.name} names no users.administrator (seed 003)`, 'ProfileError');
      const admin = (await directory.listUsers(request.target)).find((u) => u.login === login);
      const r = await db.restrictToAdministrator(targetDatabase, profile, admin?.email ?? null, request.mailDomain);
      const whose = admin
        ? `reset to ${request.target}'s administrator as the directory records it`
        : `the directory records no ${login} for ${request.target}, so it has no address`;
      return { note: `${r.disabled} users disabled; only ${r.administrator} may log in, ${whose}` };
    },

    async changeSerial({ db, facts: f }) {
      const serial = testSerial(f.targetCompanyName, f.targetSerial);
      await db.setCompanyInfo(f.targetDatabase, {
        companyName: f.targetCompanyName,
        serial,
        license: f.targetLicense,
        ownerCompany: f.targetCompanyName,
      });
      return { note: `serial: ${serial}` };
    },

    async syncDirectoryUsers({ db, facts: { targetDatabase }, request }) {
      const users = (await db.listUsers(targetDatabase)).filter((u) => !u.isSystem);
      await directory.replaceUsers(
        request.target,
        users.map(({ login, email, plan, enabled }) => ({ login, email, plan, enabled })),
      );
      return { note: `${users.length} users pushed to the directory (${users.filter((u) => u.enabled).length} enabled)` };
    },

    async updateCompanyInfo({ db, facts: { targetDatabase }, request }) {
      const info = await db.readCompanyInfo(targetDatabase);
      await directory.updateCompany(request.target, { companyName: info.companyName, serial: info.serial, license: info.license });
      return { note: `directory company record: ${info.companyName}, ${info.serial}` };
    },
  });
}
