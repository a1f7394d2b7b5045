/**
 * The rule's two fast paths (scrub-sql.ts: one plain address; a list of plain addresses) in
 * Node, for the in-flight copy: most address values are one of these, and rewriting them
 * while the rows stream by costs a fraction of the SQL functions. Everything else, and every
 * value these paths are not certain of, goes to the installed SQL functions, which stay the
 * one rule: test/database/fast-path-rewrite.test.ts holds both to the same results.
 *
 * Only printable ASCII is taken here: PostgreSQL's lower() and [[:upper:]] follow the
 * collation outside ASCII, and even inside it lower('I') is 'ı' in a Turkish one, so an
 * upper-case domain is lowered here only where the column's collation was seen to lower A–Z
 * plainly.
 */
import { hash } from 'node:crypto';
import { SEPARATOR_CHARS } from '../address-rule';

/** A character as it stands inside a bracket expression. */
const inBrackets = (c: string) => (/[\\\]^-]/.test(c) ? `\\${c}` : c);
const cls = SEPARATOR_CHARS.map(inBrackets).join('');
/** Printable ASCII other than the separators and `except`, as a bracket body. */
const printable = (except: string) =>
  Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))
    .filter((c) => !SEPARATOR_CHARS.includes(c) && !except.includes(c))
    .map(inBrackets)
    .join('');
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const PLAIN = printable('@%&');
/** One plain address. */
const SINGLE = new RegExp(`^[${PLAIN}]+@[${PLAIN}]+$`);
/** One token of plain parts joined by two or more "at": the rule keeps the last as the domain. */
const MULTI_AT = new RegExp(`^[${PLAIN}]+(?:@[${PLAIN}]+){2,}$`);
const UPPER = /[A-Z]/;
/** scrub-sql.ts's MULTI_DISQUALIFIERS, for printable ASCII (its other characters are not). */
const LIST_DISQUALIFIERS = new RegExp(`[&]|%40|\\\\[uU]0040|(^|[${cls}])@|@([${cls}]|$)|@[^${cls}]*@|@[^${cls}]*[A-Z]`);
const LIST_ADDRESS = new RegExp(`([^${cls}@]+)@([^${cls}@]+)`, 'g');
const FIRST_LOCAL = new RegExp(`([^${cls}@]+)@`);

export interface FastPathColumn {
  /** Characters the column holds at most; null: no limit. */
  maxLength: number | null;
  nullable: boolean;
  /** lower() of the column's collation (and the database's) turns A–Z into a–z and nothing else. */
  asciiLower: boolean;
}

/**
 * The rewrite of `value` (which holds an "at") when a fast path certainly applies, else
 * undefined: the SQL functions decide. null where the rule gives NULL (no room at all).
 */
export function fastPathRewrite(value: string, sandbox: string, column: FastPathColumn): string | null | undefined {
  const limit = column.maxLength ?? Infinity;
  // rewrite_emails: one plain address whose rewrite fits.
  if (value.length + sandbox.length + 1 <= limit && SINGLE.test(value)) {
    const at = value.indexOf('@');
    let domain = value.slice(at + 1);
    if (UPPER.test(domain)) {
      if (!column.asciiLower) return undefined;
      domain = domain.toLowerCase();
    }
    return domain === sandbox ? value : `${value.slice(0, at)}_${domain}@${sandbox}`;
  }
  if (!PRINTABLE_ASCII.test(value)) return undefined;
  // rewrite_field's one regexp_replace for plain lists, and its short forms when that is too long.
  if (!LIST_DISQUALIFIERS.test(value) && !value.includes(`@${sandbox}`)) {
    const result = value.replace(LIST_ADDRESS, `$1_$2@${sandbox}`);
    return result.length <= limit ? result : shortForm(value, FIRST_LOCAL.exec(result)?.[1] ?? '', sandbox, column);
  }
  // rewrite_field's token loop on a value that is one token with several "at": rewrite_address.
  if (MULTI_AT.test(value)) {
    const at = value.lastIndexOf('@');
    let domain = value.slice(at + 1);
    if (UPPER.test(domain)) {
      if (!column.asciiLower) return undefined;
      domain = domain.toLowerCase();
    }
    const result = `${value.slice(0, at).replace(/@/g, '_')}_${domain}@${sandbox}`;
    if (result.length <= limit) return result;
  }
  return undefined;
}

/** rewrite_field's value when the rewrite does not fit: a prefix, a hash of the original, the sandbox. */
function shortForm(value: string, firstLocal: string, sandbox: string, column: FastPathColumn): string | null {
  const limit = column.maxLength!;
  const tail = `@${sandbox}`;
  const hex = hash('md5', value).slice(0, 8);
  let room = limit - tail.length - 1 - hex.length;
  if (room >= 1) return `${firstLocal.slice(0, room)}_${hex}${tail}`;
  room = limit - tail.length;
  if (room >= 1) return `${hex.slice(0, room)}${tail}`;
  return column.nullable ? null : '';
}
