/**
 * Cluster job names (loop/run-records.ts): recovery cancels every active job whose name starts
 * with an experiment's prefix, so no experiment's prefix may match another's jobs, and no
 * iteration's prefix another iteration's.
 */
import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/experiment/open-session.js';
import { attemptOfJob, jobName, jobPrefix } from '../../src/loop/run-records.js';

const session = (key: string, dir = `/p/.autoresearch/${key}`) => ({ config: { id: { key }, dir } }) as unknown as Session;

describe('cluster job names', () => {
  it('are unique per experiment, iteration, attempt and log, and give their attempt back', () => {
    const name = jobName(session('d/lr'), 7, '3f9a01c2', '/x/runs/00007/eval.2.log');
    expect(name).toMatch(/^ar-d\/lr@[0-9a-f]{8}:7-3f9a01c2-eval\.2$/);
    expect(attemptOfJob(session('d/lr'), 7, name)).toBe('3f9a01c2');
    expect(attemptOfJob(session('d/lr'), 7, `${name}.r1`)).toBe('3f9a01c2');
    expect(attemptOfJob(session('d/lr'), 70, name)).toBeNull();
  });

  it("never match another experiment's prefix (the same id in another checkout too), nor another iteration's", () => {
    const pairs: Array<[string, string]> = [
      ['d/lr', 'd/lr-2'],
      ['d/lr', 'd/lr.x'],
      ['a/b_c', 'a_b/c'],
      ['d/lr', 'd/lr_'],
    ];
    for (const [a, b] of pairs) {
      for (const [mine, theirs] of [[a, b], [b, a]] as const) {
        const other = jobName(session(theirs), 1, 'abcd', 'eval.log');
        expect(other.startsWith(jobPrefix(session(mine))), `${mine} vs ${other}`).toBe(false);
      }
    }
    const elsewhere = jobName(session('d/lr', '/another/checkout/.autoresearch/d/lr'), 1, 'abcd', 'eval.log');
    expect(elsewhere.startsWith(jobPrefix(session('d/lr')))).toBe(false);
    expect(jobName(session('d/lr'), 10, 'abcd', 'eval.log').startsWith(jobPrefix(session('d/lr'), 1))).toBe(false);
    expect(jobName(session('d/lr'), 1, 'abcd', 'eval.log').startsWith(jobPrefix(session('d/lr'), 1))).toBe(true);
  });
});
