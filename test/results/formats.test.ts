/**
 * `results <id> --format terminal|csv|markdown|json [-o FILE]` through the built CLI, on
 * fixture ledgers: ours (commas, quotes, pipes, backslashes, unicode, N/A rows, costs) and one
 * written by the Python skill (4 columns, N/A and nan metrics, a tab inside a description).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { cliEnv } from '../helpers/project.js';
import { ANSI, toTerminal } from '../../src/ledger/export-formats.js';
import { ledgerTerminalTable, statusColor } from '../../src/ledger/ledger-table.js';
import { formatRow, parseLedgerText } from '../../src/ledger/tsv-format.js';
import { LEDGER_COLUMNS, type LedgerRow } from '../../src/ledger/types.js';
import { CONFIG, fixture, makeResultsProject, normalise, parseCsv, parseMarkdownTable, rowsFromRecords } from './helpers.js';

const env = cliEnv({ TZ: 'Europe/Paris' }); // the terminal table shows local times, the zone named
let root: string;
const expected: Record<string, LedgerRow[]> = {};

beforeAll(async () => {
  const ours = await fixture('autoresearch.tsv');
  const seed = await fixture('python-skill.tsv');
  root = await makeResultsProject({ 'ml/train': { config: CONFIG.lowerLoss, results: ours }, 'python/skill': { config: CONFIG.pythonSkill, results: seed } });
  expected['ml/train'] = normalise(parseLedgerText(ours, 'autoresearch.tsv').rows);
  expected['python/skill'] = normalise(parseLedgerText(seed, 'python-skill.tsv').rows);
});

const results = (...args: string[]) => runCli(['--path', root, 'results', ...args], { env });

describe.each(['ml/train', 'python/skill'])('results %s', (id) => {
  it('csv (RFC 4180) parses back to the same rows', async () => {
    const r = await results(id, '--format', 'csv');
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const records = parseCsv(r.stdout + '\n'); // execa strips the final newline
    expect(records[0]).toEqual([...LEDGER_COLUMNS]);
    expect(rowsFromRecords(records, 'csv')).toEqual(expected[id]);
  });

  it('markdown parses back to the same rows', async () => {
    const r = await results(id, '--format', 'markdown');
    expect(r.exitCode).toBe(0);
    expect(rowsFromRecords(parseMarkdownTable(r.stdout), 'markdown')).toEqual(expected[id]);
  });

  it('json is an array of typed row objects that are the same rows', async () => {
    const r = await results(id, '--format', 'json');
    expect(r.exitCode).toBe(0);
    const objects = JSON.parse(r.stdout) as Record<string, unknown>[];
    for (const o of objects) {
      expect(Object.keys(o)).toEqual([...LEDGER_COLUMNS]);
      expect(typeof o.iteration).toBe('number');
      expect(o.metric === null || typeof o.metric === 'number').toBe(true);
      for (const key of ['duration_s', 'cost_usd', 'tokens_in', 'tokens_out']) expect(o[key] === null || typeof o[key] === 'number').toBe(true);
      for (const key of ['timestamp', 'reason', 'agent', 'detail']) expect(o[key] === null || typeof o[key] === 'string').toBe(true);
    }
    const rows = objects.map(
      (o): LedgerRow => ({
        commit: o.commit as string,
        metric: o.metric as number | null,
        status: o.status as LedgerRow['status'],
        description: o.description as string,
        iteration: o.iteration as number,
        timestamp: o.timestamp as string | null,
        durationS: o.duration_s as number | null,
        reason: o.reason as string | null,
        agent: o.agent as string | null,
        costUsd: o.cost_usd as number | null,
        tokensIn: o.tokens_in as number | null,
        tokensOut: o.tokens_out as number | null,
        detail: o.detail as string | null,
        evidence: o.samples === null ? null : { samples: o.samples as number, mean: o.mean as number | null, spread: o.spread as number | null, pValue: o.p_value as number | null },
      }),
    );
    expect(rows).toEqual(expected[id]);
  });
});

describe('results <id>, what the formats look like', () => {
  it('quotes and escapes what needs it, and only that', async () => {
    const csv = (await results('ml/train', '--format', 'csv')).stdout;
    expect(csv).toContain('\r\n2b3c4d5,0.905000,keep,"lr warmup 500 -> 1000, ""cosine"" decay",1,');
    expect(csv).toContain(',switch to bf16 | fused adam,2,'); // a pipe is nothing special in csv
    const md = (await results('ml/train', '--format', 'markdown')).stdout;
    expect(md.split('\n')[0]).toBe(`| ${LEDGER_COLUMNS.join(' | ')} |`);
    expect(md).toContain('| switch to bf16 \\| fused adam |');
    expect(md).toContain('| C:\\\\tmp\\\\ path, a backslash before a pipe \\\\\\| here |');
    const seed = JSON.parse((await results('python/skill', '--format', 'json')).stdout) as Record<string, unknown>[];
    // The seed's nan is "no metric"; its rows have no iteration column: their index is it.
    expect(seed.map((o) => [o.iteration, o.metric, o.status])).toEqual([
      [0, 10, 'keep'],
      [1, null, 'crash'],
      [2, 12, 'discard'],
      [3, 8.5, 'keep'],
      [4, null, 'crash'],
      [5, null, 'crash'],
      [6, 7.25, 'keep'],
    ]);
  });

  it('terminal: an aligned table in 80 columns, plain when stdout is not a terminal, with a summary', async () => {
    const r = await results('ml/train');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toContain('\x1b');
    const lines = r.stdout.split('\n');
    const header = lines[0] ?? '';
    expect(header).toMatch(/^ITER +COMMIT +METRIC +STATUS +REASON +STARTED CET +DESCRIPTION$/);
    const statusAt = header.indexOf('STATUS');
    const descriptionAt = header.indexOf('DESCRIPTION');
    for (const [i, row] of expected['ml/train']!.entries()) {
      const line = lines[i + 1] ?? '';
      expect(line.length).toBeLessThanOrEqual(80);
      expect(line.slice(statusAt)).toMatch(new RegExp(`^${row.status} `));
      // Whole, or cut short with … (never another column dropped).
      const shown = line.slice(descriptionAt);
      expect(shown === row.description || (shown.endsWith('…') && row.description.startsWith(shown.slice(0, -1)))).toBe(true);
    }
    expect(lines[1]).toMatch(/^0 +1a2b3c4 +0\.912345 +keep +baseline +03-08 15:12 +baseline \(unmodif\S*…$/);
    expect(r.stdout).toMatch(/\nml\/train: 7 experiments \+ baseline: 2 keep, 3 discard, 2 crash\nbest loss 0\.89999 at iteration 5; baseline 0\.912345 \(\+1\.35% vs baseline\)$/);

    // A seed ledger has no timestamps or reasons: those cells say `-`.
    const seed = await results('python/skill');
    expect(seed.stdout.split('\n')[0]).toMatch(/^ITER +COMMIT +METRIC +STATUS +REASON +STARTED +DESCRIPTION$/);
    expect(seed.stdout).toMatch(/python\/skill: 6 experiments \+ baseline: 2 keep, 1 discard, 3 crash/);
    expect(seed.stdout).toMatch(/best score 7\.25 at iteration 6; baseline 10 \(\+27\.50% vs baseline\)/);
  });

  it('terminal colours rows by status (keep green, discard dim, crash red) when asked to', () => {
    const rows = expected['ml/train']!;
    const text = toTerminal(ledgerTerminalTable(rows), { color: true, rowColor: (i) => statusColor(rows[i]!.status) });
    const lines = text.trimEnd().split('\n');
    expect(lines[0]?.startsWith(ANSI.bold)).toBe(true);
    const codes = { keep: ANSI.green, discard: ANSI.dim, crash: ANSI.red };
    rows.forEach((row, i) => {
      expect(lines[i + 1]?.startsWith(codes[row.status])).toBe(true);
      expect(lines[i + 1]?.endsWith(ANSI.reset)).toBe(true);
    });
    // Padding is computed on the plain text: without the codes, it is the uncoloured table.
    expect(text.replace(/\x1b\[\d+m/g, '')).toBe(toTerminal(ledgerTerminalTable(rows), { color: false }));
  });

  it('-o FILE writes exactly what stdout would have shown, atomically, and says so', async () => {
    const outDir = await makeTempDir('ar-results-out-');
    const file = path.join(outDir, 'train.csv');
    await fs.writeFile(file, 'an older export\n');
    const r = await runCli(['--path', root, 'results', 'ml/train', '--format', 'csv', '-o', file], { env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`wrote 8 rows (csv) to ${file}`);
    const stdout = (await results('ml/train', '--format', 'csv')).stdout;
    expect(await fs.readFile(file, 'utf8')).toBe(stdout + '\r\n');
    expect(await fs.readdir(outDir)).toEqual(['train.csv']); // no temp file left behind

    const terminal = path.join(outDir, 'train.txt');
    expect((await runCli(['--path', root, 'results', 'ml/train', '-o', terminal], { env })).exitCode).toBe(0);
    expect(await fs.readFile(terminal, 'utf8')).not.toContain('\x1b');

    const missing = await runCli(['--path', root, 'results', 'ml/train', '-o', path.join(outDir, 'no-such-dir', 'x.csv')], { env });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/-o .*no-such-dir\/x\.csv: expected an existing directory .*no-such-dir, found none/);
  });

  it('an empty ledger: a header only (csv, markdown), [] (json), a sentence (terminal)', async () => {
    const empty = await makeResultsProject({ 'ml/new': { config: CONFIG.lowerLoss } });
    const run = (...args: string[]) => runCli(['--path', empty, 'results', 'ml/new', ...args], { env });
    expect((await run('--format', 'csv')).stdout).toBe(LEDGER_COLUMNS.join(','));
    expect(parseMarkdownTable((await run('--format', 'markdown')).stdout)).toEqual([[...LEDGER_COLUMNS]]);
    expect(JSON.parse((await run('--format', 'json')).stdout)).toEqual([]);
    expect((await run()).stdout).toBe('ml/new: no results yet');
  });

  it('a corrupt ledger: exit 1 naming file:line, and pointing at --rebuild', async () => {
    const broken = await makeResultsProject({ 'ml/broken': { config: CONFIG.lowerLoss, results: (await fixture('autoresearch.tsv')).replace('0.905000', 'fast') } });
    const r = await runCli(['--path', broken, 'results', 'ml/broken', '--format', 'json'], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/results\.tsv:3: column metric: expected a number or N\/A, found "fast"; `autoresearch results ml\/broken --rebuild` regenerates it/);
  });

  it('a torn last line is left alone (not shown, not repaired) and noted on stderr', async () => {
    const text = (await fixture('autoresearch.tsv')) + '8b9c0d1\t0.8';
    const torn = await makeResultsProject({ 'ml/torn': { config: CONFIG.lowerLoss, results: text } });
    const r = await runCli(['--path', torn, 'results', 'ml/torn', '--format', 'csv'], { env });
    expect(r.exitCode).toBe(0);
    expect(rowsFromRecords(parseCsv(r.stdout + '\n'), 'csv')).toEqual(expected['ml/train']);
    expect(r.stderr).toMatch(/note: .*results\.tsv ends in an unterminated line/);
    expect(await fs.readFile(path.join(torn, '.autoresearch/ml/torn/results.tsv'), 'utf8')).toBe(text);
  });

  it('bad input: an unknown id names the ids that exist; a bad format or two selectors say what is wrong', async () => {
    const unknown = await results('ml/trian');
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/experiment ml\/trian: .*existing experiments: ml\/train, python\/skill \(did you mean `ml\/train`\?\)/);
    const format = await results('ml/train', '--format', 'xml');
    expect(format.exitCode).toBe(1);
    expect(format.stderr).toMatch(/--format: expected one of terminal, csv, markdown, json, found `xml`/);
    const both = await results('ml/train', '--all');
    expect(both.exitCode).toBe(1);
    expect(both.stderr).toMatch(/expected one of <id>, --domain D or --all, found <id> \(ml\/train\) and --all/);
  });
});

describe('results <id>: evidence and guard columns (issue 11)', () => {
  const columns = [...LEDGER_COLUMNS, 'memory_gb'];
  const at = (minute: number) => `2026-03-08T14:${String(minute).padStart(2, '0')}:00.000Z`;
  const base = { timestamp: null, durationS: 60, agent: 'claude', costUsd: null, tokensIn: null, tokensOut: null, detail: null } as const;
  const rows: LedgerRow[] = [
    { ...base, commit: 'a000000', metric: 0.96, status: 'keep', description: 'baseline', iteration: 0, timestamp: at(0), reason: 'baseline', agent: null, evidence: { samples: 3, mean: 0.96, spread: 0.0041, pValue: null }, guards: { memory_gb: 38 } },
    { ...base, commit: 'a000001', metric: 0.9512, status: 'keep', description: 'rope theta', iteration: 1, timestamp: at(5), reason: 'improved', evidence: { samples: 5, mean: 0.9512, spread: 0.0031, pValue: 0.004 }, guards: { memory_gb: 39.5 } },
    { ...base, commit: 'a000002', metric: 0.958, status: 'discard', description: 'wider mlp', iteration: 2, timestamp: at(10), reason: 'within_noise', detail: 'within_noise: 0.958 vs best 0.9512 is within the noise', evidence: { samples: 2, mean: 0.958, spread: 0.002, pValue: 0.41 }, guards: { memory_gb: null } },
    { ...base, commit: 'a000003', metric: 0.97, status: 'discard', description: 'bigger batch', iteration: 3, timestamp: at(15), reason: 'no_improvement', evidence: { samples: 1, mean: 0.97, spread: null, pValue: null }, guards: { memory_gb: 41 } },
  ];
  let evidenceRoot: string;
  beforeAll(async () => {
    evidenceRoot = await makeResultsProject({ 'ml/noisy': { config: CONFIG.lowerLoss, results: `${columns.join('\t')}\n${rows.map((r) => formatRow(r, columns)).join('')}` } });
  });
  const noisy = (...args: string[]) => runCli(['--path', evidenceRoot, 'results', 'ml/noisy', ...args], { env });

  it('terminal: the evidence of a row measured more than once goes on the line under it, within 80 columns', async () => {
    const r = await noisy();
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(lines[1]).toMatch(/^0 +a000000 +0\.96 +keep +baseline/);
    expect(lines[2]).toBe('      ↳ 3 samples, mean 0.96 ± 0.0041');
    expect(lines[3]).toMatch(/^1 +a000001 +0\.9512 +keep +improved/);
    expect(lines[4]).toBe('      ↳ 5 samples, mean 0.9512 ± 0.0031, p 0.004');
    expect(lines[6]).toBe('      ↳ within_noise: 0.958 vs best 0.9512 is within the noise; 2 samples, mean');
    expect(lines[7]).toBe('        0.958 ± 0.002, p 0.41');
    expect(lines[8]).toMatch(/^3 +a000003 +0\.97 +discard +no_improvement/); // one sample: nothing under it
    expect(lines[9]).toBe('');
  });

  it('csv, markdown and json carry samples, mean, spread, p_value and the guard column', async () => {
    const csv = parseCsv((await noisy('--format', 'csv')).stdout + '\n');
    expect(csv[0]).toEqual(columns);
    expect(csv[2]?.slice(-5)).toEqual(['5', '0.951200', '0.003100', '0.004', '39.500000']);
    expect(rowsFromRecords(csv, 'csv')).toEqual(rows);
    expect(rowsFromRecords(parseMarkdownTable((await noisy('--format', 'markdown')).stdout), 'markdown')).toEqual(rows);
    const json = JSON.parse((await noisy('--format', 'json')).stdout) as Record<string, unknown>[];
    expect(Object.keys(json[0] ?? {})).toEqual(columns);
    expect(json.map((o) => [o.samples, o.mean, o.spread, o.p_value, o.memory_gb])).toEqual([
      [3, 0.96, 0.0041, null, 38],
      [5, 0.9512, 0.0031, 0.004, 39.5],
      [2, 0.958, 0.002, 0.41, null],
      [1, 0.97, null, null, 41],
    ]);
  });
});
