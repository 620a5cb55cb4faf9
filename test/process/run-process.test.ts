/**
 * The runner with real children: exit codes, where output goes, stdin, the exact
 * environment, spawn failures and the identity reported to onSpawn.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveGroups } from '../../src/process/live-groups.js';
import { processStartTime } from '../../src/process/process-identity.js';
import { createProcessRunner } from '../../src/process/run-process.js';
import type { RunSpec, SpawnedChild } from '../../src/process/types.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { TEST_ENV, fixture, isRunning, killGroupQuietly, pidGroupOf, runningMembers } from './helpers.js';

const spawned: number[] = [];
afterEach(() => spawned.splice(0).forEach(killGroupQuietly));

async function specIn(dir: string, command: string, extra: Partial<RunSpec> = {}): Promise<RunSpec> {
  return { command, cwd: dir, env: TEST_ENV, stdoutFile: path.join(dir, 'out.log'), timeoutMs: 20_000, ...extra };
}

describe('createProcessRunner: exits and output', () => {
  it.each([0, 3])('reports exit code %i and writes stdout then stderr into one log', async (code) => {
    const dir = await makeTempDir();
    const outcome = await createProcessRunner().run(await specIn(dir, fixture('outputs.sh', String(code))));
    expect(outcome).toMatchObject({ kind: 'exit', code });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
    expect(fs.readFileSync(path.join(dir, 'out.log'), 'utf8')).toBe('to stdout\nto stderr\n');
  });

  it('writes stderr to its own file when one is given', async () => {
    const dir = await makeTempDir();
    const stderrFile = path.join(dir, 'err.log');
    await createProcessRunner().run(await specIn(dir, fixture('outputs.sh'), { stderrFile }));
    expect(fs.readFileSync(path.join(dir, 'out.log'), 'utf8')).toBe('to stdout\n');
    expect(fs.readFileSync(stderrFile, 'utf8')).toBe('to stderr\n');
  });

  it('creates missing parent directories and appends to an existing log', async () => {
    const dir = await makeTempDir();
    const stdoutFile = path.join(dir, 'runs', '7', 'eval.log');
    const runner = createProcessRunner();
    await runner.run(await specIn(dir, 'echo first', { stdoutFile }));
    await runner.run(await specIn(dir, 'echo second', { stdoutFile }));
    expect(fs.readFileSync(stdoutFile, 'utf8')).toBe('first\nsecond\n');
  });

  it('feeds stdinFile to the child, and /dev/null when there is none', async () => {
    const dir = await makeTempDir();
    const stdinFile = path.join(dir, 'prompt.txt');
    fs.writeFileSync(stdinFile, 'line one\nline two\n');
    const runner = createProcessRunner();
    expect(await runner.run(await specIn(dir, 'cat', { stdinFile }))).toMatchObject({ kind: 'exit', code: 0 });
    expect(fs.readFileSync(path.join(dir, 'out.log'), 'utf8')).toBe('line one\nline two\n');

    // Without stdinFile, cat must see EOF at once (not hang on an inherited terminal).
    const stdoutFile = path.join(dir, 'empty.log');
    expect(await runner.run(await specIn(dir, 'cat', { stdoutFile, timeoutMs: 5000 }))).toMatchObject({ kind: 'exit', code: 0 });
    expect(fs.readFileSync(stdoutFile, 'utf8')).toBe('');
  });

  it('gives the child exactly spec.env: nothing from process.env leaks in', async () => {
    const dir = await makeTempDir();
    process.env.AR_TEST_SHOULD_NOT_LEAK = 'leaked';
    try {
      const env = { PATH: TEST_ENV.PATH, ONLY_THIS: 'yes, with spaces', DROPPED: undefined };
      await createProcessRunner().run(await specIn(dir, 'env', { env }));
    } finally {
      delete process.env.AR_TEST_SHOULD_NOT_LEAK;
    }
    const vars = Object.fromEntries(
      fs
        .readFileSync(path.join(dir, 'out.log'), 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    delete vars.PWD; // /bin/sh sets PWD itself
    expect(vars).toEqual({ PATH: TEST_ENV.PATH, ONLY_THIS: 'yes, with spaces' });
  });

  it('reports a signal it did not send as kind "signal"', async () => {
    const dir = await makeTempDir();
    // $$ is the direct child (/bin/sh -c) itself.
    const outcome = await createProcessRunner().run(await specIn(dir, 'kill -USR1 $$'));
    expect(outcome).toMatchObject({ kind: 'signal', signal: 'SIGUSR1' });
  });
});

describe('createProcessRunner: spawn errors and bad specs', () => {
  it('reports a missing cwd as spawn-error naming the directory, without spawning', async () => {
    const dir = await makeTempDir();
    const missing = path.join(dir, 'no-such-dir');
    let spawnedChild: SpawnedChild | undefined;
    const outcome = await createProcessRunner().run({
      ...(await specIn(dir, 'echo hi')),
      cwd: missing,
      onSpawn: (child) => (spawnedChild = child),
    });
    expect(outcome.kind).toBe('spawn-error');
    expect(outcome.kind === 'spawn-error' ? outcome.message : '').toContain(`working directory ${missing} does not exist`);
    expect(spawnedChild).toBeUndefined();
  });

  it('reports a missing stdinFile as spawn-error naming the file', async () => {
    const dir = await makeTempDir();
    const stdinFile = path.join(dir, 'missing-prompt.txt');
    const outcome = await createProcessRunner().run(await specIn(dir, 'cat', { stdinFile }));
    expect(outcome.kind).toBe('spawn-error');
    expect(outcome.kind === 'spawn-error' ? outcome.message : '').toContain(`stdin file ${stdinFile}`);
  });

  it('rejects a spec without a positive timeout, saying what it found', async () => {
    const dir = await makeTempDir();
    await expect(createProcessRunner().run(await specIn(dir, 'true', { timeoutMs: 0 }))).rejects.toThrow(/expected timeoutMs > 0, found 0/);
  });

  it('does not spawn at all when the signal is already aborted', async () => {
    const dir = await makeTempDir();
    let called = false;
    const outcome = await createProcessRunner().run(
      await specIn(dir, 'echo ran', { signal: AbortSignal.abort(), onSpawn: () => (called = true) }),
    );
    expect(outcome.kind).toBe('aborted');
    expect(called).toBe(false);
    expect(fs.existsSync(path.join(dir, 'out.log'))).toBe(false);
  });
});

describe('createProcessRunner: identity and registry', () => {
  it('calls onSpawn with pid == pgid (its own group) and its start time, registered while it runs', async () => {
    const dir = await makeTempDir();
    const liveGroups = new LiveGroups();
    const seen: { child: SpawnedChild; group: number | undefined; startTime: number | null; registered: SpawnedChild[] }[] = [];
    const outcome = await createProcessRunner({ liveGroups }).run(
      await specIn(dir, 'exit 0', {
        onSpawn: (child) => {
          spawned.push(child.pgid);
          seen.push({ child, group: pidGroupOf(child.pid), startTime: processStartTime(child.pid), registered: liveGroups.list() });
        },
      }),
    );
    expect(outcome).toMatchObject({ kind: 'exit', code: 0 });
    expect(seen).toHaveLength(1);
    const [{ child, group, startTime, registered }] = seen as [(typeof seen)[number]];
    expect(child.pgid).toBe(child.pid);
    expect(group).toBe(child.pid); // /proc agrees: it leads its own group
    expect(child.pid).not.toBe(process.pid);
    expect(typeof child.startTime).toBe('number');
    expect(child.startTime).toBe(startTime);
    expect(registered).toEqual([child]);
    expect(liveGroups.list()).toEqual([]);
  });

  it('kills the group and rethrows when onSpawn throws', async () => {
    const dir = await makeTempDir();
    const liveGroups = new LiveGroups();
    const pidFile = path.join(dir, 'gc.pid');
    let pgid: number | undefined;
    const run = createProcessRunner({ liveGroups }).run(
      await specIn(dir, fixture('grandchild.sh', pidFile), {
        killGraceMs: 500,
        onSpawn: (child) => {
          pgid = child.pgid;
          spawned.push(child.pgid);
          throw new Error('could not record the intent');
        },
      }),
    );
    await expect(run).rejects.toThrow('could not record the intent');
    expect(pgid).toBeDefined();
    expect(runningMembers(pgid ?? -1)).toEqual([]);
    expect(liveGroups.list()).toEqual([]);
    // The script may not have got as far as its pid file (written atomically); if it did, that pid is gone too.
    if (fs.existsSync(pidFile)) expect(isRunning(Number(fs.readFileSync(pidFile, 'utf8')))).toBe(false);
  });
});
