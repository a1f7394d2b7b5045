/**
 * Text kept in bytes: a bytea column (or a large object) often holds a document, a mail or a
 * serialized note as the encoded text it is, and its addresses reach a sandbox like any
 * column's. Its text form (`\x…` hex) shows none of them, so the scrub and the gate read such a
 * value as text when it is text in the database's encoding, and leave it byte for byte when it
 * is not (an image, a PDF, a zip: a rewrite would break it).
 *
 * All of it is plain SQL over an expression, with no helper function: the gate and the source
 * check (`profile check`, the sandbox-domain check) read a database where nothing may be
 * installed, and none of it goes through the rewrite functions the gate checks.
 */
import { isUtf8 } from 'node:buffer';
import type { RewriteKind } from './catalog';

/** Every form of "at" as bytes (`@`, `＠`, `%40`, `&#…;`, `\u0040`): a superset, the text check decides. */
export const AT_BYTE_FORMS: readonly Buffer[] = ['@', '＠', '%40', '&#', '\\u0040', '\\U0040'].map((s) => Buffer.from(s, 'utf8'));

/** Whether the bytea expression `b` holds one of the forms of "at" (cheap: no copy, no decode). */
export function holdsAtBytes(b: string): string {
  return `(${AT_BYTE_FORMS.map((f) => `position('\\x${f.toString('hex')}'::bytea IN ${b}) > 0`).join(' OR ')})`;
}

/**
 * `encode(b, 'escape')` writes a NUL and every byte above 0x7f as a backslash and three octal
 * digits, a backslash as two, and any other byte as itself: so a regular expression over it can
 * tell valid UTF-8 with no NUL, which is exactly what `convert_from(b, 'UTF8')` accepts (lead
 * bytes C2–DF, E0 A0–BF, E1–EC, ED 80–9F, EE–EF, F0 90–BF, F1–F3, F4 80–8F, each with its
 * continuation bytes 80–BF). PostgreSQL 15 has no way to test it without raising an error.
 */
const CONT = String.raw`\\2[0-7][0-7]`;
const UTF8_ESCAPED = `^(?:${[
  String.raw`[^\\]`,
  String.raw`\\\\`,
  String.raw`\\3(?:0[2-7]|[123][0-7])${CONT}`,
  String.raw`\\340\\2[4-7][0-7]${CONT}`,
  String.raw`\\3(?:4[1-7]|5[0-4])${CONT}${CONT}`,
  String.raw`\\355\\2[0-3][0-7]${CONT}`,
  String.raw`\\35[67]${CONT}${CONT}`,
  String.raw`\\360\\2[2-7][0-7]${CONT}${CONT}`,
  String.raw`\\36[1-3]${CONT}${CONT}${CONT}`,
  String.raw`\\364\\2[01][0-7]${CONT}${CONT}`,
].join('|')})*$`;
/** ASCII with no NUL: text in every server encoding (the only bytes taken as text in a database that is not UTF-8). */
const ASCII_ESCAPED = String.raw`^(?:[^\\]|\\\\)*$`;

/** A SQL string literal (standard_conforming_strings, as every query here assumes). */
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Whether the bytea expression `b` is text in the database's encoding (NULL for NULL). */
export function isTextSql(b: string): string {
  return `(CASE WHEN getdatabaseencoding() = 'UTF8' THEN encode(${b}, 'escape') ~ ${lit(UTF8_ESCAPED)} ELSE encode(${b}, 'escape') ~ ${lit(ASCII_ESCAPED)} END)`;
}

/**
 * The text of the bytea expression `b` where it may hold an address: NULL when it holds no form
 * of "at" or is not text (then nothing in it can be read or rewritten as an address).
 */
export function byteaTextSql(b: string): string {
  return `(CASE WHEN ${holdsAtBytes(b)} AND ${isTextSql(b)} THEN convert_from(${b}, getdatabaseencoding()) END)`;
}

/** Whether the bytea expression `b` holds an "at" but is not text: a value that is neither rewritten nor read. */
export function notTextWithAtSql(b: string): string {
  return `(${holdsAtBytes(b)} AND NOT ${isTextSql(b)})`;
}

/** The texts of the elements of the bytea[] expression `a` that may hold an address, one per line (NULL: none). */
export function byteaArrayTextSql(a: string): string {
  return `(SELECT string_agg(${byteaTextSql('e')}, E'\\n') FROM unnest(${a}) AS e)`;
}

/** Whether an element of the bytea[] expression `a` holds an "at" but is not text. */
export function notTextWithAtInArraySql(a: string): string {
  return `EXISTS (SELECT 1 FROM unnest(${a}) AS e WHERE ${notTextWithAtSql('e')})`;
}

/** Whether an element of the bytea[] expression `a` holds an "at" in any form. */
function arrayHoldsAtBytes(a: string): string {
  return `EXISTS (SELECT 1 FROM unnest(${a}) AS e WHERE ${holdsAtBytes('e')})`;
}

/** A column of bytes: bytea (or a domain over it) or an array of it. */
export const holdsBytes = (kind: RewriteKind | null): kind is 'bytea' | 'bytea[]' => kind === 'bytea' || kind === 'bytea[]';

/**
 * For a column of bytes (by its rewrite kind), SQL over its quoted name `q`: the text it may
 * hold (NULL: none), whether it holds any "at" byte, and whether it holds one but is not text.
 */
export function bytesColumnSql(kind: 'bytea' | 'bytea[]', q: string): { text: string; anyAt: string; notText: string } {
  return kind === 'bytea'
    ? { text: byteaTextSql(q), anyAt: holdsAtBytes(q), notText: notTextWithAtSql(q) }
    : { text: byteaArrayTextSql(q), anyAt: arrayHoldsAtBytes(q), notText: notTextWithAtInArraySql(q) };
}

/**
 * The same test in Node, over a value's bytes, for the in-flight copy: whether it may be text
 * holding an "at" (the SQL rule decides; valid UTF-8 with no NUL is a superset of text in any
 * server encoding as isTextSql reads it).
 */
export function mayBeTextWithAt(bytes: Buffer): boolean {
  return AT_BYTE_FORMS.some((f) => bytes.includes(f)) && !bytes.includes(0) && isUtf8(bytes);
}
