/** Steps that make the copy the target's own: license, company and users, in database and directory. */
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

export function tenantIdentityActivities({ databases, directory }: CrossSystemDeps) {
  return defineSteps(databases, {
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
