/**
 * The clone's own record of how far it is: one entry per step, the outcome, and the retention.
 * The `progress` query returns it and the Web UI's current details are drawn from it; the running
 * step's percent comes from its heartbeat, which the client reads with `describe()`.
 */
import { setCurrentDetails } from '@temporalio/workflow';
import type { CloneOutcome, CloneProgress, StepProgress } from '../messages';
import { stepWithRole } from '../plan-check';
import type { Plan, PlanStep, StepRole } from '../plans';

export class ProgressBook {
  readonly steps: StepProgress[];
  outcome: CloneOutcome = 'running';
  message: string | null = null;
  /** While a finished clone keeps its old database: until when. */
  retainedUntil: string | null = null;

  constructor(
    private readonly plan: Plan,
    private readonly source: string,
    private readonly target: string,
  ) {
    this.steps = [...plan.steps, plan.finally].map((st) => ({
      id: st.id,
      title: st.title,
      status: 'pending',
      startedAt: null,
      endedAt: null,
      percent: null,
      detail: null,
    }));
  }

  of(step: PlanStep): StepProgress {
    return this.steps.find((st) => st.id === step.id)!;
  }

  /** Whether the plan's step playing `role` has run to its end (and was not undone). */
  isDone(role: StepRole): boolean {
    const step = stepWithRole(this.plan, role);
    return step !== undefined && this.of(step).status === 'done';
  }

  skip(step: PlanStep, reason: string): void {
    const st = this.of(step);
    st.status = 'skipped';
    st.detail = reason;
  }

  start(step: PlanStep, detail: string | null = null): void {
    const st = this.of(step);
    st.status = 'running';
    st.startedAt = new Date().toISOString();
    st.percent = null;
    st.detail = detail;
  }

  snapshot(): CloneProgress {
    return {
      plan: this.plan.id,
      source: this.source,
      target: this.target,
      outcome: this.outcome,
      message: this.message,
      steps: this.steps.map((st) => ({ ...st })),
      retainedUntil: this.retainedUntil,
    };
  }

  /** The Web UI's current details: where the clone is, or how it ended. */
  show(): void {
    const steps = this.steps;
    const running = steps.findIndex((st) => st.status === 'running');
    const done = steps.filter((st) => st.status === 'done' || st.status === 'skipped').length;
    const lines = [`**${this.source} → ${this.target}** (${this.plan.id}): ${done}/${steps.length} steps done`];
    if (running >= 0) {
      const st = steps[running];
      const pct = st.percent === null ? '' : ` — ${Math.round(st.percent)}%`;
      lines.push(`Step ${running + 1}/${steps.length} \`${st.id}\`: ${st.title}${pct}`);
      if (st.detail) lines.push(st.detail);
    } else if (this.outcome !== 'running') {
      lines.push(`Outcome: **${this.outcome}**${this.message ? ` — ${this.message}` : ''}`);
    }
    setCurrentDetails(lines.join('\n\n'));
  }
}
