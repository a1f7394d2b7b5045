/**
 * A real Temporal dev server for tests, from the CLI that temporal-dev.sh finds or installs
 * (the SDK's own download cannot reach the internet here).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ClonePlan, CloneSource, CloneStep, CloneTarget } from '../../workflows/search-attributes';

export function temporalCliPath(): string {
  if (process.env.TEMPORAL_CLI) return process.env.TEMPORAL_CLI;
  const script = path.join(__dirname, '..', '..', 'temporal-dev.sh');
  return execFileSync('bash', [script, '--print-path'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      ip: '127.0.0.1',
      searchAttributes: [CloneSource, CloneTarget, ClonePlan, CloneStep],
      extraArgs: ['--headless', '--log-level', 'error'],
    },
  });
}
