/**
 * kill -9 in the middle of a repeated measurement, then a restart with a config that needs
 * fewer samples (`repeats` lowered: the night's runs were too slow). The restart carries the
 * attempt on: the finished sample is read and decides. The job of the later sample, still
 * running, is then one nothing waits for: it must not be left on the cluster once `run` has
 * exited (found: it was left RUNNING; the start's sweep keeps every job of the resumed attempt).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { SLURM_AVAILABLE, activeJobs, cancelJobs, describeJobs, jobsNamed, shareClusterDuringFile, waitForJob } from '../helpers/slurm.js';
import { makeSlurmProject, waitUntil } from './slurm-project.js';

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: a restart with a changed config', () => {
  const cleanups = shareClusterDuringFile();

  it('repeats lowered after kill -9: the resumed attempt decides on the finished sample, and the job of the later one is not left running', { timeout: 180_000 }, async () => {
    const project = await makeSlurmProject('fewer', {
      config: { repeats: '3', noise: 'auto' },
      plan: [`echo 5 > value.txt && git commit -qam five`],
    });
    // Each evaluation of the candidate (5) waits for go.<AUTORESEARCH_SAMPLE>; the baseline's and the best's (10) score at once.
    const script = path.join(project.control, 'eval-samples.sh');
    fs.writeFileSync(
      script,
      [
        'v=$(cat value.txt)',
        'if [ "$v" != 10 ]; then echo "waiting for go.$AUTORESEARCH_SAMPLE"; while [ ! -e "$1/go.$AUTORESEARCH_SAMPLE" ]; do sleep 0.1; done; fi',
        'echo "score: $v"',
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
    const waiting = (): number[] => {
      let files: string[] = [];
      try {
        files = fs.readdirSync(runDir).filter((f) => f.endsWith('.log'));
      } catch {
        return [];
      }
      return files.flatMap((f) => [...fs.readFileSync(path.join(runDir, f), 'utf8').matchAll(/waiting for go\.(\d+)/g)].map((m) => Number(m[1])));
    };

    const first = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void first.process.kill('SIGKILL'));
    await waitUntil(() => waiting().includes(1), "the candidate's first sample to wait", 120_000, () => first.output());
    project.release('go.1');
    await waitUntil(() => waiting().some((n) => n >= 2), 'a later sample of the candidate to wait', 60_000, () => first.output());
    const later = Math.max(...waiting());
    const running = await waitForJob(project.iterationPrefix(1), (j) => j.state === 'RUNNING', 'the later sample to be RUNNING', 30_000);
    first.process.kill('SIGKILL');
    await first.result();

    // The restart needs one sample only.
    fs.writeFileSync(configFile, fs.readFileSync(configFile, 'utf8').replace(/^repeats: .*$/m, 'repeats: 1').replace(/^noise: .*$/m, 'noise: off'));
    const restart = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void restart.process.kill('SIGKILL'));
    const r = await restart.result();
    expect(r.exitCode, restart.output()).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '5.000000'],
    ]);
    // `run` has exited: no job of ours may be left waiting for go.<later>, which nobody will read.
    const left = await activeJobs(project.prefix);
    expect(left.filter((j) => j.state !== 'COMPLETING'), `sample ${later} waits in ${describeJobs(await jobsNamed(project.prefix))} (was ${running.id})`).toEqual([]);
  });
});
