/**
 * A step is held to its contract (workflows/activity-contracts.ts) twice: by the compiler, which
 * gives it only the facts it needs and lets it return only those it provides (the
 * `@ts-expect-error` lines fail `tsc` if that stops being true), and at run time, for a clone
 * whose facts do not match (a history from an older plan).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { defineSteps } from '../../activities/steps/support';
import type { CloneRequest } from '../../workflows/request';
import type { StepInput } from '../../workflows/step-contract';

const request = { source: 'acme', target: 'acme-sandbox' } as CloneRequest;
const input = (facts: StepInput['facts']): StepInput => ({ stepId: 'test-step', request, facts });

test('a step is given the facts its contract names, and the compiler refuses others', async () => {
  const steps = defineSteps(null, {
    async connectClusters({ facts }) {
      // @ts-expect-error connectClusters does not need targetDatabase, so it is not given it
      void facts.targetDatabase;
      return { note: facts.sourceClusters.join(',') };
    },
    // @ts-expect-error connectClusters provides no fact, so it may not return one
    async removeMailRoutes() {
      return { facts: { backup: null } };
    },
  });
  assert.deepEqual(await steps.connectClusters(input({ sourceClusters: ['c1', 'c2'] })), { note: 'c1,c2' });
});

test('a fact the clone lacks fails the step as a plan error, not retried', async () => {
  const steps = defineSteps(null, { connectClusters: async ({ facts }) => ({ note: facts.sourceClusters.join(',') }) });
  await assert.rejects(steps.connectClusters(input({})), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'PlanError');
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /step test-step needs sourceClusters, which no earlier step provided/);
    return true;
  });
});

test('a fact returned outside the contract fails the step', async () => {
  const steps = defineSteps(null, {
    // A step typed loosely (here by a cast) still cannot smuggle a fact past the run-time check.
    connectClusters: (async () => ({ facts: { targetDatabase: 'x' } })) as never,
  });
  await assert.rejects(steps.connectClusters(input({ sourceClusters: [] })), /provided targetDatabase, which its contract does not list/);
});

test('a compensation without the before-state fails as a plan error', async () => {
  const steps = defineSteps(null, { restoreMailboxes: async ({ before }) => ({ note: `${before.mailboxes.length}` }) });
  await assert.rejects(steps.restoreMailboxes(input({})), /compensation test-step was given no before-state/);
});
