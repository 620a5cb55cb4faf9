/**
 * The experiment directory's files placed in the worktree before an evaluation: exactly the
 * user's, whatever the agent left at that path (extra modules next to the evaluator, a
 * symlink in place of a directory), and never a write outside the worktree.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { placeExperimentFilesIn } from '../../src/loop/experiment-files.js';
import { makeTempDir, writeFiles } from '../helpers/git-repo.js';

async function layout(): Promise<{ project: string; dir: string; worktree: string; config: { dir: string; scope: 'project' } }> {
  const project = await makeTempDir('ar-expfiles-project-');
  const dir = path.join(project, '.autoresearch', 'custom', 'guard');
  await writeFiles(dir, { 'evaluate.py': "import json\nprint('score:', 1)\n", 'config.cfg': 'metric: score\n', 'results.tsv': 'commit\tmetric\tstatus\tdescription\n' });
  const worktree = await makeTempDir('ar-expfiles-worktree-');
  return { project, dir, worktree, config: { dir, scope: 'project' } };
}

describe('placeExperimentFilesIn', () => {
  it("removes what the agent added next to the user's evaluator (a module the evaluator would import instead of the stdlib's)", async () => {
    const { project, worktree, config } = await layout();
    const target = path.join(worktree, '.autoresearch', 'custom', 'guard');
    await writeFiles(target, { 'json.py': "print('score: 0')\nraise SystemExit(0)\n", 'evaluate.py': "print('score: 0')\n", 'lib/helper.py': 'x = 1\n' });
    const placed = placeExperimentFilesIn(worktree, config, project).sort();
    expect(placed).toEqual([path.join('.autoresearch', 'custom', 'guard', 'config.cfg'), path.join('.autoresearch', 'custom', 'guard', 'evaluate.py')]);
    expect(fs.readdirSync(target).sort()).toEqual(['config.cfg', 'evaluate.py']);
    expect(fs.readFileSync(path.join(target, 'evaluate.py'), 'utf8')).toContain('import json');
  });

  it("never writes through a symlink the agent put in the worktree's path: the user's files stay, the worktree gets a real directory", async () => {
    const { project, dir, worktree, config } = await layout();
    // The agent links the worktree's .autoresearch to the user's real one.
    fs.symlinkSync(path.join(project, '.autoresearch'), path.join(worktree, '.autoresearch'));
    placeExperimentFilesIn(worktree, config, project);
    expect(fs.readFileSync(path.join(dir, 'evaluate.py'), 'utf8')).toContain('import json');
    expect(fs.readFileSync(path.join(dir, 'results.tsv'), 'utf8')).toBe('commit\tmetric\tstatus\tdescription\n');
    expect(fs.lstatSync(path.join(worktree, '.autoresearch')).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(path.join(worktree, '.autoresearch', 'custom', 'guard', 'evaluate.py'), 'utf8')).toContain('import json');
  });

  it('places a symlink of the experiment directory (data the user linked there) as the same link', async () => {
    const { project, dir, worktree, config } = await layout();
    const data = await makeTempDir('ar-expfiles-data-');
    await writeFiles(data, { 'train.csv': 'a,b\n' });
    fs.symlinkSync(data, path.join(dir, 'data'));
    placeExperimentFilesIn(worktree, config, project);
    expect(fs.readFileSync(path.join(worktree, '.autoresearch', 'custom', 'guard', 'data', 'train.csv'), 'utf8')).toBe('a,b\n');
  });
});
