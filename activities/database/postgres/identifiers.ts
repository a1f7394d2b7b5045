/**
 * Names that end up inside SQL text (databases, roles, tables, columns) are validated against a
 * conservative pattern and then double-quoted, so no caller-provided string is ever spliced into
 * SQL unchecked. Values always travel as bind parameters instead.
 */

const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const TENANT_ID = /^[a-z][a-z0-9-]{1,40}$/;
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

/** Validated and double-quoted, ready to splice into SQL text. */
export function quoteIdent(kind: string, value: string): string {
  return `"${checkIdentifier(kind, value)}"`;
}

/** The logical database name of a tenant: `tenant_` + id with `-` replaced by `_`. */
export function tenantDatabaseName(tenantId: string): string {
  if (typeof tenantId !== 'string' || !TENANT_ID.test(tenantId)) {
    throw new Error(`invalid tenant id ${JSON.stringify(tenantId)}: must match ${TENANT_ID}`);
  }
  return `tenant_${tenantId.replace(/-/g, '_')}`;
}

/** The sandbox mail domain, lower-cased; refuses anything that is not a plain DNS name. */
export function checkMailDomain(domain: string): string {
  const lowered = typeof domain === 'string' ? domain.trim().toLowerCase() : '';
  if (!DOMAIN.test(lowered)) {
    throw new Error(`invalid sandbox mail domain ${JSON.stringify(domain)}: must be a DNS name such as mailinator.com`);
  }
  return lowered;
}

/** A regular-expression-safe copy of a checked domain (only '.' is special in a DNS name). */
export function domainRegex(domain: string): string {
  return checkMailDomain(domain).replace(/\./g, '\\.');
}
