import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { guardViolation, parseGuards, readGuardValues, RESERVED_COLUMN_NAMES } from '../../src/decision/guards.js';
import type { Guard } from '../../src/decision/types.js';
import { LEDGER_COLUMNS } from '../../src/ledger/types.js';
import { makeTempDir } from '../helpers/git-repo.js';

function guards(text: string): Guard[] {
  const result = parseGuards(text);
  if (typeof result === 'string') throw new Error(`expected guards, got: ${result}`);
  return result;
}

describe('parseGuards', () => {
  it('reads comma-separated conditions in the order written, with or without spaces', () => {
    expect(parseGuards('memory_gb <= 40, val_acc>=0.85 ,  p99_ms < 1e3,tokens > -2.5')).toEqual([
      { metric: 'memory_gb', op: '<=', bound: 40, text: 'memory_gb <= 40' },
      { metric: 'val_acc', op: '>=', bound: 0.85, text: 'val_acc>=0.85' },
      { metric: 'p99_ms', op: '<', bound: 1000, text: 'p99_ms < 1e3' },
      { metric: 'tokens', op: '>', bound: -2.5, text: 'tokens > -2.5' },
    ]);
  });

  it('accepts any metric name the metric key accepts, spaces and brackets included', () => {
    expect(guards('score(%) >= 90, acc[top1] > .5, peak mem <= 3')).toMatchObject([
      { metric: 'score(%)', op: '>=', bound: 90 },
      { metric: 'acc[top1]', op: '>', bound: 0.5 },
      { metric: 'peak mem', op: '<=', bound: 3 },
    ]);
  });

  it.each([
    ['memory_gb <= 40,', 'an empty condition in `memory_gb <= 40,`'],
    ['memory_gb', '`memory_gb`, which has no comparison (one of <=, <, >=, >)'],
    ['<= 40', '`<= 40`, which has no metric name before `<=`'],
    ['val_acc => 0.85', '`val_acc => 0.85`, whose operator `=>` is not one of <=, <, >=, > (did you mean `>=`?)'],
    ['memory_gb =< 40', '`memory_gb =< 40`, whose operator `=<` is not one of <=, <, >=, > (did you mean `<=`?)'],
    ['val_acc == 0.85', '`val_acc == 0.85`, whose operator `==` is not one of <=, <, >=, >'],
    ['val_acc != 0', '`val_acc != 0`, whose operator `!=` is not one of <=, <, >=, >'],
    ['memory_gb <=', '`memory_gb <=`, which has no number after `<=`'],
    ['memory_gb <= 40GB', '`memory_gb <= 40GB`, where `40GB` is not a number (write the bound alone, without a unit)'],
    ['memory_gb <= 0x10', '`memory_gb <= 0x10`, where `0x10` is not a number (write the bound alone, without a unit)'],
    ['memory_gb <= Infinity', '`memory_gb <= Infinity`, where `Infinity` is not a number (write the bound alone, without a unit)'],
    ['mem\tgb <= 4', '`mem\tgb <= 4`, whose metric name has a control character (a tab?)'],
  ])('refuses `%s`', (text, found) => {
    expect(parseGuards(text)).toBe(found);
  });

  it('refuses a metric named twice: each guard metric gets one results.tsv column', () => {
    expect(parseGuards('val_acc >= 0.8, memory_gb <= 40, val_acc <= 0.99')).toBe(
      '`val_acc` twice (`val_acc >= 0.8` and `val_acc <= 0.99`): one condition per metric, as each gets its own results.tsv column',
    );
  });

  it('refuses every results.tsv column name, the evidence columns included', () => {
    expect(RESERVED_COLUMN_NAMES).toEqual(expect.arrayContaining([...LEDGER_COLUMNS, 'samples', 'mean', 'spread', 'p_value']));
    for (const name of RESERVED_COLUMN_NAMES) {
      expect(parseGuards(`memory_gb <= 40, ${name} < 3`)).toBe(
        `\`${name} < 3\`, but \`${name}\` is a results.tsv column of its own (a guard metric gets a column named after it): print this metric under another name`,
      );
    }
    // Only the exact column name: a metric that merely contains one is fine.
    expect(guards('mean_loss < 3, p_values > 1')).toHaveLength(2);
  });
});

describe('guardViolation', () => {
  const g = guards('memory_gb <= 40, val_acc >= 0.85, p99_ms < 200, throughput > 10');

  it('is null when every guard holds, bounds included where the operator allows', () => {
    expect(guardViolation(g, { memory_gb: 40, val_acc: 0.85, p99_ms: 199.9, throughput: 10.01 })).toBeNull();
    expect(guardViolation([], {})).toBeNull();
  });

  it('names each violated guard with the comparison the value makes, in config order', () => {
    expect(guardViolation(g, { memory_gb: 40, val_acc: 0.71, p99_ms: 150, throughput: 20 })).toBe('guard_failed: val_acc 0.71 < 0.85');
    expect(guardViolation(g, { memory_gb: 40.5, val_acc: 0.9, p99_ms: 200, throughput: 10 })).toBe('guard_failed: memory_gb 40.5 > 40; p99_ms 200 >= 200; throughput 10 <= 10');
  });

  it('fails a guard whose metric has no value: a keep must show the guard holds', () => {
    const memory = guards('memory_gb <= 40');
    const expected = 'guard_failed: memory_gb not found in the evaluation log (expected a line starting with `memory_gb:`)';
    expect(guardViolation(memory, { memory_gb: null })).toBe(expected);
    expect(guardViolation(memory, {})).toBe(expected);
  });
});

describe('readGuardValues', () => {
  it('reads each guard metric from a real log as the main metric is read: the last matching line, one number', async () => {
    const dir = await makeTempDir('ar-guards-');
    const log = path.join(dir, 'eval.log');
    await fs.writeFile(
      log,
      [
        'step 1 loss 3.2',
        'memory_gb: 12.0', // an earlier line: the last one counts
        'val_bpb: 0.998',
        '  memory_gb: 38.5 GB  ', // trimmed, and a unit after the number is fine
        'val_acc: 0.91',
        'val_acc_top5: 0.12', // another metric, not val_acc's line
        'peak mem: 7',
        'latency_ms: 3/4', // not one number: invalid, read as null
        'p99: 12ms\r', // CRLF endings
        '',
      ].join('\n'),
    );
    const values = await readGuardValues(log, guards('memory_gb <= 40, val_acc >= 0.85, peak mem <= 8, latency_ms < 5, tokens < 9, p99 < 20'));
    expect(values).toEqual({ memory_gb: 38.5, val_acc: 0.91, 'peak mem': 7, latency_ms: null, tokens: null, p99: 12 });
    expect(guardViolation(guards('memory_gb <= 40, val_acc >= 0.95, tokens < 9'), values)).toBe(
      'guard_failed: val_acc 0.91 < 0.95; tokens not found in the evaluation log (expected a line starting with `tokens:`)',
    );
  });

  it('matches a line by its literal prefix, as metric_grep does (no regex in a name)', async () => {
    const dir = await makeTempDir('ar-guards-');
    const log = path.join(dir, 'eval.log');
    await fs.writeFile(log, 'acc.top1: 0.75\naccXtop1: 0.5\nscore(%): 93.1%\n');
    expect(await readGuardValues(log, guards('acc.top1 > 0.6, score(%) >= 90'))).toEqual({ 'acc.top1': 0.75, 'score(%)': 93.1 });
  });

  it('reads null for every guard when the log does not exist, and nothing without guards', async () => {
    const dir = await makeTempDir('ar-guards-');
    const missing = path.join(dir, 'no-such.log');
    expect(await readGuardValues(missing, guards('memory_gb <= 40'))).toEqual({ memory_gb: null });
    expect(await readGuardValues(missing, [])).toEqual({});
  });
});
