/**
 * What the clone's messages may carry. Anyone with access to the namespace can send a signal
 * with any payload (`temporal workflow signal --input 'null'`), and a handler that throws on it
 * fails every later workflow task: the clone is wedged. So signals read their payload through
 * these functions, which never throw, and the updates (which can answer their sender) refuse
 * what is not exactly right in their validators. Pure code, shared with the client.
 */

export const MAX_REASON = 500;
const MAX_DETAIL = 500;
const MAX_STEP_ID = 100;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The reason of a cancel or rollback signal, leniently: whoever sends one wants the clone
 * stopped, which is the safe direction, so any payload stops it; a text reason is kept (capped),
 * anything else means "no reason given".
 */
export function reasonFromSignal(payload: unknown): string | null {
  const raw = typeof payload === 'string' ? payload : isRecord(payload) && typeof payload.reason === 'string' ? payload.reason : null;
  const reason = raw?.trim().slice(0, MAX_REASON) ?? '';
  return reason === '' ? null : reason;
}

/** Why an update's `{ reason? }` payload is refused, or null; it names the bad value. */
export function badReasonPayload(payload: unknown): string | null {
  if (payload === undefined) return null;
  if (!isRecord(payload)) return `expected an object such as { "reason": "…" }, got ${describe(payload)}`;
  const extra = Object.keys(payload).filter((k) => k !== 'reason');
  if (extra.length) return `unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')}: only "reason" is accepted`;
  if (payload.reason !== undefined && payload.reason !== null && typeof payload.reason !== 'string')
    return `reason must be text, got ${describe(payload.reason)}`;
  if (typeof payload.reason === 'string' && payload.reason.length > MAX_REASON) return `reason is ${payload.reason.length} characters, at most ${MAX_REASON}`;
  return null;
}

/** Why an update that takes no payload got one, or null. */
export function badEmptyPayload(payload: unknown): string | null {
  if (payload === undefined || payload === null || (isRecord(payload) && Object.keys(payload).length === 0)) return null;
  return `this update takes no payload, got ${describe(payload)}`;
}

/**
 * A step's heartbeated progress, or null when the details are not one. Heartbeat details are
 * written by the worker, but a namespace client can record heartbeats too, so they are read
 * with the same care as any payload.
 */
export function progressReport(payload: unknown): { stepId: string; percent: number | null; detail: string } | null {
  if (!isRecord(payload)) return null;
  const { stepId, percent, detail } = payload;
  if (typeof stepId !== 'string' || stepId.length === 0 || stepId.length > MAX_STEP_ID) return null;
  if (percent !== null && (typeof percent !== 'number' || !Number.isFinite(percent))) return null;
  if (typeof detail !== 'string') return null;
  return { stepId, percent: percent === null ? null : Math.max(0, Math.min(100, percent)), detail: detail.slice(0, MAX_DETAIL) };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
