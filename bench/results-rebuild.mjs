#!/usr/bin/env node
/**
 * How long `autoresearch results <id> --rebuild` takes for a long experiment.
 *
 * Generates N iterations' runs/<n>/result.json (shaped as loop/iteration.ts `record` writes them:
 * the row plus commitFull, base, detail, agentMs, evalMs, agentReport) in a temp experiment,
 * and the results.tsv they stand for. Then, --repeat times each, times the CLI (a whole
 * process: node start-up included) on:
 *   lost     results.tsv deleted: every row from its result.json
 *   corrupt  one line in the middle garbled: every old line read too, then the same rebuild
 * and checks that every rebuilt file equals the original byte for byte. Prints the medians.
 *
 * Usage: node bench/results-rebuild.mjs [--iterations N] [--repeat R] [--keep] [--strict]
 *   --iterations  iterations (default 10000)
 *   --repeat      runs of each case (default 3)
 *   --keep        leave the temp dir in place (its path is printed)
 *   --strict      exit 2 when the target is missed
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { flag, positiveInt } from './args.mjs';

const TARGET_S = 5; // "a few seconds" for 10,000 iterations
const ID = 'bench/rebuild';

const N = positiveInt('--iterations', '10000');
const REPEAT = positiveInt('--repeat', '3');

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const cli = path.join(dist, 'cli', 'main.js');
if (!fs.existsSync(cli)) {
  console.error(`bench: ${cli} not found; build first (npm run build)`);
  process.exit(1);
}
// The loop's own formatter writes the reference ledger: the bench checks the rebuild, not it.
const { formatRow } = await import(pathToFileURL(path.join(dist, 'ledger', 'tsv-format.js')).href);
const { LEDGER_COLUMNS } = await import(pathToFileURL(path.join(dist, 'ledger', 'types.js')).href);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ar-bench-rebuild-'));
const dir = path.join(root, '.autoresearch', ...ID.split('/'));
const results = path.join(dir, 'results.tsv');
fs.mkdirSync(path.join(dir, 'runs'), { recursive: true });
fs.writeFileSync(path.join(dir, 'config.cfg'), 'target: value.txt\nevaluate_cmd: sh evaluate.sh\nmetric: score\nmetric_direction: lower\ntime_budget: 1m\nagent: claude\n');

// ------------------------------------------------------------ the experiment
let t = Date.parse('2026-03-01T00:00:00.000Z');
let best = 100;
let base = sha();
const lines = [`${LEDGER_COLUMNS.join('\t')}\n`];
const genStart = performance.now();
for (let i = 0; i < N; i++) {
  const commit = sha();
  const r = i === 0 ? 0 : (i * 7919) % 10; // deterministic mix: ~30% keep, ~50% discard, ~20% crash
  const status = i === 0 || r < 3 ? 'keep' : r < 8 ? 'discard' : 'crash';
  const metric = status === 'crash' ? null : status === 'keep' ? (best = i === 0 ? best : best * 0.9999) : best + (r % 5) * 0.01 + 0.001;
  const row = {
    commit: commit.slice(0, 7),
    metric,
    status,
    description: i === 0 ? 'baseline (unmodified code)' : `iteration ${i}: try variant ${r}, "tuned" | step ${i % 97}`,
    iteration: i,
    timestamp: new Date(t).toISOString(),
    durationS: 30 + (i % 13) * 1.37,
    reason: i === 0 ? 'baseline' : status === 'keep' ? 'improved' : status === 'discard' ? 'no_improvement' : 'eval_exit',
    agent: i === 0 ? null : 'claude',
    costUsd: i === 0 ? null : 0.01 + (i % 11) * 0.001,
    tokensIn: i === 0 ? null : 10000 + i,
    tokensOut: i === 0 ? null : 500 + (i % 300),
  };
  t += 60_000;
  const artifact = { ...row, commitFull: commit, base, detail: status === 'crash' ? 'exit code 1' : null, agentMs: 20000, evalMs: 9000, agentReport: i === 0 ? null : { costUsd: row.costUsd, inputTokens: row.tokensIn, outputTokens: row.tokensOut, sessionId: null, model: 'claude-sonnet' } };
  if (status === 'keep') base = commit;
  const runDir = path.join(dir, 'runs', String(i).padStart(5, '0'));
  fs.mkdirSync(runDir);
  fs.writeFileSync(path.join(runDir, 'result.json'), JSON.stringify(artifact, null, 2) + '\n');
  lines.push(formatRow(row, LEDGER_COLUMNS));
}
const original = Buffer.from(lines.join(''));
const genS = (performance.now() - genStart) / 1000;

// ------------------------------------------------------------------ timing
function rebuildOnce(prepare) {
  for (const f of fs.readdirSync(dir)) if (f.startsWith('results.tsv')) fs.rmSync(path.join(dir, f));
  prepare();
  const start = performance.now();
  const r = spawnSync(process.execPath, [cli, '--path', root, 'results', ID, '--rebuild'], { encoding: 'utf8', env: { ...process.env, AUTORESEARCH_HOME: path.join(root, 'home') } });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) {
    console.error(`bench: the rebuild failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
    process.exit(1);
  }
  if (!fs.readFileSync(results).equals(original)) {
    console.error(`bench: the rebuilt ${results} differs from the original`);
    process.exit(1);
  }
  return { seconds, report: r.stdout };
}

const cases = {
  lost: () => {},
  corrupt: () => {
    const garbled = original.toString('utf8').split('\n');
    garbled[Math.floor(N / 2)] = 'garbage\tthat is not a row';
    fs.writeFileSync(results, garbled.join('\n'));
  },
};
const medians = {};
let report = '';
for (const [name, prepare] of Object.entries(cases)) {
  const times = [];
  for (let i = 0; i < REPEAT; i++) {
    const run = rebuildOnce(prepare);
    times.push(run.seconds);
    report = run.report;
  }
  times.sort((a, b) => a - b);
  medians[name] = times[Math.floor(times.length / 2)];
}

console.log(`results --rebuild, ${N} iterations (${(original.length / 1e6).toFixed(1)} MB of results.tsv; artifacts generated in ${genS.toFixed(1)} s)`);
for (const [name, s] of Object.entries(medians)) console.log(`  ${name.padEnd(8)} ${s.toFixed(2)} s (median of ${REPEAT}, whole CLI process), rebuilt byte for byte`);
console.log(`  target   < ${TARGET_S} s`);
console.log(`  last report:\n${report.replace(/^/gm, '    ').trimEnd()}`);
if (flag('--keep')) console.log(`  kept: ${root}`);
else fs.rmSync(root, { recursive: true, force: true });
const missed = Object.values(medians).some((s) => s >= TARGET_S);
if (missed) console.log(`  MISSED the target`);
process.exit(missed && flag('--strict') ? 2 : 0);

function sha() {
  return crypto.randomBytes(20).toString('hex');
}
