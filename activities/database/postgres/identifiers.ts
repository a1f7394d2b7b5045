/**
 * Names that end up inside SQL text (databases, roles, tables, columns) are validated against a
 * conservative pattern and then double-quoted, so no caller-provided string is ever spliced into
 * SQL unchecked. Values always travel as bind parameters instead.
 */
import { checkIdentifier, checkMailDomain } from '../names';

export { checkIdentifier, checkMailDomain };

const TENANT_ID = /^[a-z][a-z0-9-]{1,40}$/;

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

/** A regular-expression-safe copy of a checked domain (only '.' is special in a DNS name). */
export function domainRegex(domain: string): string {
  return checkMailDomain(domain).replace(/\./g, '\\.');
}
