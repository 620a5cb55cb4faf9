/**
 * Usage exhaustion, the pure part (SPEC §6): when an exhausted agent may be tried again,
 * and which agent runs the next iteration. Time comes in as `now`; nothing here waits.
 */
import type { AgentSpec, ExperimentConfig } from '../config/types.js';
import type { AgentRole, Exhaustion, ExperimentState, WaitRole } from '../experiment/state.js';

/** A reset time is approximate (and "resets 3pm" means 3:00:00 at the earliest): start a bit after. */
export const RESET_MARGIN_MS = 2 * 60_000;

/**
 * When to try again: the reported reset plus a margin, or exponential backoff from
 * backoff_initial to backoff_max when no (future) reset time is known.
 */
export function retryAt(resetAt: number | null, attempt: number, config: Pick<ExperimentConfig, 'backoffInitialMs' | 'backoffMaxMs'>, now: number): number {
  if (resetAt !== null && resetAt > now) return resetAt + RESET_MARGIN_MS;
  const step = Math.min(config.backoffInitialMs * 2 ** Math.max(0, attempt - 1), config.backoffMaxMs);
  return now + step;
}

export type RunnableAgent = { role: AgentRole; spec: Exclude<AgentSpec, { kind: 'none' }> };

export type AgentChoice =
  | { kind: 'agent'; agent: RunnableAgent }
  | { kind: 'none' } // agent: none — nothing to be exhausted
  | { kind: 'wait'; until: number; exhaustion: Exhaustion; role: WaitRole }; // every agent (or the evaluation) is exhausted

/**
 * The primary agent unless it is exhausted; then the fallback, if any; else wait for the first
 * to reset. An evaluation out of quota (eval_uses_llm) is waited for first, whatever the agent:
 * no iteration can be judged before. `evaluationOnly` (the baseline): no agent is needed.
 */
export function chooseAgent(config: Pick<ExperimentConfig, 'agent' | 'agentFallback'>, state: Pick<ExperimentState, 'exhausted'>, now: number, evaluationOnly = false): AgentChoice {
  const evaluation = state.exhausted.evaluation;
  if (evaluation !== undefined && Date.parse(evaluation.until) > now) return { kind: 'wait', until: Date.parse(evaluation.until), exhaustion: evaluation, role: 'evaluation' };
  if (config.agent.kind === 'none' || evaluationOnly) return { kind: 'none' };
  const candidates: RunnableAgent[] = [{ role: 'primary', spec: config.agent }];
  if (config.agentFallback !== null) candidates.push({ role: 'fallback', spec: config.agentFallback });
  for (const agent of candidates) {
    const exhaustion = state.exhausted[agent.role];
    if (exhaustion === undefined || Date.parse(exhaustion.until) <= now) return { kind: 'agent', agent };
  }
  let earliest: { until: number; exhaustion: Exhaustion; role: AgentRole } | null = null;
  for (const { role } of candidates) {
    const exhaustion = state.exhausted[role];
    if (exhaustion === undefined) continue;
    const until = Date.parse(exhaustion.until);
    if (earliest === null || until < earliest.until) earliest = { until, exhaustion, role };
  }
  if (earliest === null) throw new Error('chooseAgent: every agent is exhausted but none has a record (this is a bug)');
  return { kind: 'wait', ...earliest };
}

/** When every agent is exhausted: the earliest time one may run again (for status: wait_until). */
export function waitUntil(config: Pick<ExperimentConfig, 'agent' | 'agentFallback'>, state: Pick<ExperimentState, 'exhausted'>, now: number): number | null {
  const choice = chooseAgent(config, state, now);
  return choice.kind === 'wait' ? choice.until : null;
}
