// Runs a command WARMUP + RUNS times and prints p50_ms, p95_ms and runs over the timed runs (seed: benchmark_speed).
// cost: runs the command WARMUP + RUNS times per evaluation (default 1 + 5)
// metric: p50_ms lower
//
// Settings (the first one given wins): a flag, an environment variable of the same name as the
// constant below (e.g. `RUNS=10 node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs"`), the
// constant in this file (edit your copy), else the default.
//   node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs" [--runs 5] [--warmup 1] [-- COMMAND...]
// COMMAND runs with /bin/sh -c in the current directory (the experiment's worktree); its
// output goes to stderr, so only the metric lines are on stdout. A failing run fails the
// evaluation (a crash, never a score). Dependency-free: needs only Node >= 18.
import { spawnSync } from 'node:child_process';

const COMMAND = ''; // e.g. 'python src/module.py'
const RUNS = 5;
const WARMUP = 1;

const args = parseArgs(process.argv.slice(2), ['--runs', '--warmup']);
const command = args.rest.join(' ') || process.env.COMMAND || COMMAND;
if (!command) fail('expected a command to benchmark, found none: add it after `--` in evaluate_cmd, set COMMAND in the environment, or set COMMAND in this file');
const runs = wholeNumber('RUNS', args['--runs'] ?? process.env.RUNS ?? RUNS, 1);
const warmup = wholeNumber('WARMUP', args['--warmup'] ?? process.env.WARMUP ?? WARMUP, 0);

const times = [];
for (let run = 1 - warmup; run <= runs; run++) {
  const started = process.hrtime.bigint();
  const result = spawnSync('/bin/sh', ['-c', command], { stdio: ['ignore', 2, 2] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const label = run < 1 ? 'warmup' : `run ${run}/${runs}`;
  if (result.error) fail(`\`${command}\` could not start: ${result.error.message}`);
  if (result.status !== 0) fail(`\`${command}\` ${result.signal ? `was killed by ${result.signal}` : `exited with code ${result.status}`} (${label})`);
  if (run >= 1) times.push(ms);
  process.stderr.write(`benchmark_speed: ${label}: ${ms.toFixed(2)} ms\n`);
}

const sorted = [...times].sort((a, b) => a - b);
const mid = Math.floor(sorted.length / 2);
const p50 = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
// As the seed computes it: the value at index floor(0.95 n) with 5 runs or more, else the maximum.
const p95 = sorted.length >= 5 ? sorted[Math.floor(sorted.length * 0.95)] : sorted[sorted.length - 1];
console.log(`p50_ms: ${p50.toFixed(2)}`);
console.log(`p95_ms: ${p95.toFixed(2)}`);
console.log(`runs: ${runs}`);

function wholeNumber(name, value, min) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`${name}: expected a whole number ≥ ${min}, found \`${value}\``);
  return n;
}

/** `--flag value` pairs for the known flags; everything after `--` (or the first other word) is `rest`. */
function parseArgs(argv, flags) {
  const out = { rest: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') {
      out.rest = argv.slice(i + 1);
      break;
    }
    if (flags.includes(argv[i])) {
      if (i + 1 >= argv.length) fail(`${argv[i]}: expected a value, found none`);
      out[argv[i]] = argv[++i];
    } else {
      out.rest = argv.slice(i);
      break;
    }
  }
  return out;
}

function fail(message) {
  process.stderr.write(`benchmark_speed: ${message}\n`);
  process.exit(1);
}
