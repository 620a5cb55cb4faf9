/**
 * Machine faults around the CLI: a closed stdout (`| head`, a dropped ssh session) must
 * never stop a command. The loop runs on, its rows are written and its lock released.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { createProcessRunner } from '../../src/process/run-process.js';
import { CLI } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';
import { ESCAPEE } from './escapees.js';

/** Runs `node CLI args | head -1` (stderr too when `both`): the reader exits after one line. */
async function pipedToHead(args: string[], env: Record<string, string>, both = false) {
  const quoted = ['node', CLI, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
  // PIPESTATUS: the CLI's own exit code, not head's.
  const script = `${quoted} ${both ? '2>&1 ' : '2>"$ERR_FILE" '}| head -1; echo "cli-exit=\${PIPESTATUS[0]}" >&2`;
  const errFile = path.join(fs.mkdtempSync('/tmp/ar-epipe-'), 'stderr.txt');
  const r = await execa('bash', ['-c', script], { env: { ...env, ERR_FILE: errFile }, reject: false, timeout: 60_000 });
  const cliStderr = fs.existsSync(errFile) ? fs.readFileSync(errFile, 'utf8') : '';
  return { head: String(r.stdout), exit: Number(/cli-exit=(\d+)/.exec(String(r.stderr))?.[1] ?? -1), cliStderr };
}

/**
 * Runs the CLI with a stdout pipe whose reading end is closed before the CLI has started:
 * its first write fails with EPIPE, whatever its timing.
 */
async function withClosedStdout(args: string[], env: Record<string, string>, alsoStderr = false) {
  const child = execa('node', [CLI, ...args], { env, reject: false, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', timeout: 60_000 });
  child.stdout?.destroy();
  if (alsoStderr) child.stderr?.destroy();
  const r = await child;
  return { exitCode: r.exitCode, stderr: String(r.stderr) };
}

describe('closed stdout (EPIPE)', () => {
  for (const both of [false, true]) {
    it(`run --max-experiments 3 | head -1${both ? ' (stderr too)' : ''}: every iteration completes, the lock is released`, async () => {
      // A slow first line is not needed: head exits after the first line, long before iteration 3.
      const project = await makeProject({ plan: ['echo 9 > value.txt', 'echo 8 > value.txt', 'echo 12 > value.txt'] });
      const r = await pipedToHead(['--path', project.root, 'run', project.id, '--max-experiments', '3'], project.env, both);
      expect(r.head.split('\n').length, r.head).toBe(1);
      expect(r.exit, r.cliStderr).toBe(0);
      expect(r.cliStderr).not.toMatch(/EPIPE|internal error|at .*\.js:\d+/);
      const rows = await project.rows();
      expect(rows.map((row) => [row.iteration, row.status, row.metric])).toEqual([
        ['0', 'keep', '10.000000'],
        ['1', 'keep', '9.000000'],
        ['2', 'keep', '8.000000'],
        ['3', 'discard', '12.000000'],
      ]);
      expect(fs.existsSync(path.join(project.expDir, 'run.lock')), 'run.lock released').toBe(false);
      const state = JSON.parse(fs.readFileSync(path.join(project.expDir, 'state.json'), 'utf8')) as { intent: unknown };
      expect(state.intent).toBeNull();
    });
  }

  it('results | head -1 exits 0 without a stack', async () => {
    const project = await makeProject({ plan: Array.from({ length: 6 }, (_, i) => `echo ${9 - i} > value.txt`) });
    expect((await execa('node', [CLI, '--path', project.root, 'run', project.id, '--max-experiments', '6'], { env: project.env, reject: false })).exitCode).toBe(0);
    const r = await pipedToHead(['--path', project.root, 'results', project.id], project.env);
    expect(r.head.split('\n').length).toBe(1);
    expect(r.exit, r.cliStderr).toBe(0);
    expect(r.cliStderr).toBe('');
    for (const format of ['terminal', 'json']) {
      const closed = await withClosedStdout(['--path', project.root, 'results', project.id, '--format', format], project.env);
      expect([closed.exitCode, closed.stderr]).toEqual([0, '']);
    }
  });

  it('run with stdout and stderr closed (a dropped ssh session): warnings go to the log file only, the loop goes on', async () => {
    const mark = await makeTempDir('ar-epipe-');
    // The agent leaves an escapee, so the loop has a warning to print on the closed stderr.
    const project = await makeProject({ plan: [`echo 9 > value.txt; ${ESCAPEE}`, 'echo 8 > value.txt'] });
    const r = await withClosedStdout(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { ...project.env, MARK: mark }, true);
    expect(r.exitCode).toBe(0);
    expect((await project.rows()).map((row) => [row.status, row.metric])).toEqual([
      ['keep', '10.000000'],
      ['keep', '9.000000'],
      ['keep', '8.000000'],
    ]);
    expect(fs.existsSync(path.join(project.expDir, 'run.lock'))).toBe(false);
    expect(fs.readFileSync(path.join(project.expDir, 'autoresearch.log'), 'utf8')).toMatch(/which left the group of/);
  });

  it('init with a closed stdout creates the experiment and exits 0 without a stack', async () => {
    const project = await makeProject();
    const args = ['--path', project.root, 'init', 'test/other', '--target', 'value.txt', '--eval', 'sh evaluate.sh', '--metric', 'score', '--agent', 'true'];
    const r = await withClosedStdout(args, project.env);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(fs.existsSync(path.join(project.root, '.autoresearch', 'test', 'other', 'config.cfg'))).toBe(true);
  });
});

/**
 * A clock whose monotonic time jumps by `freezeMs` after the first sleep: what the runner
 * sees when its process was stopped (SIGSTOP, Ctrl-Z) that long while the child ran on.
 */
function freezingClock(freezeMs: number): Clock {
  let offset = 0;
  let frozen = false;
  return {
    now: () => Date.now() + offset,
    monotonic: () => performance.now() + offset,
    sleep: async (ms, signal) => {
      await systemClock.sleep(ms, signal);
      if (!frozen) {
        frozen = true;
        offset += freezeMs;
      }
    },
  };
}

describe('a supervisor frozen while its child runs (SIGSTOP, Ctrl-Z)', () => {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

  it('does not count the frozen time against the timeout: a child within its limit exits normally', async () => {
    const dir = await makeTempDir('ar-freeze-');
    const runner = createProcessRunner({ clock: freezingClock(60_000) });
    const outcome = await runner.run({ command: 'sleep 0.6; exit 3', cwd: dir, env, stdoutFile: path.join(dir, 'out.log'), timeoutMs: 5_000 });
    expect(outcome.kind === 'exit' ? outcome.code : outcome.kind).toBe(3);
  });

  it('still times out a child that really runs past its limit', async () => {
    const dir = await makeTempDir('ar-freeze-');
    const runner = createProcessRunner({ clock: freezingClock(60_000) });
    const started = performance.now();
    const outcome = await runner.run({ command: 'sleep 30', cwd: dir, env, stdoutFile: path.join(dir, 'out.log'), timeoutMs: 800, killGraceMs: 200 });
    expect(outcome.kind).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

