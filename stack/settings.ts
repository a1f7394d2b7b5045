/** Settings the stack reads from the environment: a bad one is a StackError naming the variable. */

export class StackError extends Error {
  override name = 'StackError';
}

/** A positive whole number from the environment, or the fallback; bad values are named. */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, max = 10_000_000): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max)
    throw new StackError(`${name}=${JSON.stringify(raw)} must be a whole number from 1 to ${max}`);
  return Number(raw);
}
