import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadState } from '../../src/experiment/state.js';
import { makeTempDir } from '../helpers/git-repo.js';

const VALID = {
  version: 1,
  id: 'test/exp',
  projectRoot: '/p',
  worktree: '/w',
  branch: 'autoresearch/test/exp',
  lastKept: { commit: 'a'.repeat(40), metric: 0.5, iteration: 0 },
  consecutiveCrashes: 0,
  setupDone: true,
  halt: null,
  exhausted: { primary: { until: '2025-01-01T00:00:00Z', reason: 'quota', signature: null, attempt: 1 } },
  intent: { phase: 'eval', iteration: 3, base: 'b', candidate: 'c', child: { pid: 10, pgid: 10, startTime: 5, bootId: null } },
  firstStartedAt: '2025-01-01T00:00:00Z',
  updatedAt: '2025-01-01T00:00:00Z',
  someFutureKey: { anything: true },
};

async function load(state: unknown): Promise<unknown> {
  const file = path.join(await makeTempDir('ar-state-'), 'state.json');
  await fs.writeFile(file, JSON.stringify(state));
  return loadState(file).catch((error: Error) => error);
}

describe('state.json schema', () => {
  it('accepts a valid state, unknown keys included', async () => {
    expect(await load(VALID)).toMatchObject({ id: 'test/exp', consecutiveCrashes: 0 });
  });

  it('refuses a value of the wrong type naming the key path, what was expected and what was found', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ consecutiveCrashes: '2' }, /key consecutiveCrashes to be a non-negative integer, found "2" \(string\)/],
      [{ lastKept: { commit: 'x', metric: 'fast' } }, /key lastKept\.metric to be a finite number or null, found "fast" \(string\)/],
      [{ setupDone: 'yes' }, /key setupDone to be true or false, found "yes"/],
      [{ halt: { state: 'sleeping', reason: 'x', at: 'y' } }, /key halt\.state to be one of "tripped", "paused", "blocked", found "sleeping"/],
      [{ intent: { phase: 'eval', iteration: 1, base: 'b', child: null } }, /key intent\.candidate to be a string, found nothing \(the key is missing\)/],
      [{ exhausted: { primary: { until: 5, reason: 'r', signature: null, attempt: 1 } } }, /key exhausted\.primary\.until to be a string, found 5 \(number\)/],
      [{ branch: undefined }, /key branch to be a string, found nothing/],
      [{ version: 2 }, /key version to be one of 1, found 2/],
    ];
    for (const [change, message] of cases) {
      const error = await load({ ...VALID, ...change });
      expect(error, JSON.stringify(change)).toBeInstanceOf(Error);
      expect((error as Error).message, JSON.stringify(change)).toMatch(message);
      expect((error as Error).message).toMatch(/state\.json: expected .*Refusing to start fresh/);
    }
    expect(((await load([1, 2])) as Error).message).toMatch(/expected a state object of version 1, found \[1,2\] \(list\)/);
  });
});
