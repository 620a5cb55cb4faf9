/**
 * A running job's worktree is the commit it evaluates, for as long as it runs. After kill -9
 * in the middle of a repeated measurement, the restart replays the measurement with the same
 * job names: finished samples are read from their exit files, the running one is re-attached.
 * The replay must not check other commits out while the re-attached job runs: a training
 * script that reads a file late (a second script, a config, a data loader) would run the
 * wrong code, and its sample would be the wrong commit's (found: the replay checked the best
 * out for the already-finished drift sample while the candidate's job ran).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { SLURM_AVAILABLE, cancelJobs, shareClusterDuringFile, waitForJob } from '../helpers/slurm.js';
import { makeSlurmProject, waitUntil } from './slurm-project.js';

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: a resumed measurement and the worktree', () => {
  const cleanups = shareClusterDuringFile();

  it('kill -9 while a later sample of the candidate runs: its worktree holds the candidate until it ends', { timeout: 180_000 }, async () => {
    const project = await makeSlurmProject('tree', {
      config: { repeats: '3', noise: 'auto' },
      plan: [`echo 5 > value.txt && git commit -qam five`],
    });
    // The candidate's evaluations (5) wait for go.<AUTORESEARCH_SAMPLE>, saying what value.txt holds all along; the best's (10) score at once.
    const script = path.join(project.control, 'eval-watch.sh');
    fs.writeFileSync(
      script,
      [
        'v=$(cat value.txt)',
        'if [ "$v" != 10 ]; then',
        '  echo "waiting for go.$AUTORESEARCH_SAMPLE"',
        '  while [ ! -e "$1/go.$AUTORESEARCH_SAMPLE" ]; do echo "worktree holds $(cat value.txt)"; sleep 0.02; done',
        'fi',
        'echo "score: $(cat value.txt)"',
        '',
      ].join('\n'),
    );
    const configFile = path.join(project.expDir, 'config.cfg');
    fs.writeFileSync(configFile, fs.readFileSync(configFile, 'utf8').replace(/^evaluate_cmd: .*$/m, `evaluate_cmd: sh ${script} ${project.control}`));
    cleanups.push(() => cancelJobs(project.prefix));
    cleanups.push(() => {
      for (let n = 1; n <= 12; n++) project.release(`go.${n}`);
    });
    const runDir = path.join(project.expDir, 'runs', '00001');
    const logs = (): Array<{ file: string; text: string }> => {
      try {
        return fs.readdirSync(runDir).filter((f) => f.endsWith('.log')).map((f) => ({ file: f, text: fs.readFileSync(path.join(runDir, f), 'utf8') }));
      } catch {
        return [];
      }
    };
    const waiting = (): number[] => logs().flatMap(({ text }) => [...text.matchAll(/waiting for go\.(\d+)/g)].map((m) => Number(m[1])));

    const first = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void first.process.kill('SIGKILL'));
    await waitUntil(() => waiting().includes(1), "the candidate's first sample to wait", 120_000, () => first.output());
    project.release('go.1');
    // One sample of 5 against 10 is no keep yet: the best is sampled (drift), then the candidate again.
    await waitUntil(() => waiting().some((n) => n >= 2), 'a later sample of the candidate to wait', 60_000, () => first.output());
    const later = Math.max(...waiting());
    const running = await waitForJob(project.iterationPrefix(1), (j) => j.state === 'RUNNING', 'the later sample to be RUNNING', 30_000);
    first.process.kill('SIGKILL');
    await first.result();

    // A controller a little slow to answer (as on any busy cluster): squeue takes 0.5 s.
    const slow = await makeTempDir('ar-slow-squeue-');
    fs.writeFileSync(path.join(slow, 'squeue'), '#!/bin/sh\nsleep 0.5\nexec /usr/bin/squeue "$@"\n', { mode: 0o755 });
    const restart = startCli(project.args('run', '--max-experiments', '1'), { env: { ...project.env, PATH: `${slow}:${project.env.PATH}` } });
    cleanups.push(() => void restart.process.kill('SIGKILL'));
    await restart.waitFor(/recovered iteration 1: interrupted during eval; job \S+ \(\d+\): it is RUNNING: re-attached/, 60_000);
    // Let the replay reach the re-attached job (past the finished samples), then let it end.
    await restart.waitFor(new RegExp(`#1 eval \\(sample \\d/3, slurm job ${running.id}\\b`), 60_000);
    project.release(`go.${later}`);
    for (let n = 1; n <= 12; n++) project.release(`go.${n}`);
    const r = await restart.result();
    expect(r.exitCode, restart.output()).toBe(0);

    const watched = logs().find(({ text }) => text.includes(`waiting for go.${later}`));
    expect(watched, logs().map((l) => l.file).join(', ')).toBeDefined();
    const held = [...new Set([...watched!.text.matchAll(/worktree holds (\S+)/g)].map((m) => m[1]))];
    expect(held, `${watched!.file}:\n${watched!.text.split('\n').filter((line) => !/worktree holds 5$/.test(line)).join('\n')}`).toEqual(['5']);
  });
});
