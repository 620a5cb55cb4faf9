/**
 * Cluster job names (loop/run-records.ts): recovery cancels every active job whose name starts
 * with an experiment's prefix, so no experiment's prefix may match another's jobs, and no
 * iteration's prefix another iteration's.
 */
import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/experiment/open-session.js';
import { attemptOfJob, jobName, jobPrefix } from '../../src/loop/run-records.js';

const session = (key: string) => ({ config: { id: { key } } }) as unknown as Session;

describe('cluster job names', () => {
  it('are unique per experiment, iteration, attempt and log, and give their attempt back', () => {
    const name = jobName(session('d/lr'), 7, '3f9a01c2', '/x/runs/00007/eval.2.log');
    expect(name).toBe('ar-d/lr:7-3f9a01c2-eval.2');
    expect(attemptOfJob(session('d/lr'), 7, name)).toBe('3f9a01c2');
    expect(attemptOfJob(session('d/lr'), 7, `${name}.r1`)).toBe('3f9a01c2');
    expect(attemptOfJob(session('d/lr'), 70, name)).toBeNull();
  });

  it("never match another experiment's prefix, nor another iteration's", () => {
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
    expect(jobName(session('d/lr'), 10, 'abcd', 'eval.log').startsWith(jobPrefix(session('d/lr'), 1))).toBe(false);
    expect(jobName(session('d/lr'), 1, 'abcd', 'eval.log').startsWith(jobPrefix(session('d/lr'), 1))).toBe(true);
  });
});
