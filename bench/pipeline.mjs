#!/usr/bin/env node
/**
 * `npm run bench`: the accelerator's duty cycle, with and without `pipeline: true` (issue 13).
 *
 * One experiment, a scripted agent that thinks for --agent seconds then edits value.txt, an
 * evaluation that holds "the accelerator" for --eval seconds and prints a constant metric
 * (every candidate a discarded tie, the usual case). Each evaluation logs when it started and
 * ended. Duty cycle = evaluation time / wall time, over the cycles between consecutive
 * evaluation starts (the baseline's included): the share of the night the accelerator works.
 * Expected without pipelining: eval / (eval + agent + overhead), ~83% for 2 s and 10 s.
 *
 * Usage: node bench/pipeline.mjs [--agent S] [--eval S] [--iterations N] [--keep] [--strict]
 *   --agent S       the agent's turn in seconds (default 2)
 *   --eval S        the evaluation in seconds (default 10)
 *   --iterations N  experiments after the baseline (default 4)
 *   --quick         --agent 0.2 --eval 1 --iterations 4 (a smoke run)
 *   --strict        exit 2 when the pipelined duty cycle is under 95%
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, positiveInt } from './args.mjs';

const args = process.argv.slice(2);
const seconds = (name, fallback) => {
  const raw = args.includes(name) ? args[args.indexOf(name) + 1] : String(fallback);
  const n = Number(raw);
  if (!(n > 0)) {
    console.error(`bench: ${name} expects a positive number of seconds, got ${JSON.stringify(raw)}`);
    process.exit(1);
  }
  return n;
};
const QUICK = flag('--quick');
const AGENT_S = QUICK ? 0.2 : seconds('--agent', 2);
const EVAL_S = QUICK ? 1 : seconds('--eval', 10);
const N = positiveInt('--iterations', '4');
const TARGET = 0.95;
const ID = 'bench/pipeline';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(cli)) {
  console.error(`bench: ${cli} not found; build first (npm run build, or npm run bench)`);
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'autoresearch-pipeline-bench-'));

function makeProject(dir, pipeline) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'value.txt'), '0\n');
  const git = (...a) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', ...a], { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  const times = path.join(dir, '..', `${path.basename(dir)}-eval-times.txt`);
  const expDir = path.join(dir, '.autoresearch', ...ID.split('/'));
  fs.mkdirSync(expDir, { recursive: true });
  fs.writeFileSync(
    path.join(expDir, 'config.cfg'),
    [
      'target: value.txt',
      // date +%s%N: nanoseconds, so the cycle is measured where the accelerator sees it.
      `evaluate_cmd: s=$(date +%s%N); sleep ${EVAL_S}; echo "$s $(date +%s%N)" >> ${times}; echo "score: 1"`,
      'metric: score',
      'metric_direction: higher',
      'time_budget: 5m',
      `agent: sleep ${AGENT_S}; echo "$AUTORESEARCH_ITERATION" > value.txt`,
      `pipeline: ${pipeline}`,
      '',
    ].join('\n'),
  );
  return { times, expDir };
}

function runLoop(pipeline) {
  const dir = path.join(tmp, pipeline ? 'pipelined' : 'plain');
  const { times, expDir } = makeProject(dir, pipeline);
  const env = { ...process.env, AUTORESEARCH_HOME: path.join(tmp, 'home'), AUTORESEARCH_WORKTREES: path.join(tmp, 'worktrees') };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, '--path', dir, 'run', ID, '--max-experiments', String(N)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-10_000)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`run (pipeline: ${pipeline}) exited ${code}\n${stderr}`));
      const rows = fs.readFileSync(path.join(expDir, 'results.tsv'), 'utf8').trim().split('\n').length - 1;
      if (rows !== N + 1) return reject(new Error(`run (pipeline: ${pipeline}) wrote ${rows} rows, expected ${N + 1}`));
      resolve(dutyCycle(times));
    });
  });
}

/** Mean over cycles (start of one evaluation to the start of the next) of evaluation time / cycle time. */
function dutyCycle(file) {
  const evals = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(' ').map((n) => Number(BigInt(n) / 1000n) / 1000)) // ms
    .sort((a, b) => a[0] - b[0]);
  let busy = 0;
  let wall = 0;
  for (let i = 0; i + 1 < evals.length; i++) {
    busy += evals[i][1] - evals[i][0];
    wall += evals[i + 1][0] - evals[i][0];
  }
  return { duty: busy / wall, cycles: evals.length - 1, idleMs: (wall - busy) / (evals.length - 1) };
}

const pct = (x) => `${(x * 100).toFixed(1)}%`;
console.log(`bench: duty cycle, agent ${AGENT_S} s, evaluation ${EVAL_S} s, ${N} experiments after the baseline (in ${tmp})`);
const plain = await runLoop(false);
const pipelined = await runLoop(true);
const expected = EVAL_S / (EVAL_S + AGENT_S);
console.log(`pipeline: false  duty cycle ${pct(plain.duty)} (idle ${plain.idleMs.toFixed(0)} ms per cycle over ${plain.cycles} cycles; eval/(eval+agent) = ${pct(expected)})`);
console.log(`pipeline: true   duty cycle ${pct(pipelined.duty)} (idle ${pipelined.idleMs.toFixed(0)} ms per cycle over ${pipelined.cycles} cycles; target >= ${pct(TARGET)}) ${pipelined.duty >= TARGET ? 'ok' : 'UNDER TARGET'}`);
if (!flag('--keep')) fs.rmSync(tmp, { recursive: true, force: true });
if (flag('--strict') && pipelined.duty < TARGET) process.exit(2);
