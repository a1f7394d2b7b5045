/**
 * What both engines report of addresses the same way: the redaction of an example (only its
 * domain may appear in a message: messages land in workflow history), the cap on findings, a
 * column's coverage, and the profile names a database lacks.
 */
import type { AddressColumn, ScrubVerification } from './port';
import { profileNames, splitTableName, type SanitizationProfile } from './profile';

const AT_SPLIT = /@|＠|%40|&#0*64;|&#x0*40;|\\u0040/i;
const MAX_FINDINGS = 20;

/** `…@domain` from the text after an offending "at" (or a whole token): never the local part. */
export function redacted(text: string | null): string {
  if (text === null) return '(no example)';
  return `…@${text.split(AT_SPLIT).pop()}`;
}

/** Large objects by oid, the first ten of them. */
export function oidList(oids: number[]): string {
  return `oid ${oids.slice(0, 10).join(', ')}${oids.length > 10 ? ', …' : ''}`;
}

/** Findings sorted, at most MAX_FINDINGS of them and a line saying how many more. */
function capFindings(findings: string[]): string[] {
  const sorted = [...findings].sort();
  return sorted.length > MAX_FINDINGS ? [...sorted.slice(0, MAX_FINDINGS), `… and ${sorted.length - MAX_FINDINGS} more columns`] : sorted;
}

/** The verification's result from what it found; the total is the sum of what remains. */
export function verificationOf(found: {
  remaining: Record<string, number>;
  findings: string[];
  kept: Record<string, number>;
  scanned: { table: unknown; columns: unknown[] }[];
  notScanned: string[];
}): ScrubVerification {
  return {
    remaining: found.remaining,
    total: Object.values(found.remaining).reduce((a, b) => a + b, 0),
    findings: capFindings(found.findings),
    kept: found.kept,
    scanned: { tables: found.scanned.length, columns: found.scanned.reduce((a, u) => a + u.columns.length, 0) },
    notScanned: found.notScanned,
  };
}

export function coverageOf(c: { kept: boolean; generated: boolean; rewritable: boolean }): AddressColumn['coverage'] {
  if (c.kept) return 'kept';
  if (c.generated) return 'recomputed';
  return c.rewritable ? 'rewritten' : 'not-rewritable';
}

/** The tables and columns the profile names that are not among `columns` (`schema.table.column`). */
export function missingNames(profile: SanitizationProfile, columns: { schema: string; table: string; column: string }[], defaultSchema: string): string[] {
  const tables = new Set(columns.map((x) => `${x.schema}.${x.table}`));
  const all = new Set(columns.map((x) => `${x.schema}.${x.table}.${x.column}`));
  const missing = new Set<string>();
  for (const { table, columns: cols } of profileNames(profile)) {
    const { schema, table: name } = splitTableName(table, defaultSchema);
    if (!tables.has(`${schema}.${name}`)) {
      missing.add(`table "${table}"`);
      continue;
    }
    for (const c of cols) if (!all.has(`${schema}.${name}.${c}`)) missing.add(`column "${table}.${c}"`);
  }
  return [...missing];
}
