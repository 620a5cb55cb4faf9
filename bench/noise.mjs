#!/usr/bin/env node
/**
 * `npm run bench`: what noise-aware keeps cost and buy, on the noisy fixture (test/fixtures/noisy:
 * score = 10 − 3σ·k + N(0, σ), σ = 0.1, lower is better; the agent's candidates are no-ops, true
 * effect 0, or real improvements of 3σ, one in each block of four iterations).
 *
 * Three settings run the same nights (same seeds: the same candidates, the same noise for each
 * (iteration, sample)):
 *   single      repeats 1, noise off   one sample, keep when it beats the best (the old rule)
 *   fixed-N     repeats 5, noise off   the mean of 5 samples, no test
 *   sequential  repeats 5, noise auto  samples while they can decide, keep when credible
 * Printed per setting, summed over the seeds: evaluations made, correct keeps (real improvements
 * kept), false keeps (no-ops kept), GPU-seconds per correct keep if one evaluation takes 300 GPU-s,
 * and the final best (the last keep's metric) against the truth of its commit, in σ.
 *
 * Usage: node bench/noise.mjs [--seeds 1-3 | 1,4,7] [--experiments N] [--keep]
 *   --seeds        the nights to run (default 1-3)
 *   --experiments  experiments per night (default 40)
 *   --keep         leave the temp dirs in place (their path is printed)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, positiveInt } from './args.mjs';
import { runNight, summarizeNight } from '../test/fixtures/noisy/night.mjs';

const GPU_SECONDS_PER_EVALUATION = 300;
const SIGMA = 0.1;
const EXPERIMENTS = positiveInt('--experiments', '40');
const SEEDS = parseSeeds();
const SETTINGS = [
  { name: 'single', what: 'repeats 1, noise off', config: {} }, // the defaults
  { name: 'fixed-N', what: 'repeats 5, noise off', config: { repeats: '5', noise: 'off' } },
  { name: 'sequential', what: 'repeats 5, noise auto', config: { repeats: '5', noise: 'auto' } },
];

function parseSeeds() {
  const args = process.argv.slice(2);
  const raw = args.includes('--seeds') ? args[args.indexOf('--seeds') + 1] : '1-3';
  const range = /^(\d+)-(\d+)$/.exec(raw ?? '');
  const seeds = range
    ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i)
    : String(raw).split(',').map(Number);
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) {
    console.error(`bench: --seeds expects a range (1-10) or a list (1,4,7) of non-negative integers, got ${JSON.stringify(raw)}`);
    process.exit(1);
  }
  return seeds;
}

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(cli)) {
  console.error(`bench: ${cli} not found; build first (npm run build, or npm run bench)`);
  process.exit(1);
}

const tmpRoot = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'autoresearch-noise-bench-')));
const env = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? tmpRoot,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  AUTORESEARCH_HOME: path.join(tmpRoot, 'home'),
  AUTORESEARCH_WORKTREES: path.join(tmpRoot, 'worktrees'),
};

const pct = (kept, tried) => (tried === 0 ? '-' : `${((100 * kept) / tried).toFixed(0)}%`);
const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;

let exitCode = 0;
console.log(`bench: noisy fixture, σ = ${SIGMA}, ${EXPERIMENTS} experiments per night, seeds ${SEEDS.join(',')}; ${GPU_SECONDS_PER_EVALUATION} GPU-s per evaluation`);
const lines = [];
for (const setting of SETTINGS) {
  const total = { evaluations: 0, realKept: 0, realTried: 0, noopKept: 0, noopTried: 0, errors: [], seconds: 0 };
  let failed = null;
  for (const seed of SEEDS) {
    const started = Date.now();
    try {
      const night = await runNight({ cli, dir: path.join(tmpRoot, `${setting.name}-${seed}`), seed, sigma: SIGMA, experiments: EXPERIMENTS, config: setting.config, env });
      const s = await summarizeNight(night);
      if (s.unclassified.length > 0) throw new Error(`rows that are no candidate: ${s.unclassified.map((r) => `#${r.iteration} ${r.status} ${r.reason}`).join(', ')}`);
      total.evaluations += s.evaluations;
      total.realKept += s.real.kept;
      total.realTried += s.real.tried;
      total.noopKept += s.noop.kept;
      total.noopTried += s.noop.tried;
      total.errors.push(s.final.errorInSigma);
      total.seconds += (Date.now() - started) / 1000;
      console.log(
        `  ${setting.name} seed ${seed}: ${s.evaluations} evaluations, real kept ${s.real.kept}/${s.real.tried}, no-ops kept ${s.noop.kept}/${s.noop.tried}, ` +
          `final best ${s.final.best} vs truth ${s.final.truth.toFixed(3)} (${signed(s.final.errorInSigma)}σ), ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    } catch (error) {
      failed = (error instanceof Error ? error.message : String(error)).split('\n').slice(0, 6).join('\n    ');
      console.log(`  ${setting.name} seed ${seed}: FAILED: ${failed}`);
      exitCode = 1;
      break;
    }
  }
  if (failed !== null) {
    lines.push(`${setting.name.padEnd(10)} (${setting.what}): FAILED (see above)`);
    continue;
  }
  const perKeep = total.realKept === 0 ? '∞' : ((total.evaluations * GPU_SECONDS_PER_EVALUATION) / total.realKept).toFixed(0);
  const meanError = total.errors.reduce((a, b) => a + b, 0) / total.errors.length;
  const within = total.errors.filter((e) => Math.abs(e) <= 2).length;
  lines.push(
    `${setting.name.padEnd(10)} (${setting.what}): ${total.evaluations} evaluations, correct keeps ${total.realKept}/${total.realTried} (${pct(total.realKept, total.realTried)}), ` +
      `false keeps ${total.noopKept}/${total.noopTried} (${pct(total.noopKept, total.noopTried)}), ${perKeep} GPU-s per correct keep, ` +
      `final best − truth ${signed(meanError)}σ on average (within 2σ in ${within}/${total.errors.length} nights), wall ${total.seconds.toFixed(0)} s`,
  );
}
console.log(lines.join('\n'));
if (flag('--keep')) console.log(`bench: temp dirs kept in ${tmpRoot}`);
else fs.rmSync(tmpRoot, { recursive: true, force: true });
process.exit(exitCode);
