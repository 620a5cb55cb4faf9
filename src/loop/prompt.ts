/**
 * The agent's prompt: the standing instructions (program.md) followed by the context of
 * this iteration, so a fresh agent process knows where the experiment stands.
 */
import type { ExperimentConfig } from '../config/types.js';
import type { LedgerRow } from '../ledger/types.js';

export interface PromptContext {
  config: ExperimentConfig;
  program: string | null; // program.md content; null if the file does not exist
  iteration: number;
  best: number | null;
  recentRows: readonly LedgerRow[]; // oldest first
  lastFailure: { row: LedgerRow; logTail: string } | null;
  /** pipeline: the candidate being evaluated while this turn drafts the next one (loop/draft.ts). */
  evaluating?: { iteration: number; description: string } | null;
}

const RECENT_ROWS = 10;

export function buildPrompt(ctx: PromptContext): string {
  const { config } = ctx;
  const better = config.direction === 'lower' ? 'lower is better' : 'higher is better';
  const parts: string[] = [];
  parts.push(ctx.program?.trim() || defaultInstructions(config));
  parts.push(
    [
      `## Context for iteration ${ctx.iteration} (written by autoresearch)`,
      '',
      `- Experiment: ${config.id.key}`,
      `- Metric: ${config.metric} (${better})`,
      `- Best so far: ${ctx.best === null ? 'none yet' : ctx.best.toFixed(6)}`,
      `- You may change only: ${config.allowedPaths.join(', ')}`,
      `- Make one change, then commit it with a one-line message describing the idea (uncommitted changes are committed for you).`,
    ].join('\n'),
  );
  if (ctx.evaluating != null) {
    const { iteration, description } = ctx.evaluating;
    parts.push(
      [
        `## Iteration ${iteration} is still being evaluated`,
        '',
        `Its candidate (${description}) is being measured while you draft iteration ${ctx.iteration} on the last kept commit. ` +
          `If it is kept, your change is re-applied on top of it; a change that no longer applies is discarded (stale_base). ` +
          `Prefer an idea that does not touch the same lines.`,
      ].join('\n'),
    );
  }
  const stale = ctx.recentRows.at(-1);
  if (stale?.reason === 'stale_base') {
    // The agent's last turn was not measured: say why, or it would read as a bad idea.
    parts.push([`## Your last change was not evaluated: iteration ${stale.iteration} (${stale.description})`, '', stale.detail ?? 'It no longer applied on top of the new best (stale_base).'].join('\n'));
  }
  const recent = ctx.recentRows.slice(-RECENT_ROWS);
  if (recent.length > 0) {
    parts.push(
      [
        '## Recent results (oldest first)',
        '',
        'iteration\tstatus\tmetric\treason\tdescription',
        ...recent.map((r) => [r.iteration, r.status, r.metric === null ? 'N/A' : r.metric.toFixed(6), r.reason ?? '', r.description].join('\t')),
      ].join('\n'),
    );
  }
  if (ctx.lastFailure !== null) {
    const { row, logTail } = ctx.lastFailure;
    parts.push(
      [
        `## Last failure: iteration ${row.iteration} (${row.reason ?? row.status}): ${row.description}`,
        '',
        // The one line that says why (loop/row-detail.ts), before the raw log it was read from.
        ...(row.detail ? [`Why: ${row.detail}`, ''] : []),
        '```',
        logTail.trimEnd() || '(no output)',
        '```',
      ].join('\n'),
    );
  }
  return parts.join('\n\n') + '\n';
}

function defaultInstructions(config: ExperimentConfig): string {
  return [
    `# autoresearch: ${config.id.key}`,
    '',
    `Improve \`${config.metric}\` by changing ${config.target.join(', ')}. One idea per iteration.`,
    'Do not change the evaluation or anything outside the allowed files.',
  ].join('\n');
}
