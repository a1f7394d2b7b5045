/**
 * The naming rules both engines share: which database, role, table and column names the tool
 * accepts (one conservative rule, within PostgreSQL's 63-character limit, so a profile means the
 * same on either engine), and which sandbox mail domains. Each engine quotes names its own way.
 */

const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const DOMAIN = /^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Throws an error naming the bad value unless `value` is a plain lower-case SQL identifier. */
export function checkIdentifier(kind: string, value: string): string {
  if (typeof value !== 'string' || !SQL_IDENTIFIER.test(value)) {
    throw new Error(
      `invalid ${kind} ${JSON.stringify(value)}: must be a lower-case SQL identifier (letters, digits, _; at most 63 characters, not starting with a digit)`,
    );
  }
  return value;
}

/** The sandbox mail domain, lower-cased; refuses anything that is not a plain DNS name. */
export function checkMailDomain(domain: string): string {
  const lowered = typeof domain === 'string' ? domain.trim().toLowerCase() : '';
  if (!DOMAIN.test(lowered)) {
    throw new Error(`invalid sandbox mail domain ${JSON.stringify(domain)}: must be a DNS name such as mailinator.com`);
  }
  return lowered;
}
