/**
 * What surrounds the iterations: `init` through the CLI, setup_cmd once per fresh worktree,
 * the prompt on stdin and in a file, `run --resume`, and the JSON log.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeRepo, writeFiles } from '../helpers/git-repo.js';
import { cliEnv, git, makeProject, PLAN_AGENT } from '../helpers/project.js';

describe('around the loop', () => {
  it('init through the CLI writes an experiment that runs', async () => {
    const root = await makeRepo({ 'value.txt': '10\n', 'evaluate.sh': 'echo "score: $(cat value.txt)"\n' });
    const init = await runCli(
      ['--path', root, 'init', 'eng/first', '--target', 'value.txt', '--eval', 'sh evaluate.sh', '--metric', 'score', '--agent', `sh ${PLAN_AGENT}`],
      { env: cliEnv() },
    );
    expect(init.stderr).toBe('');
    expect(init.exitCode).toBe(0);
    const dir = path.join(root, '.autoresearch', 'eng', 'first');
    expect((await fs.readdir(dir)).sort()).toEqual(['.gitignore', 'config.cfg', 'program.md', 'results.tsv']);
    expect(await fs.readFile(path.join(dir, 'program.md'), 'utf8')).toMatch(/one idea/i);

    const planFile = path.join(dir, 'plan.txt');
    await fs.writeFile(planFile, 'echo 3 > value.txt && git commit -qam "three"\n');
    const run = await runCli(['--path', root, 'run', 'eng/first', '--max-experiments', '1'], { env: cliEnv({ PLAN_FILE: planFile }) });
    expect(run.exitCode).toBe(0);
    const rows = (await fs.readFile(path.join(dir, 'results.tsv'), 'utf8')).trimEnd().split('\n').slice(1);
    expect(rows.map((r) => r.split('\t').slice(1, 4))).toEqual([
      ['10.000000', 'keep', 'baseline'],
      ['3.000000', 'keep', 'three'],
    ]);
    // The agent got the prompt on stdin, identical to $AUTORESEARCH_PROMPT_FILE (runs/00001/prompt.md).
    const runDir = path.join(dir, 'runs', '00001');
    expect(await fs.readFile(path.join(runDir, 'stdin.txt'), 'utf8')).toBe(await fs.readFile(path.join(runDir, 'prompt.md'), 'utf8'));
    // Every event is a JSON line in the experiment's log.
    const log = (await fs.readFile(path.join(dir, 'autoresearch.log'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(log.filter((l) => l.kind === 'iteration-end').map((l) => l.status)).toEqual(['keep', 'keep']);
    expect(log.every((l) => l.experiment === 'eng/first')).toBe(true);
  });

  it('runs setup_cmd once per fresh worktree, and again if the worktree is recreated', async () => {
    const project = await makeProject({ plan: ['echo 9 > value.txt', 'echo 8 > value.txt'] });
    const counter = path.join(project.expDir, 'setup-count');
    const config = path.join(project.expDir, 'config.cfg');
    // The setup's product is ignored (ignored/ is in .gitignore): it survives every rollback.
    await fs.appendFile(config, `setup_cmd: echo run >> ${counter} && mkdir -p ignored && echo ok > ignored/deps\n`);
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env })).exitCode).toBe(0);
    const worktree = await project.worktree();
    expect(await fs.readFile(path.join(worktree, 'ignored', 'deps'), 'utf8')).toBe('ok\n');
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env })).exitCode).toBe(0);
    expect((await fs.readFile(counter, 'utf8')).split('\n').filter(Boolean).length).toBe(1);

    await git(project.root, 'worktree', 'remove', '--force', worktree);
    expect((await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env })).exitCode).toBe(0);
    expect((await fs.readFile(counter, 'utf8')).split('\n').filter(Boolean).length).toBe(2);
  });

  it('a failing setup_cmd stops with its log and writes no row', async () => {
    const project = await makeProject({ config: { setup_cmd: 'echo "missing dependency" >&2; exit 4' } });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/setup_cmd `echo "missing dependency" >&2; exit 4` failed \(exit code 4\)/);
    expect(r.stderr).toContain('missing dependency');
    expect(await project.rows()).toEqual([]);
  });

  it('run --resume continues the most recently active experiment', async () => {
    const project = await makeProject({ plan: ['echo 4 > value.txt'] });
    await writeFiles(path.join(project.root, '.autoresearch', 'test', 'other'), {
      'config.cfg': 'target: value.txt\nevaluate_cmd: sh evaluate.sh\nmetric: score\n',
    });
    expect((await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env })).exitCode).toBe(0);
    const resumed = await runCli(['--path', project.root, 'run', '--resume', '--single'], { env: project.env });
    expect(resumed.exitCode).toBe(0);
    expect(resumed.stdout).toContain('autoresearch test/exp');
    expect((await project.rows()).map((r) => r.status)).toEqual(['keep', 'keep']);
  });
});
