/**
 * Column and domain defaults: schema, not rows, so neither the row scrub nor a gate over rows
 * sees them; yet a default of 'alerts@customer.com' gives every row the sandbox inserts later a
 * real address. The scrub rewrites the address tokens of each default's expression by the rule
 * of an unbounded text column (a quote is a separator, so a literal stays a literal), the gate
 * and the re-check read every default, and `profile check` lists those that hold addresses.
 *
 * A generated column's expression is not a default: its values are rows, which the gate reads.
 */
import { escapeIdentifier, type Pool } from 'pg';
import { redacted } from '../address-findings';
import { foreignAddressPattern, foreignAddressPrefilter, foreignDomainCapture } from './scrub-sql';

export interface Default {
  /** `default of table.column` or `default of domain name`: how findings name it. */
  label: string;
  /** `schema.table.column` for a column (as the profile's keep list names it), null for a domain. */
  column: string | null;
  /** The statement that sets it, given the new expression. */
  set: (expression: string) => string;
  expression: string;
}

const DEFAULTS = `
  SELECT n.nspname AS schema, c.relname AS owner, a.attname AS name, pg_get_expr(d.adbin, d.adrelid) AS expression, false AS domain
    FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE a.attgenerated = '' AND NOT a.attisdropped
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenant_clone') AND n.nspname NOT LIKE 'pg\\_%'
     AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
  UNION ALL
  SELECT n.nspname, t.typname, NULL, t.typdefault, true
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE t.typtype = 'd' AND t.typdefault IS NOT NULL
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenant_clone') AND n.nspname NOT LIKE 'pg\\_%'
     AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')
   ORDER BY 1, 2, 3`;

/** Every default of a table column or a domain outside the system schemas and the tool's own. */
export async function readDefaults(pool: Pool): Promise<Default[]> {
  const r = await pool.query<{ schema: string; owner: string; name: string | null; expression: string; domain: boolean }>(DEFAULTS);
  return r.rows.map((d) => {
    const owner = `${escapeIdentifier(d.schema)}.${escapeIdentifier(d.owner)}`;
    const label = d.schema === 'public' ? d.owner : `${d.schema}.${d.owner}`;
    if (d.domain) return { label: `default of domain ${label}`, column: null, set: (e) => `ALTER DOMAIN ${owner} SET DEFAULT ${e}`, expression: d.expression };
    // ONLY: a partition or child has its own default, listed and rewritten on its own.
    const set = (e: string) => `ALTER TABLE ONLY ${owner} ALTER COLUMN ${escapeIdentifier(d.name!)} SET DEFAULT ${e}`;
    return { label: `default of ${label}.${d.name}`, column: `${d.schema}.${d.owner}.${d.name}`, set, expression: d.expression };
  });
}

/** How many defaults hold an address at exactly `domain` (a sandbox domain must not occur in the source). */
export async function countDefaultsAt(pool: Pool, pattern: string): Promise<number> {
  const defaults = await readDefaults(pool);
  if (defaults.length === 0) return 0;
  const r = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM unnest($1::text[]) AS e WHERE e ~* $2`, [
    defaults.map((d) => d.expression),
    pattern,
  ]);
  return r.rows[0].n;
}

export interface DefaultFindings {
  /** Defaults holding an address outside the sandbox domain, outside the profile's keep list: label → example. */
  foreign: Map<string, string>;
  /** The same among the columns the profile keeps. */
  kept: string[];
}

/** What the gate finds in the defaults (with its own pattern, never the rewrite functions). */
export async function readForeignDefaults(pool: Pool, sandbox: string, kept: Set<string>): Promise<DefaultFindings> {
  const found: DefaultFindings = { foreign: new Map(), kept: [] };
  const defaults = await readDefaults(pool);
  if (defaults.length === 0) return found;
  const r = await pool.query<{ i: number; after: string | null }>(
    `SELECT x.o::int - 1 AS i, (regexp_match(x.e, $3, 'i'))[1] AS after FROM unnest($1::text[]) WITH ORDINALITY AS x(e, o) WHERE x.e ~* $4 AND x.e ~* $2`,
    [defaults.map((d) => d.expression), foreignAddressPattern(sandbox), foreignDomainCapture(sandbox), foreignAddressPrefilter(sandbox)],
  );
  for (const { i, after } of r.rows) {
    const d = defaults[i];
    if (d.column !== null && kept.has(d.column)) found.kept.push(d.label);
    else found.foreign.set(d.label, redacted(after));
  }
  return found;
}

/**
 * Rewrites every default that holds an "at" (outside the profile's keep list) with the rule's
 * functions, which must be installed. A rewritten expression the server refuses is left as it
 * was, for the gate to name. Returns how many changed.
 */
export async function scrubDefaults(pool: Pool, sandbox: string, kept: Set<string>): Promise<number> {
  const defaults = (await readDefaults(pool)).filter((d) => d.column === null || !kept.has(d.column));
  if (defaults.length === 0) return 0;
  const r = await pool.query<{ i: number; after: string }>(
    `SELECT x.o::int - 1 AS i, tenant_clone.rewrite_field(x.e, $2, NULL, true) AS after
       FROM unnest($1::text[]) WITH ORDINALITY AS x(e, o) WHERE tenant_clone.has_at(x.e)`,
    [defaults.map((d) => d.expression), sandbox],
  );
  let changed = 0;
  for (const { i, after } of r.rows) {
    const d = defaults[i];
    if (after === null || after === d.expression) continue;
    const ok = await pool.query(d.set(after)).then(
      () => true,
      (err: { code?: string }) => {
        // A syntax or type error: the rewrite broke the expression; the gate names the default.
        if (err.code?.startsWith('42') || err.code?.startsWith('22')) return false;
        throw err;
      },
    );
    if (ok) changed++;
  }
  return changed;
}
