/**
 * The batch script, run here with /bin/sh (no cluster needed): what the job does on a node.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { readExitFile } from '../../../src/measure/slurm/exit-file.js';
import { jobFiles, writeJobScript, type JobScriptSpec } from '../../../src/measure/slurm/job-script.js';

async function runScript(command: string, opts: { timeoutMs?: number; env?: Record<string, string | undefined>; submitEnv?: Record<string, string | undefined> } = {}) {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'ar-jobscript-')));
  const worktree = path.join(dir, 'worktree');
  await fs.mkdir(worktree);
  const files = jobFiles(path.join(dir, 'run', 'eval.log'));
  const spec: JobScriptSpec = {
    jobName: 'ar-x-1-abc-eval',
    command,
    cwd: worktree,
    env: opts.env ?? { PATH: process.env.PATH },
    submitEnv: opts.submitEnv ?? { PATH: process.env.PATH },
    exitFile: files.exit,
    timeoutMs: opts.timeoutMs ?? 20_000,
    killGraceMs: 300,
  };
  await writeJobScript(files.script, spec);
  // As sbatch --export=ALL hands it: the submitter's environment.
  const result = await execa('/bin/sh', [files.script], { env: spec.submitEnv as Record<string, string>, extendEnv: false, reject: false, cwd: dir });
  return { result, files, worktree, exit: await readExitFile(files.exit, systemClock, 0), mode: (await fs.stat(files.script)).mode & 0o777 };
}

describe('job script', () => {
  it('is named after the log and holds the environment privately (0600)', async () => {
    expect(jobFiles('/r/eval.2.log')).toEqual({ log: '/r/eval.2.log', script: '/r/eval.2.job.sh', exit: '/r/eval.2.log.exit' });
    const { mode } = await runScript('true');
    expect(mode).toBe(0o600);
  });

  it('runs the command in the worktree and writes `exit N` with its time', async () => {
    const { result, exit, worktree } = await runScript('pwd; exit 3');
    expect(result.stdout.trim()).toBe(worktree);
    expect(result.exitCode).toBe(3);
    expect(exit).toMatchObject({ kind: 'exit', code: 3, node: os.hostname() });
    expect(exit?.elapsedMs).toEqual(expect.any(Number));
  });

  it('reports a signal that killed the command by its name', async () => {
    const { exit } = await runScript('kill -KILL $$');
    expect(exit).toMatchObject({ kind: 'signal', signal: 'SIGKILL' });
  });

  it('times the command out inside the job: the whole group dies, `timeout`', async () => {
    const started = Date.now();
    const { exit } = await runScript('trap "" TERM; (sleep 30) & sleep 30', { timeoutMs: 500 });
    // TERM is ignored: the KILL after the grace ends it.
    expect(exit).toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a command that exits 124 by itself before its time is an exit, not a timeout', async () => {
    const { exit } = await runScript('exit 124', { timeoutMs: 10_000 });
    expect(exit).toMatchObject({ kind: 'exit', code: 124 });
  });

  it('sets exactly the request’s environment: values quoted, left-out variables unset, SLURM’s and the GPUs’ untouched', async () => {
    const tricky = `a,b 'c' "d" $HOME \`x\` \\ \n second line`;
    const { result } = await runScript('printf "%s|" "$TRICKY" "${GIT_DIR-unset}" "${CUDA_VISIBLE_DEVICES-unset}" "${SLURM_JOB_ID-unset}" "$PYTHONUNBUFFERED" "$KEPT"', {
      env: { PATH: process.env.PATH, TRICKY: tricky, KEPT: 'yes', CUDA_VISIBLE_DEVICES: '5', SLURM_JOB_ID: 'mine', 'NOT-A-NAME': 'x' },
      submitEnv: { PATH: process.env.PATH, GIT_DIR: '/elsewhere/.git', KEPT: 'old', CUDA_VISIBLE_DEVICES: '1', SLURM_JOB_ID: '42' },
    });
    expect(result.stdout).toBe(`${tricky}|unset|1|42|1|yes|`);
  });

  it('keeps PYTHONUNBUFFERED when the request sets it', async () => {
    const { result } = await runScript('printf %s "$PYTHONUNBUFFERED"', { env: { PATH: process.env.PATH, PYTHONUNBUFFERED: '' } });
    expect(result.stdout).toBe('');
  });

  it('a worktree the node does not see: `spawn-error` saying so', async () => {
    const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'ar-jobscript-')));
    const files = jobFiles(path.join(dir, 'eval.log'));
    await writeJobScript(files.script, { jobName: 'j', command: 'true', cwd: path.join(dir, 'missing'), env: {}, submitEnv: {}, exitFile: files.exit, timeoutMs: 1000, killGraceMs: 100 });
    await execa('/bin/sh', [files.script], { reject: false, cwd: dir });
    const exit = await readExitFile(files.exit, systemClock, 0);
    expect(exit).toMatchObject({ kind: 'spawn-error' });
    expect(exit?.kind === 'spawn-error' && exit.message).toMatch(/cannot cd to .*missing on .*: is the worktree on a filesystem this node shares\?/);
  });
});
