/**
 * The user deletes an experiment's directory and starts it again (`init`, `run`): the branch
 * autoresearch/<id> still holds the earlier run's kept commits. They are never left only in
 * the reflog: saved under refs/autoresearch/<id>/backup/<ms>, and the output says so.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeProject } from '../helpers/project.js';

const BRANCH = 'autoresearch/test/exp';

async function backups(root: string): Promise<string[]> {
  const out = await git(root, 'for-each-ref', '--format=%(objectname) %(refname)', 'refs/autoresearch/test/exp/backup/');
  return out === '' ? [] : out.split('\n');
}

describe('an experiment started afresh on a branch that holds kept work', () => {
  it('init saves the branch tip under a backup ref and says so; run reuses that backup and the old keeps stay reachable', async () => {
    const project = await makeProject({ plan: ['echo 5 > value.txt && git commit -qam five', 'echo 3 > value.txt && git commit -qam three'] });
    const first = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    expect(first.exitCode, first.stderr).toBe(0);
    const oldTip = await git(project.root, 'rev-parse', BRANCH);
    expect(await git(project.root, 'log', '-1', '--format=%s', BRANCH)).toBe('three');

    const config = await fs.readFile(path.join(project.expDir, 'config.cfg'), 'utf8');
    await fs.rm(project.expDir, { recursive: true });
    const init = await runCli(
      ['--path', project.root, 'init', project.id, '--target', 'value.txt', '--eval', 'sh evaluate.sh', '--metric', 'score', '--no-baseline'],
      { env: project.env },
    );
    expect(init.exitCode, init.stderr).toBe(0);
    expect(init.stdout).toMatch(new RegExp(`the existing branch ${BRANCH} holds commits that HEAD does not.*kept as refs/autoresearch/test/exp/backup/\\d+`));
    expect(await backups(project.root)).toEqual([expect.stringMatching(new RegExp(`^${oldTip} refs/autoresearch/test/exp/backup/\\d+$`))]);

    await fs.writeFile(path.join(project.expDir, 'config.cfg'), config); // the same experiment (agent included)
    const again = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await backups(project.root)).toHaveLength(1); // the same tip: not saved twice
    expect(await git(project.root, 'log', '-1', '--format=%s', await backups(project.root).then((b) => b[0]?.split(' ')[1] ?? ''))).toBe('three');
  }, 30_000);

  it('run without init (directory and state deleted, config kept) saves the branch before the baseline moves it, and says so', async () => {
    // A unique subject: the second run's commit must not be the same object as the first's.
    const project = await makeProject({ plan: ['echo 5 > value.txt && git commit -qam "five $(date +%s%N)"'] });
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env })).exitCode).toBe(0);
    const oldTip = await git(project.root, 'rev-parse', BRANCH);
    for (const f of ['state.json', 'results.tsv']) await fs.rm(path.join(project.expDir, f));

    const again = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/kept as refs\/autoresearch\/test\/exp\/backup\/\d+/);
    expect(await git(project.root, 'merge-base', '--is-ancestor', oldTip, BRANCH).then(() => true, () => false)).toBe(false); // the branch moved on from HEAD
    expect((await backups(project.root))[0]).toMatch(new RegExp(`^${oldTip} `));
  }, 30_000);
});
