/**
 * The loop's hard limits and signals with real process trees: a hanging evaluation with a
 * pipe-holding grandchild, a hanging agent, 100 MB of output, Ctrl-C mid-evaluation, and a
 * second runner on the same experiment.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

/** pids of live processes whose command line contains `marker`. */
async function processesMatching(marker: string): Promise<string[]> {
  const r = await execa('pgrep', ['-f', marker], { reject: false });
  return String(r.stdout).split('\n').filter(Boolean);
}

describe('process trees and signals', () => {
  it('kills a hanging evaluation and its grandchild at eval_timeout and records a crash', async () => {
    const marker = '987651';
    const project = await makeProject({ config: { evaluate_cmd: `sh -c 'sleep ${marker} & sleep ${marker}'`, eval_timeout: '1s' } });
    const started = Date.now();
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    const elapsed = Date.now() - started;
    expect(r.exitCode).toBe(0);
    const [row] = await project.rows();
    expect([row?.status, row?.reason, row?.metric]).toEqual(['crash', 'eval_timeout', 'N/A']);
    expect(Number(row?.duration_s)).toBeLessThan(1 + 2 + 1.5); // timeout + kill grace + slack
    expect(elapsed).toBeLessThan(15_000);
    expect(await processesMatching(`sleep ${marker}`)).toEqual([]);
  });

  it('kills a hanging agent tree at agent_timeout', async () => {
    const marker = '987652';
    const project = await makeProject({ config: { agent_timeout: '1s' }, plan: [`sleep ${marker} & sleep ${marker}`] });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(r.exitCode).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.status, row.reason])).toEqual([
      ['keep', 'baseline'],
      ['crash', 'agent_timeout'],
    ]);
    expect(await processesMatching(`sleep ${marker}`)).toEqual([]);
  });

  it('streams 100 MB of evaluation output to the log and still finds the metric on the last line', async () => {
    const project = await makeProject({
      config: { evaluate_cmd: `head -c 104857600 /dev/zero | tr '\\0' x; echo; echo "score: 3"` },
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode).toBe(0);
    const [row] = await project.rows();
    expect([row?.status, row?.metric]).toEqual(['keep', '3.000000']);
    const log = await fs.stat(path.join(project.expDir, 'runs', '00000', 'eval.log'));
    expect(log.size).toBeGreaterThan(104857600);
  });

  it('SIGINT during an evaluation rolls back, writes no row, leaves no child, and exits 0', async () => {
    const marker = '987653';
    const project = await makeProject({
      config: { evaluate_cmd: `echo started; sleep ${marker}; echo "score: 1"` },
      plan: ['echo 4 > value.txt'],
    });
    // Baseline first, without the hang.
    await fs.writeFile(path.join(project.expDir, 'config.cfg'), (await fs.readFile(path.join(project.expDir, 'config.cfg'), 'utf8')).replace(`sleep ${marker}; `, ''));
    expect((await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env })).exitCode).toBe(0);
    await fs.writeFile(path.join(project.expDir, 'config.cfg'), (await fs.readFile(path.join(project.expDir, 'config.cfg'), 'utf8')).replace('echo started; ', `echo started; sleep ${marker}; `));

    const cli = startCli(['--path', project.root, 'run', project.id], { env: project.env });
    await cli.waitFor(/#1 eval/);
    await waitUntil(async () => (await processesMatching(`sleep ${marker}`)).length > 0);
    const signalledAt = Date.now();
    process.kill(cli.pid, 'SIGINT');
    const r = await cli.result();
    expect(r.exitCode).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(15_000);
    expect(cli.output()).toMatch(/#1 interrupted during eval: rolled back, no row written/);
    expect((await project.rows()).length).toBe(1); // only the baseline
    expect(await processesMatching(`sleep ${marker}`)).toEqual([]);
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
    expect(state.intent).toBeNull();
    const worktree = await project.worktree();
    expect(await fs.readFile(path.join(worktree, 'value.txt'), 'utf8')).toBe('10\n');
  });

  it('refuses a second runner on the same experiment, naming the first one', async () => {
    const marker = '987654';
    const project = await makeProject({ config: { evaluate_cmd: `echo started; sleep ${marker}` } });
    const first = startCli(['--path', project.root, 'run', project.id], { env: project.env });
    await first.waitFor(/#0 eval/);
    const second = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain(`already running (pid ${first.pid}`);
    process.kill(first.pid, 'SIGTERM');
    expect((await first.result()).exitCode).toBe(0);
    expect(await processesMatching(`sleep ${marker}`)).toEqual([]);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
