/**
 * config.cfg text → a validated, resolved ExperimentConfig (durations in ms, defaults
 * applied, paths absolute). Every problem is collected and thrown at once as a ConfigError,
 * so the user fixes the file in one pass and nothing runs on a half-valid config.
 *
 * Format: `key: value` lines split at the FIRST `:` (shell commands and `^metric:` contain
 * colons); whole-line `#` comments and blank lines are ignored. An inline `#` is part of
 * the value, because shell commands use it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { AutoresearchError, ConfigError, type ConfigIssue } from '../core/errors.js';
import { CONFIG_KEYS, isConfigKey, KEYS, type ConfigKey, type KeyValue } from './keys.js';
import { defaultMetricGrep } from './metric-grep.js';
import type { AgentSpec, ExperimentConfig, ExperimentId, Scope } from './types.js';

export { defaultMetricGrep };

export interface ConfigContext {
  /** Path of config.cfg, as it should appear in messages and in ExperimentConfig.file. */
  file: string;
  /** The experiment directory. */
  dir: string;
  id: ExperimentId;
  scope: Scope;
}

const MINUTE = 60_000;

export function parseConfigText(text: string, ctx: ConfigContext): ExperimentConfig {
  const issues: ConfigIssue[] = [];
  const report = (issue: Omit<ConfigIssue, 'file'>): void => {
    issues.push({ file: ctx.file, ...issue });
  };
  const lines = new Map<ConfigKey, number>();
  const values = new Map<ConfigKey, unknown>();

  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((rawLine, index) => {
      const line = index + 1;
      const trimmed = rawLine.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const colon = trimmed.indexOf(':');
      if (colon < 0) {
        report({ line, expected: 'a `key: value` line or a `#` comment', found: quote(trimmed) });
        return;
      }
      const key = trimmed.slice(0, colon).trim();
      const raw = trimmed.slice(colon + 1).trim();
      if (!isConfigKey(key)) {
        const suggestion = suggestKey(key);
        report({
          line,
          key: key === '' ? undefined : key,
          expected: 'a known key',
          found: key === '' ? `nothing before the \`:\` in ${quote(trimmed)}` : `unknown key ${quote(key)}`,
          hint: suggestion === undefined ? `known keys: ${CONFIG_KEYS.join(', ')}` : `did you mean \`${suggestion}\`?`,
        });
        return;
      }
      const first = lines.get(key);
      if (first !== undefined) {
        report({ line, key, expected: `\`${key}\` at most once`, found: `a second \`${key}\` line (the first is line ${first})`, hint: 'delete one of them' });
        return;
      }
      lines.set(key, line);
      const spec = KEYS[key];
      if (raw === '' && spec.allowEmpty !== true) {
        report({ line, key, expected: spec.expected, found: 'an empty value', hint: spec.required === true ? undefined : 'delete the line to use the default' });
        return;
      }
      const result = spec.parse(raw);
      if (result.ok) values.set(key, result.value);
      else report({ line, key, expected: result.expected ?? spec.expected, found: result.found ?? quote(raw), hint: result.hint });
    });

  for (const key of CONFIG_KEYS) {
    const spec = KEYS[key];
    if (spec.required === true && !lines.has(key)) {
      report({ key, expected: `a line \`${key}: …\``, found: `no \`${key}\` line`, hint: `add a line like \`${key}: ${spec.example}\`` });
    }
  }

  // Present and valid, else undefined (absent, or already reported).
  const get = <K extends ConfigKey>(key: K): KeyValue<K> | undefined => values.get(key) as KeyValue<K> | undefined;
  const orDefault = <K extends ConfigKey>(key: K): KeyValue<K> => {
    const value = get(key) ?? (KEYS[key].default as KeyValue<K> | undefined);
    if (value === undefined) throw new Error(`bug: config key ${key} has no value and no default`);
    return value;
  };

  // The seed writes time_budget_minutes (and reads it with int()); we also accept
  // time_budget. Both set: they must agree, where the minutes may also be the whole number
  // the seed reads for a fractional budget (`time_budget: 90s` + `time_budget_minutes: 2`,
  // as `init` writes it); time_budget wins.
  const budgetMinutes = get('time_budget_minutes');
  const budget = get('time_budget');
  const budgetFromMinutes = budgetMinutes === undefined ? undefined : Math.max(1, Math.round(budgetMinutes * MINUTE));
  if (budget !== undefined && budgetFromMinutes !== undefined && budget !== budgetFromMinutes && budgetMinutes !== seedBudgetMinutes(budget)) {
    report({
      line: lines.get('time_budget'),
      key: 'time_budget',
      expected: `time_budget and time_budget_minutes to agree (or only one of them; time_budget_minutes may be the whole number of minutes ${seedBudgetMinutes(budget)} for the seed skill)`,
      found: `time_budget: ${describeMs(budget)} but time_budget_minutes: ${budgetMinutes} on line ${lines.get('time_budget_minutes')}`,
      hint: 'delete one of the two lines',
    });
  }
  const timeBudgetMs = budget ?? budgetFromMinutes ?? orDefault('time_budget');

  const agent = resolveAgent(orDefault('agent'), get('agent_args'), lines, report);
  const fallbackChoice = get('agent_fallback');
  if (fallbackChoice?.kind === 'none') {
    report({ line: lines.get('agent_fallback'), key: 'agent_fallback', expected: '`claude`, `codex`, `gemini` or a shell command', found: '`none`', hint: 'delete the line for no fallback' });
  }
  const agentFallback = fallbackChoice === undefined || fallbackChoice.kind === 'none' ? null : fallbackChoice.kind === 'builtin' ? { ...fallbackChoice, args: [] } : fallbackChoice;

  const backoffInitialMs = orDefault('backoff_initial');
  const backoffMaxMs = orDefault('backoff_max');
  if (backoffInitialMs > backoffMaxMs && (get('backoff_initial') !== undefined || get('backoff_max') !== undefined)) {
    const culprit: ConfigKey = get('backoff_initial') !== undefined ? 'backoff_initial' : 'backoff_max';
    report({
      line: lines.get(culprit),
      key: culprit,
      expected: 'backoff_initial ≤ backoff_max',
      found: `backoff_initial ${describeMs(backoffInitialMs)}${where(lines, 'backoff_initial')} > backoff_max ${describeMs(backoffMaxMs)}${where(lines, 'backoff_max')}`,
    });
  }

  // A guard on the main metric would veto what the keep rule decides; min_improvement is for that.
  const metricName = get('metric');
  const guardOnMetric = get('guard')?.find((g) => g.metric === metricName);
  if (guardOnMetric !== undefined) {
    report({
      line: lines.get('guard'),
      key: 'guard',
      expected: 'guards on metrics other than the main metric',
      found: `\`${guardOnMetric.text}\`, but \`${guardOnMetric.metric}\` is the main metric${where(lines, 'metric')}`,
      hint: 'the keep rule already judges it; a guard is for another line of the evaluation log',
    });
  }

  if (issues.length > 0) {
    issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
    throw new ConfigError(issues);
  }

  const metric = orDefault('metric');
  const target = orDefault('target');
  const repeats = orDefault('repeats');
  return {
    id: ctx.id,
    scope: ctx.scope,
    file: ctx.file,
    dir: ctx.dir,
    target,
    evaluateCmd: orDefault('evaluate_cmd'),
    metric,
    direction: orDefault('metric_direction'),
    metricGrep: get('metric_grep') ?? defaultMetricGrep(metric),
    metricRegex: get('metric_regex') ?? null,
    metricKind: get('metric_kind') ?? null,
    timeBudgetMs,
    evalTimeoutMs: get('eval_timeout') ?? Math.round(2.5 * timeBudgetMs),
    agent,
    agentTimeoutMs: orDefault('agent_timeout'),
    agentFallback,
    agentPassEnv: orDefault('agent_pass_env'),
    transientRetries: orDefault('transient_retries'),
    transientBackoffMs: orDefault('transient_backoff'),
    programFile: path.resolve(ctx.dir, orDefault('program')),
    programSet: get('program') !== undefined,
    maxConsecutiveCrashes: orDefault('max_consecutive_crashes'),
    maxConsecutiveNoChange: orDefault('max_consecutive_no_change'),
    noChangeBackoffMs: orDefault('no_change_backoff'),
    noChangeBackoffMaxMs: orDefault('no_change_backoff_max'),
    maxExperiments: orDefault('max_experiments'),
    maxRuntimeMs: orDefault('max_runtime'),
    minImprovement: orDefault('min_improvement'),
    repeats,
    aggregate: orDefault('aggregate'),
    // Repeated samples are what `auto` measures the noise from; one sample has none to measure.
    noise: get('noise') ?? (repeats > 1 ? { kind: 'auto' } : { kind: 'off' }),
    confidence: orDefault('confidence'),
    checkCmd: get('check_cmd') ?? null,
    guards: orDefault('guard'),
    revalidateEvery: orDefault('revalidate_every'),
    executor: orDefault('executor'),
    slurmArgs: orDefault('slurm_args'),
    allowedPaths: get('scope') ?? [...target],
    onExhaustion: orDefault('on_exhaustion'),
    backoffInitialMs,
    backoffMaxMs,
    maxExhaustionWaitMs: orDefault('max_exhaustion_wait'),
    setupCmd: get('setup_cmd') ?? null,
    evalUsesLlm: get('eval_uses_llm') ?? null,
    pipeline: orDefault('pipeline'),
    created: get('created') || null, // an empty `created:` is as good as none
  };
}

/** Read and parse `<dir>/config.cfg`. */
export async function loadExperimentConfig(dir: string, id: ExperimentId, scope: Scope): Promise<ExperimentConfig> {
  const file = path.join(dir, 'config.cfg');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new AutoresearchError('EXPERIMENT_NOT_FOUND', `experiment ${id.key}: expected a config file at ${file}, found none`, { cause: error });
    }
    throw error;
  }
  return parseConfigText(text, { file, dir, id, scope });
}

/**
 * The whole number of minutes the seed skill should read for a budget (it does
 * `int(time_budget_minutes)`): rounded up, so its hard limit is never below ours, and at least 1.
 */
export function seedBudgetMinutes(budgetMs: number): number {
  return Math.max(1, Math.ceil(budgetMs / MINUTE));
}


function resolveAgent(
  choice: KeyValue<'agent'>,
  args: string[] | undefined,
  lines: ReadonlyMap<ConfigKey, number>,
  report: (issue: Omit<ConfigIssue, 'file'>) => void,
): AgentSpec {
  if (choice.kind === 'builtin') return { kind: 'builtin', name: choice.name, args: args ?? [] };
  if (args !== undefined) {
    const agentLine = lines.get('agent');
    report({
      line: lines.get('agent_args'),
      key: 'agent_args',
      expected: 'agent_args only with a built-in agent (claude, codex, gemini)',
      found:
        choice.kind === 'command'
          ? `the command agent \`${choice.command}\`${agentLine === undefined ? '' : ` on line ${agentLine}`}`
          : agentLine === undefined
            ? 'no `agent` line (the default agent is `none`)'
            : `agent: none on line ${agentLine}`,
      hint: choice.kind === 'command' ? 'put the arguments in the agent command itself' : 'add `agent: claude` (or codex, gemini), or delete agent_args',
    });
  }
  return choice.kind === 'command' ? { kind: 'command', command: choice.command } : { kind: 'none' };
}

/** The closest known key to a typo, if it is close enough to be a plausible intent. */
function suggestKey(key: string): string | undefined {
  if (key === '') return undefined;
  // Case and separators are normalised first so `Metric` and `metric-direction` are found.
  const normalised = key.toLowerCase().replace(/[\s-]+/g, '_');
  const best = closest(normalised, CONFIG_KEYS);
  return distance(normalised, best) <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function quote(value: string): string {
  const clipped = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return `\`${clipped}\``;
}

function where(lines: ReadonlyMap<ConfigKey, number>, key: ConfigKey): string {
  const line = lines.get(key);
  return line === undefined ? ' (default)' : ` (line ${line})`;
}

function describeMs(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [MINUTE, 'm'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
