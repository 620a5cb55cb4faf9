/**
 * A project whose baseline has run, and the means to leave it as a kill -9 would: a
 * candidate commit on the experiment branch, an intent in state.json naming any child
 * record, a row already in the ledger. The next `run` has to recover from that.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { git, makeProject, type TestProject } from '../../helpers/project.js';

export interface BaselineProject extends TestProject {
  /** The baseline commit (state.json lastKept). */
  base: string;
  worktreeDir: string;
  branch: string;
  stateFile: string;
  state(): StateFile;
  writeState(state: StateFile): void;
}

export interface ChildRecordJson {
  pid: number;
  pgid: number;
  startTime: number | null;
  bootId: string | null;
}

export type StateFile = Record<string, unknown> & {
  lastKept: { commit: string; metric: number | null; iteration: number | null };
  intent: null | { phase: 'agent' | 'eval'; iteration: number; base: string; candidate?: string; child: ChildRecordJson | null };
};

/** `plan` lines are the agent's edits for iterations 1, 2, … (iteration 0 is the baseline). */
export async function projectWithBaseline(plan: string[] = [], config: Record<string, string> = {}): Promise<BaselineProject> {
  const project = await makeProject({ plan, config });
  const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
  expect(r.exitCode, r.stderr).toBe(0);
  const stateFile = path.join(project.expDir, 'state.json');
  const read = () => JSON.parse(fs.readFileSync(stateFile, 'utf8')) as StateFile;
  const initial = read();
  return {
    ...project,
    base: initial.lastKept.commit,
    worktreeDir: await project.worktree(),
    branch: `autoresearch/${project.id}`,
    stateFile,
    state: read,
    writeState: (state) => fs.writeFileSync(stateFile, JSON.stringify(state, null, 2) + '\n'),
  };
}

/** A candidate commit on the experiment branch, as the capture step leaves it before the evaluation. */
export async function commitCandidate(project: BaselineProject, value: string): Promise<string> {
  fs.writeFileSync(path.join(project.worktreeDir, 'value.txt'), `${value}\n`);
  await git(project.worktreeDir, 'commit', '-q', '-am', `value ${value}`);
  return git(project.worktreeDir, 'rev-parse', 'HEAD');
}

export async function branchTip(project: BaselineProject): Promise<string> {
  return git(project.root, 'rev-parse', `refs/heads/${project.branch}`);
}
