// Runs CLEAN_CMD (untimed) then BUILD_CMD (timed), RUNS times, and prints build_seconds (median), build_avg and runs (seed: build_speed).
// cost: runs the build RUNS times per evaluation (default 3), each after an untimed clean when CLEAN_CMD is set
// metric: build_seconds lower
//
// Settings (the first one given wins): a flag, an environment variable of the same name as the
// constant below, the constant in this file (edit your copy), else the default.
//   node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs" [--runs 3] [--clean 'npm run clean'] [-- BUILD_CMD...]
// Commands run with /bin/sh -c in the current directory (the experiment's worktree); their
// output goes to stderr. A failing clean or build fails the evaluation. Dependency-free: Node >= 18.
import { spawnSync } from 'node:child_process';

const BUILD_CMD = ''; // e.g. 'npm run build' or 'docker build -t test .'
const CLEAN_CMD = ''; // e.g. 'npm run clean' (run before each build, not timed)
const RUNS = 3;

const args = parseArgs(process.argv.slice(2), ['--runs', '--clean']);
const build = args.rest.join(' ') || process.env.BUILD_CMD || BUILD_CMD;
if (!build) fail('expected a build command, found none: add it after `--` in evaluate_cmd, set BUILD_CMD in the environment, or set BUILD_CMD in this file');
const clean = args['--clean'] ?? process.env.CLEAN_CMD ?? CLEAN_CMD;
const runs = Number(args['--runs'] ?? process.env.RUNS ?? RUNS);
if (!Number.isInteger(runs) || runs < 1) fail(`RUNS: expected a whole number ≥ 1, found \`${args['--runs'] ?? process.env.RUNS}\``);

const seconds = [];
for (let i = 1; i <= runs; i++) {
  if (clean) run(clean, `clean ${i}/${runs}`);
  const started = process.hrtime.bigint();
  run(build, `build ${i}/${runs}`);
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  seconds.push(s);
  process.stderr.write(`build_speed: build ${i}/${runs}: ${s.toFixed(3)} s\n`);
}

const sorted = [...seconds].sort((a, b) => a - b);
const mid = Math.floor(sorted.length / 2);
const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
const avg = seconds.reduce((a, b) => a + b, 0) / seconds.length;
console.log(`build_seconds: ${median.toFixed(2)}`);
console.log(`build_avg: ${avg.toFixed(2)}`);
console.log(`runs: ${runs}`);

function run(command, what) {
  const result = spawnSync('/bin/sh', ['-c', command], { stdio: ['ignore', 2, 2] });
  if (result.error) fail(`${what}: \`${command}\` could not start: ${result.error.message}`);
  if (result.status !== 0) fail(`${what}: \`${command}\` ${result.signal ? `was killed by ${result.signal}` : `exited with code ${result.status}`}`);
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
  process.stderr.write(`build_speed: ${message}\n`);
  process.exit(1);
}
