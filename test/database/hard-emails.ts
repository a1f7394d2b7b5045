/**
 * The hard e-mail values and their exact expected rewrites, shared by both engines' tests so
 * SQL Server is held to exactly PostgreSQL's results. One row per case in a table `hard`
 * whose columns have the lengths below.
 */
import { createHash } from 'node:crypto';
import { profileSchema, type SanitizationProfile } from '../../activities/database/profile';

export const SANDBOX = 'mailinator.com';
const hex8 = (s: string): string => createHash('md5').update(s).digest('hex').slice(0, 8);

/** [column, input, expected] */
export const HARD_EMAILS: [string, string | null, string | null][] = [
  ['e254', 'john.doe@company.com', 'john.doe_company.com@mailinator.com'],
  ['e254', null, null],
  ['e254', '', ''],
  ['e254', 'no address here', 'no address here'],
  ['e254', 'n/a', 'n/a'],
  ['e254', 'jane@mailinator.com', 'jane@mailinator.com'],
  ['e254', 'JANE@MailInator.COM', 'JANE@MailInator.COM'],
  ['e254', 'a@b@x.com', 'a_b_x.com@mailinator.com'],
  ['e254', 'John.DOE@Company.COM', 'John.DOE_company.com@mailinator.com'],
  ['e254', '"Jane Roe" <jane@x.com>', '"Jane Roe" <jane_x.com@mailinator.com>'],
  ['e254', 'Jane Roe <Jane@X.com>', 'Jane Roe <Jane_x.com@mailinator.com>'],
  ['e254', 'a@x.com; b@y.org', 'a_x.com@mailinator.com; b_y.org@mailinator.com'],
  ['e254', 'a@x.com,b@y.org', 'a_x.com@mailinator.com,b_y.org@mailinator.com'],
  ['e254', 'a@x.com; ok@mailinator.com', 'a_x.com@mailinator.com; ok@mailinator.com'],
  ['e254', '"Roe, Jane" <jane@x.com>, bob@y.org', '"Roe, Jane" <jane_x.com@mailinator.com>, bob_y.org@mailinator.com'],
  ['e254', 'x@mailinator.com.evil.org', 'x_mailinator.com.evil.org@mailinator.com'],
  ['e254', '  bob@x.com ', '  bob_x.com@mailinator.com '],
  ['e254', 'user@', 'user_@mailinator.com'],
  ['e254', '@x.com', '_x.com@mailinator.com'],
  // Two @ before the sandbox domain: not a sandbox address, so rewritten like any other.
  ['e254', 'a@b@mailinator.com', 'a_b_mailinator.com@mailinator.com'],
  // Obfuscated "at" forms are addresses too, written back as a plain @.
  ['e254', 'john%40company.com', 'john_company.com@mailinator.com'],
  ['e254', 'john\uFF20company.com', 'john_company.com@mailinator.com'],
  ['e254', 'john&#64;company.com', 'john_company.com@mailinator.com'],
  ['e254', 'john&#x40;company.com', 'john_company.com@mailinator.com'],
  ['e254', 'https://crm.example/u?e=john%40company.com&x=1', 'https://crm.example/u?e=john_company.com&x=1@mailinator.com'],
  ['e254', 'x\\u0040y.com', 'x_y.com@mailinator.com'],
  ['e254', 'bob%40mailinator.com', 'bob%40mailinator.com'],
  // Handles are no addresses: @media, @acme, @types/node stay; with a dot it is a domain.
  ['e254', '@media screen and (max-width: 600px)', '@media screen and (max-width: 600px)'],
  ['e254', 'ping @acme or @types/node', 'ping @acme or @types/node'],
  ['e254', "o'brien@x.com", "o'brien_x.com@mailinator.com"],
  ['e254', '{bob@x.com}', '{bob_x.com@mailinator.com}'],
  // JSON kept in a text column stays valid: the backslash of \" ends a token.
  ['txt', '{"note":"say \\"bob@x.com\\" now"}', '{"note":"say \\"bob_x.com@mailinator.com\\" now"}'],
  ['txt', 'plain@text-column.com', 'plain_text-column.com@mailinator.com'],
  // Over-long results: stable short form <prefix>_<md5 hex>@sandbox that fits.
  ['e40', 'averyveryverylongname@some-company.com', `averyveryverylon_${hex8('averyveryverylongname@some-company.com')}@mailinator.com`],
  ['e40', 'a@x.com; b@y.org; c@z.net', `a_x.com_${hex8('a@x.com; b@y.org; c@z.net')}@mailinator.com`],
  ['e40', 'short@x.io', 'short_x.io@mailinator.com'],
  ['e20', 'bob@ex.com', `${hex8('bob@ex.com').slice(0, 5)}@mailinator.com`],
  ['tiny', 'ab@x.io', null],
  ['tiny_nn', 'ab@x.io', ''],
  ['tiny', 'none', 'none'],
];

/** Declared length of each column of `hard` (null = unbounded text). tiny_nn is NOT NULL. */
export const HARD_LENGTHS: Record<string, number | null> = { e254: 254, e40: 40, e20: 20, tiny: 12, tiny_nn: 12, txt: null };

/** Values that hold an address outside the sandbox before the scrub. */
export const FOREIGN_BEFORE = HARD_EMAILS.filter(([, input, out]) => input !== out && input !== null).length;

export function hardProfile(): SanitizationProfile {
  return profileSchema.parse({
    name: 'rewrite-test',
    emails: { batchSize: 100 },
    users: { table: 'hard', loginColumn: 'id', enabledColumn: 'id', systemColumn: 'id', planColumn: 'id' },
    scheduledTasks: { table: 'hard', enabledColumn: 'id' },
  });
}
