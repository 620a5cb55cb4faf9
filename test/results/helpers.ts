/**
 * Readers written independently of src/ledger/export-formats.ts, so that "parses back to the
 * same rows" is checked against the formats' definitions, not against our own writer.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, writeFiles } from '../helpers/git-repo.js';
import { parseRowLine } from '../../src/ledger/tsv-format.js';
import type { LedgerRow } from '../../src/ledger/types.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/ledgers');

/** RFC 4180: records end in CRLF (LF accepted), quoted fields may hold , " CR LF, "" is a quote. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"') {
      if (field !== '') throw new Error(`csv: a quote inside an unquoted field at offset ${i}`);
      quoted = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new Error('csv: an unterminated quoted field');
  if (field !== '' || record.length > 0) throw new Error('csv: the last record does not end in a line break');
  return records;
}

/** A GFM pipe table: the first line is the header, the second the delimiter row. `\x` is a literal x. */
export function parseMarkdownTable(text: string): string[][] {
  const lines = text.split('\n').filter((l) => l !== '');
  const [header, delimiter, ...body] = lines;
  if (header === undefined || delimiter === undefined || !/^\|( ?:?-+:? ?\|)+$/.test(delimiter)) throw new Error(`markdown: expected a header and a delimiter row, found ${JSON.stringify(lines.slice(0, 2))}`);
  return [header, ...body].map((line) => {
    if (!line.startsWith('|') || !line.endsWith('|')) throw new Error(`markdown: expected a row between pipes, found ${JSON.stringify(line)}`);
    const cells: string[] = [];
    let cell = '';
    for (let i = 1; i < line.length; i++) {
      const c = line[i] as string;
      if (c === '\\' && i + 1 < line.length) {
        cell += line[++i];
      } else if (c === '|') {
        cells.push(cell.trim());
        cell = '';
      } else {
        cell += c;
      }
    }
    return cells;
  });
}

/** A header plus string records → LedgerRows, read with the ledger's own field rules. */
export function rowsFromRecords(records: string[][], source: string): LedgerRow[] {
  const [columns, ...data] = records;
  if (columns === undefined) throw new Error(`${source}: no header`);
  return data.map((fields, i) => parseRowLine(fields.join('\t'), columns, { file: source, line: i + 2, index: i }));
}

/** Rows compared across ledgers of any vintage: absent cost, detail and evidence columns read as null. */
export function normalise(rows: readonly LedgerRow[]): LedgerRow[] {
  return rows.map((r) => ({ ...r, costUsd: r.costUsd ?? null, tokensIn: r.tokensIn ?? null, tokensOut: r.tokensOut ?? null, detail: r.detail ?? null, evidence: r.evidence ?? null }));
}

/** A project root (no git needed for `results`) holding experiments with these configs and ledgers. */
export async function makeResultsProject(experiments: Record<string, { config: string; results?: string }>): Promise<string> {
  const root = await makeTempDir('ar-results-');
  for (const [id, files] of Object.entries(experiments)) {
    const dir = path.join('.autoresearch', ...id.split('/'));
    await writeFiles(root, { [path.join(dir, 'config.cfg')]: files.config, ...(files.results === undefined ? {} : { [path.join(dir, 'results.tsv')]: files.results }) });
  }
  return root;
}

export function fixture(name: string): Promise<string> {
  return fs.readFile(path.join(FIXTURES, name), 'utf8');
}

/** Configs as `init` and the Python skill write them. */
export const CONFIG = {
  lowerLoss: 'target: train.py\nevaluate_cmd: python train.py\nmetric: loss\nmetric_direction: lower\ntime_budget: 5m\nagent: claude\n',
  pythonSkill: 'target: value.txt\nevaluate_cmd: sh evaluate.sh\nmetric: score\nmetric_direction: lower\nmetric_grep: ^score:\ntime_budget_minutes: 0.5\ncreated: 2026-03-08 14:12\n',
};
