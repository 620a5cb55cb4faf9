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
  /** The terminal only: a line printed under row i (e.g. why it crashed), wrapped to the width. */
  notes?: readonly (string | null)[];
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
  /** Fit the table in this many columns by truncating the `shrink` columns (with …); none: as wide as it takes. */
  width?: number;
  /** Columns that may be truncated, each down to `min` characters before any goes below it. */
  shrink?: readonly { column: number; min: number }[];
}

/** A truncated column never gets narrower than this, even when the table still does not fit. */
const FLOOR = 4;

/**
 * Columns padded to their widest cell, two spaces apart; the last column is not padded. With a
 * width, the shrinkable columns (descriptions, reasons) are truncated until the table fits:
 * columns are never dropped.
 */
export function toTerminal(table: Table, opts: TerminalOptions): string {
  const all = [table.columns, ...table.rows];
  const widths = table.columns.map((_, c) => Math.max(...all.map((r) => displayWidth(r[c] ?? ''))));
  if (opts.width !== undefined) fitWidths(widths, opts.width, opts.shrink ?? []);
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, c) => {
        const fitted = truncate(cell, widths[c] ?? 0);
        return c === cells.length - 1 ? fitted : fitted + ' '.repeat(Math.max(0, (widths[c] ?? 0) - displayWidth(fitted)));
      })
      .join('  ')
      .trimEnd();
  let text = '';
  const paint = (line: string, code: string | null | undefined) => (opts.color && code ? `${code}${line}${ANSI.reset}` : line);
  text += paint(render(table.columns), ANSI.bold) + '\n';
  table.rows.forEach((row, i) => {
    text += paint(render(row), opts.rowColor?.(i)) + '\n';
    const note = table.notes?.[i];
    if (note) for (const line of noteLines(note, opts.width)) text += line + '\n';
  });
  return text;
}

const NOTE_INDENT = '      ↳ ';
const NOTE_MAX_LINES = 3;

/** A note under a row, indented, wrapped at the width (at most NOTE_MAX_LINES lines: the last one cut with …). */
function noteLines(note: string, width: number | undefined): string[] {
  const room = Math.max(20, (width ?? Infinity) - NOTE_INDENT.length);
  const lines: string[] = [];
  let rest = [...note];
  while (rest.length > 0 && lines.length < NOTE_MAX_LINES) {
    // Break after the last space that fits, else mid-word.
    const space = rest.length <= room ? rest.length : rest.lastIndexOf(' ', room);
    const cut = space > room / 2 ? space : Math.min(room, rest.length);
    lines.push(rest.slice(0, cut).join('').trimEnd());
    rest = rest.slice(cut);
    while (rest[0] === ' ') rest = rest.slice(1);
  }
  if (rest.length > 0) lines[lines.length - 1] = truncate(`${lines[lines.length - 1] ?? ''} ${rest.join('')}`, room);
  return lines.map((line, i) => (i === 0 ? NOTE_INDENT : ' '.repeat(NOTE_INDENT.length)) + line);
}

/** Narrows the widest shrinkable column, one character at a time: first down to each one's min, then to FLOOR. */
function fitWidths(widths: number[], width: number, shrink: readonly { column: number; min: number }[]): void {
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * Math.max(0, widths.length - 1);
  for (const floor of [(s: { min: number }) => s.min, () => FLOOR]) {
    while (total() > width) {
      let widest: number | null = null;
      for (const s of shrink) {
        const w = widths[s.column] ?? 0;
        if (w > Math.max(floor(s), FLOOR) && (widest === null || w > (widths[widest] ?? 0))) widest = s.column;
      }
      if (widest === null) break;
      widths[widest] = (widths[widest] ?? 0) - 1;
    }
  }
}

/** `a long description` → `a long descr…` when it is wider than `width`. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  return [...text].slice(0, Math.max(0, width - 1)).join('') + '…';
}

/** The width to fit a table for the terminal in: the terminal's own, else 80 (a pipe, a file, CI). */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return stream.isTTY === true && typeof stream.columns === 'number' && stream.columns > 0 ? stream.columns : 80;
}

/** Code points, not UTF-16 units: closer to what a terminal shows (wide CJK and emoji still count as one). */
function displayWidth(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
