/** A project repo with one experiment worktree, as the loop sets it up; and small git queries for assertions. */
import { branchName } from '../../src/experiment/paths.js';
import { worktreePath } from '../../src/experiment/worktree-location.js';
import { openProject, type ProjectRepo } from '../../src/git/project-repo.js';
import type { Worktree } from '../../src/git/worktree.js';
import { git, makeRepo } from '../helpers/git-repo.js';

export interface Experiment {
  repo: string;
  project: ProjectRepo;
  wt: Worktree;
  wtPath: string;
  branch: string;
  base: string;
}

export async function setupExperiment(files?: Record<string, string>, idKey = 'eng/x'): Promise<Experiment> {
  const repo = await makeRepo(files);
  const project = await openProject(repo);
  const wtPath = worktreePath(project, idKey);
  const branch = branchName(idKey);
  const base = await project.head();
  await project.ensureWorktree({ path: wtPath, branch, startPoint: base });
  return { repo, project, wt: project.worktree(wtPath), wtPath, branch, base };
}

/** Where HEAD is: the branch (short name) or 'DETACHED', and the commit. */
export async function headOf(dir: string): Promise<{ branch: string; commit: string }> {
  const branch = await git(dir, 'rev-parse', '--abbrev-ref', 'HEAD');
  return { branch: branch === 'HEAD' ? 'DETACHED' : branch, commit: await git(dir, 'rev-parse', 'HEAD') };
}

export async function parentsOf(dir: string, commit: string): Promise<string[]> {
  const line = await git(dir, 'rev-list', '--parents', '-n', '1', commit);
  return line.split(' ').slice(1);
}

export async function subjectOfCommit(dir: string, commit: string): Promise<string> {
  return git(dir, 'log', '-1', '--format=%s', commit);
}

export async function porcelain(dir: string): Promise<string> {
  return git(dir, 'status', '--porcelain', '--untracked-files=all');
}
