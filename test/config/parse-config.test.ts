import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitArgs } from '../../src/config/keys.js';
import { loadExperimentConfig, parseConfigText } from '../../src/config/parse-config.js';
import { AutoresearchError, ConfigError, type ConfigIssue } from '../../src/core/errors.js';
import { makeTempDir } from '../helpers/git-repo.js';

const id = { domain: 'engineering', name: 'search', key: 'engineering/search' };
const dir = '/proj/.autoresearch/engineering/search';
const file = `${dir}/config.cfg`;
const ctx = { file, dir, id, scope: 'project' as const };

// Exactly as the autoresearch-agent skill writes it.
const SEED = `target: src/api/search.py
evaluate_cmd: pytest bench.py
metric: p50_ms
metric_direction: lower
metric_grep: ^p50_ms:
time_budget_minutes: 5
created: 2026-03-08 14:12
`;

const MINIMAL = 'target: a.py\nevaluate_cmd: ./bench\nmetric: score\n';

function issuesOf(text: string): ConfigIssue[] {
  try {
    parseConfigText(text, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected a ConfigError, but the config parsed');
}

function onlyIssue(text: string): ConfigIssue {
  const issues = issuesOf(text);
  expect(issues).toHaveLength(1);
  return issues[0] as ConfigIssue;
}

describe('parseConfigText: valid configs', () => {
  it('accepts a seed-written config and applies every default', () => {
    expect(parseConfigText(SEED, ctx)).toEqual({
      id,
      scope: 'project',
      file,
      dir,
      target: ['src/api/search.py'],
      evaluateCmd: 'pytest bench.py',
      metric: 'p50_ms',
      direction: 'lower',
      metricGrep: '^p50_ms:',
      metricRegex: null,
      metricKind: null,
      timeBudgetMs: 300_000,
      evalTimeoutMs: 750_000,
      agent: { kind: 'none' },
      agentTimeoutMs: 1_800_000,
      agentFallback: null,
      agentPassEnv: [],
      transientRetries: 3,
      transientBackoffMs: 10_000,
      programFile: `${dir}/program.md`,
      programSet: false,
      maxConsecutiveCrashes: 5,
      maxConsecutiveNoChange: 10,
      noChangeBackoffMs: 5_000,
      noChangeBackoffMaxMs: 300_000,
      maxExperiments: null,
      maxRuntimeMs: null,
      minImprovement: 0,
      repeats: 1,
      aggregate: 'mean',
      noise: { kind: 'off' },
      confidence: 0.95,
      checkCmd: null,
      guards: [],
      revalidateEvery: 0,
      executor: 'local',
      slurmArgs: [],
      allowedPaths: ['src/api/search.py'],
      onExhaustion: 'wait',
      backoffInitialMs: 300_000,
      backoffMaxMs: 3_600_000,
      maxExhaustionWaitMs: 86_400_000,
      setupCmd: null,
      evalUsesLlm: null,
      pipeline: false,
      created: '2026-03-08 14:12',
    });
  });

  it('splits at the first colon and keeps an inline # (shell commands use both)', () => {
    const config = parseConfigText(
      ['target: a.py', `evaluate_cmd: python -c "print('p50_ms: 3')" # fast`, 'metric: p50_ms', 'metric_grep: ^p50_ms:\\s', 'setup_cmd: echo a:b # c'].join('\n'),
      ctx,
    );
    expect(config.evaluateCmd).toBe(`python -c "print('p50_ms: 3')" # fast`);
    expect(config.metricGrep).toBe('^p50_ms:\\s');
    expect(config.setupCmd).toBe('echo a:b # c');
  });

  it('ignores comments and blank lines, and reads CRLF files with a BOM', () => {
    const config = parseConfigText('\uFEFF# header\r\n\r\n  # indented comment\r\ntarget: a.py\r\nevaluate_cmd: ./bench\r\nmetric: score\r\n', ctx);
    expect(config.target).toEqual(['a.py']);
    expect(config.metric).toBe('score');
  });

  it('reads every new key', () => {
    const config = parseConfigText(
      `${MINIMAL}metric_direction: higher
agent: claude
agent_args: --model "claude sonnet" --verbose
program: notes/instructions.md
time_budget: 90s
eval_timeout: 10m
agent_timeout: 45m
max_consecutive_crashes: 3
max_experiments: 200
max_runtime: 7d
min_improvement: 0.05
scope: src/**, lib/util.py
on_exhaustion: stop
backoff_initial: 1m
backoff_max: 2h
max_exhaustion_wait: 12h
setup_cmd: npm ci
`,
      ctx,
    );
    expect(config).toMatchObject({
      direction: 'higher',
      metricGrep: '^score:',
      agent: { kind: 'builtin', name: 'claude', args: ['--model', 'claude sonnet', '--verbose'] },
      programFile: `${dir}/notes/instructions.md`,
      programSet: true,
      timeBudgetMs: 90_000,
      evalTimeoutMs: 600_000,
      agentTimeoutMs: 2_700_000,
      maxConsecutiveCrashes: 3,
      maxExperiments: 200,
      maxRuntimeMs: 604_800_000,
      minImprovement: 0.05,
      allowedPaths: ['src/**', 'lib/util.py'],
      onExhaustion: 'stop',
      backoffInitialMs: 60_000,
      backoffMaxMs: 7_200_000,
      maxExhaustionWaitMs: 43_200_000,
      setupCmd: 'npm ci',
      created: null,
    });
  });

  it('reads the exhaustion keys: fallback agent, variables passed to a built-in agent, transient retries', () => {
    const config = parseConfigText(
      `${MINIMAL}agent: claude\nagent_fallback: codex\nagent_pass_env: ANTHROPIC_API_KEY, HTTPS_PROXY\ntransient_retries: 0\ntransient_backoff: 500ms\n`,
      ctx,
    );
    expect(config).toMatchObject({
      agentFallback: { kind: 'builtin', name: 'codex', args: [] },
      agentPassEnv: ['ANTHROPIC_API_KEY', 'HTTPS_PROXY'],
      transientRetries: 0,
      transientBackoffMs: 500,
    });
    expect(parseConfigText(`${MINIMAL}agent_fallback: ./my-agent.sh --fast\n`, ctx).agentFallback).toEqual({ kind: 'command', command: './my-agent.sh --fast' });
    expect(() => parseConfigText(`${MINIMAL}agent_fallback: none\n`, ctx)).toThrow(/agent_fallback: expected .*found `none`/);
    expect(() => parseConfigText(`${MINIMAL}agent_pass_env: NOT-A-NAME\n`, ctx)).toThrow(/agent_pass_env: expected comma-separated environment variable names, found `NOT-A-NAME`, which is not a variable name/);
  });

  it('reads eval_uses_llm: true, false, or unset (null: decided by the evaluator)', () => {
    expect(parseConfigText(`${MINIMAL}eval_uses_llm: true\n`, ctx).evalUsesLlm).toBe(true);
    expect(parseConfigText(`${MINIMAL}eval_uses_llm: false\n`, ctx).evalUsesLlm).toBe(false);
    expect(parseConfigText(MINIMAL, ctx).evalUsesLlm).toBeNull();
    expect(() => parseConfigText(`${MINIMAL}eval_uses_llm: yes\n`, ctx)).toThrow(/eval_uses_llm: expected `true` or `false`, found `yes`/);
  });

  it('derives eval_timeout as 2.5 × the budget from either budget key', () => {
    expect(parseConfigText(`${MINIMAL}time_budget_minutes: 1.5\n`, ctx)).toMatchObject({ timeBudgetMs: 90_000, evalTimeoutMs: 225_000 });
    expect(parseConfigText(`${MINIMAL}time_budget: 2m\n`, ctx)).toMatchObject({ timeBudgetMs: 120_000, evalTimeoutMs: 300_000 });
    expect(parseConfigText(`${MINIMAL}time_budget: 2m\ntime_budget_minutes: 2\n`, ctx).timeBudgetMs).toBe(120_000);
  });

  it('reads agents: none, a built-in without args, and any other value as a shell command', () => {
    expect(parseConfigText(`${MINIMAL}agent: none\n`, ctx).agent).toEqual({ kind: 'none' });
    expect(parseConfigText(`${MINIMAL}agent: gemini\n`, ctx).agent).toEqual({ kind: 'builtin', name: 'gemini', args: [] });
    expect(parseConfigText(`${MINIMAL}agent: node "$AUTORESEARCH_EXPERIMENT_DIR/agent.mjs" --x\n`, ctx).agent).toEqual({
      kind: 'command',
      command: 'node "$AUTORESEARCH_EXPERIMENT_DIR/agent.mjs" --x',
    });
  });

  it('accepts `unlimited` and an empty created:', () => {
    expect(parseConfigText(`${MINIMAL}max_experiments: unlimited\nmax_runtime: unlimited\ncreated:\n`, ctx)).toMatchObject({
      maxExperiments: null,
      maxRuntimeMs: null,
      created: null,
    });
  });

  it('defaults metric_grep to `^<metric>:` unescaped, as the seed skill writes it (a literal prefix)', () => {
    const config = parseConfigText('target: a.py\nevaluate_cmd: ./bench\nmetric: score(%)\n', ctx);
    expect(config.metricGrep).toBe('^score(%):');
    expect(config.metricRegex).toBeNull();
  });

  it('reads metric_regex as a regex of our own, next to the seed keys', () => {
    const config = parseConfigText(`${MINIMAL}metric_grep: ^val_loss:\nmetric_regex: ^val_(loss|bpb):\n`, ctx);
    expect(config).toMatchObject({ metricGrep: '^val_loss:', metricRegex: '^val_(loss|bpb):' });
  });

  it('accepts metric_grep text that is no valid regex: it is literal', () => {
    expect(parseConfigText(`${MINIMAL}metric_grep: acc[top1\n`, ctx).metricGrep).toBe('acc[top1');
  });

  it('accepts time_budget with the whole minutes init writes for the seed skill; time_budget wins', () => {
    expect(parseConfigText(`${MINIMAL}time_budget_minutes: 2\ntime_budget: 90s\n`, ctx).timeBudgetMs).toBe(90_000);
    expect(parseConfigText(`${MINIMAL}time_budget_minutes: 1\ntime_budget: 7s\n`, ctx).timeBudgetMs).toBe(7000);
  });
});

describe('parseConfigText: issues', () => {
  it('suggests the closest key for a typo, case-sensitively', () => {
    const issues = issuesOf(`target: a.py\nevaluate_cmd: ./bench\nMetric: score\nmetric_directon: lower\n`);
    expect(issues).toEqual([
      { file, line: 3, key: 'Metric', expected: 'a known key', found: 'unknown key `Metric`', hint: 'did you mean `metric`?' },
      { file, line: 4, key: 'metric_directon', expected: 'a known key', found: 'unknown key `metric_directon`', hint: 'did you mean `metric_direction`?' },
      { file, key: 'metric', expected: 'a line `metric: …`', found: 'no `metric` line', hint: 'add a line like `metric: p50_ms`' },
    ]);
  });

  it('lists the known keys when nothing is close', () => {
    const issue = onlyIssue(`${MINIMAL}colour: blue\n`);
    expect(issue).toMatchObject({ line: 4, key: 'colour', found: 'unknown key `colour`' });
    expect(issue.hint).toMatch(/^known keys: target, evaluate_cmd, metric, .*setup_cmd, pipeline, eval_uses_llm$/);
  });

  it('names both lines of a duplicated key', () => {
    expect(onlyIssue(`${MINIMAL}agent: claude\n\nagent: codex\n`)).toEqual({
      file,
      line: 6,
      key: 'agent',
      expected: '`agent` at most once',
      found: 'a second `agent` line (the first is line 4)',
      hint: 'delete one of them',
    });
  });

  it('reports a line without a colon', () => {
    expect(onlyIssue(`${MINIMAL}metric_direction lower\n`)).toEqual({ file, line: 4, expected: 'a `key: value` line or a `#` comment', found: '`metric_direction lower`' });
  });

  it('reports an empty value where one is required', () => {
    expect(onlyIssue('target: a.py\nevaluate_cmd:\nmetric: score\n')).toEqual({
      file,
      line: 2,
      key: 'evaluate_cmd',
      expected: 'a shell command that prints the metric',
      found: 'an empty value',
      hint: undefined,
    });
    expect(onlyIssue(`${MINIMAL}agent_timeout:   \n`)).toMatchObject({ line: 4, key: 'agent_timeout', found: 'an empty value', hint: 'delete the line to use the default' });
  });

  it('refuses a bare number as a duration', () => {
    expect(onlyIssue(`${MINIMAL}time_budget: 5\n`)).toEqual({
      file,
      line: 4,
      key: 'time_budget',
      expected: 'a duration like 90s, 5m, 2h or 7d',
      found: '`5`',
      hint: 'a bare number is ambiguous: add a unit, e.g. `5m`',
    });
    expect(onlyIssue(`${MINIMAL}eval_timeout: soon\n`)).toMatchObject({ key: 'eval_timeout', found: '`soon`', hint: undefined });
    expect(onlyIssue(`${MINIMAL}backoff_max: -1h\n`)).toMatchObject({ key: 'backoff_max', found: '`-1h`' });
    expect(onlyIssue(`${MINIMAL}max_runtime: 0s\n`)).toMatchObject({ key: 'max_runtime', expected: 'a duration like 90s, 5m, 2h or 7d, or `unlimited`' });
  });

  it('refuses a bad direction, with a hint for common synonyms', () => {
    expect(onlyIssue(`${MINIMAL}metric_direction: minimize\n`)).toEqual({
      file,
      line: 4,
      key: 'metric_direction',
      expected: '`lower` or `higher`',
      found: '`minimize`',
      hint: 'did you mean `lower`?',
    });
    expect(onlyIssue(`${MINIMAL}metric_direction: sideways\n`)).toMatchObject({ found: '`sideways`', hint: undefined });
    expect(onlyIssue(`${MINIMAL}on_exhaustion: retry\n`)).toMatchObject({ key: 'on_exhaustion', expected: '`wait` or `stop`' });
  });

  it('reads metric_kind: timing or other, unset is null (guessed from the name later)', () => {
    expect(parseConfigText(`${MINIMAL}metric_kind: timing\n`, ctx).metricKind).toBe('timing');
    expect(parseConfigText(`${MINIMAL}metric_kind: other\n`, ctx).metricKind).toBe('other');
    expect(parseConfigText(MINIMAL, ctx).metricKind).toBeNull();
    expect(onlyIssue(`${MINIMAL}metric_kind: time\n`)).toEqual({ file, line: 4, key: 'metric_kind', expected: '`timing` or `other`', found: '`time`', hint: undefined });
  });

  it.each([
    ['max_consecutive_crashes', '0', 'a positive integer'],
    ['max_consecutive_crashes', '2.5', 'a positive integer'],
    ['max_consecutive_crashes', '-1', 'a positive integer'],
    ['max_experiments', 'ten', 'a positive integer or `unlimited`'],
    ['min_improvement', '-0.1', 'a number ≥ 0'],
    ['min_improvement', 'Infinity', 'a number ≥ 0'],
    ['min_improvement', '0x10', 'a number ≥ 0'],
    ['time_budget_minutes', '0', 'a positive number of minutes (fractional allowed)'],
    ['time_budget_minutes', '5m', 'a positive number of minutes (fractional allowed)'],
  ])('refuses %s: %s', (key, value, expected) => {
    expect(onlyIssue(`${MINIMAL}${key}: ${value}\n`)).toMatchObject({ line: 4, key, expected, found: `\`${value}\`` });
  });

  it('refuses a regex that does not compile, saying why', () => {
    const issue = onlyIssue(`${MINIMAL}metric_regex: ^(p50\n`);
    expect(issue).toMatchObject({ line: 4, key: 'metric_regex', expected: 'a JavaScript regular expression matching the metric line', found: '`^(p50`' });
    expect(issue.hint).toMatch(/Unterminated group/);
  });

  it('refuses empty entries and paths outside the project in target and scope', () => {
    expect(onlyIssue('target: a.py, ,b.py\nevaluate_cmd: ./bench\nmetric: score\n')).toMatchObject({ line: 1, key: 'target', found: 'an empty entry in `a.py, ,b.py`' });
    expect(onlyIssue(`${MINIMAL}scope: src/**, ../secrets\n`)).toMatchObject({ line: 4, key: 'scope', found: '`../secrets`' });
    expect(onlyIssue(`${MINIMAL}scope: /etc/passwd\n`)).toMatchObject({ key: 'scope', found: '`/etc/passwd`' });
  });

  it('reports each missing required key with the line to add', () => {
    expect(issuesOf('metric_direction: lower\n')).toEqual([
      { file, key: 'target', expected: 'a line `target: …`', found: 'no `target` line', hint: 'add a line like `target: src/api/search.py`' },
      { file, key: 'evaluate_cmd', expected: 'a line `evaluate_cmd: …`', found: 'no `evaluate_cmd` line', hint: 'add a line like `evaluate_cmd: pytest bench.py`' },
      { file, key: 'metric', expected: 'a line `metric: …`', found: 'no `metric` line', hint: 'add a line like `metric: p50_ms`' },
    ]);
  });

  it('refuses time_budget and time_budget_minutes that disagree', () => {
    expect(onlyIssue(`${MINIMAL}time_budget: 10m\ntime_budget_minutes: 5\n`)).toEqual({
      file,
      line: 4,
      key: 'time_budget',
      expected: 'time_budget and time_budget_minutes to agree (or only one of them; time_budget_minutes may be the whole number of minutes 10 for the seed skill)',
      found: 'time_budget: 10m but time_budget_minutes: 5 on line 5',
      hint: 'delete one of the two lines',
    });
  });

  it('refuses agent_args without a built-in agent', () => {
    expect(onlyIssue(`${MINIMAL}agent: ./my-agent.sh\nagent_args: --fast\n`)).toMatchObject({
      line: 5,
      key: 'agent_args',
      found: 'the command agent `./my-agent.sh` on line 4',
      hint: 'put the arguments in the agent command itself',
    });
    expect(onlyIssue(`${MINIMAL}agent_args: --fast\n`)).toMatchObject({ line: 4, key: 'agent_args', found: 'no `agent` line (the default agent is `none`)' });
    expect(onlyIssue(`${MINIMAL}agent: claude\nagent_args: --model "sonnet\n`)).toMatchObject({ line: 5, key: 'agent_args', hint: 'the double quote is never closed' });
  });

  it('refuses backoff_initial above backoff_max, naming both', () => {
    expect(onlyIssue(`${MINIMAL}backoff_initial: 2h\n`)).toMatchObject({ line: 4, key: 'backoff_initial', found: 'backoff_initial 2h (line 4) > backoff_max 1h (default)' });
    expect(onlyIssue(`${MINIMAL}backoff_max: 1m\nbackoff_initial: 90s\n`)).toMatchObject({ line: 5, found: 'backoff_initial 90s (line 5) > backoff_max 1m (line 4)' });
  });

  it('reports every problem at once, in line order, and the message names file:line and key', () => {
    const text = ['target: a.py', 'evaluat_cmd: ./bench', 'metric_direction: down', 'time_budget: 5', 'time_budget: 5m', 'max_experiments: 0', 'no colon here', 'metric_regex: (('].join('\n');
    let caught: unknown;
    try {
      parseConfigText(text, ctx);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues.map((i) => [i.line, i.key])).toEqual([
      [2, 'evaluat_cmd'],
      [3, 'metric_direction'],
      [4, 'time_budget'],
      [5, 'time_budget'],
      [6, 'max_experiments'],
      [7, undefined],
      [8, 'metric_regex'],
      [undefined, 'evaluate_cmd'],
      [undefined, 'metric'],
    ]);
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('invalid config (9 problems); nothing was run:');
    expect(lines[1]).toBe(`  ${file}:2: evaluat_cmd: expected a known key, found unknown key \`evaluat_cmd\` (did you mean \`evaluate_cmd\`?)`);
    expect(lines[3]).toBe(`  ${file}:4: time_budget: expected a duration like 90s, 5m, 2h or 7d, found \`5\` (a bare number is ambiguous: add a unit, e.g. \`5m\`)`);
    expect(lines[8]).toBe(`  ${file}: evaluate_cmd: expected a line \`evaluate_cmd: …\`, found no \`evaluate_cmd\` line (add a line like \`evaluate_cmd: pytest bench.py\`)`);
  });
});

describe('parseConfigText: noise-aware decision keys', () => {
  it('reads repeats, aggregate, noise, confidence, check_cmd, guard and revalidate_every', () => {
    const config = parseConfigText(
      `${MINIMAL}repeats: 5\naggregate: median\nnoise: 0.02\nconfidence: 0.99\ncheck_cmd: pytest -q tests/ # fast\nguard: memory_gb <= 40, val_acc >= 0.85\nrevalidate_every: 10\n`,
      ctx,
    );
    expect(config).toMatchObject({
      repeats: 5,
      aggregate: 'median',
      noise: { kind: 'known', sigma: 0.02 },
      confidence: 0.99,
      checkCmd: 'pytest -q tests/ # fast',
      guards: [
        { metric: 'memory_gb', op: '<=', bound: 40, text: 'memory_gb <= 40' },
        { metric: 'val_acc', op: '>=', bound: 0.85, text: 'val_acc >= 0.85' },
      ],
      revalidateEvery: 10,
    });
  });

  it('defaults noise to auto when repeats > 1, else off; an explicit noise wins either way', () => {
    expect(parseConfigText(MINIMAL, ctx)).toMatchObject({ repeats: 1, noise: { kind: 'off' } });
    expect(parseConfigText(`${MINIMAL}repeats: 1\n`, ctx).noise).toEqual({ kind: 'off' });
    expect(parseConfigText(`${MINIMAL}repeats: 2\n`, ctx).noise).toEqual({ kind: 'auto' });
    expect(parseConfigText(`${MINIMAL}repeats: 3\nnoise: off\n`, ctx).noise).toEqual({ kind: 'off' });
    expect(parseConfigText(`${MINIMAL}noise: auto\n`, ctx)).toMatchObject({ repeats: 1, noise: { kind: 'auto' } });
    expect(parseConfigText(`${MINIMAL}noise: 1.5e-3\n`, ctx).noise).toEqual({ kind: 'known', sigma: 0.0015 });
  });

  it('reads confidence as a fraction or a percentage', () => {
    expect(parseConfigText(`${MINIMAL}confidence: 95%\n`, ctx).confidence).toBe(0.95);
    expect(parseConfigText(`${MINIMAL}confidence: 99.9%\n`, ctx).confidence).toBe(0.999);
    expect(parseConfigText(`${MINIMAL}confidence: .8\n`, ctx).confidence).toBe(0.8);
  });

  it('reads revalidate_every: off as 0 and accepts 0', () => {
    expect(parseConfigText(`${MINIMAL}revalidate_every: off\n`, ctx).revalidateEvery).toBe(0);
    expect(parseConfigText(`${MINIMAL}revalidate_every: 0\n`, ctx).revalidateEvery).toBe(0);
  });

  it.each([
    ['repeats', '0', 'a positive integer', undefined],
    ['repeats', '2.5', 'a positive integer', undefined],
    ['aggregate', 'max', '`mean` or `median`', undefined],
    ['aggregate', 'average', '`mean` or `median`', 'did you mean `mean`?'],
    ['noise', 'high', '`auto`, `off` or a positive number (the standard deviation of one evaluation, in metric units)', undefined],
    ['noise', '-0.1', '`auto`, `off` or a positive number (the standard deviation of one evaluation, in metric units)', undefined],
    ['noise', '0', '`auto`, `off` or a positive number (the standard deviation of one evaluation, in metric units)', 'a noise of 0 is no noise model: write `off`'],
    ['confidence', '95', 'a number strictly between 0.5 and 1, or a percentage like `95%`', 'a percentage needs its `%`: `95%`'],
    ['confidence', '1', 'a number strictly between 0.5 and 1, or a percentage like `95%`', 'the bounds are excluded: 1 would need infinite evidence, 0.5 keeps a coin flip'],
    ['confidence', '50%', 'a number strictly between 0.5 and 1, or a percentage like `95%`', 'the bounds are excluded: 1 would need infinite evidence, 0.5 keeps a coin flip'],
    ['confidence', '0.3', 'a number strictly between 0.5 and 1, or a percentage like `95%`', undefined],
    ['confidence', 'high', 'a number strictly between 0.5 and 1, or a percentage like `95%`', undefined],
    ['revalidate_every', '-1', 'an integer ≥ 0, or `off`', undefined],
    ['revalidate_every', 'never', 'an integer ≥ 0, or `off`', undefined],
  ])('refuses %s: %s', (key, value, expected, hint) => {
    expect(onlyIssue(`${MINIMAL}${key}: ${value}\n`)).toEqual({ file, line: 4, key, expected, found: `\`${value}\``, hint });
  });

  it('refuses a bad guard, saying which condition and why, with the file line', () => {
    const expected = 'comma-separated conditions `name op number` (op: <=, <, >=, >), e.g. `memory_gb <= 40, val_acc >= 0.85`';
    expect(onlyIssue(`${MINIMAL}guard: memory_gb <= 40, val_acc => 0.85\n`)).toEqual({
      file,
      line: 4,
      key: 'guard',
      expected,
      found: '`val_acc => 0.85`, whose operator `=>` is not one of <=, <, >=, > (did you mean `>=`?)',
      hint: undefined,
    });
    expect(onlyIssue(`${MINIMAL}guard: val_acc > 0.8, val_acc < 0.99\n`)).toMatchObject({ line: 4, key: 'guard', found: expect.stringMatching(/^`val_acc` twice/) });
    expect(onlyIssue(`${MINIMAL}guard: duration_s < 600\n`)).toMatchObject({ line: 4, key: 'guard', found: expect.stringMatching(/`duration_s` is a results.tsv column of its own/) });
    expect(onlyIssue(`${MINIMAL}guard:\n`)).toMatchObject({ line: 4, key: 'guard', found: 'an empty value', hint: 'delete the line to use the default' });
  });

  it('refuses a guard on the main metric, naming the metric line', () => {
    expect(onlyIssue('guard: memory_gb <= 40, score > 0.5\ntarget: a.py\nevaluate_cmd: ./bench\nmetric: score\n')).toEqual({
      file,
      line: 1,
      key: 'guard',
      expected: 'guards on metrics other than the main metric',
      found: '`score > 0.5`, but `score` is the main metric (line 4)',
      hint: 'the keep rule already judges it; a guard is for another line of the evaluation log',
    });
  });

  it('suggests the key for a near miss', () => {
    expect(onlyIssue(`${MINIMAL}guards: memory_gb <= 40\n`)).toMatchObject({ line: 4, key: 'guards', hint: 'did you mean `guard`?' });
    expect(onlyIssue(`${MINIMAL}repeat: 3\n`)).toMatchObject({ line: 4, key: 'repeat', hint: 'did you mean `repeats`?' });
  });

  it('puts the new keys in the message with file:line like every other key', () => {
    expect(() => parseConfigText(`${MINIMAL}repeats: 5\nconfidence: 95\n`, ctx)).toThrow(
      `${file}:5: confidence: expected a number strictly between 0.5 and 1, or a percentage like \`95%\`, found \`95\` (a percentage needs its \`%\`: \`95%\`)`,
    );
  });
});

describe('splitArgs', () => {
  it.each([
    ['', []],
    ['  --a   b ', ['--a', 'b']],
    [`--p 'it is' "say \\"hi\\"" a\\ b ''`, ['--p', 'it is', 'say "hi"', 'a b', '']],
    [`--x="a b"c`, ['--x=a bc']],
  ])('splits `%s`', (text, words) => {
    expect(splitArgs(text)).toEqual(words);
  });

  it('reports an unclosed quote', () => {
    expect(splitArgs(`'abc`)).toBe('the single quote is never closed');
  });
});

describe('loadExperimentConfig', () => {
  it('reads config.cfg from the experiment directory', async () => {
    const root = await makeTempDir();
    await fs.writeFile(path.join(root, 'config.cfg'), SEED);
    const config = await loadExperimentConfig(root, id, 'user');
    expect(config).toMatchObject({ file: path.join(root, 'config.cfg'), dir: root, scope: 'user', metric: 'p50_ms', programFile: path.join(root, 'program.md') });
  });

  it('reports a missing config.cfg as EXPERIMENT_NOT_FOUND naming the path', async () => {
    const root = await makeTempDir();
    const missing = path.join(root, 'nope');
    await expect(loadExperimentConfig(missing, id, 'project')).rejects.toSatisfy(
      (error: unknown) => error instanceof AutoresearchError && error.code === 'EXPERIMENT_NOT_FOUND' && error.message.includes(path.join(missing, 'config.cfg')),
    );
  });

  it('reports config errors with the real file path', async () => {
    const root = await makeTempDir();
    await fs.writeFile(path.join(root, 'config.cfg'), `${MINIMAL}time_budget: 5\n`);
    await expect(loadExperimentConfig(root, id, 'project')).rejects.toThrow(`${path.join(root, 'config.cfg')}:4: time_budget: expected a duration`);
  });
});
