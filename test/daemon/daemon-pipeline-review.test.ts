/**
 * Review of pipeline: true in the daemon (issue 13, item 1): a draft left running by a kill
 * is killed at the daemon's start even when the experiment is halted, as `run` does
 * ("leftover processes die now, not at resume").
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killLaunched, launchCli } from '../fault/helpers/launch.js';
import { isSameAlive, procInfo, waitUntil as waitFor } from '../fault/helpers/procs.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';
import { apiStatus, daemonLog, killDaemons, startDaemon, waitUntil, type DaemonProject } from './helpers.js';

describe.skipIf(process.platform !== 'linux')('the daemon and a draft left by a kill', () => {
  const pids: number[] = [];
  afterAll(async () => {
    killLaunched();
    await killDaemons([]);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  it('a halted experiment whose drafting agent outlived a kill -9 (tripped after the row, before the draft was abandoned): the daemon kills that agent at start, as `run` would', async () => {
    const marks = await makeTempDir('ar-review-marks-');
    const project = await makeProject({
      config: {
        pipeline: 'true',
        evaluate_cmd: `if [ "$AUTORESEARCH_ITERATION" = 1 ]; then echo $$ > ${marks}/eval.pid; while [ ! -f ${marks}/never ]; do sleep 0.05; done; fi; echo "score: $(cat value.txt)"`,
      },
      plan: ['echo 5 > value.txt', `echo $$ > ${marks}/draft.pid; exec sleep 600`],
    });
    const stateFile = path.join(project.expDir, 'state.json');
    const readState = async () => JSON.parse(await fs.readFile(stateFile, 'utf8')) as Record<string, unknown> & { draft?: { child?: { pid: number } | null } | null };
    const cli = launchCli(['--path', project.root, 'run', project.id], project.env);
    // The draft of 2 runs (its child recorded in state.json) while 1 is evaluated.
    const draft = await waitFor('the drafting agent of 2 to be recorded', async () => {
      const pid = Number((await fs.readFile(path.join(marks, 'draft.pid'), 'utf8').catch(() => '')).trim());
      const s = await readState().catch(() => null);
      return pid > 0 && s?.draft?.child != null ? { pid, startTime: procInfo(pid)?.startTime ?? null } : undefined;
    }, 30_000);
    pids.push(draft.pid);
    process.kill(cli.pid, 'SIGKILL');
    await cli.exited;
    const evalPid = Number((await fs.readFile(path.join(marks, 'eval.pid'), 'utf8')).trim());
    process.kill(-evalPid, 'SIGKILL'); // its own group
    // What the disk holds when the kill lands after iteration 1's row and the trip it caused
    // (intent cleared, halt written), before the finally that abandons the draft.
    const s = await readState();
    await fs.writeFile(stateFile, JSON.stringify({ ...s, intent: null, halt: { state: 'tripped', reason: '1 consecutive crashes (max_consecutive_crashes: 1)', at: new Date().toISOString() } }, null, 2) + '\n');
    expect(isSameAlive(draft.pid, draft.startTime)).toBe(true);

    const daemonProject = { root: project.root, env: project.env } as unknown as DaemonProject;
    const info = await startDaemon(daemonProject);
    // The state the API shows comes from state.json at once; the recovery that kills the agent
    // runs when the runner starts the experiment: wait for both, never on a guess.
    await waitUntil(async () => (await apiStatus(info)).experiments.some((e) => e.id === project.id && e.state === 'tripped'), 'the daemon to report the experiment tripped', 30_000, () => daemonLog(daemonProject));
    // Killed by the daemon's recovery, which says so (the line follows the kill).
    const killedByRecovery = /killed the leftover agent process group \d+ \(pid \d+\) of iteration 2/;
    await waitUntil(() => !isSameAlive(draft.pid, draft.startTime) && killedByRecovery.test(daemonLog(daemonProject)), `the drafting agent ${draft.pid} of a killed run to be killed by the daemon's recovery`, 30_000, () => daemonLog(daemonProject));
  });
});
