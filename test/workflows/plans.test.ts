import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPlanOrder, copyPlan, restorePlan, type Plan } from '../../workflows/plans';

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

describe('restore plan', () => {
  test('follows seeds 000/001: their 24 steps in order, the tool’s own steps around them', () => {
    const own = ['check-request', 'set-aside-database', 'create-database', 'prepare-database', 'drop-set-aside-database'];
    const seed = restorePlan.steps.filter((s) => !own.includes(s.id)).map((s) => s.id);
    assert.deepEqual(seed, [
      'backup-source',
      'enter-maintenance',
      'wait-customer-tasks',
      'connect-clusters',
      'restore-backup',
      'copy-customer-info',
      'create-sql-login',
      'fix-system-users',
      'scrub-emails',
      'register-directory',
      'clone-templates',
      'provision-mail',
      'disable-scheduled-tasks',
      'recycle',
      'change-serial',
      'directory-in-migration',
      'assign-user-plans',
      'sync-directory-users',
      'directory-normal',
      'create-partner-system-users',
      'update-company-info',
      'clone-attachments-soarc',
      'notify-apps',
      'enter-running-mode',
    ]);
    assert.doesNotThrow(() => checkPlanOrder(restorePlan));
  });
});
