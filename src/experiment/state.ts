/**
 * state.json: what the loop must remember between iterations and across restarts that the
 * ledger cannot say. Written atomically and durably (temp + fsync + rename + dir fsync);
 * an unreadable file stops everything with an error pointing at it, never a fresh start.
 *
 * `intent` is written before every side effect of an iteration, so a restart knows what
 * was in flight: roll it back (no row) or finish its decision (row already written).
 */
import type { NoiseEstimate } from '../decision/types.js';
import { AutoresearchError, errorMessage } from '../core/errors.js';
import { readFileIfExists, writeFileDurable } from '../fs/durable.js';
import type { ProcessIdentity } from '../process/process-identity.js';
import type { LedgerDigest } from './ledger-digest.js';
import { checkStateSchema, describeFound } from './state-schema.js';

export const STATE_VERSION = 1;

export interface KeptCommit {
  commit: string; // full hash
  metric: number | null; // null until the baseline has a metric
  iteration: number | null; // null = the commit the worktree was created from
  /**
   * Set by `rebase` while the new base's baseline is unmeasured (metric and iteration null):
   * the highest iteration then. Keeps up to it are older than this commit, so a start after a
   * kill measures the baseline here instead of adopting the ledger's last keep.
   */
  rebasedAfter?: number;
  /** Every measurement of this commit (issue 11): its own samples, then re-measurements for drift. Absent: just `metric`. */
  samples?: number[];
}

/** A child process of an iteration, recorded so a later incarnation can find and kill it. */
export interface ChildRecord extends ProcessIdentity {
  pgid: number;
}

/**
 * `decided`: the row is written and the state updated; only the git restore remains (an
 * intent is cleared only after it, so a kill in between never evaluates a judged
 * candidate again). `startedAt` (ISO 8601): when the phase began, for the dashboard's elapsed
 * time (absent in older files).
 */
export type Intent =
  | { phase: 'agent'; iteration: number; base: string; child: ChildRecord | null; decided?: true; startedAt?: string }
  | {
      phase: 'eval';
      iteration: number;
      base: string;
      candidate: string;
      child: ChildRecord | null;
      decided?: true;
      startedAt?: string;
      /** The evaluation's log (repeats: eval.2.log, best.1.log…). */
      log?: string;
      /** The cluster job of this evaluation (executor: slurm), recorded before it is submitted. */
      job?: JobRecord;
      /** Set from the job's submission until it starts (the `queued` phase: not evaluation time). */
      queued?: true;
      /** Who made the candidate, as its row says (`rerun`, `claude`, `fallback-command`…): a resumed attempt's row says the same. */
      agent?: string | null;
      /** The commands its jobs run: a restart re-attaches to them only while config.cfg still says the same. */
      commands?: { evaluate: string; check: string | null };
    };

/**
 * The draft's turn: the iteration it drafts, the keep it started from, its agent process;
 * `ready`: the commit it captured, not yet taken (a restart keeps it reachable under
 * refs/autoresearch/<id>/interrupted/).
 */
export type DraftIntent = Omit<Extract<Intent, { phase: 'agent' }>, 'decided'> & { ready?: string };

/**
 * A batch job of ours (issue 12). `name` is our own unique token, recorded before `sbatch`:
 * job ids are not unique across a controller crash, so a restart finds the job by name.
 */
export interface JobRecord {
  name: string;
  /** The scheduler's id once `sbatch` answered (null: submitted, or about to be, id not yet known). */
  id: string | null;
  /** What it evaluates: the commit the worktree held (a restart re-attaches only to the same). */
  commit: string;
}

/** Which configured agent: `agent` or `agent_fallback`. */
export type AgentRole = 'primary' | 'fallback';

/** What may be out of quota: an agent, or an evaluation that calls an LLM (eval_uses_llm). */
export type WaitRole = AgentRole | 'evaluation';

/**
 * An agent whose usage quota ran out. `until` is when it may be tried again (the reported
 * reset plus a margin, or the backoff); a record whose `until` has passed stays until the
 * agent works again, so consecutive exhaustions without a reset time back off further.
 */
export interface Exhaustion {
  until: string; // ISO 8601
  reason: string; // what the CLI said, verbatim
  signature: string | null; // which known signature matched
  attempt: number; // consecutive exhaustions, for the backoff
}

/** Stops that need a human (`autoresearch resume`). "done" is not stored: it follows from the config. */
export interface Halt {
  state: 'tripped' | 'paused' | 'blocked';
  reason: string;
  at: string; // ISO 8601
}

/** A commit with what it measured: a keep's record for revalidation. */
export interface MeasuredCommit {
  commit: string;
  iteration: number | null;
  metric: number;
  samples: number[];
}

export interface ExperimentState {
  version: typeof STATE_VERSION;
  id: string;
  projectRoot: string;
  worktree: string;
  branch: string;
  lastKept: KeptCommit;
  consecutiveCrashes: number;
  /** Iterations in a row that changed nothing or only outside scope (loop/no-change.ts); absent in older files. */
  consecutiveNoChange?: number;
  setupDone: boolean;
  /** Untracked paths setup_cmd produced in the worktree: kept by every rollback (absent: none). */
  setupOutput?: string[];
  halt: Halt | null;
  exhausted: Partial<Record<WaitRole, Exhaustion>>;
  intent: Intent | null;
  /**
   * pipeline: the next iteration's agent turn, running in the draft worktree while `intent`'s
   * candidate is evaluated (loop/draft.ts). Set while the turn runs, so a restart kills what
   * it left; a draft is never carried over a restart (no row for interrupted work).
   */
  draft?: DraftIntent | null;
  /** The ledger's counts as of its last row (absent in state files of older versions). */
  digest?: LedgerDigest;
  /** The noise of one evaluation, pooled from every retired repeated measurement (src/decision/noise-estimate.ts). */
  noise?: NoiseEstimate;
  /** The baseline's commit and samples: a revalidation measures it again (absent before issue 11). */
  baseline?: MeasuredCommit;
  /** Keeps since the last revalidation (revalidate_every), oldest first, and the validated keep before them. */
  revalidation?: { validated: MeasuredCommit; window: MeasuredCommit[]; /** The window's length when a revalidation could not measure: retried after the next keep. */ unmeasuredAt?: number };
  firstStartedAt: string; // ISO 8601: max_runtime counts from here
  updatedAt: string;
}

export async function loadState(file: string): Promise<ExperimentState | null> {
  const text = await readFileIfExists(file);
  return text === null ? null : parseStateText(text, file);
}

/** state.json's text (of `file`, for errors) as a state; STATE_CORRUPT when it is not one. */
export function parseStateText(text: string, file: string): ExperimentState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw corrupt(file, `valid JSON, found a parse error (${errorMessage(error)})`);
  }
  const bad = checkStateSchema(parsed);
  if (bad !== null) {
    throw corrupt(file, bad.key === '' ? `a state object of version ${STATE_VERSION}, found ${describeFound(bad.found)}` : `key ${bad.key} to be ${bad.expected}, found ${describeFound(bad.found)}`);
  }
  const state = parsed as ExperimentState;
  return { ...state, exhausted: state.exhausted ?? {} };
}

export async function saveState(file: string, state: ExperimentState, now: Date): Promise<void> {
  const next: ExperimentState = { ...state, updatedAt: now.toISOString() };
  await writeFileDurable(file, JSON.stringify(next, null, 2) + '\n');
}

function corrupt(file: string, expected: string): AutoresearchError {
  return new AutoresearchError(
    'STATE_CORRUPT',
    `${file}: expected ${expected}. Refusing to start fresh: that would forget the last kept commit. ` +
      `Inspect the file; to really start over, move it aside (results.tsv keeps every result).`,
  );
}

/** Whether the iteration in flight waits for a cluster job (queued or running): a pause cancels it at once. */
export function waitsForJob(state: Pick<ExperimentState, 'intent'>): boolean {
  return state.intent?.phase === 'eval' && state.intent.job !== undefined && state.intent.decided !== true;
}
