/**
 * An evaluation that calls an LLM (eval_uses_llm: the LLM judges, a benchmark that queries a
 * model) runs into the same usage limits as the agent. When such an evaluation FAILED (non-zero
 * exit, or no metric), its log is classified with the agent's classifier, as a `command`
 * agent (every CLI's signatures apply):
 *
 *   exhausted ─► no row, not a crash: wait for the reset, then the same iteration again
 *   transient ─► the same, after the delay the CLI stated (else the usual backoff): an
 *                overloaded judge must not record a crash against the change
 *   billing ───► blocked until `autoresearch resume`
 *   auth ──────► blocked too: a judge CLI that is not logged in fails every evaluation alike
 *   anything else ─► null: an ordinary crash row, as for any evaluation
 *
 * An evaluation that printed its metric is never reclassified.
 */
import { classifyAgentRun } from '../agents/classify.js';

export type EvalLlmVerdict =
  | { kind: 'exhausted'; resetAt: number | null; message: string; signature: string | null }
  | { kind: 'billing'; message: string; signature: string }
  | { kind: 'auth'; message: string; signature: string };

export function classifyFailedEvaluation(logTail: string, exitCode: number | null, signal: string | null, ctx: { now: number; localZone: string }): EvalLlmVerdict | null {
  // Exit 0 without a metric is a failure too: never let the classifier take it as a clean run.
  const verdict = classifyAgentRun({ agent: 'command', exitCode: exitCode === 0 ? null : exitCode, signal, stdout: '', stderr: logTail }, ctx);
  if (verdict.kind === 'exhausted') return { kind: 'exhausted', resetAt: verdict.resetAt, message: verdict.message, signature: verdict.signature };
  if (verdict.kind === 'billing') return { kind: 'billing', message: verdict.message, signature: verdict.signature };
  if (verdict.kind === 'auth') {
    // The evaluation gets our environment unfiltered (agent_pass_env is about agents only).
    const hint = 'log that CLI in as the user autoresearch runs as, or export its API key variable (e.g. ANTHROPIC_API_KEY) to autoresearch';
    return { kind: 'auth', message: `the evaluation calls an LLM CLI that is not logged in: ${hint} (${verdict.message})`, signature: verdict.signature };
  }
  if (verdict.kind === 'transient') {
    return { kind: 'exhausted', resetAt: verdict.retryAfterMs === null ? null : ctx.now + verdict.retryAfterMs, message: verdict.message, signature: verdict.signature };
  }
  return null;
}
