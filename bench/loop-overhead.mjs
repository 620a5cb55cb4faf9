#!/usr/bin/env node
/**
 * `npm run bench`: what our loop costs on top of the work it supervises.
 *
 * Both sides do the same work per iteration in a temp git repo with one file: the agent
 * writes value.txt, the change is committed, the evaluation prints a constant metric into a
 * log, the metric is grepped, the tie is discarded (hard reset + clean), a row is appended.
 *   (a) ours:  node dist/cli/main.js --path <repo> run bench/overhead --max-experiments N
 *   (b) shell: the same steps as a plain bash loop, the row appended with an fsync (`sync FILE`),
 *       as the issue defines it ("edit/commit/eval/grep/rollback/append with fsync").
 * Printed: totals, ms per iteration, the ratio ours/shell, and our peak RSS (the CLI
 * process's own getrusage maxRSS, recorded by a tiny --import hook at exit: exact, no polling).
 * The two loops run alternately, --repeat times, and the medians are compared: a shared CI
 * machine is noisy, and a single pair of runs can be off by a factor of several.
 *
 * Usage: node bench/loop-overhead.mjs [--iterations N] [--repeat R] [--keep] [--strict]
 *   --iterations  iterations after the baseline (default 150)
 *   --repeat      runs of each loop (default 3)
 *   --keep        leave the temp dirs in place (their path is printed)
 *   --strict      exit 2 when a target is missed (default: only a failed run exits non-zero)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flag, positiveInt } from './args.mjs';
import { AGENT, EVAL, ID, RunFailed, cleanup, cli, fail, makeRepo, requireBuiltCli, run, writeExperiment } from './overhead-fixture.mjs';

const TARGET_RATIO = 1.5;
const TARGET_RSS_MB = 120;

const N = positiveInt('--iterations', '150');
const REPEAT = positiveInt('--repeat', '3');

requireBuiltCli();

/** (a) our loop, foreground, with the peak-RSS hook. */
async function benchOurs(tmp) {
  const repo = path.join(tmp, 'repo');
  await makeRepo(repo);
  const experimentDir = writeExperiment(repo);

  // Exact peak RSS of the CLI process itself: getrusage(RUSAGE_SELF).ru_maxrss, read at exit.
  const rssFile = path.join(tmp, 'maxrss-kb');
  const hook = path.join(tmp, 'maxrss-hook.mjs');
  fs.writeFileSync(
    hook,
    `import fs from 'node:fs';\nprocess.on('exit', () => fs.writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`,
  );

  const logFile = path.join(tmp, 'ours.stdout.log');
  // User-scope files (if any) go to the temp dir, not to the real ~/.autoresearch.
  // The CLI runs as a user runs it: the `autoresearch` bin itself (its shebang sets the V8
  // flags); the RSS hook comes in through NODE_OPTIONS.
  const env = { ...process.env, AUTORESEARCH_HOME: path.join(tmp, 'home'), NODE_OPTIONS: `--import ${hook}` };
  const result = await run(cli, ['--path', repo, 'run', ID, '--max-experiments', String(N)], {
    cwd: repo,
    env,
    logFile,
  });
  if (result.code !== 0) throw fail('our loop', result, logFile);

  // Only a full run is a fair comparison: baseline + N rows, every iteration a discarded tie.
  const ledger = fs.readFileSync(path.join(experimentDir, 'results.tsv'), 'utf8');
  const rows = ledger.trim().split('\n').slice(1);
  const statuses = rows.map((row) => row.split('\t')[2]);
  if (rows.length !== N + 1 || statuses.slice(1).some((s) => s !== 'discard')) {
    throw fail(`our loop wrote ${rows.length} rows (expected ${N + 1}: baseline + ${N} discards; got ${[...new Set(statuses)].join(', ')})`, result, logFile);
  }
  const maxRssKb = fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8')) : NaN;
  return { ms: result.ms, maxRssKb, steadyMs: steadyStateMs(ledger) };
}

/**
 * Mean time between consecutive iteration rows (from the ledger's timestamp column, if there
 * is one): the per-iteration cost without process start, worktree creation and baseline.
 */
function steadyStateMs(tsv) {
  const [header, ...rows] = tsv.trim().split('\n').map((line) => line.split('\t'));
  const col = header.indexOf('timestamp');
  if (col < 0 || rows.length < 3) return null;
  const times = rows.slice(1).map((row) => Date.parse(row[col]));
  const ms = (times.at(-1) - times[0]) / (times.length - 1);
  return Number.isFinite(ms) ? ms : null;
}

/** (b) the same work as a plain shell loop. */
async function benchShell(tmp) {
  const repo = path.join(tmp, 'repo');
  await makeRepo(repo);
  const out = path.join(tmp, 'out');
  fs.mkdirSync(out);
  const script = `
set -euo pipefail
cd "$REPO"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
base=$(git rev-parse HEAD)
printf 'commit\\tmetric\\tstatus\\tdescription\\n' > "$OUT/results.tsv"
sh -c '${EVAL}' > "$OUT/eval.log" 2>&1
best=$(grep '^score:' "$OUT/eval.log" | tail -n 1 | sed 's/.*://')
printf '%s\\t%s\\tkeep\\tbaseline\\n' "$(git rev-parse --short HEAD)" "$best" >> "$OUT/results.tsv"
sync "$OUT/results.tsv"
for i in $(seq 1 "$N"); do
  AUTORESEARCH_ITERATION=$i sh -c '${AGENT}'
  git add -A && git commit -q -m "iteration $i"
  commit=$(git rev-parse --short HEAD)
  sh -c '${EVAL}' > "$OUT/eval.log" 2>&1
  metric=$(grep '^score:' "$OUT/eval.log" | tail -n 1 | sed 's/.*://')
  git reset -q --hard "$base"
  git clean -fdq
  printf '%s\\t%s\\tdiscard\\titeration %s\\n' "$commit" "$metric" "$i" >> "$OUT/results.tsv"
  sync "$OUT/results.tsv"
done
`;
  const logFile = path.join(tmp, 'shell.stdout.log');
  const result = await run('bash', ['-c', script], { cwd: repo, env: { ...process.env, REPO: repo, OUT: out, N: String(N) }, logFile });
  if (result.code !== 0) throw fail('the shell loop', result, logFile);
  return { ms: result.ms };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const tmpRoot = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'autoresearch-bench-')));
const runDirs = [];
const newRunDir = (name) => {
  const dir = path.join(tmpRoot, name);
  fs.mkdirSync(dir);
  runDirs.push(dir);
  return dir;
};

let exitCode = 0;
try {
  console.log(`bench: ${N} iterations x ${REPEAT} runs; agent: ${AGENT}; eval: ${EVAL}; every iteration a tie (discard + rollback)`);
  const shell = [];
  const ours = [];
  for (let r = 1; r <= REPEAT; r++) {
    shell.push(await benchShell(newRunDir(`shell-${r}`)));
    ours.push(await benchOurs(newRunDir(`ours-${r}`)));
    console.log(`  run ${r}: shell ${(shell.at(-1).ms / 1000).toFixed(2)} s, ours ${(ours.at(-1).ms / 1000).toFixed(2)} s`);
  }

  const shellMs = median(shell.map((x) => x.ms));
  const oursMs = median(ours.map((x) => x.ms));
  const steady = ours.map((x) => x.steadyMs).filter((x) => x !== null);
  const ratio = oursMs / shellMs;
  const rssMb = Math.max(...ours.map((x) => x.maxRssKb)) / 1024;
  const verdict = (ok) => (ok ? 'ok' : 'OVER TARGET');
  const fmt = (ms) => `${(ms / 1000).toFixed(2)} s total, ${(ms / N).toFixed(1)} ms/iteration`;
  console.log(`shell loop   : ${fmt(shellMs)} (median)`);
  console.log(`autoresearch : ${fmt(oursMs)} (median; includes process start, worktree creation and the baseline)`);
  if (steady.length) console.log(`               ${median(steady).toFixed(1)} ms/iteration between ledger rows (median)`);
  console.log(`ratio        : ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}) ${verdict(ratio <= TARGET_RATIO)}`);
  console.log(`peak RSS     : ${Number.isFinite(rssMb) ? rssMb.toFixed(1) : '?'} MB (max over runs; target <= ${TARGET_RSS_MB}) ${verdict(rssMb <= TARGET_RSS_MB)}`);
  if (flag('--strict') && !(ratio <= TARGET_RATIO && rssMb <= TARGET_RSS_MB)) exitCode = 2;
} catch (err) {
  console.error(`bench: FAILED: ${err instanceof RunFailed ? err.message : err instanceof Error ? err.stack : err}`);
  exitCode = 1;
} finally {
  if (flag('--keep')) console.log(`bench: temp dirs kept in ${tmpRoot}`);
  else {
    for (const dir of runDirs) await cleanup(dir);
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  }
}
process.exit(exitCode);
