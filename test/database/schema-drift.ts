/**
 * What schema drift adds to a seeded tenant database, none of it in the profile: columns and
 * tables no profile lists, a second schema, quoted names, a table without a key, a domain,
 * partitions, a generated column, a materialized view, an audit trigger, and types the scrub
 * cannot rewrite. Shared by the whole-database scrub test and the in-flight copy test.
 */
export async function plantSchemaDrift(q: (sql: string) => Promise<unknown>): Promise<void> {
  // What schema drift adds, none of it in the profile (the planted leaks and more).
  await q(`ALTER TABLE persons ADD COLUMN notes text, ADD COLUMN prefs jsonb, ADD COLUMN aliases text[]`);
  await q(
    `UPDATE persons SET notes = 'call bob@realcustomer.com', prefs = '{"cc":"alice@realcustomer.com","n":3}', aliases = ARRAY['carol@realcustomer.com','x'] WHERE id <= 3`,
  );
  await q(`UPDATE tickets SET title = title || ' (from dave@realcustomer.com)' WHERE id <= 2`);
  await q(`CREATE TABLE newsletter_subscribers (email text)`); // no key at all
  await q(
    `INSERT INTO newsletter_subscribers VALUES ('erin@realcustomer.com'), ('frank%40realcustomer.com'), ('gina&#64;realcustomer.com'), ('hank＠realcustomer.com')`,
  );
  await q(`CREATE SCHEMA crm; CREATE TABLE crm.leads (id int PRIMARY KEY, contact varchar(80), doc xml)`);
  await q(`INSERT INTO crm.leads VALUES (1, 'ivan@realcustomer.com', '<lead><mail>jill@realcustomer.com</mail></lead>'), (2, NULL, NULL)`);
  await q(`CREATE TABLE "Odd Table" ("E-Mail" varchar(100), n int)`);
  await q(`INSERT INTO "Odd Table" VALUES ('kate@realcustomer.com', 1)`);
  await q(`CREATE DOMAIN address AS text CHECK (VALUE ~ '@'); CREATE TABLE contacts_extra (id int PRIMARY KEY, primary_mail address)`);
  await q(`INSERT INTO contacts_extra VALUES (1, 'liam@realcustomer.com')`);
  await q(`CREATE TABLE events (id int, at date, who text) PARTITION BY RANGE (at);
           CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
           CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`);
  await q(`INSERT INTO events VALUES (1, '2025-05-01', 'mia@realcustomer.com'), (2, '2026-05-01', 'noah@realcustomer.com')`);
  await q(`ALTER TABLE users ADD COLUMN email_domain text GENERATED ALWAYS AS (lower(split_part(email, '@', 2))) STORED`);
  await q(`CREATE MATERIALIZED VIEW person_mails AS SELECT id, email FROM persons WHERE email IS NOT NULL`);
  // An audit trigger would copy every old value elsewhere: it must not fire during the scrub.
  await q(`CREATE TABLE audit_log (at timestamptz DEFAULT now(), old text)`);
  await q(`CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit_log (old) VALUES (OLD.email); RETURN NEW; END $$`);
  await q(`CREATE TRIGGER persons_audit AFTER UPDATE ON persons FOR EACH ROW EXECUTE FUNCTION audit()`);
  // Types the scrub cannot rewrite, in a table of their own, with an address the verification must see.
  await q(`CREATE TYPE contact_card AS (name text, mail text); CREATE TABLE cards (id int PRIMARY KEY, card contact_card, words tsvector)`);
}
