/**
 * Human-readable progress of a foreground run: one line per event (a phase starting, a
 * decision, a wait), times in the user's zone, and a summary at the end. Plain lines: they
 * read the same in a terminal, a pipe or a log. The decision line carries the why in words
 * and how long the agent and the evaluation took.
 */
import type { Direction } from '../config/types.js';
import { formatImprovement, formatMetric, improvementPct } from '../core/improvement.js';
import { clockTime, timeNear } from '../core/local-time.js';
import type { LoopEvent, Phase } from '../loop/events.js';
import { evidenceText } from '../ledger/ledger-table.js';
import { rowWhy } from '../ledger/row-why.js';
import type { LedgerRow } from '../ledger/types.js';
import { LiveProgress, duration } from './live-progress.js';

export interface Printer {
  event(event: LoopEvent): void;
  line(text: string): void;
}

export interface PrinterOptions {
  metric: string;
  /** For the sign of improvements (`+` = better); lower when absent. */
  direction?: Direction;
  /** For the live progress of long steps (absent: no live progress). */
  limits?: { timeBudgetMs: number; evalTimeoutMs: number; agentTimeoutMs: number };
  tty?: boolean;
  now?: () => number;
}

export function createPrinter(write: (text: string) => void, options: PrinterOptions | string): Printer {
  const opts: PrinterOptions = typeof options === 'string' ? { metric: options } : options;
  const metricName = opts.metric;
  const direction = opts.direction ?? 'lower';
  const now = opts.now ?? Date.now;
  const progress = opts.limits === undefined ? null : new LiveProgress(write, opts.tty ?? false, now);
  // How long each phase of the current iteration took, for the decision line.
  let phase: { name: Phase; since: number } | null = null;
  let phaseMs: Partial<Record<Phase, number>> = {};
  const closePhase = () => {
    if (phase !== null) phaseMs[phase.name] = (phaseMs[phase.name] ?? 0) + (now() - phase.since);
    phase = null;
  };
  // A quota hit is said once: the exhausted line already says until when it waits.
  let announcedWait: { agent: string; until: string } | null = null;
  const line = (text: string) => {
    progress?.clear();
    write(text + '\n');
  };
  const stamp = () => clockTime(now());
  const at = (iso: string) => timeNear(Date.parse(iso), now());
  return {
    line,
    event(event) {
      switch (event.kind) {
        case 'experiment-opened':
          line(`autoresearch ${event.id}: ${event.metric}, ${event.direction} is better; best so far ${event.best === null ? 'none' : formatMetric(event.best)}`);
          line(`  worktree ${event.worktree}${event.worktreeCreated ? ' (created)' : ''}`);
          line(`  branch   ${event.branch}; next iteration ${event.nextIteration}`);
          return;
        case 'setup':
          line(`${stamp()} setup ${event.status}: ${event.command}${event.detail ? ` (${event.detail})` : ''}`);
          return;
        case 'iteration-start':
          // No line of its own: the phase lines and the decision line carry the iteration number.
          phase = null;
          phaseMs = {};
          return;
        case 'phase': {
          closePhase();
          phase = { name: event.phase, since: now() };
          if (event.phase === 'agent' || event.phase === 'queued' || event.phase === 'eval') line(`${stamp()} #${event.iteration} ${event.phase}${event.detail ? ` (${event.detail})` : ''} …`);
          if (opts.limits !== undefined) {
            // Queue wait has no budget and no limit: eval_timeout counts from the job's start.
            if (event.phase === 'queued') progress?.start(`#${event.iteration} queued`, {});
            else if (event.phase === 'eval') progress?.start(`#${event.iteration} evaluation`, { budgetMs: opts.limits.timeBudgetMs, limitMs: opts.limits.evalTimeoutMs });
            else if (event.phase === 'agent') progress?.start(`#${event.iteration} agent`, { limitMs: opts.limits.agentTimeoutMs });
            else progress?.stop();
          }
          return;
        }
        case 'iteration-end': {
          progress?.stop();
          closePhase();
          const took = [
            phaseMs.agent !== undefined && `agent ${shortDuration(phaseMs.agent)}`,
            phaseMs.queued !== undefined && `queued ${shortDuration(phaseMs.queued)}`,
            phaseMs.eval !== undefined && `eval ${shortDuration(phaseMs.eval)}`,
          ].filter(Boolean);
          const timing = took.length > 0 ? took.join(', ') : shortDuration(event.durationMs);
          line(`${stamp()} #${event.iteration} ${decisionLine(event.row, event.previousBest, metricName, direction)} (${timing})`);
          // A revalidation follows without an iteration-start: its row must not add this iteration's times.
          phaseMs = {};
          return;
        }
        case 'iteration-interrupted':
          progress?.stop();
          line(`${stamp()} #${event.iteration} interrupted during ${event.phase}: rolled back, no row written`);
          return;
        case 'recovered':
          line(`${stamp()} recovered iteration ${event.iteration}: ${event.detail}`);
          return;
        case 'halted':
          progress?.stop();
          line(`${stamp()} ${event.state}: ${event.reason}`);
          return;
        case 'agent-exhausted':
          if (event.fallback === null) announcedWait = { agent: event.agent, until: event.until };
          line(
            `${stamp()} #${event.iteration} ${event.agent} usage exhausted: ${event.message}; rolled back, no row; ` +
              (event.fallback === null
                ? `waiting until ${at(event.until)} for ${event.agent} (\`autoresearch resume\` cuts it short)`
                : `continuing with ${event.fallback} until ${at(event.until)}`),
          );
          return;
        case 'waiting': {
          const said = announcedWait !== null && announcedWait.agent === event.agent && Date.parse(announcedWait.until) === Date.parse(event.until);
          announcedWait = null;
          if (!said) line(`${stamp()} waiting until ${at(event.until)} for ${event.agent} (${event.reason}); \`autoresearch resume\` cuts it short`);
          progress?.start(`waiting for ${event.agent}`, { untilMs: Date.parse(event.until) });
          return;
        }
        case 'revalidated':
          line(`${stamp()} #${event.iteration} revalidation: ${event.why} (no row)`);
          return;
        case 'draft':
          if (event.action === 'discarded') line(`${stamp()} #${event.iteration} draft discarded: ${event.detail} (no row)`);
          return;
        case 'no-change-backoff':
          line(`${stamp()} ${event.reason} (until ${at(event.until)})`);
          return;
        case 'wait-over':
          progress?.stop();
          line(`${stamp()} wait over (${event.how === 'resumed' ? 'resumed' : 'reset time reached'})`);
          return;
        default:
          return; // warnings go through the logger
      }
    },
  };
}

/** `KEEP improved score 0.98 (+2.00% vs best 1) [abc1234] description` / `CRASH eval_exit 1: SyntaxError… [abc1234] description`. */
function decisionLine(row: LedgerRow, previousBest: number | null, metricName: string, direction: Direction): string {
  // A discard with a metric says why by its value against the best (printed next): its
  // detail would say the same twice. Everything else carries its why in words.
  const why = row.reason === 'no_improvement' ? row.reason : rowWhy(row);
  let value = '';
  if (row.metric !== null) {
    const pct = improvementPct(row.metric, previousBest, direction);
    const versus = previousBest === null || row.reason === 'baseline' ? '' : `${pct === null ? '' : `${formatImprovement(pct)} `}vs best ${formatMetric(previousBest)}`;
    // Repeated evaluations say how the value was measured (`5 samples, mean 0.95 ± 0.003, p 0.004`).
    const said = [versus, evidenceText(row.evidence)].filter((part) => part !== '').join('; ');
    value = ` ${metricName} ${formatMetric(row.metric)}${said === '' ? '' : ` (${said})`}`;
  }
  // Statuses padded to one width: the columns after them line up from line to line.
  return `${row.status.toUpperCase().padEnd(7)}${why ? ` ${why}` : ''}${value} [${row.commit}] ${row.description}`;
}

/** `0.4s`, `12s`, `4m03s`: tenths only where they matter. */
function shortDuration(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : duration(ms);
}

export function fmt(value: number | null): string {
  return value === null ? 'none' : formatMetric(value);
}
