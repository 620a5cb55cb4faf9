#!/usr/bin/env node
/**
 * `status --json` and `results --all` over 1,000 experiments of 1,000 rows each (issue 13:
 * under 1 s and 150 MB, the first time too). Cases:
 *  - digest: ledgers our loop wrote (state.json carries a digest: no row is read);
 *  - fresh: the same ledgers without a digest (written by another tool, or edited since) and
 *    never read before: every ledger is streamed once (and its figures cached for later);
 *  - cached: the second read of those: the figures a reader left next to each ledger.
 * Each figure is the median of 3 runs of the CLI as a user runs it (its own shebang), wall time
 * and exact peak RSS (getrusage maxRSS of the CLI process, read at its exit).
 * Usage: node bench/status.mjs [--experiments N] [--rows N] [--keep] [--strict]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, positiveInt } from './args.mjs';

const EXPERIMENTS = positiveInt('--experiments', 1000);
const ROWS = positiveInt('--rows', 1000);
const TARGET_S = 1;
const TARGET_MB = 150;
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'autoresearch-status-bench-'));
const git = (...a) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', ...a], { cwd: root });
git('init', '-q');
fs.writeFileSync(path.join(root, 'value.txt'), '1\n');
git('add', '.');
git('commit', '-qm', 'init');
const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root }).toString().trim();

const header = 'commit\tmetric\tstatus\tdescription\titeration\ttimestamp\tduration_s\treason\tagent\tcost_usd\ttokens_in\ttokens_out\tdetail\tsamples\tmean\tspread\tp_value\n';
let ledger = header;
let keeps = 0;
let crashes = 0;
let best = 100;
for (let i = 0; i < ROWS; i++) {
  const status = i === 0 ? 'keep' : i % 7 === 0 ? 'crash' : i % 3 === 0 ? 'keep' : 'discard';
  const metric = status === 'crash' ? 'N/A' : (100 - i * 0.01).toFixed(6);
  if (status === 'keep') (keeps++, (best = Number(metric)));
  if (status === 'crash') crashes++;
  const reason = i === 0 ? 'baseline' : status === 'keep' ? 'improved' : status === 'crash' ? 'eval_exit' : 'no_improvement';
  const detail = status === 'crash' ? 'eval_exit 1: Traceback (most recent call last): RuntimeError: CUDA out of memory' : '';
  ledger += `${head.slice(0, 7)}\t${metric}\t${status}\tidea number ${i}: try a slightly different learning rate\t${i}\t2026-11-21T00:00:00.000Z\t61.3\t${reason}\tclaude\t0.012345\t15234\t872\t${detail}\t\t\t\t\n`;
}
console.log(`bench: ${EXPERIMENTS} experiments × ${ROWS} rows (${(Buffer.byteLength(ledger) / 1024).toFixed(0)} KiB each) in ${root}`);
const dirs = [];
for (let e = 0; e < EXPERIMENTS; e++) {
  const id = `bench/e${String(e).padStart(4, '0')}`;
  const dir = path.join(root, '.autoresearch', id);
  dirs.push(dir);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.cfg'), 'target: value.txt\nevaluate_cmd: echo "score: 1"\nmetric: score\nagent: true\n');
  fs.writeFileSync(path.join(dir, 'results.tsv'), ledger);
  const state = {
    version: 1, id, projectRoot: root, worktree: path.join(root, '.git', 'autoresearch', 'worktrees', id), branch: `autoresearch/${id}`,
    lastKept: { commit: head, metric: best, iteration: ROWS - 1 }, consecutiveCrashes: 0, setupDone: true, halt: null, exhausted: {}, intent: null,
    digest: { iterations: ROWS, experiments: ROWS - 1, keeps, discards: ROWS - keeps - crashes, crashes, best, baseline: 100, lastTimestamp: '2026-11-21T00:00:00.000Z', ledgerBytes: Buffer.byteLength(ledger) },
    firstStartedAt: '2026-11-21T00:00:00.000Z', updatedAt: '2026-11-21T00:00:00.000Z',
  };
  fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state));
}

// Exact peak RSS of the CLI process: getrusage maxRSS, written by a hook at its exit.
const rssFile = path.join(root, 'maxrss-kb');
const hook = path.join(root, 'maxrss-hook.mjs');
fs.writeFileSync(hook, `import fs from 'node:fs';\nprocess.on('exit', () => fs.writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`);
// The readers' cache of ledger figures (experiment/ledger-read.ts) in the temp dir, not in ~/.cache.
const cacheDir = path.join(root, 'cache');
const env = { ...process.env, AUTORESEARCH_HOME: path.join(root, 'no-user-scope'), AUTORESEARCH_CACHE_DIR: cacheDir, NODE_OPTIONS: `--import ${hook}` };

function runOnce(args) {
  fs.rmSync(rssFile, { force: true });
  const t = performance.now();
  const r = spawnSync(cli, ['--path', root, ...args], { maxBuffer: 1 << 30, env });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  return { ms, mb: Number(fs.readFileSync(rssFile, 'utf8')) / 1024, out: r.stdout.toString() };
}

const removeCaches = () => fs.rmSync(cacheDir, { recursive: true, force: true });
let misses = 0;

/** Median of 3 runs; `before` runs ahead of each (unmeasured). */
function measure(label, args, check, before = () => {}) {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    before();
    const run = runOnce(args);
    check(run.out);
    runs.push(run);
  }
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b)[1];
  const mb = runs.map((r) => r.mb).sort((a, b) => a - b)[1];
  const ok = ms < TARGET_S * 1000 && mb < TARGET_MB;
  if (!ok) misses++;
  console.log(`${label.padEnd(46)} ${(ms / 1000).toFixed(2)} s, ${mb.toFixed(0)} MB peak RSS  (median of 3; target < ${TARGET_S} s and < ${TARGET_MB} MB) ${ok ? 'ok' : 'OVER TARGET'}`);
}

const expectStatus = (out) => {
  const parsed = JSON.parse(out);
  if (parsed.length !== EXPERIMENTS || parsed.some((e) => e.iterations !== ROWS || e.keeps !== keeps - 1 || e.best !== best)) throw new Error(`status --json: wrong figures: ${JSON.stringify(parsed[0])}`);
};
const expectOverview = (out) => {
  const parsed = JSON.parse(out);
  if (parsed.length !== EXPERIMENTS || parsed.some((e) => e.runs !== ROWS || e.keeps !== keeps || e.best !== best || e.error !== null)) throw new Error(`results --all: wrong figures: ${JSON.stringify(parsed[0])}`);
};

measure('status --json, state.json digests', ['status', '--json'], expectStatus);
measure('results --all, state.json digests', ['results', '--all', '--format', 'json'], expectOverview);
for (const dir of dirs) {
  const file = path.join(dir, 'state.json');
  const state = JSON.parse(fs.readFileSync(file, 'utf8'));
  delete state.digest;
  fs.writeFileSync(file, JSON.stringify(state));
}
// Figures are only cached of a ledger unchanged for 2 s (ledger-read.ts SETTLED_MS): let the fixture settle.
await new Promise((resolve) => setTimeout(resolve, 2100));
measure('status --json, fresh (no digest, first read)', ['status', '--json'], expectStatus, removeCaches);
measure('status --json, cached (second read)', ['status', '--json'], expectStatus);
measure('results --all, fresh (no digest, first read)', ['results', '--all', '--format', 'json'], expectOverview, removeCaches);
measure('results --all, cached (second read)', ['results', '--all', '--format', 'json'], expectOverview);

if (!flag('--keep')) fs.rmSync(root, { recursive: true, force: true });
else console.log(`kept ${root}`);
if (misses > 0 && flag('--strict')) process.exit(2);
