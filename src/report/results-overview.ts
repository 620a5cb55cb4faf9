/**
 * `results --all` / `--domain D`: one line per experiment (runs, keeps, best, improvement over
 * the baseline, last activity, state), read from its files. Read-only: a torn or corrupt
 * ledger is reported in the line's `error`, never repaired here.
 */
import type { DiscoveredExperiment } from '../config/discover.js';
import type { Direction } from '../config/types.js';
import { readExperiment, type StatusState } from '../experiment/experiment-status.js';
import { ANSI, type Table } from '../ledger/export-formats.js';
import type { JsonValue } from '../ledger/ledger-table.js';
import { experimentsOf } from '../ledger/experiment-counts.js';
import { formatImprovement, formatMetric, improvementPct as improvementPctOf } from '../core/improvement.js';
import { shortLocalDateTime, zoneName } from '../core/local-time.js';

export interface OverviewLine {
  experiment: string;
  scope: string;
  state: StatusState;
  runs: number;
  keeps: number;
  discards: number;
  crashes: number;
  /** Best kept metric; null when there is none or the config (hence the direction) is unreadable. */
  best: number | null;
  baseline: number | null;
  /** Better than the baseline, in percent, rounded to 2 decimals (positive = better). */
  improvement_pct: number | null;
  /** The timestamp of the last row (seed-written rows have none). */
  last_activity: string | null;
  /** Why the numbers may be incomplete: an unreadable config or ledger. */
  error: string | null;
  /** What max_experiments counts (not baselines, resets or revalidations), as `status` says: the terminal's EXPERIMENTS; not in csv/json. */
  experiments: number;
}

export const OVERVIEW_COLUMNS = ['experiment', 'scope', 'state', 'runs', 'keeps', 'discards', 'crashes', 'best', 'baseline', 'improvement_pct', 'last_activity', 'error'] as const;

export async function readOverviewLine(found: DiscoveredExperiment, now: number): Promise<OverviewLine> {
  // One read of each file for the state and the figures (the ledger's: ledger-read.ts, as `status`).
  const { status, ledger: read, direction } = await readExperiment(found, now);
  const errors: string[] = [];
  if (status.config_error !== null) errors.push(status.config_error.replace(/\n\s*/g, '; '));
  if (read.problem !== null) {
    const hint = read.problem.corrupt ? ` (\`autoresearch results ${found.id.key} --rebuild\` regenerates it from runs/*/result.json)` : '';
    errors.push(`${read.problem.message}${hint}`);
  }
  const ledger = read.figures;
  // Best and improvement depend on the direction: unknown without a readable config.
  const pct = direction === null ? null : improvementPct(ledger.best, ledger.baseline, direction);
  return {
    experiment: found.id.key,
    scope: found.scope,
    state: status.state,
    runs: ledger.iterations,
    keeps: ledger.keeps,
    discards: ledger.discards,
    crashes: ledger.crashes,
    best: direction === null ? null : ledger.best,
    baseline: ledger.baseline,
    improvement_pct: pct === null ? null : Math.round(pct * 100) / 100 + 0,
    last_activity: ledger.lastTimestamp,
    error: errors.length === 0 ? null : errors.join('; '),
    experiments: experimentsOf(ledger).experiments,
  };
}

/** As summarizeRows computes it (core/improvement.ts): positive = better; null for a 0 baseline. */
function improvementPct(best: number | null, baseline: number | null, direction: Direction): number | null {
  return improvementPctOf(best, baseline, direction);
}

/** Cells for csv and markdown: metrics as %.6f, the improvement as %.2f, empty for none. */
export function overviewTable(lines: readonly OverviewLine[]): Table {
  return {
    columns: OVERVIEW_COLUMNS,
    rows: lines.map((l) => [
      l.experiment,
      l.scope,
      l.state,
      String(l.runs),
      String(l.keeps),
      String(l.discards),
      String(l.crashes),
      l.best === null ? '' : l.best.toFixed(6),
      l.baseline === null ? '' : l.baseline.toFixed(6),
      l.improvement_pct === null ? '' : l.improvement_pct.toFixed(2),
      l.last_activity ?? '',
      l.error ?? '',
    ]),
  };
}

export function overviewObject(line: OverviewLine): Record<(typeof OVERVIEW_COLUMNS)[number], JsonValue> {
  return Object.fromEntries(OVERVIEW_COLUMNS.map((column) => [column, line[column]])) as Record<(typeof OVERVIEW_COLUMNS)[number], JsonValue>;
}

/**
 * One line per experiment for reading, in 80 columns: EXPERIMENTS counts the iterations after
 * the baseline (what max_experiments counts); the keep/discard/crash split is in `status` and
 * in csv/json (whose `runs` and `keeps` count ledger rows, the baseline's too). UPDATED is
 * the time of the last row, in the local zone.
 */
export function overviewTerminalTable(lines: readonly OverviewLine[]): Table {
  const times = lines.map((l) => (l.last_activity === null ? null : Date.parse(l.last_activity)));
  const zones = new Set(times.filter((t): t is number => t !== null && Number.isFinite(t)).map(zoneName));
  const oneZone = zones.size === 1 ? [...zones][0] : null;
  const last = (t: number | null) => (t === null || !Number.isFinite(t) ? '-' : oneZone !== null ? shortLocalDateTime(t) : `${shortLocalDateTime(t)} ${zoneName(t)}`);
  return {
    columns: ['EXPERIMENT', 'STATE', 'EXPERIMENTS', 'BEST', 'IMPROVEMENT', oneZone === null ? 'UPDATED' : `UPDATED ${oneZone}`],
    rows: lines.map((l, i) => [
      l.experiment + (l.scope === 'user' ? ' (user)' : ''),
      l.state + (l.error === null ? '' : ' (!)'),
      String(l.experiments),
      l.best === null ? '-' : formatMetric(l.best),
      formatImprovement(l.improvement_pct),
      last(times[i] ?? null),
    ]),
  };
}

/** An experiment id gives way only when nothing else can (very long ids on a narrow terminal). */
export const OVERVIEW_TERMINAL_SHRINK = [{ column: 0, min: 16 }] as const;

/** running green; tripped and blocked red; waiting and paused yellow; the rest plain. */
export function stateColor(state: StatusState): string | null {
  if (state === 'running') return ANSI.green;
  if (state === 'tripped' || state === 'blocked') return ANSI.red;
  if (state === 'waiting' || state === 'paused') return ANSI.yellow;
  return null;
}
