/**
 * A table of already-formatted string cells → text: csv (RFC 4180), markdown (a GFM pipe
 * table), json (typed objects, built by the caller) and an aligned terminal table. Pure.
 * Each machine format reads back to exactly the cells it was given (test/results/).
 */

export type ExportFormat = 'terminal' | 'csv' | 'markdown' | 'json';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['terminal', 'csv', 'markdown', 'json'];

export interface Table {
  columns: readonly string[];
  rows: readonly (readonly string[])[];
}

// ----------------------------------------------------------------------- csv

/**
 * RFC 4180: CRLF after every record, a field quoted when it holds a comma, a double quote, CR
 * or LF (quotes doubled inside). Leading/trailing spaces are quoted too: some readers trim them.
 */
export function toCsv(table: Table): string {
  return [table.columns, ...table.rows].map((record) => record.map(csvField).join(',') + '\r\n').join('');
}

function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

// ------------------------------------------------------------------ markdown

/**
 * A GFM pipe table. `|` is escaped as `\|`; a backslash is doubled first, or a cell ending in
 * `\` would escape the next delimiter (GFM reads `\\|` as an escaped backslash, then a pipe).
 */
export function toMarkdown(table: Table): string {
  const line = (cells: readonly string[]) => `| ${cells.map(markdownCell).join(' | ')} |\n`;
  return line(table.columns) + line(table.columns.map(() => '---')) + table.rows.map(line).join('');
}

function markdownCell(value: string): string {
  // Cells are single lines already (the ledger's own rule); a stray line break would end the row.
  return value.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replace(/[\r\n]+/g, ' ');
}

// ------------------------------------------------------------------ terminal

export const ANSI = {
  reset: '\x1b[0m',
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
} as const;

export interface TerminalOptions {
  /** ANSI colours (only for a TTY: a file or a pipe gets plain text). */
  color: boolean;
  /** The colour of row `i`, or null for none. */
  rowColor?: (i: number) => string | null;
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function toTerminal(table: Table, opts: TerminalOptions): string {
  const all = [table.columns, ...table.rows];
  const widths = table.columns.map((_, c) => Math.max(...all.map((r) => displayWidth(r[c] ?? ''))));
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell + ' '.repeat((widths[c] ?? 0) - displayWidth(cell))))
      .join('  ')
      .trimEnd();
  let text = '';
  const paint = (line: string, code: string | null | undefined) => (opts.color && code ? `${code}${line}${ANSI.reset}` : line);
  text += paint(render(table.columns), ANSI.bold) + '\n';
  table.rows.forEach((row, i) => (text += paint(render(row), opts.rowColor?.(i)) + '\n'));
  return text;
}

/** Code points, not UTF-16 units: closer to what a terminal shows (wide CJK and emoji still count as one). */
function displayWidth(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
