// The workflow with copy v1 replaced by v2: the change the versioning exists to prevent.
import { cloneWorkflow } from '../../../workflows/clone-tenant';
import { PLANS } from '../../../workflows/plans';
import { copyPlanV2 } from './next-copy-plan';

export const cloneTenant = cloneWorkflow({ ...PLANS, copy: [{ ...copyPlanV2, version: 1 }] });
