/**
 * A night with a lucky keep that a revalidation undoes (issue 11): value.txt `lucky` is worth 9,
 * but its first evaluation prints 7. With revalidate_every 1 and --max-experiments 3 the rows
 * are: baseline 10, keep 9, keep 7 (lucky), discard revalidation_failed (iteration 3, no agent
 * turn), keep 8. Plan line N is iteration N's edit, so line 3 is empty.
 */
import path from 'node:path';
import { runCli, type CliResult } from './cli.js';
import { makeTempDir } from './git-repo.js';
import { makeProject, type TestProject } from './project.js';

export const LUCKY_EVALUATE = 'v=$(cat value.txt)\ncase $v in lucky) if [ ! -e "$LUCK_FILE" ]; then touch "$LUCK_FILE"; v=7; else v=9; fi;; esac\necho "score: $v"\n';
export const LUCKY_PLAN = [`echo 9 > value.txt && git commit -qam nine`, `echo lucky > value.txt && git commit -qam lucky`, ``, `echo 8 > value.txt && git commit -qam eight`];

export async function luckyKeepProject(): Promise<{ project: TestProject; env: Record<string, string> }> {
  const luck = path.join(await makeTempDir('ar-luck-'), 'used');
  const project = await makeProject({ config: { revalidate_every: '1' }, files: { 'evaluate.sh': LUCKY_EVALUATE }, plan: LUCKY_PLAN });
  return { project, env: { ...project.env, LUCK_FILE: luck } };
}

/** The whole night: `run --max-experiments 3`. */
export function runLuckyNight(lucky: { project: TestProject; env: Record<string, string> }): Promise<CliResult> {
  const { project, env } = lucky;
  return runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env, timeoutMs: 120_000 });
}
