/**
 * A second version of the copy plan, as a change to it would be made: one step more (the
 * hosting layer is waited for after the recycle too). Only tests use it.
 */
import { copyPlan, definePlan, STEP, type Plan } from '../../../workflows/plans';

const recycle = copyPlan.steps.findIndex((st) => st.id === 'recycle');

export const WAIT_AFTER_RECYCLE = { ...STEP.waitHostingOperations, id: 'wait-hosting-after-recycle', title: 'Wait for the recycle to be applied' };

export const copyPlanV2: Plan = definePlan({
  ...copyPlan,
  version: 2,
  steps: [...copyPlan.steps.slice(0, recycle + 1), WAIT_AFTER_RECYCLE, ...copyPlan.steps.slice(recycle + 1)],
});
