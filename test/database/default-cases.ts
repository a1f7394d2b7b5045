/**
 * Column and domain defaults with and without addresses, and what a clone must leave of them;
 * shared by the in-place and the in-flight tests.
 */

/** The default of each column of `alerts` and of the domain, as the catalog prints it. */
export const DEFAULTS_SQL = `
  SELECT a.attname AS name, pg_get_expr(d.adbin, d.adrelid) AS expression FROM pg_attrdef d
    JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = 'alerts'::regclass
  UNION ALL SELECT 'domain', typdefault FROM pg_type WHERE typname = 'contact_email'
  UNION ALL SELECT 'crm', pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d WHERE d.adrelid = 'crm.queues'::regclass
  ORDER BY 1`;

/** Creates the defaults: with addresses (plain, JSON, obfuscated in a domain, a display name in a second schema) and without. */
export async function plantDefaults(q: (sql: string) => Promise<unknown>): Promise<void> {
  await q(`CREATE DOMAIN contact_email AS text DEFAULT 'per＠realcustomer.no'`);
  await q(`CREATE TABLE alerts (
    id serial PRIMARY KEY,
    notify text DEFAULT 'alerts@realcustomer.com',
    cfg jsonb DEFAULT '{"to": ["ops@realcustomer.com"], "n": 3}',
    owner contact_email,
    plain text DEFAULT 'no address',
    sandboxed text DEFAULT 'x@mailinator.com',
    made timestamptz DEFAULT now())`);
  await q(`CREATE SCHEMA IF NOT EXISTS crm`);
  await q(`CREATE TABLE crm.queues (id int, reply_to varchar(200) DEFAULT 'Support <help@realcustomer.com>')`);
}

/** What the scrub must leave, by the names DEFAULTS_SQL gives. */
export const SCRUBBED_DEFAULTS = [
  { name: 'cfg', expression: `'{"n": 3, "to": ["ops_realcustomer.com@mailinator.com"]}'::jsonb` },
  { name: 'crm', expression: `'Support <help_realcustomer.com@mailinator.com>'::character varying` },
  { name: 'domain', expression: `'per_realcustomer.no@mailinator.com'::text` },
  { name: 'id', expression: `nextval('alerts_id_seq'::regclass)` },
  { name: 'made', expression: 'now()' },
  { name: 'notify', expression: `'alerts_realcustomer.com@mailinator.com'::text` },
  { name: 'plain', expression: `'no address'::text` },
  { name: 'sandboxed', expression: `'x@mailinator.com'::text` },
];
