/**
 * σ, the noise of one evaluation, for the band around the running best (issue 11): the
 * config's known `noise: <number>`; else state.json's pooled estimate (σ = √(sumSquares/df));
 * else pooled from the rows' evidence, Σ(n−1)·spread² / Σ(n−1) over rows with n ≥ 2 samples.
 * Null when nothing says (one sample per row, no state). Pure.
 */
import { sigmaOf } from '../decision/noise-estimate.js';
import type { NoiseEstimate, NoiseSetting } from '../decision/types.js';
import type { LedgerRow } from '../ledger/types.js';

export interface NoiseView {
  sigma: number;
  /** config: `noise: <number>`; state: state.json `noise`; rows: pooled from the rows' spreads. */
  source: 'config' | 'state' | 'rows';
  /** Degrees of freedom behind it (null for a known σ). */
  df: number | null;
}

export function noiseEstimate(rows: readonly LedgerRow[], state: NoiseEstimate | null | undefined, setting?: NoiseSetting | null): NoiseView | null {
  if (setting?.kind === 'known' && Number.isFinite(setting.sigma) && setting.sigma >= 0) return { sigma: setting.sigma, source: 'config', df: null };
  const fromState = state != null && state.sumSquares >= 0 ? sigmaOf(state) : null;
  if (state != null && fromState !== null) return { sigma: fromState, source: 'state', df: state.df };
  let sumSquares = 0;
  let df = 0;
  for (const row of rows) {
    const ev = row.evidence;
    if (ev == null || ev.spread === null || !Number.isFinite(ev.spread) || !(ev.samples >= 2)) continue;
    sumSquares += (ev.samples - 1) * ev.spread * ev.spread;
    df += ev.samples - 1;
  }
  return df > 0 ? { sigma: Math.sqrt(sumSquares / df), source: 'rows', df } : null;
}
