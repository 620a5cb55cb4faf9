/**
 * DashboardData from disk: every experiment under the project (both scopes), its config,
 * ledger, state and status. A broken config or ledger never hides the others: it becomes a
 * problem line on that experiment's card.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { discoverExperiments, type DiscoveredExperiment } from '../config/discover.js';
import { parseConfigText } from '../config/parse-config.js';
import type { ExperimentConfig } from '../config/types.js';
import { errorMessage } from '../core/errors.js';
import { readExperimentStatus, type ExperimentStatus } from '../experiment/experiment-status.js';
import { experimentPaths, iterationPaths, type ExperimentPaths } from '../experiment/paths.js';
import { loadState } from '../experiment/state.js';
import { intentPhase } from '../experiment/live-iteration.js';
import { parseLedgerText } from '../ledger/tsv-format.js';
import type { LedgerRow } from '../ledger/types.js';
import { parseRunRecord } from '../report/build-report.js';
import { currentNoise } from '../decision/noise-estimate.js';
import { buildExperimentView, overlayGroups, PACE_WINDOW, type DashboardData, type ExperimentView, type RunTiming, type ViewInput } from './model.js';
import { countsAsExperiment, isBaselineRow } from '../ledger/summary.js';

export interface CollectOptions {
  now?: number;
  /** The page polls the daemon for updates. */
  live?: boolean;
  /** Statuses the caller already knows (the daemon's, with its live overlay); else read from disk. */
  statuses?: readonly ExperimentStatus[];
  env?: NodeJS.ProcessEnv;
}

export async function collectDashboard(projectRoot: string, opts: CollectOptions = {}): Promise<DashboardData> {
  const now = opts.now ?? Date.now();
  const known = new Map((opts.statuses ?? []).map((s) => [s.id, s]));
  const found = await discoverExperiments(projectRoot, opts.env);
  const experiments = await Promise.all(found.map((f) => collectExperiment(f, now, known.get(f.id.key))));
  return { version: 1, generatedAt: new Date(now).toISOString(), root: path.resolve(projectRoot), live: opts.live ?? false, experiments, overlays: overlayGroups(experiments) };
}

async function collectExperiment(found: DiscoveredExperiment, now: number, known: ExperimentStatus | undefined): Promise<ExperimentView> {
  const paths = experimentPaths(found.dir);
  const problems: string[] = [];
  let config: ExperimentConfig | null = null;
  try {
    config = parseConfigText(await fs.readFile(paths.config, 'utf8'), { file: paths.config, dir: found.dir, id: found.id, scope: found.scope });
  } catch (error) {
    problems.push(`config: ${errorMessage(error)}`);
  }
  let rows: LedgerRow[] = [];
  try {
    const text = await fs.readFile(paths.results, 'utf8').catch(() => ''); // no ledger yet: no rows
    rows = parseLedgerText(text, paths.results).rows; // a torn tail is left out, as the loop will cut it
  } catch (error) {
    problems.push(`results: ${errorMessage(error)}`);
  }
  let startedAt: number | null = null;
  let intent: ViewInput['intent'] = null;
  let noise: ViewInput['noise'] = null;
  try {
    const state = await loadState(paths.state);
    const t = state === null ? Number.NaN : Date.parse(state.firstStartedAt);
    startedAt = Number.isFinite(t) ? t : null;
    if (state?.intent) {
      const job = state.intent.phase === 'eval' ? (state.intent.job ?? null) : null;
      // `queued` while a cluster job waits for its resources (live-iteration.ts intentPhase).
      intent = { iteration: state.intent.iteration, phase: intentPhase(state.intent), startedAt: state.intent.startedAt ?? null, job: job === null ? null : { name: job.name, id: job.id } };
    }
    // Issue 11's pooled noise estimate (state.json `noise`), when the loop has written one.
    noise = state === null ? null : currentNoise(state); // schema-checked by loadState
  } catch {
    // A corrupt state.json: the status says blocked with the reason; max_runtime counts from now.
  }
  const status = known ?? (await readExperimentStatus(found, now));
  const timings = await readTimings(paths, rows);
  return buildExperimentView({ id: found.id.key, scope: found.scope, rows, config, status, startedAt, intent, timings, noise, now, problems });
}

/**
 * Agent and evaluation times of the iterations the pace is measured over (and the baseline),
 * from their result.json: a few small files, not one per row of a 10,000-row ledger.
 */
async function readTimings(paths: ExperimentPaths, rows: readonly LedgerRow[]): Promise<RunTiming[]> {
  // Exactly the rows measurePace measures: the last experiments, and the last baseline.
  const wanted = [...rows.filter(countsAsExperiment).slice(-PACE_WINDOW), ...rows.filter(isBaselineRow).slice(-1)].filter((r) => r.timestamp !== null);
  const read = await Promise.all(
    wanted.map(async (row): Promise<RunTiming | null> => {
      const text = await fs.readFile(iterationPaths(paths, row.iteration).result, 'utf8').catch(() => '');
      const run = parseRunRecord(text);
      // A result.json of another row with this number (an iteration retried after a reset) is not this row's.
      if (run === null || (run.iteration !== undefined && run.iteration !== row.iteration)) return null;
      return { iteration: row.iteration, agentMs: run.agentMs ?? null, evalMs: run.evalMs ?? null };
    }),
  );
  return read.filter((t): t is RunTiming => t !== null);
}

/**
 * The daemon's source of dashboard data: rebuilt from disk at most every `maxAgeMs`, in the
 * background, so a page that polls never waits on disk reads (only the very first request does).
 */
export function cachedDashboard(build: () => Promise<DashboardData>, maxAgeMs = 2000, clock: () => number = Date.now): () => Promise<DashboardData> {
  let cached: { at: number; data: DashboardData } | null = null;
  let building: Promise<DashboardData> | null = null;
  return () => {
    if ((cached === null || clock() - cached.at >= maxAgeMs) && building === null) {
      building = build()
        .then((data) => {
          cached = { at: clock(), data };
          return data;
        })
        .finally(() => (building = null));
      // With a cached copy to serve, a failed rebuild is retried on the next request.
      if (cached !== null) building.catch(() => undefined);
    }
    return cached !== null ? Promise.resolve(cached.data) : (building as Promise<DashboardData>);
  };
}
