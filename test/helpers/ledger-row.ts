import type { LedgerRow } from '../../src/ledger/types.js';

/** A complete ledger row for tests: a baseline keep, with `overrides` on top. */
export function row(overrides: Partial<LedgerRow> = {}): LedgerRow {
  return {
    commit: 'abc1234',
    metric: 0.5,
    status: 'keep',
    description: 'baseline',
    iteration: 0,
    timestamp: '2025-03-01T10:00:00.000Z',
    durationS: 12.3,
    reason: 'baseline',
    agent: 'command',
    costUsd: null,
    tokensIn: null,
    tokensOut: null,
    detail: null,
    evidence: null,
    ...overrides,
  };
}
