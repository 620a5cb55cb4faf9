/**
 * The daemon with two `executor: slurm` experiments: `--slots` bounds the jobs in flight and
 * SLURM places them. With two slots both experiments' jobs run at the same time; with one,
 * never two of ours are queued or running at once. The slots are GPU-like indices, which
 * the local executor would put in CUDA_VISIBLE_DEVICES: with SLURM we never set it. SIGTERM
 * of the daemon cancels every job it has running.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeRepo, makeTempDir } from '../helpers/git-repo.js';
import { PLAN_AGENT, cliEnv } from '../helpers/project.js';
import { SLURM_AVAILABLE, activeJobs, cancelJobs, describeJobs, isActive, jobPrefix, jobsNamed, shareClusterDuringFile, squeueAll, uniqueExperimentId, waitForJob } from '../helpers/slurm.js';
import { isRunning, killDaemons, maxOverlap, readDaemonInfo, readLedger, rememberDaemon } from '../daemon/helpers.js';
import { SLURM_EVAL, waitUntil } from './slurm-project.js';

interface TwoExperiments {
  root: string;
  control: string;
  ids: string[];
  env: Record<string, string>;
  rows(id: string): ReturnType<typeof readLedger>;
  evalLog(id: string, n: number): string;
  daemonLog(): string;
}

/** One repo, two experiments (each: baseline + one experiment), both evaluating through SLURM. */
async function twoExperiments(label: string, baseline: string, candidate: string): Promise<TwoExperiments> {
  const root = await makeRepo({ 'value.txt': `${baseline}\n`, '.gitignore': 'ignored/\n' });
  const control = await makeTempDir('ar-slurm-control-');
  const scratch = await makeTempDir('ar-slurm-daemon-');
  const planFile = path.join(scratch, 'plan.txt');
  fs.writeFileSync(planFile, `echo "${candidate}" > value.txt && git commit -qam candidate\n`);
  const ids = [uniqueExperimentId(`${label}-a`), uniqueExperimentId(`${label}-b`)];
  const dir = (id: string) => path.join(root, '.autoresearch', ...id.split('/'));
  for (const id of ids) {
    const config = {
      target: 'value.txt',
      evaluate_cmd: `sh ${SLURM_EVAL} ${control}`,
      metric: 'score',
      metric_direction: 'lower',
      agent: `sh ${PLAN_AGENT}`,
      executor: 'slurm',
      eval_timeout: '120s',
      max_experiments: '1',
    };
    fs.mkdirSync(dir(id), { recursive: true });
    fs.writeFileSync(path.join(dir(id), 'config.cfg'), Object.entries(config).map(([k, v]) => `${k}: ${v}\n`).join(''));
  }
  return {
    root,
    control,
    ids,
    env: cliEnv({ AUTORESEARCH_HOME: path.join(scratch, 'home'), PLAN_FILE: planFile }),
    rows: (id) => readLedger(path.join(dir(id), 'results.tsv')),
    evalLog: (id, n) => readOr(path.join(dir(id), 'runs', String(n).padStart(5, '0'), 'eval.log')),
    daemonLog: () => readOr(path.join(root, '.autoresearch', 'daemon.log')),
  };
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** `daemon start` (detached) through the CLI; returns its pid. */
async function startDaemon(project: TwoExperiments, slots: string): Promise<number> {
  const r = await runCli(['--path', project.root, 'daemon', 'start', '--concurrency', '2', '--slots', slots], { env: project.env });
  const info = readDaemonInfo(project.root);
  if (info !== null) rememberDaemon(info.pid);
  if (r.exitCode !== 0 || info === null) throw new Error(`daemon start failed (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}\n${project.daemonLog()}`);
  return info.pid;
}

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: the daemon, --slots', () => {
  shareClusterDuringFile();
  const prefixes: string[] = [];
  afterEach(async () => {
    await killDaemons([]);
    for (const prefix of prefixes.splice(0)) await cancelJobs(prefix);
  });

  it('--slots 0,1: both experiments have a job RUNNING at the same time; CUDA_VISIBLE_DEVICES is not ours to set', { timeout: 120_000 }, async () => {
    const project = await twoExperiments('slots2', '1000 wait go', '990');
    const ours = project.ids.map((id) => jobPrefix(id, path.join(project.root, '.autoresearch', ...id.split('/'))));
    prefixes.push(...ours);
    try {
      await startDaemon(project, '0,1');
      await waitUntil(
        async () => {
          const jobs = await squeueAll();
          return ours.every((prefix) => jobs.some((job) => job.name.startsWith(prefix) && job.state === 'RUNNING'));
        },
        "both experiments' baseline jobs running at once",
        90_000,
        async () => `${describeJobs((await squeueAll()).filter((job) => ours.some((prefix) => job.name.startsWith(prefix))))}\n${project.daemonLog()}`,
      );
    } finally {
      fs.writeFileSync(path.join(project.control, 'go'), '');
    }
    await waitUntil(() => project.ids.every((id) => project.rows(id).length === 2), 'two rows in each results.tsv', 90_000, () => project.daemonLog());
    for (const id of project.ids) {
      expect(project.rows(id).map((row) => [row.status, row.metric])).toEqual([
        ['keep', '1000.000000'],
        ['keep', '990.000000'],
      ]);
      for (const n of [0, 1]) expect(project.evalLog(id, n)).toMatch(/^job \d+ name ar-\S+ node \S+ cuda unset$/m);
    }
  });

  it('--slots 0: never two jobs of ours queued or running at once', { timeout: 150_000 }, async () => {
    const project = await twoExperiments('slots1', '1000 sleep 1', '990 sleep 1');
    const ours = project.ids.map((id) => jobPrefix(id, path.join(project.root, '.autoresearch', ...id.split('/'))));
    prefixes.push(...ours);
    await startDaemon(project, '0');
    // Sampled all along: the most jobs of ours the cluster held at once.
    let most = 0;
    let seen = '';
    await waitUntil(
      async () => {
        const jobs = (await squeueAll()).filter((job) => ours.some((prefix) => job.name.startsWith(prefix)));
        // Queued or running (a COMPLETING job's command has ended: SLURM is only cleaning up after it).
        const active = jobs.filter((job) => isActive(job) && job.state !== 'COMPLETING');
        if (active.length > most) {
          most = active.length;
          seen = describeJobs(active);
        }
        return project.ids.every((id) => project.rows(id).length === 2);
      },
      'two rows in each results.tsv',
      120_000,
      () => project.daemonLog(),
    );
    expect(most, seen).toBe(1);
    // And by the evaluations' own clocks: four evaluations, one at a time.
    const intervals = readOr(path.join(project.control, 'intervals'))
      .trim()
      .split('\n')
      .map((line) => {
        const [start = '', end = ''] = line.split(' ');
        return { start: Number(start), end: Number(end) };
      });
    expect(intervals.length).toBe(4);
    expect(maxOverlap(intervals)).toBe(1);
    expect(await activeJobs(ours[0]!)).toEqual([]);
  });

  it('SIGTERM of the daemon cancels both running jobs: exit within 15 s, no row, no job of ours left', { timeout: 120_000 }, async () => {
    const project = await twoExperiments('daemon-term', '1000 wait never', '990');
    const ours = project.ids.map((id) => jobPrefix(id, path.join(project.root, '.autoresearch', ...id.split('/'))));
    prefixes.push(...ours);
    const pid = await startDaemon(project, '0,1');
    const running = await Promise.all(ours.map((prefix) => waitForJob(prefix, (j) => j.state === 'RUNNING', `a job named ${prefix}… to run`, 90_000)));

    const signalled = Date.now();
    process.kill(pid, 'SIGTERM');
    await waitUntil(() => !isRunning(pid), 'the daemon to exit', 15_000, () => project.daemonLog());
    expect(Date.now() - signalled).toBeLessThan(15_000);
    for (const id of project.ids) expect(project.rows(id)).toEqual([]);
    // Nothing of ours queued or running once the daemon is gone (a job being killed may still be COMPLETING).
    const left = (await squeueAll()).filter((job) => ours.some((prefix) => job.name.startsWith(prefix)) && isActive(job) && job.state !== 'COMPLETING');
    expect(left, describeJobs(left)).toEqual([]);
    await waitUntil(async () => (await Promise.all(ours.map(activeJobs))).every((jobs) => jobs.length === 0), 'the cancelled jobs to end', 15_000);
    for (const job of running) {
      const prefix = ours.find((p) => job.name.startsWith(p))!;
      expect((await jobsNamed(prefix)).find((j) => j.id === job.id)?.state).toBe('CANCELLED');
    }
  });
});
