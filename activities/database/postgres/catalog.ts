/**
 * Every table of a tenant database and what the e-mail scrub and its verification do with each
 * column, read from the catalog at clone time, never from a list: a column added to the schema
 * last week is scrubbed and checked like the others.
 */
import { escapeIdentifier, type Pool, type PoolClient } from 'pg';
import { RECORD_TABLES } from './gate-tracking';
import { HELPER_SCHEMA } from './scrub-sql';

/** How the scrub rewrites a column; null: it cannot (the verification still reads it). */
export type RewriteKind = 'text' | 'json' | 'jsonb' | 'xml' | 'text[]' | 'json[]' | 'jsonb[]' | 'xml[]' | 'bytea' | 'bytea[]';

export interface CatalogColumn {
  name: string;
  /** The declared type, as the catalog prints it. */
  type: string;
  rewrite: RewriteKind | null;
  /** Characters the column (or each array element) holds at most; null = unbounded. */
  maxLength: number | null;
  nullable: boolean;
  /** GENERATED ALWAYS … STORED: computed from other columns, never assigned. */
  generated: boolean;
  /**
   * Its type cannot print an "at" (numbers, times, uuid…), so the verification skips it. A
   * bytea's text form cannot either, but the text it may hold is read (bytea-text.ts), so it is
   * not one of them.
   */
  cannotHoldText: boolean;
}

export interface CatalogTable {
  schema: string;
  name: string;
  /** `table` for the public schema, `schema.table` otherwise: how messages and the profile name it. */
  label: string;
  /** Quoted, ready for SQL. */
  sql: string;
  kind: 'table' | 'materialized view' | 'foreign table';
  /** A materialized view that was never refreshed holds no rows to read. */
  populated: boolean;
  columns: CatalogColumn[];
  pages: number;
}

const TEXT_BASES: Record<string, RewriteKind> = { text: 'text', varchar: 'text', bpchar: 'text', citext: 'text', json: 'json', jsonb: 'jsonb', xml: 'xml' };

/** Base types whose text form cannot contain an "at" in any of its forms. */
const CANNOT_HOLD_TEXT = new Set([
  'int2',
  'int4',
  'int8',
  'oid',
  'float4',
  'float8',
  'numeric',
  'money',
  'bool',
  'date',
  'time',
  'timetz',
  'timestamp',
  'timestamptz',
  'interval',
  'uuid',
  'inet',
  'cidr',
  'macaddr',
  'macaddr8',
  'bit',
  'varbit',
  'point',
  'line',
  'lseg',
  'box',
  'path',
  'polygon',
  'circle',
  'pg_lsn',
  'xid',
  'xid8',
  'cid',
  'tid',
]);

interface TypeRow {
  oid: number;
  typname: string;
  typtype: string;
  typbasetype: number;
  typtypmod: number;
  typelem: number;
  typcategory: string;
}

/** Follows domains down to their base type; keeps the innermost declared length. */
function resolve(types: Map<number, TypeRow>, oid: number, typmod: number): { base: TypeRow; typmod: number } {
  let t = types.get(oid);
  let mod = typmod;
  for (let depth = 0; t && t.typtype === 'd' && depth < 20; depth++) {
    if (mod < 0) mod = t.typtypmod;
    t = types.get(t.typbasetype);
  }
  if (!t) throw new Error(`type ${oid} is missing from pg_type`);
  return { base: t, typmod: mod };
}

function classify(types: Map<number, TypeRow>, oid: number, typmod: number): Pick<CatalogColumn, 'rewrite' | 'maxLength' | 'cannotHoldText'> {
  const { base, typmod: mod } = resolve(types, oid, typmod);
  const length = (m: number, name: string) => (m >= 4 && (name === 'varchar' || name === 'bpchar') ? m - 4 : null);
  if (base.typcategory === 'A' && base.typelem !== 0) {
    const elem = resolve(types, base.typelem, mod).base;
    // Bytes, which may be text (bytea-text.ts): rewritten and read as such.
    if (elem.typname === 'bytea') return { rewrite: 'bytea[]', maxLength: null, cannotHoldText: false };
    const kind = TEXT_BASES[elem.typname];
    return {
      rewrite: kind ? (`${kind}[]` as RewriteKind) : null,
      maxLength: kind === 'text' ? length(mod, elem.typname) : null,
      cannotHoldText: CANNOT_HOLD_TEXT.has(elem.typname),
    };
  }
  if (base.typname === 'bytea') return { rewrite: 'bytea', maxLength: null, cannotHoldText: false };
  const kind = TEXT_BASES[base.typname];
  return { rewrite: kind ?? null, maxLength: kind === 'text' ? length(mod, base.typname) : null, cannotHoldText: CANNOT_HOLD_TEXT.has(base.typname) };
}

const KINDS: Record<string, CatalogTable['kind']> = { r: 'table', m: 'materialized view', f: 'foreign table' };

/**
 * Every ordinary table (partitions included; partitioned parents hold no rows themselves),
 * materialized view and foreign table outside the system schemas, in a stable order. The tool's
 * own schema is read too: a source can bring one (a sandbox cloned earlier, or anyone who named
 * a schema so), and a dump carries its rows into the target like any other. The tool's own
 * tables there hold no text that can look like an address; the gate's record of writes
 * (gate-tracking.ts), made anew before each gate, is left out.
 */
export async function readCatalog(db: Pool | PoolClient): Promise<CatalogTable[]> {
  const typeRows = await db.query<TypeRow>(
    `SELECT oid::int AS oid, typname, typtype, typbasetype::int AS typbasetype, typtypmod, typelem::int AS typelem, typcategory FROM pg_type`,
  );
  const types = new Map(typeRows.rows.map((t) => [t.oid, t]));
  const r = await db.query<{
    schema: string;
    name: string;
    relkind: string;
    populated: boolean;
    pages: string;
    cols: { name: string; type: string; typid: number; typmod: number; notnull: boolean; generated: boolean }[] | null;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind, c.relispopulated AS populated,
            (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::text AS pages,
            (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'typid', a.atttypid::int,
                                               'typmod', a.atttypmod, 'notnull', a.attnotnull, 'generated', a.attgenerated <> '') ORDER BY a.attnum)
               FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS cols
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm', 'f')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
        AND NOT (n.nspname = $1 AND c.relname = ANY ($2))
      ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"`,
    [HELPER_SCHEMA, RECORD_TABLES],
  );
  return r.rows.map((t) => ({
    schema: t.schema,
    name: t.name,
    label: t.schema === 'public' ? t.name : `${t.schema}.${t.name}`,
    sql: `${escapeIdentifier(t.schema)}.${escapeIdentifier(t.name)}`,
    kind: KINDS[t.relkind],
    populated: t.populated,
    pages: Number(t.pages),
    columns: (t.cols ?? []).map((c) => ({
      name: c.name,
      type: c.type,
      nullable: !c.notnull,
      generated: c.generated,
      ...classify(types, c.typid, c.typmod),
    })),
  }));
}

/** `table.column` (public schema) or `schema.table.column`: how messages and the profile name a column. */
export const columnLabel = (t: CatalogTable, column: string) => `${t.label}.${column}`;
