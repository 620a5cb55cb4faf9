/**
 * One agent turn: run the agent CLI (or command) in the worktree, then read what it said.
 * Its exit code, stdout, stderr and JSON are classified (agents/classify.ts):
 *
 *   ok ─────────► finished (with cost, tokens, session, model when the CLI reports them)
 *   transient ──► a few short retries (p-retry), worktree restored between them; each waits
 *                 as long as the CLI said ("retry in 3.5s", plus a little jitter, at most
 *                 LONG_WAIT_MS), else our backoff; still transient after the last ─► exhausted
 *   exhausted ──► exhausted (reset time if given): the iteration is rolled back, no row
 *   billing ────► billing: blocked until `autoresearch resume`
 *   auth ───────► auth: blocked until `autoresearch resume` (not logged in / no key passed)
 *   failure, timeout, spawn error ─► crashed: an ordinary crash row (refused tool calls too:
 *                 a turn whose edits were refused is a failure, never `no change`)
 */
import pRetry from 'p-retry';
import { agentEnvironment, boundCliRetries, withExtraArgs } from '../agents/agent-env.js';
import { parseAgentReport, type AgentReport } from '../agents/agent-report.js';
import { classifyAgentRun, LONG_WAIT_MS, type AgentKind, type AgentVerdict } from '../agents/classify.js';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { readTailLines } from '../fs/read-tail.js';
import type { ProcessOutcome, SpawnedChild } from '../process/types.js';
import { worktreeTag } from './child-env.js';
import type { RunnableAgent } from './exhaustion.js';
import { resetTimeContext } from '../core/local-time.js';

/** The classifier sees the end of each stream: results and limit messages come last. */
const TAIL_BYTES = 256 * 1024;
/** Our own backoff (no delay stated) is capped. */
const MAX_TRANSIENT_DELAY_MS = 120_000;
/** A stated delay gets up to this fraction on top, at most MAX_JITTER_MS: retries do not stampede. */
const JITTER_FRACTION = 0.1;
const MAX_JITTER_MS = 5_000;

/**
 * How long to wait before retry `attemptNumber` (1 = after the first attempt). A delay the
 * CLI stated wins (plus a little jitter, at most LONG_WAIT_MS: a longer one was already
 * classified as exhausted); otherwise our backoff: transient_backoff doubling per attempt,
 * capped at MAX_TRANSIENT_DELAY_MS (or transient_backoff when that is larger).
 */
export function transientDelayMs(statedMs: number | null, attemptNumber: number, backoffMs: number, random: () => number = Math.random): number {
  if (statedMs !== null) {
    const jitter = Math.min(statedMs * JITTER_FRACTION, MAX_JITTER_MS) * random();
    return Math.round(Math.min(statedMs + jitter, LONG_WAIT_MS));
  }
  return Math.min(backoffMs * 2 ** (attemptNumber - 1), Math.max(backoffMs, MAX_TRANSIENT_DELAY_MS));
}

function formatWait(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

export type AgentTurnResult =
  | { kind: 'finished'; report: AgentReport }
  // `known`: the detail is a message we wrote for a failure we recognised (refused tool calls), not the agent's raw output.
  | { kind: 'crashed'; reason: 'agent_exit' | 'agent_timeout' | 'agent_spawn'; detail: string; known?: boolean; report: AgentReport | null }
  | { kind: 'exhausted'; resetAt: number | null; message: string; signature: string | null }
  | { kind: 'billing'; message: string; signature: string }
  | { kind: 'auth'; message: string; signature: string }
  | { kind: 'aborted' };

export interface AgentTurnInput {
  session: Session;
  deps: LoopDeps;
  agent: RunnableAgent;
  command: string;
  env: Record<string, string | undefined>;
  promptFile: string;
  /** Output files of attempt `n` (0 = first). */
  outputFiles(attempt: number): { stdout: string; stderr: string };
  signal: AbortSignal;
  onSpawn(child: SpawnedChild): void;
  /** Put the worktree back to the base before a retry. */
  beforeRetry(): Promise<void>;
  /** Total wall time spent in agent processes, for the artifacts. */
  onDuration(ms: number): void;
}

class Transient extends Error {
  constructor(readonly verdict: Extract<AgentVerdict, { kind: 'transient' }>) {
    super(verdict.message);
  }
}

class Aborted extends Error {}

export async function runAgentTurn(input: AgentTurnInput): Promise<AgentTurnResult> {
  const { session, deps, agent } = input;
  const { config } = session;
  const kind: AgentKind = agent.spec.kind === 'builtin' ? agent.spec.name : 'command';
  // The CLI's own retries are bounded so a persistent 5xx does not cost minutes per call.
  const worktree = session.store.current.worktree;
  const bounded = boundCliRetries(agent.spec, agentEnvironment(agent.spec, input.env, config.agentPassEnv), worktree);
  const env = bounded.env;
  const command = withExtraArgs(input.command, bounded.extraArgs);

  const attempt = async (attemptNumber: number): Promise<AgentTurnResult> => {
    const files = input.outputFiles(attemptNumber - 1);
    // Gemini's settings file lives in the worktree only while it runs: never in a candidate.
    const removeFiles = bounded.placeFiles();
    let outcome: ProcessOutcome;
    try {
      outcome = await deps.runner.run({
        command,
        cwd: worktree,
        env,
        stdinFile: input.promptFile,
        stdoutFile: files.stdout,
        stderrFile: files.stderr,
        timeoutMs: config.agentTimeoutMs,
        signal: input.signal,
        onSpawn: input.onSpawn,
        escapeTag: worktreeTag(worktree),
        onEscapee: (message) => deps.report({ kind: 'warning', message }),
      });
    } finally {
      removeFiles();
    }
    input.onDuration(outcome.durationMs);
    if (outcome.kind === 'aborted') throw new Aborted();
    if (outcome.kind === 'spawn-error') return { kind: 'crashed', reason: 'agent_spawn', detail: outcome.message, report: null };
    const stdout = readTailLines(files.stdout, TAIL_BYTES);
    const stderr = readTailLines(files.stderr, TAIL_BYTES);
    const verdict = classifyAgentRun(
      {
        agent: kind,
        exitCode: outcome.kind === 'exit' ? outcome.code : null,
        signal: outcome.kind === 'signal' ? outcome.signal : null,
        stdout,
        stderr,
      },
      resetTimeContext(deps.clock.now()),
    );
    const report = parseAgentReport(kind, stdout);
    switch (verdict.kind) {
      case 'exhausted':
        // Even a timed-out agent may have been stuck in a rate-limit loop.
        return { kind: 'exhausted', resetAt: verdict.resetAt, message: verdict.message, signature: verdict.signature };
      case 'billing':
        return { kind: 'billing', message: verdict.message, signature: verdict.signature };
      case 'auth':
        return { kind: 'auth', message: verdict.message, signature: verdict.signature };
      case 'transient':
        throw new Transient(verdict);
      case 'ok':
        if (outcome.kind === 'timeout') return { kind: 'crashed', reason: 'agent_timeout', detail: 'killed at agent_timeout', report };
        return { kind: 'finished', report };
      case 'failure':
        if (outcome.kind === 'timeout') return { kind: 'crashed', reason: 'agent_timeout', detail: 'killed at agent_timeout', report };
        // Verbatim, so a quota message we do not know yet can become the next signature.
        if (verdict.signature === undefined) deps.report({ kind: 'warning', message: `agent ${kind} failed with no known quota signature; its output, verbatim: ${verdict.message}` });
        else deps.report({ kind: 'warning', message: `agent ${kind} failed: ${verdict.message}` });
        return { kind: 'crashed', reason: 'agent_exit', detail: verdict.message, known: verdict.signature !== undefined, report };
      default: {
        const unreachable: never = verdict;
        return unreachable;
      }
    }
  };

  try {
    return await pRetry(attempt, {
      retries: config.transientRetries,
      // p-retry counts and stops; the wait is ours (the CLI's stated delay, on our clock).
      minTimeout: 0,
      maxTimeout: 0,
      signal: input.signal,
      shouldRetry: ({ error }) => error instanceof Transient,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (!(error instanceof Transient) || retriesLeft === 0) return;
        const wait = transientDelayMs(error.verdict.retryAfterMs, attemptNumber, config.transientBackoffMs);
        deps.report({
          kind: 'warning',
          message: `agent ${kind}: transient failure (attempt ${attemptNumber}, ${retriesLeft} retries left): ${error.verdict.message} (next try in ${formatWait(wait)})`,
        });
        await input.beforeRetry();
        await deps.clock.sleep(wait, input.signal);
        if (input.signal.aborted) throw new Aborted();
      },
    });
  } catch (error) {
    if (error instanceof Aborted || input.signal.aborted) return { kind: 'aborted' };
    if (error instanceof Transient) {
      // Overload that outlasts a few short retries is treated like an exhausted quota: back off.
      return { kind: 'exhausted', resetAt: null, message: `still failing after ${config.transientRetries} retries: ${error.verdict.message}`, signature: error.verdict.signature };
    }
    throw error;
  }
}
