/**
 * The report as Markdown files: README.md (summary, top improvements, failures by class with
 * log tails) and failures/<class>.md (every failure's longer log tail). Pure.
 */
import type { Direction } from '../config/types.js';
import type { Analysis, RankedKeep, TriagedFailure } from './analyze.js';
import type { FailureClass } from './classify-failure.js';
import { formatImprovement } from '../core/improvement.js';
import { localDateTime } from '../core/local-time.js';
import type { InfrastructureRecord } from '../experiment/infrastructure-log.js';

export interface ReportContext {
  id: string;
  generatedAt: Date;
  ledgerFile: string;
  metric: string;
  direction: Direction;
  metricGrep: string;
  evalTimeoutMs: number;
  agentTimeoutMs: number;
  allowedPaths: readonly string[];
  /** `git diff --stat` and `git diff` of `<parent> <commit>` of the top keeps, by iteration, or why there is none. */
  diffs: ReadonlyMap<number, KeepDiff>;
  /** infrastructure.jsonl: jobs the cluster ended under an evaluation (no rows), oldest first. */
  infrastructure?: readonly InfrastructureRecord[];
  /** The experiment directory: logs inside it are shown relative to it. */
  experimentDir?: string;
}

export type KeepDiff = { stat: string; patch: string } | { error: string };

/** Shown in the README per failure; the failures/ files have more. */
export const README_TAIL_LINES = 15;
export const FILE_TAIL_LINES = 60;
export const TOP_KEEPS = 10;
/** Diff lines shown per keep, and over all keeps: the report stays short; `git show` has the rest. */
export const DIFF_LINES_PER_KEEP = 60;
export const DIFF_LINES_TOTAL = 300;
/** Distinct errors shown with a log tail per class in the README. */
const TAIL_GROUPS = 5;
const MAX_LINE_CHARS = 400;

const TITLES: Record<FailureClass, string> = {
  infrastructure: 'Infrastructure failures',
  candidate: 'Candidate failures',
  agent: 'Agent failures',
  timeout: 'Timeouts',
  metric_parse: 'Metric-parse failures',
  scope_violation: 'Scope violations',
};

/** GitHub's heading anchors for the titles above. */
const anchor = (cls: FailureClass): string => `#${TITLES[cls].toLowerCase().replace(/[^a-z0-9 -]/g, '').replaceAll(' ', '-')}`;

/** The command that re-evaluates `iterations`; `root` adds `--path` for a shell somewhere else. */
export function rerunCommandLine(id: string, iterations: readonly number[], root?: string): string {
  const where = root === undefined ? '' : ` --path ${/^[\w./-]+$/.test(root) ? root : `'${root.replaceAll("'", "'\\''")}'`}`;
  return `autoresearch${where} rerun ${id} --iterations ${iterationRanges(iterations)}`;
}

/** Sorted iterations as `rerun --iterations` reads them: runs of 3 or more as ranges (1,2,5-9). */
export function iterationRanges(iterations: readonly number[]): string {
  const sorted = [...new Set(iterations)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    parts.push(j - i >= 2 ? `${sorted[i]}-${sorted[j]}` : sorted.slice(i, j + 1).join(','));
    i = j + 1;
  }
  return parts.join(',');
}

export function renderReport(a: Analysis, ctx: ReportContext): { readme: string; failureFiles: Map<FailureClass, string> } {
  const md: string[] = [];
  md.push(`# autoresearch report: ${ctx.id}`, '');
  md.push(`- Generated: ${localDateTime(ctx.generatedAt.getTime())} (${ctx.generatedAt.toISOString()})`);
  md.push(`- Ledger: \`${ctx.ledgerFile}\` (${a.summary.iterations} rows)`);
  md.push(`- Metric: \`${ctx.metric}\`, ${ctx.direction} is better`);
  md.push(`- Kept commits: branch \`autoresearch/${ctx.id}\`; rejected candidates: \`refs/autoresearch/${ctx.id}/<iteration>\``);
  if (a.withoutArtifacts > 0) {
    md.push(
      `- ${a.withoutArtifacts} of ${a.summary.iterations} rows have no \`runs/<iteration>/result.json\` (rows written by the autoresearch-agent skill have none): ` +
        'they are classified from their reason or description alone, without logs, timings or costs.',
    );
  }
  md.push('');

  md.push('## Summary', '', '| | |', '|---|---|', ...summaryRows(a, ctx.direction, ctx.infrastructure ?? []).map(([k, v]) => `| ${k} | ${v} |`), '');

  const warnings = reportWarnings(a, ctx);
  if (warnings.length > 0) md.push('## Warnings', '', ...warnings.map((w) => `- ${w}`), '');

  md.push('## Failures', '');
  if (a.failures.length === 0) md.push('None.', '');
  else {
    md.push('| class | count | iterations | next step |', '|---|---|---|---|');
    for (const [cls, members] of a.byClass) {
      md.push(`| [${TITLES[cls]}](${anchor(cls)}) | ${members.length} | ${listIterations(members.map((m) => m.iteration))} | ${cell(nextStep(cls, a, ctx))} |`);
    }
    md.push('');
  }

  md.push(...renderClusterFailures(ctx));

  md.push('## Top improvements', '');
  if (a.keeps.length === 0) md.push('No keeps after the baseline yet.', '');
  else {
    const shown = a.keeps.slice(0, TOP_KEEPS);
    md.push(
      `The keeps in order of gain${a.keeps.length > shown.length ? ` (${shown.length} of ${a.keeps.length})` : ''}; each against the best before it (\`+\` = better), with its diff${a.keeps.some((k) => k.undoneBy !== null) ? '; keeps whose gain did not reproduce come last' : ''}.`,
      '',
    );
    let diffBudget = DIFF_LINES_TOTAL;
    shown.forEach((keep, i) => {
      const { lines, used } = renderKeep(i + 1, keep, ctx, diffBudget);
      diffBudget -= used;
      md.push(...lines);
    });
  }

  const failureFiles = new Map<FailureClass, string>();
  for (const [cls, members] of a.byClass) {
    md.push(...renderClass(cls, members, a, ctx));
    failureFiles.set(cls, renderFailureFile(cls, members, ctx));
  }
  return { readme: md.join('\n'), failureFiles };
}

const CLUSTER_TITLE = 'Infrastructure failures of the cluster';
const CLUSTER_ANCHOR = '#infrastructure-failures-of-the-cluster';

/** `2 PREEMPTED, 1 NODE_FAIL`: the scheduler's final states, most frequent first. */
export function byState(records: readonly InfrastructureRecord[]): string {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.job.state, (counts.get(r.job.state) ?? 0) + 1);
  return [...counts].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).map(([state, n]) => `${n} ${state}`).join(', ');
}

/**
 * infrastructure.jsonl in the README: each job the cluster ended (preemption, node failure)
 * under an evaluation. None of them is a row: the candidate was not at fault. Nothing for an
 * experiment that never had one (every local one).
 */
function renderClusterFailures(ctx: ReportContext): string[] {
  const records = ctx.infrastructure ?? [];
  if (records.length === 0) return [];
  const gaveUp = records.filter((r) => r.action === 'gave-up').length;
  const md = [`## ${CLUSTER_TITLE}`, ''];
  md.push(
    `${records.length} evaluation job${records.length === 1 ? '' : 's'} ended by the cluster, not by the candidate (${byState(records)}): no row was written for ${records.length === 1 ? 'it' : 'them'}. ` +
      `The evaluation was submitted again each time, up to the executor's bound` +
      (gaveUp === 0 ? '.' : `; ${gaveUp === 1 ? 'once' : `${gaveUp} times`} it gave up and blocked the experiment until \`autoresearch resume\`.`) +
      ' From `infrastructure.jsonl`.',
    '',
  );
  md.push('| when | iteration | job | state | node | what happened | partial log |', '|---|---|---|---|---|---|---|');
  for (const r of records) {
    const when = Number.isFinite(Date.parse(r.at)) ? localDateTime(Date.parse(r.at)) : r.at;
    const job = `\`${r.job.name}\`${r.job.id === '' ? '' : ` (id ${r.job.id})`}`;
    const what = r.action === 'rerun' ? 'submitted again' : 'gave up: the experiment was blocked';
    md.push(`| ${cell(when)} | ${r.iteration} | ${cell(job)} | ${cell(r.job.state)} | ${cell(r.job.node ?? '-')} | ${what} | ${cell(`\`${shownLog(r.log, ctx.experimentDir)}\``)} |`);
  }
  md.push('');
  return md;
}

/** A log inside the experiment directory relative to it (`runs/00004/eval.log`), else as recorded. */
function shownLog(log: string, dir: string | undefined): string {
  if (dir === undefined || log === '') return log;
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return log.startsWith(prefix) ? log.slice(prefix.length) : log;
}

/** What the user should look at before anything else; each one line. */
export function reportWarnings(a: Analysis, ctx: Pick<ReportContext, 'allowedPaths'>): string[] {
  const warnings = a.noChangeRuns.map(
    (run) =>
      `iterations ${run.from}–${run.to}: ${run.count} no_change in a row: the agent is not changing anything; check program.md / scope (${ctx.allowedPaths.join(', ')})`,
  );
  if (a.noCandidate.length > 0) {
    warnings.push(
      `iteration${a.noCandidate.length === 1 ? '' : 's'} ${listIterations(a.noCandidate)}: an infrastructure failure with no candidate commit (the agent failed before changing anything): nothing to rerun; fix the cause and run the experiment again`,
    );
  }
  return warnings;
}

function summaryRows(a: Analysis, direction: Direction, infrastructure: readonly InfrastructureRecord[]): [string, string][] {
  const s = a.summary;
  const keeps = a.keeps.length;
  const hasBaseline = s.iterations - a.experiments > 0;
  const discards = [...a.discards].map(([reason, n]) => `${n} ${reason.replaceAll('_', ' ')}`).join(', ');
  return [
    ['Iterations', `${s.iterations}${hasBaseline ? `: baseline + ${a.experiments} experiments` : ''}`],
    ['Keeps', `${keeps} (after the baseline)`],
    ['Keep rate', a.experiments === 0 ? '-' : `${pct((keeps / a.experiments) * 100)} (${keeps} of ${a.experiments} experiments)`],
    ['Discards', s.discards === 0 ? '0' : `${s.discards}: ${discards}`],
    ['Crashes', String(s.crashes)],
    ...(infrastructure.length === 0 ? [] : [['Cluster failures', `${infrastructure.length} (${byState(infrastructure)}), no rows: see [below](${CLUSTER_ANCHOR})`] as [string, string]]),
    ...(a.revalidations.length === 0 ? [] : [['Failed revalidations', revalidationText(a)] as [string, string]]),
    ['Baseline', metric(s.baseline)],
    ['Best', s.bestRow === null ? '-' : `${metric(s.best)} (iteration ${s.bestRow.iteration}, \`${s.bestRow.commit}\`)`],
    [
      'Improvement over baseline',
      s.improvement === null ? '-' : `${signed(direction === 'lower' ? -s.improvement : s.improvement)}${s.improvementPct === null ? '' : ` (${formatImprovement(s.improvementPct, 1)} ${s.improvementPct >= 0 ? 'better' : 'worse'})`}`,
    ],
    ['Agent cost', agentCost(a)],
    ['Time', timeSplit(a)],
  ];
}

/** `iteration 14: keeps 7, 9 did not reproduce; best back to iteration 5`, one per revalidation row. */
function revalidationText(a: Analysis): string {
  const each = a.revalidations.map((r) => {
    if (r.undone.length === 0) return `iteration ${r.row.iteration}: \`${r.row.commit}\` is not a keep in effect, nothing undone`;
    return `iteration ${r.row.iteration}: keep${r.undone.length === 1 ? '' : 's'} ${r.undone.join(', ')} did not reproduce; best back to ${r.bestAfter === null ? 'none' : `iteration ${r.bestAfter.iteration}`}`;
  });
  return `${a.revalidations.length}: ${each.join('; ')}`;
}

function agentCost(a: Analysis): string {
  const { totalUsd, reported, agentTurns } = a.cost;
  if (reported === 0) return agentTurns === 0 ? 'no agent turns' : `not reported (${agentTurns} agent turns)`;
  const perKeep = a.keeps.length === 0 ? 'no keeps' : `${usd(totalUsd / a.keeps.length)} per keep`;
  return `${usd(totalUsd)} total, ${perKeep} (${reported} of ${agentTurns} agent turns reported a cost)`;
}

function timeSplit(a: Analysis): string {
  const t = a.time;
  if (t.wall === 0) return 'not recorded';
  const parts: [string, number][] = [
    ['agent', t.agent],
    ['evaluation', t.eval],
    ['other', t.other],
  ];
  if (t.unsplit > 0) parts.push(['not split (no result.json)', t.unsplit]);
  const shares = wholePercents(parts.map(([, seconds]) => seconds));
  return `${duration(t.wall)} in all: ${parts.map(([label, seconds], i) => `${label} ${duration(seconds)} (${shares[i]}%)`).join(', ')}`;
}

/** Whole percentages of `values` that add up to exactly 100 (largest remainder first). */
export function wholePercents(values: readonly number[]): number[] {
  const total = values.reduce((sum, v) => sum + v, 0);
  if (total <= 0) return values.map(() => 0);
  const exact = values.map((v) => (v / total) * 100);
  const shares = exact.map(Math.floor);
  let left = 100 - shares.reduce((sum, v) => sum + v, 0);
  const order = exact.map((v, i) => [v - Math.floor(v), i] as const).sort((x, y) => y[0] - x[0] || x[1] - y[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    shares[i] = (shares[i] as number) + 1;
    left--;
  }
  return shares;
}

function nextStep(cls: FailureClass, a: Analysis, ctx: ReportContext): string {
  switch (cls) {
    case 'infrastructure':
      return a.rerun.length === 0
        ? 'fix the cause, then run the experiment again (none has a candidate commit to rerun)'
        : `fix the machine, then \`${rerunCommandLine(ctx.id, a.rerun)}\`${a.noCandidate.length === 0 ? '' : ` (${listIterations(a.noCandidate)}: no candidate, nothing to rerun)`}`;
    case 'candidate':
      return 'none: the changes broke the code';
    case 'agent':
      return "read the agent's output";
    case 'timeout':
      return 'raise eval_timeout / agent_timeout if a normal run comes close to them';
    case 'metric_parse':
      return `check that the evaluation prints a line matching \`${ctx.metricGrep}\``;
    case 'scope_violation':
      return 'widen `scope`, or tell the agent (program.md) what it may change';
  }
}

/** One keep: its gain (`+` = better), its diffstat and its diff, at most `budget` diff lines. */
function renderKeep(rank: number, keep: RankedKeep, ctx: ReportContext, budget: number): { lines: string[]; used: number } {
  const { row } = keep;
  const gain = keep.gainPct === null ? '' : `, ${formatImprovement(keep.gainPct, 1)} better`; // + = better (core/improvement.ts)
  // A keep a revalidation undid claimed a gain that did not reproduce: said on its line, ranked last.
  const undone = keep.undoneBy === null ? '' : `, did not reproduce: undone by the revalidation of iteration ${keep.undoneBy}`;
  const lines = [`${rank}. **Iteration ${row.iteration}**, \`${row.commit}\`: ${inline(row.description)}: ${metric(keep.previous)} → ${metric(row.metric)} (${signed(keep.gain)}${gain}${undone})`];
  const diff = ctx.diffs.get(row.iteration);
  if (diff === undefined) return { lines: [...lines, ''], used: 0 };
  if ('error' in diff) return { lines: [...lines, `   (no diff: ${inline(diff.error)})`, ''], used: 0 };
  const indent = (block: string[]) => block.map((l) => (l === '' ? l : `   ${l}`));
  lines.push('', ...indent(fenced(diff.stat.trimEnd(), '')), '');
  const patch = diff.patch.trimEnd() === '' ? [] : diff.patch.trimEnd().split('\n');
  if (patch.length === 0) return { lines, used: 0 };
  const shown = Math.min(patch.length, DIFF_LINES_PER_KEEP, Math.max(0, budget));
  const show = `\`git show ${row.commit}\``;
  if (shown === 0) return { lines: [...lines, `   (diff not shown: the report shows at most ${DIFF_LINES_TOTAL} diff lines in all; see ${show})`, ''], used: 0 };
  lines.push(...indent(fenced(patch.slice(0, shown).map(clip).join('\n'), 'diff')));
  if (shown < patch.length) lines.push(`   … ${patch.length - shown} more line${patch.length - shown === 1 ? '' : 's'}, see ${show}`);
  return { lines: [...lines, ''], used: shown };
}

function renderClass(cls: FailureClass, members: readonly TriagedFailure[], a: Analysis, ctx: ReportContext): string[] {
  const md: string[] = [`## ${TITLES[cls]}`, ''];
  md.push(`${members.length} iteration${members.length === 1 ? '' : 's'}. ${explanation(cls, members, a, ctx)}`, '');
  if (cls === 'infrastructure' && a.rerun.length > 0) md.push('Re-run these once the cause is fixed:', '', ...fenced(rerunCommandLine(ctx.id, a.rerun), 'sh'), '');
  if (cls === 'infrastructure' && a.noCandidate.length > 0) {
    md.push(
      `No candidate commit to re-run for iteration${a.noCandidate.length === 1 ? '' : 's'} ${listIterations(a.noCandidate)}: the agent failed before changing anything (\`rerun\` skips ${a.noCandidate.length === 1 ? 'it' : 'them'}); once the cause is fixed, run the experiment again.`,
      '',
    );
  }

  if (cls === 'scope_violation') {
    md.push('| iteration | commit | changed outside scope | description |', '|---|---|---|---|');
    for (const f of members) md.push(`| ${f.iteration} | \`${f.row.commit}\` | ${cell(f.verdict.paths.map((p) => `\`${p}\``).join(', ') || '-')} | ${cell(f.row.description)} |`);
    const counts = new Map<string, number>();
    for (const f of members) for (const p of f.verdict.paths) counts.set(p, (counts.get(p) ?? 0) + 1);
    const often = [...counts].sort((x, y) => y[1] - x[1]).slice(0, 10);
    if (often.length > 0) md.push('', `Paths changed outside scope, most often first: ${often.map(([p, n]) => `\`${p}\` (${n})`).join(', ')}.`);
    md.push('');
    return md;
  }

  md.push('| iteration | commit | reason | evidence | description |', '|---|---|---|---|---|');
  for (const f of members) md.push(`| ${f.iteration} | \`${f.row.commit}\` | ${f.verdict.reason} | ${cell(f.verdict.evidence)} | ${cell(f.row.description)} |`);
  md.push('');

  // One tail per distinct error: a repeated infrastructure error is shown once, with every iteration it hit.
  const groups = groupBySignature(members.filter((f) => f.logTail.trim() !== ''));
  if (groups.length > 0) {
    md.push(`Log tails, one per distinct error (every failure's: [failures/${cls}.md](failures/${cls}.md)):`, '');
    for (const group of groups.slice(0, TAIL_GROUPS)) {
      const last = group[group.length - 1] as TriagedFailure;
      const who = group.length === 1 ? `Iteration ${last.iteration}` : `Iterations ${listIterations(group.map((g) => g.iteration))}`;
      md.push(`**${who}**, last ${README_TAIL_LINES} lines of \`${last.logFile}\`:`, '', ...fenced(tailLines(last.logTail, README_TAIL_LINES), ''), '');
    }
    if (groups.length > TAIL_GROUPS) md.push(`${groups.length - TAIL_GROUPS} more distinct errors: see [failures/${cls}.md](failures/${cls}.md).`, '');
  }
  const silent = members.filter((f) => f.logTail.trim() === '').map((f) => f.iteration);
  if (silent.length > 0) md.push(`No log for iteration${silent.length === 1 ? '' : 's'} ${listIterations(silent)}.`, '');
  return md;
}

function explanation(cls: FailureClass, members: readonly TriagedFailure[], a: Analysis, ctx: ReportContext): string {
  switch (cls) {
    case 'infrastructure':
      return 'The machine or the tools failed, not the change: a command not found, a process that could not start, an agent that failed within seconds or without spending anything, or the same error from different candidates.';
    case 'candidate':
      return `The change broke the code: the evaluation failed, with errors that differ from candidate to candidate. Each candidate stays under \`refs/autoresearch/${ctx.id}/<iteration>\`.`;
    case 'agent':
      return `The agent exited with an error after working for a while; whatever it changed stays under \`refs/autoresearch/${ctx.id}/<iteration>\`.`;
    case 'timeout': {
      const evals = members.filter((m) => m.verdict.reason === 'eval_timeout').length;
      const baseline = a.baselineEvalMs === null ? '' : ` The baseline's evaluation took ${duration(a.baselineEvalMs / 1000)}: if that is close to eval_timeout, raise it.`;
      return `Killed at the time limit: ${evals} at eval_timeout (${duration(ctx.evalTimeoutMs / 1000)}), ${members.length - evals} at agent_timeout (${duration(ctx.agentTimeoutMs / 1000)}).${baseline}`;
    }
    case 'metric_parse':
      return `The evaluation finished but printed no line matching \`metric_grep\` (\`${ctx.metricGrep}\`), or its value was not a finite number.`;
    case 'scope_violation':
      return `Discarded without evaluation: the agent changed files outside \`scope\` (${ctx.allowedPaths.map((p) => `\`${p}\``).join(', ')}).`;
  }
}

/** Groups of failures with the same signature, largest first, then the most recent. */
function groupBySignature(members: readonly TriagedFailure[]): TriagedFailure[][] {
  const groups = new Map<string, TriagedFailure[]>();
  for (const f of members) {
    const key = f.verdict.signature ?? `#${f.iteration}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const lastIteration = (g: TriagedFailure[]) => g[g.length - 1]?.iteration ?? 0;
  return [...groups.values()].sort((x, y) => y.length - x.length || lastIteration(y) - lastIteration(x));
}

function renderFailureFile(cls: FailureClass, members: readonly TriagedFailure[], ctx: ReportContext): string {
  const md = [`# ${TITLES[cls]}: ${ctx.id}`, '', `${members.length} iteration${members.length === 1 ? '' : 's'}, generated ${localDateTime(ctx.generatedAt.getTime())}.`, ''];
  for (const f of members) {
    md.push(`## Iteration ${f.iteration}: ${f.verdict.reason}`, '');
    md.push(`- Commit: \`${f.commit}\``, `- Description: ${inline(f.row.description)}`, `- Evidence: ${inline(f.verdict.evidence)}`);
    if (f.row.detail) md.push(`- Why: ${inline(f.row.detail)}`);
    if (f.run?.technicalDetail) md.push(`- Detail: ${inline(f.run.technicalDetail)}`);
    if (f.verdict.paths.length > 0) md.push(`- Changed outside scope: ${f.verdict.paths.map((p) => `\`${p}\``).join(', ')}`);
    md.push('');
    if (f.logTail.trim() !== '') md.push(`Last ${FILE_TAIL_LINES} lines of \`${f.logFile}\`:`, '', ...fenced(tailLines(f.logTail, FILE_TAIL_LINES), ''), '');
    else if (cls !== 'scope_violation') md.push('No log.', '');
  }
  return md.join('\n');
}

// ---------------------------------------------------------------- formatting

/** The last `n` non-blank-trailing lines, as a terminal showed them (a `\r` overwrites), each clipped. */
export function tailLines(text: string, n: number): string {
  const lines = text.replace(/\s+$/, '').split('\n').map((line) => {
    const shown = line.split('\r').at(-1) ?? '';
    return shown.length > MAX_LINE_CHARS ? `${shown.slice(0, MAX_LINE_CHARS)}…` : shown;
  });
  return lines.slice(-n).join('\n');
}

/** A fenced block that the content cannot close: the fence is longer than any backtick run in it. */
function fenced(text: string, lang: string): string[] {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}${lang}`, ...text.split('\n'), fence];
}

function listIterations(iterations: readonly number[]): string {
  return iterations.length <= 12 ? iterations.join(', ') : `${iterations.slice(0, 12).join(', ')} and ${iterations.length - 12} more`;
}

/** Text inside a table cell: one line, no column breaks. */
function cell(text: string): string {
  return inline(text).replaceAll('|', '\\|');
}

function inline(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 200 ? `${one.slice(0, 199)}…` : one;
}

function metric(value: number | null): string {
  return value === null ? '-' : value.toFixed(6);
}

/** A gain in the metric's units, `+` = better whatever the direction (core/improvement.ts). */
function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(6)}`;
}

/** A line of a diff, clipped like a log line. */
function clip(line: string): string {
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
}

function pct(value: number, digits = 1): string {
  return `${value.toFixed(digits)}%`;
}

function usd(value: number): string {
  return `$${value.toFixed(value >= 100 ? 2 : 4)}`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(sec).padStart(2, '0')}s`;
}
