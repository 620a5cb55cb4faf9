/**
 * Output a person reads (issue 10, item 4), through the built CLI on real temp repos: the
 * foreground run's lines, warnings on a pipe, tables in 80 columns, `results` filters, a
 * closed pipe, and one count of experiments in `run`, `status` and `results`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { makeTempDir, writeFiles } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';

const NEW_YORK = { TZ: 'America/New_York' };
const STAMP = /^\d\d:\d\d:\d\d E[SD]T /;

describe('foreground run output', () => {
  it('one line per event in the local zone, the why on crash and discard lines, + = better, agent and eval times on the decision line', async () => {
    const project = await makeProject({
      plan: ['echo 5 > value.txt', 'echo abc > value.txt', 'echo x > other.txt', 'echo 6 > value.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '4'], { env: { ...project.env, ...NEW_YORK } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('since last step');
    const lines = r.stdout.split('\n');
    const rows = await project.rows();
    const line = (iteration: number) => lines.find((l) => new RegExp(`#${iteration} (KEEP|DISCARD|CRASH)`).test(l)) ?? '';

    // Lower is better: 10 → 5 is an improvement, printed with +.
    expect(line(1)).toMatch(/#1 KEEP +improved score 5 \(\+50\.00% vs best 10\) \[[0-9a-f]{7}\] .* \(agent \d+\.\ds, eval \d+\.\ds\)$/);
    // The why in words: the row's detail when it has one, else its reason code.
    const why = (row: Record<string, string> | undefined) => (row?.detail ? row.detail : (row?.reason ?? '?'));
    expect(rows[2]?.status).toBe('crash');
    expect(line(2)).toContain(`#2 CRASH   ${why(rows[2])} [`);
    expect(rows[3]?.reason).toBe('scope_violation');
    expect(line(3)).toContain(`#3 DISCARD ${why(rows[3])} [`);
    // Worse than the best (5 → 6, lower is better): a minus.
    expect(line(4)).toMatch(/#4 DISCARD no_improvement score 6 \(-20\.00% vs best 5\)/);
    // Every event line is stamped in the user's zone, named (EST or EDT in New York).
    for (const l of lines.filter((x) => /^\d\d:\d\d/.test(x))) expect(l).toMatch(STAMP);
    // One line per phase at most: an agent line and an eval line per evaluated iteration, no start lines.
    expect(lines.filter((l) => / #1 /.test(l)).map((l) => l.replace(STAMP, ''))).toEqual([expect.stringMatching(/^#1 agent …$/), expect.stringMatching(/^#1 eval …$/), expect.stringMatching(/^#1 KEEP/)]);
    // The summary counts experiments as max_experiments does: after the baseline.
    expect(r.stdout).toMatch(/this run: +4 experiments \+ baseline: 1 keep, 2 discard, 1 crash/);
    expect(r.stdout).toMatch(/best score: 5; baseline 10 \(\+50\.00% vs baseline\)/);

    // status and results say the same numbers.
    const status = JSON.parse((await runCli(['--path', project.root, 'status', '--json'], { env: project.env })).stdout) as Array<Record<string, unknown>>;
    expect(status[0]).toMatchObject({ iterations: 5, experiments: 4, keeps: 1, discards: 2, crashes: 1 });
    const table = await runCli(['--path', project.root, 'status'], { env: project.env });
    expect(table.stdout).toMatch(/^EXPERIMENT +STATE +EXPERIMENTS +KEEP +DISCARD +CRASH +BEST\ntest\/exp +idle +4 +1 +2 +1 +5$/);
    const results = await runCli(['--path', project.root, 'results', project.id], { env: project.env });
    expect(results.stdout).toMatch(/\ntest\/exp: 4 experiments \+ baseline: 1 keep, 2 discard, 1 crash\n/);
  });

  it('warnings on a pipe are plain lines in the local zone; JSON only with --log-format json', async () => {
    // A ledger with the seed's 4-column header: the run upgrades it, which is a warning.
    const files = { 'results.tsv': 'commit\tmetric\tstatus\tdescription\n' };
    for (const format of ['text', 'json'] as const) {
      const project = await makeProject({ plan: ['echo 5 > value.txt'] });
      await writeFiles(project.expDir, files);
      const args = ['--path', project.root, ...(format === 'json' ? ['--log-format', 'json'] : []), 'run', project.id, '--max-experiments', '1'];
      const r = await runCli(args, { env: { ...project.env, ...NEW_YORK } });
      expect(r.exitCode, r.stderr).toBe(0);
      if (format === 'text') {
        expect(r.stderr).not.toContain('{"level"');
        expect(r.stderr).toMatch(/^\d\d:\d\d:\d\d E[SD]T warning: upgraded the header of .*results\.tsv: added columns iteration, /m);
        for (const l of r.stderr.split('\n').filter(Boolean)) expect(l).toMatch(STAMP);
      } else {
        const entries = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string });
        expect(entries.some((e) => e.level === 40 && e.msg.startsWith('upgraded the header of'))).toBe(true);
      }
    }
  });

  it('run … 2>&1 | cat reads as plain lines: no JSON, no terminal escapes', async () => {
    const project = await makeProject({ plan: ['echo 5 > value.txt'] });
    await writeFiles(project.expDir, { 'results.tsv': 'commit\tmetric\tstatus\tdescription\n' });
    const r = await execa('sh', ['-c', `node "${CLI}" --path "${project.root}" run ${project.id} --max-experiments 1 2>&1 | cat`], { env: { ...project.env, ...NEW_YORK }, reject: false });
    expect(r.exitCode).toBe(0);
    const out = String(r.stdout);
    expect(out).not.toContain('{"');
    expect(out).not.toContain('\x1b');
    expect(out).toMatch(/warning: upgraded the header/);
    expect(out).toMatch(/#1 KEEP +improved score 5/);
  });
});

/** A ledger of `n` rows, every fifth a crash, with long descriptions. */
function ledger(n: number): string {
  const lines = ['commit\tmetric\tstatus\tdescription\titeration\ttimestamp\tduration_s\treason\tagent\tcost_usd\ttokens_in\ttokens_out'];
  for (let i = 0; i < n; i++) {
    const status = i === 0 ? 'keep' : i % 5 === 0 ? 'crash' : 'discard';
    const reason = i === 0 ? 'baseline' : status === 'crash' ? 'eval_exit' : 'no_improvement';
    const metric = status === 'crash' ? 'N/A' : (2 - i / (n + 1)).toFixed(6);
    const description = i === 0 ? 'baseline' : `iteration ${i}: try a much longer learning-rate warmup together with cosine decay and a larger batch`;
    const at = new Date(Date.UTC(2026, 0, 15, 12, 0, 0) + i * 60_000).toISOString();
    lines.push([`${(0xabc0000 + i).toString(16)}`, metric, status, description, i, at, '61.5', reason, 'claude', '', '', ''].join('\t'));
  }
  return lines.join('\n') + '\n';
}

async function resultsProject(rows: number): Promise<{ root: string; id: string }> {
  const root = await makeTempDir('ar-readable-');
  const dir = path.join(root, '.autoresearch', 'ml', 'train');
  await writeFiles(dir, {
    'config.cfg': 'target: train.py\nevaluate_cmd: python train.py\nmetric: loss\nmetric_direction: lower\nagent: claude\n',
    'results.tsv': ledger(rows),
  });
  return { root, id: 'ml/train' };
}

describe('results and status tables', () => {
  it('fit 80 columns off a terminal: descriptions cut with …, no column dropped, times in the local zone', async () => {
    const { root, id } = await resultsProject(12);
    const r = await runCli(['--path', root, 'results', id], { env: { PATH: process.env.PATH ?? '', ...NEW_YORK } });
    expect(r.exitCode, r.stderr).toBe(0);
    const [header, ...rest] = r.stdout.split('\n');
    expect(header).toMatch(/^ITER +COMMIT +METRIC +STATUS +REASON +STARTED EST +DESCRIPTION$/);
    const table = rest.slice(0, rest.indexOf(''));
    expect(table).toHaveLength(12);
    for (const line of [header ?? '', ...table]) expect(line.length).toBeLessThanOrEqual(80);
    // 12:00 UTC on 15 January is 07:00 in New York (EST).
    expect(table[0]).toMatch(/^0 +abc0000 +2 +keep +baseline +01-15 07:00 +baseline$/);
    expect(table[1]).toMatch(/^1 +abc0001 +1\.923077 +discard +no_improv\S*… +01-15 07:01 +iteration 1: \S.*…$/);
    expect(table[5]).toMatch(/^5 +abc0005 +N\/A +crash +eval_exit +01-15 07:05 +iteration 5: /);
    // The machine formats keep every column and every character.
    const csv = await runCli(['--path', root, 'results', id, '--format', 'csv'], { env: { PATH: process.env.PATH ?? '' } });
    expect(csv.stdout).toContain('try a much longer learning-rate warmup together with cosine decay and a larger batch');
    expect(csv.stdout.split('\r\n')[0]?.split(',')).toHaveLength(17);
  });

  it('results --status crash --last 2: the last two crashes, in the table and in csv/json', async () => {
    const { root, id } = await resultsProject(23); // crashes at 5, 10, 15, 20
    const r = await runCli(['--path', root, 'results', id, '--status', 'crash', '--last', '2'], { env: { PATH: process.env.PATH ?? '' } });
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(1, 3).map((l) => l.split(/ +/)[0])).toEqual(['15', '20']);
    expect(lines[3]).toBe('');
    expect(r.stdout).toMatch(/ml\/train: 22 experiments \+ baseline: 0 keep, 18 discard, 4 crash\n/);
    expect(r.stdout).toMatch(/showing 2 of 23 rows \(--status crash --last 2\)$/);
    const json = JSON.parse((await runCli(['--path', root, 'results', id, '--status', 'crash', '--status', 'keep', '--last', '3', '--format', 'json'], { env: {} })).stdout) as Array<{ iteration: number; status: string }>;
    expect(json.map((row) => [row.iteration, row.status])).toEqual([[10, 'crash'], [15, 'crash'], [20, 'crash']]);
    const csv = await runCli(['--path', root, 'results', id, '--last', '1', '--format', 'csv'], { env: {} });
    expect(csv.stdout.trim().split('\r\n').map((l) => l.split(',')[4])).toEqual(['iteration', '22']);

    const bad = await runCli(['--path', root, 'results', id, '--status', 'kept'], { env: {} });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/--status: expected one of keep, discard, crash, found `kept`/);
    const overview = await runCli(['--path', root, 'results', '--last', '2'], { env: {} });
    expect(overview.exitCode).toBe(1);
    expect(overview.stderr).toMatch(/--status and --last filter one experiment's rows: expected an experiment id/);
    const zero = await runCli(['--path', root, 'results', id, '--last', '0'], { env: {} });
    expect(zero.exitCode).toBe(1);
    expect(zero.stderr).toMatch(/expected a positive integer, found `0`/);
  });

  it('results | head -3 ends quietly: no EPIPE, no error, exit 0', async () => {
    // Far more than a pipe holds (64 KiB), so the writes meet the closed pipe.
    const { root, id } = await resultsProject(4000);
    const script = `{ node "${CLI}" --path "${root}" results ${id} 2>"$ERR"; echo $? > "$CODE"; } | head -3`;
    const dir = await makeTempDir('ar-epipe-');
    const files = { ERR: path.join(dir, 'stderr.txt'), CODE: path.join(dir, 'code.txt') };
    const r = await execa('sh', ['-c', script], { env: { PATH: process.env.PATH ?? '', ...files }, reject: false });
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout).split('\n')).toHaveLength(3);
    expect(String(r.stdout)).toMatch(/^ITER +COMMIT/);
    expect(await fs.readFile(files.ERR, 'utf8')).toBe('');
    expect((await fs.readFile(files.CODE, 'utf8')).trim()).toBe('0');
  });
});
