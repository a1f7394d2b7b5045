/**
 * The whole-database e-mail scrub. Every table the catalog lists is walked in batches of pages
 * (a TID range scan needs no key, so tables without a primary key are no different); each batch
 * is one transaction: one UPDATE rewriting every text-like column of the rows that hold an "at"
 * in any form, and the checkpoint. Triggers do not fire (session_replication_role = replica):
 * an audit trigger would copy the real addresses elsewhere, a notify trigger would call out.
 */
import type { Pool, PoolClient } from 'pg';
import { escapeIdentifier } from 'pg';
import type { ScrubCheckpoint, ScrubOptions } from '../port';
import { keptColumns, qualifiedColumn, type SanitizationProfile } from '../profile';
import { runTableScrub, startingCheckpoint } from '../table-scrub';
import { bytesColumnSql, holdsBytes } from './bytea-text';
import { readCatalog, type CatalogColumn, type CatalogTable } from './catalog';
import { abortError } from './child-process';
import { inTransaction } from './connections';
import { rewrittenInFlight } from './copy-in-flight';
import { scrubDefaults } from './defaults';
import { checkMailDomain } from './identifiers';
import { scrubLargeObjects } from './large-objects';
import { HELPER_SCHEMA, INSTALL_SQL } from './scrub-sql';

const CHECKPOINT_TABLE = 'scrub_checkpoint';

export async function installRewriteFunctions(pool: Pool): Promise<void> {
  // Serialised with an advisory lock: concurrent CREATE OR REPLACE of one function can fail.
  await inTransaction(pool, async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('tenant_clone.install'))`);
    await c.query(INSTALL_SQL);
  });
}

const keyOf = (t: CatalogTable, c: CatalogColumn) => `${t.schema}.${t.name}.${c.name}`;

/** The columns of `t` the scrub rewrites: text-like, assignable, not kept. */
export function rewritableColumns(t: CatalogTable, kept: Set<string>): CatalogColumn[] {
  return t.columns.filter((c) => c.rewrite !== null && !c.generated && !kept.has(keyOf(t, c)));
}

/**
 * The SQL producing the rewritten value of column `c`, read from `value` (the column itself in
 * an UPDATE, NEW.column in a trigger), with the sandbox domain given by `sandbox`.
 */
export function rewriteExpr(c: CatalogColumn, value = escapeIdentifier(c.name), sandbox = '$1'): string {
  const len = c.maxLength === null ? 'NULL' : String(c.maxLength);
  switch (c.rewrite) {
    case 'text':
      return `tenant_clone.rewrite_emails(${value}::text, ${sandbox}, ${len}, ${c.nullable})`;
    case 'json':
      return `tenant_clone.rewrite_json(${value}::json, ${sandbox})`;
    case 'jsonb':
      return `tenant_clone.rewrite_jsonb(${value}::jsonb, ${sandbox})`;
    case 'xml':
      return `tenant_clone.rewrite_xml(${value}::xml, ${sandbox})`;
    case 'text[]':
      return `tenant_clone.rewrite_text_array(${value}::text[], ${sandbox}, ${len})`;
    case 'json[]':
      return `tenant_clone.rewrite_json_array(${value}::json[], ${sandbox})`;
    case 'jsonb[]':
      return `tenant_clone.rewrite_jsonb_array(${value}::jsonb[], ${sandbox})`;
    case 'xml[]':
      return `tenant_clone.rewrite_xml_array(${value}::xml[], ${sandbox})`;
    case 'bytea':
      return `tenant_clone.rewrite_bytea(${value}::bytea, ${sandbox}, ${c.nullable})`;
    case 'bytea[]':
      return `tenant_clone.rewrite_bytea_array(${value}::bytea[], ${sandbox})`;
    default:
      throw new Error(`column ${c.name} of type ${c.type} cannot be rewritten`);
  }
}

/**
 * Whether a value of column `c` holds an "at" in any form. A bytea's must also be text: the
 * rewrite leaves any other as it is, and writing it again would only cost (images and PDFs
 * mostly hold an 0x40 byte somewhere).
 */
function hasAt(c: CatalogColumn): string {
  const q = escapeIdentifier(c.name);
  return holdsBytes(c.rewrite) ? `${bytesColumnSql(c.rewrite, q).text} IS NOT NULL` : `tenant_clone.has_at(${q}::text)`;
}

/**
 * One UPDATE for a range of pages of `t`: each column holding an "at" in any form gets its
 * rewrite, computed once, in the same statement that filters the rows (the fastest plan: no
 * join, a TID range scan). A row is written when any of its columns holds an "at"; values
 * already in the sandbox come out the same, so a second pass changes nothing but costs writes.
 */
export function batchUpdateSql(t: CatalogTable, columns: CatalogColumn[]): string {
  const q = (c: CatalogColumn) => escapeIdentifier(c.name);
  // With one column the WHERE already holds only rows with an "at" (and the rewrite returns any
  // other value as it is): no CASE needed.
  const sets = columns.map((c) =>
    columns.length === 1 ? `${q(c)} = ${rewriteExpr(c)}` : `${q(c)} = CASE WHEN ${hasAt(c)} THEN ${rewriteExpr(c)} ELSE ${q(c)} END`,
  );
  return `UPDATE ${t.sql} SET ${sets.join(', ')} WHERE ctid >= $2::tid AND ctid < $3::tid AND (${columns.map(hasAt).join(' OR ')})`;
}

/**
 * Which of `columns` hold an "at" anywhere in `t`: only those are rewritten, and a table with
 * none is skipped. For a bytea, any "at" byte will do: the batches look closer.
 */
async function columnsWithAt(c: PoolClient, t: CatalogTable, columns: CatalogColumn[]): Promise<number[]> {
  const any = (col: CatalogColumn) => (holdsBytes(col.rewrite) ? bytesColumnSql(col.rewrite, escapeIdentifier(col.name)).anyAt : hasAt(col));
  const r = await c.query<Record<string, boolean | null>>(`SELECT ${columns.map((col, i) => `bool_or(${any(col)}) AS c${i}`).join(', ')} FROM ${t.sql}`);
  return columns.map((_, i) => i).filter((i) => r.rows[0][`c${i}`] === true);
}

interface Unit {
  table: CatalogTable;
  columns: CatalogColumn[];
  batchRows: number;
}

/**
 * Pages per batch so a batch holds about `rows` rows, from the rows of the table's first pages:
 * not from the planner's statistics, which autovacuum may change between a crash and the
 * resume, so the same table is always cut into the same batches.
 */
async function pagesPerBatch(c: PoolClient, t: CatalogTable, rows: number, pages: number): Promise<number> {
  const sample = Math.max(1, Math.min(pages, 32));
  const r = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${t.sql} WHERE ctid < $1::tid`, [`(${sample},0)`]);
  const density = Number(r.rows[0].n) / sample;
  return Math.max(1, Math.floor(rows / Math.max(1, density)));
}

function batchRowsFor(profile: SanitizationProfile, t: CatalogTable, fallback: number): number {
  const own = profile.emails.columns
    .filter((c) => c.batchSize !== undefined && qualifiedColumn(c.table, c.column, 'public').startsWith(`${t.schema}.${t.name}.`))
    .map((c) => c.batchSize!);
  return own.length ? Math.min(...own) : fallback;
}

export async function scrubEmails(pool: Pool, profile: SanitizationProfile, opts: ScrubOptions): Promise<ScrubCheckpoint> {
  const sandbox = checkMailDomain(opts.sandboxDomain);
  const batchRows = opts.batchSize ?? profile.emails.batchSize;
  if (!Number.isInteger(batchRows) || batchRows < 1) throw new Error(`invalid scrub batch size ${JSON.stringify(opts.batchSize)}: must be a positive integer`);
  // This run's copy rewrote every row on its way in (copy-in-flight.ts): nothing is left to
  // rewrite, and the verification that follows reads the whole database as always.
  const inFlight = opts.runId ? await rewrittenInFlight(pool, profile, sandbox, opts.runId) : null;
  if (inFlight !== null) return { table: 0, tableName: null, after: null, rewritten: inFlight, batches: 0, inFlight: true };
  await installRewriteFunctions(pool);
  const kept = keptColumns(profile, 'public');
  const catalog = await readCatalog(pool);
  const units: Unit[] = [];
  for (const t of catalog) {
    // The scrub's own checkpoint changes under it; the gate still reads it.
    if (t.kind !== 'table' || (t.schema === HELPER_SCHEMA && t.name === CHECKPOINT_TABLE)) continue;
    const columns = rewritableColumns(t, kept);
    if (columns.length === 0 || t.pages === 0) continue;
    units.push({ table: t, columns, batchRows: batchRowsFor(profile, t, batchRows) });
  }
  const tables = units.map((u) => ({ label: u.table.label, weight: u.table.pages }));
  // A checkpoint committed with a batch is never behind the heartbeated one, so it wins; one
  // left by another run (e.g. copied along from a source that was itself a clone) is ignored.
  const stored = opts.runId ? await storedCheckpoint(pool, opts.runId) : null;
  const start = startingCheckpoint(stored ?? opts.checkpoint, tables);
  // Each table is walked up to the pages it had when its walk began, in batches of pages sized
  // then, over the columns that hold an "at" then; all three travel in the checkpoint
  // (`from/end/size/columns`), so a resumed walk cuts the same batches. Rows an UPDATE moves
  // past that end are already rewritten.
  const done = await runTableScrub({
    tables,
    start,
    opts,
    aborted: (signal) => abortError(signal, 'e-mail scrub'),
    batch: (ti, after, next) => {
      const u = units[ti];
      return inTransaction(pool, async (c) => {
        let from: number;
        let end: number;
        let size: number;
        let which: number[];
        if (after !== null) {
          const [a, b, z, cols] = after.split('/');
          [from, end, size] = [Number(a), Number(b), Number(z)];
          which = cols.split('.').map(Number);
        } else {
          from = 0;
          which = await columnsWithAt(c, u.table, u.columns);
          if (which.length === 0) {
            if (opts.runId) await saveCheckpoint(c, opts.runId, next(null, 0));
            return { after: null, updated: 0, done: 1 };
          }
          end = await currentPages(c, u.table);
          size = await pagesPerBatch(c, u.table, u.batchRows, end);
        }
        const to = Math.min(end, from + size);
        await c.query('SET LOCAL session_replication_role = replica');
        // The checkpoint commits with the batch, so a server crash loses both or neither: the
        // resume redoes what was lost, and waiting for each commit's flush buys nothing.
        await c.query('SET LOCAL synchronous_commit = off');
        const upd = await c.query(
          batchUpdateSql(
            u.table,
            which.map((i) => u.columns[i]),
          ),
          [sandbox, `(${from},0)`, `(${to},0)`],
        );
        const updated = upd.rowCount ?? 0;
        const position = to >= end ? null : `${to}/${end}/${size}/${which.join('.')}`;
        if (opts.runId) await saveCheckpoint(c, opts.runId, next(position, updated));
        return { after: position, updated, done: end === 0 ? 1 : to / end };
      });
    },
  });
  await refreshMaterializedViews(pool, catalog);
  // After the tables, every time (they are cheap to run again): the large objects it rewrites
  // are counted as rows; the defaults are schema, not rows.
  const objects = await scrubLargeObjects(pool, sandbox);
  await scrubDefaults(pool, sandbox, kept);
  const result = { ...done, rewritten: done.rewritten + objects };
  if (opts.runId) await saveCheckpoint(pool, opts.runId, result);
  return result;
}

async function currentPages(c: PoolClient, t: CatalogTable): Promise<number> {
  const r = await c.query<{ pages: string }>(`SELECT (pg_relation_size($1::regclass) / current_setting('block_size')::bigint)::text AS pages`, [t.sql]);
  return Number(r.rows[0].pages);
}

/** Materialized views are computed from the tables: refreshed (in creation order) once the tables are rewritten. */
async function refreshMaterializedViews(pool: Pool, catalog: CatalogTable[]): Promise<void> {
  if (!catalog.some((t) => t.kind === 'materialized view' && t.populated)) return;
  const views = await pool.query<{ sql: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS sql FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'm' AND c.relispopulated AND n.nspname <> 'tenant_clone' ORDER BY c.oid`,
  );
  for (const v of views.rows) await pool.query(`REFRESH MATERIALIZED VIEW ${v.sql}`);
}

async function storedCheckpoint(pool: Pool, runId: string): Promise<unknown> {
  const r = await pool.query<{ checkpoint: unknown }>('SELECT checkpoint FROM tenant_clone.scrub_checkpoint WHERE id = 1 AND run_id = $1', [runId]);
  return r.rows[0]?.checkpoint ?? null;
}

async function saveCheckpoint(c: Pick<PoolClient, 'query'>, runId: string, cp: ScrubCheckpoint): Promise<void> {
  await c.query(
    `INSERT INTO tenant_clone.scrub_checkpoint (id, run_id, checkpoint, updated_at) VALUES (1, $1, $2, now())
     ON CONFLICT (id) DO UPDATE SET run_id = EXCLUDED.run_id, checkpoint = EXCLUDED.checkpoint, updated_at = now()`,
    [runId, JSON.stringify(cp)],
  );
}
