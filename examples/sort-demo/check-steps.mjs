#!/usr/bin/env node
/**
 * Checks that agent.mjs's script scores as it claims: runs a minimal keep/discard/crash loop
 * (real git, in a temp repo) over every step plus one extra iteration, and compares each
 * outcome with the step's `expect`. Exit 0 if all match, 1 otherwise.
 *
 * This is a reference for the demo, not the product: no worktree, no ledger, no timeouts.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STEPS } from './agent.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'sort-demo-check-'));
const SCOPE = ['sort.mjs'];
// The check runs as on a fresh machine: no global git config, identity per command only.
const env = { ...process.env, GIT_CONFIG_GLOBAL: os.devNull, GIT_CONFIG_NOSYSTEM: '1' };

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { cwd: repo, env, encoding: 'utf8', ...opts });
}
function git(...args) {
  const r = run('git', ['-c', 'user.name=check', '-c', 'user.email=check@example.invalid', ...args]);
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}
function evaluate() {
  const r = run(process.execPath, ['evaluate.mjs']);
  const lines = r.stdout.split('\n').filter((l) => /^comparisons:/.test(l));
  const metric = lines.length ? Number(lines.at(-1).split(':').at(-1)) : NaN;
  return r.status === 0 && Number.isFinite(metric) ? { metric } : { error: (r.stderr || r.stdout).trim().split('\n').at(-1) };
}

let failures = 0;
try {
  for (const f of ['sort.mjs', 'evaluate.mjs']) fs.copyFileSync(path.join(here, f), path.join(repo, f));
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'baseline');

  let best = evaluate().metric;
  let bestCommit = git('rev-parse', 'HEAD');
  console.log(`baseline            comparisons ${best}`);

  for (let iteration = 1; iteration <= STEPS.length + 1; iteration++) {
    const agent = run(process.execPath, [path.join(here, 'agent.mjs')], {
      input: `# program\nminimise comparisons (iteration ${iteration})\n`,
      env: { ...env, AUTORESEARCH_ITERATION: String(iteration), AUTORESEARCH_WORKTREE: repo },
    });
    if (agent.status !== 0 || agent.stderr) throw new Error(`agent failed at ${iteration}: ${agent.stderr}`);
    if (git('status', '--porcelain')) {
      git('add', '-A');
      git('commit', '-q', '-m', `leftovers of iteration ${iteration}`);
    }

    let outcome;
    let detail = '';
    const changed = git('diff', '--name-only', bestCommit, 'HEAD').split('\n').filter(Boolean);
    if (changed.length === 0) outcome = 'no_change';
    else if (changed.some((f) => !SCOPE.includes(f))) outcome = 'scope_violation';
    else {
      const result = evaluate();
      if ('error' in result) [outcome, detail] = ['crash', result.error];
      else if (result.metric < best) [outcome, detail, best, bestCommit] = ['keep', `${result.metric}`, result.metric, git('rev-parse', 'HEAD')];
      else [outcome, detail] = ['discard', `${result.metric} (best ${best})`];
    }
    if (outcome !== 'keep') {
      git('reset', '-q', '--hard', bestCommit);
      git('clean', '-fdq');
    }

    const expect = STEPS[iteration - 1]?.expect ?? 'no_change';
    const ok = outcome === expect;
    if (!ok) failures++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${String(iteration).padStart(2)} ${outcome.padEnd(15)} ${detail}${ok ? '' : `  (expected ${expect})`}`);
  }
} finally {
  fs.rmSync(repo, { recursive: true, force: true });
}
process.exit(failures ? 1 : 0);
