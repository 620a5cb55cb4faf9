#!/usr/bin/env node
/**
 * `status --json` over 1,000 experiments of 1,000 rows each (target: under 1 s).
 * Two cases: ledgers our loop wrote (state.json carries a digest of the ledger, so status
 * reads no rows), and the same ledgers without a digest (written by another tool, or
 * edited since: every row is read).
 * Usage: node bench/status.mjs [--experiments N] [--rows N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const EXPERIMENTS = opt('--experiments', 1000);
const ROWS = opt('--rows', 1000);
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'autoresearch-status-bench-'));
const git = (...a) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', ...a], { cwd: root });
git('init', '-q');
fs.writeFileSync(path.join(root, 'value.txt'), '1\n');
git('add', '.');
git('commit', '-qm', 'init');
const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root }).toString().trim();

const header = 'commit\tmetric\tstatus\tdescription\titeration\ttimestamp\tduration_s\treason\tagent\tcost_usd\ttokens_in\ttokens_out\n';
let ledger = header;
let keeps = 0;
let best = 100;
for (let i = 0; i < ROWS; i++) {
  const status = i === 0 ? 'keep' : i % 7 === 0 ? 'crash' : i % 3 === 0 ? 'keep' : 'discard';
  const metric = status === 'crash' ? 'N/A' : (100 - i * 0.01).toFixed(6);
  if (status === 'keep') (keeps++, (best = Number(metric)));
  ledger += `${head.slice(0, 7)}\t${metric}\t${status}\tidea number ${i}\t${i}\t2026-11-21T00:00:00.000Z\t1.0\t${i === 0 ? 'baseline' : status === 'keep' ? 'improved' : status === 'crash' ? 'eval_exit' : 'no_improvement'}\tcommand\t0.010000\t100\t50\n`;
}
const crashes = ledger.split('\n').filter((l) => l.includes('\tcrash\t')).length;
console.log(`bench: writing ${EXPERIMENTS} experiments × ${ROWS} rows in ${root}`);
for (let e = 0; e < EXPERIMENTS; e++) {
  const id = `bench/e${String(e).padStart(4, '0')}`;
  const dir = path.join(root, '.autoresearch', id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.cfg'), 'target: value.txt\nevaluate_cmd: echo "score: 1"\nmetric: score\nagent: true\n');
  fs.writeFileSync(path.join(dir, 'results.tsv'), ledger);
  const state = {
    version: 1, id, projectRoot: root, worktree: path.join(root, '.git', 'autoresearch', 'worktrees', id), branch: `autoresearch/${id}`,
    lastKept: { commit: head, metric: best, iteration: ROWS - 1 }, consecutiveCrashes: 0, setupDone: true, halt: null, exhausted: {}, intent: null,
    digest: { iterations: ROWS, keeps, discards: ROWS - keeps - crashes, crashes, best, baseline: 100, lastTimestamp: '2026-11-21T00:00:00.000Z', ledgerBytes: Buffer.byteLength(ledger) },
    firstStartedAt: '2026-11-21T00:00:00.000Z', updatedAt: '2026-11-21T00:00:00.000Z',
  };
  fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state));
}

function timeStatus(label) {
  const runs = [];
  let out = '';
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = spawnSync('node', [cli, '--path', root, 'status', '--json'], { maxBuffer: 1 << 30, env: { ...process.env, AUTORESEARCH_HOME: path.join(root, 'no-user-scope') } });
    runs.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`status failed: ${r.stderr}`);
    out = r.stdout.toString();
  }
  const parsed = JSON.parse(out);
  const median = runs.sort((a, b) => a - b)[1];
  console.log(`${label.padEnd(44)} ${(median / 1000).toFixed(2)} s (median of 3; ${parsed.length} experiments, ${parsed[0]?.iterations} rows each; target < 1 s) ${median < 1000 ? 'ok' : 'OVER TARGET'}`);
}

timeStatus('status --json, ledgers with a digest');
for (const entry of fs.readdirSync(path.join(root, '.autoresearch', 'bench'))) {
  const file = path.join(root, '.autoresearch', 'bench', entry, 'state.json');
  const state = JSON.parse(fs.readFileSync(file, 'utf8'));
  delete state.digest;
  fs.writeFileSync(file, JSON.stringify(state));
}
timeStatus('status --json, every row read (no digest)');
if (!args.includes("--keep")) fs.rmSync(root, { recursive: true, force: true });
else console.log(`kept ${root}`);
