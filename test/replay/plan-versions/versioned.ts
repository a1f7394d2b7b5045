// The workflow with copy v2 added beside v1, the way PLANS is to be changed.
import { cloneWorkflow } from '../../../workflows/clone-tenant';
import { PLANS, copyPlan } from '../../../workflows/plans';
import { copyPlanV2 } from './next-copy-plan';

export const cloneTenant = cloneWorkflow({ ...PLANS, copy: [copyPlan, copyPlanV2] });
