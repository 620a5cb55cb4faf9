/**
 * results.tsv text ⇄ LedgerRow (SPEC §4). Pure: no I/O.
 *
 * Formats we must read: the seed skill's 4 columns (`commit metric status description`,
 * metric `%.6f` or `N/A`, descriptions not sanitised, so a tab can split one into several
 * fields), our own LEDGER_COLUMNS (any prefix of them: older versions), and either followed by
 * columns someone else added. After all of LEDGER_COLUMNS, every column is a guard column
 * (types.ts guardColumnsOf): its numbers and N/A are the guard's values.
 *
 * The skill keeps appending 4-field rows to a ledger we widened (it writes
 * `commit\tmetric\tstatus\tdescription\n`, whatever the header): such a row is a valid row
 * (its iteration is one past the highest before it; our columns are empty). And as it does
 * not sanitise descriptions, a description with line breaks leaves lines that cannot be rows:
 * a line that does not parse right after a row the skill wrote (or its earlier continuation
 * lines) is a continuation of that row's description, joined with a space, never dropped.
 *
 * A final line without `\n` is a torn tail: every row is written with a single write that
 * ends in `\n`, so an unterminated last line can only be left by a crash mid-write. It is
 * returned for the caller to repair, never parsed. Any other bad line is corruption: we
 * refuse it rather than guess, naming file:line, the column, what was expected and found.
 */
import { AutoresearchError } from '../core/errors.js';
import type { Evidence } from '../decision/types.js';
import { EVIDENCE_COLUMNS, guardColumnsOf, SEED_COLUMNS, type LedgerRow, type RowStatus } from './types.js';

const STATUSES: readonly string[] = ['keep', 'discard', 'crash'] satisfies RowStatus[];

/** A plain decimal or exponent number, as %.6f and Number#toFixed produce (1e21 → "1e+21"). */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/**
 * Exactly what Python's `f"{x:.6f}"` prints for nan and ±inf: the seed skill writes these
 * when its evaluation prints such a value. Read as "no metric", like N/A.
 */
const PYTHON_NON_FINITE = /^-?(?:nan|inf)$/;

// ---------------------------------------------------------------- formatting

/** One results.tsv line, ending in `\n`, with the fields in `columns` order. */
export function formatRow(row: LedgerRow, columns: readonly string[]): string {
  return `${columns.map((column) => formatField(row, column)).join('\t')}\n`;
}

function formatField(row: LedgerRow, column: string): string {
  switch (column) {
    case 'commit':
      return oneLine(row.commit);
    case 'metric':
      if (row.metric === null) return 'N/A';
      // A NaN written as a value would make the ledger unreadable (we refuse it on read):
      // a caller passing one has a bug, and must record a crash with a null metric instead.
      if (!Number.isFinite(row.metric)) throw new TypeError(`ledger row metric: expected a finite number or null, found ${row.metric} (this is a bug)`);
      return row.metric.toFixed(6);
    case 'status':
      if (!STATUSES.includes(row.status)) throw new TypeError(`ledger row status: expected keep, discard or crash, found ${JSON.stringify(row.status)} (this is a bug)`);
      return row.status;
    case 'description':
      return oneLine(row.description) || '-'; // an empty last field is easy to lose in other tools
    case 'iteration':
      if (!Number.isSafeInteger(row.iteration) || row.iteration < 0) throw new TypeError(`ledger row iteration: expected a non-negative integer, found ${row.iteration} (this is a bug)`);
      return String(row.iteration);
    case 'timestamp':
      return row.timestamp === null ? '' : oneLine(row.timestamp);
    case 'duration_s':
      if (row.durationS === null) return '';
      if (!Number.isFinite(row.durationS)) throw new TypeError(`ledger row duration_s: expected a finite number or null, found ${row.durationS} (this is a bug)`);
      return row.durationS.toFixed(1);
    case 'reason':
      return row.reason === null ? '' : oneLine(row.reason);
    case 'agent':
      return row.agent === null ? '' : oneLine(row.agent);
    case 'cost_usd':
      return optionalNumber(row.costUsd, column, (n) => n.toFixed(6));
    case 'tokens_in':
      return optionalNumber(row.tokensIn, column, (n) => String(Math.round(n)));
    case 'tokens_out':
      return optionalNumber(row.tokensOut, column, (n) => String(Math.round(n)));
    case 'detail':
      return row.detail === null || row.detail === undefined ? '' : oneLine(row.detail);
    case 'samples':
    case 'mean':
    case 'spread':
    case 'p_value':
      return formatEvidence(row.evidence, column);
    default:
      return formatGuard(row.guards, column);
  }
}

/** The evidence columns: all empty without evidence (one sample, no test: older rows, crashes). */
function formatEvidence(evidence: Evidence | null | undefined, column: (typeof EVIDENCE_COLUMNS)[number]): string {
  if (evidence === null || evidence === undefined) return '';
  const bug = (what: string, value: unknown) => new TypeError(`ledger row ${column}: expected ${what}, found ${value} (this is a bug)`);
  switch (column) {
    case 'samples':
      if (!Number.isSafeInteger(evidence.samples) || evidence.samples < 0) throw bug('a non-negative integer', evidence.samples);
      return String(evidence.samples);
    case 'mean':
      if (evidence.mean === null) return 'N/A';
      if (!Number.isFinite(evidence.mean)) throw bug('a finite number or null', evidence.mean);
      return evidence.mean.toFixed(6);
    case 'spread':
      if (evidence.spread === null) return '';
      if (!Number.isFinite(evidence.spread) || evidence.spread < 0) throw bug('a non-negative number or null', evidence.spread);
      return evidence.spread.toFixed(6);
    case 'p_value':
      if (evidence.pValue === null) return '';
      if (!Number.isFinite(evidence.pValue) || evidence.pValue < 0 || evidence.pValue > 1) throw bug('a number from 0 to 1 or null', evidence.pValue);
      return formatPValue(evidence.pValue);
  }
}

/** Six significant digits, no trailing zeros (C's %.6g): 0.004, 1.2e-7. */
export function formatPValue(p: number): string {
  return String(Number(p.toPrecision(6)));
}

/** A guard metric's column (or a column another tool added: nothing to say in it). */
function formatGuard(guards: LedgerRow['guards'], column: string): string {
  if (guards === null || guards === undefined || !Object.hasOwn(guards, column)) return '';
  const value = guards[column];
  if (value === null || value === undefined) return 'N/A';
  if (!Number.isFinite(value)) throw new TypeError(`ledger row guard ${column}: expected a finite number or null, found ${value} (this is a bug)`);
  return value.toFixed(6);
}

function optionalNumber(value: number | null | undefined, column: string, format: (n: number) => string): string {
  if (value === null || value === undefined) return '';
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`ledger row ${column}: expected a non-negative number or null, found ${value} (this is a bug)`);
  return format(value);
}

/** A tab or line break inside a field would shift every later column of the row. */
export function oneLine(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ').trim();
}

// ------------------------------------------------------------------- parsing

export interface ParsedLedger {
  /** The header's columns; empty for an empty file (the caller writes a header). */
  columns: string[];
  rows: LedgerRow[];
  /** The unterminated last line (a crash artefact), or null. */
  tornTail: string | null;
}

export function parseLedgerText(input: string, file: string): ParsedLedger {
  // A UTF-8 BOM (saved by some editors) is not part of the header's first column name.
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const end = text.lastIndexOf('\n');
  const tornTail = end === text.length - 1 ? null : text.slice(end + 1);
  const complete = text.slice(0, end + 1);
  if (complete === '') return { columns: [], rows: [], tornTail };

  // Trailing `\r`: a file saved by a Windows editor is still the same ledger.
  const lines = complete.slice(0, -1).split('\n').map((line) => line.replace(/\r$/, ''));
  const header = lines[0] ?? '';
  const columns = parseHeader(header, file);

  const rows = readRows(lines, columns, file, (error) => {
    throw error;
  });
  return { columns, rows, tornTail };
}

/**
 * The rows of a ledger's data lines (`lines[0]` is the header), with the skill's rows and
 * their continuation lines read as described above. A line that is neither a row nor a
 * continuation goes to `onBadLine` (throw to refuse the file, or return to skip the line).
 * `lineNumbers` gives the 1-based line of each row.
 */
export function readRows(
  lines: readonly string[],
  columns: readonly string[],
  file: string,
  onBadLine: (error: AutoresearchError, line: number) => void,
  lineNumbers: number[] = [],
): LedgerRow[] {
  const rows: LedgerRow[] = [];
  let next = 0; // the iteration of a row without one: one past the highest so far
  let lastFromSkill = false;
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    if (line.trim() === '') continue; // a blank line carries no row; the seed skips it too
    const where = { file, line: i + 1, index: next };
    let parsed: { row: LedgerRow; fromSkill: boolean };
    try {
      parsed = parseRow(line, columns, where);
    } catch (error) {
      if (!(error instanceof AutoresearchError)) throw error;
      const previous = rows.at(-1);
      if (previous !== undefined && lastFromSkill) {
        previous.description = `${previous.description} ${oneLine(line)}`.trim();
        continue;
      }
      onBadLine(error, i + 1);
      continue;
    }
    rows.push(parsed.row);
    lineNumbers.push(i + 1);
    lastFromSkill = parsed.fromSkill;
    next = Math.max(next, parsed.row.iteration + 1);
  }
  return rows;
}

/** The columns of a header line (without its line break); LEDGER_CORRUPT, located, when it is not a ledger's. */
export function parseHeader(header: string, file: string): string[] {
  const columns = header.split('\t');
  if (!SEED_COLUMNS.every((name, i) => columns[i] === name)) {
    throw new AutoresearchError(
      'LEDGER_CORRUPT',
      `${file}:1: expected a header starting with ${SEED_COLUMNS.join('<TAB>')}, found ${show(header)}`,
    );
  }
  const seen = new Set<string>();
  for (const name of columns) {
    if (name === '' || seen.has(name)) {
      throw new AutoresearchError('LEDGER_CORRUPT', `${file}:1: expected unique, non-empty column names, found ${show(name)} in ${show(header)}`);
    }
    seen.add(name);
  }
  return columns;
}

export interface RowLocation {
  file: string;
  /** 1-based line number, for error messages. */
  line: number;
  /** The iteration of a row without one (a row the skill wrote): one past the highest before it. */
  index: number;
}

/** One row (without its `\n`) under a header already validated by parseLedgerText. */
export function parseRowLine(line: string, columns: readonly string[], where: RowLocation): LedgerRow {
  return parseRow(line, columns, where).row;
}

/** The fewest fields a row of ours ever had (commit … agent, before cost_usd and tokens). */
const OUR_NARROWEST_ROW = 9;
/** What we write in the timestamp column (6th field of every layout of ours): ISO 8601 UTC, or nothing. */
const OUR_TIMESTAMP = /^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)?$/;

/**
 * A row the skill wrote: every row of a 4-column file; in a wider file, a row of exactly 4
 * fields, or one whose field count is not the header's and that does not have the shape of
 * a row of ours (at least 9 fields, an iteration number 5th, a timestamp or nothing 6th): a
 * description the skill split with tabs, such as `lr<TAB>5`. Our rows always have every column.
 */
function isSkillRow(fields: readonly string[], columns: readonly string[]): boolean {
  if (columns.length === SEED_COLUMNS.length || fields.length === SEED_COLUMNS.length) return true;
  return fields.length > SEED_COLUMNS.length && fields.length !== columns.length && !hasOurShape(fields);
}

function hasOurShape(fields: readonly string[]): boolean {
  return fields.length >= OUR_NARROWEST_ROW && /^\d+$/.test(fields[SEED_COLUMNS.length] ?? '') && OUR_TIMESTAMP.test(fields[SEED_COLUMNS.length + 1] ?? '');
}

/** One row, and whether the skill wrote it (then a line that does not parse after it continues its description). */
export function parseRow(line: string, columns: readonly string[], where: RowLocation): { row: LedgerRow; fromSkill: boolean } {
  let fields = line.split('\t');
  if (fields.length >= SEED_COLUMNS.length && isSkillRow(fields, columns)) {
    // The skill writes descriptions unsanitised: extra fields can only be pieces of the
    // description. Joined with a space, as we would have written it; our columns are empty.
    fields = [...fields.slice(0, 3), fields.slice(3).join(' ')];
    const row: LedgerRow = {
      commit: fields[0] ?? '',
      metric: parseMetric(fields[1] ?? '', where),
      status: parseStatus(fields[2] ?? '', where),
      description: fields[3] ?? '',
      iteration: where.index,
      timestamp: null,
      durationS: null,
      reason: null,
      agent: null,
      ...(columns.includes('cost_usd') ? { costUsd: null } : {}),
      ...(columns.includes('tokens_in') ? { tokensIn: null } : {}),
      ...(columns.includes('tokens_out') ? { tokensOut: null } : {}),
      ...(columns.includes('detail') ? { detail: null } : {}),
      ...(columns.includes('samples') ? { evidence: null } : {}),
    };
    return { row, fromSkill: true };
  }
  if (fields.length !== columns.length) {
    throw corrupt(where, `expected ${columns.length} tab-separated fields (${columns.join(', ')}), found ${fields.length}: ${show(line)}`);
  }
  const field = (name: string): string | undefined => {
    const i = columns.indexOf(name);
    return i < 0 ? undefined : fields[i];
  };
  const text = (name: string): string | null => {
    const value = field(name);
    return value === undefined || value === '' ? null : value;
  };

  const row: LedgerRow = {
    commit: field('commit') ?? '',
    metric: parseMetric(field('metric') ?? '', where),
    status: parseStatus(field('status') ?? '', where),
    description: field('description') ?? '',
    iteration: parseIteration(field('iteration'), where),
    timestamp: text('timestamp'),
    durationS: parseDuration(field('duration_s'), where),
    reason: text('reason'),
    agent: text('agent'),
    // Only ledgers that have these columns carry them (older ones are upgraded on open).
    ...(columns.includes('cost_usd') ? { costUsd: parseOptionalNumber(field('cost_usd'), 'cost_usd', where) } : {}),
    ...(columns.includes('tokens_in') ? { tokensIn: parseOptionalNumber(field('tokens_in'), 'tokens_in', where) } : {}),
    ...(columns.includes('tokens_out') ? { tokensOut: parseOptionalNumber(field('tokens_out'), 'tokens_out', where) } : {}),
    ...(columns.includes('detail') ? { detail: text('detail') } : {}),
    ...(columns.includes('samples') ? { evidence: parseEvidence(field, where) } : {}),
    ...guardsOf(columns, fields),
  };
  return { row, fromSkill: false };
}

/** The evidence columns: all empty is no evidence; otherwise `samples` says how many evaluations. */
function parseEvidence(field: (name: string) => string | undefined, where: RowLocation): Evidence | null {
  const [samples, mean, spread, pValue] = EVIDENCE_COLUMNS.map((name) => field(name) ?? '');
  if (samples === '' && mean === '' && spread === '' && pValue === '') return null;
  if (samples === '' || !/^\d+$/.test(samples ?? '')) throw corrupt(where, `column samples: expected a count of evaluations${samples === '' ? ' (mean, spread or p_value is set)' : ''}, found ${show(samples ?? '')}`);
  const p = parseOptionalNumber(pValue, 'p_value', where);
  if (p !== null && p > 1) throw corrupt(where, `column p_value: expected a number from 0 to 1 or nothing, found ${show(pValue ?? '')}`);
  return {
    samples: Number(samples),
    mean: mean === '' ? null : parseMetricLike(mean ?? '', 'mean', where),
    spread: parseOptionalNumber(spread, 'spread', where),
    pValue: p,
  };
}

/**
 * The guard columns' values: a number, or N/A (the metric was not found). An empty field says
 * nothing (a row written before the column); anything else is another tool's text, left alone.
 */
function guardsOf(columns: readonly string[], fields: readonly string[]): Pick<LedgerRow, 'guards'> {
  const names = guardColumnsOf(columns);
  if (names.length === 0) return {};
  const guards: Record<string, number | null> = {};
  names.forEach((name, i) => {
    const value = fields[columns.length - names.length + i] ?? '';
    if (value === 'N/A') guards[name] = null;
    else if (NUMBER.test(value) && Number.isFinite(Number(value))) guards[name] = Number(value);
  });
  return { guards };
}

function parseOptionalNumber(value: string | undefined, column: string, where: RowLocation): number | null {
  if (value === undefined || value === '') return null;
  const n = NUMBER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n < 0) throw corrupt(where, `column ${column}: expected a non-negative number or nothing, found ${show(value)}`);
  return n;
}

function parseMetric(value: string, where: RowLocation): number | null {
  return parseMetricLike(value, 'metric', where);
}

function parseMetricLike(value: string, column: string, where: RowLocation): number | null {
  if (value === 'N/A' || PYTHON_NON_FINITE.test(value)) return null;
  const n = NUMBER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw corrupt(where, `column ${column}: expected a number or N/A, found ${show(value)}`);
  return n;
}

function parseStatus(value: string, where: RowLocation): RowStatus {
  if (!STATUSES.includes(value)) throw corrupt(where, `column status: expected keep, discard or crash, found ${show(value)}`);
  return value as RowStatus;
}

function parseIteration(value: string | undefined, where: RowLocation): number {
  if (value === undefined) return where.index; // seed files have no iteration column
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw corrupt(where, `column iteration: expected a non-negative integer, found ${show(value)}`);
  return n;
}

function parseDuration(value: string | undefined, where: RowLocation): number | null {
  if (value === undefined || value === '') return null;
  const n = NUMBER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n < 0) throw corrupt(where, `column duration_s: expected a non-negative number of seconds or nothing, found ${show(value)}`);
  return n;
}

function corrupt(where: RowLocation, detail: string): AutoresearchError {
  return new AutoresearchError('LEDGER_CORRUPT', `${where.file}:${where.line}: ${detail}`);
}

/** Quoted, with tabs visible, and short enough for one log line. */
function show(value: string): string {
  return JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value);
}
