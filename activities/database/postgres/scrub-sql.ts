/**
 * The e-mail rewrite as SQL functions installed in the target database (schema tenant_clone),
 * so the scrub is a set-based UPDATE per batch and no row travels through Node; and the
 * verification pattern, which never calls them. The rule is described in ../address-rule.ts.
 *
 * - rewrite_field(text): every address token of a value; when the result does not fit the
 *   column, a stable short form: <prefix of the first rewritten local part>_<8 hex of
 *   md5(original value)>@<sandbox>, then <hex>@<sandbox>, then NULL ('' for NOT NULL).
 * - rewrite_jsonb / rewrite_json: every string (keys included) of a JSON value, so it stays
 *   valid JSON; rewrite_json keeps key order and duplicate keys.
 * - rewrite_xml: the value's text, kept only when the result is still well-formed (otherwise
 *   the value is left and the verification names the column).
 * - rewrite_*_array: element by element, keeping the array's dimensions.
 * - rewrite_bytea: a bytea value that is text in the database's encoding (bytea-text.ts), as
 *   that text; any other value byte for byte.
 */
import { AFTER_DOMAIN_CHARS, AT_FORMS_RE, DOT_CHARS, SEPARATOR_CHARS } from '../address-rule';
import { byteaTextSql } from './bytea-text';
import { domainRegex } from './identifiers';

export const HELPER_SCHEMA = 'tenant_clone';

const esc = (c: string) =>
  ({ '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r', ' ': ' ', ']': '\\]', '[': '\\[', '\\': '\\\\', '^': '\\^', '-': '\\-' })[c] ?? c;

/** Bracket body of the separators (ARE syntax), and the same without the backslash. */
const S = SEPARATOR_CHARS.map(esc).join('');
const S_NO_BACKSLASH = SEPARATOR_CHARS.filter((c) => c !== '\\')
  .map(esc)
  .join('');
const DOTS = DOT_CHARS.map(esc).join('');
const AT = AT_FORMS_RE;
/**
 * A character reference such as &amp; or &#64; is one unit inside a token (its ';' does not end
 * it), and so is the escape \\u0040 (its backslash does not). The references to separators
 * (&lt; &gt; &quot; &apos;, as HTML and XML text escape them) end a token like the characters:
 * rewrite_field swaps them for private-use placeholders (PLACEHOLDERS) that are separators,
 * which keeps the token pattern free of look-ahead (six times faster), and swaps them back.
 */
const SEPARATOR_REFS = '&(?:lt|gt|quot|apos);';
const PLACEHOLDERS = '\uE001\uE002\uE003\uE004';
const TOKEN_CHAR = `(?:&#?[[:alnum:]]+;|\\\\[uU]0040|[^${S}${PLACEHOLDERS}])`;

/** Values the one-regexp rewrite of plain address lists cannot take (see rewrite_field). */
const MULTI_DISQUALIFIERS = `[&＠${PLACEHOLDERS}]|%40|\\\\[uU]0040|(^|[${S}])@|@([${S}]|$)|@[^${S}]*@|@[^${S}]*[[:upper:]]`;
/** One plain address and nothing else: the commonest value, which needs no token loop. */
const SINGLE_ADDRESS = `^[^${S}@＠%&\\\\]+@[^${S}@＠%&\\\\]+$`;
/** One address of a plain list, as the list's one regexp_replace rewrites it. */
const LIST_ADDRESS = `([^${S}@]+)@([^${S}@]+)`;

/** An address token: token characters around at least one "at". */
export const TOKEN_PATTERN = `${TOKEN_CHAR}*${AT}${TOKEN_CHAR}*`;
/** A handle such as @media: one leading "at", no dot, no other "at" form after it. */
export const HANDLE_PATTERN = `^${AT}[^${S}${DOTS}@＠%&\\\\]*$`;
/** Any "at" form at all: the cheap filter before the rewrite functions run. */
export const ANY_AT_PATTERN = `＠|%40|&#0*64;|&#[xX]0*40;|\\\\[uU]0040`;

const AFTER = `(?:$|[${S_NO_BACKSLASH}${AFTER_DOMAIN_CHARS.map(esc).join('')}]|\\\\(?![uU])|${SEPARATOR_REFS}|&amp;)`;
const HANDLE_REST = `[^${S}${DOTS}@＠%&\\\\]*(?:[${S}]|$|${SEPARATOR_REFS})`;

/**
 * The verification pattern (case-insensitive): an "at" that is not a handle's and is not
 * directly followed by the sandbox domain and a character that cannot continue it. It is
 * matched against the text of whole values and rows, so the escapes of JSON (`\n` before a
 * handle) and the delimiters of arrays, rows and JSON count as boundaries.
 */
export function foreignAddressPattern(sandbox: string): string {
  return `(?:(?<=[^${S}])(?<!\\\\[nrtfb])${AT}|${AT}(?!${HANDLE_REST}))(?!${domainRegex(sandbox)}${AFTER})`;
}

/**
 * A superset of foreignAddressPattern, several times cheaper (no look-behind): any "at" not
 * followed by the sandbox domain and a boundary, handles included. The gate matches it first
 * and the exact pattern only where it matched; in a clean copy it matches nothing.
 */
export function foreignAddressPrefilter(sandbox: string): string {
  return `${AT}(?!${domainRegex(sandbox)}${AFTER})`;
}

/** An address (with a local part) at exactly `domain`: the source-data check of a sandbox domain. */
export function addressAtDomainPattern(domain: string): string {
  return `(?<=[^${S}])${AT}${domainRegex(domain)}${AFTER}`;
}

/** Up to 80 characters after the first foreign "at": what an error message may show of a value. */
export function foreignDomainCapture(sandbox: string): string {
  return `${foreignAddressPattern(sandbox)}([^${S}]{0,80})`;
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/*
 * The rule's two fast paths, as SQL over a text expression `v`, the sandbox domain expression
 * `sandbox` and the column's length limit `maxlen` (an integer expression or NULL). The
 * in-flight copy applies the same two paths to plain ASCII values in Node (fast-path-rewrite.ts),
 * checked against these by test/database/fast-path-rewrite.test.ts.
 */
const limit = (maxlen: string) => `coalesce(${maxlen}, 2147483647)`;

/** Whether `v` is one plain address whose rewrite fits the column. */
function singleAddressFits(v: string, sandbox: string, maxlen: string): string {
  return `(${v} ~ ${lit(SINGLE_ADDRESS)} AND length(${v}) + length(${sandbox}) + 1 <= ${limit(maxlen)})`;
}

/** The rewrite of one plain address: kept when it is already at the sandbox. */
function singleAddressRewrite(v: string, sandbox: string): string {
  return `CASE WHEN lower(split_part(${v}, '@', 2)) = ${sandbox} THEN ${v}
           ELSE split_part(${v}, '@', 1) || '_' || lower(split_part(${v}, '@', 2)) || '@' || ${sandbox} END`;
}

/**
 * Whether one regexp_replace rewrites `v` as the token loop would: no obfuscated form, no
 * entity, no handle, no token with two "at" or ending in one, no upper case in a domain, no
 * sandbox address.
 */
function plainListApplies(v: string, sandbox: string): string {
  return `(${v} !~ ${lit(MULTI_DISQUALIFIERS)} AND ${v} !~* ('@' || replace(${sandbox}, '.', '\\.')))`;
}

function plainListRewrite(v: string, sandbox: string): string {
  return `regexp_replace(${v}, ${lit(LIST_ADDRESS)}, '\\1_\\2@' || ${sandbox}, 'g')`;
}

/** Any "at" in any form: the body of has_at. */
function hasAtSql(v: string): string {
  return `(strpos(${v}, '@') > 0 OR ${v} ~ ${lit(ANY_AT_PATTERN)})`;
}

/**
 * rewrite_json / rewrite_jsonb: every string of a value, keys included, through rewrite_field;
 * other values, order and (for json) duplicate keys as they were.
 */
function jsonWalker(t: 'json' | 'jsonb'): string {
  return `CREATE OR REPLACE FUNCTION tenant_clone.rewrite_${t}(j ${t}, sandbox text) RETURNS ${t}
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
BEGIN
  IF j IS NULL OR NOT tenant_clone.has_at(j::text) THEN
    RETURN j;
  END IF;
  CASE ${t}_typeof(j)
    WHEN 'string' THEN
      RETURN to_${t}(tenant_clone.rewrite_field(j #>> '{}', sandbox, NULL, true));
    WHEN 'array' THEN
      RETURN (SELECT ${t}_agg(tenant_clone.rewrite_${t}(e, sandbox) ORDER BY o) FROM ${t}_array_elements(j) WITH ORDINALITY AS x(e, o));
    WHEN 'object' THEN
      RETURN (SELECT ${t}_object_agg(tenant_clone.rewrite_field(k, sandbox, NULL, false), tenant_clone.rewrite_${t}(v, sandbox) ORDER BY o) FROM ${t}_each(j) WITH ORDINALITY AS x(k, v, o));
    ELSE
      RETURN j;
  END CASE;
END
$fn$;`;
}

/**
 * rewrite_<t>_array: the array keeps its dimensions and bounds; each distinct element `u` for
 * which `holds` is true is replaced wherever it occurs (array_replace) by `rewrite` of it (as
 * `e`), which needs an equality operator: text, jsonb and bytea have one.
 */
function arrayReplacer(t: 'text' | 'jsonb' | 'bytea', params: string, holds: string, rewrite: string): string {
  return `CREATE OR REPLACE FUNCTION tenant_clone.rewrite_${t}_array(a ${t}[], sandbox text${params}) RETURNS ${t}[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  e ${t};
  r ${t}[] := a;
BEGIN
  IF a IS NULL THEN
    RETURN a;
  END IF;
  FOR e IN SELECT DISTINCT u FROM unnest(a) AS u WHERE u IS NOT NULL AND ${holds} LOOP
    r := array_replace(r, e, ${rewrite});
  END LOOP;
  RETURN r;
END
$fn$;`;
}

export const INSTALL_SQL = String.raw`
CREATE SCHEMA IF NOT EXISTS tenant_clone;

-- The scrub's checkpoint, committed in the same transaction as each batch, so a resumed scrub
-- starts exactly after the last committed batch (a heartbeat may lag behind it).
CREATE TABLE IF NOT EXISTS tenant_clone.scrub_checkpoint (
  id         integer PRIMARY KEY CHECK (id = 1),
  run_id     text NOT NULL,
  checkpoint jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION tenant_clone.has_at(val text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT ${hasAtSql('val')}
$fn$;

-- <local with every @ as _>_<domain lower-cased>@<sandbox>, on a token whose "at" forms are
-- already plain @.
CREATE OR REPLACE FUNCTION tenant_clone.rewrite_address(addr text, sandbox text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT replace(coalesce(substring(addr FROM '^(.*)@'), ''), '@', '_') || '_' || lower(substring(addr FROM '[^@]*$')) || '@' || sandbox
$fn$;

CREATE OR REPLACE FUNCTION tenant_clone.rewrite_field(val text, sandbox text, maxlen integer, nullable boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  token_re constant text := ${lit(TOKEN_PATTERN)};
  handle_re constant text := ${lit(HANDLE_PATTERN)};
  at_re constant text := ${lit(AT)};
  rest text := val;
  result text := '';
  pos integer;
  tok text;
  plain text;
  rewritten text;
  first_local text;
  tail text := '@' || sandbox;
  hex text;
  room integer;
  mapped boolean := false;
BEGIN
  IF val IS NULL OR NOT tenant_clone.has_at(val) THEN
    RETURN val;
  END IF;
  -- Several plain addresses (a list, display names): one regexp_replace does what the token
  -- loop would, when nothing needs the loop (plainListApplies says when).
  IF ${plainListApplies('val', 'sandbox')} THEN
    result := ${plainListRewrite('val', 'sandbox')};
    IF maxlen IS NULL OR length(result) <= maxlen THEN
      RETURN result;
    END IF;
    first_local := substring(result FROM ${lit(`([^${S}@]+)@`)});
  ELSE
    IF strpos(val, '&') > 0 AND val ~ ${lit(SEPARATOR_REFS)} AND val !~ '[${PLACEHOLDERS}]' THEN
      rest := replace(replace(replace(replace(val, '&lt;', chr(57345)), '&gt;', chr(57346)), '&quot;', chr(57347)), '&apos;', chr(57348));
      mapped := true;
    END IF;
    LOOP
      pos := regexp_instr(rest, token_re);
      EXIT WHEN pos = 0;
      tok := regexp_substr(rest, token_re);
      IF tok ~ handle_re THEN
        rewritten := tok;
      ELSE
        plain := regexp_replace(tok, at_re, '@', 'g');
        IF length(plain) - length(replace(plain, '@', '')) = 1 AND lower(split_part(plain, '@', 2)) = sandbox THEN
          rewritten := tok;
        ELSE
          rewritten := tenant_clone.rewrite_address(plain, sandbox);
        END IF;
        IF first_local IS NULL THEN
          first_local := substring(regexp_replace(rewritten, at_re, '@', 'g') FROM '^(.*)@');
        END IF;
      END IF;
      result := result || substr(rest, 1, pos - 1) || rewritten;
      rest := substr(rest, pos + length(tok));
    END LOOP;
    result := result || rest;
    IF mapped THEN
      result := replace(replace(replace(replace(result, chr(57345), '&lt;'), chr(57346), '&gt;'), chr(57347), '&quot;'), chr(57348), '&apos;');
      first_local := replace(replace(replace(replace(first_local, chr(57345), '&lt;'), chr(57346), '&gt;'), chr(57347), '&quot;'), chr(57348), '&apos;');
    END IF;
  END IF;
  IF maxlen IS NULL OR length(result) <= maxlen THEN
    RETURN result;
  END IF;
  hex := left(md5(val), 8);
  room := maxlen - length(tail) - 1 - length(hex);
  IF room >= 1 THEN
    RETURN left(coalesce(first_local, ''), room) || '_' || hex || tail;
  END IF;
  room := maxlen - length(tail);
  IF room >= 1 THEN
    RETURN left(hex, room) || tail;
  END IF;
  RETURN CASE WHEN nullable THEN NULL ELSE '' END;
END
$fn$;

-- Fast path for the common single bare address, inlined by the planner into the UPDATE;
-- anything else (obfuscated forms, several tokens, too long) goes through rewrite_field.
CREATE OR REPLACE FUNCTION tenant_clone.rewrite_emails(val text, sandbox text, maxlen integer, nullable boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE
    WHEN val IS NULL THEN val
    WHEN ${singleAddressFits('val', 'sandbox', 'maxlen')} THEN ${singleAddressRewrite('val', 'sandbox')}
    ELSE tenant_clone.rewrite_field(val, sandbox, maxlen, nullable)
  END
$fn$;

${jsonWalker('jsonb')}

${jsonWalker('json')}

CREATE OR REPLACE FUNCTION tenant_clone.rewrite_xml(x xml, sandbox text) RETURNS xml
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  before text := x::text;
  after text;
BEGIN
  IF x IS NULL OR NOT tenant_clone.has_at(before) THEN
    RETURN x;
  END IF;
  after := tenant_clone.rewrite_field(before, sandbox, NULL, true);
  IF after = before THEN
    RETURN x;
  END IF;
  IF x IS DOCUMENT THEN
    RETURN CASE WHEN xml_is_well_formed_document(after) THEN XMLPARSE(DOCUMENT after) ELSE x END;
  END IF;
  RETURN CASE WHEN xml_is_well_formed_content(after) THEN XMLPARSE(CONTENT after) ELSE x END;
END
$fn$;

${arrayReplacer('text', ', maxlen integer', 'tenant_clone.has_at(u)', 'tenant_clone.rewrite_emails(e, sandbox, maxlen, true)')}

${arrayReplacer('jsonb', '', 'tenant_clone.has_at(u::text)', 'tenant_clone.rewrite_jsonb(e, sandbox)')}

-- json and xml have no equality: one-dimensional arrays are rebuilt in order; a value of more
-- dimensions is left for the verification to name.
CREATE OR REPLACE FUNCTION tenant_clone.rewrite_json_array(a json[], sandbox text) RETURNS json[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE WHEN a IS NULL OR array_ndims(a) IS DISTINCT FROM 1 OR array_lower(a, 1) <> 1 THEN a
    ELSE ARRAY(SELECT tenant_clone.rewrite_json(u, sandbox) FROM unnest(a) WITH ORDINALITY AS x(u, o) ORDER BY o) END
$fn$;

-- bytea declares no length: the text is rewritten as an unbounded text column's would be.
CREATE OR REPLACE FUNCTION tenant_clone.rewrite_bytea(b bytea, sandbox text, nullable boolean) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE WHEN ${byteaTextSql('b')} IS NULL THEN b
    ELSE convert_to(tenant_clone.rewrite_emails(convert_from(b, getdatabaseencoding()), sandbox, NULL, nullable), getdatabaseencoding()) END
$fn$;

${arrayReplacer('bytea', '', `${byteaTextSql('u')} IS NOT NULL`, 'tenant_clone.rewrite_bytea(e, sandbox, true)')}

CREATE OR REPLACE FUNCTION tenant_clone.rewrite_xml_array(a xml[], sandbox text) RETURNS xml[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE WHEN a IS NULL OR array_ndims(a) IS DISTINCT FROM 1 OR array_lower(a, 1) <> 1 THEN a
    ELSE ARRAY(SELECT tenant_clone.rewrite_xml(u, sandbox) FROM unnest(a) WITH ORDINALITY AS x(u, o) ORDER BY o) END
$fn$;
`;
