/** Timing and the one line every benchmark prints: ours against the best primitive of the same run. */
export { freePort } from '../stack/services/process';

export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return [Number(process.hrtime.bigint() - start) / 1e9, result];
}

export function ratioLine(name: string, x: number, y: number): string {
  return `${name}: ${x.toFixed(2)} s vs baseline ${y.toFixed(2)} s, ratio ${(x / y).toFixed(2)}`;
}
