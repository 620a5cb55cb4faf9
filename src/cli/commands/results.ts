/**
 * `autoresearch results [<id> [--status S]... [--last N] | --domain D | --all] [--format terminal|csv|markdown|json] [-o FILE]`
 * and `results <id> --rebuild` (SPEC §8). Read-only, except -o (its own file) and --rebuild
 * (results.tsv, under the experiment's run.lock).
 */
import fs from 'node:fs';
import path from 'node:path';
import { discoverExperiments, resolveExperiment, type DiscoveredExperiment } from '../../config/discover.js';
import { isValidDomain } from '../../config/experiment-id.js';
import { loadExperimentConfig } from '../../config/parse-config.js';
import type { ExperimentConfig } from '../../config/types.js';
import { AutoresearchError, EXIT, errorMessage } from '../../core/errors.js';
import { experimentPaths } from '../../experiment/paths.js';
import { acquireLock } from '../../experiment/run-lock.js';
import { readFileIfExists, writeFileDurable } from '../../fs/durable.js';
import { EXPORT_FORMATS, toCsv, toMarkdown, toTerminal, type ExportFormat, type Table } from '../../ledger/export-formats.js';
import { LEDGER_TERMINAL_SHRINK, ledgerObject, ledgerTable, ledgerTerminalTable, statusColor } from '../../ledger/ledger-table.js';
import { countExperiments, describeExperiments } from '../../ledger/experiment-counts.js';
import { formatImprovement, formatMetric } from '../../core/improvement.js';
import { rebuildLedger, type RebuildReport } from '../../ledger/rebuild.js';
import { summarizeRows } from '../../ledger/summary.js';
import { parseLedgerText } from '../../ledger/tsv-format.js';
import { guardColumnsOf, type LedgerRow } from '../../ledger/types.js';
import { OVERVIEW_TERMINAL_SHRINK, overviewObject, overviewTable, overviewTerminalTable, readOverviewLine, stateColor, type OverviewLine } from '../../report/results-overview.js';

export interface ResultsOptions {
  projectRoot: string;
  id: string | undefined;
  domain: string | undefined;
  all: boolean;
  format: string;
  /** -o FILE, relative to the current directory. */
  output: string | undefined;
  rebuild: boolean;
  /** stdout is a terminal that wants colours (never used for -o). */
  color: boolean;
  /** --status S (repeatable): only rows with these statuses (one experiment's rows). */
  statuses?: string[];
  /** --last N: only the last N rows (after --status). */
  last?: number;
  /** Columns to fit the terminal table in (stdout's width on a TTY, else 80). */
  width?: number;
}

const ROW_STATUSES = ['keep', 'discard', 'crash'] as const;

type Out = (text: string) => void;

export async function resultsCommand(opts: ResultsOptions, out: Out, warn: Out = (t) => process.stderr.write(t)): Promise<number> {
  const format = parseFormat(opts.format);
  const selectors = [opts.id !== undefined && `<id> (${opts.id})`, opts.domain !== undefined && `--domain ${opts.domain}`, opts.all && '--all'].filter(Boolean);
  if (selectors.length > 1) throw new AutoresearchError('BAD_INPUT', `results: expected one of <id>, --domain D or --all, found ${selectors.join(' and ')}`);

  if (opts.rebuild) {
    if (opts.id === undefined) throw new AutoresearchError('BAD_INPUT', 'results --rebuild: expected an experiment id (`autoresearch results <domain>/<name> --rebuild`), found none');
    if (opts.output !== undefined || opts.format !== 'terminal' || (opts.statuses ?? []).length > 0 || opts.last !== undefined) {
      throw new AutoresearchError('BAD_INPUT', 'results --rebuild: rewrites results.tsv in place; --format, -o, --status and --last do not apply to it');
    }
    return rebuildCommand(await resolveExperiment(opts.projectRoot, opts.id), out);
  }

  const statuses = opts.statuses ?? [];
  const bad = statuses.find((s) => !(ROW_STATUSES as readonly string[]).includes(s));
  if (bad !== undefined) throw new AutoresearchError('BAD_INPUT', `--status: expected one of ${ROW_STATUSES.join(', ')}, found \`${bad}\``);
  const filtered = statuses.length > 0 || opts.last !== undefined;
  if (filtered && opts.id === undefined) throw new AutoresearchError('BAD_INPUT', `results: --status and --last filter one experiment's rows: expected an experiment id (\`autoresearch results <domain>/<name> --status crash\`), found none`);

  const color = opts.color && opts.output === undefined;
  const width = opts.width ?? 80;
  let text: string;
  let count: number;
  if (opts.id !== undefined) {
    const found = await resolveExperiment(opts.projectRoot, opts.id);
    const { rows: all, guards } = await readRows(found, warn);
    let rows = statuses.length > 0 ? all.filter((row) => statuses.includes(row.status)) : all;
    if (opts.last !== undefined) rows = rows.slice(-opts.last);
    const filter = filtered ? { shown: rows.length, of: all.length, how: [...statuses.map((st) => `--status ${st}`), ...(opts.last === undefined ? [] : [`--last ${opts.last}`])].join(' ') } : null;
    text = format === 'terminal' ? await ledgerTerminal(found, all, rows, filter, color, width) : render(format, ledgerTable(rows, guards), rows.map((row) => ledgerObject(row, guards)));
    count = rows.length;
  } else {
    const experiments = await selectExperiments(opts.projectRoot, opts.domain);
    const now = Date.now();
    const lines = await Promise.all(experiments.map((found) => readOverviewLine(found, now)));
    text = format === 'terminal' ? overviewTerminal(lines, color, width) : render(format, overviewTable(lines), lines.map(overviewObject));
    count = lines.length;
  }

  if (opts.output === undefined) {
    out(text);
  } else {
    const file = path.resolve(opts.output);
    const dir = path.dirname(file);
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new AutoresearchError('BAD_INPUT', `-o ${opts.output}: expected an existing directory ${dir}, found none`);
    // temp + fsync + rename: a reader of FILE sees the old or the new output, never half of one.
    await writeFileDurable(file, text);
    out(`wrote ${count} ${opts.id !== undefined ? 'rows' : 'experiments'} (${format}) to ${file}\n`);
  }
  return EXIT.ok;
}

function parseFormat(text: string): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(text)) return text as ExportFormat;
  throw new AutoresearchError('BAD_INPUT', `--format: expected one of ${EXPORT_FORMATS.join(', ')}, found \`${text}\``);
}

function render(format: Exclude<ExportFormat, 'terminal'>, table: Table, objects: readonly object[]): string {
  if (format === 'csv') return toCsv(table);
  if (format === 'markdown') return toMarkdown(table);
  return JSON.stringify(objects, null, 2) + '\n';
}

/** The ledger as it is on disk, read-only: a torn tail is left for the next run to repair. Also its guard columns. */
async function readRows(found: DiscoveredExperiment, warn: Out): Promise<{ rows: LedgerRow[]; guards: string[] }> {
  const file = experimentPaths(found.dir).results;
  const text = (await readFileIfExists(file)) ?? '';
  try {
    const parsed = parseLedgerText(text, file);
    if (parsed.tornTail !== null) warn(`autoresearch: note: ${file} ends in an unterminated line (a write cut off by a crash); it is not shown, and the next run repairs it\n`);
    return { rows: parsed.rows, guards: guardColumnsOf(parsed.columns) };
  } catch (error) {
    if (error instanceof AutoresearchError && error.code === 'LEDGER_CORRUPT') {
      throw new AutoresearchError('LEDGER_CORRUPT', `${error.message}; \`autoresearch results ${found.id.key} --rebuild\` regenerates it from runs/*/result.json`, { cause: error });
    }
    throw error;
  }
}

interface RowFilter {
  shown: number;
  of: number;
  how: string;
}

/** The table (of the selected rows), then the experiment's summary (of all rows). */
async function ledgerTerminal(found: DiscoveredExperiment, all: readonly LedgerRow[], rows: readonly LedgerRow[], filter: RowFilter | null, color: boolean, width: number): Promise<string> {
  if (all.length === 0) return `${found.id.key}: no results yet\n`;
  const table =
    rows.length === 0
      ? ''
      : toTerminal(ledgerTerminalTable(rows), { color, width, shrink: LEDGER_TERMINAL_SHRINK, rowColor: (i) => statusColor(rows[i]?.status ?? 'discard') });
  let config: ExperimentConfig | null = null;
  let configProblem = '';
  try {
    config = await loadExperimentConfig(found.dir, found.id, found.scope);
  } catch (error) {
    configProblem = ` (best not shown: ${errorMessage(error).split('\n')[0]})`;
  }
  const s = summarizeRows(all, config?.direction ?? 'lower');
  const lines = [`${found.id.key}: ${describeExperiments(countExperiments(all), config?.maxExperiments ?? null)}${configProblem}`];
  if (config !== null && s.best !== null) {
    const pct = s.improvementPct === null ? '' : ` (${formatImprovement(s.improvementPct)} vs baseline)`;
    lines.push(`best ${config.metric} ${formatMetric(s.best)} at iteration ${s.bestRow?.iteration}; baseline ${formatMetric(s.baseline)}${pct}`);
  }
  if (filter !== null) lines.push(`showing ${filter.shown} of ${filter.of} rows (${filter.how})`);
  return `${table}${table === '' ? '' : '\n'}${lines.join('\n')}\n`;
}

function overviewTerminal(lines: readonly OverviewLine[], color: boolean, width: number): string {
  if (lines.length === 0) return 'no experiments\n';
  let text = toTerminal(overviewTerminalTable(lines), { color, width, shrink: OVERVIEW_TERMINAL_SHRINK, rowColor: (i) => stateColor(lines[i]?.state ?? 'idle') });
  const problems = lines.filter((l) => l.error !== null);
  if (problems.length > 0) text += `\n${problems.map((l) => `(!) ${l.experiment}: ${l.error}`).join('\n')}\n`;
  return text;
}

async function selectExperiments(projectRoot: string, domain: string | undefined): Promise<DiscoveredExperiment[]> {
  const all = await discoverExperiments(projectRoot);
  if (domain === undefined) return all;
  if (!isValidDomain(domain)) throw new AutoresearchError('BAD_INPUT', `--domain: expected a domain name ([a-z0-9_-]+), found \`${domain}\``);
  const selected = all.filter((e) => e.id.domain === domain);
  if (selected.length === 0) {
    const domains = [...new Set(all.map((e) => e.id.domain))];
    throw new AutoresearchError(
      'EXPERIMENT_NOT_FOUND',
      `--domain ${domain}: expected experiments in it, found none; ${domains.length === 0 ? 'no experiments exist yet' : `domains with experiments: ${domains.join(', ')}`}`,
    );
  }
  return selected;
}

// ------------------------------------------------------------------- rebuild

async function rebuildCommand(found: DiscoveredExperiment, out: Out): Promise<number> {
  const paths = experimentPaths(found.dir);
  let lock;
  try {
    // Held for the whole rebuild: a run (or the daemon) starting meanwhile would append to a
    // file about to be replaced.
    lock = await acquireLock(paths.lock, { what: `experiment ${found.id.key}`, command: `autoresearch results ${found.id.key} --rebuild` });
  } catch (error) {
    if (error instanceof AutoresearchError && error.code === 'LOCKED') {
      throw new AutoresearchError('LOCKED', `refusing to rebuild ${paths.results}: ${error.message}; stop that run first (\`autoresearch pause ${found.id.key}\`), then try again`, { cause: error });
    }
    throw error;
  }
  let report: RebuildReport;
  try {
    report = rebuildLedger({ results: paths.results, runs: paths.runs, guards: await configuredGuards(found) });
  } finally {
    await lock.release();
  }
  out(formatRebuildReport(found.id.key, found.dir, report));
  return EXIT.ok;
}

/** The config's guard metrics, for their columns; none when the config does not load (the rebuild does not need it). */
async function configuredGuards(found: DiscoveredExperiment): Promise<string[]> {
  try {
    return (await loadExperimentConfig(found.dir, found.id, found.scope)).guards.map((guard) => guard.metric);
  } catch {
    return [];
  }
}

const MAX_LISTED = 20;

export function formatRebuildReport(id: string, dir: string, r: RebuildReport): string {
  const rel = (p: string) => path.relative(dir, p) || p;
  const lines = [`${id}: rebuilt ${r.file} with ${r.rows} row${r.rows === 1 ? '' : 's'} (${r.fromArtifacts} from runs/*/result.json, ${r.carriedOver.length} carried over from the old file)`];
  if (r.savedOldTo === null) lines.push('  there was no results.tsv before');
  else lines.push(`  the old file is saved as ${r.savedOldTo}${r.identical ? ' (byte for byte the same as the rebuilt one)' : ''}`);
  if (r.carriedOver.length > 0) lines.push(`  carried over (no usable result.json): iterations ${ranges(r.carriedOver)}`);
  if (r.differed.length > 0) lines.push(`  the old rows of iterations ${ranges(r.differed)} differed from their result.json; the result.json was used`);
  if (r.missing.length > 0) lines.push(`  no row for iterations ${ranges(r.missing)}: neither a result.json nor a readable row of the old file`);
  for (const s of r.skipped.slice(0, MAX_LISTED)) lines.push(`  skipped ${rel(s.what)}: ${s.why}`);
  if (r.skipped.length > MAX_LISTED) lines.push(`  ... and ${r.skipped.length - MAX_LISTED} more skipped`);
  return lines.join('\n') + '\n';
}

/** [0,1,2,5,7,8] → "0-2, 5, 7-8" (a lost run of 10,000 rows stays one line). */
export function ranges(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === (numbers[j] ?? 0) + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}-${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
