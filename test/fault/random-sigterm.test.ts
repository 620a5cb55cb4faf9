/**
 * Random graceful stops: start `run --loop`, send SIGTERM or SIGINT (seeded) at a random
 * instant once the CLI has its handlers installed, and require every time: exit 0 within
 * 15 s; the iteration in flight rolled back with no row; no intent left; the branch at the
 * ledger's last keep and a clean worktree; no *.lock under .git; no process of that run
 * left; and the next start finds nothing to recover (no rollback, no leftover, no lock).
 *
 * Before the CLI installs its handlers (Node still loading modules, ~100 ms) a signal has
 * its default action (Node's own handler resets the terminal and re-raises it) and the CLI
 * dies like a kill -9; that case is the SIGKILL test's. So the delay here starts once
 * run.lock names the CLI, which the CLI writes after installing its handlers.
 *
 * FAULT_SEED=<seed> replays the same delays and signals; FAULT_TERMS=<n> changes the count.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { makeFaultProject } from './helpers/fault-project.js';
import { checkLedger, checkStateAgainstLedger, commitAndParents, lockFiles, readFinished, readLedger, readState } from './helpers/invariants.js';
import { killLaunched, launchCli } from './helpers/launch.js';
import { killQuietly, markedProcesses, taggedProcesses, waitUntil } from './helpers/procs.js';
import { chooseSeed, seededRandom } from './helpers/rng.js';

const ROUNDS = Number(process.env.FAULT_TERMS ?? 20);
const MAX_DELAY_MS = 1500;
const TAG = `sigterm${process.pid}`;

/** The pid in the experiment's run.lock, if it is there and complete. */
function lockOwner(expDir: string): number | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(expDir, 'run.lock'), 'utf8')) as { pid?: number }).pid;
  } catch {
    return undefined;
  }
}

afterAll(() => {
  killLaunched();
  for (const p of [...taggedProcesses(TAG), ...markedProcesses(TAG)]) killQuietly(p.pid);
});

it(`stops cleanly on ${ROUNDS} random SIGTERM/SIGINT`, { timeout: 150_000 }, async () => {
  const seed = chooseSeed();
  const random = seededRandom(seed);
  const started = performance.now();
  const project = await makeFaultProject(TAG);
  const args = ['--path', project.root, 'run', project.id, '--loop'];
  const where = (round: number, output = '') => `seed ${seed}, round ${round} (FAULT_SEED=${seed} replays it)\n--- CLI output ---\n${output}`;
  const stats = { term: 0, int: 0, interrupted: new Map<string, number>(), maxStopMs: 0, rowChecks: 0 };

  for (let round = 1; round <= ROUNDS; round++) {
    const delay = Math.round(random() * MAX_DELAY_MS);
    const signal = random() < 0.5 ? 'SIGTERM' : 'SIGINT';
    const cli = launchCli(args, project.envFor(round));
    await waitUntil(`the CLI to take run.lock; ${where(round, cli.output())}`, () => (lockOwner(project.expDir) === cli.pid || cli.hasExited() ? true : undefined));
    // Place the signal (a seeded random delay, not a synchronisation).
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (cli.hasExited()) throw new Error(`the CLI exited on its own before the signal: ${where(round, cli.output())}`);
    const signalledAt = performance.now();
    process.kill(cli.pid, signal);
    const end = await cli.exited;
    const stopMs = performance.now() - signalledAt;
    const output = cli.output();
    expect(end, where(round, output)).toEqual({ code: 0, signal: null });
    expect(stopMs, where(round, output)).toBeLessThan(15_000);
    stats.maxStopMs = Math.max(stats.maxStopMs, stopMs);
    if (signal === 'SIGTERM') stats.term++;
    else stats.int++;

    // Every stop so far was graceful: nothing to recover, kill or unlock at this start.
    expect(output, where(round, output)).not.toMatch(/recovered iteration|killed the leftover|killed leftover|stale git lock|repaired a torn/);
    expect([...taggedProcesses(TAG), ...markedProcesses(TAG)], `processes left after a graceful stop; ${where(round, output)}`).toEqual([]);

    const ledger = readLedger(path.join(project.expDir, 'results.tsv'));
    const state = readState(project.expDir);
    expect(ledger.torn, where(round, output)).toBe(false);
    expect([...checkLedger(ledger, readFinished(project.finishedFile)), ...checkStateAgainstLedger(state, ledger)], where(round, output)).toEqual([]);
    stats.rowChecks += ledger.rows.length;
    const interrupted = /#(\d+) interrupted during (\w+)/.exec(output);
    if (interrupted !== null) {
      expect(ledger.rows.map((r) => r.iteration), `a row for the interrupted iteration; ${where(round, output)}`).not.toContain(Number(interrupted[1]));
      stats.interrupted.set(interrupted[2] ?? '?', (stats.interrupted.get(interrupted[2] ?? '?') ?? 0) + 1);
    }
    if (state === null) continue; // stopped before the experiment was opened
    expect(state.intent, where(round, output)).toBeNull();
    const [tip] = (await commitAndParents(project.root, `refs/heads/${project.branch}`)) ?? [];
    if (tip !== undefined) {
      expect(tip, where(round, output)).toBe(state.lastKept.commit);
      expect(String((await execa('git', ['status', '--porcelain'], { cwd: state.worktree })).stdout), where(round, output)).toBe('');
    }
    expect(lockFiles(path.join(project.root, '.git')), where(round, output)).toEqual([]);
  }

  const rows = readLedger(path.join(project.expDir, 'results.tsv')).rows;
  console.log(
    `[fault] SIGTERM/SIGINT: ${ROUNDS} graceful stops (${stats.term} SIGTERM, ${stats.int} SIGINT), all exit 0, slowest ${(stats.maxStopMs / 1000).toFixed(2)} s; ` +
      `iterations interrupted: ${[...stats.interrupted].map(([p, n]) => `${p} ${n}`).join(', ') || 'none'}; ${rows.length} rows, ${stats.rowChecks} row checks; ` +
      `seed ${seed}; ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});
