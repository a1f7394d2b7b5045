/**
 * bytea values and what a clone must leave of them: text (valid UTF-8, no NUL) is rewritten as
 * an unbounded text column is; anything else stays byte for byte. Shared by the in-place and
 * the in-flight tests, which load them into `documents (id, body bytea, scan blob, parts bytea[])`
 * where `blob` is a domain over bytea.
 */
export interface ByteaCase {
  name: string;
  /** The bytes, as hex. */
  input: string | null;
  /** The bytes a clone leaves, as hex (the same when it must not change). */
  expected: string | null;
  /** Holds an address outside the sandbox domain before the scrub (as text). */
  foreign: boolean;
  /** Holds an "at" but is not text: named as not read, never rewritten. */
  notText: boolean;
}

const hex = (s: string, encoding: BufferEncoding = 'utf8') => Buffer.from(s, encoding).toString('hex');
const text = (name: string, input: string, expected: string): ByteaCase => ({
  name,
  input: hex(input),
  expected: hex(expected),
  foreign: input !== expected,
  notText: false,
});
const binary = (name: string, input: string): ByteaCase => ({ name, input, expected: input, foreign: false, notText: true });

export const BYTEA_CASES: ByteaCase[] = [
  text('single', 'ola@realcustomer.com', 'ola_realcustomer.com@mailinator.com'),
  text(
    'invoice',
    'Invoice for Ola <ola.nordmann@realcustomer.com>; cc: accounts@acme-corp.com',
    'Invoice for Ola <ola.nordmann_realcustomer.com@mailinator.com>; cc: accounts_acme-corp.com@mailinator.com',
  ),
  text(
    'obfuscated',
    'write to kari%40realcustomer.no or per＠realcustomer.no',
    'write to kari_realcustomer.no@mailinator.com or per_realcustomer.no@mailinator.com',
  ),
  text('multibyte', 'Grüße\tan jürgen@realcustomer.de 😀\n\\ende', 'Grüße\tan jürgen_realcustomer.de@mailinator.com 😀\n\\ende'),
  text('plain', 'no address in here', 'no address in here'),
  text('sandboxed', 'already x_y.com@mailinator.com', 'already x_y.com@mailinator.com'),
  // A PNG-like header: a NUL and bytes that are not UTF-8, around an "@".
  binary('binary', '89504e470d0a1a0a00ff40726f6775652e636f6dfe'),
  // Latin-1 is not UTF-8: not text in this database, so not read, even though an address shows.
  binary('latin1', hex('Kontakt: sørensen@realcustomer.dk', 'latin1')),
  binary('nul', `${hex('a@realcustomer.com')}00`),
  { name: 'null', input: null, expected: null, foreign: false, notText: false },
  // Bytes with no "at" at all are never looked at.
  { name: 'no at', input: 'fffe00', expected: 'fffe00', foreign: false, notText: false },
];

/** One array of bytea (in row 1): each element as a value of its own, NULL kept. */
const PARTS = ['to: ann@realcustomer.com', null, BYTEA_CASES.find((c) => c.name === 'binary')!.input, hex('no address')];

/** Creates `documents` and loads the cases into `body`, one into the domain-typed `scan` and one array into `parts`. */
export async function loadByteaCases(q: (sql: string, params?: unknown[]) => Promise<unknown>): Promise<void> {
  await q(`CREATE DOMAIN blob AS bytea`);
  await q(`CREATE TABLE documents (id integer PRIMARY KEY, body bytea, scan blob, parts bytea[])`);
  for (const [i, c] of BYTEA_CASES.entries()) await q(`INSERT INTO documents (id, body) VALUES ($1, decode($2, 'hex'))`, [i + 1, c.input]);
  await q(`UPDATE documents SET scan = convert_to('scanned for jo@realcustomer.com', 'UTF8') WHERE id = 1`);
  await q(`UPDATE documents SET parts = ARRAY[convert_to($1, 'UTF8'), NULL, decode($2, 'hex'), decode($3, 'hex')] WHERE id = 1`, [
    PARTS[0],
    PARTS[2],
    PARTS[3],
  ]);
}

export const SCAN_EXPECTED = hex('scanned for jo_realcustomer.com@mailinator.com');
/** `parts` after a clone, element by element as hex. */
export const PARTS_EXPECTED = [hex('to: ann_realcustomer.com@mailinator.com'), null, PARTS[2], PARTS[3]];
/** The SQL reading `parts` as PARTS_EXPECTED is written. */
export const PARTS_AS_HEX = `(SELECT array_agg(encode(e, 'hex') ORDER BY o) FROM unnest(parts) WITH ORDINALITY AS x(e, o))`;
