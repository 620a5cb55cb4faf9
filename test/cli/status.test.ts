/** `status` without a daemon: every state, the filters, JSON fields, and a ledger changed behind its digest. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir, writeFiles } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';

describe('status', () => {
  it('shows each experiment with the SPEC fields, filtered by --status (repeatable)', async () => {
    const project = await makeProject({ plan: ['echo 5 > value.txt', 'echo 7 > value.txt'] });
    const expDir = (name: string) => path.join(project.root, '.autoresearch', 'test', name);
    await writeFiles(expDir('fresh'), { 'config.cfg': 'target: value.txt\nevaluate_cmd: sh evaluate.sh\nmetric: score\n' });
    await writeFiles(expDir('broken'), { 'config.cfg': 'target: value.txt\nevaluate_cmd: sh broken.sh\nmetric: score\nagent: true\nmax_consecutive_crashes: 1\n' });
    await writeFiles(expDir('finished'), { 'config.cfg': `target: value.txt\nevaluate_cmd: sh evaluate.sh\nmetric: score\nagent: echo 1 > value.txt\nmax_experiments: 1\n` });
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env })).exitCode).toBe(0);
    expect((await runCli(['--path', project.root, 'run', 'test/broken'], { env: project.env })).exitCode).toBe(3);
    expect((await runCli(['--path', project.root, 'run', 'test/finished'], { env: project.env })).exitCode).toBe(0);

    const r = await runCli(['--path', project.root, 'status', '--json'], { env: project.env });
    expect(r.exitCode).toBe(0);
    const all = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    const byId = Object.fromEntries(all.map((e) => [e.id, e]));
    // iterations counts every row; experiments and the keep/discard/crash split count those after the baseline.
    expect(byId['test/exp']).toMatchObject({ state: 'idle', iterations: 3, experiments: 2, keeps: 1, discards: 1, crashes: 0, max_experiments: null, best: 5, consecutive_crashes: 0, wait_until: null });
    expect(byId['test/fresh']).toMatchObject({ state: 'new', iterations: 0, best: null });
    expect(byId['test/broken']).toMatchObject({ state: 'tripped', crashes: 1, consecutive_crashes: 1, reason: expect.stringContaining('consecutive crashes') });
    expect(byId['test/finished']).toMatchObject({ state: 'done', iterations: 2, experiments: 1, max_experiments: 1 });
    for (const entry of all) expect(Object.keys(entry)).toEqual(expect.arrayContaining(['id', 'state', 'iterations', 'keeps', 'discards', 'crashes', 'best', 'consecutive_crashes', 'wait_until', 'reason']));

    const filtered = await runCli(['--path', project.root, 'status', '--status', 'tripped', '--status', 'done', '--json'], { env: project.env });
    expect((JSON.parse(filtered.stdout) as Array<{ id: string }>).map((e) => e.id).sort()).toEqual(['test/broken', 'test/finished']);
    const one = await runCli(['--path', project.root, 'status', 'test/exp'], { env: project.env });
    expect(one.stdout).toMatch(/^EXPERIMENT\s+STATE/);
    expect(one.stdout).toMatch(/^EXPERIMENT +STATE +EXPERIMENTS +KEEP +DISCARD +CRASH +BEST\ntest\/exp +idle +2 +1 +1 +0 +5$/);
    const done = await runCli(['--path', project.root, 'status', 'test/finished'], { env: project.env });
    expect(done.stdout).toMatch(/test\/finished +done +1\/1 +1 +0 +0 +1\n\ntest\/finished: done max_experiments \(1\) reached — raise max_experiments in config.cfg, or run `autoresearch run test\/finished --max-experiments 1` for 1 more$/);
    expect(one.stdout).not.toContain('test/broken');
    const bad = await runCli(['--path', project.root, 'status', '--status', 'sleeping'], { env: project.env });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/--status: expected one of new, idle, running, waiting, blocked, tripped, paused, done, found `sleeping`/);
  });

  it('reads the ledger itself when it changed behind the digest in state.json', async () => {
    const project = await makeProject({ plan: ['echo 5 > value.txt'] });
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env })).exitCode).toBe(0);
    const file = path.join(project.expDir, 'results.tsv');
    await fs.appendFile(file, 'abc1234\t2.000000\tkeep\tadded by hand\t2\t\t\t\t\t\t\t\t\t\t\t\t\n');
    const [entry] = JSON.parse((await runCli(['--path', project.root, 'status', '--json'], { env: project.env })).stdout) as Array<Record<string, unknown>>;
    expect(entry).toMatchObject({ iterations: 3, experiments: 2, keeps: 2, best: 2 });
  });

  it('shows the noise estimate and how many samples the best rests on, from state.json (issue 11)', async () => {
    const project = await makeProject({ plan: ['echo 5 > value.txt'] });
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env })).exitCode).toBe(0);
    const status = async () => (JSON.parse((await runCli(['--path', project.root, 'status', '--json'], { env: project.env })).stdout) as Array<Record<string, unknown>>)[0];
    expect(await status()).toMatchObject({ noise: null, best_samples: 1 }); // repeats: 1, noise: off
    const plain = await runCli(['--path', project.root, 'status', project.id], { env: project.env });
    expect(plain.stdout).not.toContain('noise');

    // What a run with repeats leaves in state.json: every sample of the best, the pooled variance.
    const stateFile = path.join(project.expDir, 'state.json');
    const state = JSON.parse(await fs.readFile(stateFile, 'utf8')) as Record<string, Record<string, unknown>>;
    await fs.writeFile(stateFile, JSON.stringify({ ...state, lastKept: { ...state.lastKept, samples: [5, 5.01, 4.99] }, noise: { sumSquares: 0.000386, df: 23 } }));
    const entry = await status();
    expect(entry?.best_samples).toBe(3);
    // The retired groups (df 23) and the best's own samples (Σ(x − 5)² = 0.0002, 2 more df): decision/noise-estimate.ts currentNoise.
    expect((entry?.noise as { sigma: number }).sigma).toBeCloseTo(Math.sqrt((0.000386 + 0.0002) / 25), 12);
    expect(entry?.noise).toMatchObject({ df: 25 });
    const one = await runCli(['--path', project.root, 'status', project.id], { env: project.env });
    expect(one.stdout).toMatch(/\n\nnoise σ 0\.0048 \(df 25\); best measured 3 times$/);
  });

  it('pause without a daemon pauses an idle experiment, and resume clears it', async () => {
    const project = await makeProject({ plan: ['echo 5 > value.txt'] });
    expect((await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env })).exitCode).toBe(0);
    expect((await runCli(['--path', project.root, 'pause', project.id], { env: project.env })).exitCode).toBe(0);
    expect(JSON.parse((await runCli(['--path', project.root, 'status', '--json'], { env: project.env })).stdout)[0].state).toBe('paused');
    expect((await runCli(['--path', project.root, 'run', project.id], { env: project.env })).exitCode).toBe(3);
    expect((await runCli(['--path', project.root, 'resume', project.id], { env: project.env })).exitCode).toBe(0);
    expect((await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env })).exitCode).toBe(0);
  });

  it('pause reaches a foreground run, which stops after its current iteration (exit 3, paused)', async () => {
    const gate = path.join(await makeTempDir('ar-gate-'), 'open'); // the evaluation waits for it
    const project = await makeProject({
      config: { evaluate_cmd: `echo started; while [ ! -f ${gate} ]; do sleep 0.05; done; sh evaluate.sh` },
      plan: ['echo 5 > value.txt', 'echo 4 > value.txt'],
    });
    const cli = startCli(['--path', project.root, 'run', project.id], { env: project.env });
    await cli.waitFor(/#0 eval/);
    const paused = await runCli(['--path', project.root, 'pause', project.id], { env: project.env });
    expect(paused.stdout).toMatch(/pauses after its current iteration/);
    await fs.writeFile(gate, '');
    const r = await cli.result();
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/is paused/);
    expect((await project.rows()).length).toBe(1); // the baseline finished; nothing after it
  });
});
