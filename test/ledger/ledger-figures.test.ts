/**
 * The streaming figures (ledger-figures.ts, scan-ledger-file.ts) must say exactly what the
 * full read says (parseLedgerText + summarizeRows): on every edge case of the format, on
 * random ledgers, whatever the chunk boundaries, and the same error for a corrupt ledger.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorMessage } from '../../src/core/errors.js';
import { NO_FIGURES, type LedgerFigures } from '../../src/ledger/ledger-figures.js';
import { scanLedgerFile } from '../../src/ledger/scan-ledger-file.js';
import { summarizeRows } from '../../src/ledger/summary.js';
import { formatRow, parseLedgerText } from '../../src/ledger/tsv-format.js';
import { LEDGER_COLUMNS, type LedgerRow } from '../../src/ledger/types.js';
import { row } from '../helpers/ledger-row.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-figures-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

const OURS = `${LEDGER_COLUMNS.join('\t')}\n`;
const SEED = 'commit\tmetric\tstatus\tdescription\n';
const V9 = 'commit\tmetric\tstatus\tdescription\titeration\ttimestamp\tduration_s\treason\tagent\n';

type Outcome = { figures: LedgerFigures } | { error: string };

/** What the full read says: every row parsed, then summarized. */
function fullRead(file: string): Outcome {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  try {
    const rows = parseLedgerText(text, file).rows;
    const s = summarizeRows(rows, 'lower');
    return {
      figures: {
        iterations: s.iterations,
        experiments: s.experiments,
        keeps: s.keeps,
        discards: s.discards,
        crashes: s.crashes,
        best: s.best,
        baseline: s.baseline,
        lastTimestamp: rows.at(-1)?.timestamp ?? null,
        consecutiveCrashes: s.consecutiveCrashes,
      },
    };
  } catch (error) {
    return { error: errorMessage(error) };
  }
}

function streamed(file: string, chunkBytes?: number): Outcome {
  try {
    return { figures: scanLedgerFile(file, chunkBytes === undefined ? {} : { chunkBytes }).figures };
  } catch (error) {
    return { error: errorMessage(error) };
  }
}

/** The ledger `text` read both ways, in chunks of several sizes (boundaries inside lines and UTF-8 sequences): the same answer. */
async function expectSame(text: string | Buffer): Promise<Outcome> {
  const file = path.join(dir, `results-${n++}.tsv`);
  fs.writeFileSync(file, text);
  const expected = fullRead(file);
  for (const chunk of [undefined, 1, 5, 64]) expect(streamed(file, chunk), `chunk ${chunk ?? 'default'}`).toEqual(expected);
  return expected;
}

const ours = (...rows: LedgerRow[]) => OURS + rows.map((r) => formatRow(r, LEDGER_COLUMNS)).join('');
const base = row();
const keep = (iteration: number, metric: number, extra: Partial<LedgerRow> = {}) => row({ iteration, metric, description: `idea ${iteration}`, reason: 'improved', commit: `c${iteration}00000`, ...extra });
const discard = (iteration: number, metric: number | null = 0.9) => row({ iteration, metric, status: 'discard', description: `idea ${iteration}`, reason: 'no_improvement', commit: `d${iteration}00000` });
const crash = (iteration: number) => row({ iteration, metric: null, status: 'crash', description: `idea ${iteration}`, reason: 'eval_exit', commit: `e${iteration}00000` });

describe('ledger figures: the streaming read says what the full read says', () => {
  it('a plain run: counts, best, baseline, last activity, the trailing crash streak', async () => {
    const outcome = await expectSame(ours(base, discard(1), keep(2, 0.4), crash(3), keep(4, 0.3), crash(5), crash(6)));
    expect(outcome).toEqual({ figures: { iterations: 7, experiments: 6, keeps: 3, discards: 1, crashes: 3, best: 0.3, baseline: 0.5, lastTimestamp: base.timestamp, consecutiveCrashes: 2 } });
  });

  it('no file, an empty file, a header alone, a header without its line break', async () => {
    expect(streamed(path.join(dir, 'missing.tsv'))).toEqual({ figures: NO_FIGURES });
    await expectSame('');
    await expectSame(OURS);
    await expectSame(OURS.slice(0, -1));
    await expectSame('\n\n');
  });

  it('N/A metrics, nan and inf from the seed, signed and exponent metrics', async () => {
    const lines = [formatRow(base, LEDGER_COLUMNS), formatRow(keep(1, 0.4), LEDGER_COLUMNS).replace('0.400000', 'N/A'), formatRow(keep(2, 0.3), LEDGER_COLUMNS).replace('0.300000', '-nan')];
    lines.push(formatRow(keep(3, 0.2), LEDGER_COLUMNS).replace('0.200000', '2e-1'), formatRow(keep(4, 0.1), LEDGER_COLUMNS).replace('0.100000', '+.1'), formatRow(keep(5, -3), LEDGER_COLUMNS));
    lines.push(formatRow(keep(6, 1), LEDGER_COLUMNS).replace('1.000000', 'inf'), formatRow(discard(7, null), LEDGER_COLUMNS));
    const outcome = await expectSame(OURS + lines.join(''));
    expect(outcome).toMatchObject({ figures: { best: -3, keeps: 7 } });
  });

  it('a torn last line (a crash mid-write) is not a row, however it is cut', async () => {
    const text = ours(base, keep(1, 0.4), keep(2, 0.3));
    for (const cut of [1, 2, 10, 40, text.length - OURS.length - 80]) await expectSame(text.slice(0, -cut));
  });

  it('Windows line ends (one or two carriage returns), a BOM, blank and whitespace lines', async () => {
    const text = ours(base, keep(1, 0.4), crash(2));
    await expectSame(text.replaceAll('\n', '\r\n'));
    await expectSame(OURS + text.slice(OURS.length).replaceAll('\n', '\r\r\n'));
    await expectSame(`\uFEFF${text}`);
    const lines = text.split('\n');
    lines.splice(2, 0, '', '   ', '\t', '\u00a0', '\r');
    await expectSame(lines.join('\n'));
  });

  it("the seed's 4 columns: tabs in descriptions, continuation lines, nan, its baseline by description", async () => {
    const outcome = await expectSame(`${SEED}a1\t1.000000\tkeep\tbaseline run\nb2\t0.900000\tkeep\tlr\t5\tand more\nc3\tN/A\tcrash\toops\nspilled line of a description\nd4\tnan\tdiscard\tx\n\ne5\t0.800000\tkeep\tbaseline again\n`);
    expect(outcome).toMatchObject({ figures: { iterations: 5, experiments: 3, baseline: 0.8, best: 0.8, lastTimestamp: null } });
    // No baseline row at all: the first keep with a metric is the baseline.
    expect(await expectSame(`${SEED}a1\tN/A\tkeep\tfirst\nb2\t0.900000\tkeep\tsecond\nc3\t0.800000\tkeep\tthird\n`)).toMatchObject({ figures: { baseline: 0.9, best: 0.8 } });
  });

  it('older prefixes of our header (5 and 9 columns), and seed columns followed by columns of another tool', async () => {
    await expectSame('commit\tmetric\tstatus\tdescription\titeration\na\t1.0\tkeep\tbaseline\t0\nb\t0.5\tkeep\tx\t1\nc\tN/A\tcrash\ty\t7\nd\t0.1\tkeep\tskill row\n');
    await expectSame(`${V9}a\t1.0\tkeep\tbaseline\t0\t2025-01-01T00:00:00Z\t1.0\tbaseline\tcommand\nb\t0.5\tdiscard\tx\t1\t\t\tno_improvement\t\n`);
    // No reason: a description starting with `baseline` makes a baseline.
    const noReason = await expectSame(`${V9}a\t1.0\tkeep\tbaseline run\t0\t\t\t\t\nb\t0.5\tkeep\tbaseline 2\t1\t\t\t\t\nc\t0.4\tkeep\tbaselin\t2\t\t\t\t\n`);
    expect(noReason).toMatchObject({ figures: { experiments: 1, baseline: 0.5, best: 0.4 } });
    await expectSame(`${SEED.slice(0, -1)}\tgpu\tnotes\na\t1.0\tkeep\tbaseline\tA100\tfine\nb\t0.5\tkeep\tx\t\t\nc\t0.4\tkeep\ty\n`);
  });

  it('guard columns after ours (values, N/A, text of another tool) and evidence columns', async () => {
    const header = `${LEDGER_COLUMNS.join('\t')}\tval_acc\tmemory\n`;
    const g = (r: LedgerRow) => formatRow({ ...r, guards: { val_acc: 0.9, memory: null } }, [...LEDGER_COLUMNS, 'val_acc', 'memory']);
    const evidence = formatRow({ ...keep(3, 0.2), evidence: { samples: 3, mean: 0.21, spread: 0.01, pValue: 0.004 }, guards: {} }, [...LEDGER_COLUMNS, 'val_acc', 'memory']);
    await expectSame(header + g(base) + g(keep(1, 0.4)) + g(crash(2)) + evidence + g(keep(4, 0.1)).replace('\tN/A\n', '\tlots\n'));
  });

  it("a skill row appended to our ledger, and its description's spilled lines", async () => {
    await expectSame(`${ours(base, keep(1, 0.4))}f6\t0.300000\tkeep\tskill idea\twith a tab\nand a spilled line\n${formatRow(crash(9), LEDGER_COLUMNS)}x7\t0.2\tdiscard\tbaseline-ish\n`);
  });

  it('reset, revalidation and rebase rows: the best is the top of the keep chain', async () => {
    const resetRow = row({ iteration: 5, metric: 0.4, description: 'reset to iteration 1 (undoes keeps 2, 3)', reason: 'reset', commit: 'c100000' });
    const revalidation = row({ iteration: 7, metric: 0.45, status: 'discard', description: 'revalidation: keeps 6 did not reproduce', reason: 'revalidation_failed: 0.45 vs 0.2', commit: 'c600000' });
    const rebase = row({ iteration: 8, metric: 0.6, description: 'baseline (rebased)', reason: 'baseline', commit: 'f800000' });
    const outcome = await expectSame(ours(base, keep(1, 0.4), keep(2, 0.3), keep(3, 0.2), discard(4), resetRow, keep(6, 0.2), revalidation));
    expect(outcome).toMatchObject({ figures: { best: 0.4, experiments: 5, discards: 1 } });
    expect(await expectSame(ours(base, keep(1, 0.4), rebase, keep(9, 0.55)))).toMatchObject({ figures: { baseline: 0.6, best: 0.55 } });
    await expectSame(ours(base, keep(1, 0.4), row({ ...revalidation, reason: ' revalidation_failed' }), row({ ...revalidation, reason: 'revalidation_failedx' })));
  });

  it('a corrupt ledger: the same located error', async () => {
    const good = ours(base, keep(1, 0.4));
    const outcomes = [
      await expectSame(`${good}${formatRow(keep(2, 0.3), LEDGER_COLUMNS).replace('\tkeep\t', '\tkept\t')}`),
      await expectSame(`${good}${formatRow(keep(2, 0.3), LEDGER_COLUMNS).replace('0.300000', '0.3.0')}`),
      await expectSame(`${good}${formatRow(keep(2, 0.3), LEDGER_COLUMNS).replace('\t2\t', '\t12345678901234567890\t')}`),
      await expectSame(`${good}${formatRow(keep(2, 0.3), LEDGER_COLUMNS).replace('\t12.3\t', '\t-1\t')}`),
      await expectSame(`${good}${formatRow(keep(2, 0.3), LEDGER_COLUMNS).replace('\t12.3\t', '\t1e999\t')}`),
      await expectSame(`${good}${formatRow(keep(2, 0.3), LEDGER_COLUMNS).slice(0, -1)}\textra\n`),
      await expectSame(`${good}\nnot a row\n`),
      await expectSame('commit\tmetric\n'),
      await expectSame('commit\tmetric\tstatus\tdescription\tcommit\n'),
      await expectSame(`${SEED}a\t1.0\tkeep\tb\nnot a row\n`.replace('keep', 'KEEP')),
    ];
    for (const outcome of outcomes) expect(outcome).toMatchObject({ error: expect.stringMatching(/results-\d+\.tsv:\d+: /) });
  });

  it('UTF-8 descriptions across chunk boundaries, and a line longer than the chunk', async () => {
    await expectSame(ours(base, keep(1, 0.4, { description: 'ümläut ☃ 漢字 🎉'.repeat(30) }), keep(2, 0.3, { description: 'x'.repeat(5000) }), discard(3)));
  });

  it('random ledgers, some mangled: the same answer every time', async () => {
    let seed = 13;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    for (let ledger = 0; ledger < 60; ledger++) {
      const lines: string[] = [];
      const seedFormat = random() < 0.2;
      for (let i = 0; i < 40; i++) {
        const status = pick(['keep', 'discard', 'crash'] as const);
        const reason = i === 0 ? 'baseline' : pick(['improved', 'no_improvement', 'eval_exit', 'reset', 'revalidation_failed', 'baseline', 'within_noise: x', null]);
        const metric = status === 'crash' || random() < 0.1 ? null : Math.round(random() * 1e6) / 1e3 - 100;
        const description = reason === 'reset' ? `reset to iteration ${Math.floor(random() * i)} (x)` : pick(['baseline', 'idea', 'baseline v2', 'tab\tinside', '']);
        const r = row({ iteration: i, status, reason, metric, description, commit: pick(['aaa1111', 'bbb2222', 'ccc3333', 'aaa1']), timestamp: random() < 0.2 ? null : base.timestamp });
        let line = seedFormat ? `${r.commit}\t${metric === null ? 'N/A' : metric.toFixed(6)}\t${status}\t${r.description}\n` : formatRow(r, LEDGER_COLUMNS);
        const mangle = random();
        if (mangle < 0.03) line = line.replace(/\t/, '  '); // a bad line (or a continuation after a skill row)
        else if (mangle < 0.08) line = `${r.commit}\t${metric ?? 'N/A'}\t${status}\tskill\trow\n`;
        else if (mangle < 0.1) line = line.replace('\n', '\r\n');
        else if (mangle < 0.12) line = `\n${line}`;
        lines.push(line);
      }
      let text = (seedFormat ? SEED : OURS) + lines.join('');
      if (random() < 0.2) text = text.slice(0, -Math.floor(random() * 30) - 1);
      await expectSame(text);
    }
  });
});
