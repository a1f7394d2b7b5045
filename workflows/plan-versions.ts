/**
 * Plan versioning. A clone runs the version of its plan it started with to its end: a plan
 * changed under a running clone would schedule different activities on replay and wedge it.
 *
 * To change a plan, add a version to PLANS (plans.ts) beside the old one. A new clone records
 * the patch marker `plan:<id>:v<n>` of the newest version; a clone replaying a history without
 * that marker keeps the older version. Once no clone of an old version can still be running
 * (the longest retention has passed), it can go, with its marker check.
 */
import { patched } from '@temporalio/workflow';
import type { Plan, PlanCatalogue } from './plans';
import type { PlanId } from './request';

export const planPatchId = (id: PlanId, version: number) => `plan:${id}:v${version}`;

/**
 * The version of `id` this clone runs, or null when the catalogue has none. Version 1 predates
 * versioning and has no marker; each later one is asked for newest first, so a new clone
 * records one marker, the newest.
 */
export function planToRun(catalogue: PlanCatalogue, id: PlanId): Plan | null {
  const versions = catalogue[id];
  if (!versions || versions.length === 0) return null;
  const newestFirst = [...versions].sort((a, b) => b.version - a.version);
  for (const plan of newestFirst) {
    if (plan.version === 1 || patched(planPatchId(id, plan.version))) return plan;
  }
  return newestFirst[newestFirst.length - 1];
}
