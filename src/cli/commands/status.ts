/**
 * `autoresearch status [<id>] [--status S]... [--json]`, and `pause <id>`: through the daemon
 * when one runs for this project, from the files otherwise (a foreground `run` is paused
 * through a request file it checks between iterations).
 */
import { discoverExperiments, resolveExperiment } from '../../config/discover.js';
import { AutoresearchError, EXIT } from '../../core/errors.js';
import { readExperimentStatus, type ExperimentStatus, type StatusState } from '../../experiment/experiment-status.js';
import { experimentPaths } from '../../experiment/paths.js';
import { leaveRequest } from '../../experiment/requests.js';
import { loadExperimentConfig } from '../../config/parse-config.js';
import { loadState, saveState } from '../../experiment/state.js';
import { daemonRequest, liveDaemon } from '../daemon-client.js';
import { formatMetric } from '../../core/improvement.js';
import { timeNear } from '../../core/local-time.js';
import { terminalWidth, toTerminal } from '../../ledger/export-formats.js';
import { duration } from '../live-progress.js';
import { describeDraft } from '../../experiment/draft-status.js';
import { mapLimited } from '../../core/map-limited.js';

/** Experiments read at once: enough to keep the disk busy, few enough to keep memory flat over thousands. */
const READ_AT_ONCE = 16;

const STATES: readonly StatusState[] = ['new', 'idle', 'running', 'waiting', 'blocked', 'tripped', 'paused', 'done'];

export async function statusCommand(opts: { projectRoot: string; id: string | undefined; states: string[]; json: boolean }, out: (text: string) => void): Promise<number> {
  const bad = opts.states.find((s) => !(STATES as readonly string[]).includes(s));
  if (bad !== undefined) throw new AutoresearchError('BAD_INPUT', `--status: expected one of ${STATES.join(', ')}, found \`${bad}\``);
  const info = await liveDaemon(opts.projectRoot);
  let experiments: ExperimentStatus[];
  if (info !== null) {
    experiments = ((await daemonRequest(info, 'GET', '/api/status')) as { experiments: ExperimentStatus[] }).experiments;
  } else {
    const now = Date.now();
    experiments = await mapLimited(await discoverExperiments(opts.projectRoot), READ_AT_ONCE, (found) => readExperimentStatus(found, now));
  }
  if (opts.id !== undefined) {
    const found = await resolveExperiment(opts.projectRoot, opts.id);
    experiments = experiments.filter((e) => e.id === found.id.key);
  }
  if (opts.states.length > 0) experiments = experiments.filter((e) => opts.states.includes(e.state));
  if (opts.json) out(JSON.stringify(experiments, null, 2) + '\n');
  else {
    printStatusTable(experiments, out);
    if (opts.id !== undefined) for (const e of experiments) printMeasurement(e, out);
    if (opts.id !== undefined) for (const e of experiments) printLiveLogs(e, out);
  }
  return EXIT.ok;
}

/** `status <id>`: how noisy one evaluation is, and how many the best rests on, when known (issue 11). */
function printMeasurement(e: ExperimentStatus, out: (text: string) => void): void {
  const parts: string[] = [];
  // ?? null: a daemon of an older version does not send these keys.
  const noise = e.noise ?? null;
  if (noise !== null) parts.push(`noise σ ${formatSigma(noise.sigma)} (df ${noise.df})`);
  if ((e.best_samples ?? null) !== null && (e.best_samples ?? 0) > 1) parts.push(`best measured ${e.best_samples} times`);
  const cluster = e.infrastructure_failures ?? 0;
  if (cluster > 0) parts.push(`${cluster} evaluation job${cluster === 1 ? '' : 's'} ended by the cluster (no rows; \`autoresearch report ${e.id}\` lists them)`);
  if (parts.length > 0) out(`\n${parts.join('; ')}\n`);
}

/** Two significant digits are what an estimate of σ is worth: 0.0041, 1.2, 350. */
function formatSigma(sigma: number): string {
  return sigma === 0 ? '0' : String(Number(sigma.toPrecision(2)));
}

/** `status <id>`: the iteration in flight and its log files, one `tail -f` away. */
function printLiveLogs(e: ExperimentStatus, out: (text: string) => void): void {
  if (e.logs == null) return;
  const files: Array<[string, string | null]> = [
    ['setup', e.logs.setup],
    ['agent stdout', e.logs.agent_stdout],
    ['agent stderr', e.logs.agent_stderr],
    ['evaluation', e.logs.eval],
  ];
  // ?? null: a daemon of an older version does not send these keys.
  const since = e.phase_started_at ?? null;
  const elapsed = since === null || !Number.isFinite(Date.parse(since)) ? '' : ` for ${duration(Math.max(0, Date.now() - Date.parse(since)))}`;
  const job = e.job ?? null;
  const jobText = job === null ? '' : ` (${job.id === null ? 'slurm job being submitted' : `slurm job ${job.id}`}, ${job.name})`;
  out(`\n${e.iteration === null ? '' : `#${e.iteration} `}${e.phase ?? 'running'}${elapsed}${jobText}\n`);
  for (const [label, file] of files) if (file !== null) out(`  ${label.padEnd(12)}  ${file}\n`);
  out(`  follow: autoresearch logs ${e.id} -f\n`);
}

/**
 * One row per experiment, in 80 columns (or the terminal's width): EXPERIMENTS counts the
 * iterations after the baseline (`9/20` with max_experiments 20), KEEP/DISCARD/CRASH split them.
 * Why an experiment is where it is (a halt, a wait, a rejected config) and its draft (pipeline)
 * follow the table, in full, then the daemon's latest warnings.
 */
export function printStatusTable(experiments: readonly ExperimentStatus[], out: (text: string) => void, width = terminalWidth(process.stdout)): void {
  if (experiments.length === 0) {
    out('no experiments\n');
    return;
  }
  const table = {
    columns: ['EXPERIMENT', 'STATE', 'EXPERIMENTS', 'KEEP', 'DISCARD', 'CRASH', 'BEST'],
    rows: experiments.map((e) => [
      e.id,
      e.state + (e.phase ? ` (${e.phase}${e.job?.id == null ? '' : `, job ${e.job.id}`})` : ''),
      `${e.experiments ?? e.iterations}${e.max_experiments == null ? '' : `/${e.max_experiments}`}`,
      String(e.keeps),
      String(e.discards),
      String(e.crashes),
      e.best === null ? '-' : formatMetric(e.best),
    ]),
  };
  let text = toTerminal(table, { color: false, width, shrink: [{ column: 0, min: 16 }] });
  const notes = experiments.flatMap((e) => {
    const why = e.config_error ? `config rejected: ${e.config_error.split('\n')[1]?.trim() ?? e.config_error}` : (e.reason ?? '');
    const until = e.wait_until ? `until ${timeNear(Date.parse(e.wait_until), Date.now())}` : '';
    const said = [until, why].filter(Boolean).join(': ');
    const lines = said === '' ? [] : [`${e.id}: ${e.state} ${said}`];
    // pipeline: the next iteration drafted beside this one (?? null: a daemon of an older version).
    const draft = e.draft ?? null;
    if (draft !== null) lines.push(`${e.id}: ${describeDraft(draft, Date.now(), duration)}`);
    return lines;
  });
  if (notes.length > 0) text += `\n${notes.join('\n')}\n`;
  for (const e of experiments) for (const warning of e.warnings ?? []) text += `warning: ${e.id}: ${warning}\n`;
  out(text);
}

/** When the pause takes effect: after the iteration, or at once for a cluster job (executor: slurm). */
async function pauseWords(found: Awaited<ReturnType<typeof resolveExperiment>>): Promise<string> {
  const config = await loadExperimentConfig(found.dir, found.id, found.scope).catch(() => null);
  return config?.executor === 'slurm'
    ? 'pausing: a cluster job it waits for is cancelled now (no row); otherwise after the current iteration'
    : LOCAL_PAUSE;
}

const LOCAL_PAUSE = 'pausing after the current iteration';

export async function pauseCommand(opts: { projectRoot: string; id: string }, out: (text: string) => void): Promise<number> {
  const found = await resolveExperiment(opts.projectRoot, opts.id);
  const info = await liveDaemon(opts.projectRoot);
  if (info !== null) {
    await daemonRequest(info, 'POST', `/api/pause/${found.id.key}`);
    out(`${found.id.key}: ${await pauseWords(found)}\n`);
    return EXIT.ok;
  }
  const status = await readExperimentStatus(found, Date.now());
  if (status.state === 'running') {
    // A foreground `run` holds the experiment: it takes this request between iterations.
    leaveRequest(found.dir, 'pause');
    const words = await pauseWords(found);
    out(`${found.id.key}: the running \`run\` (pid ${status.pid}) ${words === LOCAL_PAUSE ? 'pauses after its current iteration' : `is ${words}`}\n`);
    return EXIT.ok;
  }
  const file = experimentPaths(found.dir).state;
  const state = await loadState(file);
  if (state === null) throw new AutoresearchError('BAD_INPUT', `${found.id.key} has never run: nothing to pause`);
  if (state.halt === null) await saveState(file, { ...state, halt: { state: 'paused', reason: 'paused by `autoresearch pause`', at: new Date().toISOString() } }, new Date());
  out(`${found.id.key}: paused (\`autoresearch resume ${found.id.key}\` clears it)\n`);
  return EXIT.ok;
}
