/**
 * A row's `detail` (SPEC §4): why a crash or discard happened, in words, on one line. It
 * starts with the reason code (and the exit code or signal when there is one), so every
 * display can show it in place of the reason:
 *
 *   eval_exit 1: SyntaxError: expected ':' (train.py:41)
 *   eval_timeout: killed after 5m; last line: step 812/2000 loss 3.41
 *   metric_missing: no line starting with `val_loss:` in the output; last line: done
 *   scope_violation: eval.sh is outside scope (train.py)
 *   no_improvement: 0.512 is not better than best 0.498 (lower is better)
 *
 * Pure: the log tails are passed in. The line of a log that explains a failure is found by
 * report/error-line.ts, shared with `report`'s triage.
 */
import formatMs from 'ms';
import type { Direction } from '../config/types.js';
import type { ProcessOutcome } from '../process/types.js';
import { ERROR_LINE_MAX_CHARS, clip, errorLine, lastLine } from '../report/error-line.js';
import { seedPrefixes } from './metric.js';

/** How many out-of-scope paths are named before `and N more`. */
const NAMED_PATHS = 3;

/** `eval_exit 1: <the error line>` / `eval_signal SIGKILL: …` / `agent_exit: …`: a process that failed, and what its output says. */
export function failedProcessDetail(reason: string, ended: string | null, logTail: string): string {
  const head = ended === null ? reason : `${reason} ${ended}`;
  // The room left after `head: `, so that a location at the end of the error line is kept.
  return withText(head, errorLine(logTail, ERROR_LINE_MAX_CHARS - head.length - 2) ?? 'no output');
}

/** `eval_timeout: killed after 5m; last line: …`: where it was when it was killed. */
export function timeoutDetail(reason: string, timeoutMs: number, logTail: string): string {
  const last = lastLine(logTail);
  return withText(reason, `killed after ${formatMs(timeoutMs)}${last === null ? ', no output' : `; last line: ${last}`}`);
}

/** `eval_spawn: spawn /bin/sh ENOENT`, `worktree_tampered: …`: a message we made, reduced to its first line. */
export function messageDetail(reason: string, message: string): string {
  const first = message.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
  return withText(reason, first === '' ? 'no message' : first);
}

/** `agent_exit: claude refused 2 tool calls (…); <what to do>`: a message we wrote for a failure we recognised, whole, on one line. */
export function knownMessageDetail(reason: string, message: string): string {
  return withText(reason, message.trim().replace(/\s*\n\s*/g, ' '));
}

/** metric_missing: what was expected, and what the evaluation said instead. */
export function metricMissingDetail(metricGrep: string, metricRegex: string | null, logTail: string): string {
  const expected = metricRegex !== null ? `no line matching /${metricRegex}/` : `no line starting with \`${seedPrefixes(metricGrep).at(-1) ?? ''}\``;
  const error = errorLine(logTail);
  const last = lastLine(logTail);
  const said = last === null ? '; the output was empty' : error !== null && error !== last ? `; it said: ${error}` : `; last line: ${last}`;
  return withText('metric_missing', `${expected} in the output${said}`);
}

/** metric_invalid: the metric line itself (`val_loss: nan`). */
export function metricInvalidDetail(line: string): string {
  return withText('metric_invalid', line.trim());
}

/** scope_violation: which files, and what the scope is. */
export function scopeViolationDetail(outside: readonly string[], allowed: readonly string[]): string {
  const named = outside.slice(0, NAMED_PATHS).join(', ') + (outside.length > NAMED_PATHS ? ` and ${outside.length - NAMED_PATHS} more` : '');
  return withText('scope_violation', `${named} ${outside.length === 1 ? 'is' : 'are'} outside scope (${allowed.join(', ')})`);
}

/** stale_base: drafted while another candidate was evaluated, which was kept; the change does not apply on top of it (pipeline). */
export function staleBaseDetail(draftedOn: string, bestNow: string, bestIteration: number | null, why = 'this change does not apply on top of it'): string {
  const best = `${bestNow}${bestIteration === null ? '' : ` (#${bestIteration})`}`;
  return withText('stale_base', `drafted on ${draftedOn} while an earlier candidate was evaluated; the best is now ${best} and ${why}`);
}

/** no_change: nothing to evaluate. `external`: the change comes from outside (`agent: none`). */
export function noChangeDetail(external: boolean): string {
  return external ? 'no_change: nothing changed in the worktree' : 'no_change: the agent changed nothing';
}

/** no_improvement: the measured value against the best, and the rule that rejected it. */
export function noImprovementDetail(value: number, best: number, direction: Direction, minImprovement: number): string {
  const rule = direction === 'lower' ? 'lower is better' : 'higher is better';
  const gain = direction === 'lower' ? best - value : value - best;
  if (gain > 0 && minImprovement > 0) {
    return withText('no_improvement', `${num(value)} beats best ${num(best)} by ${num(gain)}, not more than min_improvement ${num(minImprovement)} (${rule})`);
  }
  if (value === best) return withText('no_improvement', `${num(value)} equals best ${num(best)} (${rule})`);
  return withText('no_improvement', `${num(value)} is not better than best ${num(best)} (${rule})`);
}

/** `head: text`, one line, at most ERROR_LINE_MAX_CHARS characters. */
function withText(head: string, text: string): string {
  return clip(`${head}: ${text.replace(/[\t\r\n]+/g, ' ')}`, ERROR_LINE_MAX_CHARS);
}

/** Six significant digits without trailing zeros: what a person compares. */
function num(value: number): string {
  return String(Number(value.toPrecision(6)));
}

/** check_failed: how check_cmd ended and what its output says (`check_failed: exit 1: FAILED test_api.py::test_search`). */
export function checkFailedDetail(outcome: ProcessOutcome, timeoutMs: number, logTail: string): string {
  switch (outcome.kind) {
    case 'exit':
      return withText('check_failed', `exit ${outcome.code}: ${errorLine(logTail, ERROR_LINE_MAX_CHARS - 30) ?? 'no output'}`);
    case 'signal':
      return withText('check_failed', `killed by ${outcome.signal}: ${errorLine(logTail, ERROR_LINE_MAX_CHARS - 40) ?? 'no output'}`);
    case 'timeout':
      return timeoutDetail('check_failed', timeoutMs, logTail);
    case 'spawn-error':
      return messageDetail('check_failed', outcome.message);
    case 'aborted':
      return withText('check_failed', 'stopped');
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
}

/** `exit code 1`, `killed by SIGKILL`, `timed out`: a process's end, for technical details. */
export function describeOutcome(outcome: ProcessOutcome): string {
  switch (outcome.kind) {
    case 'exit':
      return `exit code ${outcome.code}`;
    case 'signal':
      return `killed by ${outcome.signal}`;
    case 'timeout':
      return 'timed out';
    case 'spawn-error':
      return `could not start: ${outcome.message}`;
    case 'aborted':
      return 'stopped';
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
}
