/** The tenant's company record and its mailboxes. */
import type { Pool } from 'pg';
import type { CompanyInfo } from '../port';
import { inTransaction } from './connections';

const FIELDS: (keyof CompanyInfo)[] = ['companyName', 'serial', 'license', 'ownerCompany'];

export async function readCompanyInfo(pool: Pool): Promise<CompanyInfo> {
  const r = await pool.query<CompanyInfo>(
    'SELECT company_name AS "companyName", serial, license, owner_company AS "ownerCompany" FROM company_info ORDER BY id LIMIT 1',
  );
  if (r.rowCount === 0) throw new Error('company_info holds no row');
  return r.rows[0];
}

export async function setCompanyInfo(pool: Pool, info: CompanyInfo): Promise<void> {
  for (const f of FIELDS) {
    const v = info?.[f];
    if (typeof v !== 'string' || !v.trim() || v.length > 200) throw new Error(`invalid company info ${f} ${JSON.stringify(v)}: 1-200 characters`);
  }
  const r = await pool.query(
    `UPDATE company_info SET company_name = $1::text, serial = $2::text, license = $3::text, owner_company = $4::text
     WHERE (company_name, serial, license, owner_company) IS DISTINCT FROM ($1::text, $2::text, $3::text, $4::text)`,
    [info.companyName, info.serial, info.license, info.ownerCompany],
  );
  if (r.rowCount === 0) await readCompanyInfo(pool); // fails clearly when there is no row at all
}

/**
 * Leave exactly one mailbox, the test one, without credentials. Rows that already match are
 * kept (same id), so running this twice leaves identical data.
 */
export async function replaceMailboxes(pool: Pool, testMailbox: string): Promise<void> {
  if (typeof testMailbox !== 'string' || !/^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(testMailbox) || testMailbox.length > 254) {
    throw new Error(`invalid test mailbox address ${JSON.stringify(testMailbox)}`);
  }
  await inTransaction(pool, async (c) => {
    await c.query('LOCK TABLE mailboxes IN SHARE ROW EXCLUSIVE MODE');
    await c.query(
      `DELETE FROM mailboxes WHERE address <> $1 OR address IS NULL OR password IS NOT NULL OR encrypted_credentials IS NOT NULL
         OR id <> (SELECT min(id) FROM mailboxes WHERE address = $1)`,
      [testMailbox],
    );
    await c.query(
      `INSERT INTO mailboxes (address, display_name, password, encrypted_credentials)
       SELECT $1::text, 'Test mailbox', NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM mailboxes WHERE address = $1)`,
      [testMailbox],
    );
  });
}
