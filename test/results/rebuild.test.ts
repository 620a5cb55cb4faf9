/**
 * `results <id> --rebuild`: a real experiment run through the CLI (keeps, discards, crashes),
 * its results.tsv lost or corrupted, rebuilt from runs/*\/result.json: byte for byte the same.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject, type TestProject } from '../helpers/project.js';
import { rebuildLedger, rowFromArtifact } from '../../src/ledger/rebuild.js';
import { formatRow, parseLedgerText } from '../../src/ledger/tsv-format.js';
import { LEDGER_COLUMNS } from '../../src/ledger/types.js';
import { CONFIG, fixture, makeResultsProject, normalise } from './helpers.js';
import { luckyKeepProject } from '../helpers/lucky-keep.js';

let project: TestProject;
let original: Buffer;

beforeAll(async () => {
  project = await makeProject({
    plan: [
      /* 1 */ `echo 5 > value.txt && git commit -qam "$(printf 'five,\\twith a tab')"`,
      /* 2 */ `echo 7 > value.txt`,
      /* 3 */ `echo changed > other.txt && git commit -qam "out of scope"`,
      /* 4 */ `echo nan > value.txt && git commit -qam "not a number"`,
      /* 5 */ `echo 2 > value.txt && git commit -qam "two, \\"quoted\\" | piped"`,
      /* 6 */ `echo 0 > value.txt; exit 3`,
      /* 7 */ ``,
      /* 8 */ `echo 1 > value.txt && git commit -qam "one"`,
    ],
  });
  const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '8'], { env: project.env });
  expect(r.exitCode).toBe(0);
  original = await fs.readFile(path.join(project.expDir, 'results.tsv'));
  const statuses = (await project.rows()).map((row) => row.status);
  expect(statuses).toEqual(['keep', 'keep', 'discard', 'discard', 'crash', 'keep', 'crash', 'discard', 'keep']);
}, 120_000);

/** A copy of the experiment directory in a fresh root (rebuild needs no git), so tests stay independent. */
async function copyExperiment(): Promise<{ root: string; dir: string; results: string; rebuild: () => ReturnType<typeof runCli> }> {
  const root = await makeTempDir('ar-rebuild-');
  const dir = path.join(root, '.autoresearch', ...project.id.split('/'));
  await fs.cp(project.expDir, dir, { recursive: true });
  return { root, dir, results: path.join(dir, 'results.tsv'), rebuild: () => runCli(['--path', root, 'results', project.id, '--rebuild'], { env: project.env }) };
}

async function savedFiles(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((f) => f.startsWith('results.tsv.before-rebuild-'));
}

describe('results <id> --rebuild', () => {
  it("keeps the rows the skill appended (no result.json), a multi-line description joined, between ours", async () => {
    const e = await copyExperiment();
    // What run_experiment.py appends, whatever the header says (a description it was given with a line break).
    await fs.appendFile(e.results, 'abc1234\t0.500000\tkeep\tby the skill\nsecond line\nbcd2345\tN/A\tcrash\texit_1\n');
    const r = await e.rebuild();
    expect(r.exitCode).toBe(0);
    const rows = parseLedgerText(await fs.readFile(e.results, 'utf8'), e.results).rows;
    expect(rows).toHaveLength(11);
    expect(rows.slice(9).map((row) => [row.commit, row.metric, row.status, row.description, row.iteration])).toEqual([
      ['abc1234', 0.5, 'keep', 'by the skill second line', 9],
      ['bcd2345', null, 'crash', 'exit_1', 10],
    ]);
    expect(r.stdout).toMatch(/11 rows \(9 from runs\/\*\/result\.json, 2 carried over from the old file\)/);
  });

  it('a deleted results.tsv comes back byte for byte', async () => {
    const e = await copyExperiment();
    await fs.rm(e.results);
    const r = await e.rebuild();
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(await fs.readFile(e.results)).toEqual(original);
    expect(r.stdout).toMatch(/^test\/exp: rebuilt .*results\.tsv with 9 rows \(9 from runs\/\*\/result\.json, 0 carried over from the old file\)\n {2}there was no results\.tsv before$/);
    expect(await savedFiles(e.dir)).toEqual([]);
  });

  it('a corrupted one too; the corrupt file is kept aside, interrupted attempts and bad artifacts are skipped and reported', async () => {
    const e = await copyExperiment();
    const lines = original.toString('utf8').split('\n');
    lines[3] = 'garbage that is no row'; // iteration 2
    const corrupt = `${lines.join('\n')}deadbee\t1.0`; // plus a torn tail
    await fs.writeFile(e.results, corrupt);
    // An attempt of iteration 3 that was interrupted, and a result.json that does not parse:
    // iteration 5's row still exists in the old file, so it is carried over from there.
    await fs.mkdir(path.join(e.dir, 'runs', '00003.interrupted-1767225600000'));
    await fs.writeFile(path.join(e.dir, 'runs', '00003.interrupted-1767225600000', 'prompt.md'), 'an attempt\n');
    await fs.writeFile(path.join(e.dir, 'runs', '00005', 'result.json'), '{"commit": "abc');

    const r = await e.rebuild();
    expect(r.exitCode).toBe(0);
    expect(await fs.readFile(e.results)).toEqual(original);
    const [saved, ...more] = await savedFiles(e.dir);
    expect(more).toEqual([]);
    expect(await fs.readFile(path.join(e.dir, saved ?? ''), 'utf8')).toBe(corrupt);
    expect(r.stdout).toContain('with 9 rows (8 from runs/*/result.json, 1 carried over from the old file)');
    expect(r.stdout).toContain(`the old file is saved as ${path.join(e.dir, saved ?? '')}\n`);
    expect(r.stdout).toContain('carried over (no usable result.json): iterations 5\n');
    expect(r.stdout).toMatch(/skipped results\.tsv:4: expected 17 tab-separated fields/);
    expect(r.stdout).toContain('skipped results.tsv:11: an unterminated last line (a torn write)');
    expect(r.stdout).toContain('skipped runs/00003.interrupted-1767225600000: an interrupted attempt (interrupted iterations write no row)');
    expect(r.stdout).toMatch(/skipped runs\/00005\/result\.json: does not parse: .*JSON/);
  });

  it('rows with neither an artifact nor a readable old row are reported missing, not invented', async () => {
    const e = await copyExperiment();
    await fs.rm(e.results);
    await fs.writeFile(path.join(e.dir, 'runs', '00006', 'result.json'), JSON.stringify({ iteration: 6, status: 'exploded' }));
    await fs.rm(path.join(e.dir, 'runs', '00007', 'result.json'));
    const r = await e.rebuild();
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('no row for iterations 6-7: neither a result.json nor a readable row of the old file');
    expect(r.stdout).toMatch(/skipped runs\/00006\/result\.json: does not parse: commit: expected a string/);
    expect(r.stdout).toMatch(/skipped runs\/00007\/result\.json: missing/);
    const expected = original.toString('utf8').split('\n').filter((_, i) => i !== 7 && i !== 8).join('\n');
    expect(await fs.readFile(e.results, 'utf8')).toBe(expected);
  });

  it('an intact ledger: rebuilt identical, the old one still saved', async () => {
    const e = await copyExperiment();
    const r = await e.rebuild();
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('(byte for byte the same as the rebuilt one)');
    expect(await fs.readFile(e.results)).toEqual(original);
    expect(await savedFiles(e.dir)).toHaveLength(1);
  });

  it('each result.json holds exactly its row', async () => {
    const rows = parseLedgerText(original.toString('utf8'), 'results.tsv').rows;
    for (const row of rows) {
      const json = JSON.parse(await fs.readFile(path.join(project.expDir, 'runs', String(row.iteration).padStart(5, '0'), 'result.json'), 'utf8'));
      expect(formatRow(rowFromArtifact(json), LEDGER_COLUMNS)).toBe(formatRow(row, LEDGER_COLUMNS));
    }
  });

  it('a ledger written by the Python skill (no artifacts) is carried over under the current header', async () => {
    const seed = await fixture('python-skill.tsv');
    const root = await makeResultsProject({ 'python/skill': { config: CONFIG.pythonSkill, results: seed } });
    const r = await runCli(['--path', root, 'results', 'python/skill', '--rebuild'], { env: project.env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('with 7 rows (0 from runs/*/result.json, 7 carried over from the old file)');
    const rebuilt = await fs.readFile(path.join(root, '.autoresearch/python/skill/results.tsv'), 'utf8');
    expect(rebuilt.split('\n')[0]).toBe(LEDGER_COLUMNS.join('\t'));
    expect(normalise(parseLedgerText(rebuilt, 'rebuilt').rows)).toEqual(normalise(parseLedgerText(seed, 'seed').rows));
  });

  it('refuses while a run holds the experiment, and changes nothing', async () => {
    const busy = await makeProject({ plan: ['sleep 30'] });
    const run = startCli(['--path', busy.root, 'run', busy.id], { env: busy.env });
    try {
      await run.waitFor(/#1 agent/);
      const before = await busy.results();
      const r = await runCli(['--path', busy.root, 'results', busy.id, '--rebuild'], { env: busy.env });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`refusing to rebuild .*results\\.tsv: experiment test/exp is already running \\(pid ${run.pid} `));
      expect(await busy.results()).toBe(before);
      expect(await savedFiles(busy.expDir)).toEqual([]);
    } finally {
      process.kill(run.pid, 'SIGTERM'); // the run we started: a graceful stop
      await run.result();
    }
  });

  it('after a rebuild, the experiment runs on from where it was', async () => {
    await fs.rm(path.join(project.expDir, 'results.tsv'));
    expect((await runCli(['--path', project.root, 'results', project.id, '--rebuild'], { env: project.env })).exitCode).toBe(0);
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const text = await project.results();
    expect(text.startsWith(original.toString('utf8'))).toBe(true);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.reason]).at(-1)).toEqual(['9', 'discard', 'no_change']);
  });

  it('bad input: --rebuild needs an id, and takes neither --format nor -o', async () => {
    const noId = await runCli(['--path', project.root, 'results', '--rebuild'], { env: project.env });
    expect(noId.exitCode).toBe(1);
    expect(noId.stderr).toMatch(/results --rebuild: expected an experiment id/);
    const withFormat = await runCli(['--path', project.root, 'results', project.id, '--rebuild', '--format', 'csv'], { env: project.env });
    expect(withFormat.exitCode).toBe(1);
    expect(withFormat.stderr).toMatch(/--format, -o, --status and --last do not apply/);
  });
});

describe('results --rebuild: evidence and guard columns (issue 11)', () => {
  it('restores samples, mean, spread, p_value and each guard column from result.json; a ledger rebuilt from its own artifacts is byte for byte the same', async () => {
    const e = await copyExperiment();
    // What a run with repeats and `guard: memory_gb <= 40` writes: the row's fields, evidence and guards included.
    const resultFile = (n: number) => path.join(e.dir, 'runs', String(n).padStart(5, '0'), 'result.json');
    const edit = async (n: number, extra: Record<string, unknown>) => {
      const json = JSON.parse(await fs.readFile(resultFile(n), 'utf8')) as Record<string, unknown>;
      await fs.writeFile(resultFile(n), JSON.stringify({ ...json, ...extra }, null, 2));
    };
    await edit(0, { evidence: { samples: 3, mean: 10, spread: 0.0021, pValue: null }, guards: { memory_gb: 38.5 }, samples: [10.002, 9.998, 10] });
    await edit(1, { evidence: { samples: 5, mean: 5, spread: 0.003, pValue: 0.0004 }, guards: { memory_gb: null }, samples: [5, 5, 5, 5, 5] });
    await fs.rm(e.results);
    const report = rebuildLedger({ results: e.results, runs: path.join(e.dir, 'runs'), guards: ['val_acc', 'memory_gb'] });
    expect(report.skipped).toEqual([]);
    const text = await fs.readFile(e.results, 'utf8');
    const parsed = parseLedgerText(text, e.results);
    expect(parsed.columns).toEqual([...LEDGER_COLUMNS, 'val_acc', 'memory_gb']);
    expect(parsed.rows.slice(0, 3).map((row) => [row.evidence, row.guards])).toEqual([
      [{ samples: 3, mean: 10, spread: 0.0021, pValue: null }, { memory_gb: 38.5 }],
      [{ samples: 5, mean: 5, spread: 0.003, pValue: 0.0004 }, { memory_gb: null }],
      [parseLedgerText(original.toString('utf8'), 'results.tsv').rows[2]?.evidence, {}], // as the run wrote it
    ]);
    expect(text.split('\n')[2]?.endsWith('\t5\t5.000000\t0.003000\t0.0004\t\tN/A')).toBe(true);

    // Rebuilt again (no config this time): the columns come from the old file, the bytes are the same.
    const again = rebuildLedger({ results: e.results, runs: path.join(e.dir, 'runs') });
    expect(again.identical).toBe(true);
    expect(again.differed).toEqual([]);
  });

  it('skips a result.json whose evidence or guards are malformed, saying which key', async () => {
    const e = await copyExperiment();
    const file = path.join(e.dir, 'runs', '00001', 'result.json');
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    await fs.writeFile(file, JSON.stringify({ ...json, evidence: { samples: 2, mean: 'high', spread: null, pValue: null } }));
    const report = rebuildLedger({ results: e.results, runs: path.join(e.dir, 'runs') });
    expect(report.skipped).toEqual([{ what: file, why: 'does not parse: evidence.mean: expected a number or null, found "high"' }]);
    expect(report.carriedOver).toEqual([1]);
  });
});

describe('results <id> --rebuild after a revalidation', () => {
  it('a revalidation_failed row comes back byte for byte (its detail included), and a reproduced revalidation is not called a stray directory', async () => {
    // `lucky` is worth 9, but its first evaluation prints 7: the revalidation after it (iteration 3) undoes it.
    const { project: p, env } = await luckyKeepProject();
    const r = await runCli(['--path', p.root, 'run', p.id, '--max-experiments', '3'], { env, timeoutMs: 120_000 });
    expect(r.exitCode).toBe(0);
    const results = path.join(p.expDir, 'results.tsv');
    const before = await fs.readFile(results, 'utf8');
    const rows = parseLedgerText(before, results).rows;
    expect(rows.map((row) => row.reason)).toEqual(['baseline', 'improved', 'improved', 'revalidation_failed', 'improved']);
    expect(rows[3]?.detail).toMatch(/^revalidation_failed: /);

    await fs.rm(results);
    const rebuilt = await runCli(['--path', p.root, 'results', p.id, '--rebuild'], { env });
    expect(rebuilt.exitCode).toBe(0);
    expect(await fs.readFile(results, 'utf8')).toBe(before);
    // The revalidation after keep 1 reproduced: its run directory was set aside, and is said to be that.
    expect(rebuilt.stdout).not.toMatch(/not an iteration directory/);
    expect(rebuilt.stdout).toMatch(/revalidated-\d+: a revalidation that wrote no row \(its keeps reproduced, or it could not measure\)/);
  }, 120_000);
});
