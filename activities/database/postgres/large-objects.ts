/**
 * Large objects (`pg_largeobject`): documents a tenant keeps outside its tables, which a dump
 * carries along with the rows. The scrub rewrites and the gate reads those that are text in the
 * database's encoding, as it does a text column without a length; one that is not (an image, a
 * PDF) cannot be rewritten without breaking it, and is counted and named in the step's note as
 * not read.
 *
 * Only objects whose bytes hold an "at" in one of its forms are decoded at all: an address
 * needs one.
 */
import type { Pool, QueryResultRow } from 'pg';
import { oidList, redacted } from '../address-findings';
import { holdsAtBytes } from './bytea-text';
import { inTransaction } from './connections';
import { addressAtDomainPattern, foreignAddressPattern, foreignAddressPrefilter, foreignDomainCapture } from './scrub-sql';

/** The objects that may hold an address, in oid order. */
async function candidates(pool: Pool): Promise<number[]> {
  const r = await pool.query<{ oid: string }>(
    `SELECT m.oid::int8::text AS oid FROM pg_largeobject_metadata m, LATERAL (SELECT lo_get(m.oid) AS b) x WHERE ${holdsAtBytes('x.b')} ORDER BY m.oid`,
  );
  return r.rows.map((row) => Number(row.oid));
}

const asText = `convert_from(lo_get($1::oid), getdatabaseencoding())`;
/** Bytes that are not valid in the database's encoding (or hold a NUL): not text. */
const NOT_TEXT = '22021';

/** A query's catch: null for an object that is not text, any other error thrown on. */
const nullIfNotText = (err: unknown): null => {
  if ((err as { code?: string }).code === NOT_TEXT) return null;
  throw err;
};

/** `select` (over the object's text `t`; its oid is $1, `params` follow) for every object that may hold an address; null for one that is not text. */
async function overText<T extends QueryResultRow>(pool: Pool, select: string, params: unknown[]): Promise<{ oid: number; row: T | null }[]> {
  const out: { oid: number; row: T | null }[] = [];
  for (const oid of await candidates(pool)) {
    const r = await pool.query<T>(`SELECT ${select} FROM (SELECT ${asText} AS t) x`, [oid, ...params]).catch(nullIfNotText);
    out.push({ oid, row: r ? r.rows[0] : null });
  }
  return out;
}

export interface LargeObjectFindings {
  /** Objects holding an address outside the sandbox domain: their oids and one example, redacted to its domain. */
  foreign: number[];
  example: string | null;
  /** Objects that hold an "at" but are not text, so were not read. */
  notText: number[];
}

/** What the gate finds in the large objects (never through the rewrite functions). */
export async function readLargeObjects(pool: Pool, sandbox: string): Promise<LargeObjectFindings> {
  const found: LargeObjectFindings = { foreign: [], example: null, notText: [] };
  const read = await overText<{ foreign: boolean; after: string | null }>(pool, `t ~* $3 AND t ~* $2 AS foreign, (regexp_match(t, $4, 'i'))[1] AS after`, [
    foreignAddressPattern(sandbox),
    foreignAddressPrefilter(sandbox),
    foreignDomainCapture(sandbox),
  ]);
  for (const { oid, row } of read) {
    if (row === null) found.notText.push(oid);
    else if (row.foreign) {
      found.foreign.push(oid);
      found.example ??= redacted(row.after);
    }
  }
  return found;
}

/** How many text objects hold an address at exactly `domain` (which must then not be a sandbox domain). */
export async function countLargeObjectsAt(pool: Pool, domain: string): Promise<number> {
  const read = await overText<{ at: boolean }>(pool, `t ~* $2 AS at`, [addressAtDomainPattern(domain)]);
  return read.filter((r) => r.row?.at === true).length;
}

/** The finding line for objects holding foreign addresses, like a column's. */
export function largeObjectFinding(f: LargeObjectFindings): string {
  return `large objects: ${f.foreign.length} values, e.g. ${f.example ?? '(no example)'} (${oidList(f.foreign)})`;
}

/**
 * Rewrites every large object that is text and holds an address, in place (its oid, owner and
 * rights stay), each in its own transaction; the rule is the one of an unbounded text column.
 * Returns how many changed. Running it again changes nothing.
 */
export async function scrubLargeObjects(pool: Pool, sandbox: string): Promise<number> {
  let changed = 0;
  for (const oid of await candidates(pool)) {
    const rewritten = await inTransaction(pool, async (c) => {
      const r = await c
        .query<{ before: string; after: string }>(
          `SELECT t AS before, tenant_clone.rewrite_emails(t, $2, NULL, false) AS after FROM (SELECT ${asText} AS t) x`,
          [oid, sandbox],
        )
        .catch(nullIfNotText);
      if (r === null || r.rows[0].after === r.rows[0].before) return false;
      // INV_READ | INV_WRITE; the descriptor lives until the transaction ends.
      const fd = (await c.query<{ fd: number }>(`SELECT lo_open($1::oid, 393216) AS fd`, [oid])).rows[0].fd;
      await c.query(`SELECT lo_truncate($1, 0)`, [fd]);
      await c.query(`SELECT lowrite($1, convert_to($2, getdatabaseencoding()))`, [fd, r.rows[0].after]);
      await c.query(`SELECT lo_close($1)`, [fd]);
      return true;
    });
    if (rewritten) changed++;
  }
  return changed;
}
