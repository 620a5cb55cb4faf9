import { describe, expect, it } from 'vitest';
import { AutoresearchError } from '../../src/core/errors.js';
import { formatRow, parseLedgerText } from '../../src/ledger/tsv-format.js';
import { LEDGER_COLUMNS, SEED_COLUMNS } from '../../src/ledger/types.js';
import { row } from '../helpers/ledger-row.js';

const FILE = '/exp/results.tsv';
/** Pinned byte for byte: a change to LEDGER_COLUMNS must show up here. */
const HEADER = 'commit\tmetric\tstatus\tdescription\titeration\ttimestamp\tduration_s\treason\tagent\tcost_usd\ttokens_in\ttokens_out\tdetail\tsamples\tmean\tspread\tp_value\n';
/** The header of the previous version, before cost_usd, tokens_in, tokens_out. */
const V9_HEADER = 'commit\tmetric\tstatus\tdescription\titeration\ttimestamp\tduration_s\treason\tagent\n';


function corruptMessage(text: string): string {
  try {
    parseLedgerText(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(AutoresearchError);
    expect((error as AutoresearchError).code).toBe('LEDGER_CORRUPT');
    return (error as Error).message;
  }
  throw new Error('expected LEDGER_CORRUPT, but the text parsed');
}

describe('LEDGER_COLUMNS', () => {
  it('is the header we pin, with the cost and token columns after agent', () => {
    expect(`${LEDGER_COLUMNS.join('\t')}\n`).toBe(HEADER);
  });
});

describe('formatRow', () => {
  it('writes every column in the given order, ending in a newline', () => {
    expect(formatRow(row({ metric: 0.9979, durationS: 301.26, costUsd: 0.0123456789, tokensIn: 15234, tokensOut: 872 }), LEDGER_COLUMNS)).toBe(
      'abc1234\t0.997900\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t301.3\tbaseline\tcommand\t0.012346\t15234\t872\t\t\t\t\t\n',
    );
    expect(formatRow(row({ metric: 0.9979, durationS: 301.26 }), LEDGER_COLUMNS)).toBe(
      'abc1234\t0.997900\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t301.3\tbaseline\tcommand\t\t\t\t\t\t\t\t\n',
    );
    expect(formatRow(row(), ['agent', 'description', 'commit', 'hypothesis', 'metric'])).toBe('command\tbaseline\tabc1234\t\t0.500000\n');
  });

  it('writes N/A for no metric and empty fields for nulls', () => {
    const crash = row({ metric: null, status: 'crash', description: 'exit 1', iteration: 7, timestamp: null, durationS: null, reason: null, agent: null });
    expect(formatRow(crash, LEDGER_COLUMNS)).toBe('abc1234\tN/A\tcrash\texit 1\t7\t\t\t\t\t\t\t\t\t\t\t\t\n');
    // A row built without the optional cost and detail fields (older callers) writes them empty too.
    const { costUsd: _c, tokensIn: _i, tokensOut: _o, detail: _d, ...withoutCost } = row();
    expect(formatRow(withoutCost, LEDGER_COLUMNS)).toBe('abc1234\t0.500000\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t12.3\tbaseline\tcommand\t\t\t\t\t\t\t\t\n');
  });

  it('writes detail last, on one line', () => {
    const crash = row({ metric: null, status: 'crash', reason: 'eval_exit', detail: "eval_exit 1: SyntaxError: expected ':'\t(train.py:41)\n" });
    expect(formatRow(crash, LEDGER_COLUMNS)).toMatch(/\teval_exit\tcommand\t\t\t\teval_exit 1: SyntaxError: expected ':' \(train\.py:41\)\t\t\t\t\n$/);
  });

  it('writes cost_usd as %.6f and tokens as integers, each empty when null', () => {
    const columns = ['cost_usd', 'tokens_in', 'tokens_out'];
    expect(formatRow(row({ costUsd: 0.0123456789, tokensIn: 15234, tokensOut: 872 }), columns)).toBe('0.012346\t15234\t872\n');
    expect(formatRow(row({ costUsd: 0, tokensIn: 0, tokensOut: 0 }), columns)).toBe('0.000000\t0\t0\n');
    expect(formatRow(row({ costUsd: 12.5, tokensIn: 1_234_567, tokensOut: null }), columns)).toBe('12.500000\t1234567\t\n');
    expect(formatRow(row({ costUsd: null, tokensIn: null, tokensOut: 3 }), columns)).toBe('\t\t3\n');
    expect(formatRow(row({ costUsd: 0.0000004 }), ['cost_usd'])).toBe('0.000000\n');
    // A fractional count (an agent CLI reporting an average, say) is still written as an integer.
    expect(formatRow(row({ tokensIn: 99.6, tokensOut: 10.2 }), ['tokens_in', 'tokens_out'])).toBe('100\t10\n');
  });

  it('refuses to write a negative or non-finite cost or token count (a bug in the caller)', () => {
    expect(() => formatRow(row({ costUsd: -0.01 }), LEDGER_COLUMNS)).toThrow('ledger row cost_usd: expected a non-negative number or null, found -0.01 (this is a bug)');
    expect(() => formatRow(row({ costUsd: Number.NaN }), LEDGER_COLUMNS)).toThrow(/ledger row cost_usd: .*found NaN/);
    expect(() => formatRow(row({ tokensIn: Number.POSITIVE_INFINITY }), LEDGER_COLUMNS)).toThrow(/ledger row tokens_in: .*found Infinity/);
    expect(() => formatRow(row({ tokensOut: -1 }), LEDGER_COLUMNS)).toThrow(/ledger row tokens_out: .*found -1/);
  });

  it('keeps a description on one line, trimmed, and never empty', () => {
    expect(formatRow(row({ description: '  try\tlr=3e-4\r\nand warmup\n' }), SEED_COLUMNS)).toBe('abc1234\t0.500000\tkeep\ttry lr=3e-4 and warmup\n');
    expect(formatRow(row({ description: ' \t\n ' }), SEED_COLUMNS)).toBe('abc1234\t0.500000\tkeep\t-\n');
    expect(formatRow(row({ agent: 'my\tagent' }), ['agent'])).toBe('my agent\n');
  });

  it('writes negative and large metrics as %.6f', () => {
    expect(formatRow(row({ metric: -0.03 }), ['metric'])).toBe('-0.030000\n');
    expect(formatRow(row({ metric: 123456.1234567 }), ['metric'])).toBe('123456.123457\n');
  });

  it('refuses to write a metric that is not a finite number (a bug in the caller)', () => {
    expect(() => formatRow(row({ metric: Number.NaN }), LEDGER_COLUMNS)).toThrow(/expected a finite number or null, found NaN/);
    expect(() => formatRow(row({ metric: Number.POSITIVE_INFINITY }), LEDGER_COLUMNS)).toThrow(/found Infinity/);
  });
});

describe('parseLedgerText', () => {
  it('round-trips formatted rows', () => {
    const rows = [
      row(),
      row({ commit: 'def5678', metric: 0.491234, status: 'discard', description: 'wider mlp', iteration: 1, reason: 'no_improvement', agent: 'claude', costUsd: 0.123456, tokensIn: 15234, tokensOut: 872 }),
      row({ commit: 'fed9876', metric: null, status: 'crash', description: 'OOM', iteration: 2, durationS: 0, reason: 'eval_exit', costUsd: 0, tokensIn: 0, tokensOut: null, detail: 'eval_exit 1: torch.OutOfMemoryError: CUDA out of memory (train.py:9)' }),
      row({ commit: '0123abc', metric: -12.5, status: 'keep', description: 'x', iteration: 3, timestamp: null, durationS: null, reason: null, agent: null }),
    ];
    const text = HEADER + rows.map((r) => formatRow(r, LEDGER_COLUMNS)).join('');
    expect(parseLedgerText(text, FILE)).toEqual({ columns: [...LEDGER_COLUMNS], rows, tornTail: null });
  });

  it('reads cost_usd and tokens as numbers, and empty fields as null', () => {
    const text =
      HEADER +
      'abc\t0.500000\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t12.3\tbaseline\tclaude\t0.012346\t15234\t872\t\t\t\t\t\n' +
      'abd\tN/A\tcrash\tboom\t1\t2025-03-01T10:01:00.000Z\t3.0\tagent_exit\tclaude\t\t\t\tagent_exit: Error: overloaded\t\t\t\t\n' +
      'abe\t0.400000\tkeep\ty\t2\t\t\t\tcodex\t1.5\t0\t\t\t\t\t\t\n';
    expect(parseLedgerText(text, FILE).rows.map((r) => [r.costUsd, r.tokensIn, r.tokensOut])).toEqual([
      [0.012346, 15234, 872],
      [null, null, null],
      [1.5, 0, null],
    ]);
    expect(parseLedgerText(text, FILE).rows.map((r) => r.detail)).toEqual([null, 'agent_exit: Error: overloaded', null]);
  });

  it('reads a previous-version 9-column file without setting the cost and token fields', () => {
    const text = `${V9_HEADER}abc\t0.500000\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t12.3\tbaseline\tcommand\n`;
    const parsed = parseLedgerText(text, FILE);
    expect(parsed.columns).toEqual(['commit', 'metric', 'status', 'description', 'iteration', 'timestamp', 'duration_s', 'reason', 'agent']);
    expect(parsed.rows).toStrictEqual([
      { commit: 'abc', metric: 0.5, status: 'keep', description: 'baseline', iteration: 0, timestamp: '2025-03-01T10:00:00.000Z', durationS: 12.3, reason: 'baseline', agent: 'command' },
    ]);
  });

  it('reads an empty text as no header', () => {
    expect(parseLedgerText('', FILE)).toEqual({ columns: [], rows: [], tornTail: null });
  });

  it('returns an unterminated last line as the torn tail, without parsing it', () => {
    const text = `${HEADER}${formatRow(row(), LEDGER_COLUMNS)}def5678\t0.49\tdisc`;
    const parsed = parseLedgerText(text, FILE);
    expect(parsed.rows).toEqual([row()]);
    expect(parsed.tornTail).toBe('def5678\t0.49\tdisc');
    // Even a torn header: nothing complete was written yet.
    expect(parseLedgerText('commit\tmetric\tsta', FILE)).toEqual({ columns: [], rows: [], tornTail: 'commit\tmetric\tsta' });
  });

  it('reads a seed file: 4 columns, N/A metrics, iteration = row index, a tab inside a description', () => {
    const text = 'commit\tmetric\tstatus\tdescription\n' + 'a1b2c3d\t0.997900\tkeep\timproved_val_bpb_0.9979\n' + 'b2c3d4e\tN/A\tcrash\texit_1\n' + 'c3d4e5f\t0.990000\tkeep\thalve lr\tthen warmup\t(manual)\n';
    const parsed = parseLedgerText(text, FILE);
    expect(parsed.columns).toEqual([...SEED_COLUMNS]);
    expect(parsed.rows).toStrictEqual([
      { commit: 'a1b2c3d', metric: 0.9979, status: 'keep', description: 'improved_val_bpb_0.9979', iteration: 0, timestamp: null, durationS: null, reason: null, agent: null },
      { commit: 'b2c3d4e', metric: null, status: 'crash', description: 'exit_1', iteration: 1, timestamp: null, durationS: null, reason: null, agent: null },
      { commit: 'c3d4e5f', metric: 0.99, status: 'keep', description: 'halve lr then warmup (manual)', iteration: 2, timestamp: null, durationS: null, reason: null, agent: null },
    ]);
  });

  it("reads the seed's Python nan/inf metrics as no metric", () => {
    const text = 'commit\tmetric\tstatus\tdescription\na\tnan\tdiscard\tno_improvement_nan_vs_0.5000\nb\t-inf\tkeep\tx\n';
    expect(parseLedgerText(text, FILE).rows.map((r) => r.metric)).toEqual([null, null]);
  });

  it('keeps columns another tool added and tolerates CRLF line ends and blank lines', () => {
    const text = 'commit\tmetric\tstatus\tdescription\thypothesis\r\n\r\nabc\t1.000000\tkeep\tbaseline\tnone\r\n\n';
    const parsed = parseLedgerText(text, FILE);
    expect(parsed.columns).toEqual(['commit', 'metric', 'status', 'description', 'hypothesis']);
    expect(parsed.rows).toEqual([{ commit: 'abc', metric: 1, status: 'keep', description: 'baseline', iteration: 0, timestamp: null, durationS: null, reason: null, agent: null }]);
  });

  it('refuses a header that does not start with the seed columns, saying what it expected', () => {
    expect(corruptMessage('commit\tval_bpb\tmemory_gb\tstatus\tdescription\na1b2c3d\t0.997900\t44.0\tkeep\tbaseline\n')).toBe(
      '/exp/results.tsv:1: expected a header starting with commit<TAB>metric<TAB>status<TAB>description, found "commit\\tval_bpb\\tmemory_gb\\tstatus\\tdescription"',
    );
    expect(corruptMessage('\nabc\t1\tkeep\tx\n')).toContain('results.tsv:1: expected a header starting with');
    expect(corruptMessage('commit\tmetric\tstatus\tdescription\tx\tx\n')).toBe(
      '/exp/results.tsv:1: expected unique, non-empty column names, found "x" in "commit\\tmetric\\tstatus\\tdescription\\tx\\tx"',
    );
  });

  it('refuses a bad middle line, naming file:line, the column, what was expected and found', () => {
    const good = formatRow(row(), LEDGER_COLUMNS);
    expect(corruptMessage(`${HEADER}${good}abc\t0.5\tkept\tx\t1\t\t\t\t\t\t\t\t\t\t\t\t\n${good}`)).toBe(
      '/exp/results.tsv:3: column status: expected keep, discard or crash, found "kept"',
    );
    expect(corruptMessage(`${HEADER}abc\tNaN\tkeep\tx\t0\t\t\t\t\t\t\t\t\t\t\t\t\n`)).toBe('/exp/results.tsv:2: column metric: expected a number or N/A, found "NaN"');
    expect(corruptMessage(`${HEADER}abc\t0.5 ms\tkeep\tx\t0\t\t\t\t\t\t\t\t\t\t\t\t\n`)).toBe('/exp/results.tsv:2: column metric: expected a number or N/A, found "0.5 ms"');
    expect(corruptMessage(`${HEADER}abc\t0.5\tkeep\tx\t-1\t\t\t\t\t\t\t\t\t\t\t\t\n`)).toBe('/exp/results.tsv:2: column iteration: expected a non-negative integer, found "-1"');
    expect(corruptMessage(`${HEADER}abc\t0.5\tkeep\tx\t\t\t\t\t\t\t\t\t\t\t\t\t\n`)).toBe('/exp/results.tsv:2: column iteration: expected a non-negative integer, found ""');
    expect(corruptMessage(`${HEADER}abc\t0.5\tkeep\tx\t0\t\tfast\t\t\t\t\t\t\t\t\t\t\n`)).toBe(
      '/exp/results.tsv:2: column duration_s: expected a non-negative number of seconds or nothing, found "fast"',
    );
  });

  it('refuses a bad cost_usd or token count, naming file:line and the column', () => {
    const good = formatRow(row(), LEDGER_COLUMNS);
    expect(corruptMessage(`${HEADER}${good}abc\t0.5\tkeep\tx\t1\t\t\t\tclaude\t$0.12\t100\t20\t\t\t\t\t\n${good}`)).toBe(
      '/exp/results.tsv:3: column cost_usd: expected a non-negative number or nothing, found "$0.12"',
    );
    expect(corruptMessage(`${HEADER}abc\t0.5\tkeep\tx\t0\t\t\t\tclaude\t-0.5\t\t\t\t\t\t\t\n`)).toBe(
      '/exp/results.tsv:2: column cost_usd: expected a non-negative number or nothing, found "-0.5"',
    );
    expect(corruptMessage(`${HEADER}abc\t0.5\tkeep\tx\t0\t\t\t\tclaude\tNaN\t\t\t\t\t\t\t\n`)).toBe(
      '/exp/results.tsv:2: column cost_usd: expected a non-negative number or nothing, found "NaN"',
    );
    expect(corruptMessage(`${HEADER}abc\t0.5\tkeep\tx\t0\t\t\t\tclaude\t\t12k\t\t\t\t\t\t\n`)).toBe(
      '/exp/results.tsv:2: column tokens_in: expected a non-negative number or nothing, found "12k"',
    );
    expect(corruptMessage(`${HEADER}abc\t0.5\tkeep\tx\t0\t\t\t\tclaude\t\t\t-3\t\t\t\t\t\n`)).toBe(
      '/exp/results.tsv:2: column tokens_out: expected a non-negative number or nothing, found "-3"',
    );
  });

  it('refuses a wrong field count, except for rows the skill wrote', () => {
    // Looks like ours (an iteration number in the 5th field), with one field too many: refused.
    expect(corruptMessage(`${HEADER}abc\t0.5\tkeep\tsplit\t0\t\t\t\t\t\t\t\t\t\t\t\t\t\n`)).toBe(
      '/exp/results.tsv:2: expected 17 tab-separated fields (commit, metric, status, description, iteration, timestamp, duration_s, reason, agent, cost_usd, tokens_in, tokens_out, detail, samples, mean, spread, p_value), found 18: "abc\\t0.5\\tkeep\\tsplit\\t0\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t"',
    );
    // A previous-version 9-, 12- or 13-field row (an older autoresearch) appended to an upgraded file: refused too.
    expect(corruptMessage(`${HEADER}abc\t0.5\tkeep\tx\t0\t\t\t\tcommand\n`)).toBe(
      '/exp/results.tsv:2: expected 17 tab-separated fields (commit, metric, status, description, iteration, timestamp, duration_s, reason, agent, cost_usd, tokens_in, tokens_out, detail, samples, mean, spread, p_value), found 9: "abc\\t0.5\\tkeep\\tx\\t0\\t\\t\\t\\tcommand"',
    );
    expect(corruptMessage(`${HEADER}abc\t0.5\tkeep\tx\t0\t\t\t\tcommand\t\t\t\n`)).toMatch(/^\/exp\/results\.tsv:2: expected 17 tab-separated fields .*, found 12: /);
    expect(corruptMessage(`${HEADER}abc\t0.5\tkeep\tx\t0\t\t\t\tcommand\t\t\t\t\n`)).toMatch(/^\/exp\/results\.tsv:2: expected 17 tab-separated fields .*, found 13: /);
    expect(corruptMessage('commit\tmetric\tstatus\tdescription\nabc\t0.5\tkeep\n')).toBe(
      '/exp/results.tsv:2: expected 4 tab-separated fields (commit, metric, status, description), found 3: "abc\\t0.5\\tkeep"',
    );
  });

  it('reads a 4-field row the skill appended after our columns were added, numbered after the highest iteration', () => {
    const ours = formatRow(row({ iteration: 3 }), LEDGER_COLUMNS);
    const text = `${HEADER}${ours}abc1234\tN/A\tcrash\tmetric_parse_failed\nbcd2345\t0.400000\tkeep\tsrc/a.py | 2 +-\tand a tab\n${formatRow(row({ iteration: 6 }), LEDGER_COLUMNS)}`;
    const parsed = parseLedgerText(text, FILE);
    expect(parsed.rows.map((r) => [r.commit, r.metric, r.status, r.description, r.iteration, r.timestamp])).toEqual([
      ['abc1234', 0.5, 'keep', 'baseline', 3, '2025-03-01T10:00:00.000Z'],
      ['abc1234', null, 'crash', 'metric_parse_failed', 4, null],
      ['bcd2345', 0.4, 'keep', 'src/a.py | 2 +- and a tab', 5, null],
      ['abc1234', 0.5, 'keep', 'baseline', 6, '2025-03-01T10:00:00.000Z'],
    ]);
    expect(parsed.rows[1]).toMatchObject({ durationS: null, reason: null, agent: null, costUsd: null, tokensIn: null, tokensOut: null });
  });

  it('reads a skill row whose description holds a tab and a number as a row, after our row or after another skill row', () => {
    const ours = formatRow(row({ iteration: 3 }), LEDGER_COLUMNS);
    const afterOurs = parseLedgerText(`${HEADER}${ours}bcd2345\t0.400000\tkeep\tlr\t5\n`, FILE);
    expect(afterOurs.rows.map((r) => [r.commit, r.metric, r.status, r.description, r.iteration])).toEqual([
      ['abc1234', 0.5, 'keep', 'baseline', 3],
      ['bcd2345', 0.4, 'keep', 'lr 5', 4],
    ]);
    // After a skill row, it must not be swallowed into that row's description (a lost keep).
    const afterSkill = parseLedgerText(`${HEADER}${ours}abc1234\tN/A\tcrash\texit_1\nbcd2345\t0.400000\tkeep\tbatch\t64\tlr\t0.1\n`, FILE);
    expect(afterSkill.rows.map((r) => [r.commit, r.status, r.description, r.iteration])).toEqual([
      ['abc1234', 'keep', 'baseline', 3],
      ['abc1234', 'crash', 'exit_1', 4],
      ['bcd2345', 'keep', 'batch 64 lr 0.1', 5],
    ]);
  });

  it("joins the lines of a multi-line description the skill wrote to its row, in both layouts; never after one of our rows", () => {
    const seed = 'commit\tmetric\tstatus\tdescription\nabc\t1.000000\tkeep\tfirst line\nsecond line\n\tthird\twith tabs\ndef\tN/A\tcrash\texit_1\n';
    expect(parseLedgerText(seed, FILE).rows.map((r) => [r.description, r.iteration])).toEqual([
      ['first line second line third with tabs', 0],
      ['exit_1', 1],
    ]);
    const wide = `${HEADER}${formatRow(row({ iteration: 0 }), LEDGER_COLUMNS)}abc\t1.000000\tkeep\tfirst line\nsecond line\n`;
    expect(parseLedgerText(wide, FILE).rows.map((r) => r.description)).toEqual(['baseline', 'first line second line']);
    expect(corruptMessage(`${HEADER}${formatRow(row({ iteration: 0 }), LEDGER_COLUMNS)}second line\n`)).toMatch(/^\/exp\/results\.tsv:3: expected 17 tab-separated fields/);
  });
});

describe('evidence and guard columns (issue 11)', () => {
  const GUARDED = [...LEDGER_COLUMNS, 'memory_gb', 'val_acc'];

  it('writes samples, mean (%.6f), spread (%.6f), p_value (%.6g), then each guard (%.6f, N/A when not found)', () => {
    const kept = row({ iteration: 4, reason: 'improved', evidence: { samples: 5, mean: 0.95123, spread: 0.0031, pValue: 0.0040000001 }, guards: { memory_gb: 38.25, val_acc: null } });
    expect(formatRow(kept, GUARDED)).toBe(
      'abc1234\t0.500000\tkeep\tbaseline\t4\t2025-03-01T10:00:00.000Z\t12.3\timproved\tcommand\t\t\t\t\t5\t0.951230\t0.003100\t0.004\t38.250000\tN/A\n',
    );
    // One sample: no spread, no test; a tiny p-value in exponent form, which reads back.
    expect(formatRow(row({ evidence: { samples: 1, mean: 0.5, spread: null, pValue: 1.23456789e-7 } }), LEDGER_COLUMNS)).toMatch(/\t1\t0\.500000\t\t1\.23457e-7\n$/);
    // No evidence (older rows, rows of a crash): all four empty, and a guard not measured: empty.
    expect(formatRow(row(), GUARDED)).toMatch(/\tcommand(?:\t){10}\n$/);
    expect(() => formatRow(row({ evidence: { samples: 2, mean: 0.5, spread: 0.1, pValue: 1.5 } }), LEDGER_COLUMNS)).toThrow(/p_value: expected a number from 0 to 1/);
    expect(() => formatRow(row({ guards: { memory_gb: Number.NaN } }), GUARDED)).toThrow(/guard memory_gb: expected a finite number or null/);
  });

  it('reads them back: evidence null when all four are empty, guards by column name (N/A = not found, empty = not recorded)', () => {
    const rows = [
      row({ iteration: 0, evidence: { samples: 3, mean: 0.5, spread: 0.002, pValue: null }, guards: { memory_gb: 40, val_acc: 0.9 } }),
      row({ iteration: 1, status: 'discard', reason: 'within_noise', evidence: { samples: 5, mean: 0.499, spread: 0.0021, pValue: 0.31 }, guards: { memory_gb: 40.5, val_acc: null } }),
      row({ iteration: 2, status: 'crash', metric: null, reason: 'eval_exit' }),
    ];
    const text = `${GUARDED.join('\t')}\n${rows.map((r) => formatRow(r, GUARDED)).join('')}`;
    const parsed = parseLedgerText(text, FILE);
    expect(parsed.columns).toEqual(GUARDED);
    expect(parsed.rows).toEqual([rows[0], rows[1], { ...rows[2], guards: {} }]);
  });

  it('reads numbers and N/A in a column another tool added after ours as values, and leaves its text alone', () => {
    const text = `${LEDGER_COLUMNS.join('\t')}\tnotes\n${formatRow(row(), LEDGER_COLUMNS).slice(0, -1)}\tlooks fine\n${formatRow(row({ iteration: 1 }), LEDGER_COLUMNS).slice(0, -1)}\t7\n`;
    expect(parseLedgerText(text, FILE).rows.map((r) => r.guards)).toEqual([{}, { notes: 7 }]);
  });

  it('refuses bad evidence, naming file:line and the column', () => {
    const line = (samples: string, mean: string, spread: string, p: string) => `${LEDGER_COLUMNS.join('\t')}\n${formatRow(row(), LEDGER_COLUMNS).slice(0, -5)}\t${samples}\t${mean}\t${spread}\t${p}\n`;
    expect(parseLedgerText(line('3', '0.5', '0.01', '0.2'), FILE).rows[0]?.evidence).toEqual({ samples: 3, mean: 0.5, spread: 0.01, pValue: 0.2 });
    expect(corruptMessage(line('three', '0.5', '', ''))).toBe('/exp/results.tsv:2: column samples: expected a count of evaluations, found "three"');
    expect(corruptMessage(line('', '0.5', '', ''))).toBe('/exp/results.tsv:2: column samples: expected a count of evaluations (mean, spread or p_value is set), found ""');
    expect(corruptMessage(line('3', 'x', '', ''))).toBe('/exp/results.tsv:2: column mean: expected a number or N/A, found "x"');
    expect(corruptMessage(line('3', '0.5', '-1', ''))).toBe('/exp/results.tsv:2: column spread: expected a non-negative number or nothing, found "-1"');
    expect(corruptMessage(line('3', '0.5', '', '1.5'))).toBe('/exp/results.tsv:2: column p_value: expected a number from 0 to 1 or nothing, found "1.5"');
  });
});
