/**
 * The e-mail rewrite as SQL functions installed in the target database (schema tenant_clone),
 * so the scrub is a set-based UPDATE per batch and no row travels through Node.
 *
 * Rule (seed 000): john.doe@company.com -> john.doe_company.com@<sandbox>.
 * - An address token is a run of characters other than whitespace , ; < > " ( ) that holds an
 *   '@'; everything else in the value (display names, separators, brackets) is kept.
 * - The domain is what follows the last '@'; earlier '@' become '_' in the local part.
 * - The domain is lower-cased in the result; the local part is kept as it is.
 * - Tokens already in the sandbox domain (any case) are left alone, so re-running is a no-op.
 * - When the result does not fit the column, a stable short form is used:
 *   <prefix of the first rewritten local part>_<8 hex of md5(original value)>@<sandbox>,
 *   then <hex>@<sandbox>, then NULL (or '' for a NOT NULL column).
 */

export const HELPER_SCHEMA = 'tenant_clone';

/** Characters that end an address token; shared by the rewrite and the token pattern. */
const SEPARATORS = String.raw`\s,;<>"()`;

export const TOKEN_PATTERN = `[^${SEPARATORS}]*@[^${SEPARATORS}]*`;

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

CREATE OR REPLACE FUNCTION tenant_clone.rewrite_address(addr text, sandbox text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE
    WHEN addr IS NULL OR strpos(addr, '@') = 0 THEN addr
    WHEN lower(substring(addr FROM '[^@]*$')) = sandbox THEN addr
    ELSE replace(substring(addr FROM '^(.*)@'), '@', '_') || '_' || lower(substring(addr FROM '[^@]*$')) || '@' || sandbox
  END
$fn$;

CREATE OR REPLACE FUNCTION tenant_clone.rewrite_field(val text, sandbox text, maxlen integer, nullable boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  token_re constant text := '${TOKEN_PATTERN}';
  rest text := val;
  result text := '';
  pos integer;
  tok text;
  rewritten text;
  first_local text;
  tail text := '@' || sandbox;
  hex text := left(md5(val), 8);
  room integer;
BEGIN
  IF val IS NULL OR strpos(val, '@') = 0 THEN
    RETURN val;
  END IF;
  LOOP
    pos := regexp_instr(rest, token_re);
    EXIT WHEN pos = 0;
    tok := regexp_substr(rest, token_re);
    rewritten := tenant_clone.rewrite_address(tok, sandbox);
    IF first_local IS NULL THEN
      first_local := substring(rewritten FROM '^(.*)@');
    END IF;
    result := result || substr(rest, 1, pos - 1) || rewritten;
    rest := substr(rest, pos + length(tok));
  END LOOP;
  result := result || rest;
  IF maxlen IS NULL OR length(result) <= maxlen THEN
    RETURN result;
  END IF;
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
-- anything else goes through rewrite_field.
CREATE OR REPLACE FUNCTION tenant_clone.rewrite_emails(val text, sandbox text, maxlen integer, nullable boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE
    WHEN val IS NULL OR strpos(val, '@') = 0 THEN val
    WHEN val ~ '^[^${SEPARATORS}@]+@[^${SEPARATORS}@]+$' AND length(val) + length(sandbox) + 1 <= coalesce(maxlen, 2147483647) THEN
      CASE WHEN lower(split_part(val, '@', 2)) = sandbox THEN val
           ELSE split_part(val, '@', 1) || '_' || lower(split_part(val, '@', 2)) || '@' || sandbox END
    ELSE tenant_clone.rewrite_field(val, sandbox, maxlen, nullable)
  END
$fn$;
`;

/**
 * Cheap pre-filter (case-insensitive regex): true when some '@' is not directly followed by the
 * sandbox domain ending a token. It may also match values the rewrite leaves unchanged (e.g.
 * "a@x@sandbox"), never the reverse, so rows without a foreign address are not rewritten.
 */
export function needsRewritePattern(domainRegex: string): string {
  return `@(?!${domainRegex}([${SEPARATORS}]|$))`;
}

/** Token splitter for the independent verification. */
export const SPLIT_PATTERN = `[${SEPARATORS}]+`;
