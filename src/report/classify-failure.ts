/**
 * Failure triage for `report` (SPEC §8): which class each failed iteration belongs to, and
 * why. Pure: a row, its result.json and its log tail in; a verdict with its evidence out.
 *
 *   infrastructure   the machine or the tools failed, not the change: re-run these
 *                    (spawn errors, exit 127/126, "command not found", a full disk, a failed
 *                    baseline, an agent that failed within seconds or without spending
 *                    anything, and — across rows — the same error from different candidates)
 *   candidate        the change broke the code: the evaluation failed, each time differently
 *   agent            the agent exited with an error after working for a while
 *   timeout          killed at eval_timeout or agent_timeout
 *   metric_parse     the evaluation succeeded but printed no metric, or not a number
 *   scope_violation  discarded unevaluated: the agent changed files outside `scope`
 *
 * Rows written by the autoresearch-agent Python skill have no reason column and no run
 * artifacts: their class comes from the description it writes (`exit_<code>`,
 * `timeout_<secs>s`, `metric_parse_failed`).
 */
import type { LedgerRow } from '../ledger/types.js';
import { MACHINE_ERRORS, visibleLines } from './error-line.js';

export type FailureClass = 'infrastructure' | 'candidate' | 'agent' | 'timeout' | 'metric_parse' | 'scope_violation';

/** Report order: what the user should act on first. */
export const FAILURE_CLASSES: readonly FailureClass[] = ['infrastructure', 'candidate', 'agent', 'timeout', 'metric_parse', 'scope_violation'];

/** The parts of runs/<n>/result.json the report reads; every field may be missing in an older or partial file. */
export interface RunRecord {
  iteration?: number;
  commit?: string;
  commitFull?: string;
  base?: string | null;
  /** What the process did, for machines (`exit code 1`, `changed outside scope: a, b`); the row's `detail` is the why in words. */
  technicalDetail?: string | null;
  agentMs?: number | null;
  evalMs?: number | null;
  agentReport?: { costUsd?: number | null; inputTokens?: number | null; outputTokens?: number | null; sessionId?: string | null; model?: string | null } | null;
}

export interface FailureInput {
  row: LedgerRow;
  /** null: no result.json (a seed row, or artifacts deleted). */
  run: RunRecord | null;
  /** The end of the log that explains the failure ('' when there is none). */
  logTail: string;
}

/** Which process failed: decides which log explains it and what "the same error" means. */
export type FailureSide = 'eval' | 'agent' | 'setup' | 'none';

export interface FailureVerdict {
  class: FailureClass;
  /** The row's reason, or for a seed row the reason its description stands for. */
  reason: string;
  side: FailureSide;
  /** Why this class, in a few words, for the report. */
  evidence: string;
  /** The log's last lines with volatile tokens masked; equal signatures = the same error. */
  signature: string | null;
  /** scope_violation: the paths changed outside scope. */
  paths: string[];
}

/** An agent failure this quick never got to the model: a login, install or network problem. */
export const FAST_AGENT_FAILURE_MS = 10_000;

/** How far from the end of a log a machine error still counts as the cause of the failure. */
const EVIDENCE_LINES = 20;


/** One failed iteration's class, or null for a row that is not a failure (keeps, plain discards). */
export function classifyFailure(input: FailureInput): FailureVerdict | null {
  const { row, run, logTail } = input;
  if (row.status === 'keep') return null;
  if (row.status === 'discard') {
    if (row.reason !== 'scope_violation') return null;
    const paths = outOfScopePaths(run?.technicalDetail ?? null);
    return verdict('scope_violation', 'scope_violation', 'none', paths.length > 0 ? `changed ${paths.join(', ')}` : 'changed files outside scope', null, paths);
  }

  const { reason, exitCode } = crashReason(row, run);
  const side = sideOf(reason);
  const signature = errorSignature(logTail);
  const infra = (evidence: string): FailureVerdict => verdict('infrastructure', reason, side, evidence, signature);

  if (reason === 'eval_spawn' || reason === 'agent_spawn') return infra(`could not start the ${side === 'agent' ? 'agent' : 'evaluation'}`);
  if (reason === 'setup_failed') return infra('setup_cmd failed');
  if (exitCode === 127) return infra('exit 127 (command not found)');
  if (exitCode === 126) return infra('exit 126 (command not executable)');
  // Only the end of the log: a warning early in a run that then failed on its own is not the cause.
  const text = `${logTail.split('\n').slice(-EVIDENCE_LINES).join('\n')}\n${run?.technicalDetail ?? ''}`;
  for (const [pattern, what] of MACHINE_ERRORS) {
    if (pattern.test(text)) return infra(what);
  }
  if (side === 'eval' && evaluatedUnmodifiedCode(row, run) && (reason === 'eval_exit' || reason === 'eval_signal')) {
    return infra('the unmodified code failed: the evaluation itself is broken');
  }
  if (side === 'agent') {
    const cost = row.costUsd ?? run?.agentReport?.costUsd ?? null;
    if (cost === 0) return infra('the agent failed without spending anything');
    const agentMs = run?.agentMs ?? (row.durationS === null ? null : row.durationS * 1000);
    if (reason === 'agent_exit' && agentMs !== null && agentMs < FAST_AGENT_FAILURE_MS) return infra(`the agent failed after ${(agentMs / 1000).toFixed(1)}s`);
  }

  switch (reason) {
    case 'eval_timeout':
      return verdict('timeout', reason, side, 'killed at eval_timeout', signature);
    case 'agent_timeout':
      return verdict('timeout', reason, side, 'killed at agent_timeout', signature);
    case 'metric_missing':
      return verdict('metric_parse', reason, side, 'no metric line', signature);
    case 'metric_invalid':
      return verdict('metric_parse', reason, side, 'the metric is not a finite number', signature);
    case 'metric_parse_failed': // the seed's name for both
      return verdict('metric_parse', reason, side, 'no metric, or not a number', signature);
    case 'agent_exit':
      return verdict('agent', reason, side, 'the agent exited with an error', signature);
    case 'eval_signal':
      return verdict('candidate', reason, side, run?.technicalDetail ?? 'killed by a signal', signature);
    case 'eval_exit':
      return verdict('candidate', reason, side, exitCode === null ? 'the evaluation failed' : `exit ${exitCode}`, signature);
    default:
      // A crash we have no name for (another tool's free-text description): the change is the suspect.
      return verdict('candidate', reason, side, 'crash', signature);
  }
}

/** Something that can be promoted: a classified failure with the commit it evaluated. */
export interface Triaged {
  iteration: number;
  commit: string;
  verdict: FailureVerdict;
}

/**
 * The cross-row rule: one error text from different candidates is the machine, not the
 * changes (different code does not break in exactly the same way). Candidate and agent
 * failures whose signature is shared by ≥ 2 different candidates (evaluation: distinct
 * commits; agent: distinct iterations, since a failed agent usually left no commit of its
 * own) become infrastructure. Returns new items; the input is not changed.
 */
export function promoteRepeatedErrors<T extends Triaged>(items: readonly T[]): T[] {
  const groups = new Map<string, Set<string>>();
  const keyOf = (item: Triaged): string | null =>
    item.verdict.signature !== null && (item.verdict.side === 'eval' || item.verdict.side === 'agent') && ['infrastructure', 'candidate', 'agent'].includes(item.verdict.class)
      ? `${item.verdict.side}\n${item.verdict.signature}`
      : null;
  for (const item of items) {
    const key = keyOf(item);
    if (key === null) continue;
    const who = item.verdict.side === 'eval' ? item.commit : String(item.iteration);
    groups.set(key, (groups.get(key) ?? new Set()).add(who));
  }
  return items.map((item) => {
    const key = keyOf(item);
    const count = key === null ? 0 : (groups.get(key)?.size ?? 0);
    if (count < 2 || item.verdict.class === 'infrastructure') return item;
    const iterations = items.filter((other) => keyOf(other) === key).map((other) => other.iteration);
    return { ...item, verdict: { ...item.verdict, class: 'infrastructure', evidence: `the same error in ${count} different candidates (iterations ${iterations.join(', ')})` } };
  });
}

/**
 * The last lines of a log, as an identity for "the same error": timestamps, durations,
 * hashes and addresses, temp paths and pids masked; line numbers kept (two syntax errors
 * at different lines are different errors). null when there is no text.
 */
export function errorSignature(logTail: string, lines = 5): string | null {
  const last = visibleLines(logTail) // a progress bar's \r-overwritten line: what was shown last
    .map((line) => line.trim())
    .slice(-lines);
  if (last.length === 0) return null;
  return last
    .map((line) =>
      line
        .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?/g, '<time>')
        .replace(/\b\d\d:\d\d:\d\d(?:[.,]\d+)?\b/g, '<time>')
        .replace(/\b\d+(?:\.\d+)?\s?(?:ms|s|sec|secs|seconds|m|min|minutes)\b/g, '<duration>')
        .replace(/\b0x[0-9a-f]+\b/gi, '<addr>')
        .replace(/\b[0-9a-f]{7,64}\b/g, '<hash>')
        .replace(/\/tmp\/\S+/g, '<tmp>')
        .replace(/\b(?:pid|process) \d+\b/gi, 'pid <n>'),
    )
    .join('\n');
}

/** The row's reason, or what a seed row's description stands for; plus the exit code when known. */
export function crashReason(row: LedgerRow, run: RunRecord | null): { reason: string; exitCode: number | null } {
  if (row.reason !== null) {
    const code = /exit(?:ed with)? code (-?\d+)/.exec(run?.technicalDetail ?? '')?.[1];
    return { reason: row.reason, exitCode: code === undefined ? null : Number(code) };
  }
  const exit = /^exit_(-?\d+)$/.exec(row.description);
  if (exit?.[1] !== undefined) return { reason: 'eval_exit', exitCode: Number(exit[1]) };
  if (/^timeout_\d+(?:\.\d+)?s$/.test(row.description)) return { reason: 'eval_timeout', exitCode: null };
  if (row.description === 'metric_parse_failed') return { reason: 'metric_parse_failed', exitCode: null };
  return { reason: 'crash', exitCode: null };
}

export function sideOf(reason: string): FailureSide {
  if (reason.startsWith('agent_')) return 'agent';
  if (reason === 'setup_failed') return 'setup';
  if (reason === 'scope_violation') return 'none';
  return 'eval';
}

/**
 * The evaluation ran on the last kept commit itself (the baseline): result.json says so
 * exactly; without it, a baseline row is the one no agent produced.
 */
function evaluatedUnmodifiedCode(row: LedgerRow, run: RunRecord | null): boolean {
  if (run?.commitFull !== undefined && run.base !== undefined && run.base !== null) return run.commitFull === run.base;
  return row.agent === null && row.description.startsWith('baseline');
}

/** `changed outside scope: a, b` (iteration.ts) → ['a', 'b']. */
export function outOfScopePaths(detail: string | null): string[] {
  const match = /changed outside scope: (.*)$/s.exec(detail ?? '');
  return match?.[1] === undefined ? [] : match[1].split(', ').filter((p) => p !== '');
}

function verdict(cls: FailureClass, reason: string, side: FailureSide, evidence: string, signature: string | null, paths: string[] = []): FailureVerdict {
  return { class: cls, reason, side, evidence, signature, paths };
}
