/**
 * A user project whose evaluations run as SLURM jobs: test/helpers/project.ts's repo (value.txt
 * is the "model", a plan of shell edits is the agent) with `executor: slurm` and the evaluation
 * test/fixtures/slurm/eval.sh, which value.txt steers (score, wait for a file, hang, exit) and a
 * control directory outside the repo lets the test release. The experiment id is unique, so
 * the jobs named `ar-<id>@…:…` are this test's alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject, type TestProject } from '../helpers/project.js';
import { iterationPrefix, jobPrefix, uniqueExperimentId } from '../helpers/slurm.js';

export const SLURM_EVAL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/slurm/eval.sh');

export interface SlurmProject extends TestProject {
  /** Where the evaluation looks for release files (`<n> wait <name>`) and leaves `<name>.ran` marks. */
  control: string;
  /** Every job of this experiment is named `<prefix>…`. */
  prefix: string;
  /** The prefix of iteration n's jobs. */
  iterationPrefix(n: number): string;
  /** Lets an evaluation waiting for `name` go on. */
  release(name: string): void;
  /** runs/<n>/eval.log ('' while it does not exist). */
  evalLog(n: number): string;
  /** The CLI arguments `--path <root> <command> <id> …`. */
  args(command: string, ...rest: string[]): string[];
}

export async function makeSlurmProject(label: string, opts: { config?: Record<string, string>; plan?: string[]; value?: string } = {}): Promise<SlurmProject> {
  const control = await makeTempDir('ar-slurm-control-');
  const id = uniqueExperimentId(label);
  const project = await makeProject({
    id,
    plan: opts.plan ?? [],
    files: { 'value.txt': `${opts.value ?? '10'}\n` },
    config: {
      executor: 'slurm',
      evaluate_cmd: `sh ${SLURM_EVAL} ${control}`,
      // Generous: a loaded CI machine; the timeout test sets its own.
      eval_timeout: '120s',
      ...opts.config,
    },
  });
  return {
    ...project,
    control,
    prefix: jobPrefix(id, project.expDir),
    iterationPrefix: (n) => iterationPrefix(id, project.expDir, n),
    release: (name) => fs.writeFileSync(path.join(control, name), ''),
    evalLog(n) {
      try {
        return fs.readFileSync(path.join(project.expDir, 'runs', String(n).padStart(5, '0'), 'eval.log'), 'utf8');
      } catch {
        return '';
      }
    },
    args: (command, ...rest) => ['--path', project.root, command, id, ...rest],
  };
}

/** Polls `check` until it holds (state on disk, squeue, output); never a blind sleep. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, detail?: () => string | Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${await detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
