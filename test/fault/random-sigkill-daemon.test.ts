/**
 * Random SIGKILL of the daemon with several experiments (issue 9): one project with three
 * experiments (the fault project's seeded agent and 50-300 ms evaluation), a real
 * `daemon start --foreground --concurrency 2`, killed -9 at seeded random moments and
 * restarted each time, then stopped gracefully with SIGTERM.
 *
 * Like random-sigkill.test.ts, half the kills hit the daemon's whole process group (as a
 * service manager's group kill does: the daemon and its git children die, stale .git locks
 * stay) and half the daemon pid alone (its git children live on as orphans). Agents and
 * evaluations run in their own process groups, so they survive either kill, as in
 * production: the next incarnation's recovery has to find and kill them.
 *
 * After every kill (daemon dead), per experiment: the ledger parses (a torn last line is
 * allowed only there, for the next start to repair; none after the graceful stop), iterations
 * unique and increasing, every evaluated row has a finished evaluation
 * (no row for an interrupted iteration), keep iff better than the best, state.json agrees
 * with the ledger, the branch is at the last keep or one candidate on it; and the user's refs
 * (refs/heads except autoresearch/*, refs/tags, refs/stash and its reflog), HEAD and checkout
 * are untouched. After every restart in which each experiment has opened its session
 * (recovery done): no process of an earlier incarnation runs. At the end: SIGTERM exits 0
 * within 15 s; no daemon.lock, daemon.json, run.lock or .git lock; every branch is exactly
 * its last keep; no intent; clean worktrees; no process of any incarnation.
 *
 * FAULT_SEED=<seed> replays the kill placements; FAULT_KILLS=<n> changes the number of kills.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { git, makeTempDir } from '../helpers/git-repo.js';
import { makeFaultProject } from './helpers/fault-project.js';
import { checkBranch, checkLedger, checkStateAgainstLedger, commitAndParents, lockFiles, readFinished, readLedger, readState, type LedgerSnapshot } from './helpers/invariants.js';
import { killLaunched, launchCli, type LaunchedCli } from './helpers/launch.js';
import { environOf, killQuietly, markedProcesses, taggedProcesses, waitUntil } from './helpers/procs.js';
import { chooseSeed, seededRandom } from './helpers/rng.js';

const ROUNDS = Number(process.env.FAULT_KILLS ?? 16);
/** A timed kill lands in [0, this) ms after the first iteration of the incarnation starts. */
const ITERATIONS_WINDOW_MS = 1500;
/** After an evaluation finished or a row was appended: the record and rollback take ~5-15 ms. */
const AFTER_EVENT_MAX_DELAY_MS = 15;
const IDS = ['fault/a', 'fault/b', 'fault/c'];
const TAG = `dsigkill${process.pid}`;

afterAll(() => {
  killLaunched();
  for (const p of [...taggedProcesses(TAG), ...markedProcesses(TAG)]) killQuietly(p.pid);
});

interface Experiment {
  id: string;
  dir: string;
  branch: string;
  finishedFile: string;
  results: string;
}

/** The user's own git state: everything but the experiments' branches. */
async function userGitState(root: string): Promise<string> {
  const refs = (await git(root, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads', 'refs/tags', 'refs/stash'))
    .split('\n')
    .filter((line) => !line.startsWith('refs/heads/autoresearch/'));
  const head = `HEAD -> ${await git(root, 'symbolic-ref', 'HEAD')} ${await git(root, 'rev-parse', 'HEAD')}`;
  const stash = await git(root, 'reflog', 'show', '--format=%H %gs', 'refs/stash');
  return [...refs, head, stash].join('\n');
}

/** `git status` of the user's checkout, apart from .autoresearch/. */
async function userStatus(root: string): Promise<string> {
  const r = await execa('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: root });
  return String(r.stdout)
    .split('\n')
    .filter((line) => line !== '' && !line.slice(3).startsWith('.autoresearch/'))
    .join('\n');
}

/** Whether incarnation `incarnation` finished an evaluation recorded in `file`. */
function finishedBy(file: string, incarnation: number): boolean {
  return fs.readFileSync(file, 'utf8').split('\n').some((line) => line.split(' ')[2] === String(incarnation));
}

/** Resolves when `done()` holds, re-checked on every change of any of `files` (inotify) and on the daemon's output. */
function waitForChange(files: string[], cli: LaunchedCli, done: () => boolean, timeoutMs: number, context: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const watchers = files.map((file) => fs.watch(file, () => (done() ? finish() : undefined)));
    const timer = setTimeout(() => {
      close();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a change of ${files.join(', ')}; ${context()}`));
    }, timeoutMs);
    void cli.exited.then(() => finish());
    function close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    }
    function finish() {
      close();
      resolve();
    }
    if (done()) finish();
  });
}

it(`survives ${ROUNDS} random SIGKILLs of a daemon running ${IDS.length} experiments`, { timeout: 120_000 }, async () => {
  const seed = chooseSeed();
  const random = seededRandom(seed);
  const started = performance.now();
  const project = await makeFaultProject(TAG);
  const home = await makeTempDir('ar-dkill-home-');
  // Three experiments from the fault project's config, each recording its finished evaluations apart.
  const template = fs.readFileSync(path.join(project.expDir, 'config.cfg'), 'utf8');
  fs.rmSync(path.join(project.root, '.autoresearch'), { recursive: true, force: true });
  const finishedDir = await makeTempDir('ar-dkill-finished-');
  const experiments: Experiment[] = IDS.map((id) => {
    const dir = path.join(project.root, '.autoresearch', ...id.split('/'));
    const finishedFile = path.join(finishedDir, `${id.replace('/', '-')}.txt`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(finishedFile, '');
    fs.writeFileSync(path.join(dir, 'config.cfg'), template.replace(/^evaluate_cmd: .*$/m, `evaluate_cmd: FAULT_FINISHED=${finishedFile} sh evaluate.sh`));
    return { id, dir, branch: `autoresearch/${id}`, finishedFile, results: path.join(dir, 'results.tsv') };
  });
  // The user's own state the daemon must never touch: a branch, a tag, a stash.
  await git(project.root, 'branch', 'user-feature');
  await git(project.root, 'tag', 'user-v1');
  fs.writeFileSync(path.join(project.root, 'value.txt'), '999\n');
  await git(project.root, 'stash', 'push', '-m', 'user work');
  const userBefore = await userGitState(project.root);
  expect(userBefore).toContain('refs/stash');

  const args = ['--path', project.root, 'daemon', 'start', '--foreground', '--concurrency', '2'];
  const envFor = (incarnation: number) => ({ ...project.envFor(incarnation), AUTORESEARCH_HOME: home });
  const where = (round: number, cli?: LaunchedCli) => `seed ${seed}, round ${round} (FAULT_SEED=${seed} replays it)\n--- daemon output ---\n${cli?.output() ?? ''}`;
  const stats = { timed: 0, afterEval: 0, afterRow: 0, daemonOnly: 0, withGit: 0, recoveryChecks: 0, allRecovered: 0, ownAtKill: 0, rowChecks: 0, torn: 0 };

  /** The checks that hold with the daemon dead (or stopped). */
  async function checkAll(round: number, cli: LaunchedCli): Promise<LedgerSnapshot[]> {
    const ledgers: LedgerSnapshot[] = [];
    for (const exp of experiments) {
      const ledger = readLedger(exp.results);
      const state = readState(exp.dir);
      const problems = [...checkLedger(ledger, readFinished(exp.finishedFile)), ...checkStateAgainstLedger(state, ledger), ...(await checkBranch(project.root, exp.branch, state))];
      expect(problems, `${exp.id}: ${where(round, cli)}`).toEqual([]);
      stats.rowChecks += ledger.rows.length;
      if (ledger.torn) stats.torn++;
      ledgers.push(ledger);
    }
    expect(await userGitState(project.root), `the user's refs and HEAD; ${where(round, cli)}`).toBe(userBefore);
    expect(await userStatus(project.root), `the user's checkout; ${where(round, cli)}`).toBe('');
    return ledgers;
  }

  const logOf = (exp: Experiment) => path.join(exp.dir, 'autoresearch.log');
  const logSize = (exp: Experiment) => (fs.existsSync(logOf(exp)) ? fs.statSync(logOf(exp)).size : 0);
  /** Whether the experiment logged `kind` since `offset` (in this incarnation). */
  const loggedSince = (exp: Experiment, offset: number | undefined, kind: string) =>
    fs.existsSync(logOf(exp)) && fs.readFileSync(logOf(exp)).subarray(offset).toString().includes(`"kind":"${kind}"`);

  for (let round = 1; round <= ROUNDS; round++) {
    const pick = random();
    const afterEval = pick < 0.25;
    const afterRow = pick >= 0.25 && pick < 0.45;
    const delay = Math.round(random() * (afterEval || afterRow ? AFTER_EVENT_MAX_DELAY_MS : ITERATIONS_WINDOW_MS));
    const withGit = random() < 0.5;
    const rowsAtLaunch = experiments.map((exp) => readLedger(exp.results).rows.length);
    const offsets = experiments.map(logSize);
    const cli = launchCli(args, envFor(round));

    expect(await cli.waitFor(/"kind":"daemon-started"/, 30_000), `the daemon did not start; ${where(round, cli)}`).toBe('matched');
    if (afterEval) {
      await waitForChange(experiments.map((e) => e.finishedFile), cli, () => experiments.some((e) => finishedBy(e.finishedFile, round)), 30_000, () => where(round, cli));
      stats.afterEval++;
    } else if (afterRow) {
      await waitForChange(experiments.map((e) => e.dir), cli, () => experiments.some((e, i) => readLedger(e.results).rows.length > (rowsAtLaunch[i] ?? 0)), 30_000, () => where(round, cli));
      stats.afterRow++;
    } else {
      // From the first iteration start of this incarnation (past the daemon's startup), so the kills land in iterations.
      await waitForChange(experiments.map((e) => e.dir), cli, () => experiments.some((e, i) => loggedSince(e, offsets[i], 'iteration-start')), 30_000, () => where(round, cli));
      stats.timed++;
    }
    // Place the kill (a seeded random delay, not a synchronisation).
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (cli.hasExited()) throw new Error(`the daemon exited on its own before the kill: ${where(round, cli)}`);
    // An experiment that has started an iteration in this incarnation is past its recovery:
    // no agent or evaluation of an earlier incarnation (its environment names the experiment)
    // may still run for it; once all are, nothing of an earlier incarnation may run at all.
    const live = [...taggedProcesses(TAG), ...markedProcesses(TAG)];
    stats.ownAtKill += live.filter((p) => p.incarnation === round).length; // the probe does see processes
    const earlier = live.filter((p) => p.incarnation < round);
    const recovered = experiments.filter((e, i) => loggedSince(e, offsets[i], 'iteration-start')).map((e) => e.id);
    const survivors = recovered.length === experiments.length ? earlier : earlier.filter((p) => recovered.includes(environOf(p.pid)?.get('AUTORESEARCH_EXPERIMENT') ?? ''));
    expect(survivors, `processes of earlier incarnations survived the recovery of ${recovered.join(', ')}; ${where(round, cli)}`).toEqual([]);
    stats.recoveryChecks += recovered.length;
    if (recovered.length === experiments.length) stats.allRecovered++;
    process.kill(withGit ? -cli.pid : cli.pid, 'SIGKILL');
    const end = await cli.exited;
    expect(end.signal, where(round, cli)).toBe('SIGKILL');
    if (withGit) stats.withGit++;
    else stats.daemonOnly++;
    await checkAll(round, cli);
  }

  // A final incarnation that runs until every experiment has recovered, then stops gracefully.
  const final = ROUNDS + 1;
  const finalOffsets = experiments.map(logSize);
  const cli = launchCli(args, envFor(final));
  // Every experiment finishes an iteration in this incarnation (so each has at least its baseline kept).
  await waitUntil('every experiment to finish an iteration', () => (experiments.every((e, i) => loggedSince(e, finalOffsets[i], 'iteration-end')) || cli.hasExited() ? true : undefined), 30_000);
  expect(cli.hasExited(), where(final, cli)).toBe(false);
  expect([...taggedProcesses(TAG), ...markedProcesses(TAG)].filter((p) => p.incarnation < final), where(final, cli)).toEqual([]);
  const signalledAt = performance.now();
  process.kill(cli.pid, 'SIGTERM');
  const end = await cli.exited;
  const stopMs = performance.now() - signalledAt;
  expect(end, where(final, cli)).toEqual({ code: 0, signal: null });
  expect(stopMs).toBeLessThan(15_000);

  const ledgers = await checkAll(final, cli);
  const autoresearchDir = path.join(project.root, '.autoresearch');
  expect(fs.existsSync(path.join(autoresearchDir, 'daemon.lock')), 'daemon.lock after the stop').toBe(false);
  expect(fs.existsSync(path.join(autoresearchDir, 'daemon.json')), 'daemon.json after the stop').toBe(false);
  expect(lockFiles(path.join(project.root, '.git')), '.git locks after the stop').toEqual([]);
  for (const [i, exp] of experiments.entries()) {
    const ledger = ledgers[i] as LedgerSnapshot;
    const state = readState(exp.dir);
    expect(fs.existsSync(path.join(exp.dir, 'run.lock')), `${exp.id}: run.lock after the stop`).toBe(false);
    expect(ledger.torn, exp.id).toBe(false);
    expect(state?.intent, exp.id).toBeNull();
    const lastKeep = ledger.rows.filter((r) => r.status === 'keep').at(-1);
    expect(lastKeep, `${exp.id}: at least the baseline was kept`).toBeDefined();
    const [tip] = (await commitAndParents(project.root, `refs/heads/${exp.branch}`)) ?? [];
    expect(tip, exp.id).toBe(state?.lastKept.commit);
    expect(tip?.startsWith(lastKeep?.commit ?? '?'), exp.id).toBe(true);
    expect(String((await execa('git', ['status', '--porcelain'], { cwd: state?.worktree ?? '/' })).stdout), exp.id).toBe('');
    expect(fs.readdirSync(exp.dir).filter((name) => name.endsWith('.tmp')), `${exp.id}: temp files`).toEqual([]);
  }
  // Zombies (waiting for a late reaper) are not counted by taggedProcesses/markedProcesses.
  await waitUntil('no process of any incarnation', () => (taggedProcesses(TAG).length + markedProcesses(TAG).length === 0 ? true : undefined), 5_000);

  const rows = ledgers.map((l, i) => `${IDS[i]} ${l.rows.length}`).join(', ');
  console.log(
    `[fault] daemon SIGKILL: ${ROUNDS} kills survived (${stats.timed} timed, ${stats.afterEval} just after an evaluation, ${stats.afterRow} just after a row; ` +
      `${stats.daemonOnly} daemon pid only, ${stats.withGit} whole group), ${stats.recoveryChecks} experiment recoveries checked for survivors (${stats.allRecovered} restarts past every recovery; ${stats.ownAtKill} processes of the killed incarnation seen at its kill), ` +
      `rows ${rows}, ${stats.rowChecks} row checks, ${stats.torn} torn tails seen; stop ${Math.round(stopMs)} ms; seed ${seed}; ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});
