/**
 * Names in T-SQL text. Database, login and role names are dynamic and travel as parameters
 * that the server quotes with QUOTENAME inside sp_executesql. Table and column names from the
 * profile are validated (the profile schema already restricts them) and bracket-quoted locally
 * with `]` doubled, which is exactly what QUOTENAME does; nothing a caller passes is spliced raw.
 */

const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
// Logins/roles: same rule as databases, so a name is never a T-SQL keyword trick or a path.
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

/** QUOTENAME's rule done locally: wrap in [] and double every ]. */
export function bracket(value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) {
    throw new Error(`invalid SQL Server identifier ${JSON.stringify(value)}: 1-128 characters`);
  }
  return `[${value.replace(/]/g, ']]')}]`;
}

/** Validated and bracket-quoted, ready for SQL text. */
export function quoteIdent(kind: string, value: string): string {
  return bracket(checkIdentifier(kind, value));
}

/** `[dbo].[table]` for a validated table name. */
export function dboTable(table: string): string {
  return `[dbo].${quoteIdent('table name', table)}`;
}

/** The sandbox mail domain, lower-cased; refuses anything that is not a plain DNS name. */
export function checkMailDomain(domain: string): string {
  const lowered = typeof domain === 'string' ? domain.trim().toLowerCase() : '';
  if (!DOMAIN.test(lowered)) {
    throw new Error(`invalid sandbox mail domain ${JSON.stringify(domain)}: must be a DNS name such as mailinator.com`);
  }
  return lowered;
}

/** T-SQL string literal (N'…' with ' doubled), only for constant text the engine owns. */
export function nliteral(value: string): string {
  return `N'${value.replace(/'/g, "''")}'`;
}
