/** Plain-text rendering of a clone's progress for the terminal. */
import type { CloneProgress, StepProgress } from '../../workflows/messages';
import type { ProfileCheckReport } from '../../workflows/profile-check';

const MARK: Record<StepProgress['status'], string> = {
  pending: '·',
  running: '▶',
  done: '✔',
  skipped: '↷',
  failed: '✘',
  compensated: '↺',
};

function duration(st: StepProgress): string {
  if (!st.startedAt) return '';
  const end = st.endedAt ? Date.parse(st.endedAt) : Date.now();
  const s = Math.max(0, (end - Date.parse(st.startedAt)) / 1000);
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

export function renderStep(st: StepProgress, index: number, total: number): string {
  const pct = st.status === 'running' && st.percent !== null ? ` ${Math.round(st.percent)}%` : '';
  const detail = st.detail ? ` — ${st.detail}` : '';
  return `${MARK[st.status]} ${String(index + 1).padStart(2)}/${total} ${st.id.padEnd(28)} ${st.status.padEnd(9)}${duration(st).padStart(7)}${pct}${detail}`;
}

export function renderProgress(p: CloneProgress & { laterRefusals?: { at: string | null; message: string }[] }): string {
  const head = `Clone ${p.source} → ${p.target} (${p.plan}): ${p.outcome}`;
  const lines = p.steps.map((st, i) => renderStep(st, i, p.steps.length));
  // A refusal touched nothing, so the clone above is still the target's state; the user is told why a later request did not run.
  const refusals = (p.laterRefusals ?? []).map((r) => `refused later${r.at ? ` (${r.at})` : ''}, nothing touched: ${r.message}`);
  return [head, ...lines, ...(p.message ? ['', p.message] : []), ...(refusals.length ? ['', ...refusals] : [])].join('\n');
}

const COVERAGE: Record<ProfileCheckReport['columns'][number]['coverage'], string> = {
  rewritten: 'rewritten by the scrub',
  kept: 'kept by the profile (reported)',
  recomputed: 'generated: recomputed from rewritten columns',
  'not-rewritable': 'NOT REWRITABLE: a clone fails',
};

export function renderProfileReport(r: ProfileCheckReport): string {
  const head = `Profile ${r.profile} against ${r.tenant} (${r.engine} database ${r.database}), sandbox domain @${r.mailDomain}`;
  const width = Math.max(6, ...r.columns.map((c) => c.column.length));
  const rows = r.columns.map(
    (c) => `  ${c.column.padEnd(width)}  ${c.type.padEnd(24)} ${String(c.values).padStart(9)}  ${COVERAGE[c.coverage]}  e.g. ${c.example ?? '-'}`,
  );
  const columns = rows.length
    ? [`${rows.length} columns hold addresses outside @${r.mailDomain}:`, ...rows]
    : [`no column holds an address outside @${r.mailDomain}`];
  const verdict = r.problems.length
    ? ['', 'A clone of this tenant would fail:', ...r.problems.map((p) => `  ✘ ${p}`)]
    : ['', '✔ a clone of this tenant would pass the verification'];
  return [head, ...columns, ...verdict].join('\n');
}
