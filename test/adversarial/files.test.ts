/**
 * The user's files during and between runs: results.tsv replaced or deleted mid-run, malformed
 * state and config files. Through the real CLI; the scripted agent's plan line N runs during
 * iteration N, before its row is written, which is exactly "during the run".
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeProject, type TestProject } from '../helpers/project.js';

async function run(project: TestProject, n: number) {
  return runCli(['--path', project.root, 'run', project.id, '--max-experiments', String(n)], { env: project.env });
}

async function iterations(project: TestProject): Promise<string[]> {
  return (await project.rows()).map((row) => row.iteration ?? '');
}

describe('adversarial files: results.tsv replaced during a run', () => {
  it('sed -i mid-run: later rows go to the new file, and a restart numbers on', async () => {
    const project = await makeProject();
    const results = path.join(project.expDir, 'results.tsv');
    await fs.writeFile(project.planFile, [`echo 9 > value.txt`, `sed -i 's/baseline/the baseline/' '${results}' && echo 8 > value.txt`, `echo 7 > value.txt`].join('\n') + '\n');
    const r = await run(project, 3);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/results\.tsv was replaced during the run; appending to the file now at that path/);
    expect(await iterations(project)).toEqual(['0', '1', '2', '3']);
    expect((await project.rows())[0]?.description).toMatch(/^the baseline/);

    const again = await run(project, 1);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await iterations(project)).toEqual(['0', '1', '2', '3', '4']);
  });

  it('an editor saving by rename and removing rows: they stay removed, their numbers are never reused, even after a restart', async () => {
    const project = await makeProject();
    const results = path.join(project.expDir, 'results.tsv');
    // Iteration 3 drops the rows of iterations 1 and 2 (an editor: write a copy, rename it over).
    const dropRows = `awk -F'\\t' '$5 != "1" && $5 != "2"' '${results}' > '${results}.swp' && mv '${results}.swp' '${results}'`;
    await fs.writeFile(project.planFile, [`echo 11 > value.txt`, `echo 12 > value.txt`, `${dropRows} && echo 9 > value.txt`].join('\n') + '\n');
    const r = await run(project, 3);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/rows of iterations 1, 2 were removed from it \(their numbers are not reused/);
    expect(await iterations(project)).toEqual(['0', '3']);

    const again = await run(project, 1);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/has no row for iterations 1, 2 \(recorded in .*runs\/\): rows were removed; numbering continues at 4/);
    expect(await iterations(project)).toEqual(['0', '3', '4']);
  });

  it('deleted mid-run: written again with every row, nothing lost', async () => {
    const project = await makeProject();
    const results = path.join(project.expDir, 'results.tsv');
    await fs.writeFile(project.planFile, [`echo 9 > value.txt`, `rm '${results}' && echo 8 > value.txt`, `echo 7 > value.txt`].join('\n') + '\n');
    const r = await run(project, 3);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/results\.tsv was deleted during the run; written again from the rows this run holds/);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '9.000000'],
      ['2', 'keep', '8.000000'],
      ['3', 'keep', '7.000000'],
    ]);
  });

  it('replaced by a file that does not parse: a located error, the row kept in result.json, restored by --rebuild', async () => {
    const project = await makeProject();
    const results = path.join(project.expDir, 'results.tsv');
    await fs.writeFile(project.planFile, [`echo 9 > value.txt`, `printf 'not a ledger\\n' > '${results}.x' && mv '${results}.x' '${results}' && echo 8 > value.txt`].join('\n') + '\n');
    const r = await run(project, 2);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/results\.tsv was replaced during the run and no longer reads as a ledger: .*results\.tsv:1: expected a header starting with commit<TAB>metric/);
    expect(r.stderr).not.toMatch(/internal error/i);
    const artifact = JSON.parse(await fs.readFile(path.join(project.expDir, 'runs', '00002', 'result.json'), 'utf8'));
    expect([artifact.iteration, artifact.status, artifact.metric]).toEqual([2, 'keep', 8]);

    const rebuilt = await runCli(['--path', project.root, 'results', project.id, '--rebuild'], { env: project.env });
    expect(rebuilt.exitCode, rebuilt.stderr).toBe(0);
    const again = await run(project, 1);
    expect(again.exitCode, again.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '9.000000'],
      ['2', 'keep', '8.000000'],
      ['3', 'discard', 'N/A'], // the plan has no line 3: no change
    ]);
    // The restored keep was finished on restart: the branch holds iteration 2's commit.
    expect(await git(project.root, 'rev-parse', '--short=7', 'autoresearch/test/exp')).toBe((await project.rows())[2]?.commit);
  });
});

describe('adversarial files: malformed files give located errors', () => {
  it('state.json with a value of the wrong type: exit 1 naming the file and the key, nothing reset', async () => {
    const project = await makeProject({ plan: [`echo 9 > value.txt`, `echo 8 > value.txt`] });
    expect((await run(project, 1)).exitCode).toBe(0);
    const stateFile = path.join(project.expDir, 'state.json');
    const state = JSON.parse(await fs.readFile(stateFile, 'utf8'));
    state.lastKept.metric = 'fast';
    await fs.writeFile(stateFile, JSON.stringify(state));
    const before = await project.results();

    const r = await run(project, 1);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${stateFile}: expected key lastKept.metric to be a finite number or null, found "fast" (string)`);
    expect(r.stderr).not.toMatch(/internal error/i);
    expect(await project.results()).toBe(before);
    expect(JSON.parse(await fs.readFile(stateFile, 'utf8')).lastKept.metric).toBe('fast'); // left for inspection
  });

  it('a ledger saved with a UTF-8 BOM is read and continued', async () => {
    const project = await makeProject({ plan: [`echo 9 > value.txt`, `echo 8 > value.txt`] });
    expect((await run(project, 1)).exitCode).toBe(0);
    const results = path.join(project.expDir, 'results.tsv');
    await fs.writeFile(results, `\uFEFF${await fs.readFile(results, 'utf8')}`);
    const r = await run(project, 1);
    expect(r.exitCode, r.stderr).toBe(0);
    const text = await fs.readFile(results, 'utf8');
    expect(text.startsWith('\uFEFFcommit\t')).toBe(true);
    expect(text.trimEnd().split('\n').slice(1).map((line) => line.split('\t')[4])).toEqual(['0', '1', '2']);
  });

  it('program: pointing at a directory or at a missing file: exit 1 naming the key and the path, before any row', async () => {
    for (const [program, found] of [
      ['instructions', 'a directory'],
      ['missing.md', 'nothing'],
    ] as const) {
      const project = await makeProject({ config: { program } });
      if (program === 'instructions') await fs.mkdir(path.join(project.expDir, program));
      const r = await run(project, 1);
      expect(r.exitCode, program).toBe(1);
      expect(r.stderr).toContain(`${path.join(project.expDir, 'config.cfg')}: program: expected a`);
      expect(r.stderr).toContain(`found ${found} at ${path.join(project.expDir, program)}`);
      expect(r.stderr).not.toMatch(/internal error/i);
      await expect(fs.stat(path.join(project.expDir, 'results.tsv'))).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('a pause.request that cannot be taken: a warning naming it, and the loop goes on', async () => {
    const project = await makeProject();
    // A directory where the request file goes: unlink fails (EISDIR/EPERM), as a permission error would.
    await fs.writeFile(project.planFile, [`mkdir '${path.join(project.expDir, 'pause.request')}' && echo 9 > value.txt`, `echo 8 > value.txt`, `echo 7 > value.txt`].join('\n') + '\n');
    const r = await run(project, 3);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${path.join(project.expDir, 'pause.request')}: cannot take the pause request`);
    expect(r.stderr.split('\n').filter((line) => line.includes('cannot take the pause request')), r.stderr).toHaveLength(1); // once, not on every check
    expect(await iterations(project)).toEqual(['0', '1', '2', '3']);
  });
});
