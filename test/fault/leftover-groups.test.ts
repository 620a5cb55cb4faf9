/**
 * Leftover processes of a killed incarnation that recovery MUST kill, each found by a
 * different route, with processes that must survive next to them:
 *  - the recorded evaluation group, leader alive (pid + start time + boot id match);
 *  - the recorded group after its leader died: only a grandchild holds the group id;
 *  - a child that was spawned but not yet recorded (kill -9 between spawn and the state
 *    write): found by the experiment's AUTORESEARCH_WORKTREE in its environment, while a
 *    process of another experiment (another worktree) is left alone.
 * The recorded groups carry no AUTORESEARCH_* variable, so only the record can find them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { readChildRecord, writeChildRecord } from '../../src/loop/child-record.js';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { commitCandidate, projectWithBaseline, type BaselineProject, type ChildRecordJson } from './helpers/interrupted.js';
import { isSameAlive, killQuietly, procInfo, waitUntil } from './helpers/procs.js';

const ORPHAN = fileURLToPath(new URL('../fixtures/fault/orphan-grandchild.sh', import.meta.url));
const BARE_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const groups: number[] = [];
afterEach(() => groups.splice(0).forEach((pgid) => killQuietly(-pgid)));

function bootId(): string {
  return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

/** Leaves `project` as if killed during the evaluation of iteration 1, with `child` recorded (or not). */
async function interruptedDuringEval(project: BaselineProject, child: ChildRecordJson | null): Promise<void> {
  const candidate = await commitCandidate(project, '7');
  project.writeState({ ...project.state(), intent: { phase: 'eval', iteration: 1, base: project.base, candidate, child } });
}

async function recover(project: BaselineProject): Promise<string> {
  const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
  expect(r.exitCode, r.stderr).toBe(0);
  expect((await project.rows()).map((row) => [row.iteration, row.status])).toEqual([
    ['0', 'keep'],
    ['1', 'keep'],
  ]);
  return r.stdout + r.stderr;
}

describe('recovery kills what the killed run left behind', () => {
  it('the group recorded next to state.json only (state.json.child, as the loop records it), not another intent\'s', async () => {
    const project = await projectWithBaseline(['echo 4 > value.txt']);
    const start = (command: string) => {
      const leader = execa('sh', ['-c', command], { detached: true, reject: false, env: BARE_ENV, extendEnv: false });
      groups.push(leader.pid ?? -1);
      return { leader, pid: leader.pid ?? -1 };
    };
    const ours = start('sleep 1000 & sleep 1000; :');
    const other = start('sleep 1000; :');
    const oursInfo = await waitUntil('the leader in /proc', () => procInfo(ours.pid));
    const otherInfo = await waitUntil('the other leader in /proc', () => procInfo(other.pid));
    const candidate = await commitCandidate(project, '7');
    const intent = { phase: 'eval' as const, iteration: 1, base: project.base, candidate, child: null, startedAt: '2026-01-01T00:00:00.000Z' };
    project.writeState({ ...project.state(), intent });
    const stateFile = path.join(project.expDir, 'state.json');
    writeChildRecord(stateFile, { ...intent, startedAt: '2025-12-31T00:00:00.000Z' }, { pid: other.pid, pgid: other.pid, startTime: otherInfo.startTime, bootId: bootId() });
    expect(readChildRecord(stateFile, intent), "another intent's record is not this one's").toBeNull();
    writeChildRecord(stateFile, intent, { pid: ours.pid, pgid: ours.pid, startTime: oursInfo.startTime, bootId: bootId() });

    const output = await recover(project);
    expect(output).toMatch(new RegExp(`killed the leftover eval process group ${ours.pid} \\(pid ${ours.pid}\\) of iteration 1`));
    expect(members(ours.pid)).toEqual([]);
    expect(isSameAlive(other.pid, otherInfo.startTime), 'a process recorded for no current intent is not signalled').toBe(true);
  });

  it('the recorded group whose leader still runs', async () => {
    const project = await projectWithBaseline(['echo 4 > value.txt']);
    const leader = execa('sh', ['-c', 'sleep 1000 & sleep 1000; :'], { detached: true, reject: false, env: BARE_ENV, extendEnv: false });
    const pid = leader.pid ?? -1;
    groups.push(pid);
    const { startTime } = await waitUntil('the leader in /proc', () => procInfo(pid));
    await waitUntil('two members in the group', () => (members(pid).length >= 3 ? true : undefined));
    await interruptedDuringEval(project, { pid, pgid: pid, startTime, bootId: bootId() });

    const output = await recover(project);
    expect(output).toMatch(new RegExp(`killed the leftover eval process group ${pid} \\(pid ${pid}\\) of iteration 1`));
    expect(members(pid)).toEqual([]);
    expect(await leader).toMatchObject({ signal: 'SIGTERM' });
  });

  it('the recorded group after its leader died, held only by a grandchild', async () => {
    const project = await projectWithBaseline(['echo 4 > value.txt']);
    const dir = await makeTempDir('ar-orphan-');
    const fifo = path.join(dir, 'release');
    await execa('mkfifo', [fifo]);
    // stdio ignored: a grandchild holding a pipe would keep the promise from settling.
    const leader = execa('sh', [ORPHAN, path.join(dir, 'grandchild.pid'), fifo], { detached: true, reject: false, env: BARE_ENV, extendEnv: false, stdio: 'ignore' });
    const pid = leader.pid ?? -1;
    groups.push(pid);
    const { startTime } = await waitUntil('the leader in /proc', () => procInfo(pid));
    const grandchild = await waitUntil('the grandchild pid', () => readPid(path.join(dir, 'grandchild.pid')));
    const grandchildStart = procInfo(grandchild)?.startTime ?? null;
    fs.writeFileSync(fifo, 'go\n');
    await leader; // exited and reaped: no process with pid == pgid any more
    expect(procInfo(pid)).toBeUndefined();
    expect(isSameAlive(grandchild, grandchildStart)).toBe(true);
    await interruptedDuringEval(project, { pid, pgid: pid, startTime, bootId: bootId() });

    const output = await recover(project);
    expect(output).toMatch(new RegExp(`killed the leftover eval process group ${pid}`));
    expect(isSameAlive(grandchild, grandchildStart)).toBe(false);
  });

  it('an unrecorded child, by its environment; another experiment\'s process is left alone', async () => {
    const project = await projectWithBaseline(['echo 4 > value.txt']);
    const spawnWith = (worktree: string) => {
      const child = execa('sh', ['-c', 'sleep 1000; :'], { detached: true, reject: false, env: { ...BARE_ENV, AUTORESEARCH_WORKTREE: worktree }, extendEnv: false });
      groups.push(child.pid ?? -1);
      return child;
    };
    const ours = spawnWith(project.worktreeDir);
    const other = spawnWith(`${project.worktreeDir}-other`);
    const otherStart = (await waitUntil('the other process in /proc', () => procInfo(other.pid ?? -1))).startTime;
    await waitUntil('our process in /proc', () => procInfo(ours.pid ?? -1));
    await interruptedDuringEval(project, null); // killed before the child was recorded

    const output = await recover(project);
    expect(output).toMatch(new RegExp(`killed leftover process group ${ours.pid} of an earlier run`));
    expect(await ours).toMatchObject({ signal: 'SIGTERM' });
    expect(isSameAlive(other.pid ?? -1, otherStart)).toBe(true);
  });
});

/** Running members of group `pgid`, from /proc. */
function members(pgid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      const info = procInfo(pid);
      return info !== undefined && info.pgrp === pgid && info.state !== 'Z';
    });
}

function readPid(file: string): number | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return /^\d+\n$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}
