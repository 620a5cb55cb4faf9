/**
 * Keeps on a noisy metric, measured through the real CLI on the noisy fixture
 * (test/fixtures/noisy): the evaluation prints true + N(0, σ), σ = 0.1; the agent's candidates are
 * no-ops (a comment, true effect 0) or real improvements (−3σ, one in each block of four
 * iterations), committed as `noop: …` / `real: …`. The same night (same seed: the same candidates
 * and the same noise for each (iteration, sample)) is run with the noise-aware rule and with the
 * single-sample rule, so the difference is measured, not assumed.
 *
 * The seed is no lucky pick. With one sample, no-ops are kept 32% of the time on average (27% for
 * this seed, 13% for the worst of seeds 1–10, under 10% in fewer than 1% of 5,000 seeds), hence the
 * 10% bound, twice the noise-aware one. The noise-aware bounds are the issue's own: every night of
 * seeds 1–10 met them (`node bench/noise.mjs --seeds 1-10`: no-ops kept 0–1 of 30, real
 * improvements 9–10 of 10, best within 1.6σ), and a simulation of the same rule on the same draws
 * (it reproduces those ten nights exactly) has about 84% of seeds meeting all three: tight for
 * this rule, not loose.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { cliEnv } from '../helpers/project.js';
import { runNight, summarizeNight, type NightSummary } from '../fixtures/noisy/night.mjs';

const SEED = 1;
const SIGMA = 0.1;
const EXPERIMENTS = 40;

async function night(config: Record<string, string>): Promise<NightSummary> {
  const run = await runNight({ cli: CLI, dir: await makeTempDir('ar-noisy-'), seed: SEED, sigma: SIGMA, experiments: EXPERIMENTS, config, env: cliEnv() });
  return summarizeNight(run);
}

/** Every row after the baseline is one of the agent's candidates, decided (no crash). */
function expectEveryCandidateDecided(s: NightSummary): void {
  expect(s.unclassified.map((r) => [r.iteration, r.status, r.reason, r.description])).toEqual([]);
  expect(s.real.tried + s.noop.tried).toBe(EXPERIMENTS);
  expect(s.real.tried).toBe(EXPERIMENTS / 4);
}

const rate = (c: { tried: number; kept: number }) => c.kept / c.tried;
const report = (s: NightSummary) =>
  `real kept ${s.real.kept}/${s.real.tried}, no-ops kept ${s.noop.kept}/${s.noop.tried}, ${s.evaluations} evaluations, ` +
  `final best ${s.final.best} vs truth ${s.final.truth.toFixed(3)} (${s.final.errorInSigma.toFixed(2)}σ)`;

describe('keeps on a noisy metric (noisy fixture, 40 experiments)', () => {
  // Both nights run at once (they mostly wait on processes); each test awaits its own, so one
  // night's failure fails only its test.
  let sequential: Promise<NightSummary>;
  let single: Promise<NightSummary>;
  beforeAll(() => {
    sequential = night({ repeats: '5', noise: 'auto' });
    single = night({ repeats: '1', noise: 'off' }); // the old rule, as the defaults are
    // Handled here so a failure is reported by its test, not as an unhandled rejection first.
    for (const p of [sequential, single]) p.catch(() => undefined);
  });

  it('repeats: 5, noise: auto keeps the real improvements, almost no no-op, and reports a best within 2σ of the truth', async () => {
    const s = await sequential;
    expectEveryCandidateDecided(s);
    const why = report(s);
    expect(rate(s.noop), why).toBeLessThanOrEqual(0.05);
    expect(rate(s.real), why).toBeGreaterThanOrEqual(0.8);
    expect(Math.abs(s.final.best - s.final.truth), why).toBeLessThanOrEqual(2 * SIGMA);
    // The decisions rest on repeated samples: more evaluations than rows.
    expect(s.evaluations, why).toBeGreaterThan(s.rows.length);
  }, 180_000);

  it('repeats: 1 (the single-sample rule) keeps lucky no-ops', async () => {
    const s = await single;
    expectEveryCandidateDecided(s);
    const why = report(s);
    expect(s.evaluations, why).toBe(s.rows.length); // one evaluation per row
    // A no-op is kept whenever its one draw beats the best's (itself a lucky draw).
    expect(rate(s.noop), why).toBeGreaterThanOrEqual(0.1);
  }, 120_000);
});
