#!/usr/bin/env node
/**
 * `npm run bench`: `run --single` against the seed's `run_experiment.py --single` on the same work.
 *
 * Each side gets its own temp git repo holding value.txt, an experiment `engineering/single`
 * (metric `score`, higher is better; evaluation `echo "score: $(cat value.txt)"`) set up its
 * own way, outside the timings:
 *   (a) ours: `autoresearch init … --agent none`, then one `run --single` for the baseline.
 *       An external agent's edit is a write of value.txt in the experiment's worktree; the
 *       timed command is the CLI as a user runs it (the bin itself, its shebang's V8 flags):
 *       `dist/cli/main.js --path <repo> run engineering/single --single`.
 *   (b) the seed: `setup_experiment.py`, then one `run_experiment.py --single` for the baseline,
 *       run from the reference's own scripts/ directory (../shared/reference/autoresearch-agent
 *       above this checkout, or $AUTORESEARCH_SEED_SKILL, as the interop tests find it; never
 *       copied; cwd = the repo, where the script looks for .autoresearch/). Its agent commits its edit (the seed's
 *       protocol; the commit is outside the timing, which favours the seed), then the timed
 *       command is `python3 <reference>/scripts/run_experiment.py --experiment
 *       engineering/single --single --path <repo>`.
 * Two cases, alternated with the sides (ours first in one round, the seed first in the next):
 *   keep:    the edit improves the metric (1000 + round);
 *   discard: it does not (1), so each side rolls it back.
 * Every timed run is checked: exit 0 and a new ledger row with the expected status.
 *
 * Measured, both sides the same way: each command runs under a small python3 wrapper that
 * times it (wall, perf_counter around the child only: the wrapper's own start-up is not
 * counted) and then reads getrusage(RUSAGE_CHILDREN).ru_maxrss: the peak RSS of the largest
 * single process of the command's tree (the CLI, git, the shell of the evaluation…: the
 * kernel keeps the maximum over every waited-for descendant). Exact, no polling.
 *
 * Usage: node bench/single.mjs [--repeat R] [--keep] [--strict]
 *   --repeat  rounds; each round times both cases on both sides (default 7)
 *   --keep    leave the temp dirs in place (their path is printed)
 *   --strict  exit 2 when ours is slower or larger than the seed (default: only a failed run exits non-zero)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, positiveInt } from './args.mjs';

const ID = 'engineering/single';
const EVAL = 'echo "score: $(cat value.txt)"';
const BASE_VALUE = 1000;
const REPEAT = positiveInt('--repeat', '7');

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'dist', 'cli', 'main.js');
const referenceScripts = path.join(findSeedSkill() ?? path.join(here, '..', '..', 'shared', 'reference', 'autoresearch-agent'), 'scripts');
const seedRunner = path.join(referenceScripts, 'run_experiment.py');
const seedSetup = path.join(referenceScripts, 'setup_experiment.py');

/** As test/helpers/seed-skill.ts: $AUTORESEARCH_SEED_SKILL, else shared/reference/autoresearch-agent above this checkout, else /work/shared/…. */
function findSeedSkill() {
  const has = (dir) => fs.existsSync(path.join(dir, 'scripts', 'run_experiment.py'));
  if (process.env.AUTORESEARCH_SEED_SKILL) return has(process.env.AUTORESEARCH_SEED_SKILL) ? process.env.AUTORESEARCH_SEED_SKILL : null;
  for (let dir = here; ; dir = path.dirname(dir)) {
    if (has(path.join(dir, 'shared', 'reference', 'autoresearch-agent'))) return path.join(dir, 'shared', 'reference', 'autoresearch-agent');
    if (path.dirname(dir) === dir) break;
  }
  return has('/work/shared/reference/autoresearch-agent') ? '/work/shared/reference/autoresearch-agent' : null;
}

if (!fs.existsSync(cli)) {
  console.error(`bench: ${cli} not found; build first (npm run build, or npm run bench)`);
  process.exit(1);
}

class RunFailed extends Error {}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
};

// Times one command and reads the peak RSS of its process tree; writes `wall_ns maxrss_kb exit` to argv[1].
const MEASURE_PY = `
import resource, subprocess, sys, time
t = time.perf_counter_ns()
code = subprocess.call(sys.argv[2:])
wall = time.perf_counter_ns() - t
open(sys.argv[1], 'w').write('%d %d %d' % (wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code))
`;

/** Runs a command to completion, stdout and stderr into `logFile`. */
function run(cmd, argv, { cwd, env = process.env, logFile }) {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(logFile, 'a');
    const child = spawn(cmd, argv, { cwd, env, stdio: ['ignore', log, log] });
    child.on('error', (err) => {
      fs.closeSync(log);
      reject(err);
    });
    child.on('close', (code, signal) => {
      fs.closeSync(log);
      resolve({ code, signal });
    });
  });
}

const tail = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '');

async function mustRun(what, cmd, argv, opts) {
  const r = await run(cmd, argv, opts);
  if (r.code !== 0) throw new RunFailed(`${what} (exit: ${r.signal ?? r.code})\n--- output (tail, ${opts.logFile}) ---\n${tail(opts.logFile)}`);
}

/** The timed run: wall (ms) and the tree's peak RSS (KB), through the python3 wrapper. */
async function measure(what, cmd, argv, opts) {
  const resultFile = path.join(path.dirname(opts.logFile), 'measure.txt');
  fs.rmSync(resultFile, { force: true });
  await mustRun(`${what} (measure wrapper)`, 'python3', ['-c', MEASURE_PY, resultFile, cmd, ...argv], opts);
  const [wallNs, maxRssKb, code] = fs.readFileSync(resultFile, 'utf8').split(' ').map(Number);
  if (code !== 0) throw new RunFailed(`${what} (exit: ${code})\n--- output (tail, ${opts.logFile}) ---\n${tail(opts.logFile)}`);
  return { ms: wallNs / 1e6, rssKb: maxRssKb };
}

async function makeRepo(dir, logFile) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'value.txt'), `${BASE_VALUE}\n`);
  const env = { ...process.env, ...GIT_ENV };
  for (const argv of [['init', '-q', '-b', 'main'], ['add', '-A'], ['commit', '-q', '-m', 'initial']]) {
    await mustRun(`git ${argv[0]}`, 'git', ['-c', 'commit.gpgsign=false', ...argv], { cwd: dir, env, logFile });
  }
}

/** The status column of the ledger's last row, and the row count. */
function lastRow(tsv) {
  const rows = fs.readFileSync(tsv, 'utf8').trim().split('\n').slice(1);
  return { count: rows.length, status: rows.at(-1)?.split('\t')[2] };
}

function checkRow(what, tsv, before, expected, logFile) {
  const after = lastRow(tsv);
  if (after.count !== before.count + 1 || after.status !== expected) {
    throw new RunFailed(`${what}: expected one new row '${expected}', found ${after.count - before.count} new (last: ${after.status})\n--- output (tail, ${logFile}) ---\n${tail(logFile)}`);
  }
}

/** (a) ours: init + baseline outside the timings; returns the timed step. */
async function setupOurs(tmp) {
  const repo = path.join(tmp, 'repo');
  const logFile = path.join(tmp, 'output.log');
  await makeRepo(repo, logFile);
  const env = { ...process.env, ...GIT_ENV, AUTORESEARCH_HOME: path.join(tmp, 'home'), AUTORESEARCH_WORKTREES: path.join(tmp, 'worktrees') };
  const opts = { cwd: repo, env, logFile };
  await mustRun('autoresearch init', cli, ['--path', repo, 'init', ID, '--target', 'value.txt', '--eval', EVAL, '--metric', 'score', '--direction', 'higher', '--time-budget', '1m', '--agent', 'none', '--no-baseline'], opts);
  const tsv = path.join(repo, '.autoresearch', ...ID.split('/'), 'results.tsv');
  await mustRun('autoresearch run --single (baseline)', cli, ['--path', repo, 'run', ID, '--single'], opts);
  const state = JSON.parse(fs.readFileSync(path.join(repo, '.autoresearch', ...ID.split('/'), 'state.json'), 'utf8'));
  return {
    tmp,
    async iteration(value, expected) {
      fs.writeFileSync(path.join(state.worktree, 'value.txt'), `${value}\n`); // the external agent's edit
      const before = lastRow(tsv);
      const m = await measure('autoresearch run --single', cli, ['--path', repo, 'run', ID, '--single'], opts);
      checkRow('autoresearch run --single', tsv, before, expected, logFile);
      return m;
    },
  };
}

/** (b) the seed: setup_experiment.py + baseline outside the timings; returns the timed step. */
async function setupSeed(tmp) {
  const repo = path.join(tmp, 'repo');
  const logFile = path.join(tmp, 'output.log');
  await makeRepo(repo, logFile);
  const env = { ...process.env, ...GIT_ENV, HOME: path.join(tmp, 'home') }; // the seed's user scope is ~/.autoresearch
  fs.mkdirSync(env.HOME);
  const opts = { cwd: repo, env, logFile };
  await mustRun('setup_experiment.py', 'python3', [seedSetup, '--domain', 'engineering', '--name', 'single', '--target', 'value.txt', '--eval', EVAL, '--metric', 'score', '--direction', 'higher', '--time-budget', '1', '--path', repo], opts);
  const tsv = path.join(repo, '.autoresearch', ...ID.split('/'), 'results.tsv');
  const runArgs = [seedRunner, '--experiment', ID, '--single', '--path', repo];
  await mustRun('run_experiment.py --single (baseline)', 'python3', runArgs, opts);
  return {
    tmp,
    async iteration(value, expected) {
      // The seed's agent edits and commits; run_experiment.py evaluates HEAD (and resets HEAD~1 on a discard).
      fs.writeFileSync(path.join(repo, 'value.txt'), `${value}\n`);
      await mustRun('the seed agent\'s commit', 'git', ['-c', 'commit.gpgsign=false', 'commit', '-q', '-am', `value ${value}`], opts);
      const before = lastRow(tsv);
      const m = await measure('run_experiment.py --single', 'python3', runArgs, opts);
      checkRow('run_experiment.py --single', tsv, before, expected, logFile);
      return m;
    },
  };
}

/** Worktrees may live outside the repo (ours live under tmp/worktrees): remove them with git first. */
async function cleanup(dir) {
  const repo = path.join(dir, 'repo');
  const logFile = path.join(dir, 'cleanup.log');
  if (fs.existsSync(path.join(repo, '.git'))) await run('git', ['worktree', 'prune'], { cwd: repo, logFile }).catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const tmpRoot = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'autoresearch-bench-single-')));

let exitCode = 0;
try {
  const hasPython = (await run('python3', ['--version'], { cwd: tmpRoot, logFile: path.join(tmpRoot, 'python.log') }).catch(() => ({ code: -1 }))).code === 0;
  if (!hasPython) throw new RunFailed('python3 is needed: it runs the seed and measures both sides (getrusage of the children)');
  const seedPresent = fs.existsSync(seedRunner) && fs.existsSync(seedSetup);
  if (!seedPresent) console.log(`bench single: SKIPPED: reference absent (${referenceScripts}): timing ours alone, no comparison`);

  console.log(`bench single: run --single vs the seed's run_experiment.py --single; agent: none (external edit), eval: ${EVAL}; ${REPEAT} rounds x (keep, discard), sides alternated`);
  const ours = await setupOurs(path.join(tmpRoot, 'ours'));
  const seed = seedPresent ? await setupSeed(path.join(tmpRoot, 'seed')) : null;
  const samples = { ours: { keep: [], discard: [] }, seed: { keep: [], discard: [] } };
  for (let r = 1; r <= REPEAT; r++) {
    for (const [kase, value] of [['keep', BASE_VALUE + r], ['discard', 1]]) {
      const sides = seed === null ? [['ours', ours]] : r % 2 ? [['ours', ours], ['seed', seed]] : [['seed', seed], ['ours', ours]];
      for (const [name, side] of sides) samples[name][kase].push(await side.iteration(value, kase));
    }
  }

  const verdicts = [];
  const mb = (kb) => kb / 1024;
  console.log('                 ours          seed         ours/seed  (target: ours <= seed)');
  for (const kase of ['keep', 'discard']) {
    const o = samples.ours[kase];
    const s = samples.seed[kase];
    const oMs = median(o.map((x) => x.ms));
    const oMb = mb(median(o.map((x) => x.rssKb)));
    const sMs = s.length ? median(s.map((x) => x.ms)) : NaN;
    const sMb = s.length ? mb(median(s.map((x) => x.rssKb))) : NaN;
    const line = (label, a, b, unit, digits) => {
      const ratio = a / b;
      const ok = s.length === 0 || ratio <= 1;
      verdicts.push(ok);
      const cmp = s.length ? `${ratio.toFixed(2).padStart(5)}  ${ok ? 'ok' : 'MISSED'}` : 'n/a (reference absent)';
      console.log(`${label.padEnd(16)} ${`${a.toFixed(digits)} ${unit}`.padStart(9)}   ${s.length ? `${b.toFixed(digits)} ${unit}`.padStart(9) : '      n/a'}    ${cmp}`);
    };
    line(`${kase} wall`, oMs, sMs, 'ms', 0);
    line(`${kase} peak RSS`, oMb, sMb, 'MB', 1);
  }
  console.log('  (medians; wall = the command alone; peak RSS = the largest single process of its tree: getrusage(RUSAGE_CHILDREN).ru_maxrss)');
  if (flag('--strict') && verdicts.includes(false)) exitCode = 2;
} catch (err) {
  console.error(`bench single: FAILED: ${err instanceof RunFailed ? err.message : err instanceof Error ? err.stack : err}`);
  exitCode = 1;
} finally {
  if (flag('--keep')) console.log(`bench single: temp dirs kept in ${tmpRoot}`);
  else {
    for (const side of ['ours', 'seed']) await cleanup(path.join(tmpRoot, side));
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  }
}
process.exit(exitCode);
