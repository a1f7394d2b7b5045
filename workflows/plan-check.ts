/**
 * What makes a plan safe to run, checked when it is defined (definePlan), so a plan edited
 * into an unsafe order, or reading a fact no earlier step provides, fails in a unit test and
 * never reaches a worker.
 */
import { ACTIVITY_CONTRACTS, type ActivityContract, type ActivityName, type Fact } from './activity-contracts';
import type { Plan, PlanStep, StepRole } from './plans';

export class PlanError extends Error {}

const contract = (name: ActivityName): ActivityContract => ACTIVITY_CONTRACTS[name];

export function checkPlan(plan: Plan): void {
  const name = `plan ${plan.id} v${plan.version}`;
  const fail = (why: string): never => {
    throw new PlanError(`${name}: ${why}`);
  };
  const ids = new Set<string>();
  for (const step of [...plan.steps, plan.finally]) {
    if (ids.has(step.id)) fail(`step id ${step.id} appears twice`);
    ids.add(step.id);
  }

  if (plan.steps[0]?.role !== 'checks-request') fail(`the first step must be the one that checks the request, not ${plan.steps[0]?.id ?? 'nothing'}`);

  // Facts a step may rely on: those of earlier steps that always run (a step left out by a
  // condition or a signal provides nothing).
  const known = new Set<Fact>();
  for (const step of plan.steps) {
    const lacking = (needs: readonly Fact[]) => needs.filter((f) => !known.has(f));
    const missing = lacking(contract(step.activity).needs);
    if (missing.length) fail(`step ${step.id} needs ${missing.join(', ')}, which no earlier step always provides`);
    if (step.undo) {
      const undoMissing = lacking(contract(step.undo).needs);
      if (undoMissing.length) fail(`step ${step.id} is undone by ${step.undo}, which needs ${undoMissing.join(', ')}, which no earlier step always provides`);
    }
    if (!step.condition && !step.optionalDocuments) for (const f of contract(step.activity).provides) known.add(f);
  }
  // The requester is told after a refusal too, when no step has provided anything.
  const finalNeeds = contract(plan.finally.activity).needs;
  if (finalNeeds.length) fail(`the final step ${plan.finally.id} runs after a refusal too, so it may need no fact, but needs ${finalNeeds.join(', ')}`);

  const withRole = (role: StepRole) => plan.steps.map((step, i) => ({ step, i })).filter(({ step }) => step.role === role);
  for (const role of ['checks-request', 'scrubs-addresses', 'disables-tasks', 'opens-target', 'sets-aside-database', 'drops-set-aside-database'] as const) {
    if (withRole(role).length > 1)
      fail(
        `more than one step ${role}: ${withRole(role)
          .map(({ step }) => step.id)
          .join(', ')}`,
      );
  }
  // Invariant 1 (SPEC §4): the target opens only after the scrub and the task disabling.
  for (const { step: opener, i } of withRole('opens-target')) {
    for (const needed of ['scrubs-addresses', 'disables-tasks'] as const) {
      const before = withRole(needed)[0];
      if (!before || before.i > i) fail(`${opener.id} opens the target, so it must come after the step that ${describe(needed)}`);
    }
    if (opener.optionalDocuments) fail(`${opener.id} opens the target and cannot be optional`);
  }
  // A set-aside database is kept until a later step drops it (or the rollback puts it back).
  const setAside = withRole('sets-aside-database')[0];
  const drop = withRole('drops-set-aside-database')[0];
  if (setAside && (!drop || drop.i < setAside.i)) fail(`${setAside.step.id} sets the old database aside, but no later step drops it`);
  if (drop && !setAside) fail(`${drop.step.id} drops a set-aside database, but no step sets one aside`);
  for (const step of [...plan.steps, plan.finally]) {
    if (contract(step.activity).compensation) fail(`step ${step.id} runs the compensation ${step.activity} as a step`);
    if (step.undo && !contract(step.undo).compensation) fail(`step ${step.id} is undone by ${step.undo}, which is not a compensation`);
  }
}

function describe(role: 'scrubs-addresses' | 'disables-tasks'): string {
  return role === 'scrubs-addresses' ? 'scrubs the addresses' : 'disables the scheduled tasks';
}

/** The step that plays `role` in `plan`, if any. */
export function stepWithRole(plan: Plan, role: StepRole): PlanStep | undefined {
  return plan.steps.find((step) => step.role === role);
}
