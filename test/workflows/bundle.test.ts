// Bundling the workflow code the way the worker does fails on any Node.js import or other
// non-deterministic module, so a slip into workflow code fails CI, not a production worker.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bundleWorkflowCode } from '@temporalio/worker';

test('workflow code bundles for the deterministic sandbox', async () => {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: undefined });
  assert.match(code, /cloneTenant/);
});

test('a Node.js import in workflow code fails the bundle', async () => {
  await assert.rejects(bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/uses-node-fs'), logger: undefined }), /Webpack finished with errors/);
});
