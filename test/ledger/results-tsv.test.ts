import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutoresearchError } from '../../src/core/errors.js';
import { Ledger, type RepairInfo, type ReplacedInfo, type UpgradeInfo } from '../../src/ledger/results-tsv.js';
import { LEDGER_COLUMNS } from '../../src/ledger/types.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { row } from '../helpers/ledger-row.js';

const HEADER = 'commit\tmetric\tstatus\tdescription\titeration\ttimestamp\tduration_s\treason\tagent\tcost_usd\ttokens_in\ttokens_out\tdetail\tsamples\tmean\tspread\tp_value\n';

/**
 * Byte for byte what the previous version of autoresearch wrote: 9 columns, before
 * cost_usd, tokens_in and tokens_out were added after agent.
 */
const V9_FILE = [
  'commit\tmetric\tstatus\tdescription\titeration\ttimestamp\tduration_s\treason\tagent',
  'a1b2c3d\t0.997900\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t301.3\tbaseline\tcommand',
  'b2c3d4e\t1.002300\tdiscard\twider mlp\t1\t2025-03-01T10:06:00.000Z\t295.0\tno_improvement\tclaude',
  'c3d4e5f\tN/A\tcrash\tOOM\t2\t2025-03-01T10:12:00.000Z\t41.7\teval_exit\tclaude',
  'd4e5f6a\t0.991200\tkeep\thalve lr\t3\t\t\t\t',
  '',
].join('\n');

/**
 * Byte for byte what the autoresearch-agent skill writes: setup_experiment.py's header,
 * run_experiment.py's log_result rows (%.6f or N/A, its generated descriptions), and a
 * row added by hand with `log_results.py --record`, whose description holds a tab.
 */
const SEED_FILE = [
  'commit\tmetric\tstatus\tdescription',
  'a1b2c3d\t0.997900\tkeep\timproved_val_bpb_0.9979',
  'b2c3d4e\t1.002300\tdiscard\tno_improvement_1.0023_vs_0.9979',
  'c3d4e5f\tN/A\tcrash\texit_1',
  'd4e5f6a\tN/A\tcrash\ttimeout_750s',
  'e5f6a7b\t0.991200\tkeep\timproved_val_bpb_0.9912',
  'f6a7b8c\tN/A\tcrash\tmetric_parse_failed',
  '0a1b2c3\t0.990000\tkeep\thalve lr\tthen warmup',
  '',
].join('\n');

/** The seed's own reader (log_results.py load_results): ≥4 fields, N/A as null. */
function readLikeSeed(text: string): Array<{ commit: string; metric: number | null; status: string; description: string }> {
  return text
    .split(/\r?\n/)
    .slice(1)
    .map((line) => line.split('\t'))
    .filter((parts) => parts.length >= 4)
    .map(([commit = '', metric = '', status = '', description = '']) => {
      const value = metric === 'N/A' ? null : Number(metric);
      return { commit, metric: value !== null && Number.isNaN(value) ? null : value, status, description };
    });
}


async function setup(content?: string | Buffer): Promise<{ dir: string; file: string }> {
  const dir = await makeTempDir('ar-ledger-');
  const file = path.join(dir, 'results.tsv');
  if (content !== undefined) await fs.writeFile(file, content);
  return { dir, file };
}

async function rejection(promise: Promise<unknown>): Promise<AutoresearchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AutoresearchError);
  return error as AutoresearchError;
}

describe('Ledger.open', () => {
  it('creates a missing file with the full header', async () => {
    const { dir, file } = await setup();
    const ledger = await Ledger.open(file);
    expect(await fs.readFile(file, 'utf8')).toBe(HEADER);
    expect(ledger.columns()).toEqual(LEDGER_COLUMNS);
    expect(ledger.rows()).toEqual([]);
    expect(ledger.nextIteration()).toBe(0);
    expect(await fs.readdir(dir)).toEqual(['results.tsv']);
  });

  it('writes the header into an empty file', async () => {
    const { file } = await setup('');
    await Ledger.open(file);
    expect(await fs.readFile(file, 'utf8')).toBe(HEADER);
  });

  it('reads its own file without rewriting it', async () => {
    const text =
      `${HEADER}abc1234\t0.500000\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t12.3\tbaseline\tcommand\t\t\t\t\t\t\t\t\n` +
      'def5678\t0.490000\tdiscard\twider mlp\t1\t2025-03-01T10:00:00.000Z\t12.3\tno_improvement\tclaude\t0.012346\t15234\t872\t\t\t\t\t\n';
    const { file } = await setup(text);
    const before = await fs.stat(file);
    const upgrades: UpgradeInfo[] = [];
    const ledger = await Ledger.open(file, { onUpgrade: (info) => upgrades.push(info) });
    expect(ledger.rows()).toEqual([
      row(),
      row({ commit: 'def5678', metric: 0.49, status: 'discard', description: 'wider mlp', iteration: 1, reason: 'no_improvement', agent: 'claude', costUsd: 0.012346, tokensIn: 15234, tokensOut: 872 }),
    ]);
    expect(ledger.nextIteration()).toBe(2);
    expect(upgrades).toEqual([]);
    expect((await fs.stat(file)).ino).toBe(before.ino);
  });

  it('upgrades a seed-written file, appends to it, and the seed can still read it', async () => {
    const { file } = await setup(SEED_FILE);
    const upgrades: UpgradeInfo[] = [];
    const ledger = await Ledger.open(file, { onUpgrade: (info) => upgrades.push(info) });

    expect(upgrades).toEqual([{ file, from: ['commit', 'metric', 'status', 'description'], to: [...LEDGER_COLUMNS] }]);
    // Seed rows keep their values; the iteration column gets the row index; the tab in the
    // hand-written description became a space so the row has the header's 13 fields.
    const upgraded = [
      'a1b2c3d\t0.997900\tkeep\timproved_val_bpb_0.9979\t0\t\t\t\t\t\t\t\t\t\t\t\t',
      'b2c3d4e\t1.002300\tdiscard\tno_improvement_1.0023_vs_0.9979\t1\t\t\t\t\t\t\t\t\t\t\t\t',
      'c3d4e5f\tN/A\tcrash\texit_1\t2\t\t\t\t\t\t\t\t\t\t\t\t',
      'd4e5f6a\tN/A\tcrash\ttimeout_750s\t3\t\t\t\t\t\t\t\t\t\t\t\t',
      'e5f6a7b\t0.991200\tkeep\timproved_val_bpb_0.9912\t4\t\t\t\t\t\t\t\t\t\t\t\t',
      'f6a7b8c\tN/A\tcrash\tmetric_parse_failed\t5\t\t\t\t\t\t\t\t\t\t\t\t',
      '0a1b2c3\t0.990000\tkeep\thalve lr then warmup\t6\t\t\t\t\t\t\t\t\t\t\t\t',
    ];
    expect(await fs.readFile(file, 'utf8')).toBe(HEADER + upgraded.map((line) => `${line}\n`).join(''));
    expect(ledger.rows().map((r) => [r.iteration, r.status, r.metric])).toEqual([
      [0, 'keep', 0.9979],
      [1, 'discard', 1.0023],
      [2, 'crash', null],
      [3, 'crash', null],
      [4, 'keep', 0.9912],
      [5, 'crash', null],
      [6, 'keep', 0.99],
    ]);
    expect(ledger.nextIteration()).toBe(7);

    await ledger.append(row({ commit: '1b2c3d4', metric: 0.985, description: 'rope theta 5e5', iteration: 7, reason: 'improved', agent: 'claude', costUsd: 0.42, tokensIn: 1200, tokensOut: 345 }));
    await ledger.close();

    const text = await fs.readFile(file, 'utf8');
    expect(text.endsWith('1b2c3d4\t0.985000\tkeep\trope theta 5e5\t7\t2025-03-01T10:00:00.000Z\t12.3\timproved\tclaude\t0.420000\t1200\t345\t\t\t\t\t\n')).toBe(true);
    expect(readLikeSeed(text)).toEqual([
      { commit: 'a1b2c3d', metric: 0.9979, status: 'keep', description: 'improved_val_bpb_0.9979' },
      { commit: 'b2c3d4e', metric: 1.0023, status: 'discard', description: 'no_improvement_1.0023_vs_0.9979' },
      { commit: 'c3d4e5f', metric: null, status: 'crash', description: 'exit_1' },
      { commit: 'd4e5f6a', metric: null, status: 'crash', description: 'timeout_750s' },
      { commit: 'e5f6a7b', metric: 0.9912, status: 'keep', description: 'improved_val_bpb_0.9912' },
      { commit: 'f6a7b8c', metric: null, status: 'crash', description: 'metric_parse_failed' },
      { commit: '0a1b2c3', metric: 0.99, status: 'keep', description: 'halve lr then warmup' },
      { commit: '1b2c3d4', metric: 0.985, status: 'keep', description: 'rope theta 5e5' },
    ]);
    // What we hold in memory is what a fresh reader sees.
    const reopened = await Ledger.open(file);
    expect(reopened.rows()).toEqual(ledger.rows());
    expect(reopened.nextIteration()).toBe(8);
  });

  it('upgrades a file with a prefix of our columns, keeping the iterations it has', async () => {
    const { file } = await setup('commit\tmetric\tstatus\tdescription\titeration\nabc\t0.500000\tkeep\tbaseline\t5\nabd\tN/A\tcrash\tboom\t6\n');
    const upgrades: UpgradeInfo[] = [];
    const ledger = await Ledger.open(file, { onUpgrade: (info) => upgrades.push(info) });
    expect(upgrades.map((u) => u.from.length)).toEqual([5]);
    expect(await fs.readFile(file, 'utf8')).toBe(`${HEADER}abc\t0.500000\tkeep\tbaseline\t5\t\t\t\t\t\t\t\t\t\t\t\t\nabd\tN/A\tcrash\tboom\t6\t\t\t\t\t\t\t\t\t\t\t\t\n`);
    expect(ledger.nextIteration()).toBe(7);
  });

  it('upgrades a 12-column file (before the detail column), a 4-field row the skill appended included', async () => {
    const v12 = HEADER.replace('\tdetail\tsamples\tmean\tspread\tp_value\n', '\n');
    const { file } = await setup(
      v12 +
        'a1b2c3d\t0.997900\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t301.3\tbaseline\tcommand\t\t\t\n' +
        'c3d4e5f\tN/A\tcrash\tOOM\t1\t2025-03-01T10:12:00.000Z\t41.7\teval_exit\tclaude\t0.120000\t15000\t900\n' +
        'f6a7b8c\tN/A\tcrash\texit_1\n',
    );
    const upgrades: UpgradeInfo[] = [];
    const ledger = await Ledger.open(file, { onUpgrade: (info) => upgrades.push(info) });
    expect(upgrades.map((u) => u.to)).toEqual([[...LEDGER_COLUMNS]]);
    expect(await fs.readFile(file, 'utf8')).toBe(
      HEADER +
        'a1b2c3d\t0.997900\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t301.3\tbaseline\tcommand\t\t\t\t\t\t\t\t\n' +
        'c3d4e5f\tN/A\tcrash\tOOM\t1\t2025-03-01T10:12:00.000Z\t41.7\teval_exit\tclaude\t0.120000\t15000\t900\t\t\t\t\t\n' +
        'f6a7b8c\tN/A\tcrash\texit_1\t2\t\t\t\t\t\t\t\t\t\t\t\t\n',
    );
    await ledger.append(row({ commit: 'e5f6a7b', metric: null, status: 'crash', description: 'x', iteration: 3, reason: 'eval_exit', detail: "eval_exit 1: SyntaxError: expected ':' (train.py:41)" }));
    await ledger.close();
    expect(await fs.readFile(file, 'utf8')).toMatch(/\teval_exit\tcommand\t\t\t\teval_exit 1: SyntaxError: expected ':' \(train\.py:41\)\t\t\t\t\n$/);
    // The skill keeps appending its 4 fields under our header: still a row, its detail empty.
    await fs.appendFile(file, '0a1b2c3\t0.990000\tkeep\thalve lr\n');
    const reopened = await Ledger.open(file);
    expect(reopened.rows().map((r) => [r.iteration, r.detail])).toEqual([
      [0, null],
      [1, null],
      [2, null],
      [3, "eval_exit 1: SyntaxError: expected ':' (train.py:41)"],
      [4, null],
    ]);
  });

  it('upgrades a previous-version 9-column file, keeping every row, with the new columns empty', async () => {
    const { dir, file } = await setup(V9_FILE);
    const upgrades: UpgradeInfo[] = [];
    const ledger = await Ledger.open(file, { onUpgrade: (info) => upgrades.push(info) });

    expect(upgrades).toEqual([
      { file, from: ['commit', 'metric', 'status', 'description', 'iteration', 'timestamp', 'duration_s', 'reason', 'agent'], to: [...LEDGER_COLUMNS] },
    ]);
    expect(ledger.columns()).toEqual(LEDGER_COLUMNS);
    // Every row and every value kept, byte for byte; only four empty fields added to each.
    expect(await fs.readFile(file, 'utf8')).toBe(
      HEADER +
        'a1b2c3d\t0.997900\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t301.3\tbaseline\tcommand\t\t\t\t\t\t\t\t\n' +
        'b2c3d4e\t1.002300\tdiscard\twider mlp\t1\t2025-03-01T10:06:00.000Z\t295.0\tno_improvement\tclaude\t\t\t\t\t\t\t\t\n' +
        'c3d4e5f\tN/A\tcrash\tOOM\t2\t2025-03-01T10:12:00.000Z\t41.7\teval_exit\tclaude\t\t\t\t\t\t\t\t\n' +
        'd4e5f6a\t0.991200\tkeep\thalve lr\t3\t\t\t\t\t\t\t\t\t\t\t\t\n',
    );
    expect(ledger.rows()).toEqual([
      row({ commit: 'a1b2c3d', metric: 0.9979, durationS: 301.3 }),
      row({ commit: 'b2c3d4e', metric: 1.0023, status: 'discard', description: 'wider mlp', iteration: 1, timestamp: '2025-03-01T10:06:00.000Z', durationS: 295, reason: 'no_improvement', agent: 'claude' }),
      row({ commit: 'c3d4e5f', metric: null, status: 'crash', description: 'OOM', iteration: 2, timestamp: '2025-03-01T10:12:00.000Z', durationS: 41.7, reason: 'eval_exit', agent: 'claude' }),
      row({ commit: 'd4e5f6a', metric: 0.9912, description: 'halve lr', iteration: 3, timestamp: null, durationS: null, reason: null, agent: null }),
    ]);
    expect(ledger.nextIteration()).toBe(4);
    expect(await fs.readdir(dir)).toEqual(['results.tsv']); // rewritten in place, no temp file left

    await ledger.append(row({ commit: 'e5f6a7b', metric: 0.98, description: 'rope', iteration: 4, reason: 'improved', agent: 'claude', costUsd: 0.0731, tokensIn: 20480, tokensOut: 1536 }));
    await ledger.close();
    expect((await fs.readFile(file, 'utf8')).endsWith('e5f6a7b\t0.980000\tkeep\trope\t4\t2025-03-01T10:00:00.000Z\t12.3\timproved\tclaude\t0.073100\t20480\t1536\t\t\t\t\t\n')).toBe(true);

    // Upgraded once: the next open reads it as its own, without rewriting it.
    const before = await fs.stat(file);
    const again: UpgradeInfo[] = [];
    const reopened = await Ledger.open(file, { onUpgrade: (info) => again.push(info) });
    expect(again).toEqual([]);
    expect((await fs.stat(file)).ino).toBe(before.ino);
    expect(reopened.rows()).toEqual(ledger.rows());
    expect(reopened.rows()[4]).toMatchObject({ costUsd: 0.0731, tokensIn: 20480, tokensOut: 1536 });
  });

  it('repairs a torn last line: saves the fragment, cuts it off, and reports it', async () => {
    const good = `${HEADER}abc1234\t0.500000\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t12.3\tbaseline\tcommand\t\t\t\t\t\t\t\t\n`;
    // Torn inside a 2-byte UTF-8 character: the saved bytes must be exactly what was on disk.
    const fragment = Buffer.concat([Buffer.from('def5678\t0.490000\tdiscard\tcaf'), Buffer.from('é').subarray(0, 1)]);
    const { dir, file } = await setup(Buffer.concat([Buffer.from(good), fragment]));
    const repairs: RepairInfo[] = [];
    const ledger = await Ledger.open(file, { onRepair: (info) => repairs.push(info), clock: { now: () => Date.parse('2025-03-02T04:05:06.789Z') } });

    const savedTo = path.join(dir, 'results.tsv.torn-2025-03-02T04-05-06.789Z');
    expect(repairs).toEqual([{ file, tornBytes: fragment.length, savedTo }]);
    expect(await fs.readFile(savedTo)).toEqual(fragment);
    expect(await fs.readFile(file, 'utf8')).toBe(good);
    expect(ledger.rows()).toEqual([row()]);

    await ledger.append(row({ commit: 'def5678', metric: 0.49, status: 'discard', description: 'retry', iteration: 1, reason: 'no_improvement' }));
    await ledger.close();
    expect((await Ledger.open(file)).rows().map((r) => r.commit)).toEqual(['abc1234', 'def5678']);
  });

  it('repairs then upgrades a seed file whose last row was torn', async () => {
    const { file } = await setup(`${SEED_FILE}1234567\t0.98`);
    const events: string[] = [];
    const ledger = await Ledger.open(file, { onRepair: (i) => events.push(`repair ${i.tornBytes}`), onUpgrade: (i) => events.push(`upgrade ${i.from.length}→${i.to.length}`) });
    expect(events).toEqual(['repair 12', 'upgrade 4→17']);
    expect(ledger.rows()).toHaveLength(7);
    expect((await fs.readFile(file, 'utf8')).startsWith(HEADER)).toBe(true);
  });

  it('starts a fresh header when the only line was torn', async () => {
    const { file } = await setup('commit\tmetric\tst');
    const repairs: RepairInfo[] = [];
    const ledger = await Ledger.open(file, { onRepair: (info) => repairs.push(info) });
    expect(repairs.map((r) => r.tornBytes)).toEqual([16]);
    expect(await fs.readFile(file, 'utf8')).toBe(HEADER);
    expect(ledger.rows()).toEqual([]);
  });

  it('refuses a corrupt middle line, naming file:line, and leaves the file as it was', async () => {
    const text = `${HEADER}abc\t0.500000\tkeep\tbaseline\t0\t\t\t\t\t\t\t\t\t\t\t\t\nabd\tfast\tdiscard\tx\t1\t\t\t\t\t\t\t\t\t\t\t\t\nabe\t0.400000\tkeep\ty\t2\t\t\t\t\t\t\t\t\t\t\t\t\n`;
    const { dir, file } = await setup(text);
    const error = await rejection(Ledger.open(file));
    expect(error.code).toBe('LEDGER_CORRUPT');
    expect(error.message).toBe(`${file}:3: column metric: expected a number or N/A, found "fast"`);
    expect(await fs.readFile(file, 'utf8')).toBe(text);
    expect(await fs.readdir(dir)).toEqual(['results.tsv']);
  });

  it('refuses a bad cost_usd, naming file:line and the column, and leaves the file as it was', async () => {
    const text =
      HEADER +
      'abc\t0.500000\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t12.3\tbaseline\tclaude\t0.012346\t15234\t872\t\t\t\t\t\n' +
      'abd\t0.490000\tdiscard\tx\t1\t2025-03-01T10:06:00.000Z\t11.0\tno_improvement\tclaude\t0.12 USD\t15000\t900\t\t\t\t\t\n' +
      'abe\t0.400000\tkeep\ty\t2\t\t\t\t\t\t\t\t\t\t\t\t\n';
    const { dir, file } = await setup(text);
    const error = await rejection(Ledger.open(file));
    expect(error.code).toBe('LEDGER_CORRUPT');
    expect(error.message).toBe(`${file}:3: column cost_usd: expected a non-negative number or nothing, found "0.12 USD"`);
    expect(await fs.readFile(file, 'utf8')).toBe(text);
    expect(await fs.readdir(dir)).toEqual(['results.tsv']);
  });

  it('refuses a header that is not a results.tsv header', async () => {
    const text = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\na1b2c3d\t0.997900\t44.0\tkeep\tbaseline\n';
    const { file } = await setup(text);
    const error = await rejection(Ledger.open(file));
    expect(error.code).toBe('LEDGER_CORRUPT');
    expect(error.message).toBe(`${file}:1: expected a header starting with commit<TAB>metric<TAB>status<TAB>description, found "commit\\tval_bpb\\tmemory_gb\\tstatus\\tdescription"`);
    expect(await fs.readFile(file, 'utf8')).toBe(text);
  });

  it("keeps another tool's extra columns and appends in the file's column order", async () => {
    const text = 'commit\tmetric\tstatus\tdescription\thypothesis\tagent\na1\t1.000000\tkeep\tbaseline\tnone\thuman\n';
    const { file } = await setup(text);
    const upgrades: UpgradeInfo[] = [];
    const ledger = await Ledger.open(file, { onUpgrade: (info) => upgrades.push(info) });
    expect(upgrades).toEqual([]);
    expect(ledger.columns()).toEqual(['commit', 'metric', 'status', 'description', 'hypothesis', 'agent']);
    expect(ledger.nextIteration()).toBe(1);

    await ledger.append(row({ commit: 'a2', metric: 0.9, description: 'smaller batch', iteration: 1, reason: 'improved', agent: 'codex' }));
    await ledger.close();
    expect(await fs.readFile(file, 'utf8')).toBe(`${text}a2\t0.900000\tkeep\tsmaller batch\t\tcodex\n`);
    const reopened = await Ledger.open(file);
    expect(reopened.rows()).toEqual(ledger.rows());
    expect(reopened.rows()[1]).toMatchObject({ commit: 'a2', iteration: 1, agent: 'codex', reason: null });
  });
});

describe('Ledger.append', () => {
  it('appends exactly one formatted line per row, and the file re-parses', async () => {
    const { file } = await setup();
    const ledger = await Ledger.open(file);
    await ledger.append(row());
    await ledger.append(
      row({ commit: 'def5678', metric: null, status: 'crash', description: 'died\twith\ntabs', iteration: 1, durationS: 3.04, reason: 'eval_exit', costUsd: 0.0123456789, tokensIn: 15234, tokensOut: 0 }),
    );
    expect(await fs.readFile(file, 'utf8')).toBe(
      `${HEADER}abc1234\t0.500000\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t12.3\tbaseline\tcommand\t\t\t\t\t\t\t\t\n` +
        'def5678\tN/A\tcrash\tdied with tabs\t1\t2025-03-01T10:00:00.000Z\t3.0\teval_exit\tcommand\t0.012346\t15234\t0\t\t\t\t\t\n',
    );
    expect(ledger.rows()[0]).toMatchObject({ costUsd: null, tokensIn: null, tokensOut: null });
    // In memory as a reader of the file sees it: the cost rounded to 6 decimals.
    expect(ledger.rows()[1]).toMatchObject({ description: 'died with tabs', durationS: 3, costUsd: 0.012346, tokensIn: 15234, tokensOut: 0 });
    expect(ledger.nextIteration()).toBe(2);
    await ledger.close();
    await ledger.close(); // idempotent
    expect((await Ledger.open(file)).rows()).toEqual(ledger.rows());
  });

  it('keeps rows in call order when appends are not awaited one by one', async () => {
    const { file } = await setup();
    const ledger = await Ledger.open(file);
    const appends = [0, 1, 2, 3, 4].map((i) => ledger.append(row({ commit: `c${i}`, iteration: i })));
    await ledger.close(); // waits for the appends in flight
    await Promise.all(appends);
    expect((await Ledger.open(file)).rows().map((r) => r.commit)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(ledger.rows().map((r) => r.commit)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
  });

  it('after a failed fsync refuses every further append and never retries the fsync', async () => {
    const { file } = await setup();
    let fsyncCalls = 0;
    const ledger = await Ledger.open(file, {
      fsync: () => {
        fsyncCalls++;
        throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      },
    });
    const first = await rejection(ledger.append(row()));
    expect(first.code).toBe('DURABILITY');
    expect(first.message).toBe(`fsync ${file} failed: EIO: i/o error, fsync; the loop must stop (an fsync is never retried)`);

    const second = await rejection(ledger.append(row({ iteration: 1 })));
    expect(second.code).toBe('DURABILITY');
    expect(second.message).toContain(`refusing to append to ${file}: an earlier append failed (fsync ${file}: EIO`);
    expect(fsyncCalls).toBe(1);
    expect(ledger.rows()).toEqual([]); // the row is not known to be durable
    await ledger.close();
  });

  it('writes a ledger deleted under it again, from the rows it holds, then appends', async () => {
    const { file } = await setup();
    const replaced: ReplacedInfo[] = [];
    const ledger = await Ledger.open(file, { onReplaced: (info) => replaced.push(info) });
    await ledger.append(row());
    await fs.rm(file);
    await ledger.append(row({ iteration: 1, status: 'discard', reason: 'no_improvement' }));
    expect(replaced).toEqual([{ file, how: 'deleted', removed: [], added: 0 }]);
    const text = await fs.readFile(file, 'utf8');
    expect(text.split('\n').filter(Boolean).map((l) => l.split('\t')[4])).toEqual(['iteration', '0', '1']);
    await ledger.close();
    expect((await Ledger.open(file)).nextIteration()).toBe(2);
  });
});

describe('Ledger: the file replaced during a run', () => {
  /** What `sed -i` and an editor saving by rename do: a new inode at the same path. */
  async function replaceByRename(file: string, edit: (text: string) => string): Promise<void> {
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(`${file}.new`, edit(text));
    await fs.rename(`${file}.new`, file);
  }

  it('appends to the new file, never to the unlinked one, keeping its rows', async () => {
    const { file } = await setup();
    const replaced: ReplacedInfo[] = [];
    const ledger = await Ledger.open(file, { onReplaced: (info) => replaced.push(info) });
    await ledger.append(row());
    await ledger.append(row({ iteration: 1, description: 'first try', status: 'discard' }));
    await replaceByRename(file, (text) => text.replace('first try', 'first try (edited by hand)'));
    await ledger.append(row({ iteration: 2, description: 'second', status: 'discard' }));
    await ledger.close();
    expect(replaced).toEqual([{ file, how: 'replaced', removed: [], added: 0 }]);
    const rows = (await Ledger.open(file)).rows();
    expect(rows.map((r) => [r.iteration, r.description])).toEqual([[0, 'baseline'], [1, 'first try (edited by hand)'], [2, 'second']]);
  });

  it('keeps rows the user removed removed, says so, and never numbers an iteration twice', async () => {
    const { file } = await setup();
    const replaced: ReplacedInfo[] = [];
    const ledger = await Ledger.open(file, { onReplaced: (info) => replaced.push(info) });
    for (const iteration of [0, 1, 2]) await ledger.append(row({ iteration, status: iteration === 0 ? 'keep' : 'crash', metric: iteration === 0 ? 0.5 : null }));
    await replaceByRename(file, (text) => text.split('\n').filter((line) => !line.includes('\tcrash\t')).join('\n')); // sed -i '/crash/d'
    expect(ledger.nextIteration()).toBe(3);
    await ledger.append(row({ iteration: ledger.nextIteration(), status: 'discard' }));
    expect(replaced).toEqual([{ file, how: 'replaced', removed: [1, 2], added: 0 }]);
    expect(ledger.rows().map((r) => r.iteration)).toEqual([0, 3]);
    expect(ledger.nextIteration()).toBe(4);
    await ledger.close();
  });

  it('follows a file truncated in place (same inode, another size)', async () => {
    const { file } = await setup();
    const replaced: ReplacedInfo[] = [];
    const ledger = await Ledger.open(file, { onReplaced: (info) => replaced.push(info) });
    await ledger.append(row());
    await fs.writeFile(file, ''); // `> results.tsv`
    await ledger.append(row({ iteration: ledger.nextIteration(), status: 'discard' }));
    expect(replaced).toEqual([{ file, how: 'changed', removed: [0], added: 0 }]);
    const text = await fs.readFile(file, 'utf8');
    expect(text.startsWith(HEADER)).toBe(true);
    expect(text.slice(HEADER.length).split('\t')[4]).toBe('1');
    await ledger.close();
  });

  it('writes the row again when the file is replaced between the check and the write', async () => {
    const { file } = await setup();
    let replaceDuringFsync = false;
    const ledger = await Ledger.open(file, {
      fsync: () => {
        if (!replaceDuringFsync) return;
        replaceDuringFsync = false; // the row is in the old inode now: an editor renames its copy over it
        fsSync.writeFileSync(`${file}.new`, fsSync.readFileSync(file, 'utf8').split('\n').slice(0, 2).join('\n') + '\n');
        fsSync.renameSync(`${file}.new`, file);
      },
    });
    await ledger.append(row());
    replaceDuringFsync = true;
    await ledger.append(row({ iteration: 1, status: 'discard' }));
    await ledger.close();
    expect((await Ledger.open(file)).rows().map((r) => r.iteration)).toEqual([0, 1]);
  });

  it('stops with a located error when the replacement does not parse, and appends nothing', async () => {
    const { file } = await setup();
    const ledger = await Ledger.open(file);
    await ledger.append(row());
    await replaceByRename(file, (text) => `${text}garbage line\n`);
    const error = await rejection(ledger.append(row({ iteration: 1 })));
    expect(error.code).toBe('LEDGER_CORRUPT');
    expect(error.message).toContain(`${file} was replaced during the run and no longer reads as a ledger: ${file}:3: expected 17 tab-separated fields`);
    expect(error.message).toContain('runs/00001/result.json');
    const lines = (await fs.readFile(file, 'utf8')).split('\n');
    expect([lines.length, lines[2]]).toEqual([4, 'garbage line']); // header, row 0, the garbage, '': nothing appended
    await ledger.close();
  });

  it('reads a ledger saved with a UTF-8 BOM, and appends after it', async () => {
    const { file } = await setup(`\uFEFF${HEADER}`);
    const ledger = await Ledger.open(file);
    expect(ledger.columns()).toEqual(LEDGER_COLUMNS);
    await ledger.append(row());
    await ledger.close();
    expect((await fs.readFile(file, 'utf8')).startsWith(`\uFEFF${HEADER}abc1234`)).toBe(true);
    expect((await Ledger.open(file)).rows()).toHaveLength(1);
  });
});

describe('Ledger: guard columns (issue 11)', () => {
  const V13_HEADER = HEADER.replace('\tsamples\tmean\tspread\tp_value\n', '\n');

  it('upgrades a 13-column ledger to the evidence columns and the configured guards, then appends a row with both', async () => {
    const { file } = await setup(`${V13_HEADER}abc1234\t0.500000\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t12.3\tbaseline\tcommand\t\t\t\t\n`);
    const upgrades: UpgradeInfo[] = [];
    const ledger = await Ledger.open(file, { guards: ['memory_gb', 'val_acc'], onUpgrade: (info) => upgrades.push(info) });
    const to = [...LEDGER_COLUMNS, 'memory_gb', 'val_acc'];
    expect(upgrades).toEqual([{ file, from: V13_HEADER.slice(0, -1).split('\t'), to }]);
    expect(await fs.readFile(file, 'utf8')).toBe(`${to.join('\t')}\nabc1234\t0.500000\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t12.3\tbaseline\tcommand${'\t'.repeat(10)}\n`);
    expect(ledger.rows()).toEqual([row({ guards: {} })]);

    const kept = row({ commit: 'def5678', metric: 0.49, iteration: 1, description: 'rope', reason: 'improved', evidence: { samples: 5, mean: 0.49, spread: 0.003, pValue: 0.004 }, guards: { memory_gb: 38.5, val_acc: null } });
    await ledger.append(kept);
    await ledger.close();
    expect((await fs.readFile(file, 'utf8')).endsWith('\timproved\tcommand\t\t\t\t\t5\t0.490000\t0.003000\t0.004\t38.500000\tN/A\n')).toBe(true);
    const reopened = await Ledger.open(file, { guards: ['memory_gb', 'val_acc'] });
    expect(reopened.rows()[1]).toEqual(kept);
    expect(reopened.rows()).toEqual(ledger.rows());
  });

  it('adds a guard the config names now at the end, line by line: values, rows the skill wrote and text of other columns stay as they were', async () => {
    const before =
      `${HEADER.slice(0, -1)}\tmemory_gb\tnotes\n` +
      `abc1234\t0.500000\tkeep\tbaseline\t0\t2025-03-01T10:00:00.000Z\t12.3\tbaseline\tcommand\t\t\t\t\t3\t0.500000\t0.002000\t\t40.000000\tfirst try\n` +
      'bcd2345\t0.490000\tkeep\thalve lr\n' +
      'cde3456\tN/A\tcrash\tboom\r\n';
    const { file } = await setup(before);
    const upgrades: UpgradeInfo[] = [];
    const ledger = await Ledger.open(file, { guards: ['val_acc', 'memory_gb'], onUpgrade: (info) => upgrades.push(info) });
    expect(upgrades.map((u) => u.to.slice(LEDGER_COLUMNS.length))).toEqual([['memory_gb', 'notes', 'val_acc']]);
    const lines = before.replace('\r\n', '\n').split('\n');
    expect(await fs.readFile(file, 'utf8')).toBe([`${lines[0]}\tval_acc`, `${lines[1]}\t`, lines[2], lines[3], ''].join('\n'));
    expect(ledger.rows().map((r) => [r.iteration, r.guards, r.evidence])).toEqual([
      [0, { memory_gb: 40 }, { samples: 3, mean: 0.5, spread: 0.002, pValue: null }],
      [1, undefined, null],
      [2, undefined, null],
    ]);
    await ledger.close();

    // A guard no longer configured keeps its column: nothing is rewritten.
    const again: UpgradeInfo[] = [];
    const reopened = await Ledger.open(file, { guards: [], onUpgrade: (info) => again.push(info) });
    expect(again).toEqual([]);
    expect(reopened.columns().slice(LEDGER_COLUMNS.length)).toEqual(['memory_gb', 'notes', 'val_acc']);
    await reopened.append(row({ iteration: 3, guards: { memory_gb: 41, val_acc: 0.8 } }));
    await reopened.close();
    expect((await fs.readFile(file, 'utf8')).endsWith('\t41.000000\t\t0.800000\n')).toBe(true);
  });

  it('never adds a guard column named like one of ours, nor twice', async () => {
    const { file } = await setup();
    const ledger = await Ledger.open(file, { guards: ['metric', 'memory_gb', 'memory_gb', 'samples'] });
    expect(ledger.columns()).toEqual([...LEDGER_COLUMNS, 'memory_gb']);
  });

  it("leaves a header of someone else's layout alone (no guard columns can be added to it)", async () => {
    const text = 'commit\tmetric\tstatus\tdescription\thypothesis\na1\t1.000000\tkeep\tbaseline\tnone\n';
    const { file } = await setup(text);
    const ledger = await Ledger.open(file, { guards: ['memory_gb'] });
    expect(ledger.columns()).toEqual(['commit', 'metric', 'status', 'description', 'hypothesis']);
    expect(await fs.readFile(file, 'utf8')).toBe(text);
  });
});
