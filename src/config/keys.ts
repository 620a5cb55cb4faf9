/**
 * Every config.cfg key (SPEC §3) in one table: how its value is parsed, what a valid value
 * looks like, its default and what it means. The parser, the did-you-mean for unknown keys
 * and the commented examples that `init` writes all come from this table.
 *
 * Defaults that depend on other keys (metric_grep, eval_timeout, scope, noise, and the time
 * budget given by either of two keys) are resolved in parse-config.ts, not here.
 */
import { parseGuards } from '../decision/guards.js';
import type { Aggregate, Guard, NoiseSetting } from '../decision/types.js';
import { DURATION_EXPECTED, parseDuration } from './durations.js';
import { checkSlurmArgs } from './slurm-args.js';
import type { BuiltinAgentName, Direction, MetricKind } from './types.js';

/** A failure may override the key's `expected` text or say more than "found `<value>`". */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; expected?: string; found?: string; hint?: string };

export interface KeySpec<T> {
  /** What a valid value looks like, for error messages. */
  expected: string;
  parse(raw: string): ParseResult<T>;
  /** The value when the key is absent; absent for required and derived keys. */
  default?: T;
  /** The default as a user would write it, for `init`'s comments. */
  defaultText?: string;
  /** One-line meaning, and an example line value (`init` writes them as comments). */
  doc: string;
  example: string;
  required?: boolean;
  /** Written by the autoresearch-agent skill; `init` writes these first, in this order. */
  seed?: boolean;
  /** `key:` with nothing after it is accepted (otherwise it is an issue). */
  allowEmpty?: boolean;
}

/** How the `agent` value reads before `agent_args` is attached (see parse-config.ts). */
export type AgentChoice = { kind: 'none' } | { kind: 'builtin'; name: BuiltinAgentName } | { kind: 'command'; command: string };

export const BUILTIN_AGENTS: readonly BuiltinAgentName[] = ['claude', 'codex', 'gemini'];

const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const bad = <T>(details: { expected?: string; found?: string; hint?: string } = {}): ParseResult<T> => ({ ok: false, ...details });

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const UNLIMITED = 'unlimited';

function text(raw: string): ParseResult<string> {
  return ok(raw);
}

function duration(raw: string): ParseResult<number> {
  const value = parseDuration(raw);
  if (value !== undefined) return ok(value);
  return bad({ hint: /^\d+(\.\d+)?$/.test(raw) ? `a bare number is ambiguous: add a unit, e.g. \`${raw}m\`` : undefined });
}

function durationOrUnlimited(raw: string): ParseResult<number | null> {
  return raw === UNLIMITED ? ok(null) : duration(raw);
}

function nonNegativeInteger(raw: string): ParseResult<number> {
  const value = Number(raw);
  return /^\d+$/.test(raw) && Number.isSafeInteger(value) ? ok(value) : bad();
}

/** Environment variable names, comma-separated. */
function nameList(raw: string): ParseResult<string[]> {
  const names = raw.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const badName = names.find((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  return badName === undefined ? ok(names) : bad({ found: `\`${badName}\`, which is not a variable name` });
}

function trueOrFalse(raw: string): ParseResult<boolean> {
  return raw === 'true' ? ok(true) : raw === 'false' ? ok(false) : bad();
}

function positiveInteger(raw: string): ParseResult<number> {
  const value = Number(raw);
  return /^\d+$/.test(raw) && Number.isSafeInteger(value) && value > 0 ? ok(value) : bad();
}

function positiveIntegerOrUnlimited(raw: string): ParseResult<number | null> {
  return raw === UNLIMITED ? ok(null) : positiveInteger(raw);
}

function positiveNumber(raw: string): ParseResult<number> {
  const value = Number(raw);
  // A regex first: Number() would also accept `0x10`, `Infinity` and whitespace.
  return DECIMAL.test(raw) && Number.isFinite(value) && value > 0 ? ok(value) : bad();
}

function nonNegativeNumber(raw: string): ParseResult<number> {
  const value = Number(raw);
  return DECIMAL.test(raw) && Number.isFinite(value) && value >= 0 ? ok(value) : bad();
}

function oneOf<T extends string>(values: readonly T[], aliases: Record<string, T> = {}): (raw: string) => ParseResult<T> {
  return (raw) => {
    if ((values as readonly string[]).includes(raw)) return ok(raw as T);
    const alias = aliases[raw.toLowerCase()];
    return bad({ hint: alias === undefined ? undefined : `did you mean \`${alias}\`?` });
  };
}

/** `auto`, `off`, or a known standard deviation. */
function noise(raw: string): ParseResult<NoiseSetting> {
  if (raw === 'auto' || raw === 'off') return ok({ kind: raw });
  const sigma = positiveNumber(raw);
  if (sigma.ok) return ok({ kind: 'known', sigma: sigma.value });
  return bad({ hint: nonNegativeNumber(raw).ok ? 'a noise of 0 is no noise model: write `off`' : undefined });
}

/** A probability in (0.5, 1), or the same as a percentage (`95%`). */
function confidence(raw: string): ParseResult<number> {
  const percent = /^(\d+(?:\.\d*)?|\.\d+)%$/.exec(raw)?.[1];
  // `95e-2` rather than 95 / 100, which is 0.9500000000000001 for some inputs.
  const value = percent === undefined ? (DECIMAL.test(raw) ? Number(raw) : NaN) : Number(`${percent}e-2`);
  if (value > 0.5 && value < 1) return ok(value);
  if (percent === undefined && value > 50 && value < 100) return bad({ hint: `a percentage needs its \`%\`: \`${raw}%\`` });
  return bad({ hint: value === 1 || value === 0.5 ? 'the bounds are excluded: 1 would need infinite evidence, 0.5 keeps a coin flip' : undefined });
}

/** `revalidate_every`: `off` is 0. */
function nonNegativeIntegerOrOff(raw: string): ParseResult<number> {
  return raw === 'off' ? ok(0) : nonNegativeInteger(raw);
}

function guards(raw: string): ParseResult<Guard[]> {
  const result = parseGuards(raw);
  return typeof result === 'string' ? bad({ found: result }) : ok(result);
}

/** Comma-separated paths or globs relative to the project root (the worktree at run time). */
function pathList(raw: string): ParseResult<string[]> {
  const items = raw.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) return bad({ found: `an empty entry in \`${raw}\`` });
  const outside = items.find((item) => item.startsWith('/') || item.split('/').includes('..'));
  if (outside !== undefined) {
    return bad({ found: `\`${outside}\``, hint: 'the agent works in a git worktree of the project, so paths must stay inside it' });
  }
  return ok(items);
}

function regex(raw: string): ParseResult<string> {
  try {
    new RegExp(raw);
    return ok(raw);
  } catch (error) {
    return bad({ hint: error instanceof Error ? error.message : String(error) });
  }
}

function agent(raw: string): ParseResult<AgentChoice> {
  if (raw === 'none') return ok({ kind: 'none' });
  if ((BUILTIN_AGENTS as readonly string[]).includes(raw)) return ok({ kind: 'builtin', name: raw as BuiltinAgentName });
  return ok({ kind: 'command', command: raw });
}

function args(raw: string): ParseResult<string[]> {
  const result = splitArgs(raw);
  return typeof result === 'string' ? bad({ hint: result }) : ok(result);
}

/**
 * Split like a POSIX shell, without expansions: whitespace separates words, '...' is
 * literal, "..." allows \" and \\, and a backslash outside quotes escapes the next character.
 * Returns a message instead of the words when a quote is not closed.
 */
export function splitArgs(raw: string): string[] | string {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charAt(i);
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (raw.charAt(i + 1) === '"' || raw.charAt(i + 1) === '\\')) word += raw.charAt(++i);
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < raw.length) {
      word += raw.charAt(++i);
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== null) return `the ${quote === '"' ? 'double' : 'single'} quote is never closed`;
  if (inWord) words.push(word);
  return words;
}

/** sbatch arguments split like agent_args, refused when they take over what the executor owns (slurm-args.ts). */
function slurmArgs(raw: string): ParseResult<string[]> {
  const words = splitArgs(raw);
  if (typeof words === 'string') return bad({ hint: words });
  const checked = checkSlurmArgs(words);
  return checked.ok ? ok(checked.args) : bad({ found: checked.found, hint: checked.hint });
}

// Identity helper: keeps each entry's value type for KeyValue<K>.
function spec<T>(s: KeySpec<T>): KeySpec<T> {
  return s;
}

const MINUTE = 60_000;

export const KEYS = {
  // Seed keys, in the order the autoresearch-agent skill writes them.
  target: spec({
    expected: 'comma-separated paths or globs relative to the project root',
    parse: pathList,
    doc: 'The file(s) the agent is meant to change (comma-separated paths or globs).',
    example: 'src/api/search.py',
    required: true,
    seed: true,
  }),
  evaluate_cmd: spec({
    expected: 'a shell command that prints the metric',
    parse: text,
    doc: 'Shell command run in the worktree; prints the metric.',
    example: 'pytest bench.py',
    required: true,
    seed: true,
  }),
  metric: spec({
    expected: 'a metric name',
    parse: text,
    doc: 'Metric name.',
    example: 'p50_ms',
    required: true,
    seed: true,
  }),
  metric_direction: spec<Direction>({
    expected: '`lower` or `higher`',
    parse: oneOf<Direction>(['lower', 'higher'], { min: 'lower', minimize: 'lower', minimise: 'lower', low: 'lower', max: 'higher', maximize: 'higher', maximise: 'higher', high: 'higher' }),
    default: 'lower',
    defaultText: 'lower',
    doc: 'Which way is better: `lower` or `higher`.',
    example: 'lower',
    seed: true,
  }),
  metric_grep: spec({
    expected: 'the text the metric line starts with (a leading `^` is ignored)',
    parse: text,
    defaultText: '^<metric>:',
    doc: 'The metric line starts with this text (literal, as the seed skill reads it; a leading `^` is ignored); the value is the number after the last `:` on the last such line.',
    example: '^p50_ms:',
    seed: true,
  }),
  time_budget_minutes: spec({
    expected: 'a positive number of minutes (fractional allowed)',
    parse: positiveNumber,
    doc: 'Expected evaluation time in whole minutes (the seed skill reads it with int()); time_budget wins when both are set.',
    example: '5',
    seed: true,
  }),
  created: spec({
    expected: 'any text',
    parse: text,
    doc: 'When the experiment was created (informational).',
    example: '2026-03-08 14:12',
    seed: true,
    allowEmpty: true,
  }),

  // Keys added by this tool (SPEC §3).
  metric_regex: spec({
    expected: 'a JavaScript regular expression matching the metric line',
    parse: regex,
    doc: 'A regular expression for the metric line, instead of metric_grep (which the seed skill reads as literal text); tested against each line with surrounding whitespace removed.',
    example: '^val_(loss|bpb):',
  }),
  metric_kind: spec<MetricKind>({
    expected: '`timing` or `other`',
    parse: oneOf<MetricKind>(['timing', 'other']),
    defaultText: 'guessed from the metric name (`time`, `latency`, `ms`, `seconds`… as a word: timing)',
    doc: 'Whether the metric measures time: a timing metric is skewed when other evaluations share the CPUs, and `run` / the daemon warn about that.',
    example: 'timing',
  }),
  agent: spec<AgentChoice>({
    expected: '`claude`, `codex`, `gemini`, `none` or a shell command',
    parse: agent,
    default: { kind: 'none' },
    defaultText: 'none',
    doc: 'Who edits the code: claude, codex, gemini, none (an external agent drives `run --single`), or any shell command.',
    example: 'claude',
  }),
  agent_args: spec({
    expected: 'arguments for a built-in agent (quotes group words)',
    parse: args,
    doc: 'Extra arguments for a built-in agent.',
    example: '--model sonnet',
    allowEmpty: true,
  }),
  program: spec({
    expected: 'a file name relative to the experiment directory',
    parse: text,
    default: 'program.md',
    defaultText: 'program.md',
    doc: "The agent's standing instructions, relative to the experiment directory.",
    example: 'program.md',
  }),
  time_budget: spec({
    expected: DURATION_EXPECTED,
    parse: duration,
    default: 5 * MINUTE,
    defaultText: '5m',
    doc: 'Expected evaluation time (the same as time_budget_minutes, as a duration).',
    example: '5m',
  }),
  eval_timeout: spec({
    expected: DURATION_EXPECTED,
    parse: duration,
    defaultText: '2.5 × the time budget',
    doc: 'Hard limit for one evaluation: the whole process tree is killed.',
    example: '15m',
  }),
  agent_timeout: spec({
    expected: DURATION_EXPECTED,
    parse: duration,
    default: 30 * MINUTE,
    defaultText: '30m',
    doc: 'Hard limit for one agent turn.',
    example: '30m',
  }),
  max_consecutive_crashes: spec({
    expected: 'a positive integer',
    parse: positiveInteger,
    default: 5,
    defaultText: '5',
    doc: 'Circuit breaker: after this many crashes in a row the experiment stops until `autoresearch resume`.',
    example: '5',
  }),
  max_consecutive_no_change: spec({
    expected: 'a positive integer',
    parse: positiveInteger,
    default: 10,
    defaultText: '10',
    doc: 'No-change breaker: after this many iterations in a row that changed nothing (or only outside scope) the experiment stops until `autoresearch resume`.',
    example: '10',
  }),
  no_change_backoff: spec({
    expected: DURATION_EXPECTED,
    parse: duration,
    default: 5_000,
    defaultText: '5s',
    doc: 'Pause after an iteration that changed nothing (or only outside scope); it doubles with each such iteration in a row, up to no_change_backoff_max.',
    example: '5s',
  }),
  no_change_backoff_max: spec({
    expected: DURATION_EXPECTED,
    parse: duration,
    default: 5 * MINUTE,
    defaultText: '5m',
    doc: 'Longest pause after an iteration that changed nothing.',
    example: '5m',
  }),
  max_experiments: spec<number | null>({
    expected: 'a positive integer or `unlimited`',
    parse: positiveIntegerOrUnlimited,
    default: null,
    defaultText: 'unlimited',
    doc: 'Number of iterations, after which the experiment is done.',
    example: '100',
  }),
  max_runtime: spec<number | null>({
    expected: `${DURATION_EXPECTED}, or \`unlimited\``,
    parse: durationOrUnlimited,
    default: null,
    defaultText: 'unlimited',
    doc: 'Wall-clock budget for the whole experiment.',
    example: '7d',
  }),
  min_improvement: spec({
    expected: 'a number ≥ 0',
    parse: nonNegativeNumber,
    default: 0,
    defaultText: '0',
    doc: 'A keep must beat the best metric by more than this.',
    example: '0.01',
  }),
  // Noise-aware decisions (issue 11): the keep rule of SPEC §5 with repeated samples, and vetoes.
  repeats: spec({
    expected: 'a positive integer',
    parse: positiveInteger,
    default: 1,
    defaultText: '1',
    doc: 'Evaluations a candidate may get (sequential: a clear loser stops after one); its metric is their aggregate.',
    example: '5',
  }),
  aggregate: spec<Aggregate>({
    expected: '`mean` or `median`',
    parse: oneOf<Aggregate>(['mean', 'median'], { average: 'mean', avg: 'mean', med: 'median' }),
    default: 'mean',
    defaultText: 'mean',
    doc: "How a candidate's samples become the row's metric: `mean` or `median`.",
    example: 'median',
  }),
  noise: spec<NoiseSetting>({
    expected: '`auto`, `off` or a positive number (the standard deviation of one evaluation, in metric units)',
    parse: noise,
    defaultText: 'auto when repeats > 1, else off',
    doc: 'The noise of one evaluation: `auto` measures it (repeated samples of unchanged commits), a number is a known standard deviation, `off` decides on the aggregate alone.',
    example: 'auto',
  }),
  confidence: spec({
    expected: 'a number strictly between 0.5 and 1, or a percentage like `95%`',
    parse: confidence,
    default: 0.95,
    defaultText: '0.95',
    doc: 'How sure the one-sided keep test must be that a candidate beats the best (with a noise model).',
    example: '0.99',
  }),
  check_cmd: spec({
    expected: 'a shell command',
    parse: text,
    doc: 'Shell command run in the worktree before a keep (e.g. the test suite); a non-zero exit makes the candidate a discard (check_failed).',
    example: 'pytest -q',
  }),
  guard: spec<Guard[]>({
    expected: 'comma-separated conditions `name op number` (op: <=, <, >=, >), e.g. `memory_gb <= 40, val_acc >= 0.85`',
    parse: guards,
    default: [],
    defaultText: 'none',
    doc: 'Further metrics read from the evaluation log (`name: value` lines, like the metric); a keep that violates one is a discard (guard_failed). Each gets a results.tsv column.',
    example: 'memory_gb <= 40, val_acc >= 0.85',
  }),
  revalidate_every: spec({
    expected: 'an integer ≥ 0, or `off`',
    parse: nonNegativeIntegerOrOff,
    default: 0,
    defaultText: 'off',
    doc: 'After this many keeps, measure the best and the baseline again; keeps that do not reproduce are rolled back (revalidation_failed).',
    example: '10',
  }),
  // Evaluations as SLURM batch jobs (issue 12).
  executor: spec<'local' | 'slurm'>({
    expected: '`local` or `slurm`',
    parse: oneOf<'local' | 'slurm'>(['local', 'slurm'], { slurm: 'slurm', sbatch: 'slurm', cluster: 'slurm', local: 'local', process: 'local' }),
    default: 'local',
    defaultText: 'local',
    doc: 'Where evaluations run: `local` (a process group on this machine) or `slurm` (one batch job per evaluation, submitted with sbatch; the worktree and the experiment directory must be on a filesystem the nodes share).',
    example: 'slurm',
  }),
  slurm_args: spec({
    expected: 'sbatch options, one argument per word (quotes group words), e.g. `--partition=gpu --gres=gpu:1`',
    parse: slurmArgs,
    default: [],
    defaultText: 'none',
    doc: 'Extra sbatch arguments of each evaluation job with executor: slurm (partition, account, qos, --gres=gpu:1, --mem); the job name, output, comment, directory, environment, time limit and requeue policy are set by autoresearch.',
    example: '--partition=gpu --gres=gpu:1 --qos=long',
    allowEmpty: true,
  }),
  scope: spec({
    expected: 'comma-separated paths or globs relative to the project root',
    parse: pathList,
    defaultText: 'the target',
    doc: 'Paths the agent may change; changes elsewhere are discarded as scope_violation.',
    example: 'src/api/**',
  }),
  on_exhaustion: spec<'wait' | 'stop'>({
    expected: '`wait` or `stop`',
    parse: oneOf<'wait' | 'stop'>(['wait', 'stop']),
    default: 'wait',
    defaultText: 'wait',
    doc: "When the agent's quota runs out: wait (back off and resume) or stop.",
    example: 'wait',
  }),
  backoff_initial: spec({
    expected: DURATION_EXPECTED,
    parse: duration,
    default: 5 * MINUTE,
    defaultText: '5m',
    doc: 'First wait after quota exhaustion when no reset time is known.',
    example: '5m',
  }),
  backoff_max: spec({
    expected: DURATION_EXPECTED,
    parse: duration,
    default: 60 * MINUTE,
    defaultText: '1h',
    doc: 'Longest backoff step.',
    example: '1h',
  }),
  max_exhaustion_wait: spec({
    expected: DURATION_EXPECTED,
    parse: duration,
    default: 24 * 60 * MINUTE,
    defaultText: '24h',
    doc: 'Longest single wait before the experiment is blocked.',
    example: '24h',
  }),
  agent_fallback: spec<AgentChoice>({
    expected: '`claude`, `codex`, `gemini` or a shell command',
    parse: agent,
    doc: "Another agent that takes over while the main agent's quota is exhausted; each row names the agent that produced it.",
    example: 'codex',
  }),
  agent_pass_env: spec({
    expected: 'comma-separated environment variable names',
    parse: nameList,
    default: [],
    defaultText: 'none',
    doc: 'Variables a built-in agent gets even though they switch its billing (e.g. ANTHROPIC_API_KEY); by default they are removed.',
    example: 'ANTHROPIC_API_KEY',
  }),
  transient_retries: spec({
    expected: 'an integer ≥ 0',
    parse: nonNegativeInteger,
    default: 3,
    defaultText: '3',
    doc: 'Retries of an agent turn that failed transiently (overload, 5xx) before it counts as exhausted.',
    example: '3',
  }),
  transient_backoff: spec({
    expected: DURATION_EXPECTED,
    parse: duration,
    default: 10_000,
    defaultText: '10s',
    doc: 'First wait before retrying a transient failure; it doubles, up to 2 minutes.',
    example: '10s',
  }),
  setup_cmd: spec({
    expected: 'a shell command',
    parse: text,
    doc: 'Run once in a fresh worktree (e.g. npm ci, uv sync).',
    example: 'npm ci',
  }),
  pipeline: spec({
    expected: '`true` or `false`',
    parse: trueOrFalse,
    default: false,
    defaultText: 'false',
    doc: 'While a candidate is evaluated, the agent already drafts the next one in a second worktree (the accelerator never waits for the agent).',
    example: 'true',
  }),
  eval_uses_llm: spec({
    expected: '`true` or `false`',
    parse: trueOrFalse,
    defaultText: 'true for the LLM judges of `init --evaluator`, else false',
    doc: 'The evaluation calls an LLM: when it fails, a quota message makes the loop wait (no row) and a billing message blocks, as for the agent.',
    example: 'true',
  }),
} as const;

export type ConfigKey = keyof typeof KEYS;
export type KeyValue<K extends ConfigKey> = (typeof KEYS)[K] extends KeySpec<infer T> ? T : never;

export const CONFIG_KEYS = Object.keys(KEYS) as ConfigKey[];
export const SEED_KEYS: readonly ConfigKey[] = CONFIG_KEYS.filter((key) => KEYS[key].seed === true);

export function isConfigKey(key: string): key is ConfigKey {
  return Object.hasOwn(KEYS, key);
}
