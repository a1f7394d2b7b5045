import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPlanOrder, copyPlan, type Plan } from '../../workflows/plans';

describe('plans', () => {
  test('the copy plan follows seed 002: its 33 steps in order, plus the checks around them', () => {
    const seedSteps = copyPlan.steps.filter((s) => !['check-request', 'drop-set-aside-database'].includes(s.id));
    assert.equal(seedSteps.length, 33);
    assert.equal(seedSteps[0].id, 'enter-maintenance');
    assert.equal(seedSteps[7].id, 'copy-database');
    assert.equal(seedSteps[12].id, 'scrub-emails');
    assert.equal(seedSteps[31].id, 'enter-running-mode');
    assert.equal(seedSteps[32].id, 'wait-hosting-operations');
    assert.doesNotThrow(() => checkPlanOrder(copyPlan));
  });

  test('a plan that would open the target before scrubbing is rejected', () => {
    const steps = [...copyPlan.steps];
    const scrub = steps.findIndex((s) => s.id === 'scrub-emails');
    const [moved] = steps.splice(scrub, 1);
    steps.push(moved);
    const unsafe: Plan = { ...copyPlan, steps };
    assert.throws(() => checkPlanOrder(unsafe), /enter-running-mode must come after scrub-emails/);
  });

  test('step ids are unique', () => {
    const dup: Plan = { ...copyPlan, steps: [...copyPlan.steps, copyPlan.steps[3]] };
    assert.throws(() => checkPlanOrder(dup), /appears twice/);
  });
});
