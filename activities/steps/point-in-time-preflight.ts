/**
 * The point-in-time plan's preflight (seed 003, SPEC §6), part of `check-request`: each refusal
 * names its value, and is decided by reading only, so a refused clone has touched nothing, the
 * backup repository included.
 */
import type { DatabaseTransfer } from '../database/port';
import type { Tenant } from '../platform/port';

/** How far back a point-in-time clone may go, by the source's kind (seed 003: 28 and 7 days). */
export interface RetentionDays {
  production: number;
  sandbox: number;
}

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Compare application versions part by part (10.4.2 < 10.10.0), numerically where both parts are numbers. */
export function compareAppVersions(a: string, b: string): number {
  const pa = a.split(/[.\-+]/);
  const pb = b.split(/[.\-+]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const [x, y] = [pa[i] ?? '0', pb[i] ?? '0'];
    const [nx, ny] = [Number(x), Number(y)];
    const c = /^\d+$/.test(x) && /^\d+$/.test(y) ? nx - ny : x.localeCompare(y);
    if (c !== 0) return Math.sign(c);
  }
  return 0;
}

/** Why the clone is refused, or, when it is not, what the point will be restored from. */
export async function pointInTimePreflight(
  db: Pick<DatabaseTransfer, 'pointInTimeCoverage'>,
  src: Tenant,
  tgt: Tenant,
  at: string,
  retention: RetentionDays,
  nowMs: number,
): Promise<{ refusal: string } | { detail: string }> {
  const atMs = Date.parse(at);
  if (atMs > nowMs) return { refusal: `point in time ${at} is in the future (it is ${iso(nowMs)} now)` };
  const days = src.kind === 'production' ? retention.production : retention.sandbox;
  const oldestMs = nowMs - days * DAY_MS;
  if (atMs < oldestMs) {
    return {
      refusal: `point in time ${at} is outside the retention window: ${src.id} is a ${src.kind} tenant, whose backups are kept ${days} days, so nothing before ${iso(oldestMs)} can be restored`,
    };
  }
  if (src.region !== tgt.region) {
    return {
      refusal: `source ${src.id} is in region ${src.region} and target ${tgt.id} in region ${tgt.region}: a point-in-time restore never crosses regions`,
    };
  }
  if (compareAppVersions(tgt.appVersion, src.appVersion) < 0) {
    return {
      refusal: `target ${tgt.id} runs application version ${tgt.appVersion}, older than ${src.id}'s ${src.appVersion}: update the target first, or its data could not be read`,
    };
  }
  const coverage = await db.pointInTimeCoverage(src.database.name, at);
  if (!coverage.reachable) return { refusal: `${src.id} cannot be restored as of ${at}: ${coverage.reason}` };
  return { detail: `as of ${at} ${coverage.detail}` };
}
