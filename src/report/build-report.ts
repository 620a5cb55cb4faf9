/**
 * `report`'s I/O: reads the ledger, each row's runs/<n>/result.json and the log that explains
 * a failure, asks git for the diff of the top keeps and which infrastructure failures have a
 * candidate commit to re-run, and writes the files that
 * render.ts produces. Read-only towards the experiment: a running loop is not disturbed.
 */
import fs from 'node:fs/promises';
import { ensureExperimentGitignore } from '../experiment/gitignore.js';
import path from 'node:path';
import type { ExperimentConfig } from '../config/types.js';
import { errorMessage } from '../core/errors.js';
import { experimentPaths, iterationPaths, type ExperimentPaths } from '../experiment/paths.js';
import { readFileIfExists } from '../fs/durable.js';
import { readTail } from '../fs/read-tail.js';
import { GitClient } from '../git/git-client.js';
import { parseLedgerText } from '../ledger/tsv-format.js';
import type { LedgerRow } from '../ledger/types.js';
import { analyze, type Analysis, type IterationInput } from './analyze.js';
import { FAILURE_CLASSES, crashReason, sideOf, type RunRecord } from './classify-failure.js';
import { TOP_KEEPS, renderReport, type KeepDiff } from './render.js';
import { rerunCandidate } from '../experiment/rerun-candidate.js';
import { readInfrastructureFailures, type InfrastructureRecord } from '../experiment/infrastructure-log.js';

/** Enough for the last lines of any log, without reading a 100 MB one whole. */
const TAIL_BYTES = 64 * 1024;

export interface ReportOptions {
  /** The user's repository: kept commits and candidate refs live there. */
  projectRoot: string;
  config: ExperimentConfig;
  /** null: `<experiment dir>/report`. */
  outDir: string | null;
  now: Date;
}

export interface WrittenReport {
  dir: string;
  readme: string;
  analysis: Analysis;
  /** infrastructure.jsonl's records (jobs the cluster ended; no rows). */
  infrastructure: InfrastructureRecord[];
}

export async function writeReport(opts: ReportOptions): Promise<WrittenReport> {
  const { config } = opts;
  const paths = experimentPaths(config.dir);
  // A torn last line (a row being appended right now) is left out, as parseLedgerText does.
  const rows = parseLedgerText((await readFileIfExists(paths.results)) ?? '', paths.results).rows;
  const inputs: IterationInput[] = [];
  for (const row of rows) inputs.push(await readIteration(paths, row));
  const git = new GitClient(opts.projectRoot);
  // Only what `rerun` can re-run is recommended: an infrastructure failure without a candidate
  // commit (the agent failed before changing anything) is named, not put in the command.
  const firstPass = analyze(inputs, config.direction);
  const withoutCandidate = new Set<number>();
  const resolve = async (rev: string): Promise<string | null> => {
    if (rev === '' || rev.startsWith('-')) return null;
    const found = await git.run(['rev-parse', '-q', '--verify', `${rev}^{commit}`], [1, 128]);
    return found.exitCode === 0 ? found.stdout.trim() : null;
  };
  for (const iteration of firstPass.rerun) {
    const row = rows.find((r) => r.iteration === iteration);
    if (row === undefined) continue;
    const candidate = await rerunCandidate(resolve, config.id.key, row, iterationPaths(paths, iteration).result).catch(() => null);
    if (candidate === null) withoutCandidate.add(iteration);
  }
  const analysis = withoutCandidate.size === 0 ? firstPass : analyze(inputs, config.direction, withoutCandidate);

  const diffs = new Map<number, KeepDiff>();
  for (const keep of analysis.keeps.slice(0, TOP_KEEPS)) {
    const commit = keep.run?.commitFull ?? keep.row.commit;
    const parent = keep.run?.base ?? `${commit}^`;
    try {
      const stat = await git.out(['diff', '--no-ext-diff', '--stat', parent, commit]);
      const patch = await git.out(['diff', '--no-ext-diff', '--no-color', parent, commit]);
      diffs.set(keep.row.iteration, { stat, patch });
    } catch (error) {
      // A seed ledger's commit may be gone (rebased, another clone): the report goes on without it.
      diffs.set(keep.row.iteration, { error: firstLine(errorMessage(error)) });
    }
  }

  const infrastructure = readInfrastructureFailures(paths.infrastructure);
  const { readme, failureFiles } = renderReport(analysis, {
    id: config.id.key,
    generatedAt: opts.now,
    ledgerFile: paths.results,
    metric: config.metric,
    direction: config.direction,
    metricGrep: config.metricRegex ?? config.metricGrep,
    evalTimeoutMs: config.evalTimeoutMs,
    agentTimeoutMs: config.agentTimeoutMs,
    allowedPaths: config.allowedPaths,
    diffs,
    infrastructure,
    experimentDir: paths.dir,
  });

  const dir = opts.outDir ?? path.join(config.dir, 'report');
  await fs.mkdir(path.join(dir, 'failures'), { recursive: true });
  // The default dir is daemon-owned (report/ is in the experiment's .gitignore), so
  // `git status` stays clean. A dir the user chose is theirs to commit or not.
  if (opts.outDir === null) await ensureExperimentGitignore(experimentPaths(config.dir));
  const readmeFile = path.join(dir, 'README.md');
  await fs.writeFile(readmeFile, readme);
  for (const cls of FAILURE_CLASSES) {
    const file = path.join(dir, 'failures', `${cls}.md`);
    const text = failureFiles.get(cls);
    // Only our own file names are removed: a class that has no failures any more leaves no stale file.
    if (text === undefined) await fs.rm(file, { force: true });
    else await fs.writeFile(file, text);
  }
  return { dir, readme: readmeFile, analysis, infrastructure };
}

async function readIteration(paths: ExperimentPaths, row: LedgerRow): Promise<IterationInput> {
  const files = iterationPaths(paths, row.iteration);
  const run = parseRunRecord((await readFileIfExists(files.result)) ?? '');
  // A result.json about another row (a ledger started over, runs/ left behind): not this row's artifacts.
  if (run !== null && ((run.iteration !== undefined && run.iteration !== row.iteration) || (run.commit !== undefined && run.commit !== row.commit))) {
    return { row, run: null, logFile: null, logTail: '' };
  }
  if (row.status !== 'crash') return { row, run, logFile: null, logTail: '' };

  const side = sideOf(crashReason(row, run).reason);
  const candidates = side === 'agent' ? [files.agentStderr, files.agentStdout] : side === 'setup' ? [paths.setupLog] : [files.evalLog];
  for (const file of candidates) {
    const tail = readTail(file, TAIL_BYTES);
    // An agent that printed its error on stdout left stderr empty: the next file explains it.
    if (tail.trim() !== '') return { row, run, logFile: path.relative(paths.dir, file), logTail: tail };
  }
  return { row, run, logFile: null, logTail: '' };
}

/** result.json → the fields the report reads; null for a missing or unreadable file (the report degrades). */
export function parseRunRecord(text: string): RunRecord | null {
  if (text === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null; // a partly written or hand-edited file: treat the row like one without artifacts
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  const num = (x: unknown): number | null | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : x === null ? null : undefined);
  const str = (x: unknown): string | null | undefined => (typeof x === 'string' ? x : x === null ? null : undefined);
  const report = typeof v.agentReport === 'object' && v.agentReport !== null ? (v.agentReport as Record<string, unknown>) : null;
  return strip({
    iteration: num(v.iteration) ?? undefined,
    commit: str(v.commit) ?? undefined,
    commitFull: str(v.commitFull) ?? undefined,
    base: str(v.base),
    // Until the ledger got its `detail` column (issue 10), result.json's `detail` was this technical text.
    technicalDetail: 'technicalDetail' in v ? str(v.technicalDetail) : str(v.detail),
    agentMs: num(v.agentMs),
    evalMs: num(v.evalMs),
    agentReport: report === null ? null : strip({ costUsd: num(report.costUsd), inputTokens: num(report.inputTokens), outputTokens: num(report.outputTokens), sessionId: str(report.sessionId), model: str(report.model) }),
  });
}

/** Drop undefined fields, so "missing" and "null" stay distinct for the reader. */
function strip<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
