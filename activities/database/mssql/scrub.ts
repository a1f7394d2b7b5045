/**
 * The whole-database e-mail scrub and its independent verification on SQL Server. Every user
 * table the catalog lists is walked: in key ranges of its primary (or clustered) key's first
 * column when that key's text form sorts exactly, else in one statement; each batch is one
 * transaction holding the UPDATE of every text column and (with a runId) the checkpoint row.
 */
import type sql from 'mssql';
import type { AddressColumn, ScrubCheckpoint, ScrubOptions, ScrubVerification } from '../port';
import { keptColumns, type SanitizationProfile } from '../profile';
import { coverageOf, missingNames, redacted, verificationOf } from '../address-findings';
import { runTableScrub, startingCheckpoint } from '../table-scrub';
import { inTransaction, rows, run } from './connections';
import { abortError } from './progress';
import * as ts from './tsql/scrub';
import { checkMailDomain } from './tsql/identifiers';

interface Column extends ts.ScrubColumn {
  computed: boolean;
}

interface Table extends ts.TableRef {
  label: string;
  rows: number;
  /** A system-versioned history table: SQL Server refuses updates to it. */
  history: boolean;
  key: string | null;
  keyType: string | null;
  columns: Column[];
  triggers: string[];
}

async function readCatalog(pool: sql.ConnectionPool): Promise<Table[]> {
  const cols = await rows<{
    schema_name: string;
    table_name: string;
    column_name: string;
    base_type: string;
    max_chars: number | null;
    nullable: boolean;
    computed: boolean;
    temporal_type: number;
    table_rows: string | number | null;
    key_column: string | null;
    key_type: string | null;
  }>(pool, ts.catalogColumns());
  const triggers = await rows<{ schema_name: string; table_name: string; trigger_name: string }>(pool, ts.enabledTriggers());
  const tables = new Map<string, Table>();
  for (const c of cols) {
    const id = `${c.schema_name}.${c.table_name}`;
    let t = tables.get(id);
    if (!t) {
      t = {
        schema: c.schema_name,
        name: c.table_name,
        label: c.schema_name === 'dbo' ? c.table_name : id,
        rows: Number(c.table_rows ?? 0),
        history: c.temporal_type === 1,
        key: c.key_column,
        keyType: c.key_type,
        columns: [],
        triggers: triggers.filter((tr) => tr.schema_name === c.schema_name && tr.table_name === c.table_name).map((tr) => tr.trigger_name),
      };
      tables.set(id, t);
    }
    const lengthLimited = ['nvarchar', 'varchar', 'nchar', 'char'].includes(c.base_type);
    t.columns.push({ name: c.column_name, baseType: c.base_type, maxChars: lengthLimited ? c.max_chars : null, nullable: c.nullable, computed: c.computed });
  }
  return [...tables.values()];
}

const keyOf = (t: Table, column: string) => `${t.schema}.${t.name}.${column}`;
const columnLabel = (t: Table, column: string) => `${t.label}.${column}`;

/** Schema, checkpoint table and rewrite functions, serialised so concurrent installs do not clash. */
export async function installRewrite(pool: sql.ConnectionPool): Promise<void> {
  await inTransaction(pool, async (tx) => {
    await run(tx, ts.installLock());
    await run(tx, ts.installSchema());
    await run(tx, ts.installPlainRewriteFunction());
    await run(tx, ts.installRewriteFunction());
  });
}

export async function scrubEmails(pool: sql.ConnectionPool, profile: SanitizationProfile, opts: ScrubOptions): Promise<ScrubCheckpoint> {
  const sandbox = checkMailDomain(opts.sandboxDomain);
  // The profile's size is tuned for PostgreSQL; here it is clamped below lock escalation.
  const batchSize = ts.clampBatchSize(opts.batchSize ?? profile.emails.batchSize);
  const keep = keptColumns(profile, 'dbo');
  const units = (await readCatalog(pool))
    .filter((t) => !t.history)
    .map((t) => ({ table: t, columns: t.columns.filter((c) => ts.isRewritableType(c.baseType) && !c.computed && !keep.has(keyOf(t, c.name))) }))
    .filter((u) => u.columns.length > 0 && u.table.rows > 0);
  await installRewrite(pool);
  const tables = units.map((u) => ({ label: u.table.label, weight: Math.max(1, u.table.rows) }));
  const stored = opts.runId ? await storedCheckpoint(pool, opts.runId) : null;
  const start = startingCheckpoint(stored ?? opts.checkpoint, tables);

  const done = await runTableScrub({
    tables,
    start,
    opts,
    aborted: (signal) => abortError(signal, 'e-mail scrub'),
    // A table is walked in key ranges ("k:<last key>"), then its NULL keys ("null"); a table
    // without a usable key in one statement.
    batch: (ti, after, next) => {
      const { table: t, columns } = units[ti];
      const ranged = t.key !== null && t.keyType !== null && ts.RANGE_KEY_TYPES.has(t.keyType);
      return inTransaction(pool, async (tx) => {
        let range: ts.ScrubRange;
        let position: string | null;
        let done = 1;
        if (!ranged) {
          range = { kind: 'all' };
          position = null;
        } else if (after === 'null') {
          range = { kind: 'null-key', key: t.key! };
          position = null;
        } else {
          const lo = after === null ? null : after.slice(2);
          const [bound] = await rows<{ hi: string | null; n: number }>(tx, ts.tableBatchBound(t, t.key!, batchSize, lo));
          if (bound.n === 0 || bound.hi === null) {
            range = { kind: 'null-key', key: t.key! };
            position = null;
          } else {
            range = { kind: 'range', key: t.key!, lo, hi: bound.hi };
            position = `k:${bound.hi}`;
            done = 0.5;
          }
        }
        const upd = await run(tx, ts.tableScrub(t, columns, sandbox, range, t.triggers));
        const updated = upd.rowsAffected.reduce((x, y) => x + y, 0);
        if (opts.runId) await run(tx, ts.saveCheckpoint(opts.runId, JSON.stringify(next(position, updated))));
        return { after: position, updated, done };
      });
    },
  });
  if (opts.runId) await run(pool, ts.saveCheckpoint(opts.runId, JSON.stringify(done)));
  return done;
}

async function storedCheckpoint(pool: sql.ConnectionPool, runId: string): Promise<unknown> {
  const [r] = await rows<{ state_json: string }>(pool, ts.loadCheckpoint(runId));
  return r ? JSON.parse(r.state_json) : null;
}

function scannable(tables: Table[]) {
  return tables.map((t) => ({ table: t, columns: t.columns.filter((c) => ts.canHoldText(c.baseType)) })).filter((u) => u.columns.length > 0);
}

export async function verifyEmails(pool: sql.ConnectionPool, profile: SanitizationProfile, sandboxDomain: string): Promise<ScrubVerification> {
  const sandbox = checkMailDomain(sandboxDomain);
  const keep = keptColumns(profile, 'dbo');
  const units = scannable(await readCatalog(pool));
  const remaining: Record<string, number> = {};
  const keptFound: Record<string, number> = {};
  const findings: string[] = [];
  for (const { table: t, columns } of units) {
    for (const c of columns) {
      const [r] = await rows<{ n: string | number; example: string | null }>(pool, ts.verifyColumn(t, c.name, sandbox));
      const n = Number(r.n);
      if (n === 0) continue;
      const label = columnLabel(t, c.name);
      if (keep.has(keyOf(t, c.name))) {
        keptFound[label] = n;
        continue;
      }
      remaining[label] = n;
      findings.push(`${label}: ${n} values, e.g. ${redacted(r.example)}`);
    }
  }
  return verificationOf({ remaining, findings, kept: keptFound, scanned: units, notScanned: [] });
}

export async function countAddressesAt(pool: sql.ConnectionPool, domain: string): Promise<Record<string, number>> {
  const d = checkMailDomain(domain);
  const found: Record<string, number> = {};
  for (const { table: t, columns } of scannable(await readCatalog(pool))) {
    for (const c of columns) {
      const [r] = await rows<{ n: string | number }>(pool, ts.countAtDomain(t, c.name, d));
      if (Number(r.n) > 0) found[t.label] = (found[t.label] ?? 0) + Number(r.n);
    }
  }
  return found;
}

export async function addressColumns(pool: sql.ConnectionPool, profile: SanitizationProfile, sandboxDomain: string): Promise<AddressColumn[]> {
  const sandbox = checkMailDomain(sandboxDomain);
  const keep = keptColumns(profile, 'dbo');
  const out: AddressColumn[] = [];
  for (const { table: t, columns } of scannable(await readCatalog(pool))) {
    for (const c of columns) {
      const [r] = await rows<{ n: string | number; example: string | null }>(pool, ts.verifyColumn(t, c.name, sandbox));
      if (Number(r.n) === 0) continue;
      const coverage = coverageOf({ kept: keep.has(keyOf(t, c.name)), generated: c.computed, rewritable: ts.isRewritableType(c.baseType) && !t.history });
      out.push({ column: columnLabel(t, c.name), type: c.baseType, values: Number(r.n), coverage, example: redacted(r.example) });
    }
  }
  return out.sort((a, b) => a.column.localeCompare(b.column));
}

export async function missingProfileNames(pool: sql.ConnectionPool, profile: SanitizationProfile): Promise<string[]> {
  const all = await rows<{ schema_name: string; table_name: string; column_name: string }>(pool, ts.allColumns());
  return missingNames(
    profile,
    all.map((x) => ({ schema: x.schema_name, table: x.table_name, column: x.column_name })),
    'dbo',
  );
}
