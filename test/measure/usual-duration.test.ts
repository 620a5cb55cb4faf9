import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { experimentPaths, iterationPaths } from '../../src/experiment/paths.js';
import type { LedgerRow } from '../../src/ledger/types.js';
import { usualEvaluationMs } from '../../src/measure/usual-duration.js';
import { makeTempDir } from '../helpers/git-repo.js';

const row = (iteration: number, metric: number | null): LedgerRow => ({ commit: 'abc1234', metric, status: 'discard', description: 'x', iteration, timestamp: null, durationS: null, reason: null, agent: null });

describe('usualEvaluationMs (what "much shorter than usual" compares with)', () => {
  it('is the median per-evaluation time of the recent measured rows, from their result.json, once 3 are known', async () => {
    const paths = experimentPaths(await makeTempDir('ar-usual-'));
    const write = async (iteration: number, saved: Record<string, unknown>) => {
      const files = iterationPaths(paths, iteration);
      await fs.mkdir(files.dir, { recursive: true });
      await fs.writeFile(files.result, JSON.stringify(saved));
    };
    await write(1, { firstEvalMs: 300_000, evalMs: 900_000, evaluations: 3 });
    await write(2, { evalMs: 600_000, evaluations: 2 }); // no firstEvalMs (older artifact): the average
    expect(usualEvaluationMs(paths, [row(1, 1), row(2, 1)])).toBeNull(); // 2 known: not yet
    await write(3, { evalMs: 10 }); // a crash's artifact: its row has no metric, so it does not count
    await write(4, { firstEvalMs: 280_000 });
    await write(5, 'not an object' as unknown as Record<string, unknown>);
    // Row 6 has no result.json at all (a seed-written row).
    expect(usualEvaluationMs(paths, [row(1, 1), row(2, 1), row(3, null), row(4, 1), row(5, 1), row(6, 1)])).toBe(300_000);
  });
});
