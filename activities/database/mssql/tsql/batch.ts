/**
 * A T-SQL batch as data: the text the engine sends and its typed parameters. Every batch is
 * built by a pure function so the unit suite can inspect it without a server; the engine only
 * binds the parameters and executes the text.
 */
export type ParamType = 'nvarchar' | 'int' | 'bigint' | 'bit' | 'float';

export interface Param {
  type: ParamType;
  value: string | number | boolean | null;
}

export interface Batch {
  /** Stable name, used by the tests to document what node-sql-parser can and cannot parse. */
  name: string;
  text: string;
  params: Record<string, Param>;
}

export const str = (value: string | null): Param => ({ type: 'nvarchar', value });
export const int = (value: number | null): Param => ({ type: 'int', value });
export const bit = (value: boolean): Param => ({ type: 'bit', value });

/** A profile scalar as a typed parameter (NULL never travels as one; callers inline NULL). */
export function scalar(value: string | number | boolean): Param {
  if (typeof value === 'boolean') return bit(value);
  if (typeof value === 'number') return Number.isInteger(value) ? { type: 'bigint', value } : { type: 'float', value };
  return str(value);
}

export function batch(name: string, text: string, params: Record<string, Param> = {}): Batch {
  return { name, text: text.trim(), params };
}
