/**
 * The `queued` phase (issue 12): an evaluation submitted to a cluster whose job waits for its
 * resources. state.json's intent says so (`queued: true`, with the job's name and id) until
 * the job runs; `status` (text and --json) and the dashboard show it as its own phase with
 * its elapsed time and the job id, distinct from `eval`. The intent is written by hand here
 * and run.lock names this (live) test process, as a running `run` would.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { identityOf } from '../../src/process/process-identity.js';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

type Status = { state: string; phase: string | null; phase_started_at: string | null; job: { name: string; id: string | null } | null; iteration: number | null };

describe('the queued phase', () => {
  it('status and the dashboard show queued with its elapsed time and job id, then eval once the job runs', async () => {
    const project = await makeProject();
    expect((await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env })).exitCode).toBe(0);
    const stateFile = path.join(project.expDir, 'state.json');
    const state = JSON.parse(await fs.readFile(stateFile, 'utf8')) as { lastKept: { commit: string }; intent: unknown };
    const commit = state.lastKept.commit;
    const startedAt = new Date(Date.now() - 95_000).toISOString();
    const job = { name: 'ar-test-exp-1-1-eval', id: '12', commit };
    const intent = { phase: 'eval', iteration: 1, base: commit, candidate: commit, child: null, startedAt, log: path.join(project.expDir, 'runs', '00001', 'eval.log'), job };
    const write = (value: object) => fs.writeFile(stateFile, JSON.stringify({ ...state, intent: value }, null, 2));
    // This test process holds the lock: `status` sees a live run.
    await fs.writeFile(path.join(project.expDir, 'run.lock'), JSON.stringify({ ...identityOf(process.pid), hostname: os.hostname(), since: startedAt, command: 'autoresearch run test/exp' }) + '\n');

    await write({ ...intent, queued: true });
    const json = JSON.parse((await runCli(['--path', project.root, 'status', project.id, '--json'], { env: project.env })).stdout) as Status[];
    expect(json[0]).toMatchObject({ state: 'running', phase: 'queued', phase_started_at: startedAt, iteration: 1, job: { name: 'ar-test-exp-1-1-eval', id: '12' } });
    const text = (await runCli(['--path', project.root, 'status', project.id], { env: project.env })).stdout;
    expect(text).toMatch(/test\/exp\s+running \(queued, job 12\)/);
    expect(text).toMatch(/\n#1 queued for 1m3\ds \(slurm job 12, ar-test-exp-1-1-eval\)\n/);

    const page = path.join(project.expDir, 'page.html');
    expect((await runCli(['--path', project.root, 'dashboard', '--out', page], { env: project.env })).exitCode).toBe(0);
    const live = (html: string) => {
      const data = JSON.parse(/<script id="dashboard-data" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null') as { experiments: Array<{ live: unknown }> };
      return data.experiments[0]?.live;
    };
    // No budget and no limit while queued: eval_timeout counts from the job's start.
    expect(live(await fs.readFile(page, 'utf8'))).toEqual({ iteration: 1, phase: 'queued', since: startedAt, budgetS: null, limitS: null, job: 'slurm job 12' });

    // The job runs: the intent is written again without the mark.
    await write(intent);
    const running = JSON.parse((await runCli(['--path', project.root, 'status', project.id, '--json'], { env: project.env })).stdout) as Status[];
    expect(running[0]).toMatchObject({ phase: 'eval', job: { id: '12' } });
    expect((await runCli(['--path', project.root, 'dashboard', '--out', page], { env: project.env })).exitCode).toBe(0);
    expect(live(await fs.readFile(page, 'utf8'))).toMatchObject({ phase: 'eval', budgetS: 10, limitS: 25, job: 'slurm job 12' });

    // A local evaluation: no job anywhere.
    const { job: _job, ...local } = intent;
    await write(local);
    const plain = JSON.parse((await runCli(['--path', project.root, 'status', project.id, '--json'], { env: project.env })).stdout) as Status[];
    expect(plain[0]).toMatchObject({ phase: 'eval', job: null });
    expect((await runCli(['--path', project.root, 'status'], { env: project.env })).stdout).toMatch(/running \(eval\)\s/);
    await fs.rm(path.join(project.expDir, 'run.lock'));
  });
});
