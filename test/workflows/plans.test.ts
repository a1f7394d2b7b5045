import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPlan } from '../../workflows/plan-check';
import { copyPlan, restorePlan, STEP, type Plan } from '../../workflows/plans';

describe('plans', () => {
  test('the copy plan follows seed 002: its 33 steps in order, plus the checks around them', () => {
    const seedSteps = copyPlan.steps.filter((s) => !['check-request', 'drop-set-aside-database'].includes(s.id));
    assert.equal(seedSteps.length, 33);
    assert.equal(seedSteps[0].id, 'enter-maintenance');
    assert.equal(seedSteps[7].id, 'copy-database');
    assert.equal(seedSteps[12].id, 'scrub-emails');
    assert.equal(seedSteps[31].id, 'enter-running-mode');
    assert.equal(seedSteps[32].id, 'wait-hosting-operations');
    assert.doesNotThrow(() => checkPlan(copyPlan));
  });

  test('a plan that would open the target before scrubbing is rejected', () => {
    const steps = [...copyPlan.steps];
    const scrub = steps.findIndex((s) => s.id === 'scrub-emails');
    const [moved] = steps.splice(scrub, 1);
    steps.push(moved);
    const unsafe: Plan = { ...copyPlan, steps };
    assert.throws(() => checkPlan(unsafe), /enter-running-mode opens the target, so it must come after the step that scrubs the addresses/);
  });

  test('a plan that opens the target with the task disabling after it is rejected', () => {
    const steps = copyPlan.steps.filter((s) => s.id !== 'disable-scheduled-tasks');
    steps.splice(steps.length - 1, 0, STEP.disableScheduledTasks);
    assert.throws(() => checkPlan({ ...copyPlan, steps }), /must come after the step that disables the scheduled tasks/);
  });

  test('a step reading a fact no earlier step provides is rejected when the plan is defined', () => {
    // restore-backup restores the backup that backup-source names: without it, it has nothing to read.
    const steps = restorePlan.steps.filter((s) => s.id !== 'backup-source');
    assert.throws(() => checkPlan({ ...restorePlan, steps }), /plan restore v1: step restore-backup needs backup, which no earlier step always provides/);
    // Nor may a fact come from a step that runs only for some requests.
    const optional = { ...STEP.backupSource, condition: 'documents' as const };
    const late = restorePlan.steps.map((s) => (s.id === 'backup-source' ? optional : s));
    assert.throws(() => checkPlan({ ...restorePlan, steps: late }), /restore-backup needs backup/);
  });

  test('a compensation reading a fact the plan provides only after its step is rejected', () => {
    const steps = copyPlan.steps.filter((s) => s.id !== 'check-request');
    assert.throws(() => checkPlan({ ...copyPlan, steps }), /the first step must be the one that checks the request/);
    // A gate that provides nothing, then a step that needs nothing but is undone by putting the
    // old database back, which needs the database names.
    const gate = { ...STEP.checkRequest, activity: 'copyCustomerInfo' as const };
    const undone = { ...STEP.removeMailRoutes, undo: 'restoreOldDatabase' as const };
    assert.throws(
      () => checkPlan({ ...copyPlan, steps: [gate, undone] }),
      /step remove-mail-routes is undone by restoreOldDatabase, which needs engine, targetDatabase, setAsideDatabase, targetHadDatabase/,
    );
  });

  test('the old database is set aside only by a plan that later drops it', () => {
    const steps = copyPlan.steps.filter((s) => s.id !== 'drop-set-aside-database');
    assert.throws(() => checkPlan({ ...copyPlan, steps }), /set-aside-database sets the old database aside, but no later step drops it/);
  });

  test('the final step may need no fact: it runs after a refusal too', () => {
    assert.throws(
      () => checkPlan({ ...copyPlan, finally: { ...STEP.notifyApps, id: 'notify-apps-at-the-end' } }),
      /the final step notify-apps-at-the-end runs after a refusal too, so it may need no fact/,
    );
  });

  test('step ids are unique', () => {
    const dup: Plan = { ...copyPlan, steps: [...copyPlan.steps, copyPlan.steps[3]] };
    assert.throws(() => checkPlan(dup), /appears twice/);
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
    assert.doesNotThrow(() => checkPlan(restorePlan));
  });
});
