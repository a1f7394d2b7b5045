/**
 * Runs one long BACKUP/RESTORE on its own session and reports its progress by polling
 * sys.dm_exec_requests.percent_complete for that session from another connection. The
 * reported percent is mapped into [from, to] of the whole operation and never goes backwards.
 */
import type sql from 'mssql';
import type { ProgressFn } from '../port';
import { request, rows, type Connections } from './connections';
import type { Batch } from './tsql/batch';
import { currentSession, requestProgress } from './tsql/copy';

const POLL_MS = 1000;

export function abortError(signal: AbortSignal, what: string): Error {
  const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new Error(`${what} aborted${reason}`);
}

export class MonotonicProgress {
  private last = -1;
  constructor(private readonly onProgress?: ProgressFn) {}
  report(percent: number, detail: string): void {
    const p = Math.max(this.last, Math.min(100, Math.floor(percent)));
    this.last = p;
    this.onProgress?.({ percent: p, detail });
  }
}

export async function runTracked(
  conns: Connections,
  b: Batch,
  opts: { progress: MonotonicProgress; from: number; to: number; what: string; signal?: AbortSignal },
): Promise<sql.IResult<unknown>> {
  const { progress, from, to, what, signal } = opts;
  if (signal?.aborted) throw abortError(signal, what);
  const session = await conns.dedicated();
  const master = await conns.master();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const [{ spid }] = await rows<{ spid: number }>(session, currentSession());
    const req = request(session, b);
    const running = req.query(b.text);
    const poll = async (): Promise<void> => {
      const r = await rows<{ percent: number | null }>(master, requestProgress(spid)).catch(() => []);
      const pc = r[0]?.percent;
      if (typeof pc === 'number') progress.report(from + ((to - from) * pc) / 100, `${what}: ${pc.toFixed(1)}%`);
    };
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        req.cancel();
        reject(abortError(signal!, what));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    progress.report(from, `${what}: started`);
    timer = setTimeout(function tick() {
      void poll().finally(() => {
        if (timer) timer = setTimeout(tick, POLL_MS);
      });
    }, 100);
    const result = await Promise.race([running, aborted]);
    if (signal?.aborted) throw abortError(signal, what);
    return result;
  } catch (err) {
    if (signal?.aborted) throw abortError(signal, what);
    throw Object.assign(new Error(`${b.name}: ${(err as Error).message}`), { cause: err });
  } finally {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    await session.close().catch(() => undefined);
  }
}
