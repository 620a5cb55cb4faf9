/**
 * One agent turn: run the agent CLI (or command) in the worktree, then read what it said.
 * Its exit code, stdout, stderr and JSON are classified (agents/classify.ts):
 *
 *   ok ─────────► finished (with cost, tokens, session, model when the CLI reports them)
 *   transient ──► a few short retries (p-retry, bounded delays), worktree restored between
 *                 them; still transient after the last ─► exhausted (no reset time known)
 *   exhausted ──► exhausted (reset time if given): the iteration is rolled back, no row
 *   billing ────► billing: blocked until `autoresearch resume`
 *   failure, timeout, spawn error ─► crashed: an ordinary crash row
 */
import pRetry from 'p-retry';
import { agentEnvironment } from '../agents/agent-env.js';
import { parseAgentReport, type AgentReport } from '../agents/agent-report.js';
import { classifyAgentRun, type AgentKind, type AgentVerdict } from '../agents/classify.js';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { readTail } from '../fs/read-tail.js';
import type { SpawnedChild } from '../process/types.js';
import type { RunnableAgent } from './exhaustion.js';

/** The classifier sees the end of each stream: results and limit messages come last. */
const TAIL_BYTES = 256 * 1024;
/** p-retry's backoff must be capped (its default maxTimeout is Infinity and overflows). */
const MAX_TRANSIENT_DELAY_MS = 120_000;

export type AgentTurnResult =
  | { kind: 'finished'; report: AgentReport }
  | { kind: 'crashed'; reason: 'agent_exit' | 'agent_timeout' | 'agent_spawn'; detail: string; report: AgentReport | null }
  | { kind: 'exhausted'; resetAt: number | null; message: string; signature: string | null }
  | { kind: 'billing'; message: string; signature: string }
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
  const env = agentEnvironment(agent.spec, input.env, config.agentPassEnv);

  const attempt = async (attemptNumber: number): Promise<AgentTurnResult> => {
    const files = input.outputFiles(attemptNumber - 1);
    const outcome = await deps.runner.run({
      command: input.command,
      cwd: session.store.current.worktree,
      env,
      stdinFile: input.promptFile,
      stdoutFile: files.stdout,
      stderrFile: files.stderr,
      timeoutMs: config.agentTimeoutMs,
      signal: input.signal,
      onSpawn: input.onSpawn,
    });
    input.onDuration(outcome.durationMs);
    if (outcome.kind === 'aborted') throw new Aborted();
    if (outcome.kind === 'spawn-error') return { kind: 'crashed', reason: 'agent_spawn', detail: outcome.message, report: null };
    const stdout = readTail(files.stdout, TAIL_BYTES);
    const stderr = readTail(files.stderr, TAIL_BYTES);
    const verdict = classifyAgentRun(
      {
        agent: kind,
        exitCode: outcome.kind === 'exit' ? outcome.code : null,
        signal: outcome.kind === 'signal' ? outcome.signal : null,
        stdout,
        stderr,
      },
      { now: deps.clock.now(), localZone: Intl.DateTimeFormat().resolvedOptions().timeZone },
    );
    const report = parseAgentReport(kind, stdout);
    switch (verdict.kind) {
      case 'exhausted':
        // Even a timed-out agent may have been stuck in a rate-limit loop.
        return { kind: 'exhausted', resetAt: verdict.resetAt, message: verdict.message, signature: verdict.signature };
      case 'billing':
        return { kind: 'billing', message: verdict.message, signature: verdict.signature };
      case 'transient':
        throw new Transient(verdict);
      case 'ok':
        if (outcome.kind === 'timeout') return { kind: 'crashed', reason: 'agent_timeout', detail: 'killed at agent_timeout', report };
        return { kind: 'finished', report };
      case 'failure':
        if (outcome.kind === 'timeout') return { kind: 'crashed', reason: 'agent_timeout', detail: 'killed at agent_timeout', report };
        // Verbatim, so a quota message we do not know yet can become the next signature.
        deps.report({ kind: 'warning', message: `agent ${kind} failed with no known quota signature; its output, verbatim: ${verdict.message}` });
        return { kind: 'crashed', reason: 'agent_exit', detail: verdict.message, report };
      default: {
        const unreachable: never = verdict;
        return unreachable;
      }
    }
  };

  try {
    return await pRetry(attempt, {
      retries: config.transientRetries,
      factor: 2,
      minTimeout: config.transientBackoffMs,
      maxTimeout: Math.max(config.transientBackoffMs, MAX_TRANSIENT_DELAY_MS),
      randomize: false,
      signal: input.signal,
      shouldRetry: ({ error }) => error instanceof Transient,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (!(error instanceof Transient) || retriesLeft === 0) return;
        deps.report({ kind: 'warning', message: `agent ${kind}: transient failure (attempt ${attemptNumber}, ${retriesLeft} retries left): ${error.verdict.message}` });
        await input.beforeRetry();
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
