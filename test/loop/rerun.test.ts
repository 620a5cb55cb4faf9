/** `rerun`: past candidates evaluated again without the agent; rows appended, history kept. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';

describe('rerun', () => {
  it('re-evaluates crashes the machine caused on top of the current best, keeps a winner, and never rewrites history', async () => {
    const flaky = path.join(await makeTempDir('ar-flaky-'), 'machine-is-broken');
    await fs.writeFile(flaky, '');
    const project = await makeProject({
      files: { 'bonus.txt': '0\n' },
      config: {
        target: 'value.txt, bonus.txt',
        // The "machine" fails while the flag file exists, whatever the candidate.
        evaluate_cmd: `[ -f ${flaky} ] && exit 1; echo "score: $(( $(cat value.txt) - $(cat bonus.txt) ))"`,
      },
      plan: ['echo 5 > value.txt && git commit -qam "five"', 'echo 7 > value.txt && git commit -qam "seven"', 'echo 1 > bonus.txt && git commit -qam "bonus"'],
    });
    await fs.writeFile(path.join(project.expDir, 'config.cfg'), (await fs.readFile(path.join(project.expDir, 'config.cfg'), 'utf8')).replace(`[ -f ${flaky} ] && exit 1; `, ''));
    expect((await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env })).exitCode).toBe(0); // baseline, healthy
    await fs.writeFile(path.join(project.expDir, 'config.cfg'), (await fs.readFile(path.join(project.expDir, 'config.cfg'), 'utf8')).replace('evaluate_cmd: ', `evaluate_cmd: [ -f ${flaky} ] && exit 1; `));
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env })).exitCode).toBe(0);
    await fs.rm(flaky);
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env })).exitCode).toBe(0);
    const before = await project.results();
    expect((await project.rows()).map((r) => [r.iteration, r.status, r.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'crash', 'N/A'],
      ['2', 'crash', 'N/A'],
      ['3', 'keep', '9.000000'],
    ]);

    const dry = await runCli(['--path', project.root, 'rerun', project.id, '--status', 'crash', '--dry-run'], { env: project.env });
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(/would re-evaluate 2 candidate\(s\)[\s\S]*#1 crash eval_exit .* five[\s\S]*#2 crash eval_exit .* seven/);
    expect(await project.results()).toBe(before);

    const r = await runCli(['--path', project.root, 'rerun', project.id, '--status', 'crash'], { env: project.env });
    expect(r.exitCode).toBe(0);
    // #1's change (value 10 → 5) applies on top of the best (bonus 1): 5 - 1 = 4 beats 9 and is kept.
    // #2's change (10 → 7) no longer applies once value is 5: skipped, no row.
    expect(r.stdout).toMatch(/#2: the change of #2 .* does not apply to the current best; skipped/);
    const after = await project.results();
    expect(after.startsWith(before)).toBe(true); // appended, never rewritten
    expect((await project.rows()).slice(4).map((row) => [row.iteration, row.status, row.metric, row.agent, row.description])).toEqual([
      ['4', 'keep', '4.000000', 'rerun', 'rerun of #1: five'],
    ]);
    const result = JSON.parse(await fs.readFile(path.join(project.expDir, 'runs', '00004', 'result.json'), 'utf8'));
    expect(result.rerunOf).toBe(1);
  });

  it('skips a crash that has no candidate (the agent failed before changing anything): no row', async () => {
    const project = await makeProject({ plan: ['exit 1'] });
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env })).exitCode).toBe(0);
    const before = await project.results();
    const r = await runCli(['--path', project.root, 'rerun', project.id, '--status', 'crash'], { env: project.env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/#1: no candidate commit to rerun \(agent_exit\); skipped/);
    expect(await project.results()).toBe(before);
  });

  it('refuses bad selections', async () => {
    const project = await makeProject();
    const none = await runCli(['--path', project.root, 'rerun', project.id], { env: project.env });
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/expected --status .* or --iterations/);
    const bad = await runCli(['--path', project.root, 'rerun', project.id, '--iterations', '9-3'], { env: project.env });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/--iterations: expected a range from low to high, found `9-3`/);
  });
});
