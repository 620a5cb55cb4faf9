#!/usr/bin/env node
/**
 * `npm run demo`: a complete experiment loop in under a minute, offline, with no LLM.
 *
 * Copies examples/sort-demo into a fresh temp git repo, sets it up as experiment
 * engineering/sort-demo (scripted agent: sort-demo/agent.mjs), runs the real CLI on it in the
 * foreground, then shows the ledger, the experiment branch and the worktree, and checks that
 * every iteration ended as the agent's script says it should. The temp repo is left in place.
 *
 * Exit 0 if the run succeeded and every row matches the script, the CLI's code if it failed, 1 otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STEPS } from './sort-demo/agent.mjs';

const ID = 'engineering/sort-demo';
const ITERATIONS = STEPS.length + 1; // the last one runs past the script: no change
const examples = path.dirname(fileURLToPath(import.meta.url));
const source = path.join(examples, 'sort-demo');
const cli = path.join(examples, '..', 'dist', 'cli', 'main.js');

if (!fs.existsSync(cli)) {
  console.error(`demo: ${cli} not found; build first (npm run build, or npm run demo)`);
  process.exit(1);
}

// The project: sort.mjs and its evaluator, committed. Identity per command: a fresh machine has none.
const project = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'autoresearch-demo-')));
const git = (...args) => {
  const r = spawnSync('git', ['-c', 'user.name=autoresearch demo', '-c', 'user.email=demo@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd: project,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed in ${project}: ${r.stderr.trim()}`);
  return r.stdout.trim();
};
for (const file of ['sort.mjs', 'evaluate.mjs']) fs.copyFileSync(path.join(source, file), path.join(project, file));
git('init', '-q', '-b', 'main');
git('add', '-A');
git('commit', '-q', '-m', 'sort.mjs: bubble sort, and its evaluator');

// The experiment: config, instructions, and the scripted agent the config points to.
const experimentDir = path.join(project, '.autoresearch', ...ID.split('/'));
fs.mkdirSync(experimentDir, { recursive: true });
for (const file of ['config.cfg', 'program.md', 'agent.mjs']) fs.copyFileSync(path.join(source, file), path.join(experimentDir, file));

console.log(`demo: project ${project}`);
console.log(`demo: $ autoresearch --path ${project} run ${ID} --max-experiments ${ITERATIONS}\n`);

// Ctrl-C reaches the CLI too (same process group); we stay to report what it left behind.
process.on('SIGINT', () => {});
const started = Date.now();
const child = spawn(process.execPath, [cli, '--path', project, 'run', ID, '--max-experiments', String(ITERATIONS)], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
const [code, signal] = await new Promise((resolve) => child.on('close', (c, s) => resolve([c, s])));
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`\ndemo: the CLI exited with ${signal ?? code} after ${seconds}s`);

const results = path.join(experimentDir, 'results.tsv');
const ledger = fs.existsSync(results) ? fs.readFileSync(results, 'utf8') : '';
console.log(`\n== ${results}\n${ledger || '(missing)'}`);

const branch = `autoresearch/${ID}`;
let worktree = null;
try {
  console.log(`== git log --oneline ${branch}\n${git('log', '--oneline', branch)}\n`);
  // `worktree list --porcelain`: blocks of "worktree <path>" ... "branch refs/heads/<name>".
  for (const block of git('worktree', 'list', '--porcelain').split('\n\n')) {
    if (block.includes(`\nbranch refs/heads/${branch}`)) worktree = block.split('\n')[0].replace(/^worktree /, '');
  }
} catch (err) {
  console.log(`(${err instanceof Error ? err.message : err})\n`);
}

// Every row should end as the script says: baseline keep, then one row per step, then no change.
const outcomeToStatus = { keep: 'keep', crash: 'crash', discard: 'discard', scope_violation: 'discard', no_change: 'discard' };
const expected = ['keep', ...STEPS.map((s) => outcomeToStatus[s.expect]), 'discard'];
const actual = ledger
  .split('\n')
  .slice(1)
  .filter((line) => line.trim() !== '')
  .map((line) => line.split('\t')[2]);
const mismatches = expected
  .map((status, i) => (actual[i] === status ? null : `row ${i + 1}: expected ${status}, got ${actual[i] ?? 'no row'}`))
  .filter(Boolean);
if (actual.length > expected.length) mismatches.push(`${actual.length - expected.length} more rows than expected`);

console.log('== where to look');
console.log(`project:   ${project}   (left in place; rm -rf it when done)`);
console.log(`ledger:    ${results}`);
console.log(`artifacts: ${experimentDir}`);
console.log(`branch:    git -C ${project} log --stat ${branch}`);
console.log(`worktree:  ${worktree ?? '(not found in git worktree list)'}`);

if (code !== 0) {
  console.error(`\ndemo: FAILED: the CLI exited with ${signal ?? code}`);
  process.exit(typeof code === 'number' && code !== 0 ? code : 1);
}
if (mismatches.length) {
  console.error(`\ndemo: FAILED: the ledger does not match the agent's script:\n  ${mismatches.join('\n  ')}`);
  process.exit(1);
}
console.log(`\ndemo: ok: ${actual.length} rows, keep/discard/crash exactly as scripted`);
