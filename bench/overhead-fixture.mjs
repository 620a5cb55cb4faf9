/**
 * The work both loops of bench/loop-overhead.mjs do, shared with bench/iteration-cost.mjs:
 * a temp git repo with one file, an experiment whose agent writes value.txt and whose
 * evaluation prints a constant metric (every iteration a tie: discard + rollback).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ID = 'bench/overhead';
export const AGENT = 'echo "$AUTORESEARCH_ITERATION" > value.txt';
export const EVAL = 'echo "score: 1"';

export const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');

/** Exits with a message when the CLI is not built. */
export function requireBuiltCli() {
  if (!fs.existsSync(cli)) {
    console.error(`bench: ${cli} not found; build first (npm run build, or npm run bench)`);
    process.exit(1);
  }
}

export class RunFailed extends Error {}

/** Runs a command to completion; stdout goes to `logFile`, stderr is kept for the report. */
export function run(cmd, argv, { cwd, env = process.env, logFile }) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const log = fs.openSync(logFile, 'w');
    const child = spawn(cmd, argv, { cwd, env, stdio: ['ignore', log, 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-20_000); // the tail is what explains a failure
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      fs.closeSync(log);
      resolve({ code, signal, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

export function fail(what, result, logFile) {
  const out = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
  return new RunFailed(`${what} (exit: ${result.signal ?? result.code})\n--- stderr (tail) ---\n${result.stderr}\n--- stdout (tail, ${logFile}) ---\n${out}`);
}

/** A repo with value.txt committed; git identity per command (a fresh machine has none). */
export async function makeRepo(dir) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'value.txt'), '0\n');
  const gitArgs = ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', '-c', 'commit.gpgsign=false'];
  for (const argv of [['init', '-q', '-b', 'main'], ['add', '-A'], ['commit', '-q', '-m', 'initial']]) {
    const r = await run('git', [...gitArgs, ...argv], { cwd: dir, logFile: path.join(dir, '..', 'git-setup.log') });
    if (r.code !== 0) throw fail(`git ${argv[0]}`, r, path.join(dir, '..', 'git-setup.log'));
  }
}

/** The experiment's config in `repo`; returns its directory (where results.tsv goes). */
export function writeExperiment(repo) {
  const experimentDir = path.join(repo, '.autoresearch', ...ID.split('/'));
  fs.mkdirSync(experimentDir, { recursive: true });
  fs.writeFileSync(
    path.join(experimentDir, 'config.cfg'),
    [
      'target: value.txt',
      `evaluate_cmd: ${EVAL}`,
      'metric: score',
      'metric_direction: higher',
      'time_budget: 1m',
      `agent: ${AGENT}`,
      '',
    ].join('\n'),
  );
  return experimentDir;
}

/** Worktrees may live outside the repo (the CLI decides); remove them before the temp dir. */
export async function cleanup(dir) {
  const repo = path.join(dir, 'repo');
  if (fs.existsSync(path.join(repo, '.git'))) {
    const list = path.join(dir, 'worktrees.txt');
    await run('git', ['worktree', 'list', '--porcelain'], { cwd: repo, logFile: list });
    for (const line of fs.readFileSync(list, 'utf8').split('\n')) {
      const wt = line.startsWith('worktree ') ? line.slice('worktree '.length) : null;
      if (wt && !wt.startsWith(dir + path.sep)) await run('git', ['worktree', 'remove', '--force', wt], { cwd: repo, logFile: list + '.rm' });
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
