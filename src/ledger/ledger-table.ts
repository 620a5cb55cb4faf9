/**
 * Ledger rows → what `results` exports: string cells for csv/markdown, typed objects for json,
 * a narrower table for the terminal. Pure. The cells are exactly the fields results.tsv holds
 * (formatRow), so every format says what the ledger says: metric %.6f or N/A, one-line text.
 * The terminal table is for reading: see ledgerTerminalTable.
 */
import type { Table } from './export-formats.js';
import { ANSI } from './export-formats.js';
import type { Evidence } from '../decision/types.js';
import { formatPValue, formatRow, oneLine } from './tsv-format.js';
import { formatMetric } from '../core/improvement.js';
import { shortLocalDateTime, zoneName } from '../core/local-time.js';
import { rowWhy } from './row-why.js';
import { LEDGER_COLUMNS, type LedgerRow } from './types.js';

export type LedgerColumn = (typeof LEDGER_COLUMNS)[number];
export type JsonValue = string | number | null;

const NUMERIC: ReadonlySet<string> = new Set<LedgerColumn>(['metric', 'iteration', 'duration_s', 'cost_usd', 'tokens_in', 'tokens_out', 'samples', 'mean', 'spread', 'p_value']);
const OPTIONAL_TEXT: ReadonlySet<string> = new Set<LedgerColumn>(['timestamp', 'reason', 'agent', 'detail']);

/** Our fixed columns, then the ledger's guard columns (tsv guardColumnsOf): every export the same shape. */
export function exportColumns(guards: readonly string[] = []): string[] {
  return [...LEDGER_COLUMNS, ...guards];
}

/** The row's fields as results.tsv writes them, in exportColumns order. */
export function ledgerCells(row: LedgerRow, guards: readonly string[] = []): string[] {
  return formatRow(row, exportColumns(guards)).slice(0, -1).split('\t');
}

export function ledgerTable(rows: readonly LedgerRow[], guards: readonly string[] = []): Table {
  return { columns: exportColumns(guards), rows: rows.map((row) => ledgerCells(row, guards)) };
}

/**
 * One row for json, keyed by column name: numbers as numbers, N/A and empty fields as null
 * (a guard column holds numbers). Built from the cells, not the row, so json can never say
 * more than csv does.
 */
export function ledgerObject(row: LedgerRow, guards: readonly string[] = []): Record<string, JsonValue> {
  const cells = ledgerCells(row, guards);
  return Object.fromEntries(exportColumns(guards).map((column, i) => [column, typedCell(column, cells[i] ?? '', guards)]));
}

function typedCell(column: string, cell: string, guards: readonly string[]): JsonValue {
  if (NUMERIC.has(column)) return cell === '' || cell === 'N/A' ? null : Number(cell);
  // A guard value; a column another tool added after ours may hold text: kept as text.
  if (guards.includes(column)) return cell === '' || cell === 'N/A' ? null : Number.isFinite(Number(cell)) ? Number(cell) : cell;
  if (OPTIONAL_TEXT.has(column)) return cell === '' ? null : cell;
  return cell;
}

/**
 * The terminal table: what a person scans, in 80 columns. REASON holds the reason code; the
 * why in words (rowWhy) goes on its own line under a crash, a discard or a suspicious keep, so
 * no column has to be cut to show it, and so does the evidence of a row measured more than once. Times in the local zone (named in the header when every
 * row shares it), metrics without trailing zeros. Duration, agent, cost and tokens are in
 * csv/markdown/json and `report`.
 */
export function ledgerTerminalTable(rows: readonly LedgerRow[]): Table {
  const times = rows.map((row) => (row.timestamp === null ? null : Date.parse(row.timestamp)));
  const zones = new Set(times.filter((t): t is number => t !== null && Number.isFinite(t)).map(zoneName));
  const oneZone = zones.size === 1 ? [...zones][0] : null;
  const started = (t: number | null) => (t === null || !Number.isFinite(t) ? '-' : oneZone !== null ? shortLocalDateTime(t) : `${shortLocalDateTime(t)} ${zoneName(t)}`);
  return {
    columns: TERMINAL_HEADERS.map((h) => (h === 'STARTED' && oneZone !== null ? `STARTED ${oneZone}` : h)),
    rows: rows.map((row, i) => [
      String(row.iteration),
      row.commit,
      formatMetric(row.metric),
      row.status,
      row.reason ?? '-',
      started(times[i] ?? null),
      oneLine(row.description),
    ]),
    notes: rows.map((row) => {
      const said = [row.detail ? oneLine(rowWhy(row)) : '', evidenceText(row.evidence)].filter(Boolean).join('; ');
      return said === '' ? null : said;
    }),
  };
}

/**
 * How a row measured with repeats was decided, for the note under it (one sample says nothing
 * more than the metric): `5 samples, mean 0.9512 ± 0.0031, p 0.004`.
 */
export function evidenceText(evidence: Evidence | null | undefined): string {
  if (evidence === null || evidence === undefined || evidence.samples <= 1) return '';
  const spread = evidence.spread === null ? '' : ` ± ${formatMetric(evidence.spread)}`;
  const p = evidence.pValue === null ? '' : `, p ${formatPValue(evidence.pValue)}`;
  return `${evidence.samples} samples, mean ${formatMetric(evidence.mean)}${spread}${p}`;
}

const TERMINAL_HEADERS = ['ITER', 'COMMIT', 'METRIC', 'STATUS', 'REASON', 'STARTED', 'DESCRIPTION'] as const;

/** What gives way when the table is wider than the terminal: the description first, then the reason code. */
export const LEDGER_TERMINAL_SHRINK = [
  { column: TERMINAL_HEADERS.indexOf('DESCRIPTION'), min: 20 },
  { column: TERMINAL_HEADERS.indexOf('REASON'), min: 12 },
] as const;

/** keep green, discard dim, crash red. */
export function statusColor(status: LedgerRow['status']): string {
  return status === 'keep' ? ANSI.green : status === 'crash' ? ANSI.red : ANSI.dim;
}

