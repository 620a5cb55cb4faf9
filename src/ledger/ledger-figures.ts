/**
 * The figures `status` and `results --all` show of a ledger (counts, best, baseline, last
 * activity, the trailing crash streak), computed line by line without keeping rows (issue 13):
 * a thousand ledgers of a thousand rows are read in well under a second and in constant memory.
 * Pure: the caller feeds the text in pieces of whole lines (scan-ledger-file.ts reads the file).
 *
 * The answers are exactly those of `summarizeRows(parseLedgerText(text).rows)` (the test
 * ledger-figures.test.ts compares both on edge cases and on random ledgers), including the
 * error of a corrupt ledger. A line of the usual shape (a row of ours with every field well
 * formed, or a seed row) is read in place, field boundaries only; any other line (a skill row
 * in a wider file, an exponent, a sign, evidence columns, a bad field) goes through
 * tsv-format.ts parseRow, the same code as the full read, so the rules live in one place.
 */
import { AutoresearchError } from '../core/errors.js';
import type { LedgerDigest } from '../experiment/ledger-digest.js';
import { isResetRow, isRevalidationRow, KeepChain, reasonCode } from './keep-chain.js';
import { isBaselineRow } from './summary.js';
import { SEED_COLUMNS, type LedgerRow, type RowStatus } from './types.js';
import { parseHeader, parseRow } from './tsv-format.js';

/** The digest state.json keeps (experiment/ledger-digest.ts), without its file size, plus the trailing crash streak. */
export type LedgerFigures = Omit<LedgerDigest, 'experiments' | 'ledgerBytes'> & {
  /** What max_experiments counts (summary.ts countsAsExperiment). */
  experiments: number;
  /** Crash rows at the end of the ledger. */
  consecutiveCrashes: number;
};

export const NO_FIGURES: Readonly<LedgerFigures> = Object.freeze({ iterations: 0, experiments: 0, keeps: 0, discards: 0, crashes: 0, best: null, baseline: null, lastTimestamp: null, consecutiveCrashes: 0 });

/** How a field of a row of ours is checked in place (other columns are text); anything unusual goes to parseRow. */
const enum Field {
  Metric,
  Status,
  Iteration,
  /** duration_s, cost_usd, tokens_in, tokens_out: empty or a non-negative decimal. */
  OptionalAmount,
  /** samples, mean, spread, p_value: empty here (evidence goes to parseRow). */
  Evidence,
}

const FIELD_OF: Readonly<Record<string, Field>> = {
  metric: Field.Metric,
  status: Field.Status,
  iteration: Field.Iteration,
  duration_s: Field.OptionalAmount,
  cost_usd: Field.OptionalAmount,
  tokens_in: Field.OptionalAmount,
  tokens_out: Field.OptionalAmount,
  samples: Field.Evidence,
  mean: Field.Evidence,
  spread: Field.Evidence,
  p_value: Field.Evidence,
};

const CR = 13;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
/** Longer decimals may overflow to Infinity (rejected by parseRow): leave them to it. */
const MAX_DECIMAL = 300;

const STATUS_NONE = 0;
const STATUS_KEEP = 1;
const STATUS_DISCARD = 2;
const STATUS_CRASH = 3;

/**
 * Reads one ledger's text, fed in pieces of whole lines. The best is the top of the keep
 * chain (keep-chain.ts); without `keepChain` it is taken to be the last keep, which it is
 * unless a reset or revalidation row undid keeps: then `needsKeepChain` says so, and the
 * caller reads the ledger again with `keepChain` (rare; the chain costs an object per keep).
 */
export class LedgerFigureScanner {
  private columns: string[] | null = null;
  /** The columns whose fields are checked in place (the others are text), and how. */
  private checkAt = new Int32Array(0);
  private checkKind: Field[] = [];
  private iterationAt = -1;
  private timestampAt = -1;
  private reasonAt = -1;
  private lineNo = 0;
  private atStart = true;

  // Field boundaries of the line being read (fast path).
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);

  // What parseRow's caller (tsv-format.ts readRows) tracks.
  private next = 0;
  private lastFromSkill = false;

  // The figures so far. Metrics as read (a string from the fast path, made a number at the end).
  private iterations = 0;
  private experiments = 0;
  private keeps = 0;
  private discards = 0;
  private crashes = 0;
  private trailingCrashes = 0;
  private firstKeepMetric: number | string | null = null;
  private lastBaselineMetric: number | string | null = null;
  private lastKeepMetric: number | string | null = null;
  private lastTimestamp: string | null = null;
  /** Where the last row's timestamp is in the piece being read (null: lastTimestamp says it). */
  private timestampText: string | null = null;
  private timestampStart = 0;
  private timestampEnd = 0;
  private readonly chain: KeepChain | null;
  private undoes = false;

  constructor(
    private readonly file: string,
    opts: { keepChain?: boolean } = {},
  ) {
    this.chain = opts.keepChain === true ? new KeepChain() : null;
  }

  /** A reset or revalidation row was read without the keep chain: the best is not known. */
  get needsKeepChain(): boolean {
    return this.chain === null && this.undoes;
  }

  /**
   * The next piece of the file: whole lines, each ending in `\n` (the torn tail of a crash
   * is never fed). Throws the located LEDGER_CORRUPT the full read would throw.
   */
  push(text: string): void {
    let s = 0;
    if (this.atStart) {
      this.atStart = false;
      if (text.charCodeAt(0) === 0xfeff) s = 1; // a UTF-8 BOM (an editor's)
    }
    const length = text.length;
    while (s < length) {
      let e = text.indexOf('\n', s);
      if (e < 0) e = length; // the caller feeds whole lines; defensively, the rest is one
      this.line(text, s, e);
      s = e + 1;
    }
    if (this.timestampText !== null) {
      this.lastTimestamp = this.timestampText.slice(this.timestampStart, this.timestampEnd);
      this.timestampText = null;
    }
  }

  figures(): LedgerFigures {
    const best = this.chain === null ? numberOf(this.lastKeepMetric) : (this.chain.best?.metric ?? null);
    return {
      iterations: this.iterations,
      experiments: this.experiments,
      keeps: this.keeps,
      discards: this.discards,
      crashes: this.crashes,
      best,
      baseline: numberOf(this.lastBaselineMetric ?? this.firstKeepMetric),
      lastTimestamp: this.lastTimestamp,
      consecutiveCrashes: this.trailingCrashes,
    };
  }

  private line(text: string, s: number, end: number): void {
    this.lineNo++;
    let e = end;
    if (e > s && text.charCodeAt(e - 1) === CR) e--; // a Windows line end (parseLedgerText)
    if (this.columns === null) {
      this.header(text.slice(s, e));
      return;
    }
    if (e > s && text.charCodeAt(e - 1) === CR) e--; // readRows strips one more
    if (e === s) return;
    const first = text.charCodeAt(s);
    if ((first <= 32 || first >= 0xa0) && text.slice(s, e).trim() === '') return; // a blank line carries no row
    const fast = this.columns.length === SEED_COLUMNS.length ? this.seedRow(text, s, e) : this.ourRow(text, s, e);
    if (!fast) this.slowRow(text.slice(s, e));
  }

  private header(line: string): void {
    const columns = parseHeader(line, this.file);
    this.columns = columns;
    const checked = columns.flatMap((name, i) => (FIELD_OF[name] === undefined ? [] : [i]));
    this.checkAt = Int32Array.from(checked);
    this.checkKind = checked.map((i) => FIELD_OF[columns[i] as string] as Field);
    this.iterationAt = columns.indexOf('iteration');
    this.timestampAt = columns.indexOf('timestamp');
    this.reasonAt = columns.indexOf('reason');
    if (columns.length > this.starts.length) {
      this.starts = new Int32Array(columns.length);
      this.ends = new Int32Array(columns.length);
    }
  }

  /** A row of ours, every field as we write it; false: leave the line to parseRow. */
  private ourRow(text: string, s: number, e: number): boolean {
    const n = (this.columns as string[]).length;
    const starts = this.starts;
    const ends = this.ends;
    let k = 0;
    starts[0] = s;
    for (let pos = s; ; ) {
      const t = text.indexOf('\t', pos);
      if (t < 0 || t >= e) break;
      ends[k] = t;
      if (++k >= n) return false; // more fields than columns
      starts[k] = t + 1;
      pos = t + 1;
    }
    ends[k] = e;
    if (k + 1 !== n) return false;

    let status = STATUS_NONE;
    let metricKind = 0; // 0: N/A, 1: a number
    const checkAt = this.checkAt;
    const checkKind = this.checkKind;
    for (let c = 0; c < checkAt.length; c++) {
      const i = checkAt[c] as number;
      const a = starts[i] as number;
      const b = ends[i] as number;
      switch (checkKind[c]) {
        case Field.Metric:
          metricKind = metricShape(text, a, b);
          if (metricKind < 0) return false;
          break;
        case Field.Status:
          status = statusOf(text, a, b);
          if (status === STATUS_NONE) return false;
          break;
        case Field.Iteration:
          if (b === a || b - a > 15 || !allDigits(text, a, b)) return false;
          break;
        case Field.OptionalAmount:
          if (b !== a && !isDecimal(text, a, b)) return false;
          break;
        case Field.Evidence:
          if (b !== a) return false;
          break;
      }
    }

    const iteration = this.iterationAt < 0 ? this.next : digitsValue(text, starts[this.iterationAt] as number, ends[this.iterationAt] as number);
    const rs = this.reasonAt < 0 ? 0 : (starts[this.reasonAt] as number);
    const re = this.reasonAt < 0 ? 0 : (ends[this.reasonAt] as number);
    const ds = starts[3] as number;
    const de = ends[3] as number;
    const reset = re - rs === 5 && text.startsWith('reset', rs);
    // summary.ts isBaselineRow, in place.
    const baseline =
      (re - rs === 8 && text.startsWith('baseline', rs)) ||
      (rs === re && de - ds >= 8 && text.startsWith('baseline', ds)) ||
      (de - ds === 8 && text.startsWith('baseline', ds));
    let revalidation = false;
    let reason: string | null = reset ? 'reset' : null;
    if (re - rs >= REVALIDATION.length) {
      // Short reasons (improved, no_improvement, eval_exit…) cannot hold it: no string made for them.
      const whole = text.slice(rs, re);
      if (whole.includes(REVALIDATION)) {
        reason = whole;
        revalidation = reasonCode(whole) === REVALIDATION;
      }
    }
    const metric = status === STATUS_KEEP && metricKind === 1 ? text.slice(starts[1] as number, ends[1] as number) : null;
    let chainRow: LedgerRow | null = null;
    if (this.chain !== null && (metric !== null || revalidation)) {
      chainRow = {
        commit: text.slice(starts[0] as number, ends[0] as number),
        metric: metricKind === 1 ? Number(text.slice(starts[1] as number, ends[1] as number)) : null,
        status: STATUS_NAMES[status] as RowStatus,
        description: reset ? text.slice(ds, de) : '',
        iteration,
        timestamp: null,
        durationS: null,
        reason: reason ?? (rs === re ? null : text.slice(rs, re)),
        agent: null,
      };
    }
    this.count(status, iteration, baseline, reset, revalidation, metric, chainRow, null, false);
    // The timestamp is only wanted of the last row: its place is noted, the string made at the end of the piece.
    if (this.timestampAt >= 0 && starts[this.timestampAt] !== ends[this.timestampAt]) {
      this.timestampText = text;
      this.timestampStart = starts[this.timestampAt] as number;
      this.timestampEnd = ends[this.timestampAt] as number;
    }
    return true;
  }

  /** A row of the seed's 4-column file: commit, metric, status, then the description (tabs and all). */
  private seedRow(text: string, s: number, e: number): boolean {
    const t1 = text.indexOf('\t', s);
    if (t1 < 0 || t1 >= e) return false;
    const t2 = text.indexOf('\t', t1 + 1);
    if (t2 < 0 || t2 >= e) return false;
    const t3 = text.indexOf('\t', t2 + 1);
    if (t3 < 0 || t3 >= e) return false;
    const metricKind = metricShape(text, t1 + 1, t2);
    if (metricKind < 0) return false;
    const status = statusOf(text, t2 + 1, t3);
    if (status === STATUS_NONE) return false;
    // A seed row has no reason: a baseline says so in its description (tabs become spaces, which 'baseline' has none of).
    const baseline = e - (t3 + 1) >= 8 && text.startsWith('baseline', t3 + 1);
    const iteration = this.next;
    const metric = status === STATUS_KEEP && metricKind === 1 ? text.slice(t1 + 1, t2) : null;
    const chainRow: LedgerRow | null =
      this.chain !== null && metric !== null
        ? { commit: text.slice(s, t1), metric: Number(metric), status: 'keep', description: '', iteration, timestamp: null, durationS: null, reason: null, agent: null }
        : null;
    this.count(status, iteration, baseline, false, false, metric, chainRow, null, true);
    return true;
  }

  /** Any other line, read by the full parser (tsv-format.ts readRows, line by line). */
  private slowRow(line: string): void {
    const columns = this.columns as string[];
    let parsed: { row: LedgerRow; fromSkill: boolean };
    try {
      parsed = parseRow(line, columns, { file: this.file, line: this.lineNo, index: this.next });
    } catch (error) {
      // After a row the skill wrote, a line that does not parse continues its description
      // (nothing here depends on the end of a description).
      if (error instanceof AutoresearchError && this.iterations > 0 && this.lastFromSkill) return;
      throw error;
    }
    const row = parsed.row;
    const status = row.status === 'keep' ? STATUS_KEEP : row.status === 'discard' ? STATUS_DISCARD : STATUS_CRASH;
    const revalidation = isRevalidationRow(row);
    const metric = row.status === 'keep' ? row.metric : null;
    const chainRow = this.chain !== null && (metric !== null || revalidation) ? row : null;
    this.count(status, row.iteration, isBaselineRow(row), isResetRow(row), revalidation, metric, chainRow, row.timestamp, parsed.fromSkill);
  }

  /**
   * One row, as summary.ts summarizeRows counts it. `metric`: a keep's metric (null: not a
   * keep, or N/A); `chainRow` (with the keep chain): a keep with a metric, or a revalidation row.
   */
  private count(status: number, iteration: number, baseline: boolean, reset: boolean, revalidation: boolean, metric: number | string | null, chainRow: LedgerRow | null, timestamp: string | null, fromSkill: boolean): void {
    this.iterations++;
    if (!baseline && !reset && !revalidation) this.experiments++;
    if (status === STATUS_KEEP) this.keeps++;
    else if (status === STATUS_DISCARD) {
      if (!revalidation) this.discards++;
    } else this.crashes++;
    this.trailingCrashes = status === STATUS_CRASH ? this.trailingCrashes + 1 : 0;
    if (metric !== null) {
      this.firstKeepMetric ??= metric;
      if (baseline) this.lastBaselineMetric = metric;
      this.lastKeepMetric = metric;
    }
    if (reset || revalidation) this.undoes = true;
    if (chainRow !== null) this.chain?.add(chainRow);
    this.lastTimestamp = timestamp;
    this.timestampText = null;
    this.lastFromSkill = fromSkill;
    this.next = Math.max(this.next, iteration + 1);
  }
}

/** A metric as read: the fast path keeps the field's text (Number() of it is what parseRow gives). */
function numberOf(metric: number | string | null): number | null {
  return typeof metric === 'string' ? Number(metric) : metric;
}

const STATUS_NAMES = ['', 'keep', 'discard', 'crash'];
const REVALIDATION = 'revalidation_failed';

function statusOf(text: string, a: number, b: number): number {
  const n = b - a;
  if (n === 4 && text.startsWith('keep', a)) return STATUS_KEEP;
  if (n === 7 && text.startsWith('discard', a)) return STATUS_DISCARD;
  if (n === 5 && text.startsWith('crash', a)) return STATUS_CRASH;
  return STATUS_NONE;
}

/** 0: N/A; 1: a plain decimal, signed or not; -1: anything else (nan, inf, exponents, bad text: parseRow decides). */
function metricShape(text: string, a: number, b: number): number {
  if (b - a === 3 && text.startsWith('N/A', a)) return 0;
  const c = text.charCodeAt(a);
  const from = c === 45 || c === 43 ? a + 1 : a; // - or +
  return isDecimal(text, from, b) ? 1 : -1;
}

/** `\d+(\.\d*)?` or `\.\d+`, short enough to be finite: what tsv-format.ts NUMBER accepts without a sign or exponent. */
function isDecimal(text: string, a: number, b: number): boolean {
  if (b <= a || b - a > MAX_DECIMAL) return false;
  let digits = 0;
  let dot = false;
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c >= ZERO && c <= NINE) digits++;
    else if (c === DOT && !dot) dot = true;
    else return false;
  }
  return digits > 0;
}

function allDigits(text: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) return false;
  }
  return true;
}

/** At most 15 digits: a safe integer. */
function digitsValue(text: string, a: number, b: number): number {
  let n = 0;
  for (let i = a; i < b; i++) n = n * 10 + (text.charCodeAt(i) - ZERO);
  return n;
}
