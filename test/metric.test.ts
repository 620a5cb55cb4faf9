import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { describeMetricMatch, extractMetric, metricMatcher, seedPrefixes } from '../src/loop/metric.js';
import { seedScripts } from './helpers/seed-skill.js';
import { makeTempDir } from './helpers/git-repo.js';

const GREP = /^val_bpb:/;

async function logWith(content: string | Buffer): Promise<string> {
  const file = path.join(await makeTempDir('ar-metric-'), 'eval.log');
  await fs.writeFile(file, content);
  return file;
}

async function metricOf(content: string | Buffer, grep = GREP): Promise<Awaited<ReturnType<typeof extractMetric>>> {
  return extractMetric(await logWith(content), grep);
}

describe('extractMetric', () => {
  it('takes the number after the last colon on the last matching line', async () => {
    const log = 'step 1\nval_bpb: 1.100000\ntraining...\nval_bpb: 0.9979\npeak_vram_mb: 45060.2\n';
    expect(await metricOf(log)).toEqual({ kind: 'ok', value: 0.9979, line: 'val_bpb: 0.9979' });
    expect(await metricOf('val_bpb at 12:30:0.75\n', /^val_bpb/)).toEqual({ kind: 'ok', value: 0.75, line: 'val_bpb at 12:30:0.75' });
  });

  it('is invalid when the last matching line has no finite number, even if an earlier one had', async () => {
    for (const bad of ['nan', 'NaN', 'inf', '-inf', 'Infinity', '', 'n/a', 'abc', '1.2.3', '1,234', '0x1F', '1e', '1e999']) {
      const log = `val_bpb: 0.9979\nval_bpb: ${bad}\n`;
      expect(await metricOf(log), `value ${JSON.stringify(bad)}`).toMatchObject({ kind: 'invalid', line: `val_bpb: ${bad}`.trim() });
    }
  });

  it('is invalid when the value is more than one number token, saying what was found', async () => {
    for (const bad of ['3/4', '5-3', '2*3', '2^10', '3 / 4', '0.5 - 0.1', '1 2', '12 e5', '1.5e-3.2']) {
      const result = await metricOf(`val_bpb: ${bad}\n`);
      expect(result, bad).toMatchObject({ kind: 'invalid', line: `val_bpb: ${bad}` });
      expect(result.kind === 'invalid' ? result.why : '', bad).toContain(JSON.stringify(bad));
    }
  });

  it('is missing when no line matches, or there is no log', async () => {
    expect(await metricOf('loss: 1.0\nval_loss: 2.0\n  # val_bpb: 3.0\n')).toEqual({ kind: 'missing' });
    expect(await metricOf('')).toEqual({ kind: 'missing' });
    expect(await extractMetric(path.join(await makeTempDir(), 'never-written.log'), GREP)).toEqual({ kind: 'missing' });
  });

  it('tests lines with surrounding whitespace stripped, as the seed does', async () => {
    expect(await metricOf('   val_bpb:   0.5  \t\n')).toEqual({ kind: 'ok', value: 0.5, line: 'val_bpb:   0.5' });
  });

  it('reads CRLF logs, a last line without a newline, and a progress bar redrawn with \\r', async () => {
    expect(await metricOf('val_bpb: 1.0\r\nval_bpb: 0.25\r\n')).toEqual({ kind: 'ok', value: 0.25, line: 'val_bpb: 0.25' });
    expect(await metricOf('x\nval_bpb: 0.125')).toEqual({ kind: 'ok', value: 0.125, line: 'val_bpb: 0.125' });
    expect(await metricOf('step 1/3\rstep 2/3\rstep 3/3\rval_bpb: 0.75\n')).toEqual({ kind: 'ok', value: 0.75, line: 'val_bpb: 0.75' });
  });

  it('accepts signs, exponents and a unit after the number', async () => {
    const cases: Array<[string, number]> = [
      ['-3e-2', -0.03],
      ['+2.5E+3', 2500],
      ['.5', 0.5],
      ['7.', 7],
      ['1.5 ms', 1.5],
      ['12ms', 12],
      ['97.5%', 97.5],
      ['1.8x', 1.8],
      ['0.9979 (best so far)', 0.9979],
      ['0.9979 bpb', 0.9979],
      ['93.1%', 93.1],
      ['1.5e-3x', 0.0015],
      ['0.99 - best so far', 0.99],
      ['12 ms/iter', 12],
    ];
    for (const [text, value] of cases) {
      expect(await metricOf(`p50: ${text}\n`, /^p50:/), text).toEqual({ kind: 'ok', value, line: `p50: ${text}` });
    }
  });

  it('tests every line even with a global or sticky pattern', async () => {
    expect(await metricOf('val_bpb: 2\nval_bpb: 1\n', /^val_bpb:/g)).toMatchObject({ kind: 'ok', value: 1 });
    expect(await metricOf('other\nval_bpb: 3\nother\n', /val_bpb:/y)).toMatchObject({ kind: 'ok', value: 3 });
  });

  it('finds a metric line just before a line longer than 64 KiB, and skips over-long lines', async () => {
    const long = 'x'.repeat(200 * 1024);
    expect(await metricOf(`val_bpb: 0.5\n${long}\n`)).toEqual({ kind: 'ok', value: 0.5, line: 'val_bpb: 0.5' });
    expect(await metricOf(`val_bpb: 0.5\n${long}`)).toEqual({ kind: 'ok', value: 0.5, line: 'val_bpb: 0.5' });
    // A 200 KiB line that matches is output, not a metric line (a dumped tensor, say).
    expect(await metricOf(`val_bpb: 0.5\nval_bpb: ${long}\n`)).toEqual({ kind: 'ok', value: 0.5, line: 'val_bpb: 0.5' });
  });

  it('reassembles a metric line that straddles a 64 KiB chunk boundary, multi-byte characters included', async () => {
    const line = 'latency: 1.5 µs ✓';
    const lineBytes = Buffer.byteLength(line);
    for (let cut = 1; cut < lineBytes; cut++) {
      // Place the line so that its last `cut` bytes fall into the last 64 KiB chunk.
      const after = `\n${'y'.repeat(64 * 1024 - cut - 2)}\n`;
      const log = Buffer.concat([Buffer.from('z'.repeat(100_000) + '\n'), Buffer.from(line), Buffer.from(after)]);
      expect(Buffer.byteLength(after) + cut).toBe(64 * 1024);
      expect(await metricOf(log, /^latency:/), `cut ${cut}`).toEqual({ kind: 'ok', value: 1.5, line });
    }
  });

  it('reads the metric at the end of a 100 MB log quickly and without loading it', async () => {
    const file = path.join(await makeTempDir('ar-metric-big-'), 'eval.log');
    const block = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `step ${String(i).padStart(6, '0')} | loss 2.345678 | lr 3.0e-4\n`).join(''));
    const handle = await fs.open(file, 'w');
    let written = 0;
    while (written < 100 * 1024 * 1024) {
      await handle.write(block);
      written += block.length;
    }
    await handle.write('val_bpb: 0.997900\n');
    await handle.close();

    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const result = await extractMetric(file, GREP);
    const elapsedMs = performance.now() - started;
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;

    const missingStarted = performance.now();
    const whole = await extractMetric(file, /^metric_that_is_not_there:/);
    const wholeScanMs = performance.now() - missingStarted;
    const rssGrowthWholeMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;

    // Reported, not asserted to the millisecond: see the helper's report.
    process.stderr.write(
      `[metric] ${(written / 2 ** 20).toFixed(0)} MiB log: metric on last line ${elapsedMs.toFixed(2)} ms (rss +${rssGrowthMb.toFixed(1)} MiB); ` +
        `no match, whole file scanned ${wholeScanMs.toFixed(0)} ms (rss +${rssGrowthWholeMb.toFixed(1)} MiB)\n`,
    );
    expect(result).toEqual({ kind: 'ok', value: 0.9979, line: 'val_bpb: 0.997900' });
    expect(whole).toEqual({ kind: 'missing' });
    expect(elapsedMs).toBeLessThan(250);
    expect(rssGrowthMb).toBeLessThan(20);
    expect(rssGrowthWholeMb).toBeLessThan(40);
  });
});

describe('metricMatcher: metric_grep with the seed skill semantics', () => {
  it('is a literal prefix of the stripped line: regex characters are plain text', async () => {
    for (const name of ['score(%)', 'acc[top1]', 'c++', 'p.50', 'a|b', 'x*y$']) {
      const log = `${name}: 1\nnoise\n  ${name}: 2.5  \nnot ${name}: 9\n`;
      expect(await extractMetric(await logWith(log), metricMatcher(`^${name}:`, null)), name).toEqual({ kind: 'ok', value: 2.5, line: `${name}: 2.5` });
    }
  });

  it('ignores every leading ^ (Python lstrip) and needs no ^ at all', async () => {
    const log = 'loss: 3\n';
    expect(await extractMetric(await logWith(log), metricMatcher('^^loss:', null))).toMatchObject({ kind: 'ok', value: 3 });
    expect(await extractMetric(await logWith(log), metricMatcher('loss:', null))).toMatchObject({ kind: 'ok', value: 3 });
    // A prefix, not a regex: `.` is no wildcard.
    expect(await extractMetric(await logWith('valXbpb: 1\n'), metricMatcher('^val.bpb:', null))).toEqual({ kind: 'missing' });
  });

  it('still reads the escaped metric_grep an earlier autoresearch init wrote', async () => {
    expect(seedPrefixes('^val\\.bpb:')).toEqual(['val\\.bpb:', 'val.bpb:']);
    expect(await extractMetric(await logWith('val.bpb: 0.97\n'), metricMatcher('^val\\.bpb:', null))).toMatchObject({ kind: 'ok', value: 0.97 });
    expect(await extractMetric(await logWith('acc[top1]: 0.5\n'), metricMatcher('^acc\\[top1\\]:', null))).toMatchObject({ kind: 'ok', value: 0.5 });
  });

  it('uses metric_regex instead when set', async () => {
    const log = 'val_loss: 2\nval_bpb: 1.5\nother: 3\n';
    expect(await extractMetric(await logWith(log), metricMatcher('^val_loss:', '^val_(loss|bpb):'))).toMatchObject({ kind: 'ok', value: 1.5 });
    expect(describeMetricMatch('^val_loss:', null)).toBe('lines starting with `val_loss:` (metric_grep)');
    expect(describeMetricMatch('^x:', '^val_(loss|bpb):')).toBe('/^val_(loss|bpb):/ (metric_regex)');
  });

  it('agrees with the seed skill on which line it reads', async () => {
    const seed = seedScripts();
    if (seed === null) return;
    const log = await logWith('acc[top1]: 0.1\nc++: 7\n  acc[top1]: 0.25\nacc[top1]x: 0.9\n');
    const python = `import sys; sys.path.insert(0, ${JSON.stringify(path.join(seed, 'scripts'))}); import run_experiment as r; print(r.extract_metric(sys.argv[1], sys.argv[2]))`;
    for (const grep of ['^acc[top1]:', '^c++:']) {
      const { stdout } = await execa('python3', ['-c', python, log, grep]);
      const ours = await extractMetric(log, metricMatcher(grep, null));
      expect(ours.kind === 'ok' ? ours.value : null, grep).toBe(Number(stdout.trim()));
    }
  });
});
