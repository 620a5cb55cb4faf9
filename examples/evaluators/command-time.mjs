// Times a command over several runs and prints `<metric>: <median seconds>` (a failing run is a crash).
// cost: runs the command --warmup + --runs times per evaluation (default 1 + 5)
//
// Usage (as evaluate_cmd in config.cfg; it runs in the experiment's worktree):
//   node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs" [--runs 5] [--warmup 1] [--metric NAME] -- npm run bench
//   node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs" -- 'make -s && ./bench input.txt'
// Several words after `--` are run directly; a single word is run with /bin/sh -c.
// Without a command, COMMAND below is used: edit it in your copy.
// The metric name comes from --metric, else $AUTORESEARCH_METRIC, else the `metric:` line of
// the experiment's config.cfg, else `seconds`. Dependency-free: needs only Node >= 18.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const COMMAND = ''; // e.g. 'npm run --silent bench'

const options = { runs: 5, warmup: 1, metric: undefined };
const argv = process.argv.slice(2);
let command = [];
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === '--') {
    command = argv.slice(i + 1);
    break;
  } else if (arg === '--runs' || arg === '--warmup') {
    const value = Number(argv[++i]);
    if (!Number.isInteger(value) || value < (arg === '--runs' ? 1 : 0)) fail(`${arg}: expected a whole number, found \`${argv[i]}\``);
    options[arg.slice(2)] = value;
  } else if (arg === '--metric') {
    options.metric = argv[++i];
  } else {
    command = argv.slice(i);
    break;
  }
}
if (command.length === 0 && COMMAND !== '') command = [COMMAND];
if (command.length === 0) {
  fail('expected a command to time, found none: add it after `--` in evaluate_cmd, or set COMMAND in this file');
}

const metric = options.metric ?? metricName('seconds');
const label = command.join(' ');
const seconds = [];
for (let run = 1 - options.warmup; run <= options.runs; run++) {
  const started = process.hrtime.bigint();
  // The command's own output goes to stderr: only our metric line is on stdout.
  const result =
    command.length === 1
      ? spawnSync('/bin/sh', ['-c', command[0]], { stdio: ['ignore', 2, 2] })
      : spawnSync(command[0], command.slice(1), { stdio: ['ignore', 2, 2] });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.error) fail(`\`${label}\` could not start: ${result.error.message}`);
  if (result.status !== 0) fail(`\`${label}\` ${result.signal ? `was killed by ${result.signal}` : `exited with code ${result.status}`} (run ${run})`);
  if (run >= 1) seconds.push(elapsed);
  process.stderr.write(`command-time: ${run < 1 ? 'warmup' : `run ${run}/${options.runs}`}: ${elapsed.toFixed(3)} s\n`);
}
console.log(`${metric}: ${median(seconds).toFixed(6)}`);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function metricName(fallback) {
  return process.env.AUTORESEARCH_METRIC || configValue('metric') || fallback;
}

/** A value from the experiment's config.cfg (next to this file once `init` copied it). */
function configValue(key) {
  const dir = process.env.AUTORESEARCH_EXPERIMENT_DIR || path.dirname(fileURLToPath(import.meta.url));
  let text;
  try {
    text = readFileSync(path.join(dir, 'config.cfg'), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([^:#]+?)\s*:(.*)$/.exec(line);
    if (match && match[1] === key) return match[2].trim() || undefined;
  }
  return undefined;
}

function fail(message) {
  process.stderr.write(`command-time: ${message}\n`);
  process.exit(1);
}
