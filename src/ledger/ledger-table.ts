/**
 * Ledger rows → what `results` exports: string cells for csv/markdown, typed objects for json,
 * a narrower table for the terminal. Pure. The cells are exactly the fields results.tsv holds
 * (formatRow), so every format says what the ledger says: metric %.6f or N/A, one-line text.
 */
import type { Table } from './export-formats.js';
import { ANSI } from './export-formats.js';
import { formatRow } from './tsv-format.js';
import { LEDGER_COLUMNS, type LedgerRow } from './types.js';

export type LedgerColumn = (typeof LEDGER_COLUMNS)[number];
export type JsonValue = string | number | null;

const NUMERIC: ReadonlySet<string> = new Set<LedgerColumn>(['metric', 'iteration', 'duration_s', 'cost_usd', 'tokens_in', 'tokens_out']);
const OPTIONAL_TEXT: ReadonlySet<string> = new Set<LedgerColumn>(['timestamp', 'reason', 'agent', 'detail']);

/** The row's fields as results.tsv writes them, in LEDGER_COLUMNS order (every ledger the same shape). */
export function ledgerCells(row: LedgerRow): string[] {
  return formatRow(row, LEDGER_COLUMNS).slice(0, -1).split('\t');
}

export function ledgerTable(rows: readonly LedgerRow[]): Table {
  return { columns: LEDGER_COLUMNS, rows: rows.map(ledgerCells) };
}

/**
 * One row for json, keyed by column name: numbers as numbers, N/A and empty fields as null.
 * Built from the cells, not the row, so json can never say more than csv does.
 */
export function ledgerObject(row: LedgerRow): Record<LedgerColumn, JsonValue> {
  const cells = ledgerCells(row);
  return Object.fromEntries(LEDGER_COLUMNS.map((column, i) => [column, typedCell(column, cells[i] ?? '')])) as Record<LedgerColumn, JsonValue>;
}

function typedCell(column: string, cell: string): JsonValue {
  if (NUMERIC.has(column)) return cell === '' || cell === 'N/A' ? null : Number(cell);
  if (OPTIONAL_TEXT.has(column)) return cell === '' ? null : cell;
  return cell;
}

/** Terminal columns: header → ledger column. Optional ones are shown only when some row has a value. */
const TERMINAL_COLUMNS: readonly { header: string; column: LedgerColumn; optional: boolean }[] = [
  { header: 'ITER', column: 'iteration', optional: false },
  { header: 'COMMIT', column: 'commit', optional: false },
  { header: 'METRIC', column: 'metric', optional: false },
  { header: 'STATUS', column: 'status', optional: false },
  { header: 'REASON', column: 'reason', optional: true },
  { header: 'STARTED', column: 'timestamp', optional: true },
  { header: 'SECONDS', column: 'duration_s', optional: true },
  { header: 'AGENT', column: 'agent', optional: true },
  { header: 'COST_USD', column: 'cost_usd', optional: true },
  { header: 'TOKENS_IN', column: 'tokens_in', optional: true },
  { header: 'TOKENS_OUT', column: 'tokens_out', optional: true },
  { header: 'DESCRIPTION', column: 'description', optional: false },
];

export function ledgerTerminalTable(rows: readonly LedgerRow[]): Table {
  const cells = rows.map(ledgerCells);
  const at = (column: LedgerColumn) => LEDGER_COLUMNS.indexOf(column);
  // A seed-written ledger has no timestamps, agents or costs: empty columns only take width.
  const shown = TERMINAL_COLUMNS.filter((c) => !c.optional || cells.some((r) => (r[at(c.column)] ?? '') !== '' || (c.column === 'reason' && (r[at('detail')] ?? '') !== '')));
  return {
    columns: shown.map((c) => c.header),
    rows: cells.map((r) =>
      shown.map((c) => {
        // The why in words starts with the reason code (`eval_exit 1: SyntaxError: …`): shown in its place.
        const why = c.column === 'reason' ? (r[at('detail')] ?? '') : '';
        const cell = why !== '' ? why : (r[at(c.column)] ?? '');
        return c.column === 'timestamp' ? shortTimestamp(cell) : cell === '' ? '-' : cell;
      }),
    ),
  };
}

/** keep green, discard dim, crash red. */
export function statusColor(status: LedgerRow['status']): string {
  return status === 'keep' ? ANSI.green : status === 'crash' ? ANSI.red : ANSI.dim;
}

/** `2026-03-08T14:12:05.123Z` → `2026-03-08 14:12:05Z`: the milliseconds are noise in a table. */
export function shortTimestamp(iso: string): string {
  if (iso === '') return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
