/**
 * `--retain-old-database`: before the step that drops the set-aside database, the finished clone
 * waits for the requested time, during which `rollback` (or a cancel) undoes it.
 */
import { condition, upsertSearchAttributes } from '@temporalio/workflow';
import type { PlanStep } from '../plans';
import { durationMs } from '../request';
import { CloneStep } from '../search-attributes';
import type { CloneRun } from './clone-run';

export async function retainOldDatabase(run: CloneRun, step: PlanStep, retainFor: string): Promise<void> {
  const { book, control, request } = run;
  const ms = durationMs(retainFor)!;
  const until = new Date(Date.now() + ms).toISOString();
  book.start(step, `old database kept until ${until}: \`tenant-clone rollback ${request.target}\` undoes the clone until then`);
  upsertSearchAttributes([{ key: CloneStep, value: 'retaining' }]);
  control.retaining = true;
  book.retainedUntil = until;
  book.show();
  await condition(() => false, ms);
  control.retaining = false;
  book.retainedUntil = null;
}
