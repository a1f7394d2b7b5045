/**
 * The rollback: undo, in reverse order, every step that ran (the one that failed included: it
 * may have done part of its work). Steps sharing one compensation are undone by one call.
 */
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { CompensationName } from '../activity-contracts';
import { CloneStep } from '../search-attributes';
import type { StepActivity } from '../step-contract';
import type { CloneRun } from './clone-run';
import { rootCause } from './failures';
import { ROLLBACK_OPTIONS } from './options';

export async function rollback(run: CloneRun): Promise<{ complete: boolean; report: string }> {
  const { book, plan, request } = run;
  const touched = plan.steps.filter((step) => {
    const st = book.of(step);
    return st.status === 'done' || (st.status === 'failed' && st.startedAt !== null);
  });
  const order: CompensationName[] = [];
  for (const step of [...touched].reverse()) if (step.undo && !order.includes(step.undo)) order.push(step.undo);
  const before = run.before;
  if (before === null || order.length === 0) return { complete: true, report: 'Nothing was changed.' };
  const notes: string[] = [];
  for (const [i, undo] of order.entries()) {
    upsertSearchAttributes([{ key: CloneStep, value: `rollback:${undo}` }]);
    const compensate = proxyActivities<Record<CompensationName, StepActivity>>({ ...ROLLBACK_OPTIONS, summary: `rollback: ${undo}` })[undo];
    try {
      const out = await compensate({ stepId: `rollback:${undo}`, request, facts: run.facts, before });
      notes.push(out.note ?? undo);
    } catch (err) {
      const left = order.slice(i).join(', ');
      return { complete: false, report: `Rollback incomplete: ${undo} failed (${rootCause(err).message}); not undone: ${left}. ${leftState(run)}` };
    }
    for (const step of touched) {
      const st = book.of(step);
      if (step.undo === undo && st.status === 'done') {
        st.status = 'compensated';
        st.detail = `undone: ${notes[notes.length - 1]}`;
      }
    }
    book.show();
  }
  return { complete: true, report: `Rolled back: ${notes.join('; ')}.` };
}

/** What a clone whose rollback could not finish leaves behind, said plainly for the operator. */
function leftState({ book, facts }: CloneRun): string {
  const parts: string[] = [];
  if (book.isDone('opens-target')) parts.push('the target is in running mode');
  else if (book.isDone('takes-target-offline')) parts.push('the target is left offline in maintenance mode');
  if (book.isDone('sets-aside-database') && !book.isDone('drops-set-aside-database') && facts.targetHadDatabase) {
    parts.push(`its old database is kept as ${facts.setAsideDatabase} (rename it back to ${facts.targetDatabase} to restore it)`);
  }
  return parts.length ? `State: ${parts.join('; ')}.` : '';
}
