/**
 * Names in T-SQL text. Database, login and role names are dynamic and travel as parameters
 * that the server quotes with QUOTENAME inside sp_executesql. Table and column names from the
 * profile are validated (the profile schema already restricts them) and bracket-quoted locally
 * with `]` doubled, which is exactly what QUOTENAME does; nothing a caller passes is spliced raw.
 * Logins and roles follow the same rule as databases (../../names.ts), so a name is never a
 * T-SQL keyword trick or a path.
 */
import { checkIdentifier, checkMailDomain } from '../../names';

export { checkIdentifier, checkMailDomain };

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

/** T-SQL string literal (N'…' with ' doubled), only for constant text the engine owns. */
export function nliteral(value: string): string {
  return `N'${value.replace(/'/g, "''")}'`;
}
