/**
 * `status` names the iteration in flight, its phase and its live log files; `logs` prints
 * them and `logs -f` follows them across phases and iterations. The agent, the evaluation
 * and setup_cmd each wait for a gate file the test creates, so every phase is observed
 * while it holds, never guessed with a sleep.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject, type TestProject } from '../helpers/project.js';
import { waitUntil } from '../daemon/helpers.js';

const GATE_AGENT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/agents/gate-agent.sh');

interface Status {
  id: string;
  state: string;
  iteration: number | null;
  phase: string | null;
  logs: { run_dir: string | null; agent_stdout: string | null; agent_stderr: string | null; eval: string | null; setup: string | null } | null;
}

async function gatedProject(): Promise<{ project: TestProject; gates: string; open(name: string): void; started(name: string): Promise<void> }> {
  const gates = await makeTempDir('ar-gates-');
  const wait = (name: string) => `while [ ! -f ${gates}/${name} ]; do sleep 0.05; done`;
  const project = await makeProject({
    config: {
      agent: `sh ${GATE_AGENT}`,
      setup_cmd: `echo setting up; : > ${gates}/setup-started; ${wait('setup')}`,
      evaluate_cmd: `echo "eval #$AUTORESEARCH_ITERATION started"; : > ${gates}/eval-started-$AUTORESEARCH_ITERATION; ${wait('eval-$AUTORESEARCH_ITERATION')}; sh evaluate.sh`,
    },
    plan: ['echo 5 > value.txt', 'echo 4 > value.txt', 'echo 3 > value.txt'],
  });
  project.env.GATE_DIR = gates;
  return {
    project,
    gates,
    open: (name) => fs.writeFileSync(path.join(gates, name), ''),
    started: (name) => waitUntil(() => fs.existsSync(path.join(gates, `${name}`)), `${name} in ${gates}`),
  };
}

async function status(project: TestProject): Promise<Status> {
  const r = await runCli(['--path', project.root, 'status', project.id, '--json'], { env: project.env });
  expect(r.exitCode, r.stderr).toBe(0);
  const [entry] = JSON.parse(r.stdout) as Status[];
  return entry as Status;
}

/** The daemon refreshes its status every second: poll until it shows `expected` (or time out showing the last one). */
async function statusReaching(project: TestProject, expected: Partial<Status>): Promise<Status> {
  let last: Status | undefined;
  await waitUntil(
    async () => {
      last = await status(project);
      return Object.entries(expected).every(([key, value]) => JSON.stringify(last?.[key as keyof Status]) === JSON.stringify(value));
    },
    `status ${JSON.stringify(expected)}`,
    20_000,
    () => JSON.stringify(last),
  );
  return last as Status;
}

describe('status and logs of the iteration in flight', () => {
  it('status names the phase and its log files; logs prints them; logs -f follows into the next phases and iterations', async () => {
    const { project, open, started } = await gatedProject();
    const runs = path.join(project.expDir, 'runs');
    const run = startCli(['--path', project.root, 'run', project.id], { env: project.env });
    try {
      // setup_cmd runs: no iteration yet, its log is the one to follow.
      await started('setup-started');
      expect(await status(project)).toMatchObject({ state: 'running', phase: 'setup', iteration: null, logs: { setup: path.join(project.expDir, 'setup.log'), eval: null } });
      const setupLogs = await runCli(['--path', project.root, 'logs', project.id], { env: project.env });
      expect(setupLogs.stdout).toContain(`==> setup (${path.join(project.expDir, 'setup.log')}) <==\nsetting up`);
      open('setup');

      // The baseline's evaluation.
      await started('eval-started-0');
      const evalLog0 = path.join(runs, '00000', 'eval.log');
      expect(await status(project)).toMatchObject({ phase: 'eval', iteration: 0, logs: { eval: evalLog0, run_dir: path.join(runs, '00000'), setup: null } });
      await waitUntil(() => fs.readFileSync(evalLog0, 'utf8').includes('started'), 'the evaluation output');
      const evalLogs = await runCli(['--path', project.root, 'logs', project.id], { env: project.env });
      expect(evalLogs.exitCode).toBe(0);
      expect(evalLogs.stdout).toContain(`test/exp #0 (eval, in flight): ${path.join(runs, '00000')}\n`);
      expect(evalLogs.stdout).toContain(`==> #0 evaluation (${evalLog0}) <==\neval #0 started`);
      open('eval-0');

      // Iteration 1's agent turn: the table names the phase and the files, JSON gives each path.
      await started('agent-started-1');
      const s1 = await status(project);
      expect(s1).toMatchObject({
        state: 'running',
        phase: 'agent',
        iteration: 1,
        logs: { agent_stdout: path.join(runs, '00001', 'agent.stdout.log'), agent_stderr: path.join(runs, '00001', 'agent.stderr.log'), eval: path.join(runs, '00001', 'eval.log') },
      });
      const table = await runCli(['--path', project.root, 'status', project.id], { env: project.env });
      // The phase with how long it has run (from the intent's startedAt).
      expect(table.stdout).toMatch(/\n#1 agent for \d+s\n/);
      expect(table.stdout).toContain(`\n  agent stdout  ${s1.logs?.agent_stdout}\n  agent stderr  ${s1.logs?.agent_stderr}\n  evaluation    ${s1.logs?.eval}\n  follow: autoresearch logs test/exp -f`);

      // -f from here: what #1's agent wrote so far, then its evaluation, then #2's agent.
      const follow = startCli(['--path', project.root, 'logs', project.id, '-f'], { env: project.env });
      await follow.waitFor(/==> #1 agent stdout \(.*agent\.stdout\.log\) <==\nagent #1 working\n/);
      await follow.waitFor(/==> #1 agent stderr \(.*agent\.stderr\.log\) <==\nagent #1 note\n/);
      open('agent-1');
      await follow.waitFor(/==> #1 evaluation \(.*00001\/eval\.log\) <==\neval #1 started\n/);
      open('eval-1');
      await follow.waitFor(/==> #1 evaluation[^]*score: 5\n/);
      await follow.waitFor(/==> #2 agent stdout \(.*00002\/agent\.stdout\.log\) <==\nagent #2 working\n/);
      expect(follow.output()).not.toMatch(/setting up|#0/); // it starts at the current iteration
      follow.process.kill('SIGINT');
      expect((await follow.result()).exitCode).toBe(0);
    } finally {
      run.process.kill('SIGTERM');
    }
    expect((await run.result()).exitCode).toBe(0);

    // Nothing in flight once the run has stopped; `logs` shows the last iteration.
    expect(await status(project)).toMatchObject({ state: 'idle', phase: null, iteration: null, logs: null });
    const last = await runCli(['--path', project.root, 'logs', project.id], { env: project.env });
    expect(last.exitCode).toBe(0);
    expect(last.stdout).toMatch(/^test\/exp #2: /);
    expect(last.stdout).toContain('agent #2 working');
  });

  it('logs -f tolerates an experiment that has not started: it waits for the first output', async () => {
    const { project, open } = await gatedProject();
    const never = await runCli(['--path', project.root, 'logs', project.id], { env: project.env });
    expect(never).toMatchObject({ exitCode: 0, stdout: 'test/exp: no iteration has started yet' });
    const follow = startCli(['--path', project.root, 'logs', project.id, '--follow'], { env: project.env });
    const run = startCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    try {
      await follow.waitFor(/==> setup \(.*setup\.log\) <==\nsetting up\n/);
      open('setup');
      await follow.waitFor(/==> #0 evaluation \(.*eval\.log\) <==\neval #0 started\n/);
      open('eval-0'); // --single on a new experiment: the baseline is its one iteration
      expect((await run.result()).exitCode).toBe(0);
      await follow.waitFor(/==> #0 evaluation[^]*score: 10\n/);
    } finally {
      run.process.kill('SIGTERM');
      follow.process.kill('SIGTERM');
    }
    expect((await follow.result()).exitCode).toBe(0);
  });

  it('logs -f ends (exit 0) once its stdout is closed, as `logs -f | head` after head exits', async () => {
    const { project, open } = await gatedProject();
    const run = startCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    try {
      const follow = startCli(['--path', project.root, 'logs', project.id, '-f'], { env: project.env });
      await follow.waitFor(/==> setup .*\nsetting up\n/);
      follow.process.stdout?.destroy(); // the reader is gone: the next write fails with EPIPE
      open('setup'); // new output (the baseline's evaluation) to write
      open('eval-0');
      expect((await follow.result()).exitCode).toBe(0);
    } finally {
      run.process.kill('SIGTERM');
    }
    await run.result();
  });

  it('status through the daemon gives the same iteration, phase and log paths', async () => {
    const { project, open, started } = await gatedProject();
    const daemon = startCli(['--path', project.root, 'daemon', 'start', '--foreground', '--concurrency', '1'], { env: project.env });
    try {
      await started('setup-started');
      await waitUntil(() => fs.existsSync(path.join(project.root, '.autoresearch', 'daemon.json')), 'daemon.json');
      expect(await statusReaching(project, { state: 'running', phase: 'setup' })).toMatchObject({ iteration: null, logs: { setup: path.join(project.expDir, 'setup.log'), eval: null } });
      open('setup');
      open('eval-0');
      await started('agent-started-1');
      const runDir = path.join(project.expDir, 'runs', '00001');
      expect(await statusReaching(project, { state: 'running', phase: 'agent', iteration: 1 })).toMatchObject({ logs: { run_dir: runDir, agent_stdout: path.join(runDir, 'agent.stdout.log') } });
      open('agent-1');
      await started('eval-started-1');
      expect(await statusReaching(project, { state: 'running', phase: 'eval', iteration: 1 })).toMatchObject({ logs: { eval: path.join(runDir, 'eval.log') } });
    } finally {
      daemon.process.kill('SIGTERM');
    }
    expect((await daemon.result()).exitCode).toBe(0);
  });

  it('logs after a reset shows the last iteration that ran something (a reset row has no output of its own)', async () => {
    const project = await makeProject({ plan: ['echo 8 > value.txt', 'echo 6 > value.txt'] });
    const cli = (...args: string[]) => runCli(['--path', project.root, ...args], { env: project.env });
    expect((await cli('run', project.id, '--max-experiments', '2')).exitCode).toBe(0);
    expect((await cli('reset', project.id, '--to', '1')).exitCode).toBe(0);
    expect((await project.rows()).map((r) => r.reason)).toEqual(['baseline', 'improved', 'improved', 'reset']);
    const r = await cli('logs', project.id);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ #2 \(finished\): /);
    expect(r.stdout).toMatch(/==> #2 evaluation \(.*runs\/00002\/eval\.log\) <==/);
    expect(r.stdout).not.toContain('no agent or evaluation output');
  });

  it('logs of an unknown experiment is an error naming what exists', async () => {
    const project = await makeProject();
    const r = await runCli(['--path', project.root, 'logs', 'test/nope'], { env: project.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/experiment test\/nope: expected a config file at .*; existing experiments: test\/exp/);
  });
});
