/** A row's `detail` (loop/row-detail.ts): the why of each crash and discard, in words, on one line. */
import { describe, expect, it } from 'vitest';
import {
  failedProcessDetail,
  knownMessageDetail,
  messageDetail,
  metricInvalidDetail,
  metricMissingDetail,
  noChangeDetail,
  noImprovementDetail,
  scopeViolationDetail,
  timeoutDetail,
} from '../../src/loop/row-detail.js';

const SYNTAX_ERROR = `  File "/home/u/proj/train.py", line 41
    def forward(self, x)
                        ^
SyntaxError: expected ':'
`;

describe('row detail', () => {
  it('a failed evaluation: the reason, the exit code or signal, the error line', () => {
    expect(failedProcessDetail('eval_exit', '1', SYNTAX_ERROR)).toBe("eval_exit 1: SyntaxError: expected ':' (train.py:41)");
    expect(failedProcessDetail('eval_exit', '127', 'eval.sh: line 2: pyhton: command not found\n')).toBe('eval_exit 127: eval.sh: line 2: pyhton: command not found');
    expect(failedProcessDetail('eval_signal', 'SIGKILL', '')).toBe('eval_signal SIGKILL: no output');
  });

  it('never longer than 160 characters, the location of a long error kept', () => {
    const long = `Traceback (most recent call last):\n  File "/p/train.py", line 9, in <module>\n    go()\nRuntimeError: ${'x'.repeat(300)}\n`;
    const detail = failedProcessDetail('eval_exit', '1', long);
    expect(detail.length).toBe(160);
    expect(detail).toMatch(/^eval_exit 1: RuntimeError: x+… \(train\.py:9\)$/);
  });

  it('an agent failure: the first meaningful line of the classifier message', () => {
    expect(failedProcessDetail('agent_exit', null, 'Loaded config\nError: Invalid API key · Please run /login\n')).toBe('agent_exit: Error: Invalid API key · Please run /login');
    expect(messageDetail('agent_spawn', 'spawn claude ENOENT\n  at x')).toBe('agent_spawn: spawn claude ENOENT');
    // A message we wrote for a recognised failure is kept whole (its start says what happened).
    expect(knownMessageDetail('agent_exit', 'claude refused 1 tool call (Edit .git/x)\n; allow it in agent_args')).toBe('agent_exit: claude refused 1 tool call (Edit .git/x) ; allow it in agent_args');
  });

  it('a timeout: the limit, and the last line it printed', () => {
    expect(timeoutDetail('eval_timeout', 300_000, 'step 811\nstep 812 loss 3.41\n')).toBe('eval_timeout: killed after 5m; last line: step 812 loss 3.41');
    expect(timeoutDetail('agent_timeout', 1_800_000, '')).toBe('agent_timeout: killed after 30m, no output');
  });

  it('a missing metric: what was expected, and what the evaluation said instead', () => {
    expect(metricMissingDetail('^val_loss:', null, 'training done\n')).toBe('metric_missing: no line starting with `val_loss:` in the output; last line: training done');
    expect(metricMissingDetail('^val_loss:', null, 'ERROR: no validation split\ndone\n')).toBe('metric_missing: no line starting with `val_loss:` in the output; it said: ERROR: no validation split');
    expect(metricMissingDetail('x', 'score=(\\d+)', '')).toBe('metric_missing: no line matching /score=(\\d+)/ in the output; the output was empty');
  });

  it('an invalid metric: the metric line itself', () => {
    expect(metricInvalidDetail('val_loss: nan ')).toBe('metric_invalid: val_loss: nan');
  });

  it('a scope violation names the files (at most three) and the scope', () => {
    expect(scopeViolationDetail(['eval.sh'], ['train.py'])).toBe('scope_violation: eval.sh is outside scope (train.py)');
    expect(scopeViolationDetail(['a', 'b', 'c', 'd', 'e'], ['src/', 'train.py'])).toBe('scope_violation: a, b, c and 2 more are outside scope (src/, train.py)');
  });

  it('no change, and no improvement with the rule that rejected it', () => {
    expect(noChangeDetail(false)).toBe('no_change: the agent changed nothing');
    expect(noChangeDetail(true)).toBe('no_change: nothing changed in the worktree');
    expect(noImprovementDetail(0.512, 0.498, 'lower', 0)).toBe('no_improvement: 0.512 is not better than best 0.498 (lower is better)');
    expect(noImprovementDetail(0.91, 0.91, 'higher', 0)).toBe('no_improvement: 0.91 equals best 0.91 (higher is better)');
    expect(noImprovementDetail(0.4975, 0.498, 'lower', 0.001)).toBe('no_improvement: 0.4975 beats best 0.498 by 0.0005, not more than min_improvement 0.001 (lower is better)');
  });

  it('one line, whatever the message holds', () => {
    expect(messageDetail('worktree_tampered', '\n.git was replaced\tby a file\n')).toBe('worktree_tampered: .git was replaced by a file');
  });
});
