/**
 * Hostile evaluations. A process the evaluation starts that leaves the process group
 * (double fork + setsid) must not outlive the evaluation: it would edit the worktree during
 * the next agent turn or evaluation, and a row would record a metric for other code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { git, makeProject } from '../helpers/project.js';
import { ESCAPEE, EVALUATE_SH, escapeePid, isRunning, killEscapeesAfterAll } from './escapees.js';

/** Polls `probe` every 20 ms until it holds; fails after `timeoutMs`. */
async function waitUntil(what: string, probe: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function procState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

const marks = killEscapeesAfterAll();

describe('hostile evaluation', () => {
  it('kills a process the baseline evaluation left behind (setsid, double fork) before the next iteration', async () => {
    const mark = await makeTempDir('ar-escapee-');
    marks.push(mark);
    // Only the baseline's evaluation starts the escapee.
    const evaluate = `if [ "$AUTORESEARCH_ITERATION" = 0 ]; then ${ESCAPEE}; fi\n${EVALUATE_SH}`;
    const project = await makeProject({ files: { 'evaluate.sh': evaluate }, plan: ['echo 5 > value.txt'] });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: { ...project.env, MARK: mark } });
    expect(r.exitCode, r.stderr).toBe(0);
    const pid = escapeePid(mark);
    expect(pid, 'the escapee started').not.toBeNull();
    expect(isRunning(pid ?? 0), 'the escapee was killed').toBe(false);
    expect(fs.existsSync(path.join(mark, 'edited')), 'the escapee never edited the worktree').toBe(false);
    expect(r.stdout + r.stderr).toMatch(new RegExp(`killed process group ${pid}, which left the group of \`sh evaluate.sh\``));
    const rows = await project.rows();
    expect(rows.map((row) => [row.status, row.metric])).toEqual([
      ['keep', '10.000000'],
      ['keep', '5.000000'],
    ]);
    expect((await git(await project.worktree(), 'show', `${rows[1]?.commit ?? '?'}:value.txt`)).trim()).toBe('5');
  });

  it('an evaluation that finished while the loop was stopped (SIGSTOP, Ctrl-Z) longer than eval_timeout is not a timeout', async () => {
    const mark = await makeTempDir('ar-sigstop-');
    const evaluate = 'echo $$ > "$MARK/eval.pid"\nwhile [ ! -e "$MARK/go" ]; do sleep 0.02; done\necho "score: $(cat value.txt)"\n';
    const project = await makeProject({ files: { 'evaluate.sh': evaluate }, config: { eval_timeout: '2s' } });
    const cli = startCli(['--path', project.root, 'run', project.id, '--single'], { env: { ...project.env, MARK: mark } });
    try {
      const pidFile = path.join(mark, 'eval.pid');
      await waitUntil('the evaluation to start', () => /^\d+\n$/.test(fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8') : ''));
      const evalPid = Number(fs.readFileSync(pidFile, 'utf8'));
      process.kill(cli.pid, 'SIGSTOP');
      const stoppedAt = performance.now();
      await waitUntil('the CLI to be stopped', () => procState(cli.pid) === 'T');
      fs.writeFileSync(path.join(mark, 'go'), '');
      // The evaluation has exited (a zombie: its stopped parent cannot collect it)...
      await waitUntil('the evaluation to exit', () => procState(evalPid) !== 'S' && procState(evalPid) !== 'R');
      // ...and the loop stays stopped for longer than eval_timeout (the condition under test, not a sync).
      const left = 3500 - (performance.now() - stoppedAt);
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    } finally {
      process.kill(cli.pid, 'SIGCONT');
    }
    const r = await cli.result();
    expect(r.exitCode, cli.output()).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.status, row.reason, row.metric])).toEqual([['keep', 'baseline', '10.000000']]);
  });
});
