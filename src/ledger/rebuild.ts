/**
 * `results <id> --rebuild`: results.tsv regenerated from the per-iteration artifacts
 * (runs/<iteration>/result.json holds the row that was appended, see loop/iteration.ts
 * `record`), without running anything. The caller holds the experiment's run.lock.
 *
 *  - rows in iteration order under the current header (LEDGER_COLUMNS, then the guard columns:
 *    the old file's, the config's, and any a result.json names), each formatted as it was
 *    appended: for a ledger we wrote, the rebuilt file equals the original byte for byte;
 *  - a row of the old file whose iteration has no artifact is carried over: rows the seed
 *    skill wrote (they never have artifacts, whether the whole ledger is the skill's or it
 *    appended 4-field rows to ours; a multi-line description is joined), and the row of an
 *    iteration killed between its row and its result.json;
 *  - `runs/<n>.interrupted-<ms>` directories (attempts that wrote no row by design), result.json
 *    files that do not parse, and old lines that do not parse are skipped and reported;
 *  - the old file is kept as `results.tsv.before-rebuild-<timestamp>` (a hard link: the exact
 *    original, and results.tsv never missing), then results.tsv is replaced atomically and durably.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../core/errors.js';
import { isErrno, writeFileDurableSync } from '../fs/durable.js';
import type { Evidence } from '../decision/types.js';
import { formatRow, parseLedgerText, readRows } from './tsv-format.js';
import { guardColumnsOf, LEDGER_COLUMNS, usableGuardColumns, type LedgerRow, type RowStatus } from './types.js';

export interface Skipped {
  /** What was skipped: a path, or `results.tsv:<line>`. */
  what: string;
  why: string;
}

export interface RebuildReport {
  file: string;
  rows: number;
  /** Rows taken from runs/<n>/result.json. */
  fromArtifacts: number;
  /** Iterations whose row came from the old file (no usable artifact). */
  carriedOver: number[];
  /** Iterations whose old row differed from its artifact (the artifact was used). */
  differed: number[];
  /** Iterations below the highest with no row from either source. */
  missing: number[];
  skipped: Skipped[];
  /** Where the old file was saved; null when there was none. */
  savedOldTo: string | null;
  /** The rebuilt file has the same bytes as the old one. */
  identical: boolean;
}

export interface RebuildFiles {
  /** results.tsv */
  results: string;
  /** runs/ */
  runs: string;
  /** The config's `guard` metrics, when it could be read: their columns are written even when empty. */
  guards?: readonly string[];
}

const ITERATION_DIR = /^\d+$/;
const INTERRUPTED_DIR = /^(\d+)\.interrupted-\d+$/;
/** A revalidation that wrote no row (its keeps reproduced, or it could not measure) sets its directory aside so. */
/** pipeline's drafts (loop/draft.ts): runs/<n>.draft/ (and one set aside), runs/draft-setup.{json,log}. */
const PIPELINE_ENTRY = /^(?:\d+\.draft(?:\..*)?|draft-setup\.(?:json|log))$/;
const REVALIDATED_DIR = /^\d+\.revalidated-\d+$/;
const STATUSES: readonly string[] = ['keep', 'discard', 'crash'] satisfies RowStatus[];

export function rebuildLedger(files: RebuildFiles, now: number = Date.now()): RebuildReport {
  const skipped: Skipped[] = [];
  const artifacts = readArtifacts(files.runs, skipped);
  const oldBytes = readIfExists(files.results);
  const old = oldBytes === null ? { rows: [], columns: [] } : salvageRows(oldBytes.toString('utf8'), files.results, skipped);
  const oldRows = old.rows;
  const guards = usableGuardColumns([...guardColumnsOf(old.columns), ...(files.guards ?? []), ...artifacts.flatMap((row) => Object.keys(row.guards ?? {}))]);
  const columns = [...LEDGER_COLUMNS, ...guards];

  const byIteration = new Map<number, LedgerRow>(artifacts.map((row) => [row.iteration, row]));
  const carried = new Set<number>();
  const differed: number[] = [];
  for (const { row, line } of oldRows) {
    const known = byIteration.get(row.iteration);
    if (known === undefined) {
      byIteration.set(row.iteration, row);
      carried.add(row.iteration);
    } else if (carried.has(row.iteration)) {
      skipped.push({ what: `${files.results}:${line}`, why: `a second row for iteration ${row.iteration} (the first one was kept)` });
    } else if (formatRow(known, columns) !== formatRow(row, columns)) {
      differed.push(row.iteration);
    }
  }
  const carriedOver = [...carried].sort((a, b) => a - b);

  const rows = [...byIteration.values()].sort((a, b) => a.iteration - b.iteration);
  const missing: number[] = [];
  const last = rows.at(-1)?.iteration ?? -1;
  for (let i = 0, r = 0; i <= last; i++) {
    if (rows[r]?.iteration === i) r++;
    else missing.push(i);
  }

  const text = `${columns.join('\t')}\n${rows.map((row) => formatRow(row, columns)).join('')}`;
  const bytes = Buffer.from(text, 'utf8');
  const savedOldTo = oldBytes === null ? null : keepOldFile(files.results, now);
  writeFileDurableSync(files.results, bytes);

  return {
    file: files.results,
    rows: rows.length,
    fromArtifacts: rows.length - carriedOver.length,
    carriedOver,
    differed,
    missing,
    skipped,
    savedOldTo,
    identical: oldBytes !== null && oldBytes.equals(bytes),
  };
}

/** Every runs/<n>/result.json that holds a valid row for iteration n, in no particular order. */
function readArtifacts(runsDir: string, skipped: Skipped[]): LedgerRow[] {
  let entries: fs.Dirent[];
  try {
    // Sorted: the report lists what was skipped in a stable order.
    entries = fs.readdirSync(runsDir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return []; // never ran, or runs/ lost too: only the old file is left
    throw error;
  }
  const rows: LedgerRow[] = [];
  for (const entry of entries) {
    const dir = path.join(runsDir, entry.name);
    if (PIPELINE_ENTRY.test(entry.name)) {
      skipped.push({ what: dir, why: 'a draft of pipeline: true (an agent turn no iteration took, or its setup)' });
      continue;
    }
    if (!entry.isDirectory()) {
      skipped.push({ what: dir, why: 'not an iteration directory' });
      continue;
    }
    const interrupted = INTERRUPTED_DIR.exec(entry.name);
    if (interrupted !== null) {
      // An interrupted attempt writes no row. One holding a result.json was a finished
      // iteration whose number was used again: possible only after the ledger was lost and
      // a run started anyway. Still skipped (its number now belongs to another row), but said.
      const finished = fs.existsSync(path.join(dir, 'result.json'));
      skipped.push({
        what: dir,
        why: finished
          ? `holds the result.json of a finished iteration ${Number(interrupted[1])} whose number was used again (inspect it by hand)`
          : 'an interrupted attempt (interrupted iterations write no row)',
      });
      continue;
    }
    if (REVALIDATED_DIR.test(entry.name)) {
      skipped.push({ what: dir, why: 'a revalidation that wrote no row (its keeps reproduced, or it could not measure)' });
      continue;
    }
    if (!ITERATION_DIR.test(entry.name)) {
      skipped.push({ what: dir, why: 'not an iteration directory' });
      continue;
    }
    const file = path.join(dir, 'result.json');
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      skipped.push({ what: file, why: 'missing (the iteration never finished, or was killed before its artifact was written)' });
      continue;
    }
    try {
      const row = rowFromArtifact(JSON.parse(text));
      if (row.iteration !== Number(entry.name)) throw new Error(`it is about iteration ${row.iteration}, not ${Number(entry.name)}`);
      rows.push(row);
    } catch (error) {
      skipped.push({ what: file, why: `does not parse: ${errorMessage(error)}` });
    }
  }
  return rows;
}

/** The LedgerRow fields of a result.json (it also holds commitFull, base, technicalDetail, timings). */
export function rowFromArtifact(json: unknown): LedgerRow {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('expected a JSON object');
  const o = json as Record<string, unknown>;
  const row: LedgerRow = {
    commit: text(o, 'commit'),
    metric: numberOrNull(o, 'metric'),
    status: status(o),
    description: text(o, 'description'),
    iteration: iteration(o),
    timestamp: textOrNull(o, 'timestamp'),
    durationS: numberOrNull(o, 'durationS'),
    reason: textOrNull(o, 'reason'),
    agent: textOrNull(o, 'agent'),
    costUsd: numberOrNull(o, 'costUsd'),
    tokensIn: numberOrNull(o, 'tokensIn'),
    tokensOut: numberOrNull(o, 'tokensOut'),
    // Before the detail column, result.json's `detail` was the technical outcome (`exit code 1`),
    // not the row's why: such a file (no `technicalDetail` key) had a row without detail. A file
    // with `evidence` (issue 11, after the detail column) holds the row's detail: a revalidation's has no technicalDetail.
    detail: 'technicalDetail' in o || 'evidence' in o ? textOrNull(o, 'detail') : null,
    // Issue 11: written by versions that measure evidence and guards (absent before).
    evidence: evidenceOrNull(o.evidence),
    ...(o.guards === undefined || o.guards === null ? {} : { guards: guardValues(o.guards) }),
  };
  formatRow(row, [...LEDGER_COLUMNS, ...Object.keys(row.guards ?? {})]); // throws on what the ledger cannot hold (a negative cost, say)
  return row;
}

function evidenceOrNull(v: unknown): Evidence | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`evidence: expected an object or null, found ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  const samples = o.samples;
  if (typeof samples !== 'number' || !Number.isSafeInteger(samples) || samples < 0) throw new Error(`evidence.samples: expected a count, found ${JSON.stringify(samples) ?? 'nothing'}`);
  const at = (key: string) => {
    try {
      return numberOrNull(o, key);
    } catch (error) {
      throw new Error(`evidence.${errorMessage(error)}`);
    }
  };
  return { samples, mean: at('mean'), spread: at('spread'), pValue: at('pValue') };
}

function guardValues(v: unknown): Record<string, number | null> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`guards: expected an object, found ${JSON.stringify(v)}`);
  const guards: Record<string, number | null> = {};
  for (const name of Object.keys(v)) {
    try {
      guards[name] = numberOrNull(v as Record<string, unknown>, name);
    } catch (error) {
      throw new Error(`guards.${errorMessage(error)}`);
    }
  }
  return guards;
}

function text(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new Error(`${key}: expected a string, found ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

function textOrNull(o: Record<string, unknown>, key: string): string | null {
  const v = o[key];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new Error(`${key}: expected a string or null, found ${JSON.stringify(v)}`);
  return v;
}

function numberOrNull(o: Record<string, unknown>, key: string): number | null {
  const v = o[key];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${key}: expected a number or null, found ${JSON.stringify(v)}`);
  return v;
}

function status(o: Record<string, unknown>): RowStatus {
  const v = o.status;
  if (typeof v !== 'string' || !STATUSES.includes(v)) throw new Error(`status: expected keep, discard or crash, found ${JSON.stringify(v) ?? 'nothing'}`);
  return v as RowStatus;
}

function iteration(o: Record<string, unknown>): number {
  const v = o.iteration;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`iteration: expected a non-negative integer, found ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

/**
 * The rows of the old file that parse, each on its own: one bad line must not cost the
 * others. Its header must parse (it says what the fields are); an unterminated last line
 * is a torn write and never a row.
 */
function salvageRows(text: string, file: string, skipped: Skipped[]): { rows: { row: LedgerRow; line: number }[]; columns: string[] } {
  const lines = text.split('\n');
  const torn = lines.pop(); // '' when the file ends in \n
  if (torn !== undefined && torn !== '') skipped.push({ what: `${file}:${lines.length + 1}`, why: 'an unterminated last line (a torn write)' });
  if (lines.length === 0) return { rows: [], columns: [] };
  let columns: string[];
  try {
    columns = parseLedgerText(`${(lines[0] ?? '').replace(/\r$/, '')}\n`, file).columns;
  } catch (error) {
    skipped.push({ what: `${file}:1`, why: `the header does not parse, so no row of the old file was used: ${errorMessage(error)}` });
    return { rows: [], columns: [] };
  }
  // Rows the skill wrote (no iteration column, possibly continued on the next lines) are
  // read as the ledger reads them: each gets one past the highest iteration before it.
  const lineNumbers: number[] = [];
  const rows = readRows(lines, columns, file, (error, line) => skipped.push({ what: `${file}:${line}`, why: errorMessage(error).replace(`${file}:${line}: `, '') }), lineNumbers);
  return { rows: rows.map((row, i) => ({ row, line: lineNumbers[i] ?? 0 })), columns };
}

/** Hard-link the old file aside (the exact original); a copy where links are not supported. */
function keepOldFile(file: string, now: number): string {
  const stamp = new Date(now).toISOString().replaceAll(':', '-');
  for (let n = 0; ; n++) {
    const aside = `${file}.before-rebuild-${stamp}${n === 0 ? '' : `-${n}`}`;
    try {
      fs.linkSync(file, aside);
      return aside;
    } catch (error) {
      if (isErrno(error, 'EEXIST')) continue; // two rebuilds in one millisecond: never overwrite a saved file
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK'].some((code) => isErrno(error, code))) throw error;
      if (fs.existsSync(aside)) continue;
      writeFileDurableSync(aside, fs.readFileSync(file));
      return aside;
    }
  }
}

function readIfExists(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}
