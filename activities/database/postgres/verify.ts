/**
 * The independent gate after the scrub: every column of every table whose type can hold text
 * (not only the types the scrub rewrites: composites, enums, tsvector… are read too) is matched
 * against one plain pattern for an "at" outside the sandbox domain. It never calls the rewrite
 * functions, so a bug there cannot hide itself. Set-based and in parallel across tables: one
 * pass over the text of each table; only a table that fails is read again, column by column,
 * to name what failed.
 */
import { escapeIdentifier, type Pool } from 'pg';
import type { AddressColumn, ScrubVerification } from '../port';
import { keptColumns, type SanitizationProfile } from '../profile';
import { coverageOf, redacted, verificationOf } from '../address-findings';
import { bytesColumnSql, holdsBytes } from './bytea-text';
import { columnLabel, readCatalog, type CatalogColumn, type CatalogTable } from './catalog';
import { countDefaultsAt, readForeignDefaults } from './defaults';
import { changedSinceGate, markGatePassed, readAgain, startGateTracking } from './gate-tracking';
import { countLargeObjectsAt, largeObjectFinding, readLargeObjects } from './large-objects';
import { checkMailDomain } from './identifiers';
import { runFingerprint } from './run-fingerprint';
import { addressAtDomainPattern, foreignAddressPattern, foreignAddressPrefilter, foreignDomainCapture } from './scrub-sql';

/** Parallel table scans: the tenant pool has three connections and the servers we run on two cores. */
const PARALLEL_SCANS = 3;

/** Tables whose rows can be read here, with the columns whose type can hold text. */
function scannable(catalog: CatalogTable[]): { table: CatalogTable; columns: CatalogColumn[] }[] {
  return catalog
    .filter((t) => t.kind === 'table' || (t.kind === 'materialized view' && t.populated))
    .map((table) => ({ table, columns: table.columns.filter((c) => !c.cannotHoldText) }))
    .filter((u) => u.columns.length > 0)
    .sort((a, b) => b.table.pages - a.table.pages);
}

/** A column as the gate reads it: itself, or for a bytea the text it holds (bytea-text.ts). */
function asRead(c: CatalogColumn): string {
  const q = escapeIdentifier(c.name);
  return holdsBytes(c.rewrite) ? bytesColumnSql(c.rewrite, q).text : q;
}
const rowText = (columns: CatalogColumn[]) => `ROW(${columns.map(asRead).join(', ')})::text`;
const colText = (c: CatalogColumn) => `${asRead(c)}::text`;

export async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Per column of `columns`, how many values of `t` match `pattern`, reading only the rows that do. */
async function countPerColumn(pool: Pool, t: CatalogTable, columns: CatalogColumn[], pattern: string): Promise<number[]> {
  const counts = columns.map((c, i) => `count(*) FILTER (WHERE ${colText(c)} ~* $1) AS c${i}`);
  const r = await pool.query<Record<string, string>>(`SELECT ${counts.join(', ')} FROM ${t.sql} WHERE ${rowText(columns)} ~* $1`, [pattern]);
  return columns.map((_, i) => Number(r.rows[0][`c${i}`]));
}

async function example(pool: Pool, t: CatalogTable, c: CatalogColumn, sandbox: string): Promise<string> {
  const r = await pool.query<{ after: string | null }>(
    `SELECT (regexp_match(${colText(c)}, $2, 'i'))[1] AS after FROM ${t.sql} WHERE ${colText(c)} ~* $1 LIMIT 1`,
    [foreignAddressPattern(sandbox), foreignDomainCapture(sandbox)],
  );
  return redacted(r.rows[0]?.after ?? null);
}

export async function verifyEmails(pool: Pool, profile: SanitizationProfile, sandboxDomain: string): Promise<ScrubVerification> {
  const catalog = await readCatalog(pool);
  return verifyUnits(pool, profile, sandboxDomain, catalog, scannable(catalog));
}

/** The gate over `units` of `catalog` (all of them, or what the re-check reads again). */
async function verifyUnits(
  pool: Pool,
  profile: SanitizationProfile,
  sandboxDomain: string,
  catalog: CatalogTable[],
  units: ReturnType<typeof scannable>,
): Promise<ScrubVerification> {
  const sandbox = checkMailDomain(sandboxDomain);
  const pattern = foreignAddressPattern(sandbox);
  const prefilter = foreignAddressPrefilter(sandbox);
  const kept = keptColumns(profile, 'public');
  const remaining: Record<string, number> = {};
  const keptFound: Record<string, number> = {};
  const findings: string[] = [];
  const bytesNotRead: Record<string, number> = {};

  await inParallel(units, PARALLEL_SCANS, async ({ table: t, columns }) => {
    const isKept = (c: CatalogColumn) => kept.has(`${t.schema}.${t.name}.${c.name}`);
    const checked = columns.filter((c) => !isKept(c));
    const keptHere = columns.filter(isKept);
    const binary = checked.flatMap((c) => (holdsBytes(c.rewrite) ? [{ c, sql: bytesColumnSql(c.rewrite, escapeIdentifier(c.name)) }] : []));
    const foreign = (text: string) => `${text} ~* $2 AND ${text} ~* $1`;
    const parts = [checked.length ? `count(*) FILTER (WHERE ${foreign(rowText(checked))}) AS bad` : '0 AS bad'];
    keptHere.forEach((c, i) => parts.push(`count(*) FILTER (WHERE ${foreign(colText(c))}) AS k${i}`));
    binary.forEach(({ sql }, i) => parts.push(`count(*) FILTER (WHERE ${sql.notText}) AS b${i}`));
    const r = await pool.query<Record<string, string>>(`SELECT ${parts.join(', ')} FROM ${t.sql}`, [pattern, prefilter]);
    keptHere.forEach((c, i) => {
      const n = Number(r.rows[0][`k${i}`]);
      if (n > 0) keptFound[columnLabel(t, c.name)] = n;
    });
    binary.forEach(({ c }, i) => {
      const n = Number(r.rows[0][`b${i}`]);
      if (n > 0) bytesNotRead[columnLabel(t, c.name)] = n;
    });
    if (Number(r.rows[0].bad) === 0) return;
    const perColumn = await countPerColumn(pool, t, checked, pattern);
    let named = 0;
    for (const [i, c] of checked.entries()) {
      const n = perColumn[i];
      if (n === 0) continue;
      named += n;
      const label = columnLabel(t, c.name);
      remaining[label] = n;
      findings.push(`${label}: ${n} values, e.g. ${await example(pool, t, c, sandbox)}`);
    }
    if (named === 0) {
      // Only the row as a whole matches (cannot happen with the pattern's boundaries, but the
      // gate must not pass because the drill-down disagrees).
      const n = Number(r.rows[0].bad);
      remaining[t.label] = n;
      findings.push(`${t.label}: ${n} rows`);
    }
  });
  // Large objects and defaults are read every time, the re-check included: the gate's record of
  // writes sees the rows of tables only.
  const objects = await readLargeObjects(pool, sandbox);
  if (objects.foreign.length) {
    remaining['large objects'] = objects.foreign.length;
    findings.push(largeObjectFinding(objects));
  }
  const defaults = await readForeignDefaults(pool, sandbox, kept);
  for (const [label, example] of defaults.foreign) {
    remaining[label] = 1;
    findings.push(`${label}: ${example}`);
  }
  for (const label of defaults.kept) keptFound[label] = 1;
  return {
    ...verificationOf({
      remaining,
      findings,
      kept: keptFound,
      scanned: units,
      notScanned: catalog.filter((t) => t.kind === 'foreign table').map((t) => t.label),
    }),
    largeObjectsNotRead: objects.notText,
    bytesNotRead,
  };
}

/**
 * The gate of a clone's run (`scrub-emails`): writes and schema changes after it start being
 * recorded before it reads anything, and the record is marked passed when it finds nothing.
 */
export async function gateEmails(pool: Pool, profile: SanitizationProfile, sandboxDomain: string, runId: string): Promise<ScrubVerification> {
  const fingerprint = runFingerprint(profile, checkMailDomain(sandboxDomain), runId);
  const notTracked = await startGateTracking(pool, fingerprint);
  const v = await verifyEmails(pool, profile, sandboxDomain);
  if (notTracked !== null) return { ...v, tracking: { recorded: false, why: notTracked } };
  if (v.total === 0) await markGatePassed(pool, fingerprint);
  return { ...v, tracking: { recorded: true } };
}

/**
 * The re-check before users log in: the gate again, over the tables written since the run's
 * gate passed, or over everything when that cannot be proven (gate-tracking.ts).
 */
export async function recheckEmails(pool: Pool, profile: SanitizationProfile, sandboxDomain: string, runId: string): Promise<ScrubVerification> {
  const changed = await changedSinceGate(pool, runFingerprint(profile, checkMailDomain(sandboxDomain), runId));
  if ('whole' in changed) return { ...(await verifyEmails(pool, profile, sandboxDomain)), recheck: { whole: changed.whole } };
  const catalog = await readCatalog(pool);
  const all = scannable(catalog);
  const read = all.filter((u) => readAgain(changed, u.table));
  const v = await verifyUnits(pool, profile, sandboxDomain, catalog, read);
  return { ...v, recheck: { read: read.map((u) => u.table.label), unchanged: all.length - read.length } };
}

/** Values holding an address at exactly `domain`, per table (a sandbox domain must not occur in the source). */
export async function countAddressesAt(pool: Pool, domain: string): Promise<Record<string, number>> {
  const checked = checkMailDomain(domain);
  const pattern = addressAtDomainPattern(checked);
  // Every match holds the domain itself, in some case: ILIKE finds those rows at a fraction of
  // the pattern's cost (a domain has no LIKE wildcards), and only they meet the pattern.
  const holdsDomain = `%${checked}%`;
  const found: Record<string, number> = {};
  await inParallel(scannable(await readCatalog(pool)), PARALLEL_SCANS, async ({ table: t, columns }) => {
    const row = rowText(columns);
    const r = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${t.sql} WHERE ${row} ILIKE $2 AND ${row} ~* $1`, [pattern, holdsDomain]);
    if (Number(r.rows[0].n) > 0) found[t.label] = Number(r.rows[0].n);
  });
  const objects = await countLargeObjectsAt(pool, checked);
  if (objects > 0) found['large objects'] = objects;
  const defaults = await countDefaultsAt(pool, pattern);
  if (defaults > 0) found['defaults'] = defaults;
  return found;
}

/** Every column holding addresses outside the sandbox domain, with how the scrub covers it. */
export async function addressColumns(pool: Pool, profile: SanitizationProfile, sandboxDomain: string): Promise<AddressColumn[]> {
  const sandbox = checkMailDomain(sandboxDomain);
  const pattern = foreignAddressPattern(sandbox);
  const kept = keptColumns(profile, 'public');
  const out: AddressColumn[] = [];
  await inParallel(scannable(await readCatalog(pool)), PARALLEL_SCANS, async ({ table: t, columns }) => {
    const counts = await countPerColumn(pool, t, columns, pattern);
    for (const [i, c] of columns.entries()) {
      if (counts[i] === 0) continue;
      const coverage = coverageOf({ kept: kept.has(`${t.schema}.${t.name}.${c.name}`), generated: c.generated, rewritable: c.rewrite !== null });
      out.push({ column: columnLabel(t, c.name), type: c.type, values: counts[i], coverage, example: await example(pool, t, c, sandbox) });
    }
  });
  const objects = await readLargeObjects(pool, sandbox);
  if (objects.foreign.length)
    out.push({ column: 'large objects', type: 'large object', values: objects.foreign.length, coverage: 'rewritten', example: objects.example });
  const defaults = await readForeignDefaults(pool, sandbox, kept);
  for (const [label, example] of defaults.foreign) out.push({ column: label, type: 'default', values: 1, coverage: 'rewritten', example });
  for (const label of defaults.kept) out.push({ column: label, type: 'default', values: 1, coverage: 'kept', example: null });
  return out.sort((a, b) => a.column.localeCompare(b.column));
}
