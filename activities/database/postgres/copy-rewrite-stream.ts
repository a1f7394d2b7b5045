/**
 * Rewrites the address columns of a `COPY … TO STDOUT` text stream on its way to
 * `COPY … FROM STDIN`, so the target stores every row once, already sanitized, and keeps
 * COPY's multi-row inserts (a trigger on the target would cost both).
 *
 * Values on a fast path (fast-path-rewrite.ts) are rewritten here; every other value holding
 * an "at" is sent, a chunk's worth at a time, to the target's own SQL rewrite functions and
 * comes back rewritten: it reaches the target server's memory, never a page of it.
 *
 * COPY's text format: one row per line ending in a newline, columns separated by tabs, NULL as
 * `\N`; a backslash, a tab, a newline and the other control escapes inside a value are written
 * as backslash sequences, so a raw newline or tab is always a row or column boundary.
 *
 * The rows are scanned as bytes; only the values that may hold an "at" become strings, read as
 * Latin-1, one character per byte (several times cheaper than UTF-8 both ways, and every byte
 * the fast paths look at is ASCII), and the output is the input with those values replaced,
 * written into one buffer. A value that goes to the SQL functions is decoded as the UTF-8 it
 * is, and its rewrite encoded back. A bytea arrives as hex: one whose bytes may be text holding
 * an "at" goes to the SQL rule whole, and so does every array of bytea.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { holdsBytes, mayBeTextWithAt } from './bytea-text';
import type { CatalogColumn } from './catalog';
import { fastPathRewrite, type FastPathColumn } from './fast-path-rewrite';
import { ANY_AT_PATTERN } from './scrub-sql';

export interface RewrittenField {
  /** The column's position among the columns the COPY lists. */
  index: number;
  column: CatalogColumn;
  /** Plain text or varchar, whose values the fast paths may take; null: every value goes to the SQL. */
  fast: FastPathColumn | null;
  /** The column's collation, quoted (null: not collatable): lower() in the SQL rule follows it. */
  collation: string | null;
}

/** The SQL rule over a batch of one column's values (their text form), in order. */
export type SqlRewrite = (field: RewrittenField, values: string[]) => Promise<(string | null)[]>;

const DECODE: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
const ENCODE: Record<string, string> = { '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };
const NEEDS_ESCAPE = /[\\\b\f\n\r\t\v]/;
const ESCAPED = /[\\\b\f\n\r\t\v]/g;

export function decodeCopyText(raw: string): string | null {
  if (raw === '\\N') return null;
  if (!raw.includes('\\')) return raw;
  // COPY TO writes only these escapes; any other escaped character stands for itself.
  return raw.replace(/\\([\s\S])/g, (_, c: string) => DECODE[c] ?? c);
}

export function encodeCopyText(value: string | null): string {
  if (value === null) return '\\N';
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (c) => ENCODE[c]) : value;
}

const asBytes = (utf8: string) => Buffer.from(utf8, 'utf8').toString('latin1');
const FULLWIDTH_AT = asBytes('＠');
// ANY_AT_PATTERN is plain literals, classes and `*`, which both engines read alike.
const OTHER_AT = new RegExp(asBytes(ANY_AT_PATTERN));

/** has_at, on a value read as Latin-1: an "at" in any of its forms. */
function hasAt(v: string): boolean {
  return v.includes('@') || ((v.includes('%') || v.includes('&') || v.includes('\\') || v.includes(FULLWIDTH_AT)) && OTHER_AT.test(v));
}

/** A bytea value (`\x` and hex, as the server writes bytea by default): whether its bytes may be text holding an "at". */
function byteaMayHoldAddress(value: string): boolean {
  // An array, or the escape format (bytea_output = escape on the source), is left to the SQL rule whole.
  if (!value.startsWith('\\x')) return true;
  return mayBeTextWithAt(Buffer.from(value.slice(2), 'hex'));
}

/**
 * Byte classes of the scan: 1 ends a value, 2 ends a row, 4 is `@`, 8 may begin another form
 * of "at" or an escape (`%40`, `&#64;`, a backslash, the first byte of a UTF-8 `＠`).
 */
const CLASS = new Uint8Array(256);
CLASS[9] = 1;
CLASS[10] = 2;
CLASS[0x40] = 4;
for (const c of '%&\\') CLASS[c.charCodeAt(0)] = 8;
CLASS[Buffer.from('＠')[0]] = 8;

/** A value the SQL functions rewrite: its column's place among the fields, and its UTF-8 text. */
interface SqlValue {
  slot: number;
  field: number;
  value: string;
}

/**
 * One chunk of whole rows, rewritten as far as Node can: the edits to make to it, in order
 * (null: none), each the bytes [from, to) of the chunk replaced by a string of Latin-1
 * characters, one per byte; each `sql` value's edit is still to be filled with its rewrite.
 */
interface ChunkResult {
  rows: number;
  edits: { spans: number[]; texts: string[] } | null;
  sql: SqlValue[];
}

/** Where the byte scan writes what it finds, reused from chunk to chunk and grown as needed. */
interface ScanStore {
  found: Int32Array;
}

/**
 * The byte scan: the values of the rewritten columns that may hold an "at", five numbers each
 * (start, end, field, start of its row, classes of its bytes), in `store.found` up to the count
 * returned. `byIndex` maps a COPY column to its field (-1: not rewritten). A typed array, not
 * Array.push: five times faster here.
 */
function scanCandidates(lines: Buffer, byIndex: number[], store: ScanStore): number {
  const lastIndex = byIndex.length - 1;
  let found = store.found;
  let k = 0;
  const n = lines.length;
  for (let i = 0; i < n;) {
    const row = i;
    for (let column = 0; ;) {
      const start = i;
      let maybe = 0;
      let c = CLASS[lines[i]];
      while ((c & 3) === 0) {
        maybe |= c;
        c = CLASS[lines[++i]];
      }
      if (maybe !== 0 && byIndex[column] >= 0) {
        if (k + 5 > found.length) {
          const grown = new Int32Array(found.length * 2);
          grown.set(found);
          found = store.found = grown;
        }
        found[k] = start;
        found[k + 1] = i;
        found[k + 2] = byIndex[column];
        found[k + 3] = row;
        found[k + 4] = maybe;
        k += 5;
      }
      i++;
      if (c === 2) break;
      if (++column > lastIndex) {
        // The row's other columns: a loop here is cheaper than a call out for the short tails of most rows.
        while (lines[i] !== 10) i++;
        i++;
        break;
      }
    }
  }
  return k;
}

/** The rewrite of one chunk of whole COPY rows, as far as it can go without the database. */
function rewriteChunk(lines: Buffer, fields: RewrittenField[], sandbox: string, store: ScanStore): ChunkResult {
  const unchanged: ChunkResult = { rows: 0, edits: null, sql: [] };
  const lastIndex = Math.max(-1, ...fields.map((f) => f.index));
  if (lastIndex < 0) return unchanged;
  const byIndex: number[] = new Array<number>(lastIndex + 1).fill(-1);
  fields.forEach((f, k) => (byIndex[f.index] = k));
  const count = scanCandidates(lines, byIndex, store);
  if (count === 0) return unchanged;
  const found = store.found;
  const spans: number[] = [];
  const texts: string[] = [];
  const sql: SqlValue[] = [];
  let rows = 0;
  let lastRow = -1;
  for (let k = 0; k < count; k += 5) {
    const from = found[k];
    const to = found[k + 1];
    // Only the values that may hold an "at" become strings, never a whole chunk: a string of
    // 256 KiB cost more than the scan, and joining the output again as much.
    const raw = lines.toString('latin1', from, to);
    const field = fields[found[k + 2]];
    // A plain "@" and no escape: the value is its text, and holds an "at".
    const value = found[k + 4] === 4 ? raw : decodeCopyText(raw);
    if (value === null) continue;
    if (holdsBytes(field.column.rewrite) ? !byteaMayHoldAddress(value) : found[k + 4] !== 4 && !hasAt(value)) continue;
    if (found[k + 3] !== lastRow) {
      rows++;
      lastRow = found[k + 3];
    }
    const fast = field.fast ? fastPathRewrite(value, sandbox, field.fast) : undefined;
    spans.push(from, to);
    if (fast === undefined) {
      sql.push({ slot: texts.length, field: found[k + 2], value: Buffer.from(value, 'latin1').toString('utf8') });
      texts.push('');
    } else texts.push(raw === value && fast !== null ? fast : encodeCopyText(fast));
  }
  return { rows, edits: texts.length ? { spans, texts } : null, sql };
}

/**
 * `lines` with each span replaced by its text, written into one buffer of the final size: byte
 * loops, not a call per piece (most pieces are a few dozen bytes, where a call costs more).
 */
function applyEdits(lines: Buffer, spans: number[], texts: string[]): Buffer {
  let size = lines.length;
  for (let j = 0; j < texts.length; j++) size += texts[j].length - (spans[2 * j + 1] - spans[2 * j]);
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  let copied = 0;
  for (let j = 0; j <= texts.length; j++) {
    const until = j < texts.length ? spans[2 * j] : lines.length;
    if (until - copied > 256) o += lines.copy(out, o, copied, until);
    else for (let i = copied; i < until; i++) out[o++] = lines[i];
    if (j === texts.length) break;
    const t = texts[j];
    for (let i = 0; i < t.length; i++) out[o++] = t.charCodeAt(i);
    copied = spans[2 * j + 1];
  }
  return out;
}

/** Input gathered before it is rewritten: fewer, larger writes to the target (each is a system call). */
const BATCH_BYTES = 256 * 1024;

export class CopyRewriteStream extends Transform {
  /** Rows that held an "at" in a rewritten column. */
  rows = 0;
  private parts: Buffer[] = [];
  private readonly store: ScanStore = { found: new Int32Array(8192) };
  private size = 0;

  constructor(
    private readonly fields: RewrittenField[],
    private readonly sandbox: string,
    private readonly sql: SqlRewrite,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size < BATCH_BYTES) return done();
    const data = Buffer.concat(this.parts, this.size);
    // Whole lines only: a newline byte never sits inside a multi-byte character.
    const end = data.lastIndexOf(10) + 1;
    this.parts = end < data.length ? [data.subarray(end)] : [];
    this.size = data.length - end;
    if (end === 0) return done();
    this.rewrite(data.subarray(0, end)).then((out) => done(null, out), done);
  }

  override _flush(done: TransformCallback): void {
    if (this.size === 0) return done();
    const data = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    // COPY ends every row with a newline; a last line without one is rewritten all the same.
    const whole = data[data.length - 1] === 10;
    this.rewrite(whole ? data : Buffer.concat([data, Buffer.from('\n')])).then((out) => done(null, whole ? out : out.subarray(0, out.length - 1)), done);
  }

  private async rewrite(lines: Buffer): Promise<Buffer> {
    const r = rewriteChunk(lines, this.fields, this.sandbox, this.store);
    this.rows += r.rows;
    if (!r.edits) return lines;
    const texts = r.edits.texts;
    for (const k of new Set(r.sql.map((v) => v.field))) {
      const mine = r.sql.filter((v) => v.field === k);
      const rewritten = await this.sql(
        this.fields[k],
        mine.map((v) => v.value),
      );
      mine.forEach((v, j) => {
        const value = rewritten[j];
        texts[v.slot] = encodeCopyText(value === null ? null : asBytes(value));
      });
    }
    return applyEdits(lines, r.edits.spans, texts);
  }
}
